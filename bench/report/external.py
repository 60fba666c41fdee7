"""Published results beside ours: for each figure of `published.csv` the run can match, the two and their difference.

A figure is compared only where the run has the same dataset (and parameters), the same
split (test rows), the same training size and a model of the same kind with no contradicting
hyperparameter; otherwise the report says which of these differs instead of comparing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from bench.report.document import Block, heading, table

PUBLISHED = "published.csv"


@dataclass(frozen=True)
class Comparison:
    source: str
    dataset: str
    published_model: str
    n_train: int
    published: str
    ours: str  # "" when nothing is compared
    model: str  # our configuration
    difference: str
    tolerance: float
    verdict: str  # "within tolerance", "outside tolerance", or "protocol differs: ..."


def published() -> pd.DataFrame:
    """The published figures (package data), one row each."""
    with resources.files("bench.report").joinpath(PUBLISHED).open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, keep_default_na=False, na_values={"sd": [""], "value": [""], "tolerance": [""]})
    for col in ("dataset_params", "model_params"):
        table[col] = table[col].map(lambda s: json.loads(s) if s else {})
    return table


def _dataset_label(name: str, params: dict) -> str:
    extra = ", ".join(f"{k}={v}" for k, v in params.items() if k != "name")
    base = f"{name} {params['name']}" if "name" in params else name
    return f"{base} ({extra})" if extra else base


def _params_of(row_json) -> dict:
    try:
        given = json.loads(row_json) if isinstance(row_json, str) and row_json else {}
    except ValueError:
        given = {}
    return given if isinstance(given, dict) else {}


def _same(a, b) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)
    return a == b


def _effective(ours: dict) -> dict:
    """Our settings as the published ones name them.

    scikit-learn 1.8 deprecated LogisticRegression's `penalty` (its value reads "deprecated"):
    `l1_ratio` says it instead, 0 for l2, 1 for l1, between for the elastic net.
    """
    if ours.get("penalty") != "deprecated":
        return ours
    ratio = ours.get("l1_ratio")
    penalty = "l2" if ratio in (None, 0, 0.0) else "l1" if ratio in (1, 1.0) else "elasticnet"
    return {**ours, "penalty": penalty}


def _contradictions(theirs: dict, ours: dict) -> list[str]:
    ours = _effective(ours)
    out = []
    for key, value in theirs.items():
        if key not in ours:
            out.append(f"{key}={value} theirs, not a setting of ours when the cell ran")
        elif not _same(ours[key], value):
            out.append(f"{key}={value} theirs, {ours[key]} ours")
    return out


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def compare(df: pd.DataFrame) -> tuple[list[Comparison], list[str]]:
    """(comparisons and protocol differences for matched figures, one line per unmatched group).

    A row's dataset parameters are those its cell ran with (`dataset_effective_params`: the
    loader's defaults merged with the suite's); a row without them (an old table not yet
    upgraded by `bench.upgrade`) is read with the suite's `dataset_params` alone.
    """
    table = published()
    if df.empty or "dataset_name" not in df:
        return [], ["no finished cells"]
    ok = df[(df["status"] == "ok") & (df["features"].astype(str) == "raw")].copy()
    if ok.empty:
        return [], ["no finished cells"]
    given = ok["dataset_params"] if "dataset_params" in ok else pd.Series("", index=ok.index)
    if "dataset_effective_params" in ok:
        given = ok["dataset_effective_params"].where(ok["dataset_effective_params"].notna(), given)
    ok["_dparams"] = [_params_of(p) for p in given]
    out: list[Comparison] = []
    unmatched: dict[str, list[str]] = {}

    def miss(reason: str, fig) -> None:
        unmatched.setdefault(reason, []).append(f"{fig.published_model} on {_dataset_label(fig.dataset, fig.dataset_params)}")

    for fig in table.itertuples(index=False):
        here = ok[(ok["dataset_name"] == fig.dataset)
                  & ok["_dparams"].map(lambda p, want=fig.dataset_params: all(_same(p.get(k), v) for k, v in want.items()))]
        label = _dataset_label(fig.dataset, fig.dataset_params)
        pub = _fmt(fig.value) + (f" ± {_fmt(fig.sd)}" if pd.notna(fig.sd) else "")
        if here.empty:
            miss("dataset not in this run", fig)
            continue
        if not fig.model:
            miss("no model of that kind in the harness", fig)
            continue
        same_split = here[here["n_test"] == fig.n_test]
        if same_split.empty:
            tests = ", ".join(str(int(n)) for n in sorted(here["n_test"].unique()))
            out.append(Comparison(fig.source, label, fig.published_model, int(fig.n_train), pub, "", "", "", fig.tolerance,
                                  f"protocol differs: a test set of {tests} rows, theirs {fig.n_test} ({fig.protocol})"))
            continue
        sized = same_split[same_split["n_train"] == fig.n_train]
        if sized.empty:
            sizes = ", ".join(str(int(n)) for n in sorted(same_split["n_train"].unique()))
            miss(f"training sizes differ (ours {sizes})", fig)
            continue
        mine = sized[sized["model_name"] == fig.model]
        if mine.empty:
            miss(f"no finished {fig.model} cell at this size (not run, timed out or failed)", fig)
            continue
        for config, g in mine.groupby("model", sort=True):
            ours_params = _params_of(g["hyperparams"].dropna().iloc[0] if "hyperparams" in g and g["hyperparams"].notna().any() else "")
            ours_params = {**_params_of(g["params"].iloc[0] if "params" in g else ""), **ours_params}
            scores = g["score"].astype(float)
            ours = _fmt(scores.mean()) + (f" ± {_fmt(scores.std(ddof=1))}" if len(scores) > 1 else "") + f" ({len(scores)} seed{'s' * (len(scores) > 1)})"
            clash = _contradictions(fig.model_params, ours_params)
            diff = scores.mean() - fig.value
            if clash:
                verdict = "protocol differs: " + "; ".join(clash)
            else:
                verdict = "within tolerance" if abs(diff) <= fig.tolerance + 1e-12 else "outside tolerance"
            out.append(Comparison(fig.source, label, fig.published_model, int(fig.n_train), pub, ours, str(config),
                                  f"{diff:+.3f}", float(fig.tolerance), verdict))
    lines = [f"{reason}: {', '.join(figs)}" for reason, figs in sorted(unmatched.items())]
    return out, lines


def blocks(df: pd.DataFrame) -> list:
    """The report's "External results" section as render Blocks."""
    comparisons, unmatched = compare(df)
    head = [
        heading(2, "External results", anchor="external"),
        Block("p", (
            "Published figures (bench/report/published.csv: source and protocol of each) beside this run's, "
            "where the run has the same dataset, split, training size and kind of model. The difference is "
            "ours minus theirs in test accuracy, judged against the tolerance stated with each figure; where "
            "a setting of the published model contradicts ours, or the split differs, the protocols differ "
            "and no verdict is given. Published figures come from tuned models and other training code: a "
            "gap measures the harness's defaults as much as the models."
        )),
    ]
    if comparisons:
        rows = [(c.source, c.dataset, c.published_model, c.n_train, c.published, c.model or "-", c.ours or "-",
                 c.difference or "-", f"±{c.tolerance:g}", c.verdict) for c in comparisons]
        head.append(table(("source", "dataset", "published model", "n_train", "published", "our configuration",
                            "ours", "difference", "tolerance", "verdict"), rows, anchor="external-table"))
    else:
        head.append(Block("p", "No published figure matches a dataset, split and training size of this run."))
    if unmatched:
        head.append(Block("list", "Published figures this run cannot be set beside, and why:", items=tuple(unmatched)))
    return head


def summary(df: pd.DataFrame) -> dict[str, int]:
    """Counts of verdicts, for messages and tests."""
    comparisons, _ = compare(df)
    kinds = [c.verdict.split(":")[0] for c in comparisons]
    return {k: int(np.sum([x == k for x in kinds])) for k in sorted(set(kinds))}
