"""The downloads as a Data Package, checked by the Frictionless validator against the real files,
and the zip bundle: reproducible to the byte, with safe names only."""

from __future__ import annotations

import csv
import io
import json
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

from evidence_map.judging.computed import compute_map
from evidence_map.judging.grading import grade_all
from evidence_map.paths import ROOT
from evidence_map.publishing.citations import bibtex, ris
from evidence_map.publishing.datapackage import ZIP_EPOCH, csv_fields, datapackage, datapackage_json, zip_bundle
from evidence_map.publishing.exports import CSV_COLUMNS, write_exports
from evidence_map.records.evidence import Evidence
from tests.conftest import optional

DOWNLOADS = {
    "reviews.csv",
    "reviews.json",
    "conditions.json",
    "effects.csv",
    "effects.json",
    "summary-of-findings.csv",
    "references.bib",
    "references.ris",
}


def write_downloads(evidence: Evidence, folder: Path) -> dict[str, bytes]:
    write_exports(compute_map(evidence), folder)
    (folder / "references.bib").write_text(bibtex(evidence), encoding="utf-8")
    (folder / "references.ris").write_text(ris(evidence), encoding="utf-8")
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def downloads(evidence: Evidence, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    folder = tmp_path_factory.mktemp("downloads")
    files = write_downloads(evidence, folder)
    (folder / "datapackage.json").write_text(datapackage_json(evidence, files=files), encoding="utf-8")
    return folder, files


def report_text(report: Any) -> str:
    return "\n".join(f"{task.name}: {error.message}" for task in report.tasks for error in task.errors)


def test_frictionless_validates_the_package(downloads: tuple[Path, dict[str, bytes]]) -> None:
    frictionless = optional("frictionless")
    folder, _ = downloads
    report = frictionless.validate(folder / "datapackage.json")
    assert report.valid, report_text(report)
    tasks = {task.name: task for task in report.tasks}
    assert set(tasks) == {
        "reviews",
        "reviews-json",
        "conditions",
        "effects",
        "effects-json",
        "summary-of-findings",
        "references-bibtex",
        "references-ris",
    }
    assert tasks["reviews"].stats["rows"] > 0
    assert tasks["effects"].stats["rows"] > 0  # read and typed by its Table Schema


def test_the_effects_file_reads_as_numbers_in_any_csv_reader(
    evidence: Evidence, downloads: tuple[Path, dict[str, bytes]]
) -> None:
    _, files = downloads
    rows = list(csv.DictReader(io.StringIO(files["effects.csv"].decode("utf-8"))))
    expected = sum(len([e.condition] if e.condition else r.conditions) for r in evidence.records for e in r.effects)
    assert len(rows) == expected
    for row in rows:
        for column in ("estimate", "ci_low", "ci_high", "i2", "i2_low", "i2_high", "p", "k", "animals"):
            if row[column] != "":
                float(row[column])  # ASCII numbers: no Unicode minus, no prose
        assert row["counts_toward_verdict"] in ("true", "false")
        assert row["condition_id"] in evidence.vocab.conditions.ids
    by_review = {r.id: r for r in evidence.records}
    for row in rows:
        r = by_review[row["review_id"]]
        assert row["doi"] == (r.doi or "") and row["pmid"] == (r.pmid or "")
    as_json = json.loads(files["effects.json"])
    assert len(as_json) == len(rows)
    assert all(isinstance(e["estimate"], (int, float)) or e["estimate"] is None for e in as_json)


def test_the_summary_of_findings_file_has_a_row_per_rated_domain(
    evidence: Evidence, downloads: tuple[Path, dict[str, bytes]]
) -> None:

    _, files = downloads
    grades = grade_all(evidence.vocab.conditions.ids, evidence.records)
    sof = compute_map(evidence).summaries
    rows = list(csv.DictReader(io.StringIO(files["summary-of-findings.csv"].decode("utf-8"))))
    assert [(r["condition_id"], r["domain"]) for r in rows] == [(c, row.domain) for c in grades for row in sof[c].rows]
    for r in rows:
        assert r["certainty"] in ("high", "moderate", "low", "very low", "not rated")
    conditions = json.loads(files["conditions.json"])
    for c in conditions:
        assert c["bottom_line"] == sof[c["id"]].bottom_line
        assert c["no_verdict"] in (None, "research gap", "reporting gap")
        assert (c["no_verdict"] == "research gap") == (c["n_reviews"] == 0)


def test_frictionless_catches_a_changed_file_and_a_bad_value(
    evidence: Evidence, downloads: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    """The descriptor says enough to catch problems: sizes and hashes, and the table's constraints."""
    frictionless = optional("frictionless")
    _, files = downloads
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "datapackage.json").write_text(datapackage_json(evidence, files=files), encoding="utf-8")
    (tmp_path / "references.bib").write_bytes(files["references.bib"] + b"% changed\n")
    report = frictionless.validate(tmp_path / "datapackage.json")
    assert not report.valid
    assert {e.type for t in report.tasks for e in t.errors} >= {"hash-count"}

    rows = list(csv.DictReader(io.StringIO(files["reviews.csv"].decode("utf-8"))))
    rows[0]["rob_overall"] = "dubious"
    rows[1]["year"] = "next year"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (tmp_path / "references.bib").write_bytes(files["references.bib"])
    (tmp_path / "reviews.csv").write_text(out.getvalue(), encoding="utf-8")
    (tmp_path / "datapackage.json").write_text(datapackage_json(evidence), encoding="utf-8")  # no hashes
    report = frictionless.validate(tmp_path / "datapackage.json")
    types = {e.type for t in report.tasks for e in t.errors}
    assert not report.valid and {"constraint-error", "type-error"} <= types, report_text(report)


def test_schema_fields_match_the_csv_columns(downloads: tuple[Path, dict[str, bytes]]) -> None:
    _, files = downloads
    header = files["reviews.csv"].decode("utf-8").splitlines()[0].split(",")
    fields = csv_fields()
    assert [f["name"] for f in fields] == header == list(CSV_COLUMNS)
    types = {f["name"]: f["type"] for f in fields}
    assert types["year"] == types["n_studies"] == types["n_effects"] == "integer"
    assert types["added"] == types["updated"] == "date"
    assert all(f.get("description") for f in fields)


def test_descriptor(evidence: Evidence, downloads: tuple[Path, dict[str, bytes]]) -> None:
    folder, files = downloads
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert package["name"] == "msc-ev-evidence-map"
    assert package["title"] == "MSC-EV Living Evidence Map"
    with open(ROOT / "pyproject.toml", "rb") as fh:
        assert package["version"] == tomllib.load(fh)["project"]["version"]
    assert package["licenses"][0]["name"] == "CC-BY-4.0"  # as LICENSE and CITATION.cff say
    assert package["created"] == f"{max(r.updated for r in evidence.records)}T00:00:00Z"
    resources = {r["path"]: r for r in package["resources"]}
    assert set(resources) == DOWNLOADS
    assert resources["reviews.csv"]["mediatype"] == "text/csv"
    assert resources["reviews.csv"]["schema"]["primaryKey"] == ["id"]
    assert resources["references.bib"]["mediatype"] == "application/x-bibtex"
    assert resources["references.ris"]["mediatype"] == "application/x-research-info-systems"
    assert resources["reviews.json"]["mediatype"] == resources["conditions.json"]["mediatype"] == "application/json"
    for path, resource in resources.items():
        assert resource["bytes"] == len(files[path])
        assert resource["hash"].startswith("sha256:")
    # Without files there are no sizes or hashes; the rest is the same, and it never varies.
    bare = datapackage(evidence, version="9.9.9")
    assert bare["version"] == "9.9.9"
    assert all("hash" not in r and "bytes" not in r for r in bare["resources"])
    assert datapackage_json(evidence, files=files) == datapackage_json(evidence, files=files)


def test_zip_bundle_is_byte_identical_and_well_formed(downloads: tuple[Path, dict[str, bytes]]) -> None:
    folder, files = downloads
    bundle = {**files, "datapackage.json": (folder / "datapackage.json").read_bytes()}
    first = zip_bundle(bundle)
    second = zip_bundle(dict(reversed(list(bundle.items()))))  # insertion order does not matter
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == sorted(bundle)
        for info in zf.infolist():
            assert info.date_time == ZIP_EPOCH
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert (info.external_attr >> 16) & 0o777 == 0o644
            assert zf.read(info) == bundle[info.filename]


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd", "a/../../b", "", "dir\\file", "a//b", "./a"])
def test_zip_bundle_refuses_unsafe_names(name: str) -> None:
    with pytest.raises(ValueError, match="zip entry"):
        zip_bundle({"ok.txt": b"x", name: b"y"})


def test_zip_bundle_allows_folders() -> None:
    with zipfile.ZipFile(io.BytesIO(zip_bundle({"b/c.txt": b"c", "a.txt": b"a"}))) as zf:
        assert zf.namelist() == ["a.txt", "b/c.txt"]
