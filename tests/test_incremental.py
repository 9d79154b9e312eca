"""A build that reuses its work folder (the page cache, the chart cache, the unchanged generated
pages) writes exactly the site a cold build of the same records writes: after an edited record, an
added one and a removed one. The cold builds convert and lay out half of their pages in the page
cache's second process, and the incremental ones in mkdocs alone, so the comparison covers that too."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import yaml

from evidence_map.paths import EVIDENCE
from evidence_map.publishing import footer, pagecache, pagehelper
from tests.conftest import base_record, copy_records, write_record
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
    # A part of the map, so that the builds stay quick: the six reviews added first, each last
    # updated when it was added, so that the edit below moves the data version in every footer.
    by_added = {p: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(EVIDENCE.glob("*.yaml"))}
    records = sorted(by_added, key=lambda p: str(by_added[p]["added"]))[:6]
    for path in records:
        data = by_added[path]
        data["updated"] = str(data["added"])  # a copy: a shared object would be dumped as an alias
        write_record(evidence, data, name=path.stem)
    today = date.today()
    assert max(str(by_added[p]["added"]) for p in records) < today.isoformat()
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
        assert not [rel for rel, data in mine.items() if footer.PLACEHOLDER.encode() in data], step
        assert sorted(mine) == sorted(theirs), step
        assert [rel for rel in mine if mine[rel] != theirs[rel]] == [], step
        assert search_index_content(site) == search_index_content(cold), step
        return page_cache(work)

    # An edited summary, dated today as a contributor dates an edit: only the pages that show it are
    # converted and laid out again, though every page's footer now names a newer data version.
    edited = evidence / records[0].name
    data = yaml.safe_load(edited.read_text(encoding="utf-8"))
    data["summary"] = data["summary"].rstrip() + " Zebrafinch sentence added by the test."
    data["updated"] = today
    write_record(evidence, data, name=edited.stem)
    counts = same_as_cold("edit")
    assert "Zebrafinch sentence" in (site / "reviews" / data["id"] / "index.html").read_text(encoding="utf-8")
    other = site / "reviews" / records[1].stem / "index.html"
    assert f"Data version {today.isoformat()} " in other.read_text(encoding="utf-8")
    assert 0 < counts["converted"] < total / 2 and counts["conversions reused"] > total / 2
    assert 0 < counts["laid out"] < total / 2 and counts["layouts reused"] > total / 2

    # A review added, then removed again: every page's navigation and links may change, and the
    # site must come back to what the cold build of the edited records wrote.
    # Only the pages whose Markdown can link to the review's page are converted again.
    added = write_record(evidence, base_record(id="zebrafinch-2024"))
    counts = same_as_cold("add")
    assert (site / "reviews" / "zebrafinch-2024" / "index.html").is_file()
    assert 0 < counts["converted"] < total / 2 and counts["conversions reused"] > total / 2, counts
    added.unlink()
    counts = same_as_cold("remove", cold=tmp_path / "site-edit")
    assert not (site / "reviews" / "zebrafinch-2024").exists()
    assert 0 < counts["converted"] < total / 2 and counts["conversions reused"] > total / 2, counts


def test_a_build_at_another_address_does_not_cost_the_next_build_its_layouts(tmp_path: Path) -> None:
    """The live preview serves at its own address, so its pages are laid out apart from a build's.
    A build at one address, then at another, then at the first again: the third lays out no page
    again, and writes the site the first wrote."""
    evidence = copy_records(tmp_path / "evidence")
    work = tmp_path / "work"
    first, other = (
        {**SERIAL, "SITE_URL": "https://a.example.org/map/"},
        {**SERIAL, "SITE_URL": "https://b.example.org/"},
    )
    for out, env in ((tmp_path / "a", first), (tmp_path / "b", other), (tmp_path / "a2", first)):
        proc = build(out, work, evidence=evidence, env=env)
        assert proc.returncode == 0, proc.stderr
        if out.name == "b":  # another address: every page laid out for it
            assert page_cache(work)["layouts reused"] == 0 < page_cache(work)["laid out"], page_cache(work)
    counts = page_cache(work)
    assert counts["laid out"] == 0 and counts["layouts reused"] > 0, counts
    assert site_files(tmp_path / "a2") == site_files(tmp_path / "a")
    assert "b.example.org" in (tmp_path / "b" / "index.html").read_text(encoding="utf-8")


def test_the_layouts_of_the_addresses_built_last_are_kept(tmp_path: Path) -> None:
    """Each address's layouts are a folder; the folders of all but the most recent are deleted, and
    so are layouts kept before they were grouped by address."""
    laid_out = tmp_path / pagecache.LAID_OUT
    laid_out.mkdir()
    (laid_out / "an-ungrouped-layout").write_text("x", encoding="utf-8")
    groups = [laid_out / f"address-{i}" for i in range(pagecache.GROUPS_KEPT + 2)]
    for age, group in enumerate(reversed(groups)):  # address-0 is the newest
        (group / "entry").parent.mkdir()
        (group / "entry").write_text("x", encoding="utf-8")
        os.utime(group, ns=(age * 10**9 + 10**9, age * 10**9 + 10**9))
    mine = laid_out / "address-last"
    pagecache._keep_recent_groups(mine)
    kept = sorted(p.name for p in laid_out.iterdir())
    assert kept == sorted(["address-last", *(f"address-{i}" for i in range(pagecache.GROUPS_KEPT - 1))])


def test_a_conversion_depends_on_the_files_its_links_can_name() -> None:
    """A file counts for a page whose Markdown names it (as written, percent-encoded or
    HTML-escaped; an index page by its folder); a file whose name is not one word counts for all."""
    from types import SimpleNamespace

    from evidence_map.publishing.pagekeys import LinkTargets

    def file(src: str) -> SimpleNamespace:
        return SimpleNamespace(src_uri=src, dest_uri=src, url=src, inclusion="included")

    targets = LinkTargets([file(p) for p in ("reviews/a-2024.md", "conditions/index.md", "odd name.md", "x.svg")])

    def named(markdown: str) -> set[str]:
        return {entry.split("\0")[0] for entry in targets.of(markdown)}

    assert named("See [a](../reviews/a-2024.md).") == {"reviews/a-2024.md", "odd name.md"}
    assert named("[all](../conditions/) ![c](x.svg)") == {"conditions/index.md", "x.svg", "odd name.md"}
    assert named("[a](../reviews/a%2D2024.md)") >= {"reviews/a-2024.md"}
    assert named('<a href="../reviews/a&#45;2024/">a</a>') >= {"reviews/a-2024.md"}
    assert named("Nothing linked.") == {"odd name.md"}
