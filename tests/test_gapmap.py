"""The evidence gap map's cells, derived again from the records: who sits in which cell, and the
colour each cell takes."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from evidence_map.judging.certainty import NOT_RATED
from evidence_map.judging.computed import ComputedMap, compute_map
from evidence_map.judging.grading import DOMAINS
from evidence_map.publishing.gapmap import NO_ESTIMATE, bubble, gap_map_views, used_levels
from evidence_map.publishing.renderer import CERTAINTY_LEVELS
from evidence_map.records.evidence import Evidence
from tests.sitebuild import Built


class _GapPage(HTMLParser):
    """The cells' links and, per cell panel, the reviews it lists."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str]] = []
        self.panels: dict[str, int] = {}
        self._panel: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "data-panel" in a:
            self.cells.append(a)
        elif tag == "section" and a.get("class") == "gap-panel":
            self._panel = a["id"]
            self.panels[self._panel] = 0
        elif tag == "li" and "data-review" in a and self._panel:
            self.panels[self._panel] += 1


@pytest.fixture(scope="module")
def computed(evidence: Evidence) -> ComputedMap:
    return compute_map(evidence)


def test_each_review_sits_in_the_outcome_cells_its_estimates_name(computed: ComputedMap) -> None:
    outcomes, _ = gap_map_views(computed)
    assert [c for c, _ in outcomes.columns] == [*DOMAINS, NO_ESTIMATE]
    for row in outcomes.rows:
        for record in computed.evidence.for_condition(row.condition):
            domains = {e.domain for e in record.effects_for(row.condition)} or {NO_ESTIMATE}
            holding = {c.column for c in row.cells if record.id in {e.record.id for e in c.entries}}
            assert holding == domains, (record.id, row.condition)
        assert row.reviews == len(computed.evidence.for_condition(row.condition))


def test_the_source_view_crosses_each_condition_with_the_sources_its_reviews_used(computed: ComputedMap) -> None:
    _, sources = gap_map_views(computed)
    used = {s for r in computed.records for s in r.sources}
    assert {c for c, _ in sources.columns} == used
    for row in sources.rows:
        for cell in row.cells:
            expected = [r.id for r in computed.evidence.for_condition(row.condition) if cell.column in r.sources]
            assert [e.record.id for e in cell.entries] == expected
            assert cell.certainty == computed.summaries[row.condition].certainty


def test_a_cell_takes_the_certainty_of_its_condition_and_outcome(computed: ComputedMap) -> None:
    outcomes, _ = gap_map_views(computed)
    for row in outcomes.rows:
        rated = {f.domain: f.certainty for f in computed.summaries[row.condition].rows}
        for cell in row.cells:
            assert cell.certainty == rated.get(cell.column, NOT_RATED)


def test_the_legend_names_only_the_colours_the_map_uses(computed: ComputedMap) -> None:
    views = gap_map_views(computed)
    levels = [level.name for level in used_levels(views, CERTAINTY_LEVELS)]
    used = {c.certainty for v in views for c in v.cells}
    assert set(levels) == used
    assert levels == [x for x in CERTAINTY_LEVELS if x in used]


def test_a_circle_grows_with_the_square_root_of_its_count() -> None:
    assert bubble(4, 4) == "1.00"
    assert bubble(1, 4) == "0.50"
    assert bubble(0, 0) == "0.00"


def test_the_built_page_lists_as_many_reviews_in_a_cell_as_its_circle_counts(
    built: Built, computed: ComputedMap
) -> None:
    page = _GapPage()
    page.feed(built.html("gapmap"))
    views = gap_map_views(computed)
    assert len(page.cells) == sum(len(v.cells) for v in views)
    assert set(page.panels) == {c.anchor for v in views for c in v.cells}
    for a in page.cells:
        listed = page.panels[a["data-panel"]]
        assert listed == int(a["data-n"]), a["data-panel"]
        assert re.search(rf": {listed} reviews?,", a["aria-label"])


def test_the_gap_map_and_the_pooled_effects_are_in_the_top_menu(built: Built) -> None:
    tabs = re.findall(r'class="md-tabs__link"[^>]*>\s*([^<]+?)\s*<', built.html(""))
    assert "Gap map" in tabs
    assert "Pooled effects" in tabs


def test_the_cells_links_to_the_table_carry_plain_ids(built: Built) -> None:
    """The links from a cell to the reviews table name the condition and source as they are, as the
    table's filters read them from the address (an escaped hyphen, `&#45;`, would be a `#` there)."""
    page = (built.site / "gapmap" / "index.html").read_text(encoding="utf-8")
    targets = [html.unescape(t) for t in re.findall(r'href="([^"]*reviews/\?[^"]*)"', page)]
    assert any("&source=" in t for t in targets) and any("&source=" not in t for t in targets)
    assert [
        t for t in targets if not re.fullmatch(r"\.\./reviews/\?condition=[a-z0-9-]+(&source=[a-z0-9-]+)?", t)
    ] == []


def test_a_cells_permanent_link_is_the_address_that_opens_it(built: Built) -> None:
    """Each cell's heading links to the cell's own anchor, which the map opens when an address names
    it, and each list of cells to itself; no heading of the map links to an anchor that is not there."""
    page = html.unescape((built.site / "gapmap" / "index.html").read_text(encoding="utf-8"))
    panels = re.findall(
        r'<section class="gap-panel" id="([^"]+)">\n<h4>[^<]*<a class="headerlink" href="#([^"]+)"', page
    )
    assert panels and all(anchor == target for anchor, target in panels)
    assert len(panels) == page.count('<section class="gap-panel"')
    lists = re.findall(r'<div class="gapmap-cells" id="([^"]+)">\n<h3>[^<]*<a class="headerlink" href="#([^"]+)"', page)
    assert len(lists) == 2 and all(anchor == target for anchor, target in lists)
    ids = set(re.findall(r'\sid="([^"]+)"', page))
    assert {t for t in re.findall(r'class="headerlink" href="#([^"]+)"', page)} <= ids
