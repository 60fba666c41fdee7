"""`bench advise`, step 5: the answer, read from the run's results table.

- Which family wins at the user's data size, by how much, with a bootstrap interval over
  seeds; each family's best configuration chosen on validation rows (bench.report.analysis),
  so the test rows decide nothing but the score.
- What each costs: fit, search and predict time, peak memory, model size, and score above
  chance per second of training.
- Where the learning curves point (bench.advise.curves): each family's error (1 - accuracy,
  or 1 - R²) against the training size on log scales, its slope over the largest sizes (the error's change per
  doubling of the data), and, anchored at the full size, where the trailing family's curve
  would cross the leader's: a median and an interval from resampling the seeds, or "no
  crossover in sight" when the curves do not meet within CROSSOVER_HORIZON times the data.
  A trend ("more data should favour deep", a crossover) is claimed only when the curves'
  slopes, fitted over every size with their standard errors, differ beyond their 95% interval;
  an interval too wide to call the curves parallel says "too noisy to say where more data leads".
  Curves use default configurations only (searches run at the full size alone).
- Costs as people can use them: a training-time ratio only where both sides are measurable,
  and with a lazy learner (k-NN stores the data) the time to fit and predict the test rows, said so.
- Caveats (bench.advise.caveats): a small test part, few seeds, ill-behaved curves, failed or
  unrun cells, class imbalance, different hardware.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bench.advise.caveats import caveats as _caveats
from bench.advise.curves import (
    CROSSOVER_HORIZON,
    Crossover,
    Curve,
    crossover,
    curve_of,
    trend,
)
from bench.advise.inspect import Profile, chance_score
from bench.advise.pilot import group_of
from bench.advise.plan import essential
from bench.report import analysis as an
from bench.report.stats import Interval

GROUPS = ("classical", "deep", "hybrid")
MEASURABLE_S = 0.01  # training (or training and predicting) times below this make no ratio


@dataclass
class Best:
    group: str
    config: str
    scores: pd.Series  # test score per seed
    val_score: float
    chosen_on: str
    params: dict  # the search's choice (tuned), else the estimator's settings
    tuned: bool
    costs: dict  # medians over seeds
    lazy: bool = False  # a lazy learner (k-NN): its fit stores the data, its cost is in predicting
    choice: object = None  # the report's choice (bench.report.analysis.best), for its comparison

    @property
    def mean(self) -> float:
        return float(self.scores.mean())


@dataclass
class Answer:
    n_train: int
    metric: str
    best: dict[str, Best]
    diff: Interval | None  # deep - classical, per seed
    outcome: str  # "deep", "classical", "tie" (within noise) or "none" (a family is missing)
    curves: dict[str, Curve]
    crossover: Crossover | None
    caveats: list[str]
    configs: pd.DataFrame  # every configuration at the full size
    failed: pd.DataFrame  # rows that did not finish
    n_seeds: int
    chance: float
    judged_by: dict[str, list[str]] = field(default_factory=dict)  # group -> the models that ran at the full size
    strong_left_out: dict[str, str] = field(default_factory=dict)  # model -> its pilot reading
    n_pool: int = 0  # the user's training rows (the answer's size may be smaller: the budget's)
    n_test: int = 0  # test rows per seed behind the interval

    def to_json(self) -> dict:
        return {
            "n_train": self.n_train, "metric": self.metric, "outcome": self.outcome,
            "difference_deep_minus_classical": None if self.diff is None else
            {"mean": self.diff.mean, "lo": self.diff.lo, "hi": self.diff.hi, "seeds": self.diff.n_values,
             "test_rows": self.n_test},
            "best": {g: {"config": b.config, "score": b.mean, "scores": {str(k): float(v) for k, v in b.scores.items()},
                         "val_score": b.val_score, "chosen_on": b.chosen_on, "params": b.params, "costs": b.costs}
                     for g, b in self.best.items()},
            "curves": {g: {"sizes": c.sizes, "mean_scores": [float(v) for v in c.means], "slope_log2_error": c.slope,
                           "error_fall_per_doubling": c.per_doubling, "problems": c.problems}
                       for g, c in self.curves.items()},
            "crossover": None if self.crossover is None else {
                "leader": self.crossover.leader, "trailer": self.crossover.trailer, "rows": _finite(self.crossover.median),
                "lo": _finite(self.crossover.lo), "hi": _finite(self.crossover.hi),
                "share_in_sight": self.crossover.in_sight, "reliable": self.crossover.reliable, "text": self.crossover.text},
            "caveats": self.caveats,
            "judged_by": self.judged_by, "strong_left_out": self.strong_left_out,
        }


def _finite(x: float):
    return x if math.isfinite(x) else None


# ------------------------------------------------------------------ selection


def groups(ok: pd.DataFrame) -> pd.Series:
    """`hybrid` for rows of a model tagged so, else the row's family."""
    hyb = an.has_tag(ok, "hybrid")
    return pd.Series(np.where(hyb, "hybrid", ok["family"].astype(str)), index=ok.index)


def _params(rows: pd.DataFrame) -> tuple[dict, bool]:
    tuned = bool((rows["tuning"].astype(str) == "tuned").any())
    if tuned:
        return {f"seed {int(r.seed)}": an.parse_json(r.best_params) for r in rows.itertuples()}, True
    return an.parse_json(rows["hyperparams"].iloc[0]), False


def _costs(rows: pd.DataFrame) -> dict:
    med = lambda col: float(rows[col].median()) if col in rows and rows[col].notna().any() else math.nan  # noqa: E731
    n_test = med("n_test")
    return {
        "fit_s": med("fit_time_s"),
        "predict_s": med("predict_time_s"),
        "search_s": med("search_time_s") if (rows["tuning"].astype(str) == "tuned").any() else 0.0,
        "predict_ms_per_1000": med("predict_time_s") / n_test * 1e6 if n_test else math.nan,
        "latency_ms": med("predict_latency_ms"),
        "peak_memory_mb": med("peak_memory_mb"),
        "model_kb": med("model_bytes") / 1024,
        "n_params": med("n_params"),
        "device": str(rows["device"].dropna().iloc[0]) if rows["device"].notna().any() else "cpu",
    }


def best_of(at: pd.DataFrame, group: str) -> Best | None:
    sub = at[at["_group"] == group]
    b = an.best(sub)
    if b is None:
        return None
    rows = sub[sub["config"] == b.label]
    params, tuned = _params(rows)
    val = float(rows["val_score"].mean()) if rows["val_score"].notna().any() else math.nan
    lazy = bool(an.has_tag(rows, "neighbours").any()) if "model_tags" in rows else False
    return Best(group, b.label, b.scores, val, b.chosen_on, params, tuned, _costs(rows), lazy, b)


# ------------------------------------------------------------------ the answer


def compute(df: pd.DataFrame, profile: Profile, not_started: int = 0, left_out: dict | None = None,
            strong_left_out: dict | None = None, abandoned: int = 0, fallbacks: tuple[int, ...] = (),
            predictions=None) -> Answer:
    """The answer from a run's rows. `predictions`: a row -> its kept (test labels, predictions), or
    None (bench.predictions.predictions_of bound to the run folder), for a paired interval."""
    ok = an.ok_rows(df)
    metric = "accuracy" if profile.task == "classification" else "R²"
    chance = chance_score(profile)
    failed = df[df["status"] != "ok"] if not df.empty else df
    if ok.empty:
        return Answer(0, metric, {}, None, "none", {}, None, _caveats(df, ok, profile, {}, {}, None, not_started, 0),
                      pd.DataFrame(), failed, 0, chance)
    ok = ok.assign(_group=groups(ok))
    n_top = answer_size(ok)
    at = ok[ok["n_train"] == n_top]
    best = {g: b for g in GROUPS if (b := best_of(at, g)) is not None}
    diff, outcome = None, "none"
    n_test = 0
    if "classical" in best and "deep" in best:
        # As the report compares (bench.report.analysis.compare): the test rows' noise counted, from the
        # kept predictions row by row where given, else from the scores and test-row counts; a few
        # test rows give a wide interval, never one of zero width, and one seed gets one too.
        d = an.compare(at, best["deep"].choice, best["classical"].choice, predictions)
        diff, n_test = an.interval(d), d.n_test
        o = an.outcome_of(d)
        if not d.decided and diff.n_values == 1 and abs(diff.mean) > an.MARGIN:  # the sign, said to be rough
            o = "supports" if diff.mean > 0 else "refutes"
        outcome = "deep" if o == "supports" else "classical" if o == "refutes" else "tie"
    curves = {g: c for g in GROUPS if (c := curve_of(ok, g)) is not None}
    cross = None
    if "classical" in curves and "deep" in curves:
        cross = crossover(curves["classical"], curves["deep"], n_top)
        cross.text = crossover_text(cross, curves, n_top, tie=outcome == "tie")
    n_seeds = int(at["seed"].nunique())
    caveats = _caveats(df, ok, profile, best, curves, cross, not_started, n_seeds)
    if fallbacks:
        caveats.append(f"a cell at the largest size failed or could not finish in the budget, so the run brought "
                       f"{' then '.join(f'{n:,}' for n in fallbacks)} rows forward for both families (before other "
                       "seeds and searches), to keep a like-for-like comparison")
    if abandoned:
        caveats.append(f"{abandoned} cell{'s' if abandoned != 1 else ''} of models that had run out of time or memory "
                       "at the same or a smaller size did not start (they would have failed the same way)")
    if left_out:
        by_group: dict[str, list[str]] = {}
        for m in left_out:
            by_group.setdefault(group_of(m), []).append(m)
        listed = "; ".join(f"{g}: {', '.join(ms)}" for g, ms in by_group.items())
        caveats.insert(0, f"left out to fit the budget or after a failed pilot ({listed}): each family is judged "
                          "by the models that ran; a larger --budget runs them")
    judged_by = {g: sorted(set(at.loc[at["_group"] == g, "model"].astype(str))) for g in GROUPS
                 if (at["_group"] == g).any()}
    strong = {**(strong_left_out or {}), **_needed_unfinished(failed, at, n_top, profile)}
    return Answer(n_top, metric, best, diff, outcome, curves, cross, caveats, config_table(at, chance), failed,
                  n_seeds, chance, judged_by, strong, profile.n_pool, n_test)


def _needed_unfinished(failed: pd.DataFrame, at: pd.DataFrame, n_top: int, profile: Profile) -> dict[str, str]:
    """Models its family's answer needs on this data (plan.essential: a CNN on images) whose cells at
    the answer's size all failed: the headline must say its family was judged without them."""
    if failed.empty:
        return {}
    ran = set(at["model"].astype(str))
    here = failed[failed["n_train"] == n_top]
    return {m: f"did not finish at {n_top:,} rows: {', '.join(sorted(set(g['status'].astype(str))))}"
            for m, g in here.groupby(here["model"].astype(str)) if m not in ran and essential(m, profile)}


def answer_size(ok: pd.DataFrame) -> int:
    """The training size the answer compares the families at: the largest at which both finished
    cells on as many common seeds as any size has (two at most: the least an interval needs).

    A cell that failed at the largest size (a timeout, a budget that ran out) leaves one family
    without it there; the answer then rests on the largest size both ran like for like, not on
    one family's rows alone. Without a size where both ran, the largest size (no comparison).
    """
    common = {}
    for n, g in ok.groupby("n_train"):
        seeds = [set(g.loc[g["_group"] == f, "seed"]) for f in ("classical", "deep")]
        common[int(n)] = min(len(seeds[0] & seeds[1]), 2)
    most = max(common.values(), default=0)
    if most == 0:
        return int(ok["n_train"].max())
    return max(n for n, k in common.items() if k >= most)


def config_table(at: pd.DataFrame, chance: float) -> pd.DataFrame:
    rows = []
    for (group, config), g in at.groupby(["_group", "config"], sort=False):
        c = _costs(g)
        train_s = (c["fit_s"] or 0) + (c["search_s"] or 0)
        score = float(g["score"].mean())
        rows.append({
            "group": group, "config": config, "score": score, "sd": float(g["score"].std(ddof=1)) if len(g) > 1 else math.nan,
            "val_score": float(g["val_score"].mean()) if g["val_score"].notna().any() else math.nan,
            "seeds": int(g["seed"].nunique()), **c,
            "score_above_chance_per_train_s": (score - chance) / train_s if train_s > 0 else math.nan,
        })
    out = pd.DataFrame(rows)
    return out.sort_values("val_score", ascending=False, na_position="last").reset_index(drop=True) if len(out) else out


def _rows(n: float) -> str:
    if not math.isfinite(n):
        return "never"
    return f"{n:,.0f}" if n < 1e7 else f"{n:.1e}"


def crossover_text(c: Crossover, curves: dict[str, Curve], n_top: int, tie: bool = False) -> str:
    lead, trail = curves[c.leader], curves[c.trailer]
    slopes = (f"{c.leader}'s error falls {_pct(lead.per_doubling)} per doubling of the training rows, "
              f"{c.trailer}'s {_pct(trail.per_doubling)}")
    kind, diff, half = trend(lead, trail)
    if kind == "few":
        return f"{slopes}; too few training sizes to say where more data leads"
    if kind == "noisy":
        shown = "; ".join(f"{g} {curves[g].points}" for g in (c.leader, c.trailer))
        return (f"{slopes}, but the curves are too noisy to say where more data leads ({shown}: the slopes differ "
                f"by {diff:+.2f} ± {half:.2f} log2 units per doubling)")
    horizon = CROSSOVER_HORIZON * n_top
    if tie:
        if kind == "parallel":
            text = f"{slopes}: level now, and the curves run parallel; more data is unlikely to split them"
        else:
            steeper = trail if kind == "steeper" else lead
            text = (f"{slopes}: level now, but {steeper.group}'s error falls faster (beyond the curves' noise), "
                    f"so more data should favour {steeper.group}")
    elif kind == "steeper" and c.in_sight >= 0.5 and math.isfinite(c.median):
        hi = "beyond" if not math.isfinite(c.hi) or c.hi > horizon else _rows(c.hi)
        hi_text = f"more than {_rows(horizon)}" if hi == "beyond" else hi
        text = (f"{slopes}: {c.trailer} would catch up at about {_rows(c.median)} rows "
                f"({c.median / n_top:.1f}x your data; 95% interval {_rows(c.lo)} to {hi_text})")
    elif kind == "steeper":
        text = (f"{slopes}: {c.trailer} closes the gap, but too slowly to catch up within "
                f"{CROSSOVER_HORIZON}x your data; no crossover in sight")
    elif kind == "parallel":
        text = f"{slopes}: the curves run parallel; no crossover in sight"
    else:
        text = f"{slopes}: no crossover in sight ({c.leader} keeps its lead as the data grows)"
    if not c.reliable:
        text += "; the curves are too few or too irregular to trust this far (see the caveats)"
    return text


def _pct(x: float) -> str:
    if not math.isfinite(x):
        return "?"
    return f"{x:.0%}" if x >= 0 else f"-{-x:.0%} (it grows)"


# ------------------------------------------------------------------ words


def _s(x: float) -> str:
    if not math.isfinite(x):
        return "?"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.1f} s" if x < 100 else f"{x / 60:.1f} min"


def _size(kb: float) -> str:
    if not math.isfinite(kb):
        return "?"
    return f"{kb:.0f} KB" if kb < 1024 else f"{kb / 1024:.1f} MB"


def params_text(b: Best, limit: int = 6) -> str:
    if b.tuned:
        first = next(iter(b.params.values()), {})
        shown = ", ".join(f"{k}={_v(v)}" for k, v in list(first.items())[:limit])
        return f"searched; {next(iter(b.params), 'seed 0')} chose {shown or 'the defaults'}"
    return "default settings"


def _v(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def headline(a: Answer, profile: Profile) -> list[str]:
    """The answer in plain words: the winner, its margin, the costs, more data, the caveats."""
    if a.outcome == "none":
        return ["No answer: " + (a.caveats[-1] if a.caveats else "no cell finished")]
    c, d = a.best["classical"], a.best["deep"]
    iv = a.diff
    where = f"At your data size ({a.n_train:,} training rows)"
    seeds = f"over {iv.n_values} seed{'s' if iv.n_values != 1 else ''}" + \
        (f" and {a.n_test:,} test rows" if a.n_test else "")
    rough = math.isfinite(iv.lo) and math.isfinite(iv.hi)
    lo_hi = sorted((iv.lo, iv.hi) if a.outcome != "classical" else (-iv.lo, -iv.hi))
    one_iv = f" (95% interval {lo_hi[0]:.3f} to {lo_hi[1]:.3f} over its {a.n_test:,} test rows)" if rough else ""
    if a.n_pool and a.n_train < a.n_pool:
        where = (f"At {a.n_train:,} training rows (of your {a.n_pool:,}: the largest size the budget ran for both "
                 "families on the same seeds, so this answers for that size, not yours)")
    if iv.n_values == 1 and a.outcome != "tie":
        win, lose = (d, c) if a.outcome == "deep" else (c, d)
        lines = [f"{where}, on one seed (no interval over seeds: a rough answer), {a.outcome} leads: {win.config} "
                 f"scores {win.mean:.3f} {a.metric}, {lose.config} {lose.mean:.3f}, a lead of {abs(iv.mean):.3f}"
                 f"{one_iv}."]
    elif iv.n_values == 1:
        span = f" (95% interval {iv.lo:+.3f} to {iv.hi:+.3f} over its {a.n_test:,} test rows)" if rough else ""
        lines = [f"{where}, on one seed (no interval over seeds: a rough answer), neither family wins: "
                 f"{c.config} scores {c.mean:.3f} {a.metric}, {d.config} {d.mean:.3f}, a difference "
                 f"of {iv.mean:+.3f} for deep{span}. Choose on cost, or give a larger --budget for more seeds."]
    elif a.outcome == "tie":
        # No win (the interval does not clear the margin), said as the interval says it: level within
        # the margin, one family ahead but perhaps by less than the margin, or either way.
        m = an.MARGIN
        scores = f"{c.config} scores {c.mean:.3f} {a.metric}, {d.config} {d.mean:.3f}"
        span = f"{iv.mean:+.3f} for deep (95% interval {iv.lo:+.3f} to {iv.hi:+.3f} {seeds})"
        if -m <= iv.lo and iv.hi <= m:
            lines = [f"{where} neither family wins: {scores}; the difference, {span}, lies within ±{m:g}, the "
                     "margin below which no family is said to win: the two are level. Choose on cost."]
        elif iv.lo > 0 or iv.hi < 0:
            ahead = "deep" if iv.lo > 0 else "classical"
            lines = [f"{where} neither family wins by a clear margin, though {ahead} is ahead: {scores}; the "
                     f"difference, {span}, puts {ahead} ahead but perhaps by less than the {m:g} a win needs. "
                     "Choose on cost, or give a larger --budget for more seeds and rows."]
        else:
            lines = [f"{where} neither family wins: {scores}; the difference, {span}, is within the noise: "
                     "it may favour either family. Choose on cost."]
    else:
        win, lose = (d, c) if a.outcome == "deep" else (c, d)
        sign = 1 if a.outcome == "deep" else -1
        lo, hi = sorted((sign * iv.lo, sign * iv.hi))
        lines = [f"{where} {a.outcome} wins: {win.config} scores {win.mean:.3f} {a.metric}, {lose.config} "
                 f"{lose.mean:.3f}, a lead of {abs(iv.mean):.3f} (95% interval {lo:.3f} to {hi:.3f} {seeds})."]
    if "hybrid" in a.best:
        h = a.best["hybrid"]
        top = max(c.mean, d.mean)
        rel = "above" if h.mean > top + an.MARGIN else "below" if h.mean < top - an.MARGIN else "level with"
        lines.append(f"The best hybrid, {h.config}, scores {h.mean:.3f}: {rel} the better family.")
    cost = []
    for b in (c, d):
        k = b.costs
        search = f" plus {_s(k['search_s'])} of search" if k["search_s"] else ""
        cost.append(f"{b.config} trains in {_s(k['fit_s'])}{search}, predicts 1,000 rows in "
                    f"{_s(k['predict_ms_per_1000'] / 1000)}, peaks at {k['peak_memory_mb']:.0f} MB, "
                    f"and is {_size(k['model_kb'])} on disk")
    lines.append("Cost: " + "; ".join(cost) + f" ({ratio_text(c, d)}).")
    if a.crossover is not None:
        lines.append("More data: " + a.crossover.text + ".")
    judged = judged_text(a)
    if judged:  # in the headline sentence itself: the answer is only as strong as the models that ran
        lines[0] += " " + judged
    return lines


def judged_text(a: Answer) -> str:
    """Which models each family was judged by, when a strong candidate was left out; else ""."""
    if not a.strong_left_out:
        return ""
    by_group: dict[str, list[str]] = {}
    for m, reading in a.strong_left_out.items():
        by_group.setdefault(group_of(m), []).append(f"{m} ({reading})")
    parts = [f"{g} by {', '.join(ms)}" for g, ms in a.judged_by.items()]
    out = [f"{g}: {', '.join(ms)}" for g, ms in by_group.items()]
    return (f"Judged by the models that ran ({'; '.join(parts)}); left out to fit the budget or unfinished, each "
            f"among its family's strongest in the pilot, not piloted at all, or the one its family needs on this "
            f"data: {'; '.join(out)}. A larger --budget runs them.")


def ratio_text(c: Best, d: Best) -> str:
    """Training cost compared as a ratio only where both sides are meaningful.

    A lazy learner's fit only stores the data (k-NN's "training" takes milliseconds; its cost
    is in predicting), so with one the comparison is of fitting and predicting the test rows
    together, and says so; times too small to measure are given in seconds without a ratio.
    """
    lazy = [b.config for b in (c, d) if b.lazy]

    def spent(b: Best) -> float:
        k = b.costs
        t = (k["fit_s"] or 0.0) + (k["search_s"] or 0.0)
        return t + (k["predict_s"] if lazy and math.isfinite(k.get("predict_s", math.nan)) else 0.0)

    tc, td = spent(c), spent(d)
    basis = (f"fitting and predicting the test rows, since {' and '.join(lazy)} only store{'s' if len(lazy) == 1 else ''} "
             "the data when fitted" if lazy else "training time, search included")
    if not (tc >= MEASURABLE_S and td >= MEASURABLE_S):
        return (f"{basis}: {c.config} {_s(tc)}, {d.config} {_s(td)}; too small to compare as a ratio")
    ratio = td / tc
    (who, mine), (other, theirs) = ((("deep", td), ("classical", tc)) if ratio >= 1 else (("classical", tc), ("deep", td)))
    r = mine / theirs
    times = f"{r:.0f}x" if r >= 10 else f"{r:.1f}x"
    return f"{basis}: {who} takes {times} {other}'s, {_s(mine)} against {_s(theirs)}"


def terminal_lines(a: Answer, profile: Profile) -> list[str]:
    out = ["Answer"]
    out += [f"  {line}" for line in headline(a, profile)]
    if a.best:
        out.append("Best of each family (chosen on validation rows)")
        for g, b in a.best.items():
            out.append(f"  {g:9s} {b.config:32s} {a.metric} {b.mean:.3f} (validation {b.val_score:.3f}); {params_text(b)}")
    if len(a.configs):
        out.append(f"Every configuration at {a.n_train:,} rows (mean over seeds)")
        out.append(f"  {'configuration':34s} {'group':9s} {a.metric:>8s} {'fit':>8s} {'search':>8s} "
                   f"{'pred/1k':>8s} {'peak MB':>8s} {'size':>8s} {'score/s':>8s}")
        for r in a.configs.itertuples():
            out.append(f"  {r.config:34s} {r.group:9s} {r.score:8.3f} {_s(r.fit_s):>8s} {_s(r.search_s):>8s} "
                       f"{_s(r.predict_ms_per_1000 / 1000):>8s} {r.peak_memory_mb:8.0f} {_size(r.model_kb):>8s} "
                       f"{r.score_above_chance_per_train_s:8.3f}")
        out.append(f"  (score/s: {a.metric} above chance ({a.chance:.3f}) per second of training, search included)")
    if a.curves:
        out.append("Learning curves (best default configuration at each size)")
        for g, c in a.curves.items():
            pts = ", ".join(f"{n:,}: {v:.3f}" for n, v in zip(c.sizes, c.means, strict=True))
            out.append(f"  {g:9s} {pts}; error falls {_pct(c.per_doubling)} per doubling")
    if a.caveats:
        out.append("Caveats")
        out += [f"  - {c}" for c in a.caveats]
    return out


def json_text(a: Answer) -> str:
    return json.dumps(a.to_json(), indent=2, default=_plain)


def _plain(x):
    if isinstance(x, np.generic):
        return x.item()
    return str(x)
