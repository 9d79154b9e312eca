"""The records in evidence/: coverage of the vocabularies, and a faithful round trip to the exports.

Expectations are derived from the records themselves, so a new valid record never fails these tests.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import yaml

from evidence_map.paths import EVIDENCE, ROOT, SCHEMA
from evidence_map.publishing.exports import reviews_csv, reviews_json
from evidence_map.records.evidence import Evidence
from evidence_map.records.vocab import load_vocabularies
from evidence_map.records.yamlsafe import decode, load
from tests.sitebuild import build_py


def test_every_condition_has_a_record(evidence: Evidence) -> None:
    covered = {c for r in evidence.records for c in r.conditions}
    assert covered == set(evidence.vocab.conditions.ids)


def test_condition_names_are_table_3s() -> None:
    table3 = yaml.safe_load((ROOT / "audit" / "paper-table3.yaml").read_text(encoding="utf-8"))
    vocab = yaml.safe_load((ROOT / "vocab" / "conditions.yaml").read_text(encoding="utf-8"))
    # Every row of the paper's Table 3 is a condition of the map (the map may add conditions).
    assert {c["id"] for c in table3["conditions"]} <= {c["id"] for c in vocab["conditions"]}
    names = [c["name"] for c in vocab["conditions"]]
    assert "Wound Healing/Skin Regeneration" in names and "NAFLD/NASH" in names


def test_every_file_name_is_its_id() -> None:
    # The schema modeline is a help for editors, not a rule: validate does not require it, so
    # neither does the suite (the contribution check, .ci/contribution.py, adds a record without one).
    for path in sorted(EVIDENCE.glob("*.yaml")):
        assert load(decode(path.read_bytes())).data["id"] == path.stem


def test_seed_disagreements_are_recorded(evidence: Evidence) -> None:
    jab = evidence.by_id("jabermoradi-2025")
    assert jab.year == 2024 and jab.label.endswith("(2025)")
    assert any(d.field == "citation.year" for d in jab.discrepancies)
    ef = evidence.by_id("zhang-2016b")
    assert any(d.kind == "erratum" and d.field.startswith("effects.0") for d in ef.discrepancies)
    assert sum(len(r.discrepancies) for r in evidence.records) >= 40


def test_reviews_json_round_trips_every_record(evidence: Evidence) -> None:
    rows = json.loads(reviews_json(evidence))
    assert [row["id"] for row in rows] == [r.id for r in evidence.records]
    for row, rec in zip(rows, evidence.records, strict=True):
        assert row["label"] == rec.label and row["year"] == rec.year and row["journal"] == rec.journal
        assert row["n_studies"] == rec.n_studies
        assert row["conditions"] == [evidence.vocab.conditions.get(c).name for c in rec.conditions]
        assert row["rob_tool"] == rec.rob_tool and row["rob_overall"] == rec.rob_overall
        assert len(row["effects"]) == len(rec.effects)
        for out, eff in zip(row["effects"], rec.effects, strict=True):
            for key in ("outcome", "domain", "measure", "estimate", "ci_low", "ci_high", "i2", "p"):
                assert out[key] == getattr(eff, key)


def test_reviews_csv_has_one_row_per_record(evidence: Evidence) -> None:
    rows = list(csv.DictReader(io.StringIO(reviews_csv(evidence))))
    assert [row["id"] for row in rows] == [r.id for r in evidence.records]
    for row, rec in zip(rows, evidence.records, strict=True):
        assert row["conditions"] == "; ".join(evidence.vocab.conditions.get(c).name for c in rec.conditions)


def test_export_command_writes_the_files(tmp_path: Path) -> None:
    proc = build_py("export", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "conditions.json",
        "effects.csv",
        "effects.json",
        "reviews.csv",
        "reviews.json",
        "summary-of-findings.csv",
    ]
    conditions = json.loads((tmp_path / "conditions.json").read_text(encoding="utf-8"))
    assert len(conditions) == len(load_vocabularies().conditions.ids)
    assert set(conditions[0]) >= {"condition", "category", "n_reviews", "verdict", "sensitivity_verdict", "domains"}


def test_schema_documents_every_field() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))

    def walk(node: dict, path: str) -> None:
        for name, sub in node.get("properties", {}).items():
            assert sub.get("title") and sub.get("description"), f"{path}{name} lacks a title or description"
            walk(sub, f"{path}{name}.")
            if "items" in sub and isinstance(sub["items"], dict):
                walk(sub["items"], f"{path}{name}[].")

    walk(schema, "")


def test_the_vocabularies_read_by_libyaml_are_those_the_python_loader_reads() -> None:
    import yaml

    from evidence_map.paths import VOCAB
    from evidence_map.records import vocab

    for path in sorted(VOCAB.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=vocab.SAFE_LOADER) == yaml.load(text, Loader=yaml.SafeLoader), path.name


def test_a_records_repository_path_is_the_same_with_its_folder_resolved_once(tmp_path: Path) -> None:
    from evidence_map.paths import EVIDENCE
    from evidence_map.records.evidence import repo_path

    link = tmp_path / "linked.yaml"
    first = sorted(EVIDENCE.glob("*.yaml"))[0]
    link.symlink_to(first)
    folders: dict[Path, Path] = {}
    for path in [*sorted(EVIDENCE.glob("*.yaml")), link, tmp_path / "elsewhere.yaml"]:
        assert repo_path(path, folders) == repo_path(path)
    assert repo_path(link, folders) == f"evidence/{first.name}"
