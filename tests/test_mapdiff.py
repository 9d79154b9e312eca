"""`build.py diff`: the map-level consequences of a change, on a fixture repository it builds itself."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evidence_map.mapdiff import state_of
from tests.conftest import FIXTURES, base_record, write_record
from tests.sitebuild import ROOT

NEW = FIXTURES / "contribution" / "okafor-2026.yaml"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose main branch has one sepsis review; the work tree adds a second."""
    root = tmp_path / "repo"
    (root / "evidence").mkdir(parents=True)
    shutil.copytree(ROOT / "vocab", root / "vocab")
    base = base_record(id="base-2024")
    base["effects"][0]["i2"] = 20  # a consistent benefit: Moderate, so a heterogeneous newcomer moves it
    write_record(root / "evidence", base)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "base")
    shutil.copy(NEW, root / "evidence" / NEW.name)
    return root


def diff(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "build.py", "diff", *args, "--evidence", str(repo / "evidence")]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)


def test_diff_names_the_new_record_its_page_and_the_verdict_it_changes(repo: Path, tmp_path: Path) -> None:
    # What the engine says, each side on its own: the expectation is computed, not written down.
    only_base = tmp_path / "only-base"
    only_base.mkdir()
    shutil.copy(repo / "evidence" / "base-2024.yaml", only_base)
    before = state_of(only_base, repo / "vocab").grades["sepsis"].overall.label
    after = state_of(repo / "evidence", repo / "vocab").grades["sepsis"].overall.label
    assert before != after, "the fixture must change the sepsis verdict"

    proc = diff(repo, "HEAD")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Records added:\n  okafor-2026: Okafor et al. (2026)" in out
    assert f"Sepsis: {before} → {after} (now deciding: Okafor et al. (2026): Quokkafin lung injury score" in out
    assert "Sepsis × histology:" in out
    assert "reviews/okafor-2026/" in out and "sources/bm/" not in out.split("Pages added:")[1]
    assert "Records removed" not in out and "Records changed" not in out


def test_a_changed_record_lists_its_fields_and_a_clean_tree_says_nothing_changed(repo: Path) -> None:
    (repo / "evidence" / NEW.name).unlink()
    proc = diff(repo, "HEAD")
    assert proc.returncode == 0 and "No change to the records, verdicts or pages." in proc.stdout
    path = repo / "evidence" / "base-2024.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("n_studies: 30", "n_studies: 31"), encoding="utf-8")
    proc = diff(repo, "HEAD")
    assert "Records changed:\n  base-2024: n_studies" in proc.stdout


def test_markdown_report_escapes_record_text(repo: Path, tmp_path: Path) -> None:
    path = repo / "evidence" / NEW.name
    path.write_text(path.read_text(encoding="utf-8").replace("Quokkafin lung", "_Quokkafin_ lung"), encoding="utf-8")
    summary = tmp_path / "summary.md"
    proc = diff(repo, "HEAD", "--format", "markdown", "--output", str(summary))
    assert proc.returncode == 0, proc.stderr
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## What this change does to the map (against HEAD)")
    assert "### Verdicts that change" in text and "_Quokkafin_" not in text and "&#95;Quokkafin&#95;" in text


def test_unknown_revision_and_invalid_records_fail_with_a_message(repo: Path) -> None:
    proc = diff(repo, "no-such-branch")
    assert proc.returncode == 2 and "cannot read 'no-such-branch' from git" in proc.stderr
    path = repo / "evidence" / NEW.name
    path.write_text(path.read_text(encoding="utf-8").replace("i2: 85", "i2: 185"), encoding="utf-8")
    proc = diff(repo, "HEAD")
    assert proc.returncode == 1
    line = path.read_text(encoding="utf-8").splitlines().index("    i2: 185") + 1
    assert f"okafor-2026.yaml:{line}: effects.0.i2: must be between 0 and 100; got 185" in proc.stderr


def test_a_base_that_fails_todays_rules_is_still_compared(repo: Path) -> None:
    """A change that adds a rule and fixes the records it catches, in one go: the base no longer
    validates under the new rules, and the diff must still say what the change does."""
    base = repo / "evidence" / "base-2024.yaml"
    broken = base.read_text(encoding="utf-8").replace("label: Aghayan et al. (2024)", "label: Aghayan et al. (2023)")
    assert broken != base.read_text(encoding="utf-8")
    base.write_text(broken, encoding="utf-8")
    git(repo, "commit", "-qam", "a base record this version's rules refuse")
    base.write_text(broken.replace("label: Aghayan et al. (2023)", "label: Aghayan et al. (2024)"), encoding="utf-8")
    proc = diff(repo, "HEAD")
    assert proc.returncode == 0, proc.stderr
    assert "Records changed:\n  base-2024: label" in proc.stdout
    # The side being checked still must validate.
    base.write_text(broken, encoding="utf-8")
    assert diff(repo, "HEAD").returncode == 1
