"""Render chart figures to static, accessible SVG with vl-convert, at build time.

The SVG needs no JavaScript in the reader's browser. Rendering is cached by content: the key is
the SHA-256 of the canonical Vega-Lite spec plus the vl-convert version, so an unchanged chart is
read back from the cache and a chart whose data changed (a record was added) is drawn again.
The cache holds vl-convert's own output; the accessible wrapper (<title>, <desc>, role and ARIA
attributes) is added on every call, so the same figure always gives byte-identical SVG.
Charts missing from the cache are drawn in a pool of processes, one per core, while the build
goes on with other work.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import multiprocessing
import os
import re
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import vl_convert as vlc

from evidence_map.files import replace_file
from evidence_map.processes import start_method
from evidence_map.publishing.chartlinks import LINK_BASE

if TYPE_CHECKING:  # not imported at run time: drawing processes need vl-convert only, not Altair
    from evidence_map.publishing.charts import Figure


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
# Vega gives the groups it nests marks in (the chart's frame, each view, the marks of a layer) a
# role but no name.
_UNNAMED_GROUP = re.compile(r'(<g class="mark-[^"]*") role="graphics-object" aria-roledescription="[^"]*">')
_SCHEMA_VERSION = re.compile(r"/v(\d+)\.(\d+)(?:\.\d+)?\.json$")


def canonical_json(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def cache_key(spec: dict[str, Any]) -> str:
    """SHA-256 of the canonical spec and the vl-convert version that draws it."""
    payload = canonical_json(spec) + "\n" + f"vl-convert-python {VL_CONVERT_VERSION}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class KeptSpec:
    """A figure's Vega-Lite spec as a plain dict, with its key in the chart cache: what a figure kept
    from the last build (figurecache.py) carries in place of its Altair chart, read as one is."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.key = cache_key(spec)

    def to_dict(self, validate: bool = True) -> dict[str, Any]:
        return self.spec


def vegalite_version(spec: dict[str, Any]) -> str | None:
    """The Vega-Lite library version vl-convert should use: the one the spec's $schema names, if bundled."""
    match = _SCHEMA_VERSION.search(str(spec.get("$schema", "")))
    if not match:
        return None
    wanted = f"{match.group(1)}.{match.group(2)}"
    return wanted if wanted in vlc.get_vegalite_versions() else None


def _id_prefix(name: str) -> str:
    return "chart-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")


def accessible_svg(svg: str, title: str, description: str, id_prefix: str, interactive: bool = False) -> str:
    """Give the root <svg> role="img", a <title> and a <desc> (XML-escaped) and point ARIA at them.

    Ids inside the drawing are prefixed too, so several charts can be inlined in one page. A chart
    whose marks are links is a "group" instead, so assistive technology reaches its links. The groups
    Vega nests the marks in lose their nameless role: only the root and the marks that link speak.
    """
    svg = _UNNAMED_GROUP.sub(r"\1>", svg)
    ids = set(_ID_ATTR.findall(svg))
    if ids:
        svg = _ID_REF.sub(lambda m: m.group(1) + (f"{id_prefix}-" if m.group(2) in ids else "") + m.group(2), svg)
    match = _SVG_OPEN.search(svg)
    if match is None:
        raise ValueError("not an SVG document: no <svg> element")
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    tag = _ROOT_ARIA.sub("", match.group(0))
    role = "group" if interactive else "img"
    tag = tag[:-1].rstrip() + f' role="{role}" aria-labelledby="{title_id} {desc_id}">'
    head = f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(description)}</desc>'
    return svg[: match.start()] + tag + head + svg[match.end() :]


_LINKED_MARK = re.compile(
    r'<a xlink:href="' + re.escape(LINK_BASE) + r'([^"]*)">(<(?:path|text|rect|g)\b[^>]*?aria-label="([^"]*)")'
)


def linked_svg(svg: str) -> str:
    """Links of an interactive chart made relative to the chart's file (assets/charts/ in the site),
    opened in the page rather than inside the chart, each with the mark's description as a <title>
    tooltip. The description is vl-convert's aria-label, already XML-escaped."""
    depth = "../../"  # from assets/charts/ back to the site root
    return _LINKED_MARK.sub(
        lambda m: f'<a xlink:href="{depth}{m.group(1)}" target="_top"><title>{m.group(3)}</title>{m.group(2)}', svg
    )


def draw(spec: dict[str, Any]) -> str:
    """vl-convert's SVG for a Vega-Lite spec (run in a worker process when drawing in parallel)."""
    return str(vlc.vegalite_to_svg(spec, vl_version=vegalite_version(spec)))


def default_workers() -> int:
    """One drawing process per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


class ChartRenderer:
    """Turn figures into SVG text, reusing earlier renderings of the same spec from `cache_dir`."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = Path(cache_dir)
        self.rendered = 0  # drawn by vl-convert in this run
        self.reused = 0  # read back from the cache

    def path_for(self, key: str) -> Path:
        return self.cache_dir / f"{key}.svg"

    def _cached(self, key: str) -> str | None:
        try:
            text = self.path_for(key).read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        return text if text.lstrip().startswith("<svg") else None

    def svg(self, figure: Figure) -> str:
        """The figure as a standalone, accessible SVG document."""
        return self.start([figure], workers=1).svgs()[0]

    def svgs(self, figures: Iterable[Figure], workers: int | None = None) -> list[str]:
        """Each figure as a standalone, accessible SVG document, in order."""
        return self.start(figures, workers).svgs()

    def start(self, figures: Iterable[Figure], workers: int | None = None) -> Drawing:
        """Start drawing the figures missing from the cache; `Drawing.svgs()` waits for them.

        They are drawn in up to `workers` processes (one per core by default): vl-convert runs one
        JavaScript engine per process, which draws one chart at a time, so on a cold cache drawing
        is most of the build. Each chart is sent off as soon as its figure is built (`figures` may
        be a generator), and the caller can do other work, such as rendering pages, until it needs
        the SVG. The specs are not checked against the Vega-Lite schema here: they come from the
        chart builders, not from records, and the tests check every builder's output against it.
        """
        return Drawing(self, figures, workers or default_workers())

    def prune(self, keep: Iterable[str]) -> int:
        """Delete cached charts whose key is not in `keep` (the charts of this build), so that the
        cache, kept between CI runs, holds one site's charts rather than every chart ever drawn."""
        wanted = {f"{key}.svg" for key in keep}
        removed = 0
        for path in self.cache_dir.glob("*.svg"):
            if path.name not in wanted:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _write(self, path: Path, text: str) -> None:
        """Write atomically: a reader (or a parallel build) sees the old file or the whole new one."""
        replace_file(path, text)


class Drawing:
    """Charts being drawn for one build: cached ones are read at once, the others sent to workers."""

    def __init__(self, renderer: ChartRenderer, figures: Iterable[Figure], workers: int) -> None:
        self._renderer = renderer
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self.figures: list[Figure] = []
        self.keys: list[str] = []  # each figure's cache key
        self._found: dict[str, str] = {}
        # key -> (chart name, a future or, drawing in this process, the spec to draw)
        self._pending: dict[str, tuple[str, Future[str] | dict[str, Any]]] = {}
        try:
            for figure in figures:
                chart = figure.chart
                if isinstance(chart, KeptSpec):
                    spec, key = chart.spec, chart.key
                else:
                    spec = chart.to_dict(validate=False)
                    key = cache_key(spec)
                self.figures.append(figure)
                self.keys.append(key)
                if key in self._found or key in self._pending:
                    continue
                cached = renderer._cached(key)
                if cached is not None:
                    self._found[key] = cached
                elif self._workers > 1:
                    self._pending[key] = (figure.name, self._pool_for().submit(draw, spec))
                else:
                    self._pending[key] = (figure.name, spec)
        except BaseException:
            self._close()
            raise

    def _pool_for(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # Forked only while this process runs no thread (processes.py): vl-convert's engine runs
            # threads, which a copy of a process that had started it would lack.
            self._pool = ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context(start_method()))
        return self._pool

    def svgs(self) -> list[str]:
        """Wait for the drawings, store them in the cache, and return each figure's accessible SVG."""
        renderer = self._renderer
        try:
            for key, (name, job) in self._pending.items():
                try:
                    svg = job.result() if isinstance(job, Future) else draw(job)
                except Exception as exc:
                    raise ChartError(f"chart {name!r} could not be drawn: {exc}") from exc
                renderer._write(renderer.path_for(key), svg)
                self._found[key] = svg
        finally:
            self._close()
        renderer.rendered += len(self._pending)
        renderer.reused += len(self.figures) - len(self._pending)
        self._pending = {}
        return [
            accessible_svg(
                linked_svg(self._found[key]) if f.interactive else self._found[key],
                f.title,
                f.description,
                _id_prefix(f.name),
                interactive=f.interactive,
            )
            for f, key in zip(self.figures, self.keys, strict=True)
        ]

    def __enter__(self) -> Drawing:
        return self

    def __exit__(self, *exc: object) -> None:
        """Leaving early (a page failed to render) stops the drawing processes."""
        self._close()

    def _close(self) -> None:
        """Stop the drawing processes, dropping drawings not yet started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class ChartError(RuntimeError):
    """vl-convert could not draw a chart."""
