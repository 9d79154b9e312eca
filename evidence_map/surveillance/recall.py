"""How much of the map the standing search would find: its recall, measured on the map's own reviews.

A search that misses reviews nobody knows about fails silently, so the map checks its query against
the reviews it already holds: the standing query restricted to their PubMed ids (`[uid]`), with no
date limit, must find each one. Those it does not find say which phrasing the query lacks. Reviews
without a PMID cannot be checked this way and are counted apart. The result is kept in
screening/recall.yaml (written by `build.py surveil --recall`, weekly by the workflow) for the
Screening page. `title_recall` is the offline estimate a query change can be checked with before it
is merged: the query's title-and-abstract words applied to the reviews' titles alone (a lower bound,
since abstracts and index terms can only add matches).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from evidence_map.paths import ROOT
from evidence_map.records.model import Record
from evidence_map.records.yamlsafe import decode, load
from evidence_map.surveillance.eutils import EUtils
from evidence_map.surveillance.strategy import Strategy

RECALL = ROOT / "screening" / "recall.yaml"
HEADER = (
    "# The standing query's recall against the map's own reviews, written by `build.py surveil --recall`\n"
    "# (weekly, by the surveillance workflow), never by hand; the Screening page shows it.\n"
)


@dataclass(frozen=True)
class Recall:
    date: str
    query: str  # the first 12 hex digits of the query's SHA-256: which version of the query was measured
    checked: int  # reviews in the map with a PMID
    found: int
    missed: tuple[tuple[str, str], ...]  # (record id, PMID) the query does not find
    without_pmid: int

    @property
    def share(self) -> float | None:
        return self.found / self.checked if self.checked else None


def query_digest(query: str) -> str:
    return hashlib.sha256(" ".join(query.split()).encode("utf-8")).hexdigest()[:12]


def measure(client: EUtils, strategy: Strategy, records: Iterable[Record], today: date) -> Recall:
    """Run the standing query restricted to the map's PMIDs, over all dates."""
    records = list(records)
    by_pmid = {r.pmid: r.id for r in records if r.pmid}
    found: set[str] = set()
    pmids = sorted(by_pmid, key=int)
    for start in range(0, len(pmids), 100):  # keeps each request's address short
        block = " OR ".join(f"{p}[uid]" for p in pmids[start : start + 100])
        search = client.esearch(f"({strategy.query}) AND ({block})", "1900/01/01", today.strftime("%Y/%m/%d"))
        found |= set(search.ids) & set(by_pmid)
    missed = tuple(sorted((by_pmid[p], p) for p in pmids if p not in found))
    return Recall(
        today.isoformat(), query_digest(strategy.query), len(pmids), len(found), missed, len(records) - len(pmids)
    )


def recall_text(recall: Recall) -> str:
    missed = ", ".join(f"{{record: {rid}, pmid: {json.dumps(p)}}}" for rid, p in recall.missed)
    return (
        HEADER
        + f"date: {recall.date}\nquery: {json.dumps(recall.query)}\nchecked: {recall.checked}\n"
        + f"found: {recall.found}\nmissed: [{missed}]\nwithout_pmid: {recall.without_pmid}\n"
    )


def load_recall(path: Path = RECALL) -> Recall | None:
    """The last measurement, or None when none has been made (or the file is not in its written form)."""
    if not path.is_file():
        return None
    data: Any = load(decode(path.read_bytes())).data
    try:
        return Recall(
            date=str(data["date"]),
            query=str(data["query"]),
            checked=int(data["checked"]),
            found=int(data["found"]),
            missed=tuple((str(m["record"]), str(m["pmid"])) for m in data["missed"]),
            without_pmid=int(data["without_pmid"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


# ---------------------------------------------------------------- the offline estimate, from titles

_FIELD = re.compile(r'("[^"]+"|[^\s()"]+)\[(\w+)\]')


def _blocks(query: str) -> list[str]:
    """The query's top-level AND blocks."""
    depth, start, out = 0, 0, []
    text = " ".join(query.split())
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and text.startswith(" AND ", i):
            out.append(text[start:i])
            start = i + 5
    out.append(text[start:])
    return out


def _pattern(term: str) -> re.Pattern[str]:
    words = term.strip('"').casefold().replace("-", " ").split()
    parts = [re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) for w in words]
    return re.compile(r"(?<!\w)" + r"[\s-]+".join(parts) + r"(?!\w)")


def title_recall(query: str, records: Iterable[Record]) -> tuple[int, int, list[str]]:
    """(titles matched, titles checked, ids not matched): every block must match a title by one of
    its [tiab] terms; [mh] and [pt] terms cannot be judged from a title and count as no match."""
    blocks = [[_pattern(t) for t, f in _FIELD.findall(b) if f.casefold() in ("tiab", "ti")] for b in _blocks(query)]
    titled = [r for r in records if r.title]
    missed = [
        r.id
        for r in titled
        if not all(any(p.search((r.title or "").casefold().replace("-", " ")) for p in block) for block in blocks)
    ]
    return len(titled) - len(missed), len(titled), missed
