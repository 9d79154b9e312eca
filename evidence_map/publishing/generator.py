"""Run the site generator and Pagefind on the prepared pages, and swap the result in.

The generator writes into a temporary folder beside the output, Pagefind adds the search index
to it, and only when both succeed does it replace the previous site, so a failure leaves what was
published exactly as it was. When nothing the two read has changed since they last published the
output, neither runs (see `site_digest`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from evidence_map.files import replace_file
from evidence_map.publishing.inputs import Digest, folder_identity

if TYPE_CHECKING:
    from evidence_map.publishing.site import Prepared
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


def run_generator(config: Path, site_dir: Path, strict: bool) -> None:
    cmd = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--clean",
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
# A message's first line starts with its level; the indented lines after it continue it.
LEVEL = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+-\s")
BOX = re.compile(r"^\s*[│╭╰─]")
END_OF_LIFE = re.compile(r"Material for MkDocs reaches end of life on ([A-Z][a-z]+ \d{1,2}, \d{4})")


def theme_messages(stderr: str) -> list[str]:
    """The generator's warnings and errors, each kept, except the theme's boxed notices: the
    end-of-life notice becomes one line pointing to MAINTENANCE.md, any other box is printed
    unboxed. Its progress messages (INFO) are left out. (It runs at its default level, not quiet:
    quiet, it does not even log its warnings, and --strict could never fail on one.)"""
    out, box = [], []
    level = ""
    for raw in stderr.splitlines():
        line = ANSI.sub("", raw).rstrip()
        if BOX.match(line):
            box.append(line.lstrip(" │╭╰─").strip())
            continue
        if box:
            out += _summarise(box)
            box = []
        if m := LEVEL.match(line):
            level = m.group(1)
        if level in ("DEBUG", "INFO") and (m or line.startswith(" ")):
            continue
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
        prepared.timings["search index"] = prepared.timings["site swap"] = 0.0
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
    t0 = time.perf_counter()
    swap_in(tmp, out)  # with the old site's removal: a second or two at thousands of pages
    replace_file(stamp, json.dumps({"digest": digest, "site": folder_identity(out)}))
    prepared.timings["site swap"] = time.perf_counter() - t0
    return True


def site_digest(config: Path, out: Path, strict: bool) -> str:
    """A digest of everything the site generator and Pagefind read, and of how they are run.

    The generated configuration; the versions of the tools; the code of the hooks (the package's
    modules, by content); the theme overrides, by content; and
    every generated page, chart and download by path, size and modification time: the page
    writer leaves an unchanged file untouched, so its time only changes when its content does."""
    h = Digest()
    add = h.add
    add("site-digest 2", out, strict, *PAGEFIND_ARGS, os.environ.get(PAGEFIND_BINARY, ""))
    for package in STAMPED_PACKAGES:
        try:
            add(package, metadata.version(package))
        except metadata.PackageNotFoundError:
            add(package, "not installed")
    # The hooks mkdocs runs (the page cache, the preview's signal) and what they import: this package's code.
    code = Path(__file__).resolve().parents[1]
    for path in tree_files(code):
        if path.suffix == ".py":
            add(path.relative_to(code).as_posix(), path.read_bytes())
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


def read_stamp(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
