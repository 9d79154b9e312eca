"""A second process for a share of the build's work, and its result or the same work done here.

Both uses (the record checks, records/checkpool.py; the pages and downloads, publishing/apart.py)
start one process; the chart drawing (publishing/chartrender.py) starts one per core. A process that
runs no other thread (no drawing pool, no live preview's watcher, no chart engine of its own) forks
them: a copy starts at once, its modules already imported. Otherwise they are spawned: a forked
copy of a process with threads can hang on a lock one of them held, and would lack the threads.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
START_SETTING = "EVIDENCE_MAP_START_METHOD"  # "spawn": never fork (to compare the two, or as a way out)


def one_process(
    initializer: Callable[..., object] | None = None, initargs: tuple[Any, ...] = (), method: str | None = None
) -> ProcessPoolExecutor:
    """A pool of one process, started on its first job, by `method` (default: `start_method()`, for a
    caller that decided nothing by it). A fork pool starts its process when the first job is
    submitted, before its own thread: call it just before that job, from the thread that submits it."""
    return ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context(method or start_method()), initializer=initializer, initargs=initargs
    )


def start_method() -> str:
    """How to start a process from this one now: "fork" when it runs no other thread, else "spawn"."""
    return "fork" if single_threaded() else "spawn"


def single_threaded() -> bool:
    """Whether this process runs one thread, counting native ones (Linux's /proc lists them all;
    elsewhere the answer is no, and processes are spawned)."""
    if os.environ.get(START_SETTING) == "spawn":
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def outcome(future: Future[T] | None, here: Callable[[], T]) -> T:
    """What the second process made, or `here()` made in this process when there was no second
    process or it failed (killed, out of memory): the work is the same either way, and an error in
    the work itself is raised again here, where the build reports it."""
    if future is None:
        return here()
    try:
        return future.result()
    except Exception:
        return here()
