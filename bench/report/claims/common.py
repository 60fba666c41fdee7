"""What the rules share: the per-dataset loop, written once, and the phrases of a verdict.

Most rules go dataset by dataset: the largest training size where the cells they compare
all ran (`at_largest`), the best configuration of each side there (`analysis.best`), the
per-seed difference (`analysis.paired`), an outcome per dataset; then the outcomes combine
by the two-thirds rule (`Outcomes`, which also keeps the evidence rows, the per-seed
differences behind the "How sure" line and the effects for the forest plot).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import pandas as pd

from bench.report import analysis as an
from bench.report import stats
from bench.report.claims.base import Result

score_of = an.fmt_score
interval = an.fmt_interval


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
    """Classical cells on raw and on engineered features (and, with `deep`, deep cells) are all here."""
    cl = at[at["family"] == "classical"]
    return "raw" in set(cl["features"]) and (cl["features"] != "raw").any() and (not deep or (at["family"] == "deep").any())


def seed_gaps(df: pd.DataFrame, dataset: str, config: str, n: int) -> pd.Series:
    """A configuration's train − test score per seed at one size."""
    h = df[(df["dataset"] == dataset) & (df["config"] == config) & (df["n_train"] == n)]
    return (h["train_score"] - h["score"]).groupby(h["seed"]).mean().dropna()


def pooled(records: list[dict], column: str, what: str, unit: str = "dataset") -> str:
    """`what mean [lo, hi] (k units, m seeds)` over the records' groups and seeds."""
    if not records:
        return ""
    iv = stats.bootstrap_ci(pd.DataFrame(records), column)
    return f"{what} {iv.text()} ({iv.n_groups} {unit}{'s' if iv.n_groups != 1 else ''}, {iv.n_values} seeds)"


def certainty(*parts: str) -> str:
    parts = [p for p in parts if p]
    return ("95% bootstrap intervals: " + "; ".join(parts) + ".") if parts else ""


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

    def add(self, key: str, outcome: str, row: dict, diffs: dict[str, pd.Series] | None = None,
            effect: tuple[str, pd.Series] | None = None) -> str:
        """One outcome with its evidence row (the outcome is its last column), per-seed differences
        (`what` -> values, pooled over keys in the "How sure" line) and effect (label, values)."""
        self.outcomes[key] = outcome
        self.evidence.append({**row, "outcome": outcome})
        for what, values in (diffs or {}).items():
            self.diffs.setdefault(what, []).extend(records(key, values))
        if effect is not None:
            self.effects.append(effect_of(*effect))
        return outcome

    def count(self, outcome: str) -> int:
        return sum(o == outcome for o in self.outcomes.values())

    def certainty(self) -> str:
        return certainty(*(pooled(recs, "diff", what, self.unit) for what, recs in self.diffs.items()))

    def result(self, none_reason: str, effect: str = "", *, reason: str | None = None, veto: bool = True, data=None) -> Result:
        """The verdict by the two-thirds rule (`veto`: see `analysis.two_thirds`), or not measurable
        for `none_reason` when there is no outcome; `reason` replaces the tally of datasets."""
        if not self.outcomes:
            return not_measurable(none_reason, data)
        return Result(
            an.two_thirds(self.outcomes, veto=veto), an.fmt_tally(self.outcomes) if reason is None else reason,
            self.evidence, self.certainty(), effect, self.effects, data,
        )
