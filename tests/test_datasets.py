"""Datasets: built-ins, user files with clear errors, and the shared split."""

import numpy as np
import pandas as pd
import pytest

from bench import datasets as ds
from bench.suite import SuiteError, parse


@pytest.mark.parametrize(
    "name,task,rows",
    [("breast_cancer", "classification", 569), ("wine", "classification", 178), ("diabetes", "regression", 442)],
)
def test_bundled_datasets_load_offline_with_their_declared_size(name, task, rows):
    entry = ds.DATASETS[name]
    data = ds.load(name, {})
    assert entry.task == task and entry.modality == "tabular"
    assert data.n_samples == rows == entry.size({})


def test_synthetic_sets_take_their_size_from_the_suite():
    data = ds.load("synthetic_classification", {"n_samples": 1234, "n_classes": 3})
    assert data.X.shape == (1234, 20) and set(np.unique(data.y)) == {0, 1, 2}
    reg = ds.load("friedman1", {"n_samples": 300})
    assert reg.X.shape == (300, 10)


def test_synthetic_classification_scales_to_a_million_rows():
    entry = ds.DATASETS["synthetic_classification"]
    assert entry.size({"n_samples": 1_000_000}) == 1_000_000  # declared without generating


def test_split_is_stratified_nested_and_disjoint():
    y = np.array([0] * 900 + [1] * 100)
    pool, test = ds.split(y, seed=3, test_size=0.2, task="classification")
    assert len(test) == 200 and len(pool) == 800
    assert not set(pool) & set(test)
    for n in (50, 100, 400):
        assert abs(y[pool[:n]].mean() - 0.1) <= 1.5 / n + 0.01  # every prefix keeps the class ratio
    assert abs(y[test].mean() - 0.1) < 0.01
    again, _ = ds.split(y, seed=3, test_size=0.2, task="classification")
    assert (again == pool).all()
    other, _ = ds.split(y, seed=4, test_size=0.2, task="classification")
    assert (other != pool).any()


def _suite_with_file(path, **extra) -> str:
    fields = {"path": str(path), "target": "label", "task": "classification", **extra}
    body = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in fields.items())
    return f"""
[suite]
seeds = [0]
[datasets.mine]
dataset = "file"
{body}
[models.logistic_regression]
"""


def _frame(n=60):
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.integers(0, 5, size=n),
            "colour": rng.choice(["red", "green"], size=n),
            "label": rng.choice(["yes", "no"], size=n),
        }
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_user_file_with_a_text_column_loads(tmp_path, fmt):
    path = tmp_path / f"data.{fmt}"
    frame = _frame()
    frame.to_csv(path, index=False) if fmt == "csv" else frame.to_parquet(path)
    suite = parse(_suite_with_file(path), "s.toml")
    spec = suite.datasets[0]
    assert spec.n_samples == 60 and spec.task == "classification"
    data = ds.load("file", spec.params)
    assert data.target_names == ("no", "yes")


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda f: f.drop(columns="label"), "no target column 'label'; columns are: a, b, colour"),
        (lambda f: f.assign(a=np.where(np.arange(len(f)) == 3, np.nan, f.a)),
         "missing (blank) cells in 1 column: 'a' (1 missing cell)"),
        (lambda f: f.assign(a=np.where(np.arange(len(f)) == 3, np.inf, f.a)),
         "infinite values in 1 column: 'a' (1 infinite value)"),
        (lambda f: f.assign(label="yes"), "single class"),
        (lambda f: f.assign(colour=[f"c{i}" for i in range(len(f))]), "cannot encode"),
        (lambda f: f.assign(label=np.where(np.arange(len(f)) == 0, None, f.label)), "1 missing (blank) cell"),
    ],
)
def test_broken_user_files_are_rejected_naming_the_file_and_column(tmp_path, mutate, expected):
    path = tmp_path / "data.csv"
    mutate(_frame()).to_csv(path, index=False)
    with pytest.raises(SuiteError) as info:
        parse(_suite_with_file(path), "s.toml")
    msg = str(info.value)
    assert "s.toml" in msg and "datasets.mine" in msg and str(path) in msg and expected in msg


@pytest.mark.parametrize(
    "content,expected",
    [(b"", "empty"), ("a,label\n\xe9t\xe9,1\n".encode("latin-1"), "not UTF-8"), (b"a,label\n", "no rows")],
)
def test_empty_or_wrongly_encoded_files_are_rejected(tmp_path, content, expected):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(SuiteError, match=expected):
        parse(_suite_with_file(path), "s.toml")


def test_a_missing_file_and_an_unknown_type_are_rejected(tmp_path):
    with pytest.raises(SuiteError, match="no such file"):
        parse(_suite_with_file(tmp_path / "nope.csv"), "s.toml")
    (tmp_path / "d.xlsx").write_text("x")
    with pytest.raises(SuiteError, match="unknown file type"):
        parse(_suite_with_file(tmp_path / "d.xlsx"), "s.toml")


def test_regression_file_with_constant_target_is_rejected(tmp_path):
    path = tmp_path / "data.csv"
    _frame().assign(label=1.0).to_csv(path, index=False)
    with pytest.raises(SuiteError, match="constant"):
        parse(_suite_with_file(path, task="regression"), "s.toml")
