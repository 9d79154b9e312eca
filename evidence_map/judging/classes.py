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

from evidence_map.judging.grading import Assessed
from evidence_map.judging.rules import fmt

CLASSES = ("Class I", "Class II", "at least Class III", "Class III", "at least Class IV", "Class IV", "ns")
NOT_COMPUTABLE = "not computable"


@dataclass(frozen=True)
class Stratified:
    label: str  # one of CLASSES, or "not computable"
    detail: str  # what was and was not computable


def stratify(a: Assessed) -> Stratified:
    """The class of one estimate, as far as its inputs reach. Classes I-III need more than
    `cases_min` animals; with their number unknown, a significant estimate is "at least Class IV";
    with it known and too small, it is exactly Class IV. Class II also needs the largest study to be
    significant and Class I a prediction interval and bias tests, which no record gives, so an
    estimate that meets Class III's inputs is "at least Class III"."""
    c = a.rules.second
    if a.flags:
        return Stratified(NOT_COMPUTABLE, "the estimate does not count: " + "; ".join(a.flags))
    if a.p is None:
        return Stratified(NOT_COMPUTABLE, "no p value and no confidence interval")
    below = a.p <= c.p_class_iv if a.p_is_bound else a.p < c.p_class_iv
    if not below:
        return Stratified("ns", f"p ≥ {fmt(c.p_class_iv)}")
    animals = a.effect.animals
    if animals is None:
        return Stratified(
            "at least Class IV",
            f"p < {fmt(c.p_class_iv)}; whether it reaches Class III, II or I is not known: those need more than "
            f"{c.cases_min} animals, and the number pooled is not printed",
        )
    if animals <= c.cases_min:
        return Stratified(
            "Class IV", f"p < {fmt(c.p_class_iv)} with {animals} animals (Classes I-III need more than {c.cases_min})"
        )
    p3 = a.p <= c.p_class_iii if a.p_is_bound else a.p < c.p_class_iii
    if p3:
        return Stratified(
            "at least Class III",
            f"{animals} animals and p < {fmt(c.p_class_iii)}; Classes II and I need the largest study's "
            "significance, a prediction interval and bias tests, which are not recorded",
        )
    return Stratified("Class IV", f"{animals} animals but p ≥ {fmt(c.p_class_iii)}")


def best_class(assessed: Iterable[Assessed]) -> Stratified:
    """The highest class among a condition's estimates ("not computable" when none has a p or CI)."""
    found = [stratify(a) for a in assessed]
    ranked = [s for s in found if s.label in CLASSES]
    if not ranked:
        return Stratified(NOT_COMPUTABLE, "no counted estimate with a p value or a confidence interval")
    return min(ranked, key=lambda s: CLASSES.index(s.label))
