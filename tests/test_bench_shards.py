"""The benchmark's search index in parts: every page in one part, the review pages apart, each part
indexed by Pagefind on its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.shards import index, linked, pages, part_of, site_ranking

PAGE = '<!doctype html><html lang="en"><body><article><h1>{title}</h1><p>{words}</p></article></body></html>'


def _site(root: Path, reviews: list[str]) -> Path:
    site = root / "site"
    for rel, title in [("index.html", "Home"), ("conditions/sepsis/index.html", "Sepsis")] + [
        (f"reviews/{r}/index.html", r) for r in reviews
    ]:
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(PAGE.format(title=title, words=f"{title} vesicles"), encoding="utf-8")
    (site / "pagefind").mkdir()
    (site / "pagefind" / "kept.html").write_text("an index file, not a page", encoding="utf-8")
    return site


def test_the_review_pages_are_dealt_into_parts_of_their_own(tmp_path: Path) -> None:
    reviews = [f"review-{i}" for i in range(40)]
    rels = pages(_site(tmp_path, reviews))
    assert "pagefind/kept.html" not in rels and len(rels) == 2 + len(reviews)
    for parts in (2, 5, 8):
        split = [part_of(rel, parts) for rel in rels]
        assert [s for s, rel in zip(split, rels, strict=True) if not rel.startswith("reviews/")] == [0, 0]
        used = {s for s, rel in zip(split, rels, strict=True) if rel.startswith("reviews/")}
        assert used <= set(range(1, parts)) and (len(used) > 1 or parts == 2)
        assert split == [part_of(rel, parts) for rel in rels]  # the same pages, the same parts


def test_a_part_is_indexed_from_its_own_pages_alone(tmp_path: Path) -> None:
    site = _site(tmp_path, ["alpha", "beta"])
    part = linked(site, ["reviews/alpha/index.html"], tmp_path / "part")
    assert (part / "reviews/alpha/index.html").samefile(site / "reviews/alpha/index.html")
    seconds = index(part, tmp_path / "bundle")
    entry = json.loads((tmp_path / "bundle" / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert seconds > 0 and entry["languages"]["en"]["page_count"] == 1
    index(site, tmp_path / "whole")
    whole = json.loads((tmp_path / "whole" / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert whole["languages"]["en"]["page_count"] == 4


def test_the_ranking_is_the_one_the_sites_script_gives(tmp_path: Path) -> None:
    script = tmp_path / "search.js"
    script.write_text("var S = {\n  ranking: { metaWeights: { title: 2, names: 0.5 } },\n};", encoding="utf-8")
    assert site_ranking(script) == {"metaWeights": {"title": 2.0, "names": 0.5}}
    script.write_text("var S = {};", encoding="utf-8")
    with pytest.raises(SystemExit, match="no `ranking"):
        site_ranking(script)
