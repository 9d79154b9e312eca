"""Citations for reference managers: BibTeX parsed back by a real parser, RIS checked line by line,
hostile record text kept inside its own field; and the map's own CITATION.cff."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import replace
from typing import Any

import pytest
import yaml

from evidence_map.paths import MKDOCS_YML, ROOT
from evidence_map.publishing.citations import bibtex, bibtex_entry, bibtex_escape, names, ris, ris_entry
from evidence_map.records.evidence import Evidence
from evidence_map.records.model import Record
from tests.conftest import optional

HOSTILE_TITLE = (
    "A {hostile} } title \\end{document} \\input{/etc/passwd} with % and $x^2$ & _ # ~ \n"
    '@article{evil, title = {injected}}\r\n}, year = {1066}, note = "x'
)
# How each escape reads back: the inverse of citations._BIBTEX_ESCAPES, written out independently.
UNESCAPE = {
    r"\textbackslash{}": "\\",
    r"\textbraceleft{}": "{",
    r"\textbraceright{}": "}",
    r"\textasciitilde{}": "~",
    r"\textasciicircum{}": "^",
    r"\%": "%",
    r"\&": "&",
    r"\$": "$",
    r"\#": "#",
    r"\_": "_",
}


def unescape(text: str) -> str:
    pattern = re.compile("|".join(re.escape(k) for k in sorted(UNESCAPE, key=len, reverse=True)))
    return pattern.sub(lambda m: UNESCAPE[m.group()], text)


def folded(text: str) -> str:
    return " ".join(text.split())


def hostile(record: Record) -> Record:
    return replace(
        record,
        title=HOSTILE_TITLE,
        journal="J {Evil} \\relax & Co",
        first_author="van der Berg, and Jones",
        authors=(),
        volume=None,
        issue=None,
        pages=None,
        pmcid=None,
        doi="10.1000/a(b)<c>[d]:e;f",
        pmid="12345678",
        url="https://example.org/a}b{c\\d?q=%7B#frag",
    )


def parse_bibtex(text: str) -> Any:
    bibtexparser = optional("bibtexparser")
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    return library


def fields_of(entry: Any) -> dict[str, str]:
    return {f.key: f.value for f in entry.fields}


def test_bibtex_has_one_entry_per_record_keyed_by_id(evidence: Evidence) -> None:
    library = parse_bibtex(bibtex(evidence))
    assert [e.key for e in library.entries] == [r.id for r in evidence.records]
    for entry, record in zip(library.entries, evidence.records, strict=True):
        f = fields_of(entry)
        assert entry.entry_type == "article"
        people, more = names(record)
        authors = f["author"].split(" and ")
        assert len(authors) == len(people) + more and bibtex_escape(people[0][0]) in authors[0]
        assert (authors[-1] == "others") == more
        assert f["journal"] == bibtex_escape(record.journal)
        assert f["year"] == str(record.year)
        for key, value in (("title", record.title), ("doi", record.doi), ("volume", record.volume)):
            assert (key in f) == bool(value), key
        assert f.get("doi", "") == (record.doi or "")


def test_bibtex_optional_fields_and_title_case_protection(evidence: Evidence) -> None:
    record = replace(
        evidence.records[0],
        title="MSC-EVs in sepsis: a meta-analysis",
        doi="10.1007/s12015-024-00000-0",
        pmid="38000000",
        url="https://doi.org/10.1007/s12015-024-00000-0",
    )
    f = fields_of(parse_bibtex(bibtex_entry(record)).entries[0])
    assert f["title"] == "{MSC-EVs in sepsis: a meta-analysis}"  # inner braces keep the capitals
    assert f["doi"] == "10.1007/s12015-024-00000-0"
    assert f["pmid"] == "38000000"
    assert f["url"] == "https://doi.org/10.1007/s12015-024-00000-0"


def test_hostile_text_stays_inside_its_field(evidence: Evidence) -> None:
    bad = hostile(evidence.records[0])
    records = [bad, *evidence.records[1:3]]
    text = bibtex(records)
    library = parse_bibtex(text)
    assert [e.key for e in library.entries] == [r.id for r in records]  # nothing injected
    f = fields_of(library.entries[0])
    assert sorted(f) == ["author", "doi", "journal", "pmid", "title", "url", "year"]
    assert f["year"] == str(bad.year)  # not the injected 1066
    assert f["title"].startswith("{") and f["title"].endswith("}")
    assert unescape(f["title"][1:-1]) == folded(HOSTILE_TITLE)  # every character kept, as text
    assert unescape(f["journal"]) == "J {Evil} \\relax & Co"
    # No TeX command survives except the escapes themselves, and braces balance in every field.
    for value in f.values():
        leftover = re.sub("|".join(re.escape(k) for k in UNESCAPE), "", value)
        assert "\\" not in leftover
        depth = 0
        for c in value:
            depth += {"{": 1, "}": -1}.get(c, 0)
            assert depth >= 0
        assert depth == 0
    # A multi-word surname (with "and" and a comma in it) stays one name beside "others".
    assert f["author"] == "{van der Berg, and Jones} and others"
    # Links keep their characters, with the ones that could break the field percent-encoded.
    assert f["url"] == "https://example.org/a%7Db%7Bc%5Cd?q=%7B#frag"
    assert f["doi"] == "10.1000/a(b)<c>[d]:e;f"
    # Every entry starts on its own line; nothing in a value starts another.
    assert len(re.findall(r"(?m)^@", text)) == len(records)
    assert "\r" not in text


def test_bibtex_escape_covers_tex_specials() -> None:
    assert bibtex_escape("50% & $5 #1 a_b ~ ^ \\ { }") == (
        r"50\% \& \$5 \#1 a\_b \textasciitilde{} \textasciicircum{} \textbackslash{} \textbraceleft{} \textbraceright{}"
    )
    # Line breaks fold into spaces; control and zero-width characters are dropped.
    assert bibtex_escape("line\none\ttab\x00nul\u200bzw") == "line one tabnulzw"
    assert bibtex_escape("Müller – α ± β") == "Müller – α ± β"  # UTF-8 stays as it is


RIS_LINE = re.compile(r"^([A-Z][A-Z0-9])  - (.*)$")


def ris_records(text: str) -> list[list[tuple[str, str]]]:
    """Split RIS text into references of (tag, value) pairs, checking the syntax of every line."""
    refs: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] | None = None
    for number, line in enumerate(text.split("\n"), 1):
        if line == "":
            assert current is None, f"line {number}: blank line inside a reference"
            continue
        m = RIS_LINE.match(line)
        assert m, f"line {number}: not a RIS line: {line!r}"
        tag, value = m.groups()
        if tag == "TY":
            assert current is None, f"line {number}: TY before the previous ER"
            current = []
        assert current is not None, f"line {number}: {tag} outside a reference"
        current.append((tag, value))
        if tag == "ER":
            assert value == "" and line == "ER  - ", f"line {number}: ER carries no value"
            refs.append(current)
            current = None
    assert current is None, "the last reference has no ER"
    return refs


def test_ris_structure_line_by_line(evidence: Evidence) -> None:
    text = ris(evidence)
    assert text.endswith("ER  - \n")
    refs = ris_records(text)
    assert len(refs) == len(evidence.records)
    for ref, record in zip(refs, evidence.records, strict=True):
        tags = dict(ref)
        assert ref[0] == ("TY", "JOUR") and ref[-1] == ("ER", "")
        assert tags["ID"] == record.id
        authors = [v for t, v in ref if t == "AU"]
        assert len(authors) == len(names(record)[0]) and record.first_author in authors[0]
        assert tags["T2"] == tags["J2"] == record.journal
        assert tags["PY"] == str(record.year)
        assert tags.get("DO") == record.doi and tags.get("TI") == record.title
        assert len(tags) == len(ref) - len(authors) + 1, "no tag but AU repeats within a reference"


def test_ris_hostile_text_stays_on_its_line(evidence: Evidence) -> None:
    bad = hostile(evidence.records[0])
    bad = replace(bad, title="Title\nER  - \nTY  - JOUR\nTI  - injected", journal="J\r\nAU  - Mallory")
    text = ris([bad, evidence.records[1]])
    refs = ris_records(text)
    assert len(refs) == 2
    tags = dict(refs[0])
    assert tags["TI"] == "Title ER - TY - JOUR TI - injected"
    assert tags["T2"] == "J AU - Mallory"
    assert [t for t, _ in refs[0]].count("AU") == 1
    assert tags["UR"] == bad.url and tags["DO"] == bad.doi and tags["AN"] == bad.pmid
    assert ris_entry(bad) == ris_entry(bad)


def test_output_is_deterministic(evidence: Evidence) -> None:
    again = Evidence(tuple(evidence.records), evidence.warnings, evidence.vocab)
    assert bibtex(evidence) == bibtex(again) == bibtex(list(evidence.records))
    assert ris(evidence) == ris(again)


def test_non_slug_id_is_refused(evidence: Evidence) -> None:
    bad = replace(evidence.records[0], id="x,\n@misc{y")
    with pytest.raises(ValueError, match="non-slug"):
        bibtex_entry(bad)
    with pytest.raises(ValueError, match="non-slug"):
        ris_entry(bad)


# --- CITATION.cff: how to cite the map itself -------------------------------------------------

CFF_REQUIRED = ("cff-version", "message", "title", "authors")


def test_citation_cff() -> None:
    with open(ROOT / "CITATION.cff", encoding="utf-8") as fh:
        cff = yaml.safe_load(fh)
    with open(ROOT / "pyproject.toml", "rb") as fh:
        project = tomllib.load(fh)["project"]
    with open(MKDOCS_YML, encoding="utf-8") as fh:
        site = yaml.safe_load(fh)
    for key in CFF_REQUIRED:
        assert cff.get(key), f"CITATION.cff lacks {key}"
    assert cff["cff-version"] == "1.2.0"
    assert cff["title"] == site["site_name"] == "MSC-EV Living Evidence Map"
    assert cff["type"] == "dataset"
    assert cff["authors"] == [{"name": "MSC-EV Living Evidence Map contributors"}]
    assert cff["version"] == project["version"]
    # The data's licence in CITATION.cff and the data package; the code's in pyproject.toml (SPDX).
    assert cff["license"] == "CC-BY-4.0" and project["license"] == "MIT"
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "SPDX identifier MIT" in licence and "SPDX identifier CC-BY-4.0" in licence
    assert isinstance(cff["date-released"], dt.date)  # an unquoted YYYY-MM-DD, as the schema wants
    assert cff["repository-code"] == site["extra"]["repository"].rstrip("/")
    assert cff["url"] == site["site_url"]
    assert isinstance(cff["abstract"], str) and len(cff["abstract"]) > 100
    allowed = {
        *CFF_REQUIRED,
        "type",
        "abstract",
        "repository-code",
        "url",
        "license",
        "references",
        "version",
        "date-released",
        "keywords",
    }
    assert set(cff) <= allowed, set(cff) - allowed
