"""The site generators compared on the same pages: Zensical, Material for MkDocs' successor (see
MAINTENANCE.md), builds the sources the benchmark's mkdocs builds read, so the choice between them
is made by the numbers.

For one size: a copy of the generated configuration and pages as the cold build left them, built by
Zensical from scratch (its cache emptied), again with nothing changed, and again after the
benchmark's one-record edit (the generated files that edit rewrote, and the configuration, copied
over). Zensical's own search is turned off: the site's search is Pagefind's, which indexes what
either generator writes, and Zensical's index refuses a page as long as the pooled effects table
at 2,000 reviews. Each run is started through bench/spawn.py, for its own peak memory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

SPAWN = Path(__file__).resolve().with_name("spawn.py")


def zensical() -> str | None:
    """The zensical command of this environment, if it is installed (the test extra pins it)."""
    here = str(Path(sys.executable).parent)
    return shutil.which("zensical", path=os.pathsep.join([here, os.environ.get("PATH", "")]))


def snapshot_sources(work: Path, into: Path) -> None:
    """The generated configuration and pages as they are now, with Zensical's search turned off."""
    if into.exists():
        shutil.rmtree(into)
    shutil.copytree(work / "docs", into / "docs")
    _copy_config(work, into)


def _copy_config(work: Path, into: Path) -> None:
    config = yaml.safe_load((work / "mkdocs.yml").read_text(encoding="utf-8"))
    plugins = [p for p in config.get("plugins", []) if p != "search" and not (isinstance(p, dict) and "search" in p)]
    config["plugins"] = [*plugins, {"search": {"enabled": False}}]
    (into / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")


def apply_edit(work: Path, into: Path, written: list[str], removed: list[str]) -> None:
    """The files a build rewrote (`written`, `removed`: paths under the docs folder), and the configuration."""
    for rel in written:
        target = into / "docs" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(work / "docs" / rel, target)
    for rel in removed:
        (into / "docs" / rel).unlink(missing_ok=True)
    _copy_config(work, into)


def _build(command: str, folder: Path, log: Path) -> dict[str, Any]:
    report = folder / "spawn.json"
    cmd = [sys.executable, str(SPAWN), str(report), "--", command, "build", "-f", "mkdocs.yml"]
    with open(log, "a", encoding="utf-8") as out:
        subprocess.run(cmd, cwd=folder, stdout=out, stderr=subprocess.STDOUT, check=False)
    run: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    report.unlink()
    return run


def zensical_timing(folder: Path, work: Path, edit: dict[str, Any], log: Path) -> dict[str, Any] | None:
    """Zensical's builds of the sources in `folder` (snapshot_sources, after the cold build): from
    scratch, with nothing changed, and after the edit the mkdocs build `edit` made. None when
    Zensical is not installed."""
    command = zensical()
    if command is None:
        return None
    shutil.rmtree(folder / ".cache", ignore_errors=True)
    shutil.rmtree(folder / "site", ignore_errors=True)
    runs = {"cold": _build(command, folder, log)}
    runs["noop"] = _build(command, folder, log)
    apply_edit(work, folder, edit["files_written"], edit.get("files_removed", []))
    runs["edit"] = _build(command, folder, log)
    return runs


def comparison(results: dict[int, dict[str, Any]]) -> list[str]:
    """A table of both generators' times and peak memory, by size, from the runs that compared them."""
    ns = [n for n in sorted(results) if results[n].get("zensical")]
    if not ns:
        return []
    lines = [
        "## Site generators compared",
        "",
        "The same generated pages built by mkdocs with the page cache (the build's stage; with nothing",
        "changed the build finds the site current and runs it not at all) and by Zensical, its own search",
        "off (bench/generators.py). Seconds; peak memory of the cold build in brackets.",
        "",
        "| N | | cold build | nothing changed | one-record edit |",
        "|---:|---|---:|---:|---:|",
    ]
    for n in ns:
        r = results[n]
        z = r["zensical"]
        mk = [r[k]["timings"]["site generator"] for k in ("full", "noop", "edit")]
        peak = r["full"]["peak_rss"].get("site generator", 0)
        lines.append(
            f"| {n:,} | mkdocs | {mk[0]:.1f} ({peak / 2**20:,.0f} MB) | "
            f"{'not run' if not r['noop'].get('site_generator_ran') else f'{mk[1]:.1f}'} | {mk[2]:.1f} |"
        )
        cells = []
        for k in ("cold", "noop", "edit"):
            run = z[k]
            text = f"{run['seconds']:.1f}" if run["returncode"] == 0 else f"failed (exit {run['returncode']})"
            if k == "cold":
                text += f" ({run['peak_rss'] / 2**20:,.0f} MB)"
            cells.append(text)
        lines.append(f"| | Zensical | {' | '.join(cells)} |")
    big = max(ns)
    r, z = results[big], results[big]["zensical"]
    if all(z[k]["returncode"] == 0 for k in ("cold", "edit")):
        lines += [
            "",
            f"At {big:,} records Zensical took {z['cold']['seconds'] / r['full']['timings']['site generator']:.1f} "
            f"times mkdocs' time for the cold build and "
            f"{z['edit']['seconds'] / r['edit']['timings']['site generator']:.1f} times it after the edit.",
        ]
    return [*lines, ""]
