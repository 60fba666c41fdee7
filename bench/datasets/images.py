"""Image datasets: digits (bundled), synthetic shapes (any size, offline), MNIST and Fashion-MNIST.

Pixels are delivered in [0, 1] (the worker does not rescale raw images), one image per
row, with `sample_shape` = (H, W) to restore them.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import bench.datasets.cache as dc
from bench.atomic import atomic_write
from bench.datasets.cache import DATA_ENV, data_dir  # noqa: F401  (re-exported: older imports)
from bench.datasets.core import Data, DataError, dataset

SHAPES = ("disc", "ring", "square", "frame", "triangle", "plus", "cross", "bar")


@dataset("digits", task="classification", modality="image", size=1797, tags=("real",),
         official_test=lambda p: 1797 - 1797 // 2 if p["half_split"] else None)
def digits(half_split: bool = False) -> Data:
    """Handwritten digits, 8x8 pixels, 1,797 images, 10 classes (bundled with scikit-learn).

    `half_split`: scikit-learn's digits example's split as the official one, the first 898
    images (in the file's order) for training and the last 899 for testing, for every seed.
    """
    X, y = _skd().load_digits(return_X_y=True)
    n_test = len(y) - len(y) // 2 if half_split else None
    return Data(X=(X / 16.0).astype(np.float32), y=y, sample_shape=(8, 8), n_test=n_test)


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


# -- MNIST-format data sets: the official train/test files (IDX), checked, from cache or system --


@dataclass(frozen=True)
class IdxSet:
    """An MNIST-format data set as published: four gzipped IDX files and their checksums."""

    name: str
    title: str
    base_urls: tuple[str, ...]
    md5: dict[str, str]  # published MD5 of each .gz file as served (download check)
    raw_sha256: dict[str, str]  # SHA-256 of the uncompressed IDX content (any copy's check), when known
    n_train: int
    n_test: int
    system_dirs: tuple[str, ...] = ()


IDX_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
IDX_SETS = {
    "mnist": IdxSet(
        name="mnist",
        title="MNIST",
        # yann.lecun.com asks for a login now; this mirror serves the original files.
        base_urls=("https://ossci-datasets.s3.amazonaws.com/mnist/",),
        md5={
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        raw_sha256={},
        n_train=60000,
        n_test=10000,
        system_dirs=("/usr/share/datasets/mnist",),
    ),
    "fashion_mnist": IdxSet(
        name="fashion_mnist",
        title="Fashion-MNIST",
        base_urls=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        md5={  # the repository README's table
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        # Debian recompresses the .gz files (other bytes, other MD5), so copies are checked
        # by their uncompressed content, hashed from the dataset-fashion-mnist package.
        raw_sha256={
            "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        n_train=60000,
        n_test=10000,
        system_dirs=("/usr/share/datasets/fashion-mnist",),  # Debian: dataset-fashion-mnist
    ),
}


def _idx_bytes(path: Path) -> bytes:
    """The uncompressed content of a (gzipped) IDX file; a truncated or corrupt gzip is a DataError."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            return fh.read()
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise DataError(f"{path}: truncated or corrupt ({exc})") from None


def _parse_idx(raw: bytes, where: object) -> np.ndarray:
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{where}: not an unsigned-byte IDX file")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise DataError(f"{where}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataError(f"{where}: header says {dims} but holds {body.size} bytes")
    return body.reshape(dims)


def read_idx(path: Path) -> np.ndarray:
    """An array from an IDX file (gzipped or not), the format MNIST is distributed in."""
    return _parse_idx(_idx_bytes(Path(path)), path)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as a gzipped IDX file (atomically)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)

    def write(tmp: Path) -> None:
        with gzip.open(tmp, "wb") as fh:
            fh.write(header + array.tobytes())

    atomic_write(path, write)


def _read_checked(spec: IdxSet, folder: Path) -> dict[str, np.ndarray]:
    """The four arrays of a copy, each checked: whole gzip, consistent IDX, known content, sizes."""
    arrays = {}
    for key, fname in IDX_FILES.items():
        path = folder / fname
        raw = _idx_bytes(path)
        want = spec.raw_sha256.get(fname)
        if want and hashlib.sha256(raw).hexdigest() != want:
            raise DataError(f"{path}: content does not match the published {spec.title} file (checksum mismatch)")
        arrays[key] = _parse_idx(raw, path)
    n_tr, n_te = len(arrays["train_images"]), len(arrays["test_images"])
    if len(arrays["train_labels"]) != n_tr or len(arrays["test_labels"]) != n_te or arrays["train_images"].ndim != 3:
        raise DataError(f"{folder}: images and labels do not match ({n_tr}/{len(arrays['train_labels'])} training, "
                        f"{n_te}/{len(arrays['test_labels'])} test)")
    if (n_tr, n_te) != (spec.n_train, spec.n_test):
        raise DataError(f"{folder}: {n_tr} training and {n_te} test images; {spec.title} has {spec.n_train} and {spec.n_test}")
    return arrays


def _has_files(folder: Path) -> bool:
    return all((folder / f).is_file() for f in IDX_FILES.values())


def _idx_folder(spec: IdxSet, cache_dir: str = "") -> Path:
    return data_dir(cache_dir) / spec.name


def _idx_locate(spec: IdxSet, cache_dir: str = "") -> Path | None:
    """The first copy with all four files: the cache, then a system package's folder."""
    for folder in (_idx_folder(spec, cache_dir), *map(Path, spec.system_dirs)):
        if _has_files(folder):
            return folder
    return None


def _idx_fetch(spec: IdxSet, cache_dir: str = "", progress: bool = False) -> str:
    folder = _idx_folder(spec, cache_dir)
    if _has_files(folder):
        _read_checked(spec, folder)
        return f"{spec.name}: already cached in {folder}"
    system = next((Path(d) for d in spec.system_dirs if _has_files(Path(d))), None)
    if system is not None:  # a system package's copy: into the cache, so the cache alone can be copied
        return _idx_import(spec, system, cache_dir).replace("imported", "copied")
    folder.mkdir(parents=True, exist_ok=True)
    errors = []
    for base in spec.base_urls:
        try:
            # Into a hidden staging folder: the cache gets all four files or none.
            stage = folder / ".partial"
            stage.mkdir(exist_ok=True)
            for fname in IDX_FILES.values():
                if not (stage / fname).exists():
                    dc.download(base + fname, stage / fname, md5=spec.md5[fname], progress=progress)
            _read_checked(spec, stage)
            for fname in IDX_FILES.values():
                os.replace(stage / fname, folder / fname)
            stage.rmdir()
            return f"{spec.name}: downloaded from {base} into {folder} (checksums verified)"
        except DataError as exc:
            errors.append(str(exc))
    for empty in (folder / ".partial", folder):  # verified whole files stay staged for a retry
        with contextlib.suppress(OSError):
            empty.rmdir()
    raise dc.FetchError("; ".join(errors))


def _idx_import(spec: IdxSet, path: Path, cache_dir: str = "") -> str:
    found = dc.find_members(path, list(IDX_FILES.values()))
    missing = [f for f in IDX_FILES.values() if f not in found]
    if missing:
        raise dc.FetchError(f"{path}: holds no {', '.join(missing)}")
    folder = _idx_folder(spec, cache_dir)
    stage = folder / ".partial"
    stage.mkdir(parents=True, exist_ok=True)
    for fname, content in found.items():
        atomic_write(stage / fname, content)
    _read_checked(spec, stage)
    for fname in IDX_FILES.values():
        os.replace(stage / fname, folder / fname)
    stage.rmdir()
    return f"{spec.name}: imported from {path} into {folder} (checked)"


def _idx_source(name: str) -> dc.Source:
    def cached() -> list[str]:
        spec = IDX_SETS[name]
        folder = _idx_folder(spec)
        if _has_files(folder):
            return [f"{folder} (the official {spec.n_train:,}/{spec.n_test:,} split)"]
        system = next((d for d in spec.system_dirs if _has_files(Path(d))), None)
        return [f"not cached; a system copy is at {system}"] if system else []

    def locate(params: dict) -> str | None:
        found = _idx_locate(IDX_SETS[name], params.get("cache_dir", ""))
        return str(found) if found else None

    return dc.Source(
        locate=locate,
        fetch=lambda params, progress: _idx_fetch(IDX_SETS[name], params.get("cache_dir", ""), progress),
        spec=lambda params: name,
        args=lambda arg: {},
        cached=cached,
        folder=lambda params: _idx_folder(IDX_SETS[name], params.get("cache_dir", "")),
        import_from=lambda params, path: _idx_import(IDX_SETS[name], path, params.get("cache_dir", "")),
    )


def load_idx_dataset(name: str, cache_dir: str = "") -> Data:
    """All images of an MNIST-format data set: the official training part, then the official test part."""
    spec = IDX_SETS[name]
    folder = _idx_locate(spec, cache_dir)
    if folder is None:
        _idx_fetch(spec, cache_dir)
        folder = _idx_folder(spec, cache_dir)
    a = _read_checked(spec, folder)
    images = np.concatenate([a["train_images"], a["test_images"]])
    labels = np.concatenate([a["train_labels"], a["test_labels"]]).astype(np.int64)
    n, h, w = images.shape
    X = images.reshape(n, h * w).astype(np.float32) / 255.0
    return Data(X=X, y=labels, sample_shape=(h, w), n_test=len(a["test_images"]))


for _name in IDX_SETS:
    dc.register(_name, _idx_source(_name))


def _require(name: str):
    return lambda params: dc.require(name, params)


@dataset(
    "mnist", task="classification", modality="image", check=_require("mnist"), tags=("real", "download"),
    size=lambda p: IDX_SETS["mnist"].n_train + IDX_SETS["mnist"].n_test, official_test=lambda p: IDX_SETS["mnist"].n_test,
)
def mnist(cache_dir: str = "") -> Data:
    """Handwritten digits, 28x28, the official 60,000/10,000 split (cache, system copy, or a verified download)."""
    return load_idx_dataset("mnist", cache_dir)


@dataset(
    "fashion_mnist", task="classification", modality="image", check=_require("fashion_mnist"),
    tags=("real", "download"), size=lambda p: IDX_SETS["fashion_mnist"].n_train + IDX_SETS["fashion_mnist"].n_test,
    official_test=lambda p: IDX_SETS["fashion_mnist"].n_test,
)
def fashion_mnist(cache_dir: str = "") -> Data:
    """Zalando clothing images, 28x28, 10 classes, the official 60,000/10,000 split (Debian: dataset-fashion-mnist)."""
    return load_idx_dataset("fashion_mnist", cache_dir)


def _skd():
    """scikit-learn's datasets module, imported when a dataset is built (not to list the registry)."""
    from sklearn import datasets

    return datasets
