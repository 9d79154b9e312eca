"""Helpers for visiting the built site as a visitor would: a local web server, a headless Chromium
page whose every request and console message is recorded, axe-core, and an offline check of the
links between the built files."""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import posixpath
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import unquote, urlsplit

import pytest

from tests.sitebuild import ROOT, Links, parse

if TYPE_CHECKING:
    from types import ModuleType

    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, Response

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium calls home, which the closed network here answers with noise.
# Every host but the local server's is unknown to it, so the site is visited as if offline; a
# request elsewhere fails at once and is listed (Visit.offsite). Refusing such requests by routing
# instead sent every request of every page through the test process and turned off the browser's
# cache: visits took about 5 % longer, and the browser more of the cores.
LAUNCH_ARGS = [
    "--headless=new",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NETWORK = frozenset({"http", "https", "ws", "wss"})  # schemes of a request that leaves the browser
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ARTIFACTS = ROOT / "test-artifacts"


def unavailable(reason: str) -> NoReturn:
    """Skip the test locally; fail it in CI (CI=true), where the browser and its tools are required."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
    pytest.skip(reason)


def require(module: str) -> ModuleType:
    """Import a test dependency, or skip (locally) / fail (in CI) naming what is missing."""
    try:
        return importlib.import_module(module)
    except ImportError:
        unavailable(f"{module} is not installed (pip install -e '.[test]')")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a browser that drops a connection it no longer needs is not a site error


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve `root` on 127.0.0.1 (a free port) in a thread; yields the base URL, ending in /."""
    server = _QuietServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Visit:
    """One browser tab on the local site, with everything that went wrong on the way recorded.

    Requests to any other host fail (the browser knows no other, LAUNCH_ARGS: the site has to work
    offline) and are listed in `offsite`."""

    context: BrowserContext
    page: Page
    base: str
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, browser: Browser, base: str, viewport: dict[str, int] = DESKTOP) -> Visit:
        phone = viewport["width"] < 600
        context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)  # type: ignore[arg-type]
        context.set_default_timeout(15_000)
        visit = cls(context, context.new_page(), base)
        visit.page.on("request", visit._request)
        visit.page.on("requestfailed", visit._request_failed)
        visit.page.on("response", visit._response)
        visit.page.on("console", visit._console)
        visit.page.on("pageerror", lambda exc: visit.page_errors.append(str(exc)))
        return visit

    @property
    def offsite(self) -> list[str]:
        """The requests to any other host (which fail: LAUNCH_ARGS)."""
        return [u for u in self.requests if urlsplit(u).scheme in NETWORK and not u.startswith(self.base)]

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _request_failed(self, request: Request) -> None:
        # ERR_ABORTED: the page navigated on before the answer came; not the site's failure.
        if request.url.startswith(self.base) and request.failure != "net::ERR_ABORTED":
            self.failed.append(f"{request.url}: {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.url}: HTTP {response.status}")

    def _console(self, message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        # A document that names no icon, such as a chart's SVG file opened on its own, gets the
        # browser's own request for /favicon.ico: not the site's (its pages name theirs), and
        # outside the site when it is published under a sub-path.
        if message.type == "error" and url != self.base + "favicon.ico":
            self.console_errors.append((message.text, url))

    def goto(self, path: str = "") -> Page:
        self.page.goto(self.base + path, wait_until="load")
        return self.page

    def path(self) -> str:
        """The current page's path below the site root, without query or fragment."""
        return urlsplit(self.page.url).path.lstrip("/")

    def problems(self) -> list[str]:
        """Off-site requests, failed requests, console errors and uncaught exceptions, as readable lines."""
        lines = [f"request to another host: {u}" for u in self.offsite]
        lines += [f"failed request: {f}" for f in self.failed]
        lines += [f"console error: {text} ({url})" for text, url in self.console_errors]
        lines += [f"uncaught exception: {e}" for e in self.page_errors]
        return lines

    def close(self) -> None:
        self.context.close()


# Search -------------------------------------------------------------------------------------------------

PAGEFIND_SEARCH = """async ([bundle, query]) => {
    const pagefind = await import(bundle + "pagefind.js");
    const search = await pagefind.search(query);
    return Promise.all(search.results.map((result) => result.data()));
}"""


def pagefind_search(page: Page, base: str, query: str) -> list[dict[str, Any]]:
    """Every result of a query, straight from Pagefind's JavaScript API (`base`pagefind/pagefind.js) in
    the page's browser: each with its url, meta (title, kind), excerpt and sub_results."""
    results: list[dict[str, Any]] = page.evaluate(PAGEFIND_SEARCH, [base + "pagefind/", query])
    return results


def open_search(page: Page) -> None:
    """Click the header's search button, as a visitor would, and wait for the search field to take the focus."""
    page.get_by_role("button", name="Search").click()
    page.wait_for_function("document.activeElement && document.activeElement.matches('pagefind-modal input')")


def search_results(page: Page) -> Any:
    """The result links the search dialog shows (pages, then their sections)."""
    return page.locator("pagefind-modal pagefind-results a")


def switch_to_dark(page: Page) -> None:
    """Click the header's palette toggle, as a visitor would, and wait for the dark scheme."""
    page.locator('label[title="Switch to dark mode"]').click()
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")


def freeze_transitions(page: Page) -> None:
    """Stop CSS transitions, so that colours are measured at their final value, not halfway."""
    page.add_style_tag(content="*, *::before, *::after { transition: none !important; animation: none !important; }")


def settle_layout(page: Page) -> None:
    """After a resize: wait for the images and for tables.js, which makes every box that now scrolls
    sideways focusable (if it never does, axe-core reports the boxes). A lazy image below the
    screen is not waited for: it loads only when scrolled to."""
    with contextlib.suppress(Exception):
        page.wait_for_function(
            """() => Array.from(document.images)
                    .every(i => i.complete || (i.loading === 'lazy' && i.getBoundingClientRect().top > innerHeight)) &&
                Array.from(document.querySelectorAll('.md-typeset__scrollwrap, figure.chart'))
                    .every(b => b.scrollWidth <= b.clientWidth + 1 || b.getAttribute('tabindex') === '0')""",
            timeout=3000,
        )


SERIOUS = ("serious", "critical")


@functools.cache
def axe_script() -> str:
    """axe-core, as axe-playwright-python bundles it."""
    return str(require("axe_playwright_python.sync_playwright").Axe().axe_script)


def axe_violations(page: Page, name: str, rules: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Run axe-core (bundled with axe-playwright-python, so it works offline) on the page as it is now:
    its default rules, or only `rules` (which may name rules it leaves off by default, like target-size).

    Writes every violation to test-artifacts/axe/<name>.json and returns the serious and critical ones."""
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": list(rules)}
    if not page.evaluate("typeof window.axe === 'object'"):  # once a document: the script is 570 KB
        page.evaluate(axe_script())
    results = page.evaluate("options => axe.run(document, options)", options)
    violations = results["violations"]
    out = ARTIFACTS / "axe"
    out.mkdir(parents=True, exist_ok=True)
    summary = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [
                {"target": n["target"], "html": n["html"][:300], "summary": n.get("failureSummary")} for n in v["nodes"]
            ],
        }
        for v in violations
    ]
    (out / f"{name}.json").write_text(json.dumps({"url": results["url"], "violations": summary}, indent=1), "utf-8")
    return [v for v in summary if v["impact"] in SERIOUS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}, {len(v['nodes'])} element(s)")
        for n in v["nodes"][:4]:
            summary = " ".join(str(n["summary"] or "").split())[:240]
            lines.append(f"    {' '.join(map(str, n['target']))}: {summary}")
    return "\n".join(lines)


# Link check of the built files -----------------------------------------------------------------------

REFERENCES = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src", "iframe": "src"}


def site_url() -> str:
    match = re.search(r"^site_url:\s*(\S+)", (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), re.MULTILINE)
    return match.group(1).rstrip("/") + "/" if match else ""


def broken_links(site: Path) -> list[str]:
    """Every reference between built files that does not resolve, as 'page: reference: why'.

    Checks <a href>, <link href>, <img src>, <script src> (and <source>, <iframe>) that stay inside the
    site: relative ones, root-relative ones under the site's base path, and absolute ones to the site's
    own URL. The target file must exist (a folder means its index.html), and a #fragment must be the id
    of an element on the target page."""
    own = site_url()
    base_path = urlsplit(own).path or "/"
    pages: dict[Path, Links] = {p: parse(p.read_text(encoding="utf-8")) for p in site.rglob("*.html")}
    problems = []
    for page, links in sorted(pages.items()):
        where = page.relative_to(site).as_posix()
        for tag, attrs in links.tags:
            ref = attrs.get(REFERENCES.get(tag, ""))
            if not ref:
                continue
            why = _unresolved(site, page, ref.strip(), own, base_path, pages)
            if why:
                problems.append(f"{where}: <{tag}> {ref}: {why}")
    return problems


def _unresolved(site: Path, page: Path, ref: str, own: str, base_path: str, pages: dict[Path, Links]) -> str:
    if own and ref.startswith(own):
        ref = "/" + ref[len(own) :]
        base_path = "/"
    parts = urlsplit(ref)
    if parts.scheme or parts.netloc:
        return ""  # another site: not checked offline
    path = unquote(parts.path)
    if path.startswith("/"):
        if not path.startswith(base_path):
            return f"root-relative path outside the site's base path {base_path}"
        folder, path = site, path[len(base_path) :]
    else:
        folder = page.parent
    target = Path(posixpath.normpath((folder / path).as_posix())) if path else page
    if site.resolve() not in (target.resolve(), *target.resolve().parents):
        return "points outside the site"
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        return f"no file {target.relative_to(site).as_posix()}"
    fragment = unquote(parts.fragment)
    if fragment and target.suffix == ".html":
        links = pages.get(target) or parse(target.read_text(encoding="utf-8"))
        if fragment not in links.ids:
            return f"no id {fragment!r} on {target.relative_to(site).as_posix()}"
    return ""


def show_column(page: Page, name: str) -> None:
    """Choose a table column in its "Columns" list (a column hidden by priority has no filter shown)."""
    chooser = page.locator(".table-columns")
    if not chooser.evaluate("d => d.open"):
        chooser.locator("summary").click()
    chooser.locator("label", has_text=name).locator("input").check()
    chooser.locator("summary").click()
