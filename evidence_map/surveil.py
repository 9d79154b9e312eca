"""Surveillance: search PubMed for new MSC-EV meta-analyses and append them to the screening queue.

Runs weekly in .github/workflows/surveil.yml, which opens one pull request with what it found, and
by hand (`python -m evidence_map.surveil --help`). What it must not do: propose a review already in
the map or an article already in the queue, whatever its status; write anything unless every request
succeeded; change a line already in the queue. The new queue and strategy texts are composed and
read back first, then each file is replaced whole (a temporary file, then os.replace), the queue
first: should the strategy's write fail after it, the next search starts from the older date and
finds those articles already queued.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .eutils import EUtils, FixtureTransport, Search, ServiceError, Summary, Transport, urllib_transport
from .evidence import InvalidEvidence, load_evidence
from .model import Record
from .paths import EVIDENCE
from .recall import RECALL, measure, recall_text, title_recall
from .screening import (
    QUEUE,
    Candidate,
    InvalidQueue,
    known_candidates,
    known_records,
    load_queue,
    possible_duplicate,
    queue_issues,
)
from .strategy import STRATEGY, SearchRun, Strategy, StrategyError, load_strategy, text_after_run
from .validate import FIRST_YEAR, Problem, display_path
from .watch import PROPOSALS, WATCH, notices, proposals_text, propose_pmids, watch_text
from .yamlsafe import LoadError, load

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
    """Replace `path` whole: a temporary file beside it, flushed to disk, then renamed over it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- command line


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date written YYYY-MM-DD: {text!r}") from None


def add_surveil_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """The `surveil` subcommand, for the main command line (and `python -m evidence_map.surveil`)."""
    p = subparsers.add_parser(
        "surveil",
        help="search PubMed for new MSC-EV meta-analyses and add them to the screening queue",
        description="Search PubMed (NCBI E-utilities) with screening/strategy.yaml and append what is "
        "neither in the map nor already queued to screening/queue.yaml. NCBI_API_KEY and NCBI_EMAIL "
        "are read from the environment when set.",
    )
    p.add_argument("--evidence", type=Path, default=EVIDENCE, help="folder of YAML records (default: evidence/)")
    p.add_argument("--queue", type=Path, default=QUEUE, help="the screening queue (default: screening/queue.yaml)")
    p.add_argument("--strategy", type=Path, default=STRATEGY, help="the search (default: screening/strategy.yaml)")
    p.add_argument("--offline-fixture", type=Path, metavar="DIR", help="replay recorded answers from DIR/replay.json")
    p.add_argument("--dry-run", action="store_true", help="print what would be added; write nothing")
    p.add_argument("--today", type=_iso_date, metavar="YYYY-MM-DD", help="the date of this run (default: today)")
    p.add_argument(
        "--recall",
        action="store_true",
        help="instead of the weekly search, measure which of the map's reviews (by PMID) the query finds, "
        "and write screening/recall.yaml",
    )
    p.add_argument("--recall-file", type=Path, default=RECALL, help=argparse.SUPPRESS)
    p.add_argument(
        "--watch",
        action="store_true",
        help="instead of the weekly search, ask PubMed for retractions, errata and updates of the map's reviews "
        "and write screening/watch.yaml",
    )
    p.add_argument(
        "--propose-pmids",
        action="store_true",
        help="instead of the weekly search, match the citations of records without a PMID (NCBI ECitMatch) and "
        "write the confirmed matches to screening/pmid-proposals.yaml for a person to check",
    )
    p.add_argument("--watch-file", type=Path, default=WATCH, help=argparse.SUPPRESS)
    p.add_argument("--proposals-file", type=Path, default=PROPOSALS, help=argparse.SUPPRESS)
    p.add_argument(
        "--recall-titles",
        action="store_true",
        help="offline: apply the query's title words to the map's titles (a lower bound of recall); writes nothing",
    )
    p.set_defaults(func=cmd_surveil)
    return p


def _report(problems: list[Problem]) -> int:
    for p in problems:
        print(p, file=sys.stderr)
    errors = sum(not p.warning for p in problems)
    print(f"{errors} error{'s' if errors != 1 else ''}", file=sys.stderr)
    return 1


def cmd_surveil(
    args: argparse.Namespace,
    *,
    transport: Transport | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Run one search; 0 when it succeeded (whether or not it found anything), 1 otherwise."""
    today = args.today or date.today()
    try:
        evidence = load_evidence(args.evidence)
        strategy = load_strategy(args.strategy)
        queue = load_queue(args.queue, evidence)
    except (InvalidEvidence, StrategyError, InvalidQueue) as exc:
        return _report(exc.problems)
    if getattr(args, "recall_titles", False):
        matched, checked, missed = title_recall(strategy.query, evidence.records)
        print(f"the query's title words match {matched} of the {checked} titles in the map (a lower bound)")
        for rid in missed:
            print(f"not matched by title: {rid}")
        return 0
    email = os.environ.get("NCBI_EMAIL", "").strip()
    if transport is None and not args.offline_fixture and not email:
        print(
            "error: NCBI_EMAIL is not set. NCBI asks every E-utilities request to name a contact address; set "
            "the environment variable NCBI_EMAIL (the weekly workflow reads the repository variable of that name)",
            file=sys.stderr,
        )
        return 1
    if transport is None and args.offline_fixture:
        try:
            transport = FixtureTransport(args.offline_fixture)
        except ServiceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        sleep = sleep or (lambda _seconds: None)  # a recording needs no rate limit
    client = EUtils(
        transport=transport or urllib_transport,
        email=email or None,
        api_key=os.environ.get("NCBI_API_KEY", "").strip() or None,
        sleep=sleep or time.sleep,
        clock=clock,
    )
    if getattr(args, "recall", False):
        return _run_recall(args, client, strategy, evidence.records, today)
    if getattr(args, "watch", False) or getattr(args, "propose_pmids", False):
        return _run_watch(args, client, evidence.records, today)
    unchanged = f"{display_path(args.queue)} and {display_path(args.strategy)} left as they were"
    try:
        outcome = surveil(client, strategy, queue.candidates, evidence.records, today)
        queue_text = queue_text_with(
            args.queue.read_text(encoding="utf-8"), outcome.new, today, evidence.records, dict(outcome.notes)
        )
        strategy_text = text_after_run(args.strategy.read_text(encoding="utf-8"), outcome.run, args.strategy)
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"surveil stopped after {client.requests} requests: {unchanged}", file=sys.stderr)
        return 1
    except StrategyError as exc:
        _report(exc.problems)
        print(f"surveil stopped: {unchanged}", file=sys.stderr)
        return 1
    _print_outcome(outcome)
    if args.dry_run:
        print(f"dry run: {unchanged}")
        return 0
    write_atomic(args.queue, queue_text)
    write_atomic(args.strategy, strategy_text)
    added = f"{len(outcome.new)} candidate{'s' if len(outcome.new) != 1 else ''}"
    print(f"added {added} to {display_path(args.queue)}; last search {outcome.run.date}")
    return 0


def _run_recall(
    args: argparse.Namespace, client: EUtils, strategy: Strategy, records: Iterable[Record], today: date
) -> int:
    try:
        recall = measure(client, strategy, records, today)
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"recall not measured: {display_path(args.recall_file)} left as it was", file=sys.stderr)
        return 1
    print(
        f"recall: the query finds {recall.found} of the {recall.checked} reviews in the map with a PMID; "
        f"{recall.without_pmid} have none and cannot be checked"
    )
    for rid, pmid in recall.missed:
        print(f"missed: {rid} (PubMed {pmid})")
    if not args.dry_run:
        write_atomic(args.recall_file, recall_text(recall))
    return 0


def _run_watch(args: argparse.Namespace, client: EUtils, records: Iterable[Record], today: date) -> int:
    records = list(records)
    target = args.watch_file if args.watch else args.proposals_file
    try:
        if args.watch:
            found = notices(client, records)
            text = watch_text(found, sum(1 for r in records if r.pmid), today)
            print(f"checked {sum(1 for r in records if r.pmid)} reviews with a PMID: {len(found)} notices")
            for n in found:
                print(
                    f"notice: {n.record} (PubMed {n.pmid}): {n.kind}"
                    + (f" in PubMed {n.notice_pmid}" if n.notice_pmid else "")
                )
        else:
            proposals, skipped = propose_pmids(client, records)
            text = proposals_text(proposals, skipped, today)
            print(f"proposed {len(proposals)} PubMed ids; {len(skipped)} records lack a volume or first page")
            for pr in proposals:
                print(f"proposal: {pr.record}: PubMed {pr.pmid} ({pr.why})")
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"stopped: {display_path(target)} left as it was", file=sys.stderr)
        return 1
    if not args.dry_run:
        write_atomic(target, text)
    return 0


def _print_outcome(outcome: Outcome) -> None:
    run = outcome.run
    for w in outcome.warnings:
        print(f"warning: PubMed says {w}", file=sys.stderr)
    print(f"searched PubMed from {run.mindate} to {run.maxdate}")
    line = f"found {run.found}, already in the map {len(run.in_map)}, already queued {run.queued}, new {run.new}"
    if outcome.unsummarised:
        line += f" (of them without a summary {len(outcome.unsummarised)})"
    print(line)
    for uid, why in outcome.unsummarised:
        print(f"warning: NCBI gave no summary of PubMed {uid} ({why}): queued with its PMID only", file=sys.stderr)
    for pmid, note in outcome.notes:
        print(f"note: PubMed {pmid}: {note}")
    for s in outcome.new:
        where = ", ".join(str(x) for x in (s.journal, s.year) if x)
        print(f"new: PubMed {s.pmid}  {s.title}" + (f" ({where})" if where else ""))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evidence_map.surveil")
    sub = ap.add_subparsers(dest="command")
    add_surveil_parser(sub)
    args = ap.parse_args(["surveil", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
