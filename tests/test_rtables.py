"""Real tables with categories from R packages (bench.datasets.rtables): reading, caching, fetching.

The tests write their own small R files (a data frame serialised as R does, in a lazy-load
database or an .rda) and their own small Debian package; they never need R, the Debian package
or a network. One test reads the installed r-cran-modeldata where it is installed (.ci/run
installs it) and skips, saying so, where it is not.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import lzma
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.datasets import DATASETS, DataError
from bench.datasets import cache as dc
from bench.datasets import rtables as rt

NA_INT = -(2**31)


# -- a small R serialiser (XDR, format 2): data frames of doubles, integers, strings and factors --

def _int(*values: int) -> bytes:
    return b"".join(int(v).to_bytes(4, "big", signed=True) for v in values)


def _chars(text: str | None) -> bytes:
    if text is None:
        return _int(9, -1)  # NA_STRING
    raw = text.encode()
    return _int(0x00040009, len(raw)) + raw


def _strings(items) -> bytes:
    return _int(16, len(items)) + b"".join(_chars(s) for s in items)


def _attrs(pairs: list[tuple[str, bytes]]) -> bytes:
    out = b""
    for tag, value in pairs:  # LISTSXP with a tag: the tag a SYMSXP, then the value, then the rest
        out += _int(2 | (1 << 10), 1) + _chars(tag) + value
    return out + _int(254)


def _column(values) -> bytes:
    if isinstance(values, tuple) and values[0] == "factor":
        levels = sorted({v for v in values[1] if v is not None})
        codes = [NA_INT if v is None else levels.index(v) + 1 for v in values[1]]
        return (_int(13 | (1 << 9) | (1 << 8), len(codes), *codes)
                + _attrs([("levels", _strings(levels)), ("class", _strings(["factor"]))]))
    if all(isinstance(v, str) or v is None for v in values):
        return _strings(values)
    if all(isinstance(v, int) for v in values):
        return _int(13, len(values), *values)
    return _int(14, len(values)) + np.asarray(values, dtype=">f8").tobytes()


def serialize_frame(columns: dict) -> bytes:
    """R's serialize() of data.frame(columns): "X\\n", the header, the object."""
    n = len(next(iter(columns.values())))
    values = columns.values()
    body = b"".join(_column(v) for v in values)
    frame = (_int(19 | (1 << 9) | (1 << 8), len(columns)) + body
             + _attrs([("names", _strings(list(columns))), ("class", _strings(["tbl_df", "tbl", "data.frame"])),
                       ("row.names", _int(13, 2, NA_INT, -n))]))
    return b"X\n" + _int(2, 0x040202, 0x020300) + frame


def _named_list(items: list[tuple[str, bytes]]) -> bytes:
    return (_int(19 | (1 << 9), len(items)) + b"".join(v for _, v in items)
            + _attrs([("names", _strings([k for k, _ in items]))]))


def write_lazy_db(folder: Path, frames: dict[str, dict]) -> None:
    """data/Rdata.rdb + Rdata.rdx as R's makeLazyLoadDB writes them with xz compression."""
    folder.mkdir(parents=True, exist_ok=True)
    rdb, variables = b"", []
    for name, columns in frames.items():
        raw = serialize_frame(columns)
        packed = lzma.compress(raw, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 6}])
        block = len(raw).to_bytes(4, "big") + b"Z" + packed
        variables.append((name, _int(13, 2, len(rdb), len(block))))
        rdb += block
    index = _named_list([("variables", _named_list(variables)), ("references", _int(19, 0)), ("compressed", _int(13, 1, 3))])
    (folder / "Rdata.rdb").write_bytes(rdb)
    (folder / "Rdata.rdx").write_bytes(gzip.compress(b"X\n" + _int(2, 0x040202, 0x020300) + index))


def write_rda(path: Path, name: str, columns: dict) -> None:
    frame = serialize_frame(columns)[2 + 12:]
    body = _int(2, 0x040202, 0x020300) + _int(2 | (1 << 10), 1) + _chars(name) + frame + _int(254)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(b"RDX2\nX\n" + body))


def write_deb(path: Path, files: dict[str, bytes]) -> bytes:
    """A Debian package (ar: debian-binary, control.tar.xz, data.tar.xz) holding `files` (paths -> bytes)."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:xz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo("./" + name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    members = [("debian-binary", b"2.0\n"), ("control.tar.xz", lzma.compress(b"")), ("data.tar.xz", data.getvalue())]
    out = b"!<arch>\n"
    for name, content in members:
        header = f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(content):<10}`\n".encode()
        out += header + content + (b"\n" if len(content) % 2 else b"")
    path.write_bytes(out)
    return out


# -- small tables shaped like the real ones -------------------------------------------------------

N = 40


def _churn_columns(n: int = N) -> dict:
    rng = np.random.default_rng(0)
    contract = [["Month-to-month", "One year", "Two year"][i % 3] for i in range(n)]
    cols = {"churn": ("factor", ["Yes" if i % 4 == 0 else "No" for i in range(n)])}
    for c in rt.TABLES["wa_churn"].categorical:
        cols[c] = ("factor", contract) if c == "contract" else [("No", "Yes", None)[i % 3] if c == "tech_support" else ("A", "B")[i % 2] for i in range(n)]
    cols["tenure"] = [int(i) for i in range(n)]
    charges = rng.normal(50, 10, size=n).tolist()
    charges[3] = float("nan")  # R's NA_real_ is a NaN
    cols["total_charges"] = charges
    return cols


@pytest.fixture
def small_wa_churn(monkeypatch):
    """wa_churn declared at N rows, so a small file is a whole table."""
    monkeypatch.setitem(rt.TABLES, "wa_churn", dataclasses.replace(rt.TABLES["wa_churn"], rows=N))
    return rt.TABLES["wa_churn"]


@pytest.fixture
def no_system_copy(monkeypatch, tmp_path):
    """No installed R package is seen, the cache is empty, and the network is not used."""
    monkeypatch.setattr(rt, "R_LIBRARIES", ())
    monkeypatch.delenv(rt.LIBRARY_ENV, raising=False)
    monkeypatch.setenv(dc.DATA_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


# -- reading ------------------------------------------------------------------------------------

def test_a_lazy_load_database_table_reads_with_its_types(tmp_path):
    write_lazy_db(tmp_path, {"other": {"a": [1.0, 2.0]}, "wa_churn": _churn_columns()})
    frame = rt.read_table(tmp_path, "wa_churn")
    assert frame.shape == (N, 2 + len(rt.TABLES["wa_churn"].categorical) + 1)
    assert list(frame["contract"][:3]) == ["Month-to-month", "One year", "Two year"]
    assert frame["tenure"].tolist() == list(range(N)) and np.isnan(frame["total_charges"][3])
    assert pd.isna(frame["tech_support"][2])  # NA_character_
    assert rt.read_table(tmp_path, "other")["a"].tolist() == [1.0, 2.0]


def test_a_table_as_the_models_get_it_keeps_declared_categories_as_text(small_wa_churn, tmp_path):
    write_lazy_db(tmp_path, {"wa_churn": _churn_columns()})
    data = rt.to_data(rt.read_table(tmp_path, "wa_churn"), small_wa_churn, str(tmp_path))
    X = data.X
    text = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    assert set(text) == set(small_wa_churn.categorical)
    assert X["tenure"].dtype == np.float64 and np.isnan(X["total_charges"][3])
    assert pd.isna(X["tech_support"][2])  # missing stays missing: the harness fills it from training rows
    assert data.target_names == ("No", "Yes") and data.y.tolist() == [1 if i % 4 == 0 else 0 for i in range(N)]


def test_a_regression_table_takes_the_log_of_its_target(tmp_path):
    table = dataclasses.replace(rt.TABLES["cps1988"], rows=3)
    write_rda(tmp_path / "CPS1988.rda", "CPS1988", {
        "wage": [100.0, 200.0, 400.0], "education": [12, 16, 9],
        **{c: ("factor", ["a", "b", "a"]) for c in table.categorical},
    })
    data = rt.to_data(rt.read_table(tmp_path, "CPS1988"), table, str(tmp_path))
    assert np.allclose(data.y, np.log([100.0, 200.0, 400.0])) and data.target_names is None


def test_damaged_or_mismatched_files_are_refused_in_one_line(small_wa_churn, tmp_path):
    write_lazy_db(tmp_path, {"wa_churn": _churn_columns()})
    with pytest.raises(DataError, match=r"holds no R object 'ames'; it has wa_churn"):
        rt.read_table(tmp_path, "ames")
    rdb = tmp_path / "Rdata.rdb"
    rdb.write_bytes(rdb.read_bytes()[:-50])
    with pytest.raises(DataError, match=r"Rdata.rdb: truncated \('wa_churn' needs bytes"):
        rt.read_table(tmp_path, "wa_churn")
    write_lazy_db(tmp_path, {"wa_churn": _churn_columns(N - 1)})
    with pytest.raises(DataError, match=f"has {N - 1} rows; wa_churn has {N}"):
        rt.to_data(rt.read_table(tmp_path, "wa_churn"), small_wa_churn, "here")
    columns = _churn_columns()
    del columns["contract"]
    write_lazy_db(tmp_path, {"wa_churn": columns})
    with pytest.raises(DataError, match="has no column 'contract'"):
        rt.to_data(rt.read_table(tmp_path, "wa_churn"), small_wa_churn, "here")


# -- where the files come from: installed package, cache, download ------------------------------

def test_the_installed_package_is_read_in_place(small_wa_churn, no_system_copy, tmp_path, monkeypatch):
    library = tmp_path / "Rlib"
    write_lazy_db(library / "modeldata" / "data", {"wa_churn": _churn_columns()})
    monkeypatch.setenv(rt.LIBRARY_ENV, str(library))
    assert rt.locate(small_wa_churn) == (library / "modeldata" / "data", "installed")
    assert rt.load_table("wa_churn").X.shape == (N, len(_churn_columns()) - 1)
    assert not no_system_copy.exists()  # nothing copied into the cache


def _served_deb(tmp_path, monkeypatch, columns: dict) -> bytes:
    """A Debian package of modeldata's data files at a file:// pool, with its published checksum."""
    folder = tmp_path / "built"
    write_lazy_db(folder, {"wa_churn": columns})
    pool = tmp_path / "pool"
    deb_name = Path(rt.PACKAGES["modeldata"].deb)
    (pool / deb_name.parent).mkdir(parents=True)
    files = {f"usr/lib/R/site-library/modeldata/data/{f}": (folder / f).read_bytes() for f in rt.LAZY_DB}
    files["usr/lib/R/site-library/modeldata/DESCRIPTION"] = b"Package: modeldata\n"
    raw = write_deb(pool / deb_name, files)
    package = dataclasses.replace(rt.PACKAGES["modeldata"], sha256=hashlib.sha256(raw).hexdigest(), size=len(raw))
    monkeypatch.setitem(rt.PACKAGES, "modeldata", package)
    monkeypatch.setattr(rt, "DEBIAN_POOL", pool.as_uri() + "/")
    monkeypatch.delenv(dc.OFFLINE_ENV, raising=False)
    return raw


def test_a_download_is_checked_then_only_its_data_files_are_cached(small_wa_churn, no_system_copy, tmp_path, monkeypatch):
    _served_deb(tmp_path, monkeypatch, _churn_columns())
    message = rt.fetch(small_wa_churn)
    assert "checksum verified" in message
    folder = no_system_copy / "rdata" / "modeldata"
    assert sorted(p.name for p in folder.iterdir()) == ["Rdata.rdb", "Rdata.rdx", dc.MANIFEST]
    assert rt.locate(small_wa_churn) == (folder, "cache")
    assert rt.load_table("wa_churn").X.shape[0] == N
    assert "cache copy" in rt.fetch(small_wa_churn)  # fetched once: a second fetch only checks the copy
    # a cached file that changed is refused, naming it and the fix
    raw = (folder / "Rdata.rdb").read_bytes()
    (folder / "Rdata.rdb").write_bytes(raw[:-1] + bytes([raw[-1] ^ 0xFF]))
    with pytest.raises(DataError, match=r"Rdata.rdb does not match its recorded checksum.*bench fetch wa_churn"):
        rt.load_table("wa_churn")


def test_a_download_that_fails_its_checksum_leaves_nothing(small_wa_churn, no_system_copy, tmp_path, monkeypatch):
    _served_deb(tmp_path, monkeypatch, _churn_columns())
    monkeypatch.setitem(rt.PACKAGES, "modeldata", dataclasses.replace(rt.PACKAGES["modeldata"], sha256="0" * 64))
    with pytest.raises(dc.FetchError, match="checksum mismatch"):
        rt.fetch(small_wa_churn)
    folder = no_system_copy / "rdata" / "modeldata"
    assert not folder.exists() or not any(folder.iterdir())
    assert rt.locate(small_wa_churn) is None


def test_offline_without_a_copy_the_dataset_says_how_to_get_one(no_system_copy, monkeypatch):
    monkeypatch.setenv(dc.OFFLINE_ENV, "1")
    with pytest.raises(DataError, match=r"wa_churn is neither in the cache .*rdata/modeldata.*python -m bench fetch wa_churn"):
        DATASETS["wa_churn"].check({"cache_dir": ""})


def test_import_from_a_deb_or_a_folder(small_wa_churn, no_system_copy, tmp_path, monkeypatch):
    raw = _served_deb(tmp_path, monkeypatch, _churn_columns())
    deb = tmp_path / "copy.deb"
    deb.write_bytes(raw)
    assert "imported" in rt.import_from(small_wa_churn, deb)
    assert rt.load_table("wa_churn").X.shape[0] == N
    folder = tmp_path / "some" / "modeldata" / "data"
    write_lazy_db(folder, {"wa_churn": _churn_columns()})
    assert "imported" in rt.import_from(small_wa_churn, tmp_path / "some")
    with pytest.raises(dc.FetchError, match="not a Debian package"):
        rt.import_from(small_wa_churn, tmp_path / "some" / "modeldata" / "data" / "Rdata.rdx")
    (tmp_path / "empty").mkdir()
    with pytest.raises(dc.FetchError, match=r"holds no Rdata.rdb, Rdata.rdx"):
        rt.import_from(small_wa_churn, tmp_path / "empty")


def test_the_tables_are_registered_with_their_categories_declared():
    for name, table in rt.TABLES.items():
        entry = DATASETS[name]
        assert {"real", "download", "categorical"} <= entry.tags
        assert entry.size({}) == table.rows and 5000 <= table.rows <= 60000
        assert entry.task == table.task and len(table.categorical) >= 3
    assert {t.task for t in rt.TABLES.values()} == {"classification", "regression"}


MODELDATA = Path("/usr/lib/R/site-library/modeldata/data/Rdata.rdb")


@pytest.mark.skipif(not MODELDATA.exists(), reason="Debian's r-cran-modeldata is not installed (.ci/run installs it)")
def test_the_installed_modeldata_tables_load_whole():
    for name, width in (("wa_churn", 19), ("mlc_churn", 19), ("lending_club", 22)):
        data = rt.load_table(name)
        table = rt.TABLES[name]
        assert data.X.shape == (table.rows, width)
        text = {c for c in data.X.columns if not pd.api.types.is_numeric_dtype(data.X[c])}
        assert text == set(table.categorical)
        assert len(data.target_names) == 2 and 0 < data.y.mean() < 1


def test_r_missing_numbers_become_ordinary_nans_that_reductions_read_quietly():
    # R writes NA as a signalling NaN (payload 1954): numpy warned "invalid value" on every
    # reduction over such a column, in every cell of wa_churn.
    table = dataclasses.replace(rt.TABLES["cps1988"], rows=3)
    r_na = np.array([0x7FF00000000007A2], dtype=np.uint64).view(np.float64)[0]
    frame = pd.DataFrame({"wage": [100.0, 200.0, 400.0], "education": [12.0, r_na, 9.0],
                          **{c: ["a", "b", "a"] for c in table.categorical}})
    data = rt.to_data(frame, table, "here")
    column = data.X["education"].to_numpy()
    with np.errstate(invalid="raise"):
        assert np.nanmax(column) == 12.0 and np.isnan(column).sum() == 1
        assert np.isnan(column.max())
