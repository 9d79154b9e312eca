"""Surveillance: search PubMed for new MSC-EV meta-analyses and append them to the screening queue.

Runs weekly in .github/workflows/surveil.yml, which opens one pull request with what it found, and
by hand (`python -m evidence_map.surveillance --help`). What it must not do: propose a review already in
the map or an article already in the queue, whatever its status; write anything unless every request
succeeded; change a line already in the queue. The new queue and strategy texts are composed and
read back first, then each file is replaced whole (a temporary file, then os.replace), the queue
first: should the strategy's write fail after it, the next search starts from the older date and
finds those articles already queued.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from evidence_map.files import replace_file
from evidence_map.records.issues import FIRST_YEAR
from evidence_map.records.model import Record
from evidence_map.records.yamlsafe import LoadError, load
from evidence_map.surveillance.duplicates import known_candidates, known_records, possible_duplicate
from evidence_map.surveillance.eutils import (
    EUtils,
    Search,
    ServiceError,
    Summary,
)
from evidence_map.surveillance.queue import Candidate, queue_issues
from evidence_map.surveillance.strategy import (
    SearchRun,
    Strategy,
)

LIMITS = {"title": 1000, "journal": 300, "first_author": 200, "pubdate": 100}


@dataclass(frozen=True)
class Outcome:
    run: SearchRun
    new: tuple[Summary, ...]
    unsummarised: tuple[tuple[str, str], ...]  # (id, reason) NCBI gave no summary of: queued with what is known
    warnings: tuple[str, ...]
    notes: tuple[tuple[str, str], ...] = ()  # (pmid, note) written on the new entry: a possible duplicate, no summary


# PubMed's messages about a query it could not use as written (a phrase or field it dropped): the
# search would silently be another one, so the run stops. Output messages ("No items found.") are not.
QUERY_PROBLEMS = ("phrasesnotfound", "fieldsnotfound", "phrasesignored", "quotedphrasesnotfound")


def query_problems(warnings: Iterable[str]) -> list[str]:
    return [w for w in warnings if w.split(":", 1)[0].strip().casefold() in QUERY_PROBLEMS]


def surveil(
    client: EUtils, strategy: Strategy, queued: Iterable[Candidate], records: Iterable[Record], today: date
) -> Outcome:
    """Search, then sort every article found into: already in the map, already queued, or new.

    Articles known by PMID are sorted before esummary is asked, so only the others cost requests.
    """
    records = list(records)
    mindate, maxdate = strategy.window(today)
    search = client.esearch(strategy.query, mindate, maxdate, strategy.datetype)
    if strategy.recheck_datetype:
        # The same window on a second date (the last modification, say): an article whose index terms
        # arrived weeks after it entered PubMed matches the query only then, and is found here.
        again = client.esearch(strategy.query, mindate, maxdate, strategy.recheck_datetype)
        ids = tuple(dict.fromkeys((*search.ids, *again.ids)))
        warnings = tuple(dict.fromkeys((*search.warnings, *again.warnings)))
        search = Search(len(ids), ids, warnings)
    problems = query_problems(search.warnings)
    if problems:
        raise ServiceError(
            "PubMed could not use part of the query as written (" + "; ".join(problems) + "): the search "
            "would silently be a different one. Fix the query in screening/strategy.yaml"
        )
    mapped, queue = known_records(records), known_candidates(queued)
    in_map = [i for i in search.ids if i in mapped.by_pmid]
    in_queue = [i for i in search.ids if i not in mapped.by_pmid and i in queue.by_pmid]
    # In PMID order, so the queue grows the same way whatever order PubMed sorted its answer in.
    unknown = sorted((i for i in search.ids if i not in mapped.by_pmid and i not in queue.by_pmid), key=int)
    summaries, unsummarised = client.esummary(unknown)
    # An article NCBI gives no summary of is queued with what is known (its PMID), never dropped: the
    # window moves on after this run, so an article left out now would be lost for good.
    summaries += [
        Summary(uid, f"No summary from PubMed for PMID {uid} ({why}); screen it from its PubMed page", *(None,) * 5)
        for uid, why in unsummarised
    ]
    summaries.sort(key=lambda s: int(s.pmid))
    new = []
    notes = []
    for s in summaries:
        if mapped.match(s.pmid, s.doi, s.title):
            in_map.append(s.pmid)
        elif queue.match(s.pmid, s.doi, s.title):
            in_queue.append(s.pmid)
        else:
            new.append(s)
            queue.add(f"PubMed {s.pmid} (new)", s.pmid, s.doi, s.title)  # the same article twice in one search
            twin = possible_duplicate(records, s.first_author, s.year, s.journal)
            if twin:
                notes.append((s.pmid, f"possible duplicate of {twin}: same first author, year and journal"))
    run = SearchRun(
        date=today.isoformat(),
        mindate=mindate,
        maxdate=maxdate,
        found=len(search.ids),
        in_map=tuple(sorted(in_map, key=int)),
        queued=len(in_queue),
        new=len(new),
    )
    return Outcome(run, tuple(new), tuple(unsummarised), search.warnings, tuple(notes))


# ---------------------------------------------------------------- the queue's new text


def _quoted(text: str, limit: int) -> str:
    return json.dumps(text[:limit], ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def candidate_block(s: Summary, found: date, note: str | None = None) -> str:
    """One queue entry as YAML text, in the order a screener reads it."""
    lines = [f"  - pmid: {json.dumps(s.pmid)}", f"    title: {_quoted(s.title, LIMITS['title'])}"]
    if s.doi:
        lines.append(f"    doi: {json.dumps(s.doi)}")
    for key in ("journal", "first_author"):
        value = getattr(s, key)
        if value:
            lines.append(f"    {key}: {_quoted(value, LIMITS[key])}")
    if s.year and FIRST_YEAR <= s.year <= found.year + 1:
        lines.append(f"    year: {s.year}")
    if s.pubdate:
        lines.append(f"    pubdate: {_quoted(s.pubdate, LIMITS['pubdate'])}")
    lines += [f"    found: {found.isoformat()}", "    status: pending"]
    if note:
        lines.append(f"    note: {_quoted(note, 1000)}")
    return "\n".join(lines) + "\n"


def queue_text_with(
    text: str, new: Sequence[Summary], found: date, records: Iterable[Record], notes: dict[str, str] | None = None
) -> str:
    """The queue's text with `new` appended after the last line, checked by reading it back: the old
    entries unchanged, the new ones as intended, and no validation error."""
    if not new:
        return text
    before = load(text).data
    empty = re.compile(r"(?m)^candidates:[ \t]*\[\][ \t]*(#[^\n]*)?$")  # `candidates: []`, perhaps with a comment
    grown = empty.sub(lambda m: f"candidates: {m[1] or ''}".rstrip(), text, count=1)
    notes = notes or {}
    grown = grown.rstrip("\n") + "\n" + "".join(candidate_block(s, found, notes.get(s.pmid)) for s in new)
    try:
        after = load(grown).data
    except LoadError as exc:
        raise ServiceError(f"the queue would not read back after appending (line {exc.line}: {exc.message})") from None
    old = before.get("candidates") or []
    if (
        not isinstance(after, dict)
        or after.get("candidates", [])[: len(old)] != old
        or len(after["candidates"]) != len(old) + len(new)
    ):
        raise ServiceError("the queue cannot be appended to safely: keep `candidates:` as its last key")
    errors, _ = queue_issues(after, records)
    if errors:
        raise ServiceError(f"the new candidates would not validate: {errors[0].rule} at {errors[0].path}")
    return grown


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` whole, flushed to disk and with its permissions kept: people edit these files."""
    replace_file(path, text, durable=True, keep_mode=True)
