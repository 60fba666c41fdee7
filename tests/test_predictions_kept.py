"""Each cell's test predictions are kept in the run folder (bench/predictions.py): the test labels
once per split, the predictions per cell, never in rows.jsonl; `bench.results.predictions_of`
reads them back for a row of the results table, and gives None where there are none."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from bench import predictions as kept
from bench import results
from bench.execution import runner
from bench.execution.scoring import r2
from bench.results import predictions_of
from bench.suite import parse

SUITE = """
[suite]
name = "kept"
seeds = [0]
train_sizes = [60, 80]
threads = 1
time_limit_s = 30
[datasets.breast_cancer]
[datasets.diabetes]
[models.knn]
[models.decision_tree]
[models.raise]
model = "test_fail"
how = "raise"
"""


def _files(run_dir):
    folder = run_dir / kept.FOLDER
    return sorted(p.name for p in folder.glob("*.npy")), sorted(p.name for p in (folder / kept.LABELS).glob("*.npy"))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "kept"
    runner.run(parse(SUITE, "kept.toml"), out, progress=False)
    return out


def test_every_finished_cell_has_its_predictions_and_its_splits_labels(run):
    df = results.load(run)
    ok = df[df["status"] == "ok"]
    cells, labels = _files(run)
    assert len(ok) == 8 and len(cells) == 8  # 2 datasets x 2 sizes x 2 models; the failing model keeps none
    assert len(labels) == 4  # one per dataset and size (one seed): shared by the models
    for _, row in df.iterrows():
        got = predictions_of(run, row)
        if row["status"] != "ok":
            assert got is None
            continue
        y, pred = got
        assert len(y) == len(pred) == row["n_test"]
        if row["task"] == "classification":
            assert y.dtype == pred.dtype == np.int8  # two classes: the smallest integer type
            assert float(np.mean(y == pred)) == row["accuracy"]  # the row's score, recomputed from the folder
        else:
            assert (y.dtype, pred.dtype) == (np.float64, np.float32)
            assert r2(y, pred.astype(np.float64)) == pytest.approx(row["r2"], abs=1e-6)


def test_the_rows_never_hold_the_arrays(run):
    text = (run / results.ROWS_FILE).read_text()
    assert kept.PREDICTIONS_KEY not in text and kept.TEST_LABELS_KEY not in text
    assert not [c for c in results.load(run).columns if c.startswith("_")]


def test_a_resume_neither_loses_nor_duplicates_them(run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    (copy / "results.parquet").unlink()
    (copy / "results.csv").unlink()
    rows = (copy / results.ROWS_FILE).read_text().splitlines(keepends=True)
    dropped = [r for r in rows if '"status": "ok"' in r][-2:]
    (copy / results.ROWS_FILE).write_text("".join(r for r in rows if r not in dropped))  # killed before recording
    before = _files(copy)
    runner.run(parse(SUITE, "kept.toml"), copy, resume=True, progress=False)
    assert _files(copy) == before == _files(run)
    df = results.load(copy)
    assert all(predictions_of(copy, row) is not None for _, row in df[df["status"] == "ok"].iterrows())


def test_a_folder_without_them_or_with_a_broken_file_gives_none(run, tmp_path):
    df = results.load(run)
    row = df[df["status"] == "ok"].iloc[0]
    assert predictions_of(tmp_path, row) is None  # a folder from before predictions were kept
    assert predictions_of(run, row.drop("key")) is None  # a row without a cell key
    broken = tmp_path / "broken"
    (broken / kept.FOLDER / kept.LABELS).mkdir(parents=True)
    labels = broken / kept.FOLDER / kept.LABELS / f"{kept.split_key(row)}.npy"
    cell = broken / kept.FOLDER / f"{kept.cell_key(row)}.npy"
    np.save(labels, np.zeros(int(row["n_test"]), dtype=np.int8))
    cell.write_bytes(b"\x93NUMPY not really")  # torn or foreign
    assert predictions_of(broken, row) is None
    np.save(cell, np.zeros(3, dtype=np.int8))  # another length than the labels
    assert predictions_of(broken, row) is None
    cell.unlink()
    os.mkfifo(cell)  # would block a plain read
    assert predictions_of(broken, row) is None
    cell.unlink()
    np.save(cell, np.zeros(int(row["n_test"]), dtype=np.int8))
    assert predictions_of(broken, row) is not None


def test_a_row_from_a_remote_worker_keeps_them_and_odd_keys_make_safe_names(tmp_path):
    row = {"dataset": "d/../x", "dataset_name": "d", "dataset_params": '{"path": "../../etc"}', "n_train": 10,
           "n_test": 4, "seed": 0, "key": "../../evil key\n", "task": "classification", "status": "ok",
           "model": "m", "modality": "tabular", "family": "classical", "threads": 1, "jobs": 1,
           kept.TEST_LABELS_KEY: np.array([0, 1, 300, 2]), kept.PREDICTIONS_KEY: np.array([0.0, 1.0, 300.0, 1.0])}
    row = pickle.loads(pickle.dumps(row))  # as a Dask worker's row arrives
    store = results.ResultsStore(tmp_path)
    try:
        store.append(row)
    finally:
        store.close()
    cells, labels = _files(tmp_path)
    assert len(cells) == len(labels) == 1 and all(len(n) == 36 for n in cells + labels)  # 32 hex digits + .npy
    y, pred = predictions_of(tmp_path, results.load(tmp_path).iloc[0])
    assert y.dtype == pred.dtype == np.int16  # 300 needs 16 bits; whole-number floats stored as labels
    assert y.tolist() == [0, 1, 300, 2] and pred.tolist() == [0, 1, 300, 1]
