"""The umbrella review the first records come from, as data (audit/umbrella-review.yaml).

Pages, the footer, the data package and CITATION.cff all cite it from this one file. It also lists
the record id of each of its reviews, so that a record's origin is checked, not assumed: a record
that leaves `found_by` out counts as the umbrella review's, which is only true of those it lists
(add_origin_problems)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import yaml

from evidence_map.paths import AUDIT
from evidence_map.records.issues import Problem, show
from evidence_map.records.validate import Checked


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
    reviews: frozenset[str]  # the record id of each of its reviews

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
        reviews=frozenset(str(r) for r in d["reviews"]),
    )


def add_origin_problems(results: Iterable[Checked]) -> None:
    """Add a problem to each valid record whose origin contradicts the umbrella review's list of
    reviews: one counted as the umbrella review's (found_by left out, or umbrella-review) that the
    list does not name, and one the list names that says the map found it. For the repository's
    own records (load_evidence): a folder of test or benchmark records has no umbrella review."""
    listed = umbrella().reviews
    where = f"(its {len(listed)} are listed in audit/umbrella-review.yaml)"
    for res in results:
        loaded = res.loaded if res.ok else None
        if loaded is None or not isinstance(loaded.data, dict):
            continue  # a record with errors: those are fixed first
        rid, given = loaded.data["id"], loaded.data.get("found_by")
        if (given not in (None, "umbrella-review")) == (rid not in listed):
            continue
        if rid in listed:
            rule = f"must be umbrella-review, or left out, as {rid} is one of the umbrella review's reviews {where}"
        else:
            what = "must be hand-search or standing-search" if given else "is required"
            give = "" if given else "give hand-search or standing-search, and "
            rule = (
                f"{what}, as {rid} is not one of the umbrella review's reviews {where}: {give}add the review's "
                f"entry to screening/queue.yaml with status: included and record: {rid}"
            )
        line = loaded.line_of(("found_by",) if given else ("id",))
        res.problems.append(Problem(res.shown_as, line, "found_by", rule, show(given) if given else None))
