"""Command line: validate, export, new, build and serve. `build.py` at the root calls `main`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evidence_map.paths import EVIDENCE, is_own_evidence
from evidence_map.publishing.synonyms import check_synonyms
from evidence_map.records.evidence import InvalidEvidence, load_evidence
from evidence_map.records.issues import Problem
from evidence_map.surveillance.command import add_surveil_parser
from evidence_map.surveillance.queue import QUEUE, InvalidQueue, check_queue
from evidence_map.surveillance.strategy import STRATEGY, check_strategy


def report_errors(problems: list[Problem], fmt: str = "text") -> int:
    for p in problems:
        print(p.github() if fmt == "github" else p, file=sys.stderr)
    print(f"{len(problems)} error{'s' if len(problems) != 1 else ''}", file=sys.stderr)
    return 1


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        ev = load_evidence(args.evidence)
    except InvalidEvidence as exc:
        return report_errors(exc.problems, args.format)
    # The screening files name records of the repository's own evidence/: they are checked with it
    # (or when --queue names a queue), never with a test or benchmark folder.
    screening: list[Problem] = check_synonyms(vocab=ev.vocab)  # the search vocabulary names vocabulary ids
    if args.queue is not None or is_own_evidence(args.evidence):
        screening += check_strategy(STRATEGY) + check_queue(args.queue or QUEUE, ev)
    if any(not p.warning for p in screening):
        return report_errors([p for p in screening if not p.warning], args.format)
    for w in (*ev.warnings, *screening):
        print(w.github() if args.format == "github" else w, file=sys.stderr)
    conditions = {c for r in ev.records for c in r.conditions}
    sources = {s for r in ev.records for s in r.sources}
    print(
        f"{len(ev.records)} records valid: {len(conditions)} conditions, {len(sources)} sources, "
        f"{sum(len(r.effects) for r in ev.records)} effects, {len(ev.warnings)} acknowledged warnings"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from evidence_map.judging.computed import compute_map
    from evidence_map.publishing.exports import write_exports

    try:
        ev = load_evidence(args.evidence)
    except InvalidEvidence as exc:
        return report_errors(exc.problems)
    for path in write_exports(compute_map(ev), args.out):
        print(f"wrote {path}")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from evidence_map.publishing import inputs

    # Before the charting and site-building code is imported: with nothing changed, that is the cost.
    digest = inputs.unchanged(args.evidence, args.out, args.strict, args.work)
    if digest is None:
        return 0

    from evidence_map.publishing.chartrender import ChartError
    from evidence_map.publishing.generator import BuildFailed
    from evidence_map.publishing.site import build_site

    try:
        build_site(args.evidence, args.out, strict=args.strict, work=args.work, digest=digest)
    except (InvalidEvidence, InvalidQueue) as exc:
        report_errors(exc.problems)
        print(f"build stopped: {args.out} left as it was", file=sys.stderr)
        return 1
    except (BuildFailed, ChartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"build stopped: {args.out} left as it was", file=sys.stderr)
        return 1
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from evidence_map.publishing.preview import serve

    return serve(args.evidence, args.work, args.dev_addr)


def cmd_diff(args: argparse.Namespace) -> int:
    from evidence_map.mapdiff import diff_against, report, repository_of

    try:
        repo = repository_of(args.evidence)
        diff = diff_against(args.base, args.evidence, repo / "vocab", repo)
    except ValueError as exc:
        print(f"error: cannot read {args.base!r} from git: {exc}", file=sys.stderr)
        return 2
    except InvalidEvidence as exc:
        report_errors(exc.problems)
        print("diff stopped: the records do not validate (on this side or the base)", file=sys.stderr)
        return 1
    text = report(diff, args.base, markdown=args.format == "markdown")
    if args.output:
        with open(args.output, "a", encoding="utf-8") as fh:
            fh.write(text)
    else:
        print(text, end="")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from evidence_map.paths import SCHEMA
    from evidence_map.records.schemagen import schema_text, write_schema

    if args.check:
        if SCHEMA.read_text(encoding="utf-8") != schema_text():
            print(f"{SCHEMA.name} is out of date with vocab/: run python build.py schema", file=sys.stderr)
            return 1
        print(f"{SCHEMA.name} is up to date")
        return 0
    print(f"{'updated' if write_schema() else 'unchanged'}: {SCHEMA.name}")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from evidence_map.records.scaffold import new_file_link, new_record

    if args.link:
        import yaml

        from evidence_map.paths import MKDOCS_YML

        settings = yaml.safe_load(MKDOCS_YML.read_text(encoding="utf-8"))
        print(new_file_link(str(settings.get("extra", {}).get("repository", ""))))
        return 0
    if not args.id:
        print("error: give a record id, such as smith-2026 (or --link)", file=sys.stderr)
        return 2
    return new_record(args.id, args.evidence, force=args.force)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="build.py", description="Build the MSC-EV living evidence map.")
    sub = ap.add_subparsers(dest="command", required=True)

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        p.add_argument("--evidence", type=Path, default=EVIDENCE, help="folder of YAML records (default: evidence/)")
        return p

    p = add("validate", "check every record; print each problem as file:line: field: rule")
    p.add_argument("--format", choices=("text", "github"), default="text", help="github: workflow annotations")
    p.add_argument("--queue", type=Path, help="the screening queue to check (default: screening/queue.yaml)")
    p.set_defaults(func=cmd_validate)
    p = add("export", "write reviews.json, reviews.csv and conditions.json")
    p.add_argument("--out", type=Path, default=Path("site/downloads"))
    p.set_defaults(func=cmd_export)
    p = add("build", "validate, render pages and charts, and build the static site")
    p.add_argument("--out", type=Path, default=Path("site"))
    p.add_argument("--work", type=Path, default=Path(".build"), help="generated pages and chart cache")
    p.add_argument("--strict", action="store_true", help="treat site-generator warnings as errors")
    p.set_defaults(func=cmd_build)
    p = add("serve", "preview the site, rebuilding when a record, template or page changes")
    p.add_argument("--work", type=Path, default=Path(".build"))
    p.add_argument("--dev-addr", default="127.0.0.1:8000")
    p.set_defaults(func=cmd_serve)
    p = add("diff", "what the working tree changes in the map, compared with a git revision")
    p.add_argument("base", help="git revision to compare with, such as origin/main")
    p.add_argument("--format", choices=("text", "markdown"), default="text", help="markdown: for a CI job summary")
    p.add_argument("--output", type=Path, help="append the report to this file (a job summary) instead of printing")
    p.set_defaults(func=cmd_diff)
    p = sub.add_parser("schema", help="copy the vocabulary ids into schema/record.schema.json")
    p.add_argument("--check", action="store_true", help="only say whether the schema is up to date (exit 1 if not)")
    p.set_defaults(func=cmd_schema)
    p = add("new", "write a pre-filled record to start from")
    p.add_argument("id", nargs="?", help="record id, such as smith-2026")
    p.add_argument("--link", action="store_true", help="print the GitHub new-file link with the template instead")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=cmd_new)
    add_surveil_parser(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))
