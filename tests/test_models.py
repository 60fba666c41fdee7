"""Classical models: every registered one fits on the tasks it declares and reports its size."""

import pytest

from bench.execution.cell import measure_cell
from bench.execution.isolate import run_isolated
from bench.models import MODELS
from bench.suite import parse, plan

CLASSICAL = [n for n, e in MODELS.items() if e.family == "classical" and not n.startswith("test_")]


def _cells(model: str, threads: int = 1, extra: str = ""):
    suite = parse(
        f"""
[suite]
seeds = [0]
train_sizes = [120]
threads = {threads}
[datasets.breast_cancer]
[datasets.diabetes]
[models.{model}]
{extra}
""",
        "m.toml",
    )
    return plan(suite)[0]


def test_all_seven_classical_families_are_registered():
    assert {"logistic_regression", "linear_regression", "ridge", "svm", "decision_tree",
            "random_forest", "knn", "xgboost"} <= set(CLASSICAL)


@pytest.mark.parametrize("name", CLASSICAL)
def test_classical_model_fits_and_reports_scores_and_size(name):
    for cell in _cells(name):
        row = measure_cell(cell)
        assert row["status"] == "ok"
        if cell.dataset.task == "classification":
            assert row["score"] > 0.8
        else:  # a deep tree on 120 rows of diabetes can do worse than the mean
            assert -2 < row["score"] <= 1
        assert row["n_params"] > 0 and row["size_proxy"] > 0 and row["size_unit"]
        assert row["model_bytes"] > 0


def test_size_proxies_name_the_family_unit():
    units = {}
    for name in ("svm", "knn", "decision_tree", "random_forest", "xgboost", "logistic_regression"):
        cell = next(c for c in _cells(name) if c.dataset.label == "breast_cancer")
        units[name] = measure_cell(cell)["size_unit"]
    assert units == {
        "svm": "support vectors", "knn": "stored rows", "decision_tree": "tree nodes",
        "random_forest": "tree nodes", "xgboost": "tree nodes", "logistic_regression": "coefficients",
    }
    knn = measure_cell(next(c for c in _cells("knn") if c.dataset.label == "breast_cancer"))
    assert knn["size_proxy"] == 120  # KNN stores its training rows


@pytest.mark.parametrize("threads", [1, 2])
def test_the_thread_budget_reaches_every_pool_in_the_worker(threads):
    cell = _cells("test_threads", threads=threads)[0]
    row = run_isolated(cell)
    assert row["status"] == "ok", row["info"]
    assert row["threads"] == threads


def test_the_same_seed_gives_the_same_scores():
    cell = next(c for c in _cells("random_forest", extra="n_estimators = 20") if c.dataset.task == "regression")
    assert measure_cell(cell)["score"] == measure_cell(cell)["score"]
