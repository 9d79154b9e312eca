"""The live preview's regeneration (preview.Regeneration), without its server: what a save costs
and what it changes. The server's side, one build per edit, is tested in a browser (test_browser)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
import yaml

from evidence_map.publishing.preview import Regeneration
from evidence_map.publishing.previewhook import SIGNAL_FILE, signal_folder
from tests.conftest import copy_records


def times(folder: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("apart", [False, True], ids=["here", "in-the-fork-servers-process"])
def test_a_save_that_changes_nothing_regenerates_nothing(tmp_path: Path, apart: bool) -> None:
    """Run here, and as `build.py serve` runs it: in a process of the fork server, which forks the
    build's own processes although the test's process, like the preview's, runs threads."""
    evidence, work = copy_records(tmp_path / "evidence"), tmp_path / "work"
    watching = threading.Event()  # a thread, as the preview's file watcher is
    threading.Thread(target=watching.wait, daemon=True).start()
    regenerate = Regeneration(evidence, work, apart=apart)
    assert regenerate() == "pages regenerated"
    assert regenerate.started == ("fork" if apart else "spawn")
    signal = signal_folder(work) / SIGNAL_FILE
    first_signal = signal.read_text(encoding="utf-8")
    before = times(work)
    pages = times(work / "docs")

    # Saved as it was, as an editor does: nothing is loaded, written or signalled.
    record = sorted(evidence.glob("*.yaml"))[0]
    text = record.read_text(encoding="utf-8")
    record.write_text(text, encoding="utf-8")
    assert regenerate().startswith("pages current: nothing they are made from changed")
    assert times(work) == before

    # An invalid save keeps the last good pages; put back as it was, they are current.
    record.write_text(text.replace("n_studies:", "n_studies: many #", 1), encoding="utf-8")
    assert regenerate().endswith("errors: preview keeps the last good pages")
    record.write_text(text, encoding="utf-8")
    assert regenerate().startswith("pages current")
    assert times(work / "docs") == pages  # (the check of the invalid file is kept, in the work folder)
    assert signal.read_text(encoding="utf-8") == first_signal

    # A real edit regenerates the pages and signals the server once.
    data = yaml.safe_load(text)
    data["summary"] = data["summary"].rstrip() + " Zebrafinch sentence added by the test."
    record.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert regenerate() == "pages regenerated"
    assert "Zebrafinch sentence" in (work / "docs" / "reviews" / f"{data['id']}.md").read_text(encoding="utf-8")
    assert signal.read_text(encoding="utf-8") != first_signal
    assert regenerate().startswith("pages current")

    # A regeneration that fails on something other than the records says so, and the server is not
    # signalled; the next save tries again.
    record.write_text(text, encoding="utf-8")
    shutil.rmtree(work / "review-pages")
    (work / "review-pages").write_text("not a folder", encoding="utf-8")
    signalled = signal.read_text(encoding="utf-8")
    assert regenerate().startswith("regeneration failed (FileExistsError"), "the kept review pages cannot be saved"
    assert signal.read_text(encoding="utf-8") == signalled
    (work / "review-pages").unlink()
    assert regenerate() == "pages regenerated"
    watching.set()
