"""Condition and source pages at scale: past a limit, only the largest reviews are described in full."""

from __future__ import annotations

import re

import pytest

from evidence_map.judging.computed import compute_map
from evidence_map.judging.grading import grade_all
from evidence_map.publishing import pages
from evidence_map.publishing import renderer as rendering
from evidence_map.records.evidence import Evidence

INFO = rendering.SiteInfo(repo_url="https://example.org/evidence-map", data_date="2025-06-30", data_commit="abc1234")


def topic_page(evidence: Evidence, kind: str, term_id: str) -> str:
    renderer = rendering.Renderer(compute_map(evidence), INFO)
    vocab = evidence.vocab.conditions if kind == "conditions" else evidence.vocab.sources
    records_of = evidence.for_condition if kind == "conditions" else evidence.for_source
    return pages.topic_pages(renderer, kind, [vocab.get(term_id)], records_of, rendering.figure_map([], evidence))[
        f"{kind}/{term_id}.md"
    ]


def section(md: str, heading: str) -> str:
    return md.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def table_rows(md: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith("| ") and not line.startswith("| Review |")]


def test_under_the_limit_every_review_is_described(evidence: Evidence) -> None:
    records = evidence.for_condition("spinal-cord-injury")
    assert 2 < len(records) <= pages.DETAIL_MAX_REVIEWS
    md = topic_page(evidence, "conditions", "spinal-cord-injury")
    assert re.findall(r"^### .* \{ #([\w-]+) \}$", md, re.M) == [r.id for r in records]
    assert "in detail" not in md


def test_past_the_limit_the_largest_reviews_are_described_and_all_are_listed(
    evidence: Evidence, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "DETAIL_MAX_REVIEWS", 2)
    records = evidence.for_condition("spinal-cord-injury")
    largest = {r.id for r in sorted(records, key=lambda r: (-r.n_studies, -r.year, r.id))[:2]}
    md = topic_page(evidence, "conditions", "spinal-cord-injury")

    assert re.findall(r"^### .* \{ #([\w-]+) \}$", md, re.M) == [r.id for r in records if r.id in largest]
    assert f'!!! note "2 of {len(records)} reviews in detail"' in md
    assert f"The other {len(records) - 2} are in the table above" in md
    reviews_table = section(md, "Reviews").split("\n!!! note", 1)[0]
    assert len(table_rows(reviews_table)) == len(records)
    for r in records:
        assert f"../reviews/{r.id}.md" in reviews_table, r.id
    shown = [r for r in records if r.id in largest and (r.dosing_counts or not r.dosing)]
    assert len(table_rows(section(md, "Dose ranges"))) == len(shown)


def test_source_pages_limit_their_effects_table_the_same_way(
    evidence: Evidence, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = evidence.for_source("bm")
    full = topic_page(evidence, "sources", "bm")
    monkeypatch.setattr(pages, "DETAIL_MAX_REVIEWS", 1)
    short = topic_page(evidence, "sources", "bm")
    assert len(records) > 1 and f"1 of {len(records)} reviews in detail" in short
    (kept,) = pages.detailed(records)
    effects = table_rows(section(short, "Pooled effects in these reviews"))
    assert effects and all(f"(../reviews/{kept.id}.md)" in row for row in effects)
    assert len(effects) < len(table_rows(section(full, "Pooled effects in these reviews")))


def test_an_effect_read_in_the_original_article_feeds_the_verdict_and_is_labelled(evidence: Evidence) -> None:
    from dataclasses import replace

    from evidence_map.records.model import Effect

    # A fixture condition of its own: one review whose only estimate comes from its original article.
    base = next(r for r in evidence.records if r.conditions == ("sepsis",))
    original = Effect(
        outcome="Zebrafin survival score",
        domain="survival",
        measure="SMD",
        estimate=2.0,
        ci_low=1.2,
        ci_high=2.8,
        i2=30,
        improves="higher",
        source="Abstract",
        origin="original-article",
        origin_url="https://example.org/abstract",
    )
    rec = replace(base, id="orig-2026", effects=(original,))
    ev = Evidence((rec,), (), evidence.vocab)
    grade = grade_all(ev.vocab.conditions.ids, ev.records)["sepsis"]
    assert grade.overall.label != "Insufficient data"
    assert [a.effect for a in grade.overall.considered] == [original]
    md = topic_page(ev, "conditions", "sepsis")
    assert "This verdict rests in part on 1 value read in the original article" in md
    assert "Zebrafin survival score" in section(md, "How this was judged")


def test_a_dosing_row_attributed_to_the_wrong_review_feeds_no_aggregate(evidence: Evidence) -> None:
    from dataclasses import replace

    from evidence_map.records.model import Discrepancy

    base = next(r for r in evidence.records if r.conditions == ("sepsis",))
    dosing = {"doses": ["7 zebrafin units"], "routes": {"reported": ["IN"], "ids": ["intranasal"]}, "source": "T"}
    good = replace(base, id="good-2026", dosing={"doses": ["3 units"], "routes": {"reported": ["IV"], "ids": ["iv"]}})
    moved = replace(
        base,
        id="moved-2026",
        dosing=dosing,
        discrepancies=(Discrepancy("misattributed", "dosing", "The row belongs to another review."),),
    )
    ev = Evidence((good, moved), (), evidence.vocab)
    assert moved.misattributed("dosing") and not moved.dosing_counts and good.dosing_counts
    assert pages.usage([good, moved], [good, moved]).routes == ["iv"]
    assert pages._route_counts(ev) == [("iv", 1)]
    md = topic_page(ev, "conditions", "sepsis")
    doses = section(md, "Dose ranges")
    assert "7 zebrafin units" not in doses and "appears to belong to another review" in doses


def test_readers_see_plain_field_names_and_folded_disagreements(evidence: Evidence) -> None:
    from evidence_map.publishing.markup import escape

    with_disc = [r for r in evidence.records if r.discrepancies]
    assert with_disc
    renderer = rendering.Renderer(compute_map(evidence), INFO)
    for rec in with_disc:
        md = renderer.render("review.md.j2", rec=rec, base="../", tags=[], assessed=[])
        table = md.split("## Where the source disagrees with itself", 1)[1].split("\n## ", 1)[0]
        for d in rec.discrepancies:
            if "." in d.field:
                assert str(escape(d.field)) not in table, (rec.id, d.field)
            assert str(escape(rendering.field_label(rec, d.field))) in table
    rec = next(r for r in with_disc if any(d.field.startswith("effects.") for d in r.discrepancies))
    d = next(d for d in rec.discrepancies if d.field.startswith("effects."))
    assert rec.effects[int(d.field.split(".")[1])].outcome in rendering.field_label(rec, d.field)
    cond = rec.conditions[0]
    md = topic_page(evidence, "conditions", cond)
    disagreements = section(md, "Where the source disagrees with itself")
    assert '<details class="disagreements" markdown>' in disagreements and "<summary>" in disagreements


def test_source_pages_name_the_condition_of_each_effect(evidence: Evidence) -> None:
    source = next(s for s in evidence.vocab.sources.ids if any(r.effects for r in evidence.for_source(s)))
    md = topic_page(evidence, "sources", source)
    assert "| Review | Condition | Outcome |" in md
    for r in evidence.for_source(source):
        for e in r.effects:
            cond = e.condition or r.conditions[0]
            assert f"../conditions/{cond}.md" in md


def test_a_template_that_names_a_missing_figure_stops_the_build(evidence: Evidence) -> None:
    from evidence_map.publishing import charts

    drawn = charts.overview_figures(compute_map(evidence))
    assert tuple(f.name for f in drawn) == charts.OVERVIEW_FIGURES  # the registry names what is drawn
    figs = rendering.figure_map(drawn, evidence)
    assert figs.get("evidence-gap-map") is not None
    assert figs.get("condition-sepsis") is None  # known, not drawn here: a page without that chart
    renderer = rendering.Renderer(compute_map(evidence), INFO)
    template = renderer.env.from_string('{{ figs.get("evidence-gap-mapp") }}')
    with pytest.raises(rendering.UnknownFigure, match="evidence-gap-mapp"):
        template.render(figs=figs)
