"""OpenML datasets by id or name, cached as Parquet, plus named entries for real tabular benchmarks.

A dataset is fetched once with scikit-learn's `fetch_openml` (which checks the file against
the MD5 in OpenML's description), stored as `openml/ID/data.parquet` with its metadata and a
manifest of SHA-256 checksums, and from then on read from the cache, checked. Columns and
target go through the `file` dataset's rules: categories as text, missing values refused
(or their rows dropped with `dropna = true`).

Named entries: a medium-size subset of Grinsztajn, Oyallon & Varoquaux 2022 (OpenML
suites 334-337, 5k-50k rows, numerical and categorical, classification and regression), and
four UCI classics (letter, satimage, shuttle, dna), which Debian's r-cran-mlbench also ships:
where that package is installed they load from its R data files without a network.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import lazy_loader

import bench.datasets.cache as dc
from bench.atomic import atomic_write
from bench.datasets.core import TASKS, Data, DataError, dataset
from bench.datasets.files import file_data

pd = lazy_loader.load("pandas")  # imported when a file is read, not to list the registry

META = "meta.json"
DATA = "data.parquet"
MLBENCH_DIR = Path("/usr/lib/R/site-library/mlbench/data")  # Debian's r-cran-mlbench


@dataclass(frozen=True)
class Named:
    data_id: int
    openml_name: str  # what OpenML calls it: a fetched dataset of another name is refused
    task: str
    rows: int  # rows of the OpenML version, as published (the cache's count is used once cached)
    description: str
    mlbench: tuple[str, str] | None = None  # (R data file, target column) of an offline copy


NAMED = {
    # Grinsztajn et al. 2022, OpenML suites 334-337 (the "inria-soda" versions of each dataset).
    "credit": Named(44089, "credit", "classification", 16714, "credit default, 10 numerical features (Grinsztajn 2022)"),
    "magic_telescope": Named(44125, "MagicTelescope", "classification", 13376, "gamma-ray telescope events, 10 numerical features (Grinsztajn 2022)"),
    "electricity": Named(44156, "electricity", "classification", 38474, "electricity price direction, numerical and categorical (Grinsztajn 2022)"),
    "eye_movements": Named(44157, "eye_movements", "classification", 7608, "reading eye movements, numerical and categorical (Grinsztajn 2022)"),
    "house_16h": Named(44139, "house_16H", "regression", 22784, "US census house prices, 16 numerical features (Grinsztajn 2022)"),
    "wine_quality": Named(44136, "wine_quality", "regression", 6497, "wine quality score, 11 numerical features (Grinsztajn 2022)"),
    "bike_sharing": Named(44063, "Bike_Sharing_Demand", "regression", 17379, "hourly bike rentals, numerical and categorical (Grinsztajn 2022)"),
    # UCI classics, also in Debian's r-cran-mlbench.
    "letter": Named(6, "letter", "classification", 20000, "UCI letter recognition: 16 numerical features, 26 classes",
                    ("LetterRecognition", "lettr")),
    "satimage": Named(182, "satimage", "classification", 6430, "UCI Statlog satellite image: 36 numerical features, 6 classes",
                      ("Satellite", "classes")),
    "shuttle": Named(40685, "shuttle", "classification", 58000, "UCI Statlog shuttle: 9 numerical features, 7 classes, some very rare",
                     ("Shuttle", "Class")),
    "dna": Named(40670, "dna", "classification", 3186, "UCI Statlog DNA splice junctions: 180 binary features, 3 classes",
                 ("DNA", "Class")),
}


def _root(cache_dir: str = "") -> Path:
    return dc.data_dir(cache_dir) / "openml"


def _folder(data_id: int, cache_dir: str = "") -> Path:
    return _root(cache_dir) / str(data_id)


def _hint(spec: str) -> str:
    return f"python -m bench fetch {spec}"


def _cached_id(data_id: int, name: str, cache_dir: str) -> int | None:
    """The cached dataset for an id, or for a name (the newest version cached), without the network."""
    if data_id:
        return data_id if (_folder(data_id, cache_dir) / dc.MANIFEST).exists() else None
    best = None
    root = _root(cache_dir)
    for meta_path in root.glob(f"*/{META}") if root.is_dir() else []:
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if meta.get("name") == name and (meta_path.parent / dc.MANIFEST).exists():
            if best is None or meta.get("version", 0) > best[0]:
                best = (meta.get("version", 0), int(meta["data_id"]))
    return best[1] if best else None


def _mlbench(data_id: int) -> tuple[Path, str] | None:
    for entry in NAMED.values():
        if entry.data_id == data_id and entry.mlbench:
            path = MLBENCH_DIR / f"{entry.mlbench[0]}.rda"
            if path.is_file():
                return path, entry.mlbench[1]
    return None


def _store(frame: pd.DataFrame, meta: dict, source: str, cache_dir: str) -> Path:
    """Cache a frame as Parquet with its metadata; the manifest, written last, marks it complete."""
    folder = _folder(meta["data_id"], cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / dc.MANIFEST).unlink(missing_ok=True)
    frame = frame.copy()
    for col in frame.columns:  # categories as text (the file dataset's encoding), missing stays missing
        s = frame[col]
        if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
            frame[col] = s.astype(object).where(s.notna(), None).map(lambda v: v if v is None else str(v))
    frame.columns = [str(c) for c in frame.columns]
    atomic_write(folder / DATA, lambda tmp: frame.to_parquet(tmp, index=False))
    meta = {**meta, "n_rows": len(frame), "columns": list(frame.columns)}
    atomic_write(folder / META, json.dumps(meta, indent=1, sort_keys=True) + "\n")
    dc.write_manifest(folder, [DATA, META], source)
    return folder


def _from_mlbench(data_id: int, cache_dir: str) -> str:
    path, target = _mlbench(data_id)
    from bench.datasets.rdata import read_rda

    frames = read_rda(path)
    frame = next(iter(frames.values()))
    name = next(e.openml_name for e in NAMED.values() if e.data_id == data_id)
    folder = _store(frame, {"data_id": data_id, "name": name, "version": 0, "target": target}, f"r-cran-mlbench {path}", cache_dir)
    return f"openml:{data_id}: converted from {path} (r-cran-mlbench) into {folder}"


def fetch(data_id: int = 0, name: str = "", version: int = 1, cache_dir: str = "", progress: bool = False) -> str:
    """Into the cache: an installed R copy where there is one, else OpenML (MD5-checked by scikit-learn)."""
    cached = _cached_id(data_id, name, cache_dir)
    if cached:
        return f"openml:{cached}: already cached in {_folder(cached, cache_dir)}"
    if data_id and _mlbench(data_id):
        return _from_mlbench(data_id, cache_dir)
    if dc.offline():
        raise dc.FetchError(f"downloads are switched off ({dc.OFFLINE_ENV} is set)")
    from sklearn.datasets import fetch_openml

    what = f"OpenML dataset {data_id or repr(name)}"
    try:
        kwargs = {"data_id": data_id} if data_id else {"name": name, "version": version}
        with warnings.catch_warnings():  # its retry warnings; the error below says what failed
            warnings.simplefilter("ignore", UserWarning)
            bunch = fetch_openml(
                **kwargs, as_frame=True, parser="auto", data_home=str(_root(cache_dir) / "_downloads"),
                n_retries=1, delay=1.0,
            )
    except Exception as exc:  # network, HTTP, checksum (ValueError), parse errors
        raise dc.FetchError(f"cannot fetch {what}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    details = bunch.details
    got_id = int(details["id"])
    expected = next((e.openml_name for e in NAMED.values() if e.data_id == got_id), None)
    if expected and details["name"] != expected:
        raise dc.FetchError(f"OpenML dataset {got_id} is named {details['name']!r}, not {expected!r}; nothing was cached")
    targets = list(bunch.target_names or [])
    if len(targets) != 1:
        raise dc.FetchError(f"{what} has {len(targets)} default target columns; name one with target = \"...\"")
    meta = {"data_id": got_id, "name": details["name"], "version": int(details.get("version", 0)), "target": targets[0]}
    url = f"https://www.openml.org/d/{got_id}"
    folder = _store(bunch.frame, meta, url, cache_dir)
    return f"openml:{got_id}: downloaded {details['name']} (version {meta['version']}) from {url} into {folder} (MD5 checked)"


def _ensure(data_id: int, name: str, version: int, cache_dir: str) -> tuple[Path, dict]:
    """The cache folder (checked against its manifest) and metadata, fetching first if need be."""
    spec = f"openml:{data_id or name}"
    cached = _cached_id(data_id, name, cache_dir)
    if cached is None:
        try:
            fetch(data_id, name, version, cache_dir)
        except dc.FetchError as exc:
            params = {"data_id": data_id, "name": name, "version": version, "cache_dir": cache_dir}
            raise DataError(dc.missing_message("openml", params, str(exc))) from None
        cached = _cached_id(data_id, name, cache_dir)
    folder = _folder(cached, cache_dir)
    dc.verify_manifest(folder, spec, _hint(spec))
    return folder, json.loads((folder / META).read_text(encoding="utf-8"))


def _dropped(folder: Path) -> Path:
    """The cached table without its rows that have a missing value (made once, atomically)."""
    path = folder / "data.dropna.parquet"
    if not path.exists() or path.stat().st_mtime_ns < (folder / DATA).stat().st_mtime_ns:
        frame = pd.read_parquet(folder / DATA).dropna().reset_index(drop=True)
        atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    return path


def load(data_id: int, name: str, version: int, task: str, target: str, drop, dropna: bool, cache_dir: str) -> Data:
    folder, meta = _ensure(data_id, name, version, cache_dir)
    path = _dropped(folder) if dropna else folder / DATA
    try:
        return file_data(path=str(path), target=target or meta["target"], task=task, drop=list(drop))
    except DataError as exc:
        raise DataError(f"openml:{meta['data_id']} ({meta['name']}): {exc}" + (
            "; set dropna = true to drop rows with missing values" if "missing" in str(exc) or "NaN" in str(exc) else ""
        )) from None


def _rows(data_id: int, name: str, version: int, cache_dir: str, dropna: bool = False) -> int:
    folder, meta = _ensure(data_id, name, version, cache_dir)
    return len(pd.read_parquet(_dropped(folder))) if dropna else int(meta["n_rows"])


def _cached_lines() -> list[str]:
    root = _root()
    lines = []
    for meta_path in sorted(root.glob(f"*/{META}")) if root.is_dir() else []:
        doc = dc.read_manifest(meta_path.parent)
        if doc is None:
            continue
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        lines.append(f"{meta['data_id']} {meta['name']} ({meta['n_rows']} rows) in {meta_path.parent} (from {doc.get('source', '?')})")
    return lines


def _args(arg: str) -> dict:
    return {"data_id": int(arg), "name": ""} if arg.isdigit() else {"data_id": 0, "name": arg}


def _spec(p: dict) -> str:
    return f"openml:{p.get('data_id') or p.get('name')}"


dc.register("openml", dc.Source(
    locate=lambda p: (lambda i: str(_folder(i, p.get("cache_dir", ""))) if i else None)(
        _cached_id(p.get("data_id", 0), p.get("name", ""), p.get("cache_dir", ""))),
    fetch=lambda p, progress: fetch(p.get("data_id", 0), p.get("name", ""), p.get("version", 1), p.get("cache_dir", ""), progress),
    spec=_spec,
    args=_args,
    cached=_cached_lines,
    folder=lambda p: _folder(p.get("data_id") or 0, p.get("cache_dir", "")) if p.get("data_id") else _root(p.get("cache_dir", "")),
))


def _check(params: dict) -> None:
    if params["task"] not in TASKS:
        raise DataError(f"task must be one of {', '.join(TASKS)}, got {params['task']!r}")
    if bool(params["data_id"]) == bool(params["name"]):
        raise DataError("give exactly one of data_id (an OpenML dataset id) or name")
    if params["data_id"] < 0:
        raise DataError(f"data_id must be positive, got {params['data_id']}")
    dc.require("openml", params)
    openml(**params)  # a column that cannot be encoded is reported before anything runs


@dataset(
    "openml", task=None, modality="tabular", check=_check, tags=("real", "download"),
    size=lambda p: _rows(p["data_id"], p["name"], p["version"], p["cache_dir"], p["dropna"]),
)
def openml(
    task: str, data_id: int = 0, name: str = "", version: int = 1, target: str = "",
    drop: list = (), dropna: bool = False, cache_dir: str = "",
) -> Data:
    """Any OpenML dataset by data_id or name (and version): cached, categories as text, target by default OpenML's."""
    return load(data_id, name, version, task, target, drop, dropna, cache_dir)


def _named(key: str, entry: Named) -> None:
    def params_of(p: dict) -> dict:
        return {"data_id": entry.data_id, "name": "", "version": 1, "cache_dir": p.get("cache_dir", "")}

    base = dc.SOURCES["openml"]
    dc.register(key, dc.Source(
        locate=lambda p: base.locate(params_of(p)),
        fetch=lambda p, progress: base.fetch(params_of(p), progress),
        spec=lambda p: key,
        args=lambda arg: {},
        cached=lambda: [],  # listed under openml
        folder=lambda p: base.folder(params_of(p)),
    ))

    def check(params: dict) -> None:
        dc.require(key, params)

    def fn(cache_dir: str = "") -> Data:
        return load(entry.data_id, "", 1, entry.task, "", (), False, cache_dir)

    fn.__doc__ = f"{entry.description}; OpenML {entry.data_id}" + (
        f" (offline: r-cran-mlbench's {entry.mlbench[0]})" if entry.mlbench else ""
    )
    fn.__name__ = fn.__qualname__ = key
    dataset(
        key, task=entry.task, modality="tabular", check=check, tags=("real", "download"),
        size=lambda p: _rows(entry.data_id, "", 1, p["cache_dir"]),
    )(fn)


for _key, _entry in NAMED.items():
    _named(_key, _entry)

