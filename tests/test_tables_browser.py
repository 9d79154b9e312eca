"""The filterable tables at a desktop and a phone width: the columns that matter shown first,
headings that stay in view, cards on a phone, and filters only on what the table shows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from evidence_map.records.evidence import Evidence
from tests.browser import DESKTOP, PHONE, Visit

Opener = Callable[..., Visit]
WIDE = DESKTOP | {"width": 1366}

COLUMNS = """() => Array.from(document.querySelectorAll('.filterable thead th')).map(th => ({
    name: th.textContent.trim(), priority: +(th.dataset.priority || 1), facet: th.dataset.facet || '',
    shown: getComputedStyle(th).display !== 'none'}))"""
FILTERS = """() => Array.from(document.querySelectorAll('.table-tools select[data-facet]'))
    .filter(s => getComputedStyle(s).display !== 'none').map(s => s.dataset.facet)"""


# True once the page is scrolled and has not moved between two frames.
SCROLLED_AND_STILL = """() => new Promise(done => {
    const y = window.scrollY;
    requestAnimationFrame(() => requestAnimationFrame(() => done(y > 0 && window.scrollY === y)));
})"""


def columns(v: Visit) -> list[dict[str, Any]]:
    return v.page.evaluate(COLUMNS)  # type: ignore[no-any-return]


def test_the_reviews_table_shows_its_key_columns_and_keeps_its_headings_in_view(visit: Opener) -> None:
    v = visit("reviews/", WIDE)
    page = v.page
    cols = columns(v)
    assert all(c["shown"] for c in cols if c["priority"] == 1), cols
    table = page.locator(".filterable table")
    fits = table.evaluate(
        "t => t.getBoundingClientRect().right <= t.closest('.md-content').getBoundingClientRect().right + 1"
    )
    assert fits
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDE["width"]
    page.mouse.wheel(0, 3000)
    # A wheel scroll may be animated: read the header once the page has stopped moving, not after a
    # set time, which a busy machine can outlast.
    page.wait_for_function(SCROLLED_AND_STILL)
    head = page.locator(".filterable thead th").first.bounding_box()
    assert head is not None and 0 <= head["y"] <= 120, head
    assert v.problems() == []


def test_filters_are_offered_only_for_the_columns_shown(visit: Opener) -> None:
    v = visit("effects/", WIDE)
    page = v.page
    cols = columns(v)
    shown_facets = {c["facet"] for c in cols if c["shown"] and c["facet"]}
    hidden_facets = {c["facet"] for c in cols if not c["shown"] and c["facet"]}
    assert hidden_facets, "the effects table hides some filterable columns by default"
    assert set(page.evaluate(FILTERS)) == shown_facets
    # Choosing a column shows it and its filter, and the address keeps the choice.
    facet = sorted(hidden_facets)[0]
    name = next(c["name"] for c in cols if c["facet"] == facet)
    page.locator(".table-columns summary").click()
    page.locator(".table-columns label", has_text=name).locator("input").check()
    assert facet in page.evaluate(FILTERS)
    assert "cols=" in page.url


def test_a_filter_in_the_address_shows_its_column(visit: Opener, evidence: Evidence) -> None:
    species = Counter(s for r in evidence.records for s in r.species if r.effects).most_common(1)[0][0]
    v = visit(f"effects/?species={species}", WIDE)
    cols = {c["facet"]: c for c in columns(v) if c["facet"]}
    assert cols["species"]["shown"]
    assert v.page.locator(".table-tools select[data-facet='species']").input_value() == species


def test_rows_are_cards_on_a_phone(visit: Opener) -> None:
    v = visit("effects/", PHONE)
    page = v.page
    cards: list[dict[str, Any]] = page.evaluate(
        """() => Array.from(document.querySelectorAll('.filterable tbody tr')).slice(0, 20).map(tr => ({
            display: getComputedStyle(tr).display,
            fields: Array.from(tr.cells).filter(td => getComputedStyle(td).display !== 'none')
                .map(td => [td.dataset.label, getComputedStyle(td).display, td.getBoundingClientRect().right])}))"""
    )
    names = [c["name"] for c in columns(v) if c["shown"]]
    assert all(c["priority"] > 1 for c in columns(v) if not c["shown"])
    for card in cards:
        assert card["display"] == "block"
        assert [f[0] for f in card["fields"]] == names
        assert all(f[1] == "block" and f[2] <= PHONE["width"] for f in card["fields"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
