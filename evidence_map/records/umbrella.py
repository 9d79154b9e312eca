"""The umbrella review the first records come from, as data (audit/umbrella-review.yaml).

Pages, the footer, the data package and CITATION.cff all cite it from this one file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import yaml

from evidence_map.paths import AUDIT


@dataclass(frozen=True)
class Umbrella:
    title: str
    label: str
    journal: str
    year: int
    article: str
    doi: str
    records: int
    doi_page: str

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}"

    @property
    def text(self) -> str:
        """One plain-text reference line."""
        return f"{self.label}. {self.title}. {self.journal}. {self.year};{self.article}. doi:{self.doi}"


@cache
def umbrella() -> Umbrella:
    with open(AUDIT / "umbrella-review.yaml", encoding="utf-8") as fh:
        d = yaml.safe_load(fh)
    return Umbrella(
        title=" ".join(str(d["title"]).split()),
        label=str(d["label"]),
        journal=str(d["journal"]),
        year=int(d["year"]),
        article=str(d["article"]),
        doi=str(d["doi"]),
        records=int(d["records"]),
        doi_page=str(d["lookup"]["doi"]),
    )
