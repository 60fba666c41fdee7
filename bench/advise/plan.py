"""`bench advise`, step 3: from the pilot's costs and scores, a suite that fits the budget.

The pilot (bench.advise.pilot) runs every applicable model once at small sizes; its times
become costs (bench.advise.costs). The plan takes the most thorough protocol that fits the time
left (more seeds, more learning-curve sizes, more search trials first; PROTOCOLS). A model is left out when one of
its cells at the full size would take a large share of the time by itself, or, before the
protocol thins below three seeds and three sizes, to make room for the rest: chosen by the
pilot's validation scores as well as its costs (the most seconds per point of score above
chance first; each family's KEEP_STRONGEST best pilot performers only once the protocol can
thin no further); never the last of its family, nor one its family's answer needs on this
kind of data (ESSENTIAL: a CNN for images and sequences, gradient boosting and an MLP for
tables). A left-out model that was among its family's strongest is named in the answer's
headline (`strong_left_out`). When not even two seeds at two sizes fit, the plan is the
smallest honest comparison: a smaller top size, then one seed, each said in its lines. The
first pilot cells (the models the answer needs) judge the budget before the rest of the
pilot spends it (`judge_budget`). Every model
gets the same search budget: `trials` configurations or `time_s` seconds, whichever ends
first, on validation rows, at the largest size. Cells run in the order that matters most
for the answer (the full size first, seed by seed), and no cell starts after the deadline
(bench.execution.deadline).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bench.advise.costs import Cost, exponent
from bench.advise.inspect import Profile, chance_score, min_size, size_ladder
from bench.advise.pilot import features_for, group_of, strength, strongest
from bench.advise.suite_text import Protocol
from bench.errors import RunError
from bench.models import MODELS, ModelContext
from bench.suite import Cell

# (seeds, learning-curve sizes, search trials, engineered features for images and sequences):
# the most thorough first; the plan takes the first that fits.
PROTOCOLS = (
    (5, 5, 20, True), (3, 5, 20, True), (3, 5, 10, True), (3, 4, 10, True), (3, 4, 5, True),
    (3, 3, 5, True), (3, 5, 0, True), (3, 4, 0, True), (3, 3, 0, True), (3, 3, 0, False),
    (2, 3, 0, False), (2, 2, 0, False),
)
SAFETY = 0.9  # plan to use this share of the time left
SLOW_SHARE = 0.25  # a model whose one cell at the full size takes more of the time left is dropped


@dataclass(frozen=True)
class Planned:
    """One cell of the plan with its estimated time."""

    model: str
    features: str
    n_train: int
    seed: int
    tuned: bool
    estimate_s: float


@dataclass
class Plan:
    protocol: Protocol
    cells: list[Planned]
    estimate_s: float  # wall time of the cells, with `jobs` at once
    available_s: float
    dropped: dict[str, str] = field(default_factory=dict)  # model -> why
    reductions: list[str] = field(default_factory=list)  # what the budget cost the protocol
    strong_left_out: dict[str, str] = field(default_factory=dict)  # a left-out model among its family's strongest -> its pilot reading
    n_pool: int = 0  # the user's training rows; the plan's top size is smaller when the budget allows no more

    @property
    def top(self) -> int:
        return max(self.protocol.sizes)

    def estimator(self) -> Callable[[Cell], float]:
        """A cell's planned time (0 for a cell the plan does not know)."""
        known = {(c.model, c.features, c.n_train, c.seed, c.tuned): c.estimate_s for c in self.cells}
        return lambda cell: known.get(
            (cell.model.label, cell.features, cell.n_train, cell.seed, cell.tuning == "tuned"), 0.0)

    @property
    def by_model(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for c in self.cells:
            out[c.model] = out.get(c.model, 0.0) + c.estimate_s
        return out

    def lines(self, profile: Profile) -> list[str]:
        p = self.protocol
        groups: dict[str, list[str]] = {}
        for m in p.models:
            groups.setdefault(group_of(m), []).append(m)
        out = [f"models: {'; '.join(f'{g}: ' + ', '.join(ms) for g, ms in groups.items())}"]
        feats = " (classical models on raw and engineered features)" if "engineered" in p.features else ""
        out.append(f"learning curve: {len(p.sizes)} training sizes {', '.join(f'{n:,}' for n in p.sizes)}"
                   f"{feats}; {len(p.seeds)} seeds (each its own split and initialisation)")
        if p.trials:
            cap = f" or {p.time_s:.0f} s" if p.time_s is not None else ""
            out.append(f"search: at {p.sizes[-1]:,} rows every model also gets {p.trials} configurations{cap} "
                       "(whichever ends first), chosen on validation rows: the same budget for every family")
        else:
            out.append("search: none (default configurations only; the budget leaves no time for a search)")
        for model, why in self.dropped.items():
            out.append(f"left out {model}: {why}")
        for r in self.reductions:
            out.append(r)
        out.append(f"{len(self.cells)} cells, estimated {fmt_s(self.estimate_s)} of the {fmt_s(self.available_s)} left "
                   f"(each cell stopped after {fmt_s(p.time_limit_s)})")
        return out


def fmt_s(s: float) -> str:
    if not math.isfinite(s):
        return "?"
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{int(s // 60)}m{int(round(s % 60)):02d}s"
    return f"{s / 3600:.1f} h"


def _has_space(name: str, profile: Profile) -> bool:
    ctx = ModelContext(task=profile.task, modality=profile.modality, seed=0, threads=1, n_features=4, n_classes=2)
    return bool(MODELS[name].space(ctx))


def _cells(profile: Profile, costs: dict, models, sizes, seeds, features, trials, time_s) -> list[Planned]:
    out = []
    top = max(sizes)
    for n in sizes:
        for seed in seeds:
            for m in models:
                for feat in features:
                    c = _cost(costs, m, feat)
                    if MODELS[m].family == "deep" and feat != "raw" or c is None:
                        continue
                    out.append(Planned(m, feat, n, seed, False, c.default_s(n)))
                    if trials and n == top and _has_space(m, profile):
                        out.append(Planned(m, feat, n, seed, True, c.tuned_s(n, trials, time_s)))
    return out


def _cost(costs: dict, model: str, feat: str) -> Cost | None:
    """The pilot's reading of (model, features), or of the model on other features when that one is missing."""
    c = costs.get((model, feat))
    if c is not None and c.status == "ok":
        return c
    return next((o for (m, _), o in costs.items() if m == model and o.status == "ok"), None)


KEEP_STRONGEST = 2  # each family keeps its best pilot performers until only they are left to shed
MIN_TOP_SHARE = 8  # the smallest honest comparison answers at no fewer than 1/8 of the training rows
TWO_SEEDS = (2, 2, 0, False)  # the least with an interval over seeds, at smaller top sizes
ONE_SEED = (1, 2, 0, False)  # the least of all: no interval over seeds, said so


def smaller_tops(profile: Profile) -> list[int]:
    """Top sizes below the whole training part for the smallest honest comparison, largest first."""
    n = profile.n_pool
    low = max(2 * min_size(profile), n // MIN_TOP_SHARE)
    return [t for t in (n // 2, n // 4, n // MIN_TOP_SHARE) if t >= low and t < n]


def make_plan(
    profile: Profile, costs: dict[tuple[str, str], Cost], available_s: float, *, name: str,
    threads: int, jobs: int = 1, overhead_s: float = 0.0, scores: dict[str, dict[int, float]] | None = None,
) -> Plan:
    """The most thorough protocol whose estimated wall time fits `available_s`; RunError when none does.

    `overhead_s` is the runner's fixed cost, paid once (costs_from_pilot). `scores` are the
    pilot's validation scores (pilot_scores): with them, what is shed to fit is chosen by
    score as well as cost (each family's KEEP_STRONGEST best go last, and among the others
    the most seconds per point of score above chance go first); without them, by cost alone.
    When not even two seeds at two sizes of the whole training part fit, the plan answers at
    a smaller top size (down to 1/MIN_TOP_SHARE of it), then on one seed, and says so (`reductions`).
    """
    scores = scores or {}
    usable = [c for c in costs.values() if c.status == "ok"]
    models = sorted({c.model for c in usable}, key=lambda m: (("classical", "deep", "hybrid").index(group_of(m)), m))
    dropped = {m: f"its pilot cell ended in {c.status}: {c.info}"
               for (m, _), c in costs.items() if c.status != "ok" and m not in models}
    all_models = sorted({m for m, _ in costs})
    keep = strongest(all_models, scores, KEEP_STRONGEST)
    n_top = profile.n_pool
    budget = available_s * SAFETY
    ran = list(models)

    def at(top: int) -> tuple[list[str], dict[str, str]]:
        """The models whose one cell at `top` rows takes at most SLOW_SHARE of the time, and why the others not."""
        kept, why = list(ran), dict(dropped)
        for m in list(kept):
            one = max(c.default_s(top) for c in usable if c.model == m)
            if one > SLOW_SHARE * budget and _droppable(kept, m, profile):
                kept.remove(m)
                why[m] = (f"one cell at {top:,} rows would take about {fmt_s(one)}, more than a quarter "
                          f"of the {fmt_s(available_s)} left")
        return kept, why

    models, _ = at(n_top)
    least, least_dropped = at(min(smaller_tops(profile) or [n_top]))
    for family in ("classical", "deep"):
        if not any(group_of(m) == family for m in least):
            why = "; ".join(f"{m}: {d}" for m, d in least_dropped.items() if group_of(m) == family) or "none ran"
            slow = any(w in why for w in ("timeout", "did not start", "would take"))
            raise RunError(f"no {family} model can run" + (" within the budget" if slow else "") + f" ({why})"
                           + ("; give a larger --budget" if slow else ""))
    # Down to three seeds, three sizes and no search, models the question can spare go first
    # (weak and costly before strong), if that reaches it; below it the protocol thins with
    # every model kept; models go again only when even the thinnest protocol does not fit;
    # then the comparison shrinks to a smaller top size, then to one seed, and says so.
    floor = PROTOCOLS.index((3, 3, 0, False))
    upper, lower = list(enumerate(PROTOCOLS))[: floor + 1], list(enumerate(PROTOCOLS))[floor + 1:]

    def fit(kept: list[str] | None, levels, top: int = n_top) -> Plan | None:
        kept = at(top)[0] if kept is None else kept
        for _, level in levels:
            n_seeds, n_sizes, trials, engineered = level
            sizes = tuple(size_ladder(profile, n_sizes, top))
            seeds, feats = tuple(range(n_seeds)), features_for(profile, engineered)
            time_s = _search_time(profile, costs, kept, feats, seeds, trials, budget) if trials else None
            cells = _cells(profile, costs, kept, sizes, seeds, feats, trials, time_s)
            total = overhead_s + sum(c.estimate_s for c in cells) / max(1, jobs)
            if total <= budget:
                protocol = Protocol(
                    name=name, models=tuple(kept), sizes=sizes, seeds=seeds, features=feats, threads=threads,
                    time_limit_s=_limit(cells, time_s, available_s), trials=trials, time_s=time_s,
                )
                return Plan(protocol, cells, total, available_s, at(top)[1], _reductions(level, top, n_top),
                            n_pool=n_top)
            if top == n_top and n_seeds >= 2:  # the refusal names the least comparison at the full size
                fit.last = (len(cells), len(seeds), len(sizes), total)
        return None

    def shed(levels, top: int = n_top, protect: bool = True) -> Plan | None:
        start = at(top)[0]
        kept = list(start)
        while (victim := _victim(kept, costs, profile, scores, keep, top, protect)) is not None:
            kept.remove(victim)
            plan = fit(kept, levels, top)
            if plan is not None:
                for m in start:
                    if m not in kept:
                        plan.dropped[m] = _shed_reason(m, all_models, scores, keep)
                return plan
        return None

    attempts = [lambda: fit(None, upper), lambda: shed(upper), lambda: fit(None, lower), lambda: shed(lower),
                lambda: shed(lower, protect=False)]
    for level in (TWO_SEEDS, ONE_SEED):
        for top in ([] if level == TWO_SEEDS else [n_top]) + smaller_tops(profile):
            attempts += [lambda lv=level, t=top: fit(None, [(None, lv)], t),
                         lambda lv=level, t=top: shed([(None, lv)], t),
                         lambda lv=level, t=top: shed([(None, lv)], t, protect=False)]
    for attempt in attempts:
        plan = attempt()
        if plan is not None:
            plan.strong_left_out = _strong_left_out(plan, all_models, scores, keep)
            return plan
    n_cells, n_seeds, n_sizes, total = fit.last
    needed = ", ".join(m for m in models if essential(m, profile))
    raise RunError(
        f"a budget of {fmt_s(available_s)} left after the pilot is too small for even the smallest "
        f"comparison ({n_cells} cells: {n_seeds} seeds x {n_sizes} sizes of "
        + (f"the models this data needs ({needed})" if needed else "the cheapest models")
        + f", about {fmt_s(total / SAFETY)}; one seed at {min(smaller_tops(profile) or [n_top]):,} rows does not fit "
        "either); give a larger --budget"
    )


def _per_point(m: str, costs: dict, profile: Profile, strengths: dict[str, float], top: int) -> float:
    """Seconds of the model's cells at `top` rows per point of pilot score above chance: weak and costly is high."""
    cost = sum(c.default_s(top) for (mm, _), c in costs.items() if mm == m and c.status == "ok")
    v = strengths.get(m, math.nan)
    gain = v - chance_score(profile) if math.isfinite(v) else 0.0
    return cost / max(gain, 0.01)


def _victim(kept: list[str], costs: dict, profile: Profile, scores: dict, keep: set[str], top: int,
            protect: bool = True) -> str | None:
    """The next model to shed: never essential nor its group's last; weak and costly first; each
    group's strongest (`keep`) last, and not at all while `protect`. Without pilot scores, the costliest."""
    options = [m for m in kept if _droppable(kept, m, profile)]
    if not options:
        return None
    if not scores:
        return max(options, key=lambda m: sum(c.default_s(top) for (mm, _), c in costs.items() if mm == m))
    strengths = strength(kept, scores)
    weak = [m for m in options if m not in keep]
    if not weak and protect:
        return None  # each group's strongest stay while the protocol can still thin
    return max(weak or options, key=lambda m: _per_point(m, costs, profile, strengths, top))


def _shed_reason(m: str, models: list[str], scores: dict, keep: set[str]) -> str:
    if not scores:
        return "among the most expensive, and the question can spare it: left out so the others fit"
    s = strength(models, scores)
    group = group_of(m)
    mates = [o for o in models if group_of(o) == group and math.isfinite(s.get(o, math.nan))]
    best = max(mates, key=lambda o: s[o], default=None)
    v = s.get(m, math.nan)
    if m in keep:
        return (f"among the {group} family's {KEEP_STRONGEST} strongest in the pilot (validation {v:.3f}), "
                "but the budget could not fit it beside the models its family's answer needs")
    reading = f"validation {v:.3f} in the pilot" if math.isfinite(v) else "no pilot score"
    top = f", {best} {s[best]:.3f}" if best is not None and best != m else ""
    return f"weaker for its cost ({reading}{top}): left out so the stronger fit"


def _strong_left_out(plan: Plan, models: list[str], scores: dict, keep: set[str]) -> dict[str, str]:
    """Left-out models among their family's strongest in the pilot, or stronger than a model that ran;
    and those the pilot could not start (their strength unknown)."""
    if not scores:
        return {}
    s = strength(models, scores)
    kept = set(plan.protocol.models)
    out = {}
    for m in plan.dropped:
        v = s.get(m, math.nan)
        if "did not start" in plan.dropped[m] and group_of(m) != "hybrid":
            out[m] = "not piloted within the budget"
        if not math.isfinite(v):
            continue
        floor = min((s[o] for o in kept if group_of(o) == group_of(m) and math.isfinite(s.get(o, math.nan))),
                    default=math.inf)
        if m in keep or v > floor:
            out[m] = f"validation {v:.3f} in the pilot"
    return out


def judge_budget(profile: Profile, costs: dict, left_s: float, *, jobs: int = 1,
                 overhead_s: float = 0.0) -> tuple[str, float]:
    """After the pilot's first cells (the models the answer cannot do without): ("", the least the
    smallest honest comparison needs) when it may still fit `left_s`, else (why not in one line, that
    least), before the rest of the pilot.

    The estimate is a lower bound (those models only, one seed, two sizes up to the smallest top,
    growing no faster than their tags say), so a refusal here is certain, not a guess.
    """
    measured = [m for (m, f), c in costs.items() if c.status == "ok" and f == "raw"]
    if not measured:
        return "", 0.0
    top = min(smaller_tops(profile) or [profile.n_pool])
    sizes = size_ladder(profile, 2, top)
    cells = [(m, n, c.fixed_s + c.c0 + c.c1 * n ** min(c.exponent, exponent(m))) for m in measured
             if (c := _cost(costs, m, "raw")) is not None for n in sizes]
    need = overhead_s + sum(t for *_, t in cells) / max(1, jobs)
    if need <= left_s * SAFETY:
        return "", need
    first = ", ".join(f"{m} at {n:,} rows about {fmt_s(t)}" for m, n, t in cells)
    return (f"the budget cannot answer on this data: the pilot's first cells put even the smallest comparison "
            f"(one seed of {first}) at {fmt_s(need / SAFETY)}, more than the {fmt_s(left_s)} left"), need


# Per modality, the model tags each family's answer cannot do without: a family judged without
# them would be judged by its weaker members (an MLP speaking for deep learning on images).
ESSENTIAL = {
    "tabular": {"classical": {"boosting"}, "deep": {"fully_connected"}},
    "image": {"classical": set(), "deep": {"convolutional"}},
    "sequence": {"classical": set(), "deep": {"convolutional"}},
    "text": {"classical": set(), "deep": {"recurrent"}},
}


def essential(m: str, profile: Profile) -> bool:
    group = group_of(m)
    return group != "hybrid" and bool(MODELS[m].tags & ESSENTIAL[profile.modality].get(group, set()))


def _others(models: list[str], m: str) -> bool:
    """Whether `m`'s group keeps another model without it."""
    return any(group_of(o) == group_of(m) for o in models if o != m)


def _droppable(models: list[str], m: str, profile: Profile) -> bool:
    """A hybrid, or a model its group can spare: neither essential nor the group's last."""
    return group_of(m) == "hybrid" or (_others(models, m) and not essential(m, profile))


def _costliest(models: list[str], costs: dict, profile: Profile) -> str | None:
    options = [m for m in models if _droppable(models, m, profile)]
    if not options:
        return None
    top = profile.n_pool
    return max(options, key=lambda m: sum(c.default_s(top) for (mm, _), c in costs.items() if mm == m))


def _search_time(profile, costs, models, feats, seeds, trials, budget) -> float:
    """Seconds of search per tuned cell, the same for every model: what the slowest needs, within a share."""
    top = profile.n_pool
    tuned = [c for m in models for f in feats if (c := _cost(costs, m, f)) is not None and _has_space(m, profile)
             and not (MODELS[m].family == "deep" and f != "raw")]
    if not tuned:
        return None
    need = max(trials * c.trial_s(top) for c in tuned)
    share = 0.5 * budget / (len(tuned) * len(seeds))
    return max(1.0, min(need, share))


def _limit(cells: list[Planned], time_s: float | None, available_s: float) -> float:
    """Each cell's time limit: three times the longest estimate, within reason, and above the search time."""
    longest = max((c.estimate_s for c in cells), default=10.0)
    limit = min(max(30.0, 3 * longest), max(30.0, 0.6 * available_s))
    if time_s is not None:
        limit = max(limit, 2 * time_s + 10)
    return float(math.ceil(limit))


def _reductions(chosen: tuple, top: int, n_pool: int) -> list[str]:
    best = PROTOCOLS[2]
    parts = []
    if top < n_pool:
        parts.append(f"an answer at {top:,} of your {n_pool:,} training rows, not at your data size")
    if chosen[0] == 1:
        parts.append("1 seed (no interval over seeds: a rough answer)")
    elif chosen[0] < best[0]:
        parts.append(f"{chosen[0]} seeds instead of {best[0]}")
    if chosen[1] < best[1]:
        parts.append(f"{chosen[1]} sizes instead of {best[1]}")
    if chosen[2] < best[2]:
        parts.append("no search" if chosen[2] == 0 else f"{chosen[2]} search trials instead of {best[2]}")
    if not chosen[3]:
        parts.append("raw features only")
    if top < n_pool or chosen[0] == 1:
        return [f"the smallest honest comparison the budget allows: {', '.join(parts)} (a larger --budget gives more)"]
    return [f"to fit the budget: {', '.join(parts)} (a larger --budget gives more)"] if parts else []


def with_protocol(plan: Plan, **changes) -> Plan:
    return replace(plan, protocol=replace(plan.protocol, **changes))
