"""One cell, inside its own worker process: data, preprocessing, fit, predict, measurements.

Everything here runs in the isolated child; `bench.execution.isolate` starts it, enforces limits and
turns a crash or a kill into a row.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import inspect
import json
import os
import pickle
import shutil
import signal
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics
from threadpoolctl import ThreadpoolController

from bench import datasets as ds
from bench.features import FEATURES
from bench.measure import (
    PeakMemory,
    Timer,
    UnknownSizeError,
    effective_params,
    host_info,
    model_size,
    predictions_sha,
    quiesce,
    serialized_bytes,
)
from bench.models import MODELS, ModelContext, build
from bench.plugins import load_plugins
from bench.registry import first_line, tags_text
from bench.suite import Cell
from bench.tuning import Budget, Search, carve, search, space_for, validation_rows

CACHE_ENV = "BENCH_CACHE_DIR"
LATENCY_CALLS = 20
TRAIN_SCORE_ROWS = 2000


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
        "key": cell.key,
        **{k: v for k, v in host_info().items() if k in ("host", "cpu_model")},
    }


@dataclass(frozen=True)
class Split:
    X_train: np.ndarray | pd.DataFrame
    y_train: np.ndarray
    X_test: np.ndarray | pd.DataFrame
    y_test: np.ndarray
    sample_shape: tuple[int, ...] | None
    n_classes: int | None
    classes: np.ndarray | None = None  # every class of the dataset (training and test rows)
    missing_classes: tuple = ()  # classes the training rows lack (rare classes, small sizes)


def _source_stamp(*fns) -> str:
    """Identifies the code that made cached data (module file, size, mtime), so edits invalidate it."""
    parts = []
    for fn in fns:
        try:
            path = inspect.getfile(fn)
            st = os.stat(path)
            parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}:{fn.__qualname__}")
        except (OSError, TypeError):
            parts.append(fn.__qualname__)
    return "|".join(parts)


@functools.cache
def threadpools() -> ThreadpoolController:
    """One scan of the loaded BLAS/OpenMP libraries (slow), made in the worker server and inherited."""
    return ThreadpoolController()


def _prepared_pool(cell: Cell):
    """(X_pool, y_pool, X_test, y_test, sample_shape) for the cell's dataset, seed and features.

    Cached on disk (BENCH_CACHE_DIR) because every model of a cell group needs the same
    arrays and engineered features can be slow to compute.
    """
    spec = cell.dataset
    entry = ds.DATASETS[spec.name]
    variant = FEATURES[cell.features]
    cache_root = os.environ.get(CACHE_ENV)
    key = hashlib.sha256(
        json.dumps(
            [spec.name, spec.params, cell.seed, spec.test_size, cell.features,
             _source_stamp(entry.fn, variant.fn)],
            sort_keys=True, default=str,
        ).encode()
    ).hexdigest()[:24]
    cache = Path(cache_root) / key if cache_root else None
    names = ("X_pool", "y_pool", "X_test", "y_test")
    if cache is not None and (cache / "meta.json").exists():
        arrays = [np.load(cache / f"{n}.npy", allow_pickle=False) for n in names]
        meta = json.loads((cache / "meta.json").read_text())
        shape = tuple(meta["sample_shape"]) if meta["sample_shape"] else None
        return (*arrays, shape)

    data = ds.load(spec.name, spec.params)
    pool, test = ds.split(data.y, cell.seed, spec.test_size, spec.task, data.n_test)
    X = data.X
    shape = data.sample_shape
    if cell.features != "raw":
        X = variant.fn(np.asarray(X), data.sample_shape, spec.modality)
        shape = None
    take = (lambda idx: X.iloc[idx].reset_index(drop=True)) if isinstance(X, pd.DataFrame) else (lambda idx: X[idx])
    out = (take(pool), data.y[pool], take(test), data.y[test], shape)
    if cache is not None and not isinstance(X, pd.DataFrame):
        tmp = cache.with_name(f".{key}.{os.getpid()}.tmp")
        try:
            tmp.mkdir(parents=True, exist_ok=True)
            for n, arr in zip(names, out[:4], strict=True):
                np.save(tmp / f"{n}.npy", arr, allow_pickle=False)
            (tmp / "meta.json").write_text(json.dumps({"sample_shape": shape}))
            os.replace(tmp, cache)
        except OSError:  # another worker cached it first, or the disk is full: the cache is only a saving
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def _preprocessor(X, modality: str, features: str):
    """Scaling and encoding, fitted later on the training part only."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    if isinstance(X, pd.DataFrame):
        # Missing cells (a file read with missing = "impute") are filled from the training
        # rows only: the median of a number, the most frequent value of a category.
        text = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        numeric = [c for c in X.columns if c not in text]
        return ColumnTransformer(
            [
                ("numeric", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True),
                                          StandardScaler()), numeric),
                ("categorical", make_pipeline(
                    SimpleImputer(strategy="most_frequent", keep_empty_features=True),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False)), text),
            ]
        )
    if modality == "tabular" or features != "raw":
        return StandardScaler()
    # Raw images and sequences keep their scale: datasets deliver them normalised, and
    # per-pixel standardisation would destroy what convolutions rely on.
    return FunctionTransformer(None)


def prepare(cell: Cell) -> Split:
    """The cell's split: first n_train rows of the stratified pool, preprocessing fitted on them."""
    X_pool, y_pool, X_test, y_test, shape = _prepared_pool(cell)
    if isinstance(X_pool, pd.DataFrame):
        X_train = X_pool.iloc[: cell.n_train]
    else:
        X_train = X_pool[: cell.n_train]
    y_train = y_pool[: cell.n_train]
    classes, missing, n_classes = None, (), None
    if cell.dataset.task == "classification":
        if len(np.unique(y_train)) < 2:
            raise ds.DataError(f"the first {cell.n_train} training rows hold a single class; use a larger size")
        classes = np.unique(np.concatenate([y_pool, y_test]))
        missing = tuple(c.item() for c in np.setdiff1d(classes, y_train))
        n_classes = int(classes.max() + 1)
    pre = _preprocessor(X_train, cell.dataset.modality, cell.features)
    X_train = np.ascontiguousarray(pre.fit_transform(X_train))
    X_test = np.ascontiguousarray(pre.transform(X_test))
    return Split(X_train, y_train, X_test, y_test, shape, n_classes, classes, missing)


PROBA_FLOOR = 1e-15  # log-loss clips probabilities here, so a class the model never saw costs ~34.5


def full_proba(proba: np.ndarray, model_classes, classes: np.ndarray) -> np.ndarray:
    """Probabilities over every class of the dataset: a class the model lacks gets 0, then clipping."""
    out = np.zeros((len(proba), len(classes)))
    cols = np.searchsorted(classes, np.asarray(model_classes))
    out[:, cols] = proba
    out = np.clip(out, PROBA_FLOOR, None)
    return out / out.sum(axis=1, keepdims=True)


def scores(task: str, estimator, X, y, pred: np.ndarray | None = None, classes: np.ndarray | None = None) -> dict:
    """Test scores; `pred` are the predictions when they are already made.

    `classes` is the dataset's full label set: the training rows of a small size may lack rare
    classes that the test rows hold, and every score is still taken over all of them.
    """
    pred = estimator.predict(X) if pred is None else pred
    if task == "regression":
        return {
            "r2": metrics.r2_score(y, pred),
            "rmse": float(np.sqrt(metrics.mean_squared_error(y, pred))),
            "mae": metrics.mean_absolute_error(y, pred),
        }
    if classes is None:
        classes = np.unique(np.concatenate([np.asarray(y), np.asarray(pred)]))
    with warnings.catch_warnings():
        # A class absent from y or pred is scored as it should be (recall or precision 0).
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", metrics_warning())
        out = {
            "accuracy": metrics.accuracy_score(y, pred),
            "balanced_accuracy": metrics.balanced_accuracy_score(y, pred),
            "f1_macro": metrics.f1_score(y, pred, labels=classes, average="macro", zero_division=0),
        }
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X)
        model_classes = getattr(estimator, "classes_", np.arange(proba.shape[1]))
        if np.isin(model_classes, classes).all():
            out["log_loss"] = metrics.log_loss(y, full_proba(proba, model_classes, classes), labels=classes)
    return out


def metrics_warning():
    from sklearn.exceptions import UndefinedMetricWarning

    return UndefinedMetricWarning


def primary(task: str, s: dict) -> float:
    return s["accuracy"] if task == "classification" else s["r2"]


def _set_torch_threads(threads: int) -> None:
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def measure_cell(cell: Cell) -> dict:
    """Fit and evaluate one cell in this process; raises on failure (the caller records it)."""
    load_plugins(cell.plugins)
    row = {}
    # Data preparation runs on one thread: BLAS threads woken here would spin on into the
    # measured fit and be billed to the model as CPU time.
    with threadpools().limit(limits=1):
        split = prepare(cell)
    with threadpools().limit(limits=cell.threads):
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
        )
        # The choice runs in a forked copy of this process: its fits would otherwise leave
        # this process's heap grown (freed memory the allocator keeps) and its caches warm,
        # and the measured final fit would read lower memory and time than a fresh one.
        chosen = in_forked_child(lambda: choose(cell, ctx, split))
        estimator = build(cell.model.name, ctx, {**cell.model.params, **chosen.best_params})
        gc.collect()
        quiesce()
        with PeakMemory() as mem, Timer() as fit:
            estimator.fit(split.X_train, split.y_train)
        warm = split.X_test[: min(32, len(split.X_test))]
        estimator.predict(warm)  # first-call costs (lazy init, caches) stay out of the timing
        with Timer() as pred:
            y_pred = estimator.predict(split.X_test)
        test_scores = scores(cell.dataset.task, estimator, split.X_test, split.y_test, y_pred, split.classes)
        latencies = []
        for i in range(min(LATENCY_CALLS, len(split.X_test))):
            t0 = time.perf_counter()
            estimator.predict(split.X_test[i : i + 1])
            latencies.append(time.perf_counter() - t0)
        n_tr = min(TRAIN_SCORE_ROWS, len(split.y_train))
        train_scores = scores(
            cell.dataset.task, estimator, split.X_train[:n_tr], split.y_train[:n_tr], classes=split.classes
        )
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
            "train_score": primary(cell.dataset.task, train_scores),
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
            "model_bytes": serialized_bytes(estimator),
            "n_features": ctx.n_features,
            "n_classes": ctx.n_classes,
            "missing_classes": json.dumps(list(split.missing_classes)) if split.missing_classes else None,
            "device": getattr(estimator, "device_", "cpu"),
            "gpu_peak_memory_mb": getattr(estimator, "gpu_peak_memory_mb_", None),
            "history": json.dumps(history) if history is not None else None,
            "hyperparams": json.dumps(effective_params(estimator), sort_keys=True),
        }
    )
    return row


def in_forked_child(fn):
    """fn() run in a forked copy of this process; its (pickled) result, or its error raised here.

    The copy dies with this process (PR_SET_PDEATHSIG), so a cell stopped at its limit leaves
    nothing behind; its memory and CPU count in the cell's process tree meanwhile.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            os.close(read_fd)
            _die_with_parent()
            try:
                payload = pickle.dumps(("ok", fn()))
            except BaseException as exc:  # noqa: BLE001  (everything goes back to the parent)
                try:
                    payload = pickle.dumps(("error", exc))
                except Exception:
                    payload = pickle.dumps(("error", RuntimeError(error_text(exc))))
            with os.fdopen(write_fd, "wb") as fh:
                fh.write(payload)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        payload = fh.read()
    _, status = os.waitpid(pid, 0)
    if not payload:
        raise RuntimeError(f"the process making the cell's choices on validation rows died ({_wait_text(status)})")
    kind, value = pickle.loads(payload)
    if kind == "error":
        raise value
    return value


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _wait_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"


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
    )


def error_text(exc: BaseException) -> str:
    tb = traceback.format_exception(exc)
    head = f"{type(exc).__name__}: {exc}"
    tail = "".join(tb[-3:]) if len(tb) > 1 else ""
    return (head + ("\n" + tail if tail else ""))[:4000]


def run_cell(cell: Cell) -> dict:
    """A full row for one cell: its keys, then either measurements or the error."""
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    row = {**base_row(cell), "started_at": started}
    try:
        row.update(measure_cell(cell))
    except MemoryError as exc:
        row.update(status="oom", info=error_text(exc), error_type="MemoryError")
    except Exception as exc:
        row.update(status="error", info=error_text(exc), error_type=type(exc).__name__)
    row["cell_time_s"] = time.perf_counter() - t0
    return row
