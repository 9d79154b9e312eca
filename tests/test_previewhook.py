"""The live preview's server watches the preview's signal instead of the pages it writes, and only
when the preview started it (the browser test runs the preview itself: tests/test_browser.py)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

from evidence_map.publishing import previewhook


class Server:
    """What on_serve uses of mkdocs' live-reload server: the paths it watches."""

    def __init__(self, *watched: str) -> None:
        self.watched = set(watched)

    def watch(self, path: str) -> None:
        self.watched.add(path)

    def unwatch(self, path: str) -> None:
        self.watched.remove(path)


def serve(work: Path, pid: str | None) -> set[str]:
    config = SimpleNamespace(config_file_path=str(work / "mkdocs.yml"), docs_dir=str(work / "docs"))
    folder = previewhook.signal_folder(work)
    if pid is not None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / previewhook.PREVIEW_PROCESS).write_text(pid, encoding="utf-8")
    server = Server(config.docs_dir, config.config_file_path)
    assert previewhook.on_serve(server, config, builder=None) is server
    return server.watched


def test_the_server_the_preview_starts_watches_its_signal(tmp_path: Path) -> None:
    assert serve(tmp_path, str(os.getppid())) == {str(previewhook.signal_folder(tmp_path))}


def test_another_server_watches_the_pages_as_mkdocs_does(tmp_path: Path) -> None:
    for work, pid in (
        (tmp_path / "never-previewed", None),
        (tmp_path / "previewed-by-a-process-since-gone", str(os.getpid() + 10**6)),
        (tmp_path / "unreadable", "not a number"),
    ):
        assert serve(work, pid) == {str(work / "docs"), str(work / "mkdocs.yml")}, work.name
