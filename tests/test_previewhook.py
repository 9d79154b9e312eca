"""The live preview's server watches the preview's signal instead of the pages it writes, and only
when the preview started it (the browser test runs the preview itself: tests/test_browser.py).
Tested on mkdocs' own live-reload server, not started: what it watches, and how."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace

from mkdocs.livereload import LiveReloadServer
from watchdog.observers.polling import PollingObserver

from evidence_map.files import replace_file
from evidence_map.publishing import previewhook


def serve(work: Path, pid: str | None, *also: Path) -> LiveReloadServer:
    """A server set up as `mkdocs serve` sets it up (it watches the pages, the configuration and
    any path given), then handed to the hook."""
    config = SimpleNamespace(config_file_path=str(work / "mkdocs.yml"), docs_dir=str(work / "docs"))
    (work / "docs").mkdir(parents=True)
    (work / "mkdocs.yml").write_text("site_name: test\n", encoding="utf-8")
    folder = previewhook.signal_folder(work)
    if pid is not None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / previewhook.PREVIEW_PROCESS).write_text(pid, encoding="utf-8")
    server = LiveReloadServer(builder=lambda: None, host="127.0.0.1", port=0, root=str(work))
    for path in (config.docs_dir, config.config_file_path, *map(str, also)):
        server.watch(path)
    assert previewhook.on_serve(server, config, builder=None) is server
    return server


def watched(server: LiveReloadServer) -> set[str]:
    return set(server._watched_paths)  # mkdocs keeps what it watches there


def test_the_server_the_preview_starts_is_told_of_its_signal_at_once(tmp_path: Path) -> None:
    server = serve(tmp_path, str(os.getppid()))
    folder = previewhook.signal_folder(tmp_path)
    assert watched(server) == {str(folder)}
    # Told by the system, not by polling every half second, as mkdocs watches by default.
    assert not isinstance(server.observer, PollingObserver)
    server.observer.start()
    try:
        replace_file(folder / previewhook.SIGNAL_FILE, "regenerated")
        deadline = time.monotonic() + 10
        while not server._want_rebuild and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server._want_rebuild  # what mkdocs' build loop waits for
    finally:
        server.observer.stop()
        server.observer.join()


def test_with_the_theme_watched_too_the_server_keeps_polling(tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    theme.mkdir()
    server = serve(tmp_path / "work", str(os.getppid()), theme)
    assert watched(server) == {str(theme), str(previewhook.signal_folder(tmp_path / "work"))}
    assert isinstance(server.observer, PollingObserver)


def test_another_server_watches_the_pages_as_mkdocs_does(tmp_path: Path) -> None:
    for work, pid in (
        (tmp_path / "never-previewed", None),
        (tmp_path / "previewed-by-a-process-since-gone", str(os.getpid() + 10**6)),
        (tmp_path / "unreadable", "not a number"),
    ):
        server = serve(work, pid)
        assert watched(server) == {str(work / "docs"), str(work / "mkdocs.yml")}, work.name
        assert isinstance(server.observer, PollingObserver)
