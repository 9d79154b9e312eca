"""A second criteria set beside the review's rules: the evidence classes of umbrella reviews.

The classes metaumbrella calls "Ioannidis" (rules/grading.yaml, `second_criteria`) need, for
Classes I to III, the number of cases (animals) in each meta-analysis, and for Class I also a
prediction interval and small-study and excess-significance tests. The records hold none of these
per estimate, so those classes are reported as not computable, never guessed. What the inputs do
decide is Class IV (p < 0.05) against ns, with p as reported or derived from the 95% CI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from .grading import Assessed
from .rules import RULES_FILE, fmt

CLASSES = ("Class I", "Class II", "Class III", "Class IV", "ns")
NOT_COMPUTABLE = "not computable"


@dataclass(frozen=True)
class Criteria:
    cases_min: int
    p_class_ii: float
    p_class_iii: float
    p_class_iv: float
    i2_class_i: float


@dataclass(frozen=True)
class Stratified:
    label: str  # one of CLASSES, or "not computable"
    detail: str  # what was and was not computable


@cache
def criteria() -> Criteria:
    with open(RULES_FILE, encoding="utf-8") as fh:
        c: dict[str, Any] = yaml.safe_load(fh)["second_criteria"]
    return Criteria(
        cases_min=int(c["cases_min"]),
        p_class_ii=float(c["p_class_ii"]),
        p_class_iii=float(c["p_class_iii"]),
        p_class_iv=float(c["p_class_iv"]),
        i2_class_i=float(c["i2_class_i"]),
    )


def stratify(a: Assessed, c: Criteria | None = None) -> Stratified:
    """The class of one estimate. Classes I-III need the number of cases, which no record gives."""
    c = c or criteria()
    if a.flags:
        return Stratified(NOT_COMPUTABLE, "the estimate is flagged as published")
    if a.p is None:
        return Stratified(NOT_COMPUTABLE, "no p value and no confidence interval")
    below = a.p <= c.p_class_iv if a.p_is_bound else a.p < c.p_class_iv
    if not below:
        return Stratified("ns", f"p ≥ {fmt(c.p_class_iv)}")
    return Stratified(
        "Class IV",
        f"p < {fmt(c.p_class_iv)}; Classes I-III not computable: they need more than {c.cases_min} cases, "
        "and the records do not give the number of animals per estimate",
    )


def best_class(assessed: Iterable[Assessed], c: Criteria | None = None) -> Stratified:
    """The highest class among a condition's estimates ("not computable" when none has a p or CI)."""
    found = [stratify(a, c) for a in assessed]
    ranked = [s for s in found if s.label in CLASSES]
    if not ranked:
        return Stratified(NOT_COMPUTABLE, "no estimate with a p value or a confidence interval")
    return min(ranked, key=lambda s: CLASSES.index(s.label))
