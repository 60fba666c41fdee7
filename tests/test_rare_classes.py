"""Real data has rare classes: a small training prefix may lack a class that the test rows hold."""

import math

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from bench.execution.cell import measure_cell
from bench.execution.scoring import scores
from bench.models import MODELS
from bench.suite import parse, plan

CLASSIFIERS = [
    n for n, e in MODELS.items()
    if e.family == "classical" and "testing" not in e.tags and "classification" in e.tasks
    and "tabular" in e.modalities  # the rare-class dataset is a table (tfidf_logistic reads text only)
]


def test_scores_cover_every_class_of_the_dataset_when_training_lacked_one():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y_train = np.arange(60) % 3
    model = LogisticRegression().fit(X + y_train[:, None], y_train)
    y_test = np.array([0, 1, 2, 3] * 5)
    X_test = rng.normal(size=(20, 2)) + y_test[:, None]
    s = scores("classification", model, X_test, y_test, classes=np.arange(4))
    assert 0 < s["accuracy"] <= 0.75  # class 3 cannot be predicted
    # F1 averaged over all four classes: the unseen class counts as 0, not dropped.
    assert s["f1_macro"] <= 0.75 + 1e-9
    # Log-loss over all four classes: the unseen class has probability 0, clipped, so it costs ~34.5 nats.
    assert math.isfinite(s["log_loss"]) and s["log_loss"] > 34.5 * 5 / 20


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_a_classical_cell_scores_a_class_present_only_in_the_test_rows(name):
    suite = parse(
        f"""
[suite]
seeds = [0]
train_sizes = ["max"]
[datasets.test_rare_classes]
[models.{name}]
""",
        "rare.toml",
    )
    (cell,) = plan(suite)[0]
    assert cell.dataset.official_split and cell.dataset.n_test == 40
    row = measure_cell(cell)
    assert row["status"] == "ok"
    assert row["missing_classes"] == "[3]"
    assert 0 < row["accuracy"] <= 0.75 and math.isfinite(row["f1_macro"])
    if "log_loss" in row:
        assert math.isfinite(row["log_loss"])
