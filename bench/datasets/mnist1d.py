"""MNIST-1D (Greydanus & Kobak 2020): ten 1-D digit templates, padded, scaled, shifted, sheared and noised.

The published procedure (the `mnist1d` package's `make_dataset` with its default arguments,
seed 42), written here with a private random state instead of the package's global one, so
it needs no download and no extra dependency; tests check that both give the same arrays.
The defaults give the standard set: 5,000 sequences of length 40, the first 4,000 for
training and the last 1,000 for test.
"""

from __future__ import annotations

import numpy as np

from bench.datasets.core import Data, DataError, dataset

TEMPLATE_LEN = 12
PADDING = (36, 60)
SCALE_COEFF = 0.4
MAX_TRANSLATION = 48
CORR_NOISE_SCALE = 0.25
IID_NOISE_SCALE = 2e-2
SHEAR_SCALE = 0.75
TRAIN_SPLIT = 0.8
SEQ_LENGTH = 40


def templates() -> np.ndarray:
    """The ten hand-drawn 1-D digits of the paper, whitened, starting and ending at 0, scaled by 1/6."""
    d = np.asarray([
        [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
        [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
        [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
        [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
        [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
        [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
        [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
        [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
        [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
        [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
    ])
    d -= d.mean(1, keepdims=True)
    d /= d.std(1, keepdims=True)
    d -= d[:, :1]
    return d / 6.0


def _interpolate(x: np.ndarray, n: int) -> np.ndarray:
    from scipy.interpolate import interp1d

    return interp1d(np.linspace(0, 1, len(x)), x, axis=0, kind="linear")(np.linspace(0, 1, n))


def _transform(x: np.ndarray, rs: np.random.RandomState) -> np.ndarray:
    """One example from a template: the package's `transform`, draw for draw."""
    from scipy.ndimage import gaussian_filter

    low, high = PADDING
    p = low + int(rs.rand() * (high - low + 1))
    x = np.concatenate([x + 1e-8, np.zeros(p)])  # pad
    x = _interpolate(x, TEMPLATE_LEN + PADDING[-1])  # dilate
    x *= 1 + SCALE_COEFF * (rs.rand() - 0.5)  # scale
    k = rs.choice(MAX_TRANSLATION)
    x = np.concatenate([x[-k:], x[:-k]])  # translate
    mask = x != 0
    x = mask * x + (1 - mask) * gaussian_filter(CORR_NOISE_SCALE * rs.randn(*x.shape), 2)
    x = x + IID_NOISE_SCALE * rs.randn(*x.shape)
    x = x - SHEAR_SCALE * (rs.rand() - 0.5) * np.linspace(-0.5, 0.5, len(x))  # shear
    return _interpolate(x, SEQ_LENGTH)


def make(n_samples: int = 5000, seed: int = 42, shuffle_seq: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) in the published order: the first 80% are the training part."""
    rs = np.random.RandomState(seed)
    t = templates()
    per_class = n_samples // len(t)
    xs = [_transform(t[label], rs) for label in range(len(t)) for _ in range(per_class)]
    ys = np.repeat(np.arange(len(t)), per_class)
    order = rs.permutation(len(ys))
    X, y = np.stack(xs)[order], ys[order]
    if shuffle_seq:
        X = X[..., rs.permutation(SEQ_LENGTH)]
    X = (X - X.mean()) / X.std()
    return X, y


def _rows(params: dict) -> int:
    return (params["n_samples"] // 10) * 10


def _n_test(params: dict) -> int:
    n = _rows(params)
    return n - int(n * TRAIN_SPLIT)


def _check(params: dict) -> None:
    if params["n_samples"] < 50:
        raise DataError(f"n_samples must be at least 50 (5 per class), got {params['n_samples']}")


@dataset(
    "mnist1d", task="classification", modality="sequence", size=_rows, check=_check,
    tags=("real",), official_test=_n_test,
)
def mnist1d(n_samples: int = 5000, seed: int = 42, shuffle_seq: bool = False) -> Data:
    """MNIST-1D: 10 classes, length 40; the defaults give the standard 4,000/1,000 split, larger n_samples larger sets."""
    X, y = make(n_samples, seed, shuffle_seq)
    return Data(X=X.astype(np.float32), y=y.astype(np.int64), sample_shape=(SEQ_LENGTH,), n_test=_n_test({"n_samples": n_samples}))
