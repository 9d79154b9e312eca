"""The part of the record schema that follows from the vocabularies: their ids, as enums.

The schema is the one definition of the record format, and editors read it while a contributor
types, so it lists the valid condition, source, species and route ids. Those lists live in vocab/;
`build.py schema` copies them in, and a test fails when the committed schema is out of date.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from evidence_map.paths import SCHEMA
from evidence_map.records.vocab import Vocabularies, load_vocabularies

# Where each vocabulary's ids sit in the schema (a path of property names to an id list).
ID_LISTS = {
    "conditions": ("conditions", "ids"),
    "sources": ("sources", "ids"),
    "species": ("species", "ids"),
    "routes": ("dosing", "routes", "ids"),
}


def _node(schema: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    node = schema
    for key in path:
        node = node["properties"][key]
    return node


def with_vocabulary_ids(schema: dict[str, Any], vocab: Vocabularies) -> dict[str, Any]:
    out = copy.deepcopy(schema)
    for name, path in ID_LISTS.items():
        items = _node(out, path)["items"]
        items["enum"] = list(getattr(vocab, name).ids)
        items.pop("pattern", None)  # the enum says more
    return out


def schema_text(vocab: Vocabularies | None = None) -> str:
    current = json.loads(SCHEMA.read_text(encoding="utf-8"))
    updated = with_vocabulary_ids(current, vocab or load_vocabularies())
    return json.dumps(updated, indent=2, ensure_ascii=False) + "\n"


def write_schema() -> bool:
    """Bring the committed schema up to date; True when it changed."""
    text = schema_text()
    if SCHEMA.read_text(encoding="utf-8") == text:
        return False
    SCHEMA.write_text(text, encoding="utf-8")
    return True
