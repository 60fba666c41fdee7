"""The report's document model: a list of blocks that formats/ writes as Markdown and HTML.

Sections (sections.py, external.py, the claims) build blocks; only formats/ turns them into
text, so the two documents say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.report import plots

COLLAPSE_ROWS = 6  # tables longer than this are collapsed in the HTML


@dataclass(frozen=True)
class Block:
    kind: str  # h1 h2 h3 p list table figure pre details
    text: str = ""
    items: tuple = ()
    header: tuple = ()
    anchor: str = ""
    figure: plots.Figure | None = None
    cls: str = ""  # an HTML class (a verdict's colour, a rule's smaller print)


def heading(level: int, text: str, anchor: str = "") -> Block:
    return Block(f"h{level}", text, anchor=anchor)


def table(header, rows, anchor: str = "", summary: str = "") -> Block:
    """A table; `summary` (or more than COLLAPSE_ROWS rows) collapses it in the HTML under that line.

    A summary of "-" keeps a table open whatever its length.
    """
    items = tuple(tuple(str(c) for c in r) for r in rows)
    if not summary and len(items) > COLLAPSE_ROWS:
        summary = f"Table: {len(items)} rows"
    return Block("table", text=summary, header=tuple(header), items=items, anchor=anchor)


def details(summary: str, blocks: list[Block]) -> Block:
    """Blocks collapsed in the HTML under `summary`; in full in the Markdown."""
    return Block("details", summary, items=tuple(blocks))


def figure_block(f: plots.Figure) -> Block:
    return Block("figure", f.title, figure=f)
