"""The forest plot of one condition: every pooled effect, one panel per measure family and unit."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import altair as alt
from altair.utils.schemapi import debug_mode

from evidence_map.judging.computed import ComputedMap
from evidence_map.judging.grading import direction as benefit_direction
from evidence_map.publishing.charts.base import (
    FOREST_FAMILIES,
    FOREST_LABEL_WIDTH,
    FOREST_MAX_ROWS,
    FOREST_PLOT_WIDTH,
    FOREST_STEP,
    INK,
    OKABE_ITO,
    RAW_FAMILIES,
    Figure,
    _data,
    _finish,
    _join,
    _num,
    _plural,
)
from evidence_map.records.model import Effect, Record

# --- per condition: forest plot ---------------------------------------------------------------


@dataclass(frozen=True)
class _ForestRow:
    record: Record
    effect: Effect
    label: str


def _benefit_text(effect: Effect) -> str:
    """Which way is better for this outcome, with an arrow to the side of the axis that favours EVs."""
    better = f"{effect.improves} is better"
    if effect.difference == "control-minus-ev" and not effect.is_ratio:
        better += " (control − EV)"
    favours_ev_right = (effect.improves == "higher") != (effect.difference == "control-minus-ev")
    return f"{better} →" if favours_ev_right else f"← {better}"


def _estimate_text(effect: Effect, with_measure: bool) -> str:
    text = "not printed" if effect.estimate is None else _num(effect.estimate)
    if effect.ci_low is not None and effect.ci_high is not None:
        text += f" ({_num(effect.ci_low)} to {_num(effect.ci_high)})"
    else:
        text += " (no CI)"
    return f"{effect.measure} {text}" if with_measure else text


def _ratio_axis(values: Iterable[float]) -> tuple[list[float], list[float]]:
    """Domain and tick values for a log axis that holds every value and no effect (1)."""
    values = [v for v in values if v > 0] + [1.0]
    lo, hi = min(values) / 1.3, max(values) * 1.3
    ticks = [m * 10.0**k for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1) for m in (1, 2, 5)]
    ticks = [t for t in ticks if lo <= t <= hi]
    if len(ticks) > 7:
        ticks = [t for t in ticks if math.isclose(math.log10(t) % 1, 0, abs_tol=1e-9) or t == 1.0]
    return [lo, hi], ticks


# Two lines per row: the review, then the outcome.
_ROW_LABEL_EXPR = (
    "indexof(datum.label, ' · ') < 0 ? datum.label : "
    "[substring(datum.label, 0, indexof(datum.label, ' · ')), substring(datum.label, indexof(datum.label, ' · ') + 3)]"
)


def _forest_panel(rows: list[_ForestRow], family: str, measures: tuple[str, ...], title: str) -> Any:
    ratio = family == "ratio"
    null = 1.0 if ratio else 0.0
    data = []
    for row in rows:
        e = row.effect
        has_ci = e.ci_low is not None and e.ci_high is not None
        data.append(
            {
                "row": row.label,
                "measure": e.measure,
                "estimate": e.estimate,
                "ci_low": e.ci_low if has_ci else None,
                "ci_high": e.ci_high if has_ci else None,
                "has_ci": has_ci,
                "text": _estimate_text(e, with_measure=len(measures) > 1) + "\n" + _benefit_text(e),
                "i2": "–" if e.i2 is None else f"{_num(e.i2)}%",
                "improves": f"{e.improves} is better",
            }
        )
    # The explicit domain fixes the row order. No `sort` list as well: Vega-Lite compiles one into
    # a conditional expression nested once per row, which overflows the JavaScript stack at a few
    # thousand rows (vl-convert: "Maximum call stack size exceeded"); the drawing is the same.
    order = tuple(row.label for row in rows)
    y = alt.Y(
        "row:N",
        scale=alt.Scale(domain=order),
        title=None,
        axis=alt.Axis(
            labelExpr=_ROW_LABEL_EXPR,
            labelLimit=FOREST_LABEL_WIDTH,
            minExtent=FOREST_LABEL_WIDTH,
            maxExtent=FOREST_LABEL_WIDTH,
            labelAlign="left",
            labelPadding=FOREST_LABEL_WIDTH,
            labelLineHeight=13,
            labelOffset=-6,
            ticks=False,
            domain=False,
        ),
    )
    if ratio:
        values = [
            v for row in rows for v in (row.effect.estimate, row.effect.ci_low, row.effect.ci_high) if v is not None
        ]
        domain, ticks = _ratio_axis(values)
        x_scale = alt.Scale(type="log", domain=domain, nice=False)
        x_axis = alt.Axis(values=ticks, format="~g", grid=True)
        x_title = " / ".join(measures) + " (log scale; 1 = no effect)"
    else:
        x_scale = alt.Scale(zero=True, nice=True)
        x_axis = alt.Axis(grid=True, tickCount=5, labelOverlap=True)
        x_title = f"{measures[0]} (0 = no effect)"
    # Made of Altair's plain schema classes (UnitSpec, LayerSpec, ...) rather than its Chart API:
    # the API deep-copies the whole chart at every chained call and again when layering and
    # concatenating, which made building the forest plots most of the time a warm build spent on
    # charts. Nor is each piece checked against the schema as it is made (Altair's debug mode):
    # the tests check the whole spec against the Vega-Lite schema instead.
    rows_data = _data(data)
    x_title_kw: dict[str, Any] = {"scale": x_scale, "axis": x_axis, "title": x_title}
    ci = alt.UnitSpec(
        data=rows_data,
        mark=alt.MarkDef(type="rule", color=INK, strokeWidth=1.5),
        encoding=alt.Encoding(x=alt.X("ci_low:Q", **x_title_kw), x2=alt.X2("ci_high"), y=y),
        transform=[alt.FilterTransform(filter="datum.has_ci")],
    )
    point = alt.UnitSpec(
        data=rows_data,
        mark=alt.MarkDef(type="point", shape="square", filled=True, size=64, color=OKABE_ITO["blue"], opacity=1),
        encoding=alt.Encoding(x=alt.X("estimate:Q", **x_title_kw), y=y),
    )
    no_effect = alt.UnitSpec(
        data=_data([{"no_effect": null}]),
        mark=alt.MarkDef(type="rule", color="#666666", strokeDash=[4, 3], strokeWidth=1.2),
        encoding=alt.Encoding(x=alt.X("no_effect:Q", **x_title_kw)),
    )
    plot = alt.LayerSpec(
        layer=[no_effect, ci, point],
        width=FOREST_PLOT_WIDTH,
        height=alt.Step(FOREST_STEP),
        title=alt.TitleParams(title, anchor="start"),
    )

    def column(field: str, header: str, width: int) -> Any:
        return alt.UnitSpecWithFrame(
            data=rows_data,
            mark=alt.MarkDef(
                type="text",
                align="left",
                baseline="middle",
                dy=-6,
                fontSize=11,
                color=INK,
                lineBreak="\n",
                lineHeight=13,
            ),
            encoding=alt.Encoding(
                y=alt.Y("row:N", scale=alt.Scale(domain=order), axis=None),
                text=alt.Text(f"{field}:N"),
                x=alt.XValue(0),
            ),
            width=width,
            height=alt.Step(FOREST_STEP),
            title=alt.TitleParams(header, fontWeight="normal"),
        )

    return alt.HConcatSpecGenericSpec(
        hconcat=[plot, column("text", "Estimate (95% CI)", 128), column("i2", "I²", 34)],
        spacing=10,
    )


def forest_figure(condition_id: str, computed: ComputedMap) -> Figure | None:
    """A forest plot of every pooled effect for one condition; None when there is none."""
    evidence = computed.evidence
    v = evidence.vocab
    name = v.conditions.get(condition_id).name
    records = sorted(
        evidence.for_condition(condition_id), key=lambda r: (r.first_author.lower(), r.label.lower(), r.id)
    )
    # A result reported as not significant without an estimate has no point to draw (tables list it).
    pairs = [(r, e) for r in records for e in r.effects_for(condition_id) if e.estimate is not None]
    if not pairs:
        return None
    seen: Counter[str] = Counter()
    rows: list[_ForestRow] = []
    for r, e in pairs:
        # A flagged estimate (outside its CI, an implausible SMD) is drawn as published, marked.
        label = f"{r.label} · {e.outcome}" + (" (⚠ not graded)" if computed.assessment(r, e).flags else "")
        seen[label] += 1
        if seen[label] > 1:
            label = f"{label} [{seen[label]}]"
        rows.append(_ForestRow(r, e, label))
    # A ratio at or below 0 has no place on a log scale.
    drawable = [row for row in rows if not row.effect.is_ratio or min(_values(row.effect)) > 0]
    shown = _largest_reviews_first(drawable, FOREST_MAX_ROWS)
    panels, plotted = [], []
    for family, measures, title in FOREST_FAMILIES:
        in_family = [row for row in shown if row.effect.measure in measures]
        if not in_family:
            continue
        # Raw differences share an axis only when they share a unit (percent and millimetres never do).
        units = sorted({row.effect.unit for row in in_family}, key=lambda u: (u is None, u or ""))
        for unit in units if family in RAW_FAMILIES else [None]:
            rows_here = [row for row in in_family if family not in RAW_FAMILIES or row.effect.unit == unit]
            heading = (
                title if family not in RAW_FAMILIES else f"{title}, {'in ' + unit if unit else 'unit not reported'}"
            )
            with debug_mode(False):
                panels.append(_forest_panel(rows_here, family, measures, heading))
            plotted += rows_here
    if not panels:
        return None
    with debug_mode(False):  # see _forest_panel
        if len(panels) == 1:
            chart: Any = alt.TopLevelHConcatSpec(hconcat=panels[0].hconcat, spacing=panels[0].spacing)
        else:
            chart = alt.TopLevelVConcatSpec(vconcat=panels, spacing=18)
    chart["$schema"] = alt.SCHEMA_URL

    n_reviews = len({row.record.id for row in plotted})
    favour = sum(1 for row in plotted if _favours_ev(row.effect))
    no_ci = sum(1 for row in plotted if row.effect.ci_low is None or row.effect.ci_high is None)
    n_measure = Counter(row.effect.measure for row in plotted)
    kinds = _join([f"{k} {m}" for _, ms, _ in FOREST_FAMILIES for m in ms for k in [n_measure[m]] if k])
    if len(plotted) < len(drawable):
        head = (
            f"{len(plotted)} of the {len(drawable)} pooled effects on {name}, those of the "
            f"{_plural(n_reviews, 'review')} that pool the most primary studies ({kinds})"
        )
    else:
        head = f"{_plural(len(plotted), 'pooled effect')} from {_plural(n_reviews, 'review')} of {name} ({kinds})"
    if len(plotted) == 1:
        e = plotted[0].effect
        if no_ci:
            tail = "it is published without a confidence interval."
        elif favour:
            tail = "it favours MSC-EVs, with a 95% CI that excludes no effect."
        else:
            tail = "its 95% CI does not show a benefit of MSC-EVs."
        description = f"{head}: {tail} For {e.outcome}, {e.improves} is better."
    else:
        description = (
            f"{head}: {favour} {'favours' if favour == 1 else 'favour'} MSC-EVs with a 95% CI that excludes no effect"
            + (f", and {no_ci} {'is' if no_ci == 1 else 'are'} published without a CI." if no_ci else ".")
        )
    if len(plotted) < len(drawable):
        description += f" The other {len(drawable) - len(plotted)} are listed in the downloads."
    if len(drawable) < len(rows):
        description += f" {_plural(len(rows) - len(drawable), 'ratio')} at or below zero cannot be drawn."
    table = tuple(
        (
            row.record.label,
            row.effect.outcome,
            row.effect.domain,
            row.effect.measure,
            row.effect.estimate,
            _cell(row.effect.ci_low),
            _cell(row.effect.ci_high),
            _cell(row.effect.i2),
            f"{row.effect.improves} is better",
        )
        for row in plotted
    )
    return Figure(
        name=f"condition-{condition_id}",
        title=f"Pooled effects for {name}",
        description=description,
        chart=_finish(chart),
        columns=("Review", "Outcome", "Domain", "Measure", "Estimate", "95% CI low", "95% CI high", "I² (%)", "Better"),
        rows=table,
    )


def _largest_reviews_first(rows: list[_ForestRow], limit: int) -> list[_ForestRow]:
    """All rows when they fit; else the effects of the reviews pooling the most studies (newest first
    among equals), up to `limit`, in their original order."""
    if len(rows) <= limit:
        return rows
    ranked = sorted(
        range(len(rows)), key=lambda i: (-rows[i].record.n_studies, -rows[i].record.year, rows[i].record.id, i)
    )
    keep = set(ranked[:limit])
    return [row for i, row in enumerate(rows) if i in keep]


def _cell(value: float | None) -> float | str:
    return "–" if value is None else value


def _values(effect: Effect) -> list[float]:
    return [v for v in (effect.estimate, effect.ci_low, effect.ci_high) if v is not None]


def _favours_ev(effect: Effect) -> bool:
    lo, hi = effect.ci_low, effect.ci_high
    if lo is None or hi is None or lo <= effect.null_value <= hi:
        return False
    return benefit_direction(effect) > 0
