"""Property-based tests: any input ends in a valid model or a clean list of errors, never a crash."""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from evidence_map.judging.grading import VERDICTS, grade_condition
from evidence_map.paths import EVIDENCE
from evidence_map.publishing.synonyms import Group, load_synonyms, used_groups
from evidence_map.records import issues
from evidence_map.records.model import record_from_data
from evidence_map.records.validate import check_record
from evidence_map.records.vocab import load_vocabularies
from evidence_map.records.yamlsafe import LoadError, decode, load
from evidence_map.surveillance import queue
from tests.conftest import FIXTURES, base_record

VOCAB = load_vocabularies()
BASE = base_record()

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += paths(v, (*prefix, i))
    return out


ALL_PATHS = [p for p in paths(BASE) if p]


def replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    data = copy.deepcopy(data)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


def outcome(data: Any) -> None:
    """Validate; when clean, the model builds and grades without error."""
    issues = check_record(data, VOCAB)
    for issue in issues:
        assert isinstance(issue.rule, str) and issue.rule
        issue.shown()
    if not issues:
        rec = record_from_data(data, "evidence/x.yaml")
        for cid in rec.conditions:
            assert grade_condition(cid, [rec]).overall.label in VERDICTS


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(ALL_PATHS), value=values)
def test_any_field_replaced_by_anything(path: tuple[Any, ...], value: Any) -> None:
    outcome(replaced(BASE, path, value))


@settings(max_examples=200, deadline=None)
@given(data=values)
def test_any_document(data: Any) -> None:
    outcome(data)


effect = st.fixed_dictionaries(
    {
        "outcome": st.just("score"),
        "domain": st.sampled_from(["function", "inflammation", "histology", "survival"]),
        "measure": st.sampled_from(["SMD", "WMD", "MD", "HR", "OR", "RR"]),
        "estimate": st.floats(-20, 20, allow_nan=False),
        "improves": st.sampled_from(["lower", "higher"]),
        "source": st.just("Table 2"),
    },
    optional={
        "ci_low": st.floats(-20, 20, allow_nan=False),
        "ci_high": st.floats(-20, 20, allow_nan=False),
        "i2": st.floats(0, 100),
        "p": st.floats(0, 1),
        "p_bound": st.sampled_from(["<", "="]),
    },
)


@settings(max_examples=300, deadline=None)
@given(effects=st.lists(effect, max_size=5))
def test_generated_effects_grade_or_fail_cleanly(effects: list[dict[str, Any]]) -> None:
    outcome(replaced(BASE, ("effects",), effects))


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_loads_or_fails_cleanly(text: str) -> None:
    try:
        loaded = load(decode(text.encode("utf-8")))
    except LoadError as exc:
        assert exc.message and exc.line >= 0
        return
    outcome(loaded.data)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=300))
def test_any_bytes_load_or_fail_cleanly(raw: bytes) -> None:
    try:
        loaded = load(decode(raw))
    except LoadError as exc:
        assert exc.message
        return
    outcome(loaded.data)


number_like = st.from_regex(r"\A[-+]?[0-9_]{0,4}\.?[0-9_]{0,4}(?:[eE][-+]?[0-9]{1,4})?\Z") | st.text(
    "-+.0123456789_eE:xXob", max_size=12
)


@settings(max_examples=400, deadline=None)
@given(value=number_like | st.text(max_size=20), plain=st.booleans())
@example(value="0x_", plain=True)
@example(value="-0b_", plain=True)
@example(value="!", plain=True)  # the non-specific tag: null to PyYAML, empty text to libyaml
def test_every_value_loads_as_the_safe_loader_reads_it(value: str, plain: bool) -> None:
    """The strict loader takes plain decimals and text without PyYAML's constructor: what it makes
    of any value, written plain or quoted, is what yaml.safe_load makes of it."""
    text = f"k: {value}\n" if plain else "k: " + yaml.safe_dump(value, default_style='"').strip() + "\n"
    try:
        expected = yaml.safe_load(text)
    except yaml.YAMLError:
        return
    except ValueError:  # PyYAML's constructor fails on some prefixes (0x_): the strict loader refuses them
        with pytest.raises(LoadError, match="must be a number written in decimals"):
            load(text)
        return
    if not isinstance(expected, dict) or set(expected) != {"k"} or isinstance(expected["k"], (dict, list)):
        return
    try:
        got = load(text).data["k"]
    except LoadError:
        return  # refused cleanly (a tag, an anchor): the strict loader's own rule
    want = expected["k"]
    if isinstance(want, datetime.date):
        assert isinstance(got, str)  # dates stay text: the schema checks their form
        return
    assert type(got) is type(want)
    assert repr(got) == repr(want)


@settings(max_examples=100, deadline=None)
@given(data=values)
def test_dumped_yaml_round_trips_through_the_strict_loader(data: Any) -> None:
    text = yaml.safe_dump({"k": data}, allow_unicode=True)
    try:
        loaded = load(text)
    except LoadError as exc:  # floats such as .nan, duplicate-looking keys are refused cleanly
        assert exc.message
        return
    assert loaded.lines[()] >= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(ALL_PATHS), value=values)
def test_the_compiled_schema_check_never_passes_what_jsonschema_rejects(path: tuple[Any, ...], value: Any) -> None:
    # Validation asks the compiled validator first and skips jsonschema when it says valid; that is
    # only sound if it never calls valid a record jsonschema finds an error in.
    fast = issues._fast_validator()
    data = replaced(BASE, path, value)
    try:
        fast_valid = fast.is_valid(data)
    except (ValueError, TypeError, OverflowError):
        return  # not asked: schema_issues falls back to jsonschema for these
    if fast_valid:
        assert list(issues._validator().iter_errors(data)) == []


def test_the_compiled_schema_check_is_sound_on_every_bad_fixture_and_fast_on_every_record() -> None:
    # Sound: nothing it calls valid has a jsonschema error (it may be stricter: an infinite CI is
    # refused by it and left to the finite-numbers rule by jsonschema; then jsonschema decides).
    # Useful: every valid record of the map passes it, so validation takes the fast path.
    fast = issues._fast_validator()
    checked = 0
    for path in sorted((FIXTURES / "bad").glob("*.yaml")) + sorted(EVIDENCE.glob("*.yaml")):
        try:
            data = load(decode(path.read_bytes())).data
        except LoadError:
            continue
        checked += 1
        slow_valid = not list(issues._validator().iter_errors(data))
        if fast.is_valid(data):
            assert slow_valid, path.name
        if path.parent == EVIDENCE:
            assert fast.is_valid(data), path.name
    assert checked > len(list(EVIDENCE.glob("*.yaml")))


# A queue of each kind of entry, valid by the queue schema (checked below before anything else).
QUEUE_BASE: dict[str, Any] = {
    "candidates": [
        {"pmid": "99000001", "title": "A review", "found": "2026-12-07", "status": "pending"},
        {
            "doi": "10.5555/x(1)",
            "title": "Found by hand",
            "found": "2026-12-07",
            "found_by": "hand-search",
            "found_at": "https://example.org/list",
            "status": "included",
            "record": "someone-2024",
            "year": 2024,
        },
        {
            "pmid": "99000002",
            "title": "Out",
            "found": "2026-12-07",
            "status": "excluded",
            "reason": "not-animal",
            "decisions": [
                {
                    "screener": "a-b",
                    "date": "2026-12-08",
                    "stage": "title-abstract",
                    "decision": "exclude",
                    "reason": "not-animal",
                },
                {
                    "screener": "c",
                    "date": "2026-12-09",
                    "stage": "title-abstract",
                    "decision": "exclude",
                    "resolves": True,
                },
            ],
        },
    ]
}
QUEUE_PATHS = [p for p in paths(QUEUE_BASE) if p]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(QUEUE_PATHS), value=values)
def test_the_compiled_queue_check_never_passes_what_jsonschema_rejects(path: tuple[Any, ...], value: Any) -> None:
    # The queue's schema errors, too, are looked for only when its compiled validator finds one.
    compiled, validator = queue._validators()
    assert list(validator.iter_errors(QUEUE_BASE)) == [] and compiled.is_valid(QUEUE_BASE)
    data = replaced(QUEUE_BASE, path, value)
    if issues.known_valid(compiled, data):
        assert list(validator.iter_errors(data)) == []


# The search synonyms' groups (the real file's, and two of words that are not ASCII), and text made
# of their words in any case, beside characters that case-insensitive matching treats specially.
GROUPS = (*load_synonyms().groups, Group(("Straße", "I² value")), Group(("kelvin", "sıgn")))
CASE_TRAPS = "İıſKßΣσςµ²-_ .,"
spelled = st.sampled_from([w for g in GROUPS for w in g.words]).flatmap(
    lambda w: st.sampled_from([w, w.upper(), w.lower(), w.swapcase(), w.replace("i", "İ"), w.replace("s", "ſ")])
)


@settings(max_examples=400, deadline=None)
@example(parts=["extracellular vesİcles"], join="")  # İ: re matches it to i, casefold() does not
@example(parts=["SIGN"], join="")  # a word with ı, which re matches to I
@given(
    parts=st.lists(spelled | st.text(CASE_TRAPS + "abcikls", max_size=6), max_size=10),
    join=st.sampled_from(["", " ", "-", "x"]),
)
def test_the_groups_a_text_uses_are_those_each_pattern_finds(parts: list[str], join: str) -> None:
    """used_groups() looks for a group's words as substrings first; what it finds is exactly what
    searching with every group's pattern finds."""
    text = join.join(parts)
    assert used_groups(GROUPS, text) == [g for g in GROUPS if g.used_in(text)]
