"""Categorical columns reach the models that take them natively (tagged `native_categories`:
LightGBM, CatBoost, TabM) as ordinal codes with their column indices; every other model gets
them one-hot. The two encodings never share a split-cache entry."""

import numpy as np
import pandas as pd
import pytest

from bench.execution import cell as cellmod
from bench.execution import prepare as prep
from bench.models import MODELS, ModelContext, build
from bench.models.categories import MISSING, CategoryCodes
from bench.registry import MODEL_TAGS
from bench.suite import parse, plan

NATIVE = ("lightgbm", "catboost", "tabm")
LEVELS = ("red", "green", "blue", "amber")


def _frame(n=120):
    rng = np.random.default_rng(0)
    colour = rng.choice(LEVELS, size=n)
    label = np.where(np.isin(colour, ["red", "blue"]) ^ (rng.random(n) < 0.1), "yes", "no")
    return pd.DataFrame({"a": rng.normal(size=n), "colour": colour, "b": rng.normal(size=n), "label": label})


def _cells(tmp_path, models=(*NATIVE, "logistic_regression", "xgboost")) -> dict:
    path = tmp_path / "table.csv"
    _frame().to_csv(path, index=False)
    blocks = "".join(f"[models.{m}]\n" + ("n_epochs = 2\n" if m == "tabm" else "") for m in models)
    suite = parse(
        "[suite]\nseeds = [0]\ntrain_sizes = [80]\n[datasets.mine]\ndataset = \"file\"\n"
        f"path = \"{path}\"\ntarget = \"label\"\ntask = \"classification\"\n{blocks}",
        "s.toml",
    )
    return {c.model.name: c for group in plan(suite) for c in group}


def test_the_tag_is_declared_and_carried_by_exactly_the_native_models():
    assert prep.NATIVE_TAG == "native_categories" and prep.NATIVE_TAG in MODEL_TAGS
    tagged = {name for name, entry in MODELS.items() if prep.NATIVE_TAG in entry.tags}
    assert tagged == set(NATIVE)


def test_native_models_get_ordinal_codes_and_their_columns_others_one_hot(tmp_path):
    cells = _cells(tmp_path)
    for name, cell in cells.items():
        split = prep.prepare(cell)
        if name in NATIVE:
            # numbers a, b first, then one code column for colour
            assert split.categorical == (2,), name
            assert split.X_train.shape[1] == 3
            codes = split.X_train[:, 2]
            assert set(np.unique(codes)) <= set(range(len(LEVELS))) and len(np.unique(codes)) == len(LEVELS)
        else:
            assert split.categorical == (), name
            assert split.X_train.shape[1] == 2 + len(LEVELS)  # a, b, then one column per colour
            assert set(np.unique(split.X_train[:, 2:])) == {0.0, 1.0}


@pytest.mark.parametrize("name", NATIVE)
def test_the_factories_pass_the_categorical_columns_on(name):
    ctx = ModelContext(task="classification", modality="tabular", seed=0, threads=1, n_features=3, n_classes=2,
                       device="cpu", categorical=(2,))
    assert tuple(build(name, ctx, {}).get_params()["categorical_features"]) == (2,)
    plain = ModelContext(task="classification", modality="tabular", seed=0, threads=1, n_features=3, n_classes=2,
                         device="cpu")
    assert tuple(build(name, plain, {}).get_params()["categorical_features"]) == ()


def test_a_measured_cell_fits_on_codes_with_the_categorical_columns(tmp_path, monkeypatch):
    cells = _cells(tmp_path, models=("lightgbm", "logistic_regression"))
    seen = {}
    real_build = cellmod.build

    def spy(name, ctx, params):
        estimator = real_build(name, ctx, params)
        seen.setdefault(name, (ctx, estimator))
        return estimator

    monkeypatch.setattr(cellmod, "build", spy)
    for cell in cells.values():
        row = cellmod.measure_cell(cell, tmp_path / "cache")
        assert row["status"] == "ok" and 0 <= row["accuracy"] <= 1
    ctx, booster = seen["lightgbm"]
    assert ctx.categorical == (2,) and ctx.n_features == 3
    assert booster.codes_.columns == (2,) and booster.codes_.cardinalities == [len(LEVELS)]
    infos = booster.model_.booster_.dump_model()["feature_infos"]
    assert infos["Column_2"]["values"] and not infos["Column_0"]["values"]  # a category; a number
    ctx, logistic = seen["logistic_regression"]
    assert ctx.categorical == () and ctx.n_features == 2 + len(LEVELS)


def test_the_two_encodings_never_share_a_cache_entry(tmp_path):
    cells = _cells(tmp_path, models=("lightgbm", "catboost", "logistic_regression", "xgboost"))
    root = tmp_path / "cache"
    for name in ("lightgbm", "logistic_regression"):
        prep.prepare(cells[name], root)
    assert len(list(root.glob("split-*"))) == 2
    # A second model of each kind maps its kind's entry: no third one, the same arrays.
    native, onehot = prep.prepare(cells["catboost"], root), prep.prepare(cells["xgboost"], root)
    assert len(list(root.glob("split-*"))) == 2
    assert native.categorical == (2,) and native.X_train.shape[1] == 3
    assert onehot.categorical == () and onehot.X_train.shape[1] == 2 + len(LEVELS)
    np.testing.assert_array_equal(native.X_train, prep.prepare(cells["lightgbm"]).X_train)


def test_a_missing_or_unseen_category_gets_the_missing_code_and_every_model_reads_it_as_missing():
    train = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "c": ["red", "green", "red", None]})
    test = pd.DataFrame({"x": [0.5, 1.5, 2.5], "c": ["green", "violet", None]})
    pre = prep._preprocessor(train, "tabular", "raw", native=True).fit(train)
    codes_train, codes_test = pre.transform(train)[:, 1], pre.transform(test)[:, 1]
    assert prep.MISSING_CODE == MISSING == -1
    np.testing.assert_array_equal(codes_train, [1, 0, 1, MISSING])  # sorted: green 0, red 1
    np.testing.assert_array_equal(codes_test, [0, MISSING, MISSING])
    one_hot = prep._preprocessor(train, "tabular", "raw").fit(train).transform(test)
    assert one_hot.shape[1] == 1 + 2 and one_hot[1, 1:].sum() == 0  # the unseen value: no column set

    X_train = pre.transform(train)
    codes = CategoryCodes((1,)).fit(X_train)
    assert codes.cardinalities == [2]  # MISSING is not a category of its own
    np.testing.assert_array_equal(codes.codes(pre.transform(test))[:, 0], [0, MISSING, MISSING])


def test_data_without_categories_share_one_entry_whatever_the_model(tmp_path):
    suite = parse("[suite]\nseeds = [0]\ntrain_sizes = [60]\n[datasets.wine]\n[models.lightgbm]\n"
                  "[models.logistic_regression]\n", "s.toml")
    cells = {c.model.name: c for group in plan(suite) for c in group}
    root = tmp_path / "cache"
    native = prep.prepare(cells["lightgbm"], root)
    plain = prep.prepare(cells["logistic_regression"], root)
    assert len(list(root.glob("split-*"))) == 1
    assert native.categorical == plain.categorical == () and native.table_categories == 0
    np.testing.assert_array_equal(native.X_train, plain.X_train)
