"""The evidence gap map as a visitor uses it, at a desktop and a phone width: filtered, crossed
with the keyboard, a cell opened, and its text readable. Expectations come from the records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from evidence_map.judging.computed import compute_map
from evidence_map.publishing.gapmap import gap_map_views
from evidence_map.records.evidence import Evidence
from tests.browser import DESKTOP, PHONE, Visit

Opener = Callable[..., Visit]
WIDTHS = pytest.mark.parametrize("viewport", [DESKTOP | {"width": 1366}, PHONE], ids=["1366", "390"])


def _most_used_source(evidence: Evidence) -> str:
    return Counter(s for r in evidence.records for s in r.sources).most_common(1)[0][0]


@WIDTHS
def test_the_gap_map_filters_and_opens_a_cell(visit: Opener, evidence: Evidence, viewport: dict[str, int]) -> None:
    source = _most_used_source(evidence)
    outcomes, _ = gap_map_views(compute_map(evidence))
    cells = [c for c in outcomes.cells if any(source in e.record.sources for e in c.entries)]
    reviews = {e.record.id for c in cells for e in c.entries if source in e.record.sources}

    v = visit(f"gapmap/?source={source}", viewport)
    page = v.page
    count = page.locator(".gapmap-count")
    assert count.inner_text() == f"Filtered: {len(reviews)} reviews in {len(cells)} cells."
    shown = page.locator(".gapmap-view:not([hidden]) a.gap-cell:not([hidden])")
    assert shown.count() == len(cells)

    first = cells[0]
    matching = [e.record.id for e in first.entries if source in e.record.sources]
    link = page.locator(f"a.gap-cell[data-panel='{first.anchor}']")
    assert link.inner_text().strip() == str(len(matching))
    link.evaluate("a => a.scrollIntoView({block: 'center'})")
    link.click()
    dialog = page.locator("dialog.gap-dialog")
    dialog.wait_for(state="visible")
    listed = dialog.locator("li[data-review]:not([hidden])")
    assert [listed.nth(i).get_attribute("data-review") for i in range(listed.count())] == matching
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert page.evaluate("document.activeElement.getAttribute('data-panel')") == first.anchor

    page.locator(".gapmap-reset").click() if page.locator(".gapmap-reset").is_visible() else page.goto(
        v.base + "gapmap/"
    )
    everyone = {e.record.id for c in outcomes.cells for e in c.entries}
    assert count.inner_text() == f"{len(everyone)} reviews in {len(outcomes.cells)} cells."
    assert v.problems() == []


@WIDTHS
def test_the_gap_map_is_one_tab_stop_with_arrow_keys_inside(visit: Opener, viewport: dict[str, int]) -> None:
    v = visit("gapmap/", viewport)
    page = v.page
    page.locator(".gapmap-tools summary").focus()
    inside: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        where = page.evaluate(
            """() => { const a = document.activeElement;
                return a.closest('table.gapmap-grid') ? 'grid' : a.closest('.gapmap') ? 'tools' : 'out'; }"""
        )
        if where == "out":
            break
        inside.append(where)
    assert inside.count("grid") == 1, inside

    page.locator(".gapmap-view:not([hidden]) table.gapmap-grid [tabindex='0']").focus()
    start = page.evaluate("document.activeElement.closest('tr').rowIndex")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    moved: dict[str, Any] = page.evaluate(
        """() => { const a = document.activeElement;
            return {row: a.closest('tr').rowIndex, grid: !!a.closest('table.gapmap-grid'), tab: a.getAttribute('tabindex')}; }"""
    )
    assert moved["grid"] and moved["row"] > start and moved["tab"] == "0"
    assert page.locator("table.gapmap-grid [tabindex='0']").count() == 2  # one per view's map (one shown)


@WIDTHS
def test_the_gap_map_text_is_readable(visit: Opener, viewport: dict[str, int]) -> None:
    v = visit("gapmap/", viewport)
    smallest = v.page.evaluate(
        """() => {
            const sizes = [];
            const walker = document.createTreeWalker(document.querySelector('.gapmap'), NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
                const el = walker.currentNode.parentElement;
                if (!walker.currentNode.textContent.trim() || !el.offsetParent) continue;
                if (el.closest('.visually-hidden')) continue;
                sizes.push(parseFloat(getComputedStyle(el).fontSize));
            }
            return Math.min(...sizes);
        }"""
    )
    assert smallest >= 11
    assert v.page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
