"""`build.py serve`: the live preview, which regenerates the pages when a record, template, page,
vocabulary or screening file changes, and keeps the last good pages when a change is invalid."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from evidence_map.paths import DOCS, ROOT
from evidence_map.publishing.site import prepare
from evidence_map.surveillance.queue import InvalidQueue


def serve(evidence_dir: Path, work: Path, dev_addr: str) -> int:
    """Generate the pages, then run the live preview, regenerating when inputs change."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    from evidence_map.records.evidence import InvalidEvidence

    def regenerate() -> None:
        try:
            prepare(evidence_dir, work)
            print("pages regenerated", file=sys.stderr)
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

    work.mkdir(parents=True, exist_ok=True)
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
