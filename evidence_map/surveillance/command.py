"""The surveillance command line: `build.py surveil` and `python -m evidence_map.surveillance`, with
its recall check (--recall, --recall-titles), its watch of the map's own reviews (--watch) and the
PMIDs it proposes for records without one (--propose-pmids)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from evidence_map.paths import EVIDENCE
from evidence_map.records.evidence import InvalidEvidence, load_evidence
from evidence_map.records.issues import Problem
from evidence_map.records.model import Record
from evidence_map.records.validate import display_path
from evidence_map.surveillance.eutils import (
    EUtils,
    FixtureTransport,
    ServiceError,
    Transport,
    urllib_transport,
)
from evidence_map.surveillance.queue import QUEUE, InvalidQueue, load_queue
from evidence_map.surveillance.recall import RECALL, measure, recall_text, title_recall
from evidence_map.surveillance.search import Outcome, queue_text_with, surveil, write_atomic
from evidence_map.surveillance.strategy import (
    STRATEGY,
    Strategy,
    StrategyError,
    load_strategy,
    text_after_run,
)
from evidence_map.surveillance.watch import PROPOSALS, WATCH, notices, proposals_text, propose_pmids, watch_text

# ---------------------------------------------------------------- command line


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date written YYYY-MM-DD: {text!r}") from None


def add_surveil_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """The `surveil` subcommand, for the main command line (and `python -m evidence_map.surveillance`)."""
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
    ap = argparse.ArgumentParser(prog="python -m evidence_map.surveillance")
    sub = ap.add_subparsers(dest="command")
    add_surveil_parser(sub)
    args = ap.parse_args(["surveil", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))
