"""What the rules share: the per-dataset loop, written once, and the phrases of a verdict.

Most rules go dataset by dataset: the largest training size where the cells they compare
all ran (`at_largest`), the best of each side there, chosen on validation among that side's
own candidates (`compare`; the sides are what the rule names: since version 4 no side is a
pool of the other's size), their difference with an interval counting the test rows
(`analysis.compare`), an outcome per dataset; then the outcomes combine by the two-thirds
rule (`Outcomes`, which also keeps the evidence rows, the differences behind the "How sure"
line, with the method of each interval and the Bayesian signed-rank test across datasets,
and the effects for the forest plot).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from bench.report import analysis as an
from bench.report import paired as pr
from bench.report import stats
from bench.report.claims.base import Result
from bench.report.paired import PairedDifference

score_of = an.fmt_score

# "Large" as an absolute size per modality: the training rows from which a dataset counts as
# large-scale data, where a claim says "large" (application scenarios). A modality not listed
# uses LARGE_DEFAULT. The thresholds are stated in the rules' text (`large_text`).
LARGE = {"tabular": 10_000, "image": 10_000, "sequence": 10_000, "text": 10_000}
LARGE_DEFAULT = 10_000


def large_rows(modality: str) -> int:
    """The training rows from which a dataset of `modality` counts as large."""
    return LARGE.get(str(modality), LARGE_DEFAULT)


def is_large(modality: str, n: int) -> bool:
    return int(n) >= large_rows(modality)


def large_text(*modalities: str) -> str:
    """`at least 10,000 training rows for image and sequence data` (thresholds grouped)."""
    by: dict[int, list[str]] = {}
    for m in modalities:
        by.setdefault(large_rows(m), []).append(m)
    return "; ".join(f"at least {n:,} training rows for {' and '.join(ms)} data" for n, ms in by.items())


def interval(d) -> str:
    """`mean [lo, hi]`: a `PairedDifference`'s interval (test rows and seeds), or per-seed values'
    bootstrap interval over seeds (quantities without test-row error of their own)."""
    if isinstance(d, PairedDifference):
        if not (d.diff == d.diff):
            return "n/a"
        return d.text() if d.decided else f"{d.diff:+.3f} [no interval: {d.method}]"
    return an.fmt_interval(d)


# The rules' shared sentences (version 4): how each side's best is chosen, and how deep and
# classical are set against each other (`analysis.family_sides`).
_CHOSEN = ("cross-validated where the table has it; the highest mean score, candidates within one "
           "validation row named as tied")
CHOICE = (f"Each side's best is chosen on validation ({_CHOSEN}) among that side's own candidates, and "
          "set against the other side's best; the evidence gives each side's candidate count.")
FAMILIES = ("Deep and classical are compared on equal terms: where both families had as many candidate "
            "configurations and as many trials in all (a default configuration counts one, a tuned one "
            "its search's trials), best against best; elsewhere the pairing practitioners recognise for "
            f"the modality ({an.pairing_text()}), each side's best chosen on validation ({_CHOSEN}) among the "
            "models it names; a dataset and size with neither is not compared. Hybrids are a family of "
            "their own and take no part.")
INTERVALS = ("Differences have 95% intervals counting the test rows and the seeds (paired predictions "
             "where kept, else the scores' conservative fallback).")


def compare(at: pd.DataFrame, a_cells: pd.DataFrame, b_cells: pd.DataFrame, ms):
    """(best of a, best of b, a − b) at one dataset and size: each side's best among its own
    candidates (`analysis.best`), the difference's interval counting the test rows
    (`analysis.compare`, paired predictions where `ms` has them). None when a side has no cell."""
    a, b = an.best(a_cells), an.best(b_cells)
    if a is None or b is None:
        return None
    return a, b, an.compare(at, a, b, ms.predictions)


def compare_families(at: pd.DataFrame, ms, classical: pd.Series | None = None):
    """(best deep, best classical, deep − classical, basis) at one dataset and size, on equal terms
    (`analysis.family_sides`; `classical` narrows the classical side first), or the reason there is
    no comparison (a string)."""
    sides = an.family_sides(at, str(at["modality"].iloc[0]), classical)
    if isinstance(sides, str):
        return sides
    got = compare(at, sides.deep, sides.classical, ms)
    if got is None:
        return "a side has no configuration that ran on every seed"
    return (*got, sides.basis)


def unpaired_text(df: pd.DataFrame) -> str:
    """`; not compared: ds (n=..): why, ...` for the sizes with both families that no
    deep-against-classical comparison reads (`analysis.unpaired`), or ""."""
    u = an.unpaired(df)
    if u.empty:
        return ""
    return "; not compared (neither equal terms nor the modality's pairing): " + ", ".join(
        f"{r.dataset} (n={int(r.n_train):,}: {r.reason})" for r in u.itertuples())


def same_models(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`a` and `b` narrowed to the models (registered name and the suite's parameters, and tuning
    mode) that ran on both: the same candidates on each side, e.g. classical models on engineered
    features and on raw input."""
    def key(df: pd.DataFrame) -> pd.Series:
        """The registered model with the suite's parameters (a label may differ between inputs), and the tuning mode."""
        out = df["model"].astype(str)
        if "model_name" in df.columns and "params" in df.columns:
            named = df["model_name"].notna() & df["params"].notna()
            out = out.where(~named, df["model_name"].astype(str) + "|" + df["params"].astype(str))
        tuning = df["tuning"].fillna("default").astype(str) if "tuning" in df.columns else ""
        return out + "|" + tuning

    common = set(key(a)) & set(key(b))
    return a[key(a).isin(common)], b[key(b).isin(common)]


def not_measurable(why: str, data=None) -> Result:
    return Result("not measurable", f"not measurable with this run: {why}", data=data)


NO_CELLS = not_measurable("no finished cells")


def need(df: pd.DataFrame, *fams: str) -> Result | None:
    """Not measurable when `df` has no finished cells of one of `fams`; None when it has them all."""
    missing = an.missing_families(df, *fams)
    if missing:
        return not_measurable(f"it has no finished {' or '.join(missing)} models")
    return None


def with_data(r: Result, data) -> Result:
    return replace(r, data=data)


def at_largest(
    df: pd.DataFrame, where: Callable[[pd.DataFrame], bool] = lambda at: True, among: pd.DataFrame | None = None,
) -> Iterator[tuple[str, int, pd.DataFrame]]:
    """(dataset, n, df's cells at n), dataset by dataset in sorted order.

    n is the largest training size at which `where(cells at that size)` holds, looking at
    the cells of `among` (default: `df`); datasets where it never holds are skipped.
    """
    among = df if among is None else among
    for dataset in an.datasets(among):
        n = an.largest_size(among, dataset, where)
        if n is None:
            continue
        yield dataset, n, df[(df["dataset"] == dataset) & (df["n_train"] == n)]


def raw_and_engineered(at: pd.DataFrame, deep: bool) -> bool:
    """Classical cells on raw and on engineered features (`analysis.engineered`: a feature variant,
    or a model that builds its own, such as TF-IDF) (and, with `deep`, deep cells) are all here."""
    cl = at[at["family"] == "classical"]
    eng = an.engineered(cl)
    return bool((~eng).any() and eng.any() and (not deep or (at["family"] == "deep").any()))


TRAIN_SCORE_ROWS = 2000  # a cell scores its fit on at most this many training rows (bench.execution.cell)


def _gap_seeds(df: pd.DataFrame, dataset: str, a: tuple[str, int], b: tuple[str, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per seed (index), the train score, test score and test rows of configuration a[0] at size a[1]
    and of b[0] at b[1], on the seeds where both have all three."""
    def per(config: str, n: int) -> pd.DataFrame:
        h = df[(df["dataset"] == dataset) & (df["config"] == config) & (df["n_train"] == n)]
        return h.groupby("seed").agg(train=("train_score", "mean"), test=("score", "mean"), n_test=("n_test", "min"))

    x, y = per(*a), per(*b)
    seeds = x.index.intersection(y.index)
    x, y = x.loc[seeds].dropna(), y.loc[seeds].dropna()
    seeds = x.index.intersection(y.index)
    return x.loc[seeds], y.loc[seeds]


def common_seed_gaps(df: pd.DataFrame, dataset: str, a: tuple[str, int], b: tuple[str, int]) -> tuple[float, float, int]:
    """(mean gap of a, mean gap of b, seeds) over the seeds `gap_change(df, dataset, a, b)` pairs: the two
    gaps it subtracts, so that shown beside it they differ by its estimate (NaN gaps and 0 seeds when none)."""
    x, y = _gap_seeds(df, dataset, a, b)
    if not len(x):
        return float("nan"), float("nan"), 0
    return float((x["train"] - x["test"]).mean()), float((y["train"] - y["test"]).mean()), len(x)


def gap_change(df: pd.DataFrame, dataset: str, a: tuple[str, int], b: tuple[str, int]) -> PairedDifference:
    """The train/test gap of configuration a[0] at size a[1] minus b[0]'s at b[1], per seed, with a 95%
    interval counting the rows behind its four scores: each score's variance from the score and its
    rows (test rows; training rows scored, at most TRAIN_SCORE_ROWS), added as if independent
    (conservative), with the seeds' spread (`paired.from_differences`)."""
    x, y = _gap_seeds(df, dataset, a, b)
    seeds = x.index
    at = df[df["dataset"] == dataset]
    task = an.task_of(at)
    if not len(seeds):
        nan = float("nan")
        return PairedDifference(nan, nan, nan, 0, 0, "no seed with both gaps", basis="scores")

    def var(frame: pd.DataFrame, n: int) -> np.ndarray:
        fit_rows = min(int(n), TRAIN_SCORE_ROWS)
        return np.array([pr.score_variance(task, r.train, fit_rows) + pr.score_variance(task, r.test, int(r.n_test))
                         for r in frame.itertuples()])

    d = (x["train"] - x["test"]) - (y["train"] - y["test"])
    n_test = int(min(x["n_test"].min(), y["n_test"].min()))
    what = ("scores only: each of the four scores' variance from the score and its rows (binomial, or the "
            "delta method for R²), added as if independent (conservative)")
    return pr.from_differences(d.to_numpy(), var(x, a[1]) + var(y, b[1]), n_test,
                               shared_rows=an.shared_rows(at), what=what)


def pooled(records: list[dict], column: str, what: str, unit: str = "dataset") -> str:
    """`what mean [lo, hi] (k units, m seeds)` over the records' groups and seeds."""
    if not records:
        return ""
    iv = stats.bootstrap_ci(pd.DataFrame(records), column)
    return f"{what} {iv.text()} ({iv.n_groups} {unit}{'s' if iv.n_groups != 1 else ''}, {iv.n_values} seeds)"


def certainty(*parts: str) -> str:
    parts = [p for p in parts if p]
    return ("95% bootstrap intervals: " + "; ".join(parts) + ".") if parts else ""


def across(what: str, diffs: dict[str, PairedDifference], unit: str = "dataset") -> str:
    """The "How sure" text for one kind of difference over datasets: each interval's method
    (which datasets used which) and the Bayesian signed-rank test across them (ROPE ± margin)."""
    if not diffs:
        return ""
    out = f"{what}: 95% intervals per {unit} counting the test rows and seeds, by {an.methods_text(diffs)}"
    sr = stats.signed_rank([d.diff for d in diffs.values()], an.MARGIN)
    if sr is not None:
        out += f"; across {unit}s, Bayesian signed-rank test: {sr.text(unit)}"
    else:
        out += f"; one {unit}: no test across {unit}s"
    return out


def records(key: str, diffs: pd.Series, column: str = "diff") -> list[dict]:
    return [{"dataset": key, "seed": int(s), column: float(v)} for s, v in diffs.items()]


def effect_of(label: str, diffs: pd.Series) -> tuple[str, float, float, float]:
    iv = an.seed_interval(diffs)
    return (label, iv.mean, iv.lo, iv.hi)


@dataclass
class Outcomes:
    """A rule's outcome per dataset (or configuration, or pair), and what the verdict prints of them."""

    unit: str = "dataset"  # what one outcome is about, in the "How sure" line
    outcomes: dict[str, str] = field(default_factory=dict)
    evidence: list[dict] = field(default_factory=list)
    diffs: dict[str, list[dict]] = field(default_factory=dict)  # what -> per-seed records, pooled in `certainty`
    effects: list[tuple[str, float, float, float]] = field(default_factory=list)
    tested: dict[str, dict[str, PairedDifference]] = field(default_factory=dict)  # what -> key -> difference

    def add(self, key: str, outcome: str, row: dict, diffs: dict[str, pd.Series | PairedDifference] | None = None,
            effect: tuple[str, pd.Series | PairedDifference] | None = None) -> str:
        """One outcome with its evidence row (the outcome is its last column), its differences
        (`what` -> a `PairedDifference`, or per-seed values pooled over keys by the bootstrap, in
        the "How sure" line) and effect (label, difference or values)."""
        self.outcomes[key] = outcome
        self.evidence.append({**row, "outcome": outcome})
        for what, values in (diffs or {}).items():
            if isinstance(values, PairedDifference):
                self.tested.setdefault(what, {})[key] = values
            else:
                self.diffs.setdefault(what, []).extend(records(key, values))
        if effect is not None:
            label, d = effect
            self.effects.append((label, d.diff, d.lo, d.hi) if isinstance(d, PairedDifference) else effect_of(label, d))
        return outcome

    def count(self, outcome: str) -> int:
        return sum(o == outcome for o in self.outcomes.values())

    def certainty(self) -> str:
        parts = [across(what, ds, self.unit) for what, ds in self.tested.items()]
        boot = certainty(*(pooled(recs, "diff", what, self.unit) for what, recs in self.diffs.items()))
        return " ".join([p[:1].upper() + p[1:] + "." for p in parts if p] + ([boot] if boot else []))

    def result(self, none_reason: str, effect: str = "", *, reason: str | None = None, veto: bool = True, data=None,
               combine=None) -> Result:
        """The verdict by the two-thirds rule (`veto`: see `analysis.two_thirds`), or by `combine`
        (outcomes -> verdict, e.g. `analysis.many_units`) where given; not measurable for
        `none_reason` when there is no outcome; `reason` replaces the tally of datasets."""
        if not self.outcomes:
            return not_measurable(none_reason, data)
        return Result(
            combine(self.outcomes) if combine else an.two_thirds(self.outcomes, veto=veto), an.fmt_tally(self.outcomes) if reason is None else reason,
            self.evidence, self.certainty(), effect, self.effects, data,
        )
