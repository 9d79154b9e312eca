"""The certainty rating and the summary of findings: each GRADE domain, the bottom line, the gaps."""

from __future__ import annotations

from typing import Any

import pytest

from evidence_map.judging.certainty import NOT_RATED, REPORTING_GAP, RESEARCH_GAP, domain_relation, summarize
from evidence_map.judging.grading import RULES, grade_condition
from evidence_map.records.model import Record, record_from_data
from tests.conftest import base_record

LEVELS = RULES.certainty.levels


def rec(rid: str, *effects: dict[str, Any], rob: str = "low", bias: dict[str, Any] | None = None) -> Record:
    """A sepsis review whose every GRADE domain is clean unless a test says otherwise."""
    data = base_record(id=rid)
    data["conditions"] = {"reported": ["sepsis"], "ids": ["sepsis"]}
    data["effects"] = [
        {
            "outcome": "score",
            "domain": "function",
            "measure": "SMD",
            "improves": "lower",
            "source": "T",
            "estimate": -2.0,
            "ci_low": -2.5,
            "ci_high": -1.5,
            "i2": 30,
            "k": 14,
            **e,
        }
        for e in effects
    ]
    data["heterogeneity"] = {}
    data["risk_of_bias"] = {"tool": "SYRCLE", "overall": rob, "source": "T"}
    data["publication_bias"] = bias if bias is not None else {"assessed": True, "detected": False, "source": "T"}
    return record_from_data(data, f"evidence/{rid}.yaml")


def summary(*records: Record) -> Any:
    return summarize(grade_condition("sepsis", records), "Sepsis")


def row(*records: Record) -> Any:
    [r] = summary(*records).rows
    return r


def test_a_clean_body_of_evidence_stays_high() -> None:
    r = row(rec("a-2020", {}))
    assert r.certainty == LEVELS[0] == "high"
    assert r.reasons == ()


@pytest.mark.parametrize(
    ("name", "kw", "effect", "reason"),
    [
        ("risk of bias unclear", {"rob": "unclear"}, {}, "unclear risk of bias"),
        ("risk of bias not reported", {"rob": "not-reported"}, {}, "not reported risk of bias"),
        ("high heterogeneity", {}, {"i2": 80}, "high heterogeneity (I² up to 80%)"),
        ("heterogeneity not reported", {}, {"i2": None}, "heterogeneity not reported"),
        ("few studies", {}, {"k": 5}, "few studies (at most 5 per estimate)"),
        ("no CI printed", {}, {"ci_low": None, "ci_high": None, "p": 0.001}, "no confidence interval printed"),
        ("publication bias untested", {"bias": {"assessed": False, "detected": None, "source": "T"}}, {}, "not tested"),
        ("publication bias detected", {"bias": {"assessed": True, "detected": True, "source": "T"}}, {}, "detected"),
    ],
)
def test_each_serious_concern_takes_one_level_off(
    name: str, kw: dict[str, Any], effect: dict[str, Any], reason: str
) -> None:
    r = row(rec("a-2020", effect, **kw))
    assert r.certainty == LEVELS[1], name
    assert len(r.reasons) == 1 and reason in r.reasons[0]


def test_concerns_add_up_and_stop_at_very_low() -> None:
    r = row(rec("a-2020", {"i2": 90, "k": 4}, rob="unclear", bias={"assessed": None, "detected": None, "source": "T"}))
    assert r.certainty == LEVELS[-1] == "very low"
    assert len(r.reasons) == 4


def test_every_review_at_high_risk_of_bias_takes_two_levels() -> None:
    assert row(rec("a-2020", {}, rob="high")).certainty == LEVELS[2]
    # One review with an acceptable rating is enough for no concern at all.
    assert row(rec("a-2020", {}, rob="high"), rec("b-2021", {}, rob="low")).certainty == LEVELS[0]


def test_opposite_directions_are_inconsistency() -> None:
    r = row(rec("a-2020", {}), rec("b-2021", {"estimate": 2.0, "ci_low": 1.5, "ci_high": 2.5}))
    assert "significant effects in opposite directions" in r.reasons[0]
    assert (r.benefit, r.harm) == (1, 1)


def test_no_significant_result_is_imprecise_and_says_little_or_no_difference() -> None:
    s = summary(rec("a-2020", {"estimate": None, "ci_low": None, "ci_high": None, "significant": False}))
    [r] = s.rows
    assert "no estimate excludes no effect" in r.reasons
    assert "little or no difference" in s.bottom_line


def test_bottom_line_words_follow_the_certainty() -> None:
    assert summary(rec("a-2020", {})).bottom_line.startswith("MSC-EVs improve functional outcomes")
    assert "probably improve" in summary(rec("a-2020", {}, rob="unclear")).bottom_line
    low = summary(rec("a-2020", {"i2": 90}, rob="unclear")).bottom_line
    assert low.startswith("MSC-EVs may improve") and "low certainty: unclear risk of bias" in low
    very_low = summary(rec("a-2020", {"i2": 90, "k": 3}, rob="unclear")).bottom_line
    assert very_low.startswith("The evidence is very uncertain")
    assert "in animal models of sepsis" in very_low


def test_the_bottom_line_rests_on_the_most_certain_outcome() -> None:
    s = summary(rec("a-2020", {}, {"domain": "survival", "outcome": "death", "i2": 95, "k": 3}))
    assert [r.domain for r in s.rows] == ["function", "survival"]
    assert s.certainty == "high"
    assert "functional outcomes" in s.bottom_line and "Other outcomes with a benefit: survival" in s.bottom_line


def test_two_kinds_of_gap() -> None:
    none = summarize(grade_condition("sepsis", []), "Sepsis")
    assert none.gap == RESEARCH_GAP and none.certainty == NOT_RATED and "research gap" in none.bottom_line
    silent = summary(rec("a-2020", {"ci_low": None, "ci_high": None}))
    assert silent.gap == REPORTING_GAP and "reporting gap" in silent.bottom_line
    assert [r.certainty for r in silent.rows] == [NOT_RATED]


def test_estimates_that_are_not_msc_evs_are_not_rated() -> None:
    s = summary(rec("a-2020", {"scope": "msc-and-ev"}))
    assert s.rows == () and s.gap == REPORTING_GAP
    assert "not MSC-EV evidence" in s.bottom_line


def test_a_domain_that_reads_higher_than_the_whole_is_explained() -> None:
    g = grade_condition("sepsis", [rec("a-2020", {}, {"domain": "survival", "outcome": "death", "i2": 90})])
    assert g.domains["function"].rank < g.overall.rank
    text = domain_relation(g)
    assert "Function alone reads Moderate" in text and g.overall.label in text
    same = grade_condition("sepsis", [rec("a-2020", {})])
    assert domain_relation(same) == ""
