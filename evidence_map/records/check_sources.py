"""Checks that a record says where its facts come from: who appraised the review, a citation that
agrees with itself, identifiers with the address they were confirmed at, and the page of every
estimate read in an original article."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from evidence_map.records.issues import FIRST_YEAR, Issue, _dict, _list
from evidence_map.records.vocab import Vocabularies


def appraisal_is_stated(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    am = _dict(rec.get("amstar2"))
    if not am:
        return
    by = am.get("appraised_by", "umbrella-review")
    rating = am.get("rating")
    if by == "not-appraised":
        if rating not in (None, "not-rated"):
            yield Issue(("amstar2", "rating"), "must be left out when appraised_by is not-appraised", rating)
    elif rating is None:
        yield Issue(("amstar2", "rating"), f"is required when appraised_by is {by}")
    if by == "evidence-map" and not _list(am.get("items")):
        yield Issue(("amstar2", "items"), "are required when appraised_by is evidence-map: the answer to each item")
    found_by = rec.get("found_by", "umbrella-review")
    if found_by != "umbrella-review" and by == "umbrella-review":
        yield Issue(
            ("amstar2", "appraised_by"),
            f"cannot be umbrella-review for a review found by {found_by}: give not-appraised or evidence-map",
            by,
        )


def citation_is_consistent(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    cit = _dict(rec.get("citation"))
    year, label = cit.get("year"), cit.get("label")
    this_year = date.today().year
    if isinstance(year, int) and not isinstance(year, bool) and not FIRST_YEAR <= year <= this_year:
        yield Issue(("citation", "year"), f"must be between {FIRST_YEAR} and {this_year}", year)
    if isinstance(year, int) and isinstance(label, str):
        m = re.search(r"\((\d{4})[a-z]?\)\s*$", label)
        if m is None:
            yield Issue(
                ("citation", "label"), "must end with the year in brackets, as in 'Aghayan et al. (2024)'", label
            )
        elif int(m.group(1)) != year:
            yield Issue(("citation", "year"), f"must match the year in the label ({m.group(1)})", year)


# An identifier is only as good as the page that shows it: each needs that page's address.
CONFIRMED_BY = {"doi": "doi", "pmid": "pmid", "pmcid": "pmcid", "title": "citation", "authors": "citation"}


def identifiers_name_where_they_were_confirmed(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    cit, lookup = _dict(rec.get("citation")), _dict(rec.get("lookup"))
    for key, where in CONFIRMED_BY.items():
        if cit.get(key) not in (None, "", []) and not lookup.get(where):
            yield Issue(
                ("citation", key),
                f"needs the address of the page where it was confirmed, in lookup.{where}",
                cit[key],
            )
    for key in ("doi", "pmid", "pmcid"):
        if lookup.get(key) and cit.get(key) in (None, ""):
            yield Issue(("lookup", key), f"confirms nothing: citation.{key} is empty")
    not_found = set(_list(lookup.get("not_found")))
    for key in sorted(not_found & {k for k in ("title", "authors", "doi", "pmid", "pmcid", "volume") if cit.get(k)}):
        yield Issue(("lookup", "not_found"), f"lists {key}, which citation.{key} gives", key)


def authors_start_with_the_first_author(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    cit = _dict(rec.get("citation"))
    authors, first = _list(cit.get("authors")), cit.get("first_author")
    if authors and isinstance(authors[0], str) and isinstance(first, str) and first.lower() not in authors[0].lower():
        yield Issue(
            ("citation", "authors", 0), f"must be the first author ({first}); list the authors in published order"
        )


def effects_from_originals_name_their_page(rec: dict[str, Any], _: Vocabularies) -> Iterator[Issue]:
    for i, eff in enumerate(_list(rec.get("effects"))):
        eff = _dict(eff)
        original = eff.get("origin") == "original-article"
        if original and not eff.get("origin_url"):
            yield Issue(("effects", i, "origin_url"), "is required when origin is original-article")
        elif eff.get("origin_url") and not original:
            yield Issue(
                ("effects", i, "origin"), "must be original-article when origin_url is given", eff.get("origin")
            )
