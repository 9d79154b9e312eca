"""Shared fixtures: the real records, and helpers that build record data for rule tests."""

from __future__ import annotations

import copy
import importlib
import inspect
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from hypothesis import settings

from evidence_map.paths import EVIDENCE, ROOT
from evidence_map.records.evidence import Evidence, load_evidence

# The property tests draw new examples at every run here, which is how they find what a fixed draw
# would not (a failure prints the failing example, and the next run tries it first). In CI they draw
# the same ones every run, so that a red run is the change's doing, never the draw's.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

FIXTURES = Path(__file__).parent / "fixtures"
# Fixtures that hand a test the map's own records, or the site built from them.
RECORD_FIXTURES = frozenset({"evidence", "built", "site", "visit"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that read the map's own records (`-m records`): those given one of the
    RECORD_FIXTURES, and those whose own code reads evidence/. `.ci/steps contribution` runs them
    again on a copy of the repository with one more valid record, so none may pin the dataset."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        function = getattr(item, "function", None)
        try:
            code = inspect.getsource(function) if function is not None else ""
        except (OSError, TypeError):
            code = ""
        if fixtures & RECORD_FIXTURES or "EVIDENCE" in code or '"evidence"' in code:
            item.add_marker(pytest.mark.records)


def optional(module: str) -> ModuleType:
    """A test dependency; missing, the test skips locally and fails in CI."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{module} is not installed (pip install -e '.[test]')")


@pytest.fixture(scope="session")
def evidence() -> Evidence:
    return load_evidence(EVIDENCE)


def base_record(**overrides: Any) -> dict[str, Any]:
    """A valid record (the real aghayan-2024 record, renamed) with top-level keys replaced."""
    with open(ROOT / "evidence" / "aghayan-2024.yaml", encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    data = copy.deepcopy(data)
    # Only the seed's own citation fields: the looked-up identifiers belong to the live record.
    data.pop("lookup", None)
    data["citation"] = {k: data["citation"][k] for k in ("first_author", "label", "year", "journal")}
    data["effects"] = [e for e in data["effects"] if e.get("origin") != "original-article"]
    for e in data["effects"]:  # the live record's bookkeeping between its two sources is not the fixture's
        e.pop("graded", None)
        e.pop("not_graded_because", None)
    data["discrepancies"] = [d for d in data.get("discrepancies", []) if d["kind"] != "umbrella-vs-original"]
    data["id"] = "test-2024"
    data["added"] = data["updated"] = "2024-06-01"
    data.update(overrides)
    return data


def copy_records(folder: Path, n: int = 3) -> Path:
    """`folder`, made, holding the first `n` of the map's own record files: a small real map."""
    folder.mkdir(parents=True)
    for path in sorted(EVIDENCE.glob("*.yaml"))[:n]:
        shutil.copy(path, folder / path.name)
    return folder


def write_record(folder: Path, data: dict[str, Any], name: str | None = None) -> Path:
    path = folder / f"{name or data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Any:
    """The real site built from the real records, once per test run, with --strict. The test
    processes (pytest-xdist) share it: the first to ask builds it, under a lock, and the others wait
    for it rather than each building its own."""
    import json

    from filelock import FileLock

    from tests.sitebuild import Built, build, tree_digest

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # the run's folder, above each process's own
    root = shared / "built"
    done = shared / "built.json"
    with FileLock(str(shared / "built.lock")):
        if not done.exists():
            root.mkdir(parents=True, exist_ok=True)
            before = tree_digest(EVIDENCE)
            proc = build(root / "site", root / "work")
            outcome = [proc.returncode, proc.stdout, proc.stderr, before, tree_digest(EVIDENCE)]
            done.write_text(json.dumps(outcome), encoding="utf-8")
    returncode, stdout, stderr, before, after = json.loads(done.read_text(encoding="utf-8"))
    assert returncode == 0, stderr
    return Built(root / "site", root / "work", stdout, before, after)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium for the whole session (tests/browser.py says what it needs); without it the
    tests that use it skip locally and fail when CI=true."""
    from tests.browser import CHROMIUM, LAUNCH_ARGS, unavailable

    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.is_file():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)")
    with sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        except Error as exc:
            unavailable(f"Chromium at {CHROMIUM} does not start: {exc}")
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def site(built: Any) -> Iterator[str]:
    """The built site served on 127.0.0.1 for the whole session; yields its base URL."""
    from tests.browser import serve

    with serve(built.site) as base:
        yield base


@pytest.fixture
def visit(browser: Any, site: str) -> Iterator[Any]:
    """Opens fresh tabs (own storage, so the light palette) at a desktop or phone viewport; closes them after."""
    from tests.browser import DESKTOP, Visit

    opened: list[Visit] = []

    def open_(path: str = "", viewport: dict[str, int] = DESKTOP) -> Visit:
        v = Visit.open(browser, site, viewport)
        opened.append(v)
        v.goto(path)
        return v

    yield open_
    for v in opened:
        v.close()
