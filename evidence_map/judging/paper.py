"""The umbrella review's own ratings (audit/paper-table3.yaml), and why a computed verdict differs.

The engine never reads these: pages and exports set them beside what the rules compute.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace as dc_replace
from functools import cache
from typing import Any

import yaml

from evidence_map.judging.grading import NO_VERDICT, ConditionGrade
from evidence_map.paths import AUDIT
from evidence_map.records.model import Record


def paper_comparison(entry: dict[str, Any], grade: ConditionGrade, records: Iterable[Record] = ()) -> str:
    """Why the computed verdict differs from the paper's rating ("" when it agrees), from the data:
    the counts, what the verdict rests on, what was kept apart, and the paper's own known issues."""
    label = grade.overall.label
    if entry["effectiveness"] == label:
        return ""
    records = list(records)
    causes = []
    added = [r for r in records if r.beyond_source]
    if entry["n_reviews"] != grade.n_reviews:
        text = f"The paper's Table 3 counts {entry['n_reviews']} review(s) here; the map holds {grade.n_reviews}"
        if added:
            text += f", {len(added)} of them added by the map after the umbrella review"
        causes.append(text + ".")
    apart = Counter(flag.split(":")[0] for a in grade.overall.excluded for flag in a.flags)
    if apart:
        causes.append(
            "Kept apart from the rules: "
            + "; ".join(f"{n} estimate(s) {why}" for why, n in sorted(apart.items()))
            + "."
        )
    if label in NO_VERDICT:
        causes.append(
            "No record holds a pooled MSC-EV estimate for this condition with a confidence interval, a p value or a "
            "stated significance, so the rules have nothing to grade; the paper's rating is its authors' reading."
        )
    else:
        originals = [a for a in grade.overall.deciding if a.effect.from_original]
        if originals:
            causes.append(
                f"{len(originals)} of the estimates that decide the verdict were read in the original articles, "
                "not in the umbrella review."
            )
        unknown = [a for a in grade.overall.deciding if a.i2 is None]
        if unknown:
            causes.append(
                f"{len(unknown)} deciding estimate(s) have no reported I², which the map does not treat as consistent."
            )
        causes.append(f"Applied to the estimates the records hold, the rules give {label}: {grade.overall.reason}.")
    if entry.get("note"):
        causes.append(str(entry["note"]))
    return " ".join(causes)


@cache
def _paper() -> dict[str, Any]:
    with open(AUDIT / "paper-table3.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)  # type: ignore[no-any-return]


def paper_table3() -> dict[str, dict[str, Any]]:
    """Table 3's rows by condition id, in the paper's order."""
    return {e["id"]: e for e in _paper()["conditions"]}


def paper_notes() -> list[str]:
    """Disagreements in the paper that concern no single record."""
    return list(_paper().get("paper_notes", []))


def source_only(records: Iterable[Record]) -> list[Record]:
    """The records as the umbrella review alone gives them: its reviews, its own estimates, each counted."""
    out = []
    for r in records:
        if r.beyond_source:
            continue
        effects = tuple(dc_replace(e, graded=True, not_graded_because=None) for e in r.effects if not e.from_original)
        out.append(dc_replace(r, effects=effects))
    return out
