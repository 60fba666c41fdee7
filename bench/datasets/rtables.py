"""Real medium-size tables with categorical columns, from R data packages, offline.

Four tables of 5,000 to 30,000 rows whose categorical columns matter (Grinsztajn et al. 2022
and TabArena single out such tables, where conclusions drawn on all-numeric sets differ):

- `wa_churn` (modeldata): IBM Watson telco customers, 7,043 rows, churned or not;
- `mlc_churn` (modeldata): MLC++ telecom churn, 5,000 rows;
- `lending_club` (modeldata): Lending Club loans, 9,857 rows, good or bad;
- `cps1988` (AER): US Current Population Survey 1988, 28,155 men, log weekly wage.

Where they come from, in order:

1. the R package installed by the system (Debian: `apt-get install r-cran-modeldata r-cran-aer`),
   read in place from /usr/lib/R/site-library/<package>/data (or another R library folder);
2. the data cache (`$BENCH_DATA_DIR/rdata/<package>`, bench.datasets.cache): files checked
   against the SHA-256 recorded in its manifest when they were cached;
3. a download, once: `python -m bench fetch wa_churn` (or any of the four) downloads the Debian
   package (a .deb, checked against the SHA-256 Debian publishes in its Packages index),
   keeps only its data files, and records their checksums; `bench fetch wa_churn --from FILE`
   takes a .deb or a folder holding the package's data files instead.

The R files are read by bench.datasets.rdata (no R needed): a package's lazy-load database
(data/Rdata.rdb + Rdata.rdx, as an installed package with LazyData holds them) or one .rda
per table. Each table comes back as the `file` dataset's tables do: numbers as float64 (a
missing value NaN, filled from the training rows by the harness), categorical columns as text,
declared per table here and tagged `categorical`.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import lzma
import os
import struct
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import lazy_loader
import numpy as np

import bench.datasets.cache as dc
from bench.atomic import atomic_write
from bench.datasets.core import Data, DataError, dataset

pd = lazy_loader.load("pandas")

R_LIBRARIES = ("/usr/lib/R/site-library", "/usr/local/lib/R/site-library", "/usr/lib/R/library")
LIBRARY_ENV = "BENCH_R_LIBRARY"  # another R library folder to look in first (os.pathsep-separated)
LAZY_DB = ("Rdata.rdb", "Rdata.rdx")


@dataclass(frozen=True)
class RPackage:
    name: str  # the R package
    deb: str  # Debian's binary package file, in its pool
    sha256: str  # as Debian's Packages index publishes it
    size: int


DEBIAN_POOL = "https://deb.debian.org/debian/pool/main/r/"
PACKAGES = {
    "modeldata": RPackage(
        "modeldata", "r-cran-modeldata/r-cran-modeldata_1.1.0-1_all.deb",
        "66c2e08bb4bf695d972b1e72ea44d5af9ada3c42841793d3871017f7b896bf95", 4_253_384,
    ),
    "AER": RPackage(
        "AER", "r-cran-aer/r-cran-aer_1.2-10-1_all.deb",
        "c75319e132fbb7e3d002ef6c2933507046c66877bea8d5029e599757ae36c709", 2_590_300,
    ),
}


@dataclass(frozen=True)
class RTable:
    name: str  # the dataset's name here
    package: str
    obj: str  # the R object's name
    target: str
    task: str
    rows: int
    categorical: tuple[str, ...]  # the columns that are categories (declared, not guessed)
    description: str
    log_target: bool = False  # regression on log(target)


TABLES = {
    "wa_churn": RTable(
        "wa_churn", "modeldata", "wa_churn", "churn", "classification", 7043,
        ("multiple_lines", "internet_service", "online_security", "online_backup", "device_protection",
         "tech_support", "streaming_tv", "streaming_movies", "contract", "payment_method"),
        "IBM Watson telco churn: 7,043 customers, 19 features (10 categorical), churned or not (R modeldata)",
    ),
    "mlc_churn": RTable(
        "mlc_churn", "modeldata", "mlc_churn", "churn", "classification", 5000,
        ("state", "area_code", "international_plan", "voice_mail_plan"),
        "MLC++ telecom churn: 5,000 customers, 19 features (4 categorical, one of 51 states), churned or not (R modeldata)",
    ),
    "lending_club": RTable(
        "lending_club", "modeldata", "lending_club", "Class", "classification", 9857,
        ("term", "sub_grade", "addr_state", "verification_status", "emp_length"),
        "Lending Club loans: 9,857 loans, 22 features (5 categorical), good or bad, 5% bad (R modeldata)",
    ),
    "cps1988": RTable(
        "cps1988", "AER", "CPS1988", "wage", "regression", 28155,
        ("ethnicity", "smsa", "region", "parttime"),
        "US Current Population Survey 1988: 28,155 men, 6 features (4 categorical), log weekly wage (R AER)",
        log_target=True,
    ),
}


# -- reading R's lazy-load databases (installed packages' data/Rdata.rdb + .rdx) ----------------

def _unserialize(raw: bytes, where: str):
    """The object of R's serialize() bytes (XDR format, "X\\n" first)."""
    from bench.datasets import rdata

    if raw[:2] != b"X\n":
        raise DataError(f"{where}: not R serialised data in XDR format")
    r = rdata._Reader(raw[2:], where)
    version = r.int()
    r.int(), r.int()  # writer's R version, oldest R that reads it
    if version == 3:
        r.take(r.int())  # native encoding
    return r.item()


def _named(obj, where: str) -> dict:
    from bench.datasets import rdata

    if not isinstance(obj, rdata._RObject) or "names" not in obj.attrs:
        raise DataError(f"{where}: not a named R list")
    names = obj.attrs["names"]
    names = names.value if isinstance(names, rdata._RObject) else names
    return dict(zip(names, obj.value, strict=True))


def _decompress(block: bytes, kind: int, where: str) -> bytes:
    """One value of a lazy-load database: its length, then (R's compression 2 or 3) a type byte, then the data."""
    if len(block) < 5:
        raise DataError(f"{where}: truncated lazy-load entry")
    length = struct.unpack(">I", block[:4])[0]
    try:
        if kind == 1:
            out = zlib.decompress(block[4:])
        else:
            method, data = block[4:5], block[5:]
            if method == b"Z":  # xz: a raw LZMA2 stream, R's preset 6
                out = lzma.decompress(data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 6}])
            elif method == b"2":
                import bz2

                out = bz2.decompress(data)
            elif method == b"1":
                out = zlib.decompress(data)
            elif method == b"0":
                out = data
            else:
                raise DataError(f"{where}: unknown compression {method!r} in a lazy-load database")
    except (lzma.LZMAError, zlib.error, OSError, EOFError, ValueError) as exc:
        raise DataError(f"{where}: corrupt lazy-load entry ({exc})") from None
    if len(out) != length:
        raise DataError(f"{where}: lazy-load entry of {len(out)} bytes, its header says {length}")
    return out


def read_lazy_db(folder: Path, name: str):
    """The R object `name` of the lazy-load database data/Rdata.rdb (+ .rdx) in `folder`."""
    rdx, rdb = folder / "Rdata.rdx", folder / "Rdata.rdb"
    try:
        index = _named(_unserialize(gzip.decompress(rdx.read_bytes()), str(rdx)), str(rdx))
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{rdx}: unreadable ({exc})") from None
    variables = _named(index.get("variables"), f"{rdx} (variables)")
    if name not in variables:
        raise DataError(f"{rdb}: holds no R object {name!r}; it has {', '.join(sorted(variables))}")
    offset, length = (int(v) for v in np.asarray(variables[name])[:2])
    kind = int(np.asarray(index.get("compressed", [1])).ravel()[0])
    with open(rdb, "rb") as fh:
        fh.seek(offset)
        block = fh.read(length)
    if len(block) != length:
        raise DataError(f"{rdb}: truncated ({name!r} needs bytes {offset}-{offset + length})")
    return _unserialize(_decompress(block, kind, f"{rdb} ({name})"), f"{rdb} ({name})")


def _frame(obj, where: str) -> pd.DataFrame:
    from bench.datasets import rdata

    columns = _named(obj, where)
    try:
        return pd.DataFrame({col: rdata._column(v) for col, v in columns.items()})
    except DataError as exc:
        raise DataError(f"{where}: {exc}") from None


def read_table(folder: Path, obj: str) -> pd.DataFrame:
    """The data frame `obj` from a package's data folder: its lazy-load database, else `obj`.rda."""
    if all((folder / f).is_file() for f in LAZY_DB):
        return _frame(read_lazy_db(folder, obj), f"{folder / 'Rdata.rdb'} ({obj})")
    from bench.datasets.rdata import read_rda

    path = folder / f"{obj}.rda"
    frames = read_rda(path)
    if obj not in frames:
        raise DataError(f"{path}: holds no data frame {obj!r}")
    return frames[obj]


# -- where a package's data files are --------------------------------------------------------

def _files(table: RTable) -> list[str]:
    return list(LAZY_DB) if table.package == "modeldata" else [f"{table.obj}.rda"]


def _has(folder: Path, table: RTable) -> bool:
    return all((folder / f).is_file() for f in _files(table))


def system_dirs(package: str) -> list[Path]:
    extra = [p for p in os.environ.get(LIBRARY_ENV, "").split(os.pathsep) if p]
    return [Path(lib) / package / "data" for lib in (*extra, *R_LIBRARIES)]


def cache_folder(package: str, cache_dir: str = "") -> Path:
    return dc.data_dir(cache_dir) / "rdata" / package


def _fetch_hint(table: RTable) -> str:
    return f"python -m bench fetch {table.name}"


def locate(table: RTable, cache_dir: str = "") -> tuple[Path, str] | None:
    """(folder, what it is): the installed package's data first, then the cache; None when neither has it."""
    for folder in system_dirs(table.package):
        if _has(folder, table):
            return folder, "installed"
    folder = cache_folder(table.package, cache_dir)
    if _has(folder, table) and dc.read_manifest(folder) is not None:
        return folder, "cache"
    return None


# -- fetching: Debian's package, checked, its data files kept ---------------------------------

def deb_members(deb: bytes, where: str, wanted: list[str]) -> dict[str, bytes]:
    """Files with these base names under a data/ folder of a Debian package's data.tar.*."""
    if deb[:8] != b"!<arch>\n":
        raise dc.FetchError(f"{where}: not a Debian package (an ar archive)")
    pos, data = 8, None
    while pos + 60 <= len(deb):
        header = deb[pos : pos + 60]
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError:
            raise dc.FetchError(f"{where}: damaged ar header at byte {pos}") from None
        if name.startswith("data.tar"):
            data = deb[pos + 60 : pos + 60 + size]
            break
        pos += 60 + size + (size % 2)
    if data is None:
        raise dc.FetchError(f"{where}: a Debian package without data.tar")
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                parts = member.name.split("/")
                if member.isfile() and len(parts) >= 2 and parts[-2] == "data" and parts[-1] in wanted:
                    found[parts[-1]] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError) as exc:
        raise dc.FetchError(f"{where}: unreadable data.tar ({exc})") from None
    return found


def _store(table: RTable, found: dict[str, bytes], source: str, cache_dir: str) -> Path:
    """The package's data files into the cache, checked readable first, with their manifest last."""
    folder = cache_folder(table.package, cache_dir)
    stage = folder / ".partial"
    stage.mkdir(parents=True, exist_ok=True)
    names = sorted(found)
    for fname in names:
        atomic_write(stage / fname, found[fname])
    _checked(read_table(stage, table.obj), table, str(stage))  # the table asked for reads from what is kept
    for fname in names:
        os.replace(stage / fname, folder / fname)
    stage.rmdir()
    dc.write_manifest(folder, names, source)
    return folder


def _package_files(table: RTable) -> list[str]:
    return sorted({f for t in TABLES.values() if t.package == table.package for f in _files(t)})


def fetch(table: RTable, cache_dir: str = "", progress: bool = False) -> str:
    found = locate(table, cache_dir)
    if found is not None:
        folder, kind = found
        if kind == "cache":
            dc.verify_manifest(folder, table.name, _fetch_hint(table))
        return f"{table.name}: {kind} copy in {folder}"
    package = PACKAGES[table.package]
    folder = cache_folder(table.package, cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    deb = folder / Path(package.deb).name
    url = DEBIAN_POOL + package.deb
    try:
        dc.download(url, deb, sha256=package.sha256, progress=progress)
        members = deb_members(deb.read_bytes(), url, _package_files(table))
        _store(table, members, f"{url} (sha256 {package.sha256})", cache_dir)
    finally:
        with contextlib.suppress(OSError):
            deb.unlink()
    return f"{table.name}: downloaded {url} (checksum verified) and kept its data files in {folder}"


def import_from(table: RTable, path: Path, cache_dir: str = "") -> str:
    """From a Debian package file, or a folder (an R library, a package, its data folder) holding the files."""
    wanted = _package_files(table)
    if path.is_file():
        raw = path.read_bytes()
        found = deb_members(raw, str(path), wanted)
    else:
        found = dc.find_members(path, wanted)
    missing = [f for f in _files(table) if f not in found]
    if missing:
        raise dc.FetchError(f"{path}: holds no {', '.join(missing)} (R package {table.package}'s data)")
    folder = _store(table, found, f"imported from {path}", cache_dir)
    return f"{table.name}: imported from {path} into {folder} (checked)"


def _source(table: RTable) -> dc.Source:
    def cached() -> list[str]:
        found = locate(table)
        return [f"{found[0]} ({found[1]}, R package {table.package})"] if found else []

    return dc.Source(
        locate=lambda params: (lambda f: str(f[0]) if f else None)(locate(table, params.get("cache_dir", ""))),
        fetch=lambda params, progress: fetch(table, params.get("cache_dir", ""), progress),
        spec=lambda params: table.name,
        args=lambda arg: {},
        cached=cached,
        folder=lambda params: cache_folder(table.package, params.get("cache_dir", "")),
        import_from=lambda params, path: import_from(table, Path(path), params.get("cache_dir", "")),
    )


# -- the tables as the models get them -------------------------------------------------------

def _checked(frame: pd.DataFrame, table: RTable, where: str) -> pd.DataFrame:
    needed = [table.target, *table.categorical]
    absent = [c for c in needed if c not in frame.columns]
    if absent:
        raise DataError(f"{where}: table {table.obj!r} has no column {', '.join(map(repr, absent))}")
    if len(frame) != table.rows:
        raise DataError(f"{where}: table {table.obj!r} has {len(frame):,} rows; {table.name} has {table.rows:,}")
    return frame


def to_data(frame: pd.DataFrame, table: RTable, where: str) -> Data:
    """Features (numbers float64, declared categories as text) and the target of one table."""
    frame = _checked(frame, table, where)
    X = frame.drop(columns=[table.target])
    out = {}
    for col in X.columns:
        s = X[col]
        if col in table.categorical:
            text = s.astype(object)
            present = s.notna().to_numpy()
            values = np.full(len(s), np.nan, dtype=object)
            values[present] = [str(v) for v in text[present]]
            out[col] = pd.Series(values, index=s.index)
        else:
            try:
                numbers = pd.to_numeric(s, errors="raise").to_numpy(dtype=np.float64, copy=True)
                # R's NA is a signalling NaN (payload 1954): every reduction over it raises numpy's
                # "invalid value" warning, in every cell; an ordinary NaN means the same.
                with np.errstate(invalid="ignore"):
                    numbers[np.isnan(numbers)] = np.nan
                out[col] = pd.Series(numbers, index=s.index)
            except (ValueError, TypeError):
                raise DataError(f"{where}: column {col!r} of {table.obj!r} is neither numeric nor a declared category") from None
    X = pd.DataFrame(out)
    y = frame[table.target]
    if y.isna().any():
        raise DataError(f"{where}: the target {table.target!r} has {int(y.isna().sum())} missing values")
    if table.task == "regression":
        values = y.to_numpy(dtype=np.float64)
        if table.log_target:
            if (values <= 0).any():
                raise DataError(f"{where}: the target {table.target!r} must be positive to take its log")
            values = np.log(values)
        return Data(X=X, y=values)
    names, codes = np.unique(y.astype(str).to_numpy(), return_inverse=True)
    return Data(X=X, y=codes.astype(np.int64), target_names=tuple(map(str, names)))


def load_table(name: str, cache_dir: str = "") -> Data:
    table = TABLES[name]
    found = locate(table, cache_dir)
    if found is None:
        raise DataError(dc.missing_message(name, {"cache_dir": cache_dir}, "no local copy"))
    folder, kind = found
    if kind == "cache":
        dc.verify_manifest(folder, name, _fetch_hint(table))
    return to_data(read_table(folder, table.obj), table, str(folder))


def _require(name: str):
    return lambda params: dc.require(name, params)


def _register(table: RTable) -> None:
    dc.register(table.name, _source(table))

    def load(cache_dir: str = "") -> Data:
        return load_table(table.name, cache_dir)

    load.__doc__ = table.description
    load.__name__ = table.name
    dataset(
        table.name, task=table.task, modality="tabular", size=table.rows, check=_require(table.name),
        tags=("real", "download", "categorical"),
    )(load)


for _table in TABLES.values():
    _register(_table)
