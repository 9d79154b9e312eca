"""The site generator's page cache: a page whose inputs are unchanged is not converted or laid out again.

A hook of the generated mkdocs.yml (site.py adds it; mkdocs loads it by path). mkdocs converts
every page's Markdown, then lays every page out in the theme, on every build; at 2,000 reviews that
is almost all of a build, though an edited record changes a handful of pages. Two caches, in the
work folder beside the generated configuration, skip that work for the rest:

- **Conversion**, keyed by the page's Markdown (after the other plugins' edits), its path and
  address, the list of every file of the site (links are checked and rewritten against it), and the
  Markdown settings. A hit restores what the conversion produced: the HTML, the table of contents,
  the title, the anchors and the links to anchors (mkdocs checks them after), and replays the
  warnings it logged, so a strict build fails the same way.
- **Layout**, keyed by what the theme reads: the page's HTML as it is when laid out (the tags
  plugin fills its listing in late), its title, address, metadata, table of contents, neighbours
  and sections, the tags it shows, the whole navigation with every title and metadata in it, the
  configuration, and the theme's templates by content. A hit returns the page laid out before.

A cold build has every page to convert, and mkdocs converts them one after another on one core. So
when the pages to convert come to more than PARALLEL_BYTES of Markdown, a second process (this file
run as a script) converts the second half of them into the cache while mkdocs converts the first,
and mkdocs reads that half from the cache when it reaches it. Should the process fail, mkdocs
converts those pages itself.

Anything that changes the navigation or the configuration (a review added or removed, a new data
version) misses every layout, and a new or removed file misses every conversion: the cache is
exact, never stale, and a build that uses it writes the same site as one that does not
(tests/test_incremental.py). Entries not used by a build are deleted when it ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.toc import AnchorLink, TableOfContents

FOLDER = "page-cache"
VERSION = "page-cache 1"
PARALLEL_BYTES = 1_000_000  # Markdown to convert before a second process pays for its start (about 2 s)
PAGE_BYTES = 4_000  # a page's fixed cost of conversion, as bytes of Markdown that take as long
WORKER = "EVIDENCE_MAP_PAGE_CACHE_WORKER"  # set in the second process, which starts no other
PARALLEL_SETTING = "EVIDENCE_MAP_PAGE_CACHE_PARALLEL_BYTES"  # another threshold (the tests set 0)
CONVERTED = "converted"  # the signal the second process writes when its pages are converted
ALL_CONVERTED = "all converted"  # the one mkdocs writes when every page is: the layouts can start
PACKAGES = ("mkdocs", "mkdocs-material", "pymdown-extensions", "Markdown", "Jinja2", "Pygments")
CONFIG_KEYS = (
    "site_name",
    "site_url",
    "site_description",
    "site_author",
    "copyright",
    "repo_url",
    "repo_name",
    "edit_uri",
    "use_directory_urls",
    "extra",
    "extra_css",
    "extra_javascript",
    "markdown_extensions",
    "mdx_configs",
    "validation",
    "strict",
)


CONVERSION_KEYS = ("markdown_extensions", "mdx_configs", "validation", "use_directory_urls")


class _State:
    """What one build knows: the cache folder, the shared parts of the keys, the entries used."""

    def __init__(self, folder: Path, config: Any) -> None:
        self.folder = folder
        self.settings = _digest(
            VERSION,
            *(_version(p) for p in PACKAGES),
            *(f"{k}={_stable(config.get(k))}" for k in CONFIG_KEYS),
            f"theme={_stable(dict(config.theme.items()) if config.get('theme') else None)}",
            f"theme files={_theme_digest(config)}",
        )
        # What a conversion reads of the settings: a preview's own address (mkdocs serve) or a
        # strict build reuses the conversions of a build, not its layouts.
        self.conversion = _digest(
            VERSION,
            *(_version(p) for p in PACKAGES),
            *(f"{k}={_stable(config.get(k))}" for k in CONVERSION_KEYS),
        )
        self.files = ""  # the site's file list, set when the files are known
        self.navigation: str | None = None  # set at the first layout, when every page is converted
        self.used: set[str] = set()
        self.pages = self.layouts = 0  # pages converted or read from the cache, and laid out or read
        self.converted = self.laid_out = 0  # of those, converted and laid out in this process
        self.helper: subprocess.Popen[bytes] | None = None  # the second process, while it converts
        self.helped: set[str] = set()  # the pages it converts
        self.helped_layouts: set[str] = set()  # the pages it lays out
        self.job = folder  # the folder of its job and signals
        self.helper_counts = {"converted": 0, "laid out": 0}  # what the second process converted and laid out


_state: _State | None = None


def _version(package: str) -> str:
    try:
        return f"{package}=={metadata.version(package)}"
    except metadata.PackageNotFoundError:
        return f"{package} absent"


def _digest(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def _stable(value: Any) -> str:
    """A value as text that is the same in every process (no object addresses)."""
    return json.dumps(value, sort_keys=True, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(map(str, value))
    if hasattr(value, "items"):
        return dict(value.items())
    if isinstance(value, (list, tuple)):
        return list(value)
    return f"{type(value).__name__}:{value}"


def _theme_digest(config: Any) -> str:
    """The theme's own template folders by content (the overrides); an installed theme's are covered
    by its version."""
    import material
    import mkdocs

    installed = [Path(material.__file__).parent, Path(mkdocs.__file__).parent]
    h = hashlib.sha256()
    for folder in getattr(config.theme, "dirs", []):
        if any(Path(folder).is_relative_to(p) for p in installed):
            continue
        for parent, dirs, names in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(names):
                path = Path(parent) / name
                h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _path(kind: str, key: str) -> Path:
    assert _state is not None
    _state.used.add(f"{kind}/{key}")
    return _state.folder / kind / key


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _toc(items: Any) -> list[Any]:
    return [[a.title, a.id, a.level, _toc(a.children)] for a in items]


def _untoc(items: list[Any]) -> list[AnchorLink]:
    out = []
    for title, id_, level, children in items:
        a = AnchorLink(title, id_, level)
        a.children = _untoc(children)
        out.append(a)
    return out


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


def on_files(files: Any, config: Any, **_: Any) -> None:
    if _state is not None:
        _state.files = _digest(*(f"{f.src_uri}\0{f.dest_uri}\0{f.url}\0{f.inclusion}" for f in files))


def _conversion_key(file: Any, markdown: str) -> str:
    assert _state is not None
    # At the debug level, mkdocs does not record the links to anchors.
    debug = logging.getLogger("mkdocs").getEffectiveLevel() <= logging.DEBUG
    return _digest(_state.conversion, _state.files, debug, file.src_uri, file.url, markdown)


def on_nav(nav: Any, config: Any, files: Any, **_: Any) -> Any:
    """Before mkdocs converts the pages: if many are not in the cache, start the second process on
    the second half of them (by size)."""
    if _state is None or os.environ.get(WORKER) or not config.config_file_path:
        return nav
    from mkdocs.utils import meta

    missing = []
    for file in files.documentation_pages():
        try:
            markdown, _meta = meta.get_data(file.content_string)
        except (OSError, ValueError):
            continue  # mkdocs reports it when it reads the page
        if not (_state.folder / "converted" / _conversion_key(file, markdown)).exists():
            missing.append((file.src_uri, len(markdown)))
    threshold = int(os.environ.get(PARALLEL_SETTING, PARALLEL_BYTES))
    if sum(size for _, size in missing) < threshold:
        return nav
    total = sum(size + PAGE_BYTES for _, size in missing)
    done, half = 0, len(missing)
    for i, (_, size) in enumerate(missing):
        done += size + PAGE_BYTES
        if done >= total / 2:
            half = i + 1
            break
    second = [uri for uri, _ in missing[half:]]
    if not second or sum(size + PAGE_BYTES for uri, size in missing[half:]) < threshold / 2:
        return nav  # one large page to convert (the pooled effects after an edit): nothing to share
    # Layouts cost about the same for every page: the second half of the pages by number.
    pages = [f.src_uri for f in files.documentation_pages()]
    layouts = pages[len(pages) // 2 :]
    _state.job = Path(tempfile.mkdtemp(prefix=".page-cache-job-", dir=_state.folder.parent))
    with open(_state.job / "job.json", "w", encoding="utf-8") as fh:
        json.dump(
            {
                "config": config.config_file_path,
                "level": logging.getLogger("mkdocs").getEffectiveLevel(),
                "strict": bool(config.strict),
                "site_url": config.site_url,
                "pages": second,
                "layouts": layouts,
            },
            fh,
        )
    _state.helper = subprocess.Popen(
        [sys.executable, __file__, str(_state.job)], env={**os.environ, WORKER: "1"}, stdout=subprocess.DEVNULL
    )
    _state.helped, _state.helped_layouts = set(second), set(layouts)
    return nav


def _wait_for_helper(signal: str | None = None) -> None:
    """Wait until the second process has written `signal` (a file of its job folder), or, with
    none, until it has ended. A process that ended without it has failed: mkdocs does its part."""
    assert _state is not None
    helper = _state.helper
    if helper is None:
        return
    if signal is not None:
        while not (_state.job / signal).exists() and helper.poll() is None:
            time.sleep(0.02)
        if (_state.job / signal).exists():
            return
    if helper.wait() == 0:  # else its pages miss the cache, and mkdocs converts and lays them out
        with contextlib.suppress(OSError, ValueError):
            _state.helper_counts = json.loads((_state.job / "counts.json").read_text(encoding="utf-8"))
    _state.helper = None


@event_priority(-100)  # after every other plugin's change to the Markdown (the tags plugin's at -50)
def on_page_markdown(markdown: str, page: Any, config: Any, files: Any, **_: Any) -> str:
    if _state is None:
        return markdown
    key = _conversion_key(page.file, markdown)
    page._conversion_key = key
    _state.pages += 1
    path = _path("converted", key)
    if page.file.src_uri in _state.helped:
        _wait_for_helper(CONVERTED)
    try:
        entry = pickle.loads(path.read_bytes())
    except (OSError, pickle.PickleError, EOFError, ValueError):
        capture = _Capture()
        capture.start()
        page._capture = capture
        return markdown

    def restore(config: Any, files: Any) -> None:
        page.content = entry["content"]
        page.toc = TableOfContents(_untoc(entry["toc"]))
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
    if _state is None or capture is None:
        return html
    capture.stop()
    links = page.links_to_anchors
    entry = {
        "content": page.content,
        "toc": _toc(page.toc),
        "title": page._title_from_render,
        "anchors": sorted(page.present_anchor_ids or ()),
        "links": None if links is None else {f.src_uri: dict(v) for f, v in links.items()},
        "warnings": capture.records,
    }
    _write(_state.folder / "converted" / page._conversion_key, pickle.dumps(entry, pickle.HIGHEST_PROTOCOL))
    _state.converted += 1
    return html


def _navigation(nav: Any) -> str:
    """Every item of the navigation as the theme can read it: kind, title, address, metadata."""

    def items(children: Any) -> list[Any]:
        out = []
        for item in children or ():
            kind = "section" if item.is_section else "page" if item.is_page else "link"
            meta = getattr(item, "meta", None) if item.is_page else None
            out.append([kind, item.title, getattr(item, "url", None), meta, items(getattr(item, "children", None))])
        return out

    return _digest(_stable(items(nav.items)), _stable([p.url for p in nav.pages]))


def _layout_key(context: Any) -> str | None:
    page = context.get("page")
    nav = context.get("nav")
    if _state is None or page is None or nav is None or page.content is None:
        return None
    if _state.navigation is None:
        _state.navigation = _navigation(nav)

    def neighbour(p: Any) -> Any:
        return None if p is None else [p.title, p.url]

    parents = []
    parent = page.parent
    while parent is not None:
        parents.append(parent.title)
        parent = parent.parent
    return _digest(
        _state.settings,
        _state.navigation,
        page.file.src_uri,
        page.url,
        page.canonical_url,
        page.edit_url,
        page.title,
        page.is_homepage,
        _stable(page.meta),
        _stable(_toc(page.toc or ())),
        _stable(neighbour(page.previous_page)),
        _stable(neighbour(page.next_page)),
        _stable(parents),
        _stable([[str(t), getattr(t, "url", None)] for t in context.get("tags") or ()]),
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
        key = _digest(key, self._template.name)
        path = _path("laid-out", key)
        page = context.get("page")
        _state.layouts += 1  # type: ignore[union-attr]
        if page is not None and page.file.src_uri in _state.helped_layouts:  # type: ignore[union-attr]
            _wait_for_helper()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            text = str(self._template.render(*args, **kwargs))
            _write(path, text.encode("utf-8"))
            _state.laid_out += 1  # type: ignore[union-attr]
        return text


@event_priority(-100)  # after the tags plugin fills its listings in
def on_env(env: Any, config: Any, files: Any, **_: Any) -> Any:
    if _state is None:
        return env
    if _state.helper is not None:
        (_state.job / ALL_CONVERTED).touch()
    get_template = env.get_template

    def cached(name: Any, *args: Any, **kwargs: Any) -> Any:
        template = get_template(name, *args, **kwargs)
        return _CachedTemplate(template) if name == "main.html" else template  # the pages' layout

    env.get_template = cached
    return env


def on_post_build(config: Any, **_: Any) -> None:
    """Delete the entries this build did not use, and say what was reused."""
    if _state is None:
        return
    _wait_for_helper()
    if _state.job != _state.folder:
        shutil.rmtree(_state.job, ignore_errors=True)
    for kind in ("converted", "laid-out"):
        folder = _state.folder / kind
        if folder.is_dir():
            for entry in os.scandir(folder):
                if f"{kind}/{entry.name}" not in _state.used:
                    Path(entry.path).unlink(missing_ok=True)
    helper = _state.helper_counts
    counts = {
        "converted": _state.converted,
        "conversions reused": _state.pages - _state.converted - helper["converted"],
        "laid out": _state.laid_out,
        "layouts reused": _state.layouts - _state.laid_out - helper["laid out"],
        "converted by the second process": helper["converted"],
        "laid out by the second process": helper["laid out"],
    }
    logging.getLogger("mkdocs.evidence_map.pagecache").info("page cache: %s", counts)
    _write(_state.folder / "last-build.json", json.dumps(counts).encode("utf-8"))


def on_build_error(error: Exception, **_: Any) -> None:
    if _state is not None and _state.helper is not None:
        _state.helper.kill()
        _state.helper.wait()
        _state.helper = None
    if _state is not None and _state.job != _state.folder:
        shutil.rmtree(_state.job, ignore_errors=True)
    for handler in list(logging.getLogger("mkdocs").handlers):
        if isinstance(handler, _Capture):
            handler.stop()


def _help(job_folder: str) -> int:
    """The second process: convert the pages its job names into the cache, as mkdocs would; once
    mkdocs has converted the others, lay its pages out into the cache too (into a scratch folder)."""
    from mkdocs.commands.build import _build_page, _populate_page
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files, set_exclusions
    from mkdocs.structure.nav import get_navigation
    from mkdocs.structure.pages import Page

    job = Path(job_folder)
    spec = json.loads((job / "job.json").read_text(encoding="utf-8"))
    log = logging.getLogger("mkdocs")
    log.setLevel(spec["level"])
    log.addHandler(logging.NullHandler())  # what it logs is kept with each page, and replayed by mkdocs
    log.propagate = False
    config = load_config(spec["config"], strict=spec["strict"], site_url=spec["site_url"])
    config.site_dir = str(job / "site")  # its own pages are written by mkdocs, from the cache
    config.plugins.on_startup(command="build", dirty=False)
    config = config.plugins.on_config(config)
    config.plugins.on_pre_build(config=config)
    files = get_files(config)
    env = config.theme.get_env()
    files.add_files_from_theme(env, config)
    files = config.plugins.on_files(files, config=config)
    set_exclusions(files, config)
    nav = get_navigation(files, config)
    nav = config.plugins.on_nav(nav, config=config, files=files)
    mine, layouts = set(spec["pages"]), set(spec["layouts"])
    doc_files = files.documentation_pages()
    pages = [(f.src_uri, f.page if f.page is not None else Page(None, f, config)) for f in doc_files]
    for uri, page in pages:
        if uri in mine:
            _populate_page(page, config, files)
    (job / CONVERTED).touch()
    parent = os.getppid()
    while not (job / ALL_CONVERTED).exists():  # mkdocs converts the rest, or has stopped
        if os.getppid() != parent:
            return 1
        time.sleep(0.02)
    for uri, page in pages:
        if uri not in mine:
            _populate_page(page, config, files)  # from the cache
    env = config.plugins.on_env(env, config=config, files=files)
    for uri, page in pages:
        if uri in layouts:
            _build_page(page, config, doc_files, nav, env)
    hook = next(p for p in config.plugins.values() if getattr(p, "_help", None) is not None)
    state = hook._state
    counts = {"converted": state.converted, "laid out": state.laid_out}
    (job / "counts.json").write_text(json.dumps(counts), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(_help(sys.argv[1]))
