"""Build `report.md` and a self-contained `report.html` from a run folder's saved results.

The report reads only `results.parquet` (or `rows.jsonl`) and `environment.json`; nothing
is rerun. Both documents are rendered from one list of blocks, so they say the same
thing; every string from the data is escaped by the renderer of each format, and nothing
depends on the clock, so two builds from the same results are byte-identical.

This module is the entry point: run_folder.py reads the folder, sections.py builds the
blocks in the reader's order, formats/ writes them as Markdown and HTML, and build()
writes the files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench.errors import RunError
from bench.inputs import shown
from bench.report import analysis, claims, plots
from bench.report.document import Block
from bench.report.formats.html import to_html
from bench.report.formats.markdown import FIGURES_DIR, to_markdown
from bench.report.measurements import Measurements
from bench.report.run_folder import json_file, load_run
from bench.report.sections import build_blocks


@dataclass(frozen=True)
class Report:
    markdown: Path
    html: Path
    figures: list[Path]
    table: list[claims.Verdict]


def build(run_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None,
          table: pd.DataFrame | None = None) -> Report:
    """Write report.md, report.html and figures/*.png for a run folder (into it by default).

    The report reads the folder's rows as they are (`table`: the folder's results table,
    when the caller read it already); `bench report` first upgrades an old folder's rows
    (`bench.upgrade.run_folder`).
    """
    run_dir = Path(run_dir)
    out = Path(out_dir) if out_dir else run_dir
    df, env = load_run(run_dir, table)
    _check_writable(out)  # before any figure is drawn
    # What the report measures from the table, each thing once; the cells' kept test predictions,
    # where the folder has them, make every interval a paired one.
    ms = Measurements(df, analysis.cores_of(env), predictions=_predictions(run_dir))
    table, further = claims.table_verdicts(ms), claims.further_verdicts(ms)
    figures = plots.all_figures(ms, table + further)
    plan_path = run_dir / "plan.json"
    plan = json_file(plan_path) if os.path.lexists(plan_path) else None
    planned = plan.get("cells") if isinstance(plan, dict) else None
    blocks = build_blocks(df, env, figures, table, planned if isinstance(planned, int) else None, further, ms)
    try:
        return _write(out, blocks, figures, table)
    except OSError as exc:  # a read-only or full disk, a file in the way
        where = exc.filename or out
        raise RunError(f"{shown(where)}: cannot write the report: {exc.strerror or exc}; give a writable --out") from None


def _predictions(run_dir: Path):
    """A row -> its cell's kept (y_test, y_pred) or None (`bench.results.predictions_of` bound to
    the folder); None where this version of bench.results keeps no predictions."""
    try:
        from bench.results import predictions_of
    except ImportError:
        return None
    cache: dict[tuple[str, str], object] = {}

    def predictions(row):  # each cell's files read once per report, however many claims compare it
        key = (str(row.get("key")), str(row.get("status")))
        if key not in cache:
            cache[key] = predictions_of(run_dir, row)
        return cache[key]

    return predictions


def _check_writable(out: Path) -> None:
    import tempfile

    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise RunError(f"{shown(out)}: cannot write the report there: {exc.strerror or exc}; give a writable "
                       "--out") from None


def _write(out: Path, blocks: list[Block], figures: dict, table: list[claims.Verdict]) -> Report:
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
