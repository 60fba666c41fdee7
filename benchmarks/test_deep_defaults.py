"""Deep defaults against published figures (issue 12, item 3): no search, standard splits.

Each case trains a registered deep model with its defaults (the factory's, nothing from a
suite) through the harness's own cell (bench.suite.parse -> plan -> measure_cell: the same
data loading, split and preparation as a run), and holds its mean test accuracy to a target
set from the published figure (/work/shared/PUBLISHED.md):

- MNIST-1D, standard 4,000/1,000 split: CNN >= 0.90, MLP >= 0.65 (paper: 0.94, 0.68; GRU
  0.91 is shown without a target);
- Fashion-MNIST, official 60,000/10,000 split: CNN >= 0.91, MLP >= 0.87;
- digits (1,348 training images, the harness's stratified 25 % test part): CNN >= 0.98.

The last test prints every case next to its published figure, with fit wall and CPU time,
epochs run, the thread count and the machine's load. A dataset the registry lacks (or
cannot load here) is skipped with the reason. Run with `nox -s perf` or
`pytest benchmarks/test_deep_defaults.py -p no:cacheprovider`; a subset with `-k mnist1d`.
`BENCH_PERF_THREADS` sets torch's threads (default 2); the Fashion-MNIST fits take minutes.
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass

import pytest

pytest.importorskip("torch")

THREADS = int(os.environ.get("BENCH_PERF_THREADS", "2"))


@dataclass(frozen=True)
class Case:
    dataset: str
    model: str
    target: float | None  # mean test accuracy to reach; None: shown, not held
    published: str  # the published figure and where it comes from
    seeds: tuple[int, ...] = (0, 1, 2)
    n_train: int | None = None  # the standard split's training rows, checked against the plan
    n_test: int | None = None
    dataset_table: str = ""  # extra keys of the suite's [datasets.X] table

    @property
    def id(self) -> str:
        return f"{self.dataset}-{self.model}"


CASES = [
    Case("mnist1d", "cnn", 0.90, "CNN 0.94 ± 0.02 (Greydanus & Kobak 2020, table 1)", n_train=4000, n_test=1000),
    Case("mnist1d", "mlp", 0.65, "MLP 0.68 ± 0.02 (idem)", n_train=4000, n_test=1000),
    Case("mnist1d", "rnn", None, "GRU 0.91 ± 0.02 (idem)", n_train=4000, n_test=1000),
    Case(
        "fashion_mnist", "cnn", 0.91,
        "2 conv + pooling 0.876-0.916, 2 conv < 100k params 0.925 (Fashion-MNIST README, unverified)",
        seeds=(0,), n_train=60000, n_test=10000,
    ),
    Case(
        "fashion_mnist", "mlp", 0.87,
        "MLPClassifier [100] 0.871 (Xiao et al. 2017, table 3); MLP 256-128-100 0.883 (README)",
        seeds=(0,), n_train=60000, n_test=10000,
    ),
    Case(
        "digits", "cnn", 0.98, "SVC(gamma=0.001) 0.97 on the sklearn example's half split (other protocol)",
        n_train=1348, dataset_table="test_size = 0.25",
    ),
]

RESULTS: dict[str, dict] = {}  # filled by test_default_reaches_its_target, printed by the last test


def suite_text(case: Case) -> str:
    return f"""
[suite]
name = "deep-defaults"
seeds = {list(case.seeds)}
train_sizes = ["max"]
threads = {THREADS}
device = "cpu"
validation = 0          # the defaults, fitted once on all training rows: no choice to make
time_limit_s = 7200
[datasets.{case.dataset}]
{case.dataset_table}
[models.{case.model}]
"""


def planned_cells(case: Case):
    """The case's cells, or a skip with the reason the dataset cannot be measured here."""
    from bench import datasets as ds
    from bench.suite import SuiteError, parse, plan

    if case.dataset not in ds.DATASETS:
        pytest.skip(f"{case.dataset}: no such dataset in the registry")
    try:
        cells, skips = plan(parse(suite_text(case), "deep-defaults.toml"))
    except SuiteError as exc:
        pytest.skip(f"{case.dataset}: {exc}")
    if not cells:
        pytest.skip(f"{case.dataset}: nothing to run ({'; '.join(s.reason for s in skips)})")
    cell = cells[0]
    if case.n_train is not None and cell.n_train != case.n_train:
        pytest.skip(f"{case.dataset}: {cell.n_train} training rows, not the standard split's {case.n_train}")
    if case.n_test is not None and cell.dataset.n_test != case.n_test:
        pytest.skip(f"{case.dataset}: {cell.dataset.n_test} test rows, not the standard split's {case.n_test}")
    return cells


def measure(cell) -> dict:
    from bench import datasets as ds
    from bench.execution.cell import measure_cell

    try:
        return measure_cell(cell)
    except (ds.DataError, OSError) as exc:  # not installed, not downloadable offline
        pytest.skip(f"{cell.dataset.name}: cannot load here: {exc}")


@pytest.mark.timeout(4 * 3600)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_default_reaches_its_target(case: Case):
    cells = planned_cells(case)
    rows = [measure(cell) for cell in cells]
    histories = [json.loads(r["history"]) for r in rows]
    scores = [r["score"] for r in rows]
    RESULTS[case.id] = {
        "case": case,
        "n_train": cells[0].n_train,
        "n_test": cells[0].dataset.n_test,
        "scores": scores,
        "fit_s": [r["fit_time_s"] for r in rows],
        "fit_cpu_s": [r["fit_cpu_s"] for r in rows],
        "epochs": [len(h) for h in histories],
        "n_params": rows[0]["n_params"],
        "load": os.getloadavg()[0],
    }
    if case.target is not None:
        assert statistics.mean(scores) >= case.target, (
            f"{case.id}: mean test accuracy {statistics.mean(scores):.4f} over seeds {list(case.seeds)} "
            f"is below the target {case.target} (per seed: {', '.join(f'{s:.4f}' for s in scores)})"
        )


def _spread(values: list[float], fmt: str) -> str:
    mean = format(statistics.mean(values), fmt)
    return mean if len(values) < 2 else f"{mean} ± {format(statistics.stdev(values), fmt)}"


def test_print_the_table(capsys):
    if not RESULTS:
        pytest.skip("no case ran (run the whole file)")
    lines = [
        f"deep defaults, no search: torch threads = {THREADS}, CPU, load average at the end of each case shown",
        f"{'case':22s} {'train/test':>12s} {'seeds':>5s} {'accuracy':>15s} {'target':>6s} {'':4s} "
        f"{'fit wall s':>13s} {'fit CPU s':>13s} {'epochs':>7s} {'weights':>8s} {'load':>5s}  published",
    ]
    for case in CASES:
        r = RESULTS.get(case.id)
        if r is None:
            lines.append(f"{case.id:22s} (skipped)")
            continue
        mean = statistics.mean(r["scores"])
        verdict = "" if case.target is None else ("ok" if mean >= case.target else "MISS")
        lines.append(
            f"{case.id:22s} {r['n_train']:>6d}/{r['n_test']:<5d} {len(r['scores']):>5d} "
            f"{_spread(r['scores'], '.4f'):>15s} {case.target or '':>6} {verdict:4s} "
            f"{_spread(r['fit_s'], '.1f'):>13s} {_spread(r['fit_cpu_s'], '.1f'):>13s} "
            f"{_spread(r['epochs'], '.0f'):>7s} {r['n_params']:>8d} {r['load']:>5.1f}  {case.published}"
        )
    with capsys.disabled():
        print("\n" + "\n".join(lines))
