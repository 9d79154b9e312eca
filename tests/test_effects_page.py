"""The pooled-effects page and the reviews table as Markdown: one row per effect (per record), each row
carrying the filter values tables.js matches, built from vocabulary ids and computed labels only.
Everything expected is derived from the real records."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest
from markupsafe import Markup

from evidence_map.judging.computed import compute_map
from evidence_map.judging.grading import ConditionGrade, grade_all
from evidence_map.publishing import pages
from evidence_map.publishing import renderer as rendering
from evidence_map.publishing.markup import escape
from evidence_map.publishing.pagekinds import navigation
from evidence_map.publishing.tablerows import Spec, effects_table, reviews_table, slug, table
from evidence_map.publishing.writer import TreeWriter
from evidence_map.records.evidence import Evidence
from evidence_map.records.model import Record

INFO = rendering.SiteInfo(repo_url="https://example.org/evidence-map", data_date="2025-06-30", data_commit="abc1234")
ROW = re.compile(r"^<tr((?: data-facet-[a-z0-9]+=\"[^\"]*\")+)(?: markdown)?>", re.M)
ATTR = re.compile(r'data-facet-([a-z0-9]+)="([^"]*)"')
# The Markdown extensions of mkdocs.yml that read these pages.
EXTENSIONS = ["abbr", "admonition", "attr_list", "md_in_html", "tables", "toc"]


@pytest.fixture(scope="module")
def grades(evidence: Evidence) -> dict[str, ConditionGrade]:
    return grade_all(evidence.vocab.conditions.ids, evidence.records)


def render_effects(evidence: Evidence, grades: dict[str, ConditionGrade]) -> str:
    renderer = rendering.Renderer(compute_map(evidence), INFO)
    return renderer.render("effects.md.j2", base=Markup(""), table=effects_table(compute_map(evidence)))


def render_reviews(evidence: Evidence, grades: dict[str, ConditionGrade]) -> str:
    renderer = rendering.Renderer(compute_map(evidence), INFO)
    figs = rendering.figure_map([], evidence)
    return renderer.render("reviews_index.md.j2", base=Markup("../"), table=reviews_table(evidence), figs=figs)


def rows(md: str) -> list[tuple[dict[str, list[str]], str]]:
    """Each table row: its filter values by key (HTML character references decoded), and its Markdown."""
    starts = list(ROW.finditer(md))
    out = []
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else md.index("</tbody>")
        attrs = {k: unref(v).split() for k, v in ATTR.findall(m.group(1))}
        out.append((attrs, md[m.start() : end]))
    return out


def unref(text: str) -> str:
    return re.sub(r"&#(\d+);", lambda m: chr(int(m.group(1))), text)


def effect_conditions(record: Record, condition: str | None) -> list[str]:
    return [condition] if condition else list(record.conditions)


def test_the_site_has_the_effects_page_in_its_navigation(evidence: Evidence, grades: dict[str, ConditionGrade]) -> None:
    nav = navigation(evidence, [])
    assert {"Pooled effects": "effects.md"} in nav  # a tab of its own


def test_the_build_writes_the_effects_page(
    evidence: Evidence, grades: dict[str, ConditionGrade], tmp_path: Path
) -> None:
    pages.render_site_pages(compute_map(evidence), [], INFO, TreeWriter(tmp_path))
    md = (tmp_path / "effects.md").read_text(encoding="utf-8")
    assert md == render_effects(evidence, grades)
    assert len(rows(md)) == sum(len(r.effects) for r in evidence.records)


def test_one_row_per_effect_of_every_record_in_order(evidence: Evidence, grades: dict[str, ConditionGrade]) -> None:
    found = rows(render_effects(evidence, grades))
    expected = [(r, e) for r in evidence.records for e in r.effects]
    assert len(found) == len(expected) > 0
    for (_, row), (r, e) in zip(found, expected, strict=True):
        assert f'<a href="../reviews/{r.id}/">' in row, (r.id, e.outcome)
        assert f"<td>{escape(e.outcome)}</td>" in row
        assert f"<td>{escape(e.domain)}</td>" in row and f"<td>{escape(e.improves)}</td>" in row
        for c in effect_conditions(r, e.condition):
            assert f'<a href="../conditions/{c}/">' in row
        assert f'<td data-sort="{escape(e.estimate)}">{escape(rendering.num(e.estimate))}</td>' in row
        if e.ci_low is not None and e.ci_high is not None:
            assert f"{escape(rendering.num(e.ci_low))} to {escape(rendering.num(e.ci_high))}</td>" in row


def test_each_row_carries_its_filter_values_as_ids(evidence: Evidence, grades: dict[str, ConditionGrade]) -> None:
    found = rows(render_effects(evidence, grades))
    expected = [(r, e) for r in evidence.records for e in r.effects]
    for (attrs, _), (r, e) in zip(found, expected, strict=True):
        conditions = effect_conditions(r, e.condition)
        assert attrs["condition"] == conditions
        assert attrs["source"] == list(r.sources)
        assert attrs["species"] == list(r.species)
        assert attrs["route"] == (list(r.routes) if r.dosing_counts else [])
        assert attrs["measure"] == [e.measure]
        assert attrs["verdict"] == list(dict.fromkeys(slug(grades[c].overall.label) for c in conditions))
        assert attrs["rob"] == [r.rob_overall] and attrs["amstar2"] == [r.amstar2_rating]


def test_the_filter_lists_offer_the_values_the_rows_have(evidence: Evidence, grades: dict[str, ConditionGrade]) -> None:
    md = render_effects(evidence, grades)
    lists = dict(re.findall(r'<select data-facet="([a-z0-9]+)"[^>]*>(.*?)</select>', md))
    found = rows(md)
    assert set(lists) == {"condition", "source", "species", "route", "measure", "verdict", "rob", "amstar2"}
    for key, options in lists.items():
        values = [unref(v) for v in re.findall(r'<option value="([^"]*)"', options)]
        assert values[0] == ""  # "all"
        assert set(values[1:]) == {v for attrs, _ in found for v in attrs[key]}, key
    conditions = [unref(v) for v in re.findall(r'<option value="([^"]+)"', lists["condition"])]
    assert conditions == [c for c in evidence.vocab.conditions.ids if c in conditions]  # the vocabulary's order
    # Shown without JavaScript, the lists would filter nothing: they stay hidden until the script runs.
    assert '<div class="table-facets" hidden data-pagefind-ignore="index">' in md


def test_the_reviews_table_has_one_row_per_record_with_its_filter_values(
    evidence: Evidence, grades: dict[str, ConditionGrade]
) -> None:
    found = rows(render_reviews(evidence, grades))
    assert len(found) == len(evidence.records)
    for (attrs, row), r in zip(found, evidence.records, strict=True):
        assert f'<a href="../reviews/{r.id}/">' in row  # raw HTML, the built address from reviews/
        assert attrs["year"] == [str(r.year)]
        assert attrs["condition"] == list(r.conditions) and attrs["source"] == list(r.sources)
        assert attrs["species"] == list(r.species)


def test_a_filter_value_must_be_a_slug() -> None:
    spec = Spec("condition", "Condition", [], lambda item: [item])
    assert table(["sepsis", "spinal-cord-injury"], lambda item: (item,), [spec]).rows[1].facets == (
        ("condition", "spinal-cord-injury"),
    )
    for bad in ('x" onclick="alert(1)', "two words", "<b>"):
        with pytest.raises(ValueError, match="not a slug"):
            table([bad], lambda item: (item,), [spec])


PAYLOAD = '<script>alert("x1")</script> <img src=x onerror=alert(2)> [a](javascript:alert(3)) *b* | c " d'


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_record_text_reaches_the_page_as_text(evidence: Evidence) -> None:
    """A hostile outcome and unit (which the validator would refuse) render as text, and the row's
    filter values stay the ids they were."""
    record = next(r for r in evidence.records if r.effects)
    effect = replace(record.effects[0], outcome=PAYLOAD, unit=PAYLOAD)
    hostile = replace(record, label=PAYLOAD, effects=(effect,))
    ev = Evidence((hostile,), (), evidence.vocab)
    grades = grade_all(ev.vocab.conditions.ids, ev.records)
    html = markdown.markdown(render_effects(ev, grades).split("---", 2)[2], extensions=EXTENSIONS)
    audit = Audit()
    audit.feed(html)
    assert {tag for tag, _ in audit.tags} <= {
        "h1", "p", "a", "div", "select", "option", "table", "thead", "tbody", "tr", "th", "td",
    }  # fmt: skip
    assert all(not name.startswith("on") for _, attrs in audit.tags for name in attrs)
    assert [a["href"] for tag, a in audit.tags if tag == "a"] == [
        "methods.md",
        *(f"../conditions/{c}/" for c in hostile.conditions),  # raw HTML: the built site's addresses
        f"../reviews/{hostile.id}/",
    ]
    text = "".join(audit.text)
    assert text.count(PAYLOAD) == 3  # the review's name, the outcome and the unit
    (row,) = [a for tag, a in audit.tags if tag == "tr" and "data-facet-condition" in a]
    assert row["data-facet-condition"] == " ".join(hostile.conditions)
    assert row["data-facet-source"] == " ".join(hostile.sources)


def test_a_table_is_built_once_per_map(evidence: Evidence) -> None:
    """The pages and the search shortcuts share the table of one map; another map gets its own."""
    from evidence_map.publishing import tablerows

    first, second = compute_map(evidence), compute_map(evidence)
    table = tablerows.effects_table(first)
    assert tablerows.effects_table(first) is table
    again = tablerows.effects_table(second)
    assert again is not table and again == tablerows.effects_table.__wrapped__(second)  # type: ignore[attr-defined]
    assert tablerows.reviews_table(first.evidence) is tablerows.reviews_table(first.evidence)
