"""Load a folder of records into the validated model, or fail with every problem found."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .model import Record, record_from_data
from .paths import ROOT
from .validate import Checked, Problem, check_folder
from .vocab import Vocabularies, load_vocabularies


class InvalidEvidence(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} errors")
        self.problems = problems


@dataclass(frozen=True)
class Evidence:
    records: tuple[Record, ...]
    warnings: tuple[Problem, ...]
    vocab: Vocabularies

    def by_id(self, record_id: str) -> Record:
        return next(r for r in self.records if r.id == record_id)

    def for_condition(self, condition: str) -> list[Record]:
        return [r for r in self.records if condition in r.conditions]

    def for_source(self, source: str) -> list[Record]:
        return [r for r in self.records if source in r.sources]


def repo_path(path: Path) -> str:
    """The path a record has in the repository (for edit links), else its plain name."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return f"evidence/{path.name}"


def from_checked(results: list[Checked], vocab: Vocabularies) -> Evidence:
    errors = [p for r in results for p in r.problems if not p.warning]
    if errors:
        raise InvalidEvidence(errors)
    records = []
    for res in results:
        assert res.loaded is not None
        records.append(record_from_data(res.loaded.data, repo_path(res.file)))
    records.sort(key=lambda r: (r.first_author.lower(), r.label.lower(), r.id))
    warnings = tuple(p for r in results for p in r.problems if p.warning)
    return Evidence(tuple(records), warnings, vocab)


def load_evidence(folder: Path) -> Evidence:
    """Validated records under `folder`; raises InvalidEvidence listing every error."""
    vocab = load_vocabularies()
    return from_checked(check_folder(folder, vocab), vocab)
