"""Every kind of page the site has, in one table: its template, where it is written, where it sits
in the navigation and how search treats it.

Adding a page kind is a row here (and its template); the page writer, the navigation and the search
metadata all read this table. What a page shows is its template's business, not this module's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from evidence_map.publishing.markup import yaml_string
from evidence_map.records.evidence import Evidence


@dataclass(frozen=True)
class PageKind:
    key: str
    template: str | None  # None: a hand-written page under docs/
    path: str  # the Markdown file it is written to; "{id}" for one page per condition, source or review
    section: str | None  # the navigation tab it sits under; None: reached from other pages only
    title: str | None = None  # its navigation entry under the section (None: the section's own page)
    search_kind: str | None = None  # shown beside the title in search results
    searchable: bool = True  # False: left out of the search index

    @property
    def per_item(self) -> bool:
        return "{id}" in self.path


PAGE_KINDS: tuple[PageKind, ...] = (
    PageKind("home", "home.md.j2", "index.md", "Home"),
    PageKind("gapmap", "gapmap.md.j2", "gapmap.md", "Gap map"),
    PageKind("conditions", "conditions_index.md.j2", "conditions/index.md", "Conditions"),
    PageKind("condition", "condition.md.j2", "conditions/{id}.md", "Conditions", search_kind="Condition"),
    PageKind("sources", "sources_index.md.j2", "sources/index.md", "EV sources"),
    PageKind("source", "source.md.j2", "sources/{id}.md", "EV sources", search_kind="EV source"),
    PageKind("reviews", "reviews_index.md.j2", "reviews/index.md", "Reviews"),
    PageKind("effects", "effects.md.j2", "effects.md", "Pooled effects"),
    PageKind("review", "review.md.j2", "reviews/{id}.md", None, search_kind="Review"),
    PageKind("dosing", "dosing.md.j2", "dosing.md", "Reviews", "Dosing and routes"),
    PageKind("quality", "quality.md.j2", "quality.md", "Reviews", "Quality"),
    PageKind("methods", "methods.md.j2", "methods.md", "Methods"),
    PageKind("audit", "audit.md.j2", "audit.md", "Methods", "Audit"),
    PageKind("downloads", "downloads.md.j2", "downloads.md", "Downloads"),
    PageKind("whatsnew", "whatsnew.md.j2", "whatsnew.md", "What's new", searchable=False),
    PageKind("screening", "screening.md.j2", "screening.md", "What's new", "Screening"),
    PageKind("contribute", "contribute.md.j2", "contribute.md", "Contribute"),
    PageKind("about", "about.md.j2", "about.md", "About"),
    PageKind("tags", None, "tags.md", "About", "Tags", searchable=False),
)
KINDS = {k.key: k for k in PAGE_KINDS}
if len(KINDS) != len(PAGE_KINDS):
    raise ValueError("page kinds: a key is used twice")


def kind_of_path(path: str) -> PageKind | None:
    """The kind of the page written to `path` (a Markdown path inside the site's docs)."""
    for kind in PAGE_KINDS:
        pattern = re.escape(kind.path).replace(re.escape("{id}"), r"[a-z0-9]+(?:-[a-z0-9]+)*")
        if re.fullmatch(pattern, path):
            return kind
    return None


def page_path(key: str, item_id: str | None = None) -> str:
    kind = KINDS[key]
    if kind.per_item != (item_id is not None):
        raise ValueError(f"page kind {key!r}: {'an id is' if kind.per_item else 'no id is'} needed")
    return kind.path.replace("{id}", item_id or "")


_FRONT = re.compile(r"\A(\s*---\n)(.*?\n)(---\n)", re.S)


def with_search_meta(path: str, text: str) -> str:
    """The page with its kind's search settings added to its front matter (which the theme override
    reads): the kind shown in results, and whether search leaves the page out."""
    kind = kind_of_path(path)
    if kind is None:
        return text
    lines = []
    if kind.search_kind:
        lines.append(f"search_kind: {yaml_string(kind.search_kind)}\n")
    if not kind.searchable:
        lines.append("search_exclude: true\n")
    if not lines:
        return text
    match = _FRONT.match(text)
    if match is None:
        return "---\n" + "".join(lines) + "---\n\n" + text
    return text[: match.end(2)] + "".join(lines) + text[match.end(2) :]


def navigation(evidence: Evidence, sources_with_pages: Iterable[str]) -> list[Any]:
    """The site's navigation, in the table's order: each section its own page first, then its items
    (a page per condition or source) or its other pages."""
    v = evidence.vocab
    items = {
        "condition": [(t.name, page_path("condition", t.id)) for t in v.conditions.terms],
        "source": [(v.sources.get(s).name, page_path("source", s)) for s in sources_with_pages],
    }
    sections: dict[str, list[Any]] = {}
    for kind in PAGE_KINDS:
        if kind.section is None:
            continue
        entries = sections.setdefault(kind.section, [])
        if kind.per_item:
            entries += [{name: path} for name, path in items.get(kind.key, [])]
        elif kind.title is None:
            entries.insert(0, kind.path)
        else:
            entries.append({kind.title: kind.path})
    return [
        {name: entries[0] if len(entries) == 1 and isinstance(entries[0], str) else entries}
        for name, entries in sections.items()
    ]


def not_in_nav() -> str:
    """The gitignore-style patterns of pages reached from other pages only."""
    return "".join("/" + k.path.replace("{id}", "*") + "\n" for k in PAGE_KINDS if k.section is None)
