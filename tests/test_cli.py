"""The command line does what the README says: options where it shows them, resume that neither
mixes nor forgets, values refused before any cell, a plain closing sentence."""

import json

import pytest

from bench import results
from bench.__main__ import main

SUITE = """
[suite]
seeds = [0]
train_sizes = [50]
time_limit_s = 60
[datasets.wine]
[models.constant]
model = "test_constant"
"""


def _suite(tmp_path, text=SUITE, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_plugin_is_accepted_after_the_subcommand_as_the_readme_shows(tmp_path, capsys):
    assert main(["check", _suite(tmp_path), "--plugin", "bench.models.testing"]) == 0
    assert main(["--plugin", "bench.models.testing", "check", _suite(tmp_path)]) == 0


def test_a_run_ends_with_a_status_sentence_and_the_report_command(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", _suite(tmp_path), "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "the folder holds 1 row: 1 ok" in text
    assert f"python -m bench report {out}" in text
    assert "{" not in text.split("the folder holds")[1].splitlines()[0]  # a sentence, not a dict


def test_resume_of_a_folder_that_does_not_exist_is_refused(tmp_path, capsys):
    assert main(["run", _suite(tmp_path), "--resume", str(tmp_path / "nope"), "--no-progress"]) == 2
    assert "no such run folder to resume" in capsys.readouterr().err
    assert not (tmp_path / "nope").exists()


def test_resume_with_another_suite_is_refused_unless_allowed(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", _suite(tmp_path), "--out", str(out), "--no-progress"]) == 0
    other = _suite(tmp_path, SUITE.replace("seeds = [0]", "seeds = [0, 1]"), "other.toml")
    assert main(["run", other, "--resume", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "another suite" in err and "--allow-suite-change" in err
    assert len(results.read_rows(out)) == 1  # nothing mixed in
    assert main(["run", other, "--resume", str(out), "--allow-suite-change", "--no-progress"]) == 0
    assert len(results.read_rows(out)) == 2


def test_a_job_count_that_leaves_no_memory_per_cell_is_refused_before_anything_runs(tmp_path, capsys):
    assert main(["run", _suite(tmp_path), "--out", str(tmp_path / "run"), "--jobs", "100000"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--jobs 100000" in err and "at most" in err
    assert not (tmp_path / "run").exists()


def test_skipped_pairs_are_summarised_one_line_per_reason(tmp_path, capsys):
    text = SUITE.replace("[datasets.wine]", "[datasets.wine]\n[datasets.breast_cancer]\n[datasets.diabetes]")
    text += "[models.cnn]\n"
    assert main(["check", _suite(tmp_path, text)]) == 0
    out = capsys.readouterr().out
    cnn = [line for line in out.splitlines() if "cnn does not take tabular data" in line]
    assert len(cnn) == 1 and "3 dataset(s)" in cnn[0]
    assert main(["check", _suite(tmp_path, text), "--verbose"]) == 0
    assert capsys.readouterr().out.count("cnn does not take tabular data") == 3


def test_resume_can_retry_timeouts(tmp_path, capsys):
    out = tmp_path / "run"
    path = _suite(tmp_path)
    assert main(["run", path, "--out", str(out), "--no-progress"]) == 0
    rows = results.read_rows(out)
    rows[0]["status"] = "timeout"  # as a cell stopped on a busy machine would be
    (out / results.ROWS_FILE).write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["run", path, "--resume", str(out), "--no-progress"]) == 0
    assert results.read_rows(out)[0]["status"] == "timeout"  # plain --resume keeps it
    assert main(["run", path, "--resume", str(out), "--retry-timeouts", "--no-progress"]) == 0
    assert [r["status"] for r in results.read_rows(out)] == ["ok"]


def test_resume_can_retry_errors(tmp_path, capsys):
    out = tmp_path / "run"
    path = _suite(tmp_path)
    assert main(["run", path, "--out", str(out), "--no-progress"]) == 0
    rows = results.read_rows(out)
    rows[0].update(status="error", error_type="WorkerDied")  # as a worker killed by its watchdog would be
    (out / results.ROWS_FILE).write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["run", path, "--resume", str(out), "--retry-timeouts", "--no-progress"]) == 0
    assert results.read_rows(out)[0]["status"] == "error"  # timeouts only: the error stays
    assert main(["run", path, "--resume", str(out), "--retry-errors", "--no-progress"]) == 0
    assert [r["status"] for r in results.read_rows(out)] == ["ok"]


@pytest.mark.parametrize("flag", ["--retry-timeouts", "--retry-errors", "--allow-suite-change"])
def test_resume_only_flags_need_resume(tmp_path, capsys, flag):
    assert main(["run", _suite(tmp_path), flag]) == 2
    assert "go with --resume" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["run", "--help"]])
def test_help_and_list_load_no_heavy_library(argv):
    """The commands a user types first stay light: heavy libraries load only where a model is built.

    Asserted on what is imported, not on a wall-clock time (which a busy machine inflates).
    """
    import os
    import subprocess
    import sys

    from bench.plugins import PLUGINS_ENV

    code = (
        "import sys, runpy\n"
        f"sys.argv = ['bench', *{argv!r}]\n"
        "try:\n    runpy.run_module('bench', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('sklearn', 'torch', 'xgboost', 'scipy.stats._stats_py') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != PLUGINS_ENV}  # the tests' own plug-ins import scikit-learn
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert "HEAVY []" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]


def test_a_plugin_model_reaches_its_worker_through_the_cells_not_an_environment_variable(tmp_path):
    """`bench run --plugin mine`: the model registered by `mine` runs in its worker although no
    BENCH_PLUGINS is set, and the command leaves the environment as it found it."""
    import os
    import subprocess
    import sys

    from bench.plugins import PLUGINS_ENV

    (tmp_path / "mine.py").write_text(
        "from sklearn.dummy import DummyClassifier\n"
        "from bench.models import model\n\n\n"
        "@model('my_dummy', family='classical', tasks=('classification',), modalities=('tabular',), tags=('testing',),"
        " needs=())\n"
        "def my_dummy(ctx):\n    return DummyClassifier()\n",
        encoding="utf-8",
    )
    suite = _suite(tmp_path, "[suite]\nseeds = [0]\ntrain_sizes = [40]\n[datasets.wine]\n[models.my_dummy]\n")
    code = (
        "import os, sys\nfrom bench.__main__ import main\n"
        f"code = main(['run', {suite!r}, '--plugin', 'mine', '--out', {str(tmp_path / 'run')!r}, '--no-progress'])\n"
        f"print('ENV', os.environ.get({PLUGINS_ENV!r}))\nsys.exit(code)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != PLUGINS_ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")]).strip(os.pathsep)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "ENV None" in out.stdout
    rows = results.read_rows(tmp_path / "run")
    assert [(r["model"], r["status"]) for r in rows] == [("my_dummy", "ok")], rows
