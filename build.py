#!/usr/bin/env python3
"""Build the MSC-EV living evidence map: `python build.py --help` lists the commands."""

import sys

from evidence_map.cli import main

if __name__ == "__main__":
    sys.exit(main())
