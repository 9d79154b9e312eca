"""The real site, built by the real build from the real records: pages, links, search, tags; and when
the build runs the site generator and the search indexer, and what a failure of either leaves."""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evidence_map.paths import EVIDENCE
from evidence_map.records.evidence import Evidence
from tests.sitebuild import ROOT, SEARCH_CASES, Built, build, indexed_pages, parse, search_pages


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


def test_search_index_covers_every_page(built: Built) -> None:
    entry = json.loads((built.site / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert list(entry["languages"]) == ["en"]
    pages = indexed_pages(built.site)
    assert entry["languages"]["en"]["page_count"] == len(pages) > 100
    assert set(built.search_pages()) == pages


def test_search_indexes_the_page_not_the_navigation(built: Built) -> None:
    page = built.search_pages()["/conditions/spinal-cord-injury/"]
    assert page["meta"]["title"] == "Spinal Cord Injury"  # no permalink sign
    assert page["content"].startswith("Spinal Cord Injury. Organ system: Neurological")
    assert re.search(r"Also known as: [^.]*\bSCI\b", page["content"])  # its aliases, printed under its heading
    for elsewhere in ("Skip to content", "Table of contents", "Premature Ovarian Insufficiency", "Data version"):
        assert elsewhere not in page["content"], elsewhere  # header, sidebars, footer
    assert "The numbers behind this chart" not in page["content"]  # the tables behind charts repeat the page
    assert "¶" not in page["content"]
    assert [a["text"] for a in page["anchors"]][:3] == ["Spinal Cord Injury", "How sure are we", "How this was judged"]


def test_search_results_carry_the_kind_of_page(built: Built, evidence: Evidence) -> None:
    kinds = {url: page["meta"].get("kind") for url, page in built.search_pages().items()}
    for rec in evidence.records:
        assert kinds[f"/reviews/{rec.id}/"] == "Review"
    for cid in evidence.vocab.conditions.ids:
        assert kinds[f"/conditions/{cid}/"] == "Condition"
    assert kinds["/sources/bm/"] == "EV source"
    for url in ("/", "/conditions/", "/reviews/", "/sources/", "/methods/"):
        assert kinds[url] is None


@pytest.mark.parametrize(
    ("term", "page"),
    SEARCH_CASES,
)
def test_search_index_holds_the_words(built: Built, term: str, page: str) -> None:
    """The words are in the page's index record, as its text or (synonyms, kept out of excerpts) its
    metadata, which Pagefind searches too; the browser tests run the queries themselves."""
    record = built.search_pages()[page]
    words = " ".join([record["content"], *record["meta"].values()])
    assert re.search(rf"\b{re.escape(term)}", words, re.IGNORECASE)


def test_no_page_loads_search_until_it_is_used(built: Built) -> None:
    """Only javascripts/search.js, when the search button is used, fetches from pagefind/."""
    for page in built.site.rglob("*.html"):
        links = parse(page.read_text(encoding="utf-8"))
        assert not [u for u in links.srcs + links.hrefs if "pagefind" in u or "search_index" in u], page
    assert not (built.site / "search").exists()  # the theme's own index is gone


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
    assert "nothing it is built from has changed" in proc.stdout, proc.stdout


def test_a_build_with_nothing_changed_reads_hashes_not_records(built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing changed since the session's build, a build compares a digest of its inputs and
    stops: it never loads a record, and the site stays the folder it was. (An edit that makes it
    build again: test_the_site_generator_runs_only_when_its_inputs_change.)"""
    from evidence_map.publishing import site as assembly

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("records loaded though nothing changed")

    monkeypatch.setattr(assembly, "load_evidence", refuse)
    identity = built.site.stat().st_ino, built.site.stat().st_mtime_ns
    assert assembly.build_site(EVIDENCE, built.site, strict=True, work=built.work) is None
    assert (built.site.stat().st_ino, built.site.stat().st_mtime_ns) == identity


def files(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_failed_build_leaves_the_previous_site(tmp_path: Path, built: Built) -> None:
    site = tmp_path / "site"
    shutil.copytree(built.site, site)
    before = files(site)
    broken = tmp_path / "evidence"
    shutil.copytree(ROOT / "tests" / "fixtures" / "broken", broken)
    proc = build(site, tmp_path / "work", evidence=broken)
    assert proc.returncode == 1
    assert "9 errors" in proc.stderr and "left as it was" in proc.stderr
    assert files(site) == before
    assert not list(tmp_path.glob(".site.new-*"))


@pytest.mark.parametrize(
    ("tool", "message"),
    [
        ("mkdocs", "error: the site generator failed (exit 3); see the messages above"),
        ("pagefind", "error: the search indexer, Pagefind, failed (exit 3); see the messages above"),
    ],
)
def test_a_failing_generator_or_indexer_leaves_the_previous_site(
    tmp_path: Path, built: Built, tool: str, message: str
) -> None:
    """mkdocs fails, or mkdocs succeeds and Pagefind fails after it: the build says which, passes on
    the tool's own messages, and leaves the published site and the work folder's stamp as they were."""
    site, work = tmp_path / "site", tmp_path / "work"
    shutil.copytree(built.site, site)
    shutil.copytree(built.work, work)
    before, stamp = files(site), (work / "site-stamp.json").read_bytes()
    fake = tmp_path / "fake" / tool  # found before the real one through PYTHONPATH, by `python -m <tool>`
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("", encoding="utf-8")
    (fake / "__main__.py").write_text(
        f"import sys\nprint('{tool}: simulated failure', file=sys.stderr)\nsys.exit(3)\n", encoding="utf-8"
    )
    proc = build(site, work, env={**os.environ, "PYTHONPATH": str(fake.parent)})
    assert proc.returncode == 1
    assert f"{tool}: simulated failure" in proc.stderr
    assert message in proc.stderr and f"build stopped: {site} left as it was" in proc.stderr
    assert files(site) == before
    assert (work / "site-stamp.json").read_bytes() == stamp
    assert not list(tmp_path.glob(".site.new-*"))


def test_the_site_generator_runs_only_when_its_inputs_change(tmp_path: Path, built: Built) -> None:
    """A rebuild with nothing changed keeps the published folder itself; an edited record, or another
    build having published into the same folder since, runs mkdocs and Pagefind again."""
    evidence, site, work, other = (tmp_path / name for name in ("evidence", "site", "work", "other"))
    shutil.copytree(ROOT / "evidence", evidence)
    shutil.copytree(built.work, work)  # a warm chart cache, as a second build has
    shutil.copytree(built.work, other)
    current = "site was current: site generator and search index not run"

    def identity() -> tuple[int, int]:
        return site.stat().st_ino, site.stat().st_mtime_ns

    def run(work: Path) -> str:
        proc = build(site, work, evidence=evidence)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def compiled() -> dict[str, int]:
        """The theme's compiled templates the page cache keeps, by settings and name: modification times."""
        folder = work / "page-cache" / "compiled-theme"
        return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}

    templates = compiled()  # as the session's build kept them
    assert templates
    assert current not in run(work)
    first, published = identity(), files(site)
    assert current in run(work)
    assert identity() == first and files(site) == published

    record = evidence / "ye-2024.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("Front Mol Neurosci", "Zebrafinch Neurosci"), "utf-8")
    assert current not in run(work)
    assert identity() != first
    # The site generator ran twice here without compiling the theme's templates again.
    assert compiled() == templates
    assert "Zebrafinch Neurosci" in (site / "reviews" / "ye-2024" / "index.html").read_text(encoding="utf-8")
    assert "Zebrafinch Neurosci" in search_pages(site)["/reviews/ye-2024/"]["content"]

    review = site / "reviews" / "ye-2024" / "index.html"
    proc = build(site, other)  # another work folder publishes the original records into the same folder
    assert proc.returncode == 0 and current not in proc.stdout
    assert "Zebrafinch Neurosci" not in review.read_text(encoding="utf-8")
    assert current not in run(work)  # nothing it reads has changed, but the site is no longer its own
    assert "Zebrafinch Neurosci" in review.read_text(encoding="utf-8")


def test_zensical_builds_the_same_site(built: Built, tmp_path: Path) -> None:
    """The move off Material for MkDocs (end of life in May 2027, MAINTENANCE.md): Zensical builds
    the generated configuration into the same pages, navigation, tags, search button and page-kind
    metadata of the theme overrides, and Pagefind indexes its output."""
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
    theirs_root = work / "site"
    ours = {p.relative_to(built.site) for p in built.site.rglob("index.html")}
    theirs = {p.relative_to(theirs_root) for p in theirs_root.rglob("index.html")}
    assert ours == theirs

    def target(page: str, href: str) -> str:
        """A link as the page it reaches, whatever relative spelling the generator chose."""
        return posixpath.normpath(posixpath.join("/" + page, href.split("#")[0] or "."))

    def facts(root: Path, page: str) -> dict[str, object]:
        html = (root / page / "index.html").read_text(encoding="utf-8")
        links = re.findall(r'href="([^"]+)" class="md-nav__link', html)
        links += re.findall(r'class="md-nav__link[^"]*"[^>]*href="([^"]+)"', html)
        return {
            # Every page the navigation reaches; the page itself is a link in one and not the other.
            "nav": sorted({target(page, h) for h in links} - {target(page, ".")}),
            "search button": html.count("site-search__button"),
            "page kind": re.findall(r'data-pagefind-meta="([^"]+)"', html),
            "tags": sorted(set(re.findall(r'class="md-tag[^"]*"[^>]*>([^<]+)<', html))),
            "h1": re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.S)[:1],
        }

    for page in ("", "conditions/spinal-cord-injury", "reviews/aghayan-2024", "tags", "contribute"):
        mine, zens = facts(built.site, page), facts(theirs_root, page)
        assert mine["nav"] and mine["search button"] and mine["h1"], page
        assert mine == zens, page
    assert facts(built.site, "conditions/spinal-cord-injury")["page kind"]  # the overrides' metadata
    proc = subprocess.run(
        [sys.executable, "-m", "pagefind", "--site", str(theirs_root)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and (theirs_root / "pagefind" / "pagefind-entry.json").is_file(), proc.stderr
