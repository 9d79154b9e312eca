"""The screening queue, screening/queue.yaml: the candidates the PubMed search proposed, and what
screeners decided about each.

One file rather than one file per candidate, because of what a pull request shows. The search only
appends, as text, at the end of the file, so its weekly pull request is one block of added lines
and nothing above them moves; a screener's decision is a one- or two-line change (`status`, then
`record` or `reason`) with the candidate's PubMed id and title as the diff's context. And one file
is replaced in one atomic step, so a run can never leave half a queue behind. Candidates are never
removed: an excluded one stays, so the search does not propose it again.

This module loads the queue with the records' strict loader, validates it (the schema, then rules
that span entries or reach into evidence/) and derives what the pages show. It never writes the
queue (surveil.py appends to it) and needs nothing beyond what `build.py validate` needs.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema

from .evidence import Evidence
from .feeds import Entry, rfc3339
from .model import Record
from .paths import ROOT
from .recall import Recall, load_recall
from .strategy import SCREENING, STRATEGY, Strategy, check_strategy, load_strategy
from .validate import FIRST_YEAR, Issue, Problem, _schema_rule, dotted, load_data_file
from .vocab import Term
from .yamlsafe import decode, load

QUEUE = SCREENING / "queue.yaml"
SCHEMA = ROOT / "schema" / "screening.schema.json"
STATUSES = ("pending", "included", "excluded")
# Why a candidate is out; the schema's enum lists the same ids (a test keeps them equal).
REASONS = {
    "not-a-meta-analysis": "Not a meta-analysis",
    "not-msc-evs": "Not about MSC-derived extracellular vesicles",
    "not-animal": "Not on animal (preclinical) studies",
    "duplicate": "Duplicate of another candidate or a record",
    "other": "Other reason (see the note)",
}
PMID = re.compile(r"[0-9]{1,9}")
DOI = re.compile(r"10\.[0-9]{4,9}/[-._;()/:A-Za-z0-9<>\[\]]+")
TEXT_FIELDS = ("title", "journal", "first_author", "pubdate", "note")
TAG = re.compile(r"<\s*/?\s*[A-Za-z!?]")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
PATTERN_HINTS = {
    "pmid": "a PubMed id: digits only, in quotes",
    "doi": "a DOI such as 10.1000/xyz123, without a https://doi.org/ prefix",
    "found": "a date written YYYY-MM-DD",
    "record": "a record id: the file name in evidence/ without .yaml",
}


class InvalidQueue(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} errors")
        self.problems = problems


STAGES = ("title-abstract", "full-text")


@dataclass(frozen=True)
class Decision:
    """One screener's decision on one candidate at one stage."""

    screener: str
    date: str
    stage: str
    decision: str  # include or exclude
    reason: str | None = None
    resolves: bool = False
    note: str | None = None


def stage_outcome(decisions: Iterable[Decision], stage: str) -> str:
    """What a stage has decided: none, awaiting a second screener, conflict, include or exclude."""
    here = [d for d in decisions if d.stage == stage]
    if not here:
        return "none"
    settled = [d for d in here if d.resolves]
    if settled:
        return settled[-1].decision
    if len({d.screener for d in here}) < 2:
        return "awaiting a second screener"
    kinds = {d.decision for d in here}
    return kinds.pop() if len(kinds) == 1 else "conflict"


@dataclass(frozen=True)
class Candidate:
    title: str
    found: str
    status: str
    pmid: str | None = None
    doi: str | None = None
    journal: str | None = None
    first_author: str | None = None
    year: int | None = None
    pubdate: str | None = None
    record: str | None = None
    reason: str | None = None
    note: str | None = None
    found_by: str = "standing-search"  # or hand-search, with found_at
    found_at: str | None = None
    decisions: tuple[Decision, ...] = ()

    def outcome(self, stage: str) -> str:
        return stage_outcome(self.decisions, stage)

    @property
    def awaiting_second(self) -> bool:
        """One screener has decided a stage; the second has not."""
        return self.status == "pending" and any(self.outcome(s) == "awaiting a second screener" for s in STAGES)

    @property
    def in_conflict(self) -> bool:
        return self.status == "pending" and any(self.outcome(s) == "conflict" for s in STAGES)

    @property
    def reached_full_text(self) -> bool:
        """Assessed on its full text: a full-text decision, or included (one screener, before decisions were kept)."""
        return self.status == "included" or any(d.stage == "full-text" for d in self.decisions)

    @property
    def key(self) -> str:
        """A stable name for the candidate: its PMID, else its DOI."""
        return self.pmid or f"doi:{norm_doi(self.doi)}"


@dataclass(frozen=True)
class Queue:
    candidates: tuple[Candidate, ...]

    def with_status(self, status: str) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.status == status)


# ---------------------------------------------------------------- identity: the same article twice


def norm_doi(doi: str | None) -> str:
    """A DOI compared case-insensitively, without a resolver prefix."""
    text = (doi or "").strip().casefold()
    return re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", text)


def norm_title(title: str | None) -> str:
    """A title compared casefolded, with punctuation and runs of whitespace reduced to one space."""
    text = unicodedata.normalize("NFKC", title or "").casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


@dataclass
class Known:
    """Articles already seen (records, or queued candidates), looked up by PMID, DOI, then title."""

    by_pmid: dict[str, str]
    by_doi: dict[str, str]
    by_title: dict[str, str]

    @classmethod
    def of(cls, items: Iterable[tuple[str, str | None, str | None, str | None]]) -> Known:
        """From (label, pmid, doi, title) tuples; the first label given for an identifier wins."""
        known = cls({}, {}, {})
        for label, pmid, doi, title in items:
            known.add(label, pmid, doi, title)
        return known

    def add(self, label: str, pmid: str | None, doi: str | None, title: str | None) -> None:
        if pmid:
            self.by_pmid.setdefault(pmid.strip(), label)
        if norm_doi(doi):
            self.by_doi.setdefault(norm_doi(doi), label)
        if len(norm_title(title)) >= 20:  # a short title is too likely to be shared by chance
            self.by_title.setdefault(norm_title(title), label)

    def match(self, pmid: str | None, doi: str | None, title: str | None) -> str | None:
        """The label of the known article with this PMID, else this DOI, else this title."""
        return (
            (self.by_pmid.get(pmid.strip()) if pmid else None)
            or self.by_doi.get(norm_doi(doi))
            or self.by_title.get(norm_title(title))
        )


JOURNAL_STOPWORDS = frozenset({"and", "of", "the", "in", "for", "on", "de", "la", "y"})


def _journal_words(name: str | None) -> list[str]:
    text = unicodedata.normalize("NFKC", name or "").casefold().replace("&", " ")
    return [w for w in re.sub(r"[\W_]+", " ", text).split() if w not in JOURNAL_STOPWORDS]


def same_journal(a: str | None, b: str | None) -> bool:
    """Whether two journal names are the same journal, one perhaps abbreviated the way indexes do
    ("Stem Cell Rev Rep" and "Stem cell reviews and reports"): word by word, each a prefix of the other."""
    wa, wb = _journal_words(a), _journal_words(b)
    return (
        bool(wa) and len(wa) == len(wb) and all(x.startswith(y) or y.startswith(x) for x, y in zip(wa, wb, strict=True))
    )


def surname(name: str | None) -> str:
    """The surname of "Aghayan AH" or "Aghayan", compared casefolded without accents."""
    first = (name or "").strip().split(" ")[0]
    plain = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode()
    return plain.casefold()


def possible_duplicate(
    records: Iterable[Record], first_author: str | None, year: int | None, journal: str | None
) -> str | None:
    """A record with the same first author, year and journal: perhaps the same review under another
    identifier (or none), so the candidate is queued as a possible duplicate, not dropped or added blindly."""
    if not first_author or not year or not journal:
        return None
    for r in records:
        if surname(r.first_author) == surname(first_author) and r.year == year and same_journal(r.journal, journal):
            return r.id
    return None


def known_records(records: Iterable[Record]) -> Known:
    return Known.of((r.id, r.pmid, r.doi, r.title) for r in records)


def known_candidates(candidates: Iterable[Candidate]) -> Known:
    return Known.of(
        (f"PubMed {c.pmid} ({c.status})" if c.pmid else f"DOI {c.doi} ({c.status})", c.pmid, c.doi, c.title)
        for c in candidates
    )


# ---------------------------------------------------------------- validation


@cache
def schema() -> dict[str, Any]:
    with open(SCHEMA, encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


def _schema_issue(err: jsonschema.ValidationError) -> Issue:
    path = tuple(err.absolute_path)
    if err.validator == "anyOf" and len(path) == 2 and path[0] == "candidates":
        return Issue(path, "needs a pmid or a doi: a candidate found by hand without a PMID gives its DOI")
    if err.validator == "pattern" and path and str(path[-1]) in PATTERN_HINTS:
        return Issue(path, f"must be {PATTERN_HINTS[str(path[-1])]}", err.instance)
    return _schema_rule(err)


def _entries(data: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    items = data.get("candidates")
    for i, c in enumerate(items if isinstance(items, list) else []):
        if isinstance(c, dict):
            yield i, c


def _entry_issues(i: int, c: dict[str, Any]) -> Iterator[Issue]:
    at = ("candidates", i)
    for key in TEXT_FIELDS:
        text = c.get(key)
        if isinstance(text, str) and (TAG.search(text) or CONTROL.search(text) or text != " ".join(text.split())):
            yield Issue(
                (*at, key), "must be plain text on one line: no HTML tags, control characters or runs of spaces", text
            )
    found = c.get("found")
    if isinstance(found, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", found):
        try:
            date.fromisoformat(found)
        except ValueError:
            yield Issue((*at, "found"), "must be a real calendar date (YYYY-MM-DD)", found)
    year = c.get("year")
    if isinstance(year, int) and not FIRST_YEAR <= year <= date.today().year + 1:
        yield Issue((*at, "year"), f"must be between {FIRST_YEAR} and {date.today().year + 1}", year)
    status = c.get("status")
    if "record" in c and status in STATUSES and status != "included":
        yield Issue((*at, "record"), "is given only when status is included", c["record"])
    if "reason" in c and status in STATUSES and status != "excluded":
        yield Issue((*at, "reason"), "is given only when status is excluded", c["reason"])
    yield from _decision_issues(at, c)


def _decision_issues(at: tuple[str | int, ...], c: dict[str, Any]) -> Iterator[Issue]:
    """Two independent screeners a stage; the status follows what the decisions settled."""
    raw = c.get("decisions")
    if not isinstance(raw, list) or not all(isinstance(d, dict) for d in raw):
        return
    seen: set[tuple[str, str]] = set()
    for j, d in enumerate(raw):
        if d.get("decision") == "exclude" and not d.get("reason"):
            yield Issue((*at, "decisions", j, "reason"), "is required with decision: exclude")
        key = (str(d.get("screener")), str(d.get("stage")))
        if key in seen and not d.get("resolves"):
            yield Issue(
                (*at, "decisions", j, "screener"),
                "has already decided this stage: the second decision must come from another screener",
                d.get("screener"),
            )
        seen.add(key)
    names = {f.name for f in fields(Decision)}
    try:
        decisions = [Decision(**{k: v for k, v in d.items() if k in names}) for d in raw]
    except TypeError:
        return
    screening, full = stage_outcome(decisions, STAGES[0]), stage_outcome(decisions, STAGES[1])
    status = c.get("status")
    if status == "included" and not (screening in ("include", "none") and full == "include"):
        yield Issue(
            (*at, "status"),
            f"is included, but the decisions do not settle it (title and abstract: {screening}; full text: {full}); "
            "two screeners must agree on include at full text, or a decision with resolves: true settle it",
            status,
        )
    if status == "excluded" and "exclude" not in (screening, full):
        yield Issue(
            (*at, "status"),
            f"is excluded, but the decisions do not settle it (title and abstract: {screening}; full text: {full}); "
            "two screeners must agree on exclude at one stage, or a decision with resolves: true settle it",
            status,
        )


def _record_issues(i: int, c: dict[str, Any], records: dict[str, Record]) -> Iterator[Issue]:
    rid = c.get("record")
    if c.get("status") != "included" or not isinstance(rid, str) or not re.fullmatch(r"[a-z0-9-]+", rid):
        return
    rec = records.get(rid)
    if rec is None:
        yield Issue(("candidates", i, "record"), "must be the id of a record in evidence/; no record has it", rid)
        return
    pmid, doi = c.get("pmid"), c.get("doi")
    if rec.pmid and isinstance(pmid, str) and rec.pmid != pmid:
        yield Issue(("candidates", i, "record"), f"names a record whose citation.pmid is {rec.pmid}, not {pmid}", rid)
    elif rec.doi and isinstance(doi, str) and norm_doi(rec.doi) != norm_doi(doi):
        yield Issue(("candidates", i, "record"), f"names a record whose citation.doi is {rec.doi}, not {doi}", rid)


def queue_issues(data: Any, records: Iterable[Record]) -> tuple[list[Issue], list[Issue]]:
    """(errors, warnings) of a queue's data: schema first, then the rules across entries and records."""
    if not isinstance(data, dict):
        return [Issue((), "the queue must be a YAML mapping with a `candidates:` list")], []
    errors = sorted(
        (_schema_issue(e) for e in jsonschema.Draft202012Validator(schema()).iter_errors(data)),
        key=lambda issue: [str(p) for p in issue.path],
    )
    by_id = {r.id: r for r in records}
    in_map = known_records(by_id.values())
    seen: dict[str, dict[str, int]] = {"pmid": {}, "doi": {}}
    warnings = []
    for i, c in _entries(data):
        errors += _entry_issues(i, c)
        errors += _record_issues(i, c, by_id)
        for key in ("pmid", "doi"):
            value = c.get(key)
            if not isinstance(value, str) or not value:
                continue
            value = norm_doi(value) if key == "doi" else value
            if value in seen[key]:
                rule = f"must be unique; candidates.{seen[key][value]} has it too"
                errors.append(Issue(("candidates", i, key), rule, c[key]))
            else:
                seen[key][value] = i
        if c.get("found_by") == "hand-search" and not c.get("found_at"):
            errors.append(
                Issue(
                    ("candidates", i, "found_at"), "is required with found_by: hand-search (the page it was found on)"
                )
            )
        if c.get("status") == "pending":
            rid = in_map.match(*(c.get(k) if isinstance(c.get(k), str) else None for k in ("pmid", "doi", "title")))
            if rid:
                rule = f"is already in the map as {rid}: set status: included and record: {rid}"
                warnings.append(Issue(("candidates", i, "status"), rule, "pending"))
    included = {c.get("record") for _, c in _entries(data) if c.get("status") == "included"}
    for r in sorted(by_id.values(), key=lambda r: r.id):
        if r.beyond_source and r.id not in included:
            errors.append(
                Issue(
                    ("candidates",),
                    f"has no included candidate for {r.path} (found_by: {r.found_by}): add one with "
                    f"status: included and record: {r.id}, saying where and when it was found",
                )
            )
    return errors, warnings


def check_queue(path: Path, evidence: Evidence) -> list[Problem]:
    """Every problem of the queue file, as `file:line: field: rule; got value` (warnings flagged)."""
    shown, loaded, stopped = load_data_file(path)
    if loaded is None:
        return stopped
    errors, warnings = queue_issues(loaded.data, evidence.records)
    problems = [
        Problem(shown, loaded.line_of(i.path), dotted(i.path), i.rule, i.shown(), warning)
        for issues, warning in ((errors, False), (warnings, True))
        for i in issues
    ]
    return sorted(problems, key=lambda p: (p.line, p.field, p.warning))


def queue_from_data(data: dict[str, Any]) -> Queue:
    """A Queue from data `check_queue` accepted."""
    names = {f.name for f in fields(Candidate)} - {"decisions"}
    return Queue(
        tuple(
            Candidate(
                **{k: v for k, v in c.items() if k in names},
                decisions=tuple(Decision(**d) for d in c.get("decisions") or ()),
            )
            for c in data["candidates"]
        )
    )


def load_queue(path: Path, evidence: Evidence) -> Queue:
    """The validated queue; raises InvalidQueue listing every error (warnings do not stop it)."""
    errors = [p for p in check_queue(path, evidence) if not p.warning]
    if errors:
        raise InvalidQueue(errors)
    return queue_from_data(load(decode(path.read_bytes())).data)


@dataclass(frozen=True)
class Screening:
    """The queue and the search that fills it, as the pages show them."""

    queue: Queue
    strategy: Strategy | None = None
    recall: Recall | None = None


NO_SCREENING = Screening(Queue(()))  # for a build from another evidence folder (tests, benchmarks)


def load_screening(evidence: Evidence, queue: Path = QUEUE, strategy: Path = STRATEGY) -> Screening:
    """The validated queue and strategy; raises InvalidQueue listing every error of both files."""
    errors = [p for p in (*check_strategy(strategy), *check_queue(queue, evidence)) if not p.warning]
    if errors:
        raise InvalidQueue(errors)
    return Screening(queue_from_data(load(decode(queue.read_bytes())).data), load_strategy(strategy), load_recall())


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
        candidates=_newest_first(found),
        included=_newest_first(c for c in found if c.status == "included"),
        excluded=tuple((rid, label, reasons.get(rid, 0)) for rid, label in REASONS.items()),
        pending=_newest_first(c for c in found if c.status == "pending"),
    )


def _newest_first(candidates: Iterable[Candidate]) -> tuple[Candidate, ...]:
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
        included=_newest_first(c for c in standing.with_status("included") if c.record in ids),
        pending=_newest_first(standing.with_status("pending")),
        hand=hand_search(queue),
        recall=recall,
        prisma=prisma_flow(queue, strategy),
        awaiting_second=_newest_first(c for c in queue.candidates if c.awaiting_second),
        conflicts=_newest_first(c for c in queue.candidates if c.in_conflict),
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
    for c in _newest_first(queue.with_status("pending")):
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


def screening_entries(queue: Queue, limit: int = 50) -> list[Entry]:
    """Feed entries for the newest pending candidates, linking to the screening page."""
    return [
        Entry(
            id=f"tag:msc-ev-map.github.io,2026:evidence-map/screening/{quote(c.key, safe=':')}",
            title=f"To screen: {c.title}",
            updated=rfc3339(c.found),
            link="screening/",
            summary=", ".join(str(x) for x in (c.journal, c.year) if x),
            category="screening",
        )
        for c in _newest_first(queue.with_status("pending"))[:limit]
    ]
