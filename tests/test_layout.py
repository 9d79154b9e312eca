"""The code shows its pipeline: a package per stage, imports only downward, small modules."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from evidence_map.paths import ROOT

PACKAGE = ROOT / "evidence_map"
MAX_LINES = 400
LINT = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", LINT], cwd=cwd, capture_output=True, text=True, timeout=120)


def layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    contract = next(c for c in config["contracts"] if c["type"] == "layers")
    return [str(layer) for layer in contract["layers"]]


def test_every_stage_imports_only_the_stages_before_it() -> None:
    proc = lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    # The contract is real: the same check on a copy whose records import a page renderer fails,
    # and says which import broke it.
    shutil.copytree(PACKAGE, tmp_path / "evidence_map", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    model = tmp_path / "evidence_map" / "records" / "model.py"
    model.write_text(model.read_text(encoding="utf-8") + "\nfrom evidence_map.publishing import pages\n")
    proc = lint_imports(tmp_path)
    assert proc.returncode != 0
    assert "BROKEN" in proc.stdout and "evidence_map.records.model" in proc.stdout


def test_the_contract_places_every_part_of_the_package() -> None:
    # A new top-level module or stage must be given its place in the layers, or this fails.
    parts = {p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" and p.stem != "__init__"}
    parts |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert {layer.removeprefix("evidence_map.") for layer in layers()} == parts


def test_modules_are_small_and_say_what_they_hold() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT).as_posix()
        assert text.count("\n") <= MAX_LINES, f"{rel}: {text.count(chr(10))} lines; split it along what it holds"
        doc = ast.get_docstring(ast.parse(text))
        assert doc and len(doc.split()) >= 5, f"{rel}: a docstring saying what the module holds and why"
