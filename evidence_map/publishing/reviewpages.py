"""The review pages: rendered in a second process when there are many, and kept between builds,
so that after a one-record edit one review page is rendered again, not all of them.

Nine pages in ten are review pages at 2,000 reviews, and a review page shows one record. It is kept
under a key made of everything its template reads (the names in `READS`; a test holds the template
to that list): the record itself (every field, by its repr), its assessed effects, the verdicts of
its conditions (the page's search filters name them), its notices, which EV sources have a page
(it links only to those), the repository's address, and what it is made with (inputs.made_with):
the map's vocabularies, and the project by content: templates, code, vocabularies, synonyms, rules,
the umbrella review's data and the installed packages. A key that differs in any of these is another entry, so an entry
is never stale. The entries are one file in the work folder holding those the last build used.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from markupsafe import Markup

from evidence_map.files import replace_file
from evidence_map.judging.computed import ComputedMap
from evidence_map.processes import outcome
from evidence_map.publishing.apart import Apart, job, wanted
from evidence_map.publishing.inputs import digest, made_with
from evidence_map.publishing.pagekinds import KINDS, page_path
from evidence_map.publishing.renderer import Renderer, SiteInfo
from evidence_map.records.model import Record

VERSION = "review pages 1"
FILE = "pages.pickle"
# What review.md.j2 and the templates it includes read, besides the globals that only format a
# value (vocabulary lookups, number and link formats): each is covered by the key.
READS = frozenset(
    {
        "rec",  # the record: repr
        "assessed",  # its assessed effects: their figures and flags
        "notices",  # retractions and errata linked to it
        "tags",  # from the record and the vocabularies
        "search_terms",  # the record, the synonyms, its conditions' verdicts
        "source_html_link",  # which EV sources have a page
        "edit_url",  # the repository's address
        "umbrella",  # the umbrella review's data (audit/)
        "base",  # the same for every review page
    }
)
# The globals that only format what they are given, by the project's code and vocabularies.
FORMATS = frozenset(
    {
        "cite_block",
        "condition_html_link",
        "doi_url",
        "field_label",
        "i2_text",
        "kind_label",
        "out_link",
        "out_html_link",
        "p_text",
        "pmc_url",
        "pubmed_url",
        "review_html_link",
        "route",
        "species",
    }
)


class ReviewCache:
    """The review pages of the last build, in `folder`/pages.pickle."""

    def __init__(self, folder: Path, computed: ComputedMap, info: Any, made: str | None = None) -> None:
        """`made`: inputs.made_with of the map's vocabularies, when the build has it already."""
        self.path = folder / FILE
        evidence = computed.evidence
        with_page = [s for s in evidence.vocab.sources.ids if evidence.for_source(s)]
        self._computed = computed
        made = made or made_with(evidence.vocab)
        self._base = digest(VERSION, made, info.repo_url, " ".join(with_page))
        try:
            self._kept: dict[str, str] = pickle.loads(self.path.read_bytes())
        except (OSError, pickle.PickleError, EOFError, ValueError, AttributeError):
            self._kept = {}
        self._used: dict[str, str] = {}

    def key(self, rec: Record, notices: list[Any]) -> str:
        computed = self._computed
        assessed = [
            (a.benefit, a.p, a.p_is_bound, a.p_derived, a.i2, a.i2_from_review, a.i2_from_range, a.flags)
            for a in computed.assessed_for(rec)
        ]
        verdicts = [computed.grades[c].overall.label for c in rec.conditions]
        return digest(self._base, repr(rec), repr(assessed), repr(verdicts), repr(notices))

    def get(self, key: str) -> str | None:
        text = self._kept.get(key)
        if text is not None:
            self._used[key] = text
        return text

    def put(self, key: str, text: str) -> None:
        self._used[key] = text

    def save(self) -> None:
        """Keep the pages this build used, and only those."""
        if self._used.keys() == self._kept.keys():
            return
        replace_file(self.path, pickle.dumps(self._used, pickle.HIGHEST_PROTOCOL))


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


def review_pages(
    computed: ComputedMap, info: SiteInfo, notices: dict[str, Any], ids: Iterable[str] | None = None
) -> dict[str, str]:
    """The pages of the reviews `ids` (all by default), by their path."""
    r = Renderer(computed, info)
    template = str(KINDS["review"].template)
    ev = computed.evidence
    return {
        page_path("review", rec.id): r.render(
            template,
            rec=rec,
            notices=notices.get(rec.id, []),
            base=Markup("../"),
            tags=tags_for([rec], r),
            assessed=computed.assessed_for(rec),
        )
        for rec in (ev.records if ids is None else [ev.by_id(i) for i in ids])
    }


class ReviewPages:
    """The review pages of a build: those kept from the last one, and the others being rendered,
    in the build's second process when there are many (apart.py)."""

    def __init__(
        self,
        computed: ComputedMap,
        info: SiteInfo,
        notices: dict[str, Any],
        cache: ReviewCache | None = None,
        second: Apart | None = None,
    ) -> None:
        self.computed, self.info, self.notices, self.cache = computed, info, notices, cache
        self.keys: dict[str, str] = {}
        self.pages: dict[str, str] = {}
        self.missing: list[str] = []
        for rec in computed.records:
            text = None
            if cache is not None:
                key = self.keys[rec.id] = cache.key(rec, notices.get(rec.id, []))
                text = cache.get(key)
            if text is None:
                self.missing.append(rec.id)
            else:
                self.pages[page_path("review", rec.id)] = text
        self.future: Future[dict[str, str]] | None = None
        if second is not None and wanted(len(self.missing)):
            self.future = second.submit(_apart, self.missing)

    def result(self) -> dict[str, str]:
        """Every review page by its path, the rendered ones kept for the next build."""
        rendered = outcome(self.future, lambda: review_pages(self.computed, self.info, self.notices, self.missing))
        if self.cache is not None:
            for rid in self.missing:
                self.cache.put(self.keys[rid], rendered[page_path("review", rid)])
        return self.pages | rendered


def _apart(ids: list[str]) -> dict[str, str]:
    """review_pages, in the second process."""
    shared = job()
    return review_pages(shared.computed, shared.info, shared.notices, ids)
