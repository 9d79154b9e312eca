"""The search synonyms of vocab/synonyms.yaml: words visitors type for what the pages call otherwise.

Pagefind matches words, not meanings, so a search for "exosome" finds only pages that contain it.
The file lists groups of words that mean the same thing to a searcher and where each group belongs;
searchterms.py puts them on the pages. It is checked when it is loaded, with a record's
`file:line: field: rule; got value` errors, and it names conditions and EV sources only by their
vocabulary ids. It adds to the vocabularies' own names and aliases and must not repeat them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from evidence_map.paths import VOCAB
from evidence_map.records.evidence import InvalidEvidence
from evidence_map.records.issues import Problem
from evidence_map.records.validate import load_data_file, placed
from evidence_map.records.vocab import Vocabularies, Vocabulary, load_vocabularies
from evidence_map.records.yamlsafe import decode, load

SYNONYMS = VOCAB / "synonyms.yaml"
KEYS = ("groups", "source_relatives")
GROUP_KEYS = ("words", "everywhere", "conditions", "sources")
MAX_WORD = 80
NOT_IN_WORDS = re.compile(r"[<>&\"\\`|*_{}\[\]\x00-\x1f]")  # markup, Markdown or control characters

At = tuple[str | int, ...]
Issues = list[tuple[At, str, Any]]  # (where, rule, the value got; ... for none)


class InvalidSynonyms(InvalidEvidence):
    """vocab/synonyms.yaml breaks its rules; `problems` lists each. An InvalidEvidence, so the build
    and the live preview report it as they report a bad record."""


@dataclass(frozen=True)
class Group:
    words: tuple[str, ...]
    everywhere: bool = False
    conditions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def used_in(self, text: str) -> bool:
        """Whether `text` uses one of the words, as a whole word (any case)."""
        return _pattern(self.words).search(text) is not None


def used_groups(groups: Iterable[Group], text: str) -> list[Group]:
    """The groups whose words `text` uses (Group.used_in), in their order: each review's text is
    searched for every group. A group of ASCII words is first looked for as plain substrings of
    the casefolded text, which any match of its pattern implies (re's IGNORECASE matches an ASCII
    letter to the same characters casefold() turns into it, but for İ and ı, so a text with either
    is searched with every pattern); only a group found there is searched with its pattern."""
    folded = None if "İ" in text or "ı" in text else text.casefold()
    return [g for g in groups if _maybe_used(g.words, folded) and g.used_in(text)]


def _maybe_used(words: tuple[str, ...], folded: str | None) -> bool:
    plain = _folded(words)
    return folded is None or plain is None or any(w in folded for w in plain)


@cache
def _folded(words: tuple[str, ...]) -> tuple[str, ...] | None:
    return tuple(w.casefold() for w in words) if all(w.isascii() for w in words) else None


@dataclass(frozen=True)
class Synonyms:
    groups: tuple[Group, ...]
    relatives: dict[str, tuple[str, ...]]  # source id -> the sources whose names its page also answers to


@cache
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _word_issues(words: Any, at: At) -> Issues:
    if not isinstance(words, list) or len(words) < 2:
        return [(at, "must be a list of two or more words that mean the same thing", words)]
    out: Issues = []
    seen: set[str] = set()
    for i, w in enumerate(words):
        if not isinstance(w, str) or not w.strip() or w != w.strip() or len(w) > MAX_WORD:
            out.append(((*at, i), f"must be a word or phrase of 1 to {MAX_WORD} characters", w))
        elif NOT_IN_WORDS.search(w):
            out.append(((*at, i), "must be plain text, without markup, Markdown or control characters", w))
        elif "," in w:
            out.append(((*at, i), "must be one word or phrase: list each on its own, without commas", w))
        elif w.casefold() in seen:
            out.append(((*at, i), "repeats a word of the same group", w))
        else:
            seen.add(w.casefold())
    return out


def _ids(values: Any, at: At, vocab: Vocabulary, file: str) -> Issues:
    if not isinstance(values, list) or not values:
        return [(at, f"must be a list of {vocab.kind} ids from vocab/{file}", values)]
    return [
        ((*at, i), f"must be a {vocab.kind} id from vocab/{file}", v) for i, v in enumerate(values) if v not in vocab
    ]


def _own_words(vocab: Vocabulary, ids: list[Any]) -> dict[str, str]:
    """The name and aliases of each known id (casefolded) -> the id, for the no-repeat rule."""
    return {w.casefold(): t.id for t in vocab.terms if t.id in ids for w in (t.name, *t.aliases)}


def _group_issues(group: Any, at: At, v: Vocabularies) -> Issues:
    if not isinstance(group, dict):
        return [(at, "must be a mapping of " + ", ".join(GROUP_KEYS), group)]
    out: Issues = [
        ((*at, k), "unknown key; allowed keys: " + ", ".join(GROUP_KEYS), ...) for k in group if k not in GROUP_KEYS
    ]
    if "words" not in group:
        return [*out, ((*at, "words"), "is required", ...)]
    out += _word_issues(group["words"], (*at, "words"))
    if "everywhere" in group and not isinstance(group["everywhere"], bool):
        out.append(((*at, "everywhere"), "must be true or false", group["everywhere"]))
    for key, vocab, file in (("conditions", v.conditions, "conditions.yaml"), ("sources", v.sources, "sources.yaml")):
        if key not in group:
            continue
        out += _ids(group[key], (*at, key), vocab, file)
        own = _own_words(vocab, group[key] if isinstance(group[key], list) else [])
        for i, w in enumerate(group["words"] if isinstance(group["words"], list) else []):
            if isinstance(w, str) and w.casefold() in own:
                rule = f"repeats a name or alias vocab/{file} gives {own[w.casefold()]}; leave it there"
                out.append(((*at, "words", i), rule, w))
    return out


def _relative_issues(relatives: Any, v: Vocabularies) -> Issues:
    at: At = ("source_relatives",)
    if not isinstance(relatives, dict):
        return [(at, "must be a mapping of source id -> list of source ids", relatives)]
    out: Issues = []
    for sid, others in relatives.items():
        if sid not in v.sources:
            out.append(((*at, sid), "must be keyed by a source id from vocab/sources.yaml", sid))
            continue
        out += _ids(others, (*at, sid), v.sources, "sources.yaml")
        if isinstance(others, list) and sid in others:
            out.append(((*at, sid), "must not list the source itself", sid))
    return out


def _issues(data: Any, v: Vocabularies) -> Issues:
    if not isinstance(data, dict):
        return [((), "the synonyms must be a YAML mapping of " + ", ".join(KEYS), ...)]
    out: Issues = [((k,), "unknown key; allowed keys: " + ", ".join(KEYS), ...) for k in data if k not in KEYS]
    groups = data.get("groups")
    if not isinstance(groups, list) or not groups:
        out.append((("groups",), "must be a list of groups of words", groups))
        groups = []
    for i, group in enumerate(groups):
        out += _group_issues(group, ("groups", i), v)
    if "source_relatives" in data:
        out += _relative_issues(data["source_relatives"], v)
    return out


def check_synonyms(path: Path = SYNONYMS, vocab: Vocabularies | None = None) -> list[Problem]:
    """Every problem of the synonyms file, as `file:line: field: rule; got value` problems."""
    v = vocab or load_vocabularies()
    shown, loaded, stopped = load_data_file(path)
    if loaded is None:
        return stopped
    return placed(shown, loaded, _issues(loaded.data, v))


def synonyms_from_data(data: dict[str, Any]) -> Synonyms:
    """Synonyms from data `check_synonyms` accepted."""
    return Synonyms(
        groups=tuple(
            Group(
                words=tuple(g["words"]),
                everywhere=bool(g.get("everywhere", False)),
                conditions=tuple(g.get("conditions", ())),
                sources=tuple(g.get("sources", ())),
            )
            for g in data["groups"]
        ),
        relatives={str(k): tuple(v) for k, v in (data.get("source_relatives") or {}).items()},
    )


def load_synonyms(path: Path = SYNONYMS, vocab: Vocabularies | None = None) -> Synonyms:
    """The validated synonyms; raises InvalidSynonyms listing every problem."""
    errors = check_synonyms(path, vocab)
    if errors:
        raise InvalidSynonyms(errors)
    return synonyms_from_data(load(decode(path.read_bytes())).data)
