"""Hostile input at the command line, in suites and in run folders (issue 29): each case ends in one
line naming the file, key or flag and the problem, exit 2, and no folder written (or a complete one);
never a traceback, a hang, or a `.lock`-only folder."""

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from privilege import without_privilege

from bench import results
from bench.plugins import PLUGINS_ENV

SMALL = '[suite]\nseeds = [0]\ntrain_sizes = [20]\n{extra}[datasets.wine]\n[models.knn]\n{models}'


def _cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `python -m bench ARGS`, run in this process."""
    from bench.__main__ import main

    capsys.readouterr()
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_line(code: int, err: str, *expected: str) -> None:
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and err[:-1].isprintable(), repr(err)
    assert "Traceback" not in err
    for text in expected:
        assert text in err, err


def _suite(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _subprocess(args: list[str], env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*without_privilege(), sys.executable, "-m", "bench", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})}, cwd=cwd)


# --- 1. Suite names and labels: a safe run folder, every name escaped on the terminal ---------------------

class _InstantExecutor:
    """Rows at once, without cell processes: these tests are about folders and what is printed."""

    def run(self, cells):
        for cell in cells:
            yield {**_row(cell.key), "dataset": cell.dataset.label, "model": cell.model.label,
                   "status": "error" if cell.model.label.startswith("[blue]") else "ok", "info": f"[red]{cell.key}"}

    def close(self):
        pass


@pytest.fixture
def instant(monkeypatch):
    from bench.execution import runner

    monkeypatch.setattr(runner, "make_executor", lambda *a, **k: _InstantExecutor())


def test_a_hostile_suite_name_stays_under_results_and_labels_print_literally(tmp_path, capsys, monkeypatch, instant):
    """`name = "../../../../tmp/x"` once wrote its folder outside results/; an escape code reached the terminal;
    `[red]knn[/red]` printed as `knn` (Rich markup)."""
    work = tmp_path / "a" / "b" / "c" / "d"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    text = ('[suite]\nname = "../../../../tmp/x\\u001b[31m\\nred"\nseeds = [0]\ntrain_sizes = [20]\n'
            '[datasets."[bold]wine[/bold]"]\ndataset = "wine"\n[models."[red]knn[/red]"]\nmodel = "knn"\n'
            '[models."[blue]bad[/blue]"]\nmodel = "knn"\n')
    path = _suite(work, text)
    code, out, err = _cli(["run", str(path), "--no-progress"], capsys)
    assert code == 0, err
    made = [p for p in tmp_path.rglob("*") if "tmp" in p.name or p.name.startswith("x")]
    assert len(made) == 1 and made[0].parent == work / "results", made  # not tmp_path / "tmp" / "x-..."
    assert made[0].name.startswith("tmp_x_31m_red-") and made[0].name.isprintable()
    assert (made[0] / "results.parquet").exists()
    assert "\x1b" not in out + err and "[red]knn[/red]" in out and "[bold]wine[/bold]" in out
    assert "error [bold]wine[/bold]|raw|20|0|[blue]bad[/blue]: [red][bold]wine" in out  # a failed cell's line too


@pytest.mark.parametrize("name", ["../../../../tmp/x", "/etc/passwd", "..", ".", "a\nb\x1b[2J\x07", "n" * 100_000,
                                  "模型 \u202eevil", "\x00", "   "])
def test_run_folder_names_are_one_harmless_bounded_component(tmp_path, name):
    from types import SimpleNamespace

    from bench.execution.runner import MAX_FOLDER_NAME, default_run_dir

    folder = default_run_dir(SimpleNamespace(name=name), tmp_path / "results")
    assert folder.parent == tmp_path / "results"
    stem = folder.name.rsplit("-", 2)[0]
    assert stem and not stem.startswith(".") and stem.isprintable() and len(stem) <= MAX_FOLDER_NAME
    assert "/" not in folder.name and "\\" not in folder.name


def test_a_suite_name_of_100000_characters_runs_in_a_short_folder(tmp_path, capsys, monkeypatch, instant):
    """Once a traceback (File name too long)."""
    monkeypatch.chdir(tmp_path)
    path = _suite(tmp_path, SMALL.format(extra=f'name = "{"n" * 100_000}"\n', models=""))
    code, out, err = _cli(["run", str(path), "--no-progress"], capsys)
    assert code == 0, err[-500:]
    (folder,) = (p for p in (tmp_path / "results").iterdir() if p.name.startswith("nnnn"))
    assert len(folder.name) < 100 and (folder / "results.parquet").exists()
    assert max(map(len, (out + err).splitlines())) < 400  # the name is shortened wherever it is printed


# --- 2. `bench report` on a damaged run folder ----------------------------------------------------------------

def _row(key: str = "wine|raw|20|0|knn") -> dict:
    return {"key": key, "dataset": "wine", "modality": "tabular", "task": "classification", "model": "knn",
            "family": "classical", "features": "raw", "tuning": "default", "n_train": 20, "n_test": 45, "seed": 0,
            "status": "ok", "score": 0.9, "accuracy": 0.9, "threads": 1, "jobs": 1, "fit_time_s": 0.01}


def _run_folder(path: Path) -> Path:
    store = results.ResultsStore(path)
    try:
        store.append(_row())
        store.write_tables()
        store.write_json("environment.json", {"created": "today", "cpu": {"cores_logical": 2}})
        store.write_json("plan.json", {"cells": 1})
    finally:
        store.close()
    return path


def _parquet(columns: dict):
    def write(run: Path):
        import pandas as pd

        pd.DataFrame(columns).to_parquet(run / "results.parquet")

    return write


def _string_n_train(run: Path):
    import pandas as pd

    df = pd.read_parquet(run / "results.parquet")
    df["n_train"] = "twenty"
    df.to_parquet(run / "results.parquet")


def _replace_with_fifo(name: str):
    def make(run: Path):
        (run / name).unlink()
        os.mkfifo(run / name)

    return make


DAMAGE = {
    "random bytes as results.parquet": (lambda r: (r / "results.parquet").write_bytes(os.urandom(3000)),
                                        "results.parquet: not a readable Parquet table"),
    "results.parquet with other columns": (_parquet({"x": [1, 2]}), "results.parquet: not a results table of bench (no column dataset"),
    "a string n_train column": (_string_n_train, "results.parquet: column n_train holds 'twenty' in row 1, not a whole number"),
    "environment.json = [1,2,3]": (lambda r: (r / "environment.json").write_text("[1, 2, 3]"),
                                   "environment.json: holds a JSON list, not the object a run writes"),
    "environment.json of random bytes": (lambda r: (r / "environment.json").write_bytes(b"\xff\xfe\x00garbage"),
                                         "environment.json: not UTF-8 text"),
    "environment.json that is not JSON": (lambda r: (r / "environment.json").write_text("{cpu: 2"),
                                          "environment.json: not valid JSON"),
    "environment.json whose cpu is a number": (lambda r: (r / "environment.json").write_text('{"cpu": 5}'),
                                               "environment.json: its 'cpu' is a JSON int, not an object"),
    "environment.json as a FIFO": (_replace_with_fifo("environment.json"), "environment.json: is a FIFO"),
    "plan.json as a FIFO": (_replace_with_fifo("plan.json"), "plan.json: is a FIFO"),
    "a row that is not a row": (lambda r: (r / "results.parquet").unlink() or (r / results.ROWS_FILE).write_text('{"key": 5}\n'),
                                "rows.jsonl: line 1 is not a row of a run (its key is 5, not text)"),
}


@pytest.mark.timeout(60)  # a FIFO read would block for ever
@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_report_on_a_damaged_folder_says_which_file_and_what_in_one_line(tmp_path, capsys, case):
    run = _run_folder(tmp_path / "run")
    damage, expected = DAMAGE[case]
    damage(run)
    before = sorted(p.name for p in run.iterdir())
    code, _, err = _cli(["report", str(run)], capsys)
    _one_line(code, err, expected)
    assert sorted(p.name for p in run.iterdir()) == before  # no report, no figures folder


def test_report_into_a_read_only_or_impossible_out_is_one_line(tmp_path, capsys):
    run = _run_folder(tmp_path / "run")
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("")
    code, _, err = _cli(["report", str(run), "--out", str(in_the_way)], capsys)
    _one_line(code, err, f"{in_the_way}: cannot write the report there")
    read_only = tmp_path / "ro"
    read_only.mkdir()
    read_only.chmod(0o555)
    proc = _subprocess(["report", str(run), "--out", str(read_only)])
    assert proc.returncode == 2 and proc.stderr == (f"error: {read_only}: cannot write the report there: "
                                                    "Permission denied; give a writable --out\n"), proc.stderr
    assert not list(read_only.iterdir())


# --- 3. --resume of a folder whose rows file holds something that is not a row --------------------------------

@pytest.mark.parametrize("line, problem", [
    ('{"key": 5}', "its key is 5, not text"),
    ('{"key": "k", "n_train": "many", "n_test": 1, "seed": 0, "threads": 1, "jobs": 1}', "n_train is 'many', not a whole number"),
    ('{"key": "k", "n_train": 1, "n_test": 1, "seed": 0, "threads": 1}', "it has no jobs"),
    ('[1, 2]', "a JSON list, not an object"),
])
def test_resume_of_a_rows_file_holding_a_foreign_line_is_refused_naming_the_line(tmp_path, capsys, line, problem):
    run = tmp_path / "run"
    run.mkdir()
    good = json.dumps(_row())
    (run / results.ROWS_FILE).write_text(f"{good}\n{line}\n")
    suite = _suite(tmp_path, SMALL.format(extra="", models=""))
    code, _, err = _cli(["run", str(suite), "--resume", str(run), "--no-progress"], capsys)
    _one_line(code, err, f"{run / results.ROWS_FILE}: line 2 is not a row of a run ({problem})")
    assert [p.name for p in run.iterdir()] == [results.ROWS_FILE]  # nothing written, not even a lock


def test_a_torn_last_line_is_still_skipped_on_resume(tmp_path):
    (tmp_path / results.ROWS_FILE).write_text(json.dumps(_row()) + '\n{"key": "torn", "dat')
    assert [r["key"] for r in results.read_rows(tmp_path)] == [_row()["key"]]


# --- 4. --scheduler at something that is not a Dask scheduler -------------------------------------------------

class _Server:
    """A server on localhost in a thread: `talk` says something that is not Dask, `http` is an HTTP server."""

    def __init__(self, kind: str):
        self.kind = kind
        if kind == "http":
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
            self.port = self.server.server_address[1]
            self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        else:
            self.sock = socket.create_server(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
            self.thread = threading.Thread(target=self._talk, daemon=True)
        self.thread.start()

    def _talk(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.sendall(b"SSH-2.0-OpenSSH_9.6 hello, I am not Dask\r\n")  # first 8 bytes: a frame of exabytes
            conn.close()

    def close(self):
        if self.kind == "http":
            self.server.shutdown()
            self.server.server_close()
        else:
            self.sock.close()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind, expected", [
    ("talk", "does not speak Dask's protocol: not a Dask scheduler's port"),
    ("http", "sent no Dask greeting within 1 s: not a Dask scheduler's port"),
    ("closed", "cannot reach the Dask scheduler at"),
])
def test_a_scheduler_address_that_is_not_dask_is_refused_quickly_leaving_no_folder(tmp_path, capsys, monkeypatch,
                                                                                  kind, expected):
    pytest.importorskip("distributed")
    from bench.execution import dask_cluster

    monkeypatch.setattr(dask_cluster, "GREETING_TIMEOUT_S", 1.0)
    if kind == "closed":
        with socket.create_server(("127.0.0.1", 0)) as s:
            port = s.getsockname()[1]  # free once closed
        server = None
    else:
        server = _Server(kind)
        port = server.port
    out = tmp_path / "out"
    try:
        t0 = time.monotonic()
        code, _, err = _cli(["run", str(_suite(tmp_path, SMALL.format(extra="", models=""))), "--out", str(out),
                             "--scheduler", f"tcp://127.0.0.1:{port}", "--no-progress"], capsys)
        elapsed = time.monotonic() - t0
    finally:
        if server:
            server.close()
    _one_line(code, err, f"tcp://127.0.0.1:{port}", expected)
    assert not out.exists() and elapsed < 20


# --- 5. Wrong types, plugin paths, an unusable data cache -----------------------------------------------------

def test_a_dataset_path_that_is_a_number_is_one_line(tmp_path, capsys):
    path = _suite(tmp_path, '[suite]\n[datasets.d]\ndataset = "file"\npath = 5\ntarget = "label"\n'
                            'task = "classification"\n[models.knn]\n')
    code, _, err = _cli(["check", str(path)], capsys)
    _one_line(code, err, f"{path}: [datasets.d.path] expected string, got integer 5")


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_plugin_given_as_a_path_is_one_line(tmp_path, capsys, monkeypatch, where):
    monkeypatch.setenv(PLUGINS_ENV, os.environ.get(PLUGINS_ENV, ""))  # main() adds the plugin to it; restored after
    suite = _suite(tmp_path, SMALL.format(extra="", models=""))
    args = ["--plugin", "../../etc/passwd", "check", str(suite)] if where == "before" else \
        ["check", str(suite), "--plugin", "../../etc/passwd"]
    code, _, err = _cli(args, capsys)
    _one_line(code, err, "plugin '../../etc/passwd' (--plugin or BENCH_PLUGINS): not a Python module name")


MNIST_SUITE = "[suite]\nseeds = [0]\n[datasets.mnist]\n[models.knn]\n"


def test_a_data_cache_that_is_a_file_is_one_line_for_fetch_and_check(tmp_path, capsys, monkeypatch):
    cache = tmp_path / "cache-file"
    cache.write_text("not a folder")
    monkeypatch.setenv("BENCH_DATA_DIR", str(cache))
    monkeypatch.setenv("BENCH_OFFLINE", "1")  # never the network, whatever happens
    code, _, err = _cli(["fetch", "mnist"], capsys)
    _one_line(code, err, f"the data cache {cache} ($BENCH_DATA_DIR) cannot be used: it is a regular file, not a folder")
    code, _, err = _cli(["check", str(_suite(tmp_path, MNIST_SUITE))], capsys)
    _one_line(code, err, "[datasets.mnist] mnist is not in the data cache, and the data cache",
              "it is a regular file, not a folder; point BENCH_DATA_DIR at a writable folder")


@pytest.mark.parametrize("command", ["fetch", "check"])
@pytest.mark.parametrize("what", ["BENCH_DATA_DIR", "HOME"])
def test_a_read_only_data_cache_or_home_is_one_line(tmp_path, what, command):
    read_only = tmp_path / "ro"
    read_only.mkdir()
    read_only.chmod(0o555)
    env = {"BENCH_OFFLINE": "1", what: str(read_only)}
    args = ["fetch", "mnist"] if command == "fetch" else ["check", str(_suite(tmp_path, MNIST_SUITE))]
    if what == "HOME":
        env["BENCH_DATA_DIR"] = ""
    proc = _subprocess(args, env=env)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "cannot be used: " in proc.stderr and "Permission denied; point BENCH_DATA_DIR at a writable folder" in proc.stderr
    assert not list(read_only.iterdir())


# --- 6. Nesting: refused by check, never a RecursionError in run; a huge dotted key refused at once -----------

def test_a_search_table_2000_levels_deep_is_refused_by_check_and_run_writes_nothing(tmp_path, capsys):
    header = "[models.knn.search." + ".".join(["a"] * 2000) + "]\n"
    path = _suite(tmp_path, SMALL.format(extra="", models=header))
    code, _, err = _cli(["check", str(path)], capsys)
    _one_line(code, err, f"{path}: line 6: a dotted key of more than 32 parts")
    out = tmp_path / "out"
    code, _, err = _cli(["run", str(path), "--out", str(out), "--no-progress"], capsys)
    _one_line(code, err, "a dotted key of more than 32 parts")
    assert not out.exists()


@pytest.mark.parametrize("value", ["{a = " * 40 + "1" + "}" * 40, "[" * 40 + "1" + "]" * 40])
def test_values_nested_40_deep_are_refused(tmp_path, capsys, value):
    path = _suite(tmp_path, SMALL.format(extra="", models=f"[models.knn.search]\nn_neighbors = {value}\n"))
    code, _, err = _cli(["check", str(path)], capsys)
    _one_line(code, err, "[models.knn.search.n_neighbors...] values nested more than 32 levels deep")


def test_a_dotted_key_of_50000_parts_is_refused_in_well_under_a_second(tmp_path, capsys):
    path = _suite(tmp_path, "[suite]\n" + ".".join(["a"] * 50_000) + " = 1\n")
    from bench.plugins import load_plugins
    from bench.suite import SuiteError, load

    load_plugins()  # the registries' imports are not what is timed
    t0 = time.perf_counter()
    with pytest.raises(SuiteError, match="line 2: a dotted key of more than 32 parts"):
        load(path)
    assert time.perf_counter() - t0 < 0.5
    code, _, err = _cli(["check", str(path)], capsys)
    _one_line(code, err, "line 2: a dotted key of more than 32 parts")


def test_dotted_keys_and_long_lines_a_suite_may_hold_still_parse(tmp_path):
    from bench.suite import parse

    text = ('[suite]\nseeds = [0]\ntrain_sizes = [20]\ndescription = "' + "a.b. " * 200 + '"\n'
            '[datasets.wine]\n[models.knn]\n[models.knn.search]\n"n_neighbors" = [1, 2, 3]\n'
            'p = {values = [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0, '
            '9.5, 10.0, 10.5, 11.0, 11.5, 12.0, 12.5, 13.0, 13.5, 14.0, 14.5, 15.0, 15.5, 16.0, 16.5, 17.0]}\n')
    assert parse(text, "ok.toml").models[0].search["p"]["values"][-1] == 17.0


# --- 7. Caps and duplicates ----------------------------------------------------------------------------------

def test_threads_on_the_command_line_are_capped_like_the_suite(tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = _cli(["run", str(_suite(tmp_path, SMALL.format(extra="", models=""))), "--out", str(out),
                         "--threads", "10000", "--no-progress"], capsys)
    _one_line(code, err, "--threads 10000 is absurd; at most 1024")
    assert not out.exists()


def test_a_feature_variant_listed_twice_is_refused(tmp_path, capsys):
    path = _suite(tmp_path, SMALL.format(extra='features = ["raw", "raw"]\n', models=""))
    code, _, err = _cli(["check", str(path)], capsys)
    _one_line(code, err, f"{path}: [suite.features] 'raw' is listed twice")


@pytest.mark.parametrize("params, expected", [
    ("n_features = 100000000", "5000 rows x 100000000 features x 8 bytes = 3,725.3 GB is more than this harness handles (16 GB)"),
    ("n_features = 1e8", "[datasets.s.n_features] expected integer, got number 100000000.0"),
])
def test_a_generated_dataset_too_large_for_memory_is_refused_by_check(tmp_path, capsys, params, expected):
    path = _suite(tmp_path, f'[suite]\n[datasets.s]\ndataset = "synthetic_classification"\n{params}\n[models.knn]\n')
    code, _, err = _cli(["check", str(path)], capsys)
    _one_line(code, err, expected)


# --- 8. A device this machine lacks ---------------------------------------------------------------------------

def _has(device: str) -> bool:
    import torch

    if device == "cuda":
        return torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


@pytest.mark.parametrize("where", ["suite", "model"])
@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_a_device_this_machine_lacks_is_refused_before_running_naming_the_devices_found(tmp_path, capsys, device, where):
    if _has(device):
        pytest.skip(f"this machine has {device}")
    extra = f'device = "{device}"\n' if where == "suite" else ""
    models = f'[models.mlp]\nn_epochs = 1\n{"" if where == "suite" else f"device = {chr(34)}{device}{chr(34)}"}\n'
    path = _suite(tmp_path, SMALL.format(extra=extra, models=models))
    key = "suite.device" if where == "suite" else "models.mlp.device"
    code, _, err = _cli(["check", str(path)], capsys)
    _one_line(code, err, f"[{key}] device '{device}' is not on this machine; devices found: cpu")
    out = tmp_path / "out"
    code, _, err = _cli(["run", str(path), "--out", str(out), "--no-progress"], capsys)
    _one_line(code, err, f"device '{device}' is not on this machine")
    assert not out.exists()


def test_an_unknown_model_device_is_refused(tmp_path, capsys):
    path = _suite(tmp_path, SMALL.format(extra="", models='[models.mlp]\ndevice = "tpu"\n'))
    code, _, err = _cli(["check", str(path)], capsys)
    _one_line(code, err, "[models.mlp.device] unknown device 'tpu'; valid: auto, cpu, cuda, cuda:N, mps")
