"""Helpers for tests that build the real site: build once per session, read HTML and the search index."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Built:
    site: Path
    work: Path
    stdout: str

    def html(self, page: str) -> str:
        return (self.site / page / "index.html").read_text(encoding="utf-8")

    def search_pages(self) -> dict[str, dict[str, Any]]:
        return search_pages(self.site)


def search_pages(site: Path) -> dict[str, dict[str, Any]]:
    """What Pagefind indexed, page by page: url (from the site root, e.g. /reviews/ye-2024/) -> the
    page's record in the index, with its title and metadata (`meta`), filters and text (`content`).

    Each record is one gzip-compressed fragment file: a `pagefind_dcd` signature, then JSON."""
    pages = {}
    for path in sorted((site / "pagefind" / "fragment").glob("*.pf_fragment")):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd"), path
        record = json.loads(data[len(b"pagefind_dcd") :])
        pages[record["url"]] = record
    return pages


def indexed_pages(site: Path) -> set[str]:
    """The built pages Pagefind should index: every HTML page with the root element it is given
    (<article>), as the url Pagefind gives it."""
    urls = set()
    for page in site.rglob("*.html"):
        if "pagefind" in page.relative_to(site).parts or "<article" not in page.read_text(encoding="utf-8"):
            continue
        rel = page.relative_to(site).as_posix()
        urls.add("/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel))
    return urls


def build(
    out: Path, work: Path, evidence: Path | None = None, strict: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "build.py", "build", "--out", str(out), "--work", str(work)]
    if evidence is not None:
        cmd += ["--evidence", str(evidence)]
    if strict:
        cmd.append("--strict")
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, check=False)


class Links(HTMLParser):
    """Collects hrefs, srcs and ids of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.ids: set[str] = set()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "a" and a.get("href"):
            self.hrefs.append(str(a["href"]))
        if a.get("src"):
            self.srcs.append(str(a["src"]))


def parse(html: str) -> Links:
    p = Links()
    p.feed(html)
    return p


# Words a visitor would search for, and a page each must find: checked in the index the build
# wrote (test_site) and through Pagefind in the browser (test_browser).
SEARCH_CASES = [
    ("spinal", "/conditions/spinal-cord-injury/"),
    ("Soltani", "/reviews/soltani-2024/"),
    ("SCI", "/conditions/spinal-cord-injury/"),
    ("spinal cord", "/conditions/spinal-cord-injury/"),
    ("adipose", "/sources/at/"),
    ("Wharton", "/sources/"),
    ("BBB", "/reviews/ye-2024/"),
    ("mNSS", "/reviews/chen-2024/"),
]
