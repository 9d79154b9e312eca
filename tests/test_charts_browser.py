"""The charts as a visitor uses them: crossed by keyboard in one Tab stop, their numbers shown on
focus and on a tap, readable on a phone (or replaced by their table), and their links reaching
pages. Expectations are read from the chart files the build wrote."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import DESKTOP, PHONE, Visit
from tests.sitebuild import Built

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

Opener = Callable[..., Visit]
MIN_TEXT = 11
HEATMAP = 'figure.chart--interactive object[data$="effectiveness-heatmap.svg"]'
CHART_PAGES = ["", "conditions/", "conditions/spinal-cord-injury/", "sources/bm/", "quality/", "reviews/"]


def smallest_font(svg: Path) -> float:
    return min(float(x) for x in re.findall(r'font-size="([\d.]+)px"', svg.read_text(encoding="utf-8")))


def drawn_width(svg: Path) -> float:
    match = re.search(r'<svg\b[^>]*\swidth="([\d.]+)"', svg.read_text(encoding="utf-8"))
    assert match, svg
    return float(match.group(1))


@pytest.mark.parametrize("path", CHART_PAGES)
def test_no_chart_text_under_11_px_on_a_phone(visit: Opener, built: Built, path: str) -> None:
    """At 390 px each chart is drawn with its smallest text at 11 px or more, or gives its place
    to its table; nothing scrolls sideways."""
    v = visit(path, PHONE)
    page = v.page
    figures = page.locator("figure.chart")
    assert figures.count() >= 1
    for figure in figures.all():
        figure.scroll_into_view_if_needed()
        figure.locator("img, object").first.evaluate(
            "el => new Promise(ok => (el.tagName === 'IMG' ? el.complete && el.naturalWidth : "
            "el.closest('figure').classList.contains('chart--fitted')) ? ok() : el.addEventListener('load', ok))"
        )
        page.wait_for_timeout(50)
        src = figure.locator("img, object").first.evaluate("el => el.getAttribute('src') || el.getAttribute('data')")
        svg = built.site / "assets" / "charts" / Path(src).name
        chart = figure.locator("img:not(object img), object").first
        if figure.evaluate("f => f.classList.contains('chart--as-table')"):
            assert not chart.is_visible()
            table = figure.locator("xpath=following-sibling::details[1]")
            assert table.evaluate("d => d.open") and table.locator("table").is_visible()
            assert "too small" in figure.locator(".chart-small-note").inner_text()
        else:
            shown = chart.evaluate("el => el.getBoundingClientRect().width")
            scale = min(1.0, shown / drawn_width(svg))
            assert smallest_font(svg) * scale >= MIN_TEXT - 0.01, (svg.name, shown)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert v.problems() == []


def draw_the_heatmap_anyway(page: Page) -> Locator:
    """On a phone, where the heatmap gives its place to its table: its figure, drawn after all."""
    figure = page.locator("figure.chart--interactive")
    figure.scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('figure.chart--interactive.chart--fitted')")
    figure.locator(".chart-small-note button").click()
    return figure


def test_a_wide_chart_drawn_anyway_on_a_phone_keeps_to_the_screen(visit: Opener) -> None:
    v = visit("", PHONE)
    page = v.page
    draw_the_heatmap_anyway(page)
    obj = page.locator(HEATMAP)
    obj.wait_for(state="visible")
    box = obj.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _in_chart(page: object) -> str:
    return page.evaluate(  # type: ignore[attr-defined, no-any-return]
        """() => { const a = document.activeElement;
            if (a.tagName !== 'OBJECT') return 'page';
            const inner = a.contentDocument.activeElement;
            return inner && inner.closest && inner.closest('a') ? 'mark' : 'object'; }"""
    )


def test_the_heatmap_is_one_tab_stop_and_arrows_move_between_its_marks(visit: Opener) -> None:
    v = visit("", DESKTOP | {"width": 1366})
    page = v.page
    page.wait_for_function("() => document.querySelector('figure.chart--interactive.chart--fitted')")
    before = page.locator("figure.chart--interactive").evaluate(
        "f => { let e = f.previousElementSibling; while (e && !e.matches('details')) e = e.previousElementSibling; return !!e; }"
    )
    assert before
    page.locator("figure.chart--interactive").evaluate(
        "f => { let e = f.previousElementSibling; while (!e.matches('details')) e = e.previousElementSibling;"
        " e.querySelector('summary').focus(); }"
    )
    stops = []
    for _ in range(6):
        page.keyboard.press("Tab")
        where = _in_chart(page)
        stops.append(where)
        if where == "page" and len(stops) > 1:
            break
    assert stops.count("mark") == 1, stops

    page.keyboard.press("Shift+Tab")
    assert _in_chart(page) == "mark"
    frame = next(f for f in page.frames if f.url.endswith("effectiveness-heatmap.svg"))
    first = frame.evaluate("document.activeElement.querySelector('title').textContent")
    tip = page.locator("figure.chart--interactive .chart-tip")
    assert tip.inner_text() == first
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    second = frame.evaluate("document.activeElement.querySelector('title').textContent")
    assert second != first
    assert tip.inner_text() == second
    assert frame.evaluate("document.querySelectorAll('a[tabindex=\"0\"]').length") == 1
    page.keyboard.press("Enter")
    page.wait_for_url("**/conditions/**")


def test_a_tap_shows_a_marks_numbers_and_a_second_tap_opens_it(visit: Opener) -> None:
    v = visit("", PHONE)
    page = v.page
    figure = draw_the_heatmap_anyway(page)
    page.wait_for_function("() => document.querySelector('figure.chart--interactive.chart--fitted')")
    page.locator(HEATMAP).scroll_into_view_if_needed()
    frame = next(f for f in page.frames if f.url.endswith("effectiveness-heatmap.svg"))
    page.wait_for_function(
        "() => { const o = document.querySelector('figure.chart--interactive object');"
        " return o.contentDocument && o.contentDocument.documentElement.hasAttribute('data-marks-ready'); }"
    )
    mark = frame.locator('a[*|href*="conditions/spinal-cord-injury/"] text').first  # the label lies over its cell
    title = frame.locator('a[*|href*="conditions/spinal-cord-injury/"] title').first.text_content()
    url = page.url
    mark.tap()
    tip = figure.locator(".chart-tip")
    tip.wait_for(state="visible")
    assert tip.inner_text() == title
    assert page.url == url
    mark.tap()
    page.wait_for_url("**/conditions/spinal-cord-injury/#by-outcome-domain")


def test_image_charts_are_not_links_to_their_raw_files(built: Built) -> None:
    for page in ["", "conditions/spinal-cord-injury/", "quality/", "sources/bm/"]:
        html = built.html(page)
        assert not re.search(r'<a [^>]*href="[^"]*assets/charts/[^"]+\.svg"', html), page
