"""A second process for a share of the build's work, and its result or the same work done here.

Both uses (the record checks, records/checkpool.py; the pages and downloads, publishing/apart.py)
start one process with "spawn", as the chart drawing does: the build may have threads running, and
a forked copy of a process with threads can hang.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def one_process(
    initializer: Callable[..., object] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """A pool of one spawned process, started on its first job."""
    return ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("spawn"), initializer=initializer, initargs=initargs
    )


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
