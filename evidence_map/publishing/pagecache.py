"""The site generator's page cache: a page whose inputs are unchanged is not converted or laid out again.

A hook of the generated mkdocs.yml (site.py adds it; mkdocs loads it by path). mkdocs converts
every page's Markdown, then lays every page out in the theme, on every build; at 2,000 reviews that
is almost all of a build, though an edited record changes a handful of pages. Two caches, in the
work folder beside the generated configuration, skip that work for the rest:

- **Conversion**, keyed by the page's Markdown (after the other plugins' edits), its path and
  address, the site's files its links can name (links are checked and rewritten against them:
  pagekeys.LinkTargets), and the Markdown settings. A hit restores what the conversion produced:
  the HTML, the table of contents, the title, the anchors and the links to anchors (mkdocs checks
  them after), and replays the warnings it logged, so a strict build fails the same way.
- **Layout**, keyed by what the theme reads: the page's HTML as it is when laid out (the tags
  plugin fills its listing in late), its title, address, metadata, table of contents, neighbours
  and sections, the tags it shows, the whole navigation with every title and metadata in it, the
  configuration, and the theme's templates by content. A hit returns the page laid out before.
  Layouts are kept by the site's address, for the three addresses built last: the live preview
  (`build.py serve`) has its own, and neither it nor a build lays every page out after the other.
  The theme's templates are kept compiled (pagekeys.compiled_theme), for the last three settings.

A block of raw HTML that a template marks verbatim (the largest tables) is kept out of the
conversion and its key, and put back after it (verbatim.py): Markdown would only have copied it.

A cold build has every page to convert and lay out, and mkdocs does it on one core: when there is
much to convert, a second process does half of it beside mkdocs, into the cache (pagehelper.py).
To know how much is missing, a large build reads only the pages whose file changed since the last
one (pagekeys.KnownKeys). The keys are made in pagekeys.py.

Anything that changes the navigation or the configuration (but the footer: footer.py) misses every
layout, and a new or removed file misses the conversions of the pages that can link to it: the
cache is exact, never stale, and a build that uses it writes the same site as one that does not
(tests/test_incremental.py). Entries not used by a build are deleted when it ends.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.toc import TableOfContents

from evidence_map.files import replace_file
from evidence_map.publishing import verbatim
from evidence_map.publishing.footer import WithFooter, configuration_without_footer, keep_out
from evidence_map.publishing.pagehelper import CONVERTED, WORKER, Helper, parallel_bytes, plan
from evidence_map.publishing.pagekeys import (
    CONFIG_KEYS,
    CONVERSION_KEYS,
    PACKAGES,
    VERSION,
    KnownKeys,
    LinkTargets,
    compiled_group,
    compiled_theme,
    digest,
    navigation,
    stable,
    theme_digest,
    toc,
    untoc,
    version,
)

FOLDER = "page-cache"
LAID_OUT = "laid-out"
GROUPS_KEPT = 3  # the layouts of this many site addresses, compiled templates of as many settings


class _State:
    """What one build knows: the cache folder, the shared parts of the keys, the entries used."""

    def __init__(self, folder: Path, config: Any) -> None:
        self.folder = folder
        self.settings = digest(
            VERSION,
            *(version(p) for p in PACKAGES),
            # The whole configuration file (the theme, the plugins and their settings, the
            # navigation) but the footer's data version (footer.py), what a command line set over
            # it, and the theme overrides by content.
            configuration_without_footer(Path(config.config_file_path)),
            *(f"{k}={stable(config.get(k))}" for k in CONFIG_KEYS),
            f"theme files={theme_digest(config)}",
        )
        # What a conversion reads of the settings: a preview's own address (mkdocs serve) or a
        # strict build reuses the conversions of a build, not its layouts.
        self.conversion = digest(
            VERSION,
            *(version(p) for p in PACKAGES),
            *(f"{k}={stable(config.get(k))}" for k in CONVERSION_KEYS),
        )
        # Layouts by the site's address: a preview (mkdocs serve, at its own address) and a build
        # each keep theirs, so that neither lays every page out again after the other.
        self.laid_out_kind = f"{LAID_OUT}/{digest(str(config.site_url))[:16]}"
        self.footer = ""  # the footer's text, kept out of the layouts (footer.py)
        self.files: LinkTargets | None = None  # the site's files, set when they are known
        self.navigation: str | None = None  # set at the first layout, when every page is converted
        self.used: set[str] = set()
        self.pages = self.layouts = 0  # pages converted or read from the cache, and laid out or read
        self.converted = self.laid_out = 0  # of those, converted and laid out in this process
        self.helper: Helper | None = None  # the second process, if one was started


_state: _State | None = None


def _path(kind: str, key: str) -> Path:
    assert _state is not None
    _state.used.add(f"{kind}/{key}")
    return _state.folder / kind / key


class _Capture(logging.Handler):
    """What a page's conversion logs, from INFO up whatever the log level (a quiet build's
    conversions serve the preview too), to replay when the conversion is reused. The other
    handlers still see only what the level lets through."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[str, int, str]] = []
        self._logger = logging.getLogger("mkdocs")
        self._level = self._logger.level
        self._filtered: list[logging.Handler] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))

    def filter_below(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self._level

    def start(self) -> None:
        if self._level > logging.INFO:
            self._filtered = list(self._logger.handlers)
            for handler in self._filtered:
                handler.addFilter(self.filter_below)
            self._logger.setLevel(logging.INFO)
        self._logger.addHandler(self)

    def stop(self) -> None:
        self._logger.removeHandler(self)
        for handler in self._filtered:
            handler.removeFilter(self.filter_below)
        if self._filtered:
            self._logger.setLevel(self._level)
        self._filtered = []


def on_config(config: Any, **_: Any) -> None:
    global _state
    folder = Path(config.config_file_path).parent / FOLDER if config.config_file_path else None
    _state = _State(folder, config) if folder else None
    if _state is not None:
        _state.footer = keep_out(config)  # laid out with a placeholder, put back on every use


def on_files(files: Any, config: Any, **_: Any) -> None:
    if _state is not None:
        _state.files = LinkTargets(files)


def _conversion_key(file: Any, markdown: str) -> str:
    assert _state is not None
    # At the debug level, mkdocs does not record the links to anchors.
    debug = logging.getLogger("mkdocs").getEffectiveLevel() <= logging.DEBUG
    linked = _state.files.of(markdown, file.src_uri) if _state.files is not None else []
    return digest(_state.conversion, *linked, debug, file.src_uri, file.url, markdown)


def on_nav(nav: Any, config: Any, files: Any, **_: Any) -> Any:
    """Before mkdocs converts the pages: if many are not in the cache, start the second process on
    half of them (pagehelper.py)."""
    if _state is None or not config.config_file_path or os.environ.get(WORKER):
        return nav  # (the second process itself starts none)
    pages = files.documentation_pages()
    stats = {f.src_uri: os.stat(f.abs_src_path) for f in pages}
    if sum(st.st_size for st in stats.values()) < parallel_bytes():
        return nav  # too little for it, whatever the cache holds: no page read twice
    debug = logging.getLogger("mkdocs").getEffectiveLevel() <= logging.DEBUG
    scope = _state.files.digest if _state.files is not None else ""
    known = KnownKeys(_state.folder, digest(_state.conversion, debug, scope))
    missing = known.missing(pages, stats, _conversion_key, _state.folder / "converted")
    shares = plan(missing, [f.src_uri for f in pages])
    if shares is not None:
        _state.helper = Helper(config, _state.folder, *shares)
    return nav


@event_priority(-100)  # after every other plugin's change to the Markdown (the tags plugin's at -50)
def on_page_markdown(markdown: str, page: Any, config: Any, files: Any, **_: Any) -> str:
    if _state is None:
        return markdown
    # The raw HTML blocks the page marks are kept out of the conversion and its key (verbatim.py).
    markdown, page._verbatim = verbatim.split(markdown)
    key = _conversion_key(page.file, markdown)
    page._conversion_key = key
    _state.pages += 1
    path = _path("converted", key)
    if _state.helper is not None and page.file.src_uri in _state.helper.converts:
        _state.helper.wait(CONVERTED)
    try:
        entry = pickle.loads(path.read_bytes())
    except (OSError, pickle.PickleError, EOFError, ValueError):
        capture = _Capture()
        capture.start()
        page._capture = capture
        return markdown

    def restore(config: Any, files: Any) -> None:
        page.content = entry["content"]
        page.toc = TableOfContents(untoc(entry["toc"]))
        if page.toc.items:
            page.toc.items[0].active = True  # as mkdocs' own conversion marks it
        page._title_from_render = entry["title"]
        page.present_anchor_ids = set(entry["anchors"])
        if entry["links"] is not None:
            page.links_to_anchors = {
                f: links for uri, links in entry["links"].items() if (f := files.get_file_from_path(uri)) is not None
            }
        for name, level, message in entry["warnings"]:
            logging.getLogger(name).log(level, message)

    page.render = restore  # this page only: mkdocs calls page.render(config, files) next
    return markdown


@event_priority(100)  # before any other plugin changes the HTML
def on_page_content(html: str, page: Any, config: Any, files: Any, **_: Any) -> str:
    capture = page.__dict__.pop("_capture", None)
    blocks = page.__dict__.pop("_verbatim", [])
    if _state is not None and capture is not None:
        _keep_conversion(page, capture)
    if blocks:
        page.present_anchor_ids = (page.present_anchor_ids or set()) | verbatim.anchors(blocks)
    return verbatim.join(html, blocks)


def _keep_conversion(page: Any, capture: _Capture) -> None:
    """What the page's conversion produced, into the cache (its raw HTML blocks still out)."""
    assert _state is not None
    capture.stop()
    links = page.links_to_anchors
    entry = {
        "content": page.content,
        "toc": toc(page.toc),
        "title": page._title_from_render,
        "anchors": sorted(page.present_anchor_ids or ()),
        "links": None if links is None else {f.src_uri: dict(v) for f, v in links.items()},
        "warnings": capture.records,
    }
    replace_file(_state.folder / "converted" / page._conversion_key, pickle.dumps(entry, pickle.HIGHEST_PROTOCOL))
    _state.converted += 1


def _layout_key(context: Any) -> str | None:
    page = context.get("page")
    nav = context.get("nav")
    if _state is None or page is None or nav is None or page.content is None:
        return None
    if _state.navigation is None:
        _state.navigation = navigation(nav)

    def neighbour(p: Any) -> Any:
        return None if p is None else [p.title, p.url]

    parents = []
    parent = page.parent
    while parent is not None:
        parents.append(parent.title)
        parent = parent.parent
    return digest(
        _state.settings,
        _state.navigation,
        page.file.src_uri,
        page.url,
        page.canonical_url,
        page.edit_url,
        page.title,
        page.is_homepage,
        stable(page.meta),
        stable(toc(page.toc or ())),
        stable(neighbour(page.previous_page)),
        stable(neighbour(page.next_page)),
        stable(parents),
        stable([[str(t), getattr(t, "url", None)] for t in context.get("tags") or ()]),
        context.get("base_url"),
        hashlib.sha256(page.content.encode("utf-8")).hexdigest(),
    )


class _CachedTemplate:
    """A theme template whose output for a page is reused when the page's layout key is unchanged."""

    def __init__(self, template: Any) -> None:
        self._template = template

    def __getattr__(self, name: str) -> Any:
        return getattr(self._template, name)

    def render(self, *args: Any, **kwargs: Any) -> str:
        context = args[0] if args else kwargs
        key = _layout_key(context) if _state is not None else None
        if key is None:
            return str(self._template.render(*args, **kwargs))
        key = digest(key, self._template.name)
        path = _path(_state.laid_out_kind, key)  # type: ignore[union-attr]
        page = context.get("page")
        _state.layouts += 1  # type: ignore[union-attr]
        helper = _state.helper  # type: ignore[union-attr]
        if helper is not None and page is not None and page.file.src_uri in helper.lays_out:
            helper.wait()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            text = str(self._template.render(*args, **kwargs))
            replace_file(path, text.encode("utf-8"))
            _state.laid_out += 1  # type: ignore[union-attr]
        return text


@event_priority(-100)  # after the tags plugin fills its listings in
def on_env(env: Any, config: Any, files: Any, **_: Any) -> Any:
    if _state is None:
        return env
    if _state.helper is not None:
        _state.helper.signal_all_converted()
    env.bytecode_cache = compiled_theme(_state.folder, _state.settings)
    get_template = env.get_template
    footer = _state.footer

    def cached(name: Any, *args: Any, **kwargs: Any) -> Any:
        template = get_template(name, *args, **kwargs)
        if name == "main.html":  # the pages' layout
            template = _CachedTemplate(template)
        return WithFooter(template, footer)

    env.get_template = cached
    return env


def on_post_build(config: Any, **_: Any) -> None:
    """Delete the entries this build did not use, and say what was reused."""
    if _state is None:
        return
    helped = {"converted": 0, "laid out": 0}
    if _state.helper is not None:
        _state.helper.wait()
        helped = _state.helper.counts
        _state.helper.stop()
    for kind in ("converted", _state.laid_out_kind):
        folder = _state.folder / kind
        if folder.is_dir():
            for entry in os.scandir(folder):
                if f"{kind}/{entry.name}" not in _state.used:
                    Path(entry.path).unlink(missing_ok=True)
    for group in (_state.laid_out_kind, compiled_group(_state.settings)):
        _keep_recent_groups(_state.folder / group)
    counts = {
        "converted": _state.converted,
        "conversions reused": _state.pages - _state.converted - helped["converted"],
        "laid out": _state.laid_out,
        "layouts reused": _state.layouts - _state.laid_out - helped["laid out"],
        "converted by the second process": helped["converted"],
        "laid out by the second process": helped["laid out"],
    }
    logging.getLogger("mkdocs.evidence_map.pagecache").info("page cache: %s", counts)
    replace_file(_state.folder / "last-build.json", json.dumps(counts).encode("utf-8"))


def _keep_recent_groups(mine: Path) -> None:
    """Keep the groups (layouts by address, compiled templates by settings) built most recently,
    this one first; delete the rest."""
    mine.mkdir(parents=True, exist_ok=True)
    os.utime(mine)
    groups = []
    for entry in mine.parent.iterdir():
        if entry.is_dir():
            groups.append(entry)
        else:
            entry.unlink(missing_ok=True)  # a layout kept before they were grouped by address
    groups.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in [p for p in groups if p != mine][GROUPS_KEPT - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def on_build_error(error: Exception, **_: Any) -> None:
    if _state is not None and _state.helper is not None:
        _state.helper.stop()
        _state.helper = None
    for handler in list(logging.getLogger("mkdocs").handlers):
        if isinstance(handler, _Capture):
            handler.stop()
