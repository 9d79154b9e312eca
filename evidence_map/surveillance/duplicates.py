"""Is a candidate one the map already knows? By DOI, PMID or title, and failing those by first
author, year and journal together, which flags a possible duplicate for a screener to decide."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evidence_map.records.model import Record

if TYPE_CHECKING:
    from evidence_map.surveillance.queue import Candidate


# ---------------------------------------------------------------- identity: the same article twice


def norm_doi(doi: str | None) -> str:
    """A DOI compared case-insensitively, without a resolver prefix."""
    text = (doi or "").strip().casefold()
    return re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", text)


def norm_title(title: str | None) -> str:
    """A title compared casefolded, with punctuation and runs of whitespace reduced to one space."""
    text = unicodedata.normalize("NFKC", title or "").casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


@dataclass
class Known:
    """Articles already seen (records, or queued candidates), looked up by PMID, DOI, then title."""

    by_pmid: dict[str, str]
    by_doi: dict[str, str]
    by_title: dict[str, str]

    @classmethod
    def of(cls, items: Iterable[tuple[str, str | None, str | None, str | None]]) -> Known:
        """From (label, pmid, doi, title) tuples; the first label given for an identifier wins."""
        known = cls({}, {}, {})
        for label, pmid, doi, title in items:
            known.add(label, pmid, doi, title)
        return known

    def add(self, label: str, pmid: str | None, doi: str | None, title: str | None) -> None:
        if pmid:
            self.by_pmid.setdefault(pmid.strip(), label)
        if norm_doi(doi):
            self.by_doi.setdefault(norm_doi(doi), label)
        if len(norm_title(title)) >= 20:  # a short title is too likely to be shared by chance
            self.by_title.setdefault(norm_title(title), label)

    def match(self, pmid: str | None, doi: str | None, title: str | None) -> str | None:
        """The label of the known article with this PMID, else this DOI, else this title."""
        return (
            (self.by_pmid.get(pmid.strip()) if pmid else None)
            or self.by_doi.get(norm_doi(doi))
            or self.by_title.get(norm_title(title))
        )


JOURNAL_STOPWORDS = frozenset({"and", "of", "the", "in", "for", "on", "de", "la", "y"})


def _journal_words(name: str | None) -> list[str]:
    text = unicodedata.normalize("NFKC", name or "").casefold().replace("&", " ")
    return [w for w in re.sub(r"[\W_]+", " ", text).split() if w not in JOURNAL_STOPWORDS]


def same_journal(a: str | None, b: str | None) -> bool:
    """Whether two journal names are the same journal, one perhaps abbreviated the way indexes do
    ("Stem Cell Rev Rep" and "Stem cell reviews and reports"): word by word, each a prefix of the other."""
    wa, wb = _journal_words(a), _journal_words(b)
    return (
        bool(wa) and len(wa) == len(wb) and all(x.startswith(y) or y.startswith(x) for x, y in zip(wa, wb, strict=True))
    )


def surname(name: str | None) -> str:
    """The surname of "Aghayan AH" or "Aghayan", compared casefolded without accents."""
    first = (name or "").strip().split(" ")[0]
    plain = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode()
    return plain.casefold()


def possible_duplicate(
    records: Iterable[Record], first_author: str | None, year: int | None, journal: str | None
) -> str | None:
    """A record with the same first author, year and journal: perhaps the same review under another
    identifier (or none), so the candidate is queued as a possible duplicate, not dropped or added blindly."""
    if not first_author or not year or not journal:
        return None
    for r in records:
        if surname(r.first_author) == surname(first_author) and r.year == year and same_journal(r.journal, journal):
            return r.id
    return None


def known_records(records: Iterable[Record]) -> Known:
    return Known.of((r.id, r.pmid, r.doi, r.title) for r in records)


def known_candidates(candidates: Iterable[Candidate]) -> Known:
    return Known.of(
        (f"PubMed {c.pmid} ({c.status})" if c.pmid else f"DOI {c.doi} ({c.status})", c.pmid, c.doi, c.title)
        for c in candidates
    )
