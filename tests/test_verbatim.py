"""The raw HTML blocks the page cache keeps out of Markdown (publishing/verbatim.py) come out of a
build exactly as Markdown would have made them, on the real generated pages."""

from __future__ import annotations

import html
import re
from typing import Any

import markdown
from hypothesis import given, settings
from hypothesis import strategies as st
from mkdocs.config import load_config
from mkdocs.utils import meta

from evidence_map.publishing import verbatim

PAGE = """# A page

Some text.

<!-- verbatim -->
<div class="x">
<table><tr><td id="row-1"><a name="a&amp;b" href="../r/">R</a></td></tr></table>

</div>
<!-- /verbatim -->

More text.
"""


def test_a_marked_block_is_replaced_by_a_placeholder_and_put_back() -> None:
    text, blocks = verbatim.split(PAGE)
    assert len(blocks) == 1 and "<table>" in blocks[0] and "<table>" not in text
    assert verbatim.PLACEHOLDER.format(0) in text
    assert verbatim.join(text, blocks) == PAGE
    assert verbatim.anchors(blocks) == {"row-1", "a&b"}


def _split_by_pattern(text: str) -> tuple[str, list[str]]:
    """What split makes, by the definition of a marked block: verbatim.REGION's matches."""
    blocks: list[str] = []

    def keep(m: re.Match[str]) -> str:
        if verbatim.MARKDOWN_INSIDE.search(m.group(0)):
            return m.group(0)
        blocks.append(m.group(0))
        return verbatim.PLACEHOLDER.format(len(blocks) - 1)

    return verbatim.REGION.sub(keep, text), blocks


START, END = verbatim.START, verbatim.END
PIECES = ["\n", "\n\n", START, END, f"\n\n{START}\n", f"\n{END}\n", f"{START}\n{END}", "x", "<div markdown>", " "]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_split_finds_what_the_pattern_of_a_block_matches(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert verbatim.split(text) == _split_by_pattern(text)


ANCHOR_PIECES = ["<", ">", "<a", "<b", " ", "\n", "a", "_", "-", 'id="', 'name="', '"', "x", "&amp;", "é"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.lists(st.sampled_from(ANCHOR_PIECES), max_size=25).map("".join), max_size=3))
def test_anchors_are_what_the_patterns_of_an_id_and_a_name_find(blocks: list[str]) -> None:
    """anchors() finds from each `id="` and `name="` what the patterns find by trying every tag."""
    by_pattern = {
        html.unescape(v) for b in blocks for pattern in (verbatim.ID, verbatim.A_NAME) for v in pattern.findall(b)
    }
    assert verbatim.anchors(blocks) == by_pattern


def test_a_block_markdown_would_read_inside_is_left_in_place() -> None:
    for page in (
        PAGE.replace('<div class="x">', '<div class="x" markdown>'),
        PAGE.replace("text.\n\n<!--", "text.\n<!--"),
    ):
        text, blocks = verbatim.split(page)
        assert (text, blocks) == (page, [])


def converter(config: Any) -> markdown.Markdown:
    return markdown.Markdown(extensions=config.markdown_extensions, extension_configs=config.mdx_configs)


def test_the_generated_pages_convert_as_markdown_converts_them(built: Any) -> None:
    """Every generated page with a marked block: converted whole, and converted without its blocks
    and given them back, Markdown (with the site's extensions) makes the same HTML; and the built
    page holds each block as written."""
    config = load_config(str(built.work / "mkdocs.yml"))
    docs = built.work / "docs"
    marked = {}
    for path in sorted(docs.rglob("*.md")):
        body = meta.get_data(path.read_text(encoding="utf-8"))[0]
        text, blocks = verbatim.split(body)
        assert (text, blocks) == _split_by_pattern(body), path
        assert len(blocks) == body.count(verbatim.START), path  # every marked block is kept out
        if blocks:
            marked[path.relative_to(docs).as_posix()] = (body, text, blocks)
    assert {"effects.md", "reviews/index.md", "dosing.md", "quality.md"} <= set(marked)  # tables of every review
    for rel, (body, text, blocks) in marked.items():
        whole = converter(config).convert(body)
        assert verbatim.join(converter(config).convert(text), blocks) == whole, rel
        page = built.html(rel.removesuffix(".md").removesuffix("index").rstrip("/"))
        assert all(block in page for block in blocks), rel
