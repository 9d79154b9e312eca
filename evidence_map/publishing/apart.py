"""The build's second process: while this one renders most pages, another makes the downloads and
feeds, and either the review pages to render or the EV source pages, from the same map.

Rendering is pure, so the same map gives the same files in either process. The process is started
as it is asked for, before this process renders on (rendering fills the map's cached properties):
forked, it has the map as it is then; spawned, it is handed the map pickled; each job then names
only what it makes. A map too small to pay for the start (about 1.5 s at 2,000 reviews, spawned)
never starts one: `wanted` says so.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterator
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, NamedTuple

from evidence_map.processes import one_process, start_method

# Reviews in the map (or review pages to render) from which the second process pays: measured, at 500
# a cold build's pages took 6.4 s without it and 7.6 to 8.7 s with it (the chart drawing processes
# hold the other core), an edit's the same either way; at 2,000 it saves 1.3 to 2 s of each.
APART_FROM = 1000
APART_SETTING = "EVIDENCE_MAP_APART_FROM"  # another number (the tests set 0)


class Shared(NamedTuple):
    """What the second process is given: the computed map and what the pages are made with."""

    computed: Any  # ComputedMap
    info: Any  # SiteInfo
    notices: dict[str, Any]
    screening: Any  # Screening
    site_url: str
    date: str


_job: Shared | None = None  # in the second process: what `Apart` was given


def wanted(n: int) -> bool:
    """Whether work for `n` reviews is worth a second process."""
    return n > 0 and n >= int(os.environ.get(APART_SETTING, APART_FROM))


class Apart:
    """The second process, started on first use with `shared`."""

    def __init__(self, shared: Shared) -> None:
        self._shared = shared
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any] | None:
        """Run `fn(*args)` there (`fn` reads the job with `job()`); None when the process has
        already failed, so that this one does the work (see `outcome`)."""
        if self._pool is None:
            # A forked process has the map already; a spawned one gets it pickled, once.
            method = start_method()
            shared = self._shared if method == "fork" else pickle.dumps(self._shared, pickle.HIGHEST_PROTOCOL)
            self._pool = one_process(_receive, (shared,), method)
        try:
            return self._pool.submit(fn, *args)
        except BrokenExecutor:
            return None

    def close(self) -> None:
        """Stop the process without waiting for it to exit: its results are in, and freeing the
        map it holds takes it about 0.4 s at 2,000 reviews, time the build goes on during."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


@contextmanager
def second_process(use: bool, shared: Shared) -> Iterator[Apart | None]:
    """An `Apart` given `shared` when `use`, else None; shut down on leaving. Its results are read
    with `outcome` (processes.py)."""
    if not use:
        yield None
        return
    apart = Apart(shared)
    try:
        yield apart
    finally:
        apart.close()


def _receive(job: Shared | bytes) -> None:
    global _job
    _job = pickle.loads(job) if isinstance(job, bytes) else job


def job() -> Shared:
    """In the second process: the job it was started with."""
    if _job is None:
        raise RuntimeError("not in the build's second process")
    return _job
