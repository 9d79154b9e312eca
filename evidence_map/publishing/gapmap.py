"""The evidence gap map: conditions against outcome domains (or EV sources), each cell the reviews
that speak to it, sized by their number and coloured by the certainty of the evidence.

Evidence gap maps (EPPI-Mapper, the Campbell and 3ie maps) show where reviews are and where they
are not, so a gap reads as a gap. This module gathers the cells from the computed map; the page
template (templates/gapmap.md.j2) prints them and javascripts/gapmap.js filters and opens them.
Filter values are vocabulary ids and computed labels only, never record text (as in tablerows).
"""

from __future__ import annotations

from dataclasses import dataclass

from evidence_map.judging.certainty import NOT_RATED
from evidence_map.judging.computed import ComputedMap
from evidence_map.judging.grading import DOMAINS, Assessed
from evidence_map.publishing.tablerows import slug
from evidence_map.records.model import Record

NO_ESTIMATE = "none"  # the outcome column of reviews that record no pooled estimate for the condition
DOMAIN_NAMES = {d: d.capitalize() for d in DOMAINS} | {NO_ESTIMATE: "No pooled estimate"}


@dataclass(frozen=True)
class Entry:
    """One review in one cell, with the estimates it gives there (all of the condition's in the
    EV-source view)."""

    record: Record
    estimates: tuple[Assessed, ...]

    @property
    def counted(self) -> int:
        """How many of its estimates count toward the verdict (MSC-EV evidence, not set aside)."""
        return sum(1 for a in self.estimates if not a.flags)


@dataclass(frozen=True)
class Cell:
    view: str
    condition: str
    column: str
    entries: tuple[Entry, ...]
    certainty: str  # high ... very low, or "not rated"

    @property
    def anchor(self) -> str:
        return f"gap-{self.view}-{self.condition}-{self.column}"

    @property
    def certainty_key(self) -> str:
        return slug(self.certainty)


@dataclass(frozen=True)
class Row:
    condition: str
    category: str
    cells: tuple[Cell, ...]

    @property
    def reviews(self) -> int:
        return len({e.record.id for c in self.cells for e in c.entries})


@dataclass(frozen=True)
class View:
    key: str
    label: str  # what the columns are
    noun: str  # the same in running text
    colour_means: str  # what a cell's colour rates, in words
    columns: tuple[tuple[str, str], ...]  # (id, heading)
    rows: tuple[Row, ...]

    def heading(self, column: str) -> str:
        return dict(self.columns)[column]

    @property
    def cells(self) -> list[Cell]:
        return [c for row in self.rows for c in row.cells if c.entries]

    @property
    def most(self) -> int:
        return max((len(c.entries) for c in self.cells), default=1)


def _outcome_view(computed: ComputedMap) -> View:
    v = computed.vocab
    columns = [*DOMAINS, NO_ESTIMATE]
    rows = []
    for term in v.conditions.terms:
        findings = {row.domain: row.certainty for row in computed.summaries[term.id].rows}
        per_column: dict[str, list[Entry]] = {c: [] for c in columns}
        for record in computed.evidence.for_condition(term.id):
            assessed = computed.assessed_for(record, term.id)
            domains = [d for d in DOMAINS if any(a.effect.domain == d for a in assessed)]
            for d in domains:
                per_column[d].append(Entry(record, tuple(a for a in assessed if a.effect.domain == d)))
            if not domains:
                per_column[NO_ESTIMATE].append(Entry(record, ()))
        cells = tuple(Cell("outcomes", term.id, c, tuple(per_column[c]), findings.get(c, NOT_RATED)) for c in columns)
        rows.append(Row(term.id, term.category, cells))
    return View(
        "outcomes",
        "Outcome domain",
        "outcome domain",
        "the certainty of the evidence for that condition and outcome domain",
        tuple((c, DOMAIN_NAMES[c]) for c in columns),
        tuple(rows),
    )


def _source_view(computed: ComputedMap) -> View:
    v, evidence = computed.vocab, computed.evidence
    used = {s for r in evidence.records for s in r.sources}
    sources = [t for t in v.sources.terms if t.id in used]
    rows = []
    for term in v.conditions.terms:
        certainty = computed.summaries[term.id].certainty
        records = evidence.for_condition(term.id)
        cells = tuple(
            Cell(
                "sources",
                term.id,
                s.id,
                tuple(Entry(r, tuple(computed.assessed_for(r, term.id))) for r in records if s.id in r.sources),
                certainty,
            )
            for s in sources
        )
        rows.append(Row(term.id, term.category, cells))
    return View(
        "sources",
        "EV source",
        "EV source",
        "the certainty of the evidence for the condition as a whole",
        tuple((s.id, s.name) for s in sources),
        tuple(rows),
    )


def gap_map_views(computed: ComputedMap) -> tuple[View, View]:
    """The two views of the map: by outcome domain (the main one) and by EV source."""
    return _outcome_view(computed), _source_view(computed)


@dataclass(frozen=True)
class Level:
    key: str
    name: str


def used_levels(views: tuple[View, ...], levels: tuple[str, ...]) -> list[Level]:
    """The certainty levels some cell has, in the scale's order: the legend names no colour the map
    does not use."""
    used = {c.certainty for view in views for c in view.cells}
    return [Level(slug(level), level) for level in levels if level in used]


def bubble(n: int, most: int) -> str:
    """A circle's relative size, 0 to 1: its area grows with the number of reviews."""
    return f"{(n / max(most, 1)) ** 0.5:.2f}"
