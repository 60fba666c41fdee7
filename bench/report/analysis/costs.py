"""Costs: on which hardware cells ran, and what deep models cost against classical ones.

`comparable_hardware` keeps the rows whose costs compare on one kind of hardware;
`compute_ratios` gives the deep / classical ratio of each cost (fit time and CPU with a
tuned configuration's search included) at each dataset's largest compared size.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.report.analysis.rows import compared_sizes, datasets


def device_kind(df: pd.DataFrame) -> pd.Series:
    """`GPU` for cells on a CUDA (or other accelerator) device, `CPU` otherwise (and for old rows)."""
    if "device" not in df.columns:
        return pd.Series("CPU", index=df.index)
    dev = df["device"].fillna("cpu").astype(str).str.lower()
    return pd.Series(np.where(dev.str.startswith("cpu") | (dev == ""), "CPU", "GPU"), index=df.index)


def comparable_hardware(df: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Rows whose costs compare on one kind of hardware, and whether deep ran on a GPU only.

    Classical models run on the CPU. Deep cells that ran on a GPU are left out when the
    deep models also have CPU cells; when they have none, every row is kept and the
    second value is True (the ratios then compare different hardware, and must say so).
    """
    kind = device_kind(df)
    on_cpu = df[(df["family"] == "classical") | (kind == "CPU")]
    gpu_only = bool((df["family"] == "deep").any() and not (on_cpu["family"] == "deep").any())
    return (df if gpu_only else on_cpu), gpu_only


def hardware(df: pd.DataFrame) -> dict[str, str]:
    """Per family, the devices its cells ran on (`cpu`, `cuda:0`, ...), as text."""
    out = {}
    for fam, g in df.groupby("family", sort=True):
        devs = sorted(g["device"].fillna("cpu").astype(str).unique()) if "device" in g.columns else ["cpu"]
        out[str(fam)] = ", ".join(devs)
    return out


COST_FLOORS = {"fit_cpu_s": 1e-3, "fit_time_s": 1e-3, "peak_memory_mb": 1.0, "predict_latency_ms": 1e-3}


def gmean(values) -> float:
    """Geometric mean of the finite positive values (nan when none)."""
    v = np.asarray([x for x in values if math.isfinite(x) and x > 0], dtype="float64")
    return float(np.exp(np.log(v).mean())) if v.size else float("nan")


SEARCH_COSTS = {"fit_cpu_s": "search_cpu_s", "fit_time_s": "search_time_s"}


def with_search_costs(df: pd.DataFrame) -> pd.DataFrame:
    """Fit time and CPU with a tuned configuration's hyperparameter search added (its cost too)."""
    out = df
    for col, extra in SEARCH_COSTS.items():
        if extra in df.columns and df[extra].notna().any():
            out = out.assign(**{col: out[col] + out[extra].astype("float64").fillna(0.0)})
    return out


def compute_ratios(df: pd.DataFrame) -> pd.DataFrame:
    """Deep / classical ratio of each cost, per (dataset, seed), at the largest compared size.

    Fit time and CPU include the hyperparameter search of tuned configurations.
    """
    rows = []
    df = with_search_costs(df)
    for dataset in datasets(df):
        sizes = compared_sizes(df, dataset)
        if not sizes:
            continue
        at = df[(df["dataset"] == dataset) & (df["n_train"] == sizes[-1])]
        for seed, g in at.groupby("seed"):
            rec = {"dataset": dataset, "n_train": sizes[-1], "seed": int(seed)}
            for col, floor in COST_FLOORS.items():
                med = g.assign(v=g[col].clip(lower=floor)).groupby(["family", "config"])["v"].median()
                fam = med.groupby(level="family").median()
                rec[col] = float(fam.get("deep", np.nan) / fam.get("classical", np.nan))
            rows.append(rec)
    return pd.DataFrame(rows, columns=["dataset", "n_train", "seed", *COST_FLOORS])
