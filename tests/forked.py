"""Run as `python -m tests.forked checks FOLDER` or `... pages WORK`: the record checks of a folder,
or the site's sources of the real map, made in a process that runs one thread, as a build's is, so
that its second process is forked (processes.py). Prints, as JSON, each start method the second
process was asked for and what was made. tests/test_processes.py compares that with the same work
done in one process."""

from __future__ import annotations

import json
import multiprocessing
import sys
from pathlib import Path
from typing import Any

METHODS: list[str | None] = []
_real = multiprocessing.get_context


def _spy(method: str | None = None) -> Any:
    METHODS.append(method)
    return _real(method)


def checks(folder: Path) -> list[Any]:
    from evidence_map.records.validate import check_folder

    return [
        (r.shown_as, [str(p) for p in r.problems], repr(r.loaded.data) if r.loaded else None)
        for r in check_folder(folder)
    ]


def pages(work: Path) -> dict[str, str]:
    from evidence_map.judging.computed import compute_map
    from evidence_map.publishing import site
    from evidence_map.records.evidence import load_evidence

    site.prepare_map(compute_map(load_evidence(site.EVIDENCE)), work)
    docs = work / "docs"
    return {p.relative_to(docs).as_posix(): p.read_bytes().hex() for p in sorted(docs.rglob("*")) if p.is_file()}


if __name__ == "__main__":
    multiprocessing.get_context = _spy  # type: ignore[assignment]
    what, where = sys.argv[1], Path(sys.argv[2])
    made = checks(where) if what == "checks" else pages(where)
    json.dump({"methods": METHODS, "made": made}, sys.stdout)
