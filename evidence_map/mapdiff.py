"""What a change to the records does to the map: `build.py diff BASE`.

A reviewer of a pull request wants the consequences, not the YAML diff: which reviews arrive,
which verdicts move and because of which effect, which pages appear. Both sides are graded by the
current code, so the comparison shows what the data change does, not what a code change does.
The base side is read from git (`git archive`), never checked out, so the work tree is untouched.
"""

from __future__ import annotations

import dataclasses
import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from evidence_map.judging.computed import compute_map
from evidence_map.judging.grading import Assessed, ConditionGrade, Verdict
from evidence_map.paths import ROOT
from evidence_map.publishing.markup import escape
from evidence_map.records.evidence import Evidence, InvalidEvidence, load_evidence, repo_path
from evidence_map.records.model import record_from_data
from evidence_map.records.validate import check_folder
from evidence_map.records.vocab import load_vocabularies

INPUTS = ("evidence", "vocab")  # what the map is computed from


@dataclass(frozen=True)
class MapState:
    evidence: Evidence
    grades: Mapping[str, ConditionGrade]

    @property
    def pages(self) -> set[str]:
        ev = self.evidence
        pages = {f"conditions/{c}/" for c in ev.vocab.conditions.ids}
        pages |= {f"sources/{s}/" for s in ev.vocab.sources.ids if ev.for_source(s)}
        return pages | {f"reviews/{r.id}/" for r in ev.records}

    @property
    def covered(self) -> tuple[set[str], set[str]]:
        """(conditions, EV sources) that at least one record covers."""
        recs = self.evidence.records
        return {c for r in recs for c in r.conditions}, {s for r in recs for s in r.sources}


@dataclass(frozen=True)
class VerdictChange:
    condition: str
    domain: str | None  # None: the condition's overall verdict
    before: str
    after: str
    causes: tuple[str, ...]


@dataclass(frozen=True)
class MapDiff:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[tuple[str, tuple[str, ...]], ...]  # record id, fields that differ
    verdicts: tuple[VerdictChange, ...]
    new_conditions: tuple[str, ...]
    new_sources: tuple[str, ...]
    pages_added: tuple[str, ...]
    pages_removed: tuple[str, ...]
    head: MapState

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.verdicts or self.pages_added)


def state_of(evidence_dir: Path, vocab_dir: Path | None = None) -> MapState:
    ev = load_evidence(evidence_dir, vocab_dir)
    return MapState(ev, compute_map(ev).grades)


def extract(rev: str, dest: Path, repo: Path = ROOT) -> Path:
    """The map's inputs at `rev`, written under `dest`; raises ValueError for an unknown revision."""
    proc = subprocess.run(
        ["git", "archive", "--format=tar", rev, "--", *INPUTS], cwd=repo, capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise ValueError(proc.stderr.decode("utf-8", "replace").strip() or f"git archive {rev} failed")
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def _key(a: Assessed) -> tuple[str, str, str, float | None]:
    return (a.record.id, a.effect.outcome, a.effect.measure, a.effect.estimate)


def _describe(a: Assessed) -> str:
    e = a.effect
    shown = "not significant, no estimate printed" if e.estimate is None else f"{e.estimate:g}"
    return f"{a.record.label}: {e.outcome} ({e.measure} {shown})"


def _causes(before: Verdict, after: Verdict) -> tuple[str, ...]:
    """The effects that entered or left the deciding set, else those newly considered."""
    old = {_key(a) for a in before.deciding}
    new = {_key(a) for a in after.deciding}
    causes = [f"now deciding: {_describe(a)}" for a in after.deciding if _key(a) not in old]
    causes += [f"no longer deciding: {_describe(a)}" for a in before.deciding if _key(a) not in new]
    if not causes:
        seen = {_key(a) for a in before.considered}
        causes = [f"new effect: {_describe(a)}" for a in after.considered if _key(a) not in seen]
    return tuple(causes)


def _verdict_changes(base: MapState, head: MapState) -> list[VerdictChange]:
    changes = []
    for cid in head.evidence.vocab.conditions.ids:
        old, new = base.grades.get(cid), head.grades[cid]
        if old is None:
            continue
        pairs: list[tuple[str | None, Verdict, Verdict]] = [(None, old.overall, new.overall)]
        pairs += [(d, old.domains[d], new.domains[d]) for d in new.domains if d in old.domains]
        for domain, before, after in pairs:
            if before.label != after.label:
                changes.append(VerdictChange(cid, domain, before.label, after.label, _causes(before, after)))
    return changes


def _changed_fields(a: object, b: object) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(a) if getattr(a, f.name) != getattr(b, f.name))  # type: ignore[arg-type]


def compare(base: MapState, head: MapState) -> MapDiff:
    old = {r.id: r for r in base.evidence.records}
    new = {r.id: r for r in head.evidence.records}
    changed = tuple((rid, _changed_fields(old[rid], new[rid])) for rid in sorted(old.keys() & new.keys()))
    base_cond, base_src = base.covered
    head_cond, head_src = head.covered
    return MapDiff(
        added=tuple(sorted(new.keys() - old.keys())),
        removed=tuple(sorted(old.keys() - new.keys())),
        changed=tuple((rid, fields) for rid, fields in changed if fields),
        verdicts=tuple(_verdict_changes(base, head)),
        new_conditions=tuple(sorted(head_cond - base_cond)),
        new_sources=tuple(sorted(head_src - base_src)),
        pages_added=tuple(sorted(head.pages - base.pages)),
        pages_removed=tuple(sorted(base.pages - head.pages)),
        head=head,
    )


def repository_of(evidence_dir: Path) -> Path:
    """The git work tree holding `evidence_dir` (its vocab/ is read beside it)."""
    proc = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=evidence_dir, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise ValueError(f"{evidence_dir} is not inside a git repository")
    return Path(proc.stdout.strip())


def base_state(evidence_dir: Path, vocab_dir: Path | None = None) -> MapState:
    """The base side, as its records load. A change may add a validation rule and fix the records it
    catches in one go: the base then fails this version's rules, and must still be compared. Records
    the model cannot read at all are left out."""
    try:
        return state_of(evidence_dir, vocab_dir)
    except InvalidEvidence:
        vocab = load_vocabularies() if vocab_dir is None else load_vocabularies(vocab_dir)
        records = []
        for res in check_folder(evidence_dir, vocab):
            if res.loaded is None:
                continue
            try:
                records.append(record_from_data(res.loaded.data, repo_path(res.file)))
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
        records.sort(key=lambda r: (r.first_author.lower(), r.label.lower(), r.id))
        ev = Evidence(tuple(records), (), vocab)
        return MapState(ev, compute_map(ev).grades)


def diff_against(rev: str, evidence_dir: Path, vocab_dir: Path, repo: Path = ROOT) -> MapDiff:
    head = state_of(evidence_dir, vocab_dir)  # this side must validate
    with tempfile.TemporaryDirectory(prefix="map-base-") as tmp:
        root = extract(rev, Path(tmp), repo)
        base = base_state(root / "evidence", root / "vocab")
    return compare(base, head)


# ---------------------------------------------------------------- reports


def _names(ids: Iterable[str], vocab_get: object) -> list[str]:
    return [f"{vocab_get(i).name} ({i})" for i in ids]  # type: ignore[operator]


def report(diff: MapDiff, base_name: str, markdown: bool = False) -> str:
    """The diff as plain text, or as Markdown for a CI job summary (record text escaped)."""
    v = diff.head.evidence.vocab
    esc = (lambda s: str(escape(s))) if markdown else str
    lines = [f"## What this change does to the map (against {esc(base_name)})" if markdown else f"Against {base_name}:"]
    if diff.empty:
        lines.append("No change to the records, verdicts or pages.")
        return "\n".join(lines) + "\n"
    bullet = "- " if markdown else "  "

    def section(title: str, items: Iterable[str]) -> None:
        items = list(items)
        if items:
            lines.append("")
            lines.append(f"### {title}" if markdown else f"{title}:")
            lines.extend(bullet + esc(i) for i in items)

    by_id = {r.id: r for r in diff.head.evidence.records}
    section("Records added", [f"{rid}: {by_id[rid].label}" for rid in diff.added])
    section("Records removed", diff.removed)
    section("Records changed", [f"{rid}: {', '.join(fields)}" for rid, fields in diff.changed])
    verdicts = []
    for c in diff.verdicts:
        where = v.conditions.get(c.condition).name + (f" × {c.domain}" if c.domain else "")
        verdicts.append(f"{where}: {c.before} → {c.after}" + (f" ({'; '.join(c.causes)})" if c.causes else ""))
    section("Verdicts that change", verdicts)
    section("Conditions covered for the first time", _names(diff.new_conditions, v.conditions.get))
    section("EV sources covered for the first time", _names(diff.new_sources, v.sources.get))
    section("Pages added", diff.pages_added)
    section("Pages removed", diff.pages_removed)
    return "\n".join(lines) + "\n"
