"""`python -m evidence_map.surveillance`: the weekly search, as the scheduled workflow runs it."""

import sys

from evidence_map.surveillance.command import main

sys.exit(main())
