"""The live preview rebuilds once per regeneration of the pages, from pages that are whole.

mkdocs' server rebuilds the site whenever a file under its docs folder changes. `build.py serve`
writes that folder itself, one file after another, so the server started building while the pages
were half regenerated (a build that could show an edited review beside the old tables), then built
again once they were done: two builds per edit, on the cores the regeneration needs. A hook of the
generated configuration (site.py adds it; only `mkdocs serve` calls it): when the work folder has
the preview's signal folder, the server watches that folder instead of the docs folder and the
configuration, and preview.py writes a file into it after each regeneration that changed a page.
The folder names the preview's process, so that a server the preview did not start (`mkdocs serve`
run by hand on the work folder later) watches the docs folder as usual.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from watchdog.observers import Observer

SIGNAL_FOLDER = "preview-signal"  # in the work folder, beside the generated mkdocs.yml
SIGNAL_FILE = "regenerated"
PREVIEW_PROCESS = "preview.pid"  # the process of `build.py serve` that starts the server


def signal_folder(work: Path) -> Path:
    return work / SIGNAL_FOLDER


def on_serve(server: Any, config: Any, builder: Any, **_: Any) -> Any:
    """Watch the preview's signal, not the files it writes; mkdocs' own watching is left as it is
    for a server `build.py serve` did not start."""
    folder = signal_folder(Path(config.config_file_path).parent)
    try:
        started_by_preview = int((folder / PREVIEW_PROCESS).read_text(encoding="utf-8")) == os.getppid()
    except (OSError, ValueError):
        started_by_preview = False
    if not started_by_preview:
        return server
    server.unwatch(config.docs_dir)
    server.unwatch(config.config_file_path)
    if not server.observer.emitters:
        # Nothing else is watched (no --watch-theme). mkdocs' server polls what it watches every half
        # second, a quarter of a second late on average; the signal is written once per
        # regeneration, so the system's notice of it (inotify on Linux) is watched instead.
        server.observer = Observer()
    server.watch(str(folder))
    return server
