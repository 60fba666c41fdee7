"""The performance regression check (bench/regress/): its judgement, its probe and driver, its suite, its
baseline, and end to end.

The end-to-end tests run the check on a three-benchmark suite: injected regressions (a 2x
slower fit, a score drop, a memory growth) must fail and name the model and the figure; the
same code against itself must pass. No wall-clock assertions: timing is judged by the check.
"""

import ast
import json
import os
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bench import measure, regress
from bench.models import MODELS
from bench.regress import probe

# ---------------------------------------------------------------------------- judgement


def _samples(median, spread=0.02, n=7):
    return [median * (1 + spread * (i - n // 2) / n) for i in range(n)]


def test_a_2x_slower_time_with_a_significant_test_fails():
    v = regress.judge_time(_samples(0.2), _samples(0.1), "fit_cpu_s")
    assert v.level == "fail" and v.ratio == pytest.approx(2.0, rel=0.01) and v.p < 0.01


def test_the_same_distribution_passes():
    a = [0.101, 0.099, 0.103, 0.098, 0.1, 0.102, 0.097]
    b = [0.1, 0.098, 0.104, 0.099, 0.101, 0.1, 0.102]
    assert regress.judge_time(a, b, "fit_cpu_s").level == "ok"


def test_a_large_ratio_with_an_unclear_test_asks_for_more_samples():
    work = [0.2, 0.21, 0.19, 0.09, 0.22]
    base = [0.1, 0.11, 0.1, 0.2, 0.09]
    v = regress.judge_time(work, base, "fit_cpu_s")
    assert 0.01 <= v.p < 0.2 and v.level == "unsure"


def test_between_1_1x_and_1_3x_warns():
    assert regress.judge_time(_samples(0.12), _samples(0.1), "fit_cpu_s").level == "warn"


def test_a_large_ratio_without_significance_passes():
    # Medians 1.5x apart, but the samples overlap: noise, not a regression.
    work = [0.1, 0.3, 0.15, 0.32, 0.09, 0.28, 0.16]
    base = [0.1, 0.29, 0.08, 0.31, 0.1, 0.11, 0.3]
    v = regress.judge_time(work, base, "fit_cpu_s")
    assert v.p >= 0.01 and v.level == "ok"


def test_a_significant_ratio_below_the_absolute_floor_passes():
    v = regress.judge_time(_samples(0.0008), _samples(0.0004), "predict_cpu_s")
    assert v.ratio > 1.9 and v.level == "ok"


def test_memory_growth_beyond_max_10_percent_or_20_mb_fails():
    assert regress.judge_memory(119.0, {"baseline": 100.0}) is None  # +19 MB: under 20 MB
    assert regress.judge_memory(121.0, {"baseline": 100.0})[0] == "fail"
    assert regress.judge_memory(330.0, {"baseline": 300.0}) is None  # +10 % exactly
    assert regress.judge_memory(331.0, {"baseline": 300.0})[0] == "fail"
    assert regress.judge_memory(15.0, {"baseline": 2.0}) is None


def test_memory_over_the_baseline_but_not_over_the_base_revision_only_warns():
    level, msg = regress.judge_memory(150.0, {"baseline": 100.0, "base": 149.0})
    assert level == "warn" and "baseline 100.0 MB" in msg


def test_quality_diffs_catch_worse_scores_and_changed_predictions():
    ref = {"accuracy": 0.9, "log_loss": 0.3, "predictions_sha": "a"}
    worse, better, changed = regress.quality_diffs({"accuracy": 0.89, "log_loss": 0.3, "predictions_sha": "b"}, ref)
    assert worse == ["accuracy 0.9 -> 0.89"] and not better and changed
    worse, better, changed = regress.quality_diffs({"accuracy": 0.9, "log_loss": 0.31, "predictions_sha": "a"}, ref)
    assert worse and worse[0].startswith("log_loss")  # lower is better
    assert regress.quality_diffs({**ref, "accuracy": 0.9 + 1e-9}, ref) == ([], [], False)


def _bench(name="m"):
    return regress.Benchmark(name=name, model=name, dataset="d", toml="")


def _row(**kw):
    return {"status": "ok", "accuracy": 0.9, "predictions_sha": "a", "peak_memory_mb": 5.0,
            "fit_cpu_s": 0.1, "predict_cpu_s": 0.01, **kw}


def test_judge_names_the_model_and_the_figure():
    stored = {"benchmarks": {"m": {"accuracy": 0.9, "predictions_sha": "a", "peak_memory_mb": 5.0}}}
    work = {"m": [_row(accuracy=0.8, predictions_sha="b", peak_memory_mb=60.0,
                       fit_cpu_s=0.2 + i / 1000) for i in range(7)]}
    base = {"m": [_row(fit_cpu_s=0.1 + i / 1000) for i in range(7)]}
    out, confirm, _ = regress.judge([_bench()], work, base, stored, True, "abc", "ab")
    figures = {(f.level, f.model, f.figure) for f in out.findings}
    assert ("fail", "m", "score") in figures and ("fail", "m", "peak_memory_mb") in figures
    assert [v.figure for v in confirm["m"]] == ["fit_cpu_s"]  # time failures wait for the rerun


def test_a_quality_change_the_baselines_own_commit_shows_too_is_only_a_warning():
    stored = {"benchmarks": {"m": {"accuracy": 0.9, "predictions_sha": "a"}}}
    rows = {"m": [_row(accuracy=0.95, predictions_sha="b")] * 3}
    out, _, _ = regress.judge([_bench()], rows, rows, stored, True, "abc", "ab")
    assert [(f.level, f.figure) for f in out.findings] == [("warn", "predictions")]
    out, _, _ = regress.judge([_bench()], rows, rows, stored, False, "abc", "ab")
    assert [(f.level, f.figure) for f in out.findings] == [("fail", "predictions")]


def test_a_failing_cell_fails_the_check():
    out, _, _ = regress.judge([_bench()], {"m": [{"status": "error", "info": "boom"}]}, None, None, False, "-", "skip")
    assert out.findings[0].level == "fail" and "boom" in out.findings[0].message


def test_predictions_hash_is_stable_and_ignores_float_noise():
    sha = probe.predictions_sha

    p = np.array([1.5, 200.25, -3.0])
    assert sha(p) == sha(p + 1e-12) == sha(p.astype(np.float64).copy())
    assert sha(p) != sha(p * 1.001)
    assert sha(np.array([0, 1, 1])) != sha(np.array([0, 1, 0]))


def test_the_probes_hash_equals_the_harness_hash_so_old_and_new_rows_compare():
    for pred in (np.array([1.5, 200.25, -3.0]), np.array([0, 1, 1]), np.array(["a", "b"]), np.zeros((3, 2))):
        assert probe.predictions_sha(pred) == measure.predictions_sha(pred)


# ---------------------------------------------------------------------------- probe and driver


def test_the_probe_and_the_driver_import_nothing_of_bench_regress():
    # They run under the base revision's code, which may predate bench.regress.
    for source in (regress.PROBE_SOURCE, regress.DRIVER_SOURCE):
        imported = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")
        assert not [m for m in imported if m.startswith("bench.regress")], imported


def test_a_side_settings_module_installs_the_probe_with_its_settings_and_nothing_else(tmp_path):
    from bench.regress.sides import write_helpers, write_settings

    write_helpers(tmp_path)
    name = write_settings(tmp_path, "work", "score:knn:0.5", ("json",))
    code = (f"import {name}, {probe.MODULE_NAME} as p; from bench.execution import hooks; "
            "print([(h.kind, h.model, h.amount) for h in hooks.registered()])")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(regress.ROOT)])}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.stdout.strip() == "[('score', 'knn', 0.5)]", res.stderr
    name = write_settings(tmp_path, "base", None, ("json",))
    code = f"import {name}; from bench.execution import hooks; print(len(hooks.registered()))"
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.stdout.strip() == "0", res.stderr


@pytest.mark.parametrize("spec, problem", [
    ("slow:svm", "write kind:model:amount"),
    ("fast:svm:2", "'fast' is not one of slow, memory, score"),
    ("slow:svm:x", "the amount 'x' is not a number"),
    ("slow:svm:0", "must be above 0"),
])
def test_a_malformed_injection_is_refused_naming_it(spec, problem):
    from bench.regress.sides import write_settings

    with pytest.raises(ValueError, match=problem):
        write_settings(Path("/nonexistent"), "work", spec, ())


def test_a_side_of_the_old_layout_is_refused_without_loading_the_installed_harness(tmp_path):
    # bench is installed in editable mode: its import hook would find the working tree's
    # bench.execution for a base revision that lacks it, and mix the two versions' code.
    old = tmp_path / "bench"
    old.mkdir()
    (old / "__init__.py").write_text("")
    (old / "isolate.py").write_text("def run_isolated(cell):\n    return 'the old harness'\n")
    driver = Path(regress.__file__).parent / "driver.py"
    res = subprocess.run([sys.executable, str(driver), "some_plugin"], env={**os.environ, "PYTHONPATH": str(tmp_path)},
                         cwd=tmp_path, capture_output=True, text=True, input="")
    hello = json.loads(res.stdout)
    assert "predates the execution package" in hello["error"] and hello["foreign"] == [], res.stderr


def test_a_harness_without_cell_hooks_gets_the_plugins_named_where_its_servers_read_them(tmp_path):
    old = tmp_path / "bench"
    (old / "execution").mkdir(parents=True)
    (old / "__init__.py").write_text("")
    driver = Path(regress.__file__).parent / "driver.py"
    code = (f"import os, runpy; ns = runpy.run_path({str(driver)!r}, run_name='x'); "
            "ns['name_plugins_for_old_servers'](('probe_settings',)); print(os.environ.get('BENCH_PLUGINS'))")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "BENCH_PLUGINS": "mine"}
    res = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert res.stdout.strip() == "probe_settings,mine", res.stderr
    (old / "execution" / "hooks.py").write_text("")
    res = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert res.stdout.strip() == "mine", res.stderr  # a harness with hooks imports each cell's plugins itself


def test_the_driver_writes_rows_as_plain_json_values():
    ns = runpy.run_path(str(Path(regress.__file__).parent / "driver.py"), run_name="not_main")
    assert [ns["clean"](v) for v in (np.float64(0.5), np.int64(3), float("nan"), None, "x", (1, 2))] == [
        0.5, 3, None, None, "x", "(1, 2)"]


def test_a_request_the_driver_cannot_plan_becomes_an_error_row():
    ns = runpy.run_path(str(Path(regress.__file__).parent / "driver.py"), run_name="not_main")
    row = ns["run_one"]({"name": "x", "toml": "[suite]\nname = 1\n"}, run_isolated=None)
    assert row["status"] == "error" and row["info"]


def test_the_driver_leaves_a_rows_private_keys_out_and_names_its_plugins_in_the_cell():
    ns = runpy.run_path(str(Path(regress.__file__).parent / "driver.py"), run_name="not_main")
    seen = []

    def run_isolated(cell):
        seen.append(cell.plugins)
        return {"status": "ok", "score": 1.0, "_predictions": np.zeros(3), "_test_labels": np.zeros(3)}

    toml = '[suite]\nseeds = [0]\ntrain_sizes = [50]\n[datasets.breast_cancer]\n[models.knn]\n'
    row = ns["run_one"]({"name": "x", "toml": toml}, run_isolated, ("json",))
    assert row == {"status": "ok", "score": 1.0} and "json" in seen[0]


# ---------------------------------------------------------------------------- the suite


def test_the_regression_suite_is_valid_and_covers_every_model():
    suite = regress.load_suite(regress.ROOT / regress.DEFAULT_SUITE)
    skipped = regress.validate(suite)
    models = {b.model for b in suite.benchmarks}
    classical = {"logistic_regression", "linear_regression", "ridge", "svm", "decision_tree",
                 "random_forest", "knn", "xgboost"}
    assert classical <= models
    assert not [x for x in skipped if x.split(":")[0] in classical], skipped
    deep = {n for n in ("mlp", "cnn", "rnn") if n in MODELS}
    assert deep <= models, f"deep models missing from suites/regress.toml: {deep - models}"


def test_the_stored_baseline_covers_the_suite():
    suite = regress.load_suite(regress.ROOT / regress.DEFAULT_SUITE)
    stored = regress.read_baseline(regress.ROOT / regress.DEFAULT_BASELINE)
    assert stored is not None, "no results/baseline/regress.json: run nox -s regress -- --update-baseline"
    assert stored["suite_sha"] == suite.sha, "suites/regress.toml changed: run nox -s regress -- --update-baseline"
    skipped = {x.split(":")[0] for x in regress.validate(suite)}
    runnable = {b.name for b in suite.benchmarks} - skipped
    assert runnable <= set(stored["benchmarks"]), (
        f"no stored figures for {runnable - set(stored['benchmarks'])}: run nox -s regress -- --update-baseline")


def test_a_benchmark_of_an_unregistered_model_is_skipped_with_a_warning(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text('[benchmarks.a]\nmodel = "not_yet_written"\ndataset = "breast_cancer"\ntrain_size = 100\n'
                    '[benchmarks.knn]\ndataset = "breast_cancer"\ntrain_size = 100\n')
    assert regress.validate(regress.load_suite(path)) == [
        "a: model 'not_yet_written' not registered in this tree; benchmark skipped"]


def test_suite_errors_name_the_key(tmp_path):
    bad = tmp_path / "r.toml"
    bad.write_text('[benchmarks.a]\ndataset = "breast_cancer"\ntrain_size = 100\ncolour = 1\n')
    with pytest.raises(regress.RegressError, match=r"benchmarks\.a\.colour"):
        regress.load_suite(bad)
    bad.write_text('[benchmarks.a]\nmodel = "knn"\ndataset = "breast_cancer"\ntrain_size = 100\n'
                   'params = { n_neighbours = 3 }\n')
    with pytest.raises(regress.RegressError, match="n_neighbours"):
        regress.validate(regress.load_suite(bad))


# ---------------------------------------------------------------------------- the stored baseline


def test_only_library_versions_the_baseline_recorded_and_that_changed_are_named():
    from bench.regress.baseline import version_changes, versions

    now = versions()
    assert version_changes(now) == ""
    assert version_changes({"python": now["python"], "numpy": now["numpy"]}) == ""  # an older, shorter record
    assert version_changes({"numpy": "0.0"}) == f"numpy 0.0 -> {now['numpy']}"


def test_the_baseline_is_written_whole_with_the_medians_and_every_time_sample(tmp_path):
    suite = regress.RegressSuite(path="r.toml", samples=3, benchmarks=(_bench(),), sha="s")
    times = [0.12, 0.1, 0.11]
    rows = {"m": [_row(fit_cpu_s=t, peak_memory_mb=5.0 + i) for i, t in enumerate(times)]}
    path = regress.write_baseline(tmp_path, suite, rows, [_bench()])
    assert [p.name for p in tmp_path.iterdir()] == [regress.BASELINE_FILE]  # no temporary file left
    entry = regress.read_baseline(tmp_path)["benchmarks"]["m"]
    assert path == tmp_path / regress.BASELINE_FILE
    assert entry["fit_cpu_s_samples"] == times and entry["fit_cpu_s"] == 0.11
    assert entry["peak_memory_mb"] == 6.0 and entry["predictions_sha"] == "a"


def test_a_baseline_of_a_benchmark_that_did_not_run_is_refused(tmp_path):
    suite = regress.RegressSuite(path="r.toml", samples=3, benchmarks=(_bench(),), sha="s")
    with pytest.raises(regress.RegressError, match="m did not run: error: boom"):
        regress.write_baseline(tmp_path, suite, {"m": [{"status": "error", "info": "boom"}]}, [_bench()])
    assert not (tmp_path / regress.BASELINE_FILE).exists()


# ---------------------------------------------------------------------------- end to end

SMALL_SUITE = """
[regress]
samples = 7
threads = 1

[benchmarks.logistic_regression]
dataset = "breast_cancer"
train_size = 400

[benchmarks.decision_tree]
dataset = "synthetic_classification"
dataset_params = { n_samples = 1500, n_features = 20 }
train_size = 1000

[benchmarks.knn]
dataset = "breast_cancer"
train_size = 400
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A three-benchmark suite and a baseline of it, written from the working tree."""
    folder = tmp_path_factory.mktemp("regress")
    suite = folder / "regress.toml"
    suite.write_text(textwrap.dedent(SMALL_SUITE))
    opts = regress.Options(suite=str(suite), baseline=str(folder / "baseline"), update_baseline=True)
    regress.run_check(opts, say=lambda s: None)
    return suite, folder / "baseline"


@pytest.mark.slow
def test_injected_slowdown_score_drop_and_memory_growth_fail_and_are_named(small):
    suite, baseline = small
    lines: list[str] = []
    out = regress.run_check(
        regress.Options(suite=str(suite), baseline=str(baseline), base_path=str(regress.ROOT),
                        inject="slow:decision_tree:2.0,score:logistic_regression:0.1,memory:knn:100"),
        say=lines.append,
    )
    fails = {(f.model, f.figure) for f in out.findings if f.level == "fail"}
    assert out.rc == 1
    assert ("decision_tree", "fit_cpu_s") in fails, "\n".join(lines)
    assert ("logistic_regression", "score") in fails, "\n".join(lines)
    assert ("knn", "peak_memory_mb") in fails, "\n".join(lines)
    printed = "\n".join(lines)
    assert "FAIL decision_tree [decision_tree] fit_cpu_s: " in printed and "confirmed on rerun" in printed


@pytest.mark.slow
def test_the_same_code_against_itself_passes(small):
    suite, baseline = small
    lines: list[str] = []
    out = regress.run_check(
        regress.Options(suite=str(suite), baseline=str(baseline), base_path=str(regress.ROOT)),
        say=lines.append,
    )
    assert out.rc == 0, "\n".join(lines)
    assert [r["benchmark"] for r in out.table] == ["logistic_regression", "decision_tree", "knn"]
    assert all(r.get("fit_cpu_s_ratio") is not None for r in out.table)


@pytest.mark.slow
def test_a_git_base_revision_is_checked_out_and_removed(small):
    suite, baseline = small
    if regress.resolve_commit("HEAD") is None:
        pytest.skip("not a git checkout")
    lines: list[str] = []
    def worktrees():
        return {line.split()[0] for line in regress._git("worktree", "list").stdout.splitlines() if line}

    before = worktrees()
    out = regress.run_check(
        regress.Options(suite=str(suite), baseline=str(baseline), base="HEAD", samples=3,
                        only=("knn",)),
        say=lines.append,
    )
    assert worktrees() == before
    assert "working tree vs base " in lines[0]
    assert out.table[0].get("base_mem_mb") is not None, "\n".join(lines)


@pytest.mark.slow
def test_a_missing_base_commit_falls_back_with_a_clear_message(small):
    suite, baseline = small
    data = json.loads((baseline / "regress.json").read_text())
    data["made_from"] = "0123456789abcdef0123456789abcdef01234567"
    folder = baseline.parent / "baseline-missing"
    folder.mkdir(exist_ok=True)
    (folder / "regress.json").write_text(json.dumps(data))
    lines: list[str] = []
    out = regress.run_check(
        regress.Options(suite=str(suite), baseline=str(folder), samples=3, only=("knn",)), say=lines.append
    )
    printed = "\n".join(lines)
    assert "is not in this clone" in printed and "judged loosely against the stored" in printed
    assert out.rc == 0, printed
