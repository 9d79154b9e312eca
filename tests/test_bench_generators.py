"""The benchmark's comparison of site generators builds what the mkdocs build read, and the same edit."""

from __future__ import annotations

from pathlib import Path

import yaml

from bench.generators import apply_edit, snapshot_sources


def _work(root: Path, plugins: list[object], footer: str) -> Path:
    work = root / "work"
    (work / "docs" / "reviews").mkdir(parents=True)
    (work / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
    (work / "docs" / "reviews" / "a.md").write_text("# A\n", encoding="utf-8")
    (work / "docs" / "reviews" / "b.md").write_text("# B\n", encoding="utf-8")
    config = {"site_name": "x", "copyright": footer, "plugins": plugins}
    (work / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return work


def test_the_copy_has_the_generated_pages_and_configuration_with_only_zensicals_search_off(tmp_path: Path) -> None:
    for plugins in (["tags"], ["tags", "search"], ["tags", {"search": {"lang": "en"}}]):
        work = _work(tmp_path / str(len(str(plugins))), plugins, "v1")
        into = work.parent / "copy"
        snapshot_sources(work, into)
        config = yaml.safe_load((into / "mkdocs.yml").read_text(encoding="utf-8"))
        assert config["plugins"] == ["tags", {"search": {"enabled": False}}]
        assert config["copyright"] == "v1"
        assert sorted(p.relative_to(into / "docs").as_posix() for p in (into / "docs").rglob("*.md")) == [
            "index.md",
            "reviews/a.md",
            "reviews/b.md",
        ]


def test_the_edit_brings_the_rewritten_and_removed_pages_and_the_new_configuration(tmp_path: Path) -> None:
    work = _work(tmp_path, ["tags"], "v1")
    into = tmp_path / "copy"
    snapshot_sources(work, into)
    (work / "docs" / "reviews" / "a.md").write_text("# A, edited\n", encoding="utf-8")
    (work / "docs" / "reviews" / "b.md").unlink()
    (work / "docs" / "reviews" / "c.md").write_text("# C\n", encoding="utf-8")
    config = yaml.safe_load((work / "mkdocs.yml").read_text(encoding="utf-8"))
    (work / "mkdocs.yml").write_text(yaml.safe_dump({**config, "copyright": "v2"}), encoding="utf-8")

    apply_edit(work, into, ["reviews/a.md", "reviews/c.md"], ["reviews/b.md"])

    docs = into / "docs"
    assert (docs / "reviews" / "a.md").read_text(encoding="utf-8") == "# A, edited\n"
    assert (docs / "reviews" / "c.md").read_text(encoding="utf-8") == "# C\n"
    assert not (docs / "reviews" / "b.md").exists()
    assert (docs / "index.md").read_text(encoding="utf-8") == "# Home\n"
    copied = yaml.safe_load((into / "mkdocs.yml").read_text(encoding="utf-8"))
    assert copied["copyright"] == "v2"
    assert copied["plugins"] == ["tags", {"search": {"enabled": False}}]
