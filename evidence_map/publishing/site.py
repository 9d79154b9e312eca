"""Assemble the site's sources: generated pages, charts, downloads and feeds, in a work folder.

Everything the site generator needs is generated here, before it runs (no generator plugin or
hook does any of it), so mkdocs-material or Zensical can build the same folder. generator.py then
runs the site generator and Pagefind on it and swaps the result in; preview.py serves it live.
"""

from __future__ import annotations

import html
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from evidence_map.judging.computed import ComputedMap, compute_map
from evidence_map.judging.history import last_update
from evidence_map.paths import DOCS, MKDOCS_YML, SCHEMA, is_own_evidence
from evidence_map.processes import outcome
from evidence_map.publishing import inputs
from evidence_map.publishing.apart import Shared, job, second_process, wanted
from evidence_map.publishing.chartrender import ChartRenderer
from evidence_map.publishing.charts import Figure, forest_figure, overview_figures, source_figure, unchecked
from evidence_map.publishing.citations import bibtex, ris
from evidence_map.publishing.datapackage import datapackage_json, zip_bundle
from evidence_map.publishing.exports import export_files
from evidence_map.publishing.feeds import atom_feed, changes_from_records, screening_entries, whats_new
from evidence_map.publishing.figurecache import FigureCache
from evidence_map.publishing.generator import publish
from evidence_map.publishing.inputs import data_commit, made_with
from evidence_map.publishing.pagekinds import navigation, not_in_nav, with_search_meta
from evidence_map.publishing.pages import notices_for, render_site_pages, static_files
from evidence_map.publishing.renderer import SiteInfo, compiled_templates_kept
from evidence_map.publishing.shortcuts import PATH as SHORTCUTS
from evidence_map.publishing.shortcuts import shortcuts_json
from evidence_map.publishing.writer import TreeWriter
from evidence_map.records.evidence import Evidence, load_evidence
from evidence_map.records.umbrella import umbrella
from evidence_map.surveillance.queue import NO_SCREENING, Screening, load_screening
from evidence_map.surveillance.screening import prisma_flow

BUNDLE = "msc-ev-evidence-map.zip"
PAGE_CACHE_HOOK = Path(__file__).resolve().with_name("pagecache.py")
PREVIEW_HOOK = Path(__file__).resolve().with_name("previewhook.py")


@dataclass
class Prepared:
    computed: ComputedMap
    config: Path
    charts_rendered: int
    charts_reused: int
    pages_written: int
    pages_unchanged: int
    timings: dict[str, float]
    reviews_rendered: int = 0  # review pages rendered, not kept from the last build


def data_version(evidence: Evidence) -> tuple[str, str]:
    """(date, commit) of the records: the newest `updated` date and the last commit touching them."""
    return max((r.updated for r in evidence.records), default="no records"), data_commit()


def addresses(settings: dict[str, Any]) -> tuple[str, str]:
    """(repository, site) addresses: SITE_URL and REPOSITORY_URL override mkdocs.yml, so a fork's
    Pages workflow publishes at the fork's own address without editing any file."""
    repo = os.environ.get("REPOSITORY_URL") or str(settings.get("extra", {}).get("repository", ""))
    site = os.environ.get("SITE_URL") or str(settings.get("site_url", ""))
    return repo.rstrip("/"), site.rstrip("/") + "/"


def site_config(evidence: Evidence, docs_dir: Path, info: SiteInfo, sources: list[str]) -> dict[str, Any]:
    with open(MKDOCS_YML, encoding="utf-8") as fh:
        config: dict[str, Any] = yaml.safe_load(fh)
    config["site_url"] = addresses(config)[1]
    config.setdefault("extra", {})["repository"] = info.repo_url
    config["docs_dir"] = docs_dir.name  # relative to the generated config, which sits beside it
    theme = config.get("theme")
    if isinstance(theme, dict) and theme.get("custom_dir"):
        # The theme overrides stay in the repository, wherever the work folder is.
        theme["custom_dir"] = str((MKDOCS_YML.parent / theme["custom_dir"]).resolve())
    config["nav"] = navigation(evidence, sources)
    config["not_in_nav"] = not_in_nav()  # reached from tables and pages, not the sidebar
    # The page cache: unchanged pages are not converted or laid out again (pagecache.py); the live
    # preview rebuilds once per regeneration (previewhook.py). By path, without importing them
    # here: only the site generator's process needs mkdocs.
    config["hooks"] = [*config.get("hooks", []), str(PAGE_CACHE_HOOK), str(PREVIEW_HOOK)]
    u = umbrella()
    config["copyright"] = (
        f"Data version {info.data_date} ({info.data_commit}) · {len(evidence.records)} meta-analyses, the first "
        f'{u.records} from <a href="{html.escape(u.doi_url)}">{html.escape(u.label)}, {html.escape(u.journal)}</a> · '
        f"Data CC BY 4.0 · "
        f'<a href="{info.repo_url}">records and source</a> · for research use, not medical advice'
    )
    return config


def prepare(evidence_dir: Path, work: Path) -> Prepared:
    """Validate, grade, draw and render into `work`/docs; returns what was done. Raises InvalidEvidence.

    The stages in order: the records, the computed map, the screening queue, then the pages."""
    t0 = time.perf_counter()
    evidence = load_evidence(evidence_dir, cache=work / "record-checks")
    timings = {"load + validate": time.perf_counter() - t0}
    t0 = time.perf_counter()
    computed = compute_map(evidence)
    timings["grading"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # The screening queue names records of the repository's evidence/; another folder gets an empty one.
    screening = load_screening(evidence) if is_own_evidence(evidence_dir) else NO_SCREENING
    timings["load + validate"] += time.perf_counter() - t0
    return prepare_map(computed, work, timings, screening)


def prepare_map(
    computed: ComputedMap, work: Path, timings: dict[str, float] | None = None, screening: Screening = NO_SCREENING
) -> Prepared:
    """Draw and render the computed map into `work`/docs."""
    timings = dict(timings or {})
    evidence = computed.evidence
    docs = work / "docs"
    writer = TreeWriter(docs)
    t0 = time.perf_counter()
    date, commit = data_version(evidence)
    with open(MKDOCS_YML, encoding="utf-8") as fh:
        settings = yaml.safe_load(fh)
    repo_url, site_url = addresses(settings)
    info = SiteInfo(repo_url=repo_url, data_date=date, data_commit=commit)
    notices = notices_for(screening)
    shared = Shared(computed, info, notices, screening, site_url, date)
    timings["pages"] = time.perf_counter() - t0
    # The second process (if any) starts first, before this one runs any thread, so it is forked
    # (processes.py), and makes the downloads and feeds, which need no figure, while this one builds
    # the figures, then renders. Forked, its renderers read the compiled templates kept too.
    kept_templates = compiled_templates_kept(work / "compiled-templates")
    with kept_templates, second_process(wanted(len(evidence.records)), shared) as second:
        files = second.submit(_downloads_and_feeds) if second is not None else None
        t0 = time.perf_counter()
        renderer = ChartRenderer(work / "chart-cache")
        sources = [s for s in evidence.vocab.sources.ids if evidence.for_source(s)]
        # Charts missing from the cache are drawn in other processes while this one renders the pages.
        made = made_with(evidence.vocab)  # what the kept figures and review pages are made with
        kept_figures = FigureCache(work / "figures", computed, made)
        with renderer.start(all_figures(computed, sources, kept_figures)) as drawing:
            figures = drawing.figures
            kept_figures.save()
            timings["charts"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            for rel, data in static_files(DOCS).items():
                if rel.endswith(".md"):  # a hand-written page: its kind's search settings, as generated pages get
                    data = with_search_meta(rel, data.decode("utf-8")).encode("utf-8")
                writer.write(rel, data)
            reviews = render_site_pages(
                computed, figures, info, writer, screening, work / "review-pages", second, notices, made
            )
            writer.write(SHORTCUTS, shortcuts_json(computed))
            made = outcome(files, lambda: downloads_and_feeds(computed, screening, site_url, date))
            for rel, data in sorted(made.items()):
                writer.write(rel, data)
            timings["pages"] += time.perf_counter() - t0

            t0 = time.perf_counter()
            for fig, svg in zip(figures, drawing.svgs(), strict=True):
                writer.write(f"assets/charts/{fig.name}.svg", svg)
            renderer.prune(keep=drawing.keys)
            timings["charts"] += time.perf_counter() - t0  # the wait for drawings still running

    t0 = time.perf_counter()
    writer.prune()
    config = work / "mkdocs.yml"
    text = yaml.safe_dump(site_config(evidence, docs, info, sources), sort_keys=False, allow_unicode=True)
    TreeWriter(work).write("mkdocs.yml", "# Generated by build.py from mkdocs.yml; do not edit.\n" + text)
    timings["pages"] += time.perf_counter() - t0
    return Prepared(
        computed, config, renderer.rendered, renderer.reused, writer.written, writer.unchanged, timings, reviews
    )


def all_figures(computed: ComputedMap, sources: list[str], kept: FigureCache | None = None) -> Iterator[Figure]:
    """Every chart of the site, built one at a time: the overview, a forest plot per condition
    with pooled effects, and a bar chart per EV source that reviews include. `kept`: the figures
    of the last build, reused where what they show is unchanged (figurecache.py)."""
    evidence = computed.evidence
    with unchecked():
        overview = list(overview_figures(computed))
    yield from overview
    for cid in evidence.vocab.conditions.ids:
        f = kept.forest(cid) if kept is not None else _unchecked(forest_figure, cid, computed)
        if f is not None:
            yield f
    for sid in sources:
        f = kept.source(sid) if kept is not None else _unchecked(source_figure, sid, evidence)
        if f is not None:
            yield f


def _unchecked(build: Callable[..., Figure | None], *args: Any) -> Figure | None:
    with unchecked():
        return build(*args)


def downloads_and_feeds(computed: ComputedMap, screening: Screening, site_url: str, date: str) -> dict[str, bytes]:
    """Every download and feed of the site, by its path in it."""
    return download_files(computed, screening) | feed_files(computed.evidence, site_url, date, screening)


def _downloads_and_feeds() -> dict[str, bytes]:
    """downloads_and_feeds, in the build's second process."""
    s = job()
    return downloads_and_feeds(s.computed, s.screening, s.site_url, s.date)


def download_files(computed: ComputedMap, screening: Screening = NO_SCREENING) -> dict[str, bytes]:
    """The data downloads, the references, a Frictionless data package describing them, and one zip."""
    evidence = computed.evidence
    files = {name: text.encode("utf-8") for name, text in export_files(computed).items()}
    flow = prisma_flow(screening.queue, screening.strategy).as_data()
    files["prisma.json"] = (json.dumps(flow, indent=2, sort_keys=True) + "\n").encode("utf-8")
    files["references.bib"] = bibtex(evidence).encode("utf-8")
    files["references.ris"] = ris(evidence).encode("utf-8")
    files["record.schema.json"] = SCHEMA.read_bytes()
    files["datapackage.json"] = datapackage_json(evidence, files=files).encode("utf-8")
    out = {f"downloads/{name}": data for name, data in files.items()}
    out[f"downloads/{BUNDLE}"] = zip_bundle(files)
    return out


def feed_files(evidence: Evidence, site_url: str, date: str, screening: Screening = NO_SCREENING) -> dict[str, bytes]:
    """A site-wide Atom feed of additions and updates, one per condition, and one of the screening queue."""
    changes = changes_from_records(evidence)
    title = "MSC-EV Living Evidence Map"
    feeds = {
        "feed.xml": atom_feed(
            whats_new(evidence, changes, limit=100),
            site_url,
            f"{title}: what's new",
            site_url,
            date,
            self_link=site_url + "feed.xml",
        )
    }
    for term in evidence.vocab.conditions.terms:
        on = {r.id for r in evidence.for_condition(term.id)}
        entries = whats_new(evidence, [c for c in changes if c.record_id in on], limit=100)
        updated = last_update(evidence, condition=term.id) or date
        feeds[f"feeds/{term.id}.xml"] = atom_feed(
            entries,
            f"{site_url}conditions/{term.id}/",
            f"{title}: {term.name}",
            site_url,
            updated,
            self_link=f"{site_url}feeds/{term.id}.xml",
        )
    pending = screening_entries(screening.queue)
    feeds["feeds/screening.xml"] = atom_feed(
        pending,
        f"{site_url}screening/",
        f"{title}: found, to screen",
        site_url,
        max((e.updated for e in pending), default=date),
        self_link=f"{site_url}feeds/screening.xml",
    )
    return {path: text.encode("utf-8") for path, text in feeds.items()}


def build_site(
    evidence_dir: Path, out: Path, strict: bool = False, work: Path = Path(".build"), digest: str | None = None
) -> Prepared | None:
    """Validate the records under `evidence_dir` and build the site into `out`. None when nothing the
    build reads has changed since this work folder last published `out`, which is still there.
    `digest`: the inputs' digest when the caller has just found them changed (inputs.unchanged)."""
    t_all = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    digest = digest or inputs.unchanged(evidence_dir, out, strict, work)
    if digest is None:
        return None
    prepared = prepare(evidence_dir, work)
    ran = publish(prepared, out, strict)
    inputs.published(work, digest, out)
    if ran:
        generated = (
            f"site generator {prepared.timings['site generator']:.1f} s, "
            f"search index {prepared.timings['search index']:.1f} s"
        )
    else:
        generated = "site was current: site generator and search index not run"
    print(
        f"built {out}: {len(prepared.computed.records)} reviews; pages {prepared.pages_written} written, "
        f"{prepared.pages_unchanged} unchanged; charts {prepared.charts_rendered} rendered, "
        f"{prepared.charts_reused} from cache; {generated}; {time.perf_counter() - t_all:.1f} s"
    )
    return prepared
