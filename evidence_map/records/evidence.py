"""Load a folder of records into the validated model, or fail with every problem found."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from evidence_map.paths import ROOT, is_own_evidence
from evidence_map.records.issues import Problem
from evidence_map.records.model import Record, record_from_data
from evidence_map.records.umbrella import add_origin_problems
from evidence_map.records.validate import Checked, check_folder
from evidence_map.records.vocab import Vocabularies, load_vocabularies


class InvalidEvidence(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} errors")
        self.problems = problems


@dataclass(frozen=True)
class Evidence:
    records: tuple[Record, ...]
    warnings: tuple[Problem, ...]
    vocab: Vocabularies

    # Indexes built once: pages look records up by id, condition and source thousands of times.
    @cached_property
    def _by_id(self) -> dict[str, Record]:
        return {r.id: r for r in self.records}

    @cached_property
    def _by_condition(self) -> dict[str, list[Record]]:
        return _index(self.records, lambda r: r.conditions)

    @cached_property
    def _by_source(self) -> dict[str, list[Record]]:
        return _index(self.records, lambda r: r.sources)

    def by_id(self, record_id: str) -> Record:
        return self._by_id[record_id]

    def for_condition(self, condition: str) -> list[Record]:
        return list(self._by_condition.get(condition, ()))

    def for_source(self, source: str) -> list[Record]:
        return list(self._by_source.get(source, ()))


def _index(records: Iterable[Record], keys: Callable[[Record], Iterable[str]]) -> dict[str, list[Record]]:
    index: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        for k in keys(r):
            index[k].append(r)
    return index


def repo_path(path: Path, folders: dict[Path, Path] | None = None) -> str:
    """The path a record has in the repository (for edit links), else its plain name. `folders`:
    folders already resolved, by their path as given (a resolve is several system calls)."""
    try:
        if folders is None or path.is_symlink():
            resolved = path.resolve()
        else:
            folder = folders.get(path.parent)
            if folder is None:
                folder = folders[path.parent] = path.parent.resolve()
            resolved = folder / path.name
        return resolved.relative_to(ROOT).as_posix()
    except ValueError:
        return f"evidence/{path.name}"


def from_checked(results: list[Checked], vocab: Vocabularies) -> Evidence:
    errors = [p for r in results for p in r.problems if not p.warning]
    if errors:
        raise InvalidEvidence(errors)
    records = []
    folders: dict[Path, Path] = {}
    for res in results:
        assert res.loaded is not None
        records.append(record_from_data(res.loaded.data, repo_path(res.file, folders)))
    records.sort(key=lambda r: (r.first_author.lower(), r.label.lower(), r.id))
    warnings = tuple(p for r in results for p in r.problems if p.warning)
    return Evidence(tuple(records), warnings, vocab)


def load_evidence(folder: Path, vocab_dir: Path | None = None, cache: Path | None = None) -> Evidence:
    """Validated records under `folder`; raises InvalidEvidence listing every error. `cache`: a
    folder where each file's check is kept for the next load (records/checkcache.py)."""
    vocab = load_vocabularies() if vocab_dir is None else load_vocabularies(vocab_dir)
    # The cyclic garbage collector is paused while thousands of records are built: they hold no
    # cycles, and its passes over the growing heap took a sixth of the time.
    paused = gc.isenabled()
    gc.disable()
    try:
        results = check_folder(folder, vocab, cache)
        if is_own_evidence(folder):
            add_origin_problems(results)
        return from_checked(results, vocab)
    finally:
        if paused:
            gc.enable()
