"""The overview figures: reviews per condition, the verdict heatmap, reviews per
year, and the registry of overview figure names."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import altair as alt

from evidence_map.judging.computed import ComputedMap
from evidence_map.judging.grading import DOMAINS, INSUFFICIENT, NO_REVIEWS, NO_VERDICT, VERDICTS
from evidence_map.publishing.chartlinks import site_link
from evidence_map.publishing.charts.base import (
    BAR_STEP,
    HEATMAP_STEP,
    INK,
    OKABE_ITO,
    VERDICT_ABBREVIATIONS,
    VERDICT_COLOURS,
    Figure,
    _count_axis,
    _count_scale,
    _data,
    _finish,
    _join,
    _leaders,
    _plural,
    _scale,
    organ_colours,
    text_colour_on,
)
from evidence_map.publishing.charts.quality import amstar2_figure, risk_of_bias_figure
from evidence_map.records.evidence import Evidence
from evidence_map.records.vocab import Vocabularies

# --- overview ---------------------------------------------------------------------------------


def _condition_bars(counts: Mapping[str, int], v: Vocabularies, *, show_zero: bool) -> tuple[Any, list[tuple]]:
    """Horizontal bars of reviews per condition, coloured by organ system; returns chart and rows."""
    rows = [
        (v.conditions.get(c).name, v.category_name(c), counts.get(c, 0))
        for c in v.conditions.ids
        if show_zero or counts.get(c, 0) > 0
    ]
    rows.sort(key=lambda row: (-row[2], row[0].lower()))
    data = [{"condition": n, "system": s, "reviews": k} for n, s, k in rows]
    top = max((k for _, _, k in rows), default=0)
    order = [n for n, _, _ in rows]
    base = alt.Chart(_data(data)).encode(
        y=alt.Y("condition:N", sort=order, title=None, axis=alt.Axis(labelLimit=220, ticks=False)),
    )
    bars = base.mark_bar(height={"band": 0.75}).encode(
        x=alt.X(
            "reviews:Q",
            title="Reviews",
            scale=_count_scale(top),
            axis=_count_axis(top, grid=True),
        ),
        color=alt.Color(
            "system:N",
            title="Organ system",
            scale=_scale(organ_colours(v), (s for _, s, _ in rows)),
            legend=alt.Legend(orient="bottom", columns=3, direction="horizontal"),
        ),
    )
    labels = base.mark_text(align="left", dx=4, fontSize=11, color=INK).encode(
        x=alt.X("reviews:Q"),
        text=alt.Text("reviews:Q", format="d"),
    )
    chart = alt.layer(bars, labels).properties(width=360, height=alt.Step(BAR_STEP))
    return chart, rows


def reviews_per_condition(evidence: Evidence) -> Figure:
    counts = Counter(c for r in evidence.records for c in r.conditions)
    chart, rows = _condition_bars(counts, evidence.vocab, show_zero=True)
    names = {n: k for n, _, k in rows if k > 0}
    total = len(evidence.vocab.conditions.ids)
    if names:
        description = (
            f"{_leaders(names, 'reviews')}; "
            + (
                f"{len(names)} of {total} conditions have at least one review and {total - len(names)} have none."
                if len(names) < total
                else f"all {total} conditions have at least one review."
            )
            + " A review on two conditions counts for both."
        )
    else:
        description = f"No reviews yet for any of the {total} conditions."
    return Figure(
        name="reviews-per-condition",
        title="Reviews per condition",
        description=description,
        chart=_finish(chart),
        columns=("Condition", "Organ system", "Reviews"),
        rows=tuple(rows),
    )


def verdict_heatmap(computed: ComputedMap) -> Figure:
    evidence, grades = computed.evidence, computed.grades
    v = evidence.vocab
    cells: list[dict[str, Any]] = []
    rows: list[tuple[Any, ...]] = []
    for c in v.conditions.ids:
        name = v.conditions.get(c).name
        grade = grades.get(c)
        n = grade.n_reviews if grade else 0
        labels = [grade.domains[d].label if grade and d in grade.domains else INSUFFICIENT for d in DOMAINS]
        rows.append((name, n, *labels))
        for d, label in zip(DOMAINS, labels, strict=True):
            cells.append(
                {
                    "condition": name,
                    "domain": d,
                    "verdict": label,
                    "abbreviation": VERDICT_ABBREVIATIONS[label],
                    "ink": text_colour_on(VERDICT_COLOURS[label]),
                    "reviews": n,
                    "link": site_link(f"conditions/{c}/#by-outcome-domain"),
                    "tip": f"{name}, {d}: {label} ({_plural(n, 'review')}). Open the condition page.",
                }
            )
    order = [r[0] for r in rows]
    base = alt.Chart(_data(cells)).encode(
        x=alt.X(
            "domain:N",
            sort=list(DOMAINS),
            title="Outcome domain",
            axis=alt.Axis(orient="top", labelAngle=0, ticks=False, domain=False),
        ),
        y=alt.Y("condition:N", sort=order, title=None, axis=alt.Axis(labelLimit=220, ticks=False, domain=False)),
    )
    rect = base.mark_rect(stroke="white", strokeWidth=1.5, aria=True).encode(
        href=alt.Href("link:N"),
        description=alt.Description("tip:N"),
        color=alt.Color(
            "verdict:N",
            title="Verdict",
            scale=alt.Scale(domain=list(VERDICTS), range=[VERDICT_COLOURS[k] for k in VERDICTS]),
            legend=alt.Legend(orient="bottom", columns=3, direction="horizontal", symbolType="square"),
        ),
    )
    text = base.mark_text(fontSize=11, aria=True).encode(
        text="abbreviation:N",
        color=alt.Color("ink:N", scale=None),
        href=alt.Href("link:N"),
        description=alt.Description("tip:N"),
    )
    chart = alt.layer(rect, text).properties(width=alt.Step(68), height=alt.Step(HEATMAP_STEP))

    counts = Counter(cell["verdict"] for cell in cells)
    graded = [f"{counts[k]} {k}" for k in VERDICTS if k not in NO_VERDICT and counts[k]]
    total = len(cells)
    gaps = []
    if counts[INSUFFICIENT]:
        gaps.append(
            f"{counts[INSUFFICIENT]} are Insufficient data (reviews exist, no gradable estimate: a reporting gap)"
        )
    if counts[NO_REVIEWS]:
        gaps.append(f"{counts[NO_REVIEWS]} have no meta-analysis yet (a research gap)")
    ungraded = counts[INSUFFICIENT] + counts[NO_REVIEWS]
    if graded:
        description = (
            f"Computed verdicts for {len(order)} conditions across {len(DOMAINS)} outcome domains: "
            f"{total - ungraded} of {total} cells can be graded ({_join(graded)})"
            + (f"; of the other {ungraded}, {_join(gaps)}." if gaps else ".")
        )
    else:
        description = f"None of the {total} condition and outcome-domain cells can be graded yet: {_join(gaps)}."
    description += (
        " Each cell applies the rules to one domain's estimates alone; a condition's overall verdict applies them "
        "to all its estimates together, so the two can differ (each condition page says why)."
    )
    return Figure(
        name="effectiveness-heatmap",
        title="Effectiveness by condition and outcome domain",
        description=description,
        chart=_finish(chart),
        columns=("Condition", "Reviews", *(d.capitalize() for d in DOMAINS)),
        rows=tuple(rows),
        interactive=True,
    )


def reviews_per_year(evidence: Evidence) -> Figure:
    counts = Counter(r.year for r in evidence.records)
    years = list(range(min(counts), max(counts) + 1)) if counts else []
    rows = [(y, counts.get(y, 0)) for y in years]
    data = [{"year": str(y), "reviews": k} for y, k in rows]
    top = max((k for _, k in rows), default=0)
    base = alt.Chart(_data(data)).encode(
        x=alt.X("year:O", title="Year of publication", sort=[str(y) for y in years], axis=alt.Axis(labelAngle=0))
    )
    bars = base.mark_bar(color=OKABE_ITO["blue"], width={"band": 0.7}).encode(
        y=alt.Y(
            "reviews:Q",
            title="Reviews",
            scale=_count_scale(top),
            axis=_count_axis(top),
        )
    )
    labels = base.mark_text(baseline="bottom", dy=-3, fontSize=11, color=INK).encode(
        y="reviews:Q", text=alt.Text("reviews:Q", format="d")
    )
    chart = alt.layer(bars, labels).properties(width=min(600, max(240, 60 * len(years))), height=220)
    if rows:
        top_years = [str(y) for y, k in rows if k == top]
        peak = f"{_join(top_years)} saw the most ({top}{' each' if len(top_years) > 1 else ''})"
        description = f"{_plural(len(evidence.records), 'review')} published from {years[0]} to {years[-1]}; {peak}."
    else:
        description = "No reviews yet."
    return Figure(
        name="reviews-per-year",
        title="Reviews per year of publication",
        description=description,
        chart=_finish(chart),
        columns=("Year", "Reviews"),
        rows=tuple(rows),
    )


# The overview figures by name: what templates may ask for besides condition-<id> and source-<id>.
OVERVIEW_FIGURES = (
    "reviews-per-condition",
    "effectiveness-heatmap",
    "amstar2",
    "risk-of-bias",
    "reviews-per-year",
)


def overview_figures(computed: ComputedMap) -> list[Figure]:
    """The figures of the overview page, in page order."""
    evidence = computed.evidence
    return [
        reviews_per_condition(evidence),
        verdict_heatmap(computed),
        amstar2_figure(evidence),
        risk_of_bias_figure(evidence),
        reviews_per_year(evidence),
    ]
