"""The audit of the verdicts against the paper: reasons derived from the data, counts computed."""

from __future__ import annotations

import re
from typing import Any

from evidence_map.judging.computed import compute_map
from evidence_map.judging.grading import grade_all, grade_condition
from evidence_map.judging.paper import paper_comparison, paper_table3, source_only
from evidence_map.publishing import pages
from evidence_map.publishing import renderer as rendering
from evidence_map.records.evidence import Evidence
from evidence_map.records.model import record_from_data
from tests.conftest import base_record

INFO = rendering.SiteInfo(repo_url="https://example.org/evidence-map", data_date="2025-06-30", data_commit="abc1234")


def sepsis_record(rid: str, **effect: Any) -> Any:
    data = base_record(id=rid)
    data["effects"] = [
        {
            "outcome": "survival",
            "domain": "survival",
            "measure": "SMD",
            "improves": "higher",
            "source": "T",
            "estimate": 2.0,
            "ci_low": 1.5,
            "ci_high": 2.5,
            **effect,
        }
    ]
    return record_from_data(data, f"evidence/{rid}.yaml")


def test_the_reason_for_a_difference_comes_from_the_condition_data() -> None:
    entry = {"id": "sepsis", "n_reviews": 1, "effectiveness": "Promising but heterogeneous"}
    # Only an estimate that pools MSCs and their EVs: the rules grade nothing, and the reason says why.
    pooled = [sepsis_record("a-2020", scope="msc-and-ev"), sepsis_record("b-2021", scope="msc-and-ev")]
    text = paper_comparison(entry, grade_condition("sepsis", pooled), pooled)
    assert "Table 3 counts 1 review(s) here; the map holds 2" in text
    assert "Kept apart from the rules: 2 estimate(s) not MSC-EV evidence" in text
    assert "nothing to grade" in text
    # With a consistent estimate the reason names the rules' own reading, not a fixed sentence.
    ok = [sepsis_record("a-2020", i2=10)]
    other = paper_comparison(entry, grade_condition("sepsis", ok), ok)
    assert "Kept apart" not in other and "the rules give Moderate" in other
    # An unknown I² is named as the cause when it decides.
    unknown = [sepsis_record("a-2020")]
    assert (
        paper_comparison(entry | {"effectiveness": "Moderate"}, grade_condition("sepsis", unknown), unknown).count(
            "no reported I²"
        )
        == 1
    )
    # The paper's own known issue is still said, after the data's causes.
    noted = paper_comparison(entry | {"note": "Table 3 prints no I²."}, grade_condition("sepsis", pooled), pooled)
    assert noted.endswith("Table 3 prints no I².")


def test_the_audit_counts_agreement_from_the_rows(evidence: Evidence) -> None:
    grades = grade_all(evidence.vocab.conditions.ids, evidence.records)
    rows = pages.audit_rows(compute_map(evidence))
    expected = sum(
        1
        for e in paper_table3().values()
        if e["n_reviews"] == grades[e["id"]].n_reviews and e["effectiveness"] == grades[e["id"]].overall.label
    )
    assert sum(1 for r in rows if r["agree"]) == expected
    md = rendering.Renderer(compute_map(evidence), INFO).render("audit.md.j2", rows=rows, paper_notes=[], base="")
    assert f"{expected} of {len(rows)} conditions agree on both the count and the verdict" in md
    # A row whose only listed difference is the paper's own note still agrees on count and verdict.
    for r in rows:
        if r["paper"].get("note") and r["differences"] == [r["paper"]["note"]]:
            assert r["agree"], r["id"]


def test_the_audit_sets_the_source_only_verdict_beside_todays(evidence: Evidence) -> None:
    rows = pages.audit_rows(compute_map(evidence))
    only_source = source_only(evidence.records)
    assert all(not r.beyond_source for r in only_source)
    assert all(e.origin == "umbrella-review" and e.graded for r in only_source for e in r.effects)
    before = grade_all(list(paper_table3()), only_source)
    assert {r["id"]: r["before"].label for r in rows} == {c: g.overall.label for c, g in before.items()}
    md = rendering.Renderer(compute_map(evidence), INFO).render("audit.md.j2", rows=rows, paper_notes=[], base="")
    header = next(line for line in md.splitlines() if line.startswith("| Condition |"))
    assert re.search(r"From the source alone \| Verdict \(map\) \| Certainty \| Why", header)
