"""Deep against classical on equal terms: best against best, or the modality's named pairing.

A family's best is chosen on validation among its candidates (`choosing.best`). The best of
more candidates wins more often by selection alone, so two families are set best against best
only where both had **equal candidate counts and equal trial counts** (`equal_terms`: as many
configurations on each side, and as many configurations tried in all, a default configuration
counting one trial and a tuned one its search's trials). Elsewhere each modality compares the
pairing practitioners recognise (`PAIRINGS`), each side's best chosen on validation among the
models it names:

- tables: a tree ensemble (random forest, XGBoost, LightGBM, CatBoost: models tagged `tree`
  and `ensemble`) against an MLP or TabM (tagged `fully_connected`);
- images: a classical model on engineered features (HOG + SVM and the others on HOG) against
  a CNN (tagged `convolutional`); where the run has no engineered image features, the SVM on
  raw pixels (tagged `kernel`: the baseline LeCun et al. 1998 set against their CNN);
- sequences: a series-feature classifier (a classical model on engineered statistics or
  MiniRocket features) against a CNN or ResNet (tagged `convolutional`); where the run has no
  engineered series features, nearest neighbours on the raw series (tagged `neighbours`: the
  UCR archive's baseline);
- text: a classical model on engineered text features (a bag of words, or a model that builds
  its own, such as TF-IDF + logistic regression: tagged `ENGINEERED_TAG`) against a network
  over the words (tagged `attention`, `recurrent` or `convolutional`).

A dataset and size where neither holds (unequal candidates and a side of the pairing absent)
is not compared, and `family_sides` says why. Hybrids are a family of their own and take no
part. This replaced, in rules version 4, version 3's equal pools (the larger family's expected
best over random subsets the size of the smaller), which with one deep model made the
classical side the mean of its configurations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.report.analysis.choosing import candidates
from bench.report.analysis.rows import has_tag

# A classical model tagged so builds hand-designed features of its raw input itself (TF-IDF):
# on raw input it counts as engineered features, never as "classical on raw input".
ENGINEERED_TAG = "engineered_features"

Select = Callable[[pd.DataFrame], pd.Series]


def engineered(df: pd.DataFrame) -> pd.Series:
    """Rows on engineered features: a feature variant other than raw, or a model tagged ENGINEERED_TAG."""
    if df.empty:
        return pd.Series(False, index=df.index)
    return (df["features"].astype(str) != "raw") | has_tag(df, ENGINEERED_TAG)


def _family(df: pd.DataFrame, family: str) -> pd.Series:
    return df["family"].astype(str) == family


def _any_tag(df: pd.DataFrame, *tags: str) -> pd.Series:
    out = pd.Series(False, index=df.index)
    for t in tags:
        out |= has_tag(df, t)
    return out


@dataclass(frozen=True)
class Pairing:
    """One modality's named pairing: what each side is, in words, and which rows it takes."""

    classical: str
    deep: str
    classical_rows: Select
    deep_rows: Select
    fallback: str = ""  # the classical side where the run has none of `classical_rows`, in words
    fallback_rows: Select | None = None


PAIRINGS = {
    "tabular": Pairing(
        "tree ensemble (random forest, XGBoost, LightGBM, CatBoost)", "MLP or TabM",
        lambda df: _family(df, "classical") & has_tag(df, "tree") & has_tag(df, "ensemble"),
        lambda df: _family(df, "deep") & has_tag(df, "fully_connected"),
    ),
    "image": Pairing(
        "classical on engineered features (HOG + SVM and the others on HOG)", "CNN",
        lambda df: _family(df, "classical") & engineered(df),
        lambda df: _family(df, "deep") & has_tag(df, "convolutional"),
        "SVM on raw pixels", lambda df: _family(df, "classical") & has_tag(df, "kernel") & ~engineered(df),
    ),
    "sequence": Pairing(
        "series-feature classifier (classical on engineered statistics or MiniRocket)", "CNN or ResNet",
        lambda df: _family(df, "classical") & engineered(df),
        lambda df: _family(df, "deep") & has_tag(df, "convolutional"),
        "nearest neighbours on the raw series", lambda df: _family(df, "classical") & has_tag(df, "neighbours") & ~engineered(df),
    ),
    "text": Pairing(
        "classical on engineered text features (bag of words, TF-IDF)", "a network over the words",
        lambda df: _family(df, "classical") & engineered(df),
        lambda df: _family(df, "deep") & _any_tag(df, "attention", "recurrent", "convolutional"),
    ),
}


def pairing_text() -> str:
    """The pairings in words, for the rules' text."""
    return "; ".join(f"{m}: {p.classical} against {p.deep}" + (f" (without engineered features: {p.fallback})" if p.fallback else "")
                     for m, p in PAIRINGS.items())


def trial_counts(df: pd.DataFrame) -> tuple[int, int]:
    """(candidates, trials) of one side at one dataset and size: the configurations that compete
    (`choosing.candidates`), and the configurations tried in all (a default one counts 1, a tuned
    one the median over seeds of its search's trials)."""
    sub = candidates(df)
    if sub.empty:
        return 0, 0
    tried = pd.Series(1.0, index=sub.index)
    if "n_trials" in sub.columns and "tuning" in sub.columns:
        n = pd.to_numeric(sub["n_trials"], errors="coerce")
        tuned = sub["tuning"].fillna("default").astype(str) == "tuned"
        tried = tried.where(~tuned, n.where(np.isfinite(n) & (n > 0), 1.0))
    per = tried.groupby(sub["config"]).median()
    return int(len(per)), int(round(float(per.sum())))


def equal_terms(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Both sides have cells, as many candidates and as many trials in all."""
    ca, cb = trial_counts(a), trial_counts(b)
    return ca[0] > 0 and ca == cb


@dataclass(frozen=True)
class Sides:
    """The two sides of a deep-against-classical comparison at one dataset and size, and why these."""

    deep: pd.DataFrame
    classical: pd.DataFrame
    basis: str  # "best against best (...)" or "pairing: ..."
    paired: bool  # the modality's named pairing (not every candidate of both families)


def family_sides(at: pd.DataFrame, modality: str, classical: pd.Series | None = None) -> Sides | str:
    """Deep against classical at one (dataset, size), `at` its cells: every candidate of both
    families where they are on equal terms (`equal_terms`), else the modality's pairing
    (`PAIRINGS`); `classical` narrows the classical side first (e.g. engineered features only).
    A string says why there is no comparison."""
    cl_mask = _family(at, "classical") if classical is None else (_family(at, "classical") & classical)
    deep, cl = at[_family(at, "deep")], at[cl_mask]
    if deep.empty or cl.empty:
        return "no finished " + ("deep" if deep.empty else "classical") + " cells"
    nd, nc = trial_counts(deep), trial_counts(cl)
    if nd[0] > 0 and nd == nc:
        return Sides(deep, cl, f"best against best ({nd[0]} candidates and {nd[1]} trials each)", False)
    p = PAIRINGS.get(str(modality))
    if p is None:
        return f"unequal candidates ({nd[0]} deep, {nc[0]} classical) and no named pairing for {modality} data"
    pd_, pc, which = deep[p.deep_rows(deep)], cl[p.classical_rows(cl)], p.classical
    if pc.empty and p.fallback_rows is not None and not engineered(cl).any():
        pc, which = cl[p.fallback_rows(cl)], p.fallback
    if pd_.empty or pc.empty:
        missing = " and no ".join(what for what, side in ((which, pc), (p.deep, pd_)) if side.empty)
        return f"unequal candidates ({nd[0]} deep, {nc[0]} classical) and no {missing} for the {modality} pairing"
    return Sides(pd_, pc, f"pairing: {which} against {p.deep}", True)
