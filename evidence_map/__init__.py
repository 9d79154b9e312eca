"""MSC-EV living evidence map: one package per stage of the pipeline, imports only downward.

records/ (load, validate, the model) -> judging/ (verdicts, certainty: the computed map) ->
publishing/ (charts, pages, downloads, the site); surveillance/ beside them reads records only.
cli.py and mapdiff.py sit on top, paths.py beneath everything (contract: pyproject.toml).
"""
