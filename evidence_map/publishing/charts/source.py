"""The figure of one EV source: the conditions its reviews cover."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from evidence_map.publishing.charts.base import Figure, _finish, _leaders, _plural
from evidence_map.publishing.charts.overview import _condition_bars
from evidence_map.records.evidence import Evidence
from evidence_map.records.vocab import Vocabularies

# --- per source -------------------------------------------------------------------------------


def source_figure(source_id: str, evidence: Evidence) -> Figure | None:
    """Conditions covered by the reviews that include one EV source; None when no review does."""
    n_reviews, counts = source_coverage(source_id, evidence)
    return coverage_figure(source_id, n_reviews, counts, evidence.vocab)


def source_coverage(source_id: str, evidence: Evidence) -> tuple[int, Counter[str]]:
    """All that a source's figure reads of the records: how many reviews include the source, and
    how many of them cover each condition (the kept figures are keyed by it: figurecache.py)."""
    records = evidence.for_source(source_id)
    return len(records), Counter(c for r in records for c in r.conditions)


def coverage_figure(source_id: str, n_reviews: int, counts: Mapping[str, int], vocab: Vocabularies) -> Figure | None:
    """The figure of `source_coverage`; None when no review includes the source."""
    if not n_reviews:
        return None
    name = vocab.sources.get(source_id).name
    chart, rows = _condition_bars(counts, vocab, show_zero=False)
    leaders = _leaders({n: k for n, _, k in rows}, "reviews")
    description = (
        f"{_plural(n_reviews, 'review')} include {name}, covering {_plural(len(rows), 'condition')}; {leaders}."
    )
    return Figure(
        name=f"source-{source_id}",
        title=f"Conditions studied in reviews that include {name}",
        description=description,
        chart=_finish(chart),
        columns=("Condition", "Organ system", "Reviews"),
        rows=tuple(rows),
    )
