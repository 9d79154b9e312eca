"""Stage 2, the judging: the rules file, the umbrella review's grading, the evidence classes, the
certainty rating, the paper's own ratings, and `computed.compute_map`, which turns validated records
into the computed map every later stage only reads."""
