"""Where build time goes: build the site from the real records and N synthetic ones and print a table per N.

    python -m bench.run                       # the real records, 500, 2000, 5000; writes bench/RESULTS.md
    python -m bench.run --sizes real,500      # a quicker look; --no-browser skips the browser checks

For each N: a cold full build (empty work folder and chart cache), each in a fresh process
(bench/worker.py) with time and peak memory per stage; the built site's size, page count and
Pagefind search index; a real browser's page weights and search timings (Debian chromium); then
a rebuild with nothing changed and a rebuild after editing one effect of one record. Raw figures go to
bench/out/results.json, the tables to stdout and to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import hashlib
import http.server
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.generators import comparison, snapshot_sources, zensical_timing
from bench.preview import preview_timing
from bench.synth import write_records

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
REAL = len(list((ROOT / "evidence").glob("*.yaml")))  # a size equal to this builds the real records
STAGES = ("load + validate", "grading", "charts", "pages", "site generator", "search index", "site swap")
STAGE_NAMES = {
    "load + validate": "load + validate",
    "grading": "grading",
    "charts": "charts",
    "pages": "page rendering",
    "site generator": "mkdocs build",
    "search index": "Pagefind index",
    "site swap": "new site swapped in, old one removed",
}
PRE = STAGES[:4]
# Cold build times, in seconds, when the goals of fast rebuilds were set (47 real records; 2,000 synthetic).
COLD_BEFORE = {47: 5.4, 2000: 65.7}
# "Within seconds": what a contributor waits between saving a record and seeing it in the preview.
PREVIEW_GOAL = 10.0
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MB = 1024 * 1024
# Seconds a page may take to reach its load event: the effects page at 5,000 reviews took more than
# Playwright's default of 30 s, and a page that slow is a finding, not a reason to stop the run.
LOAD_WAIT = 300


# --- builds ---------------------------------------------------------------------------------------


def build(evidence: Path, work: Path, site: Path, log: Path) -> dict[str, Any]:
    """One build in a fresh process (bench/worker.py); its JSON report."""
    report = work.parent / "report.json"
    cmd = [sys.executable, "-m", "bench.worker", "--evidence", str(evidence), "--work", str(work)]
    cmd += ["--out", str(site), "--report", str(report)]
    with open(log, "a", encoding="utf-8") as fh:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, check=False)
    if proc.returncode:
        raise SystemExit(f"build failed (exit {proc.returncode}); see {log}")
    result: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    report.unlink()
    result["total"] = sum(result["timings"].values())
    return result


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def site_metrics(site: Path) -> dict[str, Any]:
    """Size of the built site and of its search index: Pagefind's folder, of which a visitor's
    browser fetches only the parts a query needs."""
    files = [p for p in site.rglob("*") if p.is_file()]
    index = [p for p in (site / "pagefind").rglob("*") if p.is_file()]
    entry = json.loads((site / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    return {
        "site_bytes": sum(p.stat().st_size for p in files),
        "files": len(files),
        "html_pages": sum(1 for p in files if p.suffix == ".html"),
        "search_index_bytes": sum(p.stat().st_size for p in index),
        "search_index_files": len(index),
        "search_pages": sum(lang["page_count"] for lang in entry["languages"].values()),
    }


def edit_one_record(evidence: Path) -> dict[str, Any]:
    """Change the first effect estimate of one record (the middle file that has a CI), keeping it
    valid, and date the change today, as a contributor does: the data version every page's footer
    names moves with it."""
    files = sorted(evidence.glob("*.yaml"))
    pattern = re.compile(r"^(\s*-?\s*)estimate: (-?[\d.]+)\n\s*ci_low: (-?[\d.]+)\n\s*ci_high: (-?[\d.]+)$", re.M)
    order = files[len(files) // 2 :] + files[: len(files) // 2]
    for path in order:
        text = path.read_text(encoding="utf-8")
        m = pattern.search(text)
        if not m:
            continue
        est, lo, hi = (float(m.group(i)) for i in (2, 3, 4))
        new = round((est + lo) / 2, 3) if est != lo else round((est + hi) / 2, 3)
        line = m.group(0).replace(f"estimate: {m.group(2)}", f"estimate: {new}", 1)
        text = text[: m.start()] + line + text[m.end() :]
        text = re.sub(r"^updated: .*$", f"updated: '{date.today().isoformat()}'", text, count=1, flags=re.M)
        path.write_text(text, encoding="utf-8")
        return {"record": path.stem, "old": est, "new": new, "updated": date.today().isoformat()}
    raise SystemExit(f"no record with an effect and a CI under {evidence}")


def add_one_record(evidence: Path) -> dict[str, Any]:
    """A new review, as a contribution adds one: a copy of the record a quarter of the way through,
    under a new id, added and updated today."""
    files = sorted(evidence.glob("*.yaml"))
    source = files[len(files) // 4]
    rid = f"{source.stem[:50]}-added"
    today = date.today().isoformat()
    text = source.read_text(encoding="utf-8")
    text = re.sub(r"^id: .*$", f"id: {rid}", text, count=1, flags=re.M)
    for field in ("added", "updated"):
        text = re.sub(rf"^{field}: .*$", f"{field}: '{today}'", text, count=1, flags=re.M)
    (evidence / f"{rid}.yaml").write_text(text, encoding="utf-8")
    return {"record": rid, "copy_of": source.stem}


def dependents(evidence: Path, record_id: str) -> set[str]:
    """The generated files that can depend on one record's effects (any other change is a leak)."""
    from evidence_map.records.evidence import load_evidence

    ev = load_evidence(evidence)
    rec = ev.by_id(record_id)
    deps = {f"reviews/{rec.id}.md"}
    deps |= {f"conditions/{c}.md" for c in rec.conditions}
    deps |= {f"sources/{s}.md" for s in rec.sources}
    deps |= {f"assets/charts/condition-{c}.svg" for c in rec.conditions}
    deps |= {f"assets/charts/source-{s}.svg" for s in rec.sources}
    # Pages and charts computed over all records (verdicts, counts, exports).
    deps |= {"index.md", "conditions/index.md", "audit.md", "quality.md", "dosing.md", "reviews/index.md", "effects.md"}
    deps |= {"gapmap.md", "methods.md", "about.md", "whatsnew.md"}  # the gap map; counts of records and changes
    deps |= {"assets/charts/effectiveness-heatmap.svg"}
    # Every download is an export of all records, except the record schema.
    docs = Path(evidence).parent / "work" / "docs"
    deps |= {f"downloads/{p.name}" for p in (docs / "downloads").iterdir() if p.name != "record.schema.json"}
    # Its date: the data version the downloads page names; the last update of the feeds it is in, and
    # of the screening feed, dated by the data version.
    deps |= {"downloads.md", "feed.xml", "feeds/screening.xml"} | {f"feeds/{c}.xml" for c in rec.conditions}
    return deps


# --- the browser ----------------------------------------------------------------------------------


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _weight(site: Path, base: str, urls: set[str]) -> dict[str, Any]:
    """Bytes of the site's files behind `urls`, raw and gzip-compressed, with the biggest listed."""
    sizes = []
    for url in urls:
        if not url.startswith(base):
            continue
        rel = url[len(base) :].split("#")[0].split("?")[0]
        path = site / rel
        if path.is_dir() or not rel or rel.endswith("/"):
            path = path / "index.html"
        if path.is_file():
            data = path.read_bytes()
            sizes.append((rel or "index.html", len(data), len(gzip.compress(data, 6))))
    sizes.sort(key=lambda s: -s[1])
    return {
        "bytes": sum(s[1] for s in sizes),
        "gzip": sum(s[2] for s in sizes),
        "requests": len(sizes),
        "largest": sizes[:6],
    }


def page_weight(browser: Any, site: Path, base: str, path: str) -> dict[str, Any]:
    """Everything one visit loads (scrolled to the end, so lazy charts load too), from the files on
    disk, and the seconds until the page's load event (None: not within LOAD_WAIT)."""
    from playwright.sync_api import TimeoutError as PageTimeout

    context = browser.new_context()
    page = context.new_page()
    urls: set[str] = set()
    page.on("request", lambda req: urls.add(req.url))
    t0 = time.perf_counter()
    loaded: float | None = None
    try:
        page.goto(base + path, wait_until="load", timeout=LOAD_WAIT * 1000)
        loaded = time.perf_counter() - t0
        height = page.evaluate("document.body.scrollHeight")
        for y in range(0, int(height) + 800, 800):
            page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_load_state("networkidle", timeout=LOAD_WAIT * 1000)
    except PageTimeout:  # weighed from what it had asked for by then
        pass
    urls |= set(page.evaluate("Array.from(document.images, i => i.currentSrc || i.src)"))
    context.close()
    total = _weight(site, base, urls)
    charts = _weight(site, base, {u for u in urls if "/assets/charts/" in u})
    index = _weight(site, base, {u for u in urls if "/pagefind/" in u})  # none until someone searches
    # The map's own scripts and styles (tables, charts, search button), beside the theme's.
    own = _weight(
        site,
        base,
        {
            u
            for u in urls
            if re.search(r"/(javascripts|stylesheets)/[^/]+$", p := urlsplit(u).path) and "/assets/" not in p
        },
    )
    return {
        **total,
        "loaded": loaded,
        "own_scripts": own["bytes"],
        "own_scripts_gzip": own["gzip"],
        "charts": charts["bytes"],
        "charts_gzip": charts["gzip"],
        "search_index": index["bytes"],
        "search_index_gzip": index["gzip"],
    }


def search_timing(browser: Any, site: Path, base: str, query: str) -> dict[str, Any]:
    """The header's search as a visitor uses it: open the home page, click the search button, type a
    query. Seconds from the click to the dialog, from typing to the first result, and for a second
    query; and everything the first query fetched from /pagefind/ (the dialog's script and style,
    Pagefind's engine and the parts of the index it needed)."""
    context = browser.new_context()
    page = context.new_page()
    urls: list[str] = []
    page.on("request", lambda req: urls.append(req.url))
    t0 = time.perf_counter()
    page.goto(base, wait_until="load")
    loaded = time.perf_counter() - t0
    page.wait_for_load_state("networkidle")
    before = [u for u in urls if "/pagefind/" in u]
    t1 = time.perf_counter()
    page.locator(".site-search__button").click()
    box = page.locator("pagefind-modal input[type=search]")
    box.wait_for(state="visible", timeout=600_000)
    ready = time.perf_counter() - t1
    t2 = time.perf_counter()
    page.keyboard.type(query)
    page.locator("pagefind-modal .pf-result-link").first.wait_for(timeout=600_000)
    first = time.perf_counter() - t2
    hits = page.locator("pagefind-modal .pf-summary").inner_text()
    page.wait_for_load_state("networkidle")
    fetched = _weight(site, base, {u for u in urls if "/pagefind/" in u})
    # A second query on the loaded engine: clear, type, wait for its first result.
    box.fill("")
    t3 = time.perf_counter()
    page.keyboard.type("inflammation")
    page.wait_for_function(
        "() => /inflammation/i.test(document.querySelector('pagefind-modal .pf-summary')?.textContent || '')"
        " && document.querySelector('pagefind-modal .pf-result-link')",
        timeout=600_000,
    )
    second = time.perf_counter() - t3
    context.close()
    return {
        "page_load": loaded,
        "before_search_requests": len(before),
        "dialog_ready": ready,
        "query": first,
        "query2": second,
        "hits": hits.strip(),
        "fetched_bytes": fetched["bytes"],
        "fetched_gzip": fetched["gzip"],
        "fetched_requests": fetched["requests"],
    }


PAGEFIND_QUERY = """async ([q1, q2]) => {
  const t0 = performance.now();
  const pf = await import("./pagefind/pagefind.js");
  await pf.init();
  const t1 = performance.now();
  const r1 = await pf.search(q1);
  const top1 = await Promise.all(r1.results.slice(0, 10).map((x) => x.data()));
  const t2 = performance.now();
  const r2 = await pf.search(q2);
  await Promise.all(r2.results.slice(0, 10).map((x) => x.data()));
  const t3 = performance.now();
  return {init: (t1 - t0) / 1000, query: (t2 - t1) / 1000, query2: (t3 - t2) / 1000,
          hits: r1.results.length, first: top1.length ? top1[0].url : null};
}"""


def search_api_timing(browser: Any, base: str) -> dict[str, Any]:
    """Pagefind's engine alone, through its JavaScript API: start-up, and two queries with the data of
    their first ten results."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(base, wait_until="load")
    timing: dict[str, Any] = page.evaluate(PAGEFIND_QUERY, ["sepsis", "inflammation"])
    context.close()
    return timing


def browser_metrics(site: Path, condition: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with serve(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return {
                "search": search_timing(browser, site, base, "sepsis"),
                "search_api": search_api_timing(browser, base),
                "home": page_weight(browser, site, base, ""),
                "condition": {"page": condition, **page_weight(browser, site, base, f"conditions/{condition}/")},
                "effects": page_weight(browser, site, base, "effects/"),
            }
        finally:
            browser.close()


def biggest_condition(site: Path) -> str:
    pages = sorted((site / "conditions").glob("*/index.html"), key=lambda p: -p.stat().st_size)
    return pages[0].parent.name


# --- one size ------------------------------------------------------------------------------------


def run_size(n: int, seed: int, browser: bool, preview: bool = True, other_generator: bool = True) -> dict[str, Any]:
    base = OUT / f"n{n}"
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    evidence, work, site, log = base / "evidence", base / "work", base / "site", base / "build.log"
    if n == REAL:
        shutil.copytree(ROOT / "evidence", evidence)
    else:
        write_records(n, evidence, seed)
    result: dict[str, Any] = {"n": n, "real": n == REAL}

    print(f"[{n}] full build ...", flush=True)
    result["full"] = build(evidence, work, site, log)
    result["site"] = site_metrics(site)
    if other_generator:  # the sources the cold build generated, for Zensical to build after the edit below
        snapshot_sources(work, base / "zensical")

    print(f"[{n}] rebuild, nothing changed ...", flush=True)
    before = tree_hashes(site)
    result["noop"] = build(evidence, work, site, log)
    after = tree_hashes(site)
    result["noop"]["site_files_changed"] = sorted(p for p in after if before.get(p) != after[p])

    print(f"[{n}] rebuild after a one-record edit ...", flush=True)
    edit = edit_one_record(evidence)
    result["edit"] = build(evidence, work, site, log)
    result["edit"]["edit"] = edit
    deps = dependents(evidence, edit["record"])
    result["edit"]["dependents"] = sorted(deps)
    result["edit"]["leaks"] = sorted(set(result["edit"]["files_written"]) - deps)
    changed = tree_hashes(site)
    result["edit"]["site_files_changed"] = sorted(p for p in changed if after.get(p) != changed[p])
    result["edit"]["site_files"] = len(changed)

    if other_generator:
        print(f"[{n}] Zensical: cold, nothing changed, the same edit ...", flush=True)
        result["zensical"] = zensical_timing(base / "zensical", work, result["edit"], base / "zensical.log")

    print(f"[{n}] rebuild after adding a record ...", flush=True)
    added = add_one_record(evidence)
    result["add"] = build(evidence, work, site, log)
    result["add"]["added"] = added
    now = tree_hashes(site)
    result["add"]["site_files_changed"] = sorted(p for p in now if changed.get(p) != now[p])
    result["add"]["site_files"] = len(now)

    if browser:  # on the site as it is now: one effect edited and one review added since the full build
        print(f"[{n}] browser ...", flush=True)
        result["browser"] = browser_metrics(site, biggest_condition(site))
    if preview:  # last: the preview lays the pages out at its own address, and edits a record
        print(f"[{n}] live preview ...", flush=True)
        result["preview"] = preview_timing(evidence, work, base / "preview.log")
    return result


# --- report -------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    def cpuinfo() -> str:
        with contextlib.suppress(OSError):
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
        return platform.processor() or "unknown"

    mem = "unknown"
    with contextlib.suppress(OSError):
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    chromium = "not found"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    packages = ("mkdocs", "mkdocs-material", "zensical", "pagefind", "altair", "vl-convert-python", "playwright")
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in packages)
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "memory": mem,
        "cpu": cpuinfo(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "packages": versions,
        "browser": chromium,
    }


def _s(x: float) -> str:
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"


def _mb(x: float) -> str:
    return f"{x / MB:.1f}" if x < 100 * MB else f"{x / MB:.0f}"


def build_peak(full: dict[str, Any]) -> int:
    """The build's peak memory: the largest stage of the build process, plus, when charts were
    drawn, the drawing processes running beside it (each at its own peak, an upper bound)."""
    main = max(full["peak_rss"].values())
    drawing = full.get("drawing_processes", 0) * full.get("drawing_peak_rss", 0)
    return int(max(main, max(full["peak_rss"]["charts"], full["peak_rss"]["pages"]) + drawing))


def _generated(build: dict[str, Any]) -> str:
    """Time of mkdocs and Pagefind in a rebuild, or of the check that found the site current."""
    t = build["timings"]["site generator"] + build["timings"]["search index"]
    return _s(t) if build.get("site_generator_ran", True) else f"{_s(t)} (site current, not run)"


def _kb(x: float) -> str:
    return f"{x / 1024:,.0f} KB"


def _rebuild_row(label: str, run: dict[str, Any], total: float, files: int) -> str:
    """One row of a size's table of rebuilds: `run` is a rebuild's result, `total` the cold build's time."""
    return (
        f"| {label} | {_s(run['total'])} | {run['total'] / total:.2f} | {run['charts_rendered']} "
        f"| {run['pages_written']} | {_generated(run)} | {len(run['site_files_changed'])} of {files:,} |"
    )


def _pages(run: dict[str, Any], done: str) -> int:
    """Pages a build's page cache `done` ("converted" or "laid out"), in this process and the second."""
    c = run.get("page_cache", {})
    return int(c.get(done, 0)) + int(c.get(f"{done} by the second process", 0))


def size_table(r: dict[str, Any]) -> list[str]:
    full = r["full"]
    t, peak = full["timings"], full["peak_rss"]
    total = full["total"]
    label = f"{r['n']} real records" if r["real"] else f"{r['n']:,} synthetic records"
    lines = [
        f"### {label} ({full['effects']:,} effects)",
        "",
        "| Stage | Time (s) | Share of total | Peak memory (MB) |",
        "|---|---:|---:|---:|",
    ]
    for key in ("startup (imports)", "input check", *STAGES):
        name = STAGE_NAMES.get(key, key)
        memory = _mb(peak[key]) if key in peak else "–"
        lines.append(f"| {name} | {_s(t.get(key, 0.0))} | {100 * t.get(key, 0.0) / total:.0f}% | {memory} |")
    pre = sum(t[k] for k in PRE)
    if full.get("drawing_processes"):
        lines.append(
            f"| chart drawing, in {full['drawing_processes']} processes beside the build "
            f"(during charts and pages) | – | – | {_mb(full['drawing_peak_rss'])} each |"
        )
    lines.append(f"| **total** | **{_s(total)}** | 100% | {_mb(build_peak(full))} |")
    lines.append("")
    s = r["site"]
    lines.append(
        f"Stages before mkdocs: {_s(pre)} s = {pre / t['site generator']:.2f} × the mkdocs build "
        f"({_s(t['site generator'])} s). Charts: {full['charts_rendered']} rendered. "
        f"Site: {s['html_pages']:,} pages, {_mb(s['site_bytes'])} MB in {s['files']:,} files; "
        f"Pagefind search index {_mb(s['search_index_bytes'])} MB in {s['search_index_files']:,} files "
        f"({t['search index']:.1f} s to build), {s['search_pages']:,} pages indexed."
    )
    lines.append("")
    noop, edit = r["noop"], r["edit"]
    e = edit["edit"]
    lines += [
        "| Rebuild | Time (s) | vs full build | Charts rendered | Pages written | mkdocs + Pagefind (s) "
        "| Site files changed |",
        "|---|---:|---:|---:|---:|---:|---:|",
        _rebuild_row("nothing changed", noop, total, s["files"]),
        _rebuild_row("one record edited", edit, total, edit["site_files"]),
        *([_rebuild_row("one record added", add, total, add["site_files"])] if (add := r.get("add")) else []),
        "",
        f"The edit changed one effect estimate of `{e['record']}` ({e['old']} → {e['new']})"
        + (
            f" and dated the record {e['updated']}, which moves the data version in every page's footer"
            if "updated" in e
            else ""
        )
        + ". Files rewritten: "
        + ", ".join(f"`{p}`" for p in edit["files_written"])
        + (
            f". Outside the record's dependents: {', '.join(edit['leaks'])}."
            if edit["leaks"]
            else "; all of them depend on the record."
        ),
        "",
    ]
    if add := r.get("add"):
        lines += [
            f"The review added was a copy of `{add['added']['copy_of']}` as `{add['added']['record']}`, dated "
            f"today: mkdocs converted {_pages(add, 'converted'):,} pages and laid out {_pages(add, 'laid out'):,} "
            "(a conversion depends on the files its page's links can name), "
            f"in {_s(add['timings']['site generator'])} s.",
            "",
        ]
    if "browser" in r:
        b = r["browser"]
        q, api = b["search"], b["search_api"]
        lines.append(
            f"Browser: no page fetches anything of search until it is used ({q['before_search_requests']} "
            f"requests to /pagefind/ on opening the home page). Clicking the search button opens the dialog in "
            f"{q['dialog_ready']:.2f} s; the query 'sepsis' shows its first result {q['query']:.2f} s after "
            f"typing ({q['hits']}), having fetched {_kb(q['fetched_bytes'])} in {q['fetched_requests']} requests "
            f"({_kb(q['fetched_gzip'])} gzipped), the dialog's script and style included; a second query "
            f"{q['query2']:.2f} s. Through Pagefind's API alone: start-up {api['init']:.2f} s, query "
            f"{api['query']:.2f} s ({api['hits']} pages), a second query {api['query2']:.2f} s. "
            f"Home page {_kb(b['home']['bytes'])} ({_kb(b['home']['gzip'])} gzipped), of which charts "
            f"{_kb(b['home']['charts'])}; condition page `{b['condition']['page']}` "
            f"{_kb(b['condition']['bytes'])} ({_kb(b['condition']['gzip'])} gzipped), of which charts "
            f"{_kb(b['condition']['charts'])}."
        )
        lines.append("")
    if "preview" in r:
        pv = r["preview"]
        lines += [
            f"Live preview (`build.py serve`, on this work folder after the builds): serving after "
            f"{_s(pv['start'])} s; a summary of `{pv['record']}` edited, its page shown "
            f"{_s(pv['edit_shown'])} s after saving, with {pv['builds_per_edit']} build(s) of the site"
            + (
                f"; the same file saved again unchanged, the pages found current {_s(pv['unchanged_save'])} s "
                f"after saving, with {pv['builds_after_unchanged_save']} build(s)."
                if "unchanged_save" in pv
                else "."
            ),
            "",
        ]
    return lines


def growth_table(results: dict[int, dict[str, Any]]) -> list[str]:
    ns = sorted(results)
    head = "| Stage | " + " | ".join(f"{n:,}" for n in ns) + " | t(5,000)/t(500) |"
    lines = [head, "|---|" + "---:|" * (len(ns) + 1)]
    rows = [*STAGES, "pre", "total"]
    for key in rows:
        vals = []
        for n in ns:
            t = results[n]["full"]["timings"]
            if key == "pre":
                vals.append(sum(t[k] for k in PRE))
            else:
                vals.append(results[n]["full"]["total"] if key == "total" else t.get(key, 0.0))
        ratio = ""
        if 500 in results and 5000 in results:
            i, j = ns.index(500), ns.index(5000)
            ratio = f"{vals[j] / vals[i]:.1f}" if vals[i] else ""
        name = {"pre": "stages before mkdocs", "total": "**total**"}.get(key, STAGE_NAMES.get(key, key))
        lines.append(f"| {name} | " + " | ".join(_s(v) for v in vals) + f" | {ratio} |")
    return lines


def _weight_text(n: int, w: dict[str, Any]) -> str:
    search = f", of which search {_kb(w['search_index_gzip'])}" if w["search_index"] else ""
    own = f", of which the map's scripts and styles {_kb(w['own_scripts_gzip'])}" if w.get("own_scripts") else ""
    if "loaded" not in w:  # a run from before the load was timed
        load = ""
    elif w["loaded"] is None:
        load = f"; not loaded within {LOAD_WAIT} s"
    else:
        load = f"; loaded in {w['loaded']:.1f} s"
    return f"{n:,}: {_kb(w['gzip'])} ({_kb(w['bytes'])}){search}{own}{load}"


def goals(results: dict[int, dict[str, Any]]) -> list[str]:
    """The build's speed and size goals, each checked against the figures of this run."""
    ns = sorted(results)
    big = results[max(ns)]
    rows: list[tuple[str, str, bool | None]] = []

    def pre(n: int) -> float:
        return sum(results[n]["full"]["timings"][k] for k in PRE)

    def gen(n: int) -> float:
        return float(results[n]["full"]["timings"]["site generator"])

    ok = all(pre(n) < gen(n) for n in ns)
    rows.append(
        (
            "stages before mkdocs < mkdocs build, every N (cold build)",
            ", ".join(f"{n:,}: {_s(pre(n))} vs {_s(gen(n))} s" for n in ns),
            ok,
        )
    )
    if 500 in results and 5000 in results:
        ratio = results[5000]["full"]["total"] / results[500]["full"]["total"]
        rows.append(("t(5,000)/t(500) <= 11", f"{ratio:.1f}", ratio <= 11))
    noop = all(results[n]["noop"]["charts_rendered"] == 0 and results[n]["noop"]["pages_written"] == 0 for n in ns)
    rows.append(
        (
            "rebuild, nothing changed: no chart re-rendered, no page rewritten",
            ", ".join(
                f"{n:,}: {results[n]['noop']['charts_rendered']} charts, {results[n]['noop']['pages_written']} pages, "
                f"{results[n]['noop']['total'] / results[n]['full']['total']:.2f} of the full time"
                for n in ns
            ),
            noop,
        )
    )
    ratio = {n: results[n]["noop"]["total"] / results[n]["full"]["total"] for n in ns}
    rows.append(
        (
            "rebuild, nothing changed: under 0.05 of the cold build (the inputs compared by hash)",
            ", ".join(f"{n:,}: {ratio[n]:.3f} ({_s(results[n]['noop']['total'])} s)" for n in ns),
            all(r < 0.05 for r in ratio.values()),
        )
    )
    per_record = {n: results[n]["full"]["timings"]["load + validate"] / results[n]["full"]["records"] for n in ns}
    rows.append(
        (
            "load + validate under 1 ms a record (cold build)",
            ", ".join(f"{n:,}: {1000 * per_record[n]:.2f} ms" for n in ns),
            all(v < 0.001 for v in per_record.values()),
        )
    )
    edited = {n: results[n]["edit"]["total"] / results[n]["full"]["total"] for n in ns}
    # Pagefind has no incremental mode: it indexes every page again after any edit.
    indexing = {n: results[n]["edit"]["timings"]["search index"] / results[n]["full"]["total"] for n in ns}
    rows.append(
        (
            "one-record edit: under 0.15 of the cold build at 2,000 records (in brackets: Pagefind's "
            "index alone, made again from every page)",
            ", ".join(f"{n:,}: {edited[n]:.2f} ({indexing[n]:.2f})" for n in ns),
            edited[2000] < 0.15 if 2000 in edited else None,
        )
    )
    seen = [n for n in ns if n in COLD_BEFORE]
    rows.append(
        (
            "cold build no slower than when these goals were set ("
            + ", ".join(f"{n:,}: {COLD_BEFORE[n]} s" for n in sorted(COLD_BEFORE))
            + ", the same machine)",
            ", ".join(f"{n:,}: {_s(results[n]['full']['total'])} s" for n in seen) or "not run at those sizes",
            all(results[n]["full"]["total"] <= COLD_BEFORE[n] for n in seen) if seen else None,
        )
    )
    edit = all(not results[n]["edit"]["leaks"] for n in ns)
    rows.append(
        (
            "one-record edit: only the generated pages and charts that depend on it are rewritten",
            ", ".join(
                f"{n:,}: {results[n]['edit']['pages_written']} files rewritten, "
                f"{results[n]['edit']['charts_rendered']} charts drawn"
                f"{'' if not results[n]['edit']['leaks'] else ' (some not dependent)'}"
                for n in ns
            ),
            edit,
        )
    )

    def redone(n: int) -> int:
        return _pages(results[n]["edit"], "converted")

    def laid_out(n: int) -> int:
        return _pages(results[n]["edit"], "laid out")

    def rewritten(n: int) -> int:
        return sum(p.endswith(".md") for p in results[n]["edit"]["files_written"])

    rows.append(
        (
            "one-record edit: only the pages whose source changed are converted again by mkdocs "
            "(the page cache), and laid out again only if their HTML did",
            ", ".join(
                f"{n:,}: {redone(n)} of {results[n]['site']['html_pages']:,} pages converted "
                f"({rewritten(n)} generated pages rewritten), "
                f"{laid_out(n)} laid out, mkdocs "
                f"{_s(results[n]['edit']['timings']['site generator'])} s"
                for n in ns
            ),
            all(results[n]["edit"].get("page_cache") and redone(n) <= rewritten(n) for n in ns),
        )
    )

    def reviews_rewritten(n: int) -> int:
        return sum(p.startswith("reviews/") and p != "reviews/index.md" for p in results[n]["edit"]["files_written"])

    rows.append(
        (
            "one-record edit: only the review pages whose inputs changed are rendered again (the kept review pages)",
            ", ".join(
                f"{n:,}: {results[n]['edit'].get('reviews_rendered', 0)} of {results[n]['full']['records']:,} rendered "
                f"({reviews_rewritten(n)} rewritten)"
                for n in ns
            ),
            all(
                "reviews_rendered" in results[n]["edit"]
                and results[n]["edit"]["reviews_rendered"] <= max(reviews_rewritten(n), 1)
                for n in ns
            ),
        )
    )
    shown = [n for n in ns if "preview" in results[n]]
    if shown:
        rows.append(
            (
                "live preview (`build.py serve`): an edit shown within seconds, with one build per edit "
                f"(under {PREVIEW_GOAL:.0f} s at 2,000 records)",
                ", ".join(
                    f"{n:,}: {_s(results[n]['preview']['edit_shown'])} s, "
                    f"{results[n]['preview']['builds_per_edit']} build(s)"
                    for n in shown
                ),
                all(results[n]["preview"]["builds_per_edit"] == 1 for n in shown)
                and results[2000]["preview"]["edit_shown"] < PREVIEW_GOAL
                if 2000 in shown
                else None,
            )
        )
    if big.get("zensical"):
        z, mk = big["zensical"]["edit"], big["edit"]["timings"]["site generator"]
        rows.append(
            (
                f"site generator: the build's (mkdocs with the page cache) is the faster after a one-record edit "
                f"at {max(ns):,}, Zensical measured beside it",
                f"mkdocs {_s(mk)} s, Zensical "
                + (f"{_s(z['seconds'])} s" if z["returncode"] == 0 else f"failed (exit {z['returncode']})"),
                z["returncode"] != 0 or mk <= z["seconds"],
            )
        )
    peak = build_peak(big["full"])
    rows.append((f"peak memory < 2 GB at {max(ns):,}", f"{_mb(peak)} MB", peak < 2 * 1024 * MB))
    if "browser" in big:
        b = big["browser"]
        s = big["site"]
        q = b["search"]
        rows.append(
            (
                f"search usable at {max(ns):,}: nothing loaded with a page, a query under 1 MB",
                f"Pagefind, {_mb(s['search_index_bytes'])} MB in {s['search_index_files']:,} files on the server; "
                f"{q['before_search_requests']} requests before searching; the first query fetched "
                f"{_kb(q['fetched_bytes'])} ({_kb(q['fetched_gzip'])} gzipped) and showed results "
                f"{q['query']:.2f} s after typing; a second query {q['query2']:.2f} s",
                q["before_search_requests"] == 0 and q["fetched_bytes"] < MB,
            )
        )
        for page in ("home", "condition", "effects"):
            seen = [n for n in ns if "browser" in results[n] and page in results[n]["browser"]]
            rows.append(
                (
                    f"{page} page < 1 MB transferred, every N (gzipped; uncompressed in brackets)",
                    ", ".join(_weight_text(n, results[n]["browser"][page]) for n in seen),
                    all(results[n]["browser"][page]["gzip"] < MB for n in seen),
                )
            )
    lines = ["| Goal | Measured | Met |", "|---|---|---|"]
    for goal, measured, met in rows:
        lines.append(f"| {goal} | {measured} | {'see note' if met is None else 'yes' if met else '**no**'} |")
    return lines


def report(results: dict[int, dict[str, Any]], info: dict[str, str]) -> str:
    lines = [
        "# Build benchmark: results",
        "",
        "Produced by `python -m bench.run` (see bench/README.md). One run; times are wall-clock seconds on",
        "this machine, which is shared and noisy, so read the ratios rather than the absolute figures.",
        "",
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['memory']} memory, Python {info['python']}, "
        f"{info['os']}; {info['packages']}; {info['browser']}.",
        "",
        "## Goals",
        "",
        *goals(results),
        "",
        "## Total time by N",
        "",
        *growth_table(results),
        "",
        *comparison(results),
        "## Per N",
        "",
    ]
    for n in sorted(results):
        lines += size_table(results[n])
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="real,500,2000,5000", help="comma-separated record counts; real = the real ones")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-browser", action="store_true", help="skip the page-weight and search checks")
    ap.add_argument("--no-preview", action="store_true", help="skip timing the live preview (build.py serve)")
    ap.add_argument("--no-zensical", action="store_true", help="skip building the same pages with Zensical")
    ap.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    ap.add_argument("--report-only", action="store_true", help="rewrite the report from bench/out/results.json")
    args = ap.parse_args()
    if args.report_only:
        saved = json.loads((OUT / "results.json").read_text(encoding="utf-8"))
        text = report({int(n): r for n, r in saved["results"].items()}, saved["machine"])
        args.results.write_text(text, encoding="utf-8")
        print(text)
        return 0
    sizes = [REAL if s.strip() == "real" else int(s) for s in args.sizes.split(",")]
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[int, dict[str, Any]] = {}
    info = machine()
    for n in sizes:
        results[n] = run_size(n, args.seed, not args.no_browser, not args.no_preview, not args.no_zensical)
        (OUT / "results.json").write_text(json.dumps({"machine": info, "results": results}, indent=1))
        print("\n".join(size_table(results[n])), flush=True)
    text = report(results, info)
    args.results.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
