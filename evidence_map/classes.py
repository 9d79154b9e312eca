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

from .grading import Assessed
from .rules import fmt

CLASSES = ("Class I", "Class II", "Class III", "Class IV", "ns")
NOT_COMPUTABLE = "not computable"


@dataclass(frozen=True)
class Stratified:
    label: str  # one of CLASSES, or "not computable"
    detail: str  # what was and was not computable


def stratify(a: Assessed) -> Stratified:
    """The class of one estimate. Classes I-III need the number of cases, which no record gives."""
    c = a.rules.second
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


def best_class(assessed: Iterable[Assessed]) -> Stratified:
    """The highest class among a condition's estimates ("not computable" when none has a p or CI)."""
    found = [stratify(a) for a in assessed]
    ranked = [s for s in found if s.label in CLASSES]
    if not ranked:
        return Stratified(NOT_COMPUTABLE, "no estimate with a p value or a confidence interval")
    return min(ranked, key=lambda s: CLASSES.index(s.label))
