"""The standing PubMed search, kept as data in screening/strategy.yaml, and the log of its runs.

The query is the project's search strategy, changed by pull request like any record. The file also
says where the next search starts (`last_run` minus `overlap_days`, or `first_mindate` before the
first run) and keeps one line per successful search (its date, window and counts), from which the
screening page draws its flow counts. Only a successful run changes the file, and only by rewriting
the `last_run:` line and appending one line under `searches:` (the last key), so the query and its
comments stay exactly as written; the new text is read back and compared before it is used.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from evidence_map.paths import ROOT
from evidence_map.records.issues import Problem
from evidence_map.records.validate import display_path, load_data_file, placed
from evidence_map.records.yamlsafe import LoadError, load

SCREENING = ROOT / "screening"
STRATEGY = SCREENING / "strategy.yaml"
DATETYPES = ("edat", "pdat", "mdat")  # Entrez (added to PubMed), publication, modification date
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
SEARCH_DATE = re.compile(r"[0-9]{4}/[0-9]{2}/[0-9]{2}")
PMID = re.compile(r"[0-9]{1,9}")
KEYS = ("query", "datetype", "overlap_days", "first_mindate", "last_run", "searches")
OPTIONAL_KEYS = ("recheck_datetype",)
RUN_KEYS = ("date", "mindate", "maxdate", "found", "in_map", "queued", "new")


class StrategyError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class SearchRun:
    """One successful search: its window and what it found (`in_map` names the PMIDs already mapped)."""

    date: str
    mindate: str
    maxdate: str
    found: int
    in_map: tuple[str, ...]
    queued: int
    new: int

    def line(self) -> str:
        pmids = ", ".join(json.dumps(p) for p in self.in_map)
        return (
            f"{{date: {self.date}, mindate: {json.dumps(self.mindate)}, maxdate: {json.dumps(self.maxdate)}, "
            f"found: {self.found}, in_map: [{pmids}], queued: {self.queued}, new: {self.new}}}"
        )


@dataclass(frozen=True)
class Strategy:
    query: str
    datetype: str
    overlap_days: int
    first_mindate: str
    last_run: str | None
    searches: tuple[SearchRun, ...]
    recheck_datetype: str | None = None  # a second date searched over the same window (late-indexed records)

    def window(self, today: date) -> tuple[str, str]:
        """(mindate, maxdate) for esearch: from the last run less the overlap (or the first date) to today."""
        if self.last_run is None:
            start = date.fromisoformat(self.first_mindate)
        else:
            start = date.fromisoformat(self.last_run) - timedelta(days=self.overlap_days)
        return start.strftime("%Y/%m/%d"), today.strftime("%Y/%m/%d")


def _real_date(value: Any) -> bool:
    if not isinstance(value, str) or not DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _run_issues(run: Any) -> list[tuple[str, str, Any]]:
    if not isinstance(run, dict):
        return [("", "must be a mapping of " + ", ".join(RUN_KEYS), run)]
    issues = [(k, "unknown key; allowed keys: " + ", ".join(RUN_KEYS), ...) for k in run if k not in RUN_KEYS]
    issues += [(k, "is required", ...) for k in RUN_KEYS if k not in run]
    if "date" in run and not _real_date(run["date"]):
        issues.append(("date", "must be a real date written YYYY-MM-DD", run["date"]))
    for key in ("mindate", "maxdate"):
        if key in run and not (isinstance(run[key], str) and SEARCH_DATE.fullmatch(run[key])):
            issues.append((key, "must be a date written YYYY/MM/DD, as sent to PubMed", run[key]))
    for key in ("found", "queued", "new"):
        if key in run and not _count(run[key]):
            issues.append((key, "must be a whole number, 0 or more", run[key]))
    pmids = run.get("in_map", [])
    if not isinstance(pmids, list) or not all(isinstance(p, str) and PMID.fullmatch(p) for p in pmids):
        issues.append(("in_map", "must be a list of PubMed ids written as quoted digits", pmids))
    return issues


def _issues(data: Any) -> list[tuple[tuple[str | int, ...], str, Any]]:
    if not isinstance(data, dict):
        return [((), "the strategy must be a YAML mapping of " + ", ".join(KEYS), ...)]
    out: list[tuple[tuple[str | int, ...], str, Any]] = []
    allowed = (*KEYS, *OPTIONAL_KEYS)
    out += [((k,), "unknown key; allowed keys: " + ", ".join(allowed), ...) for k in data if k not in allowed]
    recheck = data.get("recheck_datetype")
    if recheck is not None and (recheck not in DATETYPES or recheck == data.get("datetype")):
        out.append((("recheck_datetype",), "must be another of " + ", ".join(DATETYPES) + " than datetype", recheck))
    out += [((k,), "is required", ...) for k in KEYS if k not in data]
    query = data.get("query", "x")
    if not isinstance(query, str) or not query.strip() or len(query) > 4000:
        out.append((("query",), "must be a PubMed query of 1 to 4000 characters", query))
    if "datetype" in data and data["datetype"] not in DATETYPES:
        out.append((("datetype",), "must be one of " + ", ".join(DATETYPES), data["datetype"]))
    days = data.get("overlap_days", 0)
    if not _count(days) or days > 90:
        out.append((("overlap_days",), "must be a whole number of days from 0 to 90", days))
    if "first_mindate" in data and not _real_date(data["first_mindate"]):
        out.append((("first_mindate",), "must be a real date written YYYY-MM-DD", data["first_mindate"]))
    if data.get("last_run") is not None and not _real_date(data["last_run"]):
        out.append((("last_run",), "must be empty (null) or a real date written YYYY-MM-DD", data["last_run"]))
    runs = data.get("searches", [])
    if not isinstance(runs, list):
        out.append((("searches",), "must be a list (empty before the first search)", runs))
        runs = []
    for i, run in enumerate(runs):
        out += [(("searches", i, k) if k else ("searches", i), rule, got) for k, rule, got in _run_issues(run)]
    return out


def check_strategy(path: Path = STRATEGY) -> list[Problem]:
    """Every problem of the strategy file, as `file:line: field: rule; got value` problems."""
    return checked_strategy(path)[0]


def checked_strategy(path: Path = STRATEGY) -> tuple[list[Problem], Any]:
    """check_strategy's problems and the strategy's data (None when the file could not be read),
    from one reading of the file."""
    shown, loaded, stopped = load_data_file(path)
    if loaded is None:
        return stopped, None
    return placed(shown, loaded, _issues(loaded.data)), loaded.data


def strategy_from_data(data: dict[str, Any]) -> Strategy:
    """A Strategy from data `check_strategy` accepted."""
    return Strategy(
        query=" ".join(data["query"].split()),
        datetype=data["datetype"],
        overlap_days=data["overlap_days"],
        first_mindate=data["first_mindate"],
        last_run=data["last_run"],
        searches=tuple(SearchRun(**{**run, "in_map": tuple(run["in_map"])}) for run in data["searches"]),
        recheck_datetype=data.get("recheck_datetype"),
    )


def load_strategy(path: Path = STRATEGY) -> Strategy:
    """The validated strategy; raises StrategyError listing every problem."""
    errors, data = checked_strategy(path)
    if errors:
        raise StrategyError(errors)
    return strategy_from_data(data)


_LAST_RUN = re.compile(r"(?m)^last_run:[ \t]*[^#\n]*?(?P<comment>[ \t]+#[^\n]*)?$")
_NO_SEARCHES = re.compile(r"(?m)^searches:[ \t]*\[\][ \t]*(?P<comment>#[^\n]*)?$")


def text_after_run(text: str, run: SearchRun, path: Path = STRATEGY) -> str:
    """The strategy file's text with `last_run` set to the run's date and the run logged at the end.

    Raises StrategyError when the file is not in the form this edit can make safely (one `last_run:`
    line, `searches:` the last key): the edited text must read back as exactly the intended data.
    """
    before = load(text).data
    new, found = _LAST_RUN.subn(lambda m: f"last_run: {run.date}{m.group('comment') or ''}", text, count=2)
    if found == 1:
        new = _NO_SEARCHES.sub(lambda m: "searches:" + (f" {m.group('comment')}" if m.group("comment") else ""), new)
        new = new.rstrip("\n") + f"\n  - {run.line()}\n"
        expected = {**before, "last_run": run.date, "searches": [*before["searches"], _as_data(run)]}
        try:
            if load(new).data == expected:
                return new
        except LoadError:
            pass
    rule = "cannot be updated safely: keep one `last_run:` line and `searches:` as the last key"
    raise StrategyError([Problem(display_path(path), 0, "", rule)])


def _as_data(run: SearchRun) -> dict[str, Any]:
    return {k: list(run.in_map) if k == "in_map" else getattr(run, k) for k in RUN_KEYS}
