"""Quality figures: AMSTAR-2 ratings and risk of bias, as stacked bars."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

from evidence_map.publishing.charts.base import (
    AMSTAR2_RATINGS,
    FLAW_COLOURS,
    FLAWS_NONE,
    FLAWS_NOT_REPORTED,
    FLAWS_SOME,
    INK,
    OKABE_ITO,
    ROB_COLOURS,
    ROB_RATINGS,
    Figure,
    _count_axis,
    _count_scale,
    _data,
    _finish,
    _join,
    _plural,
    _scale,
)
from evidence_map.records.evidence import Evidence


def _stacked_bars(
    rows: Sequence[tuple[str, str, int]],
    categories: Sequence[str],
    stack_order: Sequence[str],
    colours: Mapping[str, str],
    *,
    y_title: str,
    colour_title: str,
    legend_columns: int,
) -> Any:
    """Horizontal bars per category, stacked by a second category, with each bar's total at its end."""
    data = [{"category": c, "part": p, "reviews": k, "order": list(stack_order).index(p)} for c, p, k in rows]
    totals: Counter[str] = Counter()
    for c, _, k in rows:
        totals[c] += k
    top = max(totals.values(), default=0)
    y = alt.Y(
        "category:N",
        sort=list(categories),
        scale=alt.Scale(domain=list(categories)),
        title=y_title,
        axis=alt.Axis(ticks=False, labelLimit=200),
    )
    x_scale = _count_scale(top)
    bars = (
        alt.Chart(_data(data))
        .mark_bar(height={"band": 0.7})
        .encode(
            y=y,
            x=alt.X("reviews:Q", stack="zero", title="Reviews", scale=x_scale, axis=_count_axis(top)),
            color=alt.Color(
                "part:N",
                title=colour_title,
                scale=_scale(colours, (p for _, p, _ in rows)),
                legend=alt.Legend(orient="bottom", columns=legend_columns, direction="horizontal", symbolType="square"),
            ),
            order=alt.Order("order:Q"),
        )
    )
    labels = (
        alt.Chart(_data([{"category": c, "total": totals.get(c, 0)} for c in categories]))
        .mark_text(align="left", dx=4, fontSize=11, color=INK)
        .encode(y=y, x=alt.X("total:Q", scale=x_scale), text=alt.Text("total:Q", format="d"))
    )
    return alt.layer(bars, labels).properties(width=420, height=alt.Step(26))


def amstar2_figure(evidence: Evidence) -> Figure:
    counts: Counter[tuple[str, str]] = Counter()
    for r in evidence.records:
        rating = AMSTAR2_RATINGS.get(r.amstar2_rating, r.amstar2_rating)
        flaws = r.critical_flaws
        status = FLAWS_NOT_REPORTED if flaws is None else (FLAWS_SOME if flaws else FLAWS_NONE)
        counts[(rating, status)] += 1
    ratings = list(AMSTAR2_RATINGS.values())
    ratings += sorted({k[0] for k in counts} - set(ratings))
    statuses = list(FLAW_COLOURS)
    rows = [(rt, st, counts[(rt, st)]) for rt in ratings for st in statuses if counts[(rt, st)]]
    chart = _stacked_bars(
        rows,
        ratings,
        statuses,
        FLAW_COLOURS,
        y_title="AMSTAR-2 confidence",
        colour_title="Critical flaws",
        legend_columns=3,
    )
    n = len(evidence.records)
    by_rating: Counter[str] = Counter()
    for rt, _, k in rows:
        by_rating[rt] += k
    by_status: Counter[str] = Counter()
    for _, st, k in rows:
        by_status[st] += k
    if n:
        rated = _join([f"{by_rating[rt]} {rt.lower()}" for rt in ratings if by_rating[rt]])
        some, none, unknown = by_status[FLAWS_SOME], by_status[FLAWS_NONE], by_status[FLAWS_NOT_REPORTED]
        known = some + none
        detail = _join(
            [t for t in (f"{some} with at least one" if some else "", f"{none} with none" if none else "") if t]
        )
        if known and unknown:
            flaw_text = f"Critical flaws are reported for {known} ({detail}) and not reported per review for {unknown}."
        elif known:
            flaw_text = f"Critical flaws are reported for all of them ({detail})."
        else:
            flaw_text = "Critical flaws are not reported per review for any of them."
        description = f"AMSTAR-2 confidence across {_plural(n, 'review')}: {rated}. {flaw_text}"
    else:
        description = "No reviews yet."
    return Figure(
        name="amstar2",
        title="AMSTAR-2 confidence and critical flaws",
        description=description,
        chart=_finish(chart),
        columns=("AMSTAR-2 confidence", "Critical flaws", "Reviews"),
        rows=tuple(rows),
    )


def risk_of_bias_figure(evidence: Evidence) -> Figure:
    counts: Counter[tuple[str, str]] = Counter()
    for r in evidence.records:
        tool = r.rob_tool or "Not reported"
        counts[(tool, ROB_RATINGS.get(r.rob_overall, r.rob_overall))] += 1
    per_tool: Counter[str] = Counter()
    for (tool, _), k in counts.items():
        per_tool[tool] += k
    tools = sorted(per_tool, key=lambda t: (-per_tool[t], t.lower()))
    ratings = list(ROB_COLOURS) + sorted({k[1] for k in counts} - set(ROB_COLOURS))
    rows = [(t, rt, counts[(t, rt)]) for t in tools for rt in ratings if counts[(t, rt)]]
    colours = dict(ROB_COLOURS)
    colours.update({rt: OKABE_ITO["reddish-purple"] for rt in ratings if rt not in colours})
    chart = _stacked_bars(
        rows,
        tools,
        ratings,
        colours,
        y_title="Risk-of-bias tool",
        colour_title="Overall risk of bias",
        legend_columns=4,
    )
    n = len(evidence.records)
    if n:
        by_rating: Counter[str] = Counter()
        for _, rt, k in rows:
            by_rating[rt] += k
        overall = _join([f"{by_rating[rt]} {rt.lower()}" for rt in ratings if by_rating[rt]])
        lead = tools[0]
        lead_text = (
            f"{lead} is the most used risk-of-bias tool ({per_tool[lead]} of {n} reviews)"
            if len(tools) == 1 or per_tool[tools[1]] < per_tool[lead]
            else f"{_join([t for t in tools if per_tool[t] == per_tool[lead]])} are the most used "
            f"risk-of-bias tools ({per_tool[lead]} of {n} reviews each)"
        )
        description = f"{lead_text}. Overall risk of bias of the included studies: {overall}."
    else:
        description = "No reviews yet."
    return Figure(
        name="risk-of-bias",
        title="Risk of bias by tool and overall rating",
        description=description,
        chart=_finish(chart),
        columns=("Risk-of-bias tool", "Overall risk of bias", "Reviews"),
        rows=tuple(rows),
    )
