"""Build `report.md` and a self-contained `report.html` from a run folder's saved results.

The report reads only `results.parquet` (or `rows.jsonl`) and `environment.json`; nothing
is rerun. Both documents are rendered from one list of blocks, so they say the same
thing; every string from the data is escaped by the renderer of each format, and nothing
depends on the clock, so two builds from the same results are byte-identical.
"""

from __future__ import annotations

import base64
import html
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench import results
from bench.registry import first_line
from bench.report import analysis, claims, external, plots, stats

FIGURES_DIR = "figures"


@dataclass(frozen=True)
class Block:
    kind: str  # h1 h2 h3 p list table figure pre
    text: str = ""
    items: tuple = ()
    header: tuple = ()
    anchor: str = ""
    figure: plots.Figure | None = None


def _h(level: int, text: str, anchor: str = "") -> Block:
    return Block(f"h{level}", text, anchor=anchor)


def _table(header, rows, anchor: str = "") -> Block:
    return Block("table", header=tuple(header), items=tuple(tuple(str(c) for c in r) for r in rows), anchor=anchor)


# ------------------------------------------------------------------ content


def load_run(run_dir: str | os.PathLike) -> tuple[pd.DataFrame, dict | None]:
    run_dir = Path(run_dir)
    if not (run_dir / "results.parquet").exists() and not (run_dir / results.ROWS_FILE).exists():
        raise FileNotFoundError(f"{run_dir}: no results.parquet or {results.ROWS_FILE} (is it a run folder?)")
    df = results.load(run_dir)
    env_path = run_dir / "environment.json"
    env = json.loads(env_path.read_text(encoding="utf-8")) if env_path.exists() else None
    return df, env


def _verdict_section(title: str, verdicts: list[claims.Verdict], table: bool) -> list[Block]:
    blocks = []
    if table:
        rows = [(v.aspect, v.classical, v.deep, v.verdict, v.reason) for v in verdicts]
        blocks.append(_table(
            ("Aspect", "Classical ML (claim)", "Deep learning (claim)", "Verdict", "Why (measured)"),
            rows, anchor="comparison-table",
        ))
    else:
        rows = [(v.aspect, v.deep, v.verdict, v.reason) for v in verdicts]
        blocks.append(_table(("Claim", "The documents say", "Verdict", "Why (measured)"), rows, anchor="further-claims-table"))
    for v in verdicts:
        blocks.append(_h(3, f"{v.aspect}: {v.verdict}", anchor=f"claim-{v.key}"))
        if v.classical:
            blocks.append(Block("p", f"Claim: classical ML — {v.classical}; deep learning — {v.deep}."))
        else:
            blocks.append(Block("p", f"Claim: {v.deep}."))
        blocks.append(Block("p", f"Rule: {v.rule}"))
        blocks.append(Block("p", f"Verdict: {v.verdict} — {v.reason}."))
        if v.certainty:
            blocks.append(Block("p", f"How sure: {v.certainty}"))
        if v.missing:
            blocks.append(Block("p", f"Missing cells: {v.missing}"))
        if v.evidence:
            blocks.append(evidence_table(v.evidence))
    return blocks


def evidence_table(rows) -> Block:
    """A claim's evidence rows (dicts) as one table, columns in first-seen order."""
    header = list(dict.fromkeys(k for r in rows for k in r))
    return _table(header, [tuple(r.get(k, "") for k in header) for r in rows])


def _statistics(ok: pd.DataFrame, figs: list[plots.Figure]) -> list[Block]:
    """Average ranks, the Friedman test and the critical-difference diagram, over datasets."""
    blocks = [_h(2, "Statistics across datasets", anchor="statistics")]
    fam = stats.family_ranks(ok)
    if fam is not None:
        p = "n/a" if not np.isfinite(fam.wilcoxon_p) else f"{fam.wilcoxon_p:.2g}"
        blocks.append(Block("p", (
            f"Best deep against best classical configuration, at each dataset's largest compared size, "
            f"over {fam.n_datasets} datasets: average rank {fam.deep:.2f} for deep, {fam.classical:.2f} "
            f"for classical (1 = ahead on every dataset); Wilcoxon signed-rank test of the differences, p = {p}."
        )))
    test = stats.friedman(stats.complete_blocks(ok))
    if test is None:
        blocks.append(Block("p", "No Friedman test: fewer than three configurations ran on two or more datasets alike."))
    else:
        blocks.append(Block("p", (
            f"Friedman test over the {test.n_configs} configurations that ran on all {test.n_datasets} "
            f"datasets: χ² = {test.statistic:.3g}, p = {test.p:.2g}"
            + (" (the configurations do not all rank alike)." if test.p < 0.05 else " (no evidence that they rank differently).")
        )))
    blocks += [Block("figure", f.title, figure=f) for f in figs]
    ranks = stats.rank_table(ok)
    if not ranks.empty:
        blocks.append(_table(
            ("configuration", "family", "average rank", "datasets"),
            [(r.config, r.family, f"{r.mean_rank:.2f}", int(r.n_datasets)) for r in ranks.itertuples()],
            anchor="ranks",
        ))
    return blocks


def _selection_note(ok: pd.DataFrame) -> str:
    basis = analysis.selection_basis(ok)
    if basis == "validation":
        return "Every best configuration here was chosen on validation scores."
    if basis == "partly":
        return ("Some cells of this run lack a validation score: where a choice involved one of "
                "them, it fell back to test scores (as before validation scores existed).")
    return ("This run's cells carry no validation score (a results table from before they "
            "existed): every best configuration fell back to being chosen on test scores, "
            "which favours the family with more configurations.")


def _summary_rows(ok: pd.DataFrame) -> list[tuple]:
    rows = []
    if ok.empty:
        return rows
    largest = ok.groupby("dataset")["n_train"].transform("max") == ok["n_train"]
    at = ok[largest]
    for (dataset, family, config), g in at.groupby(["dataset", "family", "config"], sort=True):
        rows.append((
            dataset, int(g["n_train"].iloc[0]), family, config, analysis.fmt_spread(g["score"]),
            analysis.fmt_spread(g["train_score"]).split(" (")[0],
            _num(g["fit_time_s"].mean(), ".3g"), _num(g["predict_latency_ms"].mean(), ".3g"),
            _num(g["peak_memory_mb"].mean(), ".3g"), analysis.fmt_count(float(g["n_params"].median())),
        ))
    return rows


def _num(x: float, spec: str) -> str:
    return "n/a" if x is None or not np.isfinite(x) else format(x, spec)


def _win_rows(ok: pd.DataFrame) -> list[tuple]:
    rec = analysis.win_records(ok)
    rows = []
    for (modality, n), g in rec.groupby(["modality", "n_train"], sort=True):
        rows.append((
            modality, int(n), len(g), int((g["winner"] == "deep").sum()),
            int((g["winner"] == "classical").sum()), int((g["winner"] == "tie").sum()),
            f"{analysis.win_rate(g):.0%}", ", ".join(sorted(g["dataset"].unique())),
        ))
    return rows


def _failed_rows(df: pd.DataFrame) -> list[tuple]:
    if df.empty:
        return []
    bad = df[df["status"] != "ok"].sort_values(["dataset", "model", "features", "n_train", "seed"])
    rows = []
    for r in bad.itertuples():
        info = "" if pd.isna(r.info) else str(r.info)
        first = first_line(info) or "(no error text)"
        rows.append((r.dataset, r.model, r.features, int(r.n_train), int(r.seed), r.status, first[:400]))
    return rows


def _provenance(env: dict | None, df: pd.DataFrame) -> list[Block]:
    if env is None:
        return [Block("p", "environment.json is missing from the run folder: hardware, versions and commit are unknown.")]
    cpu = env.get("cpu") or {}
    git = env.get("git") or {}
    threads = env.get("threads") or {}
    suite = env.get("suite") or {}
    libs = env.get("libraries") or {}
    gpus = env.get("gpu") or []
    rows = [
        ("date of the run", env.get("created", "unknown")),
        ("suite", f"{suite.get('name', 'unknown')} ({suite.get('path', '?')}, sha256 {str(suite.get('sha256', '?'))[:12]})"),
        ("commit", f"{git.get('commit') or 'unknown'}{' (uncommitted changes)' if git.get('dirty') else ''}"),
        ("host", env.get("host", "unknown")),
        ("CPU", f"{cpu.get('model', 'unknown')}; {cpu.get('cores_physical', '?')} physical / {cpu.get('cores_logical', '?')} logical cores"),
        ("memory", f"{env.get('memory_gb', '?')} GB"),
        ("GPU", ", ".join(f"{g.get('name')} ({g.get('memory_gb')} GB)" for g in gpus) or "none"),
        ("OS", env.get("os", "unknown")),
        ("Python", env.get("python", "unknown")),
        ("threads", f"{threads.get('per_cell', '?')} per cell, {threads.get('jobs', '?')} cell(s) at once"),
        ("thread variables", ", ".join(f"{k}={v}" for k, v in sorted((threads.get("env") or {}).items())) or "none"),
    ]
    rows += [(f"{lib}", str(v)) for lib, v in sorted(libs.items())]
    if not df.empty and "device" in df:
        devices = sorted(str(d) for d in df["device"].dropna().unique())
        rows.append(("devices used by cells", ", ".join(devices) or "unknown"))
    blocks = [_table(("", "value"), rows, anchor="provenance")]
    if suite.get("content"):
        blocks.append(Block("p", "The suite as run:"))
        blocks.append(Block("pre", str(suite["content"])))
    return blocks


def build_blocks(
    df: pd.DataFrame,
    env: dict | None,
    figures: dict[str, list[plots.Figure]],
    table: list[claims.Verdict] | None = None,
    planned: int | None = None,
) -> list[Block]:
    ok = analysis.ok_rows(df)
    table = claims.table_verdicts(df) if table is None else table
    suite = ((env or {}).get("suite") or {}).get("name") or "unknown suite"
    n_fail = int((df["status"] != "ok").sum()) if not df.empty else 0
    blocks = [
        _h(1, f"bench report: {suite}"),
        Block("p", (
            f"Run of {(env or {}).get('created', 'unknown date')}: "
            + (f"{planned} cells planned, {planned - len(df)} of them not run (an interrupted run); " if planned and planned > len(df) else "")
            + f"{len(df)} cells, {len(df) - n_fail} ok, "
            f"{n_fail} failed; {df['dataset'].nunique() if not df.empty else 0} datasets "
            f"({', '.join(sorted(df['modality'].astype(str).unique())) if not df.empty else 'none'}), "
            f"{df['model'].nunique() if not df.empty else 0} models "
            f"({', '.join(sorted(df['family'].astype(str).unique())) if not df.empty else 'none'}), "
            f"feature variants {', '.join(sorted(df['features'].astype(str).unique())) if not df.empty else 'none'}, "
            f"training sizes {', '.join(str(n) for n in sorted(df['n_train'].unique())) if not df.empty else 'none'}, "
            f"{df['seed'].nunique() if not df.empty else 0} seeds."
        )),
        _h(2, "The comparison table, measured", anchor="comparison"),
        Block("p", (
            "The documents' comparison of classical machine learning and deep learning (seed 002, "
            "section 1.3), row by row: the claim, the rule that turns measurements into a verdict "
            "(fixed in bench/report/claims.py before any result was seen), the evidence and the "
            "verdict: supported, refuted, mixed, or not measurable."
        )),
        Block("p", f"Conventions of every rule: {claims.CONVENTIONS}"),
        Block("p", claims.CHANGES),
        Block("p", _selection_note(ok)),
        *_verdict_section("comparison", table, table=True),
        _h(2, "Further claims of the documents", anchor="further"),
        *_verdict_section("further", claims.further_verdicts(df), table=False),
        *_statistics(ok, figures.get("ranks", [])),
        _h(2, "Figures", anchor="figures"),
    ]
    sections = (
        ("learning_curves", "Learning curves"), ("score_vs_time", "Score against fit time"),
        ("costs", "Fit time and peak memory by model"), ("win_rate", "Win rate of the best deep model against the best classical one"),
    )
    for key, title in sections:
        blocks.append(_h(3, title))
        figs = figures.get(key, [])
        if not figs:
            blocks.append(Block("p", "Not measurable with this run (no finished cells of both families)."))
        blocks += [Block("figure", f.title, figure=f) for f in figs]
    wins = _win_rows(ok)
    blocks.append(_h(3, "Win rates by modality and training size"))
    if wins:
        blocks.append(_table(("modality", "n_train", "comparisons", "deep wins", "classical wins", "ties", "deep win rate", "datasets"), wins, anchor="win-rates"))
    else:
        blocks.append(Block("p", "Not measurable with this run: no (dataset, size) has finished deep and classical cells."))
    reach = analysis.size_to_reach(ok) if not ok.empty else pd.DataFrame()
    blocks.append(_h(3, "Training rows to reach 95% of a configuration's own best score"))
    if reach.empty:
        blocks.append(Block("p", "Not measurable with this run: no configuration ran at two or more sizes."))
    else:
        blocks.append(_table(
            ("dataset", "family", "configuration", "n_train"),
            [(r.dataset, r.family, r.config, int(r.n_reach)) for r in reach.sort_values(["dataset", "family", "config"]).itertuples()],
            anchor="size-to-reach",
        ))
    blocks.append(_h(2, "Results at each dataset's largest training size", anchor="results"))
    blocks.append(_table(
        ("dataset", "n_train", "family", "configuration", "test score", "train score", "fit s", "predict ms/row", "peak MB", "params"),
        _summary_rows(ok), anchor="results-table",
    ))
    blocks += external.blocks(df)
    failed = _failed_rows(df)
    blocks.append(_h(2, f"Failed cells ({len(failed)})", anchor="failed"))
    if failed:
        blocks.append(_table(("dataset", "model", "features", "n_train", "seed", "status", "error"), failed, anchor="failed-table"))
    else:
        blocks.append(Block("p", "None: every cell finished."))
    blocks.append(_h(2, "Provenance", anchor="provenance-section"))
    blocks += _provenance(env, df)
    return blocks


# ------------------------------------------------------------------ Markdown


def md_escape(text: str) -> str:
    """Text safe in Markdown (and in the HTML GitHub lets through it)."""
    text = str(text).replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "`*[]|":
        text = text.replace(ch, "\\" + ch)
    if text[:1] in ("#", "-", "+", "="):  # would start a heading or a list
        text = "\\" + text
    return " ".join(text.split("\n"))


def to_markdown(blocks: list[Block]) -> str:
    out = []
    for b in blocks:
        if b.kind in ("h1", "h2", "h3"):
            out.append(f"{'#' * int(b.kind[1])} {md_escape(b.text)}\n")
        elif b.kind == "p":
            out.append(md_escape(b.text) + "\n")
        elif b.kind == "list":
            out.append(md_escape(b.text) + "\n")
            out.append("\n".join(f"- {md_escape(i)}" for i in b.items) + "\n")
        elif b.kind == "table":
            lines = ["| " + " | ".join(md_escape(h) for h in b.header) + " |", "|" + "---|" * len(b.header)]
            lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in b.items]
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


# ------------------------------------------------------------------ HTML

CSS = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.88em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
.verdict { font-weight: bold; white-space: nowrap; }
.v-supported { background: #dff0d8; } .v-refuted { background: #f8d7da; }
.v-mixed { background: #fff3cd; } .v-inconclusive { background: #e2e3f3; } .v-not-measurable { background: #e9ecef; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #555; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def to_html(blocks: list[Block], title: str) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{_e(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
    ]
    sections = [b for b in blocks if b.kind == "h2" and b.anchor]
    for b in blocks:
        anchor = f' id="{_e(b.anchor)}"' if b.anchor else ""
        if b.kind in ("h1", "h2", "h3"):
            out.append(f"<{b.kind}{anchor}>{_e(b.text)}</{b.kind}>")
            if b.kind == "h1" and sections:
                links = " · ".join(f'<a href="#{_e(h.anchor)}">{_e(h.text)}</a>' for h in sections)
                out.append(f"<nav>{links}</nav>")
        elif b.kind == "p":
            out.append(f"<p>{_e(b.text)}</p>")
        elif b.kind == "list":
            out.append(f"<p>{_e(b.text)}</p><ul>" + "".join(f"<li>{_e(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "table":
            verdict_col = b.header.index("Verdict") if "Verdict" in b.header else -1
            rows = ["<tr>" + "".join(f"<th>{_e(h)}</th>" for h in b.header) + "</tr>"]
            for row in b.items:
                cells = []
                for j, c in enumerate(row):
                    if j == verdict_col:
                        cls = "v-" + c.replace(" ", "-")
                        cells.append(f'<td class="verdict {_e(cls)}">{_e(c)}</td>')
                    else:
                        cells.append(f"<td>{_e(c)}</td>")
                rows.append("<tr>" + "".join(cells) + "</tr>")
            out.append(f"<table{anchor}>" + "\n".join(rows) + "</table>")
        elif b.kind == "figure":
            f = b.figure
            data = base64.b64encode(f.png).decode("ascii")
            out.append(
                f'<figure><img class="report-figure" alt="{_e(f.title)}" data-name="{_e(f.name)}" '
                f'src="data:image/png;base64,{data}"><figcaption>{_e(f.caption)}</figcaption></figure>'
            )
        elif b.kind == "pre":
            out.append(f"<pre>{_e(b.text)}</pre>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


# ------------------------------------------------------------------ entry point


@dataclass(frozen=True)
class Report:
    markdown: Path
    html: Path
    figures: list[Path]
    table: list[claims.Verdict]


def build(run_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> Report:
    """Write report.md, report.html and figures/*.png for a run folder (into it by default)."""
    run_dir = Path(run_dir)
    out = Path(out_dir) if out_dir else run_dir
    df, env = load_run(run_dir)
    figures = plots.all_figures(analysis.ok_rows(df))
    table = claims.table_verdicts(df)
    plan_path = run_dir / "plan.json"
    planned = json.loads(plan_path.read_text(encoding="utf-8")).get("cells") if plan_path.exists() else None
    blocks = build_blocks(df, env, figures, table, planned if isinstance(planned, int) else None)
    fig_dir = out / FIGURES_DIR
    fig_dir.mkdir(parents=True, exist_ok=True)
    names = {f.name for figs in figures.values() for f in figs}
    for stale in fig_dir.glob("*.png"):
        if stale.name not in names:
            stale.unlink()
    paths = []
    for figs in figures.values():
        for f in figs:
            path = fig_dir / f.name
            path.write_bytes(f.png)
            paths.append(path)
    title = blocks[0].text
    md, page = out / "report.md", out / "report.html"
    md.write_text(to_markdown(blocks), encoding="utf-8")
    page.write_text(to_html(blocks, title), encoding="utf-8")
    return Report(md, page, paths, table)
