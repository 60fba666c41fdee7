"""Synthetic results tables with known answers, for the verdict-rule and report tests.

Not in bench/report: a table made here without tags gets them from the registries
(`bench.upgrade`), which the report never imports.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

import pandas as pd

from bench.results import frame
from bench.upgrade import fill_from_registry

# label -> (family, registry name, feature variant, hyperparameters[, model tags])
MODELS = {
    "logistic_regression": ("classical", "logistic_regression", "raw", {}),
    "random_forest": ("classical", "random_forest", "raw", {}),
    "mlp": ("deep", "mlp", "raw", {}),
}
# name -> (modality, task[, dataset tags])
DATASETS = {"tab": ("tabular", "classification")}

# The effective hyperparameters a synthetic row records (`hyperparams`) for these registry
# names, before the label's own: a stand-in for what the cell reads from the estimator, so
# the rules' tests do not build estimators. Other names record their own params only.
HYPERPARAMS = {
    "mlp": {"dropout": 0.0, "weight_decay": 0.0, "lr": 0.001, "d_hidden": 256},
    "cnn": {"dropout": 0.0, "weight_decay": 0.0, "lr": 0.001, "n_channels": 16},
    "rnn": {"dropout": 0.0, "weight_decay": 0.0, "lr": 0.003, "d_hidden": 64},
    "decision_tree": {"max_depth": None, "min_samples_leaf": 1, "min_samples_split": 2, "ccp_alpha": 0.0},
    "random_forest": {"max_depth": None, "min_samples_leaf": 1, "n_estimators": 100},
}


def grid(
    score: Callable[[dict], float | dict],
    *,
    datasets: dict[str, tuple] | None = None,
    models: dict[str, tuple] | None = None,
    sizes: Iterable[int] = (64, 256, 1024),
    seeds: Iterable[int] = (0, 1, 2),
) -> pd.DataFrame:
    """Every (dataset, model, size, seed) cell; `score(row)` gives the score or a dict of overrides.

    Defaults make deep models cost ten times as much as classical ones, so rules about
    compute have a known answer unless `score` overrides the costs. Rows are those of a
    current run: a validation score equal to the test score unless `score` sets
    `val_score` (None: a table from before validation scores), `tuning` "default", the
    device "cpu", and the effective hyperparameters. Tags given in the model or dataset
    tuple are written into the rows; without them the rows get the registered tags of
    their names, as an old results table upgraded by `bench report` does (`bench.upgrade`).
    """
    rows = []
    for ds, (modality, task, *ds_tags) in (datasets or DATASETS).items():
        for label, (family, name, features, params, *m_tags) in (models or MODELS).items():
            own = {k.split("__")[-1] for k in params}
            hyper = {**{k: v for k, v in HYPERPARAMS.get(name, {}).items() if k not in own}, **params}
            for n in sizes:
                for seed in seeds:
                    deep = family == "deep"
                    row = {
                        "dataset": ds, "modality": modality, "task": task, "model": label,
                        "family": family, "features": features, "n_train": n, "n_test": 200,
                        "seed": seed, "status": "ok", "info": None,
                        "fit_time_s": 1.0 if deep else 0.1, "fit_cpu_s": 2.0 if deep else 0.2,
                        "predict_time_s": 0.01, "predict_latency_ms": 0.5 if deep else 0.05,
                        "peak_memory_mb": 100.0 if deep else 10.0,
                        "n_params": 10000.0 if deep else 100.0, "model_bytes": 40000.0 if deep else 800.0,
                        "size_proxy": None if deep else 100.0, "size_unit": None if deep else "coefficients",
                        "dataset_name": ds, "model_name": name, "threads": 2, "jobs": 1,
                        "model_tags": ",".join(sorted(m_tags[0])) if m_tags else None,
                        "dataset_tags": ",".join(sorted(ds_tags[0])) if ds_tags else None,
                        "params": json.dumps(params, sort_keys=True),
                        "hyperparams": json.dumps({**hyper, "random_state": seed}, sort_keys=True),
                        "device": "cpu", "tuning": "default",
                        "key": f"{ds}|{features}|{n}|{seed}|{label}",
                    }
                    out = score(dict(row))
                    if isinstance(out, dict):
                        row.update(out)
                    else:
                        row["score"] = out
                    row.setdefault("score", None)
                    if "val_score" not in row:
                        row["val_score"] = row["score"]
                    if row.get("train_score") is None and row["score"] is not None:
                        row["train_score"] = min(1.0, row["score"] + 0.05)
                    metric = "accuracy" if task == "classification" else "r2"
                    row[metric] = row["score"]
                    rows.append(row)
    return fill_from_registry(frame(rows))
