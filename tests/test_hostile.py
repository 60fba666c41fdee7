"""Hostile input: malformed suites and broken data files get a clean error, never a traceback."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.datasets import DataError, load
from bench.suite import Suite, SuiteError, parse, plan

scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
)
values = st.one_of(scalars, st.lists(scalars, max_size=4), st.just("max"), st.just([64, "max"]))
names = st.one_of(
    st.sampled_from(["breast_cancer", "wine", "diabetes", "friedman1", "file", "image_arrays",
                     "svm", "knn", "ridge", "xgboost", "random_forest", "logistic_regression"]),
    st.text(min_size=1, max_size=10),  # unicode names
)
suite_keys = st.one_of(st.sampled_from(["seeds", "train_sizes", "test_size", "features", "threads",
                                        "time_limit_s", "memory_limit_mb", "device", "name"]), st.text(max_size=8))
param_keys = st.one_of(st.sampled_from(["n_samples", "C", "n_estimators", "max_depth", "dataset", "model",
                                        "train_sizes", "test_size", "path", "task"]), st.text(max_size=8))
tables = st.dictionaries(param_keys, values, max_size=3)
random_suites = st.fixed_dictionaries(
    {},
    optional={
        "suite": st.dictionaries(suite_keys, values, max_size=5),
        "datasets": st.dictionaries(names, tables, max_size=3),
        "models": st.dictionaries(names, tables, max_size=3),
        "extra": tables,
    },
)


def _valid() -> dict:
    return {
        "suite": {"seeds": [0], "train_sizes": [64]},
        "datasets": {"wine": {}, "diabetes": {}},
        "models": {"svm": {}, "knn": {"n_neighbors": 3}},
    }


def _mutate(doc: dict, mutation: tuple) -> dict:
    kind, section, key, value = mutation
    if kind == "drop" and section in doc:
        del doc[section]
    elif kind == "set_suite" and isinstance(doc.get("suite"), dict):
        doc["suite"][key] = value
    elif kind == "add_table" and section in ("datasets", "models") and section in doc:
        doc[section][key] = {}
    elif kind == "set_param" and section in ("datasets", "models") and doc.get(section):
        doc[section][sorted(doc[section])[0]][key] = value
    return doc


mutations = st.tuples(
    st.sampled_from(["drop", "set_suite", "add_table", "set_param"]),
    st.sampled_from(["suite", "datasets", "models"]),
    st.one_of(suite_keys, param_keys, names),
    values,
)
mutated_suites = st.lists(mutations, max_size=3).map(
    lambda ms: __import__("functools").reduce(_mutate, ms, _valid())
)
suites = st.one_of(mutated_suites, random_suites)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return {float("inf"): "inf", float("-inf"): "-inf"}.get(v, "nan" if v != v else repr(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    return "[" + ", ".join(_toml_value(x) for x in v) + "]"


def to_toml(doc: dict) -> str:
    lines = []
    for section, body in doc.items():
        if section in ("datasets", "models"):
            lines.append(f"[{section}]")
            for name, table in body.items():
                lines.append(f"[{section}.{json.dumps(name)}]")
                lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in table.items()]
        else:
            lines.append(f"[{section}]")
            lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


def test_malformed_suites_are_rejected_cleanly_or_plan_correctly(capsys):
    outcomes = {"rejected": 0, "accepted": 0, "planned with cells": 0}

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(suites)
    def check(doc):
        text = to_toml(doc)
        try:
            suite = parse(text, "fuzz.toml")
        except SuiteError as exc:
            outcomes["rejected"] += 1
            assert str(exc).startswith("fuzz.toml")
            return
        outcomes["accepted"] += 1
        assert isinstance(suite, Suite)
        cells, _ = plan(suite)
        outcomes["planned with cells"] += bool(cells)
        for cell in cells:
            assert 2 <= cell.n_train <= cell.dataset.n_samples - cell.dataset.n_test

    check()
    with capsys.disabled():  # printed for the record: how the generated suites fell
        print(f"\nmalformed suites: {outcomes}")
    # A generator that never reaches one branch would leave that branch's assertions untested.
    assert outcomes["rejected"] and outcomes["planned with cells"], f"one branch never ran: {outcomes}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[suite]\n[datasets]\n[models]\n",
        "[suite]\nseeds = [0, 0]\n[datasets.wine]\n[models.svm]\n",
        "[suite]\ntrain_sizes = [10000000000]\n[datasets.wine]\n[models.svm]\n",
        "[suite]\ntime_limit_s = nan\n[datasets.wine]\n[models.svm]\n",
        "[suite]\nthreads = 99999999999999999\n[datasets.wine]\n[models.svm]\n",
        '[suite]\n[datasets."<script>"]\n[models.svm]\n',
        '[suite]\n[datasets.wine]\n[models."模型"]\n',
        "[suite]\n[datasets.wine]\n[models.svm]\nC = inf\n",
        "[suite]\n[datasets.f]\ndataset = \"friedman1\"\nn_samples = 1e12\n[models.svm]\n",
        "[suite]\n[datasets.f]\ndataset = \"friedman1\"\nn_samples = 100000000000000\n[models.svm]\n",
        "datasets = 3\nmodels = []\nsuite = \"x\"\n",
    ],
)
def test_hand_picked_bad_suites_exit_2_through_the_cli(tmp_path, text):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "check", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.startswith(f"error: {path}") and "Traceback" not in proc.stderr


def _file_suite(path, dataset="file", target="label", task="classification") -> str:
    extra = f'target = "{target}"\n' if dataset == "file" else ""
    return f'[suite]\n[datasets.d]\ndataset = "{dataset}"\npath = "{path}"\n{extra}task = "{task}"\n[models.knn]\n'


def _csv(tmp_path, frame) -> str:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return str(path)


GOOD = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 7, "label": [0, 1] * 20})

BROKEN_TABLES = {
    "empty file": lambda p: p.write_bytes(b""),
    "header only": lambda p: p.write_text("a,b,label\n"),
    "truncated mid-row": lambda p: p.write_text(GOOD.to_csv(index=False)[:-9]),
    "latin-1 encoded": lambda p: p.write_bytes("a,b,label\n\xe9,1,0\n\xe8,2,1\n".encode("latin-1")),
    "binary junk": lambda p: p.write_bytes(bytes(range(256)) * 4),
    "nan feature": lambda p: p.write_text(GOOD.assign(a=[np.nan] + [1.0] * 39).to_csv(index=False)),
    "inf feature": lambda p: p.write_text(GOOD.assign(b=[np.inf] + [1.0] * 39).to_csv(index=False)),
    "single class": lambda p: p.write_text(GOOD.assign(label=1).to_csv(index=False)),
    "missing target values": lambda p: p.write_text(GOOD.assign(label=[None] + [1] * 39).to_csv(index=False)),
    "no target column": lambda p: p.write_text(GOOD.drop(columns="label").to_csv(index=False)),
    "target only": lambda p: p.write_text(GOOD[["label"]].to_csv(index=False)),
    "free-text feature": lambda p: p.write_text(GOOD.assign(a=[f"t{i}" for i in range(40)]).to_csv(index=False)),
}


@pytest.mark.parametrize("case", sorted(BROKEN_TABLES))
def test_broken_csv_files_are_rejected_naming_the_file(tmp_path, case):
    path = tmp_path / "data.csv"
    BROKEN_TABLES[case](path)
    with pytest.raises(SuiteError) as info:
        parse(_file_suite(path), "s.toml")
    assert str(path) in str(info.value)


def test_truncated_parquet_is_rejected(tmp_path):
    path = tmp_path / "data.parquet"
    GOOD.to_parquet(path)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(SuiteError, match="cannot be read"):
        parse(_file_suite(path), "s.toml")


def test_constant_regression_target_is_rejected(tmp_path):
    path = _csv(tmp_path, GOOD.assign(label=2.5))
    with pytest.raises(SuiteError, match="constant"):
        parse(_file_suite(path, task="regression"), "s.toml")


rng = np.random.default_rng(0)
BROKEN_ARRAYS = {
    "lengths differ": (dict(X=rng.random((10, 8, 8)), y=np.arange(9) % 2), "10 samples but y has 9"),
    "flat images": (dict(X=rng.random((10, 64)), y=np.arange(10) % 2), "dimensions"),
    "no y": (dict(X=rng.random((10, 8, 8))), "needs arrays named X and y"),
    "nan pixels": (dict(X=np.full((10, 8, 8), np.nan), y=np.arange(10) % 2), "NaN"),
    "2-d labels": (dict(X=rng.random((10, 8, 8)), y=np.zeros((10, 2))), "one-dimensional"),
    "text pixels": (dict(X=np.array([["a"] * 8] * 10).reshape(10, 8, 1)[:, :, 0:1].repeat(8, 2), y=np.arange(10) % 2), "numeric"),
    "one class": (dict(X=rng.random((10, 8, 8)), y=np.zeros(10)), "single class"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_ARRAYS))
def test_mismatched_image_arrays_are_rejected(tmp_path, case):
    arrays, expected = BROKEN_ARRAYS[case]
    path = tmp_path / "images.npz"
    np.savez(path, **arrays)
    with pytest.raises(SuiteError, match=expected):
        parse(_file_suite(path, dataset="image_arrays"), "s.toml")


def test_sequence_arrays_load_and_mismatches_are_rejected(tmp_path):
    path = tmp_path / "seq.npz"
    np.savez(path, X=rng.random((30, 20, 2)), y=rng.random(30))
    data = load("sequence_arrays", {"path": str(path), "task": "regression"})
    assert data.sample_shape == (20, 2) and data.X.shape == (30, 40)
    np.savez(path, X=rng.random((30, 20, 2, 2)), y=rng.random(30))
    with pytest.raises(DataError, match="sequence data needs 2 or 3"):
        load("sequence_arrays", {"path": str(path), "task": "regression"})
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(SuiteError, match="not a readable .npz"):
        parse(_file_suite(path, dataset="sequence_arrays", task="regression"), "s.toml")
