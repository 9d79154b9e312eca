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

Anything that changes the navigation or the configuration (a review added or removed, a new data
version) misses every layout, and a new or removed file misses every conversion: the cache is
exact, never stale, and a build that uses it writes the same site as one that does not
(tests/test_incremental.py). Entries not used by a build are deleted when it ends.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
from importlib import metadata
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.toc import AnchorLink, TableOfContents

FOLDER = "page-cache"
VERSION = "page-cache 1"
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
        self.files = ""  # the site's file list, set when the files are known
        self.navigation: str | None = None  # set at the first layout, when every page is converted
        self.used: set[str] = set()
        self.converted = self.laid_out = self.reused_conversions = self.reused_layouts = 0


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
    """The warnings a page's conversion logs, to replay when the conversion is reused."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def on_config(config: Any, **_: Any) -> None:
    global _state
    folder = Path(config.config_file_path).parent / FOLDER if config.config_file_path else None
    _state = _State(folder, config) if folder else None


def on_files(files: Any, config: Any, **_: Any) -> None:
    if _state is not None:
        _state.files = _digest(*(f"{f.src_uri}\0{f.dest_uri}\0{f.url}\0{f.inclusion}" for f in files))


@event_priority(-100)  # after every other plugin's change to the Markdown (the tags plugin's at -50)
def on_page_markdown(markdown: str, page: Any, config: Any, files: Any, **_: Any) -> str:
    if _state is None:
        return markdown
    # The log level decides what the conversion records (links to anchors) and logs.
    level = logging.getLogger("mkdocs").getEffectiveLevel()
    key = _digest(_state.settings, _state.files, level, page.file.src_uri, page.file.url, markdown)
    page._conversion_key = key
    path = _path("converted", key)
    try:
        entry = pickle.loads(path.read_bytes())
    except (OSError, pickle.PickleError, EOFError, ValueError):
        capture = _Capture()
        logging.getLogger("mkdocs").addHandler(capture)
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
    _state.reused_conversions += 1
    return markdown


@event_priority(100)  # before any other plugin changes the HTML
def on_page_content(html: str, page: Any, config: Any, files: Any, **_: Any) -> str:
    capture = page.__dict__.pop("_capture", None)
    if _state is None or capture is None:
        return html
    logging.getLogger("mkdocs").removeHandler(capture)
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
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            text = str(self._template.render(*args, **kwargs))
            _write(path, text.encode("utf-8"))
            _state.laid_out += 1  # type: ignore[union-attr]
            return text
        _state.reused_layouts += 1  # type: ignore[union-attr]
        return text


@event_priority(-100)  # after the tags plugin fills its listings in
def on_env(env: Any, config: Any, files: Any, **_: Any) -> Any:
    if _state is None:
        return env
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
    for kind in ("converted", "laid-out"):
        folder = _state.folder / kind
        if folder.is_dir():
            for entry in os.scandir(folder):
                if f"{kind}/{entry.name}" not in _state.used:
                    Path(entry.path).unlink(missing_ok=True)
    logging.getLogger("mkdocs.evidence_map.pagecache").info(
        "page cache: %d pages converted, %d reused; %d laid out, %d reused",
        _state.converted,
        _state.reused_conversions,
        _state.laid_out,
        _state.reused_layouts,
    )
    summary = _state.folder / "last-build.json"
    _write(
        summary,
        json.dumps(
            {
                "converted": _state.converted,
                "conversions reused": _state.reused_conversions,
                "laid out": _state.laid_out,
                "layouts reused": _state.reused_layouts,
            }
        ).encode("utf-8"),
    )


def on_build_error(error: Exception, **_: Any) -> None:
    for handler in list(logging.getLogger("mkdocs").handlers):
        if isinstance(handler, _Capture):
            logging.getLogger("mkdocs").removeHandler(handler)
