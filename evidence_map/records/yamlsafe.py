"""Load one YAML record as plain data plus the line of every field.

Records come from strangers' pull requests, so loading is deliberately strict: only the YAML
that plain data needs is accepted. No tag may build a Python object, anchors and aliases are
refused (they make alias bombs possible and hide values from reviewers), a key may not appear
twice in a mapping (PyYAML would silently keep the last), and the file must be UTF-8 text under
a size limit. Every refusal is a `LoadError` carrying the line it concerns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_BYTES = 256 * 1024
Path = tuple[str | int, ...]


class LoadError(Exception):
    """A file that cannot be read as a record; `line` is 1-based (0 when the file is unreadable)."""

    def __init__(self, line: int, message: str, field: str = "") -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Loaded:
    data: Any
    lines: dict[Path, int]

    def line_of(self, path: Path) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line:
                return line
        return 1


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases as soon as the parser meets them."""

    def compose_node(self, parent: Node | None, index: Any) -> Node:  # type: ignore[override]
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            line = event.start_mark.line + 1 if event.start_mark else 0
            raise LoadError(line, "YAML anchors and aliases are not allowed; write the value out")
        node: Node | None = super().compose_node(parent, index)  # type: ignore[misc]
        assert node is not None
        return node


def decode(raw: bytes) -> str:
    """UTF-8 text of a record, or a LoadError naming the line of the first bad byte."""
    if len(raw) > MAX_BYTES:
        raise LoadError(0, f"file is larger than the {MAX_BYTES // 1024} KiB limit for a record")
    if b"\x00" in raw:
        raise LoadError(raw[: raw.index(b"\x00")].count(b"\n") + 1, "file contains a NUL byte")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LoadError(line, "file is not UTF-8 text; save it as UTF-8") from None


def load(text: str) -> Loaded:
    """Parse YAML text strictly into data and a map of field path -> line."""
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise LoadError(1, "file is empty; a record is a YAML mapping of fields")
    node = _fast_node(text)
    if node is not None:
        fast_lines: dict[Path, int] = {}
        return Loaded(_build(node, (), fast_lines, yaml.SafeLoader("")), fast_lines)
    loader = None
    try:
        loader = _StrictLoader(text)
        node = loader.get_single_node()
    except LoadError:
        raise
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise LoadError(line, f"file contains a character YAML does not allow ({exc.character!r})") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = exc.problem or "invalid YAML"
        if "\\t" in problem or "tab" in problem.lower():
            problem = "tab characters cannot indent YAML; indent with spaces"
        raise LoadError(line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise LoadError(0, f"invalid YAML: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise LoadError(1, "file is empty; a record is a YAML mapping of fields")
    lines: dict[Path, int] = {}
    constructor = yaml.SafeLoader("")
    data = _build(node, (), lines, constructor)
    return Loaded(data, lines)


class _CachedCLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """libyaml's loader, remembering the tag each short value resolves to. libyaml asks the Python
    resolver for every node, keys included, and the same keys recur in every record; a safe
    loader's tag depends on the value and its style alone, as it has no path resolvers (so the
    resolver's bookkeeping of the path, called around every node, is skipped too)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        key = (kind, value, implicit)
        tag = _RESOLVED.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if value is None or len(value) <= 40:
                _RESOLVED[key] = tag
        return tag

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


_RESOLVED: dict[tuple[Any, str | None, Any], str] = {}


def _fast_node(text: str) -> Node | None:
    """The node tree from libyaml when the text is plain, valid YAML without anchors or aliases;
    None otherwise (or without libyaml), so that the pure-Python loader reports the problem."""
    if not hasattr(yaml, "CSafeLoader") or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return None  # the pure-Python reader names the character and its line
    try:
        maybe = ("&" in text or "*" in text or "!" in text) and NODE_MARK.search(text)  # the pattern alone is slow
        if maybe and not _unmarked(text):  # perhaps one: the events say for sure
            return None
        loader = _CachedCLoader(text)
        try:
            node: Node | None = loader.get_single_node()
        finally:
            loader.dispose()
        return node
    except yaml.YAMLError:
        return None


# An anchor, an alias or a tag starts a node: at the start of a line or after a space or a flow
# indicator. Text without this pattern has none, and is parsed once; text with it (also "a * b" in a
# summary) is first read event by event.
NODE_MARK = re.compile(r"(?:^|[\s\[{,])[&*!]", re.MULTILINE)


def _unmarked(text: str) -> bool:
    """Whether the text has no anchor, no alias and no non-specific tag ("!"): libyaml reads
    `k: !` as an empty text where PyYAML's own parser, the strict loader's, reads null."""
    loader = yaml.CSafeLoader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                return False
            if getattr(event, "tag", None) == "!":
                return False
    finally:
        loader.dispose()
    return True


STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
# Numbers that Python reads as YAML 1.1 does (no underscores, octals, sexagesimals or infinities).
DECIMAL_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
DECIMAL_FLOAT = re.compile(r"-?[0-9]+\.[0-9]*(?:[eE][-+][0-9]+)?")
PLAIN_TAGS = frozenset(
    "tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
)


def _build(node: Node, path: Path, lines: dict[Path, int], ctor: yaml.SafeLoader) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    return _value(node, path, lines, ctor)


def _value(node: Node, path: Path, lines: dict[Path, int], ctor: yaml.SafeLoader) -> Any:
    """The data of `node` at `path` (whose line is recorded), recording the lines below it. A plain
    text value is taken where it stands, without a call: most values of a record are one."""
    if node.tag not in PLAIN_TAGS:
        raise LoadError(node.start_mark.line + 1, f"YAML tags are not allowed; got {node.tag!r}")
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise LoadError(key_node.start_mark.line + 1, "mapping keys must be plain words")
            key = key_node.value
            at = (*path, key)
            if key in out:
                raise LoadError(
                    key_node.start_mark.line + 1,
                    f"duplicate key (first given on line {lines.get(at, 0)}); keep only one",
                    ".".join(str(p) for p in at),
                )
            lines[at] = key_node.start_mark.line + 1
            if value_node.tag == STR and type(value_node) is ScalarNode:
                out[key] = value_node.value
            else:
                out[key] = _value(value_node, at, lines, ctor)
        return out
    if isinstance(node, SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            at = (*path, i)
            lines.setdefault(at, item.start_mark.line + 1)
            items.append(item.value if item.tag == STR and type(item) is ScalarNode else _value(item, at, lines, ctor))
        return items
    assert isinstance(node, ScalarNode)
    if node.tag == STR:
        return node.value  # what the constructor would return, without its machinery
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value  # dates stay text: the schema checks their form
    # Plain decimals, as most numbers of a record are written: what the constructor makes of them.
    if node.tag == FLOAT and DECIMAL_FLOAT.fullmatch(node.value):
        return float(node.value)
    if node.tag == INT and DECIMAL_INT.fullmatch(node.value):
        return int(node.value)
    try:
        return ctor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise LoadError(node.start_mark.line + 1, f"unsupported YAML value: {exc.problem}") from None
    except ValueError:  # PyYAML's constructor fails on a prefix without digits, such as 0x_
        got = json.dumps(node.value if len(node.value) <= 40 else node.value[:37] + "...")
        message = f"must be a number written in decimals, such as 12 or 0.5; got {got}"
        raise LoadError(node.start_mark.line + 1, message, ".".join(str(p) for p in path)) from None
