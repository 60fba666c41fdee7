"""report.html: the blocks as one self-contained page (style inlined, figures as data URLs)."""

from __future__ import annotations

import base64
import html

from bench.report.document import Block
from bench.report.formats.css import CSS


def _e(text) -> str:
    return html.escape(str(text), quote=True)


_OUTCOME_CLASS = {"supports": "v-supported", "refutes": "v-refuted", "mixed": "v-mixed", "inconclusive": "v-inconclusive"}


def _html_table(b: Block, anchor: str) -> str:
    verdict_col = b.header.index("Verdict") if "Verdict" in b.header else -1
    outcome_col = b.header.index("outcome") if "outcome" in b.header else -1
    rows = ["<tr>" + "".join(f"<th>{_e(h)}</th>" for h in b.header) + "</tr>"]
    for row in b.items:
        cells = []
        for j, c in enumerate(row):
            if j == verdict_col:
                cells.append(f'<td class="verdict {_e("v-" + c.replace(" ", "-"))}">{_e(c)}</td>')
            elif j == outcome_col and c in _OUTCOME_CLASS:
                cells.append(f'<td class="{_OUTCOME_CLASS[c]}">{_e(c)}</td>')
            elif "\n" in c:  # a second line: the claim's original wording, smaller, below
                first, _, rest = c.partition("\n")
                cells.append(f'<td>{_e(first)}<br><span class="gloss" lang="zh">{_e(rest)}</span></td>')
            else:
                cells.append(f"<td>{_e(c)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    table = f"<table{anchor}>" + "\n".join(rows) + "</table>"
    if b.text and b.text != "-":
        return f"<details><summary>{_e(b.text)}</summary>{table}</details>"
    return table


def _html_blocks(blocks: list[Block], sections: list[Block]) -> list[str]:
    out = []
    for b in blocks:
        anchor = f' id="{_e(b.anchor)}"' if b.anchor else ""
        cls = f' class="{_e(b.cls)}"' if b.cls else ""
        if b.kind in ("h1", "h2", "h3"):
            out.append(f"<{b.kind}{anchor}>{_e(b.text)}</{b.kind}>")
            if b.kind == "h1" and sections:
                links = " · ".join(f'<a href="#{_e(h.anchor)}">{_e(h.text)}</a>' for h in sections)
                out.append(f"<nav>{links}</nav>")
        elif b.kind == "p":
            out.append(f"<p{cls}>{_e(b.text)}</p>")
        elif b.kind == "list":
            out.append(f"<p>{_e(b.text)}</p><ul{cls}>" + "".join(f"<li>{_e(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "table":
            out.append(_html_table(b, anchor))
        elif b.kind == "figure":
            f = b.figure
            data = base64.b64encode(f.png).decode("ascii")
            out.append(
                f'<figure><img class="report-figure" alt="{_e(f.title)}" data-name="{_e(f.name)}" '
                f'src="data:image/png;base64,{data}"><figcaption>{_e(f.caption)}</figcaption></figure>'
            )
        elif b.kind == "pre":
            out.append(f"<pre>{_e(b.text)}</pre>")
        elif b.kind == "details":
            out.append(f"<details><summary>{_e(b.text)}</summary>")
            out += _html_blocks(list(b.items), [])
            out.append("</details>")
    return out


def to_html(blocks: list[Block], title: str) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
    ]
    sections = [b for b in blocks if b.kind == "h2" and b.anchor]
    out += _html_blocks(blocks, sections)
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
