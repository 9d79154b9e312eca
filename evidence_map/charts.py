"""Charts drawn from the records with Altair: data in, Vega-Lite chart out.

Every builder is pure and deterministic: it reads the validated model (and, for the verdict
heatmap, the computed grades), never edits it, and sorts everything it draws in a stable order,
so the same records always give the same spec. Each chart comes with a text description and a
table of the same numbers (a `Figure`), for readers who cannot or would rather not read a chart.
Rendering to SVG lives in `chartrender`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
from altair.utils.schemapi import debug_mode

from .chartlinks import reviews_view, site_link
from .evidence import Evidence
from .grading import DOMAINS, HETEROGENEOUS, HIGH, INSUFFICIENT, LOW, MODERATE, RULES, VERDICTS, ConditionGrade, assess
from .grading import direction as benefit_direction
from .model import RATIO_MEASURES, Effect, Record
from .rules import Rules, fmt
from .vocab import Vocabularies

# --- look -------------------------------------------------------------------------------------

FONT = "Helvetica, Arial, 'Liberation Sans', sans-serif"
INK = "#222222"
GRID = "#e3e3e3"
CONTENT_WIDTH = 680  # the site's content column, in px

# Okabe & Ito (2008), "Color Universal Design": distinguishable with the common colour-vision deficiencies.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky-blue": "#56B4E9",
    "bluish-green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish-purple": "#CC79A7",
    "black": "#000000",
}

VERDICT_COLOURS: dict[str, str] = {
    HIGH: OKABE_ITO["bluish-green"],
    MODERATE: OKABE_ITO["sky-blue"],
    HETEROGENEOUS: OKABE_ITO["orange"],
    LOW: OKABE_ITO["reddish-purple"],
    INSUFFICIENT: "#D9D9D9",
}
assert tuple(VERDICT_COLOURS) == VERDICTS

# What the heatmap writes in each cell, so that colour is not the only encoding.
VERDICT_ABBREVIATIONS: dict[str, str] = {
    HIGH: "High",
    MODERATE: "Mod",
    HETEROGENEOUS: "Het",
    LOW: "Low",
    INSUFFICIENT: "–",
}

# Paul Tol's "muted" scheme (colour-blind safe), with a mid grey as a tenth colour; organ systems
# take these in the order vocab/conditions.yaml lists its categories.
ORGAN_PALETTE = (
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
    "#888888",
)

AMSTAR2_RATINGS = {
    "high": "High",
    "moderate": "Moderate",
    "low": "Low",
    "critically-low": "Critically low",
    "not-rated": "Not rated",
}
FLAWS_NONE = "No critical flaws"
FLAWS_SOME = "One or more critical flaws"
FLAWS_NOT_REPORTED = "Critical flaws not reported"
FLAW_COLOURS = {
    FLAWS_NONE: OKABE_ITO["bluish-green"],
    FLAWS_SOME: OKABE_ITO["vermillion"],
    FLAWS_NOT_REPORTED: "#BBBBBB",
}

ROB_RATINGS = {
    "low": "Low",
    "low-moderate": "Low to moderate",
    "moderate": "Moderate",
    "moderate-high": "Moderate to high",
    "high": "High",
    "unclear": "Unclear",
    "not-reported": "Not reported",
}
ROB_COLOURS = {
    "Low": OKABE_ITO["blue"],
    "Low to moderate": OKABE_ITO["sky-blue"],
    "Moderate": OKABE_ITO["orange"],
    "Moderate to high": OKABE_ITO["vermillion"],
    "High": "#882255",
    "Unclear": "#999999",
    "Not reported": "#DDDDDD",
}

GAP_FILLED = OKABE_ITO["blue"]
GAP_HOLLOW = OKABE_ITO["vermillion"]
QUALIFYING_AMSTAR2 = ("high", "moderate")
GAP_QUALIFYING = "At least one qualifying review"
GAP_NONE_QUALIFYING = "Reviews, none qualifying"

BAR_STEP = 18
HEATMAP_STEP = 20
GAP_STEP = 20
FOREST_STEP = 34
FOREST_LABEL_WIDTH = 210
FOREST_PLOT_WIDTH = 230
# At most this many effects in one forest plot. Past it a plot is too tall to read (34 px a row),
# its SVG outgrows a page (about 1.5 KB a row) and Vega can no longer compile it; the plot then
# shows the effects of the reviews that pool the most primary studies and says how many it leaves out.
FOREST_MAX_ROWS = 60

# Measures that may share an axis; the families never do. Ratios go on a log scale.
FOREST_FAMILIES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("smd", ("SMD",), "Standardized mean difference (SMD)"),
    ("wmd", ("WMD",), "Weighted mean difference (WMD)"),
    ("md", ("MD",), "Mean difference (MD)"),
    ("ratio", tuple(sorted(RATIO_MEASURES)), "Ratio: " + ", ".join(sorted(RATIO_MEASURES)) + " (log scale)"),
)
assert {m for _, ms, _ in FOREST_FAMILIES for m in ms} == {"SMD", "WMD", "MD"} | RATIO_MEASURES
RAW_FAMILIES = frozenset({"wmd", "md"})  # in the outcome's own unit: one panel per unit


@dataclass(frozen=True)
class Figure:
    """A chart, what it shows in words, and the same numbers as a table."""

    name: str  # file-safe stem
    title: str
    description: str  # one or two sentences, computed from the data
    chart: Any  # an Altair top-level chart or top-level spec (forest plots: see _forest_panel)
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    interactive: bool = False  # its marks link to pages (shown as an <object>, not an <img>)

    def spec(self) -> dict[str, Any]:
        """The Vega-Lite spec, as a plain dict, checked against the Vega-Lite schema."""
        return dict(self.chart.to_dict())


# --- helpers ----------------------------------------------------------------------------------


def _finish(chart: Any) -> Any:
    """The shared look: white background (readable in the site's dark palette too), one font.

    The whole configuration is set in one step: each of Altair's `configure_*` methods copies the
    chart with all its data, which cost six deep copies per chart, most of the time spent building
    a large forest plot. The chart is one the caller has just built, so setting it in place is safe.
    """
    chart.config = alt.Config(
        # No ARIA attributes on each mark and guide: the SVG's root has role="img" with a title and
        # a description (chartrender), which makes everything inside it presentational, and the
        # numbers are in a table beside the chart. They were over half of a large chart's bytes.
        aria=False,
        background="white",
        font=FONT,
        padding=8,
        view=alt.ViewConfig(stroke=None),
        axis=alt.AxisConfig(
            labelFont=FONT,
            titleFont=FONT,
            labelFontSize=11,
            titleFontSize=11,
            labelColor=INK,
            titleColor=INK,
            titleFontWeight="normal",
            domainColor="#888888",
            tickColor="#888888",
            gridColor=GRID,
        ),
        legend=alt.LegendConfig(
            labelFont=FONT,
            titleFont=FONT,
            labelFontSize=11,
            titleFontSize=11,
            labelColor=INK,
            titleColor=INK,
            titleFontWeight="normal",
            labelLimit=260,
        ),
        header=alt.HeaderConfig(labelFont=FONT, titleFont=FONT, labelColor=INK, titleColor=INK),
        title=alt.TitleConfig(font=FONT, fontSize=12, color=INK, anchor="start", fontWeight="bold"),
    )
    return chart


def _data(rows: Sequence[Mapping[str, Any]]) -> alt.Data:
    # A tuple, not a list: Altair deep-copies lists and dicts every time a chart is layered,
    # concatenated or encoded, but passes a tuple by reference (and writes it out as a list).
    return alt.Data(values=tuple(dict(r) for r in rows))


def _num(value: float) -> str:
    """A number as published (no invented precision), with a true minus sign."""
    text = f"{value:.6g}"
    return text.replace("-", "−")


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _leaders(counts: Mapping[str, int], noun: str) -> str:
    """'X has the most reviews (7)' or 'X and Y have the most reviews (3 each)'."""
    top = max(counts.values())
    names = [k for k, v in counts.items() if v == top]
    if len(names) == 1:
        return f"{names[0]} has the most {noun} ({top})"
    return f"{_join(names)} have the most {noun} ({top} each)"


def _count_ticks(top: int) -> list[int]:
    """Whole-number ticks for a count axis, with room past the largest bar for its label."""
    step = next((st for st in (1, 2, 5, 10, 20, 50, 100, 200, 500) if top / st <= 10), 1000)
    end = (math.floor(top * 1.1 / step) + 1) * step
    return list(range(0, end + 1, step))


def _count_scale(top: int) -> alt.Scale:
    return alt.Scale(domain=[0, _count_ticks(top)[-1]], nice=False)


def _count_axis(top: int, grid: bool = True) -> alt.Axis:
    return alt.Axis(values=_count_ticks(top), format="d", grid=grid)


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def text_colour_on(hex_colour: str) -> str:
    """Black or white, whichever contrasts more with the fill (WCAG contrast ratio)."""
    lum = _luminance(hex_colour)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#FFFFFF"


def organ_colours(vocab: Vocabularies) -> dict[str, str]:
    """One fixed colour per organ system (by display name), stable as records are added."""
    return {name: ORGAN_PALETTE[i % len(ORGAN_PALETTE)] for i, name in enumerate(vocab.categories.values())}


def _scale(mapping: Mapping[str, str], used: Iterable[str]) -> alt.Scale:
    """A colour scale over the categories in use, keeping each category's fixed colour."""
    used = set(used)
    domain = [k for k in mapping if k in used]
    return alt.Scale(domain=domain, range=[mapping[k] for k in domain])


def qualifies(record: Record, rules: Rules = RULES) -> bool:
    """For the gap map: AMSTAR-2 high or moderate, and a reported I² below the rules' limit."""
    i2 = record.i2_max
    return record.amstar2_rating in QUALIFYING_AMSTAR2 and i2 is not None and i2 < rules.i2_limit


# --- overview ---------------------------------------------------------------------------------


def _condition_bars(counts: Mapping[str, int], evidence: Evidence, *, show_zero: bool) -> tuple[Any, list[tuple]]:
    """Horizontal bars of reviews per condition, coloured by organ system; returns chart and rows."""
    v = evidence.vocab
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
    chart, rows = _condition_bars(counts, evidence, show_zero=True)
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


def verdict_heatmap(evidence: Evidence, grades: Mapping[str, ConditionGrade]) -> Figure:
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
    graded = [f"{counts[k]} {k}" for k in VERDICTS if k != INSUFFICIENT and counts[k]]
    total = len(cells)
    if graded:
        description = (
            f"Computed verdicts for {len(order)} conditions across {len(DOMAINS)} outcome domains: "
            f"{total - counts[INSUFFICIENT]} of {total} cells can be graded ({_join(graded)}); "
            f"the other {counts[INSUFFICIENT]} are Insufficient data."
        )
    else:
        description = (
            f"None of the {total} condition and outcome-domain cells can be graded yet: all are Insufficient data."
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


def gap_map(evidence: Evidence, rules: Rules = RULES) -> Figure:
    v = evidence.vocab
    used = {s for r in evidence.records for s in r.sources}
    sources = [s for s in v.sources.ids if s in used]
    source_names = [v.sources.get(s).name for s in sources]
    condition_names = [v.conditions.get(c).name for c in v.conditions.ids]
    grid: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    rows: list[tuple[str, str, int, int]] = []
    for s, s_name in zip(sources, source_names, strict=True):
        for c, c_name in zip(v.conditions.ids, condition_names, strict=True):
            grid.append({"source": s_name, "condition": c_name})
            reviews = [r for r in evidence.records if s in r.sources and c in r.conditions]
            if not reviews:
                continue
            good = sum(1 for r in reviews if qualifies(r, rules))
            kind = GAP_QUALIFYING if good else GAP_NONE_QUALIFYING
            marks.append(
                {
                    "source": s_name,
                    "condition": c_name,
                    "reviews": len(reviews),
                    "qualifying": good,
                    "kind": kind,
                    "link": site_link(reviews_view(c, s)),
                    "tip": f"{s_name} in {c_name}: {_plural(len(reviews), 'review')}, {good} qualifying. "
                    "Open them in the reviews table.",
                }
            )
            rows.append((s_name, c_name, len(reviews), good))

    x = alt.X(
        "source:N",
        sort=source_names,
        scale=alt.Scale(domain=source_names),
        title="EV source",
        axis=alt.Axis(orient="top", labelAngle=-50, labelAlign="left", labelLimit=190, ticks=False, domain=False),
    )
    y = alt.Y(
        "condition:N",
        sort=condition_names,
        scale=alt.Scale(domain=condition_names),
        title=None,
        axis=alt.Axis(labelLimit=220, ticks=False, domain=False),
    )
    cells = alt.Chart(_data(grid)).mark_rect(fill="white", stroke=GRID, strokeWidth=1).encode(x=x, y=y)
    # One filled circle a pair with reviews: its area counts the reviews, its colour says whether at
    # least one of them qualifies. Each links to those reviews and names them in a tooltip.
    most = max((m["reviews"] for m in marks), default=1)
    sizes = sorted({1, most, *(m["reviews"] for m in marks)})
    if len(sizes) > 4:
        sizes = [sizes[0], sizes[len(sizes) // 2], sizes[-1]]
    size = alt.Size(
        "reviews:Q",
        title="Reviews",
        scale=alt.Scale(domain=[0, max(most, 3)], range=[0, 330]),
        legend=alt.Legend(
            orient="bottom", values=sizes, format="d", symbolFillColor="#888888", symbolStrokeWidth=0, padding=16
        ),
    )
    colour = alt.Color(
        "kind:N",
        title=f"Qualifying: AMSTAR-2 high or moderate, I² < {fmt(rules.i2_limit)}%",
        scale=alt.Scale(domain=[GAP_QUALIFYING, GAP_NONE_QUALIFYING], range=[GAP_FILLED, GAP_HOLLOW]),
        legend=alt.Legend(orient="bottom", direction="vertical", symbolType="circle", titleLimit=320),
    )
    layers = [cells]
    if marks:
        layers.append(
            alt.Chart(_data(marks))
            .mark_point(shape="circle", filled=True, opacity=1, aria=True)
            .encode(
                x=x,
                y=y,
                size=size,
                color=colour,
                href=alt.Href("link:N"),
                description=alt.Description("tip:N"),
            )
        )
    chart = alt.layer(*layers).properties(width=alt.Step(GAP_STEP), height=alt.Step(GAP_STEP))

    n_cells = len(sources) * len(condition_names)
    good_cells = sum(1 for m in marks if m["qualifying"])
    if marks:
        busiest = max(rows, key=lambda row: row[2])  # the first of equals, in grid order
        description = (
            f"{len(marks)} of {n_cells} EV source and condition pairs have at least one review: "
            f"{good_cells} with a review rated high or moderate by AMSTAR-2 and I² below {fmt(rules.i2_limit)}% "
            "(blue circles), "
            f"{len(marks) - good_cells} with reviews of which none is (orange circles); a circle's area counts "
            "the reviews. "
            f"The most reviewed pair is {busiest[0]} in {busiest[1]} ({_plural(busiest[2], 'review')})."
        )
    else:
        description = "No reviews yet, so every EV source and condition pair is a gap."
    return Figure(
        name="evidence-gap-map",
        title="Evidence gap map: EV source by condition",
        description=description,
        chart=_finish(chart),
        columns=("EV source", "Condition", "Reviews", f"Reviews rated high/moderate with I² < {fmt(rules.i2_limit)}%"),
        rows=tuple(rows),
        interactive=True,
    )


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
    "evidence-gap-map",
    "amstar2",
    "risk-of-bias",
    "reviews-per-year",
)


def overview_figures(evidence: Evidence, grades: Mapping[str, ConditionGrade]) -> list[Figure]:
    """The figures of the overview page, in page order."""
    return [
        reviews_per_condition(evidence),
        verdict_heatmap(evidence, grades),
        gap_map(evidence),
        amstar2_figure(evidence),
        risk_of_bias_figure(evidence),
        reviews_per_year(evidence),
    ]


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
    text = _num(effect.estimate)
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


def forest_figure(condition_id: str, evidence: Evidence) -> Figure | None:
    """A forest plot of every pooled effect for one condition; None when there is none."""
    v = evidence.vocab
    name = v.conditions.get(condition_id).name
    records = sorted(
        evidence.for_condition(condition_id), key=lambda r: (r.first_author.lower(), r.label.lower(), r.id)
    )
    pairs = [(r, e) for r in records for e in r.effects_for(condition_id)]
    if not pairs:
        return None
    seen: Counter[str] = Counter()
    rows: list[_ForestRow] = []
    for r, e in pairs:
        # A flagged estimate (outside its CI, an implausible SMD) is drawn as published, marked.
        label = f"{r.label} · {e.outcome}" + (" (⚠ not graded)" if assess(r, e).flags else "")
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


# --- per source -------------------------------------------------------------------------------


def source_figure(source_id: str, evidence: Evidence) -> Figure | None:
    """Conditions covered by the reviews that include one EV source; None when no review does."""
    records = evidence.for_source(source_id)
    if not records:
        return None
    name = evidence.vocab.sources.get(source_id).name
    counts = Counter(c for r in records for c in r.conditions)
    chart, rows = _condition_bars(counts, evidence, show_zero=False)
    leaders = _leaders({n: k for n, _, k in rows}, "reviews")
    description = (
        f"{_plural(len(records), 'review')} include {name}, covering {_plural(len(rows), 'condition')}; {leaders}."
    )
    return Figure(
        name=f"source-{source_id}",
        title=f"Conditions studied in reviews that include {name}",
        description=description,
        chart=_finish(chart),
        columns=("Condition", "Organ system", "Reviews"),
        rows=tuple(rows),
    )
