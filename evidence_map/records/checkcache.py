"""The outcome of checking each record file, kept between builds: a file whose bytes are unchanged
is not parsed and checked again.

A build after a one-record edit, or the live preview after a save, checks 2,000 files to find one
changed. The cache, a folder of the build's work folder, keeps each file's `Checked` under a key
made of everything its check reads: the file's bytes and its path as messages show it, the
vocabularies, the record schema, the validator's own code, and today's date (the checks of dates and
years move with it). A key that differs in any of these is a different entry, so an entry is never
stale; the entries a check of the folder did not use are deleted after it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from evidence_map.paths import SCHEMA

if TYPE_CHECKING:
    from evidence_map.records.validate import Checked
    from evidence_map.records.vocab import Vocabularies

VERSION = b"record checks 1"


class CheckCache:
    """The checks of one folder, read from and written to `folder`."""

    def __init__(self, folder: Path, vocab: Vocabularies) -> None:
        self.folder = folder
        h = hashlib.sha256(VERSION)
        h.update(pickle.dumps(vocab, pickle.HIGHEST_PROTOCOL))
        h.update(SCHEMA.read_bytes() if SCHEMA.is_file() else b"no schema")
        code = Path(__file__).parent
        for path in sorted(code.glob("*.py")):
            h.update(path.name.encode() + b"\0" + path.read_bytes())
        h.update(date.today().isoformat().encode())
        self._base = h.digest()
        self._used: set[str] = set()

    def key(self, data: bytes, shown_as: str, name: str) -> str:
        h = hashlib.sha256(self._base)
        h.update(shown_as.encode() + b"\0" + name.encode() + b"\0")
        h.update(data)
        key = h.hexdigest()
        self._used.add(key)
        return key

    def get(self, key: str) -> Checked | None:
        try:
            checked: Checked = pickle.loads((self.folder / key).read_bytes())
        except (OSError, pickle.PickleError, EOFError, ValueError, AttributeError):
            return None
        return checked

    def put(self, key: str, checked: Checked) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{key}.{os.getpid()}.tmp"
        tmp.write_bytes(pickle.dumps(checked, pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, self.folder / key)

    def prune(self) -> None:
        """Delete the entries this check did not use."""
        if self.folder.is_dir():
            for entry in os.scandir(self.folder):
                if entry.name not in self._used and not entry.name.startswith("."):
                    Path(entry.path).unlink(missing_ok=True)
