"""How the map changed: record additions and updates, and the verdicts they changed.

Records carry only their current content and their `added`/`updated` dates, so verdict changes
are found by replaying the records in the order they were added and grading after each date.
The first date is the starting point, not a change.
"""

from __future__ import annotations

from dataclasses import dataclass

from evidence_map.judging.grading import RULES, Assessed, assess, verdict
from evidence_map.judging.rules import Rules
from evidence_map.records.evidence import Evidence
from evidence_map.records.model import Record


@dataclass(frozen=True)
class VerdictChange:
    date: str
    condition: str
    before: str
    after: str
    added: tuple[str, ...]  # ids of the records added on that date, on this condition


def verdict_changes(evidence: Evidence, rules: Rules = RULES) -> list[VerdictChange]:
    """Every change of a condition's overall verdict, newest first.

    A condition's verdict depends only on the effects on that condition, so each effect is
    assessed once, and after each date only the conditions the date's records touch are graded.
    """
    conditions = evidence.vocab.conditions.ids
    by_date: dict[str, list[Record]] = {}
    for r in evidence.records:
        by_date.setdefault(r.added, []).append(r)
    assessed: dict[str, list[Assessed]] = {c: [] for c in conditions}
    labels: dict[str, str] = {}
    changes: list[VerdictChange] = []
    for i, date in enumerate(sorted(by_date)):
        new = by_date[date]
        for r in new:
            for c in r.conditions:
                assessed[c] += [assess(r, e, rules) for e in r.effects_for(c)]
        touched = conditions if i == 0 else [c for c in conditions if any(c in r.conditions for r in new)]
        for cid in touched:
            before, after = labels.get(cid), verdict(assessed[cid], rules).label
            labels[cid] = after
            if i and before != after:
                added = tuple(r.id for r in new if cid in r.conditions)
                changes.append(VerdictChange(date, cid, str(before), after, added))
    return sorted(changes, key=lambda c: (c.date, c.condition), reverse=True)


def last_update(evidence: Evidence, condition: str | None = None, source: str | None = None) -> str | None:
    """The newest `updated` date among the records on a condition or source (or all records)."""
    dates = [
        r.updated
        for r in evidence.records
        if (condition is None or condition in r.conditions) and (source is None or source in r.sources)
    ]
    return max(dates, default=None)
