"""Imported once by each worker server, so each cell's process starts with these ready.

The server for cells whose models need torch imports bench.execution.preload_torch first.
"""

import importlib.readers  # noqa: F401  (what scikit-learn's bundled datasets are read with)

import numpy  # noqa: F401
import pandas  # noqa: F401
import sklearn.compose  # noqa: F401  (with impute and pipeline: the preprocessing of a group's first cell)
import sklearn.datasets  # noqa: F401  (the built-in datasets' loaders: 50-100 ms in every group's first cell)
import sklearn.ensemble  # noqa: F401
import sklearn.impute  # noqa: F401
import sklearn.linear_model  # noqa: F401
import sklearn.metrics  # noqa: F401
import sklearn.neighbors  # noqa: F401
import sklearn.pipeline  # noqa: F401
import sklearn.svm  # noqa: F401
import sklearn.tree  # noqa: F401
import xgboost  # noqa: F401

import bench.models.xgb_labels  # noqa: F401  (the XGBoost classifier's wrapper: 10 ms in every XGBoost cell otherwise)
import bench.plugins

bench.plugins.load_plugins()

# First calls fill per-process caches (scikit-learn's dataframe-plugin lookup scans the
# installed packages' entry points, ~0.1 s); made once here, every worker inherits them.
def _warm_up() -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from bench.execution.cell import scores

    X = StandardScaler().fit_transform(np.arange(8.0).reshape(4, 2))
    y = np.array([0, 1, 0, 1])
    scores("classification", LogisticRegression().fit(X, y), X, y)
    scores("regression", LogisticRegression().fit(X, y), X, y.astype(float))


_warm_up()


# A fresh worker paid each classical model's first calls again: scikit-learn's threadpool scan
# at k-NN's first predict (8 ms), joblib's count of physical cores (an `lscpu` subprocess,
# 10-20 ms), first-call caches of fit, predict and the cell's own scoring and sizing. One fit
# of every classical model here, on one thread and a few rows, makes them once for all the
# workers. Estimators of their own, seeded, on data of their own: no cell's result changes.
def _warm_up_models() -> None:
    import warnings

    import joblib
    import numpy as np

    from bench.execution.cell import pickled_size, scores, thread_limit
    from bench.measure import effective_params, model_size
    from bench.models import MODELS, ModelContext, build

    joblib.cpu_count(only_physical_cores=True)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    targets = {"classification": (X[:, 0] > 0).astype(np.int64), "regression": X @ np.arange(1.0, 5.0)}
    with thread_limit(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in MODELS:
            entry = MODELS[name]
            if getattr(entry.fn, "__module__", "") != "bench.models.classical":
                continue
            for task, y in targets.items():
                if task not in entry.tasks:
                    continue
                ctx = ModelContext(task=task, modality="tabular", seed=0, threads=1, n_features=4,
                                   n_classes=2 if task == "classification" else None)
                try:
                    estimator = build(name, ctx, {})
                    if "n_estimators" in estimator.get_params():
                        estimator.set_params(n_estimators=3)
                    estimator.fit(X[:30], y[:30])
                    pred = estimator.predict(X[30:])
                    estimator.predict(X[30:31])
                    scores(task, estimator, X[30:], y[30:], pred, np.array([0, 1]) if task == "classification" else None)
                    model_size(estimator)
                    pickled_size(estimator)
                    effective_params(estimator)
                except Exception:  # noqa: BLE001  (a warm-up: a model that fails here fails in its cell, with its row)
                    pass


_warm_up_models()

# Made after every library is loaded, so forked workers find them without rescanning.
from bench.execution.cell import size_pools, threadpools  # noqa: E402
from bench.measure import host_info  # noqa: E402

threadpools()
host_info()

# Every pool at the thread count of this server's cells (bench.execution.isolate starts the
# server with it, and with OpenBLAS loaded at one thread), so that their workers never resize
# one: in a forked process that starts OpenBLAS's threads, which then spin beside the cell.
# The variables set for the loading get back the values they had (the workers inherit them).
import json  # noqa: E402
import os  # noqa: E402

if os.environ.get("BENCH_SERVER_THREADS", "").isdigit():
    size_pools(int(os.environ.pop("BENCH_SERVER_THREADS")))
for _name, _value in json.loads(os.environ.pop("BENCH_SERVER_RESTORE", "{}")).items():
    if _value is None:
        os.environ.pop(_name, None)
    else:
        os.environ[_name] = _value

# Objects that exist now are shared by every forked worker; freezing them keeps the
# worker's gc.collect() from walking (and copying) them before each measurement.
import gc  # noqa: E402

gc.collect()
gc.freeze()
