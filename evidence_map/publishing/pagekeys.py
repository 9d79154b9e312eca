"""What the page cache's keys are made of (pagecache.py): digests, settings and pages as text that
is the same in every process, and a table of contents to store and restore."""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from mkdocs.structure.toc import AnchorLink

from evidence_map.files import replace_file
from evidence_map.publishing import verbatim
from evidence_map.publishing.generator import tree_files
from evidence_map.publishing.inputs import Digest, digest

VERSION = "page-cache 2"
COMPILED_THEME = "compiled-theme"  # the theme's compiled templates, a folder per settings
PACKAGES = ("mkdocs", "mkdocs-material", "pymdown-extensions", "Markdown", "Jinja2", "Pygments")
# The settings a command line may set over the configuration file, whose bytes are in every layout's
# key: mkdocs serve its own address, a build --strict.
CONFIG_KEYS = ("site_url", "strict", "use_directory_urls")
CONVERSION_KEYS = ("markdown_extensions", "mdx_configs", "validation", "use_directory_urls")


def version(package: str) -> str:
    try:
        return f"{package}=={metadata.version(package)}"
    except metadata.PackageNotFoundError:
        return f"{package} absent"


def stable(value: Any) -> str:
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


def theme_digest(config: Any) -> str:
    """The theme's own template folders by content (the overrides); an installed theme's are covered
    by its version."""
    import material
    import mkdocs

    installed = [Path(material.__file__).parent, Path(mkdocs.__file__).parent]
    h = Digest()
    for folder in map(Path, getattr(config.theme, "dirs", [])):
        if not any(folder.is_relative_to(p) for p in installed):
            for path in tree_files(folder):
                h.add(path.relative_to(folder).as_posix(), path.read_bytes())
    return h.hexdigest()


def toc(items: Any) -> list[Any]:
    return [[a.title, a.id, a.level, toc(a.children)] for a in items]


def untoc(items: list[Any]) -> list[AnchorLink]:
    out = []
    for title, id_, level, children in items:
        a = AnchorLink(title, id_, level)
        a.children = untoc(children)
        out.append(a)
    return out


def navigation(nav: Any) -> str:
    """Every item of the navigation as the theme can read it: kind, title, address, metadata."""

    def items(children: Any) -> list[Any]:
        out = []
        for item in children or ():
            kind = "section" if item.is_section else "page" if item.is_page else "link"
            meta = getattr(item, "meta", None) if item.is_page else None
            out.append([kind, item.title, getattr(item, "url", None), meta, items(getattr(item, "children", None))])
        return out

    return digest(stable(items(nav.items)), stable([p.url for p in nav.pages]))


# A word of a link's target: a link names its target's file or folder as one of these.
_WORD = re.compile(r"[A-Za-z0-9_.~-]+")
# What mkdocs checks against the site's files: the targets of Markdown links and images, of
# reference definitions, and of href and src attributes (of HTML that Markdown parses; the others
# are only counted too).
_TARGETS = (  # three patterns, not one alternation: about three times faster on a large page
    re.compile(r"\]\(\s*(?:<([^>]*)>|([^)\s]*))"),
    re.compile(r"(?:href|src)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))"),
    re.compile(r"^[ ]{0,3}\[[^\]]+\]:\s*(?:<([^>]*)>|(\S+))", re.MULTILINE),
)


class LinkTargets:
    """The site's files that a page's conversion can depend on. mkdocs checks each link of a page
    against the site's files and rewrites it, so a conversion depends on the files its links name,
    not on the rest: a review added changes the pages that link to it, not every page. A file counts
    for a page when its name, its name without the extension, or (for an index page) its folder's
    name is a word of one of the page's link targets, as written, percent-decoded or HTML-unescaped.
    A file whose name is not such a word counts for every page."""

    def __init__(self, files: Any) -> None:
        self._by_word: dict[str, list[str]] = {}
        self._always: list[str] = []
        every = Digest()
        for f in files:
            entry = f"{f.src_uri}\0{f.dest_uri}\0{f.url}\0{f.inclusion}"
            every.add(entry)
            parts = f.src_uri.split("/")
            words = {parts[-1], parts[-1].rsplit(".", 1)[0]}
            if parts[-1] == "index.md" and len(parts) > 1:
                words.add(parts[-2])
            if not all(_WORD.fullmatch(w) for w in words):
                self._always.append(entry)
                continue
            for word in words:
                self._by_word.setdefault(word, []).append(entry)
        self._last: dict[str, tuple[str, list[str]]] = {}  # by page: a large build asks twice
        self.digest = every.hexdigest()  # of every file: what any page's links can name

    def of(self, markdown: str, page: str = "") -> list[str]:
        """The entries of the files `markdown` (of `page`) can link to, in a stable order."""
        last = self._last.get(page)
        if page and last is not None and last[0] == markdown:
            return last[1]
        found = self._find(markdown)
        if page:
            self._last[page] = (markdown, found)
        return found

    def _find(self, markdown: str) -> list[str]:
        targets = {t for pattern in _TARGETS for match in pattern.findall(markdown) for t in match if t}
        words: set[str] = set()
        for target in targets:
            words.update(_WORD.findall(target))
            words.update(_WORD.findall(unquote(html.unescape(target))))
        return sorted({entry for w in words for entry in self._by_word.get(w, ())}) + self._always


class KnownKeys:
    """The conversion keys of the last large build's pages, by each page's file size and
    modification time (the page writer leaves an unchanged file untouched), kept under a scope: the
    conversion settings and the site's files, on which the keys depend too. A large build counts
    the pages missing from the cache before converting any (pagecache.on_nav); with these it reads
    and parses only the pages whose file changed, not all of them twice."""

    FILE = "page-keys.json"

    def __init__(self, folder: Path, scope: str) -> None:
        self.path = folder / self.FILE
        self.scope = scope
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = None
        same = isinstance(saved, dict) and saved.get("scope") == scope and isinstance(saved.get("pages"), dict)
        self._known: dict[str, list[Any]] = saved["pages"] if same else {}  # type: ignore[index]
        self._now: dict[str, list[Any]] = {}

    def get(self, page: str, st: os.stat_result) -> tuple[str, int] | None:
        """(key, length of the Markdown converted) of `page` if its file is as it was, else None."""
        entry = self._known.get(page)
        if isinstance(entry, list) and len(entry) == 4 and entry[:2] == [st.st_size, st.st_mtime_ns]:
            self._now[page] = entry
            return str(entry[2]), int(entry[3])
        return None

    def put(self, page: str, st: os.stat_result, key: str, length: int) -> None:
        self._now[page] = [st.st_size, st.st_mtime_ns, key, length]

    def missing(
        self, pages: list[Any], stats: dict[str, os.stat_result], key_of: Callable[[Any, str], str], cache: Path
    ) -> list[tuple[str, int]]:
        """The `pages` (mkdocs files) whose conversion is not in the `cache` folder, in order, each
        with the length of its Markdown to convert; `key_of(file, markdown)` makes a key. The keys
        are kept for the next build."""
        from mkdocs.utils import meta

        missing = []
        for file in pages:
            st = stats[file.src_uri]
            if (recalled := self.get(file.src_uri, st)) is not None:
                key, length = recalled
            else:
                try:
                    markdown, _meta = meta.get_data(file.content_string)
                except (OSError, ValueError):
                    continue  # mkdocs reports it when it reads the page
                markdown = verbatim.split(markdown)[0]  # what is converted: the blocks are only copied
                key, length = key_of(file, markdown), len(markdown)
                self.put(file.src_uri, st, key, length)
            if not (cache / key).exists():
                missing.append((file.src_uri, length))
        self.save()
        return missing

    def save(self) -> None:
        """Keep the keys of this build's pages, and only those."""
        if self._now != self._known:
            replace_file(self.path, json.dumps({"scope": self.scope, "pages": self._now}))


def compiled_group(settings: str) -> str:
    """The folder, in the page cache, of the theme's templates compiled under the settings digest `settings`."""
    return f"{COMPILED_THEME}/{settings[:16]}"


def compiled_theme(cache: Path, settings: str) -> Any:
    """Where the theme's compiled templates are kept, in the page cache, for the settings digest
    `settings` (the configuration, the theme's files and the packages' versions, which decide how
    a template compiles): mkdocs compiles them again on every build otherwise. Jinja checks each
    against its template's source."""
    import jinja2

    class Kept(jinja2.FileSystemBytecodeCache):
        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            """Keep a compiled template if the folder is still there: another build (at a fourth
            address or setting) may have deleted it, and a template not kept is only compiled again."""
            with contextlib.suppress(OSError):
                super().dump_bytecode(bucket)

    folder = cache / compiled_group(settings)
    folder.mkdir(parents=True, exist_ok=True)
    return Kept(str(folder))
