"""Check records against the schema and the plausibility rules, reporting every problem at once.

One problem is one line, `evidence/x.yaml:LINE: field.path: rule; got VALUE`, so a contributor
fixes everything in one pass. Rules are small functions phrased as the rule they enforce. A rule
broken by a value the source really publishes can be acknowledged in the record's `discrepancies`
list (naming the field path); it is then reported as a warning, never silently fixed.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, TypeGuard

import jsonschema

from .paths import SCHEMA
from .vocab import Vocabularies, Vocabulary, load_vocabularies
from .yamlsafe import Loaded, LoadError, decode, load

FieldPath = tuple[str | int, ...]
RATIO_MEASURES = frozenset({"HR", "OR", "RR"})
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
PLACEHOLDER = re.compile(r"\bFILL[ -]IN\b", re.IGNORECASE)
FIRST_YEAR = 1990
MAX_FILES = 20_000


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


def schema_issues(data: Any) -> list[Issue]:
    validator = jsonschema.Draft202012Validator(schema())
    issues = [_schema_rule(e) for e in validator.iter_errors(data) if not _reported_elsewhere(e)]
    return sorted(issues, key=lambda i: [str(p) for p in i.path])


# ---------------------------------------------------------------- plausibility rules

Rule = Callable[[dict[str, Any], Vocabularies], Iterator[Issue]]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


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


@rule
def numbers_are_finite(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    for path, value in walk_numbers(rec):
        if isinstance(value, float) and not math.isfinite(value):
            yield Issue(path, "must be a finite number", value)


MARKUP = re.compile(
    r"<\s*[a-zA-Z!/?]|\]\s*\(|!\[|\bjavascript\s*:|\bvbscript\s*:|\bdata\s*:\s*\w+/|\bon[a-z]+\s*=",
    re.IGNORECASE,
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
# Addresses and DOIs: their syntax is the schema's (https only, DOI-shaped), not this rule's.
URL_FIELDS = {
    ("citation", "url"),
    ("citation", "doi"),
    *(("lookup", k) for k in ("doi", "pmid", "pmcid", "citation", "abstract")),
}


@rule
def text_is_plain(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    for path, text in walk_text(rec):
        if path in URL_FIELDS or path[-1:] == ("origin_url",):
            continue
        if PLACEHOLDER.search(text):
            yield Issue(path, "must be filled in (a placeholder from the template is left)", text)
        elif MARKUP.search(text):
            yield Issue(path, "must be plain text: no HTML tags, Markdown links or script URLs", text)
        elif CONTROL.search(text):
            yield Issue(path, "must not contain control or bidirectional-override characters", text)


def _vocab_ids(values: Any, path: FieldPath, vocab: Vocabulary) -> Iterator[Issue]:
    for i, term in enumerate(_list(values)):
        if isinstance(term, str) and SLUG.match(term) and term not in vocab:
            near = vocab.nearest(term)
            did = f"did you mean {' or '.join(repr(n) for n in near)}? " if near else ""
            yield Issue(
                (*path, i),
                f"must be a {vocab.kind} id from vocab/{_file(vocab)}; {did}a new {vocab.kind} is proposed by adding "
                f"it to vocab/{_file(vocab)} in the same pull request (CONTRIBUTING.md)",
                term,
            )


def _file(vocab: Vocabulary) -> str:
    return {"condition": "conditions", "source": "sources", "route": "routes"}.get(vocab.kind, vocab.kind) + ".yaml"


@rule
def vocabulary_ids_are_known(rec: dict[str, Any], v: Vocabularies) -> Iterator[Issue]:
    yield from _vocab_ids(_dict(rec.get("conditions")).get("ids"), ("conditions", "ids"), v.conditions)
    yield from _vocab_ids(_dict(rec.get("sources")).get("ids"), ("sources", "ids"), v.sources)
    yield from _vocab_ids(_dict(rec.get("species")).get("ids"), ("species", "ids"), v.species)
    routes = _dict(_dict(rec.get("dosing")).get("routes")).get("ids")
    yield from _vocab_ids(routes, ("dosing", "routes", "ids"), v.routes)
    for i, sub in enumerate(_list(rec.get("subgroups"))):
        sub = _dict(sub)
        vocab = {"source": v.sources, "route": v.routes}.get(str(sub.get("factor")))
        if vocab is not None:
            yield from _vocab_ids([sub.get("level")], ("subgroups", i, "level"), vocab)


@rule
def effects_are_plausible(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    conditions = [c for c in _list(_dict(rec.get("conditions")).get("ids")) if isinstance(c, str)]
    for i, eff in enumerate(_list(rec.get("effects"))):
        eff = _dict(eff)
        at = ("effects", i)
        est, lo, hi = eff.get("estimate"), eff.get("ci_low"), eff.get("ci_high")
        if (lo is None) != (hi is None):
            missing = "ci_high" if hi is None else "ci_low"
            yield Issue((*at, missing), "must be given when the other CI bound is (both or neither)")
        if _num(lo) and _num(hi) and all(math.isfinite(x) for x in (lo, hi)):
            if lo > hi:
                yield Issue((*at, "ci_low"), f"must not exceed ci_high ({hi})", lo)
            elif _num(est) and math.isfinite(est) and not lo <= est <= hi:
                yield Issue((*at, "estimate"), f"must lie inside its confidence interval [{lo}, {hi}]", est)
        if isinstance(eff.get("measure"), str) and eff["measure"] in RATIO_MEASURES:
            for key in ("estimate", "ci_low", "ci_high"):
                if _num(eff.get(key)) and eff[key] <= 0:
                    yield Issue((*at, key), f"must be greater than 0 for a ratio measure ({eff['measure']})", eff[key])
            if "difference" in eff:
                yield Issue((*at, "difference"), "applies to difference measures only (SMD, WMD, MD)")
        if eff.get("unit") is not None and eff.get("measure") not in ("WMD", "MD"):
            yield Issue((*at, "unit"), "applies to raw differences only (WMD, MD); SMDs and ratios have no unit")
        if _num(eff.get("i2_min")) and _num(eff.get("i2_max")) and eff["i2_min"] > eff["i2_max"]:
            yield Issue((*at, "i2_min"), f"must not exceed i2_max ({eff['i2_max']})", eff["i2_min"])
        if (eff.get("i2_min") is None) != (eff.get("i2_max") is None):
            yield Issue(
                (*at, "i2_max" if eff.get("i2_max") is None else "i2_min"),
                "must be given with the other end of the range",
            )
        if _num(eff.get("i2")) and (_num(eff.get("i2_min")) or _num(eff.get("i2_max"))):
            yield Issue((*at, "i2_min"), "give either one I² (i2) or a range (i2_min, i2_max), not both")
        if est is None:
            if eff.get("significant") is not False:
                yield Issue(
                    (*at, "estimate"),
                    "is required; leave it out only for a result reported as not significant without one "
                    "(then add significant: false)",
                )
            if lo is not None or hi is not None:
                yield Issue((*at, "estimate"), "is required when a confidence interval is given")
        if eff.get("graded") is False and not eff.get("not_graded_because"):
            yield Issue(
                (*at, "not_graded_because"), "is required with graded: false: say why the verdict leaves it out"
            )
        cond = eff.get("condition")
        if cond is None and len(conditions) > 1:
            yield Issue((*at, "condition"), "is required when the record has more than one condition")
        elif isinstance(cond, str) and conditions and cond not in conditions:
            yield Issue(
                (*at, "condition"), "must be one of the record's conditions.ids: " + ", ".join(conditions), cond
            )


@rule
def row_i2_ranges_reach_every_estimate_of_the_row(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    """An I² range the source prints for a row of estimates (Table 3's consistency column) belongs to
    every estimate of that row: the umbrella review's estimates of the same condition in one record."""
    effects = [(i, _dict(e)) for i, e in enumerate(_list(rec.get("effects")))]
    umbrella = [(i, e) for i, e in effects if e.get("origin", "umbrella-review") == "umbrella-review"]
    for i, e in umbrella:
        if not (_num(e.get("i2_min")) and _num(e.get("i2_max"))):
            continue
        # The table the range was read in ("I² range: Table 3, ... row"); its row's other estimates
        # name the same table in their source or note.
        table = re.search(r"I² range: (Table \d+)", str(e.get("source", "")))
        if table is None:
            continue
        for j, other in umbrella:
            if j == i or other.get("condition") != e.get("condition"):
                continue
            if table[1] not in f"{other.get('source', '')} {other.get('note', '')}":
                continue
            if other.get("i2") is None and other.get("i2_max") is None:
                yield Issue(
                    ("effects", j, "i2_max"),
                    f"is missing: effects.{i} carries the I² range {e['i2_min']}–{e['i2_max']}% its row gives; "
                    "give this estimate of the same row the same range (i2_min, i2_max), or its own i2",
                )


@rule
def a_replaced_copy_passes_on_its_heterogeneity(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    """When an estimate is set aside for another entry of the same result ("Same result as effects.3"),
    the I² it carried must not be lost: the entry the verdict uses needs its own I² or the same range."""
    effects = [_dict(e) for e in _list(rec.get("effects"))]
    for i, e in enumerate(effects):
        if e.get("graded") is not False or not (_num(e.get("i2_min")) or _num(e.get("i2"))):
            continue
        m = re.search(r"effects\.(\d+)", str(e.get("not_graded_because", "")))
        if m is None or int(m[1]) >= len(effects) or int(m[1]) == i:
            continue
        j = int(m[1])
        target = effects[j]
        if target.get("i2") is None and target.get("i2_max") is None:
            had = f"I² {e['i2']}%" if _num(e.get("i2")) else f"the I² range {e['i2_min']}–{e['i2_max']}%"
            yield Issue(
                ("effects", j, "i2_max"),
                f"is missing: effects.{i}, the copy this entry replaces, carries {had}; give this entry its own "
                "i2, or the same range (i2_min, i2_max) with its source",
            )


@rule
def appraisal_is_stated(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    am = _dict(rec.get("amstar2"))
    if not am:
        return
    by = am.get("appraised_by", "umbrella-review")
    rating = am.get("rating")
    if by == "not-appraised":
        if rating not in (None, "not-rated"):
            yield Issue(("amstar2", "rating"), "must be left out when appraised_by is not-appraised", rating)
    elif rating is None:
        yield Issue(("amstar2", "rating"), f"is required when appraised_by is {by}")
    if by == "evidence-map" and not _list(am.get("items")):
        yield Issue(("amstar2", "items"), "are required when appraised_by is evidence-map: the answer to each item")
    found_by = rec.get("found_by", "umbrella-review")
    if found_by != "umbrella-review" and by == "umbrella-review":
        yield Issue(
            ("amstar2", "appraised_by"),
            f"cannot be umbrella-review for a review found by {found_by}: give not-appraised or evidence-map",
            by,
        )


@rule
def quality_numbers_in_range(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    het = _dict(rec.get("heterogeneity"))
    if _num(het.get("i2_min")) and _num(het.get("i2_max")) and het["i2_min"] > het["i2_max"]:
        yield Issue(("heterogeneity", "i2_min"), f"must not exceed i2_max ({het['i2_max']})", het["i2_min"])
    n = rec.get("n_studies")
    if _num(n) and n > 5000:
        yield Issue(("n_studies",), "must be at most 5000 (is this a count of studies?)", n)


@rule
def citation_is_consistent(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    cit = _dict(rec.get("citation"))
    year, label = cit.get("year"), cit.get("label")
    this_year = date.today().year
    if isinstance(year, int) and not isinstance(year, bool) and not FIRST_YEAR <= year <= this_year:
        yield Issue(("citation", "year"), f"must be between {FIRST_YEAR} and {this_year}", year)
    if isinstance(year, int) and isinstance(label, str):
        m = re.search(r"\((\d{4})[a-z]?\)\s*$", label)
        if m is None:
            yield Issue(
                ("citation", "label"), "must end with the year in brackets, as in 'Aghayan et al. (2024)'", label
            )
        elif int(m.group(1)) != year:
            yield Issue(("citation", "year"), f"must match the year in the label ({m.group(1)})", year)


# An identifier is only as good as the page that shows it: each needs that page's address.
CONFIRMED_BY = {"doi": "doi", "pmid": "pmid", "pmcid": "pmcid", "title": "citation", "authors": "citation"}


@rule
def identifiers_name_where_they_were_confirmed(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    cit, lookup = _dict(rec.get("citation")), _dict(rec.get("lookup"))
    for key, where in CONFIRMED_BY.items():
        if cit.get(key) not in (None, "", []) and not lookup.get(where):
            yield Issue(
                ("citation", key),
                f"needs the address of the page where it was confirmed, in lookup.{where}",
                cit[key],
            )
    for key in ("doi", "pmid", "pmcid"):
        if lookup.get(key) and cit.get(key) in (None, ""):
            yield Issue(("lookup", key), f"confirms nothing: citation.{key} is empty")
    not_found = set(_list(lookup.get("not_found")))
    for key in sorted(not_found & {k for k in ("title", "authors", "doi", "pmid", "pmcid", "volume") if cit.get(k)}):
        yield Issue(("lookup", "not_found"), f"lists {key}, which citation.{key} gives", key)


@rule
def authors_start_with_the_first_author(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    cit = _dict(rec.get("citation"))
    authors, first = _list(cit.get("authors")), cit.get("first_author")
    if authors and isinstance(authors[0], str) and isinstance(first, str) and first.lower() not in authors[0].lower():
        yield Issue(
            ("citation", "authors", 0), f"must be the first author ({first}); list the authors in published order"
        )


@rule
def effects_from_originals_name_their_page(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    for i, eff in enumerate(_list(rec.get("effects"))):
        eff = _dict(eff)
        original = eff.get("origin") == "original-article"
        if original and not eff.get("origin_url"):
            yield Issue(("effects", i, "origin_url"), "is required when origin is original-article")
        elif eff.get("origin_url") and not original:
            yield Issue(
                ("effects", i, "origin"), "must be original-article when origin_url is given", eff.get("origin")
            )


@rule
def dates_are_real(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    parsed: dict[FieldPath, date] = {}
    for path in (("added",), ("updated",), ("lookup", "checked")):
        value = _resolve(rec, dotted(path))
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                parsed[path] = date.fromisoformat(value)
            except ValueError:
                yield Issue(path, "must be a real calendar date (YYYY-MM-DD)", value)
                continue
            if parsed[path] > date.today():
                yield Issue(path, "must not be in the future", value)
    added, updated = parsed.get(("added",)), parsed.get(("updated",))
    if added and updated and updated < added:
        yield Issue(("updated",), f"must not be earlier than added ({rec['added']})", rec["updated"])


@rule
def discrepancies_name_real_fields(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    for i, disc in enumerate(_list(rec.get("discrepancies"))):
        field = _dict(disc).get("field")
        if isinstance(field, str) and _resolve(rec, field) is ...:
            yield Issue(("discrepancies", i, "field"), "must name a field path that exists in this record", field)


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


def check_record(data: Any, vocab: Vocabularies) -> list[Issue]:
    """Every rule broken by one record's data (schema first, then plausibility)."""
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        return [Issue((), f"a record must be a YAML mapping of fields, not {kind}")]
    issues = schema_issues(data)
    for fn in RULES:
        issues.extend(fn(data, vocab))
    return issues


def check_file(path: Path, shown_as: str, vocab: Vocabularies) -> Checked:
    try:
        loaded = load(decode(path.read_bytes()))
    except LoadError as exc:
        return Checked(path, shown_as, None, [Problem(shown_as, exc.line, exc.field, exc.message)])
    except OSError as exc:
        return Checked(path, shown_as, None, [Problem(shown_as, 0, "", f"cannot read file: {exc.strerror}")])
    problems = []
    for issue in check_record(loaded.data, vocab):
        kind = acknowledged(loaded.data, issue.path) if isinstance(loaded.data, dict) else None
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


def check_folder(folder: Path, vocab: Vocabularies | None = None) -> list[Checked]:
    """Check every record under `folder`, including problems that span files (duplicate ids)."""
    vocab = vocab or load_vocabularies()
    results = [check_file(f, display_path(f), vocab) for f in record_files(folder)]
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
