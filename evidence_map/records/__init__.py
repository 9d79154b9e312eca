"""Stage 1, the records: strict YAML loading, the vocabularies, validation, the typed model, the JSON
Schema and the new-record scaffold. Nothing here knows about verdicts or pages."""
