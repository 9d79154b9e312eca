"""The footer's data version, kept out of the page cache's layouts (pagecache.py).

Every page's footer names the data version: the newest `updated` date of the records and the last
commit that touched them (site.py writes it into the generated configuration as `copyright`).
A contributor's edit moves that date, and every merge moves that commit, so with the footer in its
key every layout of the site missed after such a change: at 2,000 reviews, an edit laid out all
2,089 pages again. The theme lays the pages out with a placeholder instead, the key is made from
the configuration without the footer, and the footer goes in where the placeholder is, every time
a layout is used. The theme prints the footer as it is (its templates do not escape it), so the
page is the same as if it had been laid out with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

FIELD = "copyright"
PLACEHOLDER = "evidence-map-footer-placeholder-5b1f0c"


def configuration_without_footer(config_file: Path) -> str:
    """The configuration file's settings, but the footer, as stable text."""
    try:
        loader = yaml.CSafeLoader
    except AttributeError:  # pragma: no cover - PyYAML without libyaml
        loader = yaml.SafeLoader  # type: ignore[assignment,misc]
    text = config_file.read_text(encoding="utf-8")
    try:
        settings = yaml.load(text, Loader=loader)
    except yaml.YAMLError:  # a tag only mkdocs' own loader reads: the whole text, footer included
        return text
    if not isinstance(settings, dict) or PLACEHOLDER in text:
        return text  # nothing to take out, or a footer this module cannot tell apart
    settings.pop(FIELD, None)
    return yaml.dump(settings, Dumper=yaml.SafeDumper, sort_keys=True, allow_unicode=True)


def keep_out(config: Any) -> str:
    """Put the placeholder in the footer's place; returns the footer, for `put_back`."""
    footer = str(config.get(FIELD) or "")
    if footer:
        config[FIELD] = PLACEHOLDER
    return footer


def put_back(html: str, footer: str) -> str:
    return html.replace(PLACEHOLDER, footer) if footer else html


class WithFooter:
    """A theme template whose output gets the footer back."""

    def __init__(self, template: Any, footer: str) -> None:
        self._template = template
        self._footer = footer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._template, name)

    def render(self, *args: Any, **kwargs: Any) -> str:
        return put_back(str(self._template.render(*args, **kwargs)), self._footer)
