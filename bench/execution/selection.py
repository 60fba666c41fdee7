"""Choices that a small validation part cannot flip: a cross-validated score beside the holdout one.

A cell's validation part (bench.tuning.carve) is a fifth of its training rows: 10 rows at 50
training rows, where one row is ten points of accuracy and ties are the rule. Where that part
has fewer than CV_BELOW_ROWS rows, the cell also scores its configuration by repeated k-fold
cross-validation on its training rows (the fit and validation parts together; the test rows
never), and records the mean (`val_score_cv`) and its standard error (`val_score_cv_se`).

- Folds: repeated stratified k-fold for classification, repeated k-fold for regression,
  CV_FOLDS folds repeated CV_REPEATS times (5x2), seeded by the cell's seed and built from
  the labels alone, so every model of a (dataset, features, size, seed) group is scored on
  the same folds. Fewer folds where the data cannot fill them: every held-out fold holds at
  least MIN_CLASS_ROWS rows of every class (classification) or MIN_FOLD_ROWS rows
  (regression); below 2 folds there is no score, and the row says why.
- Score: the mean over folds of the primary score (accuracy, or R²), as the holdout
  `val_score` is computed. Standard error: Nadeau and Bengio's corrected resampled one,
  sqrt((1/J + n_held/n_fit) * s²) over the J fold scores: folds share training rows, so
  the naive s / sqrt(J) would be too small.
- Cost: small data only (the rule applies below CV_BELOW_ROWS validation rows, so at most
  a few hundred training rows), and capped: the folds of one configuration may take at most
  `cap_s(time_limit_s)` seconds (CV_TIME_S, and at most CV_LIMIT_SHARE of the cell's time
  limit), on the clock the cell's limit counts (`limit = "cpu"`: the process's CPU seconds
  per thread, which a busy machine does not inflate, and then also CV_LIMIT_SHARE of the
  cell's wall-time backstop; else wall seconds). A model whose one
  validation fit already took more than that cap divided by the number of fits (its "fit
  limit": 6 s at CV_TIME_S and 5x2 folds, 3 s in a cell limited to 60 s) is not
  cross-validated, and no fold starts that would, at the pace of the folds so far, end past
  the cap. A score is complete or missing, never a part of the folds: `cv_missing` says why
  it is missing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

CV_BELOW_ROWS = 100  # a validation part of fewer rows also gets a cross-validated score
CV_FOLDS = 5
CV_REPEATS = 2
MIN_CLASS_ROWS = 2  # rows of every class in each held-out fold (classification)
MIN_FOLD_ROWS = 5  # rows in each held-out fold (regression)
CV_TIME_S = 60.0  # seconds the folds of one configuration may take, at most ...
CV_LIMIT_SHARE = 0.5  # ... and at most this share of the cell's time limit (a fit within the fit limit,
# refitted once and scored on the holdout once, leaves the cell well inside its limit)


def applies(n_validation: int) -> bool:
    """Whether a validation part of `n_validation` rows is small enough to need a cross-validated score."""
    return 0 < n_validation < CV_BELOW_ROWS


def cap_s(time_limit_s: float | None = None) -> float:
    """Wall seconds the folds of one configuration may take in a cell with this time limit."""
    if time_limit_s is None or not math.isfinite(time_limit_s) or time_limit_s <= 0:
        return CV_TIME_S
    return min(CV_TIME_S, CV_LIMIT_SHARE * time_limit_s)


@dataclass(frozen=True)
class Folds:
    """The (fit, held-out) row indices of repeated k-fold over a cell's training rows."""

    k: int
    repeats: int
    stratified: bool
    splits: tuple[tuple[np.ndarray, np.ndarray], ...]

    @property
    def label(self) -> str:
        """What the row's `cv_folds` records, e.g. "stratified 5x2"."""
        return f"{'stratified ' if self.stratified else ''}{self.k}x{self.repeats}"

    def __len__(self) -> int:
        return len(self.splits)


def make_folds(y, task: str, seed: int, k: int = CV_FOLDS, repeats: int = CV_REPEATS) -> Folds | str:
    """The folds for labels `y`, or the reason there are none (a one-line text).

    Classification: k is lowered until every held-out fold can hold MIN_CLASS_ROWS rows of
    the rarest class; regression: until every held-out fold holds MIN_FOLD_ROWS rows.
    """
    if k < 2 or repeats < 1:
        raise ValueError(f"cross-validation needs k >= 2 folds and repeats >= 1, got k = {k}, repeats = {repeats}")
    y = np.asarray(y).ravel()
    n = len(y)
    from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

    if task == "classification":
        _, counts = np.unique(y, return_counts=True)
        if len(counts) < 2:
            return "the training rows hold a single class"
        k = min(k, int(counts.min()) // MIN_CLASS_ROWS)
        if k < 2:
            return (f"the rarest class has {int(counts.min())} training rows: 2 folds need "
                    f"{2 * MIN_CLASS_ROWS} ({MIN_CLASS_ROWS} per held-out fold)")
        splitter = RepeatedStratifiedKFold(n_splits=k, n_repeats=repeats, random_state=seed)
        stratified = True
    elif task == "regression":
        k = min(k, n // MIN_FOLD_ROWS)
        if k < 2:
            return f"{n} training rows: 2 folds need {2 * MIN_FOLD_ROWS} ({MIN_FOLD_ROWS} per held-out fold)"
        splitter = RepeatedKFold(n_splits=k, n_repeats=repeats, random_state=seed)
        stratified = False
    else:
        raise ValueError(f"unknown task {task!r}; expected classification or regression")
    splits = tuple((np.sort(a), np.sort(b)) for a, b in splitter.split(np.zeros(n), y))
    return Folds(k=k, repeats=repeats, stratified=stratified, splits=splits)


@dataclass(frozen=True)
class CVScore:
    """One configuration's cross-validated score, or why it has none."""

    score: float | None = None
    se: float | None = None
    folds: str | None = None
    fits: int = 0
    time_s: float = 0.0  # on the plan's clock
    missing: str | None = None

    def row(self) -> dict:
        """The row's columns: val_score_cv, val_score_cv_se, cv_folds, cv_missing."""
        return {"val_score_cv": self.score, "val_score_cv_se": self.se, "cv_folds": self.folds,
                "cv_missing": self.missing}

    def record(self) -> dict:
        """What a trial of the search records of it (its `trials` entry)."""
        out: dict[str, Any] = {"val_score_cv": self.score, "val_score_cv_se": self.se}
        if self.missing:
            out["cv_missing"] = self.missing
        return out


NOT_APPLICABLE = CVScore()  # a validation part of CV_BELOW_ROWS rows or more: no CV, nothing missing


def corrected_se(scores, n_held: float, n_fit: float) -> float:
    """Nadeau and Bengio's corrected standard error of the mean of resampled scores.

    sqrt((1/J + n_held/n_fit) * s²), s² the sample variance of the J scores: the second term
    accounts for the overlap of the folds' training rows (for k-fold, n_held/n_fit = 1/(k-1)).
    """
    scores = np.asarray(scores, dtype=np.float64)
    if len(scores) < 2:
        raise ValueError(f"a standard error needs at least 2 scores, got {len(scores)}")
    if n_fit <= 0 or n_held <= 0:
        raise ValueError(f"fold sizes must be positive, got {n_held} held out and {n_fit} fitted")
    return float(math.sqrt((1.0 / len(scores) + n_held / n_fit) * np.var(scores, ddof=1)))


@dataclass(frozen=True)
class Meter:
    """A clock the folds of one configuration are capped on: `read()` in `unit`, at most `cap` of them."""

    read: Callable[[], float]
    cap: float
    unit: str = "s"


def cross_validate(
    make: Callable[[], Any],
    X,
    y,
    task: str,
    folds: Folds,
    score: Callable[[str, Any, Any, Any], float],
    cap: float = CV_TIME_S,
    one_fit_s: float | None = None,
    clock: Callable[[], float] = time.perf_counter,
    meters: tuple[tuple[Meter, float | None], ...] | None = None,
) -> CVScore:
    """Fit `make()` on each fold's fit rows and score it on its held-out rows: a complete score or none.

    `score(task, estimator, X, y)` is the primary score (bench.tuning.val_score). The folds
    are capped at `cap` seconds of `clock`; `one_fit_s`, the configuration's holdout fit on
    that clock when known, rules the model out at once when the folds would take longer than
    `cap` at that pace. `meters`, where given, replaces the three: (meter, its one fit) pairs,
    each a cap of its own (a CPU-limited cell's CPU seconds and its wall-time backstop). A
    fold that raises, or a score that is not finite, ends the cross-validation with the reason.
    """
    if meters is None:
        meters = ((Meter(clock, cap), one_fit_s),)
    n_fits = len(folds)
    for meter, one_fit in meters:
        fit_limit = meter.cap / n_fits
        if one_fit is not None and one_fit > fit_limit:
            return CVScore(folds=folds.label, missing=(
                f"one fit took {one_fit:.2f} {meter.unit}, over the fit limit of {fit_limit:.2f} {meter.unit} "
                f"({n_fits} fits within the {meter.cap:g} {meter.unit} cap)"))
    values, held, fitted = [], [], []
    starts = [meter.read() for meter, _ in meters]
    for i, (fit_rows, held_rows) in enumerate(folds.splits):
        for (meter, _), t0 in zip(meters, starts, strict=True):
            elapsed = meter.read() - t0
            if values and elapsed + elapsed / len(values) > meter.cap:
                return CVScore(folds=folds.label, fits=len(values), time_s=elapsed, missing=(
                    f"stopped after {len(values)} of {n_fits} fits ({elapsed:.2f} {meter.unit}): the next would "
                    f"end past the {meter.cap:g} {meter.unit} cap"))
        try:
            estimator = make()
            estimator.fit(X[fit_rows], y[fit_rows])
            value = score(task, estimator, X[held_rows], y[held_rows])
        except Exception as exc:  # noqa: BLE001  (the reason goes in the row)
            return CVScore(folds=folds.label, fits=i, time_s=meters[0][0].read() - starts[0],
                           missing=f"fold {i + 1} of {n_fits} failed: {type(exc).__name__}: {exc}"[:300])
        if not math.isfinite(value):
            return CVScore(folds=folds.label, fits=i + 1, time_s=meters[0][0].read() - starts[0],
                           missing=f"fold {i + 1} of {n_fits} scored {value}")
        values.append(value)
        held.append(len(held_rows))
        fitted.append(len(fit_rows))
        estimator = None
    return CVScore(score=float(np.mean(values)), se=corrected_se(values, np.mean(held), np.mean(fitted)),
                   folds=folds.label, fits=n_fits, time_s=meters[0][0].read() - starts[0])


@dataclass(frozen=True)
class Plan:
    """A cell's cross-validation: its training rows, their folds (or why there are none), its caps."""

    X: Any
    y: np.ndarray
    task: str
    folds: Folds | None
    missing: str | None
    meters: tuple[Meter, ...] = (Meter(time.perf_counter, CV_TIME_S),)

    def read(self) -> tuple[float, ...]:
        """Every meter's reading now (a search measures its holdout fit with two of these)."""
        return tuple(m.read() for m in self.meters)

    def run(self, make: Callable[[], Any], score, one_fit: tuple[float, ...] | None = None,
            within_s: float | None = None) -> CVScore:
        """The configuration `make()` cross-validated on the plan's folds; `one_fit`, its holdout fit on each meter.

        `within_s` lowers every cap (a tuned search passes what is left of its time budget).
        """
        if self.folds is None:
            return CVScore(missing=self.missing)
        fits = one_fit if one_fit is not None else (None,) * len(self.meters)
        meters = tuple(
            (m if within_s is None else Meter(m.read, max(0.0, min(m.cap, within_s)), m.unit), f)
            for m, f in zip(self.meters, fits, strict=True)
        )
        return cross_validate(make, self.X, self.y, self.task, self.folds, score, meters=meters)


def cpu_clock(threads: int) -> Callable[[], float]:
    """The process's CPU seconds per thread: what a cell with `limit = "cpu"` is limited by."""
    per = max(1, int(threads))
    return lambda: time.process_time() / per


def plan(X_train, y_train, task: str, n_validation: int, seed: int, time_limit_s: float | None = None,
         meters: tuple[Meter, ...] | None = None) -> Plan | None:
    """The cross-validation a cell runs beside its holdout choice, or None where its validation part is large enough.

    X_train, y_train are every training row of the cell (fit and validation parts); never test rows.
    `meters` default: wall seconds, capped at `cap_s(time_limit_s)`.
    """
    if not applies(n_validation):
        return None
    y = np.asarray(y_train)
    folds = make_folds(y, task, seed)
    meters = meters or (Meter(time.perf_counter, cap_s(time_limit_s)),)
    if isinstance(folds, str):
        return Plan(X_train, y, task, None, folds, meters)
    return Plan(X_train, y, task, folds, None, meters)


def meters_for(cell) -> tuple[Meter, ...]:
    """The clocks a cell's folds are capped on: its limit's, at cap_s of its time limit; under
    `limit = "cpu"` (CPU seconds per thread) also wall time, at CV_LIMIT_SHARE of its wall backstop."""
    limit = cell.time_limit_s
    if getattr(cell, "limit", "wall") != "cpu":
        return (Meter(time.perf_counter, cap_s(limit)),)
    backstop = limit * getattr(cell, "wall_backstop", 1.0)
    return (Meter(cpu_clock(cell.threads), cap_s(limit), "CPU s per thread"),
            Meter(time.perf_counter, CV_LIMIT_SHARE * backstop, "s of wall time"))


def for_cell(cell, X_train, y_train, n_validation: int) -> Plan | None:
    """`plan` for a cell (bench.suite.Cell): its task, seed and caps (`meters_for`); its training rows only."""
    return plan(X_train, y_train, cell.dataset.task, n_validation, cell.seed, cell.time_limit_s, meters_for(cell))


def epochs_capped(estimator) -> bool | None:
    """Whether a fitted network's epoch cap ended its training while its validation loss still fell.

    A deep estimator's `epochs_capped_`, or that of a hybrid's network (`network_`); None for
    a model without epochs, or a network trained without a validation slice.
    """
    for model in (estimator, getattr(estimator, "network_", None)):
        value = getattr(model, "epochs_capped_", None)
        if value is not None:
            return bool(value)
    return None
