"""Escaping: how untrusted record text becomes inert Markdown.

Every value a template prints passes through `escape` (the Jinja environment's finalize hook)
unless the code marks it `Markup` on purpose. Escaping turns each character that Markdown or HTML
could read as syntax into a numeric character reference, so `<script>`, `[x](javascript:...)`,
`{: onclick=...}`, emphasis and tables all reach the reader as the literal text they were.
Line breaks fold into spaces, so a value can never start a new block.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from markupsafe import Markup

_SPACE = re.compile(r"\s+")
_SPECIAL = frozenset("\\`*_{}[]()#+-.!|<>&\"'~=$^@:%")
_REFERENCES = {ord(c): f"&#{ord(c)};" for c in _SPECIAL}


def escape(value: Any) -> Any:
    """Inert Markdown/HTML for any printed value; `Markup` passes through unchanged.

    The pages print the same few words again and again (at 2,000 reviews, 530,000 texts of which
    22,000 differ: names of conditions, sources, measures), so a short text's escaped form is kept.
    Only exact `str` values are kept: a `Markup` equal to a kept text must still pass unchanged."""
    if type(value) is str:
        done = _ESCAPED.get(value)
        if done is None:
            done = _inert(value)
            if len(value) <= KEPT_LENGTH and len(_ESCAPED) < KEPT_TEXTS:
                _ESCAPED[value] = done
        return done
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    return _inert(str(value))


def _inert(text: str) -> Markup:
    if text.isalnum():  # letters and digits only, most printed values: nothing to escape or fold
        return Markup(text)
    return Markup(_SPACE.sub(" ", text).translate(_REFERENCES))


KEPT_LENGTH = 200  # longer texts (summaries, findings) are printed once or twice each
KEPT_TEXTS = 100_000
_ESCAPED: dict[str, Markup] = {}


def yaml_string(value: str) -> Markup:
    """A front-matter value, HTML-escaped: the theme prints titles and descriptions unescaped.

    JSON strings are valid YAML and cannot break out of their line.
    """
    return Markup(json.dumps(html.escape(_SPACE.sub(" ", str(value))), ensure_ascii=True))


def yaml_tag(value: str) -> Markup:
    """A tag name for front matter. Tags come from the vocabularies, never from record text."""
    return Markup(json.dumps(str(value), ensure_ascii=True))
