"""Synthetic results tables with known answers, for the verdict-rule and report tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

import pandas as pd

from bench.results import frame

# label -> (family, registry name, feature variant, hyperparameters)
MODELS = {
    "logistic_regression": ("classical", "logistic_regression", "raw", {}),
    "random_forest": ("classical", "random_forest", "raw", {}),
    "mlp": ("deep", "mlp", "raw", {}),
}
DATASETS = {"tab": ("tabular", "classification")}


def grid(
    score: Callable[[dict], float | dict],
    *,
    datasets: dict[str, tuple[str, str]] | None = None,
    models: dict[str, tuple[str, str, str, dict]] | None = None,
    sizes: Iterable[int] = (64, 256, 1024),
    seeds: Iterable[int] = (0, 1, 2),
) -> pd.DataFrame:
    """Every (dataset, model, size, seed) cell; `score(row)` gives the score or a dict of overrides.

    Defaults make deep models cost ten times as much as classical ones, so rules about
    compute have a known answer unless `score` overrides the costs.
    """
    rows = []
    for ds, (modality, task) in (datasets or DATASETS).items():
        for label, (family, name, features, params) in (models or MODELS).items():
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
                        "params": json.dumps(params, sort_keys=True),
                        "key": f"{ds}|{features}|{n}|{seed}|{label}",
                    }
                    out = score(dict(row))
                    if isinstance(out, dict):
                        row.update(out)
                    else:
                        row["score"] = out
                    row.setdefault("score", None)
                    if row.get("train_score") is None and row["score"] is not None:
                        row["train_score"] = min(1.0, row["score"] + 0.05)
                    metric = "accuracy" if task == "classification" else "r2"
                    row[metric] = row["score"]
                    rows.append(row)
    return frame(rows)
