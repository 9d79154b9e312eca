"""How sure we are: a summary of findings per condition, with a GRADE-style certainty per outcome domain.

The review's rules (grading.py) say how strong a benefit looks; they do not say how far to trust
it. This module adds the second answer, after the GRADE approach as adapted to animal studies
(Hooijmans et al. 2018): each outcome domain's body of evidence starts at high certainty and goes
down a level for each serious concern (risk of bias, inconsistency, imprecision, publication bias),
with indirectness (animal models) stated once as a standing caveat. The settings are data, in
rules/grading.yaml (`certainty`). It reads the computed grades; it never re-grades.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from evidence_map.judging.grading import DOMAINS, NO_REVIEWS, RULES, Assessed, ConditionGrade, Verdict
from evidence_map.judging.rules import Rules, fmt
from evidence_map.records.evidence import Evidence

# An outcome domain in a reader's words, as the object of "MSC-EVs may improve ...".
DOMAIN_WORDS = {
    "function": "functional outcomes",
    "inflammation": "inflammation markers",
    "apoptosis": "cell-death markers",
    "histology": "tissue outcomes (damage and repair)",
    "survival": "survival",
    "other": "other outcomes",
}
NOT_RATED = "not rated"
RESEARCH_GAP = "research gap"
REPORTING_GAP = "reporting gap"


@dataclass(frozen=True)
class Concern:
    """One GRADE domain's judgement for a row: how many levels it takes off, and why."""

    domain: str  # risk of bias, inconsistency, imprecision, publication bias
    levels: int  # 0 (no serious concern), 1 (serious) or 2 (very serious)
    reason: str


@dataclass(frozen=True)
class Range:
    measure: str
    low: float
    high: float
    count: int


@dataclass(frozen=True)
class FindingRow:
    """One outcome domain of one condition: what the counted estimates show and how sure that is."""

    domain: str
    verdict: Verdict  # the review's rule-based verdict for this domain
    counted: tuple[Assessed, ...]  # MSC-EV estimates that feed the verdict
    gradable: tuple[Assessed, ...]  # those with a p value, a CI or a stated significance
    ranges: tuple[Range, ...]
    benefit: int  # significant estimates favouring MSC-EVs
    harm: int  # significant estimates favouring control
    null: int  # estimates that show no significant difference
    certainty: str  # high, moderate, low, very low, or "not rated"
    concerns: tuple[Concern, ...]

    @property
    def n_reviews(self) -> int:
        return len({a.record.id for a in self.counted})

    @property
    def reasons(self) -> tuple[str, ...]:
        """The concerns that lowered the certainty, in GRADE's order."""
        return tuple(c.reason for c in self.concerns if c.levels)

    @property
    def direction(self) -> str:
        if not self.gradable:
            return "cannot be judged: no estimate with a CI, a p value or a stated significance"
        parts = []
        if self.benefit:
            parts.append(f"{self.benefit} favour{'s' if self.benefit == 1 else ''} MSC-EVs")
        if self.harm:
            parts.append(f"{self.harm} favour{'s' if self.harm == 1 else ''} control")
        if self.null:
            parts.append(f"{self.null} show{'s' if self.null == 1 else ''} no significant difference")
        return ", ".join(parts)


@dataclass(frozen=True)
class Summary:
    """A condition's summary of findings and its bottom line."""

    condition: str
    rows: tuple[FindingRow, ...]
    bottom_line: str
    certainty: str  # of the row the bottom line rests on; "not rated" when none is rated
    gap: str | None  # "research gap" (no review), "reporting gap" (reviews, nothing gradable), else None
    domain_relation: str  # how the domain cells relate to the overall verdict ("" when they agree)
    reasons: tuple[str, ...] = ()  # why the bottom line's certainty is what it is

    @property
    def rated(self) -> tuple[FindingRow, ...]:
        return tuple(r for r in self.rows if r.certainty != NOT_RATED)


def scale(rules: Rules = RULES) -> tuple[str, ...]:
    """Every certainty a row or condition can have, highest first, then "not rated"."""
    return (*rules.certainty.levels, NOT_RATED)


def in_text(name: str) -> str:
    """A condition's name inside a sentence: "spinal cord injury", but "NAFLD/NASH" and "Alzheimer's"."""
    words = []
    for word in name.split(" "):
        keep = any(part.isupper() and len(part) > 1 for part in word.split("/")) or "'" in word
        words.append(word if keep else word.lower())
    return " ".join(words)


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _risk_of_bias(gradable: tuple[Assessed, ...], c: Rules) -> Concern:
    ratings = sorted({a.record.rob_overall or "not-reported" for a in gradable})
    words = _join([r.replace("-", " ") for r in ratings])
    if any(r in c.certainty.rob_acceptable for r in ratings):
        return Concern("risk of bias", 0, f"at least one contributing review rates its studies {words}")
    if ratings and all(r in c.certainty.rob_very_serious for r in ratings):
        return Concern("risk of bias", 2, "high risk of bias in every contributing review")
    return Concern("risk of bias", 1, f"{words} risk of bias in the primary studies")


def _inconsistency(gradable: tuple[Assessed, ...], c: Rules) -> Concern:
    known = [a.i2 for a in gradable if a.i2 is not None]
    unknown = sum(1 for a in gradable if a.i2 is None)
    benefit = any(a.significant and a.benefit > 0 for a in gradable)
    harm = any(a.significant and a.benefit < 0 for a in gradable)
    reasons, levels = [], 0
    if known and max(known) >= c.certainty.i2_serious:
        reasons.append(f"high heterogeneity (I² up to {fmt(max(known))}%)")
        levels = 1
    elif unknown:
        reasons.append("heterogeneity not reported" + (" for some estimates" if known else ""))
        levels = 1
    if benefit and harm:
        reasons.append("significant effects in opposite directions")
        levels += 1
    if not reasons:
        return Concern("inconsistency", 0, f"I² below {fmt(c.certainty.i2_serious)}% in every estimate")
    return Concern("inconsistency", min(levels, 2), _join(reasons))


def _imprecision(gradable: tuple[Assessed, ...], c: Rules) -> Concern:
    with_ci = [a for a in gradable if a.effect.ci_low is not None and a.effect.ci_high is not None]
    if not any(a.significant for a in gradable):
        return Concern("imprecision", 1, "no estimate excludes no effect")
    if not with_ci:
        return Concern("imprecision", 1, "no confidence interval printed")
    ks = [a.effect.k for a in gradable if a.effect.k is not None]
    if ks and max(ks) < c.certainty.k_min:
        return Concern("imprecision", 1, f"few studies (at most {max(ks)} per estimate)")
    if not ks:
        return Concern("imprecision", 0, "confidence intervals exclude no effect; studies per estimate not printed")
    return Concern("imprecision", 0, f"confidence intervals exclude no effect; up to {max(ks)} studies per estimate")


def _publication_bias(gradable: tuple[Assessed, ...], c: Rules) -> Concern:
    records = {a.record.id: a.record for a in gradable}.values()
    detected = sorted(r.label for r in records if r.publication_bias.get("detected") is True)
    tested = [r for r in records if r.publication_bias.get("assessed") is True]
    if detected:
        return Concern("publication bias", 1, f"publication bias detected in {_join(detected)}")
    if not tested and c.certainty.downgrade_untested_bias:
        return Concern("publication bias", 1, "publication bias not tested or not reported")
    return Concern("publication bias", 0, "tested and not detected")


def _ranges(assessed: Iterable[Assessed]) -> tuple[Range, ...]:
    by_measure: dict[str, list[float]] = {}
    for a in assessed:
        if a.effect.estimate is not None:
            by_measure.setdefault(a.effect.measure, []).append(a.effect.estimate)
    return tuple(Range(m, min(v), max(v), len(v)) for m, v in sorted(by_measure.items()))


def finding_row(domain: str, verdict: Verdict, rules: Rules = RULES) -> FindingRow | None:
    """The row of one outcome domain; None when no counted estimate speaks to it."""
    counted = verdict.considered
    if not counted:
        return None
    gradable = tuple(a for a in counted if a.significant is not None)
    benefit = sum(1 for a in gradable if a.significant and a.benefit > 0)
    harm = sum(1 for a in gradable if a.significant and a.benefit < 0)
    if not gradable:
        return FindingRow(domain, verdict, counted, gradable, _ranges(counted), 0, 0, 0, NOT_RATED, ())
    concerns = (
        _risk_of_bias(gradable, rules),
        _inconsistency(gradable, rules),
        _imprecision(gradable, rules),
        _publication_bias(gradable, rules),
    )
    levels = rules.certainty.levels
    down = min(len(levels) - 1, sum(c.levels for c in concerns))
    null = len(gradable) - benefit - harm
    return FindingRow(domain, verdict, counted, gradable, _ranges(counted), benefit, harm, null, levels[down], concerns)


def _rank(row: FindingRow, rules: Rules) -> tuple[int, int, int, int]:
    levels = rules.certainty.levels
    order = levels.index(row.certainty) if row.certainty in levels else len(levels)
    return (order, -int(row.benefit > 0), -row.n_reviews, DOMAINS.index(row.domain))


def _statement(row: FindingRow, condition: str) -> str:
    what = DOMAIN_WORDS.get(row.domain, row.domain)
    where = f"in animal models of {condition}"
    if row.benefit and not row.harm:
        verb = {
            "high": "improve",
            "moderate": "probably improve",
            "low": "may improve",
            "very low": "may improve",
        }.get(row.certainty, "may improve")
        text = f"MSC-EVs {verb} {what} {where}"
        if row.certainty == "very low":
            text = f"The evidence is very uncertain, but MSC-EVs {verb} {what} {where}"
    elif row.harm and not row.benefit:
        text = f"MSC-EVs may worsen {what} {where}"
    elif row.harm and row.benefit:
        text = f"Reviews disagree on whether MSC-EVs improve or worsen {what} {where}"
    else:
        text = f"MSC-EVs may make little or no difference to {what} {where}"
    reasons = _join(list(row.reasons))
    return f"{text}; {row.certainty} certainty" + (f": {reasons}." if reasons else ".")


def domain_relation(grade: ConditionGrade) -> str:
    """Why a domain cell can read differently from the condition's overall verdict."""
    overall = grade.overall
    if overall.label == NO_REVIEWS:
        return ""
    stronger = [(d, v) for d, v in grade.domains.items() if v.considered and v.rank < overall.rank]
    weaker = [(d, v) for d, v in grade.domains.items() if v.considered and v.rank > overall.rank]
    if not stronger and not weaker:
        return ""
    text = (
        f"The overall verdict ({overall.label}) applies the rules to every estimate of the condition at once; "
        "each outcome-domain cell applies them to that domain's estimates alone."
    )
    for d, v in stronger:
        text += (
            f" {d.capitalize()} alone reads {v.label}; taken together the verdict is {overall.label}: {overall.reason}."
        )
    for d, v in weaker:
        text += f" {d.capitalize()} alone reads {v.label}: {v.reason}."
    return text


def summarize(grade: ConditionGrade, name: str, rules: Rules = RULES) -> Summary:
    """The summary of findings of one condition, from its computed grade."""
    rows = tuple(r for d in DOMAINS if (r := finding_row(d, grade.domains[d], rules)) is not None)
    rated = [r for r in rows if r.certainty != NOT_RATED]
    relation = domain_relation(grade)
    if grade.n_reviews == 0:
        line = f"No meta-analysis of MSC-EVs for {in_text(name)} is in the map yet: a research gap."
        return Summary(grade.condition, rows, line, NOT_RATED, RESEARCH_GAP, relation)
    if not rated:
        n = grade.n_reviews
        apart = len(grade.overall.excluded)
        line = (
            f"{n} review{'s' if n != 1 else ''} of {in_text(name)} {'are' if n != 1 else 'is'} in the map, "
            "but none gives a pooled MSC-EV estimate with a confidence interval, a p value or a stated "
            "significance, so how well MSC-EVs work cannot be judged yet: a reporting gap, not a research gap."
        )
        if apart:
            line += f" ({apart} estimate{'s' if apart != 1 else ''} kept apart: {grade.overall.excluded[0].flags[0]}.)"
        return Summary(grade.condition, rows, line, NOT_RATED, REPORTING_GAP, relation)
    best = min(rated, key=lambda r: _rank(r, rules))
    line = _statement(best, in_text(name))
    others = [r for r in rated if r is not best and r.benefit]
    if others:
        line += " Other outcomes with a benefit: " + _join(
            [f"{DOMAIN_WORDS.get(r.domain, r.domain)} ({r.certainty})" for r in others]
        )
        line += "."
    return Summary(grade.condition, rows, line, best.certainty, None, relation, best.reasons)


def summaries(evidence: Evidence, grades: Mapping[str, ConditionGrade], rules: Rules = RULES) -> dict[str, Summary]:
    """Every condition's summary of findings, keyed by condition id."""
    return {c: summarize(g, evidence.vocab.conditions.get(c).name, rules) for c, g in grades.items()}


def indirectness(rules: Rules = RULES) -> str:
    return rules.certainty.indirectness
