"""Helpers for tests that build the real site: build once per session, read HTML and the search index."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Built:
    site: Path
    work: Path
    stdout: str

    def html(self, page: str) -> str:
        return (self.site / page / "index.html").read_text(encoding="utf-8")

    def search_docs(self) -> list[dict[str, Any]]:
        return json.loads((self.site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]


def build(out: Path, work: Path, evidence: Path | None = None, strict: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "build.py", "build", "--out", str(out), "--work", str(work)]
    if evidence is not None:
        cmd += ["--evidence", str(evidence)]
    if strict:
        cmd.append("--strict")
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)


class Links(HTMLParser):
    """Collects hrefs, srcs and ids of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.ids: set[str] = set()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "a" and a.get("href"):
            self.hrefs.append(str(a["href"]))
        if a.get("src"):
            self.srcs.append(str(a["src"]))


def parse(html: str) -> Links:
    p = Links()
    p.feed(html)
    return p
