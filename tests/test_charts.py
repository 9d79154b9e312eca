"""Charts: each builder's Vega-Lite spec renders with the real vl-convert to real SVG showing the data,
and the renderer's cache, determinism and accessibility wrapper behave."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evidence_map.judging.computed import compute_map
from evidence_map.judging.grading import DOMAINS, INSUFFICIENT, NO_REVIEWS, VERDICTS, grade_all
from evidence_map.publishing import charts
from evidence_map.publishing.chartrender import ChartError, ChartRenderer, accessible_svg, cache_key
from evidence_map.publishing.charts import VERDICT_COLOURS, Figure
from evidence_map.publishing.charts.forestaxis import ABOVE, INSIDE, on_scale, panel_axis
from evidence_map.publishing.charts.textfit import text_width, wrap
from evidence_map.publishing.site import all_figures
from evidence_map.records.evidence import Evidence, load_evidence
from evidence_map.records.model import Record, record_from_data
from evidence_map.records.vocab import load_vocabularies
from tests.conftest import base_record, copy_records

SVG_NS = "{http://www.w3.org/2000/svg}"

# --- fixture records --------------------------------------------------------------------------


def make_record(
    rid: str,
    label: str,
    year: int,
    conditions: tuple[str, ...],
    sources: tuple[str, ...],
    effects: list[dict[str, Any]],
    *,
    i2_max: float | None = None,
    amstar: str = "moderate",
    flaws: list[str] | None = None,
    rob: tuple[str, str] = ("SYRCLE", "unclear"),
) -> Record:
    data = base_record(id=rid)
    data["citation"] = {"first_author": label.split()[0], "label": label, "year": year, "journal": "J Test"}
    data["conditions"] = {"reported": list(conditions), "ids": list(conditions)}
    data["sources"] = {"reported": list(sources), "ids": list(sources)}
    data["effects"] = [{"domain": "function", "source": "Table 2", **e} for e in effects]
    data["heterogeneity"] = {"i2_max": i2_max, "source": "Table 3"}
    data["amstar2"] = {"rating": amstar, "critical_flaws": flaws, "source": "Section 3.3"}
    data["risk_of_bias"] = {"tool": rob[0], "overall": rob[1], "source": "Table 6"}
    return record_from_data(data, f"evidence/{rid}.yaml")


YE = make_record(
    "ye-2024",
    "Ye et al. (2024)",
    2024,
    ("spinal-cord-injury",),
    ("bm",),
    [
        {
            "outcome": "BBB score",
            "measure": "SMD",
            "estimate": 2.5,
            "ci_low": 1.8,
            "ci_high": 3.2,
            "i2": 40,
            "p": 0.001,
            "improves": "higher",
        }
    ],
    i2_max=40,
    flaws=[],
    rob=("SYRCLE", "moderate"),
)
LI = make_record(
    "li-2022",
    "Li et al. (2022)",
    2022,
    ("spinal-cord-injury", "traumatic-brain-injury"),
    ("uc", "bm"),
    [
        {
            "outcome": "Mortality",
            "domain": "survival",
            "measure": "HR",
            "estimate": 0.5,
            "ci_low": 0.3,
            "ci_high": 0.8,
            "improves": "lower",
            "condition": "spinal-cord-injury",
        },
        {
            "outcome": "mNSS",
            "measure": "SMD",
            "estimate": -1.9,
            "improves": "lower",
            "condition": "traumatic-brain-injury",
        },
    ],
    i2_max=85,
    rob=("CAMARADES", "high"),
)
WANG = make_record(
    "wang-2023",
    "Wang et al. (2023)",
    2023,
    ("sepsis",),
    ("placenta",),
    [
        {
            "outcome": "Survival",
            "domain": "survival",
            "measure": "HR",
            "estimate": 0.4,
            "ci_low": 0.25,
            "ci_high": 0.6,
            "improves": "lower",
        },
        {
            "outcome": "Lung injury score",
            "measure": "WMD",
            "estimate": -1.2,
            "ci_low": -2.0,
            "ci_high": -0.4,
            "improves": "lower",
        },
        {"outcome": "Creatinine", "measure": "MD", "estimate": -0.8, "improves": "lower"},
    ],
    i2_max=30,
)


def evidence_of(*records: Record) -> Evidence:
    return Evidence(tuple(records), (), load_vocabularies())


def grades_of(ev: Evidence) -> dict[str, Any]:
    return grade_all(ev.vocab.conditions.ids, ev.records)


@pytest.fixture(scope="module")
def small() -> Evidence:
    return evidence_of(YE, LI)


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> ChartRenderer:
    return ChartRenderer(tmp_path_factory.mktemp("chart-cache"))


# --- spec and SVG helpers ---------------------------------------------------------------------


def units(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every single-mark sub-spec, with its data values resolved (inline or named datasets)."""
    datasets = spec.get("datasets", {})

    def walk(s: dict[str, Any], data: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
        data = s.get("data", data)
        if "mark" in s:
            values = (data or {}).get("values")
            if values is None and data and "name" in data:
                values = datasets[data["name"]]
            yield {**s, "_values": values or [], "_parent": s}
        for key in ("layer", "hconcat", "vconcat", "concat"):
            for sub in s.get(key, []):
                yield from walk(sub, data)

    yield from walk(spec, None)


def mark_type(unit: dict[str, Any]) -> str:
    mark = unit["mark"]
    return mark if isinstance(mark, str) else mark["type"]


def parse_svg(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    return root


def svg_text(root: ET.Element) -> str:
    return " ".join(" ".join(el.itertext()) for el in root.iter(f"{SVG_NS}text"))


def render(renderer: ChartRenderer, figure: Figure) -> tuple[ET.Element, str]:
    root = parse_svg(renderer.svg(figure))
    return root, svg_text(root)


def mark_groups(root: ET.Element, mark: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG_NS}g") if f"mark-{mark}" in (g.get("class") or "").split()]


def overview(ev: Evidence) -> dict[str, Figure]:
    return {f.name: f for f in charts.overview_figures(compute_map(ev))}


# --- the look ---------------------------------------------------------------------------------


def test_verdict_colours_one_per_verdict_and_distinct() -> None:
    assert tuple(VERDICT_COLOURS) == VERDICTS
    assert len(set(VERDICT_COLOURS.values())) == len(VERDICTS)
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in VERDICT_COLOURS.values())


def test_figures_have_white_background_and_fit_the_column(small: Evidence) -> None:
    for fig in overview(small).values():
        assert fig.spec()["config"]["background"] == "white"
        assert re.fullmatch(r"[a-z0-9-]+", fig.name)
        assert len(fig.rows) == 0 or all(len(r) == len(fig.columns) for r in fig.rows)


def test_builders_are_deterministic(small: Evidence) -> None:
    first = [json.dumps(f.spec(), sort_keys=True) for f in charts.overview_figures(compute_map(small))]
    second = [json.dumps(f.spec(), sort_keys=True) for f in charts.overview_figures(compute_map(small))]
    assert first == second


# --- overview figures -------------------------------------------------------------------------


def test_reviews_per_condition_counts_a_review_for_each_condition(small: Evidence, renderer: ChartRenderer) -> None:
    fig = overview(small)["reviews-per-condition"]
    counts = {row[0]: row[2] for row in fig.rows}
    assert counts["Spinal Cord Injury"] == 2 and counts["Traumatic Brain Injury"] == 1 and counts["Sepsis"] == 0
    assert fig.rows[0][0] == "Spinal Cord Injury"  # most reviews first
    assert len(fig.rows) == len(small.vocab.conditions.ids)
    assert fig.description.startswith("Spinal Cord Injury has the most reviews (2)")
    root, text = render(renderer, fig)
    assert "Spinal Cord Injury" in text and "Neurological" in text  # the organ-system legend
    assert mark_groups(root, "rect")


def test_heatmap_has_every_condition_and_domain_with_a_text_label(small: Evidence, renderer: ChartRenderer) -> None:
    fig = overview(small)["effectiveness-heatmap"]
    rect = next(u for u in units(fig.spec()) if mark_type(u) == "rect")
    cells = {(v["condition"], v["domain"]): v["verdict"] for v in rect["_values"]}
    assert len(cells) == len(small.vocab.conditions.ids) * len(DOMAINS)
    assert cells[("Sepsis", "survival")] == NO_REVIEWS  # no review, still drawn: a research gap
    grade = grades_of(small)["spinal-cord-injury"]
    # A condition with reviews but no estimate in a domain is a reporting gap, named differently.
    empty = [d for d in DOMAINS if not any(a.effect.domain == d for a in grade.overall.considered)]
    assert empty and all(cells[("Spinal Cord Injury", d)] == INSUFFICIENT for d in empty)
    assert cells[("Spinal Cord Injury", "function")] == grade.domains["function"].label != INSUFFICIENT
    text = next(u for u in units(fig.spec()) if mark_type(u) == "text")
    assert text["encoding"]["text"]["field"] == "abbreviation"
    _, svg_words = render(renderer, fig)
    assert (
        "Spinal Cord Injury" in svg_words and "Insufficient data" in svg_words and "No meta-analysis yet" in svg_words
    )
    assert "reporting gap" in fig.description and "research gap" in fig.description
    assert charts.VERDICT_ABBREVIATIONS[grade.domains["function"].label] in svg_words


def test_heatmap_marks_link_to_what_they_count(small: Evidence, renderer: ChartRenderer) -> None:
    from evidence_map.publishing.chartrender import linked_svg

    heat = overview(small)["effectiveness-heatmap"]
    assert heat.interactive
    heat_links = re.findall(r'<a xlink:href="([^"]+)" target="_top"><title>', linked_svg(renderer.svg(heat)))
    assert "../../conditions/spinal-cord-injury/#by-outcome-domain" in heat_links
    assert "invalid" not in linked_svg(renderer.svg(heat))  # every placeholder address was rewritten


def test_overview_charts_change_when_a_record_is_added(small: Evidence) -> None:
    before = overview(small)
    after = overview(evidence_of(YE, LI, WANG))
    for name in ("effectiveness-heatmap", "reviews-per-condition", "reviews-per-year"):
        assert before[name].spec() != after[name].spec(), name
    rect = next(u for u in units(after["effectiveness-heatmap"].spec()) if mark_type(u) == "rect")
    cells = {(v["condition"], v["domain"]): v["verdict"] for v in rect["_values"]}
    assert cells[("Sepsis", "survival")] not in (INSUFFICIENT, NO_REVIEWS)


def test_amstar2_shows_unreported_critical_flaws_as_their_own_category(
    small: Evidence, renderer: ChartRenderer
) -> None:
    fig = overview(small)["amstar2"]
    assert set(fig.rows) == {("Moderate", charts.FLAWS_NONE, 1), ("Moderate", charts.FLAWS_NOT_REPORTED, 1)}
    assert "not reported" in fig.description
    _, text = render(renderer, fig)
    assert "Critical flaws not reported" in text and "Critically low" in text


def test_risk_of_bias_stacks_ratings_per_tool(small: Evidence, renderer: ChartRenderer) -> None:
    fig = overview(small)["risk-of-bias"]
    assert set(fig.rows) == {("SYRCLE", "Moderate", 1), ("CAMARADES", "High", 1)}
    bar = next(u for u in units(fig.spec()) if mark_type(u) == "bar")
    assert bar["encoding"]["x"]["stack"] == "zero" and bar["encoding"]["color"]["field"] == "part"
    _, text = render(renderer, fig)
    assert "SYRCLE" in text and "CAMARADES" in text and "Overall risk of bias" in text


def test_reviews_per_year_fills_empty_years(small: Evidence, renderer: ChartRenderer) -> None:
    fig = overview(small)["reviews-per-year"]
    assert fig.rows == ((2022, 1), (2023, 0), (2024, 1))
    _, text = render(renderer, fig)
    assert all(y in text for y in ("2022", "2023", "2024"))


# --- forest plots -----------------------------------------------------------------------------


def forest_panels(fig: Figure) -> list[dict[str, Any]]:
    """Each plotted panel: its x scale, no-effect value and row labels."""
    panels = []
    for u in units(fig.spec()):
        if mark_type(u) == "rule" and "x2" not in u["encoding"]:
            panels.append({"null": u["_values"][0]["no_effect"], "scale": u["encoding"]["x"].get("scale", {})})
    return panels


def test_forest_has_one_row_per_review_and_outcome(small: Evidence, renderer: ChartRenderer) -> None:
    fig = charts.forest_figure("spinal-cord-injury", compute_map(small))
    assert fig is not None
    assert [(r[0], r[1]) for r in fig.rows] == [("Ye et al. (2024)", "BBB score"), ("Li et al. (2022)", "Mortality")]
    points = [u for u in units(fig.spec()) if mark_type(u) == "point"]
    labels = sorted(v["row"] for u in points for v in u["_values"])
    assert labels == ["Li et al. (2022) · Mortality", "Ye et al. (2024) · BBB score"]  # not Li's TBI effect
    root, text = render(renderer, fig)
    for word in (
        "Ye et al. (2024)",
        "BBB score",
        "Li et al. (2022)",
        "Mortality",
        "higher is better",
        "lower is better",
    ):
        assert word in text, word
    assert "40%" in text  # I² shown
    assert len(mark_groups(root, "rule")) >= 4  # a no-effect line and a CI in each of two panels


def test_forest_keeps_smd_and_ratio_apart_with_a_log_scale_and_no_effect_lines(small: Evidence) -> None:
    fig = charts.forest_figure("spinal-cord-injury", compute_map(small))
    assert fig is not None
    panels = forest_panels(fig)
    assert sorted(p["null"] for p in panels) == [0.0, 1.0]
    assert next(p for p in panels if p["null"] == 1.0)["scale"]["type"] == "log"
    assert next(p for p in panels if p["null"] == 0.0)["scale"].get("type") in (None, "linear")
    by_row = {}
    for i, u in enumerate(u for u in units(fig.spec()) if mark_type(u) == "point"):
        for v in u["_values"]:
            by_row[v["row"]] = i
    assert by_row["Li et al. (2022) · Mortality"] != by_row["Ye et al. (2024) · BBB score"]


def test_forest_splits_mean_differences_and_draws_points_without_ci(renderer: ChartRenderer) -> None:
    fig = charts.forest_figure("sepsis", compute_map(evidence_of(WANG)))
    assert fig is not None
    panels = forest_panels(fig)
    assert len(panels) == 3  # WMD, MD and ratio: never one shared axis
    assert sorted(p["null"] for p in panels) == [0.0, 0.0, 1.0]
    creat = next(
        v for u in units(fig.spec()) if mark_type(u) == "point" for v in u["_values"] if "Creatinine" in v["row"]
    )
    assert creat["has_ci"] is False and creat["ci_low"] is None
    _, text = render(renderer, fig)
    assert "no CI" in text and "Weighted mean difference" in text and "Mean difference (MD)" in text


def test_a_flagged_estimate_is_marked_on_its_forest_row() -> None:
    outside = {"outcome": "Ejection", "measure": "SMD", "estimate": 1.57, "ci_low": 0.86, "ci_high": 1.26}
    fine = {"outcome": "Infarct", "measure": "SMD", "estimate": -2.0, "ci_low": -2.5, "ci_high": -1.5}
    rec = make_record(
        "flag-2024",
        "Flag et al. (2024)",
        2024,
        ("sepsis",),
        ("bm",),
        [{"domain": "function", "improves": "higher", **e} for e in (outside, fine)],
    )
    fig = charts.forest_figure("sepsis", compute_map(evidence_of(rec)))
    assert fig is not None
    labels = [v["row"] for u in units(fig.spec()) if mark_type(u) == "point" for v in u["_values"]]
    assert "Flag et al. (2024) · Ejection (⚠ not graded)" in labels
    assert "Flag et al. (2024) · Infarct" in labels


def test_raw_differences_in_different_units_get_their_own_axes(renderer: ChartRenderer) -> None:
    """Percent and millimetres never share an axis: a panel per unit, the unit in its title."""
    effects = [
        {"outcome": "Bone volume", "measure": "WMD", "unit": "%", "estimate": 14.0, "ci_low": 6.7, "ci_high": 21.4},
        {"outcome": "Bone loss", "measure": "WMD", "unit": "mm", "estimate": -0.12, "ci_low": -0.14, "ci_high": -0.11},
        {"outcome": "Gap", "measure": "WMD", "estimate": -1.0, "ci_low": -2.0, "ci_high": -0.5},
        {"outcome": "Defect", "measure": "WMD", "unit": "mm", "estimate": -0.3, "ci_low": -0.5, "ci_high": -0.1},
    ]
    rec = make_record(
        "perio-2024",
        "Perio et al. (2024)",
        2024,
        ("periodontal-regeneration",),
        ("bm",),
        [{"domain": "histology", "improves": "higher", **e} for e in effects],
    )
    fig = charts.forest_figure("periodontal-regeneration", compute_map(evidence_of(rec)))
    assert fig is not None
    assert len(forest_panels(fig)) == 3
    _, text = render(renderer, fig)
    for title in ("Weighted mean difference (WMD), in %", "Weighted mean difference (WMD), in mm", "unit not reported"):
        assert title in text, title


def test_forest_and_source_figures_are_none_without_data(small: Evidence) -> None:
    assert charts.forest_figure("sepsis", compute_map(small)) is None
    assert charts.forest_figure("asthma", compute_map(small)) is None
    assert charts.source_figure("placenta", small) is None


def test_source_figure_counts_conditions_of_reviews_with_that_source(small: Evidence, renderer: ChartRenderer) -> None:
    fig = charts.source_figure("bm", small)
    assert fig is not None
    assert {r[0]: r[2] for r in fig.rows} == {"Spinal Cord Injury": 2, "Traumatic Brain Injury": 1}
    _, text = render(renderer, fig)
    assert "Traumatic Brain Injury" in text


def forest_rows(fig: Figure) -> dict[str, dict[str, Any]]:
    """Each forest row's drawn values (from the marker layer), by its full label."""
    return {
        v["row"]: v
        for u in units(fig.spec())
        if mark_type(u) == "point" and "fill" in u["encoding"]
        for v in u["_values"]
    }


def symbol_paths(root: ET.Element) -> list[ET.Element]:
    return [p for g in mark_groups(root, "symbol") for p in g.iter(f"{SVG_NS}path")]


LONG_OUTCOME = "Suzuki histological score, 60-minute ischaemia (MSCs and exosomes pooled), supernumerary words"


def test_a_long_forest_label_wraps_whole_and_its_row_grows(renderer: ChartRenderer) -> None:
    effects = [
        {"outcome": LONG_OUTCOME, "measure": "SMD", "estimate": 1.2, "ci_low": 0.5, "ci_high": 1.9},
        {"outcome": "Short", "measure": "SMD", "estimate": 0.8, "ci_low": 0.2, "ci_high": 1.4},
    ]
    rec = make_record(
        "long-2024", "Long et al. (2024)", 2024, ("sepsis",), ("bm",), [{"improves": "higher", **e} for e in effects]
    )
    fig = charts.forest_figure("sepsis", compute_map(evidence_of(rec)))
    assert fig is not None
    rows = forest_rows(fig)
    long, short = rows[f"Long et al. (2024) · {LONG_OUTCOME}"], rows["Long et al. (2024) · Short"]
    assert len(long["label"]) >= 4 and " ".join(long["label"][1:]) == LONG_OUTCOME  # every word, in order
    assert all(text_width(line, charts.FOREST_FONT_SIZE) <= charts.FOREST_LABEL_WIDTH for line in long["label"])
    assert short["label"] == ["Long et al. (2024)", "Short"]
    long_height = 2 * long["y"]  # the first row, from the top
    assert long_height > 2 * (short["y"] - long_height) == charts.FOREST_STEP  # it grows; the short one does not
    _, text = render(renderer, fig)
    assert "…" not in text
    assert all(word in text for word in LONG_OUTCOME.split())


def test_every_real_forest_label_is_drawn_whole(evidence: Evidence, renderer: ChartRenderer) -> None:
    computed = compute_map(evidence)
    conditions = sorted({c for r in evidence.records for c in r.conditions if r.effects_for(c)})
    for c in conditions:
        fig = charts.forest_figure(c, computed)
        if fig is None:
            continue
        for label, v in forest_rows(fig).items():
            review, outcome = label.split(" · ", 1)
            assert " ".join(v["label"]) == f"{review} {outcome}", label
            assert all(text_width(line, charts.FOREST_FONT_SIZE) <= charts.FOREST_LABEL_WIDTH for line in v["label"])
        assert "…" not in svg_text(parse_svg(renderer.svg(fig))), fig.name


def test_forest_draws_estimates_without_a_ci_hollow_and_says_so(renderer: ChartRenderer) -> None:
    fig = charts.forest_figure("sepsis", compute_map(evidence_of(WANG)))
    assert fig is not None
    rows = forest_rows(fig)
    marker = next(u for u in units(fig.spec()) if mark_type(u) == "point" and "fill" in u["encoding"])
    scale = marker["encoding"]["fill"]["scale"]
    fill_of = dict(zip(scale["domain"], scale["range"], strict=True))
    without = {label for label, v in rows.items() if not v["has_ci"]}
    assert without == {"Wang et al. (2023) · Creatinine"}
    assert {label for label, v in rows.items() if fill_of[v["ci_kind"]] == "white"} == without
    assert "hollow" in fig.description
    root, text = render(renderer, fig)
    hollow = [p for p in symbol_paths(root) if p.get("fill") == "white" and p.get("stroke") == charts.OKABE_ITO["blue"]]
    assert len(hollow) == len(without) + 1  # the markers, and the key's symbol
    assert charts.WITHOUT_CI in text and charts.WITH_CI in text  # the key


def test_forest_without_hollow_markers_has_no_key() -> None:
    fig = charts.forest_figure("spinal-cord-injury", compute_map(evidence_of(YE)))
    assert fig is not None
    assert "hollow" not in fig.description
    marker = next(u for u in units(fig.spec()) if mark_type(u) == "point" and "fill" in u["encoding"])
    assert marker["encoding"]["fill"]["legend"] is None


def test_forest_prints_i2_where_it_is_known_as_a_value_or_a_range(renderer: ChartRenderer) -> None:
    own = {"outcome": "Own", "measure": "SMD", "estimate": 1.0, "ci_low": 0.5, "ci_high": 1.5, "i2": 62}
    ranged = {"outcome": "Ranged", "measure": "SMD", "estimate": 1.1, "ci_low": 0.6, "ci_high": 1.6}
    ranged |= {"i2_min": 36, "i2_max": 99}
    bare = {"outcome": "Bare", "measure": "SMD", "estimate": 0.9, "ci_low": 0.4, "ci_high": 1.4}
    with_review = make_record(
        "i2-2024",
        "Eye et al. (2024)",
        2024,
        ("sepsis",),
        ("bm",),
        [{"improves": "higher", **e} for e in (own, ranged, bare)],
        i2_max=88,
    )
    without_review = make_record(
        "none-2024", "Nil et al. (2024)", 2024, ("sepsis",), ("bm",), [{"improves": "higher", **bare}]
    )
    fig = charts.forest_figure("sepsis", compute_map(evidence_of(with_review, without_review)))
    assert fig is not None
    rows = forest_rows(fig)
    assert rows["Eye et al. (2024) · Own"]["i2"] == ["62%"]
    assert rows["Eye et al. (2024) · Ranged"]["i2"] == ["36–99%", "range"]
    assert rows["Eye et al. (2024) · Bare"]["i2"] == ["88%", "review"]  # the review's own I², said to be
    assert rows["Nil et al. (2024) · Bare"]["i2"] == ["–"]  # nothing reported anywhere
    table = {(r[0], r[1]): r[fig.columns.index("I² (%)")] for r in fig.rows}
    assert table[("Eye et al. (2024)", "Own")] == 62
    assert table[("Eye et al. (2024)", "Ranged")] == "36–99 (range given for this estimate)"
    assert table[("Eye et al. (2024)", "Bare")] == "88 (range across the review's analyses)"
    assert "“range”" in fig.description and "“review”" in fig.description
    _, text = render(renderer, fig)
    assert all(t in text for t in ("62%", "36–99%", "88%", "range", "review"))


def test_every_known_real_i2_is_printed(evidence: Evidence) -> None:
    computed = compute_map(evidence)
    for c in sorted({c for r in evidence.records for c in r.conditions if r.effects_for(c)}):
        fig = charts.forest_figure(c, computed)
        if fig is None:
            continue
        by_label = forest_rows(fig)
        for r in evidence.for_condition(c):
            for e in r.effects_for(c):
                mine = re.escape(f"{r.label} · {e.outcome}") + r"( \(⚠ not graded\))?( \[\d+\])?"
                drawn = [v for label, v in by_label.items() if re.fullmatch(mine, label)]
                known = e.i2 is not None or e.i2_max is not None or r.i2_max is not None
                for v in drawn:
                    assert (v["i2"] != ["–"]) == known, (r.id, e.outcome, v["i2"])


def off_scale_record() -> Record:
    effects = [
        {"outcome": "A", "estimate": 0.2, "ci_low": 0.1, "ci_high": 0.3},
        {"outcome": "B", "estimate": 0.25, "ci_low": 0.15, "ci_high": 0.35},
        {"outcome": "Long CI", "estimate": 0.3, "ci_low": 0.2, "ci_high": 20.0},
        {"outcome": "Far", "estimate": 9.0},
        {"outcome": "Far below", "estimate": -8.0, "ci_low": -20.0, "ci_high": -0.1},
    ]
    return make_record(
        "far-2024",
        "Far et al. (2024)",
        2024,
        ("sepsis",),
        ("bm",),
        [{"improves": "higher", "measure": "SMD", **e} for e in effects],
    )


def test_an_estimate_far_beyond_the_others_is_marked_at_the_axis_edge(renderer: ChartRenderer) -> None:
    fig = charts.forest_figure("sepsis", compute_map(evidence_of(off_scale_record())))
    assert fig is not None
    rows = forest_rows(fig)
    marker = next(u for u in units(fig.spec()) if mark_type(u) == "point" and "fill" in u["encoding"])
    low, high = marker["encoding"]["x"]["scale"]["domain"]
    assert -8 < low <= -0.1 < 0.35 <= high < 9  # the near values decide the axis, not the far ones
    far, below, long = (
        rows["Far et al. (2024) · Far"],
        rows["Far et al. (2024) · Far below"],
        rows["Far et al. (2024) · Long CI"],
    )
    assert (far["x"], far["shape"]) == (high, "triangle-right")
    assert (below["x"], below["shape"]) == (low, "triangle-left")
    assert rows["Far et al. (2024) · A"]["shape"] == "square"
    assert (long["ci_from"], long["ci_to"], long["shape"]) == (0.2, high, "square")  # cut at the edge
    values = {v["value"] for u in units(fig.spec()) if mark_type(u) == "text" for v in u["_values"] if "value" in v}
    assert values == {"9", "−8"}  # each far estimate's number, printed at its triangle
    heads = [
        v for u in units(fig.spec()) if mark_type(u) == "point" and "fill" not in u["encoding"] for v in u["_values"]
    ]
    # The long CI's arrowhead; the far-below CI runs off on the side its triangle already points to.
    assert heads == [{"x": high, "y": long["y"], "shape": "triangle-right"}]
    assert (
        "2 estimates lie so far beyond the others" in fig.description and "1 CI runs past the axis" in fig.description
    )
    root, text = render(renderer, fig)
    assert "9" in text.split() and "−8" in text.split()
    assert len([p for p in symbol_paths(root) if (p.get("d") or "").count("L") == 2]) >= 3  # triangles


def test_a_ratio_far_from_the_others_is_off_its_log_axis() -> None:
    effects = [
        {"outcome": o, "estimate": v, "ci_low": v * 0.8, "ci_high": v * 1.2}
        for o, v in (("One", 0.5), ("Two", 0.6), ("Three", 0.7), ("Huge", 400.0))
    ]
    rec = make_record(
        "ratio-2024",
        "Ratio et al. (2024)",
        2024,
        ("sepsis",),
        ("bm",),
        [{"improves": "lower", "measure": "OR", "domain": "survival", **e} for e in effects],
    )
    fig = charts.forest_figure("sepsis", compute_map(evidence_of(rec)))
    assert fig is not None
    rows = forest_rows(fig)
    marker = next(u for u in units(fig.spec()) if mark_type(u) == "point" and "fill" in u["encoding"])
    scale = marker["encoding"]["x"]["scale"]
    assert scale["type"] == "log" and scale["domain"][0] < 0.4 and 1 < scale["domain"][1] < 400 * 0.8
    assert rows["Ratio et al. (2024) · Huge"]["shape"] == "triangle-right"
    assert {rows[f"Ratio et al. (2024) · {o}"]["shape"] for o in ("One", "Two", "Three")} == {"square"}


def test_real_forest_estimates_off_their_axis_are_each_marked(evidence: Evidence) -> None:
    """On the real records: every estimate sits inside its panel's axis unless it is drawn as a triangle
    at the edge with its number printed, and the description counts exactly those."""
    computed = compute_map(evidence)
    for c in sorted({c for r in evidence.records for c in r.conditions if r.effects_for(c)}):
        fig = charts.forest_figure(c, computed)
        if fig is None:
            continue
        off = 0
        for u in units(fig.spec()):
            if mark_type(u) != "point" or "fill" not in u["encoding"]:
                continue
            low, high = u["encoding"]["x"]["scale"]["domain"]
            for v in u["_values"]:
                inside = low <= v["estimate"] <= high
                assert v["shape"] == (
                    "square" if inside else "triangle-left" if v["estimate"] < low else "triangle-right"
                )
                assert low <= v["x"] <= high and (not inside or v["x"] == v["estimate"])
                off += not inside
        printed = [v for u in units(fig.spec()) if mark_type(u) == "text" for v in u["_values"] if "value" in v]
        assert len(printed) == off
        assert ("so far beyond the others" in fig.description) == (off > 0), fig.name


def test_forest_axis_holds_every_value_unless_one_is_far() -> None:
    axis = panel_axis([-5.14, 6.05, 2.3], ratio=False)
    assert axis.low <= -5.14 and axis.high >= 6.05 and 0.0 in axis.ticks and len(axis.ticks) <= 7
    steps = {round(b - a, 9) for a, b in itertools.pairwise(axis.ticks)}
    assert len(steps) == 1  # equal steps of a round size
    assert (axis.low, axis.high) == (axis.ticks[0], axis.ticks[-1])
    far = panel_axis([0.29, -0.22, -0.08, 13.99], ratio=False)
    assert far.high < 13.99 and far.side(13.99) == ABOVE and far.place(13.99) == far.high
    assert far.side(0.29) == INSIDE and far.place(-0.22) == -0.22
    assert on_scale([0.0, 0.0], ratio=False) == [0.0, 0.0]  # nothing to compare with: all kept
    assert on_scale([0.5, 0.6, 0.7, 400.0], ratio=True) == [0.5, 0.6, 0.7]


def test_wrap_keeps_every_character_within_the_width() -> None:
    text = "Cementoenamel junction to alveolar bone crest distance (CEJ-ABC, mm) (⚠ not graded)"
    lines = wrap(text, 150, 11)
    assert " ".join(lines) == text and len(lines) > 1
    assert all(text_width(line, 11) <= 150 for line in lines)
    assert wrap("short", 150, 11) == ["short"] and wrap("", 150, 11) == [""]
    word = "Supercalifragilisticexpialidocious" * 3
    assert "".join(wrap(word, 60, 11)) == word  # a word longer than a line is broken inside
    assert text_width("W", 11) > text_width("i", 11) > 0


# --- renderer ---------------------------------------------------------------------------------


def test_renderer_reuses_the_cache_and_is_byte_identical(small: Evidence, tmp_path: Path) -> None:
    fig = overview(small)["reviews-per-year"]
    r = ChartRenderer(tmp_path / "cache")
    first = r.svg(fig)
    second = r.svg(fig)
    assert (r.rendered, r.reused) == (1, 1)
    assert first.encode() == second.encode()
    assert (tmp_path / "cache" / f"{cache_key(fig.spec())}.svg").is_file()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [f"{cache_key(fig.spec())}.svg"]  # no temp files left
    # a fresh render elsewhere gives the same bytes: the output is deterministic, not just cached
    again = ChartRenderer(tmp_path / "other")
    assert again.svg(fig).encode() == first.encode() and again.rendered == 1


def test_renderer_renders_a_changed_figure_again(small: Evidence, tmp_path: Path) -> None:
    r = ChartRenderer(tmp_path)
    r.svg(overview(small)["reviews-per-year"])
    r.svg(overview(evidence_of(YE, LI, WANG))["reviews-per-year"])
    assert (r.rendered, r.reused) == (2, 0)
    # a new renderer on the same folder reuses both
    r2 = ChartRenderer(tmp_path)
    r2.svg(overview(small)["reviews-per-year"])
    assert (r2.rendered, r2.reused) == (0, 1)


def test_svg_has_escaped_title_and_desc(small: Evidence, renderer: ChartRenderer) -> None:
    fig = dataclasses.replace(
        overview(small)["reviews-per-year"], title="Reviews <b>& years", description='A "b" <c> & d'
    )
    svg = renderer.svg(fig)
    assert "<b>&" not in svg and "&lt;b&gt;&amp;" in svg
    root = parse_svg(svg)
    assert root.get("role") == "img"
    title, desc = list(root)[:2]
    assert title.tag == f"{SVG_NS}title" and title.text == "Reviews <b>& years"
    assert desc.tag == f"{SVG_NS}desc" and desc.text == 'A "b" <c> & d'
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_accessible_svg_takes_the_nameless_role_off_vegas_groups() -> None:
    raw = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1"><g class="mark-group role-frame root" '
        'role="graphics-object" aria-roledescription="group mark container"><g class="mark-rect role-mark" '
        'role="graphics-object" aria-roledescription="rect mark container"><path aria-label="A cell" '
        'role="graphics-symbol" aria-roledescription="rect mark"/></g><g class="mark-text role-title-text" '
        'role="graphics-symbol" aria-roledescription="title" aria-label="Title text"/>'
        '<g class="legend" role="graphics-object" aria-label="Key"/></g></svg>'
    )
    root = parse_svg(accessible_svg(raw, "T", "D", "chart-x", interactive=True))
    frame, layer, title, other = root.iter(f"{SVG_NS}g")
    assert frame.get("role") is None and frame.get("class") == "mark-group role-frame root"
    assert layer.get("role") is None and layer.get("class") == "mark-rect role-mark"
    assert (title.get("role"), title.get("aria-label")) == ("graphics-symbol", "Title text")  # named: kept
    assert (other.get("role"), other.get("aria-label")) == ("graphics-object", "Key")  # not Vega's: left as it is
    path = next(root.iter(f"{SVG_NS}path"))
    assert (path.get("role"), path.get("aria-label")) == ("graphics-symbol", "A cell")


def test_accessible_svg_prefixes_internal_ids() -> None:
    raw = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1">'
        '<defs><clipPath id="clip1"/></defs><g clip-path="url(#clip1)"/></svg>'
    )
    out = accessible_svg(raw, "T", "D", "chart-x")
    assert 'id="chart-x-clip1"' in out and "url(#chart-x-clip1)" in out and 'id="clip1"' not in out
    parse_svg(out)


# --- the real records -------------------------------------------------------------------------


def every_figure(ev: Evidence) -> list[Figure]:
    sources = [s for s in ev.vocab.sources.ids if ev.for_source(s)]
    return list(all_figures(compute_map(ev), sources))


def test_every_real_figure_renders_to_valid_svg(evidence: Evidence, renderer: ChartRenderer) -> None:
    figures = every_figure(evidence)
    with_effects = {c for r in evidence.records for c in r.conditions if r.effects_for(c)}
    assert {f.name for f in figures if f.name.startswith("condition-")} == {f"condition-{c}" for c in with_effects}
    used_sources = {s for r in evidence.records for s in r.sources}
    assert {f.name for f in figures if f.name.startswith("source-")} == {f"source-{s}" for s in used_sources}
    names = set()
    for fig in figures:
        fig.spec()  # the build does not check specs against the Vega-Lite schema: this does
        root = parse_svg(renderer.svg(fig))
        assert next(iter(root)).text == fig.title
        assert int(float(root.get("width", "0"))) <= charts.CONTENT_WIDTH + 40, fig.name
        names.add(fig.name)
    assert len(names) == len(figures)  # names are unique stems


def test_every_element_of_a_real_chart_with_a_role_has_a_name(evidence: Evidence, renderer: ChartRenderer) -> None:
    """What axe-core checks in an SVG opened on its own: the root is an image (a group when its marks are
    links) named by its title and described by its desc, and no mark inside has a role without a name."""
    for fig in every_figure(evidence):
        root = parse_svg(renderer.svg(fig))
        title, desc = list(root)[:2]
        assert root.get("role") == ("group" if fig.interactive else "img"), fig.name
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        assert (title.text, desc.text) == (fig.title, fig.description)
        unnamed = [
            f"<{el.tag.removeprefix(SVG_NS)} class={el.get('class')!r} role={el.get('role')!r}>"
            for el in root.iter()
            if el is not root
            and el.get("role") not in (None, "presentation", "none")
            and not (el.get("aria-label") or "").strip()
        ]
        assert unnamed == [], f"{fig.name}: {unnamed[:5]}"
        linked = [
            el
            for el in root.iter()
            if el.get("role") == "graphics-symbol" and "mark" in (el.get("aria-roledescription") or "")
        ]
        assert bool(linked) == fig.interactive, fig.name  # only the marks that link speak


def test_figures_of_many_records_are_valid_vega_lite(tmp_path: Path) -> None:
    """At scale the builders take other paths (forest plots capped, two-line labels, every measure
    family, log axes): every spec still passes the Vega-Lite schema."""
    from bench.synth import write_records

    write_records(200, tmp_path / "evidence")
    ev = load_evidence(tmp_path / "evidence")
    figures = every_figure(ev)
    forests = [f for f in figures if f.name.startswith("condition-")]
    assert max(len(f.rows) for f in forests) == charts.FOREST_MAX_ROWS  # the cap is reached
    for fig in figures:
        fig.spec()


# --- drawing in parallel ----------------------------------------------------------------------


def test_parallel_drawing_gives_the_same_bytes_and_fills_the_cache(small: Evidence, tmp_path: Path) -> None:
    figures = every_figure(small)
    figures.append(dataclasses.replace(figures[0], name="copy-of-first"))  # same spec: drawn once
    serial = ChartRenderer(tmp_path / "serial").svgs(figures, workers=1)
    r = ChartRenderer(tmp_path / "parallel")
    assert r.svgs(figures, workers=2) == serial
    assert (r.rendered, r.reused) == (len(figures) - 1, 1)
    assert len(list((tmp_path / "parallel").glob("*.svg"))) == len(figures) - 1
    again = ChartRenderer(tmp_path / "parallel")
    assert again.svgs(figures, workers=2) == serial and (again.rendered, again.reused) == (0, len(figures))


def test_a_chart_that_cannot_be_drawn_fails_naming_it(small: Evidence, tmp_path: Path) -> None:
    good = overview(small)["reviews-per-year"]
    broken = charts.Figure(
        name="broken",
        title="Broken",
        description="A filter that is not an expression.",
        chart=good.chart.transform_filter("datum.year >"),
        columns=(),
        rows=(),
    )
    r = ChartRenderer(tmp_path)
    with pytest.raises(ChartError, match="'broken' could not be drawn"):
        r.svgs([good, broken], workers=2)
    assert not list(tmp_path.glob(f"{cache_key(broken.chart.to_dict(validate=False))}*"))  # nothing cached


def test_prune_keeps_only_this_builds_charts(small: Evidence, tmp_path: Path) -> None:
    figures = every_figure(small)
    r = ChartRenderer(tmp_path)
    drawing = r.start(figures, workers=1)
    drawing.svgs()
    (tmp_path / "notes.txt").write_text("not a chart", encoding="utf-8")
    assert r.prune(keep=drawing.keys[:2]) == len(set(drawing.keys)) - len(set(drawing.keys[:2]))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({f"{k}.svg" for k in drawing.keys[:2]} | {"notes.txt"})


def test_build_stops_cleanly_when_a_chart_cannot_be_drawn(
    small: Evidence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The build command reports the chart and leaves the published site as it was, as it does when
    the site generator fails, rather than ending in a traceback."""
    from evidence_map import cli
    from evidence_map.publishing import site

    good = overview(small)["reviews-per-year"]
    broken = dataclasses.replace(good, name="broken", chart=good.chart.transform_filter("datum.year >"))
    real = site.all_figures
    monkeypatch.setattr(site, "all_figures", lambda *a: iter([*real(*a), broken]))
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("published", encoding="utf-8")
    evidence = copy_records(tmp_path / "evidence")  # every chart of these is drawn before the broken one
    code = cli.main(["build", "--out", str(out), "--work", str(tmp_path / "work"), "--evidence", str(evidence)])
    err = capsys.readouterr().err
    assert code == 1
    assert "error: chart 'broken' could not be drawn" in err and f"{out} left as it was" in err
    assert [p.name for p in out.iterdir()] == ["index.html"]
    assert (out / "index.html").read_text(encoding="utf-8") == "published"
