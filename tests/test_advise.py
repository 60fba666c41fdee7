"""`bench advise`: a user's data in, a planned suite run within a budget, a plain answer out.

Bad input is one line and exit code 2 with nothing written; the data is described as found;
the plan fits the budget and says what the budget cost; the answer's numbers follow from
the rows (winner, interval, crossover); one real run end to end on a small file."""

from __future__ import annotations

import json
import math
import re
import time

import numpy as np
import pandas as pd
import pytest
from waiting import scaled

from bench import results
from bench.__main__ import main
from bench.advise import cell_threads, parse_budget
from bench.advise.answer import compute, headline, terminal_lines
from bench.advise.costs import Cost, costs_from_pilot
from bench.advise.curves import CROSSOVER_HORIZON
from bench.advise.html import page
from bench.advise.inspect import check_enough_rows, detect_task, inspect, min_size, size_ladder
from bench.advise.pilot import candidates, group_of, pilot_rows
from bench.advise.plan import PROTOCOLS, make_plan
from bench.advise.suite_text import suite_text
from bench.errors import RunError
from bench.execution.deadline import DeadlineExecutor
from bench.models import MODELS, ModelEntry
from bench.suite import parse, plan


def _wild(n=200, seed=0) -> pd.DataFrame:
    """A table as found in the wild: odd headers, text labels, categories, blanks, an ID, a constant, free text."""
    rng = np.random.default_rng(seed)
    plan_type = rng.choice(["basic", "premium", "family"], n)
    tenure = rng.integers(1, 60, n).astype(float)
    label = np.where((plan_type == "basic") ^ (tenure > 30), "left", "stayed")
    frame = pd.DataFrame({
        "Customer ID": [f"C{i:04d}" for i in range(n)],
        "Tenure (months)": tenure,
        "Charge $/mo": rng.normal(50, 10, n).round(2),
        "Plan type": plan_type,
        "Region/Zone": rng.choice(["north", "south"], n),
        "Country": "NL",
        "Note": [f"called about {w} #{i}" for i, w in enumerate(rng.choice(["price", "line"], n))],
        "Churn?": label,
    })
    for col in ("Tenure (months)", "Charge $/mo", "Region/Zone"):
        frame.loc[rng.random(n) < 0.05, col] = np.nan
    return frame


@pytest.fixture
def wild_csv(tmp_path):
    path = tmp_path / "customers data.csv"
    _wild().to_csv(path, index=False)
    return path


# ------------------------------------------------------------------ bad input: one line, exit 2, nothing written


def _refused(capsys, argv, out) -> str:
    assert main(["advise", *argv, "--out", str(out), "--no-progress"]) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert not out.exists()
    return lines[0]


def test_an_unreadable_file_is_refused_in_one_line(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b\n\xff\xfe,1\n")
    assert "not UTF-8" in _refused(capsys, [str(path), "--target", "b"], tmp_path / "out")


def test_a_missing_file_is_refused(tmp_path, capsys):
    assert "no such file" in _refused(capsys, [str(tmp_path / "nope.csv"), "--target", "y"], tmp_path / "out")


def test_an_unknown_target_is_refused_naming_the_columns(wild_csv, tmp_path, capsys):
    line = _refused(capsys, [str(wild_csv), "--target", "churn"], tmp_path / "out")
    assert "no target column 'churn'" in line and "Churn?" in line


def test_a_table_without_target_asks_for_one(wild_csv, tmp_path, capsys):
    assert "--target COLUMN" in _refused(capsys, [str(wild_csv)], tmp_path / "out")


def test_a_one_class_target_is_refused(tmp_path, capsys):
    path = tmp_path / "one.csv"
    _wild().assign(**{"Churn?": "stayed"}).to_csv(path, index=False)
    assert "single class" in _refused(capsys, [str(path), "--target", "Churn?"], tmp_path / "out")


def test_too_few_rows_for_any_comparison_are_refused(tmp_path, capsys):
    path = tmp_path / "small.csv"
    _wild(n=20).to_csv(path, index=False)
    line = _refused(capsys, [str(path), "--target", "Churn?"], tmp_path / "out")
    assert "15 training rows" in line and "a comparison needs at least 20" in line


def test_a_file_too_small_for_two_doublings_is_compared_at_the_sizes_it_has(tmp_path):
    # ArrowHead's case (48 series, 36 training rows): refused before, though one comparison fits.
    path = tmp_path / "small.csv"
    _wild(n=40).to_csv(path, index=False)
    p = inspect(str(path), "Churn?")
    assert p.n_pool == 30 and min_size(p) == 20
    check_enough_rows(p)  # no error
    sizes = size_ladder(p, 3)
    assert sizes[0] == 20 and sizes[-1] == 30 and size_ladder(p, 3, top=20) == [20]


def test_a_configuration_chosen_by_cross_validation_is_not_called_chosen_on_test_scores():
    from types import SimpleNamespace

    from bench.advise.caveats import caveats

    best = {g: SimpleNamespace(chosen_on=on, costs={"device": "cpu"}, config=g, mean=0.9)
            for g, on in (("classical", "cross-validation"), ("deep", "validation"))}
    p = inspect("wine")
    said = caveats(pd.DataFrame(), pd.DataFrame(), p, best, {}, None, 0, 3)
    assert not any("test scores" in c for c in said)
    best["deep"].chosen_on = "test"
    assert any("test scores" in c for c in caveats(pd.DataFrame(), pd.DataFrame(), p, best, {}, None, 0, 3))


def test_a_column_with_every_cell_blank_is_refused(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    _wild().assign(Empty=np.nan).to_csv(path, index=False)
    assert "every cell blank: 'Empty'" in _refused(capsys, [str(path), "--target", "Churn?"], tmp_path / "out")


def test_a_budget_too_small_for_one_cell_is_refused_before_anything_runs(wild_csv, tmp_path, capsys):
    line = _refused(capsys, [str(wild_csv), "--target", "Churn?", "--budget", "5s"], tmp_path / "out")
    assert "too small for even one cell" in line


def test_an_unreadable_budget_is_refused(wild_csv, tmp_path, capsys):
    assert "--budget" in _refused(capsys, [str(wild_csv), "--target", "Churn?", "--budget", "ten"], tmp_path / "out")


def test_a_models_list_without_a_deep_model_is_refused(wild_csv, tmp_path, capsys):
    line = _refused(capsys, [str(wild_csv), "--target", "Churn?", "--models", "xgboost"], tmp_path / "out")
    assert "no deep model" in line


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("10m", 600), ("1.5h", 5400), ("1h30m", 5400)])
def test_budgets_read_as_wall_time(text, seconds):
    assert parse_budget(text) == seconds


# ------------------------------------------------------------------ inspection


def test_a_wild_table_is_described_and_its_unusable_columns_dropped(wild_csv):
    p = inspect(str(wild_csv), "Churn?")
    assert (p.task, p.modality, p.n_rows) == ("classification", "tabular", 200)
    dropped = dict(p.dropped)
    assert "ID-like" in dropped["Customer ID"] and "constant" in dropped["Country"] and "free text" in dropped["Note"]
    assert set(p.missing) == {"Tenure (months)", "Charge $/mo", "Region/Zone"}
    assert p.params["missing"] == "impute" and sorted(p.params["drop"]) == ["Country", "Customer ID", "Note"]
    text = "\n".join(p.lines())
    for said in ("missing values in 3 columns", "one-hot encoded", "classes: 2", "dropped 'Country'", "test part: 50 rows"):
        assert said in text
    # The suite it writes loads the file with the blanks imputed inside each cell.
    suite = parse(suite_text(p, _protocol(p)), "s.toml")
    assert suite.datasets[0].params["missing"] == "impute"


def test_the_task_is_detected_from_the_target_and_can_be_overridden(wild_csv):
    assert detect_task(pd.Series(["a", "b"]))[0] == "classification"
    assert detect_task(pd.Series([1, 2, 3] * 10))[0] == "classification"
    assert detect_task(pd.Series(np.linspace(0, 1, 50)))[0] == "regression"
    assert detect_task(pd.Series(np.arange(100)))[0] == "regression"
    frame = _wild().assign(score=np.arange(200) % 3)
    path = wild_csv.with_name("ints.csv")
    frame.to_csv(path, index=False)
    assert inspect(str(path), "score").task == "classification"
    assert inspect(str(path), "score", task="regression").task == "regression"


@pytest.mark.parametrize(("shape", "modality"), [((60, 16, 16), "image"), ((60, 3, 16, 16), "image"),
                                                 ((60, 100, 3), "sequence"), ((60, 40), "sequence")])
def test_an_npz_is_read_as_images_or_sequences_by_its_shape(tmp_path, shape, modality):
    path = tmp_path / "x.npz"
    rng = np.random.default_rng(0)
    np.savez(path, X=rng.normal(size=shape).astype(np.float32), y=np.arange(shape[0]) % 3)
    p = inspect(str(path))
    assert (p.modality, p.task, p.n_classes, p.sample_shape) == (modality, "classification", 3, shape[1:])
    assert p.dataset == f"{modality}_arrays"


def test_the_modality_of_an_npz_can_be_overridden(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, X=np.zeros((60, 16, 16), np.float32) + np.arange(60)[:, None, None], y=np.arange(60) % 2)
    assert inspect(str(path), modality="sequence").modality == "sequence"


def test_a_registered_dataset_is_inspected_by_name():
    p = inspect("wine")
    assert (p.dataset, p.task, p.n_classes, p.n_rows) == ("wine", "classification", 3, 178)


def test_learning_curve_sizes_rise_to_the_whole_training_part(wild_csv):
    p = inspect(str(wild_csv), "Churn?")
    for k in (2, 3, 5):
        sizes = size_ladder(p, k)
        assert sizes == sorted(set(sizes)) and sizes[-1] == p.n_pool and sizes[0] >= min_size(p)
    check_enough_rows(p)


# ------------------------------------------------------------------ planning


def _protocol(p, **kw):
    from bench.advise.suite_text import Protocol

    fields = dict(name="t", models=("logistic_regression", "mlp"), sizes=(40, 150), seeds=(0,), features=("raw",),
                  threads=1, time_limit_s=30.0)
    return Protocol(**{**fields, **kw})


def _costs(per_cell: dict[str, float], exponent=1.0, n=100) -> dict:
    """Costs whose default cell takes `per_cell[model]` seconds at `n` rows, half of it growing with n."""
    return {(m, "raw"): Cost(m, "raw", s / 2, 0.0, (s / 2) / n**exponent, exponent, 0.4, 0.4) for m, s in per_cell.items()}


def test_a_generous_budget_gets_the_most_thorough_protocol(wild_csv):
    p = inspect(str(wild_csv), "Churn?")
    plan_ = make_plan(p, _costs({"logistic_regression": 0.1, "mlp": 0.2}), 3600, name="t", threads=1)
    seeds, n_sizes, trials, _ = PROTOCOLS[0]
    proto = plan_.protocol
    assert (len(proto.seeds), len(proto.sizes), proto.trials) == (seeds, n_sizes, trials)
    assert plan_.estimate_s <= 3600 and not plan_.reductions


def test_a_tight_budget_reduces_the_protocol_and_says_so(wild_csv):
    p = inspect(str(wild_csv), "Churn?")
    costs = _costs({"logistic_regression": 0.5, "mlp": 2.0})
    plan_ = make_plan(p, costs, 40, name="t", threads=1)
    assert plan_.estimate_s <= 40
    assert plan_.reductions and "a larger --budget gives more" in plan_.reductions[0]
    # The estimate is the sum of its cells' estimates.
    assert math.isclose(plan_.estimate_s, sum(c.estimate_s for c in plan_.cells))


def test_the_plan_the_suite_runs_is_the_plan_estimated(wild_csv):
    p = inspect(str(wild_csv), "Churn?")
    plan_ = make_plan(p, _costs({"logistic_regression": 0.5, "mlp": 2.0}), 200, name="t", threads=1)
    suite = parse(suite_text(p, plan_.protocol), "s.toml")
    cells, _ = plan(suite)
    assert len(cells) == len(plan_.cells)
    assert {c.tuning for c in cells} == ({"default", "tuned"} if plan_.protocol.trials else {"default"})
    # One search budget for every model: the suite has one [suite.tuning] table, no per-model budget.
    assert suite.tuning.budget.trials == plan_.protocol.trials


def test_a_model_too_slow_for_the_budget_is_left_out_with_its_reason(wild_csv):
    p = inspect(str(wild_csv), "Churn?")
    costs = _costs({"logistic_regression": 0.1, "svm": 0.1, "mlp": 0.2})
    costs[("svm", "raw")] = Cost("svm", "raw", 0.05, 0.0, 100.0 / p.n_pool**2, 2.0, 0.4, 0.4)  # 100 s at full size
    plan_ = make_plan(p, costs, 120, name="t", threads=1)
    assert "svm" not in plan_.protocol.models and "svm" in plan_.dropped
    assert "more than a quarter" in plan_.dropped["svm"]


def test_the_network_images_need_is_kept_and_the_protocol_thinned_instead(tmp_path):
    path = tmp_path / "img.npz"
    rng = np.random.default_rng(0)
    np.savez(path, X=rng.normal(size=(400, 8, 8)).astype(np.float32), y=np.arange(400) % 2)
    p = inspect(str(path))
    costs = _costs({"logistic_regression": 0.2, "svm": 0.2, "mlp": 0.3, "cnn": 0.3})
    costs[("cnn", "raw")] = Cost("cnn", "raw", 0.5, 0.0, 8.0 / p.n_pool, 1.0, 0.4, 0.4)  # 8 s at the full size
    costs[("mlp", "raw")] = Cost("mlp", "raw", 0.5, 0.0, 8.0 / p.n_pool, 1.0, 0.4, 0.4)
    plan_ = make_plan(p, costs, 60, name="t", threads=1)
    assert "cnn" in plan_.protocol.models and "mlp" in plan_.dropped
    assert len(plan_.protocol.seeds) <= 3


def test_left_out_models_are_a_caveat_of_the_answer():
    df = _rows({"classical": lambda n: 0.80, "deep": lambda n: 0.85})
    a = compute(df, _profile(), left_out={"cnn": "too slow", "xgboost": "too slow"})
    assert a.caveats[0].startswith("left out to fit the budget") and "deep: cnn" in a.caveats[0]


def test_the_last_model_of_a_family_is_kept_or_the_budget_refused(wild_csv):
    p = inspect(str(wild_csv), "Churn?")
    with pytest.raises(RunError, match="too small for even the smallest comparison"):
        make_plan(p, _costs({"logistic_regression": 5.0, "mlp": 5.0}), 8, name="t", threads=1)


def test_a_budget_short_of_the_full_comparison_plans_the_smallest_honest_one_and_says_so(wild_csv):
    p = inspect(str(wild_csv), "Churn?")
    # 0.05 s a row: 7.6 s a cell at the full 150 rows; two seeds at two sizes of both models need about 39 s.
    costs = {(m, "raw"): Cost(m, "raw", 0.1, 0.0, 0.05, 1.0, 0.4, 0.4) for m in ("logistic_regression", "mlp")}
    full = make_plan(p, costs, 40, name="t", threads=1)
    assert (full.top, len(full.protocol.seeds)) == (150, 2) and "smallest honest" not in " ".join(full.lines(p))
    # Less: two seeds at a smaller top size first, then one seed, each said in the plan.
    smaller = make_plan(p, costs, 30, name="t", threads=1)
    assert (smaller.top, len(smaller.protocol.seeds)) == (75, 2) and smaller.estimate_s <= 30
    said = " ".join(smaller.lines(p))
    assert "the smallest honest comparison the budget allows: an answer at 75 of your 150 training rows" in said
    one = make_plan(p, costs, 20, name="t", threads=1)
    assert (one.top, len(one.protocol.seeds)) == (150, 1)
    assert "1 seed (no interval over seeds: a rough answer)" in " ".join(one.lines(p))
    assert set(one.protocol.models) == {"logistic_regression", "mlp"}


def _image_profile(tmp_path, n=8000):
    path = tmp_path / "img.npz"
    rng = np.random.default_rng(0)
    np.savez(path, X=rng.normal(size=(n, 8, 8)).astype(np.float32), y=np.arange(n) % 10)
    return inspect(str(path))


# Pilot validation scores as on 8,000 Fashion-MNIST images (issue 28): the strong classical models are the costly ones.
_FASHION = {"svm": (0.84, 60.0), "random_forest": (0.85, 20.0), "xgboost": (0.86, 90.0), "logistic_regression": (0.82, 4.0),
            "knn": (0.80, 2.0), "decision_tree": (0.75, 3.0), "mlp": (0.84, 20.0), "cnn": (0.89, 60.0)}


def _fashion(p):
    costs = {(m, "raw"): Cost(m, "raw", 1.0, 0.0, (s - 1.0) / p.n_pool, 1.0, 0.4, 0.4) for m, (_, s) in _FASHION.items()}
    scores = {m: {512: v} for m, (v, _) in _FASHION.items()}
    return costs, scores


def test_what_is_shed_to_fit_is_chosen_by_pilot_score_as_well_as_cost(tmp_path):
    p = _image_profile(tmp_path)
    costs, scores = _fashion(p)
    # By cost alone (no pilot scores) the three strongest classical models go first, as in issue 28.
    blind = make_plan(p, costs, 500, name="t", threads=1)
    assert {"random_forest", "svm", "xgboost"} <= set(blind.dropped)
    assert "among the most expensive" in blind.dropped["xgboost"]
    plan_ = make_plan(p, costs, 500, name="t", threads=1, scores=scores)
    kept = set(plan_.protocol.models)
    # Each family keeps its two best pilot performers (the protocol thins first); weak and costly go first.
    assert {"xgboost", "random_forest"} <= kept and {"cnn", "mlp"} <= kept
    assert "weaker for its cost (validation 0.840 in the pilot, xgboost 0.860)" in plan_.dropped["svm"]
    # svm outscored a classical model that ran: the answer must say whom classical was judged by.
    assert plan_.strong_left_out == {"svm": "validation 0.840 in the pilot"}
    assert plan_.estimate_s <= 500


def test_a_strong_model_left_out_is_named_in_the_headline(tmp_path):
    p = _image_profile(tmp_path)
    costs, scores = _fashion(p)
    costs[("xgboost", "raw")] = Cost("xgboost", "raw", 1.0, 0.0, 400.0 / p.n_pool, 1.0, 0.4, 0.4)
    plan_ = make_plan(p, costs, 700, name="t", threads=1, scores=scores)
    assert "xgboost" in plan_.dropped and "xgboost" in plan_.strong_left_out
    df = _rows({"classical": lambda n: 0.80, "deep": lambda n: 0.85})
    a = compute(df, _profile(), left_out=plan_.dropped, strong_left_out=plan_.strong_left_out)
    lines = headline(a, _profile())
    assert lines[0].startswith("At your data size (1,000 training rows) deep wins")
    assert "Judged by the models that ran (classical by xgboost; deep by mlp)" in lines[0]
    assert "xgboost (validation 0.860 in the pilot)" in lines[0]


def test_the_budget_is_judged_from_the_first_pilot_cells():
    from bench.advise.plan import judge_budget

    p = _profile(n_test=2000, n_rows=8000)
    slow = {("mlp", "raw"): Cost("mlp", "raw", 2.0, 0.0, 20.0 / 128, 1.0, 0.4, 0.4)}  # 20 s at 128 rows, growing
    said, need = judge_budget(p, slow, 120.0)
    assert said.startswith("the budget cannot answer on this data") and "mlp at" in said and need > 120.0
    assert judge_budget(p, slow, 3600.0) == ("", need)
    assert judge_budget(p, {}, 1.0) == ("", 0.0)  # nothing measured: nothing judged


def test_a_lazy_learners_fit_makes_no_training_ratio():
    from bench.advise.answer import ratio_text

    df = _rows({"classical": lambda n: 0.80, "deep": lambda n: 0.85})
    df.loc[df["family"] == "classical", ["model_tags", "fit_time_s", "predict_time_s"]] = ["neighbours", 0.004, 0.5]
    a = compute(df, _profile())
    text = ratio_text(a.best["classical"], a.best["deep"])
    assert "only stores the data" in text and "deep takes 4.0x classical's" in text
    said = " ".join(headline(a, _profile()))
    assert "500x" not in said and "the training time" not in said
    tiny = _rows({"classical": lambda n: 0.80, "deep": lambda n: 0.85})
    tiny["fit_time_s"] = 0.001
    b = compute(tiny, _profile())
    assert "too small to compare as a ratio" in ratio_text(b.best["classical"], b.best["deep"])


def test_a_noisy_curve_makes_no_trend_claim():
    # The newcomer's curve (issue 26): 0.702 -> 0.716 -> 0.707 -> 0.702 -> 0.751 beside a flat classical one.
    noisy = dict(zip((375, 750, 1500, 3000, 6000), (0.702, 0.716, 0.707, 0.702, 0.751), strict=True))
    df = _rows({"classical": lambda n: 0.745, "deep": lambda n: noisy[n]}, sizes=tuple(noisy), seeds=range(3))
    a = compute(df, _profile())
    text = a.crossover.text
    assert "should favour" not in text and "too noisy to say where more data leads" in text
    assert re.search(r"deep 0\.70\d -> 0\.71\d -> 0\.70\d -> 0\.(69|70)\d -> 0\.75\d", text), text
    assert not a.crossover.reliable


def test_one_seed_answers_roughly_and_says_so():
    df = _rows({"classical": lambda n: 0.80, "deep": lambda n: 0.85}, seeds=range(1))
    a = compute(df, _profile())
    assert a.outcome == "deep"
    assert "on one seed (no interval over seeds: a rough answer), deep leads" in headline(a, _profile())[0]


def test_an_answer_at_a_smaller_top_size_says_so():
    df = _rows({"classical": lambda n: 0.80, "deep": lambda n: 0.85})
    a = compute(df, _profile(n_rows=8000))
    assert "At 1,000 training rows (of your 6,000: the largest size the budget ran for both families" in headline(a, _profile())[0]


def test_a_failed_pilot_leaves_its_model_out(wild_csv):
    p = inspect(str(wild_csv), "Churn?")
    costs = _costs({"logistic_regression": 0.1, "knn": 0.1, "mlp": 0.2})
    costs[("knn", "raw")] = Cost("knn", "raw", 0, 0, 0, 1.0, 0, 0, "error", "ValueError: boom")
    plan_ = make_plan(p, costs, 600, name="t", threads=1)
    assert "knn" not in plan_.protocol.models and "ValueError: boom" in plan_.dropped["knn"]


def test_pilot_costs_split_fixed_and_growing_time_and_fit_both_sizes():
    rows = []
    for n, fit in ((100, 0.2), (800, 1.0)):
        rows.append({"model": "mlp", "features": "raw", "n_train": n, "status": "ok", "info": None,
                     "fit_time_s": fit, "search_time_s": fit, "predict_time_s": 0.0,
                     "cell_time_s": 2 * fit + 0.5, "startup_s": 0.1})
    rows.append({"model": "knn", "features": "raw", "n_train": 100, "status": "ok", "info": None,
                 "fit_time_s": 0.01, "search_time_s": 0.01, "predict_time_s": 0.0,
                 "cell_time_s": 0.52, "startup_s": 9.0})  # the worker server's start: once per command
    costs, per_run = costs_from_pilot(pd.DataFrame(rows), wall_s=20.0)
    mlp = costs[("mlp", "raw")]
    assert math.isclose(mlp.grow_s(100), 0.4, rel_tol=1e-6) and math.isclose(mlp.grow_s(800), 2.0, rel_tol=1e-6)
    assert mlp.fixed_s == pytest.approx(0.5 + 0.1 + 0.1)
    assert costs[("knn", "raw")].fixed_s < 1.0  # not billed the server's start
    assert per_run > 0


def test_a_pilot_cell_stopped_at_its_limit_counts_as_at_least_that_long():
    rows = [
        {"model": "xgboost", "features": "raw", "n_train": 100, "status": "ok", "info": None, "fit_time_s": 1.0,
         "search_time_s": 1.0, "predict_time_s": 0.0, "cell_time_s": 2.5, "startup_s": 0.0},
        {"model": "xgboost", "features": "raw", "n_train": 400, "status": "timeout", "info": "stopped", "fit_time_s": None,
         "search_time_s": None, "predict_time_s": None, "cell_time_s": 30.0, "startup_s": 0.0},
    ]
    cost = costs_from_pilot(pd.DataFrame(rows), wall_s=40.0)[0][("xgboost", "raw")]
    assert cost.status == "ok" and cost.default_s(400) >= 30.0
    assert cost.val_share == pytest.approx(0.5)


def test_pilot_sizes_are_two_unless_the_data_is_tiny(wild_csv, tmp_path):
    p = inspect(str(wild_csv), "Churn?")
    sizes = pilot_rows(p)
    assert all(min_size(p) <= n <= p.n_pool for n in sizes)
    big = tmp_path / "big.csv"
    _wild(n=4000).to_csv(big, index=False)
    n0, n1 = pilot_rows(inspect(str(big), "Churn?"))
    assert n1 >= 2 * n0


def test_cells_run_in_the_order_that_answers_first_and_none_starts_after_the_deadline(wild_csv):
    p = inspect(str(wild_csv), "Churn?")
    suite = parse(suite_text(p, _protocol(p, seeds=(0, 1), trials=2, time_s=5.0, sizes=(40, 150))), "s.toml")
    cells, _ = plan(suite)

    class Inner:
        def __init__(self):
            self.seen = []

        def run(self, cells):
            for c in cells:
                self.seen.append(c)
                yield {"n_train": c.n_train}

        def close(self):
            pass

    inner = Inner()
    rows = list(DeadlineExecutor(inner, time.monotonic() + 60).run(cells))
    assert len(rows) == len(cells)
    order = [(c.n_train, c.tuning, c.seed) for c in inner.seen]
    n_models = len(suite.models)
    # The full-size comparison on two seeds, then seed 0's curve, then the searches, then seed 1's curve.
    assert set(order[: 2 * n_models]) == {(150, "default", s) for s in (0, 1)}
    assert order[2 * n_models] == (40, "default", 0)
    first_search = next(i for i, (_, t, _) in enumerate(order) if t == "tuned")
    assert first_search > order.index((40, "default", 0)) and order[-1] == (40, "default", 1)
    late = DeadlineExecutor(Inner(), time.monotonic() - 1)
    assert list(late.run(cells)) == [] and late.not_started == len(cells)
    # A cell expected to end after the deadline is skipped; cheaper ones after it still run.
    inner = Inner()
    tight = DeadlineExecutor(inner, time.monotonic() + 30, estimate=lambda c: 100.0 if c.n_train == 150 else 1.0)
    list(tight.run(cells))
    assert {c.n_train for c in inner.seen} == {40} and tight.not_started == sum(c.n_train == 150 for c in cells)


def test_the_deadline_holds_with_an_executor_that_reads_all_its_cells_first(monkeypatch, wild_csv):
    import bench.execution.deadline as deadline_module

    p = inspect(str(wild_csv), "Churn?")
    cells, _ = plan(parse(suite_text(p, _protocol(p, seeds=(0, 1, 2))), "s.toml"))
    clock = [0.0]
    monkeypatch.setattr(deadline_module.time, "monotonic", lambda: clock[0])

    class Greedy:
        ran = 0

        def run(self, cells):
            cells = list(cells)  # as LocalExecutor does, to start its servers first
            for c in cells:
                clock[0] += 10.0  # each cell takes 10 s
                Greedy.ran += 1
                yield {"n_train": c.n_train}

        def close(self):
            pass

    ex = DeadlineExecutor(Greedy(), deadline=25.0)
    rows = list(ex.run(cells))
    assert len(rows) == Greedy.ran == 3 and ex.not_started == len(cells) - 3


def test_cells_go_to_the_executor_as_many_at_once_as_it_runs(wild_csv):
    p = inspect(str(wild_csv), "Churn?")
    cells, _ = plan(parse(suite_text(p, _protocol(p, seeds=(0, 1, 2))), "s.toml"))

    class Pair:
        batches = []

        def layout(self):
            return 2, 2

        def run(self, cells):
            Pair.batches.append(len(list(cells)))
            return iter([])

        def close(self):
            pass

    list(DeadlineExecutor(Pair(), time.monotonic() + 60).run(cells))
    assert sum(Pair.batches) == len(cells) and set(Pair.batches[:-1]) == {2}


def test_models_tagged_hybrid_are_planned_as_their_own_group(monkeypatch, wild_csv):
    base = MODELS["logistic_regression"]
    entry = ModelEntry("fake_hybrid", base.fn, "classical", base.tasks, base.modalities, "", frozenset({"hybrid"}))
    monkeypatch.setitem(MODELS._entries, "fake_hybrid", entry)
    p = inspect(str(wild_csv), "Churn?")
    assert group_of("fake_hybrid") == "hybrid"
    names = candidates(p)
    assert "fake_hybrid" in names and {group_of(n) for n in names} == {"classical", "deep", "hybrid"}
    assert all("testing" not in MODELS[n].tags for n in names)


def test_a_busy_machine_gets_one_thread_per_cell():
    assert cell_threads(8, 1, load=0.5)[0] == 8
    threads, note = cell_threads(2, 1, load=8.0)
    assert threads == 1 and "busy" in note
    assert cell_threads(8, 2, load=0.0) == (4, "")
    # Busy only beyond the core count (issue 28: "busy (load 0.7 on 2 cores)" was said).
    assert cell_threads(2, 1, load=0.7) == (2, "") and cell_threads(2, 1, load=2.0) == (2, "")
    assert cell_threads(8, 1, load=9.0)[0] == 7


def test_library_warnings_of_the_cells_go_to_the_log_with_one_summary_line(tmp_path, capfd):
    import os
    import subprocess
    import sys

    from bench.advise.quiet import Quiet

    script = "import sys; [print('x.py:1: ConvergenceWarning: lbfgs failed to converge', file=sys.stderr) for _ in range(300)]"
    with Quiet() as quiet:
        for label in ("logistic_regression raw n=40 seed=0", "logistic_regression raw n=40 seed=1", "knn raw n=40 seed=0"):
            quiet.mark(label)
            if label.startswith("logistic"):
                subprocess.run([sys.executable, "-c", script], check=True)  # a worker: inherits fds 1 and 2
        os.write(1, b"a library's own print\n")
        said = quiet.summary()
        quiet.write(tmp_path / "advise.log")
    print("the answer")
    out, err = capfd.readouterr()
    assert "ConvergenceWarning" not in out + err and "a library's own print" not in out + err
    assert said == ["logistic_regression did not converge in 2 cells"]
    log = (tmp_path / "advise.log").read_text()
    assert log.count("ConvergenceWarning") == 600 and "--- cells: knn raw n=40 seed=0" in log
    assert "a library's own print" in log


# ------------------------------------------------------------------ the answer


def _rows(score_of, sizes=(125, 250, 500, 1000), seeds=range(5), n_test=2000, failed=()):
    """Results rows for a classical and a deep model whose mean score at n is `score_of[family](n)`."""
    rng = np.random.default_rng(1)
    rows = []
    for family, model, tags in (("classical", "xgboost", "boosting,tree"), ("deep", "mlp", "fully_connected")):
        for n in sizes:
            for seed in seeds:
                s = score_of[family](n) + rng.normal(0, 0.002)
                status = "error" if (model, n) in failed else "ok"
                rows.append({
                    "dataset": "d", "modality": "tabular", "task": "classification", "model": model, "family": family,
                    "features": "raw", "tuning": "default", "n_train": n, "n_test": n_test, "seed": seed,
                    "status": status, "info": "boom" if status != "ok" else None,
                    "score": s if status == "ok" else None, "val_score": s, "balanced_accuracy": s,
                    "fit_time_s": 0.1 if family == "classical" else 2.0, "search_time_s": 0.0,
                    "predict_time_s": 0.01, "predict_latency_ms": 0.1, "peak_memory_mb": 10.0,
                    "model_bytes": 1000.0, "n_params": 100.0, "device": "cpu", "model_tags": tags,
                    "dataset_tags": "user_file", "hyperparams": "{}", "best_params": "{}",
                    "model_name": model, "dataset_name": "file", "params": "{}", "threads": 1, "jobs": 1,
                })
    return results.frame(rows)


def _profile(n_test=2000, n_rows=3000):
    from bench.advise.inspect import Profile

    return Profile(source="d.csv", label="d", dataset="file", params={}, task="classification", modality="tabular",
                   n_rows=n_rows, n_inputs=4, test_size=0.25, n_test=n_test, classes=(("a", n_rows // 2), ("b", n_rows // 2)))


def test_a_clear_winner_is_named_with_its_interval():
    df = _rows({"classical": lambda n: 0.80, "deep": lambda n: 0.85})
    a = compute(df, _profile())
    assert a.outcome == "deep" and a.n_train == 1000
    assert 0.03 < a.diff.lo < 0.05 < a.diff.hi < 0.07  # the seeds and the 2,000 test rows counted
    text = " ".join(headline(a, _profile()))
    assert "deep wins" in text and "a lead of 0.050" in text


def test_a_difference_within_noise_is_a_tie():
    df = _rows({"classical": lambda n: 0.80, "deep": lambda n: 0.8005})
    a = compute(df, _profile())
    assert a.outcome == "tie" and "neither family wins" in " ".join(headline(a, _profile()))
    assert a.diff.lo < 0 < a.diff.hi and "is within the noise: it may favour either family" in headline(a, _profile())[0]


def test_a_lead_short_of_the_margin_is_no_win_but_is_not_called_noise():
    # The 15-minute Fashion-MNIST answer: +0.028 for deep, 95% interval +0.003 to +0.053. Above zero,
    # not clear of the 0.01 margin: no win, and the headline says who is ahead rather than "noise".
    df = _rows({"classical": lambda n: 0.80, "deep": lambda n: 0.816})
    a = compute(df, _profile())
    assert a.outcome == "tie" and 0 < a.diff.lo < 0.01 < a.diff.hi, a.diff
    text = headline(a, _profile())[0]
    assert "neither family wins by a clear margin, though deep is ahead" in text
    assert "perhaps by less than the 0.01 a win needs" in text and "noise" not in text


def test_a_steeper_trailing_curve_gives_a_crossover_near_the_power_laws_meeting():
    # Errors 0.1 (n/1000)^-0.1 and 0.2 (n/1000)^-0.5 meet where (n/1000)^0.4 = 2: n = 1000 * 2^2.5.
    df = _rows({"classical": lambda n: 1 - 0.1 * (n / 1000) ** -0.1, "deep": lambda n: 1 - 0.2 * (n / 1000) ** -0.5})
    a = compute(df, _profile())
    assert a.outcome == "classical"
    c = a.crossover
    assert (c.leader, c.trailer) == ("classical", "deep") and c.in_sight > 0.9
    assert c.median == pytest.approx(1000 * 2**2.5, rel=0.2)
    assert c.lo <= c.median <= c.hi
    assert "deep would catch up at about" in c.text


def test_parallel_curves_have_no_crossover_in_sight():
    df = _rows({"classical": lambda n: 1 - 0.1 * (n / 1000) ** -0.3, "deep": lambda n: 1 - 0.2 * (n / 1000) ** -0.3})
    a = compute(df, _profile())
    assert a.crossover.in_sight < 0.5 and "no crossover in sight" in a.crossover.text
    assert a.curves["deep"].per_doubling == pytest.approx(1 - 2**-0.3, abs=0.03)


def test_caveats_name_a_small_test_set_failed_cells_and_an_irregular_curve():
    wobble = {125: 0.70, 250: 0.80, 500: 0.70, 1000: 0.80}
    df = _rows({"classical": lambda n: 0.8, "deep": lambda n: wobble[n]}, n_test=120, failed={("mlp", 125)})
    a = compute(df, _profile(n_test=120, n_rows=500))
    text = "\n".join(a.caveats)
    assert "small test set: 120 rows" in text
    assert "failed cells: 5 of 40: mlp error x5 (at 125 rows)" in text
    assert "ill-behaved deep curve" in text and "falls from" in text
    assert a.crossover is not None and not a.crossover.reliable


def test_the_page_is_self_contained_with_figures_and_the_plan():
    df = _rows({"classical": lambda n: 1 - 0.1 * (n / 1000) ** -0.1, "deep": lambda n: 1 - 0.2 * (n / 1000) ** -0.5})
    a = compute(df, _profile())
    html = page(a, _profile(), plan_lines=["models: x"], timing=[["run", "10 s", "9 s"]], command="python -m bench advise d.csv",
                rerun="python -m bench run s.toml", report_ok=True)
    assert html.count("data:image/png;base64,") == 2
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert 'href="report.html"' in html and "models: x" in html
    lines = terminal_lines(a, _profile())
    assert lines[0] == "Answer" and any("Learning curves" in line for line in lines)
    json.dumps(a.to_json(), default=str)


def test_the_crossover_horizon_bounds_the_extrapolation():
    assert CROSSOVER_HORIZON >= 10


# ------------------------------------------------------------------ end to end


@pytest.mark.slow
def test_advise_runs_a_small_table_end_to_end_within_its_budget(wild_csv, tmp_path, capsys):
    out = tmp_path / "advice"
    # 90 s on a quiet machine; a busy one stretches the budget as it stretches every cell.
    budget = f"{math.ceil(scaled(90))}s"
    code = main(["advise", str(wild_csv), "--target", "Churn?", "--budget", budget,
                 "--models", "logistic_regression,mlp", "--out", str(out), "--no-progress"])
    text = capsys.readouterr().out
    assert code == 0, text
    for said in ("Data", "Pilot:", "Plan (", "Answer", "Time", "advice.html"):
        assert said in text
    # The answer is at the data's size, or (a busy machine stretching every cell past the budget)
    # at the largest size the budget ran for both families, which it then says.
    assert "At your data size (150 training rows)" in text or re.search(
        r"At [\d,]+ training rows \(of your 150: the largest size the budget ran for both", text), text
    assert "missing values in 3 columns" in text and "dropped 'Customer ID'" in text
    record = json.loads((out / "advice.json").read_text())
    assert set(record["answer"]["best"]) == {"classical", "deep"}
    assert record["time"]["run_estimate_s"] > 0 and record["time"]["run_s"] > 0
    assert record["time"]["not_started"] == 0 or "did not start" in text
    # The saved suite reruns what ran; its rows are in the folder; the page stands alone.
    suite = parse((out / "suite.toml").read_text(), str(out / "suite.toml"))
    cells, _ = plan(suite)
    assert len(results.read_rows(out)) == len(cells) - record["time"]["not_started"]
    assert "data:image/png;base64," in (out / "advice.html").read_text()
    assert list(out.glob("pilot/n*/results.parquet"))  # the pilot's readings, kept


def test_the_pilot_reads_each_familys_likely_strongest_first(tmp_path):
    from bench.advise.pilot import pilot_order

    p = _image_profile(tmp_path, n=400)
    order = pilot_order(candidates(p), p.modality)
    classical = [m for m in order if group_of(m) == "classical"]
    # On images the cheap strong ones (SVM, random forest, k-NN) before boosting, which grows a tree
    # per class per round; the linear models and the single tree last.
    assert classical.index("svm") < classical.index("random_forest") < classical.index("knn") \
        < classical.index("xgboost") < classical.index("decision_tree")
    deep = [m for m in order if group_of(m) == "deep"]
    assert deep.index("cnn") < deep.index("mlp")
    # On tables gradient boosting leads.
    table = pilot_order(["logistic_regression", "random_forest", "svm", "xgboost", "mlp"], "tabular")
    assert [m for m in table if group_of(m) == "classical"][:3] == ["xgboost", "random_forest", "svm"]
    assert order[:2] == [classical[0], next(m for m in order if group_of(m) == "deep")]  # the families take turns
    hybrids = [m for m in order if group_of(m) == "hybrid"]
    assert hybrids and order[-len(hybrids):] == hybrids  # the answer can do without them: last
    # The suite runs its cells in that order (smallest first, then the suite's model order).
    suite = parse(suite_text(p, _protocol(p, models=tuple(order), sizes=(40,))), "s.toml")
    cells, _ = plan(suite)
    assert [c.model.label for c in cells if c.features == "raw"][:3] == order[:3]


def test_a_model_too_slow_only_at_the_full_size_runs_in_a_smaller_comparison(wild_csv):
    p = inspect(str(wild_csv), "Churn?")
    costs = {(m, "raw"): Cost(m, "raw", 0.1, 0.0, 0.05, 1.0, 0.4, 0.4) for m in ("logistic_regression", "mlp")}
    costs[("svm", "raw")] = Cost("svm", "raw", 0.1, 0.0, 1.5 / 75**2, 2.0, 0.4, 0.4)  # 6 s at 150 rows, 1.5 s at 75
    plan_ = make_plan(p, costs, 30, name="t", threads=1)
    # At 150 rows one svm cell takes more than a quarter of the 27 s; at the plan's 75 rows it does not.
    assert plan_.top == 75 and "svm" in plan_.protocol.models and "svm" not in plan_.dropped


def test_pilot_strength_compares_models_read_at_different_sizes():
    from bench.advise.pilot import strength, strongest

    scores = {"logistic_regression": {128: 0.69, 512: 0.77}, "random_forest": {128: 0.77, 512: 0.80},
              "svm": {128: 0.62, 512: 0.79}, "xgboost": {128: 0.65}, "mlp": {128: 0.69, 512: 0.83}}
    s = strength(scores, scores)
    # xgboost ran at 128 rows only: its reading moves by the others' mean gain from 128 to 512 rows.
    assert s["xgboost"] == pytest.approx(0.65 + np.mean([0.08, 0.03, 0.17]))
    assert s["svm"] == 0.79 and strongest(scores, scores) == {"random_forest", "svm", "mlp"}
