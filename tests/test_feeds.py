"""What's new: changes derived from the records, newest first, and an Atom 1.0 feed that parses,
has every element Atom requires, and carries hostile record text as text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from evidence_map.publishing.feeds import ATOM_NS, Change, Entry, atom_feed, changes_from_records, rfc3339, whats_new
from evidence_map.records.evidence import Evidence
from tests.conftest import optional

A = f"{{{ATOM_NS}}}"
SITE = "https://msc-ev-map.github.io/evidence-map/"
HOSTILE = (
    '<script>alert("x")</script> ]]> <![CDATA[ &amp; &nbsp; <!-- --> <?pi?> <!DOCTYPE x [<!ENTITY e "boom">]> &e; '
    "\x00\x07\x1b\ufffe line\nbreak 'quote' \"double\""
)


def dated(evidence: Evidence) -> Evidence:
    """The real records with varied added/updated dates, some updated later, some never."""
    records = []
    for i, r in enumerate(evidence.records[:6]):
        added = f"2026-0{1 + i % 3}-1{i}"
        updated = added if i % 2 == 0 else f"2026-0{4 + i % 2}-0{i}"
        records.append(replace(r, added=added, updated=updated))
    return Evidence(tuple(records), evidence.warnings, evidence.vocab)


def feed_for(evidence: Evidence) -> str:
    entries = whats_new(evidence, changes_from_records(evidence))
    return atom_feed(entries, SITE, "What's new", SITE, "2026-11-29", self_link=SITE + "feed.xml")


def test_changes_from_records(evidence: Evidence) -> None:
    ev = dated(evidence)
    changes = changes_from_records(ev)
    expected_added = {(r.added, r.id, "added") for r in ev.records}
    expected_updated = {(r.updated, r.id, "updated") for r in ev.records if r.updated > r.added}
    assert set(changes) == expected_added | expected_updated
    assert len(changes) == len(ev.records) + len(expected_updated) == 9
    assert all(isinstance(c, Change) for c in changes)
    dates = [c.date for c in changes]
    assert dates == sorted(dates, reverse=True)  # newest first


def test_same_day_changes_keep_a_stable_order(evidence: Evidence) -> None:
    day = "2026-01-01"
    same_day = Evidence(tuple(replace(r, added=day, updated=day) for r in evidence.records), (), evidence.vocab)
    changes = changes_from_records(same_day)
    assert [c.record_id for c in changes] == sorted(r.id for r in evidence.records)
    assert changes == changes_from_records(Evidence(tuple(reversed(same_day.records)), (), evidence.vocab))


def test_whats_new_orders_newest_first_and_skips_unknown_records(evidence: Evidence) -> None:
    ev = dated(evidence)
    first, second = ev.records[0].id, ev.records[1].id
    history = [
        ("2026-01-01", first, "added"),
        ("2026-03-01", second, "added"),
        ("2026-03-01", first, "updated"),
        ("2026-02-01", "gone-2020", "added"),  # a record since removed
    ]
    entries = whats_new(ev, history)
    assert first < second  # so on the shared date, `first`'s change comes first
    assert [(e.updated, e.link, e.category) for e in entries] == [
        ("2026-03-01T00:00:00Z", f"reviews/{first}/", "updated"),
        ("2026-03-01T00:00:00Z", f"reviews/{second}/", "added"),
        ("2026-01-01T00:00:00Z", f"reviews/{first}/", "added"),
    ]
    assert whats_new(ev, history) == entries  # stable
    assert len(whats_new(ev, history, limit=2)) == 2
    with pytest.raises(ValueError, match="unknown kind"):
        whats_new(ev, [("2026-01-01", first, "deleted")])


def test_feed_is_atom_with_the_required_elements(evidence: Evidence) -> None:
    ev = dated(evidence)
    root = ET.fromstring(feed_for(ev).encode("utf-8"))
    assert root.tag == f"{A}feed"
    for tag in ("id", "title", "updated"):
        assert (root.findtext(f"{A}{tag}") or "").strip(), tag
    assert root.find(f"{A}author/{A}name") is not None
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{A}link")}
    assert links == {"alternate": SITE, "self": SITE + "feed.xml"}
    entries = root.findall(f"{A}entry")
    assert len(entries) == 9
    ids = set()
    for entry in entries:
        for tag in ("id", "title", "updated"):
            assert (entry.findtext(f"{A}{tag}") or "").strip(), tag
        link = entry.find(f"{A}link")
        assert link is not None and link.get("rel") == "alternate"
        assert (link.get("href") or "").startswith(SITE + "reviews/")
        ids.add(entry.findtext(f"{A}id"))
    assert len(ids) == len(entries)  # every entry has its own id
    updated = [e.findtext(f"{A}updated") or "" for e in entries]
    assert updated == sorted(updated, reverse=True)  # newest first


def test_feedparser_reads_it(evidence: Evidence) -> None:
    feedparser = optional("feedparser")
    ev = dated(evidence)
    parsed = feedparser.parse(feed_for(ev))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "What's new"
    assert len(parsed.entries) == 9
    first = parsed.entries[0]
    assert first.link.startswith(SITE + "reviews/") and first.id.startswith("tag:")


def test_hostile_text_is_escaped(evidence: Evidence) -> None:
    first = evidence.records[0]
    record = replace(first, label=HOSTILE, summary=HOSTILE, updated=first.added)  # one change: its addition
    ev = Evidence((record,), (), evidence.vocab)
    text = atom_feed(whats_new(ev, changes_from_records(ev)), SITE, HOSTILE, SITE, "2026-11-29")
    assert "<script>" not in text and "<!DOCTYPE" not in text and "<![CDATA[" not in text and "<!--" not in text
    root = ET.fromstring(text.encode("utf-8"))  # well-formed despite the control characters
    entry = root.find(f"{A}entry")
    assert entry is not None
    title = entry.findtext(f"{A}title") or ""
    summary = entry.findtext(f"{A}summary") or ""
    assert '<script>alert("x")</script>' in title and "&e;" in title  # read back as plain text
    assert summary.endswith("line break 'quote' \"double\"")
    assert "\x00" not in text and "\x1b" not in text and "\ufffe" not in text
    assert [child.tag for child in entry] == [
        f"{A}{t}" for t in ("id", "title", "updated", "published", "link", "category", "summary")
    ]
    feedparser = optional("feedparser")
    parsed = feedparser.parse(text)
    assert not parsed.bozo and len(parsed.entries) == 1


def test_atom_feed_accepts_entries_and_dates() -> None:
    entries = [Entry(id="urn:x:1", title="One", updated="2026-01-02", link="https://example.org/1")]
    text = atom_feed(entries, "urn:x", "Feed", "https://example.org/", "2026-01-02T10:30:00+02:00")
    root = ET.fromstring(text.encode("utf-8"))
    assert root.findtext(f"{A}updated") == "2026-01-02T08:30:00Z"
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">')
    assert atom_feed(entries, "urn:x", "Feed", "https://example.org/", "2026-01-02") == atom_feed(
        entries, "urn:x", "Feed", "https://example.org/", "2026-01-02"
    )
    assert rfc3339("2026-11-29") == "2026-11-29T00:00:00Z"
    with pytest.raises(ValueError):
        rfc3339("2026-02-30")
