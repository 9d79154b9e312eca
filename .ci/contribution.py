"""A valid new review, added as a pull request would add it, passes what CI checks of records.

The repository is copied (its tracked and untracked, not ignored, files), committed as the base, and
one valid record (tests/fixtures/contribution/) is added on top, with its screening entry, as a
contributor adds a review the umbrella review did not include. Then, in the copy: validation, the
tests that read the map's own records (`pytest -m records`, browser tests left out), the strict
site build and `build.py diff`. So no test pins the live dataset and no check refuses a good
contribution. Run by `.ci/steps contribution`; prints what it did and exits 1 on the first failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEW = ROOT / "tests" / "fixtures" / "contribution" / "okafor-2026.yaml"
ENTRY = NEW.with_name("screening-entry.yaml")  # its included entry, appended to screening/queue.yaml


class Failed(Exception):
    pass


def repository_files() -> list[str]:
    proc = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    )
    return [f for f in proc.stdout.decode().split("\0") if f and (ROOT / f).is_file()]


def run(copy: Path, env: dict[str, str], *cmd: str) -> str:
    print(f"$ {' '.join(cmd)}", flush=True)
    proc = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise Failed(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc.stdout


def check(copy: Path) -> None:
    for rel in repository_files():
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, copy / rel)
    git = ("git", "-c", "user.name=ci", "-c", "user.email=ci@example.org")
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS")}
    env["PYTHON"] = sys.executable
    run(copy, env, *git, "init", "-q", "-b", "main")
    run(copy, env, *git, "add", "-A")
    run(copy, env, *git, "commit", "-q", "-m", "base")
    text = NEW.read_text(encoding="utf-8")
    if "yaml-language-server" in text:
        raise Failed(f"{NEW.name} must be written as a contributor would by hand: no modeline")
    (copy / "evidence" / NEW.name).write_text(text, encoding="utf-8")
    queue = copy / "screening" / "queue.yaml"
    with open(queue, "a", encoding="utf-8") as fh:
        fh.write(ENTRY.read_text(encoding="utf-8"))

    # The copy's own code runs, not this tree's.
    where = run(copy, env, sys.executable, "-c", "import evidence_map.paths as p; print(p.ROOT)")
    if Path(where.strip()) != copy:
        raise Failed(f"the copy imports the code of {where.strip()}, not its own")

    records = len(list((copy / "evidence").glob("*.yaml")))
    out = run(copy, env, "bash", ".ci/steps", "validate")
    if not out.startswith(f"{records} records valid"):
        raise Failed(f"validate did not report {records} records valid:\n{out}")
    out = run(
        copy, env, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "records",
        "--ignore-glob=tests/test_*browser.py",
    )  # fmt: skip
    if " passed" not in out:
        raise Failed(f"the record tests did not run:\n{out[-2000:]}")
    run(copy, env, "bash", ".ci/steps", "build")
    if not (copy / "site" / "reviews" / NEW.stem / "index.html").is_file():
        raise Failed(f"the build made no page for {NEW.stem}")
    report = run(copy, env, "bash", ".ci/steps", "diff", "HEAD")
    if f"Records added:\n  {NEW.stem}: Okafor et al. (2026)" not in report:
        raise Failed(f"the diff does not list {NEW.stem} as added:\n{report}")
    summary = (copy / "site" / "map-diff.md").read_text(encoding="utf-8")  # Markdown, record text escaped
    if "### Pages added" not in summary or "reviews/okafor&#45;2026/" not in summary:
        raise Failed(f"map-diff.md does not list the new page:\n{summary}")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="contribution-") as tmp:
        try:
            check(Path(tmp) / "repo")
        except Failed as exc:
            print(f"contribution check failed: {exc}", file=sys.stderr)
            return 1
    print(f"contribution check passed: {NEW.name} validates, passes the record tests, builds and diffs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
