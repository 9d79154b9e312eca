"""`build.py new <id>`: start a record from the commented template, pre-filled from the id."""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

import jinja2

from evidence_map.paths import TEMPLATES

ID = re.compile(r"^(?P<surname>[a-z]+(?:-[a-z]+)*)-(?P<year>\d{4})[a-z]?$")


def record_template(record_id: str, surname: str, year: str, today: str) -> str:
    """The commented record template, filled with an id, a surname, a year and a date."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True, autoescape=False)
    return env.get_template("record.yaml.j2").render(id=record_id, surname=surname, year=year, today=today)


def new_file_link(repository: str, today: str = "2026-01-31") -> str:
    """GitHub's new-file page in evidence/, pre-filled with the template, for contributors who work
    on the website. The dates are the template's example; the contributor sets them."""
    from urllib.parse import urlencode

    text = record_template("surname-2026", "Surname", "2026", today)
    return f"{repository.rstrip('/')}/new/main/evidence?" + urlencode({"filename": "surname-2026.yaml", "value": text})


def new_record(record_id: str, folder: Path, force: bool = False) -> int:
    match = ID.match(record_id)
    if not match:
        print(
            f"error: id {record_id!r} must look like surname-year, for example smith-2026 or smith-2026b "
            "(lower case, hyphens)",
            file=sys.stderr,
        )
        return 2
    path = folder / f"{record_id}.yaml"
    if path.exists() and not force:
        print(f"error: {path} exists; choose another id or pass --force", file=sys.stderr)
        return 1
    surname = " ".join(p.capitalize() for p in match["surname"].split("-"))
    text = record_template(record_id, surname, match["year"], date.today().isoformat())
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}: fill in the FILL IN values, then run: python build.py validate")
    return 0
