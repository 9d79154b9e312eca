"""Checking many record files on both cores: a cold load of 2,000 records is mostly parsing YAML,
one core's work, while the other core has nothing to do until the charts are drawn.

From `split_from()` files, a second process (processes.py) checks the last share of them while this
one checks the rest. It returns each outcome pickled, which is also how the kept checks store it
(checkcache.py), so nothing is pickled twice. The outcome of a file is the same in either process;
if the second process fails (killed, out of memory), this one checks its share too.
"""

from __future__ import annotations

import gc
import os
import pickle
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from evidence_map.processes import one_process, outcome, start_method

if TYPE_CHECKING:
    from evidence_map.records.validate import Checked
    from evidence_map.records.vocab import Vocabularies

# Files from which the second process pays for its start: spawned, about 0.3 s; forked, when this
# process runs no other thread (processes.py), a few milliseconds. Measured on two cores, each load
# in a fresh process. Spawned: 2,000 files took 2.3 to 2.6 s in one process, 1.9 to 2.1 s in two;
# 500 files 0.54 to 0.58 s in one, 0.59 to 0.62 s in two. Forked: 500 synthetic files took 0.59 to
# 0.67 s in one process, 0.44 to 0.52 s in two; 200 files 0.26 to 0.32 s, 0.21 to 0.25 s; 100 files
# and the 66 real records, the same either way.
SPLIT_FROM = 1000
SPLIT_FROM_FORKED = 200
SPLIT_SETTING = "EVIDENCE_MAP_SPLIT_CHECKS_FROM"  # another number (the tests set a small one)
# The second process's share of the files: it starts later, and this one reads its results.
SHARE = 0.4


class Item(NamedTuple):
    """A file to check: its path, its path as messages show it, and its bytes as already read."""

    path: Path
    shown_as: str
    data: bytes


class Outcome(NamedTuple):
    """A file's check, and the same pickled when it was made in the second process (else None)."""

    checked: Checked
    pickled: bytes | None


CheckFile = Callable[[Path, str, "Vocabularies", bytes], "Checked"]


def split_from(method: str) -> int:
    """From how many files a second process started by `method` pays."""
    return int(os.environ.get(SPLIT_SETTING, SPLIT_FROM_FORKED if method == "fork" else SPLIT_FROM))


def check_items(items: Sequence[Item], vocab: Vocabularies, check: CheckFile) -> list[Outcome]:
    """Every item's check, in order; on two processes when there are enough of them."""
    n = len(items)
    method = start_method()
    if n < 2 or n < split_from(method):
        return [Outcome(check(i.path, i.shown_as, vocab, i.data), None) for i in items]
    cut = n - max(1, int(n * SHARE))
    rest = list(items[cut:])
    with one_process(gc.disable, method=method) as pool:  # its collector paused, as in the build's own load
        future: Future[list[bytes]] | None
        try:
            future = pool.submit(_second_share, rest, vocab, check)
        except RuntimeError:  # the pool could not start a process
            future = None
        here = [Outcome(check(i.path, i.shown_as, vocab, i.data), None) for i in items[:cut]]
        pickled = outcome(future, lambda: _check_pickled(rest, vocab, check))
    return here + [Outcome(pickle.loads(p), p) for p in pickled]


def _second_share(items: list[Item], vocab: Vocabularies, check: CheckFile) -> list[bytes]:
    """What the second process runs."""
    return _check_pickled(items, vocab, check)


def _check_pickled(items: list[Item], vocab: Vocabularies, check: CheckFile) -> list[bytes]:
    """Each item's check, pickled: in the second process, or here if it failed."""
    return [pickle.dumps(check(i.path, i.shown_as, vocab, i.data), pickle.HIGHEST_PROTOCOL) for i in items]
