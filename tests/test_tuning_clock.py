"""The search's time backstop counts the clock it is given (a cell limited on CPU seconds per
thread passes that one), not wall time: a busy machine does not cut the trial count."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from bench.tuning import Budget, search


def _parts():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] > 0).astype(int)
    return X[:60], y[:60], X[60:], y[60:]


class _Ticking(LogisticRegression):
    """Each fit advances the fake clock by `tick` seconds."""

    clock = {"now": 0.0}

    def __init__(self, C: float = 1.0, tick: float = 1.0):
        super().__init__(C=C)
        self.tick = tick

    def fit(self, X, y):
        _Ticking.clock["now"] += self.tick
        return super().fit(X, y)


def _run(tick: float, time_s: float, clock):
    _Ticking.clock["now"] = 0.0
    return search(lambda p: _Ticking(tick=tick, **p), {"C": [0.01, 0.1, 1.0, 10.0]}, _parts(), "classification",
                  Budget(trials=4, time_s=time_s), seed=0, clock=clock)


def test_the_backstop_counts_the_given_clock():
    ticks = lambda: _Ticking.clock["now"]  # noqa: E731
    # Four trials of one second each on the given clock: a 10-second backstop lets all four run
    # (wall time, a few milliseconds here, plays no part) ...
    full = _run(1.0, 10.0, ticks)
    assert len(full.trials) == 4 and not full.capped
    # ... and a 2.5-second one stops the search before a trial that would end past it.
    cut = _run(1.0, 2.5, ticks)
    assert len(cut.trials) == 2 and cut.capped


def test_without_a_clock_the_backstop_counts_wall_time():
    # Fake ticks of 100 s are not wall time: the default clock lets every trial run.
    got = _run(100.0, 10.0, None)
    assert len(got.trials) == 4 and not got.capped


@pytest.mark.parametrize("limit", ["cpu", "wall"])
def test_a_cell_s_search_counts_the_clock_its_suite_limits(limit, monkeypatch):
    # A suite with limit = "cpu" gives the search the CPU clock per thread; "wall" the default.
    from bench.execution import cell as cellmod
    from bench.execution import selection
    from bench.execution.prepare import prepare
    from bench.models import ModelContext
    from bench.suite import parse, plan

    seen = {}

    def recording(*args, clock=None, **kwargs):
        seen["clock"] = clock
        raise RuntimeError("recorded")

    monkeypatch.setattr(cellmod, "search", recording)
    monkeypatch.setattr(selection, "cpu_clock", lambda threads: ("cpu per thread", threads))
    text = f"""
[suite]
seeds = [0]
train_sizes = [120]
threads = 1
limit = "{limit}"
[suite.tuning]
trials = 2
time_s = 5
[datasets.breast_cancer]
[models.logistic_regression]
"""
    cells, _ = plan(parse(text, "clock.toml"))
    tuned = next(c for c in cells if c.tuning == "tuned")
    split = prepare(tuned)
    ctx = ModelContext(task="classification", modality="tabular", seed=0, threads=1,
                       n_features=split.X_train.shape[1], n_classes=split.n_classes)
    with pytest.raises(RuntimeError, match="recorded"):
        cellmod.choose(tuned, ctx, split)  # in this process (measure_cell forks a tuned search)
    assert seen["clock"] == (("cpu per thread", 1) if limit == "cpu" else None)
