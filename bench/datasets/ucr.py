"""UCR/UEA time-series classification archive: a dataset by name, with the archive's official train/test split.

Found in order: the cache ($BENCH_DATA_DIR/ucr/NAME), the data folder of an installed aeon or
sktime (both ship GunPoint, ItalyPowerDemand, ArrowHead, OSULeaf, BasicMotions...; found by
path, never imported, so their version pins do not matter), else the archive's zip of the
dataset, downloaded once. Read here: the `.ts` format (univariate and multivariate, equal
length) and the UCR 2018 `.tsv` format (univariate).
"""

from __future__ import annotations

import functools
import importlib.util
import io
import os
import re
from pathlib import Path

import lazy_loader
import numpy as np

import bench.datasets.cache as dc
from bench.atomic import atomic_write
from bench.datasets.core import Data, DataError, dataset

pd = lazy_loader.load("pandas")  # imported when a file is read, not to list the registry

URL = "https://timeseriesclassification.com/aeon-toolkit/{name}.zip"
PACKAGES = ("aeon", "sktime")  # their datasets/data/NAME folders hold NAME_TRAIN.ts and NAME_TEST.ts
_NAME = re.compile(r"[A-Za-z0-9_-]+")


def parse_ts(text: str, where: object) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, L, C), labels (n,) as strings) from a .ts file of equal-length series."""
    header: dict[str, str] = {}
    rows: list[list[list[float]]] = []
    labels: list[str] = []
    in_data = False
    has_label = True
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if not line.startswith("@"):
                raise DataError(f"{where}:{lineno}: expected a @ header line or @data, got {line[:40]!r}")
            key, _, value = line[1:].partition(" ")
            key = key.lower()
            if key == "data":
                in_data = True
            header[key] = value.strip()
            if key == "classlabel":
                has_label = value.strip().lower().startswith("true")
            continue
        fields = line.split(":")
        if has_label:
            labels.append(fields[-1].strip())
            fields = fields[:-1]
        try:
            dims = [[float("nan") if v.strip() == "?" else float(v) for v in f.split(",")] for f in fields]
        except ValueError:
            raise DataError(f"{where}:{lineno}: a value is not a number") from None
        rows.append(dims)
    if not in_data:
        raise DataError(f"{where}: no @data section (not a .ts file, or truncated)")
    if not rows:
        raise DataError(f"{where}: no series after @data")
    if not has_label:
        raise DataError(f"{where}: @classLabel false; only classification sets are supported")
    n_dims = {len(r) for r in rows}
    lengths = {len(d) for r in rows for d in r}
    if len(n_dims) != 1:
        raise DataError(f"{where}: series have different numbers of dimensions {sorted(n_dims)}")
    if len(lengths) != 1:
        raise DataError(
            f"{where}: unequal-length series ({min(lengths)} to {max(lengths)} steps) are not supported; "
            "use the archive's equal-length version (NAME_eq) where there is one"
        )
    X = np.asarray(rows, dtype=np.float64).transpose(0, 2, 1)  # (n, C, L) -> (n, L, C)
    return X, np.asarray(labels, dtype=object)


def parse_tsv(text: str, where: object) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, L, 1), labels) from a UCR 2018 .tsv file: the label, then the values, tab-separated."""
    try:
        frame = pd.read_csv(io.StringIO(text), sep="\t", header=None)
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{where}: not a readable .tsv file ({exc})") from None
    if frame.shape[1] < 2 or frame.empty:
        raise DataError(f"{where}: needs a label column and at least one value per row")
    try:
        values = frame.iloc[:, 1:].to_numpy(dtype=np.float64)
    except ValueError:
        raise DataError(f"{where}: a value is not a number") from None
    labels = frame.iloc[:, 0].map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
    return values[:, :, None], labels.to_numpy(dtype=object)


def _parse(path: Path, content: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    text = (content if content is not None else path.read_bytes()).decode("utf-8", errors="replace")
    return parse_tsv(text, path) if path.suffix == ".tsv" else parse_ts(text, path)


def _files(name: str) -> dict[str, list[str]]:
    return {part: [f"{name}_{part}.ts", f"{name}_{part}.tsv"] for part in ("TRAIN", "TEST")}


def _pair_in(folder: Path, name: str) -> tuple[Path, Path] | None:
    """The TRAIN/TEST files of one format present in `folder` (.ts preferred)."""
    for ext in (".ts", ".tsv"):
        train, test = folder / f"{name}_TRAIN{ext}", folder / f"{name}_TEST{ext}"
        if train.is_file() and test.is_file():
            return train, test
    return None


def _cache_folder(name: str, cache_dir: str = "") -> Path:
    return dc.data_dir(cache_dir) / "ucr" / name


def _package_folders(name: str) -> list[Path]:
    out = []
    for pkg in PACKAGES:
        try:
            spec = importlib.util.find_spec(pkg)
        except (ImportError, ValueError):
            spec = None
        for root in (spec.submodule_search_locations or []) if spec else []:
            out.append(Path(root) / "datasets" / "data" / name)
    return out


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name or ""):
        raise DataError(f"a UCR/UEA dataset name such as GunPoint is needed, got {name!r}")


def locate(name: str, cache_dir: str = "") -> tuple[Path, Path, str] | None:
    """(train file, test file, where) of the first copy: the cache (checked), then an installed package."""
    _check_name(name)
    folder = _cache_folder(name, cache_dir)
    pair = _pair_in(folder, name)
    if pair and dc.read_manifest(folder) is not None:
        dc.verify_manifest(folder, f"ucr:{name}", f"python -m bench fetch ucr:{name}")
        return (*pair, "cache")
    for folder in _package_folders(name):
        pair = _pair_in(folder, name)
        if pair:
            return (*pair, str(folder))
    return None


def _store(name: str, contents: dict[str, bytes], source: str, cache_dir: str = "") -> Path:
    """Check and cache a TRAIN/TEST pair (the manifest, written last, marks it complete)."""
    train = next((f for f in _files(name)["TRAIN"] if f in contents), None)
    ext = Path(train).suffix if train else ""
    test = f"{name}_TEST{ext}"
    if train is None or test not in contents:
        raise dc.FetchError(f"{source}: holds no {name}_TRAIN/{name}_TEST pair (.ts or .tsv)")
    X_train, _ = _parse(Path(train), contents[train])
    X_test, _ = _parse(Path(test), contents[test])
    if X_train.shape[1:] != X_test.shape[1:]:
        raise dc.FetchError(f"{source}: training series {X_train.shape[1:]} and test series {X_test.shape[1:]} differ in shape")
    folder = _cache_folder(name, cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / dc.MANIFEST).unlink(missing_ok=True)
    for fname in (train, test):
        atomic_write(folder / fname, contents[fname])
    dc.write_manifest(folder, [train, test], source)
    return folder


def fetch(name: str, cache_dir: str = "", progress: bool = False) -> str:
    _check_name(name)
    found = locate(name, cache_dir)
    if found and found[2] == "cache":
        return f"ucr:{name}: already cached in {_cache_folder(name, cache_dir)}"
    if found:  # an installed package's copy: cache it too, so the cache alone can be copied to a cluster
        train, test, where = found
        folder = _store(name, {train.name: train.read_bytes(), test.name: test.read_bytes()}, where, cache_dir)
        return f"ucr:{name}: copied from {where} into {folder}"
    url = URL.format(name=name)
    zpath = _cache_folder(name, cache_dir).parent / f".{name}.zip"
    zpath.parent.mkdir(parents=True, exist_ok=True)
    dc.download(url, zpath, progress=progress)
    try:
        # The archive publishes no checksums; the zip's CRC-32 of each member and a full parse stand in.
        contents = dc.find_members(zpath, [f for fs in _files(name).values() for f in fs])
        folder = _store(name, contents, url, cache_dir)
    except DataError as exc:
        raise dc.FetchError(f"{url}: {exc}") from None
    finally:
        zpath.unlink(missing_ok=True)
    return f"ucr:{name}: downloaded from {url} into {folder} (zip CRCs checked, files parsed)"


def import_from(name: str, path: Path, cache_dir: str = "") -> str:
    _check_name(name)
    contents = dc.find_members(path, [f for fs in _files(name).values() for f in fs])
    try:
        folder = _store(name, contents, str(path), cache_dir)
    except DataError as exc:
        raise dc.FetchError(str(exc)) from None
    return f"ucr:{name}: imported from {path} into {folder} (parsed and checked)"


def _cached() -> list[str]:
    root = _cache_folder("x").parent
    if not root.is_dir():
        return []
    lines = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        doc = dc.read_manifest(folder)
        if doc:
            lines.append(f"{folder.name} in {folder} (from {doc.get('source', '?')})")
    return lines


dc.register("ucr", dc.Source(
    locate=lambda p: (lambda f: str(f[2]) if f else None)(locate(p["name"], p.get("cache_dir", ""))),
    fetch=lambda p, progress: fetch(p["name"], p.get("cache_dir", ""), progress),
    spec=lambda p: f"ucr:{p['name']}",
    args=lambda arg: {"name": arg},
    cached=_cached,
    folder=lambda p: _cache_folder(p["name"], p.get("cache_dir", "")),
    import_from=lambda p, path: import_from(p["name"], path, p.get("cache_dir", "")),
))


@functools.lru_cache(maxsize=16)
def _read(train: str, test: str, mtimes: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, int]:
    X_train, y_train = _parse(Path(train))
    X_test, y_test = _parse(Path(test))
    if X_train.shape[1:] != X_test.shape[1:]:
        raise DataError(f"{train}, {test}: training series {X_train.shape[1:]} and test series {X_test.shape[1:]} differ in shape")
    return np.concatenate([X_train, X_test]), np.concatenate([y_train, y_test]), len(y_test)


def read(name: str, cache_dir: str = "") -> tuple[np.ndarray, np.ndarray, int]:
    """(X (n, L, C), labels, n_test) of a dataset, the training series first; fetched if need be."""
    found = locate(name, cache_dir)
    if found is None:
        try:
            fetch(name, cache_dir)
        except dc.FetchError as exc:
            raise DataError(dc.missing_message("ucr", {"name": name, "cache_dir": cache_dir}, str(exc))) from None
        found = locate(name, cache_dir)
    train, test, _where = found
    return _read(str(train), str(test), (os.stat(train).st_mtime_ns, os.stat(test).st_mtime_ns))


def _check(params: dict) -> None:
    _check_name(params["name"])
    dc.require("ucr", params)
    read(params["name"], params["cache_dir"])  # a broken file is reported before anything runs


@dataset(
    "ucr", task="classification", modality="sequence", size=lambda p: len(read(p["name"], p["cache_dir"])[1]),
    check=_check, tags=("real", "download"), official_test=lambda p: read(p["name"], p["cache_dir"])[2],
)
def ucr(name: str = "GunPoint", cache_dir: str = "") -> Data:
    """A UCR/UEA archive dataset by name (GunPoint, ItalyPowerDemand, ArrowHead, OSULeaf...), official split."""
    X, labels, n_test = read(name, cache_dir)
    if not np.isfinite(X).all():
        raise DataError(f"ucr:{name}: the series hold missing values, which no model here accepts")
    codes, names = pd.factorize(pd.Series(labels), sort=True)
    n, length, channels = X.shape
    shape = (length,) if channels == 1 else (length, channels)
    return Data(
        X=X.reshape(n, -1).astype(np.float32), y=codes.astype(np.int64), sample_shape=shape,
        target_names=tuple(map(str, names)), n_test=n_test,
    )
