"""A cell's own bookkeeping, made cheap without changing a figure: scores, size, latency, data hand-over."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics

from bench.execution import cell as cellmod
from bench.execution import prepare as prep
from bench.execution import scoring
from bench.suite import parse, plan


@st.composite
def _labels(draw):
    n_classes = draw(st.integers(1, 6))
    n = draw(st.integers(1, 80))
    y = draw(st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n))
    pred = draw(st.lists(st.integers(0, n_classes), min_size=n, max_size=n))  # may predict a label y lacks
    extra = draw(st.integers(0, 2))  # classes of the dataset neither holds
    return np.array(y), np.array(pred), np.arange(n_classes + 1 + extra)


@settings(max_examples=400, deadline=None)
@given(_labels())
def test_label_scores_equal_scikit_learns_to_the_last_bit(case):
    y, pred, classes = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = {
            "accuracy": metrics.accuracy_score(y, pred),
            "balanced_accuracy": metrics.balanced_accuracy_score(y, pred),
            "f1_macro": metrics.f1_score(y, pred, labels=classes, average="macro", zero_division=0),
        }
    assert scoring.label_scores(y, pred, classes) == expected


def test_label_scores_of_string_labels_equal_scikit_learns():
    y = np.array(["cat", "dog", "dog", "eel", "cat"])
    pred = np.array(["cat", "cat", "dog", "dog", "fox"])
    classes = np.array(["cat", "dog", "eel", "fox", "gnu"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = {
            "accuracy": metrics.accuracy_score(y, pred),
            "balanced_accuracy": metrics.balanced_accuracy_score(y, pred),
            "f1_macro": metrics.f1_score(y, pred, labels=classes, average="macro", zero_division=0),
        }
    assert scoring.label_scores(y, pred, classes) == expected


@st.composite
def _probabilities(draw):
    """Probabilities over a dataset's classes as a cell scores them: a model's, spread by full_proba."""
    n_classes = draw(st.integers(2, 6))
    n = draw(st.integers(1, 60))
    y = np.array(draw(st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n)))
    seen = np.array(sorted(draw(st.sets(st.integers(0, n_classes - 1), min_size=1))))  # the model's classes
    cells = st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0), st.floats(1e-300, 1e-12))
    raw = np.array(draw(st.lists(st.lists(cells, min_size=len(seen), max_size=len(seen)), min_size=n, max_size=n)))
    raw[raw.sum(axis=1) == 0, 0] = 1.0
    proba = raw / raw.sum(axis=1, keepdims=True)
    return y, scoring.full_proba(proba, seen, np.arange(n_classes)), np.arange(n_classes)


@settings(max_examples=400, deadline=None)
@given(_probabilities())
def test_log_loss_equals_scikit_learns_to_the_last_bit(case):
    y, proba, classes = case
    assert scoring.log_loss(y, proba, classes) == metrics.log_loss(y, proba, labels=classes)


def test_log_loss_of_labels_outside_the_classes_is_refused_as_scikit_learn_refuses_it():
    proba = np.full((3, 2), 0.5)
    with pytest.raises(ValueError):
        scoring.log_loss(np.array([0, 1, 2]), proba, np.array([0, 1]))


@st.composite
def _regression(draw):
    n = draw(st.integers(0, 60))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64]))
    values = st.one_of(st.floats(-1e6, 1e6, width=32), st.integers(-1000, 1000).map(float), st.just(3.0))
    y = np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=np.float64)
    kind = draw(st.sampled_from(["noise", "perfect", "constant_target"]))
    if kind == "constant_target":
        y[:] = 3.0
    pred = y.copy() if kind == "perfect" else np.array(draw(st.lists(values, min_size=n, max_size=n)))
    pred_dtype = draw(st.sampled_from([np.float64, np.float32]))
    return y.astype(dtype), pred.astype(pred_dtype)


@settings(max_examples=400, deadline=None)
@given(_regression())
def test_regression_scores_equal_scikit_learns_to_the_last_bit(case):
    y, pred = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if len(y) < 1:
            with pytest.raises(ValueError):
                metrics.r2_score(y, pred)
            with pytest.raises(ValueError):
                scoring.regression_scores(y, pred)
            return
        expected = {
            "r2": metrics.r2_score(y, pred),
            "rmse": float(np.sqrt(metrics.mean_squared_error(y, pred))),
            "mae": metrics.mean_absolute_error(y, pred),
        }
        got = scoring.regression_scores(y, pred)
        r2 = scoring.r2(y, pred)
    same = {k: v == expected[k] or (np.isnan(v) and np.isnan(expected[k])) for k, v in got.items()}
    assert all(same.values()), (got, expected)
    assert r2 == expected["r2"] or (np.isnan(r2) and np.isnan(expected["r2"]))


def test_the_pickled_size_counts_the_bytes_pickle_writes_without_keeping_them():
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(0)
    model = KNeighborsClassifier().fit(rng.normal(size=(5000, 20)), rng.integers(0, 3, 5000))
    assert cellmod.pickled_size(model) == len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    assert cellmod.pickled_size(lambda: None) is None  # cannot be pickled: no size


def test_latency_takes_every_call_of_a_fast_model_and_few_of_a_slow_one(monkeypatch):
    """On a fake clock that only the model's predict advances: a loaded machine cannot change the count."""
    import types

    now = [0.0]
    monkeypatch.setattr(cellmod, "time", types.SimpleNamespace(perf_counter=lambda: now[0]))

    class Timed:
        def __init__(self, seconds: float):
            self.seconds = seconds

        def predict(self, X):
            now[0] += self.seconds
            return np.zeros(len(X))

    X = np.zeros((100, 3))
    fast = Timed(1e-6)
    assert len(cellmod._latencies(fast, X)) == cellmod.LATENCY_CALLS
    slow = Timed(cellmod.LATENCY_BUDGET_S)
    assert len(cellmod._latencies(slow, X)) == cellmod.LATENCY_MIN_CALLS
    assert len(cellmod._latencies(fast, X[:2])) == 2  # never more calls than test rows


def _cell(models: str = '[models.m]\nmodel = "test_constant"', table: str = "", n_train: int = 100):
    suite = parse(
        f"[suite]\nseeds = [0]\ntrain_sizes = [{n_train}]\nthreads = 1\n[datasets.breast_cancer]\n{table}\n{models}\n",
        "inline.toml",
    )
    cells, _ = plan(suite)
    return cells


def test_every_model_of_a_group_gets_the_split_the_first_one_computed(tmp_path, monkeypatch):
    first, second = _cell('[models.a]\nmodel = "test_constant"\n[models.b]\nmodel = "logistic_regression"')
    computed = prep.prepare(first, tmp_path)
    calls = []
    monkeypatch.setattr(prep, "_prepared_pool", lambda c, *_: calls.append(c) or pytest.fail("computed again"))
    cached = prep.prepare(second, tmp_path)
    assert calls == []
    for name in ("X_train", "y_train", "X_test", "y_test", "classes"):
        np.testing.assert_array_equal(getattr(cached, name), getattr(computed, name))
    assert (cached.sample_shape, cached.n_classes, cached.missing_classes) == (
        computed.sample_shape, computed.n_classes, computed.missing_classes)
    assert cached.X_train.flags.writeable  # copy-on-write: a model may scale its input in place
    cached.X_train[0, 0] = 1e9
    assert prep.prepare(second, tmp_path).X_train[0, 0] != 1e9  # ... without changing what the next model gets


def test_a_cached_split_equals_the_split_made_without_a_cache(tmp_path, monkeypatch):
    (cell,) = _cell()
    monkeypatch.delenv(prep.CACHE_ENV, raising=False)
    plain = prep.prepare(cell)
    prep.prepare(cell, tmp_path)  # computes and caches
    cached = prep.prepare(cell, tmp_path)  # maps the cache
    for name in ("X_train", "y_train", "X_test", "y_test", "classes"):
        a, b = getattr(plain, name), getattr(cached, name)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_a_cell_with_a_cache_scores_exactly_as_without_one(tmp_path, monkeypatch):
    (cell,) = _cell('[models.m]\nmodel = "logistic_regression"')
    monkeypatch.delenv(prep.CACHE_ENV, raising=False)
    plain = cellmod.measure_cell(cell)
    first = cellmod.measure_cell(cell, tmp_path)
    again = cellmod.measure_cell(cell, tmp_path)
    for row in (first, again):
        for key in ("accuracy", "balanced_accuracy", "f1_macro", "log_loss", "train_score", "val_score",
                    "predictions_sha", "n_params", "model_bytes"):
            assert row[key] == plain[key], key


def test_scaling_in_chunks_equals_one_fit_on_one_chunk_and_matches_closely_on_many(monkeypatch):
    """The split's scaler is fitted by chunks of rows (bounded float64 working memory)."""
    import numpy as np
    from sklearn.preprocessing import StandardScaler

    from bench.execution import prepare as prep

    rng = np.random.default_rng(0)
    X = (rng.normal(size=(5000, 7)) * 3 + 1).astype("float32")
    T = rng.normal(size=(300, 7)).astype("float32")
    ref = StandardScaler().fit(X)
    one_train, one_test = prep._fit_transform(StandardScaler(), X, T)
    assert one_train.dtype == np.float32
    assert np.array_equal(one_train, ref.transform(X)) and np.array_equal(one_test, ref.transform(T))
    monkeypatch.setattr(prep, "SCALE_CHUNK_BYTES", 8 * 7 * 1024)  # chunks of 1,024 rows
    many_train, many_test = prep._fit_transform(StandardScaler(), X, T)
    np.testing.assert_allclose(many_train, ref.transform(X), rtol=0, atol=1e-5)
    np.testing.assert_allclose(many_test, ref.transform(T), rtol=0, atol=1e-5)
