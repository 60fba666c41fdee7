"""TabM with numeric embeddings (bench.models.tabular_deep): the deep estimators' training loop,
categories embedded, the k members trained apart and predicted together."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.model_selection import ParameterSampler

from bench.models import MODELS, ModelContext, build
from bench.models.tabular_deep_estimators import (
    CategoryEmbeddings,
    TabMClassifier,
    TabMRegressor,
    quantile_bins,
)

SMALL = {"k": 2, "d_block": 16, "n_blocks": 1, "d_embedding": 4, "n_bins": 8, "d_cat": 3, "n_epochs": 3, "batch_size": 32}


def _ctx(task: str = "classification") -> ModelContext:
    return ModelContext(task=task, modality="tabular", seed=0, threads=1, n_features=3, n_classes=2, device="cpu")


def _table(n: int = 160, seed: int = 0):
    rng = np.random.default_rng(seed)
    cat = rng.choice(["a", "b", "c", "d"], n)
    x = rng.normal(size=(n, 2))
    y = ((cat == "a") | (x[:, 0] > 1)).astype(np.int64)
    return pd.DataFrame({"x0": x[:, 0], "cat": cat, "x1": x[:, 1]}), y


def test_registered_as_a_deep_tabular_model_with_a_search_space():
    entry = MODELS["tabm"]
    assert entry.family == "deep" and {"fully_connected", "ensemble"} <= entry.tags
    assert entry.modalities == {"tabular"}
    estimator = build("tabm", _ctx(), {})
    assert isinstance(estimator, TabMClassifier) and isinstance(build("tabm", _ctx("regression"), {}), TabMRegressor)
    assert estimator.random_state == 0 and estimator.device == "cpu"
    assert set(entry.space(_ctx())) <= set(estimator.get_params())
    X, y = _table(80)
    for params in ParameterSampler(entry.space(_ctx()), n_iter=2, random_state=0):
        build("tabm", _ctx(), {**params, "n_epochs": 1, "k": 2, "d_block": 16}).fit(X, y)


def test_categories_are_embedded_and_the_members_predict_together():
    X, y = _table()
    model = build("tabm", _ctx(), SMALL).fit(X, y)
    assert model.codes_.columns == (1,) and model.n_num_ == 2
    tables = [m for m in model.module_.modules() if isinstance(m, CategoryEmbeddings)]
    assert len(tables) == 1 and tables[0].tables[0].num_embeddings == 4 + 1  # + missing or unseen
    assert tables[0].tables[0].embedding_dim == 3
    # the prediction is the mean of the k members' probabilities
    x = model._inputs(X)
    with torch.inference_mode():
        members = torch.softmax(model.module_(x).double(), dim=-1)
    assert members.shape == (len(X), 2, 2)
    assert np.allclose(model.predict_proba(X), members.mean(1).numpy(), atol=1e-5)
    assert model.embed(X).shape == (len(X), 16)


def test_early_stopping_watches_a_validation_slice_of_the_training_rows():
    X, y = _table(200)
    model = build("tabm", _ctx(), {**SMALL, "n_epochs": 60, "patience": 2, "lr": 0.05}).fit(X, y)
    assert all("valid_loss" in record for record in model.history_)
    assert model.n_epochs_ < 60 and model.best_epoch_ <= model.n_epochs_
    assert model.score(X, y) > 0.8


@pytest.mark.parametrize("embedding", ["piecewise", "periodic", "none"])
def test_each_numeric_embedding_trains_deterministically(embedding):
    X, y = _table()
    first = build("tabm", _ctx(), {**SMALL, "num_embeddings": embedding}).fit(X, y)
    again = build("tabm", _ctx(), {**SMALL, "num_embeddings": embedding}).fit(X, y)
    assert np.array_equal(first.predict_proba(X), again.predict_proba(X))
    restored = pickle.loads(pickle.dumps(first))
    assert np.array_equal(restored.predict_proba(X), first.predict_proba(X))


def test_numeric_rows_with_declared_code_columns_and_regression():
    X, y = _table()
    codes = pd.Categorical(X["cat"]).codes.astype(np.float64)
    numeric = np.column_stack([X["x0"], codes, X["x1"]])
    model = build("tabm", _ctx(), {**SMALL, "categorical_features": [1]}).fit(numeric, y)
    assert model.codes_.cardinalities == [4]
    target = X["x0"].to_numpy() * 3 + (X["cat"] == "a")
    reg = build("tabm", _ctx("regression"), {**SMALL, "n_epochs": 30}).fit(X, target)
    assert reg.predict(X).shape == (len(X),) and reg.score(X, target) > 0.5


def test_unseen_and_missing_values_predict():
    X, y = _table()
    X = X.copy()
    X.loc[::9, "x1"] = np.nan
    X.loc[::13, "cat"] = np.nan
    model = build("tabm", _ctx(), SMALL).fit(X, y)
    test = pd.DataFrame({"x0": [0.0, np.nan], "cat": ["never-seen", np.nan], "x1": [np.nan, 1.0]})
    proba = model.predict_proba(test)
    assert proba.shape == (2, 2) and np.isfinite(proba).all()


def test_quantile_bins_give_a_constant_column_one_bin_and_cap_the_bins_at_the_rows():
    # rtdl_num_embeddings.compute_bins refuses a constant column and more bins than rows - 1
    X = torch.tensor([[0.0, 1.0, 5.0], [0.0, 0.0, 6.0], [0.0, 1.0, 7.0], [0.0, 0.0, 8.0]])
    bins = quantile_bins(X, n_bins=8)
    assert bins[0].tolist() == [-1.0, 1.0] and len(bins[2]) == 4  # 3 bins from 4 rows
    assert all(bool((b[1:] > b[:-1]).all()) for b in bins)


def test_bad_input_is_refused_in_one_clear_line():
    X, y = _table(40)
    with pytest.raises(ValueError, match="takes tabular rows, not image data"):
        build("tabm", _ctx(), {**SMALL, "modality": "image"}).fit(X, y)
    with pytest.raises(ValueError, match="categorical_features: column 7 is outside the 3 columns"):
        build("tabm", _ctx(), {**SMALL, "categorical_features": [7]}).fit(X, y)
