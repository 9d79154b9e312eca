"""Search shortcuts: a measure or quality term leads to the table that lists what matches it.

Pagefind finds pages by their words, and "SMD" or "AMSTAR low" is on dozens of pages; what a visitor
wants is the list of those estimates or reviews. The search dialog (javascripts/search.js) shows a
shortcut first when a query says one of these terms: a link to the pooled-effects or reviews table,
filtered through its address (`effects/?measure=SMD`, `reviews/?amstar2=low`), as the tables' own
filters read it (javascripts/tables.js). A term no row has leads to the table sorted by that column,
and says so.

The terms and values come from the record schema and its labels, the counts from the tables' rows
(tablerows.py), never from record text. Written at each build as assets/search-shortcuts.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from evidence_map.judging.computed import ComputedMap
from evidence_map.publishing.charts import AMSTAR2_RATINGS, ROB_RATINGS
from evidence_map.publishing.charts.base import _plural
from evidence_map.publishing.tablerows import Table, effects_table, enum, rated, reviews_table, slug

PATH = "assets/search-shortcuts.json"
# Words a query may hold around the terms without changing what it asks for.
FILLERS = ("of", "the", "by", "at", "to", "rated", "rating", "with")
# The names a visitor gives each filter, as alternatives of words; a facet not named here is matched
# by its values alone (a measure: "SMD").
SUBJECTS = {
    "rob": ("risk of bias", "rob", "bias"),
    "amstar2": ("amstar", "amstar2", "amstar 2"),
}


@dataclass(frozen=True)
class Shortcut:
    label: str  # what the link says, with how many rows it leads to
    url: str  # relative to the site's root
    match: tuple[tuple[str, ...], ...]  # each a set of words a query may be (fillers left out)


def words(text: str) -> tuple[str, ...]:
    """A text's words as search.js splits a query: lower case, letters and digits, fillers left out."""
    return tuple(w for w in re.findall(r"[a-z0-9]+", text.casefold()) if w not in FILLERS)


@dataclass(frozen=True)
class Target:
    """A table and one of its filters: its query key and its column, and the values it can take."""

    table: Table
    page: str  # the table's page, relative to the site's root
    key: str  # the filter's query key (tablerows.py)
    column: str  # the column's heading, which its sort key is made from (tables.js)
    choices: list[tuple[str, str]]  # every (value, shown text) the schema allows, in its order
    noun: str  # what a row is
    where: str  # the table, in words


def _shortcuts(t: Target) -> Iterable[Shortcut]:
    """One shortcut per value, with the number of rows that carry it."""
    subjects = SUBJECTS.get(t.key, ("",))
    for value, text in t.choices:
        rows = sum(value in dict(row.facets)[t.key].split() for row in t.table.rows)
        match = {tuple(sorted({*words(subject), *words(v)})) for subject in subjects for v in (value, text)}
        name = f"{t.column} {text.lower()}" if t.key in SUBJECTS else text
        if rows:
            label, url = f"{name}: {_plural(rows, t.noun)} in {t.where}", f"{t.page}?{t.key}={value}"
        else:  # the table's filter offers only values some row has: the table sorted by the column instead
            label, url = f"{name}: no {t.noun} in the map; {t.where}, by {t.column}", f"{t.page}?sort={slug(t.column)}"
        yield Shortcut(label, url, tuple(sorted(m for m in match if m)))


def search_shortcuts(computed: ComputedMap) -> list[Shortcut]:
    """Every measure of the pooled effects and every quality rating of the reviews, as shortcuts."""
    effects, reviews = effects_table(computed), reviews_table(computed.evidence)
    targets = [
        Target(
            effects,
            "effects/",
            "measure",
            "Measure",
            [(m, m) for m in enum("effects", "measure")],
            "pooled estimate",
            "the table of pooled effects",
        ),
        Target(
            reviews,
            "reviews/",
            "rob",
            "Risk of bias",
            rated(("risk_of_bias", "overall"), ROB_RATINGS),
            "review",
            "the reviews table",
        ),
        Target(
            reviews,
            "reviews/",
            "amstar2",
            "AMSTAR-2",
            rated(("amstar2", "rating"), AMSTAR2_RATINGS),
            "review",
            "the reviews table",
        ),
    ]
    return [s for t in targets for s in _shortcuts(t)]


def shortcuts_json(computed: ComputedMap) -> str:
    """The shortcuts as search.js reads them."""
    data = {"fillers": FILLERS, "shortcuts": [asdict(s) for s in search_shortcuts(computed)]}
    return json.dumps(data, separators=(",", ":")) + "\n"
