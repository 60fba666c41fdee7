"""Does `bench advise` name the same winner as a full run? (issue 28, item 6)

Two opt-in benchmarks, each a parametrised test (nothing runs unless asked: each takes minutes).

**Against the real reference** (`BENCH_ADVISE_REAL=all`, or a comma-separated list of its
datasets): for every real dataset of results/reference-real, the data exported as a user's
file (an .npz of images or series, a CSV with a `target` column), sized so that advise's
training part equals a training size the reference ran (the largest with the most seeds whose
rows the data holds; advise keeps 25% of a file for its test), then `bench advise FILE
--budget B --task TASK` (the reference's task: cps1988 is a regression) for each budget of
`BENCH_ADVISE_BUDGETS` (default `5m,15m`), as a user would run it: every applicable model, no
hints. Its answer is compared
with the reference's at the same training size (advise's answered size where the reference ran
it, else the reference's nearest, marked), through the same statistics
(bench.advise.answer.compute: each family's best chosen on validation rows, the paired
difference over seeds, "neither" within the margin): the winning family, and whether advise's
interval covers the reference's difference. Each case writes its row into
docs/advise-validation.json and rewrites the table in docs/advise-validation.md (between its
markers) at once, so a partial run keeps what finished and a later one adds to it.
16 datasets x 2 budgets: about 5 h 30 min of wall time (the budgets' 320 minutes, plus each
case's export, reference and start-up, seconds each).

**Against a full run made here** (`BENCH_ADVISE_CASES=digits,shapes,tabular`, budget
`BENCH_ADVISE_BUDGET`, default 2m): three small datasets made without a download, advise with
a few models each, and a full run of the same models (default settings, FULL_SEEDS seeds, the
whole training part, no budget) for the reference verdict:
- `digits`: scikit-learn's 1,797 8x8 digit images (shipped with scikit-learn), as an .npz;
- `shapes`: 1,200 16x16 images made here: one of three small shapes at a random place in
  noise (a translation that pixel-wise models find hard, a convolution does not);
- `tabular`: 2,000 rows of scikit-learn's make_classification (20 columns, 8 informative), as a CSV.
The last test prints their table with the load average and holds agreement on two of three.

Run: `BENCH_ADVISE_REAL=gunpoint,italy_power BENCH_ADVISE_BUDGETS=5m .nox/tests/bin/python -m pytest
benchmarks/test_advise_validation.py -s -p no:cacheprovider` (docs/advise-validation.md says more).
"""

from __future__ import annotations

import contextlib
import io
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
from bench.cli_common import EXIT_INTERRUPTED  # noqa: E402
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
SELECTED = [c for c in os.environ.get("BENCH_ADVISE_CASES", "").split(",") if c]  # opt in: minutes each


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


WINNER = {"tie": "neither", "none": "no answer"}  # advise's outcome -> the table's word


def _winner(outcome: str) -> str:
    return WINNER.get(outcome, outcome)


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


# ------------------------------------------------------------------ against the real reference

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "results" / "reference-real" / "results.parquet"
DOC = Path(os.environ.get("BENCH_ADVISE_DOC", ROOT / "docs" / "advise-validation.md"))
STORE = DOC.with_suffix(".json")
BEGIN, END = "<!-- validation table: begin (written by benchmarks/test_advise_validation.py) -->", \
    "<!-- validation table: end -->"
BUDGETS = [b for b in os.environ.get("BENCH_ADVISE_BUDGETS", "5m,15m").split(",") if b]
TEST_SHARE = 0.25  # advise's test part of a user's file (bench.advise.inspect.TEST_SIZE)


def _reference() -> pd.DataFrame:
    return pd.read_parquet(REFERENCE)


def _real_selected() -> list[str]:
    wanted = os.environ.get("BENCH_ADVISE_REAL", "")
    if not wanted:
        return []
    names = sorted(_reference()["dataset"].astype(str).unique())
    return names if wanted == "all" else [n for n in wanted.split(",") if n]


REAL = _real_selected()


def _pool_of(n_rows: int) -> int:
    """Advise's training part of a user's file of `n_rows` rows."""
    return n_rows - max(1, int(round(n_rows * TEST_SHARE)))


def _rows_for(pool: int) -> int:
    """The fewest rows of a file whose training part (after advise's 25% test) is `pool`."""
    n = int(round(pool / (1 - TEST_SHARE)))
    while _pool_of(n) < pool:
        n += 1
    while _pool_of(n - 1) >= pool:
        n -= 1
    return n


def _size(ref: pd.DataFrame, n_rows: int, n_test: int) -> int | None:
    """The reference's training size the export is made for: the largest among those with the most
    seeds whose file (that size plus a third of it for advise's test) the data holds, taking the
    training rows from its training part and the test rows from its official test part (`n_test`
    rows) where it has one; None when none fits."""
    seeds = ref.groupby("n_train")["seed"].nunique()
    for n in sorted(seeds.index, key=lambda k: (-seeds[k], -k)):
        n = int(n)
        fits = n <= n_rows - n_test and _rows_for(n) - n <= n_test if n_test else _rows_for(n) <= n_rows
        if fits:
            return n
    return None


def _export(dataset: str, ref: pd.DataFrame, folder: Path) -> tuple[Path, int | None]:
    """The reference's dataset as a user's file, sized so that advise's training part is a size the
    reference ran (`_size`); the whole data where none fits (then that size is None)."""
    from bench.datasets import load as load_data

    first = ref.iloc[0]
    name, params = str(first["dataset_name"]), json.loads(first["dataset_params"] or "{}")
    data = load_data(name, params)
    X, y = data.X, np.asarray(data.y)
    n = len(y)
    n_test = data.n_test or 0
    train_idx, test_idx = (np.arange(n - n_test), np.arange(n - n_test, n)) if n_test else (np.arange(n), np.arange(n))
    rng = np.random.default_rng(28)
    size = _size(ref, n, n_test)
    if size is None:
        keep = rng.permutation(n)
    else:
        take_train = rng.choice(train_idx, size, replace=False)
        rest = np.setdiff1d(test_idx, take_train) if not n_test else test_idx
        keep = rng.permutation(np.concatenate([take_train, rng.choice(rest, _rows_for(size) - size, replace=False)]))
    names = data.target_names
    if isinstance(X, pd.DataFrame):  # a table: a CSV with its classes by name (or its numbers), as a user's would be
        frame = X.iloc[keep].reset_index(drop=True)
        if str(first["task"]) == "regression":
            frame["target"] = y[keep]
        else:
            frame["target"] = [str(names[int(v)]) if names is not None else f"class {v}" for v in y[keep]]
        path = folder / f"{dataset}.csv"
        frame.to_csv(path, index=False)
    else:
        arr = np.asarray(X)[keep]
        if data.sample_shape is not None and len(data.sample_shape) >= 2:  # images: (H, W) or (C, H, W)
            arr = arr.reshape((len(keep), *data.sample_shape))
        path = folder / f"{dataset}.npz"
        np.savez(path, X=arr, y=y[keep])
    return path, size


def _nearest(sizes, n: int) -> int:
    return min(sizes, key=lambda k: (abs(np.log(k / n)), -k))


def _real_advise(data: Path, budget: str, out: Path, task: str) -> dict:
    argv = ["advise", str(data), "--budget", budget, "--task", task, "--out", str(out), "--no-progress"]
    if data.suffix == ".csv":
        argv += ["--target", "target"]
    t0 = time.monotonic()
    said = io.StringIO()
    with contextlib.redirect_stderr(said):
        code = main(argv)
    if code == EXIT_INTERRUPTED:  # stopped (Ctrl-C, SIGTERM): no answer, and no row for it
        pytest.exit("advise was interrupted", returncode=code)
    if code != 0:  # advise refused the file (e.g. too few rows for a learning curve): a row saying so
        message = said.getvalue().strip().splitlines()
        print("\n".join(message))
        record = {"answer": {"outcome": "refused", "n_train": None, "best": {},
                             "difference_deep_minus_classical": {}},
                  "refusal": message[-1].removeprefix("error: ") if message else f"exit status {code}"}
    else:
        record = json.loads((out / "advice.json").read_text())
    record["wall_s"] = time.monotonic() - t0
    return record


def _load() -> float:
    return float(os.getloadavg()[0])


def _with_timeout(budget: str):
    """The budget as a parameter whose pytest time limit leaves room beyond it (the project's default
    limit, 600 s, would stop a 15-minute case)."""
    from bench.advise import parse_budget

    return pytest.param(budget, marks=pytest.mark.timeout(int(parse_budget(budget)) + 600))


@pytest.mark.parametrize("budget", [_with_timeout(b) for b in BUDGETS])
@pytest.mark.parametrize("dataset", REAL)
def test_advise_against_the_real_reference(dataset, budget, tmp_path_factory):
    ref = _reference()
    ref = ref[ref["dataset"].astype(str) == dataset]
    folder = tmp_path_factory.mktemp(f"real-{dataset}-{budget}")
    data, size = _export(dataset, ref, folder)
    task = str(ref["task"].iloc[0])  # the reference's task: cps1988 is a regression
    profile = inspect(str(data), "target" if data.suffix == ".csv" else None, task)
    load_before = _load()
    record = _real_advise(data, budget, folder / "advice", task)
    load_after = _load()
    row = {
        "dataset": dataset, "budget": budget, "file_rows": profile.n_rows, "pool": profile.n_pool,
        "export_size": size, **(compared := _compared(record["answer"], ref, profile)),
        **_on_common_models(folder / "advice", ref, profile, compared["reference"]),
        "wall_s": round(record["wall_s"], 1), "load": [round(load_before, 1), round(load_after, 1)],
        "cores": os.cpu_count(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        **({"refusal": record["refusal"]} if "refusal" in record else {}),
    }
    _store(row)
    _keep(folder, data, dataset, budget)
    print(f"\n{dataset} {budget}: advise {row['advise']} at {row['advise_rows']} rows ({_diff_text(row)}), reference "
          f"{row['reference']} at {row['reference_rows']} ({_ref_text(row)}); agree {row['agree']}, covers "
          f"{row['covers']}; {row['wall_s']:.0f} s, load {load_before:.1f}-{load_after:.1f}")
    assert row["advise"] not in ("no answer", "refused"), f"advise gave no answer: {record.get('refusal', '')}"


def _compared(a: dict, ref: pd.DataFrame, profile) -> dict:
    """Advise's answer (advice.json's "answer") beside the reference's at the same training size (or its
    nearest), through the same statistics, at the rules' version of this code."""
    from bench.predictions import predictions_of
    from bench.report.claims import RULES_VERSION

    at = int(a["n_train"] or 0)
    sizes = sorted(int(k) for k in ref["n_train"].unique())
    ref_at = at if at in sizes else _nearest(sizes, at or profile.n_pool)
    # Paired row by row from the reference's kept test predictions, as its own report and advise's
    # answer are (from scores alone, unpaired, its intervals were wider than advise's by design).
    full = compute(ref[ref["n_train"] == ref_at], profile,
                   predictions=lambda row: predictions_of(REFERENCE.parent, row))
    d = a["difference_deep_minus_classical"] or {}
    lo, hi = d.get("lo"), d.get("hi")
    interval = lo is not None and hi is not None and np.isfinite(lo) and np.isfinite(hi)
    covers = bool(interval and full.diff is not None and lo <= full.diff.mean <= hi)
    return {
        "advise_rows": at, "reference_rows": ref_at, "same_size": ref_at == at,
        "advise": _winner(a["outcome"]), "advise_diff": d.get("mean"), "advise_lo": lo, "advise_hi": hi,
        "advise_seeds": d.get("seeds"), "advise_best": {g: b["config"] for g, b in a["best"].items()},
        "reference": _winner(full.outcome), "reference_diff": None if full.diff is None else full.diff.mean,
        "reference_seeds": None if full.diff is None else full.diff.n_values,
        "reference_best": {g: b.config for g, b in full.best.items()},
        "reference_by_test": _by_test(ref[ref["n_train"] == ref_at]),
        "agree": _winner(a["outcome"]) == _winner(full.outcome), "covers": covers if interval else None,
        "rules": RULES_VERSION,
    }


def _on_common_models(run: Path | None, ref: pd.DataFrame, profile, reference: str) -> dict:
    """Advise's answer from its own cells, keeping only the models (and feature variants) the reference also
    ran on this dataset: where the reference's suite ran fewer models (mnist1d_shuffled: one classical
    model, logistic regression), a different winner can be the reference's narrower field rather than
    advise's error. Beside the main comparison, never instead of it; None without advise's run folder."""
    from bench.predictions import predictions_of

    if run is None or not (run / "results.parquet").exists():
        return {"advise_common": None, "agree_common": None}
    rows = pd.read_parquet(run / "results.parquet")
    ran = set(zip(ref["model"].astype(str), ref["features"].astype(str), strict=True))
    keep = [(m, f) in ran for m, f in zip(rows["model"].astype(str), rows["features"].astype(str), strict=True)]
    left_out = sorted(set(rows.loc[[not k for k in keep], "model"].astype(str)))
    a = compute(rows[keep], profile, predictions=lambda row: predictions_of(run, row))
    outcome = _winner(a.outcome)
    return {"advise_common": outcome, "advise_common_diff": None if a.diff is None else a.diff.mean,
            "common_left_out": left_out, "agree_common": outcome == reference}


KEEP = Path(os.environ.get("BENCH_ADVISE_KEEP", ROOT / "results" / "advise-validation"))


def _keep(folder: Path, data: Path, dataset: str, budget: str) -> None:
    """The case's user file and advise's run folder (its rows and kept predictions), kept under KEEP
    (ignored by git) so that a later change of the statistics can answer again from the same cells
    (`BENCH_ADVISE_RESCORE`) instead of running the case again."""
    import shutil

    dest = KEEP / f"{dataset}-{budget}"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    shutil.copy2(data, dest / data.name)
    if (folder / "advice").is_dir():
        shutil.copytree(folder / "advice", dest / "advice")


RESCORE = os.environ.get("BENCH_ADVISE_RESCORE", "")


@pytest.mark.skipif(not RESCORE, reason="opt in: BENCH_ADVISE_RESCORE=all (or dataset-budget names) answers again "
                                        "from the run folders kept under BENCH_ADVISE_KEEP")
def test_answers_again_from_the_kept_cells(tmp_path):
    """Each row's answers computed again with this code's statistics, no model run: advise's from its kept
    run folder (under KEEP; a row without one keeps advise's answer as recorded, and says so) and the
    reference's from its rows. The row keeps its run's wall time, load and date and records the rules'
    version each side was answered at."""
    from bench.predictions import predictions_of
    from bench.report.claims import RULES_VERSION

    rows = json.loads(STORE.read_text()) if STORE.exists() else []
    if RESCORE != "all":
        rows = [r for r in rows if f"{r['dataset']}-{r['budget']}" in RESCORE.split(",")]
    assert rows, f"no row of {STORE} matches {RESCORE!r}"
    reference = _reference()
    for old in rows:
        dataset, budget = old["dataset"], old["budget"]
        ref = reference[reference["dataset"].astype(str) == dataset]
        case = KEEP / f"{dataset}-{budget}"
        kept = (case / "advice" / "results.parquet").exists()
        if kept:
            data = next(p for p in case.iterdir() if p.is_file() and p.stem == dataset)
        else:  # the same file again (the export is seeded), for the profile the reference's answer needs
            (tmp_path / case.name).mkdir()
            data, _ = _export(dataset, ref, tmp_path / case.name)
        task = str(ref["task"].iloc[0])
        profile = inspect(str(data), "target" if data.suffix == ".csv" else None, task)
        if kept:
            run = case / "advice"
            answer = compute(pd.read_parquet(run / "results.parquet"), profile,
                             predictions=lambda row, run=run: predictions_of(run, row)).to_json()
        else:
            answer = _recorded_answer(old)
        row = {**old, **(compared := _compared(answer, ref, profile))}
        row.update(_on_common_models(case / "advice" if kept else None, ref, profile, compared["reference"]))
        if not kept:
            row["rules"] = old.get("rules", 6)  # advise's side as it was answered
            row["reference_rules"] = RULES_VERSION
        _store(row)
        print(f"{dataset} {budget}: advise {old['advise']} {_diff_text(old)} -> {row['advise']} {_diff_text(row)}"
              f"{'' if kept else ' (as recorded: no kept run folder)'}; reference {old['reference']} "
              f"{_ref_text(old)} -> {row['reference']} {_ref_text(row)}; agree {row['agree']}, covers {row['covers']}")


def _recorded_answer(row: dict) -> dict:
    """Advise's answer as a row recorded it, in advice.json's shape (for `_compared`)."""
    outcome = {w: o for o, w in WINNER.items()}.get(row["advise"], row["advise"])
    diff = None if row["advise_diff"] is None else {"mean": row["advise_diff"], "lo": row["advise_lo"],
                                                    "hi": row["advise_hi"], "seeds": row["advise_seeds"]}
    return {"n_train": row["advise_rows"], "outcome": outcome, "difference_deep_minus_classical": diff,
            "best": {g: {"config": c} for g, c in row["advise_best"].items()}}


def _by_test(at: pd.DataFrame) -> float | None:
    """The reference's deep - classical difference had each family's best been chosen by its mean test
    score (an oracle no run can use): how much the reference's own choice on validation rows moves it."""
    from bench.advise.answer import groups
    from bench.report import analysis as an

    ok = an.ok_rows(at)
    if ok.empty:
        return None
    ok = ok.assign(_group=groups(ok))
    best = {g: ok[ok["_group"] == g].groupby("config")["score"].mean().max() for g in ("classical", "deep")}
    return None if any(pd.isna(v) for v in best.values()) else float(best["deep"] - best["classical"])


def _store(row: dict) -> None:
    """Adds (or replaces) this case's row in the JSON beside the doc, and rewrites the doc's table."""
    rows = json.loads(STORE.read_text()) if STORE.exists() else []
    rows = [r for r in rows if (r["dataset"], r["budget"]) != (row["dataset"], row["budget"])] + [row]
    rows.sort(key=lambda r: (r["dataset"], _budget_s(r["budget"])))
    STORE.write_text(json.dumps(rows, indent=1) + "\n")
    if DOC.exists():
        text = DOC.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            DOC.write_text(head + BEGIN + "\n" + table(rows) + "\n" + END + rest.split(END, 1)[1])


def _budget_s(budget: str) -> float:
    from bench.advise import parse_budget

    return parse_budget(budget)


def _diff_text(r: dict) -> str:
    if r.get("refusal"):
        return r["refusal"].split(": ", 1)[-1]  # without the file's temporary path
    if r["advise_diff"] is None:
        return "no difference"
    seeds = f"{r['advise_seeds']} seed{'s' if r['advise_seeds'] != 1 else ''}"
    if r["advise_lo"] is None or not np.isfinite(r["advise_lo"]):
        return f"{r['advise_diff']:+.3f}, {seeds}, no interval"
    return f"{r['advise_diff']:+.3f} [{r['advise_lo']:+.3f}, {r['advise_hi']:+.3f}], {seeds}"


def _ref_text(r: dict) -> str:
    if r["reference_diff"] is None:
        return "no difference"
    oracle = r.get("reference_by_test")
    by_test = f"; by test score {oracle:+.3f}" if oracle is not None else ""
    return (f"{r['reference_diff']:+.3f}, {r['reference_seeds']} seed{'s' if r['reference_seeds'] != 1 else ''}"
            f"{by_test}")


def _common_text(r: dict) -> str:
    if r.get("advise_common") is None:
        return "-"
    out = r["advise_common"]
    if r.get("advise_common_diff") is not None:
        out += f" ({r['advise_common_diff']:+.3f})"
    if r.get("common_left_out"):
        out += f"; without {', '.join(r['common_left_out'])}"
    return out + ("" if r["agree_common"] else " (differs)")


def _rules_text(r: dict) -> str:
    """The rules' version each side was answered at: one where both agree."""
    mine, theirs = r.get("rules", 6), r.get("reference_rules", r.get("rules", 6))
    return f"v{mine}" if mine == theirs else f"v{mine} (reference v{theirs})"


def table(rows: list[dict]) -> str:
    """The doc's table (markdown): one row per dataset and budget, then the agreement per budget."""
    out = ["| dataset | budget | advise: answer (deep - classical, 95% interval) | at rows | best (classical / deep) "
           "| reference at rows | reference: answer (difference) | best (classical / deep) | same winner "
           "| interval covers | advise on the reference's models | wall | load (start-end, 2 cores) | when | rules |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ab, rb = r["advise_best"], r["reference_best"]
        mark = "" if r["same_size"] else " (nearest)"
        covers = "n/a (no interval)" if r["covers"] is None else "yes" if r["covers"] else "no"
        out.append(
            f"| {r['dataset']} | {r['budget']} | {r['advise']} ({_diff_text(r)}) | {r['advise_rows'] or 0:,} of "
            f"{r['pool']:,} | {ab.get('classical', '-')} / {ab.get('deep', '-')} | {r['reference_rows']:,}{mark} "
            f"| {r['reference']} ({_ref_text(r)}) | {rb.get('classical', '-')} / {rb.get('deep', '-')} "
            f"| {'yes' if r['agree'] else 'no'} | {covers} | {_common_text(r)} | {r['wall_s'] / 60:.1f} min "
            f"| {r['load'][0]:.1f}-{r['load'][1]:.1f} | {r['when']} | {_rules_text(r)} |")
    out.append("")
    for budget in sorted({r["budget"] for r in rows}, key=_budget_s):
        mine = [r for r in rows if r["budget"] == budget]
        with_iv = [r for r in mine if r["covers"] is not None]
        out.append(f"- {budget}: same winner on {sum(r['agree'] for r in mine)} of {len(mine)} datasets; "
                   f"advise's interval covers the reference's difference on {sum(bool(r['covers']) for r in with_iv)} "
                   f"of {len(with_iv)} with an interval.")
        # What agreement alone cannot show: where the reference reads "neither" on most datasets, an
        # advise that always answered "neither" would agree nearly as often; its decided answers and
        # the distance between the two differences are what tell it from that.
        decided = [r for r in mine if r["advise"] in ("deep", "classical")]
        gaps = [abs(r["advise_diff"] - r["reference_diff"]) for r in mine
                if r.get("advise_diff") is not None and r.get("reference_diff") is not None]
        k = sum(r["reference"] == "neither" for r in mine)
        out[-1] += (f" The reference answers \"neither\" on {k}, so an advise that always said \"neither\" would "
                    f"agree on {k}. Advise decided (deep or classical) "
                    f"on {len(decided)}, rightly on {sum(r['agree'] for r in decided)}; its difference lies a median "
                    f"{float(np.median(gaps)) if gaps else float('nan'):.3f} from the reference's.")
        common = [r for r in mine if r.get("agree_common") is not None]
        if common:
            out[-1] += (f" On the models the reference also ran (advise's own cells, the others set aside): the same "
                        f"winner on {sum(r['agree_common'] for r in common)} of {len(common)} with a kept run folder.")
    return "\n".join(out)
