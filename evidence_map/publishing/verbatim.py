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
from collections.abc import Callable

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
    """The Markdown with each marked block replaced by a placeholder, and the blocks in order.

    What REGION matches, found with str.find: the pattern's lazy match over blocks of a megabyte
    took half a second a build at 2,000 reviews."""
    blocks: list[str] = []
    if START not in markdown:
        return markdown, blocks
    opener, closer = f"\n\n{START}\n", f"\n{END}"
    out: list[str] = []
    done = 0  # the text before this is in `out`
    at = markdown.find(opener)
    while at >= 0:
        start = at + 2
        end = markdown.find(closer, start + len(START) + 1)  # after the newline that ends the start line
        while end >= 0 and not markdown.startswith("\n", end + len(closer)):
            end = markdown.find(closer, end + 1)  # an end marker not alone on its line
        if end < 0:
            break  # no block opens here, nor after: every later start would find no end either
        end += len(closer)
        block = markdown[start:end]
        if "markdown" in block and MARKDOWN_INSIDE.search(block):
            at = markdown.find(opener, end)  # left in place
            continue
        out += (markdown[done:start], PLACEHOLDER.format(len(blocks)))
        blocks.append(block)
        done = end
        at = markdown.find(opener, end)
    out.append(markdown[done:])
    return "".join(out), blocks


def join(converted: str, blocks: list[str]) -> str:
    """The converted page with its blocks back in place of their placeholders."""
    for i, block in enumerate(blocks):
        converted = converted.replace(PLACEHOLDER.format(i), block, 1)
    return converted


def anchors(blocks: list[str]) -> set[str]:
    """The anchors the blocks hold, as mkdocs would have found them in the raw HTML: what ID and
    A_NAME find, found from each `id="` and `name="` (the patterns try every tag: 0.5 s a build
    on the pooled effects table at 2,000 reviews, which holds no anchor)."""
    found: set[str] = set()
    for block in blocks:
        found.update(html.unescape(v) for v in _values(block, 'id="', _TAG_OPEN, str.isspace))
        found.update(html.unescape(v) for v in _values(block, 'name="', _A_OPEN, _not_word))
    return found


_TAG_OPEN = re.compile(r"<[a-zA-Z]")  # how ID's tag opens; then [^>]*?, a space (\s) and `id="`
_A_OPEN = re.compile(r"<a\s")  # how A_NAME's tag opens; then [^>]*?, a word's start (\b) and `name="`


def _not_word(char: str) -> bool:
    return not (char.isalnum() or char == "_")


def _values(block: str, attribute: str, opening: re.Pattern[str], before: Callable[[str], bool]) -> list[str]:
    """What findall of `opening[^>]*?`, a character that passes `before`, then `attribute([^"]*)"`
    finds: each `attribute` after such a character, in a tag that opens after the last `>` before
    it and after the last match (the character is not a letter: no opening ends on it)."""
    values: list[str] = []
    after = 0  # where the last match ended: findall goes on from there
    at = block.find(attribute)
    while at >= 0:
        if at > after and before(block[at - 1]):
            start = max(block.rfind(">", after, at) + 1, after)
            if opening.search(block, start, at):
                end = block.find('"', at + len(attribute))
                if end < 0:
                    break  # nothing closes it, nor a later one: that one's own quote would close this
                values.append(block[at + len(attribute) : end])
                after = end + 1
                at = block.find(attribute, after)
                continue
        at = block.find(attribute, at + 1)
    return values
