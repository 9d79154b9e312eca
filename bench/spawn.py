"""Run a command and record its peak resident memory: `python bench/spawn.py REPORT -- CMD...`.

Linux gives a child started with vfork (as subprocess does) the parent's memory high-water mark
as its own starting ru_maxrss, so a site-generator run started straight from a build process
that has just drawn charts would report the build's peak, not its own. Starting it from this
small process instead makes the child's ru_maxrss its own (plus at most this launcher's ~10 MB).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> int:
    report, sep, *cmd = sys.argv[1:]
    assert sep == "--" and cmd, "usage: python bench/spawn.py REPORT -- CMD..."
    t0 = time.perf_counter()
    code = subprocess.call(cmd)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    with open(report, "w", encoding="utf-8") as fh:
        json.dump({"peak_rss": peak, "seconds": seconds, "returncode": code}, fh)
    return code


if __name__ == "__main__":
    sys.exit(main())
