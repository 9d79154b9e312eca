"""The grading engine: each rule and each boundary, as a table, plus a living-map test."""

from __future__ import annotations

import math
from typing import Any

import pytest

from evidence_map.judging.computed import compute_map
from evidence_map.judging.grading import (
    HETEROGENEOUS,
    HIGH,
    INSUFFICIENT,
    LOW,
    MODERATE,
    NO_REVIEWS,
    RULES,
    assess,
    derive_p,
    grade_all,
    grade_condition,
)
from evidence_map.records.evidence import Evidence
from evidence_map.records.model import Effect, Record, record_from_data
from tests.conftest import base_record


def rec(
    rid: str,
    *effects: dict[str, Any],
    i2_max: float | None = None,
    amstar: str = "moderate",
    flaws: list[str] | None = None,
    conditions: tuple[str, ...] = ("sepsis",),
) -> Record:
    data = base_record(id=rid)
    data["conditions"] = {"reported": list(conditions), "ids": list(conditions)}
    data["effects"] = [
        {"outcome": "score", "domain": "function", "measure": "SMD", "improves": "lower", "source": "T", **e}
        for e in effects
    ]
    data["heterogeneity"] = {"i2_min": None, "i2_max": i2_max, "source": "T"}
    data["amstar2"] = {"rating": amstar, "critical_flaws": flaws, "source": "T"}
    return record_from_data(data, f"evidence/{rid}.yaml")


def big(**kw: Any) -> dict[str, Any]:
    """A benefit that meets every High criterion on its own (lower is better)."""
    return {"estimate": -2.0, "ci_low": -2.5, "ci_high": -1.5, "p": 0.001, "i2": 40} | kw


def verdict_of(*records: Record) -> str:
    return grade_condition("sepsis", records).overall.label


CASES = [
    # (name, records, expected verdict)
    ("no records: a research gap, not a reporting gap", [], NO_REVIEWS),
    ("effect without p or CI", [rec("a-2020", {"estimate": -2.0})], INSUFFICIENT),
    ("two large consistent reviews", [rec("a-2020", big()), rec("b-2021", big())], HIGH),
    ("one review only", [rec("a-2020", big())], MODERATE),
    ("one review, two qualifying effects", [rec("a-2020", big(), big(outcome="other"))], MODERATE),
    (
        "|SMD| exactly 1.5 is not large",
        [rec("a-2020", big(estimate=-1.5)), rec("b-2021", big(estimate=-1.5))],
        MODERATE,
    ),
    ("|SMD| just over 1.5", [rec("a-2020", big(estimate=-1.51)), rec("b-2021", big(estimate=-1.51))], HIGH),
    ("I² exactly 70 downgrades", [rec("a-2020", big(i2=70)), rec("b-2021", big(i2=70))], HETEROGENEOUS),
    ("I² just under 70", [rec("a-2020", big(i2=69.9)), rec("b-2021", big(i2=69.9))], HIGH),
    ("p exactly 0.01 is not below", [rec("a-2020", big(p=0.01)), rec("b-2021", big(p=0.01))], MODERATE),
    (
        "p given as < 0.01 counts",
        [rec("a-2020", big(p=0.01, p_bound="<")), rec("b-2021", big(p=0.01, p_bound="<"))],
        HIGH,
    ),
    ("SMD 0.8 is moderate", [rec("a-2020", big(estimate=-0.8, ci_low=-1.2, ci_high=-0.4))], MODERATE),
    ("SMD below 0.8 is small: Low", [rec("a-2020", big(estimate=-0.5, ci_low=-0.9, ci_high=-0.1))], LOW),
    ("not significant: Low", [rec("a-2020", big(estimate=-2.0, ci_low=-4.5, ci_high=0.5, p=0.2))], LOW),
    ("significant harm only: Low", [rec("a-2020", big(estimate=2.0, ci_low=1.5, ci_high=2.5))], LOW),
    (
        "opposite directions",
        [rec("a-2020", big()), rec("b-2021", big(estimate=2.0, ci_low=1.5, ci_high=2.5))],
        HETEROGENEOUS,
    ),
    (
        "higher is better respected",
        [
            rec("a-2020", big(estimate=2.0, ci_low=1.5, ci_high=2.5, improves="higher")),
            rec("b-2021", big(estimate=2.0, ci_low=1.5, ci_high=2.5, improves="higher")),
        ],
        HIGH,
    ),
    (
        "control-minus-ev reverses the sign",
        [rec("a-2020", big(estimate=2.0, ci_low=1.5, ci_high=2.5, difference="control-minus-ev"))],
        MODERATE,
    ),
    (
        "ratio measure never High",
        [
            rec("a-2020", {"measure": "HR", "estimate": 0.33, "ci_low": 0.27, "ci_high": 0.41, "i2": 10}),
            rec("b-2021", {"measure": "HR", "estimate": 0.3, "ci_low": 0.2, "ci_high": 0.4, "i2": 10}),
        ],
        MODERATE,
    ),
    (
        "ratio spanning 1",
        [rec("a-2020", {"measure": "OR", "estimate": 1.4, "ci_low": 0.8, "ci_high": 2.2, "improves": "higher"})],
        LOW,
    ),
    (
        "WMD benefit is Moderate",
        [
            rec(
                "a-2020",
                {"measure": "WMD", "estimate": 3.47, "ci_low": 3.31, "ci_high": 3.63, "improves": "higher", "i2": 20},
            )
        ],
        MODERATE,
    ),
    (
        "WMD benefit with I² 80",
        [
            rec(
                "a-2020",
                {"measure": "WMD", "estimate": 3.47, "ci_low": 3.31, "ci_high": 3.63, "improves": "higher", "i2": 80},
            )
        ],
        HETEROGENEOUS,
    ),
    ("missing p: CI decides", [rec("a-2020", big(p=None)), rec("b-2021", big(p=None))], HIGH),
    ("missing I²: cannot be High", [rec("a-2020", big(i2=None)), rec("b-2021", big(i2=None))], HETEROGENEOUS),
    ("missing I² ranks no higher than known high I²", [rec("a-2020", big(i2=None))], HETEROGENEOUS),
    (
        "MSCs and EVs pooled together never count",
        [rec("a-2020", big(scope="msc-and-ev")), rec("b-2021", big(scope="msc-and-ev"))],
        INSUFFICIENT,
    ),
    ("EVs of any stem cell never count", [rec("a-2020", big(scope="stem-cell-ev"))], INSUFFICIENT),
    (
        "an estimate the record sets aside does not count",
        [rec("a-2020", big(graded=False, not_graded_because="same as the original's")), rec("b-2021", big())],
        MODERATE,
    ),
    (
        "non-significant result without an estimate: Low",
        [rec("a-2020", {"estimate": None, "significant": False})],
        LOW,
    ),
    (
        "High needs the same outcome domain in two reviews",
        [rec("a-2020", big(domain="function")), rec("b-2021", big(domain="histology"))],
        MODERATE,
    ),
    (
        "missing I² uses review range max",
        [rec("a-2020", big(i2=None), i2_max=85), rec("b-2021", big(i2=None), i2_max=85)],
        HETEROGENEOUS,
    ),
    (
        "High wins over a heterogeneous third review",
        [rec("a-2020", big()), rec("b-2021", big()), rec("c-2022", big(i2=90))],
        HIGH,
    ),
]


@pytest.mark.parametrize(("records", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_verdict_rules(records: list[Record], expected: str) -> None:
    assert verdict_of(*records) == expected


def test_review_on_two_conditions_counts_only_where_its_effect_belongs() -> None:
    two = ("spinal-cord-injury", "traumatic-brain-injury")
    a = rec("a-2020", big(condition="spinal-cord-injury"), conditions=two)
    b = rec("b-2021", big(condition="spinal-cord-injury"), conditions=two)
    assert grade_condition("spinal-cord-injury", [a, b]).overall.label == HIGH
    tbi = grade_condition("traumatic-brain-injury", [a, b])
    assert tbi.n_reviews == 2 and tbi.overall.label == INSUFFICIENT


def test_domains_are_graded_separately() -> None:
    a = rec("a-2020", big(), big(domain="inflammation", estimate=-0.3, ci_low=-0.6, ci_high=0.1, p=0.2))
    g = grade_condition("sepsis", [a])
    assert g.domains["function"].label == MODERATE
    assert g.domains["inflammation"].label == LOW
    assert g.domains["apoptosis"].label == INSUFFICIENT


@pytest.mark.parametrize(
    ("records", "status"),
    [
        ([rec("a-2020", big()), rec("b-2021", big())], "holds"),
        ([rec("a-2020", big()), rec("b-2021", big(), flaws=["no protocol"])], "changes"),
        ([rec("a-2020", big(), amstar="low"), rec("b-2021", big())], "changes"),
        ([rec("a-2020", big(i2=90))], "changes"),
        ([rec("a-2020", {"estimate": -2.0})], "cannot be judged"),
    ],
    ids=[
        "holds",
        "critical flaw removes a review",
        "low AMSTAR-2 removes a review",
        "all heterogeneous: nothing is left, so the verdict does not hold",
        "insufficient",
    ],
)
def test_sensitivity(records: list[Record], status: str) -> None:
    assert grade_condition("sepsis", records).sensitivity_status == status


def test_sensitivity_names_the_reviews_whose_low_rating_would_change_it() -> None:
    """The source rates every review moderate yet says some were low; the map assumes moderate and
    shows which single review, rated low instead, would move the sensitivity verdict."""
    two = grade_condition("sepsis", [rec("a-2020", big()), rec("b-2021", big())])
    assert two.sensitivity.label == HIGH
    assert dict(two.if_rated_low) == {"a-2020": MODERATE, "b-2021": MODERATE}
    three = grade_condition("sepsis", [rec("a-2020", big()), rec("b-2021", big()), rec("c-2022", big())])
    assert three.if_rated_low == ()  # any one review can go and two remain


def test_why_lists_the_deciding_effects() -> None:
    a, b, c = rec("a-2020", big()), rec("b-2021", big()), rec("c-2022", big(estimate=-1.0, ci_low=-1.5, ci_high=-0.5))
    v = grade_condition("sepsis", [a, b, c]).overall
    assert v.label == HIGH
    assert sorted(x.record.id for x in v.deciding) == ["a-2020", "b-2021"]
    assert len(v.considered) == 3


def test_p_derived_from_confidence_interval() -> None:
    # SMD 2 with CI 1.02..2.98: SE = 0.5, z = 4, p = 6.3e-5.
    e = Effect(
        outcome="x",
        domain="function",
        measure="SMD",
        estimate=2.0,
        improves="higher",
        source="T",
        ci_low=2.0 - 1.959964 * 0.5,
        ci_high=2.0 + 1.959964 * 0.5,
    )
    assert math.isclose(derive_p(e) or 0, math.erfc(4 / math.sqrt(2)), rel_tol=1e-6)
    # Ratios on the log scale: HR 0.33 (0.27-0.41) is far from 1.
    hr = Effect(
        outcome="x",
        domain="survival",
        measure="HR",
        estimate=0.33,
        improves="lower",
        source="T",
        ci_low=0.27,
        ci_high=0.41,
    )
    assert (derive_p(hr) or 1) < 1e-10
    a = assess(rec("a-2020"), hr)
    assert a.p_derived and a.significant and a.benefit == 1


def test_adding_a_record_changes_a_verdict(evidence: Evidence) -> None:
    """A living map: Multiple Sclerosis has one heterogeneous review; two consistent ones make it High."""
    before = grade_all(["multiple-sclerosis"], evidence.records)["multiple-sclerosis"]
    assert before.overall.label == HETEROGENEOUS
    new = [rec(f"new-{y}", big(), conditions=("multiple-sclerosis",)) for y in (2026, 2027)]
    after = grade_all(["multiple-sclerosis"], [*evidence.records, new[0]])["multiple-sclerosis"]
    assert after.overall.label == HETEROGENEOUS  # one consistent review is not enough
    after = grade_all(["multiple-sclerosis"], [*evidence.records, *new])["multiple-sclerosis"]
    assert after.overall.label == HIGH
    assert {a.record.id for a in after.overall.deciding} == {"new-2026", "new-2027"}


# ---------------------------------------------------------------- flagged estimates, I² ranges, robustness

FLAG_CASES = [
    # (name, effect, expected flag fragment or None)
    ("inside its CI", big(), None),
    ("estimate outside its CI", big(estimate=-3.0), "estimate outside its own 95% CI"),
    ("implausible SMD", big(estimate=-12.0, ci_low=-14.0, ci_high=-10.0), "beyond what standardized differences reach"),
    ("SMD exactly at the limit", big(estimate=-10.0, ci_low=-11.0, ci_high=-9.0), None),
    ("large raw difference is not an SMD", big(measure="WMD", estimate=-14.0, ci_low=-21.4, ci_high=-6.7), None),
]


@pytest.mark.parametrize(("name", "effect", "flag"), FLAG_CASES, ids=[c[0] for c in FLAG_CASES])
def test_flagged_estimates_are_shown_but_never_graded(name: str, effect: dict[str, Any], flag: str | None) -> None:
    a, b = rec("a-2020", effect), rec("b-2021", big())
    g = grade_condition("sepsis", [a, b])
    flagged = [x for x in g.overall.excluded if x.record.id == "a-2020"]
    if flag is None:
        assert not flagged and any(x.record.id == "a-2020" for x in g.overall.considered)
    else:
        assert flagged and flag in "; ".join(flagged[0].flags)
        assert all(x.record.id != "a-2020" for x in g.overall.considered)
        assert g.overall.label == MODERATE  # one qualifying review is left


def test_an_i2_range_is_graded_at_its_highest_value() -> None:
    ranged = {k: v for k, v in big().items() if k != "i2"} | {"i2_min": 40, "i2_max": 75}
    g = grade_condition("sepsis", [rec("a-2020", ranged), rec("b-2021", big())])
    a = next(x for x in g.overall.considered if x.record.id == "a-2020")
    assert a.i2 == 75 and a.i2_from_range and not a.i2_from_review
    assert g.overall.label == HETEROGENEOUS
    narrow = ranged | {"i2_max": 60}
    assert grade_condition("sepsis", [rec("a-2020", narrow), rec("b-2021", big())]).overall.label == HIGH


def rules_with(**thresholds: float) -> Any:
    import yaml

    from evidence_map.judging.rules import RULES_FILE, rules_from

    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    data["thresholds"].update(thresholds)
    return rules_from(data)


def test_changing_a_threshold_in_the_rules_file_changes_verdicts_methods_and_legend(evidence: Evidence) -> None:
    """One edit to the rules moves the verdict, the methods page's text and the gap map's legend."""
    from evidence_map.publishing import renderer as rendering

    records = [rec("a-2020", big(i2=65)), rec("b-2021", big(i2=65))]
    stricter = rules_with(i2_limit=60)
    assert grade_condition("sepsis", records).overall.label == HIGH
    assert grade_condition("sepsis", records, stricter).overall.label == HETEROGENEOUS
    info = rendering.SiteInfo(repo_url="https://example.org/x", data_date="2026-01-01", data_commit="abc")
    default = rendering.Renderer(compute_map(evidence), info).render("methods.md.j2", base="")
    changed = rendering.Renderer(compute_map(evidence, stricter), info).render("methods.md.j2", base="")
    from evidence_map.publishing.markup import escape

    old, new = str(escape("I² < 70%")), str(escape("I² < 60%"))  # as the page prints them
    assert old in default and new not in default
    assert new in changed and old not in changed


def test_robustness_names_the_setting_that_changes_the_verdict() -> None:
    # I² 72: heterogeneous at the 70% cut-off, consistent at 75%; so a 75% cut-off gives High.
    records = [rec("a-2020", big(i2=72)), rec("b-2021", big(i2=40))]
    g = grade_condition("sepsis", records)
    assert g.overall.label == HETEROGENEOUS
    assert g.robustness == (("I² cut-off 75%", HIGH),)
    assert g.robust == "changes at I² cut-off 75% (→ High effectiveness)"
    # |SMD| 1.6: large at 1.5, not at 1.7 (cut-offs raised by 0.2).
    edge = [rec("a-2020", big(estimate=-1.6, ci_low=-2.0, ci_high=-1.2)), rec("b-2021", big())]
    changes = dict(grade_condition("sepsis", edge).robustness)
    assert changes == {"SMD cut-offs raised by 0.2 (large above 1.7, meaningful from 1)": MODERATE}
    assert grade_condition("sepsis", [rec("a-2020", big()), rec("b-2021", big())]).robust == "robust"


def test_the_rules_file_orders_the_scale_and_names_every_verdict() -> None:
    from evidence_map.judging.grading import RULES, VERDICTS

    assert VERDICTS == RULES.labels == (HIGH, MODERATE, HETEROGENEOUS, LOW, INSUFFICIENT, NO_REVIEWS)
    assert [RULES.rank(v) for v in VERDICTS] == [1, 2, 3, 4, 5, 6]
    with pytest.raises(ValueError, match="order"):
        import yaml

        from evidence_map.judging.rules import RULES_FILE, rules_from

        data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
        data["order"] = data["order"][:-1]
        rules_from(data)


# ---------------------------------------------------------------- derived values and the second criteria set


@pytest.mark.parametrize(
    ("measure", "estimate", "low", "high", "published_p"),
    [
        # Altman and Bland, BMJ 2011;343:d2090: the intervals they derive from a published p.
        ("MD", 17.0, 1.4, 32.6, 0.032),  # difference in percentage points, p = 0.032
        ("RR", 0.30, 0.10, 0.90, 0.034),  # relative risk, p = 0.034 (interval printed to 2 decimals)
    ],
)
def test_p_from_a_ci_matches_the_worked_examples(
    measure: str, estimate: float, low: float, high: float, published_p: float
) -> None:
    effect = Effect(
        outcome="x",
        domain="other",
        measure=measure,
        estimate=estimate,
        improves="higher",
        source="T",
        ci_low=low,
        ci_high=high,
    )
    p = derive_p(effect)
    assert p is not None and abs(p - published_p) < 0.003


CLASS_CASES = [
    ("significant by p, animals unknown", big(), "at least Class IV"),
    ("significant by the CI alone", {"estimate": -2.0, "ci_low": -2.5, "ci_high": -1.5}, "at least Class IV"),
    ("not significant", {"estimate": -0.2, "ci_low": -0.9, "ci_high": 0.5}, "ns"),
    ("p exactly 0.05", big(p=0.05), "ns"),
    ("p given as < 0.05", big(p=0.05, p_bound="<"), "at least Class IV"),
    ("no p and no CI", {"estimate": -2.0}, "not computable"),
    ("flagged estimate", big(estimate=-9.0), "not computable"),
    ("too few animals for Classes I-III", big(animals=400), "Class IV"),
    ("enough animals and p < 0.001", big(animals=1200, p=0.0001), "at least Class III"),
    ("enough animals, p not below 0.001", big(animals=1200, p=0.004), "Class IV"),
    ("MSCs and EVs pooled", big(scope="msc-and-ev"), "not computable"),
]


@pytest.mark.parametrize(("name", "effect", "label"), CLASS_CASES, ids=[c[0] for c in CLASS_CASES])
def test_second_criteria_class(name: str, effect: dict[str, Any], label: str) -> None:
    from evidence_map.judging.classes import best_class, stratify

    g = grade_condition("sepsis", [rec("a-2020", effect)])
    [a] = (*g.overall.considered, *g.overall.excluded)
    s = stratify(a)
    assert s.label == label
    if label == "at least Class IV":
        assert "not known" in s.detail and "animals" in s.detail
    assert best_class([a]).label == label


def test_best_class_takes_the_highest() -> None:
    from evidence_map.judging.classes import best_class

    g = grade_condition(
        "sepsis", [rec("a-2020", {"estimate": -0.2, "ci_low": -0.9, "ci_high": 0.5}), rec("b-2021", big())]
    )
    assert best_class(g.overall.considered).label == "at least Class IV"


def test_unknown_heterogeneity_never_ranks_above_known_high_heterogeneity() -> None:
    unknown = grade_condition("sepsis", [rec("a-2020", big(i2=None))]).overall
    known_high = grade_condition("sepsis", [rec("a-2020", big(i2=95))]).overall
    assert unknown.rank >= known_high.rank
    assert "not reported" in unknown.reason


def test_robustness_reads_i2_ranges_at_their_lowest_value_too() -> None:
    # Published as a range 40-85% for the row: the rules read 85 (heterogeneous); at 40 it is consistent.
    g = grade_condition("sepsis", [rec("a-2020", big(i2=None, i2_min=40, i2_max=85))])
    assert g.overall.label == HETEROGENEOUS
    moved = dict(g.robustness)
    assert moved.get("I² ranges read at their lowest value") == MODERATE
    # The review-level range is varied the same way.
    g2 = grade_condition("sepsis", [rec("a-2020", big(i2=None), i2_max=85)])
    assert g2.overall.label == HETEROGENEOUS
    assert RULES.robust_i2_range_end == ("min",)


def test_a_condition_without_reviews_is_a_research_gap_in_every_domain() -> None:
    g = grade_condition("sepsis", [rec("a-2020", big(), conditions=("asthma",))])
    assert g.n_reviews == 0
    assert {v.label for v in g.domains.values()} == {NO_REVIEWS}
    # With a review but no estimate in a domain, the cell is a reporting gap instead.
    g2 = grade_condition("sepsis", [rec("a-2020", big(domain="function"))])
    assert g2.domains["survival"].label == INSUFFICIENT
