"""Render chart figures to static, accessible SVG with vl-convert, at build time.

The SVG needs no JavaScript in the reader's browser. Rendering is cached by content: the key is
the SHA-256 of the canonical Vega-Lite spec plus the vl-convert version, so an unchanged chart is
read back from the cache and a chart whose data changed (a record was added) is drawn again.
The cache holds vl-convert's own output; the accessible wrapper (<title>, <desc>, role and ARIA
attributes) is added on every call, so the same figure always gives byte-identical SVG.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import vl_convert as vlc

from .charts import Figure


def _vl_convert_version() -> str:
    try:
        return importlib.metadata.version("vl-convert-python")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - vendored or renamed install
        return str(getattr(vlc, "__version__", "unknown"))


VL_CONVERT_VERSION = _vl_convert_version()

_SVG_OPEN = re.compile(r"<svg\b[^>]*>")
_ID_ATTR = re.compile(r'\sid="([^"]+)"')
_ID_REF = re.compile(r'(\sid="|url\(#|href="#)([^")]+)')
_ROOT_ARIA = re.compile(r'\s(?:role|aria-labelledby|aria-describedby|aria-label)="[^"]*"')
_SCHEMA_VERSION = re.compile(r"/v(\d+)\.(\d+)(?:\.\d+)?\.json$")


def canonical_json(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def cache_key(spec: dict[str, Any]) -> str:
    """SHA-256 of the canonical spec and the vl-convert version that draws it."""
    payload = canonical_json(spec) + "\n" + f"vl-convert-python {VL_CONVERT_VERSION}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def vegalite_version(spec: dict[str, Any]) -> str | None:
    """The Vega-Lite library version vl-convert should use: the one the spec's $schema names, if bundled."""
    match = _SCHEMA_VERSION.search(str(spec.get("$schema", "")))
    if not match:
        return None
    wanted = f"{match.group(1)}.{match.group(2)}"
    return wanted if wanted in vlc.get_vegalite_versions() else None


def _id_prefix(name: str) -> str:
    return "chart-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")


def accessible_svg(svg: str, title: str, description: str, id_prefix: str) -> str:
    """Give the root <svg> role="img", a <title> and a <desc> (XML-escaped) and point ARIA at them.

    Ids inside the drawing are prefixed too, so several charts can be inlined in one page.
    """
    ids = set(_ID_ATTR.findall(svg))
    if ids:
        svg = _ID_REF.sub(lambda m: m.group(1) + (f"{id_prefix}-" if m.group(2) in ids else "") + m.group(2), svg)
    match = _SVG_OPEN.search(svg)
    if match is None:
        raise ValueError("not an SVG document: no <svg> element")
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    tag = _ROOT_ARIA.sub("", match.group(0))
    tag = tag[:-1].rstrip() + f' role="img" aria-labelledby="{title_id} {desc_id}">'
    head = f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(description)}</desc>'
    return svg[: match.start()] + tag + head + svg[match.end() :]


class ChartRenderer:
    """Turn figures into SVG text, reusing earlier renderings of the same spec from `cache_dir`."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = Path(cache_dir)
        self.rendered = 0  # drawn by vl-convert in this run
        self.reused = 0  # read back from the cache

    def path_for(self, key: str) -> Path:
        return self.cache_dir / f"{key}.svg"

    def raw_svg(self, spec: dict[str, Any], validate: Callable[[], object] | None = None) -> str:
        """vl-convert's SVG for a Vega-Lite spec, from the cache when it is there.

        `validate`, when given, is called before a spec is drawn (a cache miss) and should raise
        if the spec is not valid Vega-Lite; a spec found in the cache was valid when it was drawn.
        """
        key = cache_key(spec)
        path = self.path_for(key)
        try:
            cached = path.read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            cached = ""
        if cached.lstrip().startswith("<svg"):
            self.reused += 1
            return cached
        if validate is not None:
            validate()
        svg = vlc.vegalite_to_svg(spec, vl_version=vegalite_version(spec))
        self.rendered += 1
        self._write(path, svg)
        return svg

    def svg(self, figure: Figure) -> str:
        """The figure as a standalone, accessible SVG document."""
        # Checking a spec against the Vega-Lite schema costs as much as building it, so it is done
        # only when the chart is drawn, not to compute the cache key of an unchanged chart.
        raw = self.raw_svg(figure.chart.to_dict(validate=False), validate=figure.chart.to_dict)
        return accessible_svg(raw, figure.title, figure.description, _id_prefix(figure.name))

    def _write(self, path: Path, text: str) -> None:
        """Write atomically: a reader (or a parallel build) sees the old file or the whole new one."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=f".{path.stem[:16]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
