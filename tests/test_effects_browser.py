"""The pooled-effects table and the reviews table in headless Chromium, at a laptop's width (1366 px) and
a phone's (390 px): filters and sorting kept in the page's address (a reload or a shared link restores
the view), the CSV of a view, the keyboard, the page without JavaScript, and axe-core.

Needs what tests/test_browser.py needs (tests/browser.py says what); every count expected is derived from
the real records."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest

from evidence_map.judging.grading import ConditionGrade, grade_all
from evidence_map.records.evidence import Evidence
from evidence_map.records.model import Effect, Record
from tests.browser import (
    PHONE,
    Visit,
    axe_violations,
    describe_violations,
    freeze_transitions,
    settle_layout,
    show_column,
    switch_to_dark,
)
from tests.sitebuild import Built

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

Opener = Callable[..., Visit]
WIDE = {"width": 1366, "height": 768}
VIEWPORTS = pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1366", "390"])
EFFECTS = "effects/"
COLUMNS = [
    "Condition",
    "Review",
    "EV sources",
    "Outcome",
    "Domain",
    "Measure",
    "Estimate",
    "95% CI",
    "I²",
    "p",
    "Better when",
    "Flags",
    "Species",
    "Route",
    "Condition verdict",
    "Risk of bias",
    "AMSTAR-2",
]


@pytest.fixture
def visit(visit: Opener) -> Opener:
    """The shared tab opener (tests/conftest.py), at this page's wide viewport, once the table's tools are up."""

    def open_(path: str, viewport: dict[str, int] = WIDE) -> Visit:
        v = visit(path, viewport)
        v.page.locator(".table-tools .count").wait_for()
        return v

    return open_


@pytest.fixture(scope="module")
def grades(evidence: Evidence) -> dict[str, ConditionGrade]:
    return grade_all(evidence.vocab.conditions.ids, evidence.records)


def assert_clean(v: Visit) -> None:
    problems = v.problems()
    assert not problems, "\n".join(problems)


def effects(evidence: Evidence) -> list[tuple[Record, Effect]]:
    return [(r, e) for r in evidence.records for e in r.effects]


def conditions_of(r: Record, e: Effect) -> tuple[str, ...]:
    return (e.condition,) if e.condition else r.conditions


def most_common_condition(evidence: Evidence) -> str:
    """The condition with the most effects (the first in the vocabulary among equals)."""
    counts = {c: sum(c in conditions_of(r, e) for r, e in effects(evidence)) for c in evidence.vocab.conditions.ids}
    return max(counts, key=lambda c: counts[c])


def visible_rows(page: Page) -> list[list[str]]:
    """The rows shown, in their order, each as its cells' text with white space collapsed."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.filterable tbody tr'))
            .filter(r => !r.hidden)
            .map(r => Array.from(r.cells, c => c.textContent.replace(/\\s+/g, ' ').trim()))"""
    )


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.evaluate("location.href")).query)


def aria_sort(page: Page, column: str) -> str | None:
    return page.locator("th", has=page.get_by_role("button", name=f"Sort by {column}")).get_attribute("aria-sort")


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def as_csv_cells(rows: list[list[str]]) -> list[list[str]]:
    """The cells a spreadsheet reads safely: one that would start a formula gets a leading apostrophe."""
    return [["'" + c if c[:1] in ("=", "+", "-", "@", "\t", "\r") else c for c in row] for row in rows]


def download_view(page: Page, tmp_path: Path) -> tuple[str, list[list[str]]]:
    with page.expect_download() as info:
        page.get_by_role("button", name="Download this view as CSV").click()
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    return download.suggested_filename, read_csv(target)


# The address keeps the view ----------------------------------------------------------------------------


@VIEWPORTS
def test_filtering_the_effects_changes_the_address_and_a_reload_restores_the_view(
    visit: Opener, evidence: Evidence, viewport: dict[str, int]
) -> None:
    v = visit(EFFECTS, viewport)
    page = v.page
    every = effects(evidence)
    assert page.locator(".table-tools .count").inner_text() == f"{len(every)} of {len(every)} shown"
    assert query(page) == {}

    condition = most_common_condition(evidence)
    page.get_by_label("Filter by Condition", exact=True).select_option(condition)
    expected = [(r, e) for r, e in every if condition in conditions_of(r, e)]
    assert len(visible_rows(page)) == len(expected) > 1
    assert query(page) == {"condition": [condition]}

    sort = page.get_by_role("button", name="Sort by Estimate")
    sort.click()
    sort.click()
    assert aria_sort(page, "Estimate") == "descending"
    estimates = sorted((e.estimate for _, e in expected), reverse=True)
    shown = visible_rows(page)
    assert [float(row[6].replace("\u2212", "-")) for row in shown] == estimates
    assert query(page) == {"condition": [condition], "sort": ["estimate"], "order": ["desc"]}

    address = page.url
    page.reload()
    page.locator(".table-tools .count").wait_for()
    assert page.url == address
    assert page.get_by_label("Filter by Condition", exact=True).input_value() == condition
    assert aria_sort(page, "Estimate") == "descending"
    assert visible_rows(page) == shown
    assert page.locator(".table-tools .count").inner_text() == f"{len(expected)} of {len(every)} shown"

    # Clearing the filters leaves only the sort in the address.
    page.get_by_label("Filter by Condition", exact=True).select_option("")
    assert query(page) == {"sort": ["estimate"], "order": ["desc"]}
    assert len(visible_rows(page)) == len(every)
    assert_clean(v)


@VIEWPORTS
def test_a_shared_address_opens_the_same_view(
    visit: Opener, evidence: Evidence, grades: dict[str, ConditionGrade], viewport: dict[str, int]
) -> None:
    """An address made elsewhere (typed text, a verdict, a measure) opens filtered in a new tab; a value no
    list offers is ignored, and the address is tidied to what is applied."""
    verdict = grades[most_common_condition(evidence)].overall.label
    verdict_id = verdict.lower().replace(" ", "-")
    expected = [
        (r, e)
        for r, e in effects(evidence)
        if e.measure == "SMD" and any(grades[c].overall.label == verdict for c in conditions_of(r, e))
    ]
    v = visit(f"{EFFECTS}?verdict={verdict_id}&measure=SMD&species=no-such-animal&sort=p", viewport)
    page = v.page
    assert len(visible_rows(page)) == len(expected) > 0
    assert page.get_by_label("Filter by Condition verdict").input_value() == verdict_id
    assert page.get_by_label("Filter by Species").input_value() == ""
    assert aria_sort(page, "p") == "ascending"
    assert query(page) == {"verdict": [verdict_id], "measure": ["SMD"], "sort": ["p"]}

    page.get_by_label("Filter the table by any text").fill(expected[0][1].outcome)
    assert query(page)["q"] == [expected[0][1].outcome]
    shown = visible_rows(page)
    assert 0 < len(shown) <= len(expected)
    page.reload()
    page.locator(".table-tools .count").wait_for()
    assert page.get_by_label("Filter the table by any text").input_value() == expected[0][1].outcome
    assert visible_rows(page) == shown
    assert_clean(v)


@VIEWPORTS
def test_the_reviews_table_keeps_its_filters_in_the_address(
    visit: Opener, evidence: Evidence, viewport: dict[str, int]
) -> None:
    v = visit("reviews/", viewport)
    page = v.page
    rats = [r for r in evidence.records if "rat" in r.species]
    show_column(page, "Species")
    page.get_by_label("Filter by Species").select_option("Rat")
    page.get_by_role("button", name="Sort by Studies").click()
    studies = sorted(r.n_studies for r in rats)
    assert [int(row[5]) for row in visible_rows(page)] == studies
    address = query(page)
    assert "species" in address.pop("cols")[0].split()  # the column chosen to filter on
    assert address == {"species": ["rat"], "sort": ["studies"]}

    page.reload()
    page.locator(".table-tools .count").wait_for()
    assert page.get_by_label("Filter by Species").input_value() == "rat"
    assert aria_sort(page, "Studies") == "ascending"
    assert [int(row[5]) for row in visible_rows(page)] == studies
    assert page.locator(".table-tools .count").inner_text() == f"{len(rats)} of {len(evidence.records)} shown"
    assert_clean(v)


def test_a_charts_link_opens_the_reviews_table_filtered_by_condition_and_source(
    visit: Opener, evidence: Evidence
) -> None:
    """The charts link their marks to reviews/?condition=<id>&source=<id> (evidence_map/publishing/chartlinks.py)."""
    pairs = {(c, s) for r in evidence.records for c in r.conditions for s in r.sources}
    condition, source = max(
        sorted(pairs), key=lambda p: sum(p[0] in r.conditions and p[1] in r.sources for r in evidence.records)
    )
    v = visit(f"reviews/?condition={condition}&source={source}")
    expected = [r for r in evidence.records if condition in r.conditions and source in r.sources]
    names = [row[0] for row in visible_rows(v.page)]
    assert names == [r.label for r in expected]
    assert_clean(v)


# The CSV of a view -------------------------------------------------------------------------------------


@VIEWPORTS
def test_the_csv_of_a_filtered_view_has_exactly_the_visible_rows(
    visit: Opener, evidence: Evidence, viewport: dict[str, int], tmp_path: Path
) -> None:
    v = visit(EFFECTS, viewport)
    page = v.page
    # A species some effects have and others lack, so that the filter hides rows.
    species = next(
        s
        for s in evidence.vocab.species.ids
        if 0 < sum(s in r.species for r, _ in effects(evidence)) < len(effects(evidence))
    )
    show_column(page, "Species")
    page.get_by_label("Filter by Species").select_option(species)
    page.get_by_role("button", name="Sort by Review").click()
    shown = visible_rows(page)
    assert len(shown) == sum(species in r.species for r, _ in effects(evidence)) > 0

    name, table = download_view(page, tmp_path)
    assert name == "effects-view.csv"
    assert table[0] == COLUMNS
    assert table[1:] == as_csv_cells(shown)
    reviews = {r.label for r, _ in effects(evidence) if species in r.species}
    assert {row[1] for row in table[1:]} == reviews
    assert_clean(v)


def test_the_csv_download_works_from_a_file(browser: Browser, built: Built, evidence: Evidence, tmp_path: Path) -> None:
    """Opened from disk (file://), with no server: the view is still saved, from the page itself."""
    context = browser.new_context(viewport=WIDE, accept_downloads=True)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto((built.site / "effects" / "index.html").as_uri() + "?measure=SMD")
        page.locator(".table-tools .count").wait_for()
        smd = [e for _, e in effects(evidence) if e.measure == "SMD"]
        shown = visible_rows(page)
        assert len(shown) == len(smd) > 0
        _, table = download_view(page, tmp_path)
        assert table[1:] == as_csv_cells(shown)
        assert errors == []
    finally:
        context.close()


# The keyboard, no JavaScript, and axe-core --------------------------------------------------------------


def test_the_effects_filters_sort_and_download_work_from_the_keyboard(
    visit: Opener, evidence: Evidence, tmp_path: Path
) -> None:
    v = visit(EFFECTS)
    page = v.page
    page.get_by_label("Filter the table by any text").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Filter by Condition"
    page.keyboard.press("ArrowDown")  # the first condition in the list
    condition = page.evaluate("document.activeElement.value")
    assert condition == next(
        c for c in evidence.vocab.conditions.ids if any(c in conditions_of(r, e) for r, e in effects(evidence))
    )
    assert query(page) == {"condition": [condition]}
    n = sum(condition in conditions_of(r, e) for r, e in effects(evidence))
    assert len(visible_rows(page)) == n

    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Download this view as CSV":
            break
    else:
        pytest.fail("the download button is not reached by Tab from the filters")
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    info.value.save_as(tmp_path / "view.csv")
    assert len(read_csv(tmp_path / "view.csv")) == n + 1

    page.get_by_role("button", name="Sort by I²").focus()
    page.keyboard.press("Enter")
    assert aria_sort(page, "I²") == "ascending"
    assert query(page)["sort"] == ["i2"]
    assert_clean(v)


def test_without_javascript_the_page_is_the_full_table(browser: Browser, site: str, evidence: Evidence) -> None:
    context = browser.new_context(viewport=WIDE, java_script_enabled=False)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.goto(site + EFFECTS)
        assert len(visible_rows(page)) == len(effects(evidence))
        assert page.locator("select").count() > 0  # present in the page, for the script
        assert not page.locator("select").first.is_visible()
        assert page.locator(".table-tools").count() == 0
        headings = page.locator(".filterable thead th").all_inner_texts()
        assert [h.strip() for h in headings] == COLUMNS
    finally:
        context.close()


@VIEWPORTS
def test_axe_finds_no_serious_violations_on_the_effects_page(visit: Opener, viewport: dict[str, int]) -> None:
    """Light and dark palettes, at each width, with a filter and a sort applied."""
    v = visit(f"{EFFECTS}?measure=SMD&sort=estimate", viewport)
    page = v.page
    page.wait_for_load_state("networkidle")
    freeze_transitions(page)
    settle_layout(page)
    found = {"light": axe_violations(page, f"effects-{viewport['width']}-light")}
    switch_to_dark(page)
    settle_layout(page)
    found["dark"] = axe_violations(page, f"effects-{viewport['width']}-dark")
    report = "\n".join(f"[{mode}] {describe_violations(vs)}" for mode, vs in found.items() if vs)
    assert not report, report
    assert_clean(v)
