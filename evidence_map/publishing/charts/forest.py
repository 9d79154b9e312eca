"""The forest plot of one condition: every pooled effect, one panel per measure family and unit
(forestpanel draws a panel), with a description of what it shows and a table of the same numbers."""

from __future__ import annotations

from collections import Counter
from typing import Any

import altair as alt
from altair.utils.schemapi import debug_mode

from evidence_map.judging.computed import ComputedMap
from evidence_map.judging.grading import direction as benefit_direction
from evidence_map.publishing.charts.base import (
    FOREST_FAMILIES,
    FOREST_MAX_ROWS,
    RAW_FAMILIES,
    Figure,
    _finish,
    _join,
    _plural,
)
from evidence_map.publishing.charts.forestpanel import (
    _forest_panel,
    _ForestRow,
    _i2_cell,
    _i2_lines,
    _look,
    _values,
)
from evidence_map.records.model import Effect

# --- per condition: forest plot ---------------------------------------------------------------


def forest_figure(condition_id: str, computed: ComputedMap) -> Figure | None:
    """A forest plot of every pooled effect for one condition; None when there is none."""
    evidence = computed.evidence
    name = evidence.vocab.conditions.get(condition_id).name
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
        assessed = computed.assessment(r, e)
        outcome = e.outcome + (" (⚠ not graded)" if assessed.flags else "")
        key = f"{r.label} · {outcome}"
        seen[key] += 1
        if seen[key] > 1:
            outcome = f"{outcome} [{seen[key]}]"
        rows.append(_ForestRow(assessed, outcome))
    # A ratio at or below 0 has no place on a log scale.
    drawable = [row for row in rows if not row.effect.is_ratio or min(_values(row.effect)) > 0]
    shown = _largest_reviews_first(drawable, FOREST_MAX_ROWS)
    panels, plotted, edges = _panels(shown)
    if not panels:
        return None
    with debug_mode(False):  # see _forest_panel
        if len(panels) == 1:
            chart: Any = alt.TopLevelHConcatSpec(**{k: panels[0][k] for k in ("hconcat", "spacing", "bounds", "title")})
        else:
            chart = alt.TopLevelVConcatSpec(vconcat=panels, spacing=18)
    chart["$schema"] = alt.SCHEMA_URL
    return Figure(
        name=f"condition-{condition_id}",
        title=f"Pooled effects for {name}",
        description=_description(name, plotted, drawable, rows, edges),
        chart=_finish(chart, left=8),
        columns=("Review", "Outcome", "Domain", "Measure", "Estimate", "95% CI low", "95% CI high", "I² (%)", "Better"),
        rows=tuple(_table_row(row) for row in plotted),
    )


def _panels(shown: list[_ForestRow]) -> tuple[list[Any], list[_ForestRow], Counter[str]]:
    """A panel per measure family, and per unit for raw differences; the rows in the order drawn, and
    how many estimates lie beyond their panel's axis ("off") and how many CIs it cuts ("cut")."""
    look = _look(shown)
    panels: list[Any] = []
    plotted: list[_ForestRow] = []
    edges: Counter[str] = Counter()
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
                panel, (off, cut) = _forest_panel(rows_here, measures, heading, look)
            panels.append(panel)
            plotted += rows_here
            edges.update(off=off, cut=cut)
    return panels, plotted, edges


def _description(
    name: str, plotted: list[_ForestRow], drawable: list[_ForestRow], rows: list[_ForestRow], edges: Counter[str]
) -> str:
    """What the plot shows, in words: the counts, then how to read its markers."""
    n_reviews = len({row.record.id for row in plotted})
    favour = sum(1 for row in plotted if _favours_ev(row.effect))
    no_ci = sum(1 for row in plotted if not row.has_ci)
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
            tail = "it is published without a confidence interval (a hollow marker)."
        elif favour:
            tail = "it favours MSC-EVs, with a 95% CI that excludes no effect."
        else:
            tail = "its 95% CI does not show a benefit of MSC-EVs."
        description = f"{head}: {tail} For {e.outcome}, {e.improves} is better."
    else:
        description = (
            f"{head}: {favour} {'favours' if favour == 1 else 'favour'} MSC-EVs with a 95% CI that excludes no effect"
            + (
                f", and {no_ci} {'is' if no_ci == 1 else 'are'} published without a CI (hollow markers)."
                if no_ci
                else "."
            )
        )
    description += _reading_notes(plotted, edges)
    if len(plotted) < len(drawable):
        description += f" The other {len(drawable) - len(plotted)} are listed in the downloads."
    if len(drawable) < len(rows):
        description += f" {_plural(len(rows) - len(drawable), 'ratio')} at or below zero cannot be drawn."
    return description


def _reading_notes(plotted: list[_ForestRow], edges: Counter[str]) -> str:
    """How to read the markers and numbers that not every plot has: off-axis values, I² ranges."""
    notes = []
    off, cut = edges["off"], edges["cut"]
    if off:
        notes.append(
            f"{_plural(off, 'estimate')} {'lies' if off == 1 else 'lie'} so far beyond the others that the axis "
            + ("stops short of it: it is" if off == 1 else "stops short of them: each is")
            + " drawn as a triangle at the axis' end, with its value printed beside it."
        )
    if cut:
        notes.append(f"{_plural(cut, 'CI')} {'runs' if cut == 1 else 'run'} past the axis, ending in an arrowhead.")
    i2_kinds = {lines[1] for row in plotted for lines in [_i2_lines(row)] if len(lines) > 1}
    if i2_kinds:
        where = _join(
            [
                *(["“range” is the range the source gives for that estimate"] if "range" in i2_kinds else []),
                *(["“review” is the range across the review's analyses"] if "review" in i2_kinds else []),
            ]
        )
        notes.append(f"Where an estimate has no I² of its own, {where}.")
    return "".join(" " + n for n in notes)


def _table_row(row: _ForestRow) -> tuple[Any, ...]:
    e = row.effect
    return (
        row.record.label,
        e.outcome,
        e.domain,
        e.measure,
        e.estimate,
        _cell(e.ci_low),
        _cell(e.ci_high),
        _i2_cell(row),
        f"{e.improves} is better",
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


def _favours_ev(effect: Effect) -> bool:
    lo, hi = effect.ci_low, effect.ci_high
    if lo is None or hi is None or lo <= effect.null_value <= hi:
        return False
    return benefit_direction(effect) > 0
