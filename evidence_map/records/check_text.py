"""Checks on a record's words: plain text only (record text reaches pages), known vocabulary ids, and
discrepancies that name real fields."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from evidence_map.records.issues import PLACEHOLDER, FieldPath, Issue, _dict, _list, _resolve, walk_text
from evidence_map.records.vocab import Vocabularies, Vocabulary

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


MARKUP = re.compile(
    r"<\s*[a-zA-Z!/?]|\]\s*\(|!\[|\bjavascript\s*:|\bvbscript\s*:|\bdata\s*:\s*\w+/|\bon[a-z]+\s*=",
    re.IGNORECASE,
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
# Any of the three, in one search: most text has none, and is then passed over after one look.
SUSPECT = re.compile(f"{PLACEHOLDER.pattern}|{MARKUP.pattern}|{CONTROL.pattern}", re.IGNORECASE)
# The same, over a whole file, lowercased: one search per pattern, each with a literal start that
# the regex engine finds quickly (as one alternation over a file it was five times slower). A
# placeholder's two words may be split over two lines in a file, so its space is matched loosely.
IN_FILE = tuple(
    re.compile(p)
    for p in (
        r"<\s*[a-z!/?]",
        r"\]\s*\(",
        r"!\[",
        r"javascript\s*:",
        r"vbscript\s*:",
        r"data\s*:\s*\w+/",
        r"fill(?:\s+|-)in\b",
        CONTROL.pattern,
    )
)
HANDLER_IN_FILE = re.compile(r"on[a-z]+\s*=")
# Characters that a case-blind match takes for an ASCII letter but lowercasing does not make one.
FOLDS_TO_ASCII = re.compile("[\u0130\u0131\u017f\u212a]")
# Addresses and DOIs: their syntax is the schema's (https only, DOI-shaped), not this rule's.
URL_FIELDS = {
    ("citation", "url"),
    ("citation", "doi"),
    *(("lookup", k) for k in ("doi", "pmid", "pmcid", "citation", "abstract")),
}


def file_is_plain(text: str) -> bool:
    """Whether no value of a record read from `text` can break `text_is_plain`, seen from the file
    alone: every value is a stretch of the file, unless an escape (a backslash) makes a character
    the file does not hold. Folded lines become spaces, which the patterns read as they read the
    line break and indent (\\s); only the placeholder's space is matched loosely here, as a line
    break may stand for it. A file that passes skips the walk through every value."""
    if "\\" in text or FOLDS_TO_ASCII.search(text):
        return False
    low = text.lower()
    return not any(p.search(low) for p in IN_FILE) and not ("=" in low and HANDLER_IN_FILE.search(low))


def text_is_plain(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    for path, text in walk_text(rec):
        if path in URL_FIELDS or path[-1:] == ("origin_url",) or not SUSPECT.search(text):
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


def discrepancies_name_real_fields(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    for i, disc in enumerate(_list(rec.get("discrepancies"))):
        field = _dict(disc).get("field")
        if isinstance(field, str) and _resolve(rec, field) is ...:
            yield Issue(("discrepancies", i, "field"), "must name a field path that exists in this record", field)
