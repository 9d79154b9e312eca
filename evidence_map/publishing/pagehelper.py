"""The page cache's second process (pagecache.py): half the pages of a large build converted and
laid out beside mkdocs, into the cache, where mkdocs then reads them.

mkdocs converts and lays out pages one after another, on one core. When the pages missing from the
cache come to more than PARALLEL_BYTES of Markdown, `start` runs this file as a second process: it
loads the same configuration, converts the second half of the missing pages (by size), signals
CONVERTED, waits for mkdocs' ALL_CONVERTED (every page converted or read, so the navigation is
whole), then lays out the second half of the pages (by number), and writes what it did. mkdocs
reads that half from the cache when it reaches it. Should the process fail, mkdocs does its part.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PARALLEL_BYTES = 4_000_000  # Markdown to convert before a second process pays for its start (about 2 s)
PAGE_BYTES = 4_000  # a page's fixed cost of conversion, as bytes of Markdown that take as long
WORKER = "EVIDENCE_MAP_PAGE_CACHE_WORKER"  # set in the second process, which starts no other
PARALLEL_SETTING = "EVIDENCE_MAP_PAGE_CACHE_PARALLEL_BYTES"  # another threshold (the tests set 0)
CONVERTED = "converted"  # the signal the second process writes when its pages are converted
ALL_CONVERTED = "all converted"  # the one mkdocs writes when every page is: the layouts can start


def parallel_bytes() -> int:
    """How much Markdown to convert starts the second process."""
    return int(os.environ.get(PARALLEL_SETTING, PARALLEL_BYTES))


def plan(missing: list[tuple[str, int]], pages: list[str]) -> tuple[list[str], list[str]] | None:
    """The pages for the second process, from the missing ones in mkdocs' order with their sizes:
    (to convert, to lay out), or None when there is too little to share."""
    threshold = parallel_bytes()
    if os.environ.get(WORKER) or sum(size for _, size in missing) < threshold:
        return None
    total = sum(size + PAGE_BYTES for _, size in missing)
    done, half = 0, len(missing)
    for i, (_, size) in enumerate(missing):
        done += size + PAGE_BYTES
        if done >= total / 2:
            half = i + 1
            break
    second = missing[half:]
    if not second or sum(size + PAGE_BYTES for _, size in second) < threshold / 2:
        return None  # one large page to convert (the pooled effects after an edit): nothing to share
    # Layouts cost about the same for every page: the second half of the pages by number.
    return [uri for uri, _ in second], pages[len(pages) // 2 :]


class Helper:
    """The second process, seen from mkdocs' side."""

    def __init__(self, config: Any, cache: Path, pages: list[str], layouts: list[str]) -> None:
        self.converts, self.lays_out = set(pages), set(layouts)
        self.job = Path(tempfile.mkdtemp(prefix=".page-cache-job-", dir=cache.parent))
        spec = {
            "config": config.config_file_path,
            "level": logging.getLogger("mkdocs").getEffectiveLevel(),
            "strict": bool(config.strict),
            "site_url": config.site_url,
            "pages": pages,
            "layouts": layouts,
        }
        (self.job / "job.json").write_text(json.dumps(spec), encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, __file__, str(self.job)], env={**os.environ, WORKER: "1"}, stdout=subprocess.DEVNULL
        )
        self.counts = {"converted": 0, "laid out": 0}  # what it converted and laid out itself

    def wait(self, signal: str | None = None) -> None:
        """Until it has written `signal` (a file of its job folder), or with none until it has
        ended. A process that ended without it has failed: mkdocs does its part."""
        process = self.process
        if process is None:
            return
        if signal is not None:
            while not (self.job / signal).exists() and process.poll() is None:
                time.sleep(0.02)
            if (self.job / signal).exists():
                return
        if process.wait() == 0:  # else its pages miss the cache, and mkdocs converts and lays them out
            with contextlib.suppress(OSError, ValueError):
                self.counts = json.loads((self.job / "counts.json").read_text(encoding="utf-8"))
        self.process = None

    def signal_all_converted(self) -> None:
        if self.process is not None:
            (self.job / ALL_CONVERTED).touch()

    def stop(self) -> None:
        """Stop it if it still runs, and remove its job folder."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
        shutil.rmtree(self.job, ignore_errors=True)


def main(job_folder: str) -> int:
    """The second process: convert the pages its job names into the cache, as mkdocs would; once
    mkdocs has converted the others, lay its pages out into the cache too (into a scratch folder)."""
    from mkdocs.commands.build import _build_page, _populate_page
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files, set_exclusions
    from mkdocs.structure.nav import get_navigation
    from mkdocs.structure.pages import Page

    job = Path(job_folder)
    spec = json.loads((job / "job.json").read_text(encoding="utf-8"))
    log = logging.getLogger("mkdocs")
    log.setLevel(spec["level"])
    log.addHandler(logging.NullHandler())  # what it logs is kept with each page, and replayed by mkdocs
    log.propagate = False
    config = load_config(spec["config"], strict=spec["strict"], site_url=spec["site_url"])
    config.site_dir = str(job / "site")  # its own pages are written by mkdocs, from the cache
    config.plugins.on_startup(command="build", dirty=False)
    config = config.plugins.on_config(config)
    config.plugins.on_pre_build(config=config)
    files = get_files(config)
    env = config.theme.get_env()
    files.add_files_from_theme(env, config)
    files = config.plugins.on_files(files, config=config)
    set_exclusions(files, config)
    nav = get_navigation(files, config)
    nav = config.plugins.on_nav(nav, config=config, files=files)
    mine, layouts = set(spec["pages"]), set(spec["layouts"])
    doc_files = files.documentation_pages()
    pages = [(f.src_uri, f.page if f.page is not None else Page(None, f, config)) for f in doc_files]
    for uri, page in pages:
        if uri in mine:
            _populate_page(page, config, files)
    (job / CONVERTED).touch()
    parent = os.getppid()
    while not (job / ALL_CONVERTED).exists():  # mkdocs converts the rest, or has stopped
        if os.getppid() != parent:
            return 1
        time.sleep(0.02)
    for uri, page in pages:
        if uri not in mine:
            _populate_page(page, config, files)  # from the cache
    env = config.plugins.on_env(env, config=config, files=files)
    for uri, page in pages:
        if uri in layouts:
            _build_page(page, config, doc_files, nav, env)
    hook = next(p for p in config.plugins.values() if getattr(p, "on_page_markdown", None) and hasattr(p, "_state"))
    state = hook._state
    counts = {"converted": state.converted, "laid out": state.laid_out}
    (job / "counts.json").write_text(json.dumps(counts), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
