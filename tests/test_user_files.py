"""A user's own file, as files in the wild are: repeated headers, the target under another name,
nullable columns, huge values, blank cells. Each is refused in one line, or handled and said."""

import numpy as np
import pandas as pd
import pytest

from bench import datasets as ds
from bench.execution.cell import measure_cell
from bench.suite import SuiteError, parse, plan


def _frame(n=80):
    rng = np.random.default_rng(0)
    label = rng.choice(["yes", "no"], size=n)
    return pd.DataFrame(
        {
            "a": rng.normal(size=n) + (label == "yes"),
            "b": rng.integers(0, 5, size=n).astype(float),
            "colour": rng.choice(["red", "green"], size=n),
            "label": label,
        }
    )


def _suite(path, **extra) -> str:
    fields = {"path": str(path), "target": "label", "task": "classification", **extra}
    body = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in fields.items())
    return f"[suite]\nseeds = [0]\ntrain_sizes = [40]\n[datasets.mine]\ndataset = \"file\"\n{body}\n[models.logistic_regression]\n"


def _refused(path, **extra) -> str:
    with pytest.raises(SuiteError) as info:
        parse(_suite(path, **extra), "s.toml")
    return str(info.value)


def test_a_header_that_repeats_the_target_name_is_refused(tmp_path):
    path = tmp_path / "d.csv"
    frame = _frame()
    path.write_text("a,label,label\n" + "".join(f"{a},{y},{y}\n" for a, y in zip(frame.a, frame.label, strict=True)))
    msg = _refused(path)
    assert "appear more than once: 'label'" in msg and "leak" in msg


def test_a_column_holding_the_target_under_another_name_is_dropped_with_a_warning(tmp_path, capsys):
    path = tmp_path / "d.csv"
    _frame().assign(answer=lambda f: f.label).to_csv(path, index=False)
    suite = parse(_suite(path), "s.toml")
    assert "column 'answer' holds the target 'label'" in capsys.readouterr().err
    data = ds.load("file", suite.datasets[0].params)
    assert "answer" not in data.X.columns


def test_every_column_with_blank_cells_is_listed_at_once_with_counts(tmp_path):
    path = tmp_path / "d.csv"
    frame = _frame()
    frame.loc[[1, 2], "a"] = np.nan
    frame.loc[[5], "colour"] = np.nan
    frame.to_csv(path, index=False)
    msg = _refused(path)
    assert "missing (blank) cells in 2 columns: 'a' (2 missing cells), 'colour' (1 missing cell)" in msg
    assert 'missing = "impute"' in msg and "NaN" not in msg


def test_a_nullable_boolean_column_with_missing_values_is_a_missing_value_not_a_crash(tmp_path):
    path = tmp_path / "d.parquet"
    flag = pd.array([True, False, None] * 26 + [True, False], dtype="boolean")
    _frame().assign(flag=flag).to_parquet(path)
    assert "'flag' (26 missing cells)" in _refused(path)
    suite = parse(_suite(path, missing="impute"), "s.toml")
    row = measure_cell(plan(suite)[0][0])
    assert row["status"] == "ok" and 0 <= row["accuracy"] <= 1


def test_values_that_would_overflow_in_scaling_are_refused(tmp_path):
    path = tmp_path / "d.csv"
    _frame().assign(b=lambda f: f.b * 1e300).to_csv(path, index=False)
    msg = _refused(path)
    assert "too large to scale" in msg and "'b'" in msg


def test_a_fractional_float_target_for_classification_says_how_to_declare_regression(tmp_path):
    path = tmp_path / "d.csv"
    _frame().assign(label=lambda f: f.a * 0.5).to_csv(path, index=False)
    msg = _refused(path)
    assert "non-integer numbers" in msg and 'task = "regression"' in msg


def test_an_integral_float_target_is_a_valid_classification_target(tmp_path):
    path = tmp_path / "d.csv"
    _frame().assign(label=lambda f: (f.label == "yes").astype(float)).to_csv(path, index=False)
    parse(_suite(path), "s.toml")


def test_an_all_missing_column_is_refused_even_with_imputation(tmp_path):
    path = tmp_path / "d.csv"
    _frame().assign(empty=np.nan).to_csv(path, index=False)
    assert "every cell missing: 'empty'" in _refused(path, missing="impute")


def test_an_unknown_missing_policy_is_refused(tmp_path):
    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    assert "missing must be one of 'error', 'impute'" in _refused(path, missing="mean")


def test_imputation_is_fitted_on_the_training_rows_only():
    from bench.execution.prepare import _preprocessor

    train = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0, 100.0], "c": ["x", "x", None, "y", "x"]})
    test = pd.DataFrame({"a": [np.nan, 1000.0, 1000.0], "c": [None, "y", "y"]})
    pre = _preprocessor(train, "tabular", "raw").fit(train)
    out = pre.transform(test)
    a_train = np.array([1.0, 2.0, 3.0, 4.0, 100.0])  # the blank filled with the training median, 3
    assert out[0, 0] == pytest.approx((3.0 - a_train.mean()) / a_train.std())
    assert list(out[0, 1:]) == [1.0, 0.0]  # the training rows' most frequent category, "x"


def test_a_seed_beyond_32_bits_is_refused_before_any_cell():
    with pytest.raises(SuiteError, match=r"\[suite.seeds\] seeds must be below 2\*\*32"):
        parse("[suite]\nseeds = [4294967296]\n[datasets.wine]\n[models.knn]\n", "s.toml")
