"""The validator: one table of valid and invalid cases per rule, and a broken record's exact errors."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from evidence_map.paths import EVIDENCE
from evidence_map.records.validate import check_folder, check_record
from evidence_map.records.vocab import load_vocabularies
from evidence_map.records.yamlsafe import decode, load
from tests.conftest import FIXTURES, base_record, write_record
from tests.sitebuild import build_py

ROOT = Path(__file__).resolve().parent.parent
VOCAB = load_vocabularies()


def cite(**kw: Any) -> dict[str, Any]:
    return {"first_author": "Test", "label": "Test et al. (2024)", "year": 2024, "journal": "J Test"} | kw


def effect(**kw: Any) -> dict[str, Any]:
    e = {
        "outcome": "BBB score",
        "domain": "function",
        "measure": "SMD",
        "estimate": 2.0,
        "ci_low": 1.0,
        "ci_high": 3.0,
        "improves": "higher",
        "source": "Table 2",
    }
    e.update(kw)
    return {k: v for k, v in e.items() if v is not ...}


def messages(data: dict[str, Any]) -> list[str]:
    return [f"{'.'.join(map(str, i.path))}: {i.rule}" for i in check_record(data, VOCAB)]


# (case name, record overrides, expected message fragment or None when the record is valid)
CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("valid base record", {}, None),
    # an estimate may lack its number only when the source reports it as not significant
    (
        "estimate missing",
        {"effects": [effect(estimate=..., ci_low=..., ci_high=...)]},
        "effects.0.estimate: is required",
    ),
    (
        "non-significant result without an estimate",
        {"effects": [effect(estimate=..., ci_low=..., ci_high=..., significant=False)]},
        None,
    ),
    (
        "CI without an estimate",
        {"effects": [effect(estimate=..., significant=False)]},
        "effects.0.estimate: is required when a confidence interval is given",
    ),
    (
        "set aside without a reason",
        {"effects": [effect(graded=False)]},
        "effects.0.not_graded_because: is required with graded: false",
    ),
    ("unknown scope", {"effects": [effect(scope="msc")]}, "effects.0.scope: must be one of"),
    # a row's I² range belongs to every estimate of the row
    (
        "row I² range on one estimate only",
        {
            "effects": [
                effect(i2_min=40, i2_max=80, source="Table 3; I² range: Table 3, Sepsis row"),
                effect(outcome="Other", ci_low=1.5, source="Table 2", note="Also in Table 3."),
            ]
        },
        "effects.1.i2_max: is missing: effects.0 carries the I² range 40–80% its row gives",
    ),
    (
        "row I² range on both estimates",
        {
            "effects": [
                effect(i2_min=40, i2_max=80, source="Table 3; I² range: Table 3, Sepsis row"),
                effect(outcome="Other", i2_min=40, i2_max=80, source="Table 3; I² range: Table 3, Sepsis row"),
            ]
        },
        None,
    ),
    (
        "an estimate from another table is not in the row",
        {
            "effects": [
                effect(i2_min=40, i2_max=80, source="Table 3; I² range: Table 3, Sepsis row"),
                effect(outcome="Other", source="Table 5"),
            ]
        },
        None,
    ),
    # an estimate set aside for another entry passes its heterogeneity on
    (
        "replacing entry loses the copy's I² range",
        {
            "effects": [
                effect(i2_min=40, i2_max=80, graded=False, not_graded_because="Same result as effects.1."),
                effect(origin="original-article", origin_url="https://example.org/abstract"),
            ]
        },
        "effects.1.i2_max: is missing: effects.0, the copy this entry replaces, carries the I² range 40–80%",
    ),
    (
        "replacing entry keeps the copy's I² range",
        {
            "effects": [
                effect(i2_min=40, i2_max=80, graded=False, not_graded_because="Same result as effects.1."),
                effect(i2_min=40, i2_max=80, origin="original-article", origin_url="https://example.org/abstract"),
            ]
        },
        None,
    ),
    # who appraised the review
    (
        "map-added review claims the umbrella review's appraisal",
        {"found_by": "hand-search", "amstar2": {"rating": "moderate", "source": "x"}},
        "amstar2.appraised_by: cannot be umbrella-review for a review found by hand-search",
    ),
    (
        "map-added review not appraised",
        {"found_by": "hand-search", "amstar2": {"appraised_by": "not-appraised", "source": "x"}},
        None,
    ),
    (
        "not appraised yet rated",
        {"found_by": "hand-search", "amstar2": {"appraised_by": "not-appraised", "rating": "high", "source": "x"}},
        "amstar2.rating: must be left out when appraised_by is not-appraised",
    ),
    (
        "the map's own appraisal needs its items",
        {"found_by": "hand-search", "amstar2": {"appraised_by": "evidence-map", "rating": "low", "source": "x"}},
        "amstar2.items: are required when appraised_by is evidence-map",
    ),
    # schema: required keys, types, unknown keys
    ("missing summary", {"summary": ...}, "summary: is required"),
    ("n_studies as text", {"n_studies": "30"}, "n_studies: must be a whole number"),
    ("n_studies zero", {"n_studies": 0}, "n_studies: must be at least 1"),
    ("n_studies implausible", {"n_studies": 90000}, "n_studies: must be at most 5000"),
    ("outcomes as text", {"outcomes": "Survival"}, "outcomes: must be a list"),
    ("unknown key", {"colour": "blue"}, "colour: unknown key; allowed keys: id, found_by, citation, lookup"),
    ("mistyped key", {"summery": "x"}, "summery: unknown key; did you mean 'summary'? allowed keys:"),
    # identifiers need the page that confirmed them
    (
        "DOI without address",
        {"citation": cite(doi="10.1007/s1")},
        "citation.doi: needs the address of the page where it was confirmed, in lookup.doi",
    ),
    (
        "PMID without address",
        {"citation": cite(pmid="123")},
        "citation.pmid: needs the address of the page where it was confirmed, in lookup.pmid",
    ),
    (
        "title without address",
        {"citation": cite(title="A review")},
        "citation.title: needs the address of the page where it was confirmed, in lookup.citation",
    ),
    ("DOI with address", {"citation": cite(doi="10.1007/s1"), "lookup": {"doi": "https://example.org/a"}}, None),
    (
        "malformed DOI",
        {"citation": cite(doi="doi:10.1007/s1"), "lookup": {"doi": "https://example.org/a"}},
        "citation.doi: must be a DOI such as",
    ),
    (
        "malformed PMID",
        {"citation": cite(pmid="PMID 123"), "lookup": {"pmid": "https://example.org/a"}},
        "citation.pmid: must be a PubMed id: digits only",
    ),
    (
        "malformed PMCID",
        {"citation": cite(pmcid="8800223"), "lookup": {"pmcid": "https://example.org/a"}},
        "citation.pmcid: must be",
    ),
    (
        "address that is not https",
        {"citation": cite(pmid="123"), "lookup": {"pmid": "http://example.org/a"}},
        "lookup.pmid: must be a https:// link",
    ),
    (
        "address confirming nothing",
        {"lookup": {"pmid": "https://example.org/a"}},
        "lookup.pmid: confirms nothing: citation.pmid is empty",
    ),
    ("lookup date in the future", {"lookup": {"checked": "2999-01-01"}}, "lookup.checked: must not be in the future"),
    (
        "not found but given",
        {"citation": cite(pmid="1"), "lookup": {"pmid": "https://example.org/a", "not_found": ["pmid"]}},
        "lookup.not_found: lists pmid, which citation.pmid gives",
    ),
    # values read in the original article
    (
        "original effect without address",
        {"effects": [effect(origin="original-article")]},
        "effects.0.origin_url: is required when origin is original-article",
    ),
    (
        "address without original",
        {"effects": [effect(origin_url="https://example.org/a")]},
        "effects.0.origin: must be original-article when origin_url is given",
    ),
    (
        "original effect with address",
        {"effects": [effect(origin="original-article", origin_url="https://example.org/a")]},
        None,
    ),
    ("id upper case", {"id": "Test-2024"}, "id: must be a kebab-case id"),
    ("id with slash", {"id": "../etc-2024"}, "id: must be a kebab-case id"),
    ("id with space", {"id": "test 2024"}, "id: must be a kebab-case id"),
    ("id with look-alike letter", {"id": "tеst-2024"}, "id: must be a kebab-case id"),
    # vocabularies
    (
        "unknown condition with hint",
        {"conditions": {"reported": ["SCI"], "ids": ["spinal-cord"]}},
        "conditions.ids.0: must be a condition id from vocab/conditions.yaml; did you mean 'spinal-cord-injury'? "
        "a new condition is proposed by adding it to vocab/conditions.yaml in the same pull request",
    ),
    ("unknown source", {"sources": {"reported": ["X"], "ids": ["adipose"]}}, "sources.ids.0: must be a source id"),
    ("unknown species", {"species": {"reported": ["Cats"], "ids": ["cat"]}}, "species.ids.0: must be a species id"),
    ("known ids", {"sources": {"reported": ["UC"], "ids": ["uc", "wharton-jelly"]}}, None),
    # effects
    (
        "CI low above high",
        {"effects": [effect(ci_low=3.5, ci_high=3.0, estimate=3.2)]},
        "effects.0.ci_low: must not exceed ci_high",
    ),
    (
        "estimate outside CI",
        {"effects": [effect(estimate=5.0)]},
        "effects.0.estimate: must lie inside its confidence interval",
    ),
    ("estimate on CI bound", {"effects": [effect(estimate=3.0)]}, None),
    (
        "one CI bound only",
        {"effects": [effect(ci_high=...)]},
        "effects.0.ci_high: must be given when the other CI bound is",
    ),
    ("no CI at all", {"effects": [effect(ci_low=..., ci_high=...)]}, None),
    (
        "ratio below zero",
        {"effects": [effect(measure="HR", estimate=-0.3, ci_low=..., ci_high=...)]},
        "effects.0.estimate: must be greater than 0 for a ratio measure",
    ),
    (
        "ratio of zero",
        {"effects": [effect(measure="OR", estimate=0, ci_low=..., ci_high=...)]},
        "must be greater than 0",
    ),
    ("ratio fine", {"effects": [effect(measure="OR", estimate=6.45, ci_low=2.78, ci_high=14.97)]}, None),
    ("I2 over 100", {"effects": [effect(i2=101)]}, "effects.0.i2: must be between 0 and 100"),
    ("I2 negative", {"effects": [effect(i2=-1)]}, "effects.0.i2: must be between 0 and 100"),
    ("I2 bounds", {"effects": [effect(i2=0), effect(i2=100)]}, None),
    ("p above 1", {"effects": [effect(p=1.5)]}, "effects.0.p: must be between 0 and 1"),
    ("p bounds", {"effects": [effect(p=0), effect(p=1)]}, None),
    (
        "NaN estimate",
        {"effects": [effect(estimate=float("nan"), ci_low=..., ci_high=...)]},
        "effects.0.estimate: must be a finite number",
    ),
    ("infinite CI", {"effects": [effect(ci_high=float("inf"))]}, "effects.0.ci_high: must be a finite number"),
    ("bad measure", {"effects": [effect(measure="Cohen d")]}, "effects.0.measure: must be one of SMD"),
    ("bad direction", {"effects": [effect(improves="up")]}, "effects.0.improves: must be one of lower, higher"),
    ("estimate as text", {"effects": [effect(estimate="3.2")]}, "effects.0.estimate: must be a number"),
    ("boolean estimate", {"effects": [effect(estimate=True)]}, "effects.0.estimate: must be a number"),
    (
        "two conditions need effect condition",
        {
            "conditions": {"reported": ["SCI", "TBI"], "ids": ["spinal-cord-injury", "traumatic-brain-injury"]},
            "effects": [effect()],
        },
        "effects.0.condition: is required when the record has more than one condition",
    ),
    (
        "effect condition not on record",
        {"effects": [effect(condition="asthma")]},
        "effects.0.condition: must be one of the record's",
    ),
    # citation and dates
    (
        "label year differs",
        {"citation": {"first_author": "T", "label": "T et al. (2023)", "year": 2024, "journal": "J"}},
        "citation.year: must match the year in the label (2023)",
    ),
    (
        "future year",
        {"citation": {"first_author": "T", "label": "T et al. (2999)", "year": 2999, "journal": "J"}},
        "citation.year: must be between 1990",
    ),
    (
        "doi not doi-shaped",
        {
            "citation": {
                "first_author": "T",
                "label": "T (2024)",
                "year": 2024,
                "journal": "J",
                "doi": "javascript:alert(1)",
            }
        },
        "citation.doi: must be",
    ),
    (
        "url not https",
        {
            "citation": {
                "first_author": "T",
                "label": "T (2024)",
                "year": 2024,
                "journal": "J",
                "url": "http://example.org",
            }
        },
        "citation.url: must be a https:// link",
    ),
    (
        "url javascript",
        {
            "citation": {
                "first_author": "T",
                "label": "T (2024)",
                "year": 2024,
                "journal": "J",
                "url": "javascript:alert(1)",
            }
        },
        "citation.url: must be a https:// link",
    ),
    (
        "doi fine",
        {
            "citation": {
                "first_author": "T",
                "label": "T (2024)",
                "year": 2024,
                "journal": "J",
                "doi": "10.1007/s12015-024-01234-5",
                "url": "https://doi.org/10.1007/x",
            },
            "lookup": {"doi": "https://doi.org/10.1007/s12015-024-01234-5"},
        },
        None,
    ),
    ("impossible date", {"added": "2024-02-30"}, "added: must be a real calendar date"),
    ("date in the future", {"updated": "2999-01-01"}, "updated: must not be in the future"),
    (
        "updated before added",
        {"added": "2024-06-02", "updated": "2024-06-01"},
        "updated: must not be earlier than added",
    ),
    ("date as other format", {"added": "01/06/2024"}, "added: must be"),
    # text is plain
    ("script in summary", {"summary": "Fine <script>alert(1)</script>"}, "summary: must be plain text"),
    ("handler attribute", {"intervention": 'x" onmouseover="alert(1)'}, "intervention: must be plain text"),
    ("markdown link", {"summary": "See [here](javascript:alert(1))"}, "summary: must be plain text"),
    ("markdown image", {"summary": "![x](data:image/png;base64,AAAA)"}, "summary: must be plain text"),
    ("bare data url", {"notes": "data:text/html;base64,PHNjcmlwdD4="}, "notes: must be plain text"),
    ("less-than in prose is fine", {"summary": "The effect held (p < 0.01) in rats < 3 months old."}, None),
    ("bidi override", {"summary": "abc\u202edef"}, "summary: must not contain control"),
    ("template placeholder", {"intervention": "FILL IN"}, "intervention: must be filled in"),
    # discrepancies
    (
        "discrepancy on a missing field",
        {"discrepancies": [{"kind": "erratum", "field": "effects.9.estimate", "description": "x"}]},
        "discrepancies.0.field: must name a field path that exists",
    ),
    (
        "quality numbers",
        {"heterogeneity": {"i2_min": 90, "i2_max": 20, "source": "Table 3"}},
        "heterogeneity.i2_min: must not exceed i2_max",
    ),
    (
        "egger p out of range",
        {"publication_bias": {"egger_p": 2, "source": "Table 2"}},
        "publication_bias.egger_p: must be between 0 and 1",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(overrides: dict[str, Any], expected: str | None) -> None:
    data = base_record()
    for key, value in overrides.items():
        if value is ...:
            data.pop(key)
        else:
            data[key] = value
    found = messages(data)
    if expected is None:
        assert found == []
    else:
        assert any(expected in m for m in found), found


def test_acknowledged_discrepancy_turns_error_into_warning(tmp_path: Path) -> None:
    data = base_record(effects=[effect(estimate=5.0)])
    write_record(tmp_path, data)
    [checked] = check_folder(tmp_path, VOCAB)
    assert [p.warning for p in checked.problems] == [False]
    data["discrepancies"] = [{"kind": "erratum", "field": "effects.0.estimate", "description": "as published"}]
    write_record(tmp_path, data)
    [checked] = check_folder(tmp_path, VOCAB)
    assert checked.ok
    [warning] = checked.problems
    assert warning.warning and "acknowledged erratum" in str(warning)
    assert str(warning).startswith("warning: ")


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("conditions.ids", {"conditions": {"reported": ["Sepsis"], "ids": ["sepsiss"]}}),  # an unknown id
        ("n_studies", {"n_studies": "ten"}),  # the schema: a word for a number
        ("summary", {"summary": "Left to FILL IN by the author, " + "word " * 20}),  # a placeholder
    ],
)
def test_a_discrepancy_cannot_acknowledge_what_the_build_relies_on(
    tmp_path: Path, field: str, change: dict[str, Any]
) -> None:
    """Only the plausibility rules a source's own printed values can break are acknowledged: a
    record whose discrepancy names a field with an unknown id, a wrong type or a placeholder stays
    invalid, and the validator says so instead of failing later, in the build."""
    data = base_record(**change)
    data["discrepancies"] = [{"kind": "disagreement", "field": field, "description": "as published"}]
    write_record(tmp_path, data)
    [checked] = check_folder(tmp_path, VOCAB)
    assert not checked.ok
    assert any(p.field.startswith(field) and not p.warning for p in checked.problems), checked.problems
    proc = build_py("validate", "--evidence", str(tmp_path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr


def test_duplicate_ids_and_file_names(tmp_path: Path) -> None:
    data = base_record()
    write_record(tmp_path, data, "test-2024")
    write_record(tmp_path, data, "zz-2024")
    lines = [str(p) for c in check_folder(tmp_path, VOCAB) for p in c.problems]
    assert any("zz-2024.yaml" in ln and "id: must equal the file name ('zz-2024')" in ln for ln in lines)
    assert any("zz-2024.yaml" in ln and "id: must be unique; also used by" in ln for ln in lines)


BROKEN_EXPECTED = """\
tests/fixtures/broken/broken-2024.yaml:6: citation.year: must match the year in the label (2023); got 2024
tests/fixtures/broken/broken-2024.yaml:8: n_studies: must be at least 1; got 0
tests/fixtures/broken/broken-2024.yaml:11: conditions.ids.0: must be a condition id from vocab/conditions.yaml; did you mean 'spinal-cord-injury'? a new condition is proposed by adding it to vocab/conditions.yaml in the same pull request (CONTRIBUTING.md); got "spinal-cord"
tests/fixtures/broken/broken-2024.yaml:25: effects.0.ci_low: must not exceed ci_high (2.0); got 4.0
tests/fixtures/broken/broken-2024.yaml:27: effects.0.i2: must be between 0 and 100; got 120
tests/fixtures/broken/broken-2024.yaml:33: effects.1.estimate: must be greater than 0 for a ratio measure (HR); got -0.5
tests/fixtures/broken/broken-2024.yaml:34: effects.1.improves: must be one of lower, higher; got "upwards"
tests/fixtures/broken/broken-2024.yaml:43: colour: unknown key; allowed keys: id, found_by, citation, lookup, n_studies, conditions, intervention, sources, species, outcomes, effects, effect_notes, subgroups, heterogeneity, risk_of_bias, publication_bias, amstar2, dosing, summary, provenance, discrepancies, added, updated, notes
tests/fixtures/broken/broken-2024.yaml:44: added: must be a real calendar date (YYYY-MM-DD); got "2024-02-30"
9 errors
"""


def test_broken_record_gives_exactly_its_errors() -> None:
    proc = build_py("validate", "--evidence", str(FIXTURES / "broken"))
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == BROKEN_EXPECTED


def test_real_records_validate() -> None:
    proc = build_py("validate")
    assert proc.returncode == 0, proc.stderr
    records = sorted(EVIDENCE.glob("*.yaml"))
    conditions = {c for path in records for c in load(decode(path.read_bytes())).data["conditions"]["ids"]}
    assert proc.stdout.startswith(f"{len(records)} records valid: {len(conditions)} conditions")
    # The only warnings are published inconsistencies the records acknowledge.
    assert all(line.startswith("warning: ") and "acknowledged" in line for line in proc.stderr.splitlines())


def test_github_annotations_name_file_and_line() -> None:
    proc = build_py("validate", "--format", "github", "--evidence", str(FIXTURES / "broken"))
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines[0] == (
        "::error file=tests/fixtures/broken/broken-2024.yaml,line=6,title=citation.year::"
        "must match the year in the label (2023); got 2024"
    )
    assert len([ln for ln in lines if ln.startswith("::error ")]) == 9 and lines[-1] == "9 errors"


# Shortcuts: a rule the file's text shows cannot fire is skipped; the outcome must not change.


def _issues(text: str, with_text: bool) -> list[tuple[Any, str]]:
    data = load(text).data
    found = check_record(data, load_vocabularies(), text if with_text else None)
    return [(i.path, i.rule) for i in found]


def _as_yaml(data: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=60)


def test_the_file_shortcuts_never_change_what_a_record_is_told() -> None:
    """Every real record and every broken fixture: the same issues with the shortcuts as without."""
    files = sorted(EVIDENCE.glob("*.yaml")) + sorted((FIXTURES / "bad").glob("*.yaml"))
    checked = 0
    for path in files:
        try:
            text = decode(path.read_bytes())
            load(text)
        except Exception:  # a fixture the loader refuses never reaches the rules
            continue
        assert _issues(text, True) == _issues(text, False), path.name
        checked += 1
    assert checked > len(list(EVIDENCE.glob("*.yaml")))


@pytest.mark.parametrize(
    "change",
    [
        {"summary": "Left to FILL IN by the author, " + "word " * 20},  # folded over two lines below
        {"summary": "A summary with <b>markup</b> in it"},
        {"summary": "A link [here] (https://example.org) split"},
        {"summary": "javascr\u0130pt: a letter that folds to i"},
        {"summary": "an escaped bidirectional override \u202e here"},
        {"summary": "a handler onclick = x"},
    ],
)
def test_a_shortcut_misses_nothing_the_rule_finds(change: dict[str, Any]) -> None:
    text = _as_yaml(base_record(**change))
    assert _issues(text, True) == _issues(text, False)


@pytest.mark.parametrize(
    "number",
    [".inf", "-.inf", ".NaN", "1.0e+999", "1" + "0" * 400 + ".0", "1_0.5e+999", "!!float inf", '!!float "1e999"'],
)
def test_a_number_that_is_not_finite_is_found_with_the_shortcut(number: str) -> None:
    text = _as_yaml(base_record()).replace("n_studies: ", "n_studies_was: ", 1) + f"extra_number: {number}\n"
    with_text, without = _issues(text, True), _issues(text, False)
    assert with_text == without
    assert any(rule == "must be a finite number" for _, rule in with_text)


def test_a_placeholder_split_over_two_lines_is_still_found() -> None:
    text = _as_yaml(base_record(summary="word " * 11 + "FILL IN " + "word " * 11)).replace("FILL IN", "FILL\n  IN")
    assert "FILL IN" in load(text).data["summary"]  # the line break folds into a space
    assert any("placeholder" in rule for _, rule in _issues(text, True))


def test_a_kept_check_is_reused_only_while_its_file_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """checkcache.py: a second check of a folder reads each unchanged file's outcome (the same
    problems, lines and data) without checking it again, and checks again the file that changed."""
    from evidence_map.records import validate

    folder = tmp_path / "evidence"
    shutil.copytree(FIXTURES / "bad", folder)
    write_record(folder, base_record())
    cache, vocab = tmp_path / "checks", load_vocabularies()

    def outcome(results: list[validate.Checked]) -> list[tuple[str, list[str], str | None]]:
        """Each file's problems and data (by repr: a NaN never equals itself)."""
        return [(r.shown_as, [str(p) for p in r.problems], repr(r.loaded.data) if r.loaded else None) for r in results]

    plain = outcome(check_folder(folder, vocab))
    assert any(problems for _, problems, _ in plain)  # the fixture's errors are among them
    assert outcome(check_folder(folder, vocab, cache)) == plain
    checked = []
    real = validate.check_file
    monkeypatch.setattr(validate, "check_file", lambda path, *a, **k: checked.append(path.name) or real(path, *a, **k))
    assert outcome(check_folder(folder, vocab, cache)) == plain
    assert checked == []

    record = folder / "test-2024.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("year: 2024", "year: 1024"), encoding="utf-8")
    again = outcome(check_folder(folder, vocab, cache))
    assert checked == ["test-2024.yaml"]
    assert again != plain and outcome(check_folder(folder, vocab)) == again
    import pickle

    kept = pickle.loads((cache / "checks.pickle").read_bytes())
    assert len(kept) == len(again)  # the entry of the file as it was is gone


def _outcome(results: list[Any]) -> list[tuple[str, list[str], str | None]]:
    """Each file's problems and data (by repr: a NaN never equals itself), in order."""
    return [(r.shown_as, [str(p) for p in r.problems], repr(r.loaded.data) if r.loaded else None) for r in results]


def _all_records_and_bad_fixtures(tmp_path: Path) -> Path:
    folder = tmp_path / "evidence"
    shutil.copytree(FIXTURES / "bad", folder)
    for path in EVIDENCE.glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    return folder


def test_checks_made_in_a_second_process_are_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """checkpool.py: every real record and broken fixture, checked on two processes, has the outcome
    it has when checked in one, in the same order; kept checks made there read back the same."""
    from evidence_map.records import checkpool

    folder, vocab, cache = _all_records_and_bad_fixtures(tmp_path), load_vocabularies(), tmp_path / "checks"
    monkeypatch.setenv(checkpool.SPLIT_SETTING, str(10**9))
    alone = _outcome(check_folder(folder, vocab))
    assert any(problems for _, problems, _ in alone) and any(not problems for _, problems, _ in alone)

    from evidence_map.records import validate

    made: list[int] = []  # how many checks each call had from the second process

    def spy(*args: Any) -> list[checkpool.Outcome]:
        outcomes = checkpool.check_items(*args)
        made.append(sum(o.pickled is not None for o in outcomes))
        return outcomes

    monkeypatch.setattr(validate, "check_items", spy)
    monkeypatch.setenv(checkpool.SPLIT_SETTING, "2")
    assert _outcome(check_folder(folder, vocab)) == alone
    assert _outcome(check_folder(folder, vocab, cache)) == alone
    assert made[0] >= len(alone) * checkpool.SHARE - 1 and made[1] == made[0]  # the second process's share
    assert _outcome(check_folder(folder, vocab, cache)) == alone  # read back from the kept checks
    assert made[2] == 0  # nothing left to check


def _die(*_: Any) -> None:
    import os

    os._exit(3)  # as a process killed for lack of memory would


def test_the_checks_of_a_second_process_that_fails_are_made_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evidence_map.records import checkpool

    folder, vocab = _all_records_and_bad_fixtures(tmp_path), load_vocabularies()
    monkeypatch.setenv(checkpool.SPLIT_SETTING, str(10**9))
    alone = _outcome(check_folder(folder, vocab))
    monkeypatch.setenv(checkpool.SPLIT_SETTING, "2")
    monkeypatch.setattr(checkpool, "_second_share", _die)
    assert _outcome(check_folder(folder, vocab)) == alone
