"""The report's two formats: Markdown (markdown.py) and a self-contained HTML page (html.py, css.py).

Each writes the same list of blocks (bench.report.document) and escapes every string from
the data its own way, so the two documents say the same thing.
"""
