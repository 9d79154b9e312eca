"""The digest of a build's inputs: equal when nothing a build reads has changed, different otherwise."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evidence_map.paths import EVIDENCE
from evidence_map.publishing.inputs import input_digest


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    folder = tmp_path / "evidence"
    shutil.copytree(EVIDENCE, folder)
    return folder


def digest(evidence: Path, out: Path, **kw: object) -> str:
    args = {"strict": True, "data_commit": "abc1234", **kw}
    return input_digest(evidence, out, bool(args["strict"]), str(args["data_commit"]))


def test_the_same_inputs_give_the_same_digest(evidence: Path, tmp_path: Path) -> None:
    assert digest(evidence, tmp_path / "site") == digest(evidence, tmp_path / "site")


def test_any_change_to_what_a_build_reads_changes_the_digest(
    evidence: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    before = digest(evidence, out)
    record = next(iter(sorted(evidence.glob("*.yaml"))))
    text = record.read_text(encoding="utf-8")
    record.write_text(text + "\n", encoding="utf-8")  # one byte more, same data
    assert digest(evidence, out) != before
    record.write_text(text, encoding="utf-8")
    assert digest(evidence, out) == before
    hidden = evidence / ".drafts"  # whatever folder a record sits in
    hidden.mkdir()
    (hidden / "x.yaml").write_text("id: x\n", encoding="utf-8")
    assert digest(evidence, out) != before
    shutil.rmtree(hidden)
    assert digest(evidence, out) == before
    assert digest(evidence, out, strict=False) != before
    assert digest(evidence, out, data_commit="def5678") != before
    assert digest(evidence, tmp_path / "elsewhere") != before
    monkeypatch.setenv("SITE_URL", "https://example.org/fork/")
    assert digest(evidence, out) != before
