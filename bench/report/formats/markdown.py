"""report.md: the blocks as Markdown, every string from the data escaped."""

from __future__ import annotations

from bench.report.document import Block

FIGURES_DIR = "figures"  # the figures' folder beside report.md, which links to them


def md_escape(text: str) -> str:
    """Text safe in Markdown (and in the HTML GitHub lets through it)."""
    text = str(text).replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "`*[]|":
        text = text.replace(ch, "\\" + ch)
    if text[:1] in ("#", "-", "+", "="):  # would start a heading or a list
        text = "\\" + text
    return " ".join(text.split("\n"))


def _md_cell(text: str) -> str:
    """A table cell; a second line (after a newline: a claim's original Chinese wording) below a line break."""
    return "<br>".join(md_escape(part) for part in str(text).split("\n"))


def to_markdown(blocks: list[Block]) -> str:
    out = []
    for b in blocks:
        if b.kind == "details":
            out.append(f"**{md_escape(b.text)}**\n")
            out.append(to_markdown(list(b.items)))
            continue
        if b.kind in ("h1", "h2", "h3"):
            out.append(f"{'#' * int(b.kind[1])} {md_escape(b.text)}\n")
        elif b.kind == "p":
            out.append(md_escape(b.text) + "\n")
        elif b.kind == "list":
            out.append(md_escape(b.text) + "\n")
            out.append("\n".join(f"- {md_escape(i)}" for i in b.items) + "\n")
        elif b.kind == "table":
            lines = ["| " + " | ".join(md_escape(h) for h in b.header) + " |", "|" + "---|" * len(b.header)]
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.items]
            out.append("\n".join(lines) + "\n")
        elif b.kind == "figure":
            f = b.figure
            out.append(f"![{md_escape(f.title)}]({FIGURES_DIR}/{f.name})\n\n{md_escape(f.caption)}\n")
        elif b.kind == "pre":
            fence = "~~~~"
            while fence in b.text:
                fence += "~"
            out.append(f"{fence}\n{b.text.rstrip()}\n{fence}\n")
    return "\n".join(out)
