"""Beside the pipeline, the surveillance: the PubMed client, the search strategy and its log, the
screening queue and its checks, recall and the watch on the map's own reviews. It reads records,
never verdicts or pages."""
