"""One build in a fresh process, timed and memory-measured per stage; prints a JSON report.

Run by bench/run.py, once per build, so that every build starts from a cold interpreter (as
`build.py build` does) and its memory figures belong to it alone.

Time per stage is the pipeline's own `Prepared.timings` (evidence_map/publishing/site.py). Peak memory per
stage is the peak resident set size (VmHWM) of this process while the stage ran: the high-water
mark is reset at each stage boundary (writing 5 to /proc/self/clear_refs) and read at the next.
It covers Python objects and native memory alike, which tracemalloc would miss. Memory Python
keeps from an earlier stage (the loaded records, for instance) counts in the later stages too, as
it does in a real build. The site generator (mkdocs) and the search indexer (Pagefind) run in
child processes, each started through bench/spawn.py so that its ru_maxrss is its own; when the
build finds the published site current it starts neither, and those stages report the time of
that check and no memory. Charts missing from the cache are drawn in a
pool of child processes (vl-convert's V8 runs in them) during the charts and pages stages; the
largest of them is reported as `drawing_peak_rss` (RUSAGE_CHILDREN, read once they have exited).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

T_START = time.perf_counter()
SPAWN = Path(__file__).resolve().parent / "spawn.py"

from evidence_map.publishing import inputs  # noqa: E402  (light: the building code is imported after the check)

T_IMPORTED = time.perf_counter()


def _status(field: str) -> int:
    """A VmHWM/VmRSS figure of this process, in bytes."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class StagePeaks:
    """Peak RSS per stage, from the kernel's high-water mark reset at every boundary."""

    def __init__(self) -> None:
        self.peaks: dict[str, int] = {}
        self.resettable = _reset_peak()

    def close(self, stage: str) -> None:
        self.peaks[stage] = _status("VmHWM")
        _reset_peak()


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of every file under root: a file the build rewrote gets a new mtime."""
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()
    }


def run(evidence: Path, work: Path, out: Path) -> dict[str, Any]:
    """The build as `build.py build` makes it: the inputs' digest first, then, when they changed,
    every stage."""
    t0 = time.perf_counter()
    digest = inputs.unchanged(evidence, out, False, work)
    checked = time.perf_counter() - t0
    if digest is None:  # nothing changed: no record loaded, nothing imported beyond the check
        return {
            "records": len(list(evidence.glob("*.yaml"))),
            "effects": None,
            "timings": {
                "startup (imports)": T_IMPORTED - T_START,
                "input check": checked,
                "site generator": 0.0,
                "search index": 0.0,
            },
            "peak_rss": {"input check": _status("VmHWM")},
            "site_generator_ran": False,
            "inputs_current": True,
            "drawing_peak_rss": 0,
            "drawing_processes": 0,
            "peak_resettable": False,
            "charts_rendered": 0,
            "charts_reused": 0,
            "pages_written": 0,
            "pages_unchanged": 0,
            "files_written": [],
            "files_removed": [],
            "wall": time.perf_counter() - T_START,
        }
    from evidence_map.publishing import generator, site

    imported = time.perf_counter() - t0 - checked
    peaks = StagePeaks()
    peaks.close("startup (imports)")
    before = snapshot(work / "docs")

    # Stage boundaries inside prepare, marked by wrapping the functions it calls there.
    compute_map, data_version = site.compute_map, site.data_version

    def compute_map_marked(*a: Any, **k: Any) -> Any:
        peaks.close("load + validate")
        result = compute_map(*a, **k)
        peaks.close("grading")
        return result

    def data_version_marked(*a: Any, **k: Any) -> Any:
        peaks.close("charts")
        return data_version(*a, **k)

    # mkdocs and Pagefind are started through bench/spawn.py (by path: Pagefind runs from inside the
    # site folder, where `-m bench.spawn` is not importable), which records each one's peak memory.
    reports = {
        stage: work.parent.resolve() / f"{name}-{os.getpid()}.json"
        for stage, name in (("site generator", "generator"), ("search index", "indexer"))
    }
    real_run = subprocess.run

    def run_via_launcher(cmd: list[str], *a: Any, **k: Any) -> Any:
        stage = "site generator" if "mkdocs" in cmd else "search index" if "pagefind" in cmd else None
        if stage:
            cmd = [sys.executable, str(SPAWN), str(reports[stage]), "--", *cmd]
        return real_run(cmd, *a, **k)

    site.compute_map, site.data_version = compute_map_marked, data_version_marked  # type: ignore[assignment]
    generator.subprocess.run = run_via_launcher  # type: ignore[attr-defined]
    try:
        work.mkdir(parents=True, exist_ok=True)
        prepared = site.prepare(evidence, work)
        peaks.close("pages")
        drawing_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        ran = site.publish(prepared, out, strict=False)
        inputs.published(work, digest, out)
    finally:
        site.compute_map, site.data_version = compute_map, data_version  # type: ignore[assignment]
        generator.subprocess.run = real_run  # type: ignore[attr-defined]
    for stage, report in reports.items():
        if report.exists():
            peaks.peaks[stage] = json.loads(report.read_text(encoding="utf-8"))["peak_rss"]
            report.unlink()
        else:  # the build found the published site current and ran neither tool
            peaks.peaks[stage] = 0

    after = snapshot(work / "docs")
    page_cache = work / "page-cache" / "last-build.json"  # what mkdocs converted and laid out again
    cache_counts = json.loads(page_cache.read_text(encoding="utf-8")) if ran and page_cache.is_file() else {}
    written = sorted(p for p, meta in after.items() if before.get(p) != meta)
    removed = sorted(set(before) - set(after))
    timings = {"startup (imports)": T_IMPORTED - T_START + imported, "input check": checked, **prepared.timings}
    return {
        "records": len(prepared.computed.records),
        "effects": sum(len(r.effects) for r in prepared.computed.records),
        "timings": timings,
        "peak_rss": peaks.peaks,
        "site_generator_ran": ran,
        "page_cache": cache_counts,
        "drawing_peak_rss": drawing_peak if prepared.charts_rendered else 0,
        "drawing_processes": min(prepared.charts_rendered, len(os.sched_getaffinity(0))),
        "peak_resettable": peaks.resettable,
        "charts_rendered": prepared.charts_rendered,
        "charts_reused": prepared.charts_reused,
        "pages_written": prepared.pages_written,
        "reviews_rendered": prepared.reviews_rendered,
        "pages_unchanged": prepared.pages_unchanged,
        "files_written": written,
        "files_removed": removed,
        "wall": time.perf_counter() - T_START,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--evidence", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--report", type=Path, required=True)
    args = ap.parse_args()
    report = run(args.evidence, args.work, args.out)
    args.report.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
