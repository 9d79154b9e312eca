"""The screening queue, screening/queue.yaml: the candidates the PubMed search proposed, and what
screeners decided about each.

One file rather than one file per candidate, because of what a pull request shows. The search only
appends, as text, at the end of the file, so its weekly pull request is one block of added lines
and nothing above them moves; a screener's decision is a one- or two-line change (`status`, then
`record` or `reason`) with the candidate's PubMed id and title as the diff's context. And one file
is replaced in one atomic step, so a run can never leave half a queue behind. Candidates are never
removed: an excluded one stays, so the search does not propose it again.

This module loads the queue with the records' strict loader, validates it (the schema, then rules
that span entries or reach into evidence/); screening.py sums it up for the pages. It never writes
the queue (search.py appends to it) and needs nothing beyond what `build.py validate` needs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from evidence_map.paths import ROOT
from evidence_map.records.evidence import Evidence
from evidence_map.records.issues import (
    FIRST_YEAR,
    Issue,
    Problem,
    _schema_rule,
    compiled_validator,
    dotted,
    known_valid,
)
from evidence_map.records.model import Record
from evidence_map.records.validate import load_data_file
from evidence_map.surveillance.duplicates import known_records, norm_doi
from evidence_map.surveillance.recall import Recall, load_recall
from evidence_map.surveillance.strategy import SCREENING, STRATEGY, Strategy, checked_strategy, strategy_from_data

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


# ---------------------------------------------------------------- validation


@cache
def schema() -> dict[str, Any]:
    with open(SCHEMA, encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


@cache
def _validators() -> tuple[Any, jsonschema.Draft202012Validator]:
    """The queue schema's compiled validator (None without jsonschema-rs), which says quickly that a
    valid queue is valid, and jsonschema's, whose errors the messages are written from."""
    return compiled_validator(schema()), jsonschema.Draft202012Validator(schema())


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
    compiled, validator = _validators()
    errors = (
        []
        if known_valid(compiled, data)
        else sorted((_schema_issue(e) for e in validator.iter_errors(data)), key=lambda i: [str(p) for p in i.path])
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
    return _checked_queue(path, evidence)[0]


def _checked_queue(path: Path, evidence: Evidence) -> tuple[list[Problem], Any]:
    """check_queue's problems and the queue's data (None when the file could not be read), from one
    reading of the file."""
    shown, loaded, stopped = load_data_file(path)
    if loaded is None:
        return stopped, None
    errors, warnings = queue_issues(loaded.data, evidence.records)
    problems = [
        Problem(shown, loaded.line_of(i.path), dotted(i.path), i.rule, i.shown(), warning)
        for issues, warning in ((errors, False), (warnings, True))
        for i in issues
    ]
    return sorted(problems, key=lambda p: (p.line, p.field, p.warning)), loaded.data


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
    problems, data = _checked_queue(path, evidence)
    errors = [p for p in problems if not p.warning]
    if errors:
        raise InvalidQueue(errors)
    return queue_from_data(data)


@dataclass(frozen=True)
class Screening:
    """The queue and the search that fills it, as the pages show them."""

    queue: Queue
    strategy: Strategy | None = None
    recall: Recall | None = None


NO_SCREENING = Screening(Queue(()))  # for a build from another evidence folder (tests, benchmarks)


def load_screening(evidence: Evidence, queue: Path = QUEUE, strategy: Path = STRATEGY) -> Screening:
    """The validated queue and strategy; raises InvalidQueue listing every error of both files. Each
    file is read once."""
    strategy_problems, strategy_data = checked_strategy(strategy)
    queue_problems, queue_data = _checked_queue(queue, evidence)
    errors = [p for p in (*strategy_problems, *queue_problems) if not p.warning]
    if errors:
        raise InvalidQueue(errors)
    return Screening(queue_from_data(queue_data), strategy_from_data(strategy_data), load_recall())
