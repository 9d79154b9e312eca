"""Run as `python -m tests.forked checks FOLDER`, `... pages WORK` or `... charts CACHE`: the record
checks of a folder, the site's sources of the real map, or two reviews' charts drawn in two
processes, made in a process that runs one thread, as a build's is, so that its other processes are
forked (processes.py). Prints, as JSON, each start method asked for, the module that asked, and
what was made. tests/test_processes.py compares that with the same work
done in one process."""

from __future__ import annotations

import json
import multiprocessing
import sys
from pathlib import Path
from typing import Any

METHODS: list[str | None] = []
CALLERS: list[str] = []  # the module that asked, for each method
_real = multiprocessing.get_context


def _spy(method: str | None = None) -> Any:
    METHODS.append(method)
    CALLERS.append(Path(sys._getframe(1).f_code.co_filename).stem)
    return _real(method)


def checks(folder: Path) -> list[Any]:
    from evidence_map.records.validate import check_folder
    from tests.test_validate import _outcome

    return _outcome(check_folder(folder))


def pages(work: Path) -> dict[str, str]:
    from evidence_map.judging.computed import compute_map
    from evidence_map.paths import EVIDENCE
    from evidence_map.publishing import site
    from evidence_map.records.evidence import load_evidence

    site.prepare_map(compute_map(load_evidence(EVIDENCE)), work)
    docs = work / "docs"
    return {p.relative_to(docs).as_posix(): p.read_bytes().hex() for p in sorted(docs.rglob("*")) if p.is_file()}


def charts(cache: Path) -> list[str]:
    from evidence_map.publishing.chartrender import ChartRenderer
    from tests.test_charts import LI, YE, every_figure, evidence_of

    return ChartRenderer(cache).svgs(every_figure(evidence_of(YE, LI)), workers=2)


if __name__ == "__main__":
    multiprocessing.get_context = _spy  # type: ignore[assignment]
    what, where = sys.argv[1], Path(sys.argv[2])
    made = {"checks": checks, "pages": pages, "charts": charts}[what](where)
    json.dump({"methods": METHODS, "callers": CALLERS, "made": made}, sys.stdout)
