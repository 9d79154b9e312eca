"""The real site, built by the real build from the real records: pages, links, search, tags."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evidence_map.evidence import Evidence
from tests.sitebuild import ROOT, Built, build, parse


def test_a_page_per_condition_review_and_used_source(built: Built, evidence: Evidence) -> None:
    conditions = sorted(p.parent.name for p in (built.site / "conditions").glob("*/index.html"))
    assert conditions == sorted(evidence.vocab.conditions.ids)
    reviews = sorted(p.parent.name for p in (built.site / "reviews").glob("*/index.html"))
    assert reviews == sorted(r.id for r in evidence.records)
    used = sorted({s for r in evidence.records for s in r.sources})
    assert sorted(p.parent.name for p in (built.site / "sources").glob("*/index.html")) == used
    for page in ("dosing", "quality", "methods", "audit", "downloads", "contribute", "about", "tags"):
        assert (built.site / page / "index.html").exists(), page
    for name in ("reviews.json", "reviews.csv", "conditions.json", "record.schema.json"):
        assert (built.site / "downloads" / name).stat().st_size > 100


def test_reviews_and_conditions_link_both_ways(built: Built, evidence: Evidence) -> None:
    for rec in evidence.records:
        review = parse(built.html(f"reviews/{rec.id}")).hrefs
        for cid in rec.conditions:
            assert f"../../conditions/{cid}/" in review, (rec.id, cid)
            assert f"../../reviews/{rec.id}/" in parse(built.html(f"conditions/{cid}")).hrefs
        for sid in rec.sources:
            assert f"../../sources/{sid}/" in review
            assert f"../../reviews/{rec.id}/" in parse(built.html(f"sources/{sid}")).hrefs
        assert f"/edit/main/evidence/{rec.id}.yaml" in " ".join(review)


def test_review_pages_stay_out_of_the_sidebar(built: Built) -> None:
    html = built.html("conditions/sepsis")
    nav = html[html.index('class="md-nav md-nav--primary') : html.index('class="md-content"')]
    assert "reviews/aghayan-2024" not in nav
    assert 'href="../spinal-cord-injury/"' in nav


def search_hits(built: Built, term: str) -> set[str]:
    pattern = re.compile(rf"\b{re.escape(term)}", re.IGNORECASE)
    return {d["location"].split("#")[0] for d in built.search_docs() if pattern.search(d["title"] + " " + d["text"])}


@pytest.mark.parametrize(
    ("term", "page"),
    [
        ("Soltani", "reviews/soltani-2024/"),
        ("SCI", "conditions/spinal-cord-injury/"),
        ("spinal cord", "conditions/spinal-cord-injury/"),
        ("adipose", "sources/at/"),
        ("Wharton", "sources/"),
        ("BBB", "reviews/ye-2024/"),
        ("mNSS", "reviews/chen-2024/"),
    ],
)
def test_search_index_finds(built: Built, term: str, page: str) -> None:
    assert page in search_hits(built, term)


def test_tags_index_lists_condition_source_and_species_tags(built: Built) -> None:
    html = built.html("tags")
    for tag in ("Spinal Cord Injury", "Bone marrow MSCs", "Rat"):
        assert f'id="tag:{tag.lower().replace(" ", "-")}"' in html, tag
    assert "../reviews/ye-2024/" in html


def test_footer_carries_the_data_version(built: Built, evidence: Evidence) -> None:
    newest = max(r.updated for r in evidence.records)
    assert f"Data version {newest}" in built.html("sources/bm")


def test_second_build_rewrites_and_renders_nothing(built: Built) -> None:
    proc = build(built.site, built.work)
    assert proc.returncode == 0, proc.stderr
    assert "pages 0 written" in proc.stdout and "charts 0 rendered" in proc.stdout


def test_failed_build_leaves_the_previous_site(tmp_path: Path, built: Built) -> None:
    site = tmp_path / "site"
    shutil.copytree(built.site, site)
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    broken = tmp_path / "evidence"
    shutil.copytree(ROOT / "tests" / "fixtures" / "broken", broken)
    proc = build(site, tmp_path / "work", evidence=broken)
    assert proc.returncode == 1
    assert "9 errors" in proc.stderr and "left as it was" in proc.stderr
    after = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before
    assert not list(tmp_path.glob(".site.new-*"))


def test_zensical_builds_the_same_pages(built: Built, tmp_path: Path) -> None:
    here = str(Path(sys.executable).parent)  # the virtual environment's scripts, when not on PATH
    zensical = shutil.which("zensical", path=os.pathsep.join([here, os.environ.get("PATH", "")]))
    if zensical is None:
        if os.environ.get("CI"):
            pytest.fail("zensical is not installed: pip install -e '.[test]'")
        pytest.skip("zensical is not installed")
    work = tmp_path / "work"
    shutil.copytree(built.work / "docs", work / "docs")
    shutil.copy(built.work / "mkdocs.yml", work / "mkdocs.yml")
    proc = subprocess.run(
        [zensical, "build", "-f", "mkdocs.yml"], cwd=work, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    ours = {p.relative_to(built.site) for p in built.site.rglob("index.html")}
    theirs = {p.relative_to(work / "site") for p in (work / "site").rglob("index.html")}
    assert ours == theirs
