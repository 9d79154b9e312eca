"""Stage 3, the publishing: the computed map made into charts, Markdown pages, downloads and feeds,
then the static site (site generator, search index, the swap) and the live preview."""
