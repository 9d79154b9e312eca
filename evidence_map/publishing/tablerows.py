"""The rows of the site's filterable tables (conditions, reviews, pooled effects) and their filters.

A table's filters (javascripts/tables.js) match each row's `data-facet-<key>` attribute, and the
page's address keeps the chosen values as `?<key>=<value>` (so `reviews/?condition=sepsis&source=bm`
opens the reviews table filtered, as the charts' links do). Those values are vocabulary ids,
schema enumerations and computed labels only, never record text: an attribute built from them
cannot carry markup, and an address stays valid while a record's wording changes. This module
gathers the values; the templates print them.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from evidence_map.judging.certainty import scale as certainty_scale
from evidence_map.judging.computed import ComputedMap
from evidence_map.judging.grading import VERDICTS, Assessed
from evidence_map.publishing.charts import AMSTAR2_RATINGS, ROB_RATINGS
from evidence_map.records.evidence import Evidence
from evidence_map.records.issues import schema
from evidence_map.records.model import Record
from evidence_map.records.vocab import Vocabulary

VALUE = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")  # one filter value: a slug, space-separated in a row
KEY = re.compile(r"^[a-z][a-z0-9]*$")  # an attribute name part and a query key


@dataclass(frozen=True)
class Facet:
    """One filter: its query key, its name, and the values some row has, in the scale's order."""

    key: str
    label: str
    options: tuple[tuple[str, str], ...]  # (value, shown text)


@dataclass(frozen=True)
class Row:
    item: Any  # a Term (conditions table), a Record (reviews table) or an Assessed effect (effects table)
    conditions: tuple[str, ...]
    facets: tuple[tuple[str, str], ...]  # (key, space-separated values) for data-facet-<key>


@dataclass(frozen=True)
class Table:
    rows: tuple[Row, ...]
    facets: tuple[Facet, ...]


@dataclass(frozen=True)
class Spec:
    key: str
    label: str
    choices: Sequence[tuple[str, str]]  # every possible (value, shown text), in order
    values: Callable[[Any], Iterable[str]]


A = TypeVar("A")


def last_call(fn: Callable[[A], Table]) -> Callable[[A], Table]:
    """`fn`, remembering its last result while its argument lives, by the argument's identity: the
    pages and the search shortcuts build the same (immutable) tables from the same map, each 0.3 s
    at 2,000 reviews. A weak reference, so that the last map is not kept once a build is over."""
    memo: list[tuple[weakref.ref[Any], Table]] = []

    @wraps(fn)
    def remembered(arg: A) -> Table:
        if memo and memo[0][0]() is arg:
            return memo[0][1]
        result = fn(arg)
        memo[:] = [(weakref.ref(arg), result)]
        return result

    return remembered


def slug(label: str) -> str:
    """A computed label as a filter value: "Promising but heterogeneous" -> "promising-but-heterogeneous"."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def terms(vocab: Vocabulary) -> list[tuple[str, str]]:
    return [(t.id, t.name) for t in vocab.terms]


def enum(*path: str) -> list[str]:
    """A field's allowed values from the record schema, in the schema's order."""
    node: Any = schema()["properties"]
    for part in path[:-1]:
        node = node[part]
        node = node.get("items", node)["properties"]
    return [str(v) for v in node[path[-1]]["enum"]]


def rated(path: tuple[str, ...], labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(v, labels.get(v, v)) for v in enum(*path)]


def table(items: Iterable[Any], conditions: Callable[[Any], tuple[str, ...]], specs: Sequence[Spec]) -> Table:
    rows: list[Row] = []
    seen: dict[str, set[str]] = {s.key: set() for s in specs}
    for item in items:
        attrs = []
        for s in specs:
            if not KEY.match(s.key):
                raise ValueError(f"not a filter key: {s.key!r}")
            values = list(dict.fromkeys(str(v) for v in s.values(item) if v))
            for v in values:
                if not VALUE.match(v):
                    raise ValueError(f"refusing a filter value that is not a slug: {s.key}={v!r}")
            seen[s.key].update(values)
            attrs.append((s.key, " ".join(values)))
        rows.append(Row(item, conditions(item), tuple(attrs)))
    facets = tuple(Facet(s.key, s.label, tuple((v, t) for v, t in s.choices if v in seen[s.key])) for s in specs)
    return Table(tuple(rows), facets)


def _quality(record: Callable[[Any], Record]) -> list[Spec]:
    return [
        Spec("rob", "Risk of bias", rated(("risk_of_bias", "overall"), ROB_RATINGS), lambda x: [record(x).rob_overall]),
        Spec(
            "amstar2", "AMSTAR-2", rated(("amstar2", "rating"), AMSTAR2_RATINGS), lambda x: [record(x).amstar2_rating]
        ),
    ]


@last_call
def reviews_table(evidence: Evidence) -> Table:
    """One row per record; filters by year, condition, EV source, species and quality."""
    v = evidence.vocab
    years = sorted({r.year for r in evidence.records})
    specs = [
        Spec("year", "Year", [(str(y), str(y)) for y in years], lambda r: [str(r.year)]),
        Spec("condition", "Conditions", terms(v.conditions), lambda r: r.conditions),
        Spec("source", "EV sources", terms(v.sources), lambda r: r.sources),
        Spec("species", "Species", terms(v.species), lambda r: r.species),
        *_quality(lambda r: r),
    ]
    return table(evidence.records, lambda r: r.conditions, specs)


def effect_conditions(a: Assessed) -> tuple[str, ...]:
    """The conditions an effect speaks for: its own, or else every condition of its review."""
    return (a.effect.condition,) if a.effect.condition else a.record.conditions


@last_call
def effects_table(computed: ComputedMap) -> Table:
    """One row per pooled effect of every record, in the records' order; filters by condition, EV
    source, species, route, measure, the condition's computed verdict and quality."""
    v, grades = computed.vocab, computed.grades
    specs = [
        Spec("condition", "Condition", terms(v.conditions), effect_conditions),
        Spec("source", "EV source", terms(v.sources), lambda a: a.record.sources),
        Spec("species", "Species", terms(v.species), lambda a: a.record.species),
        Spec("route", "Route", terms(v.routes), lambda a: a.record.counted_routes),
        Spec("measure", "Measure", [(m, m) for m in enum("effects", "measure")], lambda a: [a.effect.measure]),
        Spec(
            "verdict",
            "Condition verdict",
            [(slug(label), label) for label in VERDICTS],
            lambda a: [slug(grades[c].overall.label) for c in effect_conditions(a)],
        ),
        *_quality(lambda a: a.record),
    ]
    return table(computed.all_assessed(), effect_conditions, specs)


def conditions_table(computed: ComputedMap) -> Table:
    """One row per condition of the vocabulary; filters by organ system, verdict and certainty."""
    v, grades, summaries = computed.vocab, computed.grades, computed.summaries
    specs = [
        Spec("system", "Organ system", list(v.categories.items()), lambda t: [t.category]),
        Spec(
            "verdict",
            "Verdict",
            [(slug(label), label) for label in VERDICTS],
            lambda t: [slug(grades[t.id].overall.label)],
        ),
        Spec(
            "certainty",
            "Certainty",
            [(slug(level), level) for level in certainty_scale(computed.rules)],
            lambda t: [slug(summaries[t.id].certainty)],
        ),
    ]
    return table(v.conditions.terms, lambda t: (t.id,), specs)


def gap_map_filters(evidence: Evidence) -> Table:
    """One row per record, for the gap map's filters (javascripts/gapmap.js): the EV sources,
    species and routes each review has, and the values some review has for each list."""
    v = evidence.vocab
    specs = [
        Spec("source", "EV source", terms(v.sources), lambda r: r.sources),
        Spec("species", "Species", terms(v.species), lambda r: r.species),
        Spec("route", "Route", terms(v.routes), lambda r: r.counted_routes),
    ]
    return table(evidence.records, lambda r: r.conditions, specs)
