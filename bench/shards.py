"""Pagefind in parts: what a search index split into bundles would save after an edit, and change.

    python -m bench.shards --site bench/out/n2000/site --parts 8

Pagefind cannot update an index a page at a time, so after a one-record edit the build indexes
every page again (bench/RESULTS.md: at 2,000 records, about the whole time an edit may take). Its
merged indexes are the way around it that Pagefind offers: a search loads one bundle and merges
the others, so a build would index again only the bundles that hold a changed page. This measures
that option on a site already built (which it leaves as it is), without building it into the map:

- the pages but the review pages make one part, which holds every page that lists all reviews
  (an edit always changes some of them); the review pages are dealt into the other parts by a
  hash of their address;
- Pagefind's time on the whole site, as the build runs it, and on each part, each from a folder of
  links to that part's pages; an edit of one review indexes again the first part and the review's;
- in Chromium, through Pagefind's JavaScript API with the site's ranking: the same queries on the
  one index and on the parts merged, how many of the first ten results agree and whether the first
  does, and what the first query fetched.

Prints a JSON report; bench/RESULTS.md quotes a run of it in its closing note.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from bench.run import CHROMIUM, CHROMIUM_ARGS, serve
from evidence_map.paths import DOCS
from evidence_map.publishing.generator import PAGEFIND_ARGS


def site_ranking(script: Path = DOCS / "javascripts" / "search.js") -> dict[str, Any]:
    """The ranking the site's search gives Pagefind, read from its script: its weights of metadata."""
    found = re.search(r"ranking:\s*\{\s*metaWeights:\s*\{([^}]*)\}", script.read_text(encoding="utf-8"))
    if not found:
        raise SystemExit(f"no `ranking: {{ metaWeights: {{...}} }}` in {script}")
    pairs = re.findall(r"(\w+):\s*([0-9.]+)", found.group(1))
    return {"metaWeights": {name: float(weight) for name, weight in pairs}}


RANKING = site_ranking()
# Queries a visitor types, from a condition's name to a measure and a word of many pages.
QUERIES = ("sepsis", "spinal cord injury", "inflammation", "SMD", "bone marrow", "apoptosis", "stroke", "wound")


def part_of(rel: str, parts: int) -> int:
    """Part 0: every page but a review's; a review page: one of the others, by a hash of its address."""
    bits = rel.split("/")
    if len(bits) == 3 and bits[0] == "reviews" and bits[2] == "index.html":
        return 1 + zlib.crc32(bits[1].encode()) % (parts - 1)
    return 0


def pages(site: Path) -> list[str]:
    return sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if not p.relative_to(site).parts[0].startswith("pagefind")
    )


def index(site: Path, out: Path) -> float:
    """Pagefind on `site` (as the build runs it), written to `out`; its time in seconds."""
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "pagefind", "--site", str(site), "--output-path", str(out), *PAGEFIND_ARGS]
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def linked(site: Path, rels: list[str], folder: Path) -> Path:
    """A folder holding links to `rels` of `site` at the same places, for Pagefind to index alone."""
    for rel in rels:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        os.link(site / rel, folder / rel)
    return folder


COMPARE = """async ([parts, queries, ranking]) => {
  const one = await import("./pagefind/pagefind.js");
  await one.options({ranking});
  const merged = await import("./pagefind-0/pagefind.js");
  await merged.options({ranking});
  for (let k = 1; k < parts; k++) await merged.mergeIndex(`/pagefind-${k}/`, {ranking});
  const top = async (pf, q) => {
    const r = await pf.search(q);
    const data = await Promise.all(r.results.slice(0, 10).map((x) => x.data()));
    return {hits: r.results.length, urls: data.map((d) => d.url)};
  };
  const out = [];
  for (const q of queries) out.push({query: q, one: await top(one, q), merged: await top(merged, q)});
  return out;
}"""


def first_query_bytes(browser: Any, base: str, bundle: str, parts: int, query: str) -> dict[str, int]:
    """Bytes and requests of Pagefind's start and first query, on one index or the parts merged."""
    context = browser.new_context()
    page = context.new_page()
    seen: list[int] = []
    page.goto(base, wait_until="load")
    page.on("requestfinished", lambda r: seen.append(r.sizes()["responseBodySize"]))
    script = """async ([bundle, parts, query, ranking]) => {
      const pf = await import(`./${bundle}/pagefind.js`);
      await pf.options({ranking});
      for (let k = 1; k < parts; k++) await pf.mergeIndex(`/pagefind-${k}/`, {ranking});
      const r = await pf.search(query);
      await Promise.all(r.results.slice(0, 10).map((x) => x.data()));
    }"""
    page.evaluate(script, [bundle, parts, query, RANKING])
    context.close()
    return {"bytes": sum(seen), "requests": len(seen)}


def compare(root: Path, parts: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    (root / "index.html").write_text("<!doctype html><title>search</title>", encoding="utf-8")
    with serve(root) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto(base, wait_until="load")
            rows = page.evaluate(COMPARE, [parts, list(QUERIES), RANKING])
            context.close()
            fetched = {
                "one": first_query_bytes(browser, base, "pagefind", 1, QUERIES[0]),
                "merged": first_query_bytes(browser, base, "pagefind-0", parts, QUERIES[0]),
            }
        finally:
            browser.close()
    for row in rows:
        one, merged = row["one"]["urls"], row["merged"]["urls"]
        row["same_first"] = bool(one) and bool(merged) and one[0] == merged[0]
        row["top10_shared"] = len(set(one) & set(merged))
    return {"queries": rows, "first_query": fetched}


def measure(site: Path, parts: int) -> dict[str, Any]:
    rels = pages(site)
    split: dict[int, list[str]] = {}
    for rel in rels:
        split.setdefault(part_of(rel, parts), []).append(rel)
    edited = next(r for r in rels if part_of(r, parts) > 0)  # a review page: its part, and part 0
    with tempfile.TemporaryDirectory(prefix="shards-") as tmp:
        work = Path(tmp)
        whole = index(site, work / "pagefind")
        each = {k: index(linked(site, split[k], work / f"part-{k}"), work / f"pagefind-{k}") for k in sorted(split)}
        found = compare(work, parts)
    touched = (0, part_of(edited, parts))
    return {
        "pages": len(rels),
        "parts": {k: len(v) for k, v in sorted(split.items())},
        "whole_index": whole,
        "parts_index": each,
        "all_parts": sum(each.values()),
        "edit": {"page": edited, "parts": touched, "index": sum(each[k] for k in touched)},
        **found,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", type=Path, required=True, help="a built site (build.py build or bench.run)")
    ap.add_argument("--parts", type=int, default=8, help="bundles: one of the other pages, the rest of reviews")
    args = ap.parse_args()
    if args.parts < 2:
        ap.error("--parts must be at least 2")
    print(json.dumps(measure(args.site.resolve(), args.parts), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
