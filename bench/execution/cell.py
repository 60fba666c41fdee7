"""One cell, inside its own worker process: its split, the measured fit and predict, its row.

Everything here runs in the isolated child; `bench.execution.isolate` starts it, enforces limits and
turns a crash or a kill into a row. The ideas it uses live beside it: `prepare` (data, cache,
preprocessing, split), `scoring` (test scores), `threads` (thread pools), `process` (forked
helpers, the predecessor wait, error text) and `hooks` (code a plugin runs at fixed points).
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import sys
import time

import numpy as np

from bench import datasets as ds
from bench.execution import hooks, selection
from bench.execution.prepare import CACHE_ENV, Split, _touch, prepare
from bench.execution.process import (
    _await_predecessor,
    after_predecessor,
    error_text,
    in_forked_child,
)
from bench.execution.scoring import _primary_score, primary, scores
from bench.execution.threads import (
    _other_threads_running,
    _set_torch_threads,
    size_pools,
    thread_limit,
    threadpools,
)
from bench.measure import (
    PeakMemory,
    Timer,
    UnknownSizeError,
    effective_params,
    host_info,
    model_size,
    predictions_sha,
    quiesce,
)
from bench.models import MODELS, ModelContext, build
from bench.plugins import load_plugins
from bench.predictions import PREDICTIONS_KEY, TEST_LABELS_KEY
from bench.registry import first_line, tags_text
from bench.suite import Cell
from bench.tuning import Budget, Search, carve, search, space_for, validation_rows

# Imported from here by bench.execution.isolate, preload, runner and dask_cluster (their names
# before the split): CACHE_ENV, after_predecessor, size_pools, threadpools.
__all__ = ["CACHE_ENV", "after_predecessor", "base_row", "choose", "device_name", "measure_cell", "pickled_size",
           "run_cell", "scores", "size_pools", "thread_limit", "threadpools"]

# One-row latency: the median of at most LATENCY_CALLS calls, and of at least LATENCY_MIN_CALLS;
# calls stop once LATENCY_BUDGET_S has passed (a model whose one-row predict takes 20 ms costs
# the cell 3 calls, not 20).
LATENCY_CALLS = 20
LATENCY_MIN_CALLS = 3
LATENCY_BUDGET_S = 0.010
TRAIN_SCORE_ROWS = 2000
_PAGE = 4096


def base_row(cell: Cell) -> dict:
    """The keys of a cell, as every row (finished or failed) carries them."""
    return {
        "dataset": cell.dataset.label,
        "modality": cell.dataset.modality,
        "task": cell.dataset.task,
        "model": cell.model.label,
        "family": cell.model.family,
        "features": cell.features,
        "n_train": cell.n_train,
        "n_test": cell.dataset.n_test,
        "seed": cell.seed,
        "dataset_name": cell.dataset.name,
        "model_name": cell.model.name,
        "tuning": cell.tuning,
        "model_tags": tags_text(cell.model.tags),
        "dataset_tags": tags_text(cell.dataset.tags),
        "threads": cell.threads,
        "jobs": cell.jobs,
        "params": json.dumps(cell.model.params, sort_keys=True, default=str),
        "dataset_params": json.dumps(cell.dataset.params, sort_keys=True, default=str),
        "dataset_effective_params": json.dumps(ds.full_params(cell.dataset.name, cell.dataset.params), sort_keys=True,
                                               default=str),
        "key": cell.key,
        **{k: v for k, v in host_info().items() if k in ("host", "cpu_model")},
    }



def measure_cell(cell: Cell, cache_dir: str | os.PathLike | None = None) -> dict:
    """Fit and evaluate one cell in this process; raises on failure (the caller records it).

    `cache_dir`: the run's split cache (see `bench.execution.prepare.prepare`). The registered
    cell hooks (`bench.execution.hooks`) run at their points.
    """
    load_plugins(cell.plugins)
    row = {}
    with PeakMemory() as prep:
        split = prepare(cell, cache_dir)
        _touch(split.X_train, split.y_train, split.X_test, split.y_test)
    _await_predecessor()
    with thread_limit(cell.threads):
        _set_torch_threads(cell.threads)
        ctx = ModelContext(
            task=cell.dataset.task,
            modality=cell.dataset.modality,
            seed=cell.seed,
            threads=cell.threads,
            n_features=split.X_train.shape[1],
            n_classes=split.n_classes,
            sample_shape=split.sample_shape,
            device=cell.device,
            categorical=split.categorical,
        )
        chosen = None
        if cell.tuning == "tuned":
            # The search runs in a forked copy of this process: its fits would otherwise leave
            # this process's heap grown (freed memory the allocator keeps) and its caches warm,
            # and the measured final fit would read lower memory and time than a fresh one.
            chosen = in_forked_child(lambda: choose(cell, ctx, split))
        params = chosen.best_params if chosen is not None else {}
        estimator = build(cell.model.name, ctx, {**cell.model.params, **params})
        gc.collect()
        if _other_threads_running():  # BLAS threads still spinning would bill their CPU to the fit
            quiesce()
        with PeakMemory() as mem, Timer() as fit:
            hooks.before_fit(cell, estimator)
            estimator.fit(split.X_train, split.y_train)
            _synchronize(estimator)
            hooks.after_fit(cell, estimator)
        warm = split.X_test[: min(32, len(split.X_test))]
        estimator.predict(warm)  # first-call costs (lazy init, caches) stay out of the timing
        with Timer() as pred:
            y_pred = estimator.predict(split.X_test)
        y_pred = hooks.after_predict(cell, estimator, y_pred)
        test_scores = scores(cell.dataset.task, estimator, split.X_test, split.y_test, y_pred, split.classes)
        latencies = _latencies(estimator, split.X_test)
        n_tr = min(TRAIN_SCORE_ROWS, len(split.y_train))
        train_score = _primary_score(cell.dataset.task, split.y_train[:n_tr], estimator.predict(split.X_train[:n_tr]))
        if chosen is None:
            # A default cell's validation fit decides nothing about the final model (its
            # configuration is fixed), so it runs after every measurement of that model, here:
            # no copy of the process is needed to keep the measured fit fresh.
            chosen = choose(cell, ctx, split)
    try:
        n_params, proxy, unit = model_size(estimator)
    except UnknownSizeError as exc:  # a plug-in estimator of unknown kind: the row says so
        n_params, proxy, unit = None, None, None
        row["info"] = f"size unknown: {first_line(exc)}"
    history = getattr(estimator, "history_", None)
    row.update(test_scores)
    row.update(chosen.row())
    row.update(
        {
            "status": "ok",
            "score": primary(cell.dataset.task, test_scores),
            "train_score": train_score,
            "fit_time_s": fit.wall_s,
            "fit_cpu_s": fit.cpu_s,
            "predict_time_s": pred.wall_s,
            "predict_cpu_s": pred.cpu_s,
            "predictions_sha": predictions_sha(y_pred),
            "predict_latency_ms": float(np.median(latencies) * 1000) if latencies else None,
            "peak_memory_mb": mem.used_mb,
            "n_params": n_params,
            "size_proxy": proxy,
            "size_unit": unit,
            "model_bytes": pickled_size(estimator),
            "n_features": ctx.n_features,
            "n_classes": ctx.n_classes,
            "missing_classes": json.dumps(list(split.missing_classes)) if split.missing_classes else None,
            "device": getattr(estimator, "device_", "cpu"),
            "device_name": device_name(getattr(estimator, "device_", "cpu")),
            "gpu_peak_memory_mb": getattr(estimator, "gpu_peak_memory_mb_", None),
            "history": json.dumps(history) if history is not None else None,
            "epochs_capped": selection.epochs_capped(estimator),
            "hyperparams": json.dumps(effective_params(estimator), sort_keys=True),
            "data_mb": sum(a.nbytes for a in (split.X_train, split.y_train, split.X_test, split.y_test)) / 2**20,
            "prepare_memory_mb": prep.used_mb,
            # Private keys: the run folder keeps them apart from the row (bench.predictions).
            TEST_LABELS_KEY: np.asarray(split.y_test),
            PREDICTIONS_KEY: np.asarray(y_pred),
        }
    )
    return row


def _synchronize(estimator) -> None:
    """Wait for a model's queued GPU work, so that its fit time holds all of it."""
    device = getattr(estimator, "device_", None)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(device, str) and device.startswith("cuda"):
        torch.cuda.synchronize(device)


def device_name(device: str) -> str:
    """The hardware a model ran on: the GPU's name for a CUDA device, else the CPU's model."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(device, str) and device.startswith("cuda") and torch.cuda.is_available():
        index = torch.device(device).index
        return torch.cuda.get_device_name(torch.cuda.current_device() if index is None else index)
    if device == "mps":
        return "Apple GPU (MPS)"
    return host_info()["cpu_model"]


def _latencies(estimator, X) -> list[float]:
    """Seconds of one-row predict calls: LATENCY_MIN_CALLS to LATENCY_CALLS, until LATENCY_BUDGET_S is spent."""
    out = []
    stop = time.perf_counter() + LATENCY_BUDGET_S
    for i in range(min(LATENCY_CALLS, len(X))):
        t0 = time.perf_counter()
        estimator.predict(X[i : i + 1])
        t1 = time.perf_counter()
        out.append(t1 - t0)
        if len(out) >= LATENCY_MIN_CALLS and t1 >= stop:
            break
    return out


class _ByteCounter:
    """A file that keeps only the count of bytes written to it."""

    def __init__(self):
        self.n = 0

    def write(self, data) -> int:
        n = memoryview(data).nbytes
        self.n += n
        return n


def pickled_size(estimator) -> int | None:
    """Bytes of the fitted model pickled (what saving it takes), counted as written, never held in memory."""
    out = _ByteCounter()
    try:
        pickle.dump(estimator, out, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return None
    return out.n


def choose(cell: Cell, ctx: ModelContext, split: Split) -> Search:
    """The cell's choices, made on a validation part of its training rows (bench.tuning).

    A default cell scores its configuration there once; a tuned cell searches its model's
    space within the suite's budget. Either way the final model is then refitted on all
    training rows, so the validation fits are the search's cost, not `fit_time_s`.
    """
    tuned = cell.tuning == "tuned"
    n_val = validation_rows(cell.n_train, cell.validation)
    if n_val == 0:
        if tuned:
            raise ValueError(f"{cell.n_train} training rows leave no validation part to tune on")
        return Search(tuning=cell.tuning, n_validation=0)
    space = {}
    if tuned:
        space = space_for(MODELS[cell.model.name], ctx, cell.model.params, cell.model.search)
        if not space:
            raise ValueError(f"{cell.model.name} has no search space for this data")
    if split.fit_rows is not None and len(split.val_rows) == n_val:
        fit, val = split.fit_rows, split.val_rows
    else:
        fit, val = carve(split.y_train, n_val, cell.seed, cell.dataset.task)
    parts = (split.X_train[fit], split.y_train[fit], split.X_train[val], split.y_train[val])
    return search(
        lambda params: build(cell.model.name, ctx, {**cell.model.params, **params}),
        space,
        parts,
        cell.dataset.task,
        cell.budget if tuned else Budget(trials=1),
        cell.seed,
        tuning=cell.tuning,
        cv=selection.for_cell(cell, split.X_train, split.y_train, n_val),  # small validation parts
        # The search's time backstop counts the clock the cell is limited on: CPU seconds per
        # thread where the suite says limit = "cpu", so a busy machine does not cut a search short.
        clock=selection.cpu_clock(cell.threads) if cell.limit == "cpu" else None,
    )


def run_cell(cell: Cell, cache_dir: str | os.PathLike | None = None) -> dict:
    """A full row for one cell: its keys, then either measurements or the error.

    `cache_dir`: the run's split cache, shared by the cells of a run (None: no cache).
    """
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    row = {**base_row(cell), "started_at": started}
    try:
        row.update(measure_cell(cell, cache_dir))
    except MemoryError as exc:
        row.update(status="oom", info=error_text(exc), error_type="MemoryError")
    except Exception as exc:
        row.update(status="error", info=error_text(exc), error_type=type(exc).__name__)
    row["cell_time_s"] = time.perf_counter() - t0
    return row
