"""How a chart's marks link to pages of the site.

A mark carries an address under LINK_BASE, a reserved domain that never resolves; when the SVG is
written, chartrender.linked_svg turns it into a link relative to the chart's own file, so links work
at the site root, under a sub-path and offline. Kept apart so drawing processes need no Altair.
"""

LINK_BASE = "https://evidence-map.invalid/"


def site_link(path: str) -> str:
    """A mark's link to a page of the site, by its path from the site root."""
    return LINK_BASE + path
