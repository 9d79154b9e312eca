"""Charts drawn from the records with Altair: data in, Vega-Lite chart out.

Every builder is pure and deterministic: it reads the records or the computed map
(judging/computed.py), never edits them, and sorts everything it draws in a stable order, so the
same records always give the same spec. Each chart comes with a text description and a
table of the same numbers (a `Figure`), for readers who cannot or would rather not read a chart.
Rendering to SVG lives in `chartrender`.

One module a family of figures: `base` (look, Figure, helpers), `overview` (the home page's charts
and the registry of their names), `quality`, `forest` (a condition's forest plot, drawn a panel at a
time by `forestpanel` on an axis from `forestaxis`) and `source`; `textfit` wraps text to a width.
Adding a figure is a builder in one of them and its name in `overview.OVERVIEW_FIGURES` (or the
condition-/source- families); a template asking for any other name stops the build. A forest plot
or source chart is kept between builds under a key of what its builder reads (figurecache.py): a
builder that comes to read more of the map adds it to that key.
"""

from evidence_map.publishing.charts.base import (
    AMSTAR2_RATINGS,
    BAR_STEP,
    CONTENT_WIDTH,
    FLAW_COLOURS,
    FLAWS_NONE,
    FLAWS_NOT_REPORTED,
    FLAWS_SOME,
    FONT,
    FOREST_FAMILIES,
    FOREST_FONT_SIZE,
    FOREST_LABEL_WIDTH,
    FOREST_LINE,
    FOREST_MAX_ROWS,
    FOREST_OFF_SCALE,
    FOREST_PLOT_WIDTH,
    FOREST_STEP,
    GRID,
    HEATMAP_STEP,
    INK,
    OKABE_ITO,
    ORGAN_PALETTE,
    RAW_FAMILIES,
    ROB_COLOURS,
    ROB_RATINGS,
    VERDICT_ABBREVIATIONS,
    VERDICT_COLOURS,
    Figure,
    organ_colours,
    text_colour_on,
    unchecked,
)
from evidence_map.publishing.charts.forest import forest_figure
from evidence_map.publishing.charts.forestpanel import WITH_CI, WITHOUT_CI
from evidence_map.publishing.charts.overview import (
    OVERVIEW_FIGURES,
    overview_figures,
    reviews_per_condition,
    reviews_per_year,
    verdict_heatmap,
)
from evidence_map.publishing.charts.quality import amstar2_figure, risk_of_bias_figure
from evidence_map.publishing.charts.source import source_figure

__all__ = [
    "AMSTAR2_RATINGS",
    "BAR_STEP",
    "CONTENT_WIDTH",
    "FLAWS_NONE",
    "FLAWS_NOT_REPORTED",
    "FLAWS_SOME",
    "FLAW_COLOURS",
    "FONT",
    "FOREST_FAMILIES",
    "FOREST_FONT_SIZE",
    "FOREST_LABEL_WIDTH",
    "FOREST_LINE",
    "FOREST_MAX_ROWS",
    "FOREST_OFF_SCALE",
    "FOREST_PLOT_WIDTH",
    "FOREST_STEP",
    "GRID",
    "HEATMAP_STEP",
    "INK",
    "OKABE_ITO",
    "ORGAN_PALETTE",
    "OVERVIEW_FIGURES",
    "RAW_FAMILIES",
    "ROB_COLOURS",
    "ROB_RATINGS",
    "VERDICT_ABBREVIATIONS",
    "VERDICT_COLOURS",
    "WITHOUT_CI",
    "WITH_CI",
    "Figure",
    "amstar2_figure",
    "forest_figure",
    "organ_colours",
    "overview_figures",
    "reviews_per_condition",
    "reviews_per_year",
    "risk_of_bias_figure",
    "source_figure",
    "text_colour_on",
    "unchecked",
    "verdict_heatmap",
]
