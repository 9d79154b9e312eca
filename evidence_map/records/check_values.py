"""Plausibility checks on a record's numbers: finite, in range, consistent with each other, and
dates that exist. Each is phrased as the rule it enforces."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from evidence_map.records.issues import FieldPath, Issue, _dict, _list, _num, _resolve, dotted, walk_numbers
from evidence_map.records.vocab import Vocabularies

RATIO_MEASURES = frozenset({"HR", "OR", "RR"})


# What a YAML number that is not finite is written as, without a tag: .inf or .nan, or a decimal
# with an exponent of three digits or more (the resolver wants its sign and a point before it), or
# three hundred digits and more (float("1" + 400 * "0" + ".0") is inf). The first digit is matched on
# its own, which lets the regex engine skip ahead to it (twice as fast as [0-9_]{300}).
BIG_EXPONENT = re.compile(r"[0-9._][eE][-+][0-9]{3}")
LONG_DIGITS = re.compile(r"[0-9_][0-9_]{299}")


def file_numbers_finite(text: str) -> bool:
    """Whether every number of a record read from `text` is finite, seen from the file alone (no
    escape can write a number). A file that passes skips the walk through every value. A tag
    (!!float inf) makes a number of any text: a file with one is always walked."""
    if "!" in text:
        return False
    low = text.lower()
    return not (".inf" in low or ".nan" in low or BIG_EXPONENT.search(text) or LONG_DIGITS.search(text))


def numbers_are_finite(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    for path, value in walk_numbers(rec):
        if isinstance(value, float) and not math.isfinite(value):
            yield Issue(path, "must be a finite number", value)


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


def quality_numbers_in_range(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    het = _dict(rec.get("heterogeneity"))
    if _num(het.get("i2_min")) and _num(het.get("i2_max")) and het["i2_min"] > het["i2_max"]:
        yield Issue(("heterogeneity", "i2_min"), f"must not exceed i2_max ({het['i2_max']})", het["i2_min"])
    n = rec.get("n_studies")
    if _num(n) and n > 5000:
        yield Issue(("n_studies",), "must be at most 5000 (is this a count of studies?)", n)


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
