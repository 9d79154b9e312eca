"""The downloads described as a Frictionless Data Package, and bundled as a reproducible zip.

`datapackage.json` names each download with its format and media type, and gives `reviews.csv` a
Table Schema whose fields are the CSV's columns, typed and constrained, so the table can be
validated and loaded by tools that read Data Packages. Both the descriptor and the zip depend
only on their inputs: two builds of the same records give byte-identical files.
"""

from __future__ import annotations

import hashlib
import io
import json
import tomllib
import zipfile
from pathlib import PurePosixPath
from typing import Any

from evidence_map.paths import ROOT, SCHEMA
from evidence_map.publishing.exports import CSV_COLUMNS, CSV_SOURCES, EFFECTS_COLUMNS, SOF_COLUMNS
from evidence_map.records.evidence import Evidence
from evidence_map.records.umbrella import umbrella

NAME = "msc-ev-evidence-map"
TITLE = "MSC-EV Living Evidence Map"
DESCRIPTION = (
    "Published meta-analyses of preclinical (animal) studies of extracellular vesicles from "
    "mesenchymal stem cells, one row per meta-analysis, with the verdicts the map computes per condition."
)
HOMEPAGE = "https://msc-ev-map.github.io/evidence-map/"
REPOSITORY = "https://github.com/msc-ev-map/evidence-map"
# The data's licence (LICENSE; CITATION.cff agrees); the code is MIT.
LICENSES = [
    {
        "name": "CC-BY-4.0",
        "path": "https://creativecommons.org/licenses/by/4.0/",
        "title": "Creative Commons Attribution 4.0",
    }
]
LIST_SEPARATOR = "; "

# The zip's entries all carry this time (the earliest a zip can record), so its bytes never
# depend on when it was made.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _enum(*path: str) -> list[str]:
    """An enumeration from the record schema, so the table's constraints follow the record format."""
    node: Any = json.loads(SCHEMA.read_text(encoding="utf-8"))
    for key in path:
        node = node[key]
    return [str(v) for v in node["enum"]]


def _listed(what: str) -> str:
    return f"{what}, separated by '{LIST_SEPARATOR}'"


def csv_fields() -> list[dict[str, Any]]:
    """The Table Schema fields of reviews.csv, one per column of `exports.CSV_COLUMNS`, in order."""
    rob = _enum("properties", "risk_of_bias", "properties", "overall")
    amstar = _enum("properties", "amstar2", "properties", "rating")
    known: dict[str, dict[str, Any]] = {
        "id": {
            "type": "string",
            "description": "Record id: the file name of the record in evidence/.",
            "constraints": {"required": True, "unique": True, "pattern": "[a-z0-9]+(-[a-z0-9]+)*"},
        },
        "label": {"type": "string", "description": "How the review is cited, e.g. 'Smith et al. (2026)'."},
        "first_author": {"type": "string", "description": "Surname of the first author."},
        "year": {"type": "integer", "description": "Year of publication.", "constraints": {"minimum": 1900}},
        "journal": {"type": "string", "description": "Journal, abbreviated as in the source."},
        "n_studies": {
            "type": "integer",
            "description": "Number of primary animal studies the review includes.",
            "constraints": {"minimum": 0},
        },
        "conditions": {"type": "string", "description": _listed("Conditions studied (the map's names)")},
        "sources": {"type": "string", "description": _listed("Cell sources of the vesicles")},
        "species": {"type": "string", "description": _listed("Animal species")},
        "routes": {"type": "string", "description": _listed("Routes of administration; empty when not reported")},
        "rob_tool": {"type": "string", "description": "Risk-of-bias tool the review used."},
        "rob_overall": {
            "type": "string",
            "description": "Overall risk of bias of the included studies.",
            "constraints": {"enum": rob},
        },
        "amstar2": {
            "type": "string",
            "description": "AMSTAR-2 overall confidence in the review.",
            "constraints": {"enum": amstar},
        },
        "title": {"type": "string", "description": "Article title, where a cited page confirmed it."},
        "authors": {"type": "string", "description": _listed("Authors as published, where confirmed")},
        "doi": {"type": "string", "description": "DOI, where confirmed."},
        "pmid": {"type": "string", "description": "PubMed id, where confirmed.", "constraints": {"pattern": "[0-9]+"}},
        "pmcid": {"type": "string", "description": "PubMed Central id, where confirmed."},
        "appraised_by": {
            "type": "string",
            "description": "Who appraised the review with AMSTAR-2.",
            "constraints": {"enum": _enum("properties", "amstar2", "properties", "appraised_by")},
        },
        "found_by": {
            "type": "string",
            "description": "How the review entered the map.",
            "constraints": {"enum": _enum("properties", "found_by")},
        },
        "n_effects": {
            "type": "integer",
            "description": "Number of pooled estimates recorded for the review.",
            "constraints": {"minimum": 0},
        },
        "added": {"type": "date", "format": "default", "description": "Date the record was added."},
        "updated": {"type": "date", "format": "default", "description": "Date the record was last changed."},
    }
    fields = []
    for column in CSV_COLUMNS:
        if column not in known:
            raise KeyError(f"reviews.csv column {column!r} has no field in datapackage.csv_fields; describe it there")
        field = {"name": column, "title": column.replace("_", " ").capitalize(), **known[column]}
        if column in CSV_SOURCES:  # a record field as it is: described once, in the record schema
            field["description"] = _schema_node(CSV_SOURCES[column])["description"]
        fields.append(field)
    return fields


NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean", "trueValues": ["true"], "falseValues": ["false"]}
EFFECT_FIELDS: dict[str, tuple[dict[str, Any], str]] = {
    "review_id": ({"type": "string", "constraints": {"required": True}}, "Record id of the meta-analysis."),
    "review_label": ({"type": "string"}, "How the review is cited."),
    "year": (INTEGER, "Year of publication of the review."),
    "doi": ({"type": "string"}, "DOI of the review, where confirmed."),
    "pmid": ({"type": "string"}, "PubMed id of the review, where confirmed."),
    "condition_id": ({"type": "string", "constraints": {"required": True}}, "Condition id (vocab/conditions.yaml)."),
    "condition": ({"type": "string"}, "Condition name."),
    "outcome": ({"type": "string"}, "Outcome, as reported."),
    "domain": ({"type": "string"}, "Outcome domain."),
    "measure": ({"type": "string"}, "Effect measure: SMD, WMD, MD (no effect = 0); HR, OR, RR (no effect = 1)."),
    "unit": ({"type": "string"}, "Unit of a raw difference (WMD, MD), where given."),
    "estimate": (NUMBER, "Pooled estimate as published; empty for a non-significant result printed without one."),
    "ci_low": (NUMBER, "Lower bound of the 95% confidence interval."),
    "ci_high": (NUMBER, "Upper bound of the 95% confidence interval."),
    "i2": (NUMBER, "I² of this estimate, percent."),
    "i2_low": (NUMBER, "Lowest value of an I² range the source gives for the estimate's row, percent."),
    "i2_high": (NUMBER, "Highest value of that range, percent."),
    "p": (NUMBER, "p value as reported (or its bound, see p_bound)."),
    "p_bound": ({"type": "string"}, "'<' when only an upper bound of p is reported, '=' otherwise."),
    "significant": (BOOLEAN, "The source's word on significance where it prints no p or CI."),
    "k": (INTEGER, "Studies pooled in this estimate, where printed."),
    "animals": (INTEGER, "Animals pooled in this estimate, where printed."),
    "improves": ({"type": "string"}, "Whether a lower or a higher value is better for the animal."),
    "scope": ({"type": "string"}, "What the estimate pools; only msc-ev counts toward a verdict."),
    "counts_toward_verdict": (BOOLEAN, "Whether the estimate feeds the map's verdicts and certainty ratings."),
    "not_counted_because": ({"type": "string"}, "Why it does not, where it does not."),
    "origin": ({"type": "string"}, "Where the estimate was read: umbrella-review or original-article."),
    "origin_url": ({"type": "string", "format": "uri"}, "Address of the page it was read on (original articles)."),
    "source": ({"type": "string"}, "Table, section or part of the article it was read in."),
}
SOF_FIELDS: dict[str, tuple[dict[str, Any], str]] = {
    "condition_id": ({"type": "string", "constraints": {"required": True}}, "Condition id."),
    "condition": ({"type": "string"}, "Condition name."),
    "domain": ({"type": "string"}, "Outcome domain."),
    "n_reviews": (INTEGER, "Reviews with a counted estimate in this domain."),
    "n_estimates": (INTEGER, "Counted estimates in this domain."),
    "estimates": ({"type": "string"}, _listed("Range of the estimates per measure, with their number")),
    "favour_evs": (INTEGER, "Significant estimates favouring MSC-EVs."),
    "favour_control": (INTEGER, "Significant estimates favouring control."),
    "no_difference": (INTEGER, "Estimates showing no significant difference."),
    "certainty": ({"type": "string"}, "Certainty of the evidence: high, moderate, low, very low, or not rated."),
    "risk_of_bias": (INTEGER, "Levels taken off for risk of bias (0-2)."),
    "inconsistency": (INTEGER, "Levels taken off for inconsistency (0-2)."),
    "imprecision": (INTEGER, "Levels taken off for imprecision (0-1)."),
    "publication_bias": (INTEGER, "Levels taken off for publication bias (0-1)."),
    "reasons": ({"type": "string"}, _listed("Why the certainty is lowered")),
    "verdict": ({"type": "string"}, "The review's rule-based verdict for this domain."),
    "bottom_line": ({"type": "string"}, "The condition's one-sentence bottom line."),
}


def table_fields(columns: tuple[str, ...], described: dict[str, tuple[dict[str, Any], str]]) -> list[dict[str, Any]]:
    """Table Schema fields for a CSV download, one per column, in order."""
    out = []
    for column in columns:
        if column not in described:
            raise KeyError(f"column {column!r} has no description in datapackage.py")
        kind, description = described[column]
        out.append({"name": column, "title": column.replace("_", " ").capitalize(), **kind, "description": description})
    return out


def _table(name: str, path: str, title: str, description: str, fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "path": path,
        "profile": "tabular-data-resource",
        "title": title,
        "description": description,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": {"delimiter": ",", "lineTerminator": "\n", "quoteChar": '"', "doubleQuote": True, "header": True},
        "schema": {"fields": fields, "missingValues": [""]},
    }


def _schema_node(dotted: str) -> dict[str, Any]:
    node: Any = json.loads(SCHEMA.read_text(encoding="utf-8"))
    for key in dotted.split("."):
        node = node["properties"][key]
    return node  # type: ignore[no-any-return]


def _project_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def _file_resource(name: str, path: str, fmt: str, mediatype: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "path": path,
        "profile": "data-resource",
        "format": fmt,
        "mediatype": mediatype,
        "encoding": "utf-8",
        "description": description,
    }


def datapackage(
    evidence: Evidence, version: str | None = None, files: dict[str, bytes] | None = None
) -> dict[str, Any]:
    """The Data Package descriptor of the downloads (write it as `datapackage.json` beside them).

    `version` defaults to the project's version. With `files` (download name -> bytes), each resource
    also records its size and SHA-256, which validators check against the file.
    """
    dates = sorted(r.updated for r in evidence.records)
    resources: list[dict[str, Any]] = [
        {
            "name": "reviews",
            "path": "reviews.csv",
            "profile": "tabular-data-resource",
            "title": "Meta-analyses",
            "description": "One row per meta-analysis in the map; lists are joined with '; '.",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": {
                "delimiter": ",",
                "lineTerminator": "\n",
                "quoteChar": '"',
                "doubleQuote": True,
                "header": True,
            },
            "schema": {"fields": csv_fields(), "primaryKey": ["id"], "missingValues": [""]},
        },
        _file_resource(
            "reviews-json",
            "reviews.json",
            "json",
            "application/json",
            "Every meta-analysis with its pooled estimates, discrepancies and vocabulary ids, as a JSON array.",
        ),
        _file_resource(
            "conditions",
            "conditions.json",
            "json",
            "application/json",
            "The verdict the map computes for each condition, overall and per outcome domain, as a JSON array.",
        ),
        _table(
            "effects",
            "effects.csv",
            "Pooled effects",
            "One row per pooled estimate and condition: numbers as numbers, ready for analysis.",
            table_fields(EFFECTS_COLUMNS, EFFECT_FIELDS),
        ),
        _file_resource(
            "effects-json",
            "effects.json",
            "json",
            "application/json",
            "The same pooled effects as a JSON array (missing values are null).",
        ),
        _table(
            "summary-of-findings",
            "summary-of-findings.csv",
            "Summary of findings",
            "One row per condition and outcome domain: counted estimates, direction and certainty with its reasons.",
            table_fields(SOF_COLUMNS, SOF_FIELDS),
        ),
        _file_resource(
            "references-bibtex",
            "references.bib",
            "bib",
            "application/x-bibtex",
            "Citations of the meta-analyses in BibTeX, keyed by record id.",
        ),
        _file_resource(
            "references-ris",
            "references.ris",
            "ris",
            "application/x-research-info-systems",
            "Citations of the meta-analyses in RIS.",
        ),
    ]
    if files is not None and "prisma.json" in files:
        resources.append(
            _file_resource(
                "prisma",
                "prisma.json",
                "json",
                "application/json",
                "The PRISMA 2020 flow of the searches: identified, duplicates removed, screened, excluded with "
                "reasons, full texts assessed, included, and what awaits a decision.",
            )
        )
    if files is not None:
        for resource in resources:
            data = files[resource["path"]]
            resource["bytes"] = len(data)
            resource["hash"] = "sha256:" + hashlib.sha256(data).hexdigest()
    package: dict[str, Any] = {
        "profile": "data-package",
        "name": NAME,
        "title": TITLE,
        "description": DESCRIPTION,
        "version": version or _project_version(),
        "homepage": HOMEPAGE,
        "licenses": LICENSES,
        "contributors": [{"title": f"{TITLE} contributors", "role": "author", "path": REPOSITORY}],
        "keywords": [
            "mesenchymal stem cells",
            "extracellular vesicles",
            "meta-analysis",
            "preclinical",
            "evidence map",
        ],
        "resources": resources,
        "sources": [
            {
                "title": f"{umbrella().label}: {umbrella().title} ({umbrella().journal})",
                "path": umbrella().doi_url,
            }
        ],
    }
    if dates:
        package["created"] = f"{dates[-1]}T00:00:00Z"  # the newest record's date, not the build's clock
    return package


def datapackage_json(evidence: Evidence, version: str | None = None, files: dict[str, bytes] | None = None) -> str:
    """`datapackage(...)` as stable, indented JSON text."""
    return json.dumps(datapackage(evidence, version, files), indent=2, ensure_ascii=False) + "\n"


def _check_name(name: str) -> str:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or "\\" in name or any(part in ("", ".", "..") for part in name.split("/")):
        raise ValueError(f"not a plain relative file name for a zip entry: {name!r}")
    return name


def zip_bundle(files: dict[str, bytes]) -> bytes:
    """A deterministic zip of `files`: names sorted, fixed timestamps, permissions and compression."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in sorted(files, key=_check_name):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permission bits below are read
            info.external_attr = (0o100644 & 0xFFFF) << 16  # regular file, rw-r--r--
            zf.writestr(info, files[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()
