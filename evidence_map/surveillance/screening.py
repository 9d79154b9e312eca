"""What the screening queue says, summed up for readers: the counts, the PRISMA 2020 flow, the hand
search, the candidates waiting on each condition, and links built only from validated identifiers."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from evidence_map.records.evidence import Evidence
from evidence_map.records.vocab import Term
from evidence_map.surveillance.duplicates import norm_title
from evidence_map.surveillance.queue import DOI, PMID, REASONS, Candidate, Queue
from evidence_map.surveillance.recall import Recall
from evidence_map.surveillance.strategy import Strategy

# ---------------------------------------------------------------- what the pages show


@dataclass(frozen=True)
class ScreeningSummary:
    """PRISMA-style flow counts and the rows of the screening page."""

    last_run: str | None
    searches: int
    identified: int  # articles the searches found: the queue plus those already in the map
    in_map: int  # found, but already a record: never queued
    queued: int
    excluded: tuple[tuple[str, str, int], ...]  # (reason id, label, count), in REASONS order
    excluded_total: int
    included: tuple[Candidate, ...]
    pending: tuple[Candidate, ...]
    hand: HandSearch | None = None
    recall: Recall | None = None
    prisma: PrismaFlow | None = None
    awaiting_second: tuple[Candidate, ...] = ()
    conflicts: tuple[Candidate, ...] = ()

    @property
    def next_due(self) -> str | None:
        """The Monday after the last search: the weekly workflow runs on Mondays."""
        if not self.last_run:
            return None
        last = date.fromisoformat(self.last_run)
        return (last + timedelta(days=7 - last.weekday())).isoformat()


@dataclass(frozen=True)
class PrismaFlow:
    """The PRISMA 2020 flow of the searches: identified, duplicates removed, screened, excluded with
    reasons, full texts assessed, included. Entries screened before decisions were kept count as one
    screener's decision: excluded at title and abstract, or included after reading the full text."""

    identified_search: int  # by the standing PubMed search
    identified_hand: int  # by hand
    duplicates: int  # already in the map when found, or excluded as a duplicate
    screened: int
    excluded_screening: tuple[tuple[str, int], ...]  # (reason label, count)
    full_text: int
    excluded_full_text: tuple[tuple[str, int], ...]
    included: int
    awaiting: int  # pending: not yet decided
    awaiting_second: int
    conflicts: int

    def as_data(self) -> dict[str, Any]:
        return {
            "identified": {"standing_search": self.identified_search, "hand_search": self.identified_hand},
            "duplicates_removed": self.duplicates,
            "screened": self.screened,
            "excluded_at_screening": dict(self.excluded_screening),
            "full_texts_assessed": self.full_text,
            "excluded_at_full_text": dict(self.excluded_full_text),
            "included": self.included,
            "awaiting_decision": self.awaiting,
            "awaiting_second_screener": self.awaiting_second,
            "conflicts": self.conflicts,
        }


def prisma_flow(queue: Queue, strategy: Strategy | None) -> PrismaFlow:
    standing = [c for c in queue.candidates if c.found_by == "standing-search"]
    hand = [c for c in queue.candidates if c.found_by == "hand-search"]
    queued = {c.key for c in standing}
    in_map = {p for run in (strategy.searches if strategy else ()) for p in run.in_map} - queued
    duplicate = [c for c in queue.candidates if c.status == "excluded" and c.reason == "duplicate"]
    screened = [c for c in queue.candidates if c not in duplicate]
    at_screening = Counter(
        REASONS[c.reason or "other"] for c in screened if c.status == "excluded" and not c.reached_full_text
    )
    at_full_text = Counter(
        REASONS[c.reason or "other"] for c in screened if c.status == "excluded" and c.reached_full_text
    )
    pending = [c for c in screened if c.status == "pending"]
    return PrismaFlow(
        identified_search=len(queued) + len(in_map),
        identified_hand=len(hand),
        duplicates=len(in_map) + len(duplicate),
        screened=len(screened),
        excluded_screening=tuple(sorted(at_screening.items())),
        full_text=sum(1 for c in screened if c.reached_full_text),
        excluded_full_text=tuple(sorted(at_full_text.items())),
        included=sum(1 for c in screened if c.status == "included"),
        awaiting=len(pending),
        awaiting_second=sum(1 for c in pending if c.awaiting_second),
        conflicts=sum(1 for c in pending if c.in_conflict),
    )


@dataclass(frozen=True)
class HandSearch:
    """The hand search for reviews beyond the umbrella review: what was found and decided."""

    dates: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    included: tuple[Candidate, ...]
    excluded: tuple[tuple[str, str, int], ...]  # (reason id, label, count), in REASONS order
    pending: tuple[Candidate, ...]

    @property
    def excluded_total(self) -> int:
        return sum(n for _, _, n in self.excluded)


def hand_search(queue: Queue) -> HandSearch:
    found = tuple(c for c in queue.candidates if c.found_by == "hand-search")
    reasons = Counter(c.reason for c in found if c.status == "excluded")
    return HandSearch(
        dates=tuple(sorted({c.found for c in found})),
        candidates=newest_first(found),
        included=newest_first(c for c in found if c.status == "included"),
        excluded=tuple((rid, label, reasons.get(rid, 0)) for rid, label in REASONS.items()),
        pending=newest_first(c for c in found if c.status == "pending"),
    )


def newest_first(candidates: Iterable[Candidate]) -> tuple[Candidate, ...]:
    by_pmid = sorted(candidates, key=lambda c: (-(c.year or 0), int(c.pmid) if c.pmid else 0, c.doi or ""))
    return tuple(sorted(by_pmid, key=lambda c: c.found, reverse=True))


def screening_summary(
    queue: Queue, evidence: Evidence, strategy: Strategy | None = None, recall: Recall | None = None
) -> ScreeningSummary:
    """What the screening page needs. Records found by a search but already in the map come from the
    strategy's log of searches; without it they count as none."""
    standing = Queue(tuple(c for c in queue.candidates if c.found_by == "standing-search"))
    queued = {c.key for c in standing.candidates}
    ids = {r.id for r in evidence.records}
    in_map = {p for run in (strategy.searches if strategy else ()) for p in run.in_map} - queued
    reasons = Counter(c.reason for c in standing.with_status("excluded"))
    return ScreeningSummary(
        last_run=strategy.last_run if strategy else None,
        searches=len(strategy.searches) if strategy else 0,
        identified=len(queued) + len(in_map),
        in_map=len(in_map),
        queued=len(queued),
        excluded=tuple((rid, label, reasons.get(rid, 0)) for rid, label in REASONS.items()),
        excluded_total=sum(reasons.values()),
        included=newest_first(c for c in standing.with_status("included") if c.record in ids),
        pending=newest_first(standing.with_status("pending")),
        hand=hand_search(queue),
        recall=recall,
        prisma=prisma_flow(queue, strategy),
        awaiting_second=newest_first(c for c in queue.candidates if c.awaiting_second),
        conflicts=newest_first(c for c in queue.candidates if c.in_conflict),
    )


def _phrase(term: str) -> re.Pattern[str]:
    """A vocabulary name or alias as a pattern over a title: whole words; an all-capitals acronym
    (MS, AKI) matches only in capitals; the last word may be singular or plural."""
    if re.fullmatch(r"[A-Z][A-Z0-9]{1,5}", term):
        return re.compile(rf"(?<![A-Za-z0-9]){re.escape(term)}s?(?![A-Za-z0-9])")
    words = norm_title(term).split()
    if not words:
        return re.compile(r"(?!x)x")
    last = words[-1][:-1] if words[-1].endswith("s") and len(words[-1]) > 3 else words[-1]
    body = r"\s+".join(re.escape(w) for w in [*words[:-1], last])
    return re.compile(rf"(?<!\w){body}(?:s|es)?(?!\w)", re.IGNORECASE)


def candidates_for_condition(queue: Queue, condition_term: Term) -> list[Candidate]:
    """Pending candidates whose title names the condition (its name or an alias): the condition page
    lists them as not yet screened."""
    patterns = [_phrase(t) for t in (condition_term.name, *condition_term.aliases)]
    hits = []
    for c in newest_first(queue.with_status("pending")):
        spaced = " ".join(re.sub(r"[^\w]+", " ", unicodedata.normalize("NFKC", c.title)).split())
        if any(p.search(spaced) for p in patterns):
            hits.append(c)
    return hits


def pubmed_url(pmid: str) -> str:
    """The PubMed page of a validated PMID; anything else is refused rather than linked."""
    if not PMID.fullmatch(pmid):
        raise ValueError(f"refusing to link to a non-numeric PubMed id: {pmid!r}")
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


def doi_url(doi: str) -> str:
    """The doi.org link of a DOI-shaped string, percent-encoded so it cannot end a Markdown link."""
    if not DOI.fullmatch(doi):
        raise ValueError(f"refusing to link to a string that is not a DOI: {doi!r}")
    return "https://doi.org/" + quote(doi, safe="/")
