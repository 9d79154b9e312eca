"""Write generated files only when their content changed, and remove the ones no longer made.

Unchanged files keep their modification time, so the site generator's live reload and any
later step see only real changes, and a rebuild with nothing changed rewrites nothing.
"""

from __future__ import annotations

from pathlib import Path

from evidence_map.files import replace_file


class TreeWriter:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.kept: set[Path] = set()
        self.written = 0
        self.unchanged = 0

    def write(self, relative: str, content: str | bytes) -> Path:
        path = self.root / relative
        data = content.encode("utf-8") if isinstance(content, str) else content
        self.kept.add(path)
        try:
            if path.read_bytes() == data:
                self.unchanged += 1
                return path
        except OSError:
            pass
        replace_file(path, data)
        self.written += 1
        return path

    def prune(self) -> int:
        """Delete files under the root that this run did not write; returns how many."""
        removed = 0
        if not self.root.exists():
            return 0
        for path in sorted(self.root.rglob("*"), reverse=True):
            if path.is_file() and path not in self.kept:
                path.unlink()
                removed += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        return removed
