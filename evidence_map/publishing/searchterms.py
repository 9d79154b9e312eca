"""What a condition, EV source or review page tells the search index besides its visible text.

Each of those pages carries one hidden block, read by Pagefind and never shown: the page's own
names and the synonyms of vocab/synonyms.yaml that belong to it, as weighted text
(`data-pagefind-weight`), so that any of them finds the page; and its search filters
(`data-pagefind-filter`: verdict, organ system, EV source, species). Pagefind's ranking saturates
on repeated words, so weighted text alone does not lift a condition page above a short review that
names it twice: a condition's or source's own names, and the words that belong to it, are also
metadata (`names`, `related`), which the site's ranking boosts (javascripts/search.js).

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
from evidence_map.publishing.synonyms import Group, Synonyms, load_synonyms
from evidence_map.records.model import Record
from evidence_map.records.vocab import Term

# Pagefind weights of the hidden text (0 to 10; ordinary text is 1, an h1 7).
OWN = 10.0  # a condition's or source's own name and aliases, on its own page
RELATED = 5.0  # the page subject's other words: its synonym groups, outcomes, relatives' names
MENTIONED = 1.0  # on a review page: the names of what it covers, the groups its record's words belong to
EVERYWHERE = 0.5  # the map's own subject (EVs) on every page: found, but below pages that say it

META = {OWN: "names", RELATED: "related"}  # the metadata fields the site's ranking boosts
FILTERS = ("Verdict", "Organ system", "EV source", "Species")
PageFilters = dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class PageTerms:
    """One page's hidden search words, by weight (each word once, at its highest weight), and filters."""

    words: dict[float, tuple[str, ...]]
    filters: PageFilters

    def html(self) -> Markup:
        """The hidden block: a raw HTML block of its own in the page's Markdown."""
        lines = ['<div class="search-terms" hidden>']
        for weight, words in sorted(self.words.items(), reverse=True):
            meta = f' data-pagefind-meta="{META[weight]}"' if weight in META else ""
            lines.append(f'<p data-pagefind-weight="{weight:g}"{meta}>{html.escape(", ".join(words))}</p>')
        spans = [
            f'<span data-pagefind-filter="{html.escape(key)}">{html.escape(value)}</span>'
            for key in FILTERS
            for value in self.filters.get(key, ())
        ]
        if spans:  # data-pagefind-ignore: the values are filters, not words of the page
            lines.append(f"<p data-pagefind-ignore>{''.join(spans)}</p>")
        lines.append("</div>")
        return Markup("\n" + "\n".join(lines) + "\n")


def _tiers(tiers: Iterable[tuple[float, Iterable[str]]]) -> dict[float, tuple[str, ...]]:
    """Words by weight, in order, keeping each word (in any case) only at its highest weight."""
    seen: set[str] = set()
    out: dict[float, list[str]] = {}
    for weight, words in sorted(tiers, key=lambda t: -t[0]):
        for w in words:
            if w.casefold() not in seen:
                seen.add(w.casefold())
                out.setdefault(weight, []).append(w)
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
        related = [g for g in self.synonyms.groups if cid in g.conditions or (not g.everywhere and g.used_in(measured))]
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
        used = [g for g in self.synonyms.groups if g.used_in(text)]
        words = _tiers([(MENTIONED, _names(covered) + self._words_of(used)), (EVERYWHERE, self._everywhere())])
        return PageTerms(words, self._filters(r.conditions, r.sources, r.species))
