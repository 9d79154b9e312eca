"""Where each record came from: one of the umbrella review's reviews (audit/umbrella-review.yaml lists
their ids) or a review the map found, which says so with `found_by`."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from evidence_map.paths import AUDIT, EVIDENCE
from evidence_map.records import umbrella as umbrella_module
from evidence_map.records.evidence import InvalidEvidence, load_evidence
from evidence_map.records.umbrella import add_origin_problems, umbrella
from evidence_map.records.validate import check_file, check_folder
from evidence_map.records.vocab import load_vocabularies
from evidence_map.records.yamlsafe import decode, load
from tests.conftest import base_record, write_record

VOCAB = load_vocabularies()
LISTED = sorted(umbrella().reviews)  # ids of the umbrella review's own reviews
NOT_APPRAISED = {"appraised_by": "not-appraised", "source": "Not appraised yet"}


def origin_messages(tmp_path: Path, **overrides: Any) -> list[str]:
    """The origin problems of one record written from base_record with `overrides`."""
    path = write_record(tmp_path, base_record(**overrides))
    checked = check_file(path, path.name, VOCAB)
    before = list(checked.problems)
    add_origin_problems([checked])
    return [str(p) for p in checked.problems if p not in before]


def line_of(path: Path, key: str) -> int:
    return 1 + next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()) if line.startswith(key))


def test_the_audit_lists_as_many_reviews_as_the_umbrella_review_has() -> None:
    data = yaml.safe_load((AUDIT / "umbrella-review.yaml").read_text(encoding="utf-8"))
    assert len(data["reviews"]) == len(set(data["reviews"])) == data["records"]


def test_a_review_the_umbrella_did_not_include_must_say_how_it_was_found(tmp_path: Path) -> None:
    [message] = origin_messages(tmp_path)  # base_record's id, test-2024, is not one of them
    line = line_of(tmp_path / "test-2024.yaml", "id:")
    assert message.startswith(f"test-2024.yaml:{line}: found_by: is required, as test-2024 is not one of the umbrella")
    assert "give hand-search or standing-search" in message and "record: test-2024" in message


def test_a_review_the_umbrella_did_not_include_cannot_claim_to_be_one_of_its(tmp_path: Path) -> None:
    [message] = origin_messages(tmp_path, found_by="umbrella-review")
    line = line_of(tmp_path / "test-2024.yaml", "found_by:")
    assert message.startswith(f"test-2024.yaml:{line}: found_by: must be hand-search or standing-search")
    assert message.endswith('; got "umbrella-review"')


def test_a_review_of_the_umbrella_cannot_say_the_map_found_it(tmp_path: Path) -> None:
    [message] = origin_messages(tmp_path, id=LISTED[0], found_by="hand-search", amstar2=NOT_APPRAISED)
    assert f"found_by: must be umbrella-review, or left out, as {LISTED[0]} is one of the umbrella" in message
    assert message.endswith('; got "hand-search"')


@pytest.mark.parametrize(
    "overrides",
    [
        {"found_by": "hand-search", "amstar2": NOT_APPRAISED},
        {"found_by": "standing-search", "amstar2": NOT_APPRAISED},
        {"id": LISTED[-1]},
        {"id": LISTED[-1], "found_by": "umbrella-review"},
        {"n_studies": "twelve"},  # another error is told first, and alone
    ],
    ids=["hand-search", "standing-search", "listed", "listed, said", "invalid"],
)
def test_a_record_whose_origin_agrees_gets_no_origin_problem(tmp_path: Path, overrides: dict[str, Any]) -> None:
    assert origin_messages(tmp_path, **overrides) == []


@pytest.mark.records
def test_the_repository_records_are_checked_against_the_list(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The real records pass; once the list leaves out one that relies on the default, loading the
    repository's folder names that record, and a copy of the folder elsewhere is not checked."""
    load_evidence(EVIDENCE)
    files = sorted(EVIDENCE.glob("*.yaml"))
    by_default = [p for p in files if "found_by" not in load(decode(p.read_bytes())).data]
    if not by_default:
        pytest.skip("no record relies on the default found_by")
    left_out = by_default[0]
    shorter = dataclasses.replace(umbrella(), reviews=umbrella().reviews - {left_out.stem})
    monkeypatch.setattr(umbrella_module, "umbrella", lambda: shorter)
    with pytest.raises(InvalidEvidence) as caught:
        load_evidence(EVIDENCE)
    [problem] = caught.value.problems
    assert problem.file.endswith(f"evidence/{left_out.name}") and problem.field == "found_by"
    assert problem.line == line_of(left_out, "id:") and "is required" in problem.rule
    for path in files:
        shutil.copy(path, tmp_path / path.name)
    assert all(c.ok for c in check_folder(tmp_path, VOCAB))
    assert len(load_evidence(tmp_path).records) == len(files)
