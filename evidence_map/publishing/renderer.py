"""The Jinja environment every page is rendered in, and the small formatters its templates use.

Record text is escaped by the environment's finalize hook (see markup.py), so a template can print
any record value without thinking about it. Links are built here from validated ids and addresses
only; numbers are printed with a real minus sign."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from markupsafe import Markup

from evidence_map.judging.certainty import Summary, indirectness
from evidence_map.judging.certainty import scale as certainty_scale
from evidence_map.judging.computed import ComputedMap
from evidence_map.judging.grading import DOMAINS, VERDICTS, Assessed
from evidence_map.judging.history import last_update
from evidence_map.paths import TEMPLATES
from evidence_map.publishing.chartrender import ChartError
from evidence_map.publishing.charts import AMSTAR2_RATINGS, OVERVIEW_FIGURES, ROB_RATINGS
from evidence_map.publishing.citations import bibtex_entry, release, ris_entry
from evidence_map.publishing.markup import escape, yaml_string, yaml_tag
from evidence_map.publishing.searchterms import SearchTerms
from evidence_map.records.evidence import Evidence
from evidence_map.records.issues import schema
from evidence_map.records.model import Effect, Record
from evidence_map.records.umbrella import umbrella
from evidence_map.surveillance.screening import (
    doi_url,
    pubmed_url,
)

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


CERTAINTY_LEVELS = certainty_scale()


def certainty_badge(level: str) -> Markup:
    """A certainty rating as a labelled chip (the word is always printed: colour is never the only cue)."""
    if level not in CERTAINTY_LEVELS:
        raise ValueError(f"not a certainty level: {level!r}")
    css = "certainty-" + re.sub(r"[^a-z]+", "-", level.lower()).strip("-")
    return Markup(f'<span class="certainty {css}">{escape(level)}</span>')


def verdict_rank(label: str) -> int:
    """A verdict's place on the scale, 1 for the strongest: what a table sorts it by, not its words."""
    return VERDICTS.index(label) + 1


def certainty_rank(level: str) -> int:
    """A certainty level's place, 1 for high and "not rated" last: sorted by the scale, not alphabetically."""
    return CERTAINTY_LEVELS.index(level) + 1


def slug(item_id: str) -> Markup:
    """An id as it is, for an address: ids are slugs by validation, checked again here, so there is
    nothing to escape. (Escaped, a hyphen would become `&#45;`, whose `#` the site generator reads
    as an anchor.)"""
    if not SLUG.match(item_id):
        raise ValueError(f"refusing a non-slug id in an address: {item_id!r}")
    return Markup(item_id)


def page_url(base: str, section: str, item_id: str) -> Markup:
    """A Markdown link target for a generated page."""
    return Markup(f"{base}{section}/{slug(item_id)}.md")


def page_href(base: str, section: str, item_id: str) -> Markup:
    """The address of a generated page in the built site, for a link in raw HTML (which the site
    generator leaves as written): `base` leads from the page to the site's root."""
    return Markup(f"{base}{section}/{slug(item_id)}/")


def html_link(text: str, href: Markup) -> Markup:
    return Markup(f'<a href="{href}">{escape(text)}</a>')


def permalink(anchor: str) -> Markup:
    """The permanent link Markdown's table of contents puts after a heading, for a heading written
    in raw HTML (which Markdown does not read), to `anchor`."""
    return Markup(f'<a class="headerlink" href="#{slug(anchor)}" title="Permanent link">&para;</a>')


def link(text: str, target: Markup) -> Markup:
    return Markup(f"[{escape(text)}]({target})")


# Compiled templates, kept in the build's work folder while a build renders (compiled_templates_kept):
# compiling the templates took about 0.3 s of every renderer. Jinja checks each kept one against its
# template's source, so an edited template is compiled again.
_compiled: jinja2.BytecodeCache | None = None


@contextmanager
def compiled_templates_kept(folder: Path) -> Iterator[None]:
    """Renderers made inside keep their compiled templates in `folder`; those made after it ends
    compile their own, so no renderer writes to a work folder that may be gone."""
    global _compiled
    folder.mkdir(parents=True, exist_ok=True)
    _compiled = jinja2.FileSystemBytecodeCache(str(folder))
    try:
        yield
    finally:
        _compiled = None


class Renderer:
    def __init__(self, computed: ComputedMap, info: SiteInfo) -> None:
        self.computed = computed
        self.ev = evidence = computed.evidence
        self.v = evidence.vocab
        self.grades = grades = computed.grades
        self.sof: dict[str, Summary] = computed.summaries
        rules = computed.rules
        self.info = info
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            finalize=escape,
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            bytecode_cache=_compiled,
        )
        self.env.filters.update(num=num, effect=effect_text, yaml=yaml_string, tag=yaml_tag, slug=slug)
        self.env.globals.update(
            ev=evidence,
            v=self.v,
            grades=grades,
            info=info,
            release=release(),
            badge=badge,
            rules=rules,
            paper_comparison=lambda entry, g: computed.paper_differences[g.condition],
            sof=self.sof,
            certainty_badge=certainty_badge,
            rob_label=lambda value: ROB_RATINGS.get(value, value),
            amstar_label=lambda value: AMSTAR2_RATINGS.get(value, value),
            verdict_rank=verdict_rank,
            certainty_rank=certainty_rank,
            indirectness=indirectness(rules),
            field_label=field_label,
            kind_label=kind_label,
            classes=rules.second,
            best_class=lambda g: computed.classes[g.condition],
            DOMAINS=DOMAINS,
            VERDICTS=VERDICTS,
            cond=self.v.conditions.get,
            condition_name=lambda c: self.v.conditions.get(c).name,
            source=self.v.sources.get,
            species=self.v.species.get,
            route=self.v.routes.get,
            category=self.v.category_name,
            url=page_url,
            href=page_href,
            p_text=p_text,
            i2_text=i2_text,
            edit_url=self.edit_url,
            Markup=Markup,
            review_link=lambda r, base: link(r.label, page_url(base, "reviews", r.id)),
            condition_link=lambda c, base: link(self.v.conditions.get(c).name, page_url(base, "conditions", c)),
            # The same links in raw HTML, where Markdown is not read: a large table converts in a
            # fraction of the time (the pooled effects table at 2,000 reviews: 13 s against 3.6 s).
            html_link=html_link,
            permalink=permalink,
            review_html_link=lambda r, base: html_link(r.label, page_href(base, "reviews", r.id)),
            condition_html_link=lambda c, base: html_link(
                self.v.conditions.get(c).name, page_href(base, "conditions", c)
            ),
            source_link=self.source_link,
            source_html_link=self.source_html_link,
            suggest_url=self.suggest_url,
            last_update=lambda **kw: last_update(evidence, **kw),
            umbrella=umbrella(),
            search_terms=SearchTerms(computed),
            out_link=self.out_link,
            out_html_link=self.out_html_link,
            cite_block=self.cite_block,
            # Links built only from validated identifiers (surveillance/screening.py refuses anything else).
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

    def source_html_link(self, source_id: str, href: Markup) -> Markup:
        """source_link in raw HTML, `href` leading from the built page to the site's root."""
        name = self.v.sources.get(source_id).name
        if not self.ev.for_source(source_id):
            return escape(name)  # type: ignore[no-any-return]
        return html_link(name, page_href(href, "sources", source_id))

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
    def out_html_link(text: str, url: str | None) -> Markup:
        """out_link in raw HTML: the address percent-encoded as there, then escaped for the attribute."""
        if not url:
            return Markup("not found")
        return Markup(f'<a href="{html.escape(quote(url, safe=SAFE_URL))}">{escape(text)}</a>')

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
