"""What the page cache's keys are made of (pagecache.py): digests, settings and pages as text that
is the same in every process, and a table of contents to store and restore."""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

from mkdocs.structure.toc import AnchorLink

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


CONVERSION_KEYS = ("markdown_extensions", "mdx_configs", "validation", "use_directory_urls")


def version(package: str) -> str:
    try:
        return f"{package}=={metadata.version(package)}"
    except metadata.PackageNotFoundError:
        return f"{package} absent"


def digest(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


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
