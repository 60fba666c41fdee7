"""Image datasets: digits (bundled), synthetic shapes (any size, offline), MNIST and Fashion-MNIST.

Pixels are delivered in [0, 1] (the worker does not rescale raw images), one image per
row, with `sample_shape` = (H, W) to restore them.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
from sklearn import datasets as skd

from bench.datasets import Data, DataError, dataset

DATA_ENV = "BENCH_DATA_DIR"
SHAPES = ("disc", "ring", "square", "frame", "triangle", "plus", "cross", "bar")


@dataset("digits", task="classification", modality="image", size=1797, tags=("real",))
def digits() -> Data:
    """Handwritten digits, 8x8 pixels, 1,797 images, 10 classes (bundled with scikit-learn)."""
    X, y = skd.load_digits(return_X_y=True)
    return Data(X=(X / 16.0).astype(np.float32), y=y, sample_shape=(8, 8))


def _check_synthetic(params: dict) -> None:
    if params["n_samples"] < 2:
        raise DataError(f"n_samples must be at least 2, got {params['n_samples']}")
    if not 2 <= params["n_classes"] <= len(SHAPES):
        raise DataError(f"n_classes must lie in 2..{len(SHAPES)}, got {params['n_classes']}")
    if params["image_size"] < 8:
        raise DataError(f"image_size must be at least 8, got {params['image_size']}")
    if not 0 < params["min_scale"] <= params["max_scale"] <= 0.5:
        raise DataError("need 0 < min_scale <= max_scale <= 0.5 (fractions of the image side)")


def _shape_mask(kind: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Which points (u, v), in the shape's own frame [-1, 1]^2, the shape covers."""
    r = np.hypot(u, v)
    box = np.maximum(np.abs(u), np.abs(v))
    name = SHAPES[kind]
    if name == "disc":
        return r <= 1
    if name == "ring":
        return (r <= 1) & (r >= 0.55)
    if name == "square":
        return box <= 0.85
    if name == "frame":
        return (box <= 0.9) & (box >= 0.55)
    if name == "triangle":
        return (v <= 0.8) & (v >= 2 * np.abs(u) - 1)
    if name == "plus":
        return ((np.abs(u) <= 0.3) | (np.abs(v) <= 0.3)) & (box <= 1)
    if name == "cross":
        return ((np.abs(u - v) <= 0.4) | (np.abs(u + v) <= 0.4)) & (box <= 0.9)
    return (np.abs(v) <= 0.3) & (np.abs(u) <= 1)  # bar


@dataset(
    "synthetic_images",
    task="classification",
    modality="image",
    size=lambda p: p["n_samples"],
    check=_check_synthetic,
    tags=("synthetic",),
)
def synthetic_images(
    n_samples: int = 5000,
    image_size: int = 16,
    n_classes: int = 6,
    min_scale: float = 0.2,
    max_scale: float = 0.45,
    max_rotation_deg: float = 20.0,
    noise: float = 0.25,
    random_state: int = 0,
) -> Data:
    """Shapes (disc, ring, square, frame, triangle, plus...) at random position, scale, angle, in noise."""
    rng = np.random.default_rng(random_state)
    S = image_size
    y = rng.integers(0, n_classes, n_samples)
    radius = rng.uniform(min_scale, max_scale, n_samples) * S
    # Anywhere the shape fits: the class never depends on where it is (translation invariance).
    cx = rng.uniform(radius - 0.5, S - 0.5 - radius)
    cy = rng.uniform(radius - 0.5, S - 0.5 - radius)
    angle = np.deg2rad(rng.uniform(-max_rotation_deg, max_rotation_deg, n_samples))
    contrast = rng.uniform(0.6, 1.0, n_samples)
    X = np.empty((n_samples, S * S), dtype=np.float32)
    grid = np.arange(S, dtype=np.float32)
    chunk = 4096
    for lo in range(0, n_samples, chunk):
        sl = slice(lo, min(lo + chunk, n_samples))
        dx = (grid[None, None, :] - cx[sl, None, None]) / radius[sl, None, None]
        dy = (grid[None, :, None] - cy[sl, None, None]) / radius[sl, None, None]
        cos, sin = np.cos(angle[sl])[:, None, None], np.sin(angle[sl])[:, None, None]
        u, v = cos * dx + sin * dy, -sin * dx + cos * dy
        img = np.zeros(u.shape, dtype=np.float32)
        for kind in range(n_classes):
            rows = y[sl] == kind
            if rows.any():
                img[rows] = _shape_mask(kind, u[rows], -v[rows])  # -v: image rows grow downwards
        img *= contrast[sl, None, None]
        img += noise * rng.standard_normal(img.shape, dtype=np.float32)
        X[sl] = np.clip(img, 0.0, 1.0).reshape(len(img), -1)
    return Data(X=X, y=y, sample_shape=(S, S), target_names=SHAPES[:n_classes])


# -- MNIST-format data sets: IDX files cached on disk, fetched from OpenML when missing --------

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
OPENML = {"mnist": "mnist_784", "fashion_mnist": "Fashion-MNIST"}
N_TRAIN_ORIGINAL = 60000


def data_dir(override: str = "") -> Path:
    """Where downloaded data sets are cached: the argument, else $BENCH_DATA_DIR, else ~/.cache."""
    return Path(override or os.environ.get(DATA_ENV) or Path.home() / ".cache" / "bench-data")


def read_idx(path: Path) -> np.ndarray:
    """An array from an IDX file (gzipped or not), the format MNIST is distributed in."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataError(f"{path}: header says {dims} but holds {body.size} bytes")
    return body.reshape(dims)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as a gzipped IDX file (atomically)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with gzip.open(tmp, "wb") as fh:
        fh.write(header + array.tobytes())
    os.replace(tmp, path)


def _fetch_openml(name: str, folder: Path) -> None:
    """Download from OpenML once and store as the four IDX files of the original release."""
    try:
        X, y = skd.fetch_openml(
            OPENML[name], version=1, return_X_y=True, as_frame=False, data_home=str(folder / "openml")
        )
    except Exception as exc:  # no network, proxy, server down...
        raise DataError(
            f"{name} is not cached in {folder} and could not be fetched from OpenML ({exc}); "
            f"put the four IDX files ({', '.join(IDX_FILES.values())}) there"
        ) from None
    images = np.asarray(X, dtype=np.float64).reshape(-1, 28, 28).round().astype(np.uint8)
    labels = np.asarray(y).astype(np.int64).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    # OpenML keeps the original order: the 60,000 training images, then the 10,000 test images.
    n = min(N_TRAIN_ORIGINAL, len(images))
    write_idx(folder / IDX_FILES["train_images"], images[:n])
    write_idx(folder / IDX_FILES["train_labels"], labels[:n])
    write_idx(folder / IDX_FILES["test_images"], images[n:])
    write_idx(folder / IDX_FILES["test_labels"], labels[n:])


def load_idx_dataset(name: str, n_samples: int, cache_dir: str = "", random_state: int = 0) -> Data:
    """`n_samples` images (a seeded sample of train + test) of an MNIST-format data set."""
    folder = data_dir(cache_dir) / name
    if not all((folder / f).exists() for f in IDX_FILES.values()):
        _fetch_openml(name, folder)
    images = np.concatenate([read_idx(folder / IDX_FILES[k]) for k in ("train_images", "test_images")])
    labels = np.concatenate([read_idx(folder / IDX_FILES[k]) for k in ("train_labels", "test_labels")])
    if len(images) != len(labels) or images.ndim != 3:
        raise DataError(f"{folder}: {len(images)} images of shape {images.shape[1:]} but {len(labels)} labels")
    if n_samples > len(images):
        raise DataError(f"{name}: n_samples = {n_samples} but {folder} holds {len(images)} images")
    rows = np.sort(np.random.default_rng(random_state).permutation(len(images))[:n_samples])
    h, w = images.shape[1:]
    X = images[rows].reshape(n_samples, h * w).astype(np.float32) / 255.0
    return Data(X=X, y=labels[rows].astype(np.int64), sample_shape=(h, w))


def _check_n(limit: int):
    def check(params: dict) -> None:
        if not 2 <= params["n_samples"] <= limit:
            raise DataError(f"n_samples must lie in 2..{limit}, got {params['n_samples']}")

    return check


@dataset("mnist", task="classification", modality="image", size=lambda p: p["n_samples"], check=_check_n(70000),
          tags=("real", "download"))
def mnist(n_samples: int = 10000, cache_dir: str = "", random_state: int = 0) -> Data:
    """Handwritten digits, 28x28, up to 70,000 images (OpenML, cached in $BENCH_DATA_DIR)."""
    return load_idx_dataset("mnist", n_samples, cache_dir, random_state)


@dataset(
    "fashion_mnist", task="classification", modality="image", size=lambda p: p["n_samples"], check=_check_n(70000),
    tags=("real", "download"),
)
def fashion_mnist(n_samples: int = 10000, cache_dir: str = "", random_state: int = 0) -> Data:
    """Zalando clothing images, 28x28, 10 classes, up to 70,000 (OpenML, cached in $BENCH_DATA_DIR)."""
    return load_idx_dataset("fashion_mnist", n_samples, cache_dir, random_state)
