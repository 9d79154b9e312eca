"""A valid new review, added as a pull request would add it, passes every check CI runs.

The repository is copied (its tracked and untracked, not ignored, files), committed as the base,
and one valid record is added on top. Then each CI stage runs in the copy: validation, lint, the
test suite, the strict site build and `build.py diff`. The browser tests are left out of the
copy's run to keep CI short; they run on the real tree and, like every test, derive what they
expect from the records. MAP_CONTRIBUTION_COPY keeps this test from running inside its own copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.sitebuild import ROOT

NEW = FIXTURES / "contribution" / "okafor-2026.yaml"
COPY_FLAG = "MAP_CONTRIBUTION_COPY"

pytestmark = pytest.mark.skipif(bool(os.environ.get(COPY_FLAG)), reason="already inside the contribution copy")


def repository_files() -> list[str]:
    proc = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    )
    return [f for f in proc.stdout.decode().split("\0") if f and (ROOT / f).is_file()]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_a_valid_new_record_passes_every_ci_stage(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    for rel in repository_files():
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, copy / rel)
    git(copy, "init", "-q", "-b", "main")
    git(copy, "add", "-A")
    git(copy, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "base")
    text = NEW.read_text(encoding="utf-8")
    assert "yaml-language-server" not in text  # written by hand: no modeline, no optional field
    (copy / "evidence" / NEW.name).write_text(text, encoding="utf-8")

    env = {
        **os.environ,
        "PYTHON": sys.executable,
        COPY_FLAG: "1",
        "PYTEST_ADDOPTS": "-q -p no:cacheprovider --ignore=tests/test_browser.py",
    }
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.pop("GITHUB_ACTIONS", None)

    def stage(*args: str) -> str:
        proc = subprocess.run(
            ["bash", ".ci/steps", *args], cwd=copy, env=env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, f".ci/steps {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        return proc.stdout

    # The copy's own code runs, not this tree's.
    where = subprocess.run(
        [sys.executable, "-c", "import evidence_map.paths as p; print(p.ROOT)"],
        cwd=copy,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()) == copy

    records = len(list((copy / "evidence").glob("*.yaml")))
    assert stage("validate").startswith(f"{records} records valid")
    stage("lint")
    assert " passed" in stage("test")
    stage("build")
    assert (copy / "site" / "reviews" / "okafor-2026" / "index.html").is_file()
    report = stage("diff", "HEAD")
    assert "Records added:\n  okafor-2026: Okafor et al. (2026)" in report
    summary = (copy / "site" / "map-diff.md").read_text(encoding="utf-8")  # Markdown, record text escaped
    assert "### Pages added" in summary and "reviews/okafor&#45;2026/" in summary
