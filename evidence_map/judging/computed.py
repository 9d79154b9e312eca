"""The computed map: everything the judging stage derives from validated records, computed once.

`compute_map` is the one place the records are assessed, graded and rated. Charts, pages, tables,
downloads, search terms and the map diff receive the `ComputedMap` and only read it; none of them
grades or assesses again. Parts only some readers need (the certainty summaries, the replayed
history, the audit's source-only grades) are computed on first use and kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from evidence_map.judging.certainty import Summary, summaries
from evidence_map.judging.classes import Stratified, best_class
from evidence_map.judging.grading import RULES, Assessed, ConditionGrade, Verdict, assess, grade_all, overall_verdict
from evidence_map.judging.history import VerdictChange, verdict_changes
from evidence_map.judging.paper import paper_comparison, paper_table3, source_only
from evidence_map.judging.rules import Rules
from evidence_map.records.evidence import Evidence, load_evidence
from evidence_map.records.model import Effect, Record
from evidence_map.records.vocab import Vocabularies


@dataclass(frozen=True, eq=False)
class ComputedMap:
    """The records with their verdicts, certainty, assessed effects and the paper's comparison."""

    evidence: Evidence
    rules: Rules
    grades: Mapping[str, ConditionGrade]  # every condition of the vocabulary, in its order
    assessed: Mapping[str, tuple[Assessed, ...]]  # record id -> one per effect, in the record's order

    @property
    def records(self) -> tuple[Record, ...]:
        return self.evidence.records

    @property
    def vocab(self) -> Vocabularies:
        return self.evidence.vocab

    def assessment(self, record: Record, effect: Effect) -> Assessed:
        """The assessment of one of `record`'s effects."""
        return self.assessed[record.id][record.effects.index(effect)]

    def assessed_for(self, record: Record, condition: str | None = None) -> list[Assessed]:
        """The assessed effects of `record`, or those that speak for `condition`."""
        effects = record.effects if condition is None else record.effects_for(condition)
        return [self.assessment(record, e) for e in effects]

    def all_assessed(self) -> list[Assessed]:
        """Every assessed effect, records in their order."""
        return [a for r in self.records for a in self.assessed[r.id]]

    @cached_property
    def summaries(self) -> dict[str, Summary]:
        """Each condition's summary of findings and bottom line."""
        return summaries(self.evidence, self.grades, self.rules)

    @cached_property
    def classes(self) -> dict[str, Stratified]:
        """Each condition's best evidence class (the second criteria set)."""
        return {c: best_class((*g.overall.considered, *g.overall.excluded)) for c, g in self.grades.items()}

    @cached_property
    def paper_differences(self) -> dict[str, str]:
        """Why the verdict differs from the umbrella review's own rating, per condition it rated."""
        return {
            c: paper_comparison(entry, self.grades[c], self.evidence.for_condition(c))
            for c, entry in paper_table3().items()
            if c in self.grades
        }

    @cached_property
    def source_only(self) -> dict[str, Verdict]:
        """The overall verdicts the umbrella review's own figures give, for the conditions of its
        Table 3 (the audit shows them beside today's; the other verdicts of a grade, several times
        its cost, it does not show)."""
        records = source_only(self.records)
        return {c: overall_verdict(c, records, self.rules) for c in paper_table3()}

    @cached_property
    def verdict_changes(self) -> list[VerdictChange]:
        """Every change of a condition's verdict as the records were added, newest first."""
        return verdict_changes(self.evidence, self.rules)


def compute_map(evidence: Evidence, rules: Rules = RULES) -> ComputedMap:
    """Assess every effect and grade every condition of validated `evidence`, once."""
    assessed = {r.id: tuple(assess(r, e, rules) for e in r.effects) for r in evidence.records}
    grades = grade_all(evidence.vocab.conditions.ids, evidence.records, rules)
    return ComputedMap(evidence, rules, grades, assessed)


def load_map(evidence_dir: Path, vocab_dir: Path | None = None, rules: Rules = RULES) -> ComputedMap:
    """Validate the records under `evidence_dir` and compute their map. Raises InvalidEvidence."""
    return compute_map(load_evidence(evidence_dir, vocab_dir), rules)
