"""Hostile input: malformed suites and broken data files get a clean error, never a traceback."""

import io
import json
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from privilege import without_privilege

from bench.datasets import DataError, load
from bench.inputs import printable, shown
from bench.suite import Suite, SuiteError, parse, plan

scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
)
values = st.one_of(scalars, st.lists(scalars, max_size=4), st.just("max"), st.just([64, "max"]))
names = st.one_of(
    st.sampled_from(["breast_cancer", "wine", "diabetes", "friedman1", "file", "image_arrays",
                     "svm", "knn", "ridge", "xgboost", "random_forest", "logistic_regression"]),
    st.text(min_size=1, max_size=10),  # unicode names
)
suite_keys = st.one_of(st.sampled_from(["seeds", "train_sizes", "test_size", "features", "threads",
                                        "time_limit_s", "memory_limit_mb", "device", "name"]), st.text(max_size=8))
param_keys = st.one_of(st.sampled_from(["n_samples", "C", "n_estimators", "max_depth", "dataset", "model",
                                        "train_sizes", "test_size", "path", "task"]), st.text(max_size=8))
tables = st.dictionaries(param_keys, values, max_size=3)
random_suites = st.fixed_dictionaries(
    {},
    optional={
        "suite": st.dictionaries(suite_keys, values, max_size=5),
        "datasets": st.dictionaries(names, tables, max_size=3),
        "models": st.dictionaries(names, tables, max_size=3),
        "extra": tables,
    },
)


def _valid() -> dict:
    return {
        "suite": {"seeds": [0], "train_sizes": [64]},
        "datasets": {"wine": {}, "diabetes": {}},
        "models": {"svm": {}, "knn": {"n_neighbors": 3}},
    }


def _mutate(doc: dict, mutation: tuple) -> dict:
    kind, section, key, value = mutation
    if kind == "drop" and section in doc:
        del doc[section]
    elif kind == "set_suite" and isinstance(doc.get("suite"), dict):
        doc["suite"][key] = value
    elif kind == "add_table" and section in ("datasets", "models") and section in doc:
        doc[section][key] = {}
    elif kind == "set_param" and section in ("datasets", "models") and doc.get(section):
        doc[section][sorted(doc[section])[0]][key] = value
    return doc


mutations = st.tuples(
    st.sampled_from(["drop", "set_suite", "add_table", "set_param"]),
    st.sampled_from(["suite", "datasets", "models"]),
    st.one_of(suite_keys, param_keys, names),
    values,
)
mutated_suites = st.lists(mutations, max_size=3).map(
    lambda ms: __import__("functools").reduce(_mutate, ms, _valid())
)
suites = st.one_of(mutated_suites, random_suites)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return {float("inf"): "inf", float("-inf"): "-inf"}.get(v, "nan" if v != v else repr(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    return "[" + ", ".join(_toml_value(x) for x in v) + "]"


def to_toml(doc: dict) -> str:
    lines = []
    for section, body in doc.items():
        if section in ("datasets", "models"):
            lines.append(f"[{section}]")
            for name, table in body.items():
                lines.append(f"[{section}.{json.dumps(name)}]")
                lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in table.items()]
        else:
            lines.append(f"[{section}]")
            lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


def test_malformed_suites_are_rejected_cleanly_or_plan_correctly(capsys):
    outcomes = {"rejected": 0, "accepted": 0, "planned with cells": 0}

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(suites)
    def check(doc):
        text = to_toml(doc)
        try:
            suite = parse(text, "fuzz.toml")
        except SuiteError as exc:
            outcomes["rejected"] += 1
            assert str(exc).startswith("fuzz.toml")
            return
        outcomes["accepted"] += 1
        assert isinstance(suite, Suite)
        cells, _ = plan(suite)
        outcomes["planned with cells"] += bool(cells)
        for cell in cells:
            assert 2 <= cell.n_train <= cell.dataset.n_samples - cell.dataset.n_test

    check()
    with capsys.disabled():  # printed for the record: how the generated suites fell
        print(f"\nmalformed suites: {outcomes}")
    # A generator that never reaches one branch would leave that branch's assertions untested.
    assert outcomes["rejected"] and outcomes["planned with cells"], f"one branch never ran: {outcomes}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[suite]\n[datasets]\n[models]\n",
        "[suite]\nseeds = [0, 0]\n[datasets.wine]\n[models.svm]\n",
        "[suite]\ntrain_sizes = [10000000000]\n[datasets.wine]\n[models.svm]\n",
        "[suite]\ntime_limit_s = nan\n[datasets.wine]\n[models.svm]\n",
        "[suite]\nthreads = 99999999999999999\n[datasets.wine]\n[models.svm]\n",
        '[suite]\n[datasets."<script>"]\n[models.svm]\n',
        '[suite]\n[datasets.wine]\n[models."模型"]\n',
        "[suite]\n[datasets.wine]\n[models.svm]\nC = inf\n",
        "[suite]\n[datasets.f]\ndataset = \"friedman1\"\nn_samples = 1e12\n[models.svm]\n",
        "[suite]\n[datasets.f]\ndataset = \"friedman1\"\nn_samples = 100000000000000\n[models.svm]\n",
        "datasets = 3\nmodels = []\nsuite = \"x\"\n",
    ],
)
def test_hand_picked_bad_suites_exit_2_through_the_cli(tmp_path, text):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "check", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.startswith(f"error: {path}") and "Traceback" not in proc.stderr


def _file_suite(path, dataset="file", target="label", task="classification") -> str:
    extra = f'target = "{target}"\n' if dataset == "file" else ""
    return f'[suite]\n[datasets.d]\ndataset = "{dataset}"\npath = "{path}"\n{extra}task = "{task}"\n[models.knn]\n'


def _csv(tmp_path, frame) -> str:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return str(path)


GOOD = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 7, "label": [0, 1] * 20})

BROKEN_TABLES = {
    "empty file": lambda p: p.write_bytes(b""),
    "header only": lambda p: p.write_text("a,b,label\n"),
    "truncated mid-row": lambda p: p.write_text(GOOD.to_csv(index=False)[:-9]),
    "latin-1 encoded": lambda p: p.write_bytes("a,b,label\n\xe9,1,0\n\xe8,2,1\n".encode("latin-1")),
    "binary junk": lambda p: p.write_bytes(bytes(range(256)) * 4),
    "nan feature": lambda p: p.write_text(GOOD.assign(a=[np.nan] + [1.0] * 39).to_csv(index=False)),
    "inf feature": lambda p: p.write_text(GOOD.assign(b=[np.inf] + [1.0] * 39).to_csv(index=False)),
    "single class": lambda p: p.write_text(GOOD.assign(label=1).to_csv(index=False)),
    "missing target values": lambda p: p.write_text(GOOD.assign(label=[None] + [1] * 39).to_csv(index=False)),
    "no target column": lambda p: p.write_text(GOOD.drop(columns="label").to_csv(index=False)),
    "target only": lambda p: p.write_text(GOOD[["label"]].to_csv(index=False)),
    "free-text feature": lambda p: p.write_text(GOOD.assign(a=[f"t{i}" for i in range(40)]).to_csv(index=False)),
}


@pytest.mark.parametrize("case", sorted(BROKEN_TABLES))
def test_broken_csv_files_are_rejected_naming_the_file(tmp_path, case):
    path = tmp_path / "data.csv"
    BROKEN_TABLES[case](path)
    with pytest.raises(SuiteError) as info:
        parse(_file_suite(path), "s.toml")
    assert str(path) in str(info.value)


def test_truncated_parquet_is_rejected(tmp_path):
    path = tmp_path / "data.parquet"
    GOOD.to_parquet(path)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(SuiteError, match="cannot be read"):
        parse(_file_suite(path), "s.toml")


def test_constant_regression_target_is_rejected(tmp_path):
    path = _csv(tmp_path, GOOD.assign(label=2.5))
    with pytest.raises(SuiteError, match="constant"):
        parse(_file_suite(path, task="regression"), "s.toml")


rng = np.random.default_rng(0)
BROKEN_ARRAYS = {
    "lengths differ": (dict(X=rng.random((10, 8, 8)), y=np.arange(9) % 2), "10 samples but y has 9"),
    "flat images": (dict(X=rng.random((10, 64)), y=np.arange(10) % 2), "dimensions"),
    "no y": (dict(X=rng.random((10, 8, 8))), "needs arrays named X and y"),
    "nan pixels": (dict(X=np.full((10, 8, 8), np.nan), y=np.arange(10) % 2), "NaN"),
    "2-d labels": (dict(X=rng.random((10, 8, 8)), y=np.zeros((10, 2))), "one-dimensional"),
    "text pixels": (dict(X=np.array([["a"] * 8] * 10).reshape(10, 8, 1)[:, :, 0:1].repeat(8, 2), y=np.arange(10) % 2), "numeric"),
    "one class": (dict(X=rng.random((10, 8, 8)), y=np.zeros(10)), "single class"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_ARRAYS))
def test_mismatched_image_arrays_are_rejected(tmp_path, case):
    arrays, expected = BROKEN_ARRAYS[case]
    path = tmp_path / "images.npz"
    np.savez(path, **arrays)
    with pytest.raises(SuiteError, match=expected):
        parse(_file_suite(path, dataset="image_arrays"), "s.toml")


def test_sequence_arrays_load_and_mismatches_are_rejected(tmp_path):
    path = tmp_path / "seq.npz"
    np.savez(path, X=rng.random((30, 20, 2)), y=rng.random(30))
    data = load("sequence_arrays", {"path": str(path), "task": "regression"})
    assert data.sample_shape == (20, 2) and data.X.shape == (30, 40)
    np.savez(path, X=rng.random((30, 20, 2, 2)), y=rng.random(30))
    with pytest.raises(DataError, match="sequence data needs 2 or 3"):
        load("sequence_arrays", {"path": str(path), "task": "regression"})
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(SuiteError, match="not a readable .npz"):
        parse(_file_suite(path, dataset="sequence_arrays", task="regression"), "s.toml")


# --- Files that are not what they claim, and names no terminal line can hold (issue 15) -----------------

def _cli(args: list[str], capsys) -> tuple[int, str]:
    """Exit code and stderr of `python -m bench ARGS`, run in this process."""
    from bench.__main__ import main

    capsys.readouterr()
    code = main(args)
    return code, capsys.readouterr().err


def _fifo(path):
    os.mkfifo(path)


def _socket(path):
    sock = socket.socket(socket.AF_UNIX)
    cwd = os.getcwd()
    os.chdir(path.parent)  # a socket address holds at most 108 bytes: bind the short relative name
    try:
        sock.bind(path.name)
    finally:
        os.chdir(cwd)
    sock.close()


NOT_REGULAR = {
    "a FIFO": _fifo,
    "a character device": lambda p: p.symlink_to("/dev/zero"),
    "a directory": lambda p: p.mkdir(),
    "a socket": _socket,
}


def _toml_text(path) -> str:
    """`path` as the inside of a TOML basic string (TOML takes no surrogate pairs, unlike JSON)."""
    def escape(c: str) -> str:
        if c in '"\\':
            return "\\" + c
        if c.isprintable():
            return c
        return f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"

    return "".join(map(escape, str(path)))


def _suite_naming(tmp_path, role: str, target) -> Path:
    """A suite file, or a valid suite whose data file is `target`."""
    if role == "suite":
        return target
    dataset = {".csv": "file", ".parquet": "file", ".npz": "image_arrays"}[role]
    suite = tmp_path / "s.toml"
    suite.write_text(_file_suite(_toml_text(target), dataset=dataset), encoding="utf-8")
    return suite


@pytest.mark.timeout(300)  # a FIFO opened for reading would block here for ever
@pytest.mark.parametrize("role", ["suite", ".csv", ".parquet", ".npz"])
@pytest.mark.parametrize("kind", sorted(NOT_REGULAR))
def test_a_path_that_is_not_a_regular_file_is_refused_unopened_exit_2_nothing_written(tmp_path, capsys, kind, role):
    target = tmp_path / f"odd{'.toml' if role == 'suite' else role}"
    NOT_REGULAR[kind](target)
    suite = _suite_naming(tmp_path, role, target)
    out = tmp_path / "out"
    code, err = _cli(["run", str(suite), "--out", str(out), "--no-progress"], capsys)
    assert code == 2 and not out.exists()
    assert err.count("\n") == 1 and err.startswith("error: ") and str(target) in err, err
    assert f"is {kind}" in err, err


def _pickle_member(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("X.npy", pickle.dumps(np.zeros((10, 8, 8))))
        z.writestr("y.npy", pickle.dumps(np.arange(10) % 2))


def _huge_header(path):
    """X declares 10**13 float64 values (80 TB) but holds none: refused from its header, nothing allocated."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (10**7, 10**6)})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("X.npy", buf.getvalue())
        with z.open("y.npy", "w") as fh:
            np.lib.format.write_array(fh, np.arange(10) % 2)


def _touch(path):
    path.write_bytes(b"")
    return path


def _parquet_map(path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    mapping = pa.array([[("k", 1)]] * 40, pa.map_(pa.string(), pa.int64()))
    pq.write_table(pa.table({"a": np.arange(40.0), "m": mapping, "label": [0, 1] * 20}), path)


def _parquet(column):
    def write(path):
        pd.DataFrame({"a": np.arange(40.0), "odd": column(40), "label": [0, 1] * 20}).to_parquet(path)

    return write


HOSTILE_CONTENT = {
    # suites
    "TOML arrays nested 50,000 deep": ("suite", lambda p: p.write_text("a = " + "[" * 50_000 + "]" * 50_000),
                                       "nested too deeply"),
    "TOML inline tables nested 20,000 deep": ("suite", lambda p: p.write_text("a = " + "{b = " * 20_000 + "1" + "}" * 20_000),
                                              "nested too deeply"),
    "a 1 GB suite (sparse)": ("suite", lambda p: os.truncate(_touch(p), 2**30), "a suite file is at most"),
    "a suite that is not UTF-8": ("suite", lambda p: p.write_bytes(b"[suite]\nname = \"\xff\xfe\"\n"), "not UTF-8"),
    # Parquet
    "Parquet list column": (".parquet", _parquet(lambda n: [[1, 2]] * n), "lists or records, not one value per row"),
    "Parquet struct column": (".parquet", _parquet(lambda n: [{"x": 1, "y": "a"}] * n), "lists or records, not one value per row"),
    "Parquet map column": (".parquet", _parquet_map, "lists or records, not one value per row"),
    # .npz
    "npz member that is a pickle": (".npz", _pickle_member, "not a NumPy array (a pickle"),
    "npz object array": (".npz", lambda p: np.savez(p, X=np.array([[[None] * 8] * 8] * 10, dtype=object), y=np.arange(10) % 2),
                         "object arrays are refused"),
    "a single .npy saved as .npz": (".npz", lambda p: np.save(open(p, "wb"), np.zeros((10, 8, 8))), "a single array"),
    "npz array larger than memory": (".npz", _huge_header, "more than the"),
    "npz that is a pickle file": (".npz", lambda p: p.write_bytes(pickle.dumps({"X": 1})), "cannot be read as plain arrays"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CONTENT))
def test_hostile_content_is_refused_in_one_line_exit_2_nothing_written(tmp_path, capsys, case):
    role, make, expected = HOSTILE_CONTENT[case]
    target = tmp_path / f"data{'.toml' if role == 'suite' else role}"
    make(target)
    out = tmp_path / "out"
    code, err = _cli(["run", str(_suite_naming(tmp_path, role, target)), "--out", str(out), "--no-progress"], capsys)
    assert code == 2 and not out.exists(), err
    assert err.count("\n") == 1 and err.startswith("error: ") and str(target) in err and expected in err, err


def test_a_data_file_that_changes_while_being_read_is_refused(tmp_path, monkeypatch):
    from bench.datasets import files

    path = Path(_csv(tmp_path, GOOD))
    real = pd.read_csv

    def read_while_appended(fh, **kwargs):  # as a program still writing the file would
        with open(path, "a") as writer:
            writer.write("1.0,2.0,1\n")
        return real(fh, **kwargs)

    monkeypatch.setattr(files.pd, "read_csv", read_while_appended)
    with pytest.raises(SuiteError, match="changed while being read"):
        parse(_file_suite(path), "s.toml")


@pytest.mark.parametrize("role", ["suite", ".csv", ".npz"])
def test_a_permission_denied_path_is_refused_in_one_line(tmp_path, role):
    target = tmp_path / f"secret{'.toml' if role == 'suite' else role}"
    if role == ".npz":
        np.savez(target, X=rng.random((10, 8, 8)), y=np.arange(10) % 2)
    else:
        target.write_text("[suite]\n" if role == "suite" else GOOD.to_csv(index=False))
    target.chmod(0)
    suite = _suite_naming(tmp_path, role, target)
    out = tmp_path / "out"
    proc = subprocess.run([*without_privilege(), sys.executable, "-m", "bench", "run", str(suite), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and not out.exists(), proc.stderr
    assert proc.stderr == f"error: {'' if role == 'suite' else f'{suite}: [datasets.d] '}{target}: permission denied; " \
                          f"cannot read the {'suite file' if role == 'suite' else '.npz file' if role == '.npz' else 'data file'}\n"


HOSTILE_NAMES = {
    "newline": "da\nta",
    "terminal escape": "\x1b[2J\x1b[31mred",
    "carriage return": "over\rwritten",
    "bell and backspace": "a\x07b\x08c",
    "right-to-left override": "evil\u202egpj",
}


@pytest.mark.parametrize("role", ["suite", ".csv"])
@pytest.mark.parametrize("case", sorted(HOSTILE_NAMES))
def test_names_with_control_characters_are_shown_escaped_on_one_line(tmp_path, capsys, case, role):
    target = tmp_path / f"{HOSTILE_NAMES[case]}{'.toml' if role == 'suite' else role}"
    target.write_text("[suite]\n" if role == "suite" else GOOD.assign(label=1).to_csv(index=False))  # both broken
    code, err = _cli(["check", str(_suite_naming(tmp_path, role, target))], capsys)
    assert code == 2 and err.count("\n") == 1 and err[:-1].isprintable(), repr(err)
    assert shown(target) in err


@pytest.mark.parametrize("length", [300, 5000])
@pytest.mark.parametrize("role", ["suite", ".csv", ".npz"])
def test_extremely_long_names_are_refused_with_a_shortened_name(tmp_path, capsys, role, length):
    target = tmp_path / ("n" * length + (".toml" if role == "suite" else role))
    code, err = _cli(["check", str(_suite_naming(tmp_path, role, target))], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "File name too long" in err and f"[{len(str(target))} characters]" in err
    assert len(err) < 600  # one readable line, not the name


# --- Generated: file-system objects, names and nesting the lists above do not spell out -----------------

FS_KINDS = {
    "regular": None,
    "fifo": _fifo,
    "directory": lambda p: p.mkdir(),
    "socket": _socket,
    "device link": lambda p: p.symlink_to("/dev/zero"),
    "dangling link": lambda p: p.symlink_to(p.with_name("nowhere")),
    "link loop": lambda p: p.symlink_to(p),
}
file_names = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=30),
    st.integers(200, 400).map(lambda n: "L" * n),
).filter(lambda s: s not in (".", ".."))
nesting = st.tuples(st.integers(0, 3000), st.sampled_from(["[", "{x = "]))


def _nested_suite(depth: int, opener: str) -> str:
    closer = "]" if opener == "[" else "}"
    value = opener * depth + "3" + closer * depth
    return f"[suite]\nseeds = [0]\ntrain_sizes = [20]\n[datasets.wine]\n[models.knn]\nn_neighbors = {value}\n"


@pytest.mark.timeout(600)
def test_generated_paths_names_and_nesting_are_refused_cleanly_or_loaded(capsys):
    from bench.suite import load as load_suite

    outcomes: dict[str, int] = {}

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(sorted(FS_KINDS)), file_names, st.sampled_from(["suite", ".csv", ".npz"]), nesting)
    def check(kind, name, role, nest):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            target = tmp / (name + (".toml" if role == "suite" else role))
            try:
                if FS_KINDS[kind]:
                    FS_KINDS[kind](target)
                elif role == "suite":
                    target.write_text(_nested_suite(*nest), encoding="utf-8")
                elif role == ".csv":
                    GOOD.to_csv(target, index=False)
                else:
                    np.savez(target, X=rng.random((40, 4, 4)), y=np.arange(40) % 2)
            except OSError:  # a name too long to create: the loader must say so too
                pass
            suite = target if role == "suite" else tmp / "s.toml"
            if role != "suite":
                suite.write_text(_file_suite(_toml_text(target),
                                             dataset="file" if role == ".csv" else "image_arrays"), encoding="utf-8")
            try:
                load_suite(suite)
            except SuiteError as exc:
                message = printable(str(exc))  # as the command line prints it
                assert shown(target) in message or printable(str(target)) in message, message
                outcomes[f"refused {kind}"] = outcomes.get(f"refused {kind}", 0) + 1
                return
            assert kind == "regular" and (role != "suite" or nest[0] == 0), (kind, role, nest)
            outcomes["loaded"] = outcomes.get("loaded", 0) + 1

    check()
    with capsys.disabled():
        print(f"\ngenerated paths: {dict(sorted(outcomes.items()))}")
    assert outcomes.get("loaded") and sum(v for k, v in outcomes.items() if k != "loaded" and "regular" not in k)


@pytest.mark.timeout(300)
def test_a_run_folder_holding_fifos_is_refused_never_read_for_ever(tmp_path, capsys, write_suite):
    from bench import results
    from bench.errors import RunError
    from bench.execution.runner import check_resumable

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for name in (results.ROWS_FILE, "plan.json", "results.parquet"):
        os.mkfifo(run_dir / name)
    suite = write_suite("[suite]\nseeds = [0]\ntrain_sizes = [20]\n[datasets.wine]\n[models.knn]\n")
    code, err = _cli(["run", str(suite), "--resume", str(run_dir), "--no-progress"], capsys)
    assert code == 2 and err == f"error: {run_dir / results.ROWS_FILE}: is a FIFO (named pipe), not a regular file; " \
                                "give the path of a rows file\n"
    check_resumable(run_dir, parse(suite.read_text(), str(suite)))  # an unreadable plan is no plan: returns
    with pytest.raises(RunError, match="results.parquet: is a FIFO"):
        results.load(run_dir)
