"""Search that knows the field: the synonyms of vocab/synonyms.yaml, a condition's or EV source's own
names ranking its page first, filters from the vocabularies and the computed verdicts, and the pages
kept out of the index.

The index tests read what Pagefind wrote (tests/sitebuild.py); the browser tests query it through
Pagefind's JavaScript API with the site's own ranking (window.SiteSearch, javascripts/search.js), and
through the search dialog. What each expects comes from the vocabularies, the synonyms and the records.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from evidence_map.judging.grading import VERDICTS, ConditionGrade, grade_all
from evidence_map.publishing.searchterms import FILTERS, TIERS
from evidence_map.publishing.synonyms import InvalidSynonyms, Synonyms, check_synonyms, load_synonyms
from evidence_map.records.evidence import Evidence, InvalidEvidence
from evidence_map.records.vocab import Term
from tests.browser import Visit, open_search, serve
from tests.sitebuild import SEARCH_FIRST, Built, pagefind_file, search_filters, search_pages

if TYPE_CHECKING:
    from playwright.sync_api import Browser

UNSEARCHED = ("/tags/", "/whatsnew/")
SEARCH_JS = (Path(__file__).resolve().parent.parent / "docs" / "javascripts" / "search.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def grades(evidence: Evidence) -> dict[str, ConditionGrade]:
    return grade_all(evidence.vocab.conditions.ids, evidence.records)


@pytest.fixture(scope="module")
def synonyms(evidence: Evidence) -> Synonyms:
    return load_synonyms(vocab=evidence.vocab)


def topic_terms(ev: Evidence) -> dict[str, Term]:
    """The condition pages and the EV source pages (a source has one when a review uses it), by url."""
    pages = {f"/conditions/{t.id}/": t for t in ev.vocab.conditions.terms}
    pages |= {f"/sources/{t.id}/": t for t in ev.vocab.sources.terms if ev.for_source(t.id)}
    return pages


def related_words(ev: Evidence, syn: Synonyms) -> dict[str, list[str]]:
    """url -> the synonyms that belong to a condition or source page by vocab/synonyms.yaml."""
    out: dict[str, list[str]] = defaultdict(list)
    for g in syn.groups:
        for cid in g.conditions:
            out[f"/conditions/{cid}/"] += g.words
        for sid in g.sources:
            out[f"/sources/{sid}/"] += g.words
    for sid, relatives in syn.relatives.items():
        for r in relatives:
            out[f"/sources/{sid}/"] += [ev.vocab.sources.get(r).name, *ev.vocab.sources.get(r).aliases]
    return out


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.casefold())


def owners(query: str, words_by_url: dict[str, list[str]]) -> set[str]:
    """The pages whose words hold, for every word of the query, a word starting with it: Pagefind
    matches the start of words, so these are the pages a query names."""
    return {
        url
        for url, words in words_by_url.items()
        if all(any(t.startswith(q) for w in words for t in tokens(w)) for q in tokens(query))
    }


def is_abbreviation(word: str) -> bool:
    """SCI, ALI/ARDS, mNSS, BMSC-EVs: one word, mostly capitals."""
    letters = [c for c in word if c.isalpha()]
    capitals = sum(c.isupper() for c in letters)
    return " " not in word and capitals >= 2 and capitals * 2 >= len(letters)


def expected_filters(ev: Evidence, grades: dict[str, ConditionGrade]) -> dict[str, dict[str, set[str]]]:
    """The filters each page should carry, from the vocabularies and the computed verdicts: a page's
    conditions give its verdicts and organ systems, its reviews' sources and species the rest."""
    v = ev.vocab
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    def add(url: str, conditions: set[str], sources: set[str], species: set[str]) -> None:
        for c in conditions:
            out["Verdict"][grades[c].overall.label].add(url)
            out["Organ system"][v.category_name(c)].add(url)
        for s in sources:
            out["EV source"][v.sources.get(s).name].add(url)
        for s in species:
            out["Species"][v.species.get(s).name].add(url)

    for cid in v.conditions.ids:
        recs = ev.for_condition(cid)
        add(f"/conditions/{cid}/", {cid}, {s for r in recs for s in r.sources}, {s for r in recs for s in r.species})
    for sid in v.sources.ids:
        recs = ev.for_source(sid)
        if recs:
            add(
                f"/sources/{sid}/", {c for r in recs for c in r.conditions}, {sid}, {s for r in recs for s in r.species}
            )
    for r in ev.records:
        add(f"/reviews/{r.id}/", set(r.conditions), set(r.sources), set(r.species))
    return out


# The synonyms file and its rules -------------------------------------------------------------------


def test_the_synonyms_file_is_valid(evidence: Evidence) -> None:
    assert check_synonyms(vocab=evidence.vocab) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("groups:\n  - words: [exosome, EVs]\n    everywhere: true\n", []),
        ("groups: []\n", ["1: groups: must be a list of groups of words; got []"]),
        (
            "colour: red\ngroups:\n  - words: [a, b]\n",
            ["1: colour: unknown key; allowed keys: groups, source_relatives"],
        ),
        (
            "groups:\n  - words: [SCI]\n",
            ['2: groups.0.words: must be a list of two or more words that mean the same thing; got ["SCI"]'],
        ),
        (
            "groups:\n  - words: [EVs, evs]\n",
            ['2: groups.0.words.1: repeats a word of the same group; got "evs"'],
        ),
        (
            "groups:\n  - words: ['<b>EV</b>', 'x, y', EVs]\n",
            [
                '2: groups.0.words.0: must be plain text, without markup, Markdown or control characters; got "<b>EV</b>"',
                '2: groups.0.words.1: must be one word or phrase: list each on its own, without commas; got "x, y"',
            ],
        ),
        (
            "groups:\n  - words: [BBB, BBB score]\n    conditions: [spinal]\n    colour: red\n",
            [
                '3: groups.0.conditions.0: must be a condition id from vocab/conditions.yaml; got "spinal"',
                "4: groups.0.colour: unknown key; allowed keys: words, everywhere, conditions, sources",
            ],
        ),
        (
            "groups:\n  - words: [SCI, spinal injury]\n    conditions: [spinal-cord-injury]\n",
            [
                "2: groups.0.words.0: repeats a name or alias vocab/conditions.yaml gives spinal-cord-injury; "
                'leave it there; got "SCI"'
            ],
        ),
        (
            "groups:\n  - words: [a, b]\n    everywhere: yes please\n",
            ['3: groups.0.everywhere: must be true or false; got "yes please"'],
        ),
        (
            "groups:\n  - words: [a, b]\nsource_relatives:\n  uc: [uc, cord]\n  nowhere: [bm]\n",
            [
                '4: source_relatives.uc: must not list the source itself; got "uc"',
                '4: source_relatives.uc.1: must be a source id from vocab/sources.yaml; got "cord"',
                '5: source_relatives.nowhere: must be keyed by a source id from vocab/sources.yaml; got "nowhere"',
            ],
        ),
    ],
)
def test_synonym_rules(tmp_path: Path, evidence: Evidence, text: str, expected: list[str]) -> None:
    path = tmp_path / "synonyms.yaml"
    path.write_text(text, encoding="utf-8")
    problems = [str(p).removeprefix(f"{path}:") for p in check_synonyms(path, evidence.vocab)]
    assert problems == expected


def test_a_bad_synonyms_file_stops_the_build_like_a_bad_record(tmp_path: Path, evidence: Evidence) -> None:
    path = tmp_path / "synonyms.yaml"
    path.write_text("groups:\n  - words: [SCI]\n", encoding="utf-8")
    with pytest.raises(InvalidSynonyms) as caught:
        load_synonyms(path, evidence.vocab)
    assert isinstance(caught.value, InvalidEvidence)  # what `build.py build` reports and stops on
    assert [p.line for p in caught.value.problems] == [2]


# What the index holds -------------------------------------------------------------------------------


def test_every_synonym_is_on_the_pages_it_belongs_to(built: Built, evidence: Evidence, synonyms: Synonyms) -> None:
    pages = search_pages(built.site)
    topics = topic_terms(evidence)
    everywhere = [w for g in synonyms.groups if g.everywhere for w in g.words]
    expected = dict(related_words(evidence, synonyms))
    for url in [*topics, *(f"/reviews/{r.id}/" for r in evidence.records)]:
        expected.setdefault(url, []).extend(everywhere)
    for url, term in topics.items():
        expected[url] += [term.name, *term.aliases]
    for url, words in expected.items():
        if url not in topics and not url.startswith("/reviews/"):
            continue  # a source no review uses has no page
        searched = " ".join([pages[url]["content"], *pages[url]["meta"].values()])
        missing = [w for w in words if not re.search(rf"(?<!\w){re.escape(w)}(?!\w)", searched, re.IGNORECASE)]
        assert missing == [], url


def test_hidden_words_are_searched_but_never_part_of_the_text_excerpts_come_from(
    built: Built, evidence: Evidence
) -> None:
    """Each tier of hidden words is a metadata field, none of them in the page's indexed text (from which
    Pagefind takes excerpts): a synonym finds its page without standing in for what the page says."""
    pages = search_pages(built.site)
    blocks = 0
    for url in [*topic_terms(evidence), *(f"/reviews/{r.id}/" for r in evidence.records)]:
        html_text = (built.site / url.strip("/") / "index.html").read_text(encoding="utf-8")
        block = re.search(r'<div class="search-terms" hidden data-pagefind-ignore>(.*?)</div>', html_text, re.S)
        assert block, url
        blocks += 1
        for tier, words in re.findall(r'<p data-pagefind-meta="([a-z]+)">(.*?)</p>', block.group(1)):
            assert tier in TIERS and f"{tier}: " in SEARCH_JS, tier  # weighed by the site's ranking
            assert pages[url]["meta"][tier] == html.unescape(words), (url, tier)
            assert html.unescape(words) not in pages[url]["content"], (url, tier)
    assert blocks == len(topic_terms(evidence)) + len(evidence.records)


def test_a_condition_or_source_page_carries_its_names_as_search_metadata(built: Built, evidence: Evidence) -> None:
    pages = search_pages(built.site)
    for url, term in topic_terms(evidence).items():
        names = pages[url]["meta"]["names"].split(", ")
        assert names[0] == term.name, url
        assert {n.casefold() for n in names} == {n.casefold() for n in (term.name, *term.aliases)}, url


def test_hidden_search_words_and_filters_come_from_the_vocabularies(built: Built, evidence: Evidence) -> None:
    """Record text decides which synonyms a page gets, but is never itself a word or a filter value."""
    v = evidence.vocab
    allowed = {w for voc in (v.conditions, v.sources, v.species) for t in voc.terms for w in (t.name, *t.aliases)}
    allowed |= {w for g in load_synonyms(vocab=v).groups for w in g.words}
    values = set(VERDICTS) | set(v.categories.values()) | {t.name for t in (*v.sources.terms, *v.species.terms)}
    blocks = 0
    for page in built.site.rglob("index.html"):
        text = page.read_text(encoding="utf-8")
        for block in re.findall(r'<div class="search-terms" hidden data-pagefind-ignore>(.*?)</div>', text, re.S):
            blocks += 1
            for words in re.findall(r"<p data-pagefind-meta=[^>]*>(.*?)</p>", block):
                assert set(html.unescape(words).split(", ")) <= allowed, page
            for key, value in re.findall(r'<span data-pagefind-filter="([^"]+)">(.*?)</span>', block):
                assert key in FILTERS and html.unescape(value) in values, page
    assert blocks == len(topic_terms(evidence)) + len(evidence.records)


def test_filters_come_from_the_verdicts_and_the_vocabularies(
    built: Built, evidence: Evidence, grades: dict[str, ConditionGrade]
) -> None:
    indexed = search_filters(built.site)
    expected = expected_filters(evidence, grades)
    assert sorted(indexed) == sorted(FILTERS)
    for name in FILTERS:
        assert {k: set(v) for k, v in indexed[name].items()} == expected[name], name


def test_tags_and_whats_new_stay_out_of_the_index(built: Built) -> None:
    pages = search_pages(built.site)
    for url in UNSEARCHED:
        assert (built.site / url.strip("/") / "index.html").is_file()  # the page is there, not indexed
        assert url not in pages
    assert "/conditions/spinal-cord-injury/" in pages and "/" in pages


def test_every_part_kept_out_of_the_index_says_how_in_words_pagefind_reads(built: Built) -> None:
    """data-pagefind-ignore takes no value, `index` or `all`. A bare attribute in a block Markdown
    processes comes out as `data-pagefind-ignore="data-pagefind-ignore"`, which Pagefind reads as
    `all` (dropping any filter inside) with a warning, so the templates name the value there."""
    values: set[str] = set()
    for page in built.site.rglob("*.html"):
        values |= set(re.findall(r"data-pagefind-ignore(?:=\"([^\"]*)\")?", page.read_text(encoding="utf-8")))
    assert values and values <= {"", "index", "all"}, values


# Through Pagefind, with the site's ranking ---------------------------------------------------------------

SEARCH = """async ([bundle, queries]) => {
    const pagefind = await import(bundle + "pagefind.js");
    await pagefind.options({ ranking: window.SiteSearch.ranking });
    const out = [];
    for (const [query, filters] of queries) {
        const search = await pagefind.search(query, { filters });
        out.push(search.results.map((r) => r.id));
    }
    return out;
}"""


@pytest.fixture(scope="module")
def searcher(browser: Browser, built: Built) -> Iterator[Any]:
    """A page of the served site, and a function running queries there with the site's ranking:
    [(query, filters)] -> for each, the urls of its results, best first."""
    # A result's id is its page's fragment file name.
    urls = {p.stem: pagefind_file(p)["url"] for p in (built.site / "pagefind" / "fragment").glob("*.pf_fragment")}
    with serve(built.site) as base:
        visit = Visit.open(browser, base)
        visit.goto("")

        def run(queries: list[tuple[str | None, dict[str, list[str]]]]) -> list[list[str]]:
            ids: list[list[str]] = visit.page.evaluate(SEARCH, [base + "pagefind/", queries])
            return [[urls[i] for i in found] for found in ids]

        yield run
        problems = visit.problems()
        visit.close()
        assert not problems, "\n".join(problems)


def test_the_words_of_the_field_rank_their_page_first(searcher: Any) -> None:
    results = searcher([(term, {}) for term, _ in SEARCH_FIRST])
    assert [(term, urls[:1]) for (term, _), urls in zip(SEARCH_FIRST, results, strict=True)] == [
        (term, [page]) for term, page in SEARCH_FIRST
    ]


def test_condition_and_source_pages_rank_above_reviews_for_their_names(
    searcher: Any, evidence: Evidence, synonyms: Synonyms
) -> None:
    """A condition's or EV source's name, each abbreviation among its aliases and each abbreviation of
    its synonyms finds a page that owns the words (its own, or one whose names start the same: "MS"
    starts "MSCs") above every review that mentions them; an abbreviation finds it first. (A name
    sharing a common word may rank another condition first: "Bone Injury" finds Traumatic Brain Injury
    too, and "bone" is on almost every page, as in "Bone marrow MSCs".)"""
    names = {url: [t.name, *t.aliases] for url, t in topic_terms(evidence).items()}
    related = related_words(evidence, synonyms)
    owned = {url: names[url] + related.get(url, []) for url in names}
    queries: dict[str, set[str]] = {}
    for words in names.values():
        for word in words:
            if word == words[0] or is_abbreviation(word):
                queries[word] = owners(word, names)
    for url, words in related.items():
        for word in words:
            if url in names and is_abbreviation(word):
                queries.setdefault(word, owners(word, owned))
    wrong = {}
    for (query, expected), urls in zip(queries.items(), searcher([(q, {}) for q in queries]), strict=True):
        first_owner = next(i for i, url in enumerate(urls) if url in expected)
        first_review = next((i for i, url in enumerate(urls) if url.startswith("/reviews/")), len(urls))
        if first_owner > first_review or (is_abbreviation(query) and first_owner != 0):
            wrong[query] = urls[: first_owner + 1]
    assert wrong == {}
    assert sum(map(is_abbreviation, queries)) > len(evidence.vocab.conditions.ids)


def test_filtering_by_verdict_or_organ_system_narrows_the_results(
    searcher: Any, evidence: Evidence, grades: dict[str, ConditionGrade]
) -> None:
    expected = expected_filters(evidence, grades)
    cases = [(name, value) for name in ("Verdict", "Organ system") for value in sorted(expected[name])]
    everything, *filtered = searcher([(None, {}), *((None, {n: [v]}) for n, v in cases)])
    for (name, value), urls in zip(cases, filtered, strict=True):
        assert set(urls) == expected[name][value], (name, value)
        assert len(urls) < len(everything)
    # With words: a filter keeps, of what the words find, the pages that carry it.
    sci = grades["spinal-cord-injury"].overall.label
    other = next(v for v in VERDICTS if v != sci)
    words, kept, dropped = searcher([("SCI", {}), ("SCI", {"Verdict": [sci]}), ("SCI", {"Verdict": [other]})])
    assert set(kept) == set(words) & expected["Verdict"][sci] and "/conditions/spinal-cord-injury/" in kept
    assert set(dropped) == set(words) & expected["Verdict"][other] and "/conditions/spinal-cord-injury/" not in dropped
    assert len(kept) < len(words)


def test_tags_and_whats_new_are_never_in_the_results(searcher: Any, evidence: Evidence) -> None:
    newest = max(evidence.records, key=lambda r: (r.updated, r.id))
    queries = ["Tags", "What's new", "Additions and updates", "verdicts that changed", newest.label, "Rat"]
    for query, urls in zip(queries, searcher([(q, {}) for q in queries]), strict=True):
        assert urls, query
        assert not set(urls) & set(UNSEARCHED), query


# The search dialog -------------------------------------------------------------------------------------


def test_the_dialog_ranks_and_filters_as_the_index_does(
    browser: Browser, built: Built, evidence: Evidence, grades: dict[str, ConditionGrade]
) -> None:
    """The dialog offers one filter per filter in the index, in searchterms.FILTERS's order; "SCI" puts
    the spinal cord injury page first; ticking a verdict keeps only the pages that carry it."""
    from playwright.sync_api import expect

    expected = expected_filters(evidence, grades)
    with serve(built.site) as base:
        v = Visit.open(browser, base)
        page = v.goto("")
        open_search(page)
        page.keyboard.type("SCI")
        links = page.locator("pagefind-modal .pf-result-link")
        # The results of "S" and "SC" can show while "SCI" is typed, and each result is drawn when
        # its data arrives: wait for the list to settle with this page first, not for any first link.
        expect(links.first).to_have_text("Spinal Cord Injury", timeout=15_000)
        dropdowns = page.locator("pagefind-modal pagefind-filter-dropdown")
        assert (
            [d.get_attribute("filter") for d in dropdowns.all()]
            == list(FILTERS)
            == sorted(search_filters(built.site), key=FILTERS.index)
        )
        summary = page.locator("pagefind-modal pagefind-summary")
        before = summary.inner_text()
        sci = grades["spinal-cord-injury"].overall.label
        page.locator('pagefind-filter-dropdown[filter="Verdict"] .pf-dropdown-trigger').click()
        page.locator(f'pagefind-filter-dropdown[filter="Verdict"] .pf-dropdown-option[data-value="{sci}"]').click()
        page.wait_for_function(
            "before => document.querySelector('pagefind-modal pagefind-summary').innerText !== before", arg=before
        )
        links.first.wait_for()
        shown = {link.get_attribute("href") for link in links.all()}
        assert "/conditions/spinal-cord-injury/" in shown
        assert shown <= expected["Verdict"][sci]
        problems = v.problems()
        v.close()
    assert not problems, "\n".join(problems)
