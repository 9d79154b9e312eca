"""What's new in the map, as a list of changes grouped by date and as an Atom 1.0 feed.

The changes come from the records themselves: each record's `added` date, and its `updated` date
when that is later; the verdicts they moved come from replaying the records (judging/history.py).
The feed is built with ElementTree, which escapes every text and attribute, and each value is first
cleared of characters XML cannot carry, so record text can add words to the feed but never
elements. The output depends only on its inputs (no clock), so it is reproducible.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, NamedTuple, cast
from urllib.parse import quote, urljoin

from evidence_map.judging.history import VerdictChange
from evidence_map.records.evidence import Evidence
from evidence_map.surveillance.queue import Queue
from evidence_map.surveillance.screening import newest_first as newest_candidates_first

ATOM_NS = "http://www.w3.org/2005/Atom"
Kind = Literal["added", "updated"]
KINDS: tuple[Kind, ...] = ("added", "updated")

# Characters XML 1.0 cannot hold, even escaped: C0 controls other than tab and newlines, lone
# surrogates and the two non-characters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPACE = re.compile(r"\s+")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class Change(NamedTuple):
    """One change to the map: a record added or updated on a date (YYYY-MM-DD)."""

    date: str
    record_id: str
    kind: Kind


@dataclass(frozen=True)
class Entry:
    """One feed entry. `link` may be relative: the feed resolves it against the site's link."""

    id: str
    title: str
    updated: str
    link: str
    summary: str = ""
    published: str | None = None
    category: str | None = None


def xml_text(value: object) -> str:
    """Text XML can carry: characters it cannot hold are dropped (escaping is ElementTree's job)."""
    return _NOT_XML.sub("", str(value))


def one_line(value: object) -> str:
    return _SPACE.sub(" ", xml_text(value)).strip()


def rfc3339(value: str | dt.date | dt.datetime) -> str:
    """An Atom date: `2026-11-29` becomes `2026-11-29T00:00:00Z`; datetimes are given in UTC."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00Z"
    text = str(value).strip()
    if _DATE.match(text):
        dt.date.fromisoformat(text)  # a real calendar date, or ValueError
        return f"{text}T00:00:00Z"
    return rfc3339(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))


def changes_from_records(evidence: Evidence) -> list[Change]:
    """One "added" change per record at its `added` date, and an "updated" one when `updated` is later.

    Ordered newest first; changes on the same date by record id, then kind.
    """
    changes = []
    for r in evidence.records:
        changes.append(Change(str(r.added), r.id, "added"))
        if str(r.updated) > str(r.added):
            changes.append(Change(str(r.updated), r.id, "updated"))
    return _newest_first(changes)


def _newest_first(changes: Iterable[Change]) -> list[Change]:
    ordered = sorted(changes, key=lambda c: (c.record_id, KINDS.index(c.kind)))
    return sorted(ordered, key=lambda c: c.date, reverse=True)  # stable: ties keep the order above


@dataclass(frozen=True)
class Day:
    """The changes of one date, with what they amount to: the What's new page's section for it."""

    date: str
    changes: tuple[Change, ...]  # additions first, then updates, each by record id
    added: int  # reviews added that day
    updated: int  # reviews updated that day
    estimates: int  # pooled estimates in the reviews added that day
    verdicts: tuple[VerdictChange, ...]  # the verdicts those changes moved

    def summary(self, name: Callable[[str], str]) -> str:
        """One line: "3 reviews added, 12 new estimates; verdict of Sepsis moved from Moderate to Low".
        `name` gives a condition's name from its id."""
        parts = []
        if self.added:
            parts.append(_count(self.added, "review") + " added")
        if self.updated:
            parts.append(f"{self.updated} updated" if self.added else _count(self.updated, "review") + " updated")
        if self.estimates:
            parts.append(_count(self.estimates, "new estimate"))
        moved = [f"verdict of {name(v.condition)} moved from {v.before} to {v.after}" for v in self.verdicts]
        return "; ".join(p for p in (", ".join(parts), *moved) if p)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def days(evidence: Evidence, verdicts: Iterable[VerdictChange], max_rows: int | None = None) -> list[Day]:
    """The changes grouped by date, newest first. With `max_rows`, only the newest dates whose
    changes fit in that many rows (always at least one date), so a date is never cut in half."""
    records = {r.id: r for r in evidence.records}
    by_date: dict[str, list[Change]] = {}
    for change in changes_from_records(evidence):
        by_date.setdefault(change.date, []).append(change)
    moved: dict[str, list[VerdictChange]] = {}
    for v in verdicts:
        moved.setdefault(v.date, []).append(v)
    out: list[Day] = []
    rows = 0
    for date, changes in by_date.items():  # newest first, as changes_from_records orders them
        rows += len(changes)
        if out and max_rows is not None and rows > max_rows:
            break
        added = [records[c.record_id] for c in changes if c.kind == "added"]
        out.append(
            Day(
                date=date,
                changes=tuple(sorted(changes, key=lambda c: (KINDS.index(c.kind), c.record_id))),
                added=len(added),
                updated=len(changes) - len(added),
                estimates=sum(len(r.effects) for r in added),
                verdicts=tuple(sorted(moved.get(date, ()), key=lambda v: v.condition)),
            )
        )
    return out


def entry_id(change: Change) -> str:
    """A permanent id for the entry (an RFC 4151 tag URI): the same change always has the same id."""
    return f"tag:msc-ev-map.github.io,2026:evidence-map/{change.record_id}/{change.kind}/{change.date}"


def whats_new(evidence: Evidence, history: Iterable[tuple[str, str, str]], limit: int | None = None) -> list[Entry]:
    """Feed entries for `history` (date, record id, "added" | "updated"), newest first, stable order.

    Changes to records that are no longer in the evidence are left out. Links are relative to the
    site's root (`reviews/<id>/`).
    """
    records = {r.id: r for r in evidence.records}
    changes = []
    for date, record_id, kind in history:
        if kind not in KINDS:
            raise ValueError(f"unknown kind of change {kind!r}: expected one of {', '.join(KINDS)}")
        if record_id in records:
            changes.append(Change(str(date), record_id, cast(Kind, kind)))
    entries = []
    for change in _newest_first(changes)[:limit]:
        r = records[change.record_id]
        if not _SLUG.match(r.id):
            raise ValueError(f"refusing to link to a non-slug record id: {r.id!r}")
        names = [evidence.vocab.conditions.get(c).name for c in r.conditions]
        verb = "Added" if change.kind == "added" else "Updated"
        if change.kind == "added" and r.beyond_source:
            verb = "Added beyond the umbrella review"
        entries.append(
            Entry(
                id=entry_id(change),
                title=f"{verb}: {r.label}",
                updated=rfc3339(change.date),
                published=rfc3339(r.added),
                link=f"reviews/{r.id}/",
                summary=f"{', '.join(names)}. {r.summary}" if names else r.summary,
                category=change.kind,
            )
        )
    return entries


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def atom_feed(
    entries: Iterable[Entry],
    feed_id: str,
    title: str,
    link: str,
    updated: str | dt.date | dt.datetime,
    self_link: str | None = None,
    author: str = "MSC-EV Living Evidence Map contributors",
    subtitle: str | None = None,
) -> str:
    """An Atom 1.0 document (UTF-8 text with an XML declaration) for `entries`, in the order given.

    `link` is the site's address; relative entry links are resolved against it. `self_link` is the
    feed's own address, which Atom recommends giving.
    """
    # The namespace is written as a plain attribute on a prefix-free tree, so the output is the
    # same whatever prefixes other code has registered with ElementTree.
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "id", one_line(feed_id))
    _sub(feed, "title", one_line(title), type="text")
    if subtitle:
        _sub(feed, "subtitle", one_line(subtitle), type="text")
    _sub(feed, "updated", rfc3339(updated))
    _sub(_sub(feed, "author"), "name", one_line(author))
    _sub(feed, "link", rel="alternate", type="text/html", href=link)
    if self_link:
        _sub(feed, "link", rel="self", type="application/atom+xml", href=self_link)
    for e in entries:
        entry = _sub(feed, "entry")
        _sub(entry, "id", one_line(e.id))
        _sub(entry, "title", one_line(e.title), type="text")
        _sub(entry, "updated", rfc3339(e.updated))
        if e.published:
            _sub(entry, "published", rfc3339(e.published))
        _sub(entry, "link", rel="alternate", type="text/html", href=urljoin(link, e.link))
        if e.category:
            _sub(entry, "category", term=one_line(e.category))
        if e.summary:
            _sub(entry, "summary", one_line(e.summary), type="text")
    ET.indent(feed, space="  ")
    body = ET.tostring(feed, encoding="unicode", short_empty_elements=True)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


def screening_entries(queue: Queue, limit: int = 50) -> list[Entry]:
    """Feed entries for the newest pending candidates, linking to the screening page."""
    return [
        Entry(
            id=f"tag:msc-ev-map.github.io,2026:evidence-map/screening/{quote(c.key, safe=':')}",
            title=f"To screen: {c.title}",
            updated=rfc3339(c.found),
            link="screening/",
            summary=", ".join(str(x) for x in (c.journal, c.year) if x),
            category="screening",
        )
        for c in newest_candidates_first(queue.with_status("pending"))[:limit]
    ]
