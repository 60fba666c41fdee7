"""A cell of 10^6 training rows x 50 features: which models run in their time limit, and the harness's memory.

One synthetic tabular group (synthetic_classification, 1,100,000 rows of 50 float32
features: 10^6 training rows, 100,000 test rows; BENCH_PERF_SCALE_ROWS sets the training
rows) runs through `bench.execution.runner.run` as `bench run` runs it: one job, 2 threads,
each model in its own worker under a BENCH_PERF_SCALE_LIMIT_S (default 300) s wall-time
limit, no validation fit (validation = 0: the protocol's extra fit would double every cell).
Models: every classical classifier (logistic regression, RBF SVM, decision tree, random
forest, k-NN, XGBoost) and the MLP (2 epochs of batches of 512: its default 100 epochs
would not fit the limit on 2 CPU cores). A model that allocates nothing runs first, so the
group's data (generated, split, scaled, cached) is made by that cell alone and its cost is
not charged to any model.

Printed per model: status, fit and predict seconds, fit peak memory, the data it was given
(`data_mb`: training and test arrays) and what handing them over cost the worker
(`prepare_memory_mb`: peak resident growth while mapping the group's cached arrays), as a
share of the data. For the group's preparation, run again in a fresh process as its worker
runs it: the peak of generating the dataset, and the peak of everything after (split,
scaling, caching, mapping), read apart (the kernel's high-water mark is reset between
them), so the harness's own memory on top of the data is measured, not inferred. `nox -s perf`, or
`pytest benchmarks/test_scale.py -p no:cacheprovider` (20 to 40 minutes on the 2-core machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bench.execution import runner
from bench.suite import parse

N_TRAIN = int(os.environ.get("BENCH_PERF_SCALE_ROWS", "1000000"))
N_TEST = max(1000, N_TRAIN // 10)
N_FEATURES = 50
LIMIT_S = float(os.environ.get("BENCH_PERF_SCALE_LIMIT_S", "300"))
MODELS = ["logistic_regression", "svm", "decision_tree", "random_forest", "knn", "xgboost", "mlp"]
MAX_HARNESS_SHARE = 1.5  # the harness's memory on top of the data, as a multiple of the data's size

pytestmark = pytest.mark.timeout(int(LIMIT_S * (len(MODELS) + 2) * 2 + 600))

SUITE = f"""
[suite]
name = "scale"
seeds = [0]
train_sizes = [{N_TRAIN}]
test_size = {N_TEST}
threads = 2
time_limit_s = {LIMIT_S}
validation = 0

[datasets.synthetic_classification]
n_samples = {N_TRAIN + N_TEST}
n_features = {N_FEATURES}
n_informative = 20
n_classes = 2

[models.prepare_group]
model = "test_constant"
""" + "".join(f"[models.{m}]\n" for m in MODELS if m != "mlp") + """
[models.mlp]
n_epochs = 2
batch_size = 512
"""

# The group's preparation as its first worker runs it (bench.execution.prepare.prepare, a fresh
# cache), in a fresh process, with the peak resident memory of generating the dataset and of
# everything after it (split, scaling, caching, mapping the cache) read apart.
PHASES = """
import json, os, sys, tempfile
import bench.execution.preload
from bench import datasets as ds
from bench.execution import prepare as prep
from bench.suite import parse, plan

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024

def reset_peak():
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")

suite = parse(sys.stdin.read(), "scale.toml", plugins=("bench.models.testing",))
cell = plan(suite)[0][0]
out = {}
real_load = ds.load

def load(*args, **kwargs):
    data = real_load(*args, **kwargs)
    out["generate_peak_mb"] = status("VmHWM") - out["baseline_mb"]
    out["data_mb"] = (data.X.nbytes + data.y.nbytes) / 2**20
    reset_peak()
    out["after_generation_mb"] = status("VmRSS") - out["baseline_mb"]
    return data

ds.load = load
out["baseline_mb"] = status("VmRSS")
reset_peak()
split = prep.prepare(cell, tempfile.mkdtemp())  # a fresh cache, as the group's first worker has
prep._touch(split.X_train, split.y_train, split.X_test, split.y_test)
out["harness_peak_mb"] = status("VmHWM") - out["baseline_mb"]
out["handed_over_mb"] = status("VmRSS") - out["baseline_mb"]
out["split_mb"] = sum(a.nbytes for a in (split.X_train, split.y_train, split.X_test, split.y_test)) / 2**20
print(json.dumps(out))
"""


def _phases() -> dict:
    out = subprocess.run([sys.executable, "-c", PHASES], input=SUITE, capture_output=True, text=True,
                         timeout=3600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_million_row_cell(tmp_path, capsys):
    suite = parse(SUITE, "scale.toml", plugins=("bench.models.testing",))
    summary = runner.run(suite, tmp_path / "run", jobs=1, progress=False)
    rows = summary.table.set_index("model")
    phases = _phases()
    load = os.getloadavg()[0]
    prep = rows.loc["prepare_group"]
    data = phases["data_mb"]
    # On top of the data: the worker's peak while splitting, scaling and caching, less the data it holds.
    on_top = phases["harness_peak_mb"] - phases["after_generation_mb"]
    with capsys.disabled():
        print(f"\n{N_TRAIN:,} training rows x {N_FEATURES} features (+{N_TEST:,} test rows), limit {LIMIT_S:g} s, "
              f"2 threads, load average {load:.1f} on {os.cpu_count()} cores")
        print(f"  the data: {data:.0f} MB (float32 features, int64 labels); generating it peaks at "
              f"{phases['generate_peak_mb']:.0f} MB (scikit-learn's make_classification works in float64)")
        print(f"  the harness's data path (split, scaling, cache, hand-over), after the data exists: peak "
              f"{phases['harness_peak_mb']:.0f} MB = the data + {on_top:.0f} MB ({on_top / data:.2f}x the data on "
              f"top of it, {phases['harness_peak_mb'] / data:.2f}x in all); a model's worker then holds "
              f"{phases['handed_over_mb']:.0f} MB, the {phases['split_mb']:.0f} MB split mapped from the cache")
        print(f"  group preparation in its worker: {prep['cell_time_s']:.1f} s, peak "
              f"{prep['prepare_memory_mb']:.0f} MB above the worker's start (generation included)")
        print(f"  {'model':20s} {'status':8s} {'fit s':>8s} {'predict s':>9s} {'fit MB':>8s} {'hand-over MB':>12s}  share")
        for model in MODELS:
            r = rows.loc[model]
            fmt = lambda v, spec: "-" if v != v else format(v, spec)  # noqa: E731
            handover = float(r["prepare_memory_mb"])
            share = handover / float(r["data_mb"]) if r["data_mb"] == r["data_mb"] else float("nan")
            print(f"  {model:20s} {r['status']:8s} {fmt(r['fit_time_s'], '8.1f')} {fmt(r['predict_time_s'], '9.2f')} "
                  f"{fmt(r['peak_memory_mb'], '8.0f')} {fmt(handover, '12.0f')}  {fmt(share, '.2f')}"
                  + (f"   {str(r['info']).splitlines()[0][:70]}" if r["status"] != "ok" else ""))
    assert prep["status"] == "ok", prep["info"]
    assert rows.loc["mlp", "status"] == "ok", rows.loc["mlp", "info"]
    assert on_top <= MAX_HARNESS_SHARE * data
    ok = rows[(rows["status"] == "ok") & (rows.index != "prepare_group")]  # that cell generates the data too
    assert (ok["prepare_memory_mb"] <= MAX_HARNESS_SHARE * ok["data_mb"]).all()
