"""The report's figures cannot mislead (issue 26): spreads on a log axis are the seeds' min–max,
learning curves draw each family's choice bold in the family's hue, and the critical-difference
diagrams are per modality, with the same ranks as the table beside them and what is left out named."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from synthetic import grid

from bench.report import plots, ranks
from bench.report.measurements import Measurements

MODELS = {
    "logistic_regression": ("classical", "logistic_regression", "raw", {}),
    "random_forest": ("classical", "random_forest", "raw", {}),
    "knn": ("classical", "knn", "raw", {}),
    "mlp": ("deep", "mlp", "raw", {}),
    "cnn": ("deep", "cnn", "raw", {}),
}
DATASETS = {f"tab{i}": ("tabular", "classification") for i in range(3)} | {"img0": ("image", "classification"),
                                                                          "img1": ("image", "classification")}
BASE = {"logistic_regression": 0.70, "random_forest": 0.85, "knn": 0.75, "mlp": 0.80, "cnn": 0.90}


def _score(row):
    # MLP fits spread from 0.4 s to 8 s over the seeds: a mean ± sd would reach below zero.
    fit = {0: 0.44, 1: 0.6, 2: 7.7}[row["seed"]] if row["model"] == "mlp" else 0.1
    return {"score": BASE[row["model"]] + 0.01 * row["seed"] + 0.001 * int(row["dataset"][-1]), "fit_time_s": fit}


@pytest.fixture(scope="module")
def ok():
    df = grid(_score, datasets=DATASETS, models=MODELS)
    # The CNN ran on no tabular dataset and KNN on only one image dataset: left out of those ranks.
    drop = ((df["model"] == "cnn") & (df["modality"] == "tabular")) | ((df["model"] == "knn") & (df["dataset"] == "img1"))
    return Measurements(df[~drop].reset_index(drop=True)).ok


def _capture(monkeypatch):
    figs = []
    monkeypatch.setattr(plots, "png", lambda fig: figs.append(fig) or b"")
    return figs


def test_score_vs_time_draws_the_seeds_min_to_max_never_below_the_fastest_fit(ok, monkeypatch):
    figs = _capture(monkeypatch)
    plots.score_vs_time(ok[ok["dataset"] == "tab0"], plots.Palette.of(ok))
    (fig,) = figs
    time_ax = fig.axes[1]
    assert time_ax.get_xscale() == "log"
    spans = [line.get_xdata() for line in time_ax.get_lines() if len(line.get_xdata()) == 2]
    assert spans and min(min(x) for x in spans) == pytest.approx(0.44)  # the fastest fit, not mean − sd
    assert max(max(x) for x in spans) == pytest.approx(7.7)
    # Each family's choice on validation is starred, as in the results table and the terminal summary.
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "◆ random_forest *" in labels or "random_forest *" in labels
    assert sum(label.endswith(" *") for label in labels) == 2
    plt.close("all")


def test_learning_curves_draw_each_familys_choice_bold_in_its_hue_and_the_rest_faded(ok, monkeypatch):
    figs = _capture(monkeypatch)
    plots.learning_curves(ok[ok["dataset"] == "img0"], plots.Palette.of(ok))
    (fig,) = figs
    lines = [ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) > 1]
    bold = [ln for ln in lines if ln.get_linewidth() > 2]
    faded = [ln for ln in lines if ln.get_linewidth() < 1]
    assert len(bold) == 2 and len(faded) == 3  # one choice per family, three others
    colors = {plots.matplotlib.colors.to_hex(ln.get_color()) for ln in bold}
    assert colors == {plots.FAMILY_COLORS["classical"], plots.FAMILY_COLORS["deep"]}
    assert all((ln.get_alpha() or 1) < 0.5 for ln in faded)
    legends = [a for a in fig.axes[0].get_children() if isinstance(a, plots.matplotlib.legend.Legend)]
    legend = [t.get_text() for leg in legends for t in leg.get_texts()]
    assert "random_forest (chosen)" in legend and "cnn (chosen)" in legend
    # Rings mark each family's choice at every size (3 sizes × 2 families).
    rings = [ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) == 1 and ln.get_markerfacecolor() == "none"]
    assert len(rings) == 6
    plt.close("all")


def test_ranks_per_modality_name_what_is_left_out_and_match_the_diagram(ok, monkeypatch):
    per = {mr.modality: mr for mr in ranks.modality_ranks(ok)}
    assert set(per) == {"tabular", "image"}
    tab = per["tabular"]
    assert "cnn" not in tab.scores.columns and tab.scores.shape == (3, 4)
    assert tab.ranks().index[0] == "random_forest" and tab.ranks()["random_forest"] == 1.0
    img = per["image"]
    assert "knn" in img.left_configs and "ran on 1 of the 2 datasets ranked: img0" in img.left_configs["knn"]
    assert "knn (ran on 1 of the 2" in img.left_out_text()
    figs = _capture(monkeypatch)
    drawn = plots.critical_difference(ok)
    assert [f.name for f in drawn] == ["critical-difference-tabular.png", "critical-difference-image.png"]
    assert "Left out: knn" in drawn[1].caption
    # The diagram's labels carry the table's ranks.
    labels = " ".join(t.get_text() for t in figs[0].texts + [t for ax in figs[0].axes for t in ax.texts])
    for config, r in tab.ranks().items():
        assert f"{config} ({r:.2f})" in labels or f"({r:.2f}) {config}" in labels
    # The title has a strip of its own, above the axes.
    title = [t for t in figs[0].texts if "average rank over" in t.get_text()]
    assert title and title[0].get_position()[1] > figs[0].axes[0].get_position().y1
    plt.close("all")


def test_a_dataset_that_would_shrink_every_block_is_left_out_with_its_reason():
    df = grid(_score, datasets={f"tab{i}": ("tabular", "classification") for i in range(3)}, models=MODELS)
    only_two = (df["dataset"] == "tab2") & ~df["model"].isin(["mlp", "random_forest"])
    mr = ranks.modality_ranks(Measurements(df[~only_two].reset_index(drop=True)).ok)[0]
    assert "tab2" in mr.left_datasets and "only 2 configurations ran" in mr.left_datasets["tab2"]
    assert mr.scores.shape == (2, 5) and np.isfinite(mr.scores.to_numpy()).all()
