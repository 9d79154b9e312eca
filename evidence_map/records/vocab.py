"""The controlled vocabularies (conditions, EV sources, species, routes), loaded from vocab/.

Records name things by id so that pages, charts and verdicts group them reliably; this module
is the one place that knows the ids, their display names and their aliases.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from evidence_map.paths import VOCAB


@dataclass(frozen=True)
class Term:
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    category: str = ""  # conditions: organ system; routes: group
    msc: bool = True  # sources only
    table5: dict[str, object] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Vocabulary:
    kind: str
    terms: tuple[Term, ...]

    def __contains__(self, term_id: object) -> bool:
        return any(t.id == term_id for t in self.terms)

    def get(self, term_id: str) -> Term:
        for t in self.terms:
            if t.id == term_id:
                return t
        raise KeyError(f"unknown {self.kind} id {term_id!r}")

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.terms]

    def suggest(self, word: str) -> str | None:
        """The id closest to `word`, matching ids, names and aliases alike."""
        near = self.nearest(word, 1)
        return near[0] if near else None

    def nearest(self, word: str, n: int = 3) -> list[str]:
        """Up to `n` ids close to `word` (difflib's ratio), matching ids, names and aliases alike."""
        keys: dict[str, str] = {}
        for t in self.terms:
            for k in (t.id, t.name, *t.aliases):
                keys.setdefault(k.lower(), t.id)
        hits = difflib.get_close_matches(str(word).lower(), list(keys), n=n * 3, cutoff=0.6)
        return list(dict.fromkeys(keys[h] for h in hits))[:n]


@dataclass(frozen=True)
class Vocabularies:
    conditions: Vocabulary
    categories: dict[str, str]
    sources: Vocabulary
    species: Vocabulary
    routes: Vocabulary

    def category_name(self, condition_id: str) -> str:
        return self.categories[self.conditions.get(condition_id).category]


def _terms(entries: list[dict[str, Any]], category_key: str) -> tuple[Term, ...]:
    return tuple(
        Term(
            id=str(e["id"]),
            name=str(e["name"]),
            aliases=tuple(str(a) for a in e.get("aliases", []) or []),
            category=str(e.get(category_key, "")),
            msc=bool(e.get("msc", True)),
            table5=dict(e.get("table5", {}) or {}),
        )
        for e in entries
    )


# libyaml's safe loader where PyYAML has it: the same data, read ten times faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def load_vocabularies(folder: Path = VOCAB) -> Vocabularies:
    def read(name: str) -> dict[str, object]:
        with open(folder / f"{name}.yaml", encoding="utf-8") as fh:
            return yaml.load(fh, Loader=SAFE_LOADER)  # type: ignore[no-any-return]

    cond = read("conditions")
    return Vocabularies(
        conditions=Vocabulary("condition", _terms(cond["conditions"], "category")),  # type: ignore[arg-type]
        categories=dict(cond["categories"]),  # type: ignore[call-overload]
        sources=Vocabulary("source", _terms(read("sources")["sources"], "")),  # type: ignore[arg-type]
        species=Vocabulary("species", _terms(read("species")["species"], "")),  # type: ignore[arg-type]
        routes=Vocabulary("route", _terms(read("routes")["routes"], "group")),  # type: ignore[arg-type]
    )
