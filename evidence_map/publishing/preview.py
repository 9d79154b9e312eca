"""`build.py serve`: the live preview, which regenerates the pages when a record, template, page,
vocabulary or screening file changes, and keeps the last good pages when a change is invalid.

The site generator's server rebuilds when this module signals that a regeneration changed what it
reads (previewhook.py), not while the pages are being written: one build per edit, of whole pages.

The preview runs threads (its file watcher, a timer per save), so a regeneration run in it would
spawn the build's other processes (processes.py), each importing the modules and, for the pages,
receiving the map again. Each regeneration runs instead in a process forked from a clean one that
has the modules imported and no thread (multiprocessing's fork server), so it forks its own.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

from evidence_map.files import replace_file
from evidence_map.paths import DOCS, ROOT
from evidence_map.processes import START_SETTING, start_method
from evidence_map.publishing.generator import site_digest
from evidence_map.publishing.inputs import data_commit, input_digest
from evidence_map.publishing.previewhook import PREVIEW_PROCESS, SIGNAL_FILE, signal_folder
from evidence_map.publishing.site import prepare
from evidence_map.records.evidence import InvalidEvidence
from evidence_map.surveillance.queue import InvalidQueue

if TYPE_CHECKING:
    from multiprocessing.context import ForkServerContext  # not on every platform


class Regeneration:
    """The preview's regeneration of the pages, one at a time. Before anything is loaded, it compares
    the inputs' digest (the one a build compares, inputs.py) with that of the last good regeneration:
    an editor's save that changes nothing, or an invalid record put back as it was, costs a hash of
    the inputs, not a regeneration (at 2,000 reviews, 0.14 s rather than 10.7 s)."""

    def __init__(self, evidence_dir: Path, work: Path, apart: bool = False) -> None:
        """`apart`: regenerate in a process of the fork server (see the module's docstring), where
        the platform has one and processes may be forked (processes.START_SETTING)."""
        self.evidence_dir = evidence_dir
        self.work = work
        self.signal = signal_folder(work)
        self._inputs = ""  # the inputs' digest at the last good regeneration
        self._site = ""  # the digest of what the site generator read then
        self._one_at_a_time = threading.Lock()  # an edit saved during a regeneration waits for it
        self._server = _fork_server() if apart else None
        self.started = ""  # how the last regeneration started the build's other processes: fork or spawn

    def __call__(self) -> str:
        """Regenerate if anything changed; returns what happened, as printed."""
        with self._one_at_a_time:
            said = self._regenerate()
        print(said, file=sys.stderr)
        return said

    def _regenerate(self) -> str:
        inputs = input_digest(self.evidence_dir, self.signal, False, data_commit())
        if inputs == self._inputs:
            return "pages current: nothing they are made from changed since the last good regeneration"
        if self._server is None:
            outcome = _prepare_here(self.evidence_dir, self.work)
        else:
            outcome = _prepared_apart(self._server, self.evidence_dir, self.work)
        self.started = outcome.started
        if outcome.kind == "failed":
            return f"regeneration failed ({outcome.said[0]}): preview keeps the last good pages; see the messages above"
        if outcome.kind == "invalid":
            for line in outcome.said:
                print(line, file=sys.stderr)
            return f"{len(outcome.said)} errors: preview keeps the last good pages"
        self._inputs = inputs
        now = site_digest(Path(outcome.said[0]), self.signal, strict=False)
        if now == self._site:
            return "pages regenerated: nothing the site shows changed"
        self._site = now
        self.signal.mkdir(parents=True, exist_ok=True)
        replace_file(self.signal / SIGNAL_FILE, now)  # the server rebuilds once, now (previewhook.py)
        return "pages regenerated"


@dataclass(frozen=True)
class Outcome:
    """What a regeneration came to, as the fork server's process sends it back."""

    kind: str  # "prepared", "invalid" or "failed"
    said: tuple[str, ...]  # the generated configuration's path; the records' problems; what failed
    started: str = ""  # how the regeneration started the build's other processes: fork or spawn


def _prepared(evidence_dir: Path, work: Path) -> Outcome:
    method = start_method()  # what prepare() will decide for its own processes, asked first
    return Outcome("prepared", (str(prepare(evidence_dir, work).config),), method)


def _prepare_here(evidence_dir: Path, work: Path) -> Outcome:
    """The regeneration's outcome; an error in the work itself is printed with its traceback, and
    the preview goes on with the last good pages."""
    try:
        return _prepared(evidence_dir, work)
    except (InvalidEvidence, InvalidQueue) as exc:
        return Outcome("invalid", tuple(str(p) for p in exc.problems))
    except Exception as exc:  # a template or a full disk must not end the preview
        traceback.print_exc()
        return Outcome("failed", (type(exc).__name__,))


def _prepare_and_say(evidence_dir: Path, work: Path, out: Connection) -> None:
    """In the fork server's process: regenerate, and send the outcome."""
    out.send(_prepare_here(evidence_dir, work))
    out.close()


def _fork_server() -> ForkServerContext | None:
    if os.environ.get(START_SETTING) == "spawn" or "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["evidence_map.publishing.site"])
    return context


def _prepared_apart(context: ForkServerContext, evidence_dir: Path, work: Path) -> Outcome:
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_prepare_and_say, args=(evidence_dir, work, send))
    process.start()
    send.close()
    try:
        outcome: Outcome = receive.recv()
    except EOFError:  # the process ended without a word: killed, or out of memory
        process.join()
        return Outcome("failed", (f"exit {process.exitcode}",))
    process.join()
    return outcome


def serve(evidence_dir: Path, work: Path, dev_addr: str) -> int:
    """Generate the pages, then run the live preview, regenerating when inputs change."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    regenerate = Regeneration(evidence_dir, work, apart=True)
    signal = regenerate.signal

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
