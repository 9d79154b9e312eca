"""Citations of the meta-analyses in the map, for reference managers: BibTeX and RIS.

One entry per record, in the order of the evidence, keyed by the record id. Record text is
untrusted: every value is folded onto one line and stripped of control characters, BibTeX's
special characters become their escaped forms, and braces or backslashes in a link are
percent-encoded, so no value can close its field, start another one or run a TeX command.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from evidence_map.paths import CITATION_CFF
from evidence_map.records.evidence import Evidence
from evidence_map.records.model import Record

_SPACE = re.compile(r"\s+")

# Characters TeX reads as syntax, and the text that prints each one literally.
_BIBTEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",  # not \{: BibTeX counts braces even after a backslash
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_BIBTEX_SPECIAL = re.compile("[" + re.escape("".join(_BIBTEX_ESCAPES)) + "]")

# In a verbatim field (doi, url) only what could unbalance the braces or escape is encoded.
_VERBATIM_ESCAPES = {"\\": "%5C", "{": "%7B", "}": "%7D"}
_VERBATIM_SPECIAL = re.compile("[" + re.escape("".join(_VERBATIM_ESCAPES)) + "]")

_KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def one_line(value: object) -> str:
    """The value as a single line of printable text: whitespace folded, control characters dropped."""
    text = _SPACE.sub(" ", str(value))
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs")).strip()


def bibtex_escape(value: object) -> str:
    """Text safe inside a braced BibTeX field: TeX's special characters print as themselves."""
    return _BIBTEX_SPECIAL.sub(lambda m: _BIBTEX_ESCAPES[m.group()], one_line(value))


def _verbatim(value: object) -> str:
    return _VERBATIM_SPECIAL.sub(lambda m: _VERBATIM_ESCAPES[m.group()], one_line(value).replace(" ", "%20"))


def _key(record: Record) -> str:
    if not _KEY.match(record.id):  # ids are slugs by validation; checked again, they become keys
        raise ValueError(f"refusing a non-slug record id as a BibTeX key: {record.id!r}")
    return record.id


_INITIALS = re.compile(r"^(?P<surname>.+?)\s+(?P<initials>[A-Z]{1,4})$")


def names(record: Record) -> tuple[list[tuple[str, str]], bool]:
    """The authors as (surname, initials) pairs, and whether the list is cut short ("et al.").

    Records list authors as the confirming page does, "Surname AB"; a name without initials keeps
    its whole text as the surname. With no author list, the first author stands alone, cut short."""
    if not record.authors:
        return [(record.first_author, "")], True
    out, more = [], False
    for a in record.authors:
        if a.strip().rstrip(".").lower() in ("et al", "others"):
            more = True
            continue
        m = _INITIALS.match(a.strip())
        out.append((m["surname"], m["initials"]) if m else (a.strip(), ""))
    return out, more


def _bib_name(surname: str, initials: str) -> str:
    last = bibtex_escape(surname)
    if " " in last or "," in last:
        last = "{" + last + "}"
    return last + (", " + " ".join(f"{c}." for c in initials) if initials else "")


def _authors(record: Record) -> str:
    people, more = names(record)
    if not record.authors:
        return _author(record)
    return " and ".join([_bib_name(*p) for p in people] + (["others"] if more else []))


def _author(record: Record) -> str:
    surname = bibtex_escape(record.first_author)
    # A surname of several words (or with a comma) stays one name: BibTeX would otherwise split it
    # at an " and " or read "Last, First" into it.
    if " " in surname or "," in surname:
        surname = "{" + surname + "}"
    return f"{surname} and others"


def bibtex_entry(record: Record) -> str:
    """One `@article` entry for a record."""
    fields: list[tuple[str, str]] = [("author", _authors(record))]
    if record.title:
        # Double braces keep the title's capitals (acronyms such as MSC or EV) in every style.
        fields.append(("title", "{" + bibtex_escape(record.title) + "}"))
    fields.append(("journal", bibtex_escape(record.journal)))
    fields.append(("year", str(int(record.year))))
    for name, value in (("volume", record.volume), ("number", record.issue), ("pages", record.pages)):
        if value:
            fields.append((name, bibtex_escape(value.replace("-", "--") if name == "pages" else value)))
    if record.doi:
        fields.append(("doi", _verbatim(record.doi)))
    if record.pmid:
        fields.append(("pmid", bibtex_escape(record.pmid)))
    if record.pmcid:
        fields.append(("pmcid", bibtex_escape(record.pmcid)))
    if record.url:
        fields.append(("url", _verbatim(record.url)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@article{{{_key(record)},\n{body}\n}}\n"


def _records(evidence: Evidence | Iterable[Record]) -> Iterable[Record]:
    return evidence.records if isinstance(evidence, Evidence) else evidence


def bibtex(evidence: Evidence | Iterable[Record]) -> str:
    """Every record as a BibTeX `@article`, in the evidence's order, separated by blank lines."""
    return "\n".join(bibtex_entry(r) for r in _records(evidence))


def ris_entry(record: Record) -> str:
    """One RIS reference (`TY  - JOUR` ... `ER  - `) for a record."""
    people, _ = names(record)
    lines = [("TY", "JOUR"), ("ID", _key(record))]
    lines += [("AU", one_line(f"{s}, {'.'.join(i)}." if i else s)) for s, i in people]
    if record.title:
        lines.append(("TI", one_line(record.title)))
    lines += [("T2", one_line(record.journal)), ("J2", one_line(record.journal)), ("PY", str(int(record.year)))]
    if record.volume:
        lines.append(("VL", one_line(record.volume)))
    if record.issue:
        lines.append(("IS", one_line(record.issue)))
    if record.pages:
        first, _, last = record.pages.partition("-")
        lines.append(("SP", one_line(first)))
        if last:
            lines.append(("EP", one_line(last)))
    if record.doi:
        lines.append(("DO", one_line(record.doi)))
    if record.pmid:
        lines.append(("AN", one_line(record.pmid)))
    if record.url:
        lines.append(("UR", one_line(record.url)))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {value}\n" for tag, value in lines)


def ris(evidence: Evidence | Iterable[Record]) -> str:
    """Every record as a RIS reference, in the evidence's order, separated by blank lines."""
    return "\n".join(ris_entry(r) for r in _records(evidence))


@dataclass(frozen=True)
class Release:
    """The map's own version, as CITATION.cff gives it: the About page cites it from there, so a
    release changes it in one place."""

    title: str
    version: str
    released: str
    url: str


@cache
def release(path: Path = CITATION_CFF) -> Release:
    with open(path, encoding="utf-8") as fh:
        cff = yaml.safe_load(fh)
    return Release(
        title=str(cff["title"]),
        version=str(cff["version"]),
        released=str(cff["date-released"]),
        url=str(cff.get("url", "")),
    )
