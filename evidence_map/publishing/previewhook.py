"""The live preview rebuilds once per regeneration of the pages, from pages that are whole.

mkdocs' server rebuilds the site whenever a file under its docs folder changes. `build.py serve`
writes that folder itself, one file after another, so the server started building while the pages
were half regenerated (a build that could show an edited review beside the old tables), then built
again once they were done: two builds per edit, on the cores the regeneration needs. A hook of the
generated configuration (site.py adds it; only `mkdocs serve` calls it): when the work folder has
the preview's signal folder, the server watches that folder instead of the docs folder and the
configuration, and preview.py writes a file into it after each regeneration that changed a page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SIGNAL_FOLDER = "preview-signal"  # in the work folder, beside the generated mkdocs.yml
SIGNAL_FILE = "regenerated"


def signal_folder(work: Path) -> Path:
    return work / SIGNAL_FOLDER


def on_serve(server: Any, config: Any, builder: Any, **_: Any) -> Any:
    """Watch the preview's signal, not the files it writes (without the signal folder, mkdocs'
    own watching is left as it is: the server was not started by `build.py serve`)."""
    folder = signal_folder(Path(config.config_file_path).parent)
    if not folder.is_dir():
        return server
    server.unwatch(config.docs_dir)
    server.unwatch(config.config_file_path)
    server.watch(str(folder))
    return server
