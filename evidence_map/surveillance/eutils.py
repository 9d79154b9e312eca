"""A small client for NCBI's E-utilities (esearch and esummary on PubMed, JSON), kind to the service
and honest about failure.

The surveillance run must never half-succeed, so every way the service can fail (HTTP 429 and 5xx,
a dropped connection, a body that is not JSON, an ERROR field inside a 200 answer, a field of the
wrong type) ends here, either as data or as one `ServiceError` saying what happened. It keeps to
NCBI's published rate (3 requests a second, 10 with an API key) and retries a bounded number of
times with exponential backoff. The transport, clock and sleep are arguments, so tests replay
recorded answers without a network and without waiting. It knows nothing about the map, and never
prints a URL (the API key is in it).
"""

from __future__ import annotations

import html
import http.client
import io
import json
import re
import sys
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
TOOL = "msc-ev-evidence-map"
MAX_BYTES = 16 * 1024 * 1024
SEARCH_WINDOW = 9999  # esearch lists only the first 9,999 ids of a PubMed search
PAGE = 500  # ids asked for per esearch page
SUMMARY_BATCH = 200  # ids per esummary request: NCBI's JSON limit is 500, and URLs stay short
DIGITS = re.compile(r"[0-9]{1,9}")
# The record schema's DOI pattern: a DOI that fails it is dropped rather than queued.
DOI = re.compile(r"10\.[0-9]{4,9}/[-._;()/:A-Za-z0-9<>\[\]]+")

Transport = Callable[[str], bytes]


class ServiceError(Exception):
    """PubMed could not be asked, or did not answer usably: the run must stop and write nothing."""


def urllib_transport(url: str, timeout: float = 30.0) -> bytes:
    """GET `url` over HTTPS; raises urllib's errors, which the client sorts into retry or stop."""
    request = urllib.request.Request(url, headers={"User-Agent": f"{TOOL} (urllib)", "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body: bytes = response.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise ServiceError(f"an answer was larger than {MAX_BYTES // (1024 * 1024)} MiB")
    return body


class FixtureTransport:
    """Answers recorded in a folder, replayed in order instead of the network.

    `replay.json` lists one answer per request: `{"utility": "esearch", "params": {...}, "file":
    "esearch.json", "status": 200}`; `params` (optional) must be among the request's parameters,
    `status` 429 or 5xx replays a failure, and `"error": "timeout"` a dropped connection. A request
    that does not fit the next answer, or comes after the last, stops the run with a ServiceError.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            self.answers: list[dict[str, Any]] = json.loads((folder / "replay.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ServiceError(f"offline fixture {folder}: cannot read replay.json ({exc})") from None
        self.used = 0

    def __call__(self, url: str) -> bytes:
        parts = urlsplit(url)
        utility = parts.path.rsplit("/", 1)[-1].removesuffix(".fcgi")
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if self.used >= len(self.answers):
            raise ServiceError(
                f"offline fixture {self.folder}: no answer recorded for request {self.used + 1} ({utility})"
            )
        answer = self.answers[self.used]
        self.used += 1
        wanted = answer.get("params", {})
        if answer.get("utility") != utility or any(params.get(k) != v for k, v in wanted.items()):
            raise ServiceError(
                f"offline fixture {self.folder}: request {self.used} is {utility} {json.dumps(params)[:300]}, "
                f"but the recording expects {answer.get('utility')} {json.dumps(wanted)}"
            )
        if answer.get("error") == "timeout":
            raise TimeoutError("timed out (recorded)")
        try:
            body = (self.folder / answer["file"]).read_bytes() if answer.get("file") else b""
        except OSError as exc:
            raise ServiceError(
                f"offline fixture {self.folder}: cannot read {answer['file']} ({exc.strerror})"
            ) from None
        status = int(answer.get("status", 200))
        if status != 200:
            headers = Message()
            for key, value in answer.get("headers", {}).items():
                headers[key] = value
            raise urllib.error.HTTPError(url, status, answer.get("reason", "recorded"), headers, io.BytesIO(body))
        return body


# ---------------------------------------------------------------- text from PubMed

_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]"
)
_SPACE = re.compile(r"\s+")


def plain(text: str) -> str:
    """PubMed text as one plain line: markup such as <i>in vivo</i> and character references are
    undone (repeatedly, for doubly escaped titles), control and bidi characters dropped."""
    previous = None
    for _ in range(4):
        if text == previous:
            break
        previous = text
        text = _TAG.sub("", html.unescape(text))
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text))
    return _SPACE.sub(" ", text).strip()


# ---------------------------------------------------------------- what esummary says of an article


@dataclass(frozen=True)
class Summary:
    pmid: str
    title: str
    doi: str | None
    journal: str | None
    year: int | None
    pubdate: str | None
    first_author: str | None


def _text(doc: dict[str, Any], key: str, uid: str) -> str:
    value = doc.get(key, "")
    if not isinstance(value, str):
        raise ServiceError(f"malformed esummary answer: {key} of PubMed {uid} is not text")
    return plain(value)


def _doi(doc: dict[str, Any], uid: str) -> str | None:
    ids = doc.get("articleids", [])
    if not isinstance(ids, list) or not all(isinstance(i, dict) for i in ids):
        raise ServiceError(f"malformed esummary answer: articleids of PubMed {uid} is not a list of ids")
    found = [str(i.get("value", "")).strip() for i in ids if i.get("idtype") == "doi"]
    location = _text(doc, "elocationid", uid)
    found += [m.group(0) for m in re.finditer(r"(?<=doi: )\S+", location)]
    return next((d for d in found if DOI.fullmatch(d)), None)


def summary_from_doc(uid: str, doc: dict[str, Any]) -> Summary:
    """The facts the queue keeps from one esummary document; a field of the wrong type stops the run,
    because it means the format changed and nothing read from it can be trusted."""
    title = _text(doc, "title", uid) or _text(doc, "booktitle", uid) or "(PubMed gives no title)"
    journal = _text(doc, "fulljournalname", uid) or _text(doc, "source", uid) or None
    pubdate = _text(doc, "pubdate", uid) or None
    dated = re.match(r"(\d{4})", _text(doc, "sortpubdate", uid) or pubdate or "")
    authors = doc.get("authors", [])
    if not isinstance(authors, list) or not all(isinstance(a, dict) for a in authors):
        raise ServiceError(f"malformed esummary answer: authors of PubMed {uid} is not a list of names")
    names = [plain(str(a.get("name", ""))) for a in authors if a.get("authtype", "Author") == "Author"]
    return Summary(
        pmid=uid,
        title=title,
        doi=_doi(doc, uid),
        journal=journal,
        year=int(dated.group(1)) if dated else None,
        pubdate=pubdate,
        first_author=next((n for n in names if n), None),
    )


# ---------------------------------------------------------------- the client


@dataclass(frozen=True)
class Search:
    count: int
    ids: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def _log(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass
class EUtils:
    """esearch and esummary with NCBI's rate limit, bounded retries and every failure as ServiceError."""

    transport: Transport = urllib_transport
    email: str | None = None
    api_key: str | None = None
    tool: str = TOOL
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    attempts: int = 5
    backoff: float = 2.0  # seconds before the first retry; doubled before each next one
    max_wait: float = 60.0
    log: Callable[[str], None] = _log
    requests: int = field(default=0, init=False)
    _last: float | None = field(default=None, init=False, repr=False)

    @property
    def interval(self) -> float:
        """Seconds between two requests: NCBI allows 3 a second, 10 with an API key."""
        return 1 / 10 if self.api_key else 1 / 3

    def url(self, utility: str, params: dict[str, str], suffix: str = ".fcgi") -> str:
        query = {"db": "pubmed", "retmode": "json", **params, "tool": self.tool}
        if self.email:
            query["email"] = self.email
        if self.api_key:
            query["api_key"] = self.api_key
        return f"{BASE_URL}{utility}{suffix}?{urlencode(query)}"

    def _wait_turn(self) -> None:
        if self._last is not None:
            gap = self._last + self.interval - self.clock()
            if gap > 0:
                self.sleep(gap)
        self._last = self.clock()

    def get_json(self, utility: str, params: dict[str, str]) -> dict[str, Any]:
        """The JSON object NCBI answers, after up to `attempts` tries; ServiceError otherwise."""
        return self._get(utility, params, lambda body: json.loads(body.decode("utf-8")), "JSON")  # type: ignore[no-any-return]

    def get_text(self, utility: str, params: dict[str, str], what: str, suffix: str = ".fcgi") -> str:
        """A text answer (XML, or ECitMatch's lines), with the same rate limit, retries and errors."""
        return str(self._get(utility, params, lambda body: body.decode("utf-8"), what, suffix))

    def _get(
        self, utility: str, params: dict[str, str], parse: Callable[[bytes], Any], what: str, suffix: str = ".fcgi"
    ) -> Any:
        url = self.url(utility, params, suffix)
        for attempt in range(1, self.attempts + 1):
            self._wait_turn()
            self.requests += 1
            retry_after = 0.0
            try:
                data = parse(self.transport(url))
            except urllib.error.HTTPError as exc:
                exc.close()
                if exc.code != 429 and exc.code < 500:
                    raise ServiceError(f"PubMed {utility} refused the request: HTTP {exc.code} {exc.reason}") from None
                problem = f"HTTP {exc.code}"
                retry_after = _seconds(exc.headers.get("Retry-After") if exc.headers else None)
            except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
                problem = f"a network error ({getattr(exc, 'reason', None) or exc.__class__.__name__})"
            except ValueError:  # not UTF-8, or not JSON: a cut-off answer or a broken one
                problem = f"an answer that is not {what}"
            else:
                if what != "JSON":
                    if "API rate limit exceeded" not in data:
                        return data
                    problem = "rate limited"
                    if attempt == self.attempts:
                        raise ServiceError(f"PubMed {utility} failed {attempt} times (last try: {problem})")
                    delay = min(self.max_wait, self.backoff * 2 ** (attempt - 1))
                    self.log(f"PubMed {utility}: {problem}; trying again in {delay:g} s")
                    self.sleep(delay)
                    continue
                if not isinstance(data, dict):
                    raise ServiceError(f"malformed {utility} answer: not a JSON object")
                error = data.get("error", data.get("ERROR"))
                if error is None:
                    return data
                if "rate limit" not in str(error).lower():
                    raise ServiceError(f"PubMed {utility} answered with an error: {str(error)[:300]}")
                problem = "rate limited"
            if attempt == self.attempts:
                raise ServiceError(f"PubMed {utility} failed {attempt} times (last try: {problem})")
            delay = min(self.max_wait, max(retry_after, self.backoff * 2 ** (attempt - 1)))
            self.log(f"PubMed {utility}: {problem}; trying again in {delay:g} s ({attempt}/{self.attempts - 1})")
            self.sleep(delay)
        raise AssertionError("unreachable")

    def esearch(self, term: str, mindate: str, maxdate: str, datetype: str = "edat") -> Search:
        """Every PubMed id matching `term` between two dates (YYYY/MM/DD), page by page."""
        ids: dict[str, None] = {}
        warnings: list[str] = []
        params = {"term": term, "datetype": datetype, "mindate": mindate, "maxdate": maxdate, "retmax": str(PAGE)}
        retstart = 0
        first: int | None = None
        while True:
            page = _search_page(self.get_json("esearch", {**params, "retstart": str(retstart)}))
            count = page.count
            if first is not None and count != first:
                raise ServiceError(
                    f"PubMed's count changed between pages ({first}, then {count}): the search would be "
                    "inconsistent; run it again"
                )
            first = count
            if count > SEARCH_WINDOW:
                raise ServiceError(
                    f"the search matched {count} records, more than the {SEARCH_WINDOW} PubMed lists; "
                    "narrow the query or the dates"
                )
            warnings += [w for w in page.warnings if w not in warnings]
            ids.update(dict.fromkeys(page.ids))
            retstart += len(page.ids)
            if retstart >= count:
                return Search(count, tuple(ids), tuple(warnings))
            if not page.ids:
                raise ServiceError(
                    f"PubMed listed {retstart} of the {count} ids it counted, then an empty page: the search "
                    "would be incomplete, so nothing is written"
                )

    def esummary(self, ids: Sequence[str]) -> tuple[list[Summary], list[tuple[str, str]]]:
        """Summaries of `ids`, in order, and (id, reason) for each id NCBI gave no summary of."""
        summaries, missing = [], []
        for start in range(0, len(ids), SUMMARY_BATCH):
            batch = list(ids[start : start + SUMMARY_BATCH])
            docs = _summary_docs(self.get_json("esummary", {"id": ",".join(batch)}))
            for uid in batch:
                doc = docs.get(uid)
                if doc is None or "error" in doc:
                    reason = doc.get("error") if doc else "no summary in the answer"
                    missing.append((uid, plain(str(reason))[:200]))
                else:
                    summaries.append(summary_from_doc(uid, doc))
        return summaries, missing


def _seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def _ids(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and DIGITS.fullmatch(v) for v in value):
        raise ServiceError("malformed answer: the id list is not a list of PubMed ids")
    return value


def _messages(block: Any) -> Iterable[str]:
    if isinstance(block, dict):
        for kind, values in block.items():
            for v in values if isinstance(values, list) else [values]:
                if v:
                    yield f"{kind}: {plain(str(v))}"


def _search_page(data: dict[str, Any]) -> Search:
    result = data.get("esearchresult")
    if not isinstance(result, dict):
        raise ServiceError("malformed esearch answer: no esearchresult")
    if "ERROR" in result:
        raise ServiceError(f"PubMed esearch answered with an error: {str(result['ERROR'])[:300]}")
    count = result.get("count")
    if not isinstance(count, str) or not re.fullmatch(r"[0-9]{1,12}", count):
        raise ServiceError(f"malformed esearch answer: count is {json.dumps(count)[:40]}")
    warnings = [*_messages(result.get("errorlist")), *_messages(result.get("warninglist"))]
    return Search(int(count), tuple(_ids(result.get("idlist"))), tuple(warnings))


def _summary_docs(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = data.get("result")
    if not isinstance(result, dict):
        raise ServiceError("malformed esummary answer: no result")
    uids = _ids(result.get("uids"))
    return {uid: result[uid] for uid in uids if isinstance(result.get(uid), dict)}
