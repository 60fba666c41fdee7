"""Sequence datasets, generated offline at any length and size: one univariate sequence per row."""

from __future__ import annotations

import numpy as np

from bench.datasets.core import Data, DataError, dataset

# Mackey-Glass (delay 17, beta 0.2, gamma 0.1, exponent 10) is chaotic; its values lie
# in about [0.3, 1.4]. These constants put the delivered series near mean 0, scale 1.
MG_TAU = 17
MG_MEAN, MG_STD = 0.92, 0.24
MARKER_STEPS = 4


def _check_long_range(params: dict) -> None:
    if params["n_samples"] < 2:
        raise DataError(f"n_samples must be at least 2, got {params['n_samples']}")
    if params["n_classes"] not in (4, 6, 8):
        raise DataError(f"n_classes must be 4, 6 or 8 (motifs x 2 shifts), got {params['n_classes']}")
    if params["length"] < 32:
        raise DataError(f"length must be at least 32, got {params['length']}")


@dataset(
    "synthetic_sequences",
    task="classification",
    modality="sequence",
    size=lambda p: p["n_samples"],
    check=_check_long_range,
    tags=("synthetic", "long_range"),
)
def synthetic_sequences(
    n_samples: int = 4000,
    length: int = 64,
    n_classes: int = 4,
    noise: float = 0.25,
    random_state: int = 0,
) -> Data:
    """Long-range: the label combines a motif at a random early position with the sequence's last steps.

    A windowed sine burst of one of `n_classes / 2` frequencies sits somewhere in the first
    half; the last 4 steps are shifted up or down. The label is 2 x motif + shift, so
    neither part alone gets more than every second label right: a model has to relate
    elements at least half the sequence apart (an RNN has to carry the motif to the end).
    """
    rng = np.random.default_rng(random_state)
    width = max(8, length // 8)
    n_motifs = n_classes // 2
    motif = rng.integers(0, n_motifs, n_samples)
    shift = rng.integers(0, 2, n_samples)
    start = rng.integers(0, length // 2 - width + 1, n_samples)
    X = noise * rng.standard_normal((n_samples, length)).astype(np.float32)
    t = np.arange(width)
    freq = (motif + 1) / (2.0 * (n_motifs + 1))  # cycles per step, below Nyquist
    phase = rng.uniform(0, 2 * np.pi, n_samples)
    burst = np.hanning(width + 2)[1:-1] * np.sin(2 * np.pi * freq[:, None] * t + phase[:, None])
    cols = start[:, None] + t
    X[np.arange(n_samples)[:, None], cols] += 1.5 * burst.astype(np.float32)
    X[:, -MARKER_STEPS:] += np.where(shift == 1, 1.0, -1.0)[:, None].astype(np.float32)
    y = 2 * motif + shift
    return Data(X=X, y=y, sample_shape=(length,))


def _check_forecast(params: dict) -> None:
    if params["n_samples"] < 2:
        raise DataError(f"n_samples must be at least 2, got {params['n_samples']}")
    if params["length"] <= MG_TAU:
        raise DataError(f"length must exceed the series' delay of {MG_TAU} steps, got {params['length']}")


@dataset(
    "forecast",
    task="regression",
    modality="sequence",
    size=lambda p: p["n_samples"],
    check=_check_forecast,
    tags=("synthetic",),
)
def forecast(
    n_samples: int = 4000,
    length: int = 48,
    noise: float = 0.02,
    random_state: int = 0,
) -> Data:
    """Next value of a noisy chaotic series (Mackey-Glass, delay 17) from its last `length` values.

    Every row is its own series from its own random start, so no two rows overlap and
    the test rows share nothing with the training rows.
    """
    rng = np.random.default_rng(random_state)
    burn_in = 300
    steps = burn_in + length + 1
    x = np.empty((n_samples, MG_TAU + steps), dtype=np.float64)
    x[:, : MG_TAU + 1] = rng.uniform(0.5, 1.3, (n_samples, 1)) + 0.05 * rng.standard_normal((n_samples, MG_TAU + 1))
    for t in range(MG_TAU, MG_TAU + steps - 1):
        d = x[:, t - MG_TAU]
        # Small process noise makes every series its own; observation noise is added below.
        x[:, t + 1] = 0.9 * x[:, t] + 0.2 * d / (1 + d**10) + 0.01 * rng.standard_normal(n_samples)
    seen = x[:, -(length + 1) :] + noise * rng.standard_normal((n_samples, length + 1))
    seen = (seen - MG_MEAN) / MG_STD
    return Data(X=seen[:, :length].astype(np.float32), y=seen[:, length].astype(np.float64), sample_shape=(length,))
