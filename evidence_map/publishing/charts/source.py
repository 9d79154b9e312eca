"""The figure of one EV source: the conditions its reviews cover."""

from __future__ import annotations

from collections import Counter

from evidence_map.publishing.charts.base import Figure, _finish, _leaders, _plural
from evidence_map.publishing.charts.overview import _condition_bars
from evidence_map.records.evidence import Evidence

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
