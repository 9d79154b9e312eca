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

from evidence_map.judging.certainty import Summary
from evidence_map.judging.computed import ComputedMap
from evidence_map.judging.grading import DOMAINS
from evidence_map.judging.paper import paper_table3
from evidence_map.records.evidence import Evidence

EFFECT_KEYS = (
    "outcome",
    "domain",
    "measure",
    "unit",
    "estimate",
    "ci_low",
    "ci_high",
    "i2",
    "i2_min",
    "i2_max",
    "p",
    "p_bound",
    "significant",
    "k",
    "animals",
    "improves",
    "scope",
    "graded",
    "origin",
    "origin_url",
)
CSV_COLUMNS = (
    "id",
    "label",
    "first_author",
    "year",
    "journal",
    "title",
    "authors",
    "doi",
    "pmid",
    "pmcid",
    "n_studies",
    "conditions",
    "sources",
    "species",
    "routes",
    "rob_tool",
    "rob_overall",
    "amstar2",
    "appraised_by",
    "found_by",
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
    "title": "citation.title",
    "doi": "citation.doi",
    "pmid": "citation.pmid",
    "pmcid": "citation.pmcid",
    "found_by": "found_by",
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
                "title": r.title,
                "authors": list(r.authors),
                "doi": r.doi,
                "pmid": r.pmid,
                "pmcid": r.pmcid,
                "found_by": r.found_by,
                "appraised_by": r.appraised_by,
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
    return _csv(review_rows(evidence), CSV_COLUMNS)


# The effects file: one row per pooled estimate, numbers as plain ASCII numbers, ready for analysis.
EFFECTS_COLUMNS = (
    "review_id",
    "review_label",
    "year",
    "doi",
    "pmid",
    "condition_id",
    "condition",
    "outcome",
    "domain",
    "measure",
    "unit",
    "estimate",
    "ci_low",
    "ci_high",
    "i2",
    "i2_low",
    "i2_high",
    "p",
    "p_bound",
    "significant",
    "k",
    "animals",
    "improves",
    "scope",
    "counts_toward_verdict",
    "not_counted_because",
    "origin",
    "origin_url",
    "source",
)


def effect_rows(computed: ComputedMap) -> list[dict[str, Any]]:
    """One row per pooled estimate and condition it speaks for."""
    evidence = computed.evidence
    v = evidence.vocab
    rows = []
    for r in evidence.records:
        for e in r.effects:
            for cid in [e.condition] if e.condition else r.conditions:
                flags = computed.assessment(r, e).flags
                rows.append(
                    {
                        "review_id": r.id,
                        "review_label": r.label,
                        "year": r.year,
                        "doi": r.doi,
                        "pmid": r.pmid,
                        "condition_id": cid,
                        "condition": v.conditions.get(cid).name,
                        "outcome": e.outcome,
                        "domain": e.domain,
                        "measure": e.measure,
                        "unit": e.unit,
                        "estimate": e.estimate,
                        "ci_low": e.ci_low,
                        "ci_high": e.ci_high,
                        "i2": e.i2,
                        "i2_low": e.i2_min,
                        "i2_high": e.i2_max,
                        "p": e.p,
                        "p_bound": e.p_bound if e.p is not None else None,
                        "significant": e.significant,
                        "k": e.k,
                        "animals": e.animals,
                        "improves": e.improves,
                        "scope": e.scope,
                        "counts_toward_verdict": not flags,
                        "not_counted_because": "; ".join(flags) or None,
                        "origin": e.origin,
                        "origin_url": e.origin_url,
                        "source": e.source,
                    }
                )
    return rows


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """CSV with empty cells for missing values, true/false for flags and numbers as Python prints them
    (ASCII minus, no thousands separator), so every numeric column parses as a number."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        cells = {}
        for k in columns:
            value = row[k]
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, list):
                value = "; ".join(str(x) for x in value)
            cells[k] = "" if value is None else value
        writer.writerow(cells)
    return out.getvalue()


def effects_csv(computed: ComputedMap) -> str:
    return _csv(effect_rows(computed), EFFECTS_COLUMNS)


def effects_json(computed: ComputedMap) -> str:
    return json.dumps(effect_rows(computed), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


SOF_COLUMNS = (
    "condition_id",
    "condition",
    "domain",
    "n_reviews",
    "n_estimates",
    "estimates",
    "favour_evs",
    "favour_control",
    "no_difference",
    "certainty",
    "risk_of_bias",
    "inconsistency",
    "imprecision",
    "publication_bias",
    "reasons",
    "verdict",
    "bottom_line",
)


def _sof_row(cid: str, name: str, s: Summary) -> list[dict[str, Any]]:
    out = []
    for row in s.rows:
        levels = {c.domain: c.levels for c in row.concerns}
        out.append(
            {
                "condition_id": cid,
                "condition": name,
                "domain": row.domain,
                "n_reviews": row.n_reviews,
                "n_estimates": len(row.counted),
                "estimates": [
                    f"{r.measure} {r.low:g}" + (f" to {r.high:g}" if r.count > 1 else "") + f" (n={r.count})"
                    for r in row.ranges
                ],
                "favour_evs": row.benefit,
                "favour_control": row.harm,
                "no_difference": row.null,
                "certainty": row.certainty,
                "risk_of_bias": levels.get("risk of bias"),
                "inconsistency": levels.get("inconsistency"),
                "imprecision": levels.get("imprecision"),
                "publication_bias": levels.get("publication bias"),
                "reasons": list(row.reasons),
                "verdict": row.verdict.label,
                "bottom_line": s.bottom_line,
            }
        )
    return out


def summary_of_findings_csv(computed: ComputedMap) -> str:
    """One row per condition and outcome domain with counted estimates: the certainty and its reasons
    (levels taken off per GRADE domain: 0, 1 or 2)."""
    evidence, grades, sof = computed.evidence, computed.grades, computed.summaries
    rows = [r for cid in grades for r in _sof_row(cid, evidence.vocab.conditions.get(cid).name, sof[cid])]
    return _csv(rows, SOF_COLUMNS)


def condition_rows(computed: ComputedMap) -> list[dict[str, Any]]:
    evidence, grades, sof = computed.evidence, computed.grades, computed.summaries
    v = evidence.vocab
    paper = paper_table3()
    rows = []
    for cid, g in grades.items():
        term = v.conditions.get(cid)
        s = sof[cid]
        second = computed.classes[cid]
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
                "paper_difference": computed.paper_differences.get(cid),
                "no_verdict": s.gap,
                "certainty": s.certainty,
                "certainty_reasons": list(s.reasons),
                "bottom_line": s.bottom_line,
                "summary_of_findings": _sof_row(cid, term.name, s),
                "domain_relation": s.domain_relation or None,
                "n_reviews_beyond_source": sum(1 for r in evidence.for_condition(cid) if r.beyond_source),
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


def conditions_json(computed: ComputedMap) -> str:
    return json.dumps(condition_rows(computed), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def export_files(computed: ComputedMap) -> dict[str, str]:
    """The export files by name, as text."""
    evidence = computed.evidence
    return {
        "reviews.json": reviews_json(evidence),
        "reviews.csv": reviews_csv(evidence),
        "conditions.json": conditions_json(computed),
        "effects.csv": effects_csv(computed),
        "effects.json": effects_json(computed),
        "summary-of-findings.csv": summary_of_findings_csv(computed),
    }


def write_exports(computed: ComputedMap, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in export_files(computed).items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
