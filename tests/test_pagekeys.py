"""A large build counts the pages missing from the page cache from the keys of the last build, and
reads again only the pages whose file changed (pagekeys.KnownKeys)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import SimpleNamespace

from evidence_map.publishing.pagekeys import KnownKeys, compiled_theme


class Page(SimpleNamespace):
    """What KnownKeys reads of a mkdocs file: its path, its address in the docs and its text."""

    @property
    def content_string(self) -> str:
        return Path(self.abs_src_path).read_text(encoding="utf-8")


def _pages(docs: Path) -> list[Page]:
    return [Page(src_uri=p.name, abs_src_path=str(p)) for p in sorted(docs.glob("*.md"))]


def _stats(pages: list[Page]) -> dict[str, os.stat_result]:
    return {p.src_uri: os.stat(p.abs_src_path) for p in pages}


def key(page: str, markdown: str) -> str:
    return f"{page}-{len(markdown)}-{abs(hash(markdown))}"


class Keys:
    """A key per page's converted Markdown, counting the pages it was asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, file: Page, markdown: str) -> str:
        self.asked.append(file.src_uri)
        return key(file.src_uri, markdown)


def test_only_the_pages_whose_file_changed_are_read_again_and_the_count_is_the_same(tmp_path: Path) -> None:
    docs, cache = tmp_path / "docs", tmp_path / "cache"
    docs.mkdir()
    cache.mkdir()
    for name, text in {"a.md": "# A\n", "b.md": "---\ntitle: B\n---\n# B, longer\n", "c.md": "# C\n"}.items():
        (docs / name).write_text(text, encoding="utf-8")

    first = Keys()
    pages = _pages(docs)
    missing = KnownKeys(tmp_path, "scope 1").missing(pages, _stats(pages), first, cache)
    assert first.asked == ["a.md", "b.md", "c.md"]
    # The front matter is not converted: its length does not count.
    assert missing == [("a.md", 4), ("b.md", len("# B, longer\n")), ("c.md", 4)]

    for name, markdown in (("a.md", "# A\n"), ("c.md", "# C\n")):  # converted since
        (cache / key(name, markdown)).write_text("converted", encoding="utf-8")

    (docs / "b.md").write_text("# B, edited\n", encoding="utf-8")
    again = Keys()
    pages = _pages(docs)
    missing = KnownKeys(tmp_path, "scope 1").missing(pages, _stats(pages), again, cache)
    assert again.asked == ["b.md"]
    assert missing == [("b.md", len("# B, edited\n"))]

    # Read from scratch, the same pages are missing.
    fresh = Keys()
    (tmp_path / KnownKeys.FILE).unlink()
    assert KnownKeys(tmp_path, "scope 1").missing(pages, _stats(pages), fresh, cache) == missing
    assert fresh.asked == ["a.md", "b.md", "c.md"]


def test_other_settings_or_site_files_read_every_page_again(tmp_path: Path) -> None:
    docs, cache = tmp_path / "docs", tmp_path / "cache"
    docs.mkdir()
    cache.mkdir()
    (docs / "a.md").write_text("# A\n", encoding="utf-8")
    pages = _pages(docs)
    KnownKeys(tmp_path, "scope 1").missing(pages, _stats(pages), Keys(), cache)

    other = Keys()
    KnownKeys(tmp_path, "scope 2").missing(pages, _stats(pages), other, cache)
    assert other.asked == ["a.md"]
    (tmp_path / KnownKeys.FILE).write_text("not json", encoding="utf-8")
    broken = Keys()
    KnownKeys(tmp_path, "scope 2").missing(pages, _stats(pages), broken, cache)
    assert broken.asked == ["a.md"]


def test_the_keys_kept_are_those_of_the_pages_of_the_last_build(tmp_path: Path) -> None:
    docs, cache = tmp_path / "docs", tmp_path / "cache"
    docs.mkdir()
    cache.mkdir()
    for name in ("a.md", "b.md"):
        (docs / name).write_text(f"# {name}\n", encoding="utf-8")
    pages = _pages(docs)
    KnownKeys(tmp_path, "s").missing(pages, _stats(pages), Keys(), cache)
    (docs / "b.md").unlink()
    pages = _pages(docs)
    KnownKeys(tmp_path, "s").missing(pages, _stats(pages), Keys(), cache)
    (docs / "b.md").write_text("# b.md\n", encoding="utf-8")  # back, with another modification time
    pages = _pages(docs)
    back = Keys()
    KnownKeys(tmp_path, "s").missing(pages, _stats(pages), back, cache)
    assert back.asked == ["b.md"]


def test_compiled_templates_are_kept_and_a_vanished_folder_costs_only_a_compilation(tmp_path: Path) -> None:
    import jinja2

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "main.html").write_text("<p>{{ x }}</p>", encoding="utf-8")

    def render(store: object) -> str:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(tmp_path / "templates"), bytecode_cache=store)
        return env.get_template("main.html").render(x=1)

    store = compiled_theme(tmp_path / "cache", "settings-digest-1")
    assert render(store) == "<p>1</p>"
    kept = list((tmp_path / "cache" / "compiled-theme").rglob("*"))
    assert [p.parent.name for p in kept if p.is_file()] == ["settings-digest-"]  # its first 16 characters
    shutil.rmtree(tmp_path / "cache")  # as another build pruning it would
    assert render(compiled_theme(tmp_path / "cache", "settings-digest-1")) == "<p>1</p>"
    shutil.rmtree(tmp_path / "cache")
    assert render(store) == "<p>1</p>"  # the store's folder is gone: compiled, not kept, no error
