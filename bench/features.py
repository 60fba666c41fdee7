"""Feature variants: what a classical model sees of a dataset (`raw`, engineered features, `minirocket`).

A variant is a transform that never looks at labels. `raw` and `engineered` are per sample,
so no row shapes another's features. A variant that learns from rows is registered with
`fits=True` and is given `fit_rows`, the indices of the seed's training pool (training and
validation rows, never a test row): `minirocket` draws its biases (quantiles of the
convolution outputs of random rows, bench.minirocket) from those rows only, as the paper
does. Deep models always take `raw`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench.registry import Registry, first_line


@dataclass(frozen=True)
class FeatureVariant:
    name: str
    modalities: frozenset[str]
    fn: Callable[..., np.ndarray]
    description: str = ""
    fits: bool = False  # learns from rows: called with fit_rows=<the training pool's indices>


FEATURES: Registry[FeatureVariant] = Registry("feature variant")


def feature_variant(name: str, *, modalities: tuple[str, ...], fits: bool = False):
    """Register a transform (X rows x features, sample_shape, modality) -> new X (rows x new features).

    `fits=True`: the transform learns something from rows (never labels) and takes a keyword
    `fit_rows`, the indices of the rows it may learn from (the training pool; no test row).
    """

    def wrap(fn):
        FEATURES.add(
            name,
            FeatureVariant(name, frozenset(modalities), fn, first_line(fn.__doc__), fits),
        )
        return fn

    return wrap


@feature_variant("raw", modalities=("tabular", "image", "sequence", "text"))
def raw(X, sample_shape, modality=None):
    """The inputs as they are (images and sequences flattened)."""
    return X


def _kind(sample_shape, modality: str | None) -> str:
    if modality in ("image", "sequence"):
        return modality
    if sample_shape is None:
        raise ValueError("engineered features need the sample shape of images or sequences")
    # Without the modality, a 1-D shape is a sequence (L,), 3-D an image (C, H, W), and
    # 2-D a grey image (H, W); a multichannel (L, C) sequence needs modality="sequence".
    return "sequence" if len(sample_shape) == 1 else "image"


def image_features(X: np.ndarray, sample_shape: tuple[int, ...]) -> np.ndarray:
    """Histograms of gradient orientations (HOG): 9 bins per cell, 4 x 4 cells per image."""
    from skimage.feature import hog

    images = np.asarray(X, dtype=np.float32).reshape(len(X), *sample_shape)
    side = min(sample_shape[-2:])
    cell = max(2, side // 4)
    channel_axis = 0 if len(sample_shape) == 3 else None
    return np.stack(
        [
            hog(img, orientations=9, pixels_per_cell=(cell, cell), cells_per_block=(2, 2),
                channel_axis=channel_axis)
            for img in images
        ]
    ).astype(np.float32)


def _moments(s: np.ndarray) -> list[np.ndarray]:
    mean = s.mean(1)
    centred = s - mean[:, None]
    std = centred.std(1)
    safe = np.where(std > 0, std, 1.0)
    z = centred / safe[:, None]
    quantiles = np.quantile(s, [0.1, 0.25, 0.5, 0.75, 0.9], axis=1)
    return [mean, std, s.min(1), s.max(1), *quantiles, (z**3).mean(1), (z**4).mean(1)]


def sequence_features(X: np.ndarray, sample_shape: tuple[int, ...]) -> np.ndarray:
    """Summary, autocorrelation, spectral and per-segment statistics of each channel."""
    n = len(X)
    seq = np.asarray(X, dtype=np.float64).reshape(n, sample_shape[0], -1)
    length = seq.shape[1]
    cols: list[np.ndarray] = []
    t = np.arange(length) - (length - 1) / 2
    for c in range(seq.shape[2]):
        s = seq[:, :, c]
        diff = np.diff(s, axis=1) if length > 1 else np.zeros((n, 1))
        cols += _moments(s)
        cols += [np.abs(diff).mean(1), diff.std(1), s @ t / (t @ t if length > 1 else 1.0)]
        centred = s - s.mean(1, keepdims=True)
        var = (centred**2).sum(1)
        var = np.where(var > 0, var, 1.0)
        for lag in (1, 2, 4, 8, 16):
            if lag < length:
                cols.append((centred[:, lag:] * centred[:, :-lag]).sum(1) / var)
        # Spectrum: power in 8 frequency bands (as fractions), peak frequency, spectral entropy.
        power = np.abs(np.fft.rfft(centred, axis=1)) ** 2
        total = power.sum(1, keepdims=True)
        share = power / np.where(total > 0, total, 1.0)
        for band in np.array_split(np.arange(1, power.shape[1]), 8):
            if len(band):
                cols.append(share[:, band].sum(1))
        cols.append(share.argmax(1) / max(1, length))
        cols.append(-(share * np.log(share + 1e-12)).sum(1))
        # Where things happen: statistics of each quarter, the peak local energy, the last values.
        for part in np.array_split(np.arange(length), 4):
            if len(part):
                cols += [s[:, part].mean(1), s[:, part].std(1)]
        window = max(2, length // 8)
        if length >= window:
            csum = np.concatenate([np.zeros((n, 1)), np.cumsum(centred**2, axis=1)], axis=1)
            energy = (csum[:, window:] - csum[:, :-window]) / window  # moving mean of squares
            cols += [energy.max(1), energy.argmax(1) / max(1, length)]
        cols += [s[:, -k] for k in range(1, min(3, length) + 1)]
    return np.column_stack(cols).astype(np.float32)


BOW_WORDS = 2000  # a bag of words counts the text's 2,000 most frequent vocabulary words
BOW_CHUNK = 4096  # documents counted at once (a chunk's counts are rows x BOW_WORDS int64)


def text_features(X: np.ndarray, n_words: int = BOW_WORDS) -> np.ndarray:
    """Bag of words: log(1 + count) of each of the `n_words` most frequent words, per document.

    Token ids (bench.datasets.text) rank words by training frequency from id 2 on, so the
    first `n_words` columns are the most frequent words; padding (0), out-of-vocabulary
    words (1) and rarer words are not counted. Scaled later on the training rows, as every
    engineered variant is, this is TF-IDF's usual shape without looking at the test rows.
    """
    from bench.datasets.text import FIRST_WORD

    ids = np.asarray(X).astype(np.int64, copy=False)
    out = np.empty((len(ids), n_words), np.float32)
    for start in range(0, len(ids), BOW_CHUNK):
        part = ids[start : start + BOW_CHUNK] - FIRST_WORD
        rows = np.broadcast_to(np.arange(len(part))[:, None], part.shape)
        keep = (part >= 0) & (part < n_words)
        counts = np.bincount(rows[keep] * n_words + part[keep], minlength=len(part) * n_words)
        out[start : start + len(part)] = np.log1p(counts.reshape(len(part), n_words))
    return out


@feature_variant("engineered", modalities=("image", "sequence", "text"))
def engineered(X, sample_shape, modality: str | None = None):
    """Images: gradient-orientation histograms (HOG); sequences: summary and spectral statistics; text: a bag of words."""
    if modality == "text":
        return text_features(X)
    if _kind(sample_shape, modality) == "image":
        return image_features(X, tuple(sample_shape))
    return sequence_features(X, tuple(sample_shape))


@feature_variant("minirocket", modalities=("sequence",), fits=True)
def minirocket(X, sample_shape, modality: str | None = None, fit_rows: np.ndarray | None = None):
    """MiniRocket (Dempster et al. 2021): PPV of 84 fixed kernels at many dilations, ~10,000 features per series."""
    from bench.minirocket import features

    if sample_shape is None:
        raise ValueError("minirocket features need the sample shape of the series, (L,) or (L, C)")
    return features(X, tuple(sample_shape), fit_rows=fit_rows)
