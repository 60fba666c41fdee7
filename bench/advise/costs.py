"""`bench advise`: the pilot's readings, each (model, features) pair's cell time as a fixed part and a part growing with n.

The pilot's cells' times give, per model, a part that does not grow with the training size
(starting the cell, reading the data) and a part that does (fitting, the validation fit,
predicting), which is extrapolated to larger sizes as n^a, with `a` from the model's tags
(EXPONENTS: kernel methods grow as n², the rest about linearly), or from the pilot where it
grows faster than that.

A cell whose validation part is small (bench.execution.selection: fewer than 100 rows, so
below 500 training rows) also cross-validates its configuration: 5x2 more fits, recorded in
its search time. The pilot's small size is such a cell, its larger one is not; the extra fits
are taken out of the growing part and added back only to the planned cells that make them
(`cv_s`). Read as growth, they had put a random forest's 750-row cell on 8,000 Fashion-MNIST
images at 33.5 s (it took 2.5 s) and a CNN's at 111 s (41 s): a 6-minute plan used half its budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.execution import selection
from bench.models import MODELS
from bench.registry import first_line
from bench.tuning import validation_rows

# Growth of a cell's variable time with the training size n, as n^a, by model tag.
# Networks are the least predictable: early stopping may need more epochs on more rows (a CNN on
# MNIST-1D ran 18 epochs on 128 rows, 51 on 512, 53-65 on 1,500), so their growth is read from
# the pilot where it is faster than the tag's (MAX_EXPONENT at most).
EXPONENTS = {"kernel": 2.0, "tree": 1.1, "neighbours": 1.0, "boosting": 1.0, "linear": 1.0}
DEFAULT_EXPONENT = 1.0
MAX_EXPONENT = 2.5
MEASURABLE_S = (0.2, 1.0)  # the pilot's growing times (small size, larger size) worth a measured exponent
SEARCH_FACTOR = 1.5  # a drawn configuration costs more than the default on average (bigger nets, deeper trees)
HARNESS_S = 0.1  # the runner's time per cell beyond the cell's own (writing the row and tables): 0.07 s at load 8 on 2 cores
VALIDATION = 0.2  # the validation share of the suites bench advise writes (bench.advise.inspect.VALIDATION)
MIN_GROWING = 0.2  # at least this share of a cell's fit-and-predict time at the pilot's larger size grows with n


def exponent(name: str) -> float:
    tags = MODELS[name].tags
    return max((EXPONENTS[t] for t in tags if t in EXPONENTS), default=DEFAULT_EXPONENT)



@dataclass(frozen=True)
class Cost:
    """A (model, features) pair's cell time from the pilot: a fixed part, and a part growing with n.

    The growing part (the final fit, the validation fit, the predictions) is c0 + c1 * n^a:
    `a` from the model's tags, c0 and c1 from the pilot's two sizes.
    """

    model: str
    features: str
    fixed_s: float  # does not grow with the training size: worker start, data, the runner's writes
    c0: float
    c1: float
    exponent: float
    val_share: float  # of the growing part: the validation fit (one search trial)
    fit_share: float  # of the growing part: the final fit
    status: str = "ok"
    info: str = ""
    cv_fits: float = 0.0  # the cross-validation's fits in a cell with a small validation part (0: too slow for it)
    p1: float = 0.0  # seconds per training row of predicting, for a model whose prediction reads them (k-NN, SVM)

    def grow_s(self, n: int) -> float:
        return self.c0 + self.c1 * n**self.exponent + self.p1 * n

    def cv_s(self, n: int) -> float:
        """The cross-validated score's fits at `n` training rows, where the validation part is small
        enough to need one and the folds fit within their cap (bench.execution.selection)."""
        if not self.cv_fits or not selection.applies(validation_rows(n, VALIDATION)):
            return 0.0
        folds = self.cv_fits * self.val_share * self.grow_s(n)
        return folds if folds <= selection.cap_s() else 0.0

    def default_s(self, n: int) -> float:
        return self.fixed_s + self.grow_s(n) + self.cv_s(n)

    def trial_s(self, n: int) -> float:
        return (self.val_share * self.grow_s(n) + self.cv_s(n)) * SEARCH_FACTOR

    def tuned_s(self, n: int, trials: int, time_s: float | None) -> float:
        g = self.grow_s(n)
        search = trials * self.trial_s(n)
        if time_s is not None:
            search = min(search, time_s + self.trial_s(n))  # a trial that has started runs to its end
        return self.fixed_s + search + g * (1 - self.val_share) + g * self.fit_share * (SEARCH_FACTOR - 1)


def _num(v) -> float:
    return 0.0 if pd.isna(v) else float(v)


def costs_from_pilot(table: pd.DataFrame, wall_s: float) -> tuple[dict[tuple[str, str], Cost], float]:
    """Per (model, features) cost from the pilot's rows, and the runner's own time once per run.

    The first cell's start includes the worker server's, once per command, so it counts as a
    typical start; the pilot's wall time beyond its cells, less HARNESS_S per cell, is the
    runner's fixed cost (environment, plan, executor), which a run pays once.
    """
    out: dict[tuple[str, str], Cost] = {}
    if table.empty:
        return out, 0.0
    starts = table["startup_s"].fillna(0.0)
    per_run = max(0.0, wall_s - float((table["cell_time_s"].fillna(0.0) + starts).sum()) - HARNESS_S * len(table))
    typical_start = float(starts.median())
    first = starts.idxmax()
    for (model, feats), g in table.groupby(["model", "features"], sort=False):
        key = (str(model), str(feats))
        a = exponent(key[0])
        # A cell stopped at its limit took at least that long: a lower bound, read as a measurement.
        ok = g[g["status"].isin(["ok", "timeout"])].sort_values("n_train")
        if ok.empty or (ok["status"] != "ok").all():
            r = g.iloc[0]
            out[key] = Cost(*key, 0.0, 0.0, 0.0, a, 0.0, 0.0, str(r["status"]), first_line(r["info"]))
            continue
        points, cv, p1 = [], 0.0, 0.0
        for i, r in ok.iterrows():
            start = typical_start if i == first else _num(r["startup_s"])
            total = _num(r["cell_time_s"]) + start + HARNESS_S
            if r["status"] != "ok":  # all of it grows, in the proportions of the model's finished cell
                points.append((int(r["n_train"]), total, None, None, None))
                continue
            fit, search = _num(r["fit_time_s"]), _num(r["search_time_s"])
            lazy, pred = _growing_predict_s(key[0], r)
            p1 = lazy / max(1, int(r["n_train"]))  # the largest size's reading (sorted by size)
            folds = cv_fits(r)
            val = search / (1 + folds)  # one validation fit; the folds' fits are about as large
            cv = max(cv, folds)
            points.append((int(r["n_train"]), fit + val + pred, max(0.0, total - fit - search - pred - lazy), fit, val))
        measured = [p for p in points if p[2] is not None]
        fixed = float(np.median([p[2] for p in measured]))
        shares = measured[-1]
        points = [(n, g_ if f is not None else max(0.0, g_ - fixed - p1 * n), f, fit, val)
                  for n, g_, f, fit, val in points]
        n_hi, g_hi = points[-1][0], points[-1][1]
        fit_hi, val_hi = (shares[3] / shares[1] * g_hi, shares[4] / shares[1] * g_hi) if shares[1] > 0 else (0.0, 0.0)
        c0, c1 = 0.0, g_hi / n_hi**a
        if len(points) > 1:
            n_lo, g_lo = points[0][0], points[0][1]
            measured = math.log(g_hi / g_lo) / math.log(n_hi / n_lo) if g_lo > 0 and g_hi > 0 else 0.0
            if g_lo >= MEASURABLE_S[0] and g_hi >= MEASURABLE_S[1] and measured > a:
                # Faster than the tag says: a power law through the larger reading, at the measured rate.
                a = min(MAX_EXPONENT, measured)
                c1 = g_hi / n_hi**a
            else:  # as fast or slower: a fixed part per fit, and the rest growing at the tag's rate
                slope = (g_hi - g_lo) / (n_hi**a - n_lo**a)
                c1 = max(slope, MIN_GROWING * g_hi / n_hi**a)  # noise must not make a fit free to grow
                c0 = max(0.0, g_hi - c1 * n_hi**a)
        val_share, fit_share = (val_hi / g_hi, fit_hi / g_hi) if g_hi > 0 else (0.0, 0.0)
        out[key] = Cost(*key, fixed, c0, c1, a, val_share, fit_share, cv_fits=cv, p1=p1)
    return out, per_run


LAZY_TAGS = frozenset({"neighbours", "kernel"})  # prediction compares with the training rows: it grows with them


def _growing_predict_s(model: str, row) -> tuple[float, float]:
    """The parts of a cell's predicting that grow with the training rows, as (linearly, with the
    fit): all of it (the validation and test rows), linearly, for a model whose prediction reads
    the training rows (k-NN, a kernel SVM: its fit may grow as n², its prediction as n); else
    only the validation rows' (a fifth of the training rows), since the test part's size is fixed.
    A CNN's 4.6 s for 2,000 test images at 128 training rows, read as growing, was 27 s at 750."""
    pred = _num(row["predict_time_s"])
    if MODELS[model].tags & LAZY_TAGS:
        return 2.0 * pred, 0.0
    n_val, n_test = _num(row.get("n_validation", math.nan)), _num(row.get("n_test", math.nan))
    return 0.0, pred * (n_val / n_test if n_val > 0 and n_test > 0 else 1.0)


def cv_fits(row) -> float:
    """The fits a pilot row's cross-validated score took: folds x repeats of its `cv_folds` ("stratified
    5x2"), 0 where none ran (no such column, a large validation part, or `cv_missing`: the model was
    too slow for the folds' cap)."""
    folds = row.get("cv_folds") if hasattr(row, "get") else None
    if folds is None or pd.isna(folds) or not pd.isna(row.get("cv_missing", None)):
        return 0.0
    parts = str(folds).split()[-1].split("x")
    try:
        return float(np.prod([int(p) for p in parts]))
    except ValueError:
        return 0.0
