"""Where the project's inputs live, relative to the repository root."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVIDENCE = ROOT / "evidence"
VOCAB = ROOT / "vocab"
SCHEMA = ROOT / "schema" / "record.schema.json"
TEMPLATES = ROOT / "templates"
DOCS = ROOT / "docs"
AUDIT = ROOT / "audit"
MKDOCS_YML = ROOT / "mkdocs.yml"
CITATION_CFF = ROOT / "CITATION.cff"


def is_own_evidence(folder: Path) -> bool:
    """Whether `folder` is the repository's evidence/: only its records have an umbrella review and a
    screening queue, not a folder of test or benchmark records."""
    return folder.resolve() == EVIDENCE.resolve()
