"""The review pages (publishing/reviewpages.py): rendered in a second process when there are many,
and kept between builds until something they show changes."""

from __future__ import annotations

import dataclasses
import html
import os
import shutil
from pathlib import Path
from typing import Any, NamedTuple

import jinja2
import pytest
from jinja2 import meta

from evidence_map.judging.computed import ComputedMap, compute_map
from evidence_map.processes import START_SETTING
from evidence_map.publishing import apart, pages, reviewpages, site
from evidence_map.publishing import renderer as rendering
from evidence_map.publishing.writer import TreeWriter
from evidence_map.records.evidence import Evidence
from evidence_map.records.vocab import Vocabulary
from evidence_map.surveillance.queue import load_screening
from tests.test_processes import forked

INFO = rendering.SiteInfo(repo_url="https://example.org/evidence-map", data_date="2025-06-30", data_commit="abc1234")


def render(computed: ComputedMap, out: Path, kept: Path | None = None) -> dict[str, str]:
    pages.render_site_pages(computed, [], INFO, TreeWriter(out), load_screening(computed.evidence), kept=kept)
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in out.rglob("*.md")}


def is_review(path: str) -> bool:
    return path.startswith("reviews/") and path != "reviews/index.md"


@pytest.fixture(scope="module")
def rendered(evidence: Evidence, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return render(compute_map(evidence), tmp_path_factory.mktemp("pages"))


class Alone(NamedTuple):
    sources: dict[str, bytes]  # the site's sources made in one process
    work: Path  # its work folder, with the charts drawn


@pytest.fixture(scope="module")
def alone(evidence: Evidence, tmp_path_factory: pytest.TempPathFactory) -> Alone:
    """The site's sources made without a second process, once for the tests that compare with them."""
    work = tmp_path_factory.mktemp("alone")
    with pytest.MonkeyPatch.context() as monkeypatch:
        return Alone(prepare(evidence, work, str(len(evidence.records) + 1), monkeypatch), work)


def test_the_pages_and_downloads_made_in_the_second_process_are_the_same(
    evidence: Evidence, alone: Alone, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From APART_FROM reviews on, the downloads, the feeds and either the review pages to render or
    (when they are kept) the EV source pages are made in a second process while the
    build renders the others: the site's sources come out the same, byte for byte."""

    def prepared(work: Path, apart_from: str) -> dict[str, bytes]:
        return prepare(evidence, work, apart_from, monkeypatch)

    # The second process spawned, as from a process that runs threads (a test worker, the preview):
    # it imports its own modules. A forked one is the next test's.
    monkeypatch.setenv(START_SETTING, "spawn")
    started = []
    real = apart.one_process
    monkeypatch.setattr(apart, "one_process", lambda *a, **k: started.append(1) or real(*a, **k))
    shared = prepared(tmp_path / "shared", "0")
    assert started == [1]  # one process, for the review pages and then the downloads and feeds
    assert sorted(shared) == sorted(alone.sources)
    assert [path for path in shared if shared[path] != alone.sources[path]] == []
    assert {"downloads/effects.csv", "feed.xml"} <= set(shared)
    assert len([path for path in shared if is_review(path)]) == len(evidence.records)

    # Again, every review page kept: the second process renders the EV source pages (this process
    # would fail to; the second one imports its own modules).
    def not_here(*args: Any) -> dict[str, str]:
        raise AssertionError("the source pages were rendered in the build's own process")

    monkeypatch.setattr(pages, "source_pages", not_here)
    assert prepared(tmp_path / "shared", "0") == alone.sources
    assert started == [1, 1]


def test_pages_made_in_a_forked_process_are_the_same(alone: Alone, tmp_path: Path) -> None:
    """The same from a build that runs no other thread, as a build after an edit does, with one
    chart to draw: its second process starts first, forked (processes.py), then the drawing
    processes, spawned, as the build now runs the second process's thread. Test processes run
    another thread, so the test above spawns it."""
    cache = tmp_path / "forked" / "chart-cache"
    shutil.copytree(alone.work / "chart-cache", cache)
    min(cache.glob("*.svg")).unlink()
    got = forked("pages", tmp_path / "forked", **{apart.APART_SETTING: "0"})
    assert list(zip(got["callers"], got["methods"], strict=True)) == [("processes", "fork"), ("chartrender", "spawn")]
    made = {path: bytes.fromhex(data) for path, data in got["made"].items()}
    assert sorted(made) == sorted(alone.sources)
    assert [path for path in made if made[path] != alone.sources[path]] == []


def prepare(evidence: Evidence, work: Path, apart_from: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The site's sources as prepare_map writes them, with the second process from `apart_from` reviews."""
    monkeypatch.setenv(apart.APART_SETTING, apart_from)
    site.prepare_map(compute_map(evidence), work)
    docs = work / "docs"
    return {p.relative_to(docs).as_posix(): p.read_bytes() for p in docs.rglob("*") if p.is_file()}


def die() -> None:
    os._exit(3)  # as a process killed for lack of memory would


def test_the_build_does_the_work_of_a_second_process_that_fails(
    evidence: Evidence, alone: Alone, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(START_SETTING, "spawn")  # spawned, as in the test above
    real = apart.Apart.submit
    jobs = []
    monkeypatch.setattr(apart.Apart, "submit", lambda self, fn, *args: jobs.append(fn) or real(self, die))
    assert prepare(evidence, tmp_path / "failed", "0", monkeypatch) == alone.sources
    assert len(jobs) == 2  # the downloads and feeds, and the review pages


def test_kept_review_pages_are_reused_until_what_they_show_changes(
    evidence: Evidence, rendered: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second build renders no review page again; after a record's title changes, only its page;
    after the project changes (here its digest), every one. Each time the pages are those a build
    without kept pages makes."""
    calls: list[list[str]] = []
    real = reviewpages.review_pages

    def spy(computed: ComputedMap, info: Any, notices: Any, ids: Any = None) -> dict[str, str]:
        calls.append(sorted(ids) if ids is not None else [r.id for r in computed.records])
        return real(computed, info, notices, ids)

    monkeypatch.setattr(reviewpages, "review_pages", spy)
    kept = tmp_path / "kept"
    all_ids = sorted(r.id for r in evidence.records)
    assert render(compute_map(evidence), tmp_path / "a", kept) == rendered
    assert calls[-1] == all_ids
    assert render(compute_map(evidence), tmp_path / "b", kept) == rendered
    assert calls[-1] == []

    first = evidence.records[0]
    records = (dataclasses.replace(first, title=f"{first.title or ''} (edited)"), *evidence.records[1:])
    edited = compute_map(dataclasses.replace(evidence, records=records))
    cold = render(edited, tmp_path / "cold")
    assert render(edited, tmp_path / "c", kept) == cold
    assert calls[-1] == [first.id]
    assert html.unescape(cold[f"reviews/{first.id}.md"]).count("(edited)") >= 1

    made_with = reviewpages.made_with
    monkeypatch.setattr(reviewpages, "made_with", lambda vocab: "another project " + made_with(vocab))
    assert render(edited, tmp_path / "d", kept) == cold
    assert calls[-1] == all_ids

    # A map loaded with other vocabularies (load_evidence's vocab_dir) shows their names: every page again.
    v, cid = evidence.vocab, first.conditions[0]
    terms = tuple(dataclasses.replace(t, name=f"{t.name} (renamed)") if t.id == cid else t for t in v.conditions.terms)
    vocab = dataclasses.replace(v, conditions=Vocabulary("condition", terms))
    other = compute_map(dataclasses.replace(edited.evidence, vocab=vocab))
    cold = render(other, tmp_path / "cold-other")
    assert render(other, tmp_path / "e", kept) == cold
    assert calls[-1] == all_ids


def included(env: jinja2.Environment, name: str) -> set[str]:
    """The names a template and those it includes read from outside themselves."""
    ast = env.parse(env.loader.get_source(env, name)[0])  # type: ignore[union-attr]
    names = set(meta.find_undeclared_variables(ast))
    for child in meta.find_referenced_templates(ast):
        if child is not None:
            names |= included(env, child)
    return names


def test_the_review_page_reads_only_what_its_key_covers(evidence: Evidence) -> None:
    """A kept review page is keyed by what its template reads (READS) besides globals that only
    format (FORMATS): a template that starts reading something else fails here, until the key
    covers it too."""
    site = rendering.Renderer(compute_map(evidence), INFO).env
    env = jinja2.Environment(loader=site.loader)  # without the globals, so that every name is reported
    env.filters.update(site.filters)
    reads = included(env, "review.md.j2") - {"rows", "with_review", "with_condition"}  # set by the page itself
    assert reads == reviewpages.READS | reviewpages.FORMATS
