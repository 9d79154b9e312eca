"""One panel of a forest plot: its rows' labels, markers and CIs on one axis, with the estimates and I²
beside them; and the text the rows print, shared with the table under the plot.

A row is as tall as its text: the label wraps (textfit) instead of being cut, so every outcome can be
read whole. Markers say what the numbers cannot show at a glance: hollow for an estimate published
without a CI, a triangle at the edge for one beyond the axis (forestaxis), an arrowhead on a CI the
edge cuts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import altair as alt

from evidence_map.judging.grading import Assessed
from evidence_map.publishing.charts.base import (
    FOREST_FONT_SIZE,
    FOREST_LABEL_WIDTH,
    FOREST_LINE,
    FOREST_PLOT_WIDTH,
    FOREST_STEP,
    INK,
    OKABE_ITO,
    _data,
    _num,
)
from evidence_map.publishing.charts.forestaxis import ABOVE, BELOW, INSIDE, PanelAxis, panel_axis
from evidence_map.publishing.charts.textfit import text_width, wrap
from evidence_map.records.model import Effect, Record

POINT_COLOUR = OKABE_ITO["blue"]
WITH_CI = "Estimate with its 95% CI"
WITHOUT_CI = "Estimate without a CI"
_SHAPES = {BELOW: "triangle-left", INSIDE: "square", ABOVE: "triangle-right"}
_GAP = 10  # px between a panel's columns


@dataclass(frozen=True)
class _ForestRow:
    assessed: Assessed
    outcome: str  # as drawn: with its "not graded" mark and, when repeated, a number

    @property
    def record(self) -> Record:
        return self.assessed.record

    @property
    def effect(self) -> Effect:
        return self.assessed.effect

    @property
    def label(self) -> str:
        return f"{self.record.label} · {self.outcome}"

    @property
    def has_ci(self) -> bool:
        return self.effect.ci_low is not None and self.effect.ci_high is not None


def _benefit_text(effect: Effect) -> str:
    """Which way is better for this outcome, with an arrow to the side of the axis that favours EVs."""
    better = f"{effect.improves} is better"
    if effect.difference == "control-minus-ev" and not effect.is_ratio:
        better += " (control − EV)"
    favours_ev_right = (effect.improves == "higher") != (effect.difference == "control-minus-ev")
    return f"{better} →" if favours_ev_right else f"← {better}"


def _estimate_text(effect: Effect) -> str:
    """The estimate and its CI, named by its measure where a panel holds several (ratios)."""
    text = "not printed" if effect.estimate is None else _num(effect.estimate)
    if effect.ci_low is not None and effect.ci_high is not None:
        text += f" ({_num(effect.ci_low)} to {_num(effect.ci_high)})"
    else:
        text += " (no CI)"
    return f"{effect.measure} {text}" if effect.is_ratio else text


def _percent_range(low: float | None, high: float) -> str:
    return f"{_num(high)}%" if low is None or low == high else f"{_num(low)}–{_num(high)}%"


def _i2_lines(row: _ForestRow) -> list[str]:
    """I² as the plot prints it: the estimate's own, the range the source gives for it ("range"), or
    the range of the review's analyses ("review"); a dash only when none of them is reported."""
    e, r = row.effect, row.record
    if e.i2 is not None:
        return [f"{_num(e.i2)}%"]
    if e.i2_max is not None:
        return [_percent_range(e.i2_min, e.i2_max), "range"]
    if r.i2_max is not None:
        return [_percent_range(r.i2_min, r.i2_max), "review"]
    return ["–"]


def _i2_cell(row: _ForestRow) -> float | str:
    """The same I² for the table under the chart, in words where it is not the estimate's own."""
    lines = _i2_lines(row)
    if row.effect.i2 is not None:
        return row.effect.i2
    if len(lines) == 1:
        return lines[0]
    where = "given for this estimate" if lines[1] == "range" else "across the review's analyses"
    return f"{lines[0].removesuffix('%')} (range {where})"


def _label_lines(row: _ForestRow) -> list[str]:
    """The review on the first line, then the outcome, wrapped so that all of it shows."""
    width = FOREST_LABEL_WIDTH - 6
    return wrap(row.record.label, width, FOREST_FONT_SIZE) + wrap(row.outcome, width, FOREST_FONT_SIZE)


def _row_data(row: _ForestRow, axis: PanelAxis, top: float) -> dict[str, Any]:
    """One row's marks: where its lines and marks go (in px from the panel's top) and what they say.
    A row is two lines high, or more when its label wraps further."""
    e = row.effect
    assert e.estimate is not None
    label, text, i2 = _label_lines(row), [_estimate_text(e), _benefit_text(e)], _i2_lines(row)
    height = max(2, len(label), len(i2)) * FOREST_LINE + FOREST_STEP - 2 * FOREST_LINE
    middle = top + height / 2

    def first_line(lines: list[str]) -> float:  # Vega sets a text's first line at y, the others below
        return middle - (len(lines) - 1) * FOREST_LINE / 2

    ci = (e.ci_low, e.ci_high) if row.has_ci else (None, None)
    return {
        "row": row.label,
        "measure": e.measure,
        "estimate": e.estimate,
        "ci_low": ci[0],
        "ci_high": ci[1],
        "has_ci": row.has_ci,
        "ci_kind": WITH_CI if row.has_ci else WITHOUT_CI,
        "x": axis.place(e.estimate),
        "shape": _SHAPES[axis.side(e.estimate)],
        "ci_from": None if ci[0] is None else axis.place(ci[0]),
        "ci_to": None if ci[1] is None else axis.place(ci[1]),
        "y": middle,
        "bottom": top + height,
        "label": label,
        "label_y": first_line(label),
        "text": text,
        "text_y": first_line(text),
        "i2": i2,
        "i2_y": first_line(i2),
    }


def _edge_marks(rows: list[_ForestRow], data: list[dict[str, Any]], axis: PanelAxis) -> tuple[list, list]:
    """What lies beyond the axis: each estimate's number, printed by its triangle at the edge, and an
    arrowhead where the edge cuts a CI (not where the estimate's own triangle already points on)."""
    values, heads = [], []
    for row, d in zip(rows, data, strict=True):
        estimate = axis.side(row.effect.estimate or 0.0)
        if estimate != INSIDE:
            values.append({"x": d["x"], "y": d["y"], "side": estimate, "value": _num(row.effect.estimate or 0.0)})
        for bound in (row.effect.ci_low, row.effect.ci_high) if row.has_ci else ():
            side = axis.side(bound or 0.0)
            if side not in (INSIDE, estimate):
                heads.append({"x": axis.place(bound or 0.0), "y": d["y"], "shape": _SHAPES[side]})
    return values, heads


def _y(field: str, height: float) -> alt.Y:
    """A panel's rows by position in px, top down: rows are as tall as their text needs."""
    return alt.Y(
        f"{field}:Q", scale=alt.Scale(domain=[0, height], range=[0, height], nice=False, zero=False), axis=None
    )


def _text_column(data: alt.Data, field: str, height: float, width: float, header: str | None) -> Any:
    """A column of text beside the plot, one entry a row, each of one or more lines."""
    return alt.UnitSpecWithFrame(
        data=data,
        mark=alt.MarkDef(
            type="text", align="left", baseline="middle", fontSize=FOREST_FONT_SIZE, color=INK, lineHeight=FOREST_LINE
        ),
        encoding=alt.Encoding(y=_y(f"{field}_y", height), text=alt.Text(f"{field}:N"), x=alt.XValue(0)),
        width=width,
        height=height,
        title=alt.TitleParams(header, fontWeight="normal") if header else alt.Undefined,
    )


def _forest_panel(
    rows: list[_ForestRow], measures: tuple[str, ...], title: str, look: _Look
) -> tuple[Any, tuple[int, int]]:
    """One panel: labels, plot, estimates and I² side by side; and how many estimates lie beyond its
    axis and how many CIs it cuts."""
    ratio = all(row.effect.is_ratio for row in rows)
    axis = panel_axis((v for row in rows for v in _values(row.effect)), ratio)
    data, top = [], 0.0
    for row in rows:
        data.append(_row_data(row, axis, top))
        top = data[-1]["bottom"]
    height = top
    if ratio:
        x_scale = alt.Scale(type="log", domain=[axis.low, axis.high], nice=False)
        x_title = " / ".join(measures) + " (log scale; 1 = no effect)"
    else:
        x_scale = alt.Scale(domain=[axis.low, axis.high], nice=False, zero=False)
        x_title = f"{measures[0]} (0 = no effect)"
    # Made of Altair's plain schema classes (UnitSpec, LayerSpec, ...) rather than its Chart API:
    # the API deep-copies the whole chart at every chained call and again when layering and
    # concatenating, which made building the forest plots most of the time a warm build spent on
    # charts. Nor is each piece checked against the schema as it is made (Altair's debug mode):
    # the tests check the whole spec against the Vega-Lite schema instead.
    x_axis = alt.Axis(
        values=list(axis.ticks), format="~g" if ratio else ".6~r", grid=True, labelOverlap=True, labelFlush=False
    )
    x_kw: dict[str, Any] = {"scale": x_scale, "axis": x_axis, "title": x_title}
    rows_data = _data(data)
    y = _y("y", height)
    layers = [
        alt.UnitSpec(
            data=_data([{"no_effect": 1.0 if ratio else 0.0}]),
            mark=alt.MarkDef(type="rule", color="#666666", strokeDash=[4, 3], strokeWidth=1.2),
            encoding=alt.Encoding(x=alt.X("no_effect:Q", **x_kw)),
        ),
        alt.UnitSpec(
            data=rows_data,
            mark=alt.MarkDef(type="rule", color=INK, strokeWidth=1.5),
            encoding=alt.Encoding(x=alt.X("ci_from:Q", **x_kw), x2=alt.X2("ci_to"), y=y),
            transform=[alt.FilterTransform(filter="datum.has_ci")],
        ),
        # Filled with a CI, hollow without; a triangle at the edge when beyond the axis.
        alt.UnitSpec(
            data=rows_data,
            mark=alt.MarkDef(type="point", filled=True, size=64, stroke=POINT_COLOUR, strokeWidth=1.5, opacity=1),
            encoding=alt.Encoding(
                x=alt.X("x:Q", **x_kw),
                y=y,
                shape=alt.Shape("shape:N", scale=None),
                fill=alt.Fill("ci_kind:N", scale=look.fill_scale, legend=look.legend),
            ),
        ),
    ]
    off_axis, heads = _edge_marks(rows, data, axis)
    layers += _edge_layers(off_axis, heads, x_kw, height)
    plot = alt.LayerSpec(layer=layers, width=FOREST_PLOT_WIDTH, height=height)
    panel = alt.HConcatSpecGenericSpec(
        hconcat=[
            _text_column(rows_data, "label", height, FOREST_LABEL_WIDTH, None),
            plot,
            _text_column(rows_data, "text", height, look.estimate_width, "Estimate (95% CI)"),
            _text_column(rows_data, "i2", height, look.i2_width, "I²"),
        ],
        spacing=_GAP,
        # Columns laid out by their widths alone, so they line up from one panel to the next
        # whatever the width the renderer measures for their text.
        bounds="flush",
        title=alt.TitleParams(title, anchor="start"),
    )
    return panel, (len(off_axis), len(heads))


def _edge_layers(values: list, heads: list, x_kw: dict[str, Any], height: float) -> list[Any]:
    """The numbers of estimates beyond the axis, above their triangles, and the arrowheads of cut CIs."""
    layers = []
    sides: tuple[tuple[int, Literal["left", "right"]], ...] = ((BELOW, "left"), (ABOVE, "right"))
    for side, align in sides:
        here = [v for v in values if v["side"] == side]
        if here:
            layers.append(
                alt.UnitSpec(
                    data=_data(here),
                    mark=alt.MarkDef(
                        type="text", align=align, baseline="bottom", dy=-7, fontSize=FOREST_FONT_SIZE, color=INK
                    ),
                    encoding=alt.Encoding(x=alt.X("x:Q", **x_kw), y=_y("y", height), text=alt.Text("value:N")),
                )
            )
    if heads:
        layers.append(
            alt.UnitSpec(
                data=_data(heads),
                mark=alt.MarkDef(type="point", filled=True, size=36, color=INK, opacity=1),
                encoding=alt.Encoding(
                    x=alt.X("x:Q", **x_kw), y=_y("y", height), shape=alt.Shape("shape:N", scale=None)
                ),
            )
        )
    return layers


@dataclass(frozen=True)
class _Look:
    """What every panel of one figure shares: the widths of its text columns and the key to its markers."""

    estimate_width: float
    i2_width: float
    fill_scale: alt.Scale
    legend: Any


def _look(rows: list[_ForestRow]) -> _Look:
    def widest(texts: list[str]) -> float:
        return max(text_width(t, FOREST_FONT_SIZE) for t in texts) + 4

    estimates = [t for row in rows for t in (_estimate_text(row.effect), _benefit_text(row.effect))]
    kinds = [k for k in (WITH_CI, WITHOUT_CI) if any(row.has_ci == (k == WITH_CI) for row in rows)]
    colours = {WITH_CI: POINT_COLOUR, WITHOUT_CI: "white"}
    # The key is needed only when some markers are hollow.
    legend = (
        alt.Legend(
            orient="top",
            title=None,
            symbolType="square",
            symbolStrokeColor=POINT_COLOUR,
            symbolStrokeWidth=1.5,
            columnPadding=30,  # room for a substitute font wider than the one the labels were measured in
        )
        if WITHOUT_CI in kinds
        else None
    )
    return _Look(
        estimate_width=max(widest([*estimates, "Estimate (95% CI)"]), 110),
        i2_width=max(widest([t for row in rows for t in _i2_lines(row)]), 24),
        fill_scale=alt.Scale(domain=kinds, range=[colours[k] for k in kinds]),
        legend=legend,
    )


def _values(effect: Effect) -> list[float]:
    return [v for v in (effect.estimate, effect.ci_low, effect.ci_high) if v is not None]
