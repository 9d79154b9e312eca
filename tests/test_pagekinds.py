"""The page kinds table: one row a kind of page, read by the page writer, the navigation and search."""

from __future__ import annotations

import re
from typing import Any

from evidence_map.paths import DOCS, TEMPLATES
from evidence_map.publishing.pagekinds import KINDS, PAGE_KINDS, kind_of_path, navigation, page_path, with_search_meta
from evidence_map.records.evidence import Evidence
from tests.sitebuild import Built


def test_every_page_template_is_a_registered_kind_and_every_kind_has_its_file() -> None:
    page_templates = {p.name for p in TEMPLATES.glob("*.md.j2") if not p.name.startswith("_")}
    registered = {k.template for k in PAGE_KINDS if k.template}
    assert page_templates == registered, (
        "add the page kind to evidence_map/publishing/pagekinds.py (or remove its template)"
    )
    for kind in PAGE_KINDS:
        if kind.template is None:
            assert (DOCS / kind.path).is_file(), kind.key


def test_paths_map_back_to_their_kind() -> None:
    for kind in PAGE_KINDS:
        path = page_path(kind.key, "some-id-2024" if kind.per_item else None)
        assert kind_of_path(path) is kind
    assert kind_of_path("conditions/Not A Slug.md") is None
    assert kind_of_path("elsewhere.md") is None


def test_navigation_follows_the_table(evidence: Evidence) -> None:
    sources = [s for s in evidence.vocab.sources.ids if evidence.for_source(s)]
    nav = navigation(evidence, sources)
    sections = [next(iter(entry)) for entry in nav]
    expected = list(dict.fromkeys(k.section for k in PAGE_KINDS if k.section))
    assert sections == expected

    def paths(node: Any) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, list):
            return [p for item in node for p in paths(item)]
        return [p for value in node.values() for p in paths(value)]

    listed = paths(nav)
    for kind in PAGE_KINDS:
        if kind.section is None:
            assert not any(kind_of_path(p) is kind for p in listed), kind.key
        elif kind.per_item:
            assert sum(kind_of_path(p) is kind for p in listed) >= 1, kind.key
        else:
            assert kind.path in listed, kind.key
    assert [p for p in listed if kind_of_path(p) is KINDS["condition"]] == [
        page_path("condition", c) for c in evidence.vocab.conditions.ids
    ]


def test_search_settings_go_into_the_front_matter() -> None:
    page = '---\ntitle: "X"\n---\n\n# X\n'
    assert with_search_meta("conditions/sepsis.md", page).startswith('---\ntitle: "X"\nsearch_kind: "Condition"\n---')
    assert "search_exclude: true" in with_search_meta("whatsnew.md", page)
    assert with_search_meta("methods.md", page) == page  # nothing to add
    assert with_search_meta("tags.md", "# Tags\n").startswith("---\nsearch_exclude: true\n---\n")


def test_the_built_site_carries_each_kinds_search_settings(built: Built, evidence: Evidence) -> None:
    for kind in PAGE_KINDS:
        some = evidence.records[0].id if kind.key == "review" else None
        if kind.key == "condition":
            some = evidence.vocab.conditions.ids[0]
        if kind.key == "source":
            some = next(s for s in evidence.vocab.sources.ids if evidence.for_source(s))
        path = page_path(kind.key, some)
        url = re.sub(r"(index)?\.md$", "", path)
        html = (built.site / url / "index.html").read_text(encoding="utf-8")
        if kind.search_kind:
            assert f'data-pagefind-meta="kind:{kind.search_kind}"' in html, kind.key
        else:
            assert 'data-pagefind-meta="kind:' not in html, kind.key
        assert ('data-pagefind-ignore="all"' in html) == (not kind.searchable), kind.key
