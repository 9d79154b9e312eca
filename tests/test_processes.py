"""The build's other processes forked (processes.py): a build that runs no other thread forks them,
and what they make is what one process makes. The pages' second process forked is tested with the
rest of it (test_reviewpages); the same work spawned is tested where it is used (test_validate,
test_reviewpages, test_charts): test processes run another thread, so they spawn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evidence_map.paths import ROOT
from evidence_map.processes import START_SETTING
from evidence_map.publishing.chartrender import ChartRenderer
from evidence_map.records import checkpool
from evidence_map.records.validate import check_folder
from tests.test_validate import _all_records_and_bad_fixtures, _outcome

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in Linux's /proc")


def forked(what: str, where: Path, **env: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.forked", what, str(where)],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != START_SETTING} | env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    made: dict[str, Any] = json.loads(proc.stdout)
    return made


def threads_seen(code: str, **env: str) -> str:
    run = [sys.executable, "-c", f"from evidence_map.processes import single_threaded\n{code}"]
    proc = subprocess.run(run, cwd=ROOT, env=os.environ | env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_a_process_with_another_thread_is_not_single_threaded() -> None:
    assert threads_seen("print(single_threaded())") == "True"
    started = "import threading, time\nthreading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n"
    assert threads_seen(started + "print(single_threaded())") == "False"
    assert threads_seen("print(single_threaded())", **{START_SETTING: "spawn"}) == "False"


def test_checks_made_in_a_forked_process_are_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _all_records_and_bad_fixtures(tmp_path)
    monkeypatch.setenv(checkpool.SPLIT_SETTING, str(10**9))
    alone = _outcome(check_folder(folder))
    got = forked("checks", folder, **{checkpool.SPLIT_SETTING: "2"})
    assert got["methods"] == ["fork"]
    assert [tuple(x) for x in got["made"]] == alone


def test_charts_drawn_in_forked_processes_are_the_same(tmp_path: Path) -> None:
    from tests.test_charts import LI, YE, every_figure, evidence_of

    alone = ChartRenderer(tmp_path / "alone").svgs(every_figure(evidence_of(YE, LI)), workers=1)
    got = forked("charts", tmp_path / "forked")
    assert got["methods"] == ["fork"]
    assert got["made"] == alone
    assert list((tmp_path / "forked").glob("*.svg"))  # drawn there, and kept in the cache
