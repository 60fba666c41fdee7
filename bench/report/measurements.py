"""What a report measures from one results table, each thing measured once.

A report builds one `Measurements` from its results table and hands it to every claim, figure
and table that reads the table. The object keeps what they share: the finished cells (`ok`, hybrids
in a family of their own: `analysis.three_families`), the win records (`wins`) and the
per-size comparisons with their intervals (`comparisons`), the kept test predictions
(`predictions`, when the run folder has them), each claim's result (`result`) and the four "had the failed cells
finished" tables behind each verdict's note on failed cells (`what_ifs`). Each is measured the
first time it is asked for and kept on this object, so a claim is measured once per table, a
claim built on others (`data_and_compute`) reads their results, and a figure draws the very
numbers its verdict decided on. Nothing is remembered anywhere else: a new table is a new
`Measurements`, and nothing outlives it.

The frames it holds are shared by everything that reads them: none of them may be modified.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from bench.report.analysis.comparison import Predictions
from bench.report.analysis.deep_vs_classical import family_comparisons, win_records
from bench.report.analysis.rows import ok_rows, three_families


class Measurements:
    """One results table and what is measured from it."""

    def __init__(self, table: pd.DataFrame, cores: int | None = None, ok: pd.DataFrame | None = None,
                 predictions: Predictions | None = None):
        """`table`: a results table (`bench.results.frame` schema), failed cells included;
        `cores`: the run machine's logical cores (`analysis.cores_of` of its environment.json),
        to tell wall-time timeouts under load apart; `ok`: `ok_rows(table)`, when already computed;
        `predictions`: a row -> its cell's kept (y_test, y_pred), or None where not kept
        (`bench.results.predictions_of` bound to the run folder); without it every interval
        uses the scores' fallback (`analysis.compare`)."""
        self.table = table
        self.cores = cores
        self.predictions = predictions
        self.ok = three_families(ok_rows(table) if ok is None else ok)
        self._results: dict[str, Any] = {}  # claim key -> its Result

    @cached_property
    def wins(self) -> pd.DataFrame:
        """Best deep minus best classical, per (dataset, size, seed), with the winner (`analysis.win_records`)."""
        return win_records(self.ok)

    @cached_property
    def comparisons(self) -> pd.DataFrame:
        """Best deep minus best classical per (dataset, size), on equal terms or the modality's pairing, with the interval
        counting the test rows, ties and selection regret (`analysis.family_comparisons`)."""
        return family_comparisons(self.ok, self.predictions)

    def result(self, claim) -> Any:
        """A claim's `Result` on this table (`claim`: a registered `bench.report.claims.Claim`):
        `claim.measure(self)`, measured the first time it is asked for."""
        if claim.key not in self._results:
            self._results[claim.key] = claim.measure(self)
        return self._results[claim.key]

    @cached_property
    def what_ifs(self) -> list[Measurements]:
        """The table with its failed cells finished at extreme scores, in four cases.

        The failed cells get, in turn, the lowest and the highest score seen on their dataset,
        deep and classical alike or in opposite directions. Empty when no failed cell is on a
        dataset with a finished cell.
        """
        df, ok = self.table, self.ok
        lo = ok.groupby("dataset")["score"].min()
        hi = ok.groupby("dataset")["score"].max()
        bad = df[(df["status"] != "ok") & df["dataset"].isin(lo.index)]
        if bad.empty:
            return []
        deep = bad["family"] == "deep"
        out = []
        for d_high, c_high in ((False, False), (True, True), (True, False), (False, True)):
            filled = df.copy()
            high = np.where(deep, d_high, c_high)
            score = np.where(high, hi.reindex(bad["dataset"]).to_numpy(), lo.reindex(bad["dataset"]).to_numpy())
            filled.loc[bad.index, "score"] = score
            filled.loc[bad.index, "status"] = "ok"
            if "val_score" in filled.columns:
                filled.loc[bad.index, "val_score"] = score
            out.append(Measurements(filled, self.cores, predictions=self.predictions))
        return out

    def __repr__(self) -> str:
        return f"Measurements({len(self.table)} rows, {len(self.ok)} finished, {len(self._results)} claims measured)"


def measured(table: Any, cores: int | None = None, ok: pd.DataFrame | None = None,
             predictions: Predictions | None = None) -> Measurements:
    """`table` itself when it is already a `Measurements`, else a new one of it."""
    return table if isinstance(table, Measurements) else Measurements(table, cores, ok, predictions)
