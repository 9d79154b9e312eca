"""Shared look (colours, sizes), the Figure a builder returns, and helpers every chart uses."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import altair as alt
from altair.utils.schemapi import debug_mode

from evidence_map.judging.grading import HETEROGENEOUS, HIGH, INSUFFICIENT, LOW, MODERATE, NO_REVIEWS, VERDICTS
from evidence_map.records.model import RATIO_MEASURES
from evidence_map.records.vocab import Vocabularies

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
    INSUFFICIENT: "#D9D9D9",  # reviews exist, nothing gradable: a reporting gap
    NO_REVIEWS: "#F7F7F7",  # no review at all: a research gap
}
assert tuple(VERDICT_COLOURS) == VERDICTS

# What the heatmap writes in each cell, so that colour is not the only encoding.
VERDICT_ABBREVIATIONS: dict[str, str] = {
    HIGH: "High",
    MODERATE: "Mod",
    HETEROGENEOUS: "Het",
    LOW: "Low",
    INSUFFICIENT: "no est.",
    NO_REVIEWS: "none",
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


BAR_STEP = 18
HEATMAP_STEP = 20
FOREST_LINE = 13  # px from one line of a forest plot's text to the next
FOREST_STEP = 34  # a row of two lines; a row whose label wraps further is taller
FOREST_LABEL_WIDTH = 210
FOREST_PLOT_WIDTH = 230
FOREST_FONT_SIZE = 11
# A value more than this many times as far from no effect as its panel's median is drawn at the
# edge of the axis, marked and with its number, instead of stretching the axis (forestaxis.py).
FOREST_OFF_SCALE = 4
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


# The text of axes and legends alike.
GUIDE_TEXT: dict[str, Any] = {
    "labelFont": FONT,
    "titleFont": FONT,
    "labelFontSize": 11,
    "titleFontSize": 11,
    "labelColor": INK,
    "titleColor": INK,
    "titleFontWeight": "normal",
}


@contextmanager
def unchecked() -> Iterator[None]:
    """Build charts without Altair checking each part against the schema as it is made: a third of
    the time of building the site's charts at 2,000 reviews. The tests check every figure's whole
    spec (Figure.spec, which checks by default), builders being deterministic."""
    with debug_mode(False):
        yield


def _finish(chart: Any, left: int = 40) -> Any:
    """The shared look: white background (readable in the site's dark palette too), one font.

    The whole configuration is set in one step: each of Altair's `configure_*` methods copies the
    chart with all its data, which cost six deep copies per chart, most of the time spent building
    a large forest plot. The chart is one the caller has just built, so setting it in place is safe.
    """
    chart.config = alt.Config(
        # No ARIA attributes on each mark and guide: the SVG's root has role="img" with a title and
        # a description (chartrender), which makes everything inside it presentational, and the
        # numbers are in a table beside the chart. They were over half of a large chart's bytes.
        # Marks are hidden as well: a mark group keeps a role but gets no name, which fails the
        # accessibility check of an SVG opened on its own. Marks that link (aria=True) still speak.
        aria=False,
        mark=alt.MarkConfig(aria=False),
        background="white",
        font=FONT,
        # More room on the left: axis labels are measured with Helvetica's widths, and a browser
        # drawing them in a wider fallback font (DejaVu Sans, up to 17% wider) would push a long
        # right-aligned label ("Intervertebral Disc Degeneration") past the drawing's left edge.
        # (The forest plot sets its labels in a column of its own, measured with that margin.)
        padding={"left": left, "top": 8, "right": 8, "bottom": 8},
        view=alt.ViewConfig(stroke=None),
        axis=alt.AxisConfig(
            **GUIDE_TEXT,
            domainColor="#888888",
            tickColor="#888888",
            gridColor=GRID,
        ),
        legend=alt.LegendConfig(
            **GUIDE_TEXT,
            labelLimit=260,
        ),
        header=alt.HeaderConfig(labelFont=FONT, titleFont=FONT, labelColor=INK, titleColor=INK),
        title=alt.TitleConfig(font=FONT, fontSize=12, color=INK, anchor="start", fontWeight="bold"),
    )
    return chart


class _Rows:
    """A chart's rows, which Altair writes out as they are: as a plain list, it would walk every
    value of every row (and copy them at each layer), most of the time of writing a large chart's
    spec. Altair takes any object with a `_schema` and a `to_dict` this way (its SchemaLike)."""

    _schema: ClassVar[dict[str, str]] = {"type": "array"}

    def __init__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self._rows = [dict(r) for r in rows]

    def to_dict(self) -> list[dict[str, Any]]:
        return self._rows


def _data(rows: Sequence[Mapping[str, Any]]) -> alt.Data:
    return alt.Data(values=_Rows(rows))


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
