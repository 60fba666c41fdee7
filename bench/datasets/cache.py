"""Data that may need a download: the cache folder, verified downloads, and what `bench fetch` can fetch.

A downloadable dataset registers a `Source`: how to find a usable local copy (the cache,
or a copy a system package installed), how to fetch one into the cache, and how to import
one from a file or folder (`bench fetch --from`). Every file is checked before it is used:
a download against its published checksum and announced length, a cached file against the
SHA-256 recorded when it was cached. A download that fails a check is discarded, never
cached; writes are atomic, so a kill mid-download leaves nothing half-written behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import stat
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.atomic import atomic_write
from bench.datasets.core import DATASETS, DataError

DATA_ENV = "BENCH_DATA_DIR"
OFFLINE_ENV = "BENCH_OFFLINE"  # set to 1: never try the network (CI, air-gapped clusters)
MANIFEST = "manifest.json"
CHUNK = 1 << 20
TIMEOUT_S = 60


class FetchError(DataError):
    """A download or import that failed; nothing of it was kept."""


def data_dir(override: str = "") -> Path:
    """Where downloaded data sets are cached: the argument, else $BENCH_DATA_DIR, else ~/.cache/bench-data."""
    return Path(override or os.environ.get(DATA_ENV) or Path.home() / ".cache" / "bench-data")


def cache_problem(exc: OSError) -> str:
    """One line on a data cache that cannot be used (a file in its place, a read-only folder or HOME)."""
    from bench.inputs import kind, shown

    root = data_dir()
    origin = f"${DATA_ENV}" if os.environ.get(DATA_ENV) else "the default"
    try:
        mode = os.stat(root).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISDIR(mode):
        reason = f"it is {kind(mode)}, not a folder"
    else:
        reason = f"{shown(exc.filename) if exc.filename else shown(root)}: {exc.strerror or exc}"
    return f"the data cache {shown(root)} ({origin}) cannot be used: {reason}; point {DATA_ENV} at a writable folder"


def check_cache() -> None:
    """Refuse, in one line, a data cache that cannot be created or written (before anything is fetched)."""
    import tempfile

    root = data_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(cache_problem(exc)) from None
    try:
        with tempfile.TemporaryFile(dir=root):
            pass
    except OSError as exc:
        exc.filename = os.fspath(root)  # not the temporary name
        raise FetchError(cache_problem(exc)) from None


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def _progress(label: str, total: int | None, show: bool) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (rich); a no-op when `show` is false."""
    if not show:
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def download(
    url: str, dest: Path, *, md5: str | None = None, sha256: str | None = None, progress: bool = False
) -> Path:
    """Download `url` to `dest`, whole and verified or not at all.

    Checked: the byte count against the announced Content-Length (a truncated transfer),
    and the MD5 or SHA-256 when given (a corrupt or substituted file). A failed check
    raises FetchError and leaves `dest` as it was.
    """
    if offline():
        raise FetchError(f"downloads are switched off ({OFFLINE_ENV} is set)")
    dest.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        hashes = {"md5": hashlib.md5(), "sha256": hashlib.sha256()}
        received = 0
        total = None
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "bench (python urllib)"})
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                with open(tmp, "wb") as out, _progress(dest.name, total, progress) as advance:
                    while block := response.read(CHUNK):
                        out.write(block)
                        for h in hashes.values():
                            h.update(block)
                        received += len(block)
                        advance(len(block))
        except http.client.IncompleteRead as exc:
            raise FetchError(f"{url}: truncated download ({len(exc.partial)} bytes of a block missing); nothing was kept") from None
        except urllib.error.HTTPError as exc:
            raise FetchError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            raise FetchError(f"cannot download {url}: {exc.reason}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"cannot download {url}: {exc}") from None
        if total is not None and received != total:
            raise FetchError(f"{url}: truncated download, {received} of {total} bytes; nothing was kept")
        for name, want in (("md5", md5), ("sha256", sha256)):
            got = hashes[name].hexdigest()
            if want and got != want:
                raise FetchError(f"{url}: checksum mismatch ({name} {got}, expected {want}); the download was discarded")

    return atomic_write(dest, write)


# -- manifests: the checksums of what the cache holds ---------------------------------------


def write_manifest(folder: Path, files: list[str], source: str) -> None:
    """Record the SHA-256 of cached files; written last, it also marks the folder complete."""
    entries = {f: {"sha256": file_digest(folder / f), "bytes": (folder / f).stat().st_size} for f in files}
    doc = {"source": source, "cached_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "files": entries}
    atomic_write(folder / MANIFEST, json.dumps(doc, indent=1, sort_keys=True) + "\n")


def read_manifest(folder: Path) -> dict | None:
    path = folder / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def verify_manifest(folder: Path, what: str, fetch_hint: str) -> dict:
    """The folder's manifest, after checking every file against it; DataError names a corrupt file."""
    doc = read_manifest(folder)
    if doc is None:
        raise DataError(f"{what}: {folder} has no readable {MANIFEST}; delete the folder and run `{fetch_hint}`")
    for name, entry in doc.get("files", {}).items():
        path = folder / name
        if not path.exists():
            raise DataError(f"{what}: cached file {path} is missing; delete {folder} and run `{fetch_hint}`")
        if path.stat().st_size != entry.get("bytes") or file_digest(path) != entry.get("sha256"):
            raise DataError(
                f"{what}: cached file {path} does not match its recorded checksum (corrupt or truncated); "
                f"delete {folder} and run `{fetch_hint}`"
            )
    return doc


# -- finding named files inside a folder or a zip archive (fetch --from) --------------------


def find_members(path: Path, names: list[str]) -> dict[str, bytes]:
    """The contents of files with these base names anywhere inside a folder or a zip archive."""
    found: dict[str, bytes] = {}
    if path.is_dir():
        for root, _dirs, files in os.walk(path):
            for f in files:
                if f in names and f not in found:
                    found[f] = (Path(root) / f).read_bytes()
        return found
    if not path.is_file():
        raise FetchError(f"{path}: no such file or folder")
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                base = info.filename.rsplit("/", 1)[-1]
                if base in names and base not in found:
                    found[base] = archive.read(info)  # checks the member's CRC-32
    except zipfile.BadZipFile as exc:
        raise FetchError(f"{path}: not a readable zip archive ({exc}); give a folder or a .zip") from None
    except (zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise FetchError(f"{path}: cannot be read ({exc})") from None
    return found


# -- the registry of downloadable datasets --------------------------------------------------


@dataclass(frozen=True)
class Source:
    """How a dataset that may need a download is found locally, fetched, imported and listed."""

    locate: Callable[[dict], str | None]  # a usable local copy (a description), or None; no network
    fetch: Callable[[dict, bool], str]  # download into the cache (progress bar?); says what it did
    spec: Callable[[dict], str]  # the `bench fetch` argument for these parameters, e.g. "ucr:GunPoint"
    args: Callable[[str], dict]  # parameters from the part after "NAME:" of a fetch argument
    cached: Callable[[], list[str]]  # what the cache holds for this dataset, one line each
    folder: Callable[[dict], Path]  # the cache folder for these parameters
    import_from: Callable[[dict, Path], str] | None = None  # copy from a local file or folder


SOURCES: dict[str, Source] = {}


def register(name: str, source: Source) -> Source:
    if name in SOURCES:
        raise ValueError(f"download source {name!r} is registered twice")
    SOURCES[name] = source
    return source


def require(name: str, params: dict) -> None:
    """A dataset's `check=`: a local copy, else a download now, else one line saying what to do."""
    src = SOURCES[name]
    try:
        if src.locate(params):
            return
        src.fetch(params, sys.stderr.isatty())
    except FetchError as exc:
        raise DataError(missing_message(name, params, str(exc))) from None
    except OSError as exc:  # the cache itself: a file in its place, a read-only folder
        raise DataError(f"{src.spec(params)} is not in the data cache, and {cache_problem(exc)}") from None


def missing_message(name: str, params: dict, reason: str) -> str:
    src = SOURCES[name]
    spec = src.spec(params)
    folder = src.folder(params)
    return (
        f"{spec} is neither in the cache {folder} nor installed on this machine, and fetching it failed "
        f"({reason}); run `python -m bench fetch {spec}` on a machine with a network and copy its "
        f"cache folder to {data_dir()} (or set {DATA_ENV} to a copy)"
    )


def parse_spec(text: str) -> tuple[str, dict]:
    """`ucr:GunPoint` -> ("ucr", {"name": "GunPoint"}); `mnist` -> ("mnist", {})."""
    name, _, arg = text.partition(":")
    if name not in SOURCES:
        if name in DATASETS:
            raise DataError(f"dataset {name!r} needs no download (it is bundled or generated here)")
        raise DataError(f"unknown dataset {name!r} to fetch; fetchable: {', '.join(sorted(SOURCES))}")
    params = SOURCES[name].args(arg) if arg else {}
    return name, params


def cached_lines() -> list[str]:
    """Every cached dataset, one line each, for `bench list`."""
    lines = []
    for name, src in sorted(SOURCES.items()):
        lines += [f"{name}: {line}" for line in src.cached()]
    return lines
