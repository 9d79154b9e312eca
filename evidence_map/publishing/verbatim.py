"""Raw HTML blocks that the page cache keeps out of Markdown: the largest tables of the site.

A template marks a block of raw HTML that Markdown would only copy (no `markdown` attribute in it)
by putting it between two comment lines, `<!-- verbatim -->` and `<!-- /verbatim -->`. Markdown
copies such a block as it is, but still reads every tag of it twice (to find where it ends, and for
mkdocs to collect its ids): at 2,000 reviews the pooled effects table took 4 s to copy, on every
build after any edit. The page cache (pagecache.py) hands Markdown a one-line placeholder instead,
so the page is converted, and its conversion keyed, without the block; then puts the block back.
The page is the same as Markdown makes of it (tests/test_verbatim.py), and a site generator
without the hook still reads the markers as comments and copies the block.
"""

from __future__ import annotations

import html
import re

START, END = "<!-- verbatim -->", "<!-- /verbatim -->"
# Each marker on a line of its own; the block after a blank line, where Markdown starts a raw block.
REGION = re.compile(rf"(?<=\n\n){re.escape(START)}\n.*?\n{re.escape(END)}(?=\n)", re.S)
PLACEHOLDER = "<!-- verbatim block {} -->"
# A `markdown` attribute asks Markdown to read inside the block: such a block is left in place.
MARKDOWN_INSIDE = re.compile(r"<[a-zA-Z][^>]*\smarkdown(?:[\s=>/])")
# What mkdocs counts as an anchor in raw HTML: any element's id, an <a>'s name (double-quoted here).
ID = re.compile(r"<[a-zA-Z][^>]*?\sid=\"([^\"]*)\"")
A_NAME = re.compile(r"<a\s[^>]*?\bname=\"([^\"]*)\"")


def split(markdown: str) -> tuple[str, list[str]]:
    """The Markdown with each marked block replaced by a placeholder, and the blocks in order."""
    blocks: list[str] = []

    def keep(m: re.Match[str]) -> str:
        if MARKDOWN_INSIDE.search(m.group(0)):
            return m.group(0)
        blocks.append(m.group(0))
        return PLACEHOLDER.format(len(blocks) - 1)

    if START not in markdown:
        return markdown, blocks
    return REGION.sub(keep, markdown), blocks


def join(converted: str, blocks: list[str]) -> str:
    """The converted page with its blocks back in place of their placeholders."""
    for i, block in enumerate(blocks):
        converted = converted.replace(PLACEHOLDER.format(i), block, 1)
    return converted


def anchors(blocks: list[str]) -> set[str]:
    """The anchors the blocks hold, as mkdocs would have found them in the raw HTML."""
    found: set[str] = set()
    for block in blocks:
        found.update(html.unescape(v) for v in ID.findall(block))
        found.update(html.unescape(v) for v in A_NAME.findall(block))
    return found
