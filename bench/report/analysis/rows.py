"""A results table's rows as the report reads them: finished cells, tags, sizes, statuses.

- `ok_rows`: finished cells with a finite score, each labelled with its configuration
  (`config_label`); the tags and hyperparameters are the rows' own (an old table's are
  filled once, before the report, by `bench.upgrade`: the report reads no registry);
- `has_tag`: rows select models and datasets by tag (`bench.registry.MODEL_TAGS`,
  `DATASET_TAGS`), never by name, so a user's model with the right tag takes part;
- `datasets`, `families`, `compared_sizes`, `largest_size`: what a table holds;
- `cores_of`, `status_label`: the run machine's cores and a failed cell's status.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.results import parse_json  # noqa: F401  (re-exported: analysis.parse_json)


def ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Finished cells with a finite score, with a `config` label."""
    if df.empty:
        return df
    out = df[(df["status"] == "ok") & np.isfinite(df["score"].astype("float64"))].copy()
    out["config"] = config_label(out)
    return out


def three_families(ok: pd.DataFrame) -> pd.DataFrame:
    """`ok` with the cells of models tagged `hybrid` in a family of their own, `hybrid`: a network's
    features fed to a classical model is neither family's alone, so neither family's verdicts
    count it (their registered family, "deep", is kept in `declared_family`)."""
    if ok.empty or "model_tags" not in ok.columns:
        return ok
    hyb = has_tag(ok, "hybrid")
    if not hyb.any():
        return ok
    out = ok.copy()
    if "declared_family" not in out.columns:
        out["declared_family"] = out["family"]
    out["family"] = out["family"].astype(str).where(~hyb, "hybrid")
    return out


def config_label(df: pd.DataFrame) -> pd.Series:
    """`model` for raw features, `model [features]` otherwise; ` (tuned)` after a tuned one."""
    if df.empty:
        return pd.Series([], dtype="string", index=df.index)
    model = df["model"].astype(str)
    feats = df["features"].astype(str)
    label = model.where(feats == "raw", model + " [" + feats + "]")
    if "tuning" in df.columns:
        label = label.where(df["tuning"].fillna("default").astype(str) != "tuned", label + " (tuned)")
    return label


def selection_basis(ok: pd.DataFrame) -> str:
    """`validation` when every finished cell has a validation score, `test` when none has, else `partly`."""
    if ok.empty or "val_score" not in ok.columns:
        return "test"
    have = np.isfinite(ok["val_score"].astype("float64"))
    return "validation" if have.all() else "test" if not have.any() else "partly"


def has_tag(df: pd.DataFrame, tag: str, column: str = "model_tags") -> pd.Series:
    """Rows whose `column` (comma-separated tags) holds `tag`."""
    if df.empty or column not in df.columns:
        return pd.Series(False, index=df.index)
    return df[column].fillna("").astype(str).str.split(",").apply(lambda tags: tag in tags)


def families(df: pd.DataFrame) -> set[str]:
    return set(df["family"].astype(str)) if not df.empty else set()


def missing_families(df: pd.DataFrame, *fams: str) -> list[str]:
    have = families(df)
    return [f for f in fams if f not in have]


def datasets(df: pd.DataFrame) -> list[str]:
    return sorted(df["dataset"].astype(str).unique()) if not df.empty else []


def compared_sizes(df: pd.DataFrame, dataset: str) -> list[int]:
    """Training sizes of a dataset at which both families have finished cells."""
    sub = df[df["dataset"] == dataset]
    return sorted(
        int(n) for n, g in sub.groupby("n_train") if {"classical", "deep"} <= set(g["family"].astype(str))
    )


def largest_size(df: pd.DataFrame, dataset: str, where) -> int | None:
    """The largest training size of `dataset` at which `where(rows at that size)` holds."""
    sub = df[df["dataset"] == dataset]
    sizes = [int(n) for n, g in sub.groupby("n_train") if where(g)]
    return max(sizes) if sizes else None


def cores_of(env: dict | None) -> int | None:
    """The run machine's logical cores, from its environment.json; None when unknown.

    The one source for judging load: the report may be built on another machine than the run's.
    """
    cpu = (env or {}).get("cpu") or {}
    n = cpu.get("cores_logical") if isinstance(cpu, dict) else None
    try:
        return int(n) if n else None
    except (TypeError, ValueError):
        return None


def status_label(row, cores: int | None) -> str:
    """A failed cell's status, with a wall-time timeout on a busy machine told apart.

    A `timeout` under a wall-time limit while the load average exceeded the machine's cores
    says more about the machine than the model: it reads "timeout (load L on C cores)".
    A CPU-time limit (`limit` = "cpu") is not inflated by load, so its timeouts stay plain.
    """
    status = str(row["status"])
    if status != "timeout" or not cores:
        return status
    load = row.get("load_avg") if hasattr(row, "get") else None
    limit = row.get("limit") if hasattr(row, "get") else None
    if load is None or pd.isna(load) or str(limit) == "cpu" or float(load) <= cores:
        return status
    return f"timeout (load {float(load):.1f} on {cores} cores)"
