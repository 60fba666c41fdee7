"""A report built from a run folder that kept its test predictions uses paired intervals, and one
that did not falls back to the scores, saying which (issue 23)."""

from __future__ import annotations

import numpy as np
import pytest
import synthetic

from bench import predictions
from bench.report import render

MODELS = {"lr": ("classical", "logistic_regression", "raw", {}), "mlp": ("deep", "mlp", "raw", {})}
DATASETS = {"img": ("image", "classification"), "tab": ("tabular", "classification")}
ACCURACY = {"lr": 0.80, "mlp": 0.86}
N_TEST = 300


def _table():
    # The larger size is large (10,000 training rows), so application scenarios judges the image data.
    df = synthetic.grid(lambda r: 0.8, datasets=DATASETS, models=MODELS, sizes=(64, 10_000))
    df = df.assign(n_test=N_TEST, dataset_params="{}")  # a run records its dataset's parameters
    arrays = {}
    for i, row in df.iterrows():
        rng = np.random.default_rng(int(row["seed"]) * 100 + int(row["n_train"]) + (0 if row["dataset"] == "img" else 7))
        y = rng.integers(0, 3, N_TEST)
        u = rng.random(N_TEST)  # one hardness per row, shared by the models: correlated predictions
        pred = np.where(u < ACCURACY[row["model"]], y, (y + 1) % 3)
        arrays[i] = (y, pred)
        acc = float((pred == y).mean())
        df.loc[i, ["score", "val_score", "accuracy"]] = acc
    return df, arrays


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    df, arrays = _table()
    kept, old = tmp_path_factory.mktemp("kept"), tmp_path_factory.mktemp("old")
    for folder in (kept, old):
        df.to_parquet(folder / "results.parquet", index=False)
    for i, row in df.iterrows():
        predictions.keep(kept, row.to_dict(), *arrays[i])
    return kept, old


def test_kept_predictions_make_the_report_s_intervals_paired(folders):
    kept, old = folders
    md_kept = render.build(kept).markdown.read_text()
    md_old = render.build(old).markdown.read_text()
    def section(md: str, title: str) -> str:
        return md.split(f"### {title}")[1].split("Rule (")[0]

    # Score differences read the kept predictions; train/test gaps have only scores (no train predictions).
    for title in ("Data requirement", "Application scenarios"):
        assert "by paired predictions" in section(md_kept, title) and "by scores only" not in section(md_kept, title)
    assert "by scores only (unpaired binomial" in md_old and "by paired predictions" not in md_old
    assert "Rule (version 2" in md_kept and "before any result was seen" in md_kept  # "first written before ..."
    assert "revised since, after the reference results were seen" in md_kept
