"""Build-time benchmark of the evidence map (see bench/README.md)."""
