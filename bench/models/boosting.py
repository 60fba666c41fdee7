"""Gradient-boosting contenders beside XGBoost: LightGBM and CatBoost, their factories and search spaces.

The estimators live in bench.models.boosting_estimators, imported by the factories when a cell
builds one: the registry loads on every CLI call and must stay light. Both take categorical
columns natively (a DataFrame's text columns, or `categorical_features` naming code columns):
tagged `native_categories`, their cells get a table's categories as ordinal codes and the
factories pass the code columns (`ModelContext.categorical`) on; other models get one-hot rows.

Spaces follow the tabular benchmarks' random searches (Grinsztajn et al. 2022, TabZilla,
TabArena) on the hyperparameters that matter most; ensemble sizes stay the suite's, as for
XGBoost (bench.models.classical).
"""

from __future__ import annotations

import lazy_loader

from bench.models.core import ModelContext, lazy_attributes, model

stats = lazy_loader.load("scipy.stats", suppress_warning=True)
__getattr__ = lazy_attributes(__name__, "bench.models.boosting_estimators")


@model(
    "lightgbm", family="classical", tasks=("classification", "regression"), modalities=("tabular",),
    tags=("tree", "ensemble", "boosting", "native_categories"), needs=(),
    search=lambda ctx: {
        "learning_rate": stats.loguniform(1e-2, 0.3),
        "num_leaves": [8, 16, 31, 63, 127],
        "min_child_samples": [2, 5, 10, 20, 50, 100],
        "subsample": stats.uniform(0.5, 0.5),
        "colsample_bytree": stats.uniform(0.5, 0.5),
        "reg_lambda": stats.loguniform(1e-2, 10.0),
    },
)
def lightgbm(ctx: ModelContext):
    """Gradient-boosted trees (LightGBM, leaf-wise, 200 rounds), categorical columns split natively."""
    from bench.models.boosting_estimators import LightGBMClassifier, LightGBMRegressor

    cls = LightGBMClassifier if ctx.task == "classification" else LightGBMRegressor
    return cls(n_jobs=ctx.threads, random_state=ctx.seed, categorical_features=ctx.categorical)


@model(
    "catboost", family="classical", tasks=("classification", "regression"), modalities=("tabular",),
    tags=("tree", "ensemble", "boosting", "native_categories"), needs=(),
    search=lambda ctx: {
        "learning_rate": stats.loguniform(1e-2, 0.3),
        "depth": stats.randint(3, 9),
        "l2_leaf_reg": stats.loguniform(1.0, 10.0),
        "random_strength": stats.loguniform(0.1, 10.0),
        "bagging_temperature": stats.uniform(0.0, 1.0),
    },
)
def catboost(ctx: ModelContext):
    """Gradient-boosted oblivious trees (CatBoost, 300 rounds), categories as ordered target statistics."""
    from bench.models.boosting_estimators import CatBoostClassifier, CatBoostRegressor

    cls = CatBoostClassifier if ctx.task == "classification" else CatBoostRegressor
    return cls(thread_count=ctx.threads, random_state=ctx.seed, categorical_features=ctx.categorical)
