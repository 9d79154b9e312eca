"""How soon the live preview shows an edit: `build.py serve` started on a benchmark's work folder
after its builds, then one record's summary edited, and the time until the preview serves the
review page with the new words; then the record saved again unchanged, and the time until the
preview says its pages are current. The preview builds without search, at its own address, so its
first build lays the pages out again; after that, an edit costs one regeneration and one build."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SERVING = re.compile(r"Serving on (\S+)")
WAIT = 900.0  # seconds, for the preview to start or to show the edit
CURRENT = "pages current:"  # what the preview says when a save changed nothing (preview.Regeneration)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return str(response.read().decode("utf-8"))
    except (OSError, urllib.error.URLError):
        return ""


def _said(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")


def _wait(what: str, ready: Any, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while not ready():
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the preview did not {what}; see {log}")
        time.sleep(0.2)


def preview_timing(evidence: Path, work: Path, log: Path) -> dict[str, Any]:
    """Seconds until the preview serves its first page, and from saving an edit to seeing it."""
    cmd = [sys.executable, "build.py", "serve", "--evidence", str(evidence), "--work", str(work)]
    cmd += ["--dev-addr", f"127.0.0.1:{_free_port()}"]
    t0 = time.monotonic()
    with open(log, "wb") as out:
        server = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        address: list[str] = []

        def serving() -> bool:
            m = SERVING.search(_said(log))
            if m and not address:
                address.append(m.group(1).rstrip("/") + "/")
            return bool(address) and bool(_get(address[0]))

        _wait("start", serving, server, log)
        started = time.monotonic() - t0
        builds_before = _said(log).count("Building documentation")

        files = sorted(evidence.glob("*.yaml"))
        record = files[len(files) // 3]
        data = yaml.safe_load(record.read_text(encoding="utf-8"))
        marker = f"Previewmarker{int(time.time())}"
        data["summary"] = f"{str(data['summary']).rstrip()} {marker}."
        page = f"{address[0]}reviews/{record.stem}/"
        t1 = time.monotonic()
        record.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        _wait("show the edit", lambda: marker in _get(page), server, log)
        shown = time.monotonic() - t1
        time.sleep(3)  # a second build, if one started, shows in the log
        text = _said(log)
        builds = text.count("Building documentation") - builds_before

        # The same record saved again as it is, as an editor's save without a change: the time until
        # the preview says its pages are current, and whether it built the site again.
        current = text.count(CURRENT)
        t2 = time.monotonic()
        record.write_bytes(record.read_bytes())
        _wait("notice the unchanged save", lambda: _said(log).count(CURRENT) > current, server, log)
        unchanged = time.monotonic() - t2
        time.sleep(3)
        rebuilt = _said(log).count("Building documentation") - builds_before - builds
        return {
            "start": started,
            "edit_shown": shown,
            "builds_per_edit": builds,
            "record": record.stem,
            "unchanged_save": unchanged,
            "builds_after_unchanged_save": rebuilt,
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # build.py and the mkdocs server it started
        server.wait(timeout=60)
