"""Real-data loaders, offline, on small files the tests make: IDX, UCR .ts/.tsv, OpenML cache files, R data."""

from __future__ import annotations

import gzip
import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.datasets import DATASETS, DataError, load, ucr
from bench.datasets import cache as dc
from bench.datasets import images as im
from bench.datasets import mnist1d as m1
from bench.datasets import openml as om
from bench.datasets.rdata import read_rda

# -- MNIST / Fashion-MNIST: the official split from IDX files ------------------------------


def _write_idx_set(folder, n_train=30, n_test=10, side=28):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        pixels = rng.integers(0, 256, (n, side, side), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        im.write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", pixels)
        im.write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)


@pytest.fixture
def tiny_idx(monkeypatch, tmp_path):
    """MNIST and Fashion-MNIST specs shrunk to 30/10 images, with no system copy and no network."""
    monkeypatch.setenv(dc.DATA_ENV, str(tmp_path / "cache"))
    for name in ("mnist", "fashion_mnist"):
        spec = im.IDX_SETS[name]
        monkeypatch.setitem(im.IDX_SETS, name, im.IdxSet(
            name=name, title=spec.title, base_urls=("https://example.invalid/",), md5={}, raw_sha256={},
            n_train=30, n_test=10, system_dirs=(str(tmp_path / "system" / name),),
        ))
    monkeypatch.setattr(dc.urllib.request, "urlopen", lambda *a, **k: pytest.fail("no network in tests"))
    return tmp_path


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_mnist_format_sets_load_the_official_split_from_the_cache(tiny_idx, name):
    _write_idx_set(tiny_idx / "cache" / name)
    data = load(name, {})
    assert data.X.shape == (40, 784) and data.sample_shape == (28, 28)
    assert data.n_test == 10
    assert 0 <= data.X.min() and data.X.max() <= 1
    test_labels = im.read_idx(tiny_idx / "cache" / name / "t10k-labels-idx1-ubyte.gz")
    np.testing.assert_array_equal(data.y[-10:], test_labels)


def test_a_system_copy_is_used_when_the_cache_is_empty_and_fetch_copies_it(tiny_idx):
    _write_idx_set(tiny_idx / "system" / "fashion_mnist")
    assert load("fashion_mnist", {}).n_test == 10
    assert dc.SOURCES["fashion_mnist"].locate({}) == str(tiny_idx / "system" / "fashion_mnist")
    print(dc.SOURCES["fashion_mnist"].fetch({}, False))
    assert (tiny_idx / "cache" / "fashion_mnist" / "train-images-idx3-ubyte.gz").exists()


def test_mnist_declares_its_official_split_to_the_suite():
    entry = DATASETS["fashion_mnist"]
    assert entry.official_test({}) == 10000 and entry.size({}) == 70000
    assert {"real", "download", "official_split"} <= entry.tags


def test_a_truncated_gzip_is_refused(tiny_idx):
    folder = tiny_idx / "cache" / "mnist"
    _write_idx_set(folder)
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated or corrupt"):
        load("mnist", {})


def test_a_copy_whose_content_differs_from_the_published_one_is_refused(tiny_idx, monkeypatch):
    folder = tiny_idx / "cache" / "fashion_mnist"
    _write_idx_set(folder)
    spec = im.IDX_SETS["fashion_mnist"]
    wrong = {"train-labels-idx1-ubyte.gz": hashlib.sha256(b"something else").hexdigest()}
    monkeypatch.setitem(im.IDX_SETS, "fashion_mnist", im.IdxSet(**{**spec.__dict__, "raw_sha256": wrong}))
    with pytest.raises(DataError, match="checksum mismatch"):
        load("fashion_mnist", {})


def test_wrong_image_counts_are_refused(tiny_idx):
    _write_idx_set(tiny_idx / "cache" / "mnist", n_train=20)
    with pytest.raises(DataError, match="20 training and 10 test images; MNIST has 30 and 10"):
        load("mnist", {})


def test_a_download_is_checked_against_the_published_md5_before_it_is_cached(tiny_idx, monkeypatch):
    src = tiny_idx / "served"
    _write_idx_set(src)
    files = {f.name: f.read_bytes() for f in src.iterdir()}
    md5 = {n: hashlib.md5(b).hexdigest() for n, b in files.items()}
    md5["t10k-labels-idx1-ubyte.gz"] = "0" * 32  # the server hands out a wrong file
    spec = im.IDX_SETS["mnist"]
    monkeypatch.setitem(im.IDX_SETS, "mnist", im.IdxSet(**{**spec.__dict__, "md5": md5}))

    class Response:
        def __init__(self, body):
            self.body, self.headers = body, {"Content-Length": str(len(body))}

        def read(self, n=-1):
            out, self.body = self.body, b""
            return out

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

    monkeypatch.setattr(dc.urllib.request, "urlopen", lambda req, timeout=None: Response(files[req.full_url.rsplit("/", 1)[1]]))
    with pytest.raises(dc.FetchError, match="checksum mismatch"):
        dc.SOURCES["mnist"].fetch({}, False)
    assert not (tiny_idx / "cache" / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()
    md5["t10k-labels-idx1-ubyte.gz"] = hashlib.md5(files["t10k-labels-idx1-ubyte.gz"]).hexdigest()
    assert "downloaded" in dc.SOURCES["mnist"].fetch({}, False)
    assert load("mnist", {}).n_test == 10


def test_idx_round_trip_and_header_checks(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    im.write_idx(tmp_path / "a.gz", array)
    np.testing.assert_array_equal(im.read_idx(tmp_path / "a.gz"), array)
    with gzip.open(tmp_path / "bad.gz", "wb") as fh:
        fh.write(bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big") + b"abc")
    with pytest.raises(DataError, match="holds 3 bytes"):
        im.read_idx(tmp_path / "bad.gz")


# -- MNIST-1D ------------------------------------------------------------------------------


def test_mnist1d_standard_split_is_4000_train_1000_test_of_length_40():
    entry = DATASETS["mnist1d"]
    assert entry.size(entry.defaults) == 5000 and entry.official_test(entry.defaults) == 1000
    data = load("mnist1d", {"n_samples": 200})
    assert data.X.shape == (200, 40) and data.sample_shape == (40,) and data.n_test == 40
    assert sorted(np.bincount(data.y)) == [20] * 10


def test_mnist1d_matches_the_reference_package_draw_for_draw():
    ref = pytest.importorskip("mnist1d.data")
    args = ref.get_dataset_args()
    args.num_samples = 500
    expected = ref.make_dataset(args)
    X, y = m1.make(500)
    np.testing.assert_allclose(X[:400], expected["x"])
    np.testing.assert_allclose(X[400:], expected["x_test"])
    np.testing.assert_array_equal(y[400:], expected["y_test"])


# -- UCR / UEA -----------------------------------------------------------------------------

TS_MULTI = """@problemName Multi
@univariate false
@dimensions 2
@equalLength true
@seriesLength 3
@classLabel true up down
@data
1,2,3:3,2,1:up
3,2,1:1,2,3:down
"""


def _ts(rows: list[tuple[list[float], str]]) -> str:
    head = "@problemName T\n@univariate true\n@equalLength true\n@classLabel true a b c\n@data\n"
    return head + "".join(",".join(map(str, v)) + ":" + label + "\n" for v, label in rows)


@pytest.fixture
def ucr_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(dc.DATA_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(ucr, "PACKAGES", ())
    monkeypatch.setattr(dc.urllib.request, "urlopen", lambda *a, **k: pytest.fail("no network in tests"))
    return tmp_path


def test_a_ucr_ts_set_loads_with_its_official_split(ucr_cache):
    train = _ts([([1, 2, 3, 4], "a"), ([4, 3, 2, 1], "b"), ([0, 1, 0, 1], "c")])
    test = _ts([([1, 2, 3, 5], "a"), ([5, 3, 2, 1], "b")])
    ucr.import_from("T", _folder_with(ucr_cache / "src", {"T_TRAIN.ts": train, "T_TEST.ts": test}))
    data = load("ucr", {"name": "T"})
    assert data.X.shape == (5, 4) and data.sample_shape == (4,) and data.n_test == 2
    assert data.target_names == ("a", "b", "c")
    assert list(data.y) == [0, 1, 2, 0, 1]
    entry = DATASETS["ucr"]
    params = {**entry.defaults, "name": "T"}
    assert entry.size(params) == 5 and entry.official_test(params) == 2


def test_a_multivariate_ts_set_keeps_length_and_channels(ucr_cache):
    ucr.import_from("M", _folder_with(ucr_cache / "src", {"M_TRAIN.ts": TS_MULTI, "M_TEST.ts": TS_MULTI}))
    data = load("ucr", {"name": "M"})
    assert data.sample_shape == (3, 2)
    np.testing.assert_array_equal(data.X[0].reshape(3, 2), [[1, 3], [2, 2], [3, 1]])


def test_a_ucr_tsv_set_loads_from_a_zip(ucr_cache):
    z = ucr_cache / "T.zip"
    with zipfile.ZipFile(z, "w") as archive:
        archive.writestr("T/T_TRAIN.tsv", "1\t0.1\t0.2\t0.3\n2\t0.3\t0.2\t0.1\n")
        archive.writestr("T/T_TEST.tsv", "2\t0.3\t0.2\t0.0\n")
    ucr.import_from("T", z)
    data = load("ucr", {"name": "T"})
    assert data.X.shape == (3, 3) and data.n_test == 1 and data.target_names == ("1", "2")


def test_a_cached_ucr_set_is_read_without_the_archive_again(ucr_cache):
    src = _folder_with(ucr_cache / "src", {"T_TRAIN.ts": _ts([([1, 2], "a"), ([2, 1], "b")]), "T_TEST.ts": _ts([([1, 3], "a")])})
    ucr.import_from("T", src)
    for f in src.iterdir():
        f.unlink()
    assert ucr.locate("T")[2] == "cache"
    assert load("ucr", {"name": "T"}).n_test == 1


def test_unequal_length_series_are_refused_naming_the_file(ucr_cache):
    bad = _ts([([1, 2, 3], "a"), ([1, 2], "b")])
    with pytest.raises(dc.FetchError, match="unequal-length series"):
        ucr.import_from("U", _folder_with(ucr_cache / "src", {"U_TRAIN.ts": bad, "U_TEST.ts": bad}))


def test_a_ucr_download_is_parsed_before_it_is_cached(ucr_cache, monkeypatch):
    z = ucr_cache / "served.zip"
    with zipfile.ZipFile(z, "w") as archive:
        archive.writestr("T_TRAIN.ts", _ts([([1, 2], "a"), ([2, 1], "b")]))
        archive.writestr("T_TEST.ts", "@problemName T\n")  # cut short
    monkeypatch.setattr(dc, "download", lambda url, dest, **k: dest.write_bytes(z.read_bytes()) and dest)
    with pytest.raises(dc.FetchError, match="no @data section"):
        ucr.fetch("T")
    assert ucr.locate("T") is None


def _folder_with(folder, files: dict[str, str]):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


# -- OpenML: cache files -------------------------------------------------------------------


def _cache_openml(root, data_id: int, frame: pd.DataFrame, target: str, name: str = "tiny"):
    folder = root / "openml" / str(data_id)
    folder.mkdir(parents=True)
    frame.to_parquet(folder / om.DATA, index=False)
    meta = {"data_id": data_id, "name": name, "version": 1, "target": target, "n_rows": len(frame)}
    (folder / om.META).write_text(json.dumps(meta))
    dc.write_manifest(folder, [om.DATA, om.META], "test")
    return folder


@pytest.fixture
def openml_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(dc.DATA_ENV, str(tmp_path))
    monkeypatch.setattr(om, "MLBENCH_DIR", tmp_path / "no-mlbench")
    import sklearn.datasets

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", lambda *a, **k: pytest.fail("no network in tests"))
    return tmp_path


def test_an_openml_set_loads_from_the_cache_by_id_and_by_name(openml_cache):
    frame = pd.DataFrame({"x": np.arange(40.0), "colour": ["red", "blue"] * 20, "y": ["no", "yes"] * 20})
    _cache_openml(openml_cache, 999, frame, "y")
    by_id = load("openml", {"data_id": 999, "task": "classification"})
    by_name = load("openml", {"name": "tiny", "task": "classification"})
    assert list(by_id.X.columns) == ["x", "colour"] and by_id.target_names == ("no", "yes")
    pd.testing.assert_frame_equal(by_id.X, by_name.X)
    assert DATASETS["openml"].size({**DATASETS["openml"].defaults, "data_id": 999, "task": "classification"}) == 40


def test_missing_values_are_refused_unless_their_rows_are_dropped(openml_cache):
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0, 4.0] * 5, "y": [0.5, 1.5, 2.5, 3.5] * 5})
    _cache_openml(openml_cache, 998, frame, "y")
    with pytest.raises(DataError, match="openml:998 .tiny.: .*dropna = true"):
        load("openml", {"data_id": 998, "task": "regression"})
    assert len(load("openml", {"data_id": 998, "task": "regression", "dropna": True}).y) == 15


def test_a_corrupted_openml_cache_is_reported(openml_cache):
    folder = _cache_openml(openml_cache, 997, pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}), "y")
    (folder / om.DATA).write_bytes(b"garbage")
    with pytest.raises(DataError, match="does not match its recorded checksum"):
        load("openml", {"data_id": 997, "task": "classification"})


def test_an_openml_set_neither_cached_nor_reachable_names_the_fetch_command(openml_cache, monkeypatch):
    monkeypatch.setenv(dc.OFFLINE_ENV, "1")
    with pytest.raises(DataError, match=r"credit is neither in the cache .*openml/44089.*python -m bench fetch credit"):
        DATASETS["credit"].check({"cache_dir": ""})


def test_named_tabular_entries_cover_both_tasks_and_medium_sizes():
    tasks = {om.NAMED[k].task for k in om.NAMED}
    medium = [k for k, e in om.NAMED.items() if 5000 <= e.rows <= 50000]
    assert tasks == {"classification", "regression"} and len(medium) >= 6
    for key in om.NAMED:
        assert {"real", "download"} <= DATASETS[key].tags


# -- R data files (r-cran-mlbench's offline copies) ----------------------------------------


def _xdr_int(*values: int) -> bytes:
    return b"".join(int(v).to_bytes(4, "big", signed=True) for v in values)


def _charsxp(text: str) -> bytes:
    return _xdr_int(0x00040009, len(text)) + text.encode()


def _strsxp(items: list[str]) -> bytes:
    return _xdr_int(16, len(items)) + b"".join(_charsxp(s) for s in items)


def _attr_pair(tag: str, value: bytes, last: bool) -> bytes:
    # LISTSXP with a tag (flag bit 10), the tag a SYMSXP, then the value, then the rest
    return _xdr_int(2 | (1 << 10), 1) + _charsxp(tag) + value + (_xdr_int(254) if last else b"")


def _rda_frame() -> bytes:
    """saveRDS-style bytes of list(df = data.frame(num = c(1.5, 2.5), f = factor(c("b", "a"))))."""
    num = _xdr_int(14, 2) + np.array([1.5, 2.5], dtype=">f8").tobytes()
    factor_attrs = _attr_pair("levels", _strsxp(["a", "b"]), False) + _attr_pair("class", _strsxp(["factor"]), True)
    fac = _xdr_int(13 | (1 << 9) | (1 << 8), 2) + _xdr_int(2, 1) + factor_attrs
    frame_attrs = (_attr_pair("names", _strsxp(["num", "f"]), False)
                   + _attr_pair("class", _strsxp(["data.frame"]), False)
                   + _attr_pair("row.names", _xdr_int(13, 2, -(2**31), -2), True))
    frame = _xdr_int(19 | (1 << 9) | (1 << 8), 2) + num + fac + frame_attrs
    body = _xdr_int(2, 0x040202, 0x020300) + _xdr_int(2 | (1 << 10), 1) + _charsxp("df") + frame + _xdr_int(254)
    return gzip.compress(b"RDX2\nX\n" + body)


def test_r_data_frames_with_factors_are_read(tmp_path):
    path = tmp_path / "df.rda"
    path.write_bytes(_rda_frame())
    frames = read_rda(path)
    assert list(frames) == ["df"]
    df = frames["df"]
    assert list(df["num"]) == [1.5, 2.5] and list(df["f"]) == ["b", "a"]


def test_a_truncated_r_data_file_is_refused(tmp_path):
    path = tmp_path / "df.rda"
    path.write_bytes(gzip.compress(gzip.decompress(_rda_frame())[:60]))
    with pytest.raises(DataError, match="truncated R data"):
        read_rda(path)


def test_uci_entries_load_offline_from_mlbench_through_the_cache(tmp_path, monkeypatch):
    if not (om.MLBENCH_DIR / "Shuttle.rda").exists():
        pytest.skip("Debian's r-cran-mlbench is not installed")
    monkeypatch.setenv(dc.DATA_ENV, str(tmp_path))
    monkeypatch.setenv(dc.OFFLINE_ENV, "1")
    DATASETS["shuttle"].check({"cache_dir": ""})
    data = load("shuttle", {})
    assert data.X.shape == (58000, 9) and len(data.target_names) == 7
    assert "r-cran-mlbench" in dc.read_manifest(tmp_path / "openml" / "40685")["source"]


FASHION_SYSTEM = Path(im.IDX_SETS["fashion_mnist"].system_dirs[0])


@pytest.mark.skipif(not (FASHION_SYSTEM / "t10k-labels-idx1-ubyte.gz").exists(),
                    reason="Debian's dataset-fashion-mnist is not installed (.ci/run installs it)")
def test_one_real_cell_on_the_installed_fashion_mnist(write_suite, tmp_path, monkeypatch):
    """The real files, through the whole harness: the official 10,000 test images, a real score."""
    from bench.execution.runner import run
    from bench.suite import load as load_suite

    monkeypatch.setenv(dc.DATA_ENV, str(tmp_path / "cache"))  # the system copy, not a cache
    monkeypatch.setenv(dc.OFFLINE_ENV, "1")
    path = write_suite("""
        [suite]
        seeds = [0]
        train_sizes = [500]
        threads = 1
        time_limit_s = 300
        limit = "cpu"
        [datasets.fashion_mnist]
        [models.logistic_regression]
        max_iter = 200
    """)
    df = run(load_suite(path), tmp_path / "out", progress=False).table
    row = df.iloc[0]
    assert len(df) == 1 and row["status"] == "ok", row.get("info")
    assert row["n_train"] == 500 and row["n_test"] == 10_000
    assert 0.70 < row["score"] < 0.95  # logistic regression on 500 images: about 0.80
