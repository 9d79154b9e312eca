"""Everything a build reads, as one digest: when it equals the last successful build's, nothing is
loaded, graded, drawn, rendered or run, because the site would come out the same.

The digest covers the records and every other input folder by content (the vocabularies, rules,
schemas, templates, hand-written pages, theme overrides, screening files, audit data and the code),
the project's own files, the version of every installed package, the settings read from the
environment, the data version the pages print (the records' last commit) and today's date (the
validator's checks of dates and years move with it). It costs a read and a hash of each input file,
a small fraction of a build.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import time
from collections.abc import Callable
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

from evidence_map.files import replace_file
from evidence_map.paths import ROOT

FOLDERS = ("vocab", "schema", "templates", "docs", "audit", "rules", "screening", "overrides", "evidence_map")
FILES = ("mkdocs.yml", "pyproject.toml", "CITATION.cff", "LICENSE")
ENVIRONMENT = ("SITE_URL", "REPOSITORY_URL", "PAGEFIND_BINARY_PATH")
STAMP = "inputs-stamp.json"


def _files(folder: Path) -> list[Path]:
    found = []
    for parent, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        found += [Path(parent) / n for n in sorted(names) if not n.endswith((".pyc", "~"))]
    return found


class Digest:
    """A SHA-256 of parts, each text (as UTF-8) or bytes and each ended by a zero byte, so that two
    lists of parts never run together into the same bytes. Every digest of the build is one."""

    def __init__(self, *parts: object) -> None:
        self._h = hashlib.sha256()
        self.add(*parts)

    def add(self, *parts: object) -> None:
        for part in parts:
            self._h.update(part if isinstance(part, bytes) else str(part).encode("utf-8"))
            self._h.update(b"\0")

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def digest(*parts: object) -> str:
    return Digest(*parts).hexdigest()


def input_digest(evidence_dir: Path, out: Path, strict: bool, data_commit: str) -> str:
    """The digest of what a build of `evidence_dir` into `out` reads."""
    h = Digest()
    add = h.add
    add("inputs 2", evidence_dir.resolve(), out.resolve(), strict, data_commit, date.today().isoformat())
    for path in _files(evidence_dir):
        add(path.relative_to(evidence_dir).as_posix(), path.read_bytes())
    _add_project(add)
    return h.hexdigest()


def project_digest() -> str:
    """The digest of what the pages are made with besides the records: the project's folders and
    files, the installed packages and the settings read from the environment."""
    h = Digest("project 1")
    _add_project(h.add)
    return h.hexdigest()


def made_with(vocab: object) -> str:
    """What a page or figure kept between builds is made with besides its own inputs: the project
    by content (project_digest) and the vocabularies the map was loaded with, by value (a map may
    be loaded with other vocabularies than the project's). A build computes it once for its caches."""
    return digest(project_digest(), pickle.dumps(vocab, pickle.HIGHEST_PROTOCOL))


def _add_project(add: Callable[..., None]) -> None:
    add(*(f"{name}={os.environ.get(name, '')}" for name in ENVIRONMENT))
    add(*sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions()))
    for root in (ROOT / f for f in FOLDERS):
        for path in _files(root):
            add(root.name, path.relative_to(root).as_posix(), path.read_bytes())
    for name in FILES:
        path = ROOT / name
        add(name, path.read_bytes() if path.is_file() else b"absent")


def unchanged(evidence_dir: Path, out: Path, strict: bool, work: Path) -> str | None:
    """The inputs' digest, or None (having said so) when it is the one this work folder last published
    `out` from and `out` is still that folder. Imports nothing heavy, so the check is quick."""
    t0 = time.perf_counter()
    digest = input_digest(evidence_dir, out, strict, data_commit())
    if _read(work / STAMP) == {"inputs": digest, "site": folder_identity(out.resolve())}:
        print(
            f"built {out}: site was current: site generator and search index not run; nothing it is built "
            f"from has changed (compared by hash: no record loaded, no page rendered); "
            f"{time.perf_counter() - t0:.1f} s"
        )
        return None
    return digest


def published(work: Path, digest: str, out: Path) -> None:
    """Remember that `out`, as it is now, was built from inputs with this digest."""
    replace_file(work / STAMP, json.dumps({"inputs": digest, "site": folder_identity(out.resolve())}))


def _read(stamp: Path) -> Any:
    try:
        return json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def data_commit() -> str:
    """The last commit touching the records or the vocabularies, as the pages print it."""
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%h", "--", "evidence", "vocab"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return out or "uncommitted"


def folder_identity(path: Path) -> list[int] | None:
    """Which folder is at `path`: every swap puts a new one there, so a site another build has
    published since (or a deleted one) does not pass for this work folder's."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_mtime_ns]
