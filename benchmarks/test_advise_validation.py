"""Does `bench advise` name the same winner as a full run? (issue 28, item 6)

For a few small datasets made here (no download), `bench advise` answers within its budget
as a user would run it, and a full run of the same models (every one of them, default
settings, FULL_SEEDS seeds, the whole training part, no budget) gives the reference verdict
through the same statistics (bench.advise.answer.compute: each family's best chosen on
validation rows, the paired difference over seeds with its bootstrap interval, "neither"
within the margin). Compared: the winning family (deep, classical or neither), and whether
advise's interval covers the full run's difference.

Datasets:
- `digits`: scikit-learn's 1,797 8x8 digit images (shipped with scikit-learn), as an .npz;
- `shapes`: 1,200 16x16 images made here: one of three small shapes at a random place in
  noise (a translation that pixel-wise models find hard, a convolution does not);
- `tabular`: 2,000 rows of scikit-learn's make_classification (20 columns, 8 informative), as a CSV.

Each case's models are few (three or four classical, one or two deep) so that the whole
benchmark takes a few minutes on two cores: `BENCH_ADVISE_BUDGET` sets advise's budget per
dataset (default 2m; a busy machine wants more), `BENCH_ADVISE_CASES` a comma-separated subset.
The last test prints the table (budget, advise's answer and interval, the full run's, agreement)
with the load average, and holds agreement on at least two of three datasets.

Run: `.nox/tests/bin/python -m pytest benchmarks/test_advise_validation.py -s -p no:cacheprovider`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from bench.__main__ import main  # noqa: E402
from bench.advise.answer import compute  # noqa: E402
from bench.advise.inspect import inspect  # noqa: E402
from bench.advise.pilot import features_for  # noqa: E402
from bench.advise.suite_text import Protocol, suite_text  # noqa: E402
from bench.execution import runner  # noqa: E402
from bench.suite import load  # noqa: E402

BUDGET = os.environ.get("BENCH_ADVISE_BUDGET", "2m")
FULL_SEEDS = 3
AGREE_AT_LEAST = 2


@dataclass(frozen=True)
class Case:
    name: str
    models: tuple[str, ...]
    target: str | None = None  # a CSV's target column


CASES = {
    "digits": Case("digits", ("logistic_regression", "random_forest", "knn", "cnn")),
    "shapes": Case("shapes", ("logistic_regression", "random_forest", "knn", "cnn")),
    "tabular": Case("tabular", ("logistic_regression", "random_forest", "xgboost", "mlp"), target="y"),
}
SELECTED = [c for c in os.environ.get("BENCH_ADVISE_CASES", ",".join(CASES)).split(",") if c]


def _digits(path: Path) -> Path:
    from sklearn.datasets import load_digits

    d = load_digits()
    out = path / "digits.npz"
    np.savez(out, X=d.images.astype(np.float32), y=d.target)
    return out


def _shapes(path: Path, n: int = 1200, size: int = 16) -> Path:
    """One of three shapes (a bar, a cross, a ring) at a random place, in Gaussian noise."""
    rng = np.random.default_rng(7)
    shapes = [np.ones((1, 5)), np.zeros((5, 5)), np.ones((4, 4))]
    shapes[1][2, :] = shapes[1][:, 2] = 1
    shapes[2][1:3, 1:3] = 0
    X = rng.normal(0, 0.6, size=(n, size, size)).astype(np.float32)
    y = np.arange(n) % 3
    for i, k in enumerate(y):
        s = shapes[k]
        r, c = rng.integers(0, size - s.shape[0] + 1), rng.integers(0, size - s.shape[1] + 1)
        X[i, r:r + s.shape[0], c:c + s.shape[1]] += 1.5 * s
    out = path / "shapes.npz"
    np.savez(out, X=X, y=y)
    return out


def _tabular(path: Path) -> Path:
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=2000, n_features=20, n_informative=8, n_redundant=4, class_sep=0.8,
                               random_state=3)
    out = path / "tabular.csv"
    pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])]).assign(y=y).to_csv(out, index=False)
    return out


MAKERS = {"digits": _digits, "shapes": _shapes, "tabular": _tabular}
RESULTS: dict[str, dict] = {}


def _advise(case: Case, data: Path, out: Path) -> dict:
    argv = ["advise", str(data), "--budget", BUDGET, "--models", ",".join(case.models), "--out", str(out),
            "--no-progress"]
    if case.target:
        argv += ["--target", case.target]
    t0 = time.monotonic()
    assert main(argv) == 0
    record = json.loads((out / "advice.json").read_text())
    record["wall_s"] = time.monotonic() - t0
    return record


def _full(case: Case, data: Path, out: Path):
    """Every model of the case, default settings, FULL_SEEDS seeds, the whole training part: the reference."""
    profile = inspect(str(data), case.target)
    protocol = Protocol(name=f"full-{case.name}", models=case.models, sizes=(profile.n_pool,),
                        seeds=tuple(range(FULL_SEEDS)), features=features_for(profile), threads=1,
                        time_limit_s=900.0, description="the full run advise is compared with")
    suite_path = out.parent / f"full-{case.name}.toml"
    suite_path.write_text(suite_text(profile, protocol), encoding="utf-8")
    t0 = time.monotonic()
    summary = runner.run(load(suite_path), out, jobs=1, progress=False)
    return compute(summary.table, profile), time.monotonic() - t0


def _winner(outcome: str) -> str:
    return {"tie": "neither", "none": "no answer"}.get(outcome, outcome)


@pytest.mark.parametrize("name", SELECTED)
def test_advise_names_the_full_runs_winner(name, tmp_path_factory):
    case = CASES[name]
    folder = tmp_path_factory.mktemp(f"advise-{name}")
    data = MAKERS[name](folder)
    record = _advise(case, data, folder / "advice")
    full, full_s = _full(case, data, folder / "full")
    a = record["answer"]
    d = a["difference_deep_minus_classical"] or {}
    covers = (d.get("lo") is not None and d.get("hi") is not None and full.diff is not None
              and d["lo"] <= full.diff.mean <= d["hi"])
    RESULTS[name] = {
        "budget": BUDGET, "advise_s": record["wall_s"], "full_s": full_s,
        "advise_rows": a["n_train"], "full_rows": full.n_train,
        "advise": _winner(a["outcome"]), "advise_diff": d.get("mean"), "advise_lo": d.get("lo"), "advise_hi": d.get("hi"),
        "advise_seeds": d.get("seeds"),
        "full": _winner(full.outcome), "full_diff": None if full.diff is None else full.diff.mean,
        "full_best": {g: b.config for g, b in full.best.items()},
        "advise_best": {g: b["config"] for g, b in a["best"].items()},
        "agree": _winner(a["outcome"]) == _winner(full.outcome), "covers": covers,
    }
    assert a["outcome"] != "none" and full.outcome != "none"


def test_agreement_table():
    if not RESULTS:
        pytest.skip("no case ran")
    load1 = os.getloadavg()[0]
    print(f"\nbench advise against full runs (load {load1:.1f} on {os.cpu_count()} cores; advise budget {BUDGET}, "
          f"full runs {FULL_SEEDS} seeds, default settings)")
    print(f"{'dataset':8s} {'advise':>9s} {'diff [95%]':>24s} {'rows':>6s} {'s':>5s} | {'full':>9s} {'diff':>7s} "
          f"{'rows':>6s} {'s':>5s} | agree covers")
    for name, r in RESULTS.items():
        iv = (f"{r['advise_diff']:+.3f} [{r['advise_lo']:+.3f}, {r['advise_hi']:+.3f}]"
              if r["advise_lo"] is not None else f"{r['advise_diff']:+.3f} (1 seed)")
        full_d = f"{r['full_diff']:+.3f}" if r["full_diff"] is not None else "?"
        print(f"{name:8s} {r['advise']:>9s} {iv:>24s} {r['advise_rows']:6d} {r['advise_s']:5.0f} | {r['full']:>9s} "
              f"{full_d:>7s} {r['full_rows']:6d} {r['full_s']:5.0f} | {'yes' if r['agree'] else 'NO':5s} "
              f"{'yes' if r['covers'] else 'no'}")
        print(f"{'':8s} advise's best: {r['advise_best']}; full run's: {r['full_best']}")
    agree = sum(r["agree"] for r in RESULTS.values())
    print(f"agreement: {agree} of {len(RESULTS)}; intervals covering the full run's difference: "
          f"{sum(r['covers'] for r in RESULTS.values())} of {len(RESULTS)}")
    out = os.environ.get("BENCH_ADVISE_JSON")
    if out:
        Path(out).write_text(json.dumps({"load": load1, "results": RESULTS}, indent=2, default=str))
    assert agree >= min(AGREE_AT_LEAST, len(RESULTS))
