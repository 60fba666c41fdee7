"""Figures the README and docs/ quote about the committed reference runs and the regression
baseline, recomputed from the files they describe.

Each check names a page, a pattern that finds the sentence (whitespace folded, so line
breaks do not matter) and what its captured figures must read, computed from
results/reference*/results.parquet and environment.json or results/baseline/regress.json.
When the reference runs are made again, the sentences whose figures changed fail here with
the page, the words and the values the files now give; a sentence that no longer matches its pattern
fails too, so a check cannot pass by finding nothing. Every "N cells" in a paragraph that
names a reference run must be one of these checked figures.

Figures that describe a measurement made once (a dated sitting in docs/performance.md) are
history, not a description of today's files, and are not checked here. The shipped suites'
cell counts change with every suite edit, so the pages quote none of today's: `bench check
SUITE` prints it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE, REAL = ROOT / "results" / "reference", ROOT / "results" / "reference-real"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
HISTORY = {"rules-changelog.md"}  # dated entries, each true of its day


@cache
def table(run: Path) -> pd.DataFrame:
    return pd.read_parquet(run / "results.parquet")


@cache
def environment(run: Path) -> dict:
    return json.loads((run / "environment.json").read_text(encoding="utf-8"))


def n(x: float) -> str:
    """An integer as the docs write it: 1,110 (a resumed run's wall time: "no one wall time")."""
    return "no one wall time" if x != x else f"{round(x):,}"


def day(run: Path) -> str:
    return environment(run)["created"][:10]


def all_ok(run: Path) -> str:
    bad = table(run)["status"].ne("ok").sum()
    return "all `ok`" if bad == 0 else f"{bad} not `ok`"


def predates_predictions(run: Path, said: str) -> str:
    """`said` when the run kept neither test predictions nor cross-validated scores."""
    kept = (run / "predictions").exists() or "val_score_cv" in table(run).columns
    return said if not kept else "(the run kept predictions or cross-validated scores)"


def predictions_said(run: Path) -> str:
    """What the README must say of a run folder's kept predictions and cross-validated scores."""
    kept = (run / "predictions").exists() and "val_score_cv" in table(run).columns
    return "with predictions and cross-validated scores kept" if kept else "before predictions and cross-validated scores were kept"


def wall_s(run: Path) -> float:
    """From the run's start (environment.json's `created`) to its last cell's end; NaN for a
    resumed run (`created` is then the last sitting's start, and no one wall time exists)."""
    df = table(run)
    starts = pd.to_datetime(df["started_at"])
    created = pd.to_datetime(environment(run)["created"])
    if (starts < created - pd.Timedelta(seconds=60)).any():
        return float("nan")
    ends = starts + pd.to_timedelta(df["cell_time_s"], unit="s")
    return (ends.max() - created).total_seconds()


def work_s(run: Path) -> float:
    """The measured work: the sum of the rows' fit, predict and search times."""
    df = table(run)
    return float(sum(df[c].fillna(0.0).sum() for c in ("fit_time_s", "predict_time_s", "search_time_s")))


def cell_s(run: Path, **where) -> float:
    df = table(run)
    for column, value in where.items():
        df = df[df[column] == value]
    return float(df["cell_time_s"].sum())


@cache
def baseline() -> dict:
    return json.loads((ROOT / "results" / "baseline" / "regress.json").read_text(encoding="utf-8"))


def baseline_score(model: str, metric: str) -> str:
    return f"{baseline()['benchmarks'][model][metric]:.6f}"


def largest_fashion_cnn() -> tuple[str, str, str]:
    """(training images, cell seconds, fit seconds) of the real reference's CNN at its largest
    Fashion-MNIST size; a sentence about "the CNN's cell" needs exactly one such cell."""
    df = table(REAL)
    cnn = df[(df["dataset"] == "fashion_mnist") & (df["model"] == "cnn")]
    top = cnn[cnn["n_train"] == cnn["n_train"].max()]
    if len(top) != 1:
        return n(cnn["n_train"].max()), f"{len(top)} cells", f"{len(top)} cells"
    row = top.iloc[0]
    return n(row["n_train"]), n(row["cell_time_s"]), n(row["fit_time_s"])


@dataclass(frozen=True)
class Check:
    page: str
    pattern: str
    expected: Callable[[], tuple[str, ...]]

    def __str__(self) -> str:
        return f"{self.page}: {self.pattern[:60]}"


# docs/regression-check.md's clean run and self-test quote the stored baseline's benchmarks.
BASELINE = [
    Check("docs/regression-check.md", r"regress passed: 0 regressions, 0 warnings, (\d+) benchmarks",
          lambda: (str(len(baseline()["benchmarks"])),)),
    Check("docs/regression-check.md", r"FAIL knn \[knn\] score: score dropped: accuracy ([\d.]+) ->",
          lambda: (baseline_score("knn", "accuracy"),)),
]
REF_LINK = r"\[results/reference/\]\(\.\./results/reference/report\.md\)"
CHECKS = [
    Check("README.md",
          r"results/reference/report\.md\), is the default suite as it was run on (\S+) \(([\d,]+) cells, (all `ok`), "
          r"(before predictions and cross-validated scores were kept|with predictions and cross-validated scores kept)",
          lambda: (day(REFERENCE), n(len(table(REFERENCE))), all_ok(REFERENCE),
                   predictions_said(REFERENCE))),
    Check("docs/report.md",
          r"the default suite as it was on (\S+), ([\d,]+) cells, (all `ok`), made by .{0,200}? in ([\d,]+) s from its start",
          lambda: (day(REFERENCE), n(len(table(REFERENCE))), all_ok(REFERENCE), n(wall_s(REFERENCE)))),
    Check("docs/report.md", r"(It kept each cell's test predictions and cross-validated scores), so its intervals pair the test rows",
          lambda: ("It kept each cell's test predictions and cross-validated scores"
                   if (REFERENCE / "predictions").exists() and "val_score_cv" in table(REFERENCE).columns
                   else "(the run kept neither)",)),
    Check("docs/performance.md",
          r"Its reference run of (\S+) \(" + REF_LINK + r"\) ran the suite as it is now: ([\d,]+) cells over (\d+) datasets",
          lambda: (day(REFERENCE), n(len(table(REFERENCE))), n(table(REFERENCE)["dataset"].nunique()))),
    Check("docs/performance.md",
          r"the load at a median ([\d.]+) \(([\d.]+)-([\d.]+)\): it took ([\d,]+) s \(([\d.]+) min\), its cells' measured work ([\d,]+) s",
          lambda: (f"{table(REFERENCE)['load_avg'].median():.1f}", f"{table(REFERENCE)['load_avg'].min():.1f}",
                   f"{table(REFERENCE)['load_avg'].max():.1f}", n(wall_s(REFERENCE)), f"{wall_s(REFERENCE) / 60:.1f}",
                   n(work_s(REFERENCE)))),
    Check("docs/performance.md",
          r"reference run \(\[results/reference-real/\]\([^)]*\)\) is ([\d,]+) cells, .{0,80}?add up to ([\d,]+) s, (\d+) "
          r"minutes: Fashion-MNIST ([\d,]+) s, of which the ([\d,]+)-image CNN's cell ([\d,]+) s and its fit ([\d,]+) s; "
          r"the ResNet on OSULeaf ([\d,]+) s\)",
          lambda: (n(len(table(REAL))), n(cell_s(REAL)), n(cell_s(REAL) / 60), n(cell_s(REAL, dataset="fashion_mnist")),
                   *largest_fashion_cnn(), n(cell_s(REAL, dataset="osuleaf", model="resnet")))),
    *BASELINE,
]


def _text(page: str) -> str:
    return " ".join((ROOT / page).read_text(encoding="utf-8").split())


@pytest.mark.parametrize("check", CHECKS, ids=str)
def test_a_figure_the_docs_quote_is_what_the_files_give(check):
    found = list(re.finditer(check.pattern, _text(check.page)))
    assert found, f"{check.page}: no sentence matches {check.pattern!r}; if the wording changed, change the check"
    expected = check.expected()
    for match in found:
        assert match.groups() == expected, (
            f"{check.page}: {match.group(0)!r} quotes {match.groups()}; the files give {expected}")


def _paragraphs(page: Path) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", page.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("page", [p for p in PAGES if p.name not in HISTORY], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_cell_count_beside_a_reference_run_is_checked(page):
    rel = str(page.relative_to(ROOT))
    checked = [c.pattern for c in CHECKS if c.page == rel]
    unchecked = []
    for paragraph in _paragraphs(page):
        if "results/reference" not in paragraph:
            continue
        covered = [m.span(i) for pattern in checked for m in re.finditer(pattern, paragraph)
                   for i in range(1, m.re.groups + 1)]
        for count in re.finditer(r"\b\d[\d,]* cells\b", paragraph):
            if not any(a <= count.start() < b for a, b in covered):
                unchecked.append(count.group(0))
    assert not unchecked, (f"{rel} quotes {unchecked} beside a reference run; add a check to "
                           "tests/test_docs_numbers.py that computes it from the run's files")


# docs/adding-a-claim.md's worked example, evaluated on the reference run in a process of its
# own (registering the example's claim here would add it to every report this session builds).
EVALUATE = """
import json, sys
import my_claims  # noqa: F401  (registers the example claim)
from bench.report.claims import CLAIMS
from bench.report.claims.base import evaluate
from bench.report.run_folder import load_run
table, _ = load_run(sys.argv[1])
v = evaluate(CLAIMS["boosting_on_tables"], table)
print(json.dumps({"verdict": v.verdict, "reason": v.reason, "evidence": [
    {"dataset": e["dataset"], "other": e["best other"].split()[0], "outcome": e["outcome"]} for e in v.evidence]}))
"""
WORDS = {"supports": "ahead of", "refutes": "behind", "inconclusive": "within noise of"}


def test_the_worked_claim_s_verdict_on_the_reference_run_is_what_the_page_says(tmp_path):
    page = ROOT / "docs" / "adding-a-claim.md"
    blocks = re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    (tmp_path / "my_claims.py").write_text(blocks[0], encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", EVALUATE, str(REFERENCE)], capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    text = _text("docs/adding-a-claim.md")
    said = re.search(r'On the reference run \(.*?\) the verdict is (\w+): "([^"]+)"', text)
    assert said, "docs/adding-a-claim.md no longer quotes the example's verdict on the reference run"
    assert said.groups() == (result["verdict"], result["reason"]), result
    sentence = re.search(r"XGBoost is ahead of (.*?), behind (.*?), and within noise of (.*?) \(", text)
    assert sentence, "docs/adding-a-claim.md no longer says where XGBoost is ahead, behind and within noise"
    quoted = {}
    for words, part in zip(WORDS.values(), sentence.groups(), strict=True):
        for other, dataset in re.findall(r"(\w+) on (\w+)", part):
            quoted[dataset] = (words, other)
    given = {e["dataset"]: (WORDS.get(e["outcome"], e["outcome"]), e["other"]) for e in result["evidence"]}
    assert quoted == given, f"docs/adding-a-claim.md says {quoted}; the reference run gives {given}"
