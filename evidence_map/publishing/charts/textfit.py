"""How wide a line of chart text is, and long text wrapped to a width, so that no label is cut short.

Vega draws a text mark on one line and can only cut it with "…", so a label that must be read whole
(a forest plot's outcome) is broken into lines here, from the font's own letter widths.
"""

from __future__ import annotations

import unicodedata

# Helvetica's advance widths in thousandths of an em (Adobe's font metrics), for " " to "~" in order;
# Arial and Liberation Sans, the chart font's stand-ins, have the same widths.
_ASCII_WIDTHS = (
    (278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278)
    + (556,) * 10
    + (278, 278, 584, 584, 584, 556, 1015)
    + (667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833)
    + (722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611)
    + (278, 278, 278, 469, 556, 333)
    + (556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833)
    + (556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500)
    + (334, 260, 334, 584)
)
assert len(_ASCII_WIDTHS) == 95
_OTHER_WIDTHS = {"–": 556, "—": 1000, "−": 584, "²": 333, "·": 278, "…": 1000, "←": 1000, "→": 1000}
_UNKNOWN = 750  # wider than most letters: a guess errs towards an earlier line break
_SYMBOL = 1000  # a pictograph (⚠) comes from a fallback font, often a full em wide
# A reader without those fonts sees a substitute: DejaVu Sans, the usual one on Linux, sets the
# records' labels up to 17% wider than Helvetica, so widths allow for that.
_SUBSTITUTE = 1.18


def _char_width(ch: str) -> int:
    code = ord(ch)
    if 32 <= code < 127:
        return _ASCII_WIDTHS[code - 32]
    if ch in _OTHER_WIDTHS:
        return _OTHER_WIDTHS[ch]
    return _SYMBOL if unicodedata.category(ch) == "So" else _UNKNOWN


def text_width(text: str, size: float) -> float:
    """The width in px one line of text at `size` px may take, in the chart font or its substitute."""
    return sum(_char_width(ch) for ch in text) * size / 1000 * _SUBSTITUTE


def wrap(text: str, width: float, size: float) -> list[str]:
    """`text` broken at spaces into lines no wider than `width` px; a word wider than that on its own
    is broken inside, so every character is shown and nothing is cut."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if text_width(candidate, size) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        while text_width(line, size) > width:
            cut = _fitting_prefix(line, width, size)
            lines.append(line[:cut])
            line = line[cut:]
    if line or not lines:
        lines.append(line)
    return lines


def _fitting_prefix(word: str, width: float, size: float) -> int:
    """How many of `word`'s characters fit in `width` px (at least one, so wrapping always ends)."""
    n = 1
    while n < len(word) and text_width(word[: n + 1], size) <= width:
        n += 1
    return n
