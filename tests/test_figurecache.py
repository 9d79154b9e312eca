"""The kept figures (figurecache.py): a figure kept from the last build is the figure its builder
makes, and an edit makes again the figures that show the record, and only those."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from evidence_map.judging.computed import ComputedMap, compute_map
from evidence_map.publishing.charts import Figure
from evidence_map.publishing.figurecache import FigureCache
from evidence_map.publishing.site import all_figures
from evidence_map.records.evidence import Evidence
from evidence_map.records.vocab import Vocabulary


def sources_of(evidence: Evidence) -> list[str]:
    return [s for s in evidence.vocab.sources.ids if evidence.for_source(s)]


def figures(computed: ComputedMap, kept: FigureCache | None = None) -> dict[str, Figure]:
    return {f.name: f for f in all_figures(computed, sources_of(computed.evidence), kept)}


def assert_same(kept: dict[str, Figure], fresh: dict[str, Figure]) -> None:
    assert list(kept) == list(fresh)
    for name, f in fresh.items():
        k = kept[name]
        assert (k.title, k.description, k.columns, k.rows, k.interactive) == (
            f.title,
            f.description,
            f.columns,
            f.rows,
            f.interactive,
        ), name
        assert k.chart.to_dict() == f.chart.to_dict(), name  # the fresh one checked against the schema


def cached(folder: Path, computed: ComputedMap) -> tuple[dict[str, Figure], FigureCache]:
    cache = FigureCache(folder, computed)
    made = figures(computed, cache)
    cache.save()
    return made, cache


def test_a_kept_figure_is_the_figure_its_builder_makes(evidence: Evidence, tmp_path: Path) -> None:
    computed = compute_map(evidence)
    fresh = figures(computed)
    first, cache = cached(tmp_path, computed)
    n_kept = len(evidence.vocab.conditions.ids) + len(sources_of(evidence))
    assert (cache.made, cache.reused) == (n_kept, 0)
    assert_same(first, fresh)
    # The next build, from the same records loaded again: nothing made, every figure the same.
    again, cache = cached(tmp_path, compute_map(evidence))
    assert (cache.made, cache.reused) == (0, n_kept)
    assert_same(again, fresh)


def test_an_edit_makes_again_the_figures_of_the_records_conditions_only(evidence: Evidence, tmp_path: Path) -> None:
    cached(tmp_path, compute_map(evidence))
    rec, effect = next(
        (r, e) for r in evidence.records for e in r.effects if e.estimate is not None and e.ci_low is not None
    )
    moved = replace(effect, estimate=(effect.estimate + effect.ci_low) / 2)
    edited_rec = replace(rec, effects=tuple(moved if e is effect else e for e in rec.effects))
    edited = replace(evidence, records=tuple(edited_rec if r is rec else r for r in evidence.records))
    computed = compute_map(edited)
    got, cache = cached(tmp_path, computed)
    # Its conditions' forest plots, and nothing else: no EV source's coverage changed.
    assert cache.made == len(rec.conditions)
    assert_same(got, figures(computed))


def test_a_removed_record_makes_again_its_conditions_and_sources_figures(evidence: Evidence, tmp_path: Path) -> None:
    cached(tmp_path, compute_map(evidence))
    rec = evidence.records[len(evidence.records) // 2]
    removed = replace(evidence, records=tuple(r for r in evidence.records if r is not rec))
    computed = compute_map(removed)
    got, cache = cached(tmp_path, computed)
    assert cache.made == len(rec.conditions) + len(rec.sources)
    assert_same(got, figures(computed))


def test_a_map_with_other_vocabularies_makes_every_kept_figure_again(evidence: Evidence, tmp_path: Path) -> None:
    """A map may be loaded with vocabularies other than the project's (load_evidence's vocab_dir):
    the names the figures show are theirs."""
    cached(tmp_path, compute_map(evidence))
    v = evidence.vocab
    cid = next(c for r in evidence.records for c in r.conditions if r.effects_for(c))
    terms = tuple(replace(t, name=f"{t.name} (renamed)") if t.id == cid else t for t in v.conditions.terms)
    renamed = replace(evidence, vocab=replace(v, conditions=Vocabulary("condition", terms)))
    computed = compute_map(renamed)
    got, cache = cached(tmp_path, computed)
    assert cache.reused == 0
    assert f"condition-{cid}" in got and "(renamed)" in got[f"condition-{cid}"].title
    assert_same(got, figures(computed))
