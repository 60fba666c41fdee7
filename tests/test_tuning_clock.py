"""The search's time backstop counts the clock it is given (a cell limited on CPU seconds per
thread passes that one), not wall time: a busy machine does not cut the trial count."""

from __future__ import annotations

import numpy as np
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
