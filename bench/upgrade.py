"""Old results tables brought up to the current schema from the registries, once.

Rows written before `bench.results.SCHEMA` 2 may lack what the report reads: the model's
and the dataset's tags (`model_tags`, `dataset_tags`), a finished cell's effective
hyperparameters (`hyperparams`) and the dataset's effective parameters
(`dataset_effective_params`: its loader's defaults merged with the suite's `dataset_params`).
`fill_from_registry` fills them from the model and dataset registries as they are when it
runs (plugins included: the modules `run_folder` is given, `--plugin`), and `run_folder` writes the
upgraded rows back into the run folder (`bench.results.upgrade`), so a registry that
changes later changes no old run's report. `bench report` runs this step first; the report
itself never imports a registry.
"""

from __future__ import annotations

import json
import os

import pandas as pd

from bench import results
from bench.datasets import DATASETS, full_params
from bench.measure import effective_params
from bench.models import MODELS, ModelContext, build
from bench.plugins import load_plugins
from bench.registry import tags_text

FILLED = ("model_tags", "dataset_tags", "hyperparams", "dataset_effective_params")


def run_folder(run_dir: str | os.PathLike, plugins: tuple[str, ...] = ()) -> tuple[pd.DataFrame, str | None]:
    """(the folder's results table at the current schema, one line saying what was upgraded, or None);
    `plugins`: modules whose models and datasets the registries must hold for the upgrade."""
    done = results.upgrade(run_dir, lambda df: fill_from_registry(df, plugins))
    if not done.rows:
        return done.table, None
    what = (f"{run_dir}: {done.rows} row{'s' if done.rows != 1 else ''} of an older results schema upgraded to "
            f"schema {results.SCHEMA} (tags, hyperparameters and the datasets' effective parameters filled from "
            "today's registries)")
    if done.unwritten:
        return done.table, f"{what}, in memory only: {done.unwritten}"
    return done.table, f"{what} and written back once; the report reads only the rows"


def fill_from_registry(df: pd.DataFrame, plugins: tuple[str, ...] = ()) -> pd.DataFrame:
    """`df` with its rows of an older schema at `results.SCHEMA`; the other rows unchanged.

    Missing tags are the registered ones of `model_name` / `dataset_name` (empty for a name
    the registries do not know); a finished cell's missing hyperparameters are those of the
    estimator the model's factory builds with the row's `params` (unfitted; empty when the
    factory needs more than the row says); the dataset's effective parameters are its
    registered defaults merged with the row's `dataset_params`. Values a row carries are kept.
    """
    old = df["schema"] < results.SCHEMA if "schema" in df else pd.Series(True, index=df.index)
    if df.empty or not old.any():
        return df
    load_plugins(plugins)  # plugin models and datasets (`plugins`, --plugin) are in the registries too
    out = df.copy()
    for col in FILLED:
        if col not in out.columns:
            out[col] = pd.Series(pd.NA, index=out.index, dtype="string")
    need = {col: old & out[col].isna() for col in FILLED}
    need["hyperparams"] &= out["status"].astype(str) == "ok"
    if need["model_tags"].any():
        names = out.loc[need["model_tags"], "model_name"].astype(str)
        out.loc[need["model_tags"], "model_tags"] = [tags_text(MODELS[n].tags) if n in MODELS else "" for n in names]
    if need["dataset_tags"].any():
        names = out.loc[need["dataset_tags"], "dataset_name"].astype(str)
        out.loc[need["dataset_tags"], "dataset_tags"] = [tags_text(DATASETS[n].tags) if n in DATASETS else "" for n in names]
    if need["dataset_effective_params"].any():
        rows = out.loc[need["dataset_effective_params"]]
        given = rows["dataset_params"] if "dataset_params" in rows else pd.Series("", index=rows.index)
        out.loc[need["dataset_effective_params"], "dataset_effective_params"] = [
            json.dumps(full_params(str(n), results.parse_json(p)), sort_keys=True, default=str)
            for n, p in zip(rows["dataset_name"], given, strict=True)
        ]
    if need["hyperparams"].any():
        cache: dict[tuple, str | None] = {}
        values = []
        for r in out.loc[need["hyperparams"]].itertuples():
            key = (str(r.model_name), str(r.params), str(r.task), str(r.modality), _int(r, "n_features"), _int(r, "n_classes"))
            if key not in cache:
                cache[key] = _registry_hyperparams(*key)
            values.append(cache[key])
        out.loc[need["hyperparams"], "hyperparams"] = values
    out["schema"] = out["schema"].where(~old, results.SCHEMA) if "schema" in out else results.SCHEMA
    return out


def _int(row, name: str) -> int:
    v = getattr(row, name, None)
    return int(v) if v is not None and not pd.isna(v) else 1


def _registry_hyperparams(name, params, task, modality, n_features, n_classes) -> str | None:
    if name not in MODELS:
        return None
    ctx = ModelContext(task=task, modality=modality, seed=0, threads=1, n_features=n_features, n_classes=n_classes)
    try:
        estimator = build(name, ctx, results.parse_json(params))
    except Exception:  # a factory that needs more than the row says: hyperparameters unknown
        return None
    return json.dumps(effective_params(estimator), sort_keys=True)
