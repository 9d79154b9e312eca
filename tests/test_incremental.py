"""A build that reuses its work folder (the page cache, the chart cache, the unchanged generated
pages) writes exactly the site a cold build of the same records writes: after an edited record, an
added one and a removed one. The cold builds convert and lay out half of their pages in the page
cache's second process, and the incremental ones in mkdocs alone, so the comparison covers that too."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import yaml

from evidence_map.paths import EVIDENCE
from evidence_map.publishing import pagehelper
from tests.conftest import base_record, write_record
from tests.sitebuild import UNSTABLE_SEARCH_FILES, build, search_index_content


def site_files(site: Path) -> dict[str, bytes]:
    """Every file of a built site by content, but Pagefind's files whose order varies between runs."""
    return {
        rel: p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file() and not UNSTABLE_SEARCH_FILES.fullmatch(rel := p.relative_to(site).as_posix())
    }


def page_cache(work: Path) -> dict[str, int]:
    counts: dict[str, int] = json.loads((work / "page-cache" / "last-build.json").read_text(encoding="utf-8"))
    return counts


SERIAL = {**os.environ, pagehelper.WORKER: "1"}  # mkdocs alone
PARALLEL = {**os.environ, pagehelper.PARALLEL_SETTING: "0"}  # the second process, however few the pages


def test_an_incremental_build_writes_what_a_cold_build_writes(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    records = sorted(EVIDENCE.glob("*.yaml"))[:6]  # a part of the map: the builds stay quick
    for path in records:
        shutil.copy(path, evidence / path.name)
    work, site = tmp_path / "work", tmp_path / "site"
    proc = build(site, work, evidence=evidence, env=SERIAL)
    assert proc.returncode == 0, proc.stderr
    total = page_cache(work)["converted"]

    def same_as_cold(step: str, cold: Path | None = None) -> dict[str, int]:
        """Build incrementally, and compare with a cold build of the same records (`cold`: one made
        before, of the same records)."""
        proc = build(site, work, evidence=evidence, env=SERIAL)
        assert proc.returncode == 0, proc.stderr
        if cold is None:
            cold_work = tmp_path / f"cold-{step}"
            shutil.copytree(work / "chart-cache", cold_work / "chart-cache")  # charts are keyed by their content
            cold = tmp_path / f"site-{step}"
            proc = build(cold, cold_work, evidence=evidence, env=PARALLEL)
            assert proc.returncode == 0, proc.stderr
            counts = page_cache(cold_work)
            assert counts["conversions reused"] == counts["layouts reused"] == 0
            assert counts["converted by the second process"] > 0 and counts["laid out by the second process"] > 0
        mine, theirs = site_files(site), site_files(cold)
        assert sorted(mine) == sorted(theirs), step
        assert [rel for rel in mine if mine[rel] != theirs[rel]] == [], step
        assert search_index_content(site) == search_index_content(cold), step
        return page_cache(work)

    # An edited summary: only the pages that show it are converted and laid out again.
    edited = evidence / records[0].name
    data = yaml.safe_load(edited.read_text(encoding="utf-8"))
    data["summary"] = data["summary"].rstrip() + " Zebrafinch sentence added by the test."
    write_record(evidence, data, name=edited.stem)
    counts = same_as_cold("edit")
    assert "Zebrafinch sentence" in (site / "reviews" / data["id"] / "index.html").read_text(encoding="utf-8")
    assert 0 < counts["converted"] < total / 2 and counts["conversions reused"] > total / 2
    assert 0 < counts["laid out"] < total / 2 and counts["layouts reused"] > total / 2

    # A review added, then removed again: every page's navigation and links may change, and the
    # site must come back to what the cold build of the edited records wrote.
    added = write_record(evidence, base_record(id="zebrafinch-2024"))
    same_as_cold("add")
    assert (site / "reviews" / "zebrafinch-2024" / "index.html").is_file()
    added.unlink()
    same_as_cold("remove", cold=tmp_path / "site-edit")
    assert not (site / "reviews" / "zebrafinch-2024").exists()
