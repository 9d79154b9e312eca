"""Render the Markdown pages of the site from the model, the verdicts and the figures.

All page text comes from Jinja templates in templates/; this module only gathers what each page
needs and hands it over. Record text is escaped by the environment's finalize hook (see markup.py),
so a template can print any record value without thinking about it. Condition and source pages
come from one grouping function (`topic_pages`), not two copies.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from markupsafe import Markup

from .certainty import NOT_RATED, Summary, indirectness, summaries
from .chartrender import ChartError
from .charts import OVERVIEW_FIGURES
from .citations import bibtex_entry, ris_entry
from .classes import best_class
from .evidence import Evidence
from .feeds import changes_from_records
from .grading import DOMAINS, RULES, VERDICTS, Assessed, ConditionGrade, assess, grade_all
from .history import last_update, verdict_changes
from .markup import escape, yaml_string, yaml_tag
from .model import Effect, Record
from .pagekinds import KINDS, PAGE_KINDS, page_path, with_search_meta
from .paper import paper_comparison, paper_notes, paper_table3
from .paths import TEMPLATES
from .rules import Rules
from .scaffold import new_file_link, record_template
from .screening import (
    NO_SCREENING,
    REASONS,
    Screening,
    candidates_for_condition,
    doi_url,
    hand_search,
    pubmed_url,
    screening_summary,
)
from .searchterms import SearchTerms
from .tablerows import effects_table, reviews_table
from .umbrella import umbrella
from .validate import schema
from .vocab import Term
from .watch import load_notices
from .writer import TreeWriter

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MINUS = "\u2212"
SAFE_URL = ":/?&=#%~+,;@!$*-._"  # kept as they are in a link target; anything else is percent-encoded


@dataclass(frozen=True)
class SiteInfo:
    """Facts about the build that pages show: where the repository is and which data version."""

    repo_url: str
    data_date: str
    data_commit: str


def num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return text.replace("-", MINUS)


def effect_text(e: Effect) -> str:
    if e.estimate is None:
        return f"{e.measure}: not significant, no estimate printed"
    text = f"{e.measure} {num(e.estimate)}"
    if e.ci_low is not None and e.ci_high is not None:
        text += f" (95% CI {num(e.ci_low)} to {num(e.ci_high)})"
    if e.unit:
        text += f" {e.unit}"
    if e.k is not None:
        text += f"; k = {e.k}"
    if e.animals is not None:
        text += f"; {e.animals} animals"
    return text


def p_text(a: Assessed) -> str:
    if a.p is None:
        return "–"
    if a.p_derived:
        return "< 0.001 (from CI)" if a.p < 0.001 else f"{a.p:.3f} (from CI)"
    return f"{'< ' if a.p_is_bound else ''}{num(a.p, 4)}"


def i2_text(a: Assessed) -> str:
    if a.i2 is None:
        return "not reported"
    if a.i2_from_range:
        return f"{num(a.effect.i2_min, 0)}–{num(a.effect.i2_max, 0)}% (range; highest used)"
    return f"{num(a.i2, 0)}%" + (" (review's highest)" if a.i2_from_review else "")


KIND_LABELS = {
    "erratum": "Printed inconsistently",
    "disagreement": "Two parts of the source disagree",
    "attribution": "Figure assigned to this review",
    "misattributed": "Row printed under the wrong review",
    "umbrella-vs-original": "Umbrella review and original article differ",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def field_label(record: Record, dotted: str) -> str:
    """A record field path in plain words, from the schema's titles: "effects.0.estimate" becomes
    "Pooled effects › Serum creatinine (SCr) › Estimate". Readers never see the internal path."""
    node: Any = schema()
    words: list[str] = []
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if part.isdigit() and isinstance(node, dict) and isinstance(node.get("items"), dict):
            index = int(part)
            if parts[i - 1] == "effects" and index < len(record.effects):
                words.append(record.effects[index].outcome)
            else:
                words.append(f"item {index + 1}")
            node = node["items"]
            continue
        props = node.get("properties", {}) if isinstance(node, dict) else {}
        if part not in props:
            words.append(part.replace("_", " "))
            node = {}
            continue
        node = props[part]
        words.append(str(node.get("title", part.replace("_", " "))))
    return " › ".join(words)


def verdict_class(label: str) -> str:
    return "verdict-" + re.sub(r"[^a-z]+", "-", label.lower()).strip("-")


def badge(label: str) -> Markup:
    if label not in VERDICTS:
        raise ValueError(f"not a verdict: {label!r}")
    return Markup(f'<span class="verdict {verdict_class(label)}">{escape(label)}</span>')


CERTAINTY_LEVELS = (*RULES.certainty.levels, NOT_RATED)


def certainty_badge(level: str) -> Markup:
    """A certainty rating as a labelled chip (the word is always printed: colour is never the only cue)."""
    if level not in CERTAINTY_LEVELS:
        raise ValueError(f"not a certainty level: {level!r}")
    css = "certainty-" + re.sub(r"[^a-z]+", "-", level.lower()).strip("-")
    return Markup(f'<span class="certainty {css}">{escape(level)}</span>')


def page_url(base: str, section: str, item_id: str) -> Markup:
    """A Markdown link target for a generated page; ids are slugs by validation, checked again here."""
    if not SLUG.match(item_id):
        raise ValueError(f"refusing to link to a non-slug id: {item_id!r}")
    return Markup(f"{base}{section}/{item_id}.md")


def link(text: str, target: Markup) -> Markup:
    return Markup(f"[{escape(text)}]({target})")


class Renderer:
    def __init__(
        self, evidence: Evidence, grades: dict[str, ConditionGrade], info: SiteInfo, rules: Rules = RULES
    ) -> None:
        self.ev = evidence
        self.v = evidence.vocab
        self.grades = grades
        self.sof: dict[str, Summary] = summaries(evidence, grades, rules)
        self.info = info
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            finalize=escape,
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(num=num, effect=effect_text, yaml=yaml_string, tag=yaml_tag)
        self.env.globals.update(
            ev=evidence,
            v=self.v,
            grades=grades,
            info=info,
            badge=badge,
            rules=rules,
            paper_comparison=lambda entry, g: paper_comparison(entry, g, evidence.for_condition(g.condition)),
            sof=self.sof,
            certainty_badge=certainty_badge,
            indirectness=indirectness(rules),
            field_label=field_label,
            kind_label=kind_label,
            classes=rules.second,
            best_class=lambda g: best_class((*g.overall.considered, *g.overall.excluded)),
            DOMAINS=DOMAINS,
            VERDICTS=VERDICTS,
            cond=self.v.conditions.get,
            source=self.v.sources.get,
            species=self.v.species.get,
            route=self.v.routes.get,
            category=self.v.category_name,
            url=page_url,
            p_text=p_text,
            i2_text=i2_text,
            edit_url=self.edit_url,
            Markup=Markup,
            review_link=lambda r, base: link(r.label, page_url(base, "reviews", r.id)),
            condition_link=lambda c, base: link(self.v.conditions.get(c).name, page_url(base, "conditions", c)),
            source_link=self.source_link,
            suggest_url=self.suggest_url,
            last_update=lambda **kw: last_update(evidence, **kw),
            umbrella=umbrella(),
            search_terms=SearchTerms(evidence, grades),
            out_link=self.out_link,
            cite_block=self.cite_block,
            # Links built only from validated identifiers (screening.py refuses anything else).
            doi_url=lambda doi: doi_url(doi) if doi else None,
            pubmed_url=lambda pmid: pubmed_url(pmid) if pmid else None,
            pmc_url=lambda pmcid: f"https://pmc.ncbi.nlm.nih.gov/articles/{pmcid}/" if pmcid else None,
        )

    def source_link(self, source_id: str, base: Markup) -> Markup:
        """A link to the source's page; plain text for a source no record includes (it has no page)."""
        name = self.v.sources.get(source_id).name
        if not self.ev.for_source(source_id):
            return escape(name)  # type: ignore[no-any-return]
        return link(name, page_url(base, "sources", source_id))

    def suggest_url(self, condition: str = "", source: str = "") -> Markup:
        """A new-issue link that pre-fills the suggest-a-review form."""
        query = {"template": "suggest-review.yml", "title": f"Suggest a review: {condition or source}"}
        if condition:
            query["condition"] = condition
        if source:
            query["source"] = source
        return Markup(f"{self.info.repo_url}/issues/new?{urlencode(query)}")

    @staticmethod
    def out_link(text: str, url: str | None) -> Markup:
        """A Markdown link to an outside address, or "not found". The address is a validated
        https URL; characters that could end the link target are percent-encoded all the same."""
        if not url:
            return Markup("not found")
        return Markup(f"[{escape(text)}]({quote(url, safe=SAFE_URL)})")

    @staticmethod
    def cite_block(record: Record) -> Markup:
        """BibTeX and RIS of one review as fenced code a reader can copy. Safe as it is: both
        writers fold every value onto its field's line, so no line of record text can close the
        fence, and code is printed literally."""
        return Markup(f"```bibtex\n{bibtex_entry(record)}```\n\n```text\n{ris_entry(record)}```")

    def edit_url(self, record: Record) -> Markup:
        return Markup(f"{self.info.repo_url}/edit/main/{record.path}")

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)


class UnknownFigure(ChartError):
    """A template asked for a figure no chart builder makes: a typo, or a figure since removed."""


class FigureMap:
    """The drawn figures by name. A figure the map knows but could not draw (no data yet) is None;
    a name it does not know stops the build, instead of leaving a silent hole in a page."""

    def __init__(self, figures: Iterable[Any], known: Iterable[str]) -> None:
        self._figures = {f.name: f for f in figures}
        self._known = set(known) | set(self._figures)

    def get(self, name: str) -> Any:
        if name not in self._known:
            raise UnknownFigure(f"a template names the figure {name!r}, which no chart builder makes")
        return self._figures.get(name)


def figure_map(figures: Iterable[Any], evidence: Evidence | None = None) -> FigureMap:
    known = set(OVERVIEW_FIGURES)
    if evidence is not None:
        known |= {f"condition-{c}" for c in evidence.vocab.conditions.ids}
        known |= {f"source-{s}" for s in evidence.vocab.sources.ids}
    return FigureMap(figures, known)


def tags_for(records: Iterable[Record], renderer: Renderer, extra: Iterable[str] = ()) -> list[str]:
    """A few facets a reader browses by, not every term the reviews mention: a review's conditions,
    their organ systems and its species. (Sources are tagged by their own pages.)"""
    v = renderer.v
    tags: list[str] = list(extra)
    for r in records:
        tags += [v.conditions.get(c).name for c in r.conditions]
        tags += [v.category_name(c) for c in r.conditions]
        tags += [v.species.get(s).name for s in r.species]
    return sorted(set(tags))


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
        routes=sorted({x for r in records if r.dosing_counts for x in r.routes}),
        conditions=sorted({c for r in records for c in r.conditions}),
        subgroups=[(r, sg) for r in detail for sg in r.subgroups],
        discrepancies=[(r, d) for r in detail for d in r.discrepancies],
    )


# A condition or source page describes at most this many reviews in full (summary, effects,
# doses, subgroups); its reviews table lists every one. Without a limit a page grows with the
# map: a condition with 600 reviews made 2.8 MB of HTML, too long to read or to load on a phone.
DETAIL_MAX_REVIEWS = 50


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
                r.id: [assess(r, e) for e in (r.effects_for(term.id) if kind == "conditions" else r.effects)]
                for r in detail
            },
            use=usage(records, detail),
            paper=paper.get(term.id) if kind == "conditions" else None,
            tags=topic_tags(renderer, kind, term),
            figure=figures.get(f"{kind[:-1]}-{term.id}"),
            base=Markup("../"),
            unscreened=candidates_for_condition(screening.queue, term) if kind == "conditions" else [],
        )
    return pages


def source_only(records: Iterable[Record]) -> list[Record]:
    """The records as the umbrella review alone gives them: its reviews, its own estimates, each counted."""
    out = []
    for r in records:
        if r.beyond_source:
            continue
        effects = tuple(dc_replace(e, graded=True, not_graded_because=None) for e in r.effects if not e.from_original)
        out.append(dc_replace(r, effects=effects))
    return out


def audit_rows(evidence: Evidence, grades: dict[str, ConditionGrade]) -> list[dict[str, Any]]:
    """The paper's Table 3 beside the computed verdicts, with the cause of each difference, and the
    verdict the umbrella review's own figures give beside the one the map gives today."""
    rows = []
    before = grade_all(list(paper_table3()), source_only(evidence.records))
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


def render_site_pages(
    evidence: Evidence,
    grades: dict[str, ConditionGrade],
    figures: Iterable[Any],
    info: SiteInfo,
    writer: TreeWriter,
    screening: Screening = NO_SCREENING,
) -> None:
    r = Renderer(evidence, grades, info)
    figs = figure_map(figures, evidence)
    top = Markup("")
    recent = sorted(evidence.records, key=lambda x: (x.updated, x.added, x.id), reverse=True)[:8]
    years = [x.year for x in evidence.records]
    sources_used = sorted({s for x in evidence.records for s in x.sources})
    # What each page kind needs besides the globals; which template and file is the registry's.
    contexts: dict[str, dict[str, Any]] = {
        "home": {"base": top, "figs": figs, "recent": recent, "years": years, "sources_used": sources_used},
        "conditions": {"base": Markup("../"), "figs": figs},
        "sources": {"base": Markup("../"), "sources_used": sources_used},
        "reviews": {"base": Markup("../"), "table": reviews_table(evidence), "figs": figs},
        "effects": {"base": top, "table": effects_table(evidence, grades)},
        "dosing": {"base": top, "route_counts": _route_counts(evidence)},
        "quality": {"base": top, "figs": figs},
        "methods": {"base": top, "hand": hand_search(screening.queue)},
        "audit": {"base": top, "rows": audit_rows(evidence, grades), "paper_notes": paper_notes()},
        "downloads": {"base": top},
        "about": {"base": top},
        "contribute": {
            "base": top,
            "record_template": Markup(record_template("surname-2026", "Surname", "2026", "2026-01-31").rstrip()),
            "new_file_url": Markup(new_file_link(info.repo_url)),
        },
        "whatsnew": {
            "base": top,
            "changes": sorted(changes_from_records(evidence), key=lambda c: (c.date, c.record_id), reverse=True)[:200],
            "verdict_changes": verdict_changes(evidence),
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
    pages |= topic_pages(r, "conditions", r.v.conditions.terms, evidence.for_condition, figs, screening)
    pages |= topic_pages(r, "sources", r.v.sources.terms, evidence.for_source, figs)
    # Retractions, errata and updates PubMed links to the map's own reviews (build.py surveil --watch).
    notices = load_notices() if screening is not NO_SCREENING else {}
    for rec in evidence.records:
        pages[page_path("review", rec.id)] = r.render(
            str(KINDS["review"].template),
            rec=rec,
            notices=notices.get(rec.id, []),
            base=Markup("../"),
            tags=tags_for([rec], r),
            assessed=[assess(rec, e) for e in rec.effects],
        )
    for path, text in sorted(pages.items()):
        writer.write(path, with_search_meta(path, text))


def _route_counts(evidence: Evidence) -> list[tuple[str, int]]:
    counts = Counter(route for rec in evidence.records if rec.dosing_counts for route in rec.routes)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def static_files(folder: Path) -> dict[str, bytes]:
    """Hand-written pages and assets under docs/, keyed by their path inside the site."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
