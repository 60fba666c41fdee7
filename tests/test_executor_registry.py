"""Executors share one interface and are found by name; a cell's worker server is chosen by what its
model declares it needs (issue 27).

The worked example of docs/adding-an-executor.md is saved as a plugin module and a suite runs
through it by name.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from pathlib import Path

import pytest

from bench.errors import RunError
from bench.execution import isolate, runner
from bench.execution.deadline import DeadlineExecutor
from bench.execution.executors import EXECUTORS, Executor, ExecutorError, ExecutorOptions, executor
from bench.execution.local import LocalExecutor, local_cores
from bench.models import MODELS, model
from bench.registry import NEEDS
from bench.suite import parse

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "adding-an-executor.md"
SUITE = """
[suite]
name = "registry"
seeds = [0]
train_sizes = [40]
threads = 1
time_limit_s = 120
[datasets.wine]
[models.logistic_regression]
[models.dummy]
model = "test_constant"
"""


@pytest.fixture
def registries(monkeypatch):
    """EXECUTORS and MODELS as they were after the test, whatever it registered (and its plugin modules unloaded)."""
    monkeypatch.setattr(EXECUTORS, "_entries", dict(EXECUTORS._entries))
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith(("my_executors", "my_torch_model")):
            del sys.modules[name]


def _example() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", PAGE.read_text(encoding="utf-8"), flags=re.M | re.S)
    assert len(blocks) == 1, "docs/adding-an-executor.md shows one plugin module"
    return blocks[0]


def test_the_built_in_executors_are_registered_and_share_the_interface():
    assert {"local", "dask"} <= set(EXECUTORS.names())
    for name in ("local", "dask"):
        assert issubclass(EXECUTORS[name], Executor) and EXECUTORS[name].name == name
    assert issubclass(DeadlineExecutor, Executor)
    suite = parse(SUITE, "s.toml", plugins=("bench.models.testing",))
    with runner.make_executor(suite, jobs=2) as ex:
        assert isinstance(ex, LocalExecutor) and ex.layout() == (2, local_cores())
        assert ex.describe()["executor"] == "local"
        deadline = DeadlineExecutor(ex, deadline=0.0)
        assert deadline.layout() == ex.layout() and deadline.describe() == ex.describe()


def test_the_documented_plugin_executor_runs_a_suite_by_name(tmp_path, monkeypatch, registries):
    (tmp_path / "my_executors.py").write_text(_example(), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    suite = parse(SUITE, "s.toml", plugins=("bench.models.testing", "my_executors"))
    quiet = EXECUTORS["quiet"]
    assert issubclass(quiet, Executor) and quiet.name == "quiet"
    monkeypatch.setattr(quiet, "max_wait_s", 0.0)  # this busy test machine: no waiting for a quiet one
    summary = runner.run(suite, tmp_path / "run", executor="quiet", progress=False)
    table = summary.table
    assert sorted(table["model"]) == ["dummy", "logistic_regression"]
    assert (table["status"] == "ok").all(), table["info"].tolist()
    env = json.loads((tmp_path / "run" / "environment.json").read_text())
    assert env["executor"] == {"executor": "quiet", "max_load": quiet.max_load, "max_wait_s": 0.0}
    assert (table["jobs"] == 1).all()  # from the executor's layout


def test_an_unknown_executor_name_is_refused_in_one_line_naming_the_registered_ones(tmp_path):
    suite = parse(SUITE, "s.toml", plugins=("bench.models.testing",))
    with pytest.raises(ExecutorError, match=r"unknown executor 'nope'; registered: dask, local"):
        runner.make_executor(suite, name="nope")
    with pytest.raises(RunError, match=r"unknown executor 'nope'") as info:
        runner.run(suite, tmp_path / "run", executor="nope", progress=False)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "run").exists()  # a run that cannot start leaves nothing behind


def test_the_dask_executor_by_name_needs_a_scheduler():
    suite = parse(SUITE, "s.toml", plugins=("bench.models.testing",))
    pytest.importorskip("distributed")
    with pytest.raises(ExecutorError, match="needs a scheduler address"):
        runner.make_executor(suite, name="dask")


def test_registering_is_checked(registries):
    with pytest.raises(ValueError, match="registered twice"):
        executor("local")(type("Mine", (LocalExecutor,), {}))
    with pytest.raises(TypeError, match="does not subclass"):
        executor("plain")(type("Plain", (), {"run": lambda self, cells: iter(())}))
    with pytest.raises(ValueError, match="lower-case identifier"):
        executor("Not A Name")
    assert "plain" not in EXECUTORS


def test_an_executor_without_run_or_layout_cannot_be_made():
    class Half(Executor):
        def run(self, cells):
            return iter(())

    with pytest.raises(TypeError, match="layout"):
        Half()

    class Whole(Half):
        def layout(self):
            return 1, 1

    ex = Whole.create(ExecutorOptions())
    assert ex.describe() == {"executor": ""} and ex.close() is None


def _cell(name: str, plugins=("bench.models.testing",)):
    from bench.suite import plan

    text = SUITE.replace('[models.logistic_regression]\n', "").replace('model = "test_constant"', f'model = "{name}"')
    cells, _ = plan(parse(text, "s.toml", plugins=plugins))
    return cells[0]


def test_the_worker_server_follows_the_models_declared_need_not_its_module(registries):
    # bench's own: classical models fork from the lean server, deep and hybrid ones declare torch.
    assert isolate.server_kind(_cell("logistic_regression"))[0] == "lean"
    assert isolate.server_kind(_cell("test_constant"))[0] == "lean"
    for name in ("mlp", "cnn", "rnn", "cnn_logistic", "cnn_xgboost", "mlp_xgboost"):
        assert MODELS[name].needs == frozenset({"torch"}), name
        assert isolate.needs_torch(name), name
    # A plugin's models, registered here (not in bench.models.classical): by declaration, else by family.
    base = MODELS["test_constant"].fn
    model("plugin_forest", family="classical")(base)
    model("plugin_torch_trees", family="classical", needs=("torch",))(base)
    model("plugin_net", family="deep")(base)
    model("plugin_numpy_net", family="deep", needs=())(base)
    assert MODELS["plugin_forest"].needs is None
    assert [isolate.needs_torch(n) for n in ("plugin_forest", "plugin_torch_trees", "plugin_net", "plugin_numpy_net")] \
        == [False, True, True, False]
    assert isolate.needs_torch("not_registered_here")  # the torch server serves every model
    with pytest.raises(ValueError, match=r"model 'bad': need 'tensorflow' is not one of torch"):
        model("bad", family="classical", needs=("tensorflow",))(base)
    assert set(NEEDS) == {"torch"}


LATE_TORCH = '''
"""A classical plugin model whose fit imports torch, without declaring it."""
from bench.models import model
from bench.models.testing import _Constant


class LateTorch(_Constant):
    def fit(self, X, y):
        import torch  # noqa: F401
        return self._fit_constant(y)


@model("late_torch", family="classical", tags=("testing",))
def late_torch(ctx):
    return LateTorch(ctx.task)
'''


@pytest.mark.skipif(not isolate.FORK_SERVERS, reason="no fork servers on this platform")
def test_a_lean_cell_that_imports_torch_runs_again_from_the_torch_server(tmp_path, monkeypatch, registries):
    (tmp_path / "my_torch_model.py").write_text(LATE_TORCH, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(isolate, "_LATE_TORCH", set())
    monkeypatch.setattr(isolate, "_NOTED", set())
    cell = _cell("late_torch", plugins=("my_torch_model",))
    assert isolate.server_kind(cell)[0] == "lean"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        row = isolate.run_isolated(cell)
    assert row["status"] == "ok", row.get("info")
    assert isolate.server_kind(cell)[0] == "torch"  # its later cells go there at once
    assert [str(w.message) for w in caught if "late_torch" in str(w.message)] == [
        "model 'late_torch' imported torch in its cell without declaring it (@model(..., needs=(\"torch\",))): "
        "its cells run from the worker server with torch, and this one ran again there"
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert isolate.run_isolated(cell)["status"] == "ok"
    assert not [w for w in caught if "late_torch" in str(w.message)]


def test_no_module_of_bench_replaces_or_reads_multiprocessing_internals():
    """The worker servers are bench's own (bench/execution/server.py): nothing of multiprocessing's
    fork server is replaced or read, and no process's private daemon flag is flipped."""
    import multiprocessing.forkserver as forkserver

    assert forkserver.connect_to_new_process.__module__ == "multiprocessing.forkserver"
    for path in sorted((ROOT / "bench").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for needle in ("multiprocessing.forkserver", "popen_forkserver", "_forkserver", "._config"):
            assert needle not in text, f"{path.relative_to(ROOT)} uses {needle}"


def test_a_runs_cells_share_their_splits_in_the_runs_cache_folder(tmp_path):
    """The runner hands the run's cache folder to the cells explicitly (isolate.use_cache_dir), not
    through an environment variable: the first cell of a group leaves its split there for the others."""

    class Watching(LocalExecutor):
        seen: list = []

        def run(self, cells):
            for row in super().run(cells):
                Watching.seen.append(sorted(p.name for p in (tmp_path / "run" / ".cache").rglob("*") if p.is_file()))
                yield row

    suite = parse(SUITE, "s.toml", plugins=("bench.models.testing",))
    summary = runner.run(suite, tmp_path / "run", executor=Watching(1), progress=False)
    assert (summary.table["status"] == "ok").all()
    assert len(Watching.seen) == 2 and Watching.seen[0], "no split was cached in the run's folder"
    assert not (tmp_path / "run" / ".cache").exists()  # removed with the run
    assert isolate._CACHE_DIR is None


def test_bench_run_chooses_an_executor_by_name_and_refuses_an_unknown_one(tmp_path, capsys):
    from bench.__main__ import main

    suite = tmp_path / "s.toml"
    suite.write_text(SUITE, encoding="utf-8")
    out = tmp_path / "run"
    code = main(["run", str(suite), "--plugin", "bench.models.testing", "--executor", "nope", "--out", str(out),
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown executor 'nope'; registered: dask, local" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
