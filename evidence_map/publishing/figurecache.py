"""The figures of the last build, kept by what their builders read: after a one-record edit, only
the charts of that record's conditions and EV sources are built again.

To find each chart's drawing in the chart cache (chartrender.py), a build makes every figure and
its Vega-Lite spec: at 2,000 reviews about a second of every build, though an edit changes a handful
of charts. A figure is kept under a key made of the project by content and the map's vocabularies
(inputs.made_with) and of what its builder reads:

- a condition's forest plot: the records on the condition (every field, by their repr), the rules
  they are assessed by and the vocabularies (the names it shows);
- an EV source's chart: how many reviews include the source and how many of them cover each
  condition (charts.source.source_coverage), and the vocabularies.

The overview figures read the whole map and are made in every build. A kept figure carries its spec,
and the spec's key in the chart cache, in place of its Altair chart (chartrender.KeptSpec). The
entries are one file in the work folder holding those the last build used; a key that differs in
anything is another entry, so an entry is never stale.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from evidence_map.files import replace_file
from evidence_map.judging.computed import ComputedMap
from evidence_map.publishing.chartrender import KeptSpec
from evidence_map.publishing.charts import Figure, forest_figure, unchecked
from evidence_map.publishing.charts.source import coverage_figure, source_coverage
from evidence_map.publishing.inputs import digest, made_with
from evidence_map.records.model import Record

VERSION = "figures 1"
FILE = "figures.pickle"


class FigureCache:
    """The figures of the last build, in `folder`/figures.pickle."""

    def __init__(self, folder: Path, computed: ComputedMap, made: str | None = None) -> None:
        """`made`: inputs.made_with of the map's vocabularies, when the build has it already."""
        self.path = folder / FILE
        self._computed = computed
        self._base = digest(VERSION, made or made_with(computed.vocab), repr(computed.rules))
        try:
            self._kept: dict[str, Figure | None] = pickle.loads(self.path.read_bytes())
        except (OSError, pickle.PickleError, EOFError, ValueError, AttributeError, ImportError):
            self._kept = {}
        self._used: dict[str, Figure | None] = {}
        self._reprs: dict[int, str] = {}  # a record is on several conditions: its repr made once
        self.made = self.reused = 0

    def forest(self, condition_id: str) -> Figure | None:
        """charts.forest_figure of the condition."""
        records = self._computed.evidence.for_condition(condition_id)
        key = digest(self._base, "forest", condition_id, *(self._repr(r) for r in records))
        return self._figure(key, lambda: forest_figure(condition_id, self._computed))

    def source(self, source_id: str) -> Figure | None:
        """charts.source_figure of the EV source."""
        evidence = self._computed.evidence
        n_reviews, counts = source_coverage(source_id, evidence)
        key = digest(self._base, "source", source_id, n_reviews, sorted(counts.items()))
        return self._figure(key, lambda: coverage_figure(source_id, n_reviews, counts, evidence.vocab))

    def _repr(self, record: Record) -> str:
        text = self._reprs.get(id(record))
        if text is None:
            text = self._reprs[id(record)] = repr(record)
        return text

    def _figure(self, key: str, build: Callable[[], Figure | None]) -> Figure | None:
        if key in self._kept:
            figure = self._kept[key]
            self.reused += 1
        else:
            with unchecked():
                made = build()
            figure = None if made is None else replace(made, chart=KeptSpec(made.chart.to_dict(validate=False)))
            self.made += 1
        self._used[key] = figure
        return figure

    def save(self) -> None:
        """Keep the figures this build used, and only those."""
        if self._used.keys() == self._kept.keys():
            return
        replace_file(self.path, pickle.dumps(self._used, pickle.HIGHEST_PROTOCOL))
