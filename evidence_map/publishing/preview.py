"""`build.py serve`: the live preview, which regenerates the pages when a record, template, page,
vocabulary or screening file changes, and keeps the last good pages when a change is invalid.

The site generator's server rebuilds when this module signals that a regeneration changed what it
reads (previewhook.py), not while the pages are being written: one build per edit, of whole pages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from evidence_map.files import replace_file
from evidence_map.paths import DOCS, ROOT
from evidence_map.publishing.generator import site_digest
from evidence_map.publishing.previewhook import PREVIEW_PROCESS, SIGNAL_FILE, signal_folder
from evidence_map.publishing.site import prepare
from evidence_map.surveillance.queue import InvalidQueue


def serve(evidence_dir: Path, work: Path, dev_addr: str) -> int:
    """Generate the pages, then run the live preview, regenerating when inputs change."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    from evidence_map.records.evidence import InvalidEvidence

    signal = signal_folder(work)
    last: list[str] = []  # the digest of what the site generator read at its last build
    one_at_a_time = threading.Lock()  # an edit saved during a regeneration waits for it

    def regenerate() -> None:
        with one_at_a_time:
            _regenerate()

    def _regenerate() -> None:
        try:
            prepared = prepare(evidence_dir, work)
            now = site_digest(prepared.config, signal, strict=False)
            if last and now == last[0]:
                print("pages regenerated: nothing the site shows changed", file=sys.stderr)
                return
            last[:] = [now]
            print("pages regenerated", file=sys.stderr)
            replace_file(signal / SIGNAL_FILE, now)  # the server rebuilds once, now (previewhook.py)
        except (InvalidEvidence, InvalidQueue) as exc:
            for p in exc.problems:
                print(p, file=sys.stderr)
            print(f"{len(exc.problems)} errors: preview keeps the last good pages", file=sys.stderr)

    pending: list[threading.Timer] = []

    class OnChange(FileSystemEventHandler):
        """Regenerate once per burst of events (an editor's save fires several)."""

        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.is_directory or str(event.src_path).endswith((".tmp", "~")):
                return
            if event.event_type not in ("created", "modified", "deleted", "moved", "closed"):
                return  # reading a file (opened, closed_no_write) changes nothing
            for timer in pending:
                timer.cancel()
            pending[:] = [threading.Timer(0.3, regenerate)]
            pending[0].start()

    signal.mkdir(parents=True, exist_ok=True)
    replace_file(signal / PREVIEW_PROCESS, str(os.getpid()))  # the server it starts watches the signal
    regenerate()
    print("live preview: no search here; search works in the site `build.py build` makes", file=sys.stderr)
    observer = Observer()
    for folder in (evidence_dir, ROOT / "templates", DOCS, ROOT / "vocab", ROOT / "screening"):
        observer.schedule(OnChange(), str(folder), recursive=True)
    observer.start()
    try:
        return subprocess.call(
            [sys.executable, "-m", "mkdocs", "serve", "--config-file", str(work / "mkdocs.yml"), "--dev-addr", dev_addr]
        )
    finally:
        observer.stop()
        observer.join()
