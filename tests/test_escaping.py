"""Record text never becomes markup: a hostile record is built into the real site and every page it
touches is checked. The validator would refuse this record; the test goes past it on purpose, to
prove the escaping holds on its own."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import markdown
import pytest
import yaml
from markupsafe import Markup

from evidence_map.judging.computed import compute_map
from evidence_map.paths import ROOT
from evidence_map.publishing.generator import publish
from evidence_map.publishing.markup import KEPT_LENGTH, _inert, escape
from evidence_map.publishing.site import prepare_map
from evidence_map.records.evidence import Evidence
from evidence_map.records.model import record_from_data
from evidence_map.records.vocab import load_vocabularies
from tests.browser import Visit, open_search, serve
from tests.conftest import base_record

PAYLOAD = (
    '<script>alert("x1")</script> <img src=x onerror=alert("x2")> [click](javascript:alert("x3")) '
    "![i](data:text/html;base64,PHNjcmlwdD4=) {: onclick=\"alert('x4')\" } **bold** | pipe | `code` "
    "<a href='javascript:alert(5)'>a</a> &amp; \n# not a heading\n- not a list"
)
KEEP = {
    "id",
    "ids",
    "domain",
    "measure",
    "improves",
    "kind",
    "field",
    "factor",
    "overall",
    "rating",
    "dose_response",
    "added",
    "updated",
    "p_bound",
    "difference",
    "condition",
    "level",
    "year",
}


def poison(value: Any, key: str = "") -> Any:
    if key in KEEP:
        return value
    if isinstance(value, dict):
        return {k: poison(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [poison(v, key) for v in value]
    if isinstance(value, str):
        return PAYLOAD + (" (2024)" if key == "label" else "")
    return value


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.bad: list[str] = []
        self.text: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_script = tag == "script"
        for name, val in attrs:
            v = (val or "").strip().lower()
            if name.startswith("on") and "alert" in v:
                self.bad.append(f"<{tag} {name}={val}>")
            if name in ("href", "src") and (v.startswith("javascript:") or v.startswith("data:text")):
                self.bad.append(f"<{tag} {name}={val}>")
        if tag == "img" and dict(attrs).get("src") == "x":
            self.bad.append("<img src=x>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script and "alert" in data:
            self.bad.append(f"script: {data[:60]}")
        self.text.append(data)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = poison(base_record(id="hostile-2024"))
    data["discrepancies"] = [{"kind": "erratum", "field": "summary", "description": PAYLOAD}]
    data["subgroups"] = [{"factor": "dose", "level": PAYLOAD, "finding": PAYLOAD, "source": PAYLOAD}]
    data["effect_notes"] = [PAYLOAD]
    hostile = record_from_data(data, "evidence/hostile-2024.yaml")
    evidence = Evidence((hostile,), (), load_vocabularies())
    root = tmp_path_factory.mktemp("hostile")
    publish(prepare_map(compute_map(evidence), root / "work"), root / "site", strict=True)
    return root / "site"


def test_no_markup_from_the_record_reaches_any_page(hostile_site: Path) -> None:
    pages = sorted(hostile_site.rglob("*.html"))
    assert len(pages) > 40
    for page in pages:
        audit = Audit()
        audit.feed(page.read_text(encoding="utf-8"))
        assert audit.bad == [], page


def test_the_hostile_text_is_shown_as_text(hostile_site: Path) -> None:
    audit = Audit()
    audit.feed((hostile_site / "reviews" / "hostile-2024" / "index.html").read_text(encoding="utf-8"))
    text = " ".join(audit.text)
    assert '<script>alert("x1")</script>' in text
    assert '[click](javascript:alert("x3"))' in text
    assert "**bold**" in text and "# not a heading" in text


def test_escape_is_total() -> None:
    out = re.sub(r"&#\d+;", "", str(escape("<a>[b](c) *d* _e_ `f` #g |h| {i} !j &k")))
    assert not set(out) & set("<>[]()*_`#|{}!&")
    assert str(escape(None)) == ""


@pytest.mark.parametrize("text", ["<b>x</b>", "Umbilical cord MSCs", "a\n\tb", "x" * (KEPT_LENGTH + 1), "2019"])
def test_a_kept_text_escapes_as_a_new_one_and_markup_still_passes(text: str) -> None:
    """escape() keeps the short texts it has escaped (markup.py); a `Markup` of the same characters
    is the code's own and must still pass unchanged, not take the kept text's escaped form."""
    first, again = escape(text), escape(text)
    assert first == again == _inert(text)
    assert escape(Markup(text)) == text
    assert escape(1.5) == "1&#46;5" and escape(-0.0) == "&#45;0&#46;0" and escape(0.0) == "0&#46;0"


LINE_STARTS = [
    "1. item",
    "2025) item",
    " 3. item",
    "- item",
    "+ item",
    "* item",
    "# heading",
    "===",
    "---",
    "- - -",
    "> quote",
    "    code",
    "!!! note",
    "| a | b |",
    "<div>x</div>",
    "```",
    ": term",
    "*[HTML]: Hyper",
    "(1.5) [x](javascript:alert(1))",
    "95% (0.81 to 2.43) - 1.2",
]


@pytest.mark.parametrize("value", LINE_STARTS)
def test_a_value_cannot_start_a_block_or_make_markup(value: str) -> None:
    """A value at the start of a line, after a paragraph line, alone or in a table cell stays
    literal text in one paragraph or cell, through the site's own Markdown extensions."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8").replace("!!python/name:", ""))
    extensions = [e if isinstance(e, str) else next(iter(e)) for e in config["markdown_extensions"]]
    for source in (f"{escape(value)}\n", f"Before\n{escape(value)}\n", f"| A |\n|---|\n| {escape(value)} |\n"):
        out = markdown.markdown(source, extensions=extensions)
        audit = Audit()
        audit.feed(out)
        assert audit.bad == [], (value, out)
        tags = re.findall(r"<(\w+)", out)
        assert set(tags) <= {"p", "table", "thead", "tbody", "tr", "th", "td"}, (value, out)
        assert " ".join(value.split()) in html.unescape(re.sub(r"<[^>]+>", "", out)), (value, out)


def test_the_hostile_text_is_shown_as_text_in_search_results(hostile_site: Path, browser: Any) -> None:
    """Pagefind indexes the page's text; its excerpts, which the search dialog puts in the page as HTML,
    carry that text escaped, so the record's markup reaches the results as text and runs nothing."""
    with serve(hostile_site) as base:
        v = Visit.open(browser, base)
        alerts: list[str] = []
        v.page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
        try:
            v.goto("reviews/hostile-2024/")
            open_search(v.page)
            v.page.keyboard.type("onerror")
            v.page.locator("pagefind-modal .pf-result-excerpt").first.wait_for()
            v.page.wait_for_load_state("networkidle")
            # The dialog searches as each letter is typed and redraws its results for the last query:
            # wait for that query's excerpt rather than read the list while it is being replaced.
            v.page.wait_for_function(
                """() => (document.querySelector('pagefind-modal pagefind-results')?.innerText || '')
                    .includes('onerror=alert')"""
            )
            results = v.page.locator("pagefind-modal pagefind-results")
            text = results.inner_text()
            assert 'src=x onerror=alert("x2")' in text and '<script>alert("x1")</script>' in text
            markup = results.evaluate(
                """r => Array.from(r.querySelectorAll('*'), e => e.tagName.toLowerCase())
                    .filter(t => !['li', 'div', 'p', 'a', 'span', 'mark', 'ul'].includes(t))"""
            )
            assert markup == []
            assert "hostile" in results.locator("a").first.get_attribute("href")
            assert alerts == [] and not v.page_errors
        finally:
            v.close()
