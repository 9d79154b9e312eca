"""The site generator's run: its messages, and --strict."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence_map.publishing.generator import BuildFailed, run_generator, theme_messages


def test_progress_messages_are_left_out_and_warnings_kept() -> None:
    stderr = (
        "INFO    -  Cleaning site directory\n"
        "INFO    -  The following pages exist in the docs directory:\n"
        "  - a.md\n"
        "WARNING -  Doc file 'index.md' contains a link 'missing.md', but the target is not found.\n"
        "  │  Material for MkDocs reaches end of life on May 5, 2027.\n"
        "INFO    -  Documentation built in 0.10 seconds\n"
    )
    assert theme_messages(stderr) == [
        "WARNING -  Doc file 'index.md' contains a link 'missing.md', but the target is not found.",
        "note: Material for MkDocs reaches end of life on May 5, 2027; MAINTENANCE.md says how to move to Zensical",
    ]


def test_a_strict_build_fails_on_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Run quiet, mkdocs does not log its warnings, and --strict never failed on one."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Page\n\n[a link](missing.md)\n", encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: test\n", encoding="utf-8")
    run_generator(config, tmp_path / "site", strict=False)
    assert "missing.md" in capsys.readouterr().err
    with pytest.raises(BuildFailed):
        run_generator(config, tmp_path / "strict-site", strict=True)
    assert "missing.md" in capsys.readouterr().err
