"""Choices on validation rows, and the equal-budget hyperparameter search.

The protocol, for every cell (bench.execution.cell runs it):

- A validation part is carved from the cell's training rows: `validation` of them (the
  suite's fraction, at least MIN_VALIDATION_ROWS, and at least as many rows left to fit
  on), stratified by class, seeded by the cell's seed. The test rows play no part.
- A *default* cell fits its configuration on the rest and scores the validation part
  once (`val_score`), so the report can pick a family's best configuration on validation.
- A *tuned* cell runs a random search: the default configuration first, then configurations
  drawn from the model's search space. The budget is a number of trials, `trials`, the same
  for every family, so a CNN is not judged on 2 configurations against a forest's 8. `time_s`
  is only a backstop: no trial starts that would, at the mean pace of the trials so far, end
  after `time_s`, so a slow model does not overrun it by a whole trial. When it stops a
  search before its trials are done, the row says so (`tuning_capped`, beside `n_trials`,
  the trials that ran): a suite should set it where it rarely binds. The best score wins
  (ties: the earlier trial, so the default wins a tie).
- Where the validation part has fewer than bench.execution.selection.CV_BELOW_ROWS rows, each
  trial is also scored by repeated k-fold cross-validation on all training rows (the same
  folds for every model of the cell's group; bench.execution.selection), and a tuned search
  chooses by that score (`selected_by` = "cv"). It chooses by the holdout `val_score` where
  a trial lacks a cross-validated score (too slow a fit, a failed fold): both are then on the
  same footing for every trial. The row records the chosen trial's `val_score_cv` and its
  standard error `val_score_cv_se`, or `cv_missing`, why there is none. Trials come before
  folds: with a `time_s` backstop, a trial's folds get that trial's share of what is left of
  it (less its holdout fit), so a backstop too small for them leaves the search on the
  holdout, with all its trials, and says so; once one trial lacks a cross-validated score
  the later ones are not cross-validated (the choice is on the holdout).
- The final model is the chosen configuration refitted on all training rows (scikit-learn's
  `refit=True`): `fit_time_s` is that final fit, and the validation fits are the search's
  cost (`search_time_s`, `search_cpu_s`). Its test rows are scored once.
- Deep models' early stopping carves its own slice from the rows `fit` receives, so it
  never sees the validation part during the search, nor the test rows at the end.
- Preprocessing (scaling, one-hot encoding) is the cell's, fitted on all training rows: it
  uses no labels, and the search then scores exactly the inputs the final model gets.

Why scikit-learn's `ParameterSampler` rather than optuna's `RandomSampler`: it is already a
dependency (optuna is not), it takes the spaces in the form models declare them (lists and
scipy.stats distributions), it is seeded by one integer and reproducible across versions of
this code, and it draws without replacement when a space is a finite grid. Random search
gains nothing from optuna's study machinery (pruning and TPE are not part of the protocol).
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import lazy_loader
import numpy as np

from bench.execution.selection import NOT_APPLICABLE, CVScore, Plan
from bench.measure import Timer

# Imported at first use (scikit-learn inside the functions that need it: a lazy submodule
# would import the package): `bench check` loads this module for its names and checks, and
# scipy.stats with scikit-learn take about a second to import.
stats = lazy_loader.load("scipy.stats", suppress_warning=True)

MODES = ("default", "tuned")
SIZES = ("all", "largest", "smallest")
MIN_VALIDATION_ROWS = 10  # and as many left to fit on: below 20 training rows there is none


@dataclass(frozen=True)
class Budget:
    """What one tuned cell may spend: `trials` configurations, or `time_s` seconds, whichever ends first."""

    trials: int = 10
    time_s: float | None = None


@dataclass(frozen=True)
class Trial:
    params: dict[str, Any]
    val_score: float | None
    fit_s: float
    error: str | None = None
    cv: CVScore | None = None  # the cross-validated score, where the validation part is small

    def record(self) -> dict:
        out = {"params": self.params, "val_score": self.val_score, "fit_s": round(self.fit_s, 6)}
        if self.cv is not None:
            out.update(self.cv.record())
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class Search:
    """What a cell's validation step found; `row()` gives its columns of the results table."""

    tuning: str
    n_validation: int
    trials: list[Trial] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    capped: bool = False  # the time backstop stopped the search before its trials were done

    @property
    def selected_by(self) -> str | None:
        """"cv" where every scored trial has a cross-validated score, "validation" otherwise; None: nothing scored."""
        scored = [t for t in self.trials if t.val_score is not None]
        if not scored:
            return None
        if all(t.cv is not None and t.cv.score is not None for t in scored):
            return "cv"
        return "validation"

    @property
    def best(self) -> Trial | None:
        scored = [t for t in self.trials if t.val_score is not None]
        if not scored:
            return None
        if self.selected_by == "cv":
            return max(scored, key=lambda t: t.cv.score)  # max keeps the first of ties
        return max(scored, key=lambda t: t.val_score)

    @property
    def best_params(self) -> dict[str, Any]:
        best = self.best
        return dict(best.params) if best is not None else {}

    def row(self) -> dict:
        best = self.best
        tuned = self.tuning == "tuned"
        return {
            "tuning": self.tuning,
            "n_validation": self.n_validation,
            "n_trials": len(self.trials),
            "best_params": json.dumps(self.best_params, sort_keys=True),
            "val_score": best.val_score if best is not None else None,
            **(best.cv if best is not None and best.cv is not None else NOT_APPLICABLE).row(),
            "selected_by": self.selected_by if tuned else None,
            "tuning_capped": self.capped if tuned else None,
            "search_time_s": self.wall_s,
            "search_cpu_s": self.cpu_s,
            "trials": json.dumps([t.record() for t in self.trials]),
        }


def validation_rows(n_train: int, fraction: float) -> int:
    """Rows of the validation part for `n_train` training rows; 0 when there is none to carve."""
    if fraction <= 0:
        return 0
    n_val = max(math.ceil(fraction * n_train), MIN_VALIDATION_ROWS)
    return n_val if n_train - n_val >= MIN_VALIDATION_ROWS else 0


def min_training_rows(fraction: float) -> int:
    """The fewest training rows that leave a validation part (for messages)."""
    n = 2 * MIN_VALIDATION_ROWS
    while fraction > 0 and validation_rows(n, fraction) == 0:
        n += 1
    return n


def sizes_to_tune(choice: str | tuple[int, ...], train_sizes: tuple[int, ...], fraction: float) -> tuple[int, ...]:
    """The training sizes of a dataset that get tuned cells: `choice` is "all", "largest",
    "smallest" (the smallest size that leaves a validation part, so a first size too small to
    tune does not leave the dataset untuned; the smallest size when none does) or the sizes
    themselves. A size that leaves no validation part is still returned: the plan skips its
    tuned cells and says why."""
    sizes = tuple(sorted(train_sizes))
    if isinstance(choice, tuple):
        return tuple(n for n in sizes if n in choice)
    if choice == "all":
        return sizes
    if choice == "largest":
        return sizes[-1:]
    if choice == "smallest":
        tunable = [n for n in sizes if validation_rows(n, fraction) > 0]
        return (tunable[0],) if tunable else sizes[:1]
    raise ValueError(f"tuning sizes: expected one of {', '.join(SIZES)} or a tuple of sizes, got {choice!r}")


def carve(y: np.ndarray, n_val: int, seed: int, task: str) -> tuple[np.ndarray, np.ndarray]:
    """(fit, validation) row indices of the training rows, in their original order.

    Stratified by class when every class has two rows and both parts can hold every class;
    otherwise a plain seeded draw.
    """
    y = np.asarray(y)
    n = len(y)
    stratify = None
    if task == "classification":
        _, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2 and min(n_val, n - n_val) >= len(counts):
            stratify = y
    from sklearn.model_selection import train_test_split

    fit, val = train_test_split(np.arange(n), test_size=n_val, random_state=seed, stratify=stratify)
    return np.sort(fit), np.sort(val)


def _plain(value):
    """A numpy scalar as the Python scalar (JSON, set_params and the report read them alike)."""
    return value.item() if isinstance(value, np.generic) else value


def sample(space: Mapping[str, Any], n: int, seed: int) -> list[dict[str, Any]]:
    """Up to `n` configurations drawn from `space` (fewer when it is a smaller finite grid)."""
    if n <= 0 or not space:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "grid smaller than n_iter": we take the grid
        from sklearn.model_selection import ParameterSampler

        drawn = list(ParameterSampler(dict(space), n_iter=n, random_state=seed))
    return [{k: _plain(v) for k, v in sorted(p.items())} for p in drawn]


class LogUniformInt:
    """Integers spread evenly in log scale over [low, high] (ParameterSampler calls `rvs`)."""

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high
        self._dist = stats.loguniform(low, high + 1)

    def rvs(self, size=None, random_state=None):
        value = np.floor(self._dist.rvs(size=size, random_state=random_state)).astype(np.int64)
        return np.clip(value, self.low, self.high) if size is not None else int(min(value, self.high))

    def __repr__(self) -> str:
        return f"LogUniformInt({self.low}, {self.high})"


RANGE_KEYS = {"low", "high", "log"}


def from_table(values: Any) -> Any:
    """A suite's space entry as a sampler value: a list stays, {low, high, log} becomes a distribution.

    Integer bounds give integers (inclusive), real bounds reals; `log = true` spreads the
    draws evenly in log scale. Raises ValueError on anything else.
    """
    if isinstance(values, list):
        if not values:
            raise ValueError("expected a non-empty list of values or a table {low, high, log}")
        return values
    if not isinstance(values, dict):
        raise ValueError(f"expected a list of values or a table {{low, high, log}}, got {values!r}")
    unknown = set(values) - RANGE_KEYS
    if unknown or not {"low", "high"} <= set(values):
        raise ValueError(f"a range is a table with low, high and optionally log; got {sorted(values)}")
    low, high, log = values["low"], values["high"], values.get("log", False)
    if not isinstance(log, bool):
        raise ValueError(f"log must be true or false, got {log!r}")
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, int | float) or not math.isfinite(bound):
            raise ValueError(f"low and high must be finite numbers, got {bound!r}")
    if not low < high:
        raise ValueError(f"low must be below high, got low = {low}, high = {high}")
    if log and low <= 0:
        raise ValueError(f"a log range needs low > 0, got {low}")
    if isinstance(low, int) and isinstance(high, int):
        return LogUniformInt(low, high) if log else stats.randint(low, high + 1)
    return stats.loguniform(low, high) if log else stats.uniform(low, high - low)


def space_for(entry, ctx, pinned: Mapping[str, Any], override: Mapping[str, Any] | None = None) -> dict:
    """The space a tuned cell searches: the suite's (`override`) or the model's, less what the suite pins.

    A hyperparameter the suite sets in the model's table stays fixed at that value, so a
    suite can pin, say, the number of epochs while the rest is searched.
    """
    if override is not None:
        space = {k: from_table(v) for k, v in override.items()}
    else:
        space = entry.space(ctx)
    return {k: v for k, v in space.items() if k not in pinned}


def check_space(space: Mapping[str, Any], make: Callable[[dict], Any], seed: int = 0) -> tuple[str, str] | None:
    """(hyperparameter, problem) for the first entry of `space` the estimator rejects, else None.

    Every listed value, and a few draws of each distribution, are set on an estimator from
    `make(params)` and checked by scikit-learn's own parameter validation where it has one.
    """
    valid = make({}).get_params(deep=True)  # nested keys too, as suites may set: a hybrid's network__lr
    for key, values in space.items():
        if key not in valid:
            return key, f"unknown hyperparameter; valid: {', '.join(sorted(valid))}"
        if hasattr(values, "rvs"):
            draws = [_plain(values.rvs(random_state=np.random.RandomState(seed + i))) for i in range(3)]
        elif isinstance(values, list | tuple) and values:
            draws = list(values)
        else:
            return key, "expected a non-empty list of values or a scipy.stats distribution"
        for value in draws:
            try:
                estimator = make({key: value})
                if hasattr(estimator, "_parameter_constraints"):
                    estimator._validate_params()
            except Exception as exc:
                return key, f"value {value!r} is invalid: {exc}"
    return None


def val_score(task: str, estimator, X, y) -> float:
    """The primary score on the validation rows: accuracy, or R² for regression."""
    pred = estimator.predict(X)
    if task == "classification":  # accuracy_score's value without its input checks (a few ms a call)
        return float(np.mean((np.asarray(y).ravel() == np.asarray(pred).ravel()).astype(np.float64)))
    from sklearn.metrics import r2_score

    return float(r2_score(y, pred))


def search(
    make: Callable[[dict], Any],
    space: Mapping[str, Any],
    parts: tuple,
    task: str,
    budget: Budget,
    seed: int,
    tuning: str = "tuned",
    cv: Plan | None = None,
    clock: Callable[[], float] | None = None,
) -> Search:
    """Fit the default configuration, then draws from `space`, on the fit rows; score each on validation.

    `parts` is (X_fit, y_fit, X_val, y_val); `make(params)` builds an unfitted estimator.
    `cv` (bench.execution.selection.plan), where the validation part is small: each trial is
    also cross-validated on the plan's folds, and the search chooses by that score.
    A trial that raises is recorded with its error and the search goes on; when no trial
    succeeds in a tuned search, the first error is raised.
    `clock` is what the `time_s` backstop counts (default: wall seconds). A cell limited on CPU
    seconds per thread passes that clock (bench.execution.selection.cpu_clock), the clock its
    folds are capped on too, so a busy machine, which stretches wall time, does not cut the
    trial count.
    """
    now = clock if clock is not None else time.perf_counter
    X_fit, y_fit, X_val, y_val = parts
    candidates = [{}] + (sample(space, budget.trials - 1, seed) if tuning == "tuned" else [])
    out = Search(tuning=tuning, n_validation=len(y_val))
    first_error: BaseException | None = None
    with Timer() as total:
        t0 = now()
        for params in candidates:
            if out.trials and budget.time_s is not None:
                elapsed = now() - t0
                if elapsed + elapsed / len(out.trials) > budget.time_s:
                    out.capped = True  # the next trial would, at the pace so far, end past the backstop
                    break
            started, started_wall = now(), time.perf_counter()
            on_cv_meters = cv.read() if cv is not None else ()
            try:
                estimator = make(params)
                estimator.fit(X_fit, y_fit)
                fit_s = time.perf_counter() - started_wall
                fit_on_clock = now() - started
                one_fit = tuple(b - a for a, b in zip(on_cv_meters, cv.read(), strict=True)) if cv is not None else None
                score = val_score(task, estimator, X_val, y_val)
                if not math.isfinite(score):
                    raise FloatingPointError(f"validation score {score}")
                estimator = None
                crossed = None
                if cv is not None and any(t.val_score is not None and (t.cv is None or t.cv.score is None)
                                          for t in out.trials):
                    crossed = CVScore(missing="not cross-validated: an earlier trial has no cross-validated "
                                              "score, so the search chooses on the holdout")
                elif cv is not None:
                    within = None
                    if budget.time_s is not None:
                        # Trials come first: this trial's folds get its share of what is left of
                        # the backstop, less its holdout fit, so folds never cut the trial count.
                        within = (budget.time_s - (started - t0)) / (len(candidates) - len(out.trials)) - fit_on_clock
                    crossed = cv.run(lambda params=params: make(params), val_score, one_fit=one_fit, within_s=within)
                out.trials.append(Trial(params, score, fit_s, cv=crossed))
            except Exception as exc:
                first_error = first_error or exc
                out.trials.append(Trial(params, None, time.perf_counter() - started_wall, f"{type(exc).__name__}: {exc}"[:500]))
            estimator = None  # freed before the next trial (a full gc costs ~0.2 s: not per trial)
    out.wall_s, out.cpu_s = total.wall_s, total.cpu_s
    if tuning == "tuned" and out.best is None and first_error is not None:
        raise RuntimeError(f"every trial of the search failed; the first: {type(first_error).__name__}: {first_error}")
    return out
