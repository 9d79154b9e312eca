"""Shared fixtures: the real records, and helpers that build record data for rule tests."""

from __future__ import annotations

import copy
import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from evidence_map.evidence import Evidence, load_evidence
from evidence_map.paths import EVIDENCE, ROOT

FIXTURES = Path(__file__).parent / "fixtures"


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
    data["id"] = "test-2024"
    data["added"] = data["updated"] = "2024-06-01"
    data.update(overrides)
    return data


def write_record(folder: Path, data: dict[str, Any], name: str | None = None) -> Path:
    path = folder / f"{name or data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The real site built from the real records, once per test session, with --strict."""
    from tests.sitebuild import Built, build

    root = tmp_path_factory.mktemp("built")
    proc = build(root / "site", root / "work")
    assert proc.returncode == 0, proc.stderr
    return Built(root / "site", root / "work", proc.stdout)
