"""One record format: the JSON Schema is its definition, and the model, the new-record template,
the CSV columns and the data package fields are proved to agree with it. The template starts
with placeholders that fail until filled, and an editor reading the schema flags range and id
errors while a contributor types."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from evidence_map.paths import SCHEMA
from evidence_map.publishing.datapackage import csv_fields
from evidence_map.publishing.exports import CSV_COLUMNS, CSV_SOURCES
from evidence_map.records.issues import PLACEHOLDER
from evidence_map.records.model import Effect, Record
from evidence_map.records.scaffold import record_template
from evidence_map.records.schemagen import ID_LISTS, schema_text
from evidence_map.records.validate import check_record
from evidence_map.records.vocab import load_vocabularies
from evidence_map.records.yamlsafe import load
from tests.conftest import base_record
from tests.sitebuild import ROOT, build_py

SCHEMA_DATA: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
PROPS = SCHEMA_DATA["properties"]
VOCAB = load_vocabularies()

# Schema sections the model keeps as a mapping, and those it flattens into its own fields.
KEPT_AS_MAPPING = {"heterogeneity", "risk_of_bias", "publication_bias", "amstar2", "dosing", "provenance", "lookup"}
FLATTENED = {"citation", "conditions", "sources", "species"}


def template(record_id: str = "surname-2026") -> str:
    return record_template(record_id, "Surname", "2026", "2026-01-31")


def template_keys(text: str) -> set[str]:
    """Every key the template names, commented out or not."""
    block = re.findall(r"(?m)^[#\s]*-?\s*([a-z_0-9]+):", text)
    flow = re.findall(r"[{,]\s*([a-z_0-9]+):", text)  # keys inside {a: 1, b: 2}
    return set(block) | set(flow)


def schema_keys(node: dict[str, Any]) -> set[str]:
    keys = set()
    for name, sub in node.get("properties", {}).items():
        keys.add(name)
        keys |= schema_keys(sub)
        if isinstance(sub.get("items"), dict):
            keys |= schema_keys(sub["items"])
    return keys


def test_model_has_a_field_for_every_schema_field() -> None:
    record_fields = {f.name for f in dataclasses.fields(Record)}
    for name in PROPS:
        if name in FLATTENED:
            continue
        assert name in record_fields, f"schema field {name!r} has no Record field"
    for name in PROPS["citation"]["properties"]:
        assert name in record_fields, f"citation.{name} has no Record field"
    for name in ("conditions", "sources", "species"):
        assert {name, f"{name}_reported"} <= record_fields
    effect_fields = {f.name for f in dataclasses.fields(Effect)}
    assert effect_fields == set(PROPS["effects"]["items"]["properties"])
    assert set(PROPS) >= KEPT_AS_MAPPING


def test_template_names_every_schema_key_and_no_other() -> None:
    named = template_keys(template())
    documented = schema_keys(SCHEMA_DATA)
    # Deep optional details the template leaves to the schema's descriptions.
    left_to_schema = {
        "p_bound",
        "difference",
        "note",
        "egger_p",
        "egger_p_bound",
        "trim_and_fill",
        "sources_reported",
        "i2_note",
        "reported",
        "kind",
        "field",
        "description",
        "notes",
        "abstract",
        "pmcid",
        "not_found",
    }
    missing = documented - named - left_to_schema
    assert not missing, f"the template does not show {sorted(missing)}"
    unknown = named - documented
    assert not unknown, f"the template names keys the schema does not have: {sorted(unknown)}"


def test_csv_columns_and_data_package_fields_follow_the_schema() -> None:
    assert [f["name"] for f in csv_fields()] == list(CSV_COLUMNS)
    for column, path in CSV_SOURCES.items():
        node: Any = SCHEMA_DATA
        for key in path.split("."):
            node = node["properties"][key]
        field = next(f for f in csv_fields() if f["name"] == column)
        assert field["description"] == node["description"], column
    assert set(CSV_SOURCES) <= set(CSV_COLUMNS)


def test_committed_schema_lists_the_vocabulary_ids() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), "run: python build.py schema"
    proc = build_py("schema", "--check")
    assert proc.returncode == 0, proc.stderr
    for name, path in ID_LISTS.items():
        node = SCHEMA_DATA
        for key in path:
            node = node["properties"][key]
        assert node["items"]["enum"] == getattr(VOCAB, name).ids


# ---------------------------------------------------------------- the editor's view


def editor_errors(data: dict[str, Any]) -> list[str]:
    """What an editor using the JSON Schema alone reports, as field paths."""
    validator = jsonschema.Draft202012Validator(SCHEMA_DATA)
    data = json.loads(json.dumps(data, default=str))  # YAML 1.2, as editors read it, has no date type
    return sorted(".".join(str(p) for p in e.absolute_path) for e in validator.iter_errors(data))


@pytest.mark.parametrize(
    ("change", "flagged"),
    [
        (lambda d: d["effects"][0].update(i2=140), "effects.0.i2"),
        (lambda d: d["effects"][0].update(i2=-1), "effects.0.i2"),
        (lambda d: d["effects"][0].update(p=1.5), "effects.0.p"),
        (lambda d: d.setdefault("heterogeneity", {}).update(i2_max=101), "heterogeneity.i2_max"),
        (lambda d: d["conditions"].update(ids=["sepsys"]), "conditions.ids.0"),
        (lambda d: d["sources"].update(ids=["bm", "adipose"]), "sources.ids.1"),
        (lambda d: d["species"].update(ids=["cat"]), "species.ids.0"),
        (lambda d: d["citation"].update(pmcid="123"), "citation.pmcid"),
    ],
)
def test_the_schema_flags_ranges_and_ids_while_typing(change: Any, flagged: str) -> None:
    data = base_record()
    assert editor_errors(data) == []
    broken = copy.deepcopy(data)
    change(broken)
    assert flagged in editor_errors(broken)


# ---------------------------------------------------------------- the template's placeholders


def parsed(text: str) -> Any:
    return load(text).data  # the strict loader the validator uses


def test_untouched_template_fails_once_per_placeholder() -> None:
    text = template()
    data = parsed(text)
    placeholders = [
        line for line in text.splitlines() if PLACEHOLDER.search(line.split("#", 1)[0] if "#" in line else line)
    ]
    issues = check_record(data, VOCAB)
    assert len(issues) == len(placeholders) >= 20
    assert all(i.rule == "must be filled in (a placeholder from the template is left)" for i in issues)


def test_half_filled_template_names_only_what_is_left() -> None:
    text = template().replace("n_studies: FILL-IN", "n_studies: 12").replace("estimate: FILL-IN", "estimate: 1.2")
    issues = check_record(parsed(text), VOCAB)
    paths = {".".join(map(str, i.path)) for i in issues}
    assert "n_studies" not in paths and "effects.0.estimate" not in paths
    assert {"effects.0.ci_low", "effects.0.measure", "conditions.ids.0", "amstar2.source"} <= paths


def test_no_template_value_validates_by_accident() -> None:
    """Every number and vocabulary id in the template is a placeholder."""
    data = parsed(template())
    eff = data["effects"][0]
    for value in (data["n_studies"], eff["estimate"], eff["ci_low"], eff["ci_high"], eff["domain"], eff["measure"]):
        assert isinstance(value, str) and PLACEHOLDER.search(value)
    for section in ("conditions", "sources", "species"):
        assert all(PLACEHOLDER.search(v) for v in data[section]["ids"])


def test_new_file_link_on_github_carries_the_template() -> None:
    from urllib.parse import parse_qs, urlsplit

    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    links = re.findall(r"(?m)^\[new-file\]: (https://github\.com/\S+/new/main/evidence\?\S+)$", contributing)
    assert links, "CONTRIBUTING.md links to the new-file page with the template"
    query = parse_qs(urlsplit(links[0]).query)
    assert query["filename"] == ["surname-2026.yaml"]
    assert query["value"][0] == template()
    proc = build_py("new", "--link")
    assert proc.stdout.strip() == links[0], "CONTRIBUTING.md's link is out of date: python build.py new --link"


def test_template_file_is_the_one_build_py_new_writes(tmp_path: Path) -> None:
    proc = build_py("new", "surname-2026", "--evidence", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    written = (tmp_path / "surname-2026.yaml").read_text(encoding="utf-8")
    assert written.splitlines()[:5] == template().splitlines()[:5]
    proc = build_py("validate", "--evidence", str(tmp_path))
    errors = [ln for ln in proc.stderr.splitlines() if ": must be filled in" in ln]
    assert proc.returncode == 1 and len(errors) == proc.stderr.count("\n") - 1


def test_contribute_page_links_to_the_new_file_page_with_the_template(built: Any) -> None:
    import html
    from urllib.parse import parse_qs, urlsplit

    page = (built.site / "contribute" / "index.html").read_text(encoding="utf-8")
    [href] = re.findall(r'href="(https://github\.com/[^"]+/new/main/evidence\?[^"]+)"', page)
    query = parse_qs(urlsplit(html.unescape(href)).query)
    assert query["filename"] == ["surname-2026.yaml"] and query["value"][0] == template()


def test_the_console_script_is_the_same_command_line() -> None:
    """`evidence-map` (installed with the project) runs what `build.py` runs."""
    import os
    import shutil

    here = str(Path(sys.executable).parent)
    script = shutil.which("evidence-map", path=os.pathsep.join([here, os.environ.get("PATH", "")]))
    if script is None:
        if os.environ.get("CI"):
            pytest.fail("evidence-map is not installed: pip install -e .")
        pytest.skip("evidence-map is not installed")
    # The same folder for both: the installed script's package may live in another checkout.
    folder = ["validate", "--evidence", str(ROOT / "evidence")]
    mine = subprocess.run([script, *folder], cwd=ROOT, capture_output=True, text=True, check=False)
    theirs = build_py(*folder)
    assert mine.returncode == theirs.returncode == 0
    assert mine.stdout == theirs.stdout and "records valid" in mine.stdout
