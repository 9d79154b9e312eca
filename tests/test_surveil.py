"""Surveillance and the screening queue: recorded E-utilities answers (tests/fixtures/eutils/, never the
network, never a real sleep), a small evidence folder of our own, and the queue's validation, page
data, template and workflow. Nothing here reads the live records' identifiers."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import shutil
import subprocess
import sys
import urllib.error
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Any

import markdown
import pytest
import yaml
from markupsafe import Markup

from evidence_map import files
from evidence_map.judging.computed import compute_map
from evidence_map.paths import ROOT
from evidence_map.publishing import feeds
from evidence_map.records.evidence import Evidence, load_evidence
from evidence_map.records.issues import schema as record_schema
from evidence_map.records.validate import display_path
from evidence_map.records.vocab import load_vocabularies
from evidence_map.surveillance import command, duplicates, screening
from evidence_map.surveillance import queue as screening_queue
from evidence_map.surveillance import search as surveil
from evidence_map.surveillance.duplicates import norm_doi, norm_title
from evidence_map.surveillance.eutils import EUtils, plain
from evidence_map.surveillance.queue import QUEUE, REASONS, Candidate, Queue, check_queue
from evidence_map.surveillance.screening import candidates_for_condition, doi_url, pubmed_url, screening_summary
from evidence_map.surveillance.strategy import (
    STRATEGY,
    SearchRun,
    StrategyError,
    check_strategy,
    load_strategy,
    text_after_run,
)
from tests.conftest import FIXTURES, base_record, write_record
from tests.sitebuild import build_py

EUTILS = FIXTURES / "eutils"
WEEKLY = EUTILS / "weekly"
TODAY = "2026-12-07"
WHERE_CONFIRMED = {"doi": "doi", "pmid": "pmid", "title": "citation"}
GAMMA_TITLE = "Mesenchymal stem cell-derived exosomes for ischemic stroke: a systematic review and meta-analysis of animal studies"


# ---------------------------------------------------------------- our own evidence, queue and strategy


def record_with(folder: Path, rid: str, **citation: str) -> None:
    """A real record (aghayan-2024) renamed, its identifiers replaced by ours, and a lookup address for
    each when the record format asks for one."""
    data = base_record(id=rid)
    kept = {k: v for k, v in data["citation"].items() if k not in ("doi", "pmid", "pmcid", "title", "url", "authors")}
    data["citation"] = {**kept, **citation}
    data.pop("lookup", None)
    if "lookup" in record_schema()["properties"] and citation:
        data["lookup"] = {WHERE_CONFIRMED[k]: "https://example.org/confirmed" for k in citation}
    write_record(folder, data)


@pytest.fixture
def evidence_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "evidence"
    folder.mkdir()
    record_with(folder, "alpha-2024", pmid="99000001")
    record_with(folder, "beta-2024", doi="10.5555/mscev.2026.003")
    record_with(folder, "gamma-2024", title=GAMMA_TITLE)
    return folder


@pytest.fixture
def ev(evidence_dir: Path) -> Evidence:
    return load_evidence(evidence_dir)


@pytest.fixture
def work(tmp_path: Path, evidence_dir: Path) -> Path:
    """The weekly scenario's inputs, copied where a run may change them."""
    shutil.copy(WEEKLY / "queue-before.yaml", tmp_path / "queue.yaml")
    shutil.copy(WEEKLY / "strategy.yaml", tmp_path / "strategy.yaml")
    return tmp_path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in ("queue.yaml", "strategy.yaml")}


class FakeTime:
    """A clock that moves only when the code under test sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds

    def clock(self) -> float:
        return self.now


def run(
    folder: Path,
    *extra: str,
    fixture: Path | None = WEEKLY,
    transport: Callable[[str], bytes] | None = None,
    time: FakeTime | None = None,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str, str]:
    ap = argparse.ArgumentParser()
    command.add_surveil_parser(ap.add_subparsers())
    argv = ["surveil", "--evidence", str(folder / "evidence"), "--queue", str(folder / "queue.yaml")]
    argv += ["--strategy", str(folder / "strategy.yaml"), "--today", TODAY, *extra]
    if fixture is not None:
        argv += ["--offline-fixture", str(fixture)]
    args = ap.parse_args(argv)
    time = time or FakeTime()
    code = command.cmd_surveil(args, transport=transport, sleep=time.sleep, clock=time.clock)
    out, err = capsys.readouterr()
    return code, out, err


def answers(routes: dict[str, Any]) -> Callable[[str], bytes]:
    """A transport answering by utility; a value is JSON data, bytes, an exception, or a list of them."""
    queues = {k: list(v) if isinstance(v, list) else [v] for k, v in routes.items()}

    def transport(url: str) -> bytes:
        utility = url.split("/")[-1].split(".fcgi")[0]
        pending = queues[utility]
        answer = pending.pop(0) if len(pending) > 1 else pending[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer if isinstance(answer, bytes) else json.dumps(answer).encode()

    return transport


def weekly(name: str) -> Any:
    return json.loads((WEEKLY / name).read_text(encoding="utf-8"))


def http_error(code: int, body: bytes = b"") -> urllib.error.HTTPError:
    return urllib.error.HTTPError("https://eutils.example/x", code, "recorded", Message(), io.BytesIO(body))


# ---------------------------------------------------------------- a search, end to end


def test_offline_fixture_reproduces_the_recorded_queue(work: Path, ev: Evidence, capsys: Any) -> None:
    code, out, err = run(work, capsys=capsys)
    assert code == 0, err
    assert (work / "queue.yaml").read_bytes() == (WEEKLY / "queue-after.yaml").read_bytes()
    # The article NCBI gives no summary of is queued with its PMID, not lost when the window moves on.
    assert "found 8, already in the map 3, already queued 2, new 3 (of them without a summary 1)" in out
    assert "no summary of PubMed 99000008 (cannot get document summary): queued with its PMID only" in err
    assert check_queue(work / "queue.yaml", ev) == []
    strategy = load_strategy(work / "strategy.yaml")
    assert strategy.last_run == TODAY
    assert strategy.searches[-1] == SearchRun(
        TODAY, "2026/11/23", "2026/12/07", found=8, in_map=("99000001", "99000003", "99000004"), queued=2, new=3
    )


def test_the_search_only_appends(work: Path, capsys: Any) -> None:
    before = (work / "queue.yaml").read_bytes()
    assert run(work, capsys=capsys)[0] == 0
    after = (work / "queue.yaml").read_bytes()
    assert after.startswith(before)
    new = yaml.safe_load(after[len(before) :].decode())
    assert [c["pmid"] for c in new] == ["99000005", "99000006", "99000008"]
    assert new[2]["status"] == "pending" and "No summary from PubMed for PMID 99000008" in new[2]["title"]
    assert new[0]["title"].startswith("In vivo efficacy")  # <i>In vivo</i>, markup removed
    assert new[1]["title"] == "Small extracellular vesicles & wound healing in diabetic mice: a meta-analysis."
    assert "doi" not in new[1] and new[1]["first_author"] == "Roe B"  # a collective name is not an author


def test_the_command_line_entry_point_replays_a_recording(work: Path, evidence_dir: Path) -> None:
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "evidence_map.surveillance", "--evidence", str(evidence_dir)),
            *("--queue", str(work / "queue.yaml"), "--strategy", str(work / "strategy.yaml")),
            *("--offline-fixture", str(WEEKLY), "--today", TODAY),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (work / "queue.yaml").read_bytes() == (WEEKLY / "queue-after.yaml").read_bytes()


def test_nothing_is_proposed_twice(work: Path, capsys: Any) -> None:
    assert run(work, capsys=capsys)[0] == 0
    queue = (work / "queue.yaml").read_bytes()
    transport = answers({"esearch": weekly("esearch.json"), "esummary": weekly("esummary.json")})
    code, out, _ = run(work, "--today", "2026-12-14", fixture=None, transport=transport, capsys=capsys)
    assert code == 0
    assert "found 8, already in the map 3, already queued 5, new 0" in out
    assert (work / "queue.yaml").read_bytes() == queue
    assert load_strategy(work / "strategy.yaml").searches[-1].mindate == "2026/11/30"  # 2026-12-07 less 7 days


def test_the_real_empty_queue_and_strategy_take_a_first_search(work: Path, ev: Evidence, capsys: Any) -> None:
    """The files as committed are in the form a run can extend: the real queue's header with its list
    emptied (its entries name the live records, which this test's evidence does not hold)."""
    header = QUEUE.read_text(encoding="utf-8").split("\ncandidates:", 1)[0]
    real_queue = header + "\ncandidates: []  # none yet\n"
    (work / "queue.yaml").write_text(real_queue, encoding="utf-8")
    summaries = weekly("esummary.json")
    summaries["result"]["uids"].insert(0, "99000002")
    summaries["result"]["99000002"] = {**summaries["result"]["99000007"], "uid": "99000002", "title": "Original."}
    transport = answers({"esearch": weekly("esearch.json"), "esummary": summaries})
    code, out, err = run(work, fixture=None, transport=transport, capsys=capsys)
    assert code == 0, err
    # 99000002 is new here; 99000007 has its DOI, so it is the same article found twice in one search.
    assert "already in the map 3, already queued 1, new 4" in out
    text = (work / "queue.yaml").read_text(encoding="utf-8")
    assert text.startswith(real_queue.split("candidates:")[0]) and "candidates: # none yet\n  - pmid:" in text
    assert check_queue(work / "queue.yaml", ev) == []
    strategy = STRATEGY.read_text(encoding="utf-8")
    first = SearchRun(TODAY, "2010/01/01", "2026/12/07", 0, (), 0, 0)
    updated = text_after_run(strategy, first)
    assert updated.startswith(strategy.split("last_run:")[0])
    assert updated.endswith(f"last_run: {TODAY}\nsearches:\n  - {first.line()}\n")


def test_dry_run_prints_and_writes_nothing(work: Path, capsys: Any) -> None:
    before = snapshot(work)
    code, out, _ = run(work, "--dry-run", capsys=capsys)
    assert code == 0
    assert "new: PubMed 99000005  In vivo efficacy" in out and "dry run:" in out
    assert snapshot(work) == before


# ---------------------------------------------------------------- when the service fails


def test_a_rate_limited_request_is_retried_then_succeeds(work: Path, capsys: Any) -> None:
    time = FakeTime()
    code, out, err = run(work, fixture=EUTILS / "rate-limited", time=time, capsys=capsys)
    assert code == 0, err
    assert "PubMed esearch: HTTP 429; trying again in 2 s (1/4)" in err
    assert time.sleeps == [2.0, 0.333333]  # the backoff, then esummary a third of a second after esearch
    assert "found 1, already in the map 0, already queued 0, new 1" in out


@pytest.mark.parametrize(
    ("scenario", "message", "sleeps"),
    [
        ("exhausted", "PubMed esearch failed 5 times (last try: HTTP 502)", [2.0, 4.0, 8.0, 16.0]),
        ("not-json", "PubMed esearch failed 5 times (last try: an answer that is not JSON)", [2.0, 4.0, 8.0, 16.0]),
        ("esearch-error", "PubMed esearch answered with an error: Invalid query: unbalanced parentheses", []),
        ("esummary-error", "PubMed esummary answered with an error: Invalid uid 99000005 at position= 0", [0.333333]),
    ],
)
def test_a_failed_search_exits_non_zero_and_leaves_every_file_byte_for_byte(
    work: Path, scenario: str, message: str, sleeps: list[float], capsys: Any
) -> None:
    before = snapshot(work)
    time = FakeTime()
    code, _, err = run(work, fixture=EUTILS / scenario, time=time, capsys=capsys)
    assert code == 1
    assert f"error: {message}" in err
    assert "left as they were" in err and "Traceback" not in err
    assert snapshot(work) == before
    assert time.sleeps == sleeps
    assert not any(p.name.endswith(".tmp") for p in work.iterdir())


DOC = weekly("esummary.json")["result"]["99000005"]


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ({"esearch": {"header": {}}}, "malformed esearch answer: no esearchresult"),
        ({"esearch": {"esearchresult": {"count": "1", "idlist": [5]}}}, "the id list is not a list of PubMed ids"),
        ({"esearch": {"esearchresult": {"count": "1", "idlist": ["../x"]}}}, "the id list is not a list of PubMed ids"),
        ({"esearch": {"esearchresult": {"count": "many", "idlist": []}}}, 'malformed esearch answer: count is "many"'),
        ({"esearch": [1, 2]}, "malformed esearch answer: not a JSON object"),
        (
            {"esearch": {"esearchresult": {"count": "10000", "idlist": ["1"]}}},
            "the search matched 10000 records, more than the 9999 PubMed lists",
        ),
        ({"esummary": {"header": {}}}, "malformed esummary answer: no result"),
        (
            {"esummary": {"result": {"uids": ["99000005"], "99000005": {**DOC, "articleids": "10.5555/x"}}}},
            "articleids of PubMed 99000005 is not a list of ids",
        ),
        (
            {"esummary": {"result": {"uids": ["99000005"], "99000005": {**DOC, "title": 7}}}},
            "title of PubMed 99000005 is not text",
        ),
        ({"esearch": http_error(400)}, "PubMed esearch refused the request: HTTP 400"),
    ],
)
def test_a_malformed_answer_stops_the_run_with_a_message(
    work: Path, routes: dict[str, Any], message: str, capsys: Any
) -> None:
    routes = {"esearch": weekly("../rate-limited/esearch.json"), **routes}
    routes.setdefault("esummary", weekly("../rate-limited/esummary.json"))
    before = snapshot(work)
    code, _, err = run(work, fixture=None, transport=answers(routes), capsys=capsys)
    assert code == 1
    assert message in err, err
    assert snapshot(work) == before


def test_network_errors_are_retried(work: Path, capsys: Any) -> None:
    search = weekly("../rate-limited/esearch.json")
    flaky = [urllib.error.URLError("connection refused"), TimeoutError(), http_error(500), search]
    transport = answers({"esearch": flaky, "esummary": weekly("../rate-limited/esummary.json")})
    time = FakeTime()
    code, _, err = run(work, fixture=None, transport=transport, time=time, capsys=capsys)
    assert code == 0, err
    assert "a network error (connection refused)" in err and "a network error (TimeoutError)" in err
    assert time.sleeps == [2.0, 4.0, 8.0, 0.333333]


def test_the_request_follows_ncbis_rules_and_the_key_is_never_shown(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("NCBI_API_KEY", "secret-key-123")
    monkeypatch.setenv("NCBI_EMAIL", "screening@example.org")
    urls: list[str] = []

    def transport(url: str) -> bytes:
        urls.append(url)
        raise http_error(429, (EUTILS / "exhausted" / "rate-limit.json").read_bytes())

    code, out, err = run(work, fixture=None, transport=transport, capsys=capsys)
    assert code == 1 and len(urls) == 5
    assert urls[0].startswith("https://eutils.ncbi.nlm.nih.gov/entrez/eutils/esearch.fcgi?")
    for param in ("db=pubmed", "retmode=json", "tool=msc-ev-evidence-map", "email=screening%40example.org"):
        assert param in urls[0]
    assert "api_key=secret-key-123" in urls[0] and "datetype=edat" in urls[0] and "mindate=2026%2F11%2F23" in urls[0]
    assert "secret-key-123" not in out + err


@pytest.mark.parametrize(("key", "gap"), [(None, 1 / 3), ("k", 1 / 10)])
def test_requests_keep_to_ncbis_rate(key: str | None, gap: float) -> None:
    time = FakeTime()
    client = EUtils(
        transport=answers({"esearch": {"esearchresult": {"count": "0", "idlist": []}}}),
        api_key=key,
        sleep=time.sleep,
        clock=time.clock,
    )
    for _ in range(4):
        client.esearch("x", "2026/01/01", "2026/01/02")
    assert time.sleeps == [round(gap, 6)] * 3


def test_esearch_pages_through_a_large_answer() -> None:
    pages = [
        {"esearchresult": {"count": "3", "idlist": ["1", "2"]}},
        {"esearchresult": {"count": "3", "idlist": ["3"]}},
    ]
    seen: list[str] = []

    def transport(url: str) -> bytes:
        seen.append(url)
        return json.dumps(pages[len(seen) - 1]).encode()

    result = EUtils(transport=transport, sleep=lambda _: None).esearch("x", "2026/01/01", "2026/01/02")
    assert result.ids == ("1", "2", "3") and result.count == 3
    assert "retstart=0" in seen[0] and "retstart=2" in seen[1]


def paged(*pages: dict[str, Any]) -> Callable[[str], bytes]:
    served: list[str] = []

    def transport(url: str) -> bytes:
        served.append(url)
        return json.dumps(pages[len(served) - 1]).encode()

    return transport


def test_esearch_fails_when_a_page_ends_before_the_count() -> None:
    from evidence_map.surveillance.eutils import ServiceError

    short = paged(
        {"esearchresult": {"count": "5", "idlist": ["1", "2"]}}, {"esearchresult": {"count": "5", "idlist": []}}
    )
    with pytest.raises(ServiceError, match="listed 2 of the 5 ids it counted, then an empty page"):
        EUtils(transport=short, sleep=lambda _: None).esearch("x", "2026/01/01", "2026/01/02")
    moving = paged(
        {"esearchresult": {"count": "3", "idlist": ["1", "2"]}}, {"esearchresult": {"count": "4", "idlist": ["3"]}}
    )
    with pytest.raises(ServiceError, match="count changed between pages"):
        EUtils(transport=moving, sleep=lambda _: None).esearch("x", "2026/01/01", "2026/01/02")


def test_a_query_pubmed_could_not_use_stops_the_run_and_writes_nothing(work: Path, capsys: Any) -> None:
    before = snapshot(work)
    search = weekly("esearch.json")
    search["esearchresult"]["warninglist"] = {"phrasesignored": ["stromal"], "outputmessages": []}
    search["esearchresult"]["errorlist"] = {"phrasesnotfound": ["multipotent stromal cell*"]}
    transport = answers({"esearch": search, "esummary": weekly("esummary.json")})
    code, _, err = run(work, fixture=None, transport=transport, capsys=capsys)
    assert code == 1
    assert "PubMed could not use part of the query" in err and "phrasesnotfound: multipotent stromal cell*" in err
    assert "Fix the query in screening/strategy.yaml" in err
    assert snapshot(work) == before


def test_an_output_message_alone_is_not_a_query_problem(work: Path, capsys: Any) -> None:
    search = weekly("esearch.json")
    search["esearchresult"]["warninglist"] = {"outputmessages": ["No items found."]}
    transport = answers({"esearch": search, "esummary": weekly("esummary.json")})
    code, _, err = run(work, fixture=None, transport=transport, capsys=capsys)
    assert code == 0, err


def test_a_real_search_needs_a_contact_address(work: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NCBI_EMAIL", raising=False)
    before = snapshot(work)
    ap = argparse.ArgumentParser()
    command.add_surveil_parser(ap.add_subparsers())
    args = ap.parse_args(
        [
            *("surveil", "--evidence", str(work / "evidence"), "--queue", str(work / "queue.yaml")),
            *("--strategy", str(work / "strategy.yaml"), "--today", TODAY),
        ]
    )
    assert command.cmd_surveil(args) == 1  # no transport given: the real network, never reached
    err = capsys.readouterr().err
    assert "NCBI_EMAIL is not set" in err
    assert snapshot(work) == before


def test_a_candidate_with_the_first_author_year_and_journal_of_a_record_is_a_possible_duplicate(
    work: Path, ev: Evidence, capsys: Any
) -> None:
    # The fixture records are Aghayan et al. (2024) in Stem Cell Rev Rep; PubMed spells the journal out.
    summaries = weekly("esummary.json")
    doc = summaries["result"]["99000006"]
    doc.update(
        authors=[{"name": "Aghayan AH", "authtype": "Author"}],
        sortpubdate="2024/05/30 00:00",
        pubdate="2024 May",
        fulljournalname="Stem cell reviews and reports",
    )
    transport = answers({"esearch": weekly("esearch.json"), "esummary": summaries})
    code, out, err = run(work, fixture=None, transport=transport, capsys=capsys)
    assert code == 0, err
    assert "PubMed 99000006: possible duplicate of alpha-2024: same first author, year and journal" in out
    entries = yaml.safe_load((work / "queue.yaml").read_text(encoding="utf-8"))["candidates"]
    twin = next(c for c in entries if c["pmid"] == "99000006")
    assert twin["status"] == "pending" and twin["note"].startswith("possible duplicate of alpha-2024")


def test_journal_names_match_abbreviated_or_spelled_out() -> None:
    assert duplicates.same_journal("Stem Cell Rev Rep", "Stem cell reviews and reports")
    assert duplicates.same_journal("J Transl Med", "Journal of translational medicine")
    assert not duplicates.same_journal("Stem Cell Res Ther", "Stem cell reviews and reports")
    assert not duplicates.same_journal(None, "Heliyon")


def test_a_hand_searched_candidate_needs_a_doi_or_pmid_and_the_page_it_was_found_on(
    tmp_path: Path, ev: Evidence
) -> None:
    base = {"title": "A hand-found review", "found": "2026-12-02", "status": "pending", "found_by": "hand-search"}
    ok = queue_file(tmp_path, base | {"doi": "10.5555/mscev.2026.099", "found_at": "https://example.org/page"})
    assert [p for p in check_queue(ok, ev) if not p.warning] == []
    neither = queue_file(tmp_path, base | {"found_at": "https://example.org/page"})
    assert any("pmid" in p.rule or "doi" in p.rule for p in check_queue(neither, ev))
    nowhere = queue_file(tmp_path, base | {"doi": "10.5555/mscev.2026.099"})
    assert any(p.field.endswith("found_at") for p in check_queue(nowhere, ev))


def test_a_run_stops_before_any_request_when_the_queue_is_invalid(work: Path, capsys: Any) -> None:
    (work / "queue.yaml").write_text("candidates:\n  - pmid: 1\n", encoding="utf-8")
    called: list[str] = []

    def transport(url: str) -> bytes:
        called.append(url)
        return b""

    code, _, err = run(work, fixture=None, transport=transport, capsys=capsys)
    assert code == 1 and called == []
    assert "candidates.0.pmid: must be text" in err


def test_the_files_are_replaced_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "queue.yaml"
    target.write_text("old\n", encoding="utf-8")

    def fail(*_: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", fail)
    with pytest.raises(OSError):
        surveil.write_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["queue.yaml"]


# ---------------------------------------------------------------- the queue's validation


def queue_file(folder: Path, *entries: dict[str, Any]) -> Path:
    path = folder / "queue.yaml"
    path.write_text(yaml.safe_dump({"candidates": list(entries)}, sort_keys=False), encoding="utf-8")
    return path


def entry(**kw: Any) -> dict[str, Any]:
    base = {"pmid": "99000009", "title": "A review", "found": "2026-12-07", "status": "pending"}
    return {k: v for k, v in {**base, **kw}.items() if v is not ...}


def test_an_included_candidate_without_its_record_names_file_line_and_field(tmp_path: Path, ev: Evidence) -> None:
    path = queue_file(tmp_path, entry(status="included", record="nobody-2024"))
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.strip().startswith("record:"))
    assert [str(p) for p in check_queue(path, ev)] == [
        f"{display_path(path)}:{line}: candidates.0.record: must be the id of a record in evidence/; "
        'no record has it; got "nobody-2024"'
    ]


CASES: list[tuple[str, list[dict[str, Any]], str | None]] = [
    ("pending", [entry()], None),
    ("included with its record", [entry(status="included", record="alpha-2024", pmid="99000001")], None),
    ("excluded with a reason", [entry(status="excluded", reason="not-animal", note="In vitro only.")], None),
    ("pmid as a number", [entry(pmid=99000009)], "candidates.0.pmid: must be text"),
    ("pmid not digits", [entry(pmid="PMC123")], "candidates.0.pmid: must be a PubMed id: digits only, in quotes"),
    ("doi with a resolver", [entry(doi="https://doi.org/10.1/x")], "candidates.0.doi: must be a DOI such as"),
    ("found not a date", [entry(found="last week")], "candidates.0.found: must be a date written YYYY-MM-DD"),
    ("found not a real date", [entry(found="2026-02-30")], "candidates.0.found: must be a real calendar date"),
    ("unknown status", [entry(status="maybe")], "candidates.0.status: must be one of pending, included, excluded"),
    ("included without record", [entry(status="included")], "candidates.0.record: is required"),
    ("excluded without reason", [entry(status="excluded")], "candidates.0.reason: is required"),
    ("unknown reason", [entry(status="excluded", reason="boring")], "candidates.0.reason: must be one of"),
    (
        "record on a pending one",
        [entry(record="alpha-2024")],
        "candidates.0.record: is given only when status is included",
    ),
    (
        "reason on an included one",
        [entry(status="included", record="alpha-2024", pmid="99000001", reason="other")],
        "candidates.0.reason: is given only when status is excluded",
    ),
    (
        "record with another pmid",
        [entry(status="included", record="alpha-2024")],
        "candidates.0.record: names a record whose citation.pmid is 99000001, not 99000009",
    ),
    (
        "record with another doi",
        [entry(status="included", record="beta-2024", doi="10.5555/other")],
        "candidates.0.record: names a record whose citation.doi is",
    ),
    ("markup in a title", [entry(title="<b>A</b> review")], "candidates.0.title: must be plain text on one line"),
    ("line break in a note", [entry(note="one\ntwo")], "candidates.0.note: must be plain text on one line"),
    ("unknown key", [entry(colour="blue")], "candidates.0.colour: unknown key"),
    ("year implausible", [entry(year=1899)], "candidates.0.year: must be between 1990"),
    (
        "same pmid twice",
        [entry(), entry(title="Another")],
        "candidates.1.pmid: must be unique; candidates.0 has it too",
    ),
    (
        "same doi twice",
        [entry(doi="10.5555/A"), entry(pmid="99000010", doi="10.5555/a")],
        "candidates.1.doi: must be unique",
    ),
]


@pytest.mark.parametrize(("name", "entries", "expected"), CASES, ids=[c[0] for c in CASES])
def test_queue_rules(
    tmp_path: Path, ev: Evidence, name: str, entries: list[dict[str, Any]], expected: str | None
) -> None:
    errors = [p for p in check_queue(queue_file(tmp_path, *entries), ev) if not p.warning]
    if expected is None:
        assert errors == []
    else:
        assert any(f": {expected}" in str(p) for p in errors), [str(p) for p in errors]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("candidates: [\n", "invalid YAML"),
        ("- pmid: '1'\n", "the queue must be a YAML mapping with a `candidates:` list"),
        ("candidates: &a []\n", "YAML anchors and aliases are not allowed"),
        ("candidates: []\ncandidates: []\n", "duplicate key"),
    ],
)
def test_the_queue_is_loaded_strictly(tmp_path: Path, ev: Evidence, text: str, expected: str) -> None:
    path = tmp_path / "queue.yaml"
    path.write_text(text, encoding="utf-8")
    assert any(expected in str(p) for p in check_queue(path, ev))


def test_a_pending_candidate_already_in_the_map_is_a_warning(tmp_path: Path, ev: Evidence) -> None:
    path = queue_file(tmp_path, entry(doi="10.5555/MSCEV.2026.003"))
    [problem] = check_queue(path, ev)
    assert problem.warning and problem.field == "candidates.0.status"
    assert "is already in the map as beta-2024: set status: included and record: beta-2024" in str(problem)


def test_the_real_queue_and_strategy_are_valid(evidence: Evidence) -> None:
    assert [str(p) for p in check_queue(QUEUE, evidence) if not p.warning] == []
    assert check_strategy(STRATEGY) == []


def test_the_screening_files_load_together(tmp_path: Path, ev: Evidence) -> None:
    loaded = screening_queue.load_screening(ev, WEEKLY / "queue-after.yaml", WEEKLY / "strategy.yaml")
    assert [c.pmid for c in loaded.queue.candidates] == ["99000002", "99000005", "99000006", "99000008"]
    assert loaded.strategy is not None and loaded.strategy.last_run == "2026-11-30"
    bad = queue_file(tmp_path, entry(status="included", record="nobody-2024"))
    (tmp_path / "strategy.yaml").write_text("query: x\n", encoding="utf-8")
    with pytest.raises(screening_queue.InvalidQueue) as caught:
        screening_queue.load_screening(ev, bad, tmp_path / "strategy.yaml")
    assert {p.field for p in caught.value.problems} >= {"candidates.0.record", "datetype", "last_run"}


def test_the_schema_and_the_module_agree() -> None:
    candidate = screening_queue.schema()["$defs"]["candidate"]
    assert candidate["properties"]["reason"]["enum"] == list(REASONS)
    assert candidate["properties"]["status"]["enum"] == list(screening_queue.STATUSES)
    assert set(candidate["properties"]) == {f.name for f in dataclasses.fields(Candidate)}
    for name, prop in candidate["properties"].items():
        assert prop.get("title") and prop.get("description"), name


def test_the_strategy_is_checked_and_updated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "strategy.yaml"
    text = (WEEKLY / "strategy.yaml").read_text(encoding="utf-8")
    run_ = SearchRun(TODAY, "2026/11/23", "2026/12/07", 2, ("99000001",), 0, 1)
    new = text_after_run(text, run_, path)
    assert new.startswith(text.split("last_run:")[0])  # the query and comments as written
    assert new.endswith(f"  - {run_.line()}\n")
    moved = text.replace("datetype: edat\n", "") + "datetype: edat\n"  # searches is no longer last
    with pytest.raises(StrategyError, match="keep one `last_run:` line and `searches:` as the last key"):
        text_after_run(moved, run_, path)
    path.write_text(text.replace("overlap_days: 7", "overlap_days: many"), encoding="utf-8")
    assert [p.field for p in check_strategy(path)] == ["overlap_days"]


# ---------------------------------------------------------------- identity and text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<i>In vivo</i> effects of <sup>99m</sup>Tc-labelled EVs.", "In vivo effects of 99mTc-labelled EVs."),
        ("EVs &amp; exosomes", "EVs & exosomes"),
        ("&amp;lt;i&amp;gt;doubly&amp;lt;/i&amp;gt; escaped", "doubly escaped"),
        ("a\nb\t c\u2028d", "a b c d"),
        ("bidi\u202e trick\x07", "bidi trick"),
    ],
)
def test_pubmed_text_becomes_one_plain_line(raw: str, clean: str) -> None:
    assert plain(raw) == clean


def test_identifiers_are_compared_loosely() -> None:
    assert norm_doi("https://doi.org/10.5555/ABC") == norm_doi("doi: 10.5555/abc") == "10.5555/abc"
    assert norm_title("MSC-derived  Exosomes: a Meta-Analysis.") == norm_title("msc derived exosomes — a meta analysis")


# ---------------------------------------------------------------- what the pages show


def candidate(pmid: str, title: str, status: str = "pending", **kw: Any) -> Candidate:
    return Candidate(pmid=pmid, title=title, found=kw.pop("found", "2026-12-07"), status=status, **kw)


HOSTILE = '<script>alert("x")</script> [click](javascript:alert(1)) **bold** | pipe'


def sample_queue() -> Queue:
    return Queue(
        (
            candidate("99000011", "Exosomes after SCI in rats: a meta-analysis", doi="10.5555/a(1)"),
            candidate("99000012", HOSTILE, journal=HOSTILE, found="2026-12-08"),
            candidate("99000013", "Wound", status="excluded", reason="not-animal"),
            candidate("99000014", "Another", status="excluded", reason="not-animal"),
            candidate("99000015", "Third", status="excluded", reason="duplicate"),
            candidate("99000001", "In the map", status="included", record="alpha-2024"),
        )
    )


def test_the_summary_counts_the_flow(ev: Evidence, tmp_path: Path) -> None:
    strategy = load_strategy(WEEKLY / "strategy.yaml")
    strategy = dataclasses.replace(
        strategy, searches=(*strategy.searches, SearchRun(TODAY, "a", "b", 3, ("99000003",), 0, 0))
    )
    s = screening_summary(sample_queue(), ev, strategy)
    assert (s.identified, s.in_map, s.queued, s.excluded_total) == (7, 1, 6, 3)
    assert [(rid, n) for rid, _, n in s.excluded if n] == [("not-animal", 2), ("duplicate", 1)]
    assert [c.pmid for c in s.pending] == ["99000012", "99000011"]  # newest found first
    assert [c.record for c in s.included] == ["alpha-2024"]
    assert (s.last_run, s.searches) == ("2026-11-30", 2)
    assert screening_summary(Queue(()), ev).last_run is None


def render_page(ev: Evidence, queue: Queue, last_run: str | None) -> str:
    from evidence_map.publishing.renderer import Renderer, SiteInfo

    strategy = load_strategy(WEEKLY / "strategy.yaml")
    strategy = dataclasses.replace(strategy, last_run=last_run)
    renderer = Renderer(compute_map(ev), SiteInfo("https://github.com/example/map", "2026-12-01", "abc1234"))
    summary = screening_summary(queue, ev, strategy)
    return renderer.render("screening.md.j2", base=Markup(""), s=summary, pubmed_url=pubmed_url, doi_url=doi_url)


def test_the_screening_page_links_only_checked_identifiers_and_escapes_text(ev: Evidence) -> None:
    page = render_page(ev, sample_queue(), "2026-12-07")
    assert "Last search: **2026&#45;12&#45;07**" in page
    assert "Next search due: **2026&#45;12&#45;14**" in page  # the Monday after
    assert "[PubMed](https://pubmed.ncbi.nlm.nih.gov/99000011/)" in page
    assert "[DOI](https://doi.org/10.5555/a%281%29)" in page  # a bracket cannot end the link
    html = markdown.markdown(page, extensions=["tables"])
    assert "<script" not in html and "<strong>bold" not in html and "<td>pipe" not in html
    assert 'href="javascript' not in html
    assert "| Excluded: Not on animal &#40;preclinical&#41; studies | 2 |" in page  # labels escaped like any text
    assert "Duplicate of another candidate or a record" in page and "Not a meta&#45;analysis" not in page


def test_the_screening_page_says_when_no_search_has_run(ev: Evidence) -> None:
    page = render_page(ev, Queue(()), None)
    assert "Last search: **never run**" in page
    assert "Next search due: **at the weekly job&#39;s first run**" in page
    assert "no search has run yet" in page


@pytest.mark.parametrize("bad", ["123 ", "12a", "", "1/../2"])
def test_links_are_refused_for_anything_but_a_pmid(bad: str) -> None:
    with pytest.raises(ValueError):
        pubmed_url(bad)


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "https://doi.org/10.1/x", "10.1/x y", "10.1/x)](evil"])
def test_links_are_refused_for_anything_but_a_doi(bad: str) -> None:
    with pytest.raises(ValueError):
        doi_url(bad)


@pytest.mark.parametrize(
    ("condition", "title", "listed"),
    [
        ("spinal-cord-injury", "Exosomes after SCI in rats: a meta-analysis", True),
        ("spinal-cord-injury", "Exosomes after sci in rats", False),  # an acronym counts in capitals only
        ("multiple-sclerosis", "MSC-EVs in rodents: a systematic review", False),  # MS inside MSC is not MS
        ("multiple-sclerosis", "EVs in MS models: a meta-analysis", True),
        ("diabetic-wounds", "Small EVs for the diabetic wound: a meta-analysis", True),  # singular of the name
        ("liver-diseases", "MSC exosomes in liver disease: a meta-analysis", True),
        ("sepsis", "Exosomes in septic shock models", True),  # an alias
        ("sepsis", "Exosomes in asepsis", False),
    ],
)
def test_pending_candidates_are_matched_to_a_condition_by_its_names(condition: str, title: str, listed: bool) -> None:
    term = load_vocabularies().conditions.get(condition)
    queue = Queue((candidate("99000011", title), candidate("99000012", title, status="excluded", reason="other")))
    assert [c.pmid for c in candidates_for_condition(queue, term)] == (["99000011"] if listed else [])


def test_feed_entries_for_pending_candidates() -> None:
    import feedparser

    from evidence_map.publishing.feeds import atom_feed

    entries = feeds.screening_entries(sample_queue())
    [first, second] = entries
    assert first.id.endswith("/screening/99000012") and first.updated == "2026-12-08T00:00:00Z"
    assert second.title.startswith("To screen: Exosomes after SCI") and second.link == "screening/"
    site = "https://example.org/map/"
    feed = feedparser.parse(atom_feed(entries, f"{site}screening/", "To screen", site, "2026-12-08"))
    assert not feed.bozo and [e.link for e in feed.entries] == [f"{site}screening/"] * 2
    assert feed.entries[0].title == f"To screen: {HOSTILE}"  # text, escaped by the feed writer


# ---------------------------------------------------------------- the scheduled workflow

WORKFLOW = ROOT / ".github" / "workflows" / "surveil.yml"


def test_the_surveillance_workflow_searches_read_only_and_proposes_with_git_and_gh_only() -> None:
    wf = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    on = wf.get("on", wf.get(True))
    assert set(on) == {"schedule", "workflow_dispatch"} and on["schedule"][0]["cron"]
    assert wf["permissions"] == {} and wf["concurrency"]["cancel-in-progress"] is False
    jobs = wf["jobs"]
    assert set(jobs) == {"search", "propose", "report"}
    search, propose, report = jobs["search"], jobs["propose"], jobs["report"]
    assert search["if"] == "github.ref == 'refs/heads/main'"
    # The project's code runs only where the token cannot write.
    assert search["permissions"] == {"contents": "read"}
    assert propose["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert propose["needs"] == "search"
    assert report["permissions"] == {"issues": "write"}
    assert report["if"] == "failure() && github.event_name == 'schedule'"
    for job in jobs.values():
        assert isinstance(job["timeout-minutes"], int)
        for step in job["steps"]:
            assert "${{" not in str(step.get("run", ""))
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
    runs = [str(s.get("run", "")) for s in propose["steps"]]
    assert not any("python" in r or "pip" in r or "evidence_map" in r for r in runs)
    assert any("screening-branch.sh publish" in r for r in runs)
    step = next(s for s in search["steps"] if "evidence_map.surveillance" in str(s.get("run", "")))
    assert step["env"] == {"NCBI_API_KEY": "${{ secrets.NCBI_API_KEY }}", "NCBI_EMAIL": "${{ vars.NCBI_EMAIL }}"}
    assert not any("GH_TOKEN" in s.get("env", {}) for s in search["steps"])
    script = (ROOT / ".github" / "scripts" / "screening-branch.sh").read_text(encoding="utf-8")
    assert "--force" not in script and "push -f" not in script
    # The same pinned actions as the other workflows, or pinned like them (tests/test_workflows.py).
    others = "".join(
        p.read_text(encoding="utf-8") for p in (ROOT / ".github" / "workflows").glob("*.yml") if p != WORKFLOW
    )
    for line in WORKFLOW.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("uses:") and "download-artifact" not in line:
            assert line.strip() in others, line


# ------------------------------------------------ the screening branch: no screener's decision is lost

BRANCH_SCRIPT = ROOT / ".github" / "scripts" / "screening-branch.sh"
FAKE_GH = """#!/usr/bin/env bash
echo "$*" >> "$GH_LOG"
if [[ "$1 $2" == "pr list" ]]; then cat "$GH_OPEN"; fi
"""


def sh(
    cwd: Path, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, env=env, check=False)
    if check:
        assert proc.returncode == 0, f"{' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc


class Weekly:
    """A remote with main and the screening branch, a fake gh, and the workflow's three steps."""

    def __init__(self, root: Path, evidence: Path) -> None:
        self.root = root
        self.origin = root / "origin.git"
        sh(root, "git", "init", "-q", "--bare", "-b", "main", str(self.origin))
        seed = root / "seed"
        (seed / "screening").mkdir(parents=True)
        shutil.copy(WEEKLY / "queue-before.yaml", seed / "screening" / "queue.yaml")
        shutil.copy(WEEKLY / "strategy.yaml", seed / "screening" / "strategy.yaml")
        shutil.copytree(evidence, seed / "evidence")
        self.git(seed, "init", "-q", "-b", "main")
        self.git(seed, "add", ".")
        self.git(seed, "commit", "-q", "-m", "main")
        self.git(seed, "push", "-q", str(self.origin), "main")
        bin_dir = root / "bin"
        bin_dir.mkdir()
        (bin_dir / "gh").write_text(FAKE_GH, encoding="utf-8")
        (bin_dir / "gh").chmod(0o755)
        self.gh_log, self.gh_open = root / "gh.log", root / "gh-open"
        self.gh_open.write_text("0\n", encoding="utf-8")
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "GH_LOG": str(self.gh_log),
            "GH_OPEN": str(self.gh_open),
            "PUSH_URL": str(self.origin),
            "GITHUB_REPOSITORY": "example/evidence-map",
        }
        self.runs = 0

    def git(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return sh(cwd, "git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args)

    def clone(self, name: str, branch: str = "main") -> Path:
        where = self.root / name
        sh(self.root, "git", "clone", "-q", "-b", branch, str(self.origin), str(where))
        return where

    def search(self, today: str, fixture: Path) -> Path:
        """The search job: prepare, the real search (replayed), commit; its artifact folder."""
        self.runs += 1
        work, out = self.clone(f"search-{self.runs}"), self.root / f"artifact-{self.runs}"
        sh(work, "bash", str(BRANCH_SCRIPT), "prepare", str(out), env=self.env)
        proc = sh(
            ROOT,
            *(sys.executable, "-m", "evidence_map.surveillance", "--evidence", str(work / "evidence")),
            *("--queue", str(work / "screening" / "queue.yaml")),
            *("--strategy", str(work / "screening" / "strategy.yaml")),
            *("--offline-fixture", str(fixture), "--today", today),
        )
        (out / "pr-body.md").write_text(proc.stdout, encoding="utf-8")
        sh(work, "bash", str(BRANCH_SCRIPT), "commit", str(out), env=self.env)
        return out

    def publish(self, artifact: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        """The propose job, in a fresh checkout of main: git and gh only."""
        work = self.clone(f"propose-{artifact.name}")
        return sh(work, "bash", str(BRANCH_SCRIPT), "publish", str(artifact), env=self.env, check=check)

    def branch_queue(self) -> list[dict[str, Any]]:
        text = sh(self.root, "git", "--git-dir", str(self.origin), "show", "surveil/queue:screening/queue.yaml")
        return list(yaml.safe_load(text.stdout)["candidates"])


def replay_anything(folder: Path) -> Path:
    """The weekly answers for a later week: the same articles, whatever the window."""
    folder.mkdir()
    for name in ("esearch.json", "esummary.json"):
        shutil.copy(WEEKLY / name, folder / name)
    answers = [{"utility": "esearch", "file": "esearch.json"}, {"utility": "esummary", "file": "esummary.json"}]
    (folder / "replay.json").write_text(json.dumps(answers), encoding="utf-8")
    return folder


def test_a_screeners_commit_survives_the_next_weekly_run(tmp_path: Path, evidence_dir: Path) -> None:
    weekly_run = Weekly(tmp_path, evidence_dir)
    # Week 1: the branch does not exist yet; the run creates it and opens the pull request.
    weekly_run.publish(weekly_run.search(TODAY, WEEKLY))
    assert "pr create" in weekly_run.gh_log.read_text(encoding="utf-8")
    pending = {c["pmid"] for c in weekly_run.branch_queue() if c["status"] == "pending"}
    assert {"99000005", "99000006", "99000008"} <= pending
    # A screener excludes a candidate in the pull request, and does not merge it.
    screener = weekly_run.clone("screener", "surveil/queue")
    queue = screener / "screening" / "queue.yaml"
    text = queue.read_text(encoding="utf-8")
    block = text.split('  - pmid: "99000006"', 1)
    queue.write_text(
        block[0]
        + '  - pmid: "99000006"'
        + block[1].replace("status: pending", "status: excluded\n    reason: not-animal", 1),
        encoding="utf-8",
    )
    weekly_run.git(screener, "commit", "-qam", "Screening: 99000006 is not about animals")
    weekly_run.git(screener, "push", "-q", "origin", "surveil/queue")
    decided = weekly_run.git(screener, "rev-parse", "HEAD").stdout.strip()
    # Week 2: the run builds on the screener's commit, and adds its search to the log.
    weekly_run.gh_open.write_text("1\n", encoding="utf-8")
    artifact = weekly_run.search("2026-12-14", replay_anything(tmp_path / "later"))
    weekly_run.publish(artifact)
    head = sh(tmp_path, "git", "--git-dir", str(weekly_run.origin), "rev-parse", "surveil/queue").stdout.strip()
    ancestry = sh(tmp_path, "git", "--git-dir", str(weekly_run.origin), "merge-base", "--is-ancestor", decided, head)
    assert ancestry.returncode == 0
    twin = next(c for c in weekly_run.branch_queue() if c["pmid"] == "99000006")
    assert twin["status"] == "excluded" and twin["reason"] == "not-animal"
    log = sh(tmp_path, "git", "--git-dir", str(weekly_run.origin), "show", "surveil/queue:screening/strategy.yaml")
    assert [str(s["date"]) for s in yaml.safe_load(log.stdout)["searches"]][-2:] == [TODAY, "2026-12-14"]
    assert "pr edit" in weekly_run.gh_log.read_text(encoding="utf-8")


def test_a_decision_pushed_while_the_search_runs_is_never_overwritten(tmp_path: Path, evidence_dir: Path) -> None:
    weekly_run = Weekly(tmp_path, evidence_dir)
    weekly_run.publish(weekly_run.search(TODAY, WEEKLY))
    artifact = weekly_run.search("2026-12-14", replay_anything(tmp_path / "later"))
    # Between the search and the push, a screener commits to the branch.
    screener = weekly_run.clone("screener", "surveil/queue")
    (screener / "screening" / "NOTE").write_text("decided\n", encoding="utf-8")
    weekly_run.git(screener, "add", ".")
    weekly_run.git(screener, "commit", "-qm", "A decision")
    weekly_run.git(screener, "push", "-q", "origin", "surveil/queue")
    decided = weekly_run.git(screener, "rev-parse", "HEAD").stdout.strip()
    proc = weekly_run.publish(artifact, check=False)
    assert proc.returncode != 0  # refused: a fast-forward only
    head = sh(tmp_path, "git", "--git-dir", str(weekly_run.origin), "rev-parse", "surveil/queue").stdout.strip()
    assert head == decided


# ---------------------------------------------------------------- wired into the site and the validator


def test_the_screening_page_and_feed_are_built_and_in_the_navigation(built: Any) -> None:
    page = (built.site / "screening" / "index.html").read_text(encoding="utf-8")
    assert "Last search" in page
    assert (built.site / "feeds" / "screening.xml").is_file()
    home = (built.site / "index.html").read_text(encoding="utf-8")
    assert 'href="screening/"' in home


def test_validate_reports_a_bad_queue_with_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "queue.yaml"
    bad.write_text(
        'candidates:\n  - pmid: "1"\n    title: "x"\n    found: 2026-12-01\n    status: included\n'
        "    record: nobody-2024\n",
        encoding="utf-8",
    )
    proc = build_py("validate", "--queue", str(bad))
    assert proc.returncode == 1
    assert f"{bad}:6: candidates.0.record: must be the id of a record in evidence/" in proc.stderr


# ---------------------------------------------------------------- recall and the second date window


def test_a_second_date_window_finds_late_indexed_articles(work: Path, capsys: Any) -> None:
    strategy = work / "strategy.yaml"
    strategy.write_text(
        strategy.read_text(encoding="utf-8").replace("datetype: edat", "datetype: edat\nrecheck_datetype: mdat"),
        encoding="utf-8",
    )
    assert check_strategy(strategy) == []
    late = {"esearchresult": {"count": "1", "idlist": ["99000009"]}}
    seen: list[str] = []
    search = weekly("esearch.json")
    summaries = weekly("esummary.json")
    summaries["result"]["uids"].append("99000009")
    late_doc = {
        **summaries["result"]["99000006"],
        "uid": "99000009",
        "title": "Indexed late: a meta-analysis found by its second date.",
    }
    summaries["result"]["99000009"] = late_doc

    def transport(url: str) -> bytes:
        seen.append(url)
        if "esearch" in url:
            return json.dumps(late if "datetype=mdat" in url else search).encode()
        return json.dumps(summaries).encode()

    code, out, err = run(work, fixture=None, transport=transport, capsys=capsys)
    assert code == 0, err
    assert sum("datetype=mdat" in u for u in seen) == 1 and sum("datetype=edat" in u for u in seen) == 1
    assert "found 9" in out and "PubMed 99000009  Indexed late: a meta-analysis" in out


def test_the_recheck_date_must_differ_from_the_main_one(tmp_path: Path) -> None:
    path = tmp_path / "strategy.yaml"
    path.write_text(
        (WEEKLY / "strategy.yaml")
        .read_text(encoding="utf-8")
        .replace("datetype: edat", "datetype: edat\nrecheck_datetype: edat"),
        encoding="utf-8",
    )
    assert [p.field for p in check_strategy(path)] == ["recheck_datetype"]


def test_recall_is_measured_on_the_maps_own_pmids_and_names_what_the_query_misses(
    work: Path, ev: Evidence, capsys: Any
) -> None:
    from evidence_map.surveillance.recall import load_recall

    seen: list[str] = []

    def transport(url: str) -> bytes:
        seen.append(url)
        return json.dumps({"esearchresult": {"count": "0", "idlist": []}}).encode()

    code, out, err = run(
        work, "--recall", "--recall-file", str(work / "recall.yaml"), fixture=None, transport=transport, capsys=capsys
    )
    assert code == 0, err
    assert len(seen) == 1 and "99000001%5Buid%5D" in seen[0]  # only alpha-2024 has a PMID here
    assert "the query finds 0 of the 1 reviews in the map with a PMID; 2 have none" in out
    assert "missed: alpha-2024 (PubMed 99000001)" in out
    recall = load_recall(work / "recall.yaml")
    assert recall is not None and recall.checked == 1 and recall.missed == (("alpha-2024", "99000001"),)
    assert recall.share == 0.0 and recall.date == TODAY


def test_the_title_estimate_of_recall_reads_only_title_words() -> None:
    from evidence_map.surveillance.recall import title_recall

    def titled(rid: str, title: str) -> Any:
        return dataclasses.replace(load_evidence_record(), id=rid, title=title)

    query = '("mesenchymal stem cell*"[tiab] OR MSC[tiab]) AND (exosom*[tiab] OR "Exosomes"[mh]) AND meta-analy*[tiab]'
    records = [
        titled("a-2020", "Mesenchymal stem cell-derived exosomes in stroke: a meta-analysis"),
        titled("b-2021", "MSC exosomes for sepsis: a systematic review"),  # no meta-analy* word in the title
        titled("c-2022", "Exosomes in colitis: a meta-analysis"),  # no cell word
    ]
    assert title_recall(query, records) == (1, 3, ["b-2021", "c-2022"])


def load_evidence_record() -> Any:
    from evidence_map.records.model import record_from_data

    return record_from_data(base_record(id="t-2020"), "evidence/t-2020.yaml")


def test_the_screening_page_shows_the_recall(ev: Evidence) -> None:
    from evidence_map.surveillance.recall import Recall

    strategy = load_strategy(WEEKLY / "strategy.yaml")
    summary = dataclasses.replace(
        screening_summary(Queue(()), ev, strategy), recall=Recall("2026-12-07", "abc", 4, 3, (("alpha-2024", "1"),), 2)
    )
    from evidence_map.publishing.renderer import Renderer, SiteInfo

    renderer = Renderer(compute_map(ev), SiteInfo("https://github.com/example/map", "2026-12-01", "abc1234"))
    page = renderer.render("screening.md.j2", base=Markup(""), s=summary, pubmed_url=pubmed_url, doi_url=doi_url)
    assert "finds **3 of the 4** reviews in the map that have a PMID" in page
    assert "2 reviews have no PMID" in page and "(reviews/alpha-2024.md)" in page


# ---------------------------------------------------------------- two screeners and the PRISMA flow


def decision(screener: str, stage: str = "title-abstract", decided: str = "include", **kw: Any) -> dict[str, Any]:
    return {"screener": screener, "date": "2026-12-08", "stage": stage, "decision": decided, **kw}


def test_an_exclusion_needs_two_agreeing_screeners_or_a_resolution(tmp_path: Path, ev: Evidence) -> None:
    one = entry(
        status="excluded", reason="not-animal", decisions=[decision("ana", decided="exclude", reason="not-animal")]
    )
    problems = [p for p in check_queue(queue_file(tmp_path, one), ev) if not p.warning]
    assert [p.field for p in problems] == ["candidates.0.status"]
    assert "title and abstract: awaiting a second screener" in problems[0].rule
    two = dict(one, decisions=[*one["decisions"], decision("ben", decided="exclude", reason="not-animal")])
    assert [p for p in check_queue(queue_file(tmp_path, two), ev) if not p.warning] == []
    split = dict(one, decisions=[one["decisions"][0], decision("ben")])
    assert "conflict" in next(p for p in check_queue(queue_file(tmp_path, split), ev) if not p.warning).rule
    settled = dict(
        split, decisions=[*split["decisions"], decision("cy", decided="exclude", reason="not-animal", resolves=True)]
    )
    assert [p for p in check_queue(queue_file(tmp_path, settled), ev) if not p.warning] == []


def test_a_screener_decides_a_stage_once_and_an_exclusion_names_its_reason(tmp_path: Path, ev: Evidence) -> None:
    twice = entry(decisions=[decision("ana"), decision("ana", decided="exclude", reason="other")])
    fields_ = {p.field for p in check_queue(queue_file(tmp_path, twice), ev)}
    assert "candidates.0.decisions.1.screener" in fields_
    silent = entry(decisions=[decision("ana", decided="exclude")])
    assert "candidates.0.decisions.0.reason" in {p.field for p in check_queue(queue_file(tmp_path, silent), ev)}


def test_the_prisma_flow_counts_each_stage_and_what_awaits_a_second_screener(ev: Evidence) -> None:
    def cand(pmid: str, status: str = "pending", **kw: Any) -> Candidate:
        return Candidate(title=f"Review {pmid}", found="2026-12-08", status=status, pmid=pmid, **kw)

    both = (
        screening_queue.Decision("ana", "2026-12-08", "title-abstract", "include"),
        screening_queue.Decision("ben", "2026-12-08", "title-abstract", "include"),
    )
    queue = Queue(
        (
            cand("1", "excluded", reason="not-animal"),  # one screener, before decisions were kept
            cand("2", "excluded", reason="duplicate"),
            cand("3", decisions=(both[0],)),  # awaiting a second screener
            cand("4", decisions=(both[0], dataclasses.replace(both[1], decision="exclude", reason="other"))),
            cand(
                "5",
                "excluded",
                reason="not-msc-evs",
                decisions=(
                    *both,
                    screening_queue.Decision("ana", "2026-12-09", "full-text", "exclude", reason="not-msc-evs"),
                    screening_queue.Decision("ben", "2026-12-09", "full-text", "exclude", reason="not-msc-evs"),
                ),
            ),
            cand("6", "included", record="alpha-2024", found_by="hand-search", found_at="https://example.org/x"),
        )
    )
    strategy = dataclasses.replace(load_strategy(WEEKLY / "strategy.yaml"))
    flow = screening.prisma_flow(queue, strategy)
    in_map = {p for run in strategy.searches for p in run.in_map}
    assert flow.identified_search == 5 + len(in_map) and flow.identified_hand == 1
    assert flow.duplicates == len(in_map) + 1
    assert flow.screened == 5
    assert dict(flow.excluded_screening) == {REASONS["not-animal"]: 1}
    assert dict(flow.excluded_full_text) == {REASONS["not-msc-evs"]: 1}
    assert flow.full_text == 2 and flow.included == 1
    assert (flow.awaiting, flow.awaiting_second, flow.conflicts) == (2, 1, 1)
    summary = screening_summary(queue, ev, strategy)
    assert [c.pmid for c in summary.awaiting_second] == ["3"] and [c.pmid for c in summary.conflicts] == ["4"]
    assert flow.as_data()["excluded_at_full_text"] == {REASONS["not-msc-evs"]: 1}


# ---------------------------------------------------------------- watching the map's reviews

EFETCH = """<?xml version="1.0" ?>
<PubmedArticleSet>
  <PubmedArticle>
    <MedlineCitation Status="MEDLINE" Owner="NLM">
      <PMID Version="1">99000001</PMID>
      <Article><PublicationTypeList><PublicationType UI="D017418">Meta-Analysis</PublicationType>
      <PublicationType UI="D016441">Retracted Publication</PublicationType></PublicationTypeList></Article>
      <CommentsCorrectionsList>
        <CommentsCorrections RefType="RetractionIn"><RefSource>Made-up J. 2027.</RefSource><PMID Version="1">99000050</PMID></CommentsCorrections>
        <CommentsCorrections RefType="ErratumIn"><RefSource>Made-up J. 2026.</RefSource><PMID Version="1">99000051</PMID></CommentsCorrections>
        <CommentsCorrections RefType="Cites"><RefSource>Other.</RefSource><PMID Version="1">99000052</PMID></CommentsCorrections>
      </CommentsCorrectionsList>
    </MedlineCitation>
  </PubmedArticle>
</PubmedArticleSet>
"""


def test_a_retraction_or_erratum_of_a_review_in_the_map_is_recorded_and_shown(
    work: Path, ev: Evidence, capsys: Any
) -> None:
    from evidence_map.surveillance.watch import load_notices

    seen: list[str] = []

    def transport(url: str) -> bytes:
        seen.append(url)
        return EFETCH.encode()

    watch = work / "watch.yaml"
    code, out, err = run(work, "--watch", "--watch-file", str(watch), fixture=None, transport=transport, capsys=capsys)
    assert code == 0, err
    assert len(seen) == 1 and "efetch.fcgi" in seen[0] and "retmode=xml" in seen[0] and "id=99000001" in seen[0]
    assert "notice: alpha-2024 (PubMed 99000001): retraction in PubMed 99000050" in out
    found = load_notices(watch)["alpha-2024"]
    assert [(n.kind, n.notice_pmid) for n in found] == [("erratum", "99000051"), ("retraction", "99000050")]
    # The review page warns, with a link to the notice.
    from evidence_map.publishing.renderer import Renderer, SiteInfo

    renderer = Renderer(compute_map(ev), SiteInfo("https://github.com/example/map", "2026-12-01", "abc1234"))
    rec = ev.by_id("alpha-2024")
    page = renderer.render("review.md.j2", rec=rec, base=Markup("../"), tags=[], assessed=[], notices=found)
    assert '!!! warning "PubMed links a notice to this review"' in page
    assert "Retraction ([PubMed 99000050](https://pubmed.ncbi.nlm.nih.gov/99000050/))" in page
    quiet = renderer.render("review.md.j2", rec=rec, base=Markup("../"), tags=[], assessed=[], notices=[])
    assert "!!! warning" not in quiet


def test_a_broken_efetch_answer_writes_nothing(work: Path, capsys: Any) -> None:
    watch = work / "watch.yaml"
    code, _, err = run(
        work, "--watch", "--watch-file", str(watch), fixture=None, transport=lambda url: b"<oops", capsys=capsys
    )
    assert code == 1 and "not XML" in err and not watch.exists()


def test_pmids_are_proposed_from_citations_and_confirmed_by_their_summaries(
    work: Path, evidence_dir: Path, capsys: Any
) -> None:
    # gamma-2024 has a title but no PMID; give it the parts ECitMatch matches on.
    path = evidence_dir / "gamma-2024.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["citation"].update(volume="20", pages="1480-1500")
    write_record(evidence_dir, data)
    summaries = weekly("esummary.json")
    summaries["result"]["uids"] = ["99000060"]
    summaries["result"]["99000060"] = {
        **summaries["result"]["99000005"],
        "uid": "99000060",
        "title": GAMMA_TITLE,
        "fulljournalname": "Stem cell reviews and reports",
    }
    asked: list[str] = []

    def transport(url: str) -> bytes:
        asked.append(url)
        if "ecitmatch.cgi" in url:
            return b"Stem Cell Rev Rep|2024|20|1480|Aghayan|gamma-2024|99000060\n"
        return json.dumps(summaries).encode()

    out_file = work / "proposals.yaml"
    code, out, err = run(
        work, "--propose-pmids", "--proposals-file", str(out_file), fixture=None, transport=transport, capsys=capsys
    )
    assert code == 0, err
    assert "bdata=Stem+Cell+Rev+Rep%7C2024%7C20%7C1480%7CAghayan%7Cgamma-2024%7C" in asked[0]
    assert "proposal: gamma-2024: PubMed 99000060 (title, journal agree)" in out
    proposals = yaml.safe_load(out_file.read_text(encoding="utf-8"))
    [p] = proposals["proposals"]
    assert p["record"] == "gamma-2024" and p["pmid"] == "99000060" and p["confirmed"] is True
    assert proposals["not_asked"] == ["beta-2024"]  # no volume or first page: nothing to match on
    # Proposals only: the record itself is unchanged.
    assert "pmid" not in yaml.safe_load(path.read_text(encoding="utf-8"))["citation"]
