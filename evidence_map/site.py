"""Assemble the site: generated pages, charts and downloads, then the static-site build and swap.

Everything the site generator needs is generated here, before it runs (no generator plugin or
hook does any of it), so mkdocs-material or Zensical can build the same folder. The generator
writes into a temporary folder beside the output, Pagefind adds the search index to it, and
only when both succeed does it replace the previous site, so a failure leaves what was
published exactly as it was. When nothing the two read has changed since they last published
the output, neither runs.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from .chartrender import ChartRenderer
from .charts import Figure, forest_figure, overview_figures, source_figure
from .citations import bibtex, ris
from .datapackage import datapackage_json, zip_bundle
from .evidence import Evidence, load_evidence
from .exports import export_files
from .feeds import atom_feed, changes_from_records, whats_new
from .grading import ConditionGrade, grade_all
from .history import last_update
from .pagekinds import navigation, not_in_nav, with_search_meta
from .pages import SiteInfo, render_site_pages, static_files
from .paths import DOCS, EVIDENCE, MKDOCS_YML, ROOT, SCHEMA
from .screening import NO_SCREENING, InvalidQueue, Screening, load_screening, prisma_flow, screening_entries
from .umbrella import umbrella
from .writer import TreeWriter

BUNDLE = "msc-ev-evidence-map.zip"
# Pagefind indexes each page's <article>: the page itself, not the header, navigation or footer;
# without the headings' permalink signs, and without the tables of numbers behind the charts,
# which repeat the page and would make every overview page match every condition.
PAGEFIND_ARGS = ("--root-selector", "article", "--exclude-selectors", ".headerlink, details.chart-data")
# What the site generator and Pagefind produced from, beside the generated pages: see publish().
STAMP = "site-stamp.json"
PAGEFIND_BINARY = "PAGEFIND_BINARY_PATH"  # read by the pagefind package: a binary other than its own
STAMPED_PACKAGES = ("mkdocs", "mkdocs-material", "pymdown-extensions", "Markdown", "pagefind", "pagefind-bin")


class BuildFailed(Exception):
    pass


@dataclass
class Prepared:
    evidence: Evidence
    grades: dict[str, ConditionGrade]
    config: Path
    charts_rendered: int
    charts_reused: int
    pages_written: int
    pages_unchanged: int
    timings: dict[str, float]


def data_version(evidence: Evidence) -> tuple[str, str]:
    """(date, commit) of the records: the newest `updated` date and the last commit touching them."""
    date = max((r.updated for r in evidence.records), default="no records")
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%h", "--", "evidence", "vocab"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return date, out or "uncommitted"


def addresses(settings: dict[str, Any]) -> tuple[str, str]:
    """(repository, site) addresses: SITE_URL and REPOSITORY_URL override mkdocs.yml, so a fork's
    Pages workflow publishes at the fork's own address without editing any file."""
    repo = os.environ.get("REPOSITORY_URL") or str(settings.get("extra", {}).get("repository", ""))
    site = os.environ.get("SITE_URL") or str(settings.get("site_url", ""))
    return repo.rstrip("/"), site.rstrip("/") + "/"


def site_config(evidence: Evidence, docs_dir: Path, info: SiteInfo, sources: list[str]) -> dict[str, Any]:
    with open(MKDOCS_YML, encoding="utf-8") as fh:
        config: dict[str, Any] = yaml.safe_load(fh)
    config["site_url"] = addresses(config)[1]
    config.setdefault("extra", {})["repository"] = info.repo_url
    config["docs_dir"] = docs_dir.name  # relative to the generated config, which sits beside it
    theme = config.get("theme")
    if isinstance(theme, dict) and theme.get("custom_dir"):
        # The theme overrides stay in the repository, wherever the work folder is.
        theme["custom_dir"] = str((MKDOCS_YML.parent / theme["custom_dir"]).resolve())
    config["nav"] = navigation(evidence, sources)
    config["not_in_nav"] = not_in_nav()  # reached from tables and pages, not the sidebar
    u = umbrella()
    config["copyright"] = (
        f"Data version {info.data_date} ({info.data_commit}) · {len(evidence.records)} meta-analyses, the first "
        f'{u.records} from <a href="{html.escape(u.doi_url)}">{html.escape(u.label)}, {html.escape(u.journal)}</a> · '
        f"Data CC BY 4.0 · "
        f'<a href="{info.repo_url}">records and source</a> · for research use, not medical advice'
    )
    return config


def prepare(evidence_dir: Path, work: Path) -> Prepared:
    """Validate, grade, draw and render into `work`/docs; returns what was done. Raises InvalidEvidence."""
    t0 = time.perf_counter()
    evidence = load_evidence(evidence_dir)
    # The screening queue names records of the repository's evidence/; another folder gets an empty one.
    screening = load_screening(evidence) if evidence_dir.resolve() == EVIDENCE.resolve() else NO_SCREENING
    return prepare_evidence(evidence, work, {"load + validate": time.perf_counter() - t0}, screening)


def prepare_evidence(
    evidence: Evidence, work: Path, timings: dict[str, float] | None = None, screening: Screening = NO_SCREENING
) -> Prepared:
    """Grade, draw and render already validated evidence into `work`/docs."""
    timings = dict(timings or {})
    t0 = time.perf_counter()
    grades = grade_all(evidence.vocab.conditions.ids, evidence.records)
    timings["grading"] = time.perf_counter() - t0

    docs = work / "docs"
    writer = TreeWriter(docs)
    t0 = time.perf_counter()
    renderer = ChartRenderer(work / "chart-cache")
    sources = [s for s in evidence.vocab.sources.ids if evidence.for_source(s)]
    # Charts missing from the cache are drawn in other processes while this one renders the pages.
    with renderer.start(all_figures(evidence, grades, sources)) as drawing:
        figures = drawing.figures
        timings["charts"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        date, commit = data_version(evidence)
        with open(MKDOCS_YML, encoding="utf-8") as fh:
            settings = yaml.safe_load(fh)
        repo_url, site_url = addresses(settings)
        info = SiteInfo(repo_url=repo_url, data_date=date, data_commit=commit)
        for rel, data in static_files(DOCS).items():
            if rel.endswith(".md"):  # a hand-written page: its kind's search settings, as generated pages get
                data = with_search_meta(rel, data.decode("utf-8")).encode("utf-8")
            writer.write(rel, data)
        render_site_pages(evidence, grades, figures, info, writer, screening)
        write_downloads(evidence, grades, writer, screening)
        write_feeds(evidence, site_url, date, writer, screening)
        timings["pages"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        for fig, svg in zip(figures, drawing.svgs(), strict=True):
            writer.write(f"assets/charts/{fig.name}.svg", svg)
        renderer.prune(keep=drawing.keys)
        timings["charts"] += time.perf_counter() - t0  # the wait for drawings still running

    t0 = time.perf_counter()
    writer.prune()
    config = work / "mkdocs.yml"
    text = yaml.safe_dump(site_config(evidence, docs, info, sources), sort_keys=False, allow_unicode=True)
    TreeWriter(work).write("mkdocs.yml", "# Generated by build.py from mkdocs.yml; do not edit.\n" + text)
    timings["pages"] += time.perf_counter() - t0
    return Prepared(
        evidence, grades, config, renderer.rendered, renderer.reused, writer.written, writer.unchanged, timings
    )


def all_figures(evidence: Evidence, grades: dict[str, ConditionGrade], sources: list[str]) -> Iterator[Figure]:
    """Every chart of the site, built one at a time: the overview, a forest plot per condition
    with pooled effects, and a bar chart per EV source that reviews include."""
    yield from overview_figures(evidence, grades)
    for cid in evidence.vocab.conditions.ids:
        f = forest_figure(cid, evidence)
        if f is not None:
            yield f
    for sid in sources:
        f = source_figure(sid, evidence)
        if f is not None:
            yield f


def write_downloads(
    evidence: Evidence, grades: dict[str, ConditionGrade], writer: TreeWriter, screening: Screening = NO_SCREENING
) -> None:
    """The data downloads, the references, a Frictionless data package describing them, and one zip."""
    files = {name: text.encode("utf-8") for name, text in export_files(evidence, grades).items()}
    flow = prisma_flow(screening.queue, screening.strategy).as_data()
    files["prisma.json"] = (json.dumps(flow, indent=2, sort_keys=True) + "\n").encode("utf-8")
    files["references.bib"] = bibtex(evidence).encode("utf-8")
    files["references.ris"] = ris(evidence).encode("utf-8")
    files["record.schema.json"] = SCHEMA.read_bytes()
    files["datapackage.json"] = datapackage_json(evidence, files=files).encode("utf-8")
    for name, data in sorted(files.items()):
        writer.write(f"downloads/{name}", data)
    writer.write(f"downloads/{BUNDLE}", zip_bundle(files))


def write_feeds(
    evidence: Evidence, site_url: str, date: str, writer: TreeWriter, screening: Screening = NO_SCREENING
) -> None:
    """A site-wide Atom feed of additions and updates, and one per condition."""
    changes = changes_from_records(evidence)
    title = "MSC-EV Living Evidence Map"
    writer.write(
        "feed.xml",
        atom_feed(
            whats_new(evidence, changes, limit=100),
            site_url,
            f"{title}: what's new",
            site_url,
            date,
            self_link=site_url + "feed.xml",
        ),
    )
    for term in evidence.vocab.conditions.terms:
        on = {r.id for r in evidence.for_condition(term.id)}
        entries = whats_new(evidence, [c for c in changes if c.record_id in on], limit=100)
        updated = last_update(evidence, condition=term.id) or date
        writer.write(
            f"feeds/{term.id}.xml",
            atom_feed(
                entries,
                f"{site_url}conditions/{term.id}/",
                f"{title}: {term.name}",
                site_url,
                updated,
                self_link=f"{site_url}feeds/{term.id}.xml",
            ),
        )
    pending = screening_entries(screening.queue)
    writer.write(
        "feeds/screening.xml",
        atom_feed(
            pending,
            f"{site_url}screening/",
            f"{title}: found, to screen",
            site_url,
            max((e.updated for e in pending), default=date),
            self_link=f"{site_url}feeds/screening.xml",
        ),
    )


def run_generator(config: Path, site_dir: Path, strict: bool) -> None:
    cmd = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--clean",
        "--quiet",
        "--config-file",
        str(config),
        "--site-dir",
        str(site_dir),
    ]
    if strict:
        cmd.append("--strict")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in theme_messages(proc.stderr):
        print(line, file=sys.stderr)
    if proc.returncode != 0:
        raise BuildFailed(f"the site generator failed (exit {proc.returncode}); see the messages above")


ANSI = re.compile(r"\x1b\[[0-9;]*m")
BOX = re.compile(r"^\s*[│╭╰─]")
END_OF_LIFE = re.compile(r"Material for MkDocs reaches end of life on ([A-Z][a-z]+ \d{1,2}, \d{4})")


def theme_messages(stderr: str) -> list[str]:
    """The generator's messages, each kept, except the theme's boxed notices: the end-of-life
    notice becomes one line pointing to MAINTENANCE.md, any other box is printed unboxed."""
    out, box = [], []
    for raw in stderr.splitlines():
        line = ANSI.sub("", raw).rstrip()
        if BOX.match(line):
            box.append(line.lstrip(" │╭╰─").strip())
            continue
        if box:
            out += _summarise(box)
            box = []
        if line.strip() and not line.strip().startswith("To disable this warning"):
            out.append(line)
    return out + (_summarise(box) if box else [])


def _summarise(box: list[str]) -> list[str]:
    text = " ".join(b for b in box if b)
    eol = END_OF_LIFE.search(text)
    if eol:
        return [
            f"note: Material for MkDocs reaches end of life on {eol.group(1)}; "
            "MAINTENANCE.md says how to move to Zensical"
        ]
    return [b for b in box if b]


def run_indexer(site_dir: Path) -> None:
    """Pagefind's search index of the built pages, into `site_dir`/pagefind/.

    Run from inside the folder and without PAGEFIND_* variables (but PAGEFIND_BINARY_PATH, which
    names the binary), so that no pagefind.yml or setting of the caller's changes the index."""
    cmd = [sys.executable, "-m", "pagefind", "--site", str(site_dir), *PAGEFIND_ARGS]
    env = {k: v for k, v in os.environ.items() if k == PAGEFIND_BINARY or not k.startswith("PAGEFIND_")}
    proc = subprocess.run(cmd, cwd=site_dir, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0 or not (site_dir / "pagefind" / "pagefind-entry.json").is_file():
        for line in (proc.stdout + proc.stderr).splitlines():
            if line.strip():
                print(line, file=sys.stderr)
        hint = " (pip install -e . installs it)" if "No module named" in proc.stderr else ""
        raise BuildFailed(
            f"the search indexer, Pagefind, failed (exit {proc.returncode}){hint}; see the messages above"
        )


def swap_in(new: Path, out: Path) -> None:
    """Replace `out` by `new` with two renames, so a reader never sees a half-written site."""
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        os.replace(out, old)
    os.replace(new, out)
    shutil.rmtree(old, ignore_errors=True)


def build_site(evidence_dir: Path, out: Path, strict: bool = False, work: Path = Path(".build")) -> Prepared:
    """Validate the records under `evidence_dir` and build the site into `out`."""
    t_all = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    prepared = prepare(evidence_dir, work)
    if publish(prepared, out, strict):
        generated = (
            f"site generator {prepared.timings['site generator']:.1f} s, "
            f"search index {prepared.timings['search index']:.1f} s"
        )
    else:
        generated = "site was current: site generator and search index not run"
    print(
        f"built {out}: {len(prepared.evidence.records)} reviews; pages {prepared.pages_written} written, "
        f"{prepared.pages_unchanged} unchanged; charts {prepared.charts_rendered} rendered, "
        f"{prepared.charts_reused} from cache; {generated}; {time.perf_counter() - t_all:.1f} s"
    )
    return prepared


def publish(prepared: Prepared, out: Path, strict: bool) -> bool:
    """Run the site generator, then Pagefind, into a fresh folder, and swap it in only if both succeed.

    Returns False, having run neither, when `out` is the site this work folder last published and
    nothing either tool reads has changed since (see site_digest): the digest is kept in the work
    folder, written only after a successful swap, with the identity of the folder swapped in."""
    out = out.resolve()
    stamp = prepared.config.parent / STAMP
    t0 = time.perf_counter()
    digest = site_digest(prepared.config, out, strict)
    if read_stamp(stamp) == {"digest": digest, "site": folder_identity(out)}:
        prepared.timings["site generator"] = time.perf_counter() - t0
        prepared.timings["search index"] = 0.0
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        run_generator(prepared.config, tmp, strict)
        prepared.timings["site generator"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_indexer(tmp)
        prepared.timings["search index"] = time.perf_counter() - t0
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    swap_in(tmp, out)
    tmp_stamp = stamp.with_name(f".{stamp.name}.tmp")
    tmp_stamp.write_text(json.dumps({"digest": digest, "site": folder_identity(out)}), encoding="utf-8")
    os.replace(tmp_stamp, stamp)
    return True


def site_digest(config: Path, out: Path, strict: bool) -> str:
    """A digest of everything the site generator and Pagefind read, and of how they are run.

    The generated configuration; the versions of the tools; the theme overrides, by content; and
    every generated page, chart and download by path, size and modification time: the page
    writer leaves an unchanged file untouched, so its time only changes when its content does."""
    h = hashlib.sha256()

    def add(*parts: object) -> None:
        for part in parts:
            h.update(part if isinstance(part, bytes) else str(part).encode("utf-8"))
            h.update(b"\0")

    add("site-digest 1", out, strict, *PAGEFIND_ARGS, os.environ.get(PAGEFIND_BINARY, ""))
    for package in STAMPED_PACKAGES:
        try:
            add(package, metadata.version(package))
        except metadata.PackageNotFoundError:
            add(package, "not installed")
    text = config.read_bytes()
    add(text)
    settings = yaml.safe_load(text)
    theme = settings.get("theme") if isinstance(settings, dict) else None
    custom = theme.get("custom_dir") if isinstance(theme, dict) else None
    if custom:
        for path in tree_files(config.parent / custom):
            add(path.relative_to(config.parent / custom).as_posix(), path.read_bytes())
    docs = config.parent / str(settings.get("docs_dir", "docs"))
    for path in tree_files(docs):
        st = path.stat()
        add(path.relative_to(docs).as_posix(), st.st_size, st.st_mtime_ns)
    return h.hexdigest()


def tree_files(root: Path) -> list[Path]:
    """Every file under `root`, in a stable order."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        found += [Path(folder) / name for name in sorted(files)]
    return found


def folder_identity(path: Path) -> list[int] | None:
    """Which folder is at `path`: every swap puts a new one there, so a site another build has
    published since (or a deleted one) does not pass for this work folder's."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_mtime_ns]


def read_stamp(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def serve(evidence_dir: Path, work: Path, dev_addr: str) -> int:
    """Generate the pages, then run the live preview, regenerating when inputs change."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    from .evidence import InvalidEvidence

    def regenerate() -> None:
        try:
            prepare(evidence_dir, work)
            print("pages regenerated", file=sys.stderr)
        except (InvalidEvidence, InvalidQueue) as exc:
            for p in exc.problems:
                print(p, file=sys.stderr)
            print(f"{len(exc.problems)} errors: preview keeps the last good pages", file=sys.stderr)

    pending: list[threading.Timer] = []

    class OnChange(FileSystemEventHandler):
        """Regenerate once per burst of events (an editor's save fires several)."""

        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.is_directory or str(event.src_path).endswith((".tmp", "~")):
                return
            if event.event_type not in ("created", "modified", "deleted", "moved", "closed"):
                return  # reading a file (opened, closed_no_write) changes nothing
            for timer in pending:
                timer.cancel()
            pending[:] = [threading.Timer(0.3, regenerate)]
            pending[0].start()

    work.mkdir(parents=True, exist_ok=True)
    regenerate()
    print("live preview: no search here; search works in the site `build.py build` makes", file=sys.stderr)
    observer = Observer()
    for folder in (evidence_dir, ROOT / "templates", DOCS, ROOT / "vocab", ROOT / "screening"):
        observer.schedule(OnChange(), str(folder), recursive=True)
    observer.start()
    try:
        return subprocess.call(
            [sys.executable, "-m", "mkdocs", "serve", "--config-file", str(work / "mkdocs.yml"), "--dev-addr", dev_addr]
        )
    finally:
        observer.stop()
        observer.join()
