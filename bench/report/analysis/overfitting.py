"""Overfitting: train/test gaps, and the pairs of configurations that differ only in regularisation.

`gaps`: the mean train − test score per configuration and size; `regularisation_pairs`: two
configurations of one model whose fixed hyperparameters differ only in regularisers
(`REGULARISERS`), all pointing the same way.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from bench.report.analysis.rows import config_label
from bench.results import parse_json


def gaps(df: pd.DataFrame) -> pd.DataFrame:
    """Mean train/test gap per (dataset, family, model, config, size)."""
    cols = ["dataset", "family", "model_name", "config", "n_train", "gap", "sd", "n"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    g = df.assign(gap=df["train_score"] - df["score"])
    g = g[np.isfinite(g["gap"])]
    return (
        g.groupby(["dataset", "family", "model_name", "config", "n_train"])["gap"]
        .agg(gap="mean", sd="std", n="count").reset_index()
    )


# Hyperparameters whose larger value regularises more (+1) or less (-1); nested names
# (`module__dropout`, `optimizer__weight_decay`) match on their last part.
REGULARISERS = {
    "dropout": +1, "weight_decay": +1, "alpha": +1, "l2": +1, "reg_lambda": +1, "reg_alpha": +1,
    "lambda": +1, "gamma": +1, "min_samples_leaf": +1, "min_samples_split": +1, "min_child_weight": +1,
    "ccp_alpha": +1, "n_neighbors": +1, "max_depth": -1, "max_leaf_nodes": -1, "C": -1,
}
UNKNOWN = object()  # a hyperparameter one configuration's rows do not record


def configuration_hyperparams(df: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, model_name, configuration, features): the hyperparameters it fixes.

    A configuration is the report's label (`config_label`): a suite entry on one feature
    variant, default or tuned. A tuned configuration is one of its own (its searched values
    vary by seed, so they are not fixed); mixing its rows with the default ones would drop the
    very regulariser that tells two default configurations apart.

    Read from the rows' `hyperparams` (the estimator's effective values), or from
    `params` (the suite's) where a row lacks them. Keys whose value differs between a
    configuration's own rows (a seed, a thread count) are not choices of the
    configuration and are dropped.
    """
    out = []
    if "config" not in df.columns:
        df = df.assign(config=config_label(df))
    tuning = df["tuning"].fillna("default").astype(str) if "tuning" in df.columns else "default"
    df = df.assign(tuning=tuning)
    for (dataset, name, label, feats, mode), g in df.groupby(["dataset", "model_name", "config", "features", "tuning"], sort=True):
        dicts = [
            parse_json(h) if isinstance(h, str) and h else parse_json(p)
            for h, p in zip(g["hyperparams"] if "hyperparams" in g else [None] * len(g), g["params"], strict=True)
        ]
        keys = set().union(*dicts) if dicts else set()
        fixed = {}
        for k in sorted(keys):
            values = {json.dumps(d.get(k, "\0missing"), sort_keys=True) for d in dicts}
            if len(values) == 1 and k in dicts[0]:
                fixed[k] = dicts[0][k]
        out.append({"dataset": dataset, "model_name": name, "config": label, "features": feats, "tuning": mode, "hp": fixed})
    return pd.DataFrame(out, columns=["dataset", "model_name", "config", "features", "tuning", "hp"])


def _reg_value(params: dict, key: str):
    for k, v in params.items():
        if k.split("__")[-1] == key:
            return v
    return UNKNOWN


def _strength(value, direction: int) -> float:
    if value is None:  # unlimited depth or leaves: the least regularised
        return -math.inf if direction < 0 else math.inf
    return direction * float(value)


def regularisation_pairs(df: pd.DataFrame) -> list[tuple[str, str, str, str, str]]:
    """(dataset, model_name, more regularised label, less regularised label, regularisers).

    Two configurations of one model on one dataset and feature variant, both default or both
    tuned, pair up when the hyperparameters they fix differ only in regularisers, every one
    pointing the same way (a key one of them does not record makes the pair unknown, so it is
    left out).
    """
    out = []
    if df.empty:
        return out
    confs = configuration_hyperparams(df)
    for (dataset, name, _features), g in confs.groupby(["dataset", "model_name", "features"], sort=True):
        rows = list(g.itertuples())
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                if a.tuning != b.tuning:
                    continue  # default against default, tuned against tuned
                keys = {k.split("__")[-1] for k in set(a.hp) | set(b.hp)}
                differing = []
                for k in sorted(keys):
                    va, vb = _reg_value(a.hp, k), _reg_value(b.hp, k)
                    if va is UNKNOWN and vb is UNKNOWN:
                        continue
                    if va is UNKNOWN or vb is UNKNOWN or va != vb:
                        differing.append((k, va, vb))
                if not differing or any(
                    k not in REGULARISERS or UNKNOWN in (va, vb) or not _numeric_or_none(va, vb)
                    for k, va, vb in differing
                ):
                    continue
                signs = {
                    _strength(va, REGULARISERS[k]) > _strength(vb, REGULARISERS[k]) for k, va, vb in differing
                }
                if len(signs) != 1:  # one regularises more in one respect, less in another
                    continue
                more, less = (a, b) if signs.pop() else (b, a)
                keys_text = "+".join(k for k, _, _ in differing)
                out.append((dataset, name, more.config, less.config, keys_text))
    return out


def _numeric_or_none(*values) -> bool:
    return all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values)

