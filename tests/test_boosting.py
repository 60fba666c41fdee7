"""LightGBM and CatBoost (bench.models.boosting): registered like XGBoost, deterministic, thread
count honoured, categorical columns split natively."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import ParameterSampler

from bench.models import MODELS, ModelContext, build

BOOSTERS = ("lightgbm", "catboost")


def _ctx(task: str = "classification", threads: int = 1, seed: int = 0) -> ModelContext:
    return ModelContext(task=task, modality="tabular", seed=seed, threads=threads, n_features=4,
                        n_classes=2 if task == "classification" else None, device="cpu")


def _table(n: int = 600, seed: int = 0):
    """A numeric column and a 12-level category whose label is membership of a random subset of levels."""
    rng = np.random.default_rng(seed)
    levels = np.array([f"L{i:02d}" for i in range(12)])
    chosen = set(rng.choice(levels, 6, replace=False))
    cat = rng.choice(levels, n)
    x = rng.normal(size=n)
    y = np.array([lv in chosen for lv in cat], dtype=np.int64)
    return pd.DataFrame({"x": x, "cat": cat}), y


@pytest.mark.parametrize("name", BOOSTERS)
def test_registered_beside_xgboost_with_its_tags_and_a_search_space(name):
    entry = MODELS[name]
    assert entry.family == "classical" and MODELS["xgboost"].tags == {"tree", "ensemble", "boosting"}
    assert entry.tags == {"tree", "ensemble", "boosting", "native_categories"}  # categories as codes (prepare)
    assert entry.modalities == {"tabular"} and entry.tasks == {"classification", "regression"}
    estimator = build(name, _ctx(), {})
    space = entry.space(_ctx())
    assert {"learning_rate"} <= set(space) <= set(estimator.get_params())
    X, y = _table(200)
    for params in ParameterSampler(space, n_iter=3, random_state=0):
        fitted = clone(estimator).set_params(n_estimators=10, **params).fit(X, y)
        assert fitted.predict(X).shape == (200,)


@pytest.mark.parametrize("name", BOOSTERS)
def test_the_cells_threads_and_seed_reach_the_library(name):
    estimator = build(name, _ctx(threads=3, seed=7), {})
    X, y = _table(200)
    estimator.set_params(n_estimators=5).fit(X, y)
    params = estimator.model_.get_params()
    if name == "lightgbm":
        assert params["n_jobs"] == 3 and params["random_state"] == 7 and params["deterministic"]
    else:
        assert params["thread_count"] == 3 and params["random_seed"] == 7


@pytest.mark.parametrize("name", BOOSTERS)
def test_fits_are_deterministic_given_the_seed_at_any_thread_count(name):
    X, y = _table()
    runs = [build(name, _ctx(threads=t), {"subsample" if name == "lightgbm" else "bagging_temperature": 0.7})
            .fit(X, y).predict_proba(X) for t in (1, 2, 2)]
    assert np.array_equal(runs[1], runs[2])
    assert np.allclose(runs[0], runs[1], atol=1e-6)


@pytest.mark.parametrize("name", BOOSTERS)
def test_a_category_is_split_natively_not_as_a_number(name):
    # One split: a subset of levels on one side (native), or a threshold on level codes (numeric).
    X, y = _table(2400)  # 200 rows a level: LightGBM's min_data_per_group is 100
    stump = {"n_estimators": 1, "learning_rate": 1.0}
    stump.update({"num_leaves": 2, "min_child_samples": 5} if name == "lightgbm" else {"depth": 1})
    native = build(name, _ctx(), stump).fit(X, y)
    assert native.codes_.columns == (1,) and native.codes_.cardinalities == [12]
    assert (native.predict(X) == y).mean() == 1.0
    codes = native.codes_.codes(X).astype(np.float64)
    as_number = build(name, _ctx(), stump).fit(np.column_stack([X["x"], codes]), y)
    assert (as_number.predict(np.column_stack([X["x"], codes])) == y).mean() < 0.9
    # the same codes declared categorical split natively again
    declared = build(name, _ctx(), {**stump, "categorical_features": [1]}).fit(np.column_stack([X["x"], codes]), y)
    assert (declared.predict(np.column_stack([X["x"], codes])) == y).mean() == 1.0


@pytest.mark.parametrize("name", BOOSTERS)
def test_unseen_and_missing_values_predict_and_any_labels_come_back(name):
    X, y = _table(300)
    labels = np.array(["stay", "leave"])[y]
    X = X.copy()
    X.loc[::7, "x"] = np.nan
    X.loc[::11, "cat"] = np.nan
    model = build(name, _ctx(), {"n_estimators": 20}).fit(X, labels)
    assert set(model.classes_) == {"stay", "leave"}
    test = pd.DataFrame({"x": [0.1, np.nan, 2.0], "cat": ["L03", "never-seen", np.nan]})
    assert set(model.predict(test)) <= {"stay", "leave"}
    proba = model.predict_proba(test)
    assert proba.shape == (3, 2) and np.allclose(proba.sum(1), 1)
    n_params, proxy, unit = model.size_info()
    assert n_params == proxy > 0 and unit == "tree nodes"


@pytest.mark.parametrize("name", BOOSTERS)
def test_regression_and_three_classes(name):
    X, y = _table(300)
    target = X["x"].to_numpy() * 2 + y
    reg = build(name, _ctx("regression"), {"n_estimators": 50}).fit(X, target)
    assert reg.score(X, target) > 0.8
    three = np.where(X["x"] > 0.5, 2, y)
    clf = build(name, _ctx(), {"n_estimators": 20}).fit(X, three)
    assert clf.predict_proba(X).shape == (300, 3) and list(clf.classes_) == [0, 1, 2]


@pytest.mark.parametrize("name", BOOSTERS)
def test_bad_input_is_refused_in_one_clear_line(name):
    X, y = _table(50)
    with pytest.raises(ValueError, match="categorical_features: column 5 is outside the 2 columns of X"):
        build(name, _ctx(), {"categorical_features": [5]}).fit(X, y)
    with pytest.raises(ValueError, match="needs at least 2 classes"):
        build(name, _ctx(), {}).fit(X, np.zeros(50))
    model = build(name, _ctx(), {"n_estimators": 3}).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 columns; the model was fitted on 2"):
        model.predict(np.zeros((2, 3)))
