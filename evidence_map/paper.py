"""The umbrella review's own ratings (audit/paper-table3.yaml), and why a computed verdict differs.

The engine never reads these: pages and exports set them beside what the rules compute.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from .grading import ConditionGrade
from .paths import AUDIT


def paper_comparison(entry: dict[str, Any], grade: ConditionGrade) -> str:
    """One sentence on why the computed verdict differs from the paper's rating ("" when it agrees)."""
    label = grade.overall.label
    if entry["effectiveness"] == label:
        return ""
    if label == "Insufficient data":
        return (
            "The umbrella review prints no pooled estimate with an interval or a p value for this condition, "
            "so its rules have nothing to grade here; its own rating is its authors' reading of the reviews."
        )
    if entry.get("note"):
        return str(entry["note"])
    if entry["n_reviews"] != grade.n_reviews:
        return (
            f"The paper's Table 3 counts {entry['n_reviews']} review(s) for this condition where {grade.n_reviews} "
            f"records map to it, and the rules applied to their estimates give {label}: {grade.overall.reason}."
        )
    return f"The rules applied to the estimates the records hold give {label}: {grade.overall.reason}."


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
