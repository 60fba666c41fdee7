"""Formatters: the only functions of the analysis that return text."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.report.analysis.choosing import Best
from bench.report.analysis.outcomes import OUTCOMES, seed_interval


def fmt_signed(x: float, digits: int = 3) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:+.{digits}f}"


def fmt_spread(values, digits: int = 3, sign: bool = False) -> str:
    """`mean ± sd (k seeds)`; sd is 0 with one seed."""
    v = np.asarray(pd.Series(values, dtype="float64").dropna())
    if v.size == 0:
        return "n/a"
    mean = float(v.mean())
    sd = float(v.std(ddof=1)) if v.size > 1 else 0.0
    head = f"{mean:+.{digits}f}" if sign else f"{mean:.{digits}f}"
    return f"{head} ± {sd:.{digits}f} ({v.size} seed{'s' if v.size != 1 else ''})"


def fmt_count(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    if x >= 1e6:
        return f"{x / 1e6:.3g}M"
    if x >= 1e4:
        return f"{x / 1e3:.3g}k"
    return f"{x:.0f}"


def fmt_ratio(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"×{x:.3g}"


def fmt_score(b: Best | None) -> str:
    """`label mean` of a best configuration's test scores."""
    return "—" if b is None else f"{b.label} {b.scores.mean():.3f}"


def fmt_interval(values, digits: int = 3) -> str:
    """`mean [lo, hi]` of per-seed values (95% bootstrap over seeds)."""
    return seed_interval(values).text(digits)


def fmt_tally(outcomes: dict[str, str]) -> str:
    """`of n datasets, k support, ...` (each dataset's outcome is in the evidence table)."""
    n = len(outcomes)
    counts = {o: sum(v == o for v in outcomes.values()) for o in OUTCOMES}
    head = f"of {n} dataset{'s' if n != 1 else ''}, {counts['supports']} support{'s' if counts['supports'] == 1 else ''}, "
    head += f"{counts['refutes']} refute{'s' if counts['refutes'] == 1 else ''}, {counts['mixed']} mixed"
    head += f", {counts['inconclusive']} inconclusive" if counts["inconclusive"] else ""
    return head
