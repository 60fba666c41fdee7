"""Models that misbehave on purpose, to check the harness itself (a plugin: --plugin bench.models.testing).

Each is a tiny scikit-learn estimator that predicts the majority class (or the mean) and,
in `fit`, sleeps, allocates, raises, exits, hangs or crashes as its name says.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time

import numpy as np
from sklearn.base import BaseEstimator

from bench.datasets.core import Data, dataset
from bench.models.core import ModelContext, model


class _Constant(BaseEstimator):
    """Predicts the most frequent label (classification) or the mean (regression)."""

    def __init__(self, task: str = "classification"):
        self.task = task

    def _fit_constant(self, y):
        y = np.asarray(y)
        if self.task == "classification":
            self.classes_, counts = np.unique(y, return_counts=True)
            self.constant_ = self.classes_[np.argmax(counts)]
        else:
            self.constant_ = float(np.mean(y))
        return self

    def fit(self, X, y):
        return self._fit_constant(y)

    def predict(self, X):
        return np.full(len(X), self.constant_)

    def size_info(self) -> tuple[int, int, str]:
        """One learned number, the constant (bench.measure.model_size refuses estimators it cannot count)."""
        return 1, 1, "constants"


class Sleeper(_Constant):
    def __init__(self, task: str = "classification", seconds: float = 1.0):
        super().__init__(task)
        self.seconds = seconds

    def fit(self, X, y):
        time.sleep(self.seconds)
        return self._fit_constant(y)


_HELD: list = []


class Allocator(_Constant):
    """Touches `megabytes` of numpy memory during fit and frees it before returning."""

    def __init__(self, task: str = "classification", megabytes: float = 300.0, chunk_kb: float = 0.0):
        super().__init__(task)
        self.megabytes = megabytes
        self.chunk_kb = chunk_kb

    def fit(self, X, y):
        if self.chunk_kb:  # many small blocks, as a network's tensors and caches make them
            n = int(self.megabytes * 1024 / self.chunk_kb)
            blocks = [bytearray(int(self.chunk_kb * 1024)) for _ in range(n)]
            # A few stay alive (as a library's caches do), so the allocator cannot hand the freed
            # ones back to the system: a later fit in this process reuses them unseen.
            _HELD.extend(blocks[::256])
            self.checksum_ = float(len(blocks))
            del blocks
            return self._fit_constant(y)
        block = np.ones(int(self.megabytes * 2**20) // 8)
        self.checksum_ = float(block[::4096].sum())
        del block
        return self._fit_constant(y)


class Failer(_Constant):
    """Fails in fit in the way `how` says: raise, exit, hang, hang_ignoring_term, spin, segfault, sigkill."""

    def __init__(self, task: str = "classification", how: str = "raise"):
        super().__init__(task)
        self.how = how

    def fit(self, X, y):
        if self.how == "raise":
            raise RuntimeError("this model raises on purpose")
        if self.how == "exit":
            os._exit(3)
        if self.how in ("hang", "hang_ignoring_term"):
            if self.how == "hang_ignoring_term":
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:
                time.sleep(0.1)
        if self.how == "segfault":
            ctypes.string_at(0)
        if self.how == "spin":  # a CPU-bound hang
            while True:
                pass
        if self.how == "sigkill":  # as a user's `kill -9` or a scheduler would, with no memory pressure
            os.kill(os.getpid(), signal.SIGKILL)
        raise ValueError(f"unknown failure {self.how!r}")


@model("test_constant", family="classical", tags=("testing",))
def test_constant(ctx: ModelContext):
    """Predicts a constant; allocates nothing."""
    return _Constant(ctx.task)


@model("test_sleep", family="classical", tags=("testing",))
def test_sleep(ctx: ModelContext):
    """Sleeps `seconds` in fit."""
    return Sleeper(ctx.task)


@model("test_allocate", family="classical", tags=("testing",))
def test_allocate(ctx: ModelContext):
    """Allocates `megabytes` of numpy memory in fit."""
    return Allocator(ctx.task)


@model("test_fail", family="classical", tags=("testing",))
def test_fail(ctx: ModelContext):
    """Fails in fit: how = raise, exit, hang or segfault."""
    return Failer(ctx.task)


class ThreadProbe(_Constant):
    """Fails unless every BLAS/OpenMP pool (and torch) runs with `expected` threads during fit."""

    def __init__(self, task: str = "classification", expected: int = 1):
        super().__init__(task)
        self.expected = expected

    def fit(self, X, y):
        import sys

        from threadpoolctl import threadpool_info

        seen = {f"{p['internal_api']}:{p['filepath'].rsplit('/', 1)[-1]}": p["num_threads"] for p in threadpool_info()}
        if "torch" in sys.modules:
            seen["torch"] = sys.modules["torch"].get_num_threads()
        wrong = {k: v for k, v in seen.items() if v != self.expected}
        if wrong:
            raise RuntimeError(f"thread pools not at {self.expected}: {wrong}")
        self.pools_ = seen
        return self._fit_constant(y)


@model("test_threads", family="classical", tags=("testing",))
def test_threads(ctx: ModelContext):
    """Checks in fit that every thread pool runs with the cell's thread budget."""
    return ThreadProbe(ctx.task, expected=ctx.threads)


@dataset(
    "test_rare_classes", task="classification", modality="tabular", size=lambda p: p["n_train"] + 40,
    official_test=40, tags=("synthetic",),
)
def test_rare_classes(n_train: int = 120) -> Data:
    """Four classes; class 3 only in the 40 official test rows, as a rare class in a small prefix."""
    rng = np.random.default_rng(0)
    y = np.concatenate([np.arange(n_train) % 3, np.array([0, 1, 2, 3] * 10)])
    X = rng.normal(size=(len(y), 4)) + y[:, None]
    return Data(X=X, y=y)
