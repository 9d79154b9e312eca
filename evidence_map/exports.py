"""The downloadable data: reviews as JSON and CSV, and the computed verdicts per condition.

Exports are derived from the validated model only, in a stable order with sorted keys, so two
builds of the same records give byte-identical files.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from .classes import best_class
from .evidence import Evidence
from .grading import DOMAINS, ConditionGrade
from .paper import paper_comparison, paper_table3

EFFECT_KEYS = ("outcome", "domain", "measure", "estimate", "ci_low", "ci_high", "i2", "p", "improves")
CSV_COLUMNS = (
    "id",
    "label",
    "first_author",
    "year",
    "journal",
    "n_studies",
    "conditions",
    "sources",
    "species",
    "routes",
    "rob_tool",
    "rob_overall",
    "amstar2",
    "n_effects",
    "added",
    "updated",
)
# Columns that carry a record field as it is: their descriptions are the schema's (datapackage.py).
CSV_SOURCES = {
    "id": "id",
    "label": "citation.label",
    "first_author": "citation.first_author",
    "year": "citation.year",
    "journal": "citation.journal",
    "n_studies": "n_studies",
    "rob_tool": "risk_of_bias.tool",
    "rob_overall": "risk_of_bias.overall",
    "amstar2": "amstar2.rating",
    "added": "added",
    "updated": "updated",
}


def review_rows(evidence: Evidence) -> list[dict[str, Any]]:
    v = evidence.vocab
    rows = []
    for r in evidence.records:
        rows.append(
            {
                "id": r.id,
                "label": r.label,
                "first_author": r.first_author,
                "year": r.year,
                "journal": r.journal,
                "doi": r.doi,
                "n_studies": r.n_studies,
                "conditions": [v.conditions.get(c).name for c in r.conditions],
                "condition_ids": list(r.conditions),
                "sources": [v.sources.get(s).name for s in r.sources],
                "source_ids": list(r.sources),
                "species": [v.species.get(s).name for s in r.species],
                "routes": [v.routes.get(s).name for s in r.routes],
                "rob_tool": r.rob_tool,
                "rob_overall": r.rob_overall,
                "amstar2": r.amstar2_rating,
                "effects": [
                    {k: getattr(e, k) for k in EFFECT_KEYS} | {"condition": e.condition, "source": e.source}
                    for e in r.effects
                ],
                "n_effects": len(r.effects),
                "discrepancies": [
                    {"kind": d.kind, "field": d.field, "description": d.description} for d in r.discrepancies
                ],
                "added": r.added,
                "updated": r.updated,
            }
        )
    return rows


def reviews_json(evidence: Evidence) -> str:
    return json.dumps(review_rows(evidence), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def reviews_csv(evidence: Evidence) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in review_rows(evidence):
        writer.writerow({k: "; ".join(row[k]) if isinstance(row[k], list) else row[k] for k in CSV_COLUMNS})
    return out.getvalue()


def condition_rows(evidence: Evidence, grades: dict[str, ConditionGrade]) -> list[dict[str, Any]]:
    v = evidence.vocab
    paper = paper_table3()
    rows = []
    for cid, g in grades.items():
        term = v.conditions.get(cid)
        second = best_class((*g.overall.considered, *g.overall.excluded))
        rows.append(
            {
                "id": cid,
                "condition": term.name,
                "category": v.categories[term.category],
                "n_reviews": g.n_reviews,
                "verdict": g.overall.label,
                "verdict_rank": g.overall.rank,
                "verdict_reason": g.overall.reason,
                "sensitivity_verdict": g.sensitivity.label,
                "sensitivity": g.sensitivity_status,
                "robustness": g.robust,
                "robustness_changes": [{"thresholds": what, "verdict": label} for what, label in g.robustness],
                "paper_rating": paper[cid]["effectiveness"] if cid in paper else None,
                "paper_difference": paper_comparison(paper[cid], g) if cid in paper else None,
                "excluded_effects": [
                    {"review": a.record.id, "outcome": a.effect.outcome, "reasons": list(a.flags)}
                    for a in g.overall.excluded
                ],
                "uses_original_articles": any(a.effect.from_original for a in g.overall.considered),
                "second_criteria_class": second.label,
                "second_criteria_detail": second.detail,
                "domains": {d: g.domains[d].label for d in DOMAINS},
            }
        )
    return rows


def conditions_json(evidence: Evidence, grades: dict[str, ConditionGrade]) -> str:
    return json.dumps(condition_rows(evidence, grades), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def export_files(evidence: Evidence, grades: dict[str, ConditionGrade]) -> dict[str, str]:
    """The export files by name, as text."""
    return {
        "reviews.json": reviews_json(evidence),
        "reviews.csv": reviews_csv(evidence),
        "conditions.json": conditions_json(evidence, grades),
    }


def write_exports(evidence: Evidence, grades: dict[str, ConditionGrade], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in export_files(evidence, grades).items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
