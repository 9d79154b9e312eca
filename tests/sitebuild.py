"""Helpers for tests that build the real site: build once per session, read HTML and the search index."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Built:
    site: Path
    work: Path
    stdout: str
    # The repository's evidence folder (tree_digest) just before the build and just after it.
    evidence_before: str
    evidence_after: str

    def html(self, page: str) -> str:
        return (self.site / page / "index.html").read_text(encoding="utf-8")

    def search_pages(self) -> dict[str, dict[str, Any]]:
        return search_pages(self.site)


def tree_digest(folder: Path) -> str:
    """A digest of every file under `folder`: its path and its bytes."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def pagefind_file(path: Path) -> Any:
    """One of Pagefind's index files: gzip, a `pagefind_dcd` signature, then JSON (a page's fragment)
    or CBOR (the metadata, word and filter indexes)."""
    data = gzip.decompress(path.read_bytes())
    assert data.startswith(b"pagefind_dcd"), path
    body = data[len(b"pagefind_dcd") :]
    if path.suffix == ".pf_fragment":
        return json.loads(body)
    value, end = _cbor(body, 0)
    assert end == len(body), path
    return value


def _cbor(data: bytes, i: int) -> tuple[Any, int]:
    """One CBOR item at `i` (the kinds Pagefind writes: integers, strings, arrays, maps) and the end."""
    major, info = data[i] >> 5, data[i] & 31
    i += 1
    if info >= 28:
        raise ValueError(f"CBOR item {info} at byte {i - 1} is not one Pagefind writes")
    n = info
    if info >= 24:
        size = 1 << (info - 24)
        n, i = int.from_bytes(data[i : i + size], "big"), i + size
    if major == 0:
        return n, i
    if major == 1:
        return -1 - n, i
    if major in (2, 3):
        raw = data[i : i + n]
        return (raw.decode("utf-8") if major == 3 else raw), i + n
    items = []
    for _ in range(n * 2 if major == 5 else n):
        item, i = _cbor(data, i)
        items.append(item)
    if major == 4:
        return items, i
    if major == 5:
        return dict(zip(items[::2], items[1::2], strict=True)), i
    raise ValueError(f"CBOR major type {major} at byte {i} is not one Pagefind writes")


def search_meta(site: Path) -> list[Any]:
    """Pagefind 1.5's metadata index: [version, pages as [fragment hash, word count], word index
    chunks, filters as [name, file hash], sorts, metadata field names]. Its file name changes with it."""
    [path] = (site / "pagefind").glob("pagefind.*.pf_meta")
    meta: list[Any] = pagefind_file(path)
    return meta


def search_filters(site: Path) -> dict[str, dict[str, frozenset[str]]]:
    """The filters Pagefind indexed: filter -> value -> the urls of the pages that carry it.

    Pagefind numbers pages in its metadata index; a filter file lists, for each value, page numbers."""
    meta = search_meta(site)
    urls = [pagefind_file(site / "pagefind" / "fragment" / f"{h}.pf_fragment")["url"] for h, _ in meta[1]]
    filters = {}
    for name, file_hash in meta[3]:
        key, values = pagefind_file(site / "pagefind" / "filter" / f"{file_hash}.pf_filter")
        assert key == name
        filters[name] = {value: frozenset(urls[n] for n in pages) for value, pages in values}
    return filters


# Pagefind 1.5.2 writes each filter's values, and the filters in its metadata index, in an order that
# changes from run to run (a hash map's; its issue #638): these files, and the metadata index's and
# the entry file's hashes that name them, are the only ones two builds of the same pages may differ
# in. They are compared by what they hold instead (search_index_content).
UNSTABLE_SEARCH_FILES = re.compile(r"pagefind/(pagefind-entry\.json|pagefind\.[^/]+\.pf_meta|filter/[^/]+\.pf_filter)")


def search_index_content(site: Path) -> dict[str, Any]:
    """What the unstable search-index files hold, in a stable order: the entry file without the
    metadata index's hash, the metadata index with each filter as its sorted content, not its file."""
    entry = json.loads((site / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    for language in entry["languages"].values():
        language.pop("hash")
    meta = search_meta(site)
    filters = {}
    for name, file_hash in meta[3]:
        _, values = pagefind_file(site / "pagefind" / "filter" / f"{file_hash}.pf_filter")
        filters[name] = sorted((value, sorted(pages)) for value, pages in values)
    files = len(list((site / "pagefind" / "filter").glob("*")))
    return {"entry": entry, "meta": [*meta[:3], sorted(filters.items()), *meta[4:]], "filter files": files}


def search_pages(site: Path) -> dict[str, dict[str, Any]]:
    """What Pagefind indexed, page by page: url (from the site root, e.g. /reviews/ye-2024/) -> the
    page's record in the index, with its title and metadata (`meta`), filters and text (`content`).

    Each record is one gzip-compressed fragment file: a `pagefind_dcd` signature, then JSON."""
    pages = {}
    for path in sorted((site / "pagefind" / "fragment").glob("*.pf_fragment")):
        record = pagefind_file(path)
        pages[record["url"]] = record
    return pages


# A page whose whole content Pagefind is told to skip (overrides/main.html: Tags, What's new).
SKIPPED = re.compile(r'<article[^>]*>\s*<div[^>]*\bdata-pagefind-ignore="all"')


def indexed_pages(site: Path) -> set[str]:
    """The built pages Pagefind should index: every HTML page with the root element it is given
    (<article>) but those whose content it is told to skip, as the url Pagefind gives it."""
    urls = set()
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        if "pagefind" in page.relative_to(site).parts or "<article" not in html or SKIPPED.search(html):
            continue
        rel = page.relative_to(site).as_posix()
        urls.add("/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel))
    return urls


def build_py(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python build.py *args` in the repository, as a contributor runs it; its output is captured as
    text and its exit code left for the test to check."""
    return subprocess.run(
        [sys.executable, "build.py", *args], cwd=ROOT, capture_output=True, text=True, env=env, check=False
    )


def build(
    out: Path, work: Path, evidence: Path | None = None, strict: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    args = ["build", "--out", str(out), "--work", str(work)]
    if evidence is not None:
        args += ["--evidence", str(evidence)]
    if strict:
        args.append("--strict")
    return build_py(*args, env=env)


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
    # A task, in a visitor's words: the Contribute page's keywords (metadata, overrides/main.html).
    ("submit", "/contribute/"),
    ("new review", "/contribute/"),
    ("gap map", "/gapmap/"),
    ("evidence gap map", "/gapmap/"),
]


def _source_page(source: str, relative: str) -> str:
    """A source's own page when a record names that source, else the page of the source it is
    searched under (vocab/synonyms.yaml's source_relatives): derived from the records, not pinned."""
    for path in (ROOT / "evidence").glob("*.yaml"):
        if source in (yaml.safe_load(path.read_text(encoding="utf-8")).get("sources") or {}).get("ids", []):
            return f"/sources/{source}/"
    return f"/sources/{relative}/"


# Words of the field (the vocabularies' aliases and vocab/synonyms.yaml) and the page each must rank
# first with the site's ranking (tests/test_search_field.py); SEARCH_CASES holds them too.
SEARCH_FIRST = [
    ("SCI", "/conditions/spinal-cord-injury/"),
    ("TBI", "/conditions/traumatic-brain-injury/"),
    ("AKI", "/conditions/acute-kidney-injury/"),
    ("CKD", "/conditions/chronic-kidney-disease/"),
    ("DKD", "/conditions/diabetic-kidney-disease/"),
    ("OA", "/conditions/knee-osteoarthritis/"),
    ("POI", "/conditions/premature-ovarian-insufficiency/"),
    ("IUA", "/conditions/intrauterine-adhesion/"),
    ("ALI/ARDS", "/conditions/respiratory-diseases/"),
    ("NAFLD/NASH", "/conditions/nafld-nash/"),
    ("SAH", "/conditions/subarachnoid-hemorrhage/"),
    ("ICH", "/conditions/hemorrhagic-stroke/"),
    ("Wharton's jelly", _source_page("wharton-jelly", "uc")),
    ("BBB", "/conditions/spinal-cord-injury/"),
    ("AMH", "/conditions/premature-ovarian-insufficiency/"),
    ("EF", "/conditions/cardiovascular-diseases/"),
]
SEARCH_CASES += [
    *SEARCH_FIRST,
    # Found, not first: Pagefind matches the start of a word, and every "MSC" of the map starts with MS.
    ("MS", "/conditions/multiple-sclerosis/"),
    ("exosome", "/conditions/spinal-cord-injury/"),
    ("exosomes", "/sources/bm/"),
    ("small EVs", "/reviews/ye-2024/"),
    ("microvesicles", "/conditions/sepsis/"),
    ("extracellular vesicles", "/sources/uc/"),
    ("mNSS", "/conditions/traumatic-brain-injury/"),
    ("SCr", "/conditions/acute-kidney-injury/"),
    ("BUN", "/conditions/chronic-kidney-disease/"),
    ("BV/TV", "/conditions/osteoporosis/"),
]
