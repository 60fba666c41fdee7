"""MiniRocket (Dempster, Schmidt, Webb, KDD 2021), the transform, in vectorised numpy.

MiniRocket convolves each series with 84 fixed kernels of length 9 (weights -1, and 2 at
the three positions of each 3-of-9 combination) at dilations spread exponentially up to
the series' length, and pools each output by PPV, the proportion of positive values of
(output - bias), against biases drawn from quantiles of the convolution outputs of random
series; about 10,000 features in all. With a ridge classifier over a log-spaced alpha
grid it is the non-deep state of the art of the UCR bake-offs at a fraction of a
network's cost.

Why not the library: aeon (1.6) and sktime carry MiniRocket, but both need numba, and
aeon's numba pin forces numpy < 2.4 while sktime caps pandas below 3.1; this project's
numpy 2.4 and pandas 3.1 must stay. No maintained numba-free implementation is on PyPI
(fluffyrocket is a differentiable "soft PPV" variant; tsai pulls fastai, numba and its own
torch). So this follows the authors' reference code (github.com/angus924/minirocket,
`code/minirocket.py`, which aeon adapts) step for step: the same dilations
(`fit_dilations`), the same low-discrepancy quantiles, the same bias rule (the quantiles of
one random series' convolution output per kernel and dilation), the same alternation of
padded and unpadded outputs, the same feature order. Given aeon's fitted parameters it
computes aeon's features (tests/test_minirocket.py checks values against the paper's
formula). Checked against aeon 1.6 in a separate environment (numba, numpy 2.3), on the
official splits, the same StandardScaler(with_mean=False) + RidgeClassifierCV, 5 seeds:
given aeon's fitted parameters, 99.99% of the test features are equal (the rest differ by
one position's comparison with a bias, float rounding); accuracy, aeon's
MiniRocketClassifier / this transform fitted on the training rows / on all rows:
GunPoint 0.993 / 0.993 / 0.993, ItalyPowerDemand 0.965 / 0.966 / 0.965, ArrowHead
0.859 / 0.862 / 0.864, OSULeaf 0.954 / 0.955 / 0.953 (seed sd <= 0.01). Univariate series; a multichannel (L, C) series is transformed channel by
channel, the feature budget split between them. Series shorter than 9 values are padded
with zeros at the end to 9, as aeon's error message tells its users to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

KERNEL_LENGTH = 9
N_KERNELS = 84
INDICES = np.array(list(combinations(range(KERNEL_LENGTH), 3)), dtype=np.int64)  # (84, 3): where the weight is 2
N_FEATURES = 10_000
MAX_DILATIONS_PER_KERNEL = 32
CHUNK_BYTES = 64 * 2**20  # working memory of one chunk of rows: 84 convolution outputs (float32)


@dataclass(frozen=True)
class Parameters:
    """A fitted MiniRocket: dilations, features per dilation, and one bias per feature."""

    dilations: np.ndarray  # (n_dilations,) int
    n_features_per_dilation: np.ndarray  # (n_dilations,) int: per kernel
    biases: np.ndarray  # (84 * sum(n_features_per_dilation),) float32, in feature order

    @property
    def n_features(self) -> int:
        return len(self.biases)


def fit_dilations(length: int, n_features: int = N_FEATURES, max_dilations_per_kernel: int = MAX_DILATIONS_PER_KERNEL):
    """(dilations, features per dilation and kernel), exponentially spaced up to (length - 1) / 8, as the reference."""
    per_kernel = n_features // N_KERNELS
    n_dilations = min(per_kernel, max_dilations_per_kernel)
    multiplier = per_kernel / n_dilations
    max_exponent = np.log2((length - 1) / (KERNEL_LENGTH - 1))
    dilations, counts = np.unique(
        np.logspace(0, max_exponent, n_dilations, base=2).astype(np.int32), return_counts=True
    )
    per_dilation = (counts * multiplier).astype(np.int32)
    remainder = per_kernel - int(per_dilation.sum())
    i = 0
    while remainder > 0:
        per_dilation[i] += 1
        remainder -= 1
        i = (i + 1) % len(per_dilation)
    return dilations.astype(np.int64), per_dilation.astype(np.int64)


def quantiles(n: int) -> np.ndarray:
    """The reference's low-discrepancy sequence: (k * golden ratio) mod 1, k = 1..n."""
    return np.array([(k * ((np.sqrt(5) + 1) / 2)) % 1 for k in range(1, n + 1)], dtype=np.float32)


def _shifted(X: np.ndarray, dilation: int) -> np.ndarray:
    """(9, n, L): X moved by (j - 4) * dilation, zeros where a kernel overhangs the series."""
    n, length = X.shape
    out = np.zeros((KERNEL_LENGTH, n, length), dtype=np.float32)
    for j in range(KERNEL_LENGTH):
        shift = (j - KERNEL_LENGTH // 2) * dilation
        if shift >= 0:
            if shift < length:
                out[j, :, : length - shift] = X[:, shift:]
        elif -shift < length:
            out[j, :, -shift:] = X[:, : length + shift]
    return out


def _convolutions(X: np.ndarray, dilation: int, kernels: np.ndarray) -> np.ndarray:
    """(len(kernels), n, L): each kernel's 'same' convolution output, X a float32 (n, L) array.

    A kernel weighs its 9 taps -1 and its 3 chosen taps 2, i.e. -sum(taps) + 3 * (the three):
    the reference's C_alpha + C_gamma decomposition, here for every kernel at once.
    """
    shifted = _shifted(X, dilation)
    alpha = -shifted.sum(axis=0)
    chosen = INDICES[kernels]  # (k, 3)
    return alpha[None] + 3 * (shifted[chosen[:, 0]] + shifted[chosen[:, 1]] + shifted[chosen[:, 2]])


def _own_convolutions(X: np.ndarray, dilation: int) -> np.ndarray:
    """(84, L): kernel k's convolution output on row k of X (84 series, one per kernel)."""
    shifted = _shifted(X, dilation)
    rows = np.arange(N_KERNELS)
    return -shifted.sum(axis=0) + 3 * (
        shifted[INDICES[:, 0], rows] + shifted[INDICES[:, 1], rows] + shifted[INDICES[:, 2], rows]
    )


def _quantile_rows(values: np.ndarray, q: list[np.ndarray]) -> list[np.ndarray]:
    """np.quantile(values[i], q[i]) for each row i (linear interpolation, numpy's default)."""
    ordered = np.sort(values, axis=1)
    last = values.shape[1] - 1
    out = []
    for row, qs in zip(ordered, q, strict=True):
        pos = qs.astype(np.float64) * last
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, last)
        out.append((row[lo] + (pos - lo) * (row[hi] - row[lo])).astype(np.float32))
    return out


def _pad_to_kernel(X: np.ndarray) -> np.ndarray:
    if X.shape[1] >= KERNEL_LENGTH:
        return X
    return np.pad(X, ((0, 0), (0, KERNEL_LENGTH - X.shape[1])))


def _as_series(X, where: str) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] < 1:
        raise ValueError(f"{where}: MiniRocket takes series as rows (n, length), got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{where}: MiniRocket takes finite values; the series hold NaN or infinity")
    return _pad_to_kernel(X)


def fit(X, n_features: int = N_FEATURES, max_dilations_per_kernel: int = MAX_DILATIONS_PER_KERNEL,
        seed: int | None = 0) -> Parameters:
    """Dilations from the series' length, biases from random rows of X (n, L); labels are not used."""
    X = _as_series(X, "minirocket.fit")
    if len(X) == 0:
        raise ValueError("minirocket.fit: no series to fit the biases on")
    if n_features < N_KERNELS:
        raise ValueError(f"minirocket.fit: n_features must be at least {N_KERNELS}, got {n_features}")
    rng = np.random.default_rng(seed)
    dilations, per_dilation = fit_dilations(X.shape[1], n_features, max_dilations_per_kernel)
    q = quantiles(N_KERNELS * int(per_dilation.sum()))
    biases, start = [], 0
    for dilation, f in zip(dilations, per_dilation, strict=True):
        rows = rng.integers(len(X), size=N_KERNELS)  # one random series per kernel, as the reference
        own = _own_convolutions(X[rows], int(dilation))  # kernel k on series rows[k]
        qs = [q[start + k * f : start + (k + 1) * f] for k in range(N_KERNELS)]
        biases += _quantile_rows(own, qs)
        start += N_KERNELS * int(f)
    return Parameters(dilations, per_dilation, np.concatenate(biases).astype(np.float32))


def transform(X, params: Parameters) -> np.ndarray:
    """(n, n_features) float32: PPV of each kernel, dilation and bias, in the reference's feature order."""
    X = _as_series(X, "minirocket.transform")
    n, length = X.shape
    out = np.empty((n, params.n_features), dtype=np.float32)
    step = max(1, CHUNK_BYTES // (4 * N_KERNELS * length))
    kernels = np.arange(N_KERNELS)
    for lo in range(0, n, step):
        part = X[lo : lo + step]
        start = 0
        for d_index, (dilation, f) in enumerate(zip(params.dilations, params.n_features_per_dilation, strict=True)):
            f = int(f)
            padding = (KERNEL_LENGTH - 1) * int(dilation) // 2
            biases = params.biases[start : start + N_KERNELS * f].reshape(N_KERNELS, f)
            block = np.empty((len(part), N_KERNELS, f), dtype=np.float32)
            # Odd (dilation index + kernel index): PPV over the outputs of full overlap only.
            for parity in (0, 1):
                ks = kernels[(d_index + kernels) % 2 == parity]
                c = _convolutions(part, int(dilation), ks)  # (42, rows, L)
                if parity:
                    c = c[:, :, padding : length - padding]
                for j in range(f):
                    positive = (c > biases[ks, j, None, None]).sum(axis=2, dtype=np.int32)
                    block[:, ks, j] = (positive / np.float32(c.shape[2])).T
            out[lo : lo + len(part), start : start + N_KERNELS * f] = block.reshape(len(part), -1)
            start += N_KERNELS * f
    return out


def features(X, sample_shape: tuple[int, ...] | None, n_features: int = N_FEATURES, seed: int | None = 0,
             fit_rows: np.ndarray | None = None) -> np.ndarray:
    """MiniRocket features of flat rows holding (L,) or (L, C) series: fitted on `fit_rows` (all rows by default)."""
    X = np.asarray(X, dtype=np.float32)
    shape = tuple(sample_shape) if sample_shape is not None else (X.shape[1],)
    series = X.reshape(len(X), shape[0], -1)
    n_channels = series.shape[2]
    per_channel = max(N_KERNELS, n_features // n_channels)
    parts = []
    for c in range(n_channels):
        channel = series[:, :, c]
        params = fit(channel if fit_rows is None else channel[fit_rows], per_channel, seed=seed)
        parts.append(transform(channel, params))
    return parts[0] if n_channels == 1 else np.concatenate(parts, axis=1)
