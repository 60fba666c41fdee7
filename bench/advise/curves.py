"""`bench advise`: the learning curves, their slopes and trends, and where they would cross.

Each family's error (1 - accuracy, or 1 - R²) against the training size on log scales, its
slope over the largest sizes (the error's change per doubling of the data), and, anchored at
the full size, where the trailing family's curve would cross the leader's: a median and an
interval from resampling the seeds, or "no crossover in sight" when the curves do not meet
within CROSSOVER_HORIZON times the data. A trend is claimed only when the curves' slopes,
fitted over every size with their standard errors, differ beyond their 95% interval
(`trend`). The answer (bench.advise.answer) reads these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bench.report import analysis as an

CROSSOVER_HORIZON = 100  # extrapolate the curves this many times the user's data, no further
N_BOOT = 1000
ERROR_FLOOR = 1e-3
SLOPE_SIZES = 3  # the slope is fitted over this many largest sizes
MAX_MISFIT = 0.15  # log2 units: a curve whose error strays more than ~11% from a power law is ill-behaved
# A trend is claimed only when the slopes (log2 error per doubling, fitted over all sizes) differ
# beyond their 95% interval, and "parallel" only when that interval is narrower than this (a
# difference of 0.05 moves the error ratio by a quarter over 100 times the data).
TREND_RESOLUTION = 0.05
SEED = 20261122


@dataclass
class Curve:
    group: str
    sizes: list[int]
    scores: pd.DataFrame  # size x seed, the group's best default configuration at each size
    slope: float = math.nan  # d log2(error) / d log2(n): below 0 the error falls
    misfit: float = math.nan  # RMS of the log2(error) residuals around the fitted line
    problems: list[str] = field(default_factory=list)
    trend: float = math.nan  # the slope fitted over every size, for the trend claims
    trend_se: float = math.nan  # its standard error, from the residuals (nan below three sizes)

    @property
    def points(self) -> str:
        return " -> ".join(f"{v:.3f}" for v in self.means)

    @property
    def means(self) -> pd.Series:
        return self.scores.mean(axis=1)

    @property
    def per_doubling(self) -> float:
        """The share of the error one doubling of the training rows removes (negative: it grows)."""
        return 1 - 2 ** self.slope if math.isfinite(self.slope) else math.nan


@dataclass
class Crossover:
    leader: str
    trailer: str
    median: float  # rows at which the trailer's curve would reach the leader's; inf: never
    lo: float
    hi: float
    in_sight: float  # share of resamples that cross within the horizon
    reliable: bool
    text: str = ""


def curve_of(ok: pd.DataFrame, group: str) -> Curve | None:
    sub = ok[(ok["_group"] == group) & (ok["tuning"].astype(str) != "tuned")]
    if sub.empty:
        return None
    per_size = {}
    for n, at in sub.groupby("n_train"):
        b = an.best(at)
        if b is not None:
            per_size[int(n)] = b.scores
    if not per_size:
        return None
    scores = pd.DataFrame(per_size).T.sort_index()
    c = Curve(group, list(scores.index), scores)
    _fit(c)
    return c


def _error(score):
    return np.clip(1.0 - np.asarray(score, dtype=float), ERROR_FLOOR, None)


def _slope(sizes, means) -> tuple[float, float]:
    """Least-squares slope of log2(error) on log2(n) over the largest sizes, and the residuals' RMS."""
    x = np.log2(np.asarray(sizes[-SLOPE_SIZES:], dtype=float))
    y = np.log2(_error(means[-SLOPE_SIZES:]))
    if len(x) < 2:
        return math.nan, math.nan
    b, a = np.polyfit(x, y, 1)
    resid = y - (a + b * x)
    return float(b), float(np.sqrt((resid**2).mean()))


def trend_of(sizes, means) -> tuple[float, float]:
    """Slope of log2(error) on log2(n) over every size, and its standard error (nan below three sizes)."""
    x = np.log2(np.asarray(sizes, dtype=float))
    y = np.log2(_error(means))
    if len(x) < 2:
        return math.nan, math.nan
    b, a = np.polyfit(x, y, 1)
    if len(x) < 3:
        return float(b), math.nan
    resid = y - (a + b * x)
    se = math.sqrt(float((resid**2).sum()) / (len(x) - 2) / float(((x - x.mean()) ** 2).sum()))
    return float(b), se


def trend(lead: Curve, trail: Curve) -> tuple[str, float, float]:
    """How the trailing curve's slope compares with the leader's: `steeper` (its error falls faster,
    beyond the 95% interval), `flatter`, `parallel` (within an interval narrower than
    TREND_RESOLUTION), `noisy` (an interval too wide to say) or `few` (under three sizes);
    with the difference and the interval's half-width."""
    from scipy import stats

    if len(lead.sizes) < 3 or len(trail.sizes) < 3:
        return "few", math.nan, math.nan
    diff = trail.trend - lead.trend
    half = math.hypot(*(float(stats.t.ppf(0.975, len(c.sizes) - 2)) * c.trend_se for c in (lead, trail)))
    if not (math.isfinite(diff) and math.isfinite(half)):
        return "noisy", diff, half
    if abs(diff) > half:
        return ("steeper" if diff < 0 else "flatter"), diff, half
    return ("parallel" if half <= TREND_RESOLUTION else "noisy"), diff, half


def _fit(c: Curve) -> None:
    means = c.means.to_numpy()
    c.slope, c.misfit = _slope(c.sizes, means)
    c.trend, c.trend_se = trend_of(c.sizes, means)
    if len(c.sizes) < 3:
        c.problems.append(f"only {len(c.sizes)} training sizes: the slope is a rough guess")
    spread = c.scores.std(axis=1, ddof=1).fillna(0.0).to_numpy()
    for i in range(1, len(means)):
        drop = means[i - 1] - means[i]
        if drop > max(an.MARGIN, 2 * max(spread[i - 1], spread[i])):
            c.problems.append(f"its score falls from {means[i - 1]:.3f} at {c.sizes[i - 1]:,} rows "
                              f"to {means[i]:.3f} at {c.sizes[i]:,}")
    if 1 - means[-1] < 0.02:
        c.problems.append("near-perfect scores: the error is too small to extrapolate")
    elif len(c.sizes) >= 3 and math.isfinite(c.misfit) and c.misfit > MAX_MISFIT:
        c.problems.append(f"its error does not follow a power law of the size over the largest sizes "
                          f"(off the fitted line by {2 ** c.misfit - 1:.0%} on average)")
    if math.isfinite(c.slope) and c.slope > 0.05:
        c.problems.append("its error grows with more data")


def crossover(a: Curve, b: Curve, n_top: int) -> Crossover:
    """Where the trailing curve would reach the leading one, anchored at the full size, with a seed bootstrap."""
    common = sorted(set(a.scores.columns) & set(b.scores.columns))
    sizes_a, sizes_b = a.sizes, b.sizes
    sa, sb = a.scores[common], b.scores[common]
    lead_a = sa.iloc[-1].mean() >= sb.iloc[-1].mean()
    leader, trailer = (a, b) if lead_a else (b, a)

    def cross(cols) -> float:
        ma = sa[cols].mean(axis=1).to_numpy()
        mb = sb[cols].mean(axis=1).to_numpy()
        ea, eb = _error(ma[-1]), _error(mb[-1])
        ba, _ = _slope(sizes_a, ma)
        bb, _ = _slope(sizes_b, mb)
        (e_l, b_l), (e_t, b_t) = ((ea, ba), (eb, bb)) if lead_a else ((eb, bb), (ea, ba))
        if not (math.isfinite(b_l) and math.isfinite(b_t)) or b_t >= b_l or e_t <= e_l:
            return math.inf if e_t > e_l else float(n_top)
        log_n = math.log(n_top) + math.log(e_t / e_l) / (b_l - b_t)
        return math.exp(log_n) if log_n < 690 else math.inf  # beyond float range: never, in practice

    point = cross(common)
    rng = np.random.default_rng(SEED)
    draws = np.array([cross([common[i] for i in rng.integers(0, len(common), len(common))])
                      for _ in range(N_BOOT)]) if len(common) > 1 else np.array([point])
    horizon = CROSSOVER_HORIZON * n_top
    in_sight = float((draws <= horizon).mean())
    big = np.where(np.isfinite(draws), draws, np.finfo(float).max)  # inf - inf would be nan in the interpolation
    lo, med, hi = (float(v) if v < np.finfo(float).max else math.inf for v in np.quantile(big, (0.025, 0.5, 0.975), method="lower"))
    reliable = not leader.problems and not trailer.problems and len(common) >= 3 \
        and trend(leader, trailer)[0] in ("steeper", "flatter", "parallel")
    return Crossover(leader.group, trailer.group, med, lo, hi, in_sight, reliable)
