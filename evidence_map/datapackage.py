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

from .evidence import Evidence
from .exports import CSV_COLUMNS, CSV_SOURCES
from .paths import ROOT, SCHEMA
from .umbrella import umbrella

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
