"""Render the Markdown pages of the site from the model, the verdicts and the figures.

All page text comes from Jinja templates in templates/; this module only gathers what each page
needs and hands it over. Record text is escaped by the environment's finalize hook (see markup.py),
so a template can print any record value without thinking about it. Condition and source pages
come from one grouping function (`topic_pages`), not two copies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from markupsafe import Markup

from evidence_map.judging.certainty import scale as certainty_scale
from evidence_map.judging.computed import ComputedMap
from evidence_map.judging.paper import paper_notes, paper_table3
from evidence_map.processes import outcome
from evidence_map.publishing.apart import Apart, job
from evidence_map.publishing.feeds import days
from evidence_map.publishing.gapmap import bubble, gap_map_views, used_levels
from evidence_map.publishing.pagekinds import KINDS, PAGE_KINDS, page_path, with_search_meta
from evidence_map.publishing.renderer import FigureMap, Renderer, SiteInfo, figure_map
from evidence_map.publishing.reviewpages import ReviewCache, ReviewPages
from evidence_map.publishing.tablerows import conditions_table, effects_table, gap_map_filters, reviews_table
from evidence_map.publishing.writer import TreeWriter
from evidence_map.records.evidence import Evidence
from evidence_map.records.model import Record
from evidence_map.records.scaffold import new_file_link, record_template
from evidence_map.records.vocab import Term
from evidence_map.surveillance.queue import NO_SCREENING, REASONS, Screening
from evidence_map.surveillance.screening import (
    candidates_for_condition,
    hand_search,
    prisma_flow,
    screening_summary,
)
from evidence_map.surveillance.watch import load_notices


def topic_tags(renderer: Renderer, kind: str, term: Term) -> list[str]:
    """A condition page: its name and organ system; a source page: its name."""
    return [term.name, renderer.v.category_name(term.id)] if kind == "conditions" else [term.name]


@dataclass(frozen=True)
class Usage:
    """What a group of reviews used and reported, for condition and source pages."""

    sources: list[tuple[str, int]]
    routes: list[str]
    conditions: list[str]
    subgroups: list[tuple[Record, Any]]
    discrepancies: list[tuple[Record, Any]]


def usage(records: list[Record], detail: list[Record]) -> Usage:
    """Counts over every record; the per-review rows (subgroups, discrepancies) over `detail`."""
    sources = Counter(s for r in records for s in r.sources)
    return Usage(
        sources=sorted(sources.items(), key=lambda kv: (-kv[1], kv[0])),
        routes=sorted({x for r in records for x in r.counted_routes}),
        conditions=sorted({c for r in records for c in r.conditions}),
        subgroups=[(r, sg) for r in detail for sg in r.subgroups],
        discrepancies=[(r, d) for r in detail for d in r.discrepancies],
    )


# A condition or source page describes at most this many reviews in full (summary, effects,
# doses, subgroups); its reviews table lists every one. Without a limit a page grows with the
# map: a condition with 600 reviews made 2.8 MB of HTML, too long to read or to load on a phone.
DETAIL_MAX_REVIEWS = 50
# What's new lists the newest dates whose changes fit in this many rows, whole dates only.
WHATSNEW_MAX_ROWS = 200


def detailed(records: list[Record], limit: int | None = None) -> list[Record]:
    """All records when they fit; else those pooling the most primary studies (newest first among
    equals, as in the forest plots), in their original order."""
    limit = DETAIL_MAX_REVIEWS if limit is None else limit
    if len(records) <= limit:
        return records
    keep = {r.id for r in sorted(records, key=lambda r: (-r.n_studies, -r.year, r.id))[:limit]}
    return [r for r in records if r.id in keep]


def topic_pages(
    renderer: Renderer,
    kind: str,
    terms: Iterable[Term],
    records_of: Any,
    figures: FigureMap,
    screening: Screening = NO_SCREENING,
) -> dict[str, str]:
    """One page per condition or per source: the same grouping, two templates."""
    pages = {}
    paper = paper_table3()
    for term in terms:
        records = records_of(term.id)
        if kind == "sources" and not records:
            continue
        detail = detailed(records)
        page_kind = KINDS[kind[:-1]]
        pages[page_path(page_kind.key, term.id)] = renderer.render(
            str(page_kind.template),
            term=term,
            records=records,
            detail=detail,
            assessed={
                r.id: renderer.computed.assessed_for(r, term.id if kind == "conditions" else None) for r in detail
            },
            use=usage(records, detail),
            paper=paper.get(term.id) if kind == "conditions" else None,
            tags=topic_tags(renderer, kind, term),
            figure=figures.get(f"{kind[:-1]}-{term.id}"),
            base=Markup("../"),
            unscreened=candidates_for_condition(screening.queue, term) if kind == "conditions" else [],
        )
    return pages


def condition_pages(r: Renderer, figs: FigureMap, screening: Screening) -> dict[str, str]:
    """Every condition page."""
    return topic_pages(r, "conditions", r.v.conditions.terms, r.computed.evidence.for_condition, figs, screening)


def source_pages(r: Renderer, figs: FigureMap) -> dict[str, str]:
    """Every EV source page."""
    return topic_pages(r, "sources", r.v.sources.terms, r.computed.evidence.for_source, figs)


def _sources_apart(figures: list[Any]) -> dict[str, str]:
    """source_pages, in the build's second process (its job: see site.prepare_map), from the
    figures without their charts (their words and numbers), which are built after it starts."""
    s = job()
    return source_pages(Renderer(s.computed, s.info), figure_map(figures, s.computed.evidence))


def audit_rows(computed: ComputedMap) -> list[dict[str, Any]]:
    """The paper's Table 3 beside the computed verdicts, with the cause of each difference, and the
    verdict the umbrella review's own figures give beside the one the map gives today."""
    rows = []
    evidence, grades, before = computed.evidence, computed.grades, computed.source_only
    for entry in paper_table3().values():
        cid = entry["id"]
        g = grades[cid]
        recs = evidence.for_condition(cid)
        differences = []
        if entry["n_reviews"] != g.n_reviews:
            names = ", ".join(r.label for r in recs)
            differences.append(
                f"Count: the paper's Table 3 gives {entry['n_reviews']}, but {g.n_reviews} records map to this "
                f"condition from its Table 2 ({names})."
            )
        paper_label = entry["effectiveness"]
        if paper_label != g.overall.label:
            differences.append(f"Verdict: the rules applied to the records give {g.overall.label}: {g.overall.reason}.")
        if entry.get("note"):
            differences.append(entry["note"])
        agree = entry["n_reviews"] == g.n_reviews and paper_label == g.overall.label
        rows.append(
            {
                "id": cid,
                "paper": entry,
                "grade": g,
                "records": recs,
                "differences": differences,
                "agree": agree,
                "before": before[cid],
            }
        )
    return rows


@dataclass(frozen=True)
class SourceDifference:
    """A condition whose computed verdict is not the umbrella review's own rating, and why."""

    condition: str
    paper: str  # the rating in the paper's Table 3
    verdict: str  # the map's computed verdict
    why: str


def source_differences(computed: ComputedMap) -> list[SourceDifference]:
    """The conditions of the paper's Table 3 whose verdict the map computes otherwise, in its order."""
    table3 = paper_table3()
    return [
        SourceDifference(cid, table3[cid]["effectiveness"], computed.grades[cid].overall.label, why)
        for cid, why in computed.paper_differences.items()
        if why
    ]


def render_site_pages(
    computed: ComputedMap,
    figures: Iterable[Any],
    info: SiteInfo,
    writer: TreeWriter,
    screening: Screening = NO_SCREENING,
    kept: Path | None = None,
    second: Apart | None = None,
    notices: dict[str, Any] | None = None,
    made: str | None = None,
) -> int:
    """Every page into `writer`; returns how many review pages were rendered. `kept`: a folder where
    review pages are kept between builds (reviewpages.py), so only those whose inputs changed are
    rendered again; `second`: the build's second process, which takes a share (apart.py)."""
    if notices is None:
        notices = notices_for(screening)
    cache = ReviewCache(kept, computed, info, made) if kept is not None else None
    reviews = ReviewPages(computed, info, notices, cache, second)
    # The second process takes the review pages when many are to render, else the source pages,
    # whose tables of reviews make them the larger share of the topic pages (this one renders the
    # condition pages meanwhile: the two processes then finish at about the same time).
    topics = None
    if second is not None and reviews.future is None:
        topics = second.submit(_sources_apart, [replace(f, chart=None) for f in figures])
    _render_pages(computed, figures, info, writer, screening, reviews, topics)
    if cache is not None:
        cache.save()
    return len(reviews.missing)


def notices_for(screening: Screening) -> dict[str, Any]:
    """Retractions, errata and updates PubMed links to the map's own reviews (build.py surveil
    --watch), by review; none for a map built without the repository's screening files."""
    return load_notices() if screening is not NO_SCREENING else {}


def _render_pages(
    computed: ComputedMap,
    figures: Iterable[Any],
    info: SiteInfo,
    writer: TreeWriter,
    screening: Screening,
    reviews: ReviewPages,
    topics: Future[dict[str, str]] | None = None,
) -> None:
    r = Renderer(computed, info)
    evidence = computed.evidence
    figs = figure_map(figures, evidence)
    top = Markup("")
    recent = sorted(evidence.records, key=lambda x: (x.updated, x.added, x.id), reverse=True)[:8]
    years = [x.year for x in evidence.records]
    sources_used = sorted({s for x in evidence.records for s in x.sources})
    # What each page kind needs besides the globals; which template and file is the registry's.
    contexts: dict[str, dict[str, Any]] = {
        "home": {"base": top, "figs": figs, "recent": recent, "years": years, "sources_used": sources_used},
        "conditions": {"base": Markup("../"), "figs": figs, "table": conditions_table(computed)},
        "sources": {"base": Markup("../"), "sources_used": sources_used},
        "reviews": {"base": Markup("../"), "table": reviews_table(evidence), "figs": figs},
        "effects": {"base": top, "table": effects_table(computed)},
        "gapmap": gap_map_context(computed),
        "dosing": {"base": top, "route_counts": _route_counts(evidence)},
        "quality": {"base": top, "figs": figs},
        "methods": {"base": top, "hand": hand_search(screening.queue)},
        "audit": {"base": top, "rows": audit_rows(computed), "paper_notes": paper_notes()},
        "downloads": {"base": top},
        "about": {
            "base": top,
            "flow": prisma_flow(screening.queue, screening.strategy),
            "rated": len(computed.paper_differences),
            "differences": source_differences(computed),
        },
        "contribute": {
            "base": top,
            "record_template": Markup(record_template("surname-2026", "Surname", "2026", "2026-01-31").rstrip()),
            "new_file_url": Markup(new_file_link(info.repo_url)),
        },
        "whatsnew": {
            "base": top,
            "days": days(evidence, computed.verdict_changes, max_rows=WHATSNEW_MAX_ROWS),
            "verdict_changes": computed.verdict_changes,
        },
        "screening": {
            "base": top,
            "s": screening_summary(screening.queue, evidence, screening.strategy, screening.recall),
            "reasons": REASONS,
        },
    }
    pages: dict[str, str] = {}
    for kind in PAGE_KINDS:
        if kind.template is None or kind.per_item:
            continue
        if kind.key not in contexts:
            raise ValueError(f"page kind {kind.key!r} is registered but render_site_pages gives it no context")
        pages[kind.path] = r.render(kind.template, **contexts[kind.key])
    pages |= condition_pages(r, figs, screening)
    sources: dict[str, str] = outcome(topics, lambda: source_pages(r, figs))
    pages |= sources
    pages |= reviews.result()
    for path, text in sorted(pages.items()):
        writer.write(path, with_search_meta(path, text))


# A gap-map cell lists at most this many reviews; the rest are one link away in the reviews table.
GAP_CELL_LIMIT = 25


def gap_map_context(computed: ComputedMap) -> dict[str, Any]:
    """The gap map's views, and its filters: only values some review has."""
    v = computed.vocab
    views = gap_map_views(computed)
    filters = gap_map_filters(computed.evidence)
    present = {t.category for t in v.conditions.terms}
    return {
        "base": Markup(""),
        "page_root": Markup("../"),  # raw HTML links in the page, at /gapmap/
        "views": views,
        "categories": [(cid, name) for cid, name in v.categories.items() if cid in present],
        "filters": filters.facets,
        "facets_of": {row.item.id: row.facets for row in filters.rows},
        "used_certainty": used_levels(views, certainty_scale(computed.rules)),
        "bubble": bubble,
        "limit": GAP_CELL_LIMIT,
    }


def _route_counts(evidence: Evidence) -> list[tuple[str, int]]:
    counts = Counter(route for rec in evidence.records for route in rec.counted_routes)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def static_files(folder: Path) -> dict[str, bytes]:
    """Hand-written pages and assets under docs/, keyed by their path inside the site."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
