"""Condition and source pages at scale: past a limit, only the largest reviews are described in full."""

from __future__ import annotations

import html
import re
from pathlib import Path

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
    """The body rows of the tables in `md`, Markdown or raw HTML."""
    lines = md.splitlines()
    return [line for line in lines if line.startswith(("| ", "<tr><td>")) and not line.startswith("| Review |")]


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
        assert f'<a href="../../reviews/{r.id}/">' in reviews_table, r.id  # raw HTML, from the built page
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
    assert effects and all(f'<a href="../../reviews/{kept.id}/">' in row for row in effects)
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
    assert "<th>Review</th><th>Condition</th><th>Outcome</th>" in md
    for r in evidence.for_source(source):
        for e in r.effects:
            cond = e.condition or r.conditions[0]
            assert f'<a href="../../conditions/{cond}/">' in md


def test_a_template_that_names_a_missing_figure_stops_the_build(evidence: Evidence) -> None:
    from evidence_map.publishing import charts

    drawn = charts.overview_figures(compute_map(evidence))
    assert tuple(f.name for f in drawn) == charts.OVERVIEW_FIGURES  # the registry names what is drawn
    figs = rendering.figure_map(drawn, evidence)
    assert figs.get("effectiveness-heatmap") is not None
    assert figs.get("condition-sepsis") is None  # known, not drawn here: a page without that chart
    renderer = rendering.Renderer(compute_map(evidence), INFO)
    template = renderer.env.from_string('{{ figs.get("effectiveness-heatmapp") }}')
    with pytest.raises(rendering.UnknownFigure, match="effectiveness-heatmapp"):
        template.render(figs=figs)


# --- The pages that say how far to trust the map: About, What's new, the conditions table ----------


@pytest.fixture(scope="module")
def rendered(evidence: Evidence, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every generated page's Markdown, rendered from the real records and screening queue (no charts)."""
    from evidence_map.publishing.writer import TreeWriter
    from evidence_map.surveillance.queue import load_screening

    out = tmp_path_factory.mktemp("pages")
    pages.render_site_pages(compute_map(evidence), [], INFO, TreeWriter(out), load_screening(evidence))
    # As a reader sees the text: the escaping of record values (markup.py) undone.
    return {p.relative_to(out).as_posix(): html.unescape(p.read_text(encoding="utf-8")) for p in out.rglob("*.md")}


def test_the_about_page_cites_the_version_of_citation_cff_and_the_data_version(rendered: dict[str, str]) -> None:
    import tomllib

    import yaml

    from evidence_map.paths import CITATION_CFF, ROOT

    cff = yaml.safe_load(CITATION_CFF.read_text(encoding="utf-8"))
    with open(ROOT / "pyproject.toml", "rb") as fh:
        assert cff["version"] == tomllib.load(fh)["project"]["version"]
    cite = section(rendered["about.md"], "Version and how to cite { #cite }")
    assert f"version **{cff['version']}** of the map (released {cff['date-released']})" in cite
    assert f"as of **{INFO.data_date}** (commit {INFO.data_commit})" in cite
    assert f"version {cff['version']}, data version {INFO.data_date} ({INFO.data_commit})" in cite
    contact = section(rendered["about.md"], "Contact the maintainers { #contact }")
    assert f"]({INFO.repo_url}/issues)" in contact


def test_the_about_page_gives_the_prisma_flow_of_the_queue_and_the_source(
    evidence: Evidence, rendered: dict[str, str]
) -> None:
    from evidence_map.surveillance.queue import load_screening
    from evidence_map.surveillance.screening import prisma_flow

    screening = load_screening(evidence)
    flow = prisma_flow(screening.queue, screening.strategy).as_data()  # what downloads/prisma.json holds
    md = rendered["about.md"]
    boxes = re.findall(r'<li markdown><span class="prisma-flow__stage">([^<]+)</span> \*\*(\d+)\*\*', md)
    from_source = sum(not r.beyond_source for r in evidence.records)
    identified = flow["identified"]["standing_search"] + flow["identified"]["hand_search"]
    assert [(stage, int(n)) for stage, n in boxes] == [
        ("Previous version", from_source),
        ("Identified", identified),
        ("Removed before screening", flow["duplicates_removed"]),
        ("Screened on title and abstract", flow["screened"]),
        ("Full texts assessed", flow["full_texts_assessed"]),
        ("New reviews included", flow["included"]),
        ("Reviews in the map", len(evidence.records)),
    ]
    for reason, n in flow["excluded_at_screening"].items():
        assert f"{reason} ({n})" in md
    assert "| Population |" in section(md, "Protocol { #protocol }")  # the eligibility criteria of the methods
    assert "| Population |" in rendered["methods.md"]


def test_the_about_page_says_where_the_verdicts_differ_from_the_source(
    evidence: Evidence, rendered: dict[str, str]
) -> None:
    from evidence_map.judging.paper import paper_table3

    grades = compute_map(evidence).grades
    table3 = paper_table3()
    differ = [c for c, entry in table3.items() if entry["effectiveness"] != grades[c].overall.label]
    text = section(rendered["about.md"], "Where the map differs from the source { #differences-from-the-source }")
    assert f"**{len(differ)} of the {len(table3)}\nconditions**" in text
    linked = re.findall(r"\]\(audit\.md#([a-z0-9-]+)\)", text)
    assert linked == differ
    audit = rendered["audit.md"]
    for cid in differ:  # each link lands on the audit's section for it
        assert f"{{ #{cid} }}" in audit


def test_whats_new_groups_the_changes_by_date_newest_first(evidence: Evidence, rendered: dict[str, str]) -> None:
    md = rendered["whatsnew.md"]
    dates = sorted({r.added for r in evidence.records} | {r.updated for r in evidence.records}, reverse=True)
    assert re.findall(r"^### (\S+) \{ #(\S+) \}$", md, re.M) == [(d, d) for d in dates]
    jump = re.search(r"Jump to a date: (.*)", md)
    assert jump and re.findall(r"\]\(#([\d-]+)\)", jump.group(1)) == dates
    for date in dates:
        part = md.split(f"\n### {date} ", 1)[1].split("\n### ", 1)[0]
        added = [r for r in evidence.records if r.added == date]
        updated = [r for r in evidence.records if r.updated == date and r.updated > r.added]
        rows = [line for line in part.splitlines() if line.startswith("| added") or line.startswith("| updated")]
        assert len(rows) == len(added) + len(updated), date
        summary = part.split("\n\n")[1]
        if added:
            assert f"{len(added)} review{'s' if len(added) != 1 else ''} added" in summary
            estimates = sum(len(r.effects) for r in added)
            assert f"{estimates} new estimate" in summary or not estimates
        if updated:
            assert re.search(rf"\b{len(updated)} (reviews? )?updated", summary)


def test_a_days_summary_names_the_verdicts_it_moved(evidence: Evidence) -> None:
    from dataclasses import replace

    from evidence_map.judging.history import VerdictChange
    from evidence_map.publishing.feeds import days

    first, second, third = evidence.records[:3]
    ev = Evidence(
        (
            replace(first, added="2026-01-01", updated="2026-01-01"),
            replace(second, added="2026-02-01", updated="2026-02-01"),
            replace(third, added="2026-01-01", updated="2026-02-01"),
        ),
        (),
        evidence.vocab,
    )
    moved = VerdictChange("2026-02-01", "sepsis", "Moderate", "Promising but heterogeneous", (second.id,))
    newest, oldest = days(ev, [moved])
    assert (newest.date, newest.added, newest.updated) == ("2026-02-01", 1, 1)
    assert newest.summary(lambda c: ev.vocab.conditions.get(c).name) == (
        f"1 review added, 1 updated, {len(second.effects)} new estimate{'s' if len(second.effects) != 1 else ''}; "
        "verdict of Sepsis moved from Moderate to Promising but heterogeneous"
    )
    assert [c.kind for c in newest.changes] == ["added", "updated"]
    assert (oldest.added, oldest.updated, oldest.verdicts) == (2, 0, ())
    assert [d.date for d in days(ev, [moved], max_rows=1)] == ["2026-02-01"]  # whole dates only, at least one


def test_the_conditions_table_ranks_verdict_and_certainty_on_their_scales(
    evidence: Evidence, rendered: dict[str, str]
) -> None:
    computed = compute_map(evidence)
    levels = [*computed.rules.certainty.levels, "not rated"]
    from evidence_map.judging.grading import VERDICTS

    md = rendered["conditions/index.md"]
    rows = re.findall(r"<tr data-facet[^>]*>(.*?)</tr>", md)
    assert len(rows) == len(evidence.vocab.conditions.ids)
    for term, row in zip(evidence.vocab.conditions.terms, rows, strict=True):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        assert f"conditions/{term.id}.md" in cells[0] or f"({term.id}.md)" in cells[0]
        assert cells[1] == evidence.vocab.category_name(term.id)
        g, s = computed.grades[term.id], computed.summaries[term.id]
        assert f'data-sort="{VERDICTS.index(g.overall.label) + 1}"' in row
        assert f'data-sort="{levels.index(s.certainty) + 1}"' in row


def test_compiled_templates_are_kept_and_an_edited_template_is_compiled_again(
    evidence: Evidence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build keeps its compiled templates in the work folder; a later build reads them, unless the
    template changed since."""
    import shutil

    from evidence_map.paths import TEMPLATES

    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    monkeypatch.setattr(rendering, "TEMPLATES", templates)
    kept = tmp_path / "work" / "compiled-templates"
    computed = compute_map(evidence)
    with rendering.compiled_templates_kept(kept):
        first = rendering.Renderer(computed, INFO).render("downloads.md.j2", base="")
    assert list(kept.iterdir())
    compiled = []
    real = rendering.jinja2.Environment.compile
    monkeypatch.setattr(rendering.jinja2.Environment, "compile", lambda *a, **k: compiled.append(1) or real(*a, **k))
    with rendering.compiled_templates_kept(kept):
        assert rendering.Renderer(computed, INFO).render("downloads.md.j2", base="") == first
        assert compiled == []
        page = templates / "downloads.md.j2"
        page.write_text(
            page.read_text(encoding="utf-8").replace("# Downloads", "# Downloads, edited"), encoding="utf-8"
        )
        assert "# Downloads, edited" in rendering.Renderer(computed, INFO).render("downloads.md.j2", base="")
        assert compiled == [1]
    assert rendering._compiled is None  # after the build, renderers compile their own
