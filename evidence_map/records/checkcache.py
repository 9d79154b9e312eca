"""The outcome of checking each record file, kept between builds: a file whose bytes are unchanged
is not parsed and checked again.

A build after a one-record edit, or the live preview after a save, checks 2,000 files to find one
changed. The cache keeps each file's `Checked` under a key made of everything its check reads: the
file's bytes and path, the vocabularies, the record schema, the validator's own code, and today's
date (the checks of dates and years move with it). A key that differs in any of these is a
different entry, so an entry is never stale. The entries are one file in the build's work folder,
read once and written once (2,000 small files cost a cold build half a second to write), holding
only the entries the last check of the folder used.
"""

from __future__ import annotations

import hashlib
import pickle
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from evidence_map.files import replace_file
from evidence_map.paths import SCHEMA

if TYPE_CHECKING:
    from evidence_map.records.validate import Checked
    from evidence_map.records.vocab import Vocabularies

VERSION = b"record checks 1"
FILE = "checks.pickle"


class CheckCache:
    """The checks of one folder, kept in `folder`/checks.pickle."""

    def __init__(self, folder: Path, vocab: Vocabularies) -> None:
        self.path = folder / FILE
        h = hashlib.sha256(VERSION)
        h.update(pickle.dumps(vocab, pickle.HIGHEST_PROTOCOL))
        h.update(SCHEMA.read_bytes() if SCHEMA.is_file() else b"no schema")
        code = Path(__file__).parent
        for path in sorted(code.glob("*.py")):
            h.update(path.name.encode() + b"\0" + path.read_bytes())
        h.update(date.today().isoformat().encode())
        self._base = h.digest()
        try:
            self._kept: dict[str, bytes] = pickle.loads(self.path.read_bytes())
        except (OSError, pickle.PickleError, EOFError, ValueError, AttributeError):
            self._kept = {}
        self._used: dict[str, bytes] = {}

    def key(self, data: bytes, path: str) -> str:
        h = hashlib.sha256(self._base)
        h.update(path.encode() + b"\0")
        h.update(data)
        return h.hexdigest()

    def get(self, key: str) -> Checked | None:
        entry = self._kept.get(key)
        if entry is None:
            return None
        try:
            checked: Checked = pickle.loads(entry)
        except (pickle.PickleError, EOFError, ValueError, AttributeError):
            return None
        self._used[key] = entry
        return checked

    def put(self, key: str, checked: Checked, pickled: bytes | None = None) -> None:
        """Keep `checked` (`pickled`: the same, already pickled)."""
        self._used[key] = pickled if pickled is not None else pickle.dumps(checked, pickle.HIGHEST_PROTOCOL)

    def save(self) -> None:
        """Keep the entries this check used, and only those."""
        if self._used.keys() == self._kept.keys():
            return
        replace_file(self.path, pickle.dumps(self._used, pickle.HIGHEST_PROTOCOL))
