"""The x axis of a forest-plot panel: its range, its ticks, and where a value beyond the range is drawn.

One far-out estimate would squeeze every other row of its panel into a few pixels, so a value much
further from no effect than the panel's others is left off the axis and drawn at its edge, marked
(forest.py prints its number there). Everything else decides the range, which always holds no effect.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from evidence_map.publishing.charts.base import FOREST_OFF_SCALE

BELOW, INSIDE, ABOVE = -1, 0, 1


@dataclass(frozen=True)
class PanelAxis:
    """The range a panel shows and its tick values."""

    low: float
    high: float
    ticks: tuple[float, ...]

    def side(self, value: float) -> int:
        """BELOW, INSIDE or ABOVE the range."""
        return BELOW if value < self.low else ABOVE if value > self.high else INSIDE

    def place(self, value: float) -> float:
        """Where a value is drawn: itself, or the edge it lies beyond."""
        return min(max(value, self.low), self.high)


def panel_axis(values: Iterable[float], ratio: bool) -> PanelAxis:
    """The axis for a panel's estimates and CI bounds: log for ratios (1 = no effect), else linear (0)."""
    kept = on_scale(list(values), ratio)
    return _ratio_axis(kept) if ratio else _linear_axis(kept)


def on_scale(values: list[float], ratio: bool) -> list[float]:
    """The values the axis must hold: all but those more than FOREST_OFF_SCALE times as far from no
    effect as the panel's median value (a log distance for ratios)."""

    def distance(v: float) -> float:
        return abs(math.log(v)) if ratio else abs(v)

    if not values:
        return values
    typical = statistics.median(distance(v) for v in values)
    if typical == 0:
        return values
    return [v for v in values if distance(v) <= FOREST_OFF_SCALE * typical]


def _linear_axis(values: list[float]) -> PanelAxis:
    """A range from round numbers, holding every value and 0, in at most 6 equal steps."""
    lo, hi = min([*values, 0.0]), max([*values, 0.0])
    if lo == hi:
        hi = 1.0
    span = hi - lo
    scale = 10.0 ** math.floor(math.log10(span / 6))
    for step in (m * scale for m in (1, 2, 2.5, 5, 10, 20)):
        first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
        if last - first <= 6:
            break
    ticks = tuple(round(k * step, 10) + 0.0 for k in range(first, last + 1))
    return PanelAxis(ticks[0], ticks[-1], ticks)


def _ratio_axis(values: list[float]) -> PanelAxis:
    """A log range holding every value and no effect (1), with ticks at 1, 2 and 5 times powers of 10."""
    values = [v for v in values if v > 0] + [1.0]
    lo, hi = min(values) / 1.3, max(values) * 1.3
    ticks = [m * 10.0**k for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1) for m in (1, 2, 5)]
    ticks = [t for t in ticks if lo <= t <= hi]
    if len(ticks) > 7:
        ticks = [t for t in ticks if math.isclose(math.log10(t) % 1, 0, abs_tol=1e-9) or t == 1.0]
    return PanelAxis(lo, hi, tuple(ticks))
