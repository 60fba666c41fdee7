"""`bench advise`'s deadline executor keeps the answer like for like (issue 28).

When a cell of the largest size fails (a timeout) or cannot finish within the budget, the next
size down runs next for both families, before other seeds, searches or the rest of the curve;
a model out of time at a size is not started again there or above; and the answer compares the
families at the largest size both finished on the same seeds. Fake models, a faked clock: no
cell is fitted and no wall time is measured."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bench.execution.deadline as deadline_module
from bench import results
from bench.advise.answer import compute, headline
from bench.advise.inspect import Profile, inspect
from bench.advise.suite_text import Protocol, suite_text
from bench.execution.deadline import DeadlineExecutor
from bench.models import MODELS
from bench.suite import parse, plan

SIZES = (40, 80, 160)
MODELS_ = ("logistic_regression", "knn", "mlp")  # two classical, one deep


def _family(cell) -> str:
    return MODELS[cell.model.name].family


@pytest.fixture
def cells(tmp_path):
    rng = np.random.default_rng(0)
    n = 260
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "y": rng.integers(0, 2, n)})
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    profile = inspect(str(path), "y")
    protocol = Protocol(name="t", models=MODELS_, sizes=SIZES, seeds=(0, 1, 2), features=("raw",), threads=1,
                        time_limit_s=30.0, trials=2, time_s=5.0)
    found, _ = plan(parse(suite_text(profile, protocol), "s.toml"))
    return found


class Fake:
    """An inner executor of fake models: each cell advances a faked clock by `seconds(cell)` and ends
    with `status(cell)`; it records the order it was given the cells in."""

    def __init__(self, clock, status=lambda c: "ok", seconds=lambda c: 1.0):
        self.clock, self.status, self.seconds, self.seen = clock, status, seconds, []

    def run(self, cells):
        for c in cells:
            self.seen.append(c)
            self.clock[0] += self.seconds(c)
            yield {"key": c.key, "status": self.status(c), "n_train": c.n_train}

    def close(self):
        pass


@pytest.fixture
def clock(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(deadline_module.time, "monotonic", lambda: now[0])
    return now


def _what(c) -> tuple:
    return (c.model.name, c.n_train, c.seed, c.tuning)


def test_a_failed_top_cell_brings_the_next_size_of_both_families_forward(cells, clock):
    # The deep family's only model times out at the largest size: deep has no 160-row cell on seed 0.
    fake = Fake(clock, status=lambda c: "timeout" if c.model.name == "mlp" and c.n_train == 160 else "ok")
    ex = DeadlineExecutor(fake, deadline=1e9, group=_family)
    rows = list(ex.run(cells))
    order = [_what(c) for c in fake.seen]
    first_fail = order.index(("mlp", 160, 0, "default"))
    after = order[first_fail + 1:]
    nxt = {("logistic_regression", 80, s, "default") for s in (0, 1)} | {("knn", 80, s, "default") for s in (0, 1)} \
        | {("mlp", 80, s, "default") for s in (0, 1)}
    # Right after the failure: 80 rows on the first two seeds, every model of both families.
    assert set(after[: len(nxt)]) == nxt
    assert ex.fallbacks == [80]
    # The model out of time is not started again at 160 rows (its other seeds, its search).
    assert not any(m == "mlp" and n == 160 for m, n, _, _ in after)
    assert ex.abandoned == sum(1 for c in cells if c.model.name == "mlp" and c.n_train == 160) - 1
    assert len(rows) == len(cells) - ex.abandoned and ex.not_started == 0


def test_a_top_cell_that_cannot_finish_in_the_budget_brings_the_next_size_forward(cells, clock):
    # Every cell takes 1 s; the deep model's cells at 160 rows are expected to take 500 s: past the deadline.
    fake = Fake(clock)
    estimate = lambda c: 500.0 if c.model.name == "mlp" and c.n_train == 160 else 1.0  # noqa: E731
    ex = DeadlineExecutor(fake, deadline=12.0, estimate=estimate, group=_family)
    list(ex.run(cells))
    order = [_what(c) for c in fake.seen]
    # Seed 0 at 160 rows for the classical models; the deep one is skipped, so 80 rows for all three on
    # seeds 0 and 1 come next, before seed 1 at 160, any search, seed 2 or 40 rows; the deadline ends
    # the run after 12 cells.
    assert set(order[:2]) == {(m, 160, 0, "default") for m in ("logistic_regression", "knn")}
    assert set(order[2:8]) == {(m, 80, s, "default") for m in MODELS_ for s in (0, 1)}
    assert ex.fallbacks == [80] and len(order) == 12
    assert ex.not_started == len(cells) - 12


def test_the_next_size_down_again_when_the_fallback_fails_too(cells, clock):
    fake = Fake(clock, status=lambda c: "timeout" if c.model.name == "mlp" and c.n_train >= 80 else "ok")
    ex = DeadlineExecutor(fake, deadline=1e9, group=_family)
    list(ex.run(cells))
    assert ex.fallbacks == [80, 40]
    order = [_what(c) for c in fake.seen]
    at80 = order.index(("mlp", 80, 0, "default"))
    # After the 80-row comparison is lost (mlp's first 80-row cell), 40 rows for both families come next.
    follow = order[at80 + 1: at80 + 7]
    assert {n for _, n, _, _ in follow} == {40} and {s for _, _, s, _ in follow} == {0, 1}


def test_a_failure_that_leaves_the_comparison_whole_changes_nothing(cells, clock):
    # knn fails at 160 rows, but logistic regression still speaks for the classical family there.
    fake = Fake(clock, status=lambda c: "error" if c.model.name == "knn" and c.n_train == 160 else "ok")
    ex = DeadlineExecutor(fake, deadline=1e9, group=_family)
    list(ex.run(cells))
    plain = Fake([0.0])
    list(DeadlineExecutor(plain, deadline=1e9).run(cells))
    assert ex.fallbacks == [] and ex.abandoned == 0  # an error, unlike a timeout, may be the seed's own
    assert [_what(c) for c in fake.seen] == [_what(c) for c in plain.seen]


# ------------------------------------------------------------------ the answer's size


def _rows(done) -> pd.DataFrame:
    """Results rows of xgboost (classical) and mlp (deep); `done(model, n, seed)` says which finished."""
    rows = []
    for family, model, score in (("classical", "xgboost", 0.80), ("deep", "mlp", 0.86)):
        for n in (100, 200, 400):
            for seed in range(3):
                ok = done(model, n, seed)
                s = score + 0.002 * seed
                rows.append({
                    "dataset": "d", "modality": "tabular", "task": "classification", "model": model, "family": family,
                    "features": "raw", "tuning": "default", "n_train": n, "n_test": 500, "seed": seed,
                    "status": "ok" if ok else "timeout", "info": None if ok else "stopped",
                    "score": s if ok else None, "val_score": s if ok else None, "balanced_accuracy": s,
                    "fit_time_s": 0.5, "search_time_s": 0.0, "predict_time_s": 0.01, "predict_latency_ms": 0.1,
                    "peak_memory_mb": 10.0, "model_bytes": 1000.0, "n_params": 100.0, "device": "cpu",
                    "model_tags": "boosting" if family == "classical" else "fully_connected",
                    "dataset_tags": "user_file", "hyperparams": "{}", "best_params": "{}", "model_name": model,
                    "dataset_name": "file", "params": "{}", "threads": 1, "jobs": 1,
                })
    return results.frame(rows)


def _profile() -> Profile:
    return Profile(source="d.csv", label="d", dataset="file", params={}, task="classification", modality="tabular",
                   n_rows=533, n_inputs=4, test_size=0.25, n_test=133, classes=(("a", 267), ("b", 266)))


def test_the_answer_rests_on_the_largest_size_both_families_ran_on_the_same_seeds():
    # The classical model timed out at 400 rows: the deep rows there compare with nothing.
    a = compute(_rows(lambda m, n, s: not (m == "xgboost" and n == 400)), _profile(), fallbacks=(200,))
    assert a.n_train == 200 and a.outcome == "deep" and a.diff.n_values == 3
    assert "At 200 training rows (of your 400: the largest size the budget ran for both families on the same seeds"\
        in headline(a, _profile())[0]
    assert any("brought 200 rows forward for both families" in c for c in a.caveats)


def test_two_common_seeds_at_a_smaller_size_outweigh_one_at_the_largest():
    # At 400 rows only seed 0 finished for the deep model: an interval needs the 200-row comparison.
    a = compute(_rows(lambda m, n, s: not (m == "mlp" and n == 400 and s > 0)), _profile())
    assert a.n_train == 200 and a.diff.n_values == 3
    # A plan of one seed throughout answers at its largest size, on that seed.
    one = compute(_rows(lambda m, n, s: s == 0), _profile())
    assert one.n_train == 400 and one.diff.n_values == 1


def test_a_tie_on_one_seed_gives_no_empty_interval():
    rows = _rows(lambda m, n, s: s == 0)
    rows.loc[rows["model"] == "mlp", "score"] = rows.loc[rows["model"] == "mlp", "score"] - 0.058
    a = compute(rows, _profile())
    assert a.outcome == "tie" and a.diff.n_values == 1
    text = headline(a, _profile())[0]
    assert "nan" not in text and "on one seed (no interval over seeds: a rough answer), neither family wins" in text
    assert "over its 500 test rows" in text  # the test rows give one seed an interval


def test_no_cell_runs_past_the_deadline_whatever_its_estimate(cells, clock):
    # Estimates say every cell fits; the executor cuts each cell's limit to the time left.
    fake = Fake(clock, seconds=lambda c: 4.0)
    ex = DeadlineExecutor(fake, deadline=10.0, estimate=lambda c: 1.0, group=_family)
    list(ex.run(cells))
    limits = [c.time_limit_s for c in fake.seen]
    assert limits == [10.0, 6.0, 2.0]  # 30 s planned; started at 0, 4 and 8 s
    assert all(c.time_limit_s == 30.0 for c in cells)  # the suite's own cells are left as they were


def test_the_headline_says_when_the_model_its_family_needs_did_not_finish():
    # Images: the CNN timed out at 400 rows, the MLP finished; deep is judged by the MLP there, and says so.
    rows = _rows(lambda m, n, s: True)
    cnn = rows[rows["model"] == "mlp"].assign(model="cnn", model_name="cnn", model_tags="convolutional")
    cnn.loc[cnn["n_train"] == 400, ["status", "score", "val_score"]] = ["timeout", None, None]
    rows = results.frame(pd.concat([rows, cnn]).to_dict("records")).assign(modality="image")
    profile = Profile(source="d.npz", label="d", dataset="image_arrays", params={}, task="classification",
                      modality="image", n_rows=533, n_inputs=64, test_size=0.25, n_test=133,
                      classes=(("a", 267), ("b", 266)), sample_shape=(8, 8))
    a = compute(rows, profile)
    assert a.n_train == 400 and a.best["deep"].config == "mlp"
    text = headline(a, profile)[0]
    assert "deep by mlp" in text and "cnn (did not finish at 400 rows: timeout)" in text


def test_a_few_test_rows_give_a_wide_interval_not_a_zero_width_one():
    # Three seeds with the same scores on 22 test rows (as advise on ItalyPowerDemand's 89-row file):
    # seeds alone would say +0.000 [+0.000, +0.000]; the test rows say how little 22 rows tell.
    rows = _rows(lambda m, n, s: True)
    rows["n_test"] = 22
    rows.loc[rows["model"] == "mlp", "score"] = rows.loc[rows["model"] == "xgboost", "score"].to_numpy()
    a = compute(rows, _profile())
    assert a.outcome == "tie" and a.diff.hi - a.diff.lo > 0.1 and a.n_test == 22


def test_a_stage_of_the_budget_cuts_its_cells_at_the_budgets_end_not_its_own(cells, clock):
    # The pilot: no cell starts after its share (10 s), but one started may run to its own limit
    # within the whole budget (100 s).
    fake = Fake(clock, seconds=lambda c: 4.0)
    ex = DeadlineExecutor(fake, deadline=10.0, smallest_first=True, stop_at=100.0)
    list(ex.run(cells))
    assert [c.time_limit_s for c in fake.seen] == [30.0, 30.0, 30.0]
