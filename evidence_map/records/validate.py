"""Check records against the schema and the plausibility rules, reporting every problem at once.

One problem is one line, `evidence/x.yaml:LINE: field.path: rule; got VALUE`, so a contributor
fixes everything in one pass. Rules are small functions phrased as the rule they enforce. A
plausibility rule broken by a value the source really publishes can be acknowledged in the record's
`discrepancies` list (naming the field path); it is then reported as a warning, never silently fixed.
The schema and the rules the build relies on cannot be acknowledged (ACKNOWLEDGEABLE).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence_map.records.check_sources import (
    appraisal_is_stated,
    authors_start_with_the_first_author,
    citation_is_consistent,
    effects_from_originals_name_their_page,
    identifiers_name_where_they_were_confirmed,
)
from evidence_map.records.check_text import (
    discrepancies_name_real_fields,
    file_is_plain,
    text_is_plain,
    vocabulary_ids_are_known,
)
from evidence_map.records.check_values import (
    a_replaced_copy_passes_on_its_heterogeneity,
    dates_are_real,
    effects_are_plausible,
    file_numbers_finite,
    numbers_are_finite,
    quality_numbers_in_range,
    row_i2_ranges_reach_every_estimate_of_the_row,
)
from evidence_map.records.checkcache import CheckCache
from evidence_map.records.checkpool import Item, check_items
from evidence_map.records.issues import FieldPath, Issue, Problem, Rule, acknowledged, dotted, schema_issues, show
from evidence_map.records.vocab import Vocabularies, load_vocabularies
from evidence_map.records.yamlsafe import Loaded, LoadError, decode, load

MAX_FILES = 20_000
# The plausibility rules, in the order they run (after the schema), grouped by what they check in
# check_values.py, check_text.py and check_sources.py.
RULES: tuple[Rule, ...] = (
    numbers_are_finite,
    text_is_plain,
    vocabulary_ids_are_known,
    effects_are_plausible,
    row_i2_ranges_reach_every_estimate_of_the_row,
    a_replaced_copy_passes_on_its_heterogeneity,
    appraisal_is_stated,
    quality_numbers_in_range,
    citation_is_consistent,
    identifiers_name_where_they_were_confirmed,
    authors_start_with_the_first_author,
    effects_from_originals_name_their_page,
    dates_are_real,
    discrepancies_name_real_fields,
)


# ---------------------------------------------------------------- files and folders


@dataclass
class Checked:
    """The outcome of checking one file: its data when loadable, and its problems."""

    file: Path
    shown_as: str
    loaded: Loaded | None
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return self.loaded is not None and not any(not p.warning for p in self.problems)


# Rules whose every value a file's text can clear at once: a rule is skipped for a file its
# shortcut passes (the same outcome, without walking every value of the record).
FILE_SHORTCUTS: dict[Rule, Callable[[str], bool]] = {
    text_is_plain: file_is_plain,
    numbers_are_finite: file_numbers_finite,
}


# The rules that guard what the build and the pages rely on (finite numbers, plain text, known
# vocabulary ids, real dates, discrepancies that name fields): breaking one, or the schema, is an
# error whatever the record says. A discrepancy can acknowledge the others, which a value the
# source really prints can break.
RELIED_ON: frozenset[Rule] = frozenset(
    {numbers_are_finite, text_is_plain, vocabulary_ids_are_known, dates_are_real, discrepancies_name_real_fields}
)
ACKNOWLEDGEABLE: frozenset[Rule] = frozenset(RULES) - RELIED_ON


def check_record(data: Any, vocab: Vocabularies, text: str | None = None) -> list[Issue]:
    """Every rule broken by one record's data (schema first, then plausibility). Given the file's
    `text`, a rule the text shows cannot be broken is skipped (FILE_SHORTCUTS)."""
    return [issue for issue, _ in _issues(data, vocab, text)]


def _issues(data: Any, vocab: Vocabularies, text: str | None) -> list[tuple[Issue, bool]]:
    """check_record's issues, each with whether a discrepancy can acknowledge it (ACKNOWLEDGEABLE)."""
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        return [(Issue((), f"a record must be a YAML mapping of fields, not {kind}"), False)]
    issues = [(issue, False) for issue in schema_issues(data)]
    for fn in RULES:
        shortcut = FILE_SHORTCUTS.get(fn)
        if text is not None and shortcut is not None and shortcut(text):
            continue
        issues.extend((issue, fn in ACKNOWLEDGEABLE) for issue in fn(data, vocab))
    return issues


def check_file(path: Path, shown_as: str, vocab: Vocabularies, data: bytes | None = None) -> Checked:
    """Check one file (`data`: its bytes, when already read)."""
    try:
        text = decode(path.read_bytes() if data is None else data)
        loaded = load(text)
    except LoadError as exc:
        return Checked(path, shown_as, None, [Problem(shown_as, exc.line, exc.field, exc.message)])
    except OSError as exc:
        return Checked(path, shown_as, None, [Problem(shown_as, 0, "", f"cannot read file: {exc.strerror}")])
    problems = []
    for issue, can_acknowledge in _issues(loaded.data, vocab, text):
        kind = acknowledged(loaded.data, issue.path) if can_acknowledge else None
        rule_text = issue.rule + (f" (acknowledged {kind} in discrepancies)" if kind else "")
        problems.append(
            Problem(shown_as, loaded.line_of(issue.path), dotted(issue.path), rule_text, issue.shown(), bool(kind))
        )
    if isinstance(loaded.data, dict):
        rid = loaded.data.get("id")
        if isinstance(rid, str) and rid != path.stem:
            problems.append(
                Problem(shown_as, loaded.line_of(("id",)), "id", f"must equal the file name ({path.stem!r})", show(rid))
            )
    problems.sort(key=lambda p: (p.line, p.field))
    return Checked(path, shown_as, loaded, problems)


def _check_all(files: list[Path], shown: list[str], vocab: Vocabularies, checks: CheckCache | None) -> list[Checked]:
    """Each file's check, in order: kept (when `checks` has it) or made, on two processes when
    there are many to make (checkpool.py)."""
    results: list[Checked | None] = []
    todo: list[tuple[int, Item, str]] = []
    for path, shown_as in zip(files, shown, strict=True):
        try:
            data = path.read_bytes()
        except OSError:
            results.append(check_file(path, shown_as, vocab))
            continue
        key = checks.key(data, f"{shown_as}\0{path}") if checks is not None else ""
        found = checks.get(key) if checks is not None else None
        if found is None:
            todo.append((len(results), Item(path, shown_as, data), key))
        results.append(found)
    made = check_items([item for _, item, _ in todo], vocab, check_file)
    for (at, _, key), outcome in zip(todo, made, strict=True):
        results[at] = outcome.checked
        if checks is not None:
            checks.put(key, outcome.checked, outcome.pickled)
    return [r for r in results if r is not None]


def record_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return files[:MAX_FILES]


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_data_file(path: Path) -> tuple[str, Loaded | None, list[Problem]]:
    """A data file (queue, strategy, synonyms) loaded as strictly as a record: (its path as shown,
    the loaded data or None, the problem that stopped the load)."""
    shown = display_path(path)
    try:
        return shown, load(decode(path.read_bytes())), []
    except LoadError as exc:
        return shown, None, [Problem(shown, exc.line, exc.field, exc.message)]
    except OSError as exc:
        return shown, None, [Problem(shown, 0, "", f"cannot read file: {exc.strerror}")]


def placed(shown: str, loaded: Loaded, issues: Iterable[tuple[FieldPath, str, Any]]) -> list[Problem]:
    """(field path, rule, value or ...) issues of a loaded data file as problems, in line order."""
    problems = [
        Problem(shown, loaded.line_of(at), dotted(at), rule, None if got is ... else show(got))
        for at, rule, got in issues
    ]
    return sorted(problems, key=lambda p: (p.line, p.field))


def shown_paths(folder: Path, files: list[Path]) -> list[str]:
    """Each file's path as messages show it (display_path), with the folder resolved once rather
    than every file: a resolve is three system calls, a noticeable part of checking a record."""
    base = display_path(folder)
    try:
        return [str(Path(base) / f.relative_to(folder)) if not f.is_symlink() else display_path(f) for f in files]
    except ValueError:
        return [display_path(f) for f in files]


def check_folder(folder: Path, vocab: Vocabularies | None = None, cache: Path | None = None) -> list[Checked]:
    """Check every record under `folder`, including problems that span files (duplicate ids).
    `cache`: a folder keeping each file's check, reused while the file is unchanged (checkcache.py)."""
    vocab = vocab or load_vocabularies()
    files = record_files(folder)
    shown = shown_paths(folder, files)
    checks = CheckCache(cache, vocab) if cache is not None else None
    results = _check_all(files, shown, vocab, checks)
    if checks is not None:
        checks.save()
    seen: dict[str, Checked] = {}
    for res in results:
        data = res.loaded.data if res.loaded else None
        rid = data.get("id") if isinstance(data, dict) else None
        if not isinstance(rid, str):
            continue
        if rid in seen:
            first = seen[rid]
            assert res.loaded is not None
            res.problems.append(
                Problem(
                    res.shown_as,
                    res.loaded.line_of(("id",)),
                    "id",
                    f"must be unique; also used by {first.shown_as}",
                    show(rid),
                )
            )
        else:
            seen[rid] = res
    return results
