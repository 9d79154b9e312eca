"""What a condition, EV source or review page tells the search index besides its visible text.

Each of those pages carries one hidden block, never shown: the page's own names and the synonyms of
vocab/synonyms.yaml that belong to it, and its search filters (`data-pagefind-filter`: verdict,
organ system, EV source, species). The words are Pagefind metadata (`data-pagefind-meta`), one field
per tier, inside a `data-pagefind-ignore` block: Pagefind searches metadata but builds a result's
excerpt from the page's indexed text only, so a synonym finds its page without ever standing in the
excerpt in place of what the page says. The site's ranking weighs each field
(javascripts/search.js, `metaWeights`): a condition's or source's own names most, the words that
belong to it less, the words a review's record mentions and the map's own subject (EVs, on every
page) least.

Words and filter values come from the vocabularies and the computed verdicts only: record text
decides which synonym groups a page gets, but never becomes a word or a filter value here.
Templates call it as the `search_terms(kind, id)` global.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup

from evidence_map.judging.computed import ComputedMap
from evidence_map.judging.grading import VERDICTS
from evidence_map.publishing.synonyms import Group, Synonyms, load_synonyms, used_groups
from evidence_map.records.model import Record
from evidence_map.records.vocab import Term

# The tiers of hidden words, strongest first: each is a metadata field, which the site's ranking
# weighs (javascripts/search.js keeps the weights; a test checks the two name the same fields).
OWN = "names"  # a condition's or source's own name and aliases, on its own page
RELATED = "related"  # the page subject's other words: its synonym groups, outcomes, relatives' names
MENTIONED = "mentioned"  # on a review page: the names of what it covers, the groups its record's words belong to
EVERYWHERE = "everywhere"  # the map's own subject (EVs) on every page: found, but below pages that say it
TIERS = (OWN, RELATED, MENTIONED, EVERYWHERE)
# The Pagefind weight of a page's own names where the page prints them (its aliases under the
# heading): as heavy as Pagefind allows, so that an abbreviation that starts many other words
# ("MI": mice, microRNA) still finds the page it names above the reviews that merely use it.
OWN_WEIGHT = 10
FILTERS = ("Verdict", "Organ system", "EV source", "Species")
PageFilters = dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class PageTerms:
    """One page's hidden search words, by tier (each word once, in its strongest tier), and filters."""

    words: dict[str, tuple[str, ...]]
    filters: PageFilters

    def html(self) -> Markup:
        """The hidden block: a raw HTML block of its own in the page's Markdown. data-pagefind-ignore
        keeps its text out of the page's indexed text (so out of excerpts); its metadata and filters
        are still read."""
        lines = ['<div class="search-terms" hidden data-pagefind-ignore>']
        for tier in TIERS:
            if self.words.get(tier):
                lines.append(f'<p data-pagefind-meta="{tier}">{html.escape(", ".join(self.words[tier]))}</p>')
        spans = [
            f'<span data-pagefind-filter="{html.escape(key)}">{html.escape(value)}</span>'
            for key in FILTERS
            for value in self.filters.get(key, ())
        ]
        if spans:
            lines.append(f"<p>{''.join(spans)}</p>")
        lines.append("</div>")
        return Markup("\n" + "\n".join(lines) + "\n")


def _tiers(tiers: Iterable[tuple[str, Iterable[str]]]) -> dict[str, tuple[str, ...]]:
    """Words by tier, in order, keeping each word (in any case) only in its strongest tier."""
    seen: set[str] = set()
    out: dict[str, list[str]] = {}
    for tier, words in sorted(tiers, key=lambda t: TIERS.index(t[0])):
        for w in words:
            if w.casefold() not in seen:
                seen.add(w.casefold())
                out.setdefault(tier, []).append(w)
    return {k: tuple(v) for k, v in out.items()}


def _names(terms: Iterable[Term]) -> list[str]:
    return [w for t in terms for w in (t.name, *t.aliases)]


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def record_words(r: Record) -> str:
    """The words of a record that decide its synonym groups (never printed from here)."""
    parts = [r.title or "", r.intervention, *r.outcomes, *(e.outcome for e in r.effects)]
    parts += [*r.conditions_reported, *r.sources_reported, *r.species_reported]
    return " \n ".join(parts)


class SearchTerms:
    """The hidden search block of every condition, EV source and review page (a template global)."""

    def __init__(self, computed: ComputedMap, synonyms: Synonyms | None = None):
        self.ev = evidence = computed.evidence
        self.v = evidence.vocab
        self.grades = computed.grades
        self.synonyms = synonyms if synonyms is not None else load_synonyms(vocab=evidence.vocab)

    def __call__(self, kind: str, key: str) -> Markup:
        return self.terms(kind, key).html()

    @staticmethod
    def own_names(names: Iterable[str], lead: str) -> Markup:
        """A page's other names as it prints them, a paragraph of their own weighted for search:
        visible text, so an excerpt may show it."""
        text = html.escape(f"{lead}: {', '.join(names)}.")
        return Markup(f'<p class="own-names" data-pagefind-weight="{OWN_WEIGHT}">{text}</p>')

    def terms(self, kind: str, key: str) -> PageTerms:
        if kind == "condition":
            return self.condition(key)
        if kind == "source":
            return self.source(key)
        if kind == "review":
            return self.review(self.ev.by_id(key))
        raise ValueError(f"no search terms for a page of kind {kind!r}")

    def _words_of(self, groups: Iterable[Group]) -> list[str]:
        return [w for g in groups for w in g.words]

    def _everywhere(self) -> list[str]:
        return self._words_of(g for g in self.synonyms.groups if g.everywhere)

    def _filters(self, conditions: Iterable[str], sources: Iterable[str], species: Iterable[str]) -> PageFilters:
        conditions = list(conditions)
        verdicts = {self.grades[c].overall.label for c in conditions}
        return {
            "Verdict": tuple(v for v in VERDICTS if v in verdicts),
            "Organ system": _unique(self.v.category_name(c) for c in conditions),
            "EV source": _unique(self.v.sources.get(s).name for s in sources),
            "Species": _unique(self.v.species.get(s).name for s in species),
        }

    def _in_vocab_order(self, records: list[Record], attr: str, ids: list[str]) -> list[str]:
        used = {x for r in records for x in getattr(r, attr)}
        return [i for i in ids if i in used]

    def condition(self, cid: str) -> PageTerms:
        term = self.v.conditions.get(cid)
        records = self.ev.for_condition(cid)
        # The outcomes measured for this condition: its effects, and a single-condition review's outcomes.
        measured = " \n ".join(
            [e.outcome for r in records for e in r.effects_for(cid)]
            + [o for r in records if r.conditions == (cid,) for o in r.outcomes]
        )
        used = set(used_groups((g for g in self.synonyms.groups if not g.everywhere), measured))
        related = [g for g in self.synonyms.groups if cid in g.conditions or g in used]
        words = _tiers(
            [(OWN, [term.name, *term.aliases]), (RELATED, self._words_of(related)), (EVERYWHERE, self._everywhere())]
        )
        filters = self._filters(
            [cid],
            self._in_vocab_order(records, "sources", self.v.sources.ids),
            self._in_vocab_order(records, "species", self.v.species.ids),
        )
        return PageTerms(words, filters)

    def source(self, sid: str) -> PageTerms:
        term = self.v.sources.get(sid)
        records = self.ev.for_source(sid)
        relatives = [self.v.sources.get(r) for r in self.synonyms.relatives.get(sid, ())]
        related = _names(relatives) + self._words_of(g for g in self.synonyms.groups if sid in g.sources)
        words = _tiers([(OWN, [term.name, *term.aliases]), (RELATED, related), (EVERYWHERE, self._everywhere())])
        filters = self._filters(
            self._in_vocab_order(records, "conditions", self.v.conditions.ids),
            [sid],
            self._in_vocab_order(records, "species", self.v.species.ids),
        )
        return PageTerms(words, filters)

    def review(self, r: Record) -> PageTerms:
        covered = [
            *(self.v.conditions.get(c) for c in r.conditions),
            *(self.v.sources.get(s) for s in r.sources),
            *(self.v.species.get(s) for s in r.species),
        ]
        text = record_words(r)
        used = used_groups(self.synonyms.groups, text)
        words = _tiers([(MENTIONED, _names(covered) + self._words_of(used)), (EVERYWHERE, self._everywhere())])
        return PageTerms(words, self._filters(r.conditions, r.sources, r.species))
