"""Cell hooks (bench.execution.hooks): a plugin's code at fixed points of a measured cell, and the
regression check's injections (bench/regress/probe.py) made through them."""

from __future__ import annotations

import numpy as np
import pytest

from bench.execution import hooks
from bench.execution.cell import measure_cell
from bench.execution.prepare import prepare
from bench.measure import predictions_sha
from bench.regress import probe
from bench.suite import parse, plan


@pytest.fixture(autouse=True)
def no_hooks():
    hooks.clear()
    yield
    hooks.clear()


def _cell(model: str = "logistic_regression", dataset: str = "breast_cancer"):
    suite = parse(f"[suite]\nseeds = [0]\ntrain_sizes = [120]\nthreads = 1\n[datasets.{dataset}]\n"
                  f'[models.m]\nmodel = "{model}"\n', "inline.toml")
    (cell,), _ = plan(suite)
    return cell


class Recorder(hooks.CellHook):
    def __init__(self):
        self.calls = []

    def before_fit(self, cell, estimator):
        self.calls.append(("before_fit", cell.model.name, hasattr(estimator, "coef_")))

    def after_fit(self, cell, estimator):
        self.calls.append(("after_fit", cell.model.name, hasattr(estimator, "coef_")))

    def after_predict(self, cell, estimator, y_pred):
        self.calls.append(("after_predict", cell.model.name, len(y_pred)))


def test_each_point_is_called_once_in_order_around_the_fit_and_after_the_test_predictions():
    recorder = hooks.register(Recorder())
    cell = _cell()
    row = measure_cell(cell)
    assert recorder.calls == [
        ("before_fit", "logistic_regression", False),  # not fitted yet
        ("after_fit", "logistic_regression", True),
        ("after_predict", "logistic_regression", len(prepare(cell).y_test)),
    ]
    assert row["status"] == "ok"


def test_predictions_a_hook_returns_are_the_ones_scored_and_hashed():
    plain = measure_cell(_cell())

    class AllZero:
        def after_predict(self, cell, estimator, y_pred):
            return np.zeros_like(y_pred)

    hooks.register(AllZero())
    cell = _cell()
    row = measure_cell(cell)
    y_test = prepare(cell).y_test
    zeros = np.zeros_like(y_test)
    assert row["predictions_sha"] == predictions_sha(zeros) != plain["predictions_sha"]
    assert row["accuracy"] == float(np.mean(y_test == 0))
    assert row["train_score"] == plain["train_score"]  # only the test predictions pass the hook


def test_a_hook_returning_predictions_of_the_wrong_length_is_an_error_naming_it():
    class Short:
        def after_predict(self, cell, estimator, y_pred):
            return y_pred[:-1]

    hooks.register(Short())
    with pytest.raises(ValueError, match=r"Short.after_predict returned \d+ predictions for \d+ test rows"):
        measure_cell(_cell())


def test_registering_is_once_per_hook_and_unregistering_removes_it():
    a, b = Recorder(), Recorder()
    hooks.register(a)
    hooks.register(b)
    hooks.register(a)
    assert hooks.registered() == (a, b)
    hooks.unregister(a)
    hooks.unregister(a)
    assert hooks.registered() == (b,)
    with pytest.raises(TypeError, match="at least one of before_fit, after_fit, after_predict"):
        hooks.register(object())


def test_the_probe_injects_a_score_drop_into_the_named_model_only():
    plain = measure_cell(_cell())
    probe.inject("score:knn:0.5")
    assert measure_cell(_cell())["predictions_sha"] == plain["predictions_sha"]  # another model: untouched
    probe.inject("score:logistic_regression:0.5")
    row = measure_cell(_cell())
    assert row["predictions_sha"] != plain["predictions_sha"] and row["accuracy"] < plain["accuracy"]


def test_the_probe_injects_held_memory_into_the_measured_fit():
    plain = measure_cell(_cell())
    probe.inject("memory:logistic_regression:64")
    row = measure_cell(_cell())
    assert row["peak_memory_mb"] >= plain["peak_memory_mb"] + 60  # 64 MB held through the fit
    assert row["predictions_sha"] == plain["predictions_sha"]


def test_an_injection_of_an_unknown_model_names_the_valid_ones():
    with pytest.raises(KeyError, match="unknown model 'not_a_model'"):
        probe.inject("slow:not_a_model:2")
