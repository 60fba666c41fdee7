"""`bench advise`, step 2: which models the pilot runs, in what order, at what sizes, and what its scores say.

The pilot runs each applicable model once (one seed, one small training size, default settings)
through the ordinary runner; its times become costs (bench.advise.costs) and its validation
scores tell each family's strongest models (`strength`, `strongest`), which the plan keeps last
when it sheds models to fit the budget (bench.advise.plan).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from bench.advise.inspect import Profile, min_size
from bench.errors import RunError
from bench.models import MODELS

MIN_BUDGET_S = 30.0  # below this not even the pilot's first cell can start and end
PILOT_ROWS = 128
PILOT_MAX_ROWS = 2000
PILOT_SHARE = 0.3  # of the budget: no pilot cell starts after it
PILOT_LIMIT_SHARE = 0.08  # of the budget: a pilot cell's time limit (within PILOT_LIMIT_S)
PILOT_LIMIT_S = (10.0, 60.0)


def group_of(name: str) -> str:
    """`hybrid` for a model tagged so, else its family."""
    entry = MODELS[name]
    return "hybrid" if "hybrid" in entry.tags else entry.family



def candidates(profile: Profile, only: Iterable[str] = ()) -> list[str]:
    """Every registered model that takes this task and modality (test doubles aside), or those named."""
    only = [m for m in only if m]
    for name in only:
        if name not in MODELS:
            raise RunError(f"--models: unknown model {name!r}; valid: {', '.join(MODELS.names())}")
        reason = MODELS[name].incompatibility(profile.task, profile.modality)
        if reason:
            raise RunError(f"--models: {reason}")
    names = only or [n for n, e in MODELS.items()
                     if "testing" not in e.tags and not e.incompatibility(profile.task, profile.modality)]
    groups = {group_of(n) for n in names}
    for family in ("classical", "deep"):
        if family not in groups:
            raise RunError(f"--models names no {family} model; the advice compares the two families: "
                           "name at least one of each")
    return sorted(names, key=lambda n: (("classical", "deep", "hybrid").index(group_of(n)), n))


def pilot_scores(table: pd.DataFrame) -> dict[str, dict[int, float]]:
    """Per model, its pilot validation score at each pilot size (the better of its feature sets).

    Where the cell also cross-validated (a validation part under 100 rows, as at the pilot's small
    size: 26 rows at 128, one row four points of accuracy) its cross-validated score, which those
    rows cannot flip; else the holdout score."""
    out: dict[str, dict[int, float]] = {}
    if table.empty or "val_score" not in table:
        return out
    score = table["val_score"].astype("float64")
    if "val_score_cv" in table:
        score = table["val_score_cv"].astype("float64").fillna(score)
    table = table.assign(_score=score)
    ok = table[(table["status"] == "ok") & table["_score"].notna()]
    for (model, n), g in ok.groupby(["model", "n_train"]):
        out.setdefault(str(model), {})[int(n)] = float(g["_score"].max())
    return out


def strength(models: Iterable[str], scores: dict[str, dict[int, float]]) -> dict[str, float]:
    """Each model's pilot validation score, read at one size per group so that they compare.

    The size is the largest at which at least half of the group's scored models ran (the
    pilot's larger size runs only the models expected to finish in time). A model without a
    score there gets its score at its own largest size plus the group's mean change between
    the two sizes, from the models that ran at both; NaN without any score.
    """
    out: dict[str, float] = {}
    by_group: dict[str, list[str]] = {}
    for m in models:
        by_group.setdefault(group_of(m), []).append(m)
    for ms in by_group.values():
        scored = [m for m in ms if scores.get(m)]
        sizes = sorted({n for m in scored for n in scores[m]})
        n = max((k for k in sizes if 2 * sum(k in scores[m] for m in scored) >= len(scored)), default=None)
        for m in ms:
            own = scores.get(m, {})
            if n is None or not own:
                out[m] = math.nan
            elif n in own:
                out[m] = own[n]
            else:
                k = max(own)
                both = [scores[o][n] - scores[o][k] for o in scored if n in scores[o] and k in scores[o]]
                out[m] = min(1.0, own[k] + (float(np.mean(both)) if both else 0.0))  # no score exceeds 1
    return out


def strongest(models: Iterable[str], scores: dict[str, dict[int, float]], k: int = 2) -> set[str]:
    """Each group's `k` best pilot performers (by `strength`)."""
    s = strength(models, scores)
    out: set[str] = set()
    by_group: dict[str, list[str]] = {}
    for m, v in s.items():
        if math.isfinite(v):
            by_group.setdefault(group_of(m), []).append(m)
    for ms in by_group.values():
        out.update(sorted(ms, key=lambda m: -s[m])[:k])
    return out


# The pilot reads first the kinds of model most often strongest on such data, so that a pilot cut
# short by its share of the budget still knows them (issue 28: random forest, SVM and XGBoost,
# the strongest classical models on Fashion-MNIST, were the ones a tight pilot never reached).
# On tables gradient boosting leads. On images, sequences and text it comes after the kernel,
# forest and neighbour models, which are about as strong there and far cheaper: boosting grows
# one tree per class per round over every pixel or step (8,000 Fashion-MNIST images, load 11:
# its 128-row pilot cell took 11 to 35 s against 0.4 to 6 s for k-NN, SVM and random forest,
# and a 6-minute pilot spent on it never reached them; at 750 rows it ran past its 157 s limit).
PILOT_FIRST_TAGS = {
    "tabular": ("boosting", "ensemble", "kernel", "convolutional", "attention", "fully_connected"),
    "other": ("kernel", "ensemble", "neighbours", "boosting", "convolutional", "attention", "fully_connected"),
}


def pilot_order(models: Iterable[str], modality: str = "tabular") -> list[str]:
    """`models` in the pilot's order: classical and deep taking turns, each's likely strongest
    (PILOT_FIRST_TAGS for the modality) first, the rest by name; hybrids last (the answer can do
    without them). Off tables a boosting model takes boosting's place, not its ensemble tag's."""
    order = PILOT_FIRST_TAGS["tabular" if modality == "tabular" else "other"]

    def prior(m: str) -> tuple:
        tags = MODELS[m].tags
        if modality != "tabular" and "boosting" in tags:
            return (order.index("boosting"), m)
        return (min((i for i, t in enumerate(order) if t in tags), default=len(order)), m)

    by_group: dict[str, list[str]] = {}
    for m in models:
        by_group.setdefault(group_of(m), []).append(m)
    queues = [sorted(by_group[g], key=prior) for g in ("classical", "deep") if g in by_group]
    out = []
    for i in range(max((len(q) for q in queues), default=0)):
        out += [q[i] for q in queues if i < len(q)]
    return out + sorted(by_group.get("hybrid", []), key=prior)


def pilot_rows(profile: Profile) -> tuple[int, ...]:
    """The pilot's two training sizes: a small one, and one several times larger (or the whole part).

    Two sizes tell a fit's fixed cost (building 200 trees takes time even on few rows) from
    the part that grows with the rows; one size (tiny data) leaves the growth to the tags.
    """
    top = profile.n_pool
    n0 = min(top, max(min_size(profile), min(PILOT_ROWS, top // 8)))
    n1 = min(top, max(4 * n0, min(top // 16, PILOT_MAX_ROWS)))
    return (n0, n1) if n1 >= 2 * n0 else (n0,)


def features_for(profile: Profile, engineered: bool = True) -> tuple[str, ...]:
    """Classical models on images and sequences also get engineered features; deep models learn their own."""
    return ("raw", "engineered") if engineered and profile.modality in ("image", "sequence", "text") else ("raw",)
