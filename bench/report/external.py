"""Published results beside ours: for each figure of `published.csv` the run can match, the two and their difference.

Each figure names the configuration of ours that reproduces it (`configuration`, a suite's model
label such as `one_nn` or `svc_c10`, and the feature variant it runs on). A figure is compared
where the run has the same dataset (and parameters), the same split (test rows), the same
training size and that configuration; where the run lacks the configuration, with any
configuration of the same kind of model, whose contradicting hyperparameters then make the
protocols differ instead of giving a verdict.

The tolerance comes from the figure's source (docs/external-results.md): a deterministic model
on a fixed split must reproduce within one test row; otherwise the difference is judged against
Z standard errors of it, from the published spread (or our seeds' spread standing in for it), our
seeds' spread and the test set's binomial error, plus half the published figure's last digit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from bench.report.document import Block, heading, table

PUBLISHED = "published.csv"
Z = 2.0  # standard errors of the difference a reproduction may miss by (about 95% two-sided)
WITHIN, OUTSIDE, DIFFERS = "within tolerance", "outside tolerance", "protocol differs"


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
    tolerance: float | None  # None where no verdict is given
    basis: str  # how the tolerance was derived
    verdict: str  # WITHIN, OUTSIDE, or "protocol differs: ..."
    differs: str = ""  # what is known to differ between their protocol and ours


def published() -> pd.DataFrame:
    """The published figures (package data), one row each; `decimals`: the digits the source printed."""
    with resources.files("bench.report").joinpath(PUBLISHED).open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str, keep_default_na=False)
    table["decimals"] = table["value"].map(lambda v: len(v.split(".")[1]) if "." in v else 0)
    for col in ("value", "sd"):
        table[col] = pd.to_numeric(table[col].replace("", np.nan))
    for col in ("n_train", "n_test"):
        table[col] = table[col].astype(int)
    table["runs"] = pd.to_numeric(table["runs"].replace("", "1")).astype(int)
    table["deterministic"] = table["deterministic"] == "yes"
    table["features"] = table["features"].replace("", "raw")
    for col in ("dataset_params", "model_params"):
        table[col] = table[col].map(lambda s: json.loads(s) if s else {})
    return table


def tolerance(fig, scores: pd.Series) -> tuple[float, str]:
    """(tolerance, how it was derived) for comparing our `scores` (one per seed) with `fig`."""
    rounding = 0.5 * 10.0 ** -int(fig.decimals)
    n = int(fig.n_test)
    if fig.deterministic:
        return 1 / n + rounding, f"exact: one test row (1/{n}) + rounding {rounding:g}"
    p = min(max(float(fig.value), 0.0), 1.0)
    binomial = p * (1 - p) / n
    k = len(scores)
    s = float(scores.std(ddof=1)) if k > 1 else None
    ours = s * s / k if s is not None else 0.0
    runs = max(int(fig.runs), 1)
    if pd.notna(fig.sd):  # their spread, over runs on one split or over resamples of it
        theirs = fig.sd**2 / runs if fig.averaged_over == "seeds" else fig.sd**2
        spread = f"theirs {fig.sd:g}"
    elif fig.averaged_over == "resamples":  # their mean is over many test sets; ours is one
        theirs, spread = binomial, "theirs over resamples: a second binomial term"
    else:  # our seeds' spread stands in for theirs
        theirs = (s * s / runs) if s is not None else 0.0
        spread = f"theirs taken as ours over {runs} run{'s' * (runs > 1)}" if s is not None else "no spread known"
    tol = Z * math.sqrt(binomial + ours + theirs) + rounding
    seeds = f"our {k} seeds' sd {s:.3f}" if s is not None else "one seed of ours"
    return tol, f"{Z:g}·√(binomial ({n} rows), {seeds}, {spread}) + rounding {rounding:g}"


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


def _published_text(fig) -> str:
    value = f"{fig.value:.{int(fig.decimals)}f}"
    return value + (f" ± {fig.sd:.{int(fig.decimals)}f}" if pd.notna(fig.sd) else "")


def _finished(df: pd.DataFrame) -> pd.DataFrame:
    """A run's finished cells in their default mode: a published figure is a fixed configuration,
    and a tuned cell of the same model ran whatever its search chose (its own configuration)."""
    ok = df[df["status"] == "ok"]
    if "tuning" in ok:
        ok = ok[ok["tuning"].fillna("default") == "default"]
    ok = ok.copy()
    given = ok["dataset_params"] if "dataset_params" in ok else pd.Series("", index=ok.index)
    if "dataset_effective_params" in ok:
        given = ok["dataset_effective_params"].where(ok["dataset_effective_params"].notna(), given)
    ok["_dparams"] = [_params_of(p) for p in given]
    ok["_features"] = ok["features"].astype(str) if "features" in ok else "raw"
    return ok


def _config_params(g: pd.DataFrame) -> dict:
    hyper = g["hyperparams"].dropna() if "hyperparams" in g else pd.Series(dtype=object)
    ours = _params_of(hyper.iloc[0] if len(hyper) else "")
    return {**_params_of(g["params"].iloc[0] if "params" in g else ""), **ours}


def compare(df: pd.DataFrame) -> tuple[list[Comparison], list[str]]:
    """(comparisons and protocol differences for matched figures, one line per unmatched group).

    A row's dataset parameters are those its cell ran with (`dataset_effective_params`: the
    loader's defaults merged with the suite's); a row without them (an old table not yet
    upgraded by `bench.upgrade`) is read with the suite's `dataset_params` alone.
    """
    figures = published()
    if df.empty or "dataset_name" not in df:
        return [], ["no finished cells"]
    ok = _finished(df)
    if ok.empty:
        return [], ["no finished cells"]
    out: list[Comparison] = []
    unmatched: dict[str, list[str]] = {}

    def miss(reason: str, fig, why: str = "") -> None:
        label = f"{fig.published_model} on {_dataset_label(fig.dataset, fig.dataset_params)}"
        unmatched.setdefault(reason, []).append(f"{label} ({why})" if why else label)

    for fig in figures.itertuples(index=False):
        on_set = ok[(ok["dataset_name"] == fig.dataset)
                    & ok["_dparams"].map(lambda p, want=fig.dataset_params: all(_same(p.get(k), v) for k, v in want.items()))]
        here = on_set[on_set["_features"] == fig.features]
        label = _dataset_label(fig.dataset, fig.dataset_params)
        pub = _published_text(fig)
        if on_set.empty:
            miss("dataset not in this run", fig)
            continue
        if here.empty:
            miss(f"feature variant not in this run ({fig.features})", fig)
            continue
        if not fig.model:
            miss("no model of that kind in the harness", fig, fig.differs)
            continue
        same_split = here[here["n_test"] == fig.n_test]
        if same_split.empty:
            tests = ", ".join(str(int(n)) for n in sorted(here["n_test"].unique()))
            out.append(Comparison(fig.source, label, fig.published_model, int(fig.n_train), pub, "", "", "", None, "",
                                  f"{DIFFERS}: a test set of {tests} rows, theirs {fig.n_test} ({fig.protocol})", fig.differs))
            continue
        sized = same_split[same_split["n_train"] == fig.n_train]
        if sized.empty:
            sizes = ", ".join(str(int(n)) for n in sorted(same_split["n_train"].unique()))
            miss(f"training sizes differ (ours {sizes})", fig)
            continue
        named = sized[sized["model"] == fig.configuration] if fig.configuration else sized.iloc[:0]
        mine = named if not named.empty else sized[sized["model_name"] == fig.model]
        if mine.empty:
            miss(f"no finished {fig.configuration or fig.model} cell at this size (not run, timed out or failed)", fig)
            continue
        for config, g in mine.groupby("model", sort=True):
            scores = g["score"].astype(float)
            ours = _fmt(scores.mean()) + (f" ± {_fmt(scores.std(ddof=1))}" if len(scores) > 1 else "") + \
                f" ({len(scores)} seed{'s' * (len(scores) > 1)})"
            clash = _contradictions(fig.model_params, _config_params(g))
            diff = scores.mean() - fig.value
            if clash:
                why = "; ".join(clash) + (f" ({fig.differs})" if not fig.configuration and fig.differs else "")
                out.append(Comparison(fig.source, label, fig.published_model, int(fig.n_train), pub, ours, str(config),
                                      f"{diff:+.3f}", None, "", f"{DIFFERS}: {why}", fig.differs))
                continue
            tol, basis = tolerance(fig, scores)
            verdict = WITHIN if abs(diff) <= tol + 1e-12 else OUTSIDE
            out.append(Comparison(fig.source, label, fig.published_model, int(fig.n_train), pub, ours, str(config),
                                  f"{diff:+.3f}", tol, basis, verdict, fig.differs))
    lines = [f"{reason}: {', '.join(figs)}" for reason, figs in sorted(unmatched.items())]
    return out, lines


def shares(df: pd.DataFrame) -> dict[str, int]:
    """Counts behind the section's first line: figures, rows compared, rows with a verdict, within tolerance."""
    comparisons, _ = compare(df)
    verdicts = [c for c in comparisons if c.tolerance is not None]
    return {
        "figures": len(published()),
        "rows": len(comparisons),
        "figures_compared": len({(c.source, c.dataset, c.published_model, c.n_train) for c in comparisons}),
        "verdicts": len(verdicts),
        "within": sum(c.verdict == WITHIN for c in verdicts),
    }


def _share_line(s: dict[str, int]) -> str:
    if not s["rows"]:
        return ""
    pct = lambda a, b: f"{100 * a / b:.0f}%" if b else "-"  # noqa: E731
    return (f"{s['rows']} comparisons of {s['figures_compared']} of the {s['figures']} published figures: "
            f"{s['verdicts']} with a verdict ({pct(s['verdicts'], s['rows'])}), {s['within']} of them within "
            f"tolerance ({pct(s['within'], s['verdicts'])}).")


def blocks(df: pd.DataFrame) -> list:
    """The report's "External results" section as render Blocks."""
    comparisons, unmatched = compare(df)
    head = [
        heading(2, "External results", anchor="external"),
        Block("p", (
            "Published figures (bench/report/published.csv: source, protocol and the configuration of ours "
            "that reproduces each) beside this run's, where the run has the same dataset, split, training size "
            "and configuration. The difference is ours minus theirs in test accuracy. The tolerance comes from "
            "the source (docs/external-results.md): within one test row for a deterministic model on a fixed "
            f"split; else {Z:g} standard errors of the difference (the published spread, or our seeds' standing "
            "in for it, our seeds' spread, the test set's binomial error) plus half the published figure's last "
            "digit. Where a setting of the published model contradicts ours, or the split differs, the protocols "
            "differ and no verdict is given; \"what differs\" says what is known to differ even so."
        )),
    ]
    if comparisons:
        line = _share_line(shares(df))
        if line:
            head.append(Block("p", line))
        rows = [(c.source, c.dataset, c.published_model, c.n_train, c.published, c.model or "-", c.ours or "-",
                 c.difference or "-", f"±{c.tolerance:.3f}" if c.tolerance is not None else "-", c.verdict,
                 c.differs or "-") for c in comparisons]
        head.append(table(("source", "dataset", "published model", "n_train", "published", "our configuration",
                           "ours", "difference", "tolerance", "verdict", "what differs"), rows, anchor="external-table"))
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


def rule_text(fig) -> str:
    """How a figure's tolerance is derived, in words (docs/external-results.md lists it per figure)."""
    if fig.deterministic:
        return "exact: one test row + rounding"
    if pd.notna(fig.sd):
        over = f"/√{fig.runs}" if fig.averaged_over == "seeds" else ""
        return f"2·√(binomial + ours + ({fig.sd:g}{over})²) + rounding"
    if fig.averaged_over == "resamples":
        return "2·√(2 × binomial + ours) + rounding"
    return f"2·√(binomial + ours + ours/{max(int(fig.runs), 1)}) + rounding"


def rules_table() -> str:
    """The per-figure table of docs/external-results.md (tests/test_external.py keeps the page equal to it)."""
    lines = ["| dataset | published model | value | n_train / n_test | our configuration | published figure | tolerance |",
             "|---|---|---|---|---|---|---|"]
    for fig in published().itertuples(index=False):
        config = f"`{fig.configuration}`" + (f" ({fig.features})" if fig.features != "raw" else "") if fig.configuration else "none"
        runs = ("deterministic" if fig.deterministic else f"mean of {fig.runs} runs on the split" if fig.averaged_over == "seeds"
                else f"mean of {fig.runs} resamples" if fig.averaged_over == "resamples" else "one figure")
        lines.append(f"| {_dataset_label(fig.dataset, fig.dataset_params)} | {fig.published_model} | {_published_text(fig)} | "
                     f"{fig.n_train} / {fig.n_test} | {config} | {runs} | {rule_text(fig)} |")
    return "\n".join(lines)
