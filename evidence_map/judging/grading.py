"""The umbrella review's rule-based grading, as an engine over the records.

The review states its rules loosely (sections 2.7 and 3.1, Table 3's footnote). This module fixes
one reading of them, written out on the Methods page, and applies it to whatever records exist,
so a new meta-analysis can change a verdict. It only computes: it reads records, never edits them.
The thresholds, the verdict scale and the order the rules are tried in are data, in
rules/grading.yaml (read through `rules.Rules`); no number of the rules is written here.

For one set of effects (a condition, or a condition x outcome domain), in order:
0. No review covers the condition: No meta-analysis yet (a research gap, not a reporting gap).
1. No effect with a p value, a confidence interval or a reported significance: Insufficient data.
2. No statistically significant benefit of meaningful size: Low.
3. Enough different reviews each with a large, significant, consistent SMD benefit on the same
   outcome domain: High.
4. A meaningful benefit with heterogeneity at or above the limit or not reported, or a significant
   effect in the harmful direction: Promising but heterogeneous.
5. Otherwise: Moderate.
Estimates that cannot be graded as published (outside their own CI, an implausible SMD) and those
that are not MSC-EV evidence (MSCs and EVs pooled, EVs of any stem cell) or that the record sets
aside are kept apart before the rules run, and reported with the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from evidence_map.judging.rules import Rules, fmt, load_rules, variants
from evidence_map.records.model import Effect, Record

RULES = load_rules()
NO_REVIEWS = "No meta-analysis yet"
HIGH = "High effectiveness"
MODERATE = "Moderate"
HETEROGENEOUS = "Promising but heterogeneous"
LOW = "Low"
INSUFFICIENT = "Insufficient data"
VERDICTS = RULES.labels  # the scale, strongest first, as rules/grading.yaml orders it
if set(VERDICTS) != {HIGH, MODERATE, HETEROGENEOUS, LOW, INSUFFICIENT, NO_REVIEWS}:
    raise ValueError("rules/grading.yaml must name the six verdicts the engine knows")
NO_VERDICT = (INSUFFICIENT, NO_REVIEWS)  # the two kinds of "no verdict": a reporting gap, a research gap
# The order `verdict` tries the rules in; the rules file states it for readers and must agree.
ORDER = (NO_REVIEWS, INSUFFICIENT, LOW, HIGH, HETEROGENEOUS, MODERATE)
if RULES.order != ORDER:
    raise ValueError(f"rules/grading.yaml: `order` must be {', '.join(ORDER)}, the order the engine applies")
DOMAINS = ("function", "inflammation", "apoptosis", "histology", "survival", "other")

Z_95 = 1.959964
SCOPE_WORDS = {
    "msc-ev": "EVs of MSCs",
    "msc-and-ev": "MSCs and their EVs together",
    "msc-secretome": "MSC conditioned medium and EVs together",
    "stem-cell-ev": "EVs of stem cells of any kind",
    "any-cell-ev": "EVs of any cell",
}


@dataclass(frozen=True)
class Assessed:
    """One effect as the rules see it."""

    record: Record
    effect: Effect
    benefit: int  # +1 in the direction of benefit, -1 harmful, 0 no difference
    p: float | None  # reported, or derived from the CI
    p_is_bound: bool  # the review gave only "p < value"
    p_derived: bool
    i2: float | None
    i2_from_review: bool  # taken from the review's reported I² range (the end the rules name)
    rules: Rules = RULES
    i2_from_range: bool = False  # taken from the range the source gives for this estimate

    @cached_property
    def flags(self) -> tuple[str, ...]:
        """Why this estimate does not feed the verdict (empty when it does)."""
        e, out = self.effect, []
        if e.scope != "msc-ev":
            out.append(f"not MSC-EV evidence: it pools {SCOPE_WORDS.get(e.scope, e.scope)}")
        if not e.graded:
            out.append(f"set aside by the record: {e.not_graded_because or 'no reason given'}")
        est = e.estimate
        if est is not None and e.ci_low is not None and e.ci_high is not None and not e.ci_low <= est <= e.ci_high:
            out.append(f"estimate outside its own 95% CI ({fmt(e.ci_low)} to {fmt(e.ci_high)})")
        if est is not None and e.measure == "SMD" and abs(est) > self.rules.smd_implausible:
            out.append(f"|SMD| above {fmt(self.rules.smd_implausible)}, beyond what standardized differences reach")
        return tuple(out)

    @cached_property
    def significant(self) -> bool | None:
        """p < 0.05 as reported; with no p, whether the 95% CI excludes no effect; with neither, the
        significance the source reports in words (a non-significant result printed without numbers)."""
        if self.p_derived or self.p is None:
            by_ci = ci_excludes_null(self.effect)
            return self.effect.significant if by_ci is None else by_ci
        limit = self.rules.p_significant
        return self.p <= limit if self.p_is_bound else self.p < limit

    @cached_property
    def p_below_high(self) -> bool:
        if self.p is None or not self.significant:
            return False
        if self.p_is_bound:
            return self.p <= self.rules.p_high
        return self.p < self.rules.p_high

    @cached_property
    def is_smd(self) -> bool:
        return self.effect.measure == "SMD"

    @cached_property
    def meaningful(self) -> bool:
        """Significant, beneficial, and not a small standardized effect."""
        return (
            bool(self.significant)
            and self.benefit > 0
            and (not self.is_smd or abs(self.effect.estimate or 0.0) >= self.rules.smd_meaningful)
        )

    @cached_property
    def high_grade(self) -> bool:
        return (
            self.meaningful
            and self.is_smd
            and abs(self.effect.estimate or 0.0) > self.rules.smd_large
            and self.p_below_high
            and self.i2 is not None
            and self.i2 < self.rules.i2_limit
        )


@dataclass(frozen=True)
class Verdict:
    label: str
    reason: str
    deciding: tuple[Assessed, ...]
    considered: tuple[Assessed, ...]  # every effect graded (flagged ones excluded)
    excluded: tuple[Assessed, ...] = ()  # flagged estimates, shown but not graded

    @property
    def rank(self) -> int:
        return RULES.rank(self.label)


@dataclass(frozen=True)
class ConditionGrade:
    condition: str
    n_reviews: int
    overall: Verdict
    domains: dict[str, Verdict]
    sensitivity: Verdict
    sensitivity_status: str  # "holds", "changes" or "cannot be judged"
    robustness: tuple[tuple[str, str], ...] = ()  # (thresholds moved, verdict) where the verdict changes
    if_rated_low: tuple[tuple[str, str], ...] = ()  # (record id, sensitivity verdict) were that review rated low

    @property
    def robust(self) -> str:
        """ "robust", or the settings at which the verdict changes."""
        if not self.robustness:
            return "robust"
        return "changes at " + "; ".join(f"{what} (→ {label})" for what, label in self.robustness)


def derive_p(effect: Effect) -> float | None:
    """Two-sided p from a 95% CI, assuming a normal estimate (on the log scale for ratios).

    The standard error is the CI's width over 2 x 1.96, so an asymmetric interval is averaged.
    """
    lo, hi, est = effect.ci_low, effect.ci_high, effect.estimate
    if lo is None or hi is None or est is None:
        return None
    if effect.is_ratio:
        if min(lo, hi, est) <= 0:
            return None
        lo, hi, est = math.log(lo), math.log(hi), math.log(est)
    se = (hi - lo) / (2 * Z_95)
    if se <= 0:
        return None
    return math.erfc(abs(est) / se / math.sqrt(2))


def ci_excludes_null(effect: Effect) -> bool | None:
    if effect.ci_low is None or effect.ci_high is None:
        return None
    return not effect.ci_low <= effect.null_value <= effect.ci_high


def direction(effect: Effect) -> int:
    """+1 when the estimate favours the EVs, -1 when it favours control, 0 for no difference (or none printed)."""
    if effect.estimate is None:
        return 0
    delta = effect.estimate - effect.null_value
    sign = (delta > 0) - (delta < 0)
    if effect.difference == "control-minus-ev":
        sign = -sign
    return sign if effect.improves == "higher" else -sign


def assess(record: Record, effect: Effect, rules: Rules = RULES) -> Assessed:
    p, derived = effect.p, False
    if p is None:
        p, derived = derive_p(effect), True
        if p is None:
            derived = False
    i2, from_review, from_range = effect.i2, False, False
    lowest = rules.i2_range_end == "min"
    if i2 is None and effect.i2_max is not None:
        i2, from_range = (effect.i2_min if lowest else effect.i2_max), True
    elif i2 is None and record.i2_max is not None:
        i2, from_review = (record.i2_min if lowest else record.i2_max), True
    return Assessed(
        record,
        effect,
        direction(effect),
        p,
        effect.p_bound == "<" and not derived,
        derived,
        i2,
        from_review,
        rules,
        from_range,
    )


def verdict(assessed: Iterable[Assessed], rules: Rules = RULES) -> Verdict:
    """Apply the rules, in order, to one set of assessed effects; estimates kept apart sit apart."""
    everything = tuple(assessed)
    excluded = tuple(a for a in everything if a.flags)
    considered = tuple(a for a in everything if not a.flags)
    gradable = tuple(a for a in considered if a.significant is not None)
    i2 = fmt(rules.i2_limit)
    if not gradable:
        why = "no pooled effect with a p value, a confidence interval or a reported significance"
        if excluded:
            why += f" that counts ({len(excluded)} kept apart)"
        return Verdict(INSUFFICIENT, why, (), considered, excluded)
    meaningful = tuple(a for a in gradable if a.meaningful)
    harms = tuple(a for a in gradable if a.significant and a.benefit < 0)
    if not meaningful:
        small = tuple(a for a in gradable if a.significant and a.benefit > 0)
        why = (
            f"only small standardized benefits (|SMD| < {fmt(rules.smd_meaningful)})"
            if small
            else "no statistically significant benefit"
        )
        return Verdict(LOW, why, small or gradable, considered, excluded)
    high = tuple(a for a in meaningful if a.high_grade)
    large = f"|SMD| > {fmt(rules.smd_large)}, p < {fmt(rules.p_high)} and I² < {i2}%"
    # High is per outcome: the qualifying reviews must agree on the same outcome domain.
    by_domain: dict[str, set[str]] = {}
    for a in high:
        by_domain.setdefault(a.effect.domain, set()).add(a.record.id)
    replicated = [d for d in DOMAINS if len(by_domain.get(d, ())) >= rules.reviews_for_high]
    if replicated:
        deciding = tuple(a for a in high if a.effect.domain in replicated)
        n = max(len(by_domain[d]) for d in replicated)
        why = f"{n} reviews with {large} on the same outcome domain ({', '.join(replicated)})"
        return Verdict(HIGH, why, deciding, considered, excluded)
    heterogeneous = tuple(a for a in meaningful if a.i2 is not None and a.i2 >= rules.i2_limit)
    unknown = tuple(a for a in meaningful if a.i2 is None)
    if heterogeneous or unknown or harms:
        parts = []
        if heterogeneous:
            parts.append(f"a significant benefit with I² ≥ {i2}%")
        if unknown:
            parts.append(
                "a significant benefit whose heterogeneity is not reported, so it cannot be shown to be consistent"
            )
        if harms:
            parts.append("reviews disagree on the direction of effect")
        return Verdict(HETEROGENEOUS, " and ".join(parts), heterogeneous + unknown + harms, considered, excluded)
    if high:
        domains = len(by_domain)
        why = (
            f"a large consistent benefit ({large}) in fewer than {rules.reviews_for_high} reviews"
            if domains <= 1
            else f"a large consistent benefit ({large}) in several reviews, but on different outcome domains"
        )
    else:
        why = "a significant, consistent benefit that does not meet the High criteria"
    return Verdict(MODERATE, why, meaningful, considered, excluded)


def no_reviews() -> Verdict:
    return Verdict(NO_REVIEWS, "no meta-analysis in the map covers this condition yet", (), ())


def eligible_for_sensitivity(a: Assessed) -> bool:
    """I² known and below the limit, from a review rated high or moderate by AMSTAR-2 with no critical flaw."""
    flaws = a.record.critical_flaws
    return (
        a.i2 is not None and a.i2 < a.rules.i2_limit and a.record.amstar2_rating in ("high", "moderate") and not flaws
    )


def overall_verdict(condition: str, records: Iterable[Record], rules: Rules = RULES) -> Verdict:
    """The overall verdict of `grade_condition`, alone: none of the other verdicts it is shown with."""
    on_condition = [r for r in records if condition in r.conditions]
    if not on_condition:
        return no_reviews()
    return verdict((assess(r, e, rules) for r in on_condition for e in r.effects_for(condition)), rules)


def grade_condition(condition: str, records: Iterable[Record], rules: Rules = RULES) -> ConditionGrade:
    on_condition = [r for r in records if condition in r.conditions]
    if not on_condition:
        none = no_reviews()
        return ConditionGrade(condition, 0, none, dict.fromkeys(DOMAINS, none), none, "cannot be judged")
    assessed = [assess(r, e, rules) for r in on_condition for e in r.effects_for(condition)]
    overall = verdict(assessed, rules)
    domains = {d: verdict((a for a in assessed if a.effect.domain == d), rules) for d in DOMAINS}
    eligible = [a for a in assessed if eligible_for_sensitivity(a)]
    sensitivity = verdict(eligible, rules)
    if overall.label in NO_VERDICT:
        status = "cannot be judged"
    elif sensitivity.label == overall.label:
        status = "holds"
    else:
        status = "changes"  # including to Insufficient data: no consistent, appraised evidence is left
    # The source rates every review moderate but says some were low or critically low, unnamed: the
    # map assumes moderate, and names each review whose low rating would move the sensitivity verdict.
    if_low = []
    for rid in sorted({a.record.id for a in eligible}):
        without = verdict((a for a in eligible if a.record.id != rid), rules).label
        if without != sensitivity.label:
            if_low.append((rid, without))
    moved = []
    for what, other in variants(rules):
        label = verdict((assess(r, e, other) for r in on_condition for e in r.effects_for(condition)), other).label
        if label != overall.label:
            moved.append((what, label))
    return ConditionGrade(
        condition, len(on_condition), overall, domains, sensitivity, status, tuple(moved), tuple(if_low)
    )


def grade_all(
    condition_ids: Iterable[str], records: Iterable[Record], rules: Rules = RULES
) -> dict[str, ConditionGrade]:
    records = list(records)
    return {c: grade_condition(c, records, rules) for c in condition_ids}
