"""What a record check reports, and the schema check every record gets first.

A problem is one line, `evidence/x.yaml:LINE: field.path: rule; got VALUE`. `Issue` is a broken rule
at a field path inside one record; `Problem` is the same placed in a file at a line. The helpers
here are shared by the plausibility checks (check_*.py) and by the other data files' checks."""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeGuard

import jsonschema

from evidence_map.paths import SCHEMA
from evidence_map.records.vocab import Vocabularies

FieldPath = tuple[str | int, ...]
PLACEHOLDER = re.compile(r"\bFILL[ -]IN\b", re.IGNORECASE)
FIRST_YEAR = 1990


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    rule: str
    got: str | None = None
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.field + ': ' if self.field else ''}{self.rule}"
        if self.got is not None:
            text += f"; got {self.got}"
        return ("warning: " if self.warning else "") + text

    def github(self) -> str:
        """The problem as a GitHub Actions annotation on the file and line."""

        def data(text: str) -> str:
            return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

        def prop(text: str) -> str:
            return data(text).replace(":", "%3A").replace(",", "%2C")

        level = "warning" if self.warning else "error"
        props = f"file={prop(self.file)}" + (f",line={self.line}" if self.line else "")
        props += f",title={prop(self.field or 'record')}"
        message = self.rule + (f"; got {self.got}" if self.got is not None else "")
        return f"::{level} {props}::{data(message)}"


@dataclass(frozen=True)
class Issue:
    """A rule broken at a field path, before it is placed in a file."""

    path: FieldPath
    rule: str
    got: Any = ...

    def shown(self) -> str | None:
        return None if self.got is ... else show(self.got)


def show(value: Any) -> str:
    """A short, single-line rendering of a bad value for an error message."""
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, float) and not math.isfinite(value):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def dotted(path: FieldPath) -> str:
    return ".".join(str(p) for p in path)


@cache
def schema() -> dict[str, Any]:
    with open(SCHEMA, encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


# ---------------------------------------------------------------- schema errors as rules

PATTERN_HINTS = {
    "doi": "a DOI such as 10.1000/xyz123, without a https://doi.org/ prefix",
    "url": "a https:// link",
    "pmid": "a PubMed id: digits only",
    "pmcid": "a PubMed Central id: PMC and digits, such as PMC8800223",
    "added": "a date written YYYY-MM-DD",
    "updated": "a date written YYYY-MM-DD",
}


def _schema_rule(err: jsonschema.ValidationError) -> Issue:
    path: FieldPath = tuple(err.absolute_path)
    kw: Any = err.validator
    arg: Any = err.validator_value
    inst: Any = err.instance
    sub: dict[str, Any] = err.schema if isinstance(err.schema, dict) else {}
    if kw == "required":
        missing = re.match(r"'([^']+)'", err.message)
        key = missing.group(1) if missing else "?"
        return Issue((*path, key), "is required")
    if kw == "additionalProperties":
        known = list(sub.get("properties", {}))
        extra = sorted(set(inst) - set(known))
        near = difflib.get_close_matches(str(extra[0]), known, n=1, cutoff=0.6) if extra else []
        hint = f"did you mean {near[0]!r}? " if near else ""
        return Issue((*path, extra[0]) if extra else path, f"unknown key; {hint}allowed keys: {', '.join(known)}")
    if kw == "type":
        kinds = arg if isinstance(arg, list) else [arg]
        names = {
            "string": "text",
            "integer": "a whole number",
            "number": "a number",
            "array": "a list",
            "object": "a mapping",
            "boolean": "true or false",
            "null": "empty",
        }
        return Issue(path, "must be " + " or ".join(names.get(str(k), str(k)) for k in kinds), inst)
    if kw == "enum":
        return Issue(path, "must be one of " + ", ".join(str(a) for a in arg), inst)
    if kw == "pattern":
        last = "url" if path[:1] == ("lookup",) or path[-1:] == ("origin_url",) else str(path[-1]) if path else ""
        hint = PATTERN_HINTS.get(last, "a kebab-case id (lower-case letters, digits, single hyphens)")
        return Issue(path, f"must be {hint}", inst)
    if kw in ("minLength", "minItems"):
        return Issue(path, "must not be empty", inst)
    if kw == "maxLength":
        return Issue(path, f"must be at most {arg} characters", f"{len(inst)} characters")
    if kw in ("minimum", "maximum") and "minimum" in sub and "maximum" in sub:
        return Issue(path, f"must be between {sub['minimum']} and {sub['maximum']}", inst)
    if kw == "minimum":
        return Issue(path, f"must be at least {arg}", inst)
    if kw == "maximum":
        return Issue(path, f"must be at most {arg}", inst)
    if kw == "uniqueItems":
        return Issue(path, "must not repeat an entry", inst)
    return Issue(path, err.message)


VOCAB_ID_PATHS = (("conditions", "ids"), ("sources", "ids"), ("species", "ids"), ("dosing", "routes", "ids"))


def _reported_elsewhere(err: jsonschema.ValidationError) -> bool:
    """Schema errors that a rule below reports better: a template placeholder left in place (one
    "must be filled in" per placeholder), and an unknown vocabulary id (with the nearest ids)."""
    if isinstance(err.instance, str) and PLACEHOLDER.search(err.instance):
        return True
    path = tuple(err.absolute_path)
    return err.validator == "enum" and len(path) > 1 and path[:-1] in VOCAB_ID_PATHS


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def compiled_validator(of: dict[str, Any]) -> Any:
    """jsonschema-rs's compiled validator of the schema `of`, or None where it is not installed."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs.validator_for(of)


def known_valid(compiled: Any, data: Any) -> bool:
    """Whether a compiled validator finds `data` valid. False when it finds errors or cannot say (a
    value it cannot take, such as NaN): then jsonschema decides, and its errors give the messages."""
    try:
        return compiled is not None and bool(compiled.is_valid(data))
    except (ValueError, TypeError, OverflowError):
        return False


@cache
def _fast_validator() -> Any:
    return compiled_validator(schema())


def schema_issues(data: Any) -> list[Issue]:
    """The schema's errors as rules. A record the compiled validator finds valid has none; any other
    goes through jsonschema, whose errors the messages are written from. (Most records are valid,
    and jsonschema's walk was half the time validation took.)"""
    if known_valid(_fast_validator(), data):
        return []
    issues = [_schema_rule(e) for e in _validator().iter_errors(data) if not _reported_elsewhere(e)]
    return sorted(issues, key=lambda i: [str(p) for p in i.path])


# ---------------------------------------------------------------- plausibility rules

Rule = Callable[[dict[str, Any], Vocabularies], Iterator[Issue]]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _num(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def walk_numbers(value: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, float]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk_numbers(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk_numbers(v, (*path, i))
    elif _num(value):
        yield path, value


def walk_text(value: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk_text(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk_text(v, (*path, i))
    elif isinstance(value, str):
        yield path, value


def _resolve(rec: Any, dotted_path: str) -> Any:
    node = rec
    for part in dotted_path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return ...
    return node


def acknowledged(rec: dict[str, Any], path: FieldPath) -> str | None:
    """The discrepancy kind that acknowledges a problem at `path`, if the record has one."""
    target = dotted(path)
    for disc in _list(rec.get("discrepancies")):
        field = _dict(disc).get("field")
        if isinstance(field, str) and (target == field or target.startswith(field + ".")):
            return str(_dict(disc).get("kind", "discrepancy"))
    return None
