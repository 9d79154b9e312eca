"""Watching what is already in the map: notices on its reviews, and PubMed ids proposed for the rest.

A review in the map can be retracted, corrected or updated after it entered; PubMed links such
notices to the article (its CommentsCorrections: RetractionIn, ErratumIn, UpdateIn,
ExpressionOfConcernIn) and marks a retracted one as a "Retracted Publication". `notices` asks for
them for every record with a PMID; screening/watch.yaml keeps what was found, and the review page
shows a warning. Records without a PMID are matched with NCBI's citation matcher (ECitMatch) from
their journal, year, volume, first page and first author, then each match is confirmed by its
summary (title and journal); the matches are written to screening/pmid-proposals.yaml for a person
to check and copy into the record. Nothing here writes a record.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from evidence_map.paths import ROOT
from evidence_map.records.model import Record
from evidence_map.records.yamlsafe import decode, load
from evidence_map.surveillance.duplicates import norm_title, same_journal
from evidence_map.surveillance.eutils import EUtils, ServiceError

WATCH = ROOT / "screening" / "watch.yaml"
PROPOSALS = ROOT / "screening" / "pmid-proposals.yaml"
KINDS = {
    "RetractionIn": "retraction",
    "ErratumIn": "erratum",
    "UpdateIn": "update",
    "ExpressionOfConcernIn": "expression of concern",
}
BATCH = 200
DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class Notice:
    record: str
    pmid: str
    kind: str  # retraction, erratum, update, expression of concern
    notice_pmid: str | None = None


def parse_notices(xml_text: str) -> dict[str, list[tuple[str, str | None]]]:
    """PMID -> [(kind, the notice's PMID)] from an efetch PubMed XML answer."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise ServiceError(f"malformed efetch answer: not XML ({exc})") from None
    found: dict[str, list[tuple[str, str | None]]] = {}
    for article in root.iter("PubmedArticle"):
        pmid = (article.findtext("MedlineCitation/PMID") or "").strip()
        if not DIGITS.fullmatch(pmid):
            continue
        out = found.setdefault(pmid, [])
        for cc in article.iter("CommentsCorrections"):
            kind = KINDS.get(cc.get("RefType", ""))
            if kind:
                ref = (cc.findtext("PMID") or "").strip()
                out.append((kind, ref if DIGITS.fullmatch(ref) else None))
        types = {(pt.text or "").strip() for pt in article.iter("PublicationType")}
        if "Retracted Publication" in types and not any(k == "retraction" for k, _ in out):
            out.append(("retraction", None))
    return found


def notices(client: EUtils, records: Iterable[Record]) -> list[Notice]:
    """Every notice PubMed links to a record with a PMID."""
    by_pmid = {r.pmid: r.id for r in records if r.pmid}
    pmids = sorted(by_pmid, key=int)
    out = []
    for start in range(0, len(pmids), BATCH):
        batch = pmids[start : start + BATCH]
        text = client.get_text("efetch", {"id": ",".join(batch), "retmode": "xml", "rettype": "abstract"}, "XML")
        for pmid, items in parse_notices(text).items():
            if pmid in by_pmid:
                out += [Notice(by_pmid[pmid], pmid, kind, ref) for kind, ref in items]
    return sorted(out, key=lambda n: (n.record, n.kind, n.notice_pmid or ""))


def watch_text(found: list[Notice], checked: int, today: date) -> str:
    lines = [
        "# Notices PubMed links to the map's reviews (retractions, errata, updates), written by",
        "# `build.py surveil --watch`, never by hand; each review page with one shows a warning.",
        f"checked: {today.isoformat()}",
        f"records_checked: {checked}",
        "notices:" + ("" if found else " []"),
    ]
    for n in found:
        ref = f", notice_pmid: {json.dumps(n.notice_pmid)}" if n.notice_pmid else ""
        lines.append(f"  - {{record: {n.record}, pmid: {json.dumps(n.pmid)}, kind: {json.dumps(n.kind)}{ref}}}")
    return "\n".join(lines) + "\n"


def load_notices(path: Path = WATCH) -> dict[str, list[Notice]]:
    """Notices by record id (empty when nothing was checked or found)."""
    if not path.is_file():
        return {}
    data: Any = load(decode(path.read_bytes())).data
    out: dict[str, list[Notice]] = {}
    for n in (data or {}).get("notices") or []:
        kind = str(n.get("kind", ""))
        if kind not in KINDS.values() or not DIGITS.fullmatch(str(n.get("pmid", ""))):
            continue
        ref = str(n["notice_pmid"]) if n.get("notice_pmid") and DIGITS.fullmatch(str(n["notice_pmid"])) else None
        out.setdefault(str(n["record"]), []).append(Notice(str(n["record"]), str(n["pmid"]), kind, ref))
    return out


# ---------------------------------------------------------------- PubMed ids for records without one


@dataclass(frozen=True)
class Proposal:
    record: str
    pmid: str
    title: str  # as PubMed gives it
    journal: str
    confirmed: bool  # the summary's title or journal agrees with the record
    why: str


def citation_line(r: Record) -> str | None:
    """ECitMatch's `journal|year|volume|first page|author|key|`, or None when the record lacks a part."""
    first_page = (r.pages or "").split("-")[0].strip()
    if not (r.journal and r.volume and first_page):
        return None
    parts = [r.journal, str(r.year), r.volume, first_page, r.first_author, r.id]
    if any("|" in p or "\n" in p for p in parts):
        return None
    return "|".join(parts) + "|"


def propose_pmids(client: EUtils, records: Iterable[Record]) -> tuple[list[Proposal], list[str]]:
    """(proposals, ids of records that could not be asked: no volume or first page)."""
    lacking = [r for r in records if not r.pmid]
    asked = {r.id: r for r in lacking if citation_line(r)}
    skipped = sorted(r.id for r in lacking if r.id not in asked)
    if not asked:
        return [], skipped
    bdata = "\r".join(line for r in asked.values() if (line := citation_line(r)))
    text = client.get_text("ecitmatch", {"bdata": bdata, "retmode": "xml"}, "text", suffix=".cgi")
    matched: dict[str, str] = {}
    for line in text.splitlines():
        cells = line.strip().split("|")
        if len(cells) >= 7 and cells[5] in asked and DIGITS.fullmatch(cells[6].strip()):
            matched[cells[5]] = cells[6].strip()
    summaries, _ = client.esummary(sorted(matched.values(), key=int))
    by_pmid = {s.pmid: s for s in summaries}
    proposals = []
    for rid, pmid in sorted(matched.items()):
        s = by_pmid.get(pmid)
        if s is None:
            continue
        r = asked[rid]
        title_ok = bool(r.title) and norm_title(r.title) == norm_title(s.title)
        journal_ok = same_journal(r.journal, s.journal)
        why = (
            ", ".join(w for w, ok in (("title", title_ok), ("journal", journal_ok)) if ok)
            or "neither title nor journal"
        )
        proposals.append(Proposal(rid, pmid, s.title, s.journal or "", title_ok or journal_ok, f"{why} agree"))
    return proposals, skipped


def proposals_text(proposals: list[Proposal], skipped: list[str], today: date) -> str:
    lines = [
        "# PubMed ids proposed for records without one, by NCBI's citation matcher, each checked against",
        "# its PubMed summary. Written by `build.py surveil --propose-pmids`, never by hand. A person checks",
        "# each proposal on its PubMed page, then copies it into the record with lookup.pmid set to that page.",
        f"checked: {today.isoformat()}",
        "proposals:" + ("" if proposals else " []"),
    ]
    for p in proposals:
        lines += [
            f"  - record: {p.record}",
            f"    pmid: {json.dumps(p.pmid)}",
            f"    pubmed_title: {json.dumps(p.title, ensure_ascii=False)}",
            f"    pubmed_journal: {json.dumps(p.journal, ensure_ascii=False)}",
            f"    confirmed: {'true' if p.confirmed else 'false'}",
            f"    why: {json.dumps(p.why)}",
        ]
    lines.append("not_asked: [" + ", ".join(skipped) + "]  # no volume or first page to match on")
    return "\n".join(lines) + "\n"
