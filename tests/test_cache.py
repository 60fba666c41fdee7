"""The download cache: verified downloads, manifests, offline errors, `bench fetch`; no network is used."""

from __future__ import annotations

import hashlib
import io
import json
import urllib.error

import numpy as np
import pytest

from bench.__main__ import main
from bench.datasets import DataError, split, stratified_order, ucr
from bench.datasets import cache as dc

GUNPOINT_TS = """# a tiny .ts file made by the test
@problemName Tiny
@timeStamps false
@univariate true
@equalLength true
@seriesLength 4
@classLabel true a b
@data
1.0,2.0,3.0,4.0:a
4.0,3.0,2.0,1.0:b
1.5,2.5,3.5,4.5:a
"""


class FakeResponse(io.BytesIO):
    def __init__(self, body: bytes, length: int | None):
        super().__init__(body)
        self.headers = {"Content-Length": str(length)} if length is not None else {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def serve(monkeypatch, body: bytes, length: int | None = None):
    """Answer every urlopen with `body`, announcing `length` bytes (default: the body's)."""
    calls = []

    def urlopen(request, timeout=None):
        calls.append(request.full_url)
        return FakeResponse(body, len(body) if length is None else length)

    monkeypatch.setattr(dc.urllib.request, "urlopen", urlopen)
    return calls


def no_network(monkeypatch):
    def urlopen(request, timeout=None):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(dc.urllib.request, "urlopen", urlopen)


def test_a_download_matching_its_checksum_is_kept(tmp_path, monkeypatch):
    body = b"payload" * 100
    serve(monkeypatch, body)
    path = dc.download("https://x/f.bin", tmp_path / "f.bin", sha256=hashlib.sha256(body).hexdigest())
    assert path.read_bytes() == body


def test_a_checksum_mismatch_is_refused_and_nothing_is_kept(tmp_path, monkeypatch):
    serve(monkeypatch, b"tampered")
    with pytest.raises(dc.FetchError, match="checksum mismatch"):
        dc.download("https://x/f.bin", tmp_path / "f.bin", md5=hashlib.md5(b"original").hexdigest())
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_download_is_refused_and_nothing_is_kept(tmp_path, monkeypatch):
    serve(monkeypatch, b"only part", length=1000)
    with pytest.raises(dc.FetchError, match="truncated download, 9 of 1000 bytes"):
        dc.download("https://x/f.bin", tmp_path / "f.bin")
    assert list(tmp_path.iterdir()) == []


def test_offline_mode_never_touches_the_network(tmp_path, monkeypatch):
    calls = serve(monkeypatch, b"x")
    monkeypatch.setenv(dc.OFFLINE_ENV, "1")
    with pytest.raises(dc.FetchError, match="switched off"):
        dc.download("https://x/f.bin", tmp_path / "f.bin")
    assert calls == []


def test_a_cached_file_that_changed_since_caching_is_reported_as_corrupt(tmp_path):
    (tmp_path / "a.ts").write_text(GUNPOINT_TS)
    dc.write_manifest(tmp_path, ["a.ts"], "test")
    dc.verify_manifest(tmp_path, "tiny", "fetch tiny")
    (tmp_path / "a.ts").write_text(GUNPOINT_TS[:-10])
    with pytest.raises(DataError, match="does not match its recorded checksum"):
        dc.verify_manifest(tmp_path, "tiny", "fetch tiny")


def test_offline_without_a_cache_the_error_names_dataset_folder_and_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv(dc.DATA_ENV, str(tmp_path))
    monkeypatch.setattr(ucr, "PACKAGES", ())
    no_network(monkeypatch)
    with pytest.raises(DataError) as info:
        dc.require("ucr", {"name": "Tiny", "cache_dir": ""})
    text = str(info.value)
    assert "\n" not in text
    assert "ucr:Tiny" in text and str(tmp_path / "ucr" / "Tiny") in text
    assert "python -m bench fetch ucr:Tiny" in text


def test_a_suite_with_an_uncached_dataset_is_refused_before_any_cell(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(dc.DATA_ENV, str(tmp_path / "data"))
    monkeypatch.setattr(ucr, "PACKAGES", ())
    no_network(monkeypatch)
    suite = tmp_path / "s.toml"
    suite.write_text(
        '[suite]\nseeds = [0]\n[datasets.tiny]\ndataset = "ucr"\nname = "Tiny"\n'
        '[models.logreg]\nmodel = "logistic_regression"\n'
    )
    out = tmp_path / "run"
    assert main(["run", str(suite), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "[datasets.tiny]" in err[0] and "bench fetch ucr:Tiny" in err[0]
    assert not (out / "rows.jsonl").exists()


def test_fetch_from_a_folder_caches_checked_files_and_list_shows_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(dc.DATA_ENV, str(tmp_path / "data"))
    monkeypatch.setattr(ucr, "PACKAGES", ())
    src = tmp_path / "archive" / "Tiny"
    src.mkdir(parents=True)
    (src / "Tiny_TRAIN.ts").write_text(GUNPOINT_TS)
    (src / "Tiny_TEST.ts").write_text(GUNPOINT_TS)
    assert main(["fetch", "ucr:Tiny", "--from", str(tmp_path / "archive")]) == 0
    manifest = json.loads((tmp_path / "data" / "ucr" / "Tiny" / dc.MANIFEST).read_text())
    assert sorted(manifest["files"]) == ["Tiny_TEST.ts", "Tiny_TRAIN.ts"]
    assert main(["list"]) == 0
    assert "ucr: Tiny in" in capsys.readouterr().out


def test_fetch_of_a_broken_file_caches_nothing_and_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(dc.DATA_ENV, str(tmp_path / "data"))
    src = tmp_path / "archive"
    src.mkdir()
    (src / "Tiny_TRAIN.ts").write_text(GUNPOINT_TS)
    (src / "Tiny_TEST.ts").write_text(GUNPOINT_TS.split("@data")[0])  # truncated before the data
    assert main(["fetch", "ucr:Tiny", "--from", str(src)]) == 2
    assert "no @data section" in capsys.readouterr().err
    assert not (tmp_path / "data" / "ucr" / "Tiny" / dc.MANIFEST).exists()


def test_fetch_of_a_generated_dataset_says_there_is_nothing_to_fetch(capsys):
    assert main(["fetch", "mnist1d"]) == 0
    assert "nothing to fetch" in capsys.readouterr().out


def test_fetch_of_an_unknown_name_lists_the_fetchable_ones(capsys):
    assert main(["fetch", "nosuchset"]) == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'nosuchset'" in err and "fashion_mnist" in err and "ucr" in err


def test_fetch_suite_names_what_it_skips(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(dc.DATA_ENV, str(tmp_path / "data"))
    suite = tmp_path / "s.toml"
    suite.write_text('[suite]\n[datasets.digits]\n[models.knn]\n')
    assert main(["fetch", "--suite", str(suite)]) == 0
    assert "skip digits: bundled or generated here" in capsys.readouterr().out


# -- stratified prefixes hold every class (issue 18: shuttle's rare classes) --------------


def test_every_prefix_as_long_as_the_class_count_holds_every_class():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(7), [45586, 8903, 3267, 171, 50, 13, 10])  # shuttle's class sizes
    for seed in range(5):
        order = stratified_order(y, np.random.default_rng(seed), classification=True)
        assert sorted(order) == list(range(len(y)))
        assert set(y[order[:7]]) == set(range(7))
    shuffled = rng.permutation(y)
    order = stratified_order(shuffled, rng, classification=True)
    assert len(set(shuffled[order[:500]])) == 7


def test_prefixes_still_follow_the_class_proportions():
    y = np.repeat([0, 1], [9000, 1000])
    order = stratified_order(y, np.random.default_rng(1), classification=True)
    assert abs(np.mean(y[order[:1000]] == 1) - 0.1) < 0.01


def test_an_official_split_keeps_the_last_rows_as_test_for_every_seed():
    y = np.repeat(np.arange(3), 20)
    for seed in (0, 1):
        pool, test = split(y, seed, 0.25, "classification", official_test=15)
        assert list(test) == list(range(45, 60))
        assert sorted(pool) == list(range(45))
        assert set(y[pool[:3]]) == {0, 1, 2}
