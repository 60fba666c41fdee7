"""From per-seed differences to an outcome, and from the outcomes of several datasets to a verdict.

- `paired`: a − b on the seeds both have; `seed_interval`: its mean with a bootstrap interval;
- `side`, `outcome`: where that interval lies against a threshold or the margin;
- `two_thirds`, `two_part`: how outcomes of several datasets, or a claim's two predictions,
  combine (written once, for every rule).
"""

from __future__ import annotations

import pandas as pd

from bench.report.stats import Interval, bootstrap_ci, decide

MARGIN = 0.01  # a difference in score (accuracy or R²) counts only beyond this

OUTCOMES = ("supports", "refutes", "mixed", "inconclusive")


def paired(a: pd.Series, b: pd.Series) -> pd.Series:
    """a - b on the seeds both have."""
    common = a.index.intersection(b.index)
    return (a[common] - b[common]).sort_index()


def seed_interval(diffs: pd.Series) -> Interval:
    """Mean of per-seed values with its bootstrap interval over seeds."""
    return bootstrap_ci(pd.DataFrame({"dataset": 0, "v": pd.Series(diffs, dtype="float64").to_numpy()}), "v")


def side(diffs, threshold: float) -> bool | None:
    """True when the per-seed values' interval lies above `threshold`, False below, None within noise."""
    d = decide(diffs if isinstance(diffs, Interval) else seed_interval(diffs), threshold)
    return True if d == "above" else False if d == "below" else None


def outcome(diffs, margin: float = MARGIN) -> str:
    """`supports` when the interval lies beyond +margin, `refutes` beyond −margin, else `inconclusive`."""
    iv = diffs if isinstance(diffs, Interval) else seed_interval(diffs)
    d_hi, d_lo = decide(iv, margin), decide(iv, -margin)
    return "supports" if d_hi == "above" else "refutes" if d_lo == "below" else "inconclusive"


# ---------------------------------------------------------------- combining outcomes


def two_thirds(outcomes: dict[str, str], *, veto: bool = True) -> str:
    """Outcomes of several datasets (or pairs) -> verdict, by the two-thirds rule.

    Supported when at least two thirds support, refuted when at least two thirds refute;
    with `veto`, also only when none points the other way. Otherwise mixed when the
    evidence points both ways (some support and some refute, or one is itself mixed),
    inconclusive when it does not (the rest is within noise).
    """
    n = len(outcomes)
    sup = sum(o == "supports" for o in outcomes.values())
    ref = sum(o == "refutes" for o in outcomes.values())
    if sup * 3 >= 2 * n and (ref == 0 or not veto):
        return "supported"
    if ref * 3 >= 2 * n and (sup == 0 or not veto):
        return "refuted"
    if (sup and ref) or "mixed" in outcomes.values():
        return "mixed"
    return "inconclusive"


def sign_test(outcomes: dict[str, str]) -> tuple[int, int, float | None]:
    """(supporting, refuting, two-sided sign test p among those two) of units' outcomes; p is None
    when none is decided."""
    from scipy.stats import binomtest

    sup = sum(o == "supports" for o in outcomes.values())
    ref = sum(o == "refutes" for o in outcomes.values())
    return sup, ref, (float(binomtest(sup, sup + ref, 0.5).pvalue) if sup + ref else None)


def many_units(outcomes: dict[str, str], *, share: float = 1 / 3, alpha: float = 0.05) -> str:
    """Outcomes of many noisy units (dozens of configurations) -> verdict.

    Where at least `share` of the units are decided on their own (supports or refutes) and the
    decided ones point one way beyond chance (a two-sided sign test at `alpha`, `sign_test`, two
    thirds of them at least that way), that way decides: most units left undecided by their own
    wide intervals, or one exception among dozens, do not hide a consistent direction. Otherwise
    the two-thirds rule without veto (`two_thirds`).
    """
    sup, ref, p = sign_test(outcomes)
    decided = sup + ref
    if p is not None and decided >= share * len(outcomes) and p < alpha:
        if sup * 3 >= 2 * decided:
            return "supported"
        if ref * 3 >= 2 * decided:
            return "refuted"
    return two_thirds(outcomes, veto=False)


def two_part(p1: bool | None, p2: bool | None) -> str:
    """Two predictions of one claim (None: within noise): both hold supports, neither refutes,
    one of each is mixed, and a prediction within noise leaves it inconclusive."""
    if p1 is True and p2 is True:
        return "supports"
    if p1 is False and p2 is False:
        return "refutes"
    if {p1, p2} == {True, False}:
        return "mixed"
    return "inconclusive"
