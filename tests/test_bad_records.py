"""The corpus of bad records: each gives its one-line error and a failing exit, never a traceback,
through both `validate` and `build`; and what is published or committed is never touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.sitebuild import ROOT, UNSTABLE_SEARCH_FILES, Built, build, build_py, search_index_content

CORPUS = FIXTURES / "bad"
EXPECTED = (FIXTURES / "bad-expected.txt").read_text(encoding="utf-8")


def test_validate_gives_exactly_the_expected_lines() -> None:
    proc = build_py("validate", "--evidence", str(CORPUS.relative_to(ROOT)))
    assert proc.returncode == 1
    assert proc.stderr == EXPECTED
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("case", sorted(p.stem for p in CORPUS.glob("*.yaml")))
def test_every_case_is_reported_on_its_own_file_with_a_line(case: str) -> None:
    lines = [ln for ln in EXPECTED.splitlines() if ln.startswith(f"tests/fixtures/bad/{case}.yaml:")]
    if case == "dup-a":  # the first of two files sharing an id is fine; the second is reported
        assert lines == []
        return
    assert lines, f"no error for {case}"
    for line in lines:
        location = line.split(": ", 1)[0]
        assert location.rsplit(":", 1)[1].isdigit(), line


def test_build_stops_with_the_same_lines(tmp_path: Path) -> None:
    proc = build_py("build", "--evidence", str(CORPUS), "--out", str(tmp_path / "site"), "--work", str(tmp_path / "w"))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    body = proc.stderr.replace(str(CORPUS.relative_to(ROOT)), "tests/fixtures/bad")
    assert body.startswith(EXPECTED)
    assert not (tmp_path / "site").exists()


def test_non_utf8_and_oversized_files(tmp_path: Path) -> None:
    (tmp_path / "latin1-2024.yaml").write_bytes("id: latin1-2024\nsummary: caf\xe9\n".encode("latin-1"))
    (tmp_path / "huge-2024.yaml").write_text("id: huge-2024\nnotes: " + "x" * 300_000 + "\n", encoding="utf-8")
    (tmp_path / "nul-2024.yaml").write_bytes(b"id: nul-2024\n\x00\n")
    proc = build_py("validate", "--evidence", str(tmp_path))
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert any(ln.endswith("huge-2024.yaml: file is larger than the 256 KiB limit for a record") for ln in lines)
    assert any(ln.endswith("latin1-2024.yaml:2: file is not UTF-8 text; save it as UTF-8") for ln in lines)
    assert any(ln.endswith("nul-2024.yaml:2: file contains a NUL byte") for ln in lines)
    assert lines[-1] == "3 errors"


def test_build_never_writes_into_the_evidence_folder(built: Built) -> None:
    """The session's build of the real site, from the repository's own records, left every file of
    the folder as it found it (tests/conftest.py takes the folder's digest before and after)."""
    assert built.evidence_before and built.evidence_after == built.evidence_before


def test_two_builds_of_the_same_records_are_byte_identical(tmp_path: Path, built: Built) -> None:
    """Reproducible output: a cold build in a fresh work folder equals the session's build, byte for
    byte, but for the search filters. Pagefind 1.5.2 writes the values of each filter, and the filters
    in its metadata index, in an order that changes from run to run (its issue #638), so the filter
    files (pagefind/filter/*.pf_filter), the metadata index (pagefind/pagefind.*.pf_meta) and the
    entry file (pagefind/pagefind-entry.json), named by hashes of that content, may differ: those must
    hold the same filters, pages and settings, in any order. Every other file is byte-identical."""
    proc = build(tmp_path / "site", tmp_path / "work")
    assert proc.returncode == 0, proc.stderr
    assert "pages 0 written" not in proc.stdout  # really a fresh build
    other = tmp_path / "site"

    def stable(site: Path) -> dict[str, bytes]:
        files = (p for p in site.rglob("*") if p.is_file())
        return {
            rel: p.read_bytes()
            for p in files
            if not UNSTABLE_SEARCH_FILES.fullmatch(rel := p.relative_to(site).as_posix())
        }

    ours, theirs = stable(built.site), stable(other)
    assert sorted(ours) == sorted(theirs)
    assert [rel for rel in sorted(ours) if ours[rel] != theirs[rel]] == []
    assert search_index_content(built.site) == search_index_content(other)
