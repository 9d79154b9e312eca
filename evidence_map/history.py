"""How the map changed: record additions and updates, and the verdicts they changed.

Records carry only their current content and their `added`/`updated` dates, so verdict changes
are found by replaying the records in the order they were added and grading after each date.
The first date is the starting point, not a change.
"""

from __future__ import annotations

from dataclasses import dataclass

from .evidence import Evidence
from .grading import grade_all


@dataclass(frozen=True)
class VerdictChange:
    date: str
    condition: str
    before: str
    after: str
    added: tuple[str, ...]  # ids of the records added on that date, on this condition


def verdict_changes(evidence: Evidence) -> list[VerdictChange]:
    """Every change of a condition's overall verdict, newest first."""
    conditions = evidence.vocab.conditions.ids
    dates = sorted({r.added for r in evidence.records})
    changes: list[VerdictChange] = []
    previous = None
    for date in dates:
        current = grade_all(conditions, [r for r in evidence.records if r.added <= date])
        if previous is not None:
            for cid in conditions:
                before, after = previous[cid].overall.label, current[cid].overall.label
                if before != after:
                    added = tuple(r.id for r in evidence.records if r.added == date and cid in r.conditions)
                    changes.append(VerdictChange(date, cid, before, after, added))
        previous = current
    return sorted(changes, key=lambda c: (c.date, c.condition), reverse=True)


def last_update(evidence: Evidence, condition: str | None = None, source: str | None = None) -> str | None:
    """The newest `updated` date among the records on a condition or source (or all records)."""
    dates = [
        r.updated
        for r in evidence.records
        if (condition is None or condition in r.conditions) and (source is None or source in r.sources)
    ]
    return max(dates, default=None)
