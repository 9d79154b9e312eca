"""The built site as a visitor meets it: in headless Chromium, with a keyboard, through axe-core's view of
each page, and through a check of every link and of the HTML between the built files.

The browser tests need Debian's chromium (at /usr/bin/chromium, or $CHROMIUM) and Python playwright: one
browser serves the whole session (tests/conftest.py), against the session's one real build (`built`) served
on 127.0.0.1.
Without them the tests skip locally and fail when CI=true. Screenshots and axe reports are kept in
test-artifacts/ at the repository root."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
import yaml

from evidence_map.judging.computed import compute_map
from evidence_map.records.evidence import Evidence
from tests.browser import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    Visit,
    axe_violations,
    broken_links,
    describe_violations,
    freeze_transitions,
    open_search,
    pagefind_search,
    require,
    search_results,
    serve,
    settle_layout,
    show_column,
    site_url,
    switch_to_dark,
    unavailable,
)
from tests.sitebuild import ROOT, SEARCH_CASES, Built, parse

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Frame, Page

Opener = Callable[..., Visit]

SCREENSHOTS = ARTIFACTS / "screenshots"
SCI = "conditions/spinal-cord-injury/"


def assert_clean(v: Visit) -> None:
    problems = v.problems()
    assert not problems, "\n".join(problems)


def h1(page: Page) -> str:
    """The page's heading, without its permalink sign."""
    return page.locator("h1").inner_text().rstrip("¶").strip()


def visible_rows(page: Page) -> list[list[str]]:
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.filterable tbody tr'))
            .filter(r => !r.hidden).map(r => Array.from(r.cells, c => c.textContent.trim()))"""
    )


# End to end -------------------------------------------------------------------------------------------


def search_requests(v: Visit) -> list[str]:
    return [u for u in v.requests if "/pagefind/" in u or "search_index" in u]


def test_home_page_loads_offline_without_errors(visit: Opener) -> None:
    v = visit("")
    v.page.wait_for_load_state("networkidle")
    assert v.page.title().startswith("Home - MSC-EV Living Evidence Map")
    assert h1(v.page) == "MSC-EV Living Evidence Map"
    assert search_requests(v) == [], "search was loaded before anyone searched"
    problems = v.problems()
    assert {urlsplit(u).hostname for u in v.requests} == {"127.0.0.1"}, "\n".join(problems)
    assert not problems, "\n".join(problems)


def test_a_request_to_another_host_fails_and_is_reported(visit: Opener) -> None:
    """The browser of these tests knows no host but the local server: what the site would fetch from
    elsewhere fails, as it would offline, and the visit lists it."""
    v = visit("")
    failure = v.page.evaluate("fetch('https://example.org/font.woff2').then(() => 'fetched', e => String(e))")
    assert failure.startswith("TypeError"), failure
    assert v.offsite == ["https://example.org/font.woff2"]
    assert "request to another host: https://example.org/font.woff2" in v.problems()


def test_search_loads_when_used_and_reaches_the_spinal_cord_injury_page(visit: Opener) -> None:
    v = visit("")
    v.page.wait_for_load_state("networkidle")
    assert search_requests(v) == []
    open_search(v.page)
    v.page.keyboard.type("spinal")
    result = v.page.locator("pagefind-modal .pf-result", has=v.page.get_by_role("link", name="Spinal Cord Injury"))
    assert "Condition" in result.first.locator(".pf-result-title").inner_text()  # the kind of page
    assert search_requests(v), "the search made no request to /pagefind/"
    assert {urlsplit(u).hostname for u in v.requests} == {"127.0.0.1"}
    result.first.get_by_role("link", name="Spinal Cord Injury").click()
    v.page.wait_for_url(f"**/{SCI}")
    assert v.path() == SCI
    assert h1(v.page) == "Spinal Cord Injury"
    assert_clean(v)


@pytest.fixture(scope="module")
def search_page(browser: Browser, site: str) -> Iterator[Visit]:
    """One open page for the queries through Pagefind's API: each loads only the index parts it needs,
    so they need no fresh page of their own (opening one cost more than the query)."""
    v = Visit.open(browser, site)
    try:
        v.goto("about/")
        yield v
    finally:
        v.close()


@pytest.mark.parametrize(
    ("term", "page"),
    SEARCH_CASES,
)
def test_pagefind_finds(search_page: Visit, term: str, page: str) -> None:
    """Queries through Pagefind's own JavaScript API, on the index the build wrote."""
    results = pagefind_search(search_page.page, search_page.base, term)
    assert page in [r["url"] for r in results]
    assert_clean(search_page)


def test_pagefind_ranks_a_condition_page_first_for_its_name(visit: Opener) -> None:
    v = visit("")
    [first, *_] = pagefind_search(v.page, v.base, "spinal cord injury")
    assert first["url"] == "/conditions/spinal-cord-injury/"
    assert first["meta"]["title"] == "Spinal Cord Injury" and first["meta"]["kind"] == "Condition"
    assert "<mark>" in first["excerpt"]


# The dialog lists its results in their ranked order at once, each as a placeholder carrying its rank
# (data-pf-result-index) that becomes a link when that result's data arrives, in any order.
FIRST_RESULTS_DRAWN = """n => {
    const ranked = document.querySelectorAll('pagefind-modal pagefind-results [data-pf-result-index]');
    return ranked.length > 0 && Array.from(ranked).slice(0, n).every(r => r.querySelector('.pf-result-link'));
}"""


def dialog_results(page: Page, query: str, first: int = 3) -> list[str]:
    """Type a query into the open search dialog; the result links it shows, in order, once the `first`
    ranked results are drawn (reading sooner can miss a result whose data came after the next one's)."""
    page.locator("pagefind-modal input[type=search]").fill(query)
    page.wait_for_function(FIRST_RESULTS_DRAWN, arg=first)
    hrefs: list[str] = page.locator("pagefind-modal .pf-result-link").evaluate_all(
        "as => as.map(a => a.getAttribute('href'))"
    )
    return hrefs


@pytest.mark.parametrize("query", ["add a review", "add", "submit", "new review"])
def test_a_visitor_who_wants_to_add_a_review_finds_the_contribute_page(visit: Opener, query: str) -> None:
    v = visit("")
    open_search(v.page)
    assert "/contribute/" in dialog_results(v.page, query)[:3]
    assert_clean(v)


def test_excerpts_come_from_what_a_page_shows(search_page: Visit, built: Built, evidence: Evidence) -> None:
    """No excerpt shows a page's hidden search words, and the explanations every condition page
    repeats are not what the condition results show: each shows its own text."""
    conditions = {f"/conditions/{c}/" for c in evidence.vocab.conditions.ids}
    hidden = {}
    for url in conditions:
        html_text = (built.site / url.strip("/") / "index.html").read_text(encoding="utf-8")
        hidden[url] = re.findall(r'<p data-pagefind-meta="[a-z]+">(.*?)</p>', html_text)
    for query in ("AMSTAR low", "certainty", "exosome"):
        results = [r for r in pagefind_search(search_page.page, search_page.base, query) if r["url"] in conditions]
        assert len(results) > 1, query
        excerpts = [re.sub(r"</?mark>", "", r["excerpt"]) for r in results[:10]]
        assert len(set(excerpts)) == len(excerpts), query
        for r, text in zip(results, excerpts, strict=False):
            for words in hidden[r["url"]]:
                assert html.unescape(words)[:40] not in text, (query, r["url"])
    assert_clean(search_page)


def measure_rows(evidence: Evidence, measure: str) -> int:
    return sum(e.measure == measure for r in evidence.records for e in r.effects)


SHORTCUTS = [
    (
        "SMD",
        "effects/",
        "measure",
        "SMD",
        lambda ev: measure_rows(ev, "SMD"),
        lambda ev: sum(len(r.effects) for r in ev.records),
    ),
    (
        "AMSTAR low",
        "reviews/",
        "amstar2",
        "low",
        lambda ev: sum(r.amstar2_rating == "low" for r in ev.records),
        lambda ev: len(ev.records),
    ),
    (
        "risk of bias high",
        "reviews/",
        "rob",
        "high",
        lambda ev: sum(r.rob_overall == "high" for r in ev.records),
        lambda ev: len(ev.records),
    ),
]


@pytest.mark.parametrize(
    ("query", "path", "key", "value", "matching", "total"), SHORTCUTS, ids=[c[0] for c in SHORTCUTS]
)
def test_a_measure_or_quality_term_leads_to_the_table_of_what_matches(
    visit: Opener,
    evidence: Evidence,
    query: str,
    path: str,
    key: str,
    value: str,
    matching: Callable[[Evidence], int],
    total: Callable[[Evidence], int],
) -> None:
    """The dialog's first link goes to the table filtered through its address; what no row has leads to
    the whole table sorted by that column, and the link says there is none."""
    v = visit("")
    page = v.page
    open_search(page)
    dialog_results(page, query)
    shortcut = page.locator("pagefind-modal .site-search__shortcuts a")
    assert shortcut.count() == 1
    # First in the dialog's reading order: above every result.
    assert shortcut.evaluate(
        "a => a.compareDocumentPosition(document.querySelector('pagefind-modal .pf-result-link')) & 4"
    )
    n, everything = matching(evidence), total(evidence)
    label = shortcut.inner_text()
    shortcut.click()
    page.wait_for_url(f"**/{path}?**")
    count = page.locator(".table-tools .count")
    if n:
        assert (v.path(), urlsplit(page.url).query) == (path, f"{key}={value}") and str(n) in label
        assert page.locator(f".table-tools select[data-facet={key}]").input_value() == value
        assert count.inner_text() == f"{n} of {everything} shown" and len(visible_rows(page)) == n
    else:
        assert "no " in label and v.path() == path and f"{key}=" not in urlsplit(page.url).query
        assert count.inner_text() == f"{everything} of {everything} shown"
        assert page.locator("th[aria-sort=ascending]").count() == 1
    assert_clean(v)


def test_the_conditions_table_sorts_verdict_and_certainty_by_their_scale(visit: Opener, evidence: Evidence) -> None:
    from evidence_map.judging.grading import VERDICTS

    computed = compute_map(evidence)
    levels = [*computed.rules.certainty.levels, "not rated"]
    v = visit("conditions/")
    page = v.page
    n = len(evidence.vocab.conditions.ids)
    assert page.locator(".table-tools .count").inner_text() == f"{n} of {n} shown"
    header = [c.strip() for c in page.locator(".filterable thead th").all_inner_texts()]
    column = {name: header.index(name) for name in ("Condition", "Organ system", "Verdict", "Certainty")}
    for name, scale in (("Verdict", list(VERDICTS)), ("Certainty", levels)):
        page.get_by_role("button", name=f"Sort by {name}").click()
        ranks = [scale.index(row[column[name]]) for row in visible_rows(page)]
        assert ranks == sorted(ranks) and len(ranks) == n, name
        page.get_by_role("button", name=f"Sort by {name}").click()
        assert [scale.index(row[column[name]]) for row in visible_rows(page)] == sorted(ranks, reverse=True)
    system = evidence.vocab.conditions.terms[0].category
    page.get_by_label("Filter by Organ system").select_option(system)
    rows = visible_rows(page)
    name = evidence.vocab.categories[system]
    assert {row[column["Organ system"]] for row in rows} == {name}
    assert len(rows) == sum(t.category == system for t in evidence.vocab.conditions.terms)
    assert f"system={system}" in urlsplit(page.url).query
    assert_clean(v)


def test_search_works_under_the_sites_sub_path(browser: Browser, built: Built, tmp_path: Path) -> None:
    """Published at site_url (…/evidence-map/), search loads from there and its links stay under it."""
    prefix = urlsplit(site_url()).path.strip("/")
    assert prefix
    (tmp_path / prefix).symlink_to(built.site, target_is_directory=True)
    with serve(tmp_path) as host:
        v = Visit.open(browser, host)
        try:
            v.goto(f"{prefix}/conditions/sepsis/")
            open_search(v.page)
            v.page.keyboard.type("spinal")
            link = v.page.locator("pagefind-modal .pf-result-link", has_text="Spinal Cord Injury").first
            assert link.get_attribute("href") == f"/{prefix}/{SCI}"
            link.click()
            v.page.wait_for_url(f"**/{prefix}/{SCI}")
            assert h1(v.page) == "Spinal Cord Injury"
            assert all(urlsplit(u).path.startswith(f"/{prefix}/") for u in v.requests), v.requests
            assert_clean(v)
        finally:
            v.close()


def wait_for_server(url: str, server: subprocess.Popen[bytes], log: Path, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (OSError, urllib.error.URLError):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the live preview did not start:\n{log.read_text(encoding='utf-8')}")
            time.sleep(0.5)


def test_the_live_preview_says_search_needs_the_built_site(browser: Browser, built: Built, tmp_path: Path) -> None:
    """`build.py serve` has no search index: the search button says so instead of failing silently.
    It rebuilds through the page cache: started on the session's work folder, it converts almost no
    page again, and after a record is edited, only the pages that show it. It builds once per edit,
    when the pages are regenerated, never on a page written while they are."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    evidence, work, log = tmp_path / "evidence", tmp_path / "work", tmp_path / "serve.log"
    shutil.copytree(ROOT / "evidence", evidence)
    shutil.copytree(built.work, work)  # the generated pages, the chart cache and the page cache
    host, prefix = f"http://127.0.0.1:{port}/", urlsplit(site_url()).path.lstrip("/")
    cmd = [sys.executable, "build.py", "serve", "--evidence", str(evidence), "--work", str(work)]
    cmd += ["--dev-addr", f"127.0.0.1:{port}"]
    with open(log, "wb") as out:
        server = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def page_cache() -> dict[str, int]:
        counts: dict[str, int] = json.loads((work / "page-cache" / "last-build.json").read_text(encoding="utf-8"))
        return counts

    try:
        wait_for_server(host + prefix, server, log)
        first = page_cache()
        assert first["conversions reused"] > 10 * first["converted"], first
        v = Visit.open(browser, host)  # the preview's live reload is at the host's root
        try:
            v.goto(prefix)
            v.page.get_by_role("button", name="Search").click()
            note = v.page.get_by_role("dialog", name="Search is not available here")
            note.wait_for()
            assert "build.py build" in note.inner_text()
            v.page.keyboard.press("Escape")
            note.wait_for(state="hidden")
            assert v.page.evaluate("document.activeElement.classList.contains('site-search__button')")
            # The preview has no pagefind/ folder: those requests, and only those, fail.
            assert v.failed and all("/pagefind/" in f for f in v.failed), v.failed
            assert not v.offsite and not v.page_errors
        finally:
            v.close()

        # A generated page written, as a regeneration writes them one by one: no build starts.
        home = work / "docs" / "index.md"
        home.write_bytes(home.read_bytes())
        time.sleep(2)
        assert "Building documentation" not in log.read_text(encoding="utf-8").split("Serving on", 1)[1]

        record = sorted(evidence.glob("*.yaml"))[0]
        data = yaml.safe_load(record.read_text(encoding="utf-8"))
        data["summary"] = data["summary"].rstrip() + " Zebrafinch sentence added by the test."
        record.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        review = f"{host}{prefix}reviews/{data['id']}/"
        deadline = time.monotonic() + 90
        while "Zebrafinch sentence" not in urllib.request.urlopen(review, timeout=10).read().decode("utf-8"):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the preview did not show the edit:\n{log.read_text(encoding='utf-8')}")
            time.sleep(0.5)
        edited = page_cache()
        total = edited["converted"] + edited["conversions reused"]
        assert 0 < edited["converted"] < total / 4, edited
        # One build per edit, started once the pages were regenerated, not while they were written.
        time.sleep(2)  # time enough for a second build to have started
        after_start = log.read_text(encoding="utf-8").split("Serving on", 1)[1]
        steps = re.findall(r"Building documentation|pages regenerated", after_start)
        assert steps == ["pages regenerated", "Building documentation"], steps

        # An invalid edit: the problem is reported, and the preview keeps the last good pages.
        record.write_text(record.read_text(encoding="utf-8").replace("n_studies:", "n_studies: many #", 1))
        deadline = time.monotonic() + 60
        while "preview keeps the last good pages" not in log.read_text(encoding="utf-8"):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the preview did not report the invalid record:\n{log.read_text(encoding='utf-8')}")
            time.sleep(0.2)
        time.sleep(1)
        after_start = log.read_text(encoding="utf-8").split("Serving on", 1)[1]
        assert f"{record.name}:" in after_start and "n_studies" in after_start
        assert after_start.count("Building documentation") == 1
        assert "Zebrafinch sentence" in urllib.request.urlopen(review, timeout=10).read().decode("utf-8")
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # build.py and the mkdocs server it started
        server.wait(timeout=30)
    assert "search works in the site `build.py build` makes" in log.read_text(encoding="utf-8")


def test_a_condition_page_opens_its_reviews(visit: Opener, evidence: Evidence) -> None:
    v = visit(SCI)
    reviews = v.page.locator("article a[href*='/reviews/']:not([href$='/reviews/'])")
    linked = {re.sub(r".*/reviews/([^/]+)/$", r"\1", h) for h in reviews.evaluate_all("as => as.map(a => a.href)")}
    assert linked == {r.id for r in evidence.for_condition("spinal-cord-injury")}
    v.page.locator("article").get_by_role("link", name="Ye et al. (2024)").first.click()
    v.page.wait_for_url("**/reviews/ye-2024/")
    assert h1(v.page) == "Ye et al. (2024)"
    assert v.page.get_by_role("link", name="Spinal Cord Injury").count() >= 1
    assert_clean(v)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_condition_page_answers_how_sure_before_the_verdict_machinery(
    visit: Opener, evidence: Evidence, viewport: dict[str, int]
) -> None:

    expected = compute_map(evidence).summaries["spinal-cord-injury"]
    v = visit(SCI, viewport)
    page = v.page
    headings = [h.rstrip("¶").strip() for h in page.locator("article h2").all_inner_texts()]
    assert headings.index("How sure are we") < headings.index("How this was judged")
    line = page.locator("article p", has_text="Bottom line.").first
    assert line.inner_text().startswith("Bottom line. ")
    assert expected.bottom_line.split(";")[0] in line.inner_text()
    # The answer is on the first screen or just below it, at both widths: no verdict machinery first.
    top = line.evaluate("e => e.getBoundingClientRect().top + window.scrollY")
    assert top < 1.5 * viewport["height"], top
    if expected.rows:
        assert page.locator("article .certainty").first.inner_text().strip() == expected.rows[0].certainty
    assert_clean(v)


def test_the_reviews_table_filters_and_sorts(visit: Opener, evidence: Evidence) -> None:
    v = visit("reviews/")
    page = v.page
    count = page.locator(".table-tools .count")
    n = len(evidence.records)
    assert count.inner_text() == f"{n} of {n} shown"
    assert len(visible_rows(page)) == n

    page.get_by_label("Filter the table by any text").fill("spinal")
    sci = [r for r in evidence.records if "spinal-cord-injury" in r.conditions]
    rows = visible_rows(page)
    assert len(rows) == len(sci) and all("Spinal Cord Injury" in row[2] for row in rows)
    assert count.inner_text() == f"{len(sci)} of {n} shown"

    page.get_by_label("Filter by Year").select_option("2024")
    assert len(visible_rows(page)) == sum(r.year == 2024 for r in sci)
    page.get_by_label("Filter the table by any text").fill("")
    assert len(visible_rows(page)) == sum(r.year == 2024 for r in evidence.records)
    page.get_by_label("Filter by Year").select_option("")

    show_column(page, "Species")
    page.get_by_label("Filter by Species").select_option("Sheep")
    assert len(visible_rows(page)) == sum("sheep" in r.species for r in evidence.records) > 0
    page.get_by_label("Filter by Species").select_option("")

    page.get_by_role("button", name="Sort by Studies").click()
    studies = [int(row[5]) for row in visible_rows(page)]
    assert studies == sorted(studies) and len(studies) == n
    assert page.locator("th", has=page.get_by_role("button", name="Sort by Studies")).get_attribute("aria-sort") == (
        "ascending"
    )
    page.get_by_role("button", name="Sort by Studies").click()
    assert [int(row[5]) for row in visible_rows(page)] == sorted(studies, reverse=True)
    assert_clean(v)


def test_the_table_filters_stay_on_screen_on_a_phone(visit: Opener) -> None:
    v = visit("reviews/", PHONE)
    tools = v.page.locator(".table-tools input, .table-tools select")
    assert tools.count() >= 5
    for box in tools.evaluate_all("els => els.map(e => e.getBoundingClientRect().toJSON())"):
        assert box["left"] >= 0 and box["right"] <= PHONE["width"], box
    assert_clean(v)


def test_the_dark_palette(visit: Opener) -> None:
    v = visit(SCI)
    page = v.page
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    switch_to_dark(page)
    freeze_transitions(page)
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark != light
    assert _luminance(dark) < 0.25 < 0.75 < _luminance(light)
    # Charts are drawn on white and keep it, so their dark text stays legible.
    assert (
        page.locator("figure.chart img").first.evaluate("i => getComputedStyle(i).backgroundColor")
        == "rgb(255, 255, 255)"
    )
    # The choice is remembered on the next page.
    page.locator("article").get_by_role("link", name="Ye et al. (2024)").first.click()
    page.wait_for_url("**/reviews/ye-2024/")
    page.reload()
    assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"
    assert_clean(v)


def _luminance(css: str) -> float:
    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", css)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("path", ["", SCI, "sources/bm/", "quality/"])
def test_charts_are_drawn_and_described(visit: Opener, path: str) -> None:
    v = visit(path)
    charts = v.page.locator("img[src*='assets/charts/']:not(object img)")  # an object's img is its fallback
    assert charts.count() >= 1
    charts.last.scroll_into_view_if_needed()
    for img in charts.evaluate_all(
        """els => Promise.all(els.map(e => e.decode().catch(() => null).then(() => ({
            src: e.getAttribute('src'), width: e.naturalWidth, shown: e.getBoundingClientRect().width,
            alt: (e.getAttribute('alt') || '').trim()}))))"""
    ):
        assert img["width"] > 0 and img["shown"] > 0, f"{img['src']} is not drawn"
        assert len(img["alt"]) > 20, f"{img['src']} has no useful alt text: {img['alt']!r}"
    assert_clean(v)


def test_every_chart_file_loads_as_an_image_and_has_a_title_and_description(visit: Opener, built: Built) -> None:
    files = sorted((built.site / "assets" / "charts").glob("*.svg"))
    assert len(files) >= 3
    for svg in files:
        root = ET.parse(svg).getroot()
        ns = "{http://www.w3.org/2000/svg}"
        title, desc = root.find(f"{ns}title"), root.find(f"{ns}desc")
        assert title is not None and (title.text or "").strip(), f"{svg.name}: no <title>"
        assert desc is not None and (desc.text or "").strip(), f"{svg.name}: no <desc>"
    v = visit("")
    sizes = v.page.evaluate(
        """srcs => Promise.all(srcs.map(src => new Promise(done => {
            const img = new Image();
            img.onload = () => done([src, img.naturalWidth]);
            img.onerror = () => done([src, 0]);
            img.src = src;
        })))""",
        [f"assets/charts/{f.name}" for f in files],
    )
    assert [src for src, width in sizes if width <= 0] == []
    assert_clean(v)


def test_every_chart_file_opened_on_its_own_passes_axe(visit: Opener, built: Built) -> None:
    """A chart opened at full size is an SVG document of its own: its root an image named by its title and
    description, and nothing inside it with a role but no name (axe-core's svg-img-alt)."""
    files = sorted((built.site / "assets" / "charts").glob("*.svg"))
    assert len(files) >= 3
    v = visit("")
    found = {}
    for svg in files:
        v.goto(f"assets/charts/{svg.name}")
        assert v.page.evaluate("document.documentElement.localName") == "svg"
        found[svg.name] = axe_violations(v.page, f"chart-{svg.stem}")
    report = "\n".join(f"[{name}] {describe_violations(vs)}" for name, vs in found.items() if vs)
    assert not report, report
    assert_clean(v)


LAPTOP = {"width": 1366, "height": 800}


def test_the_side_menu_links_are_big_enough_to_hit(visit: Opener, evidence: Evidence) -> None:
    """axe-core leaves its target-size rule (WCAG 2.2, 24 px) off by default; on a condition page at a
    laptop's width, where the side menu lists every condition and opens scrolled to the current one, it
    finds nothing."""
    v = visit(SCI, LAPTOP)
    page = v.page
    page.wait_for_load_state("networkidle")
    menu = page.locator(".md-sidebar--primary .md-nav__link[href]")
    shown = [box for box in (link.bounding_box() for link in menu.all() if link.is_visible()) if box]
    conditions = {c for r in evidence.records for c in r.conditions}
    assert len(shown) >= min(len(conditions), 10), "the side menu is not shown at this width"
    assert min(box["height"] for box in shown) >= 24
    found = axe_violations(page, "condition-target-size-1366", rules=("target-size",))
    assert not found, describe_violations(found)
    assert_clean(v)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("path", ["", SCI, "reviews/ye-2024/"], ids=["home", "condition", "review"])
def test_screenshot(visit: Opener, path: str, viewport: dict[str, int]) -> None:
    v = visit(path, viewport)
    v.page.wait_for_load_state("networkidle")
    # Nothing but the theme's own scroll boxes (tables, charts) may be wider than the screen.
    assert v.page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = (path.strip("/").replace("/", "-") or "home") + f"-{viewport['width']}.png"
    v.page.screenshot(path=SCREENSHOTS / name, full_page=True)
    assert (SCREENSHOTS / name).stat().st_size > 10_000
    assert_clean(v)


# Accessibility ----------------------------------------------------------------------------------------

AXE_PAGES = {
    "home": "",
    "gapmap": "gapmap/",
    "condition": SCI,
    "source": "sources/bm/",
    "review": "reviews/ye-2024/",
    "reviews-table": "reviews/",
    "contribute": "contribute/",
    "methods": "methods/",
    "audit": "audit/",
    "quality": "quality/",
    "dosing": "dosing/",
    "screening": "screening/",
    "conditions": "conditions/",
    "sources": "sources/",
    "downloads": "downloads/",
    "about": "about/",
    "whatsnew": "whatsnew/",
    "tags": "tags/",
}


def test_axe_reports_what_it_finds_each_time_it_runs_on_a_page(visit: Opener) -> None:
    """The accessibility checks below see a fault: a paragraph made nearly white on the light
    palette, then one whose image has no text alternative, found by a second run on the same page."""
    v = visit("about/")
    v.page.evaluate("document.querySelector('article p').style.color = '#f4f4f4'")
    first = axe_violations(v.page, "fault-contrast")
    assert "color-contrast" in {f["id"] for f in first}, first
    v.page.evaluate("document.querySelector('article p').append(document.createElement('img'))")
    second = axe_violations(v.page, "fault-image")
    assert {"color-contrast", "image-alt"} <= {f["id"] for f in second}, second


@pytest.mark.parametrize("name", [*AXE_PAGES, "search-results"])
def test_axe_finds_no_serious_violations(visit: Opener, name: str) -> None:
    """Each page three times: light palette at desktop width, dark palette, then dark at phone width."""
    v = visit(AXE_PAGES.get(name, ""))
    page = v.page
    page.wait_for_load_state("networkidle")
    freeze_transitions(page)

    def search() -> None:
        if name == "search-results":
            open_search(page)  # a second time, the last query is selected and typing replaces it
            page.keyboard.type("spinal")
            page.locator("pagefind-modal .pf-result-link").first.wait_for()

    search()
    found = {"light": axe_violations(page, f"{name}-light")}
    page.keyboard.press("Escape")  # closes the search, which covers the palette toggle
    switch_to_dark(page)
    search()
    found["dark"] = axe_violations(page, f"{name}-dark")
    page.set_viewport_size(PHONE)
    settle_layout(page)
    assert name != "search-results" or page.locator("pagefind-modal .pf-result-link").first.is_visible()
    found["phone"] = axe_violations(page, f"{name}-phone")
    report = "\n".join(f"[{mode}] {describe_violations(vs)}" for mode, vs in found.items() if vs)
    assert not report, report
    assert_clean(v)


def test_search_works_from_the_keyboard(visit: Opener) -> None:
    v = visit("reviews/")
    page = v.page
    page.keyboard.press("/")  # as in the theme's own search
    field = page.get_by_role("searchbox", name="Search this site")
    field.wait_for()
    assert page.evaluate("document.activeElement.matches('pagefind-modal input[type=search]')")
    page.keyboard.type("spinal")
    page.locator("pagefind-modal .pf-result-link").first.wait_for()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.matches('pagefind-modal a.pf-result-link')")
    assert page.evaluate("document.activeElement.textContent") == "Spinal Cord Injury"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/{SCI}")
    assert h1(page) == "Spinal Cord Injury"
    assert_clean(v)


def test_the_search_button_is_reached_by_tab_and_escape_returns_to_it(visit: Opener) -> None:
    v = visit(SCI)
    page = v.page
    for _ in range(12):  # skip link, logo, palette toggle, then search
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('site-search__button')"):
            break
    else:
        pytest.fail("the search button is not reached by Tab from the top of the page")
    assert page.evaluate("document.activeElement.getAttribute('aria-haspopup')") == "dialog"
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement.matches('pagefind-modal input')")
    page.keyboard.type("sepsis")
    page.locator("pagefind-modal .pf-result-link", has_text="Sepsis").first.wait_for()
    page.keyboard.press("Escape")
    page.wait_for_function("!document.querySelector('pagefind-modal dialog[open]')")
    assert page.evaluate("document.activeElement.classList.contains('site-search__button')")
    assert v.path() == SCI
    # Typing on the focused button starts a new query with what is typed.
    page.keyboard.type("bbb")
    page.wait_for_function("document.activeElement.matches('pagefind-modal input')")
    assert page.locator("pagefind-modal input[type=search]").input_value() == "bbb"
    page.locator("pagefind-modal .pf-result-link", has_text="Ye et al. (2024)").first.wait_for()
    assert_clean(v)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_search_screenshot(visit: Opener, viewport: dict[str, int], dark: bool) -> None:
    """The header's search button and the search dialog with results, kept in test-artifacts/screenshots."""
    v = visit(SCI, viewport)
    page = v.page
    page.wait_for_load_state("networkidle")
    if dark:
        switch_to_dark(page)
    freeze_transitions(page)
    button = page.get_by_role("button", name="Search")
    box = button.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    open_search(page)
    page.keyboard.type("spinal")
    search_results(page).first.wait_for()
    page.wait_for_load_state("networkidle")
    dialog = page.locator("pagefind-modal dialog").bounding_box()
    assert dialog and dialog["x"] >= 0 and dialog["x"] + dialog["width"] <= viewport["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = SCREENSHOTS / f"search-{viewport['width']}-{'dark' if dark else 'light'}.png"
    page.screenshot(path=name)
    assert name.stat().st_size > 10_000
    assert_clean(v)


def test_the_table_filters_work_from_the_keyboard(visit: Opener, evidence: Evidence) -> None:
    v = visit("reviews/")
    page = v.page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('md-skip')")  # "Skip to content"
    pages_fetched = len([u for u in v.requests if u.endswith("/reviews/")])
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.tagName") == "H1"

    def tab_to(label: str, limit: int) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.getAttribute('aria-label')") == label:
                return
        pytest.fail(f"{label!r} is not reached in {limit} presses of Tab")

    tab_to("Filter the table by any text", limit=3)
    page.keyboard.type("spinal")
    sci = [r for r in evidence.records if "spinal-cord-injury" in r.conditions]
    assert len(visible_rows(page)) == len(sci)

    tab_to("Filter by Year", limit=2)
    page.keyboard.press("ArrowDown")  # the first year in the list
    year = page.evaluate("document.activeElement.value")
    assert re.fullmatch(r"\d{4}", year)
    assert len(visible_rows(page)) == sum(str(r.year) == year for r in sci)

    tab_to("Sort by Review", limit=12)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.closest('th').getAttribute('aria-sort')") == "ascending"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.closest('th').getAttribute('aria-sort')") == "descending"
    # An in-page link must not reload the page, which would drop the focus (the theme's instant navigation did).
    assert len([u for u in v.requests if u.endswith("/reviews/")]) == pages_fetched, "the skip link reloaded the page"
    assert_clean(v)


# The built files --------------------------------------------------------------------------------------


def test_every_internal_link_and_anchor_resolves(built: Built) -> None:
    problems = broken_links(built.site)
    assert not problems, f"{len(problems)} broken:\n" + "\n".join(problems[:40])


def test_the_link_check_finds_missing_files_and_anchors(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text('<h2 id="here">A</h2>', encoding="utf-8")
    (tmp_path / "index.html").write_text(
        '<a href="a/">ok</a> <a href="a/#here">ok</a> <a href="#top" id="top">ok</a> <a href="https://example.org/x">away</a>'
        '<a href="b/">no page</a> <a href="a/#there">no anchor</a> <img src="c.svg"> <a href="/elsewhere/">root</a>'
        '<link href="../outside.css"> <script src="https://msc-ev-map.github.io/evidence-map/d.js"></script>',
        encoding="utf-8",
    )
    assert sorted(p.split(": ", 1)[1] for p in broken_links(tmp_path)) == [
        "<a> /elsewhere/: root-relative path outside the site's base path /evidence-map/",
        "<a> a/#there: no id 'there' on a/index.html",
        "<a> b/: no file b/index.html",
        "<img> c.svg: no file c.svg",
        "<link> ../outside.css: points outside the site",
        "<script> https://msc-ev-map.github.io/evidence-map/d.js: no file d.js",
    ]


def test_every_page_parses_as_html_without_errors(built: Built) -> None:
    """Each page through html5lib, which implements the WHATWG parsing algorithm and records every parse
    error it defines: stray or missing end tags (a block closed with inline elements still open), misnested
    tags, duplicate attributes, a missing doctype. A browser silently repairs each of them, into a layout
    and an accessibility tree the page's author did not write. Ids must also be unique, so that every
    #fragment and ARIA reference has one target."""
    html5lib = require("html5lib")
    pages = sorted(built.site.rglob("*.html"))
    assert len(pages) > 50
    problems = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        parser = html5lib.HTMLParser(namespaceHTMLElements=False)
        parser.parse(text)
        where = page.relative_to(built.site).as_posix()
        problems += [f"{where}:{line}:{col}: {code} {data or ''}" for (line, col), code, data in parser.errors]
        ids = [attrs["id"] for _, attrs in parse(text).tags if attrs.get("id")]
        problems += [f"{where}: id {i!r} used {ids.count(i)} times" for i in sorted(set(ids)) if ids.count(i) > 1]
    assert not problems, "\n".join(problems[:40])


def test_every_image_in_the_site_has_alt_text(built: Built) -> None:
    missing = []
    for page in sorted(built.site.rglob("*.html")):
        for tag, attrs in parse(page.read_text(encoding="utf-8")).tags:
            if tag == "img" and not (attrs.get("alt") or "").strip():
                missing.append(f"{page.relative_to(built.site)}: {attrs.get('src')}")
    assert not missing, "\n".join(missing)


# The rule for a missing browser -----------------------------------------------------------------------


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), (None, pytest.skip.Exception)])
def test_a_missing_browser_skips_locally_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, outcome: type[BaseException]
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no Chromium"):
        unavailable("no Chromium at /nowhere")


def test_contribute_page_links_work_and_the_template_has_a_copy_button(visit: Opener, evidence: Evidence) -> None:
    import yaml

    from evidence_map.paths import MKDOCS_YML

    repo = yaml.safe_load(MKDOCS_YML.read_text(encoding="utf-8"))["extra"]["repository"].rstrip("/")
    v = visit("contribute/")
    page = v.page
    assert page.locator(f'a[href="{repo}/issues/new/choose"]').count() >= 1
    new_file = page.locator(f'a[href^="{repo}/new/main/evidence?filename=surname-2026.yaml&value="]')
    assert new_file.count() >= 1 and "Add a review on GitHub" in new_file.first.inner_text()
    template = page.locator("pre:has(code)").filter(has_text="yaml-language-server").first
    template.hover()
    copy = template.locator("nav.md-code__nav button.md-code__button")
    assert copy.count() == 1 and "copy" in (copy.get_attribute("title") or "").lower()
    assert_clean(v)


def chart_frame(page: Page, name: str) -> Frame:
    """The document an <object> chart loaded, as a frame (waits for it)."""
    for _ in range(50):
        found = [f for f in page.frames if f.url.endswith(name)]
        if found:
            found[0].wait_for_load_state()
            return found[0]
        page.wait_for_timeout(100)
    raise AssertionError(f"no frame loaded {name}: {[f.url for f in page.frames]}")


class _PagesHandler:
    """Like GitHub Pages: a path with no file gets the site's 404.html, with status 404."""

    @staticmethod
    def make(root: Path, site_dir: Path) -> type:
        from http.server import SimpleHTTPRequestHandler

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

            def log_message(self, format: str, *args: object) -> None:
                pass

            def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
                if code != 404:
                    super().send_error(code, message, explain)
                    return
                body = (site_dir / "404.html").read_bytes()
                self.send_response(404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

        return Handler


@pytest.mark.parametrize("where", ["sub-path", "root"])
def test_the_404_page_works_at_the_site_root_and_under_a_sub_path(
    browser: Browser, built: Built, tmp_path: Path, where: str
) -> None:
    """A missing page gets the site's 404 page with its styles, scripts and a working way home, whether
    the site is published under a sub-path (the default site_url) or at a domain's root (SITE_URL)."""
    import threading
    from http.server import ThreadingHTTPServer

    from tests.sitebuild import build

    if where == "sub-path":
        prefix = urlsplit(site_url()).path.strip("/")
        (tmp_path / prefix).symlink_to(built.site, target_is_directory=True)
        root, site_dir, home = tmp_path, built.site, f"/{prefix}/"
    else:
        site_dir = tmp_path / "site"
        shutil.copytree(built.work, tmp_path / "work")
        proc = build(site_dir, tmp_path / "work", env={**os.environ, "SITE_URL": "https://example.org/"})
        assert proc.returncode == 0, proc.stderr
        root, home = site_dir, "/"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PagesHandler.make(root, site_dir))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        v = Visit.open(browser, base)
        try:
            response = v.page.goto(f"{base}{home.lstrip('/')}no/such/page/")
            assert response is not None and response.status == 404
            assert v.page.locator("link[rel=stylesheet][href*='extra.css']").count() == 1
            assert v.page.evaluate("getComputedStyle(document.querySelector('.md-header')).position") == "sticky"
            v.page.locator(".md-header__button.md-logo, .md-header a[href]").first.click()
            v.page.wait_for_url(f"{base}{home.lstrip('/')}**")
            assert h1(v.page).startswith("MSC-EV Living Evidence Map")
            assert not [u for u in v.failed if "no/such/page" not in u], v.failed
        finally:
            v.close()
    finally:
        server.shutdown()
        server.server_close()
