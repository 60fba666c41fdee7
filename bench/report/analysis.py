"""The computations every claim, figure and table of the report shares.

A results table (`bench.results.frame` schema) goes in; plain frames and numbers come out.
The claims module (`bench.report.claims`) turns these into verdicts by its written rules;
the figures and the rendering import this module, never the rules.

- `ok_rows`: finished cells with a finite score, each labelled with its configuration;
- `has_tag`: rows select models and datasets by tag (`bench.registry.MODEL_TAGS`,
  `DATASET_TAGS`), never by name, so a user's model with the right tag takes part;
- `best`: the one place that picks a family's (or any subset's) best configuration;
- `paired`, `win_records`, `size_to_reach`, `gaps`, `compute_ratios`,
  `regularisation_pairs`: the measurements the rules read;
- `two_thirds`, `two_part`: how outcomes of several datasets combine (written once);
- `fmt_*`: formatters, the only functions here that return text.
"""

from __future__ import annotations

import json
import math
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.report.stats import Interval, bootstrap_ci, decide

MARGIN = 0.01  # a difference in score (accuracy or R²) counts only beyond this

OUTCOMES = ("supports", "refutes", "mixed", "inconclusive")


# ---------------------------------------------------------------- rows


def ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Finished cells with a finite score, with tags filled in and a `config` label."""
    if df.empty:
        return df
    out = df[(df["status"] == "ok") & np.isfinite(df["score"].astype("float64"))].copy()
    out = fill_from_registry(out)
    out["config"] = config_label(out)
    return out


def config_label(df: pd.DataFrame) -> pd.Series:
    """`model` for raw features, `model [features]` otherwise; ` (tuned)` after a tuned one."""
    if df.empty:
        return pd.Series([], dtype="string", index=df.index)
    model = df["model"].astype(str)
    feats = df["features"].astype(str)
    label = model.where(feats == "raw", model + " [" + feats + "]")
    if "tuning" in df.columns:
        label = label.where(df["tuning"].fillna("default").astype(str) != "tuned", label + " (tuned)")
    return label


def selection_basis(ok: pd.DataFrame) -> str:
    """`validation` when every finished cell has a validation score, `test` when none has, else `partly`."""
    if ok.empty or "val_score" not in ok.columns:
        return "test"
    have = np.isfinite(ok["val_score"].astype("float64"))
    return "validation" if have.all() else "test" if not have.any() else "partly"


def device_kind(df: pd.DataFrame) -> pd.Series:
    """`GPU` for cells on a CUDA (or other accelerator) device, `CPU` otherwise (and for old rows)."""
    if "device" not in df.columns:
        return pd.Series("CPU", index=df.index)
    dev = df["device"].fillna("cpu").astype(str).str.lower()
    return pd.Series(np.where(dev.str.startswith("cpu") | (dev == ""), "CPU", "GPU"), index=df.index)


def comparable_hardware(df: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Rows whose costs compare on one kind of hardware, and whether deep ran on a GPU only.

    Classical models run on the CPU. Deep cells that ran on a GPU are left out when the
    deep models also have CPU cells; when they have none, every row is kept and the
    second value is True (the ratios then compare different hardware, and must say so).
    """
    kind = device_kind(df)
    on_cpu = df[(df["family"] == "classical") | (kind == "CPU")]
    gpu_only = bool((df["family"] == "deep").any() and not (on_cpu["family"] == "deep").any())
    return (df if gpu_only else on_cpu), gpu_only


def hardware(df: pd.DataFrame) -> dict[str, str]:
    """Per family, the devices its cells ran on (`cpu`, `cuda:0`, ...), as text."""
    out = {}
    for fam, g in df.groupby("family", sort=True):
        devs = sorted(g["device"].fillna("cpu").astype(str).unique()) if "device" in g.columns else ["cpu"]
        out[str(fam)] = ", ".join(devs)
    return out


def _missing(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series(True, index=df.index)
    return df[col].isna()


def fill_from_registry(df: pd.DataFrame) -> pd.DataFrame:
    """Tags and effective hyperparameters for rows written before rows carried them.

    Results tables from before `model_tags`, `dataset_tags` and `hyperparams` existed
    (or rows whose cells lack them) get them from the model and dataset registries by
    `model_name` / `dataset_name` (plugins included, from BENCH_PLUGINS): the tags as
    registered, and the hyperparameters of the estimator the model's factory builds
    with the row's `params` (unfitted). Names the registries do not know stay empty.
    Rows that carry these columns are left as they are; the registry is imported only
    when something is missing.
    """
    need_m, need_d = _missing(df, "model_tags"), _missing(df, "dataset_tags")
    need_h = _missing(df, "hyperparams")
    if df.empty or not (need_m.any() or need_d.any() or need_h.any()):
        return df
    from bench.plugins import load_plugins

    load_plugins()
    from bench.datasets import DATASETS
    from bench.models import MODELS
    from bench.registry import tags_text

    out = df.copy()
    for col in ("model_tags", "dataset_tags", "hyperparams"):
        if col not in out.columns:
            out[col] = pd.Series(pd.NA, index=out.index, dtype="string")
    if need_m.any():
        names = out.loc[need_m, "model_name"].astype(str)
        out.loc[need_m, "model_tags"] = [tags_text(MODELS[n].tags) if n in MODELS else "" for n in names]
    if need_d.any():
        names = out.loc[need_d, "dataset_name"].astype(str)
        out.loc[need_d, "dataset_tags"] = [tags_text(DATASETS[n].tags) if n in DATASETS else "" for n in names]
    if need_h.any():
        cache: dict[tuple, str | None] = {}
        values = []
        for r in out.loc[need_h].itertuples():
            key = (str(r.model_name), str(r.params), str(r.task), str(r.modality), _int(r, "n_features"), _int(r, "n_classes"))
            if key not in cache:
                cache[key] = _registry_hyperparams(MODELS, *key)
            values.append(cache[key])
        out.loc[need_h, "hyperparams"] = values
    return out


def _int(row, name: str) -> int:
    v = getattr(row, name, None)
    return int(v) if v is not None and not pd.isna(v) else 1


def _registry_hyperparams(models, name, params, task, modality, n_features, n_classes) -> str | None:
    if name not in models:
        return None
    from bench.measure import effective_params
    from bench.models import ModelContext, build

    ctx = ModelContext(task=task, modality=modality, seed=0, threads=1, n_features=n_features, n_classes=n_classes)
    try:
        estimator = build(name, ctx, parse_json(params))
    except Exception:  # a factory that needs more than the row says: hyperparameters unknown
        return None
    return json.dumps(effective_params(estimator), sort_keys=True)


def has_tag(df: pd.DataFrame, tag: str, column: str = "model_tags") -> pd.Series:
    """Rows whose `column` (comma-separated tags) holds `tag`."""
    if df.empty or column not in df.columns:
        return pd.Series(False, index=df.index)
    return df[column].fillna("").astype(str).str.split(",").apply(lambda tags: tag in tags)


def parse_json(text) -> dict:
    """A JSON object from a row's text column; {} for missing or malformed text."""
    try:
        value = json.loads(text) if isinstance(text, str) and text else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def families(df: pd.DataFrame) -> set[str]:
    return set(df["family"].astype(str)) if not df.empty else set()


def missing_families(df: pd.DataFrame, *fams: str) -> list[str]:
    have = families(df)
    return [f for f in fams if f not in have]


def datasets(df: pd.DataFrame) -> list[str]:
    return sorted(df["dataset"].astype(str).unique()) if not df.empty else []


def compared_sizes(df: pd.DataFrame, dataset: str) -> list[int]:
    """Training sizes of a dataset at which both families have finished cells."""
    sub = df[df["dataset"] == dataset]
    return sorted(
        int(n) for n, g in sub.groupby("n_train") if {"classical", "deep"} <= set(g["family"].astype(str))
    )


def largest_size(df: pd.DataFrame, dataset: str, where) -> int | None:
    """The largest training size of `dataset` at which `where(rows at that size)` holds."""
    sub = df[df["dataset"] == dataset]
    sizes = [int(n) for n, g in sub.groupby("n_train") if where(g)]
    return max(sizes) if sizes else None


# ---------------------------------------------------------------- best configuration


@dataclass(frozen=True)
class Best:
    """The best configuration of a set of cells at one (dataset, size)."""

    label: str
    scores: pd.Series  # test score per seed
    n_params: float  # median learned parameters over seeds (nan when unknown)
    chosen_on: str  # "validation" or "test" (old rows without a validation score)


def best(df: pd.DataFrame, *, family: str | None = None, features: str | None = None) -> Best | None:
    """The configuration of `df` (one dataset, one size) chosen on validation, with its test scores.

    The choice is the highest mean `val_score` over seeds among the configurations that ran on
    every seed of `df` (the score on a validation part
    of the training rows); where any candidate lacks one (tables from before validation
    scores), the highest mean test score, and `chosen_on` says so. `family` and `features`
    narrow the candidates first; ties go to the first label in sorted order. None when no
    cell is left.
    """
    sub = df
    if family is not None:
        sub = sub[sub["family"] == family]
    if features is not None:
        sub = sub[sub["features"] == features]
    if sub.empty:
        return None
    on_val = "val_score" in sub.columns and bool(np.isfinite(sub["val_score"].astype("float64")).all())
    # Candidates are the configurations that ran on every seed of the group (a suite may tune
    # on fewer seeds than it runs defaults): a mean over one seed against means over three
    # would favour luck, and a verdict on one seed has no interval. Where none ran on every
    # seed, all compete on the seeds they share.
    full = full_coverage(sub)
    sub = sub[sub["config"].isin(full)] if full else _on_shared_seeds(sub)
    means = sub.groupby("config")["val_score" if on_val else "score"].mean().sort_index()
    label = str(means.idxmax())
    rows = sub[sub["config"] == label]
    n_params = float(rows["n_params"].median()) if rows["n_params"].notna().any() else float("nan")
    return Best(label, rows.groupby("seed")["score"].mean(), n_params, "validation" if on_val else "test")


def full_coverage(df: pd.DataFrame) -> list[str]:
    """The configurations of `df` that ran on every seed any of them ran."""
    seeds = set(df["seed"].tolist())
    per = df.groupby("config")["seed"].agg(lambda s: set(s.tolist()))
    return sorted(str(c) for c, got in per.items() if got == seeds)


def _on_shared_seeds(df: pd.DataFrame) -> pd.DataFrame:
    per = df.groupby("config")["seed"].agg(lambda s: set(s.tolist()))
    common = set.intersection(*per) if len(per) else set()
    return df[df["seed"].isin(common)] if common else df


def partial_configs(ok: pd.DataFrame) -> list[str]:
    """Configurations left out of some choice because they ran on fewer seeds than the others there."""
    out: set[str] = set()
    for _, g in ok.groupby(["dataset", "n_train"], sort=False):
        full = full_coverage(g)
        if full:
            out |= set(g["config"].astype(str)) - set(full)
    return sorted(out)


def default_vs_tuned(ok: pd.DataFrame) -> pd.DataFrame:
    """Per model and feature variant, at each dataset's largest size: default and tuned test scores
    on the seeds both ran, their difference per seed, and the tuned cells' search CPU seconds."""
    if ok.empty or "tuning" not in ok or not (ok["tuning"] == "tuned").any():
        return pd.DataFrame()
    at = ok[ok.groupby("dataset")["n_train"].transform("max") == ok["n_train"]]
    rows = []
    for (dataset, model, features), g in at.groupby(["dataset", "model", "features"], sort=True):
        d = g[g["tuning"].fillna("default") != "tuned"].groupby("seed")["score"].mean()
        t = g[g["tuning"] == "tuned"]
        if d.empty or t.empty:
            continue
        diff = paired(t.groupby("seed")["score"].mean(), d)
        for seed, value in diff.items():
            rows.append({
                "dataset": dataset, "model": model, "features": features, "seed": seed,
                "default": float(d[seed]), "tuned": float(value + d[seed]), "diff": float(value),
                "search_cpu_s": float(t.loc[t["seed"] == seed, "search_cpu_s"].fillna(0).mean())
                if "search_cpu_s" in t else float("nan"),
            })
    return pd.DataFrame(rows)


def cores_of(env: dict | None) -> int | None:
    """The run machine's logical cores, from its environment.json; None when unknown.

    The one source for judging load: the report may be built on another machine than the run's.
    """
    cpu = (env or {}).get("cpu") or {}
    n = cpu.get("cores_logical") if isinstance(cpu, dict) else None
    try:
        return int(n) if n else None
    except (TypeError, ValueError):
        return None


def status_label(row, cores: int | None) -> str:
    """A failed cell's status, with a wall-time timeout on a busy machine told apart.

    A `timeout` under a wall-time limit while the load average exceeded the machine's cores
    says more about the machine than the model: it reads "timeout (load L on C cores)".
    A CPU-time limit (`limit` = "cpu") is not inflated by load, so its timeouts stay plain.
    """
    status = str(row["status"])
    if status != "timeout" or not cores:
        return status
    load = row.get("load_avg") if hasattr(row, "get") else None
    limit = row.get("limit") if hasattr(row, "get") else None
    if load is None or pd.isna(load) or str(limit) == "cpu" or float(load) <= cores:
        return status
    return f"timeout (load {float(load):.1f} on {cores} cores)"


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


# ---------------------------------------------------------------- deep against classical


WIN_COLUMNS = ["dataset", "modality", "n_train", "seed", "deep", "classical", "diff", "winner"]


def _per_frame(fn):
    """Remember `fn(df)` for the frames still alive: rules, figures and tables ask it of one frame many times.

    Callers must not modify the returned frame or a frame after passing it.
    """
    memo: dict[int, tuple[weakref.ref, pd.DataFrame]] = {}

    def wrapped(df: pd.DataFrame):
        hit = memo.get(id(df))
        if hit is not None and hit[0]() is df:
            return hit[1]
        out = fn(df)
        for key in [k for k, (ref, _) in memo.items() if ref() is None]:
            del memo[key]
        memo[id(df)] = (weakref.ref(df), out)
        return out

    wrapped.__doc__ = fn.__doc__
    wrapped.__name__ = fn.__name__
    return wrapped


@_per_frame
def win_records(df: pd.DataFrame) -> pd.DataFrame:
    """Best deep minus best classical, per (dataset, size, seed), with the winner."""
    rows = []
    df = ok_rows(df) if "config" not in df.columns else df
    for dataset in datasets(df):
        sub = df[df["dataset"] == dataset]
        modality = str(sub["modality"].iloc[0])
        for n in compared_sizes(df, dataset):
            at = sub[sub["n_train"] == n]
            d, c = best(at, family="deep"), best(at, family="classical")
            for seed, v in paired(d.scores, c.scores).items():
                winner = "deep" if v > MARGIN else "classical" if v < -MARGIN else "tie"
                rows.append({
                    "dataset": dataset, "modality": modality, "n_train": n, "seed": int(seed),
                    "deep": d.label, "classical": c.label, "diff": float(v), "winner": winner,
                })
    return pd.DataFrame(rows, columns=WIN_COLUMNS)


def win_rate(records: pd.DataFrame) -> float:
    """Share of comparisons deep wins, ties counting half."""
    if records.empty:
        return float("nan")
    w = (records["winner"] == "deep").sum() + 0.5 * (records["winner"] == "tie").sum()
    return float(w / len(records))


def size_to_reach(df: pd.DataFrame, fraction: float = 0.95) -> pd.DataFrame:
    """Per (dataset, family, config): smallest size whose mean score reaches `fraction` of its best."""
    cols = ["dataset", "family", "config", "n_reach"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    means = df.groupby(["dataset", "family", "config", "n_train"])["score"].mean().reset_index()
    out = []
    for (dataset, fam, cfg), g in means.groupby(["dataset", "family", "config"]):
        g = g.sort_values("n_train")
        if len(g) < 2:
            continue
        top = g["score"].max()
        if top <= 0:
            continue
        reach = int(g.loc[g["score"] >= fraction * top, "n_train"].min())
        out.append({"dataset": dataset, "family": fam, "config": cfg, "n_reach": reach})
    return pd.DataFrame(out, columns=cols)


def model_sizes(at: pd.DataFrame) -> pd.DataFrame:
    """Median size figures per (family, config) of the cells `at` (one dataset, one size)."""
    per = at.groupby(["family", "config"]).agg(
        n_params=("n_params", "median"), model_bytes=("model_bytes", "median"),
        size_proxy=("size_proxy", "median"), size_unit=("size_unit", "first"),
    ).reset_index()
    return per[np.isfinite(per["n_params"])]


# ---------------------------------------------------------------- overfitting


def gaps(df: pd.DataFrame) -> pd.DataFrame:
    """Mean train/test gap per (dataset, family, model, config, size)."""
    cols = ["dataset", "family", "model_name", "config", "n_train", "gap", "sd", "n"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    g = df.assign(gap=df["train_score"] - df["score"])
    g = g[np.isfinite(g["gap"])]
    return (
        g.groupby(["dataset", "family", "model_name", "config", "n_train"])["gap"]
        .agg(gap="mean", sd="std", n="count").reset_index()
    )


# Hyperparameters whose larger value regularises more (+1) or less (-1); nested names
# (`module__dropout`, `optimizer__weight_decay`) match on their last part.
REGULARISERS = {
    "dropout": +1, "weight_decay": +1, "alpha": +1, "l2": +1, "reg_lambda": +1, "reg_alpha": +1,
    "lambda": +1, "gamma": +1, "min_samples_leaf": +1, "min_samples_split": +1, "min_child_weight": +1,
    "ccp_alpha": +1, "n_neighbors": +1, "max_depth": -1, "max_leaf_nodes": -1, "C": -1,
}
UNKNOWN = object()  # a hyperparameter one configuration's rows do not record


def configuration_hyperparams(df: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, model_name, model, features): the hyperparameters it fixes.

    Read from the rows' `hyperparams` (the estimator's effective values), or from
    `params` (the suite's) where a row lacks them. Keys whose value differs between a
    configuration's own rows (a seed, a thread count) are not choices of the
    configuration and are dropped.
    """
    out = []
    for (dataset, name, label, feats), g in df.groupby(["dataset", "model_name", "model", "features"], sort=True):
        dicts = [
            parse_json(h) if isinstance(h, str) and h else parse_json(p)
            for h, p in zip(g["hyperparams"] if "hyperparams" in g else [None] * len(g), g["params"], strict=True)
        ]
        keys = set().union(*dicts) if dicts else set()
        fixed = {}
        for k in sorted(keys):
            values = {json.dumps(d.get(k, "\0missing"), sort_keys=True) for d in dicts}
            if len(values) == 1 and k in dicts[0]:
                fixed[k] = dicts[0][k]
        out.append({"dataset": dataset, "model_name": name, "model": label, "features": feats, "hp": fixed})
    return pd.DataFrame(out, columns=["dataset", "model_name", "model", "features", "hp"])


def _reg_value(params: dict, key: str):
    for k, v in params.items():
        if k.split("__")[-1] == key:
            return v
    return UNKNOWN


def _strength(value, direction: int) -> float:
    if value is None:  # unlimited depth or leaves: the least regularised
        return -math.inf if direction < 0 else math.inf
    return direction * float(value)


def regularisation_pairs(df: pd.DataFrame) -> list[tuple[str, str, str, str, str]]:
    """(dataset, model_name, more regularised label, less regularised label, regularisers).

    Two configurations of one model on one dataset and feature variant pair up when the
    hyperparameters they fix differ only in regularisers, every one pointing the same way
    (a key one of them does not record makes the pair unknown, so it is left out).
    """
    out = []
    if df.empty:
        return out
    confs = configuration_hyperparams(df)
    for (dataset, name, feats), g in confs.groupby(["dataset", "model_name", "features"], sort=True):
        rows = list(g.itertuples())
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                keys = {k.split("__")[-1] for k in set(a.hp) | set(b.hp)}
                differing = []
                for k in sorted(keys):
                    va, vb = _reg_value(a.hp, k), _reg_value(b.hp, k)
                    if va is UNKNOWN and vb is UNKNOWN:
                        continue
                    if va is UNKNOWN or vb is UNKNOWN or va != vb:
                        differing.append((k, va, vb))
                if not differing or any(
                    k not in REGULARISERS or UNKNOWN in (va, vb) or not _numeric_or_none(va, vb)
                    for k, va, vb in differing
                ):
                    continue
                signs = {
                    _strength(va, REGULARISERS[k]) > _strength(vb, REGULARISERS[k]) for k, va, vb in differing
                }
                if len(signs) != 1:  # one regularises more in one respect, less in another
                    continue
                more, less = (a, b) if signs.pop() else (b, a)
                keys_text = "+".join(k for k, _, _ in differing)
                out.append((dataset, name, _label(more.model, feats), _label(less.model, feats), keys_text))
    return out


def _numeric_or_none(*values) -> bool:
    return all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values)


def _label(model: str, features: str) -> str:
    return model if features == "raw" else f"{model} [{features}]"


# ---------------------------------------------------------------- compute

COST_FLOORS = {"fit_cpu_s": 1e-3, "fit_time_s": 1e-3, "peak_memory_mb": 1.0, "predict_latency_ms": 1e-3}


def gmean(values) -> float:
    """Geometric mean of the finite positive values (nan when none)."""
    v = np.asarray([x for x in values if math.isfinite(x) and x > 0], dtype="float64")
    return float(np.exp(np.log(v).mean())) if v.size else float("nan")


SEARCH_COSTS = {"fit_cpu_s": "search_cpu_s", "fit_time_s": "search_time_s"}


def with_search_costs(df: pd.DataFrame) -> pd.DataFrame:
    """Fit time and CPU with a tuned configuration's hyperparameter search added (its cost too)."""
    out = df
    for col, extra in SEARCH_COSTS.items():
        if extra in df.columns and df[extra].notna().any():
            out = out.assign(**{col: out[col] + out[extra].astype("float64").fillna(0.0)})
    return out


def compute_ratios(df: pd.DataFrame) -> pd.DataFrame:
    """Deep / classical ratio of each cost, per (dataset, seed), at the largest compared size.

    Fit time and CPU include the hyperparameter search of tuned configurations.
    """
    rows = []
    df = with_search_costs(df)
    for dataset in datasets(df):
        sizes = compared_sizes(df, dataset)
        if not sizes:
            continue
        at = df[(df["dataset"] == dataset) & (df["n_train"] == sizes[-1])]
        for seed, g in at.groupby("seed"):
            rec = {"dataset": dataset, "n_train": sizes[-1], "seed": int(seed)}
            for col, floor in COST_FLOORS.items():
                med = g.assign(v=g[col].clip(lower=floor)).groupby(["family", "config"])["v"].median()
                fam = med.groupby(level="family").median()
                rec[col] = float(fam.get("deep", np.nan) / fam.get("classical", np.nan))
            rows.append(rec)
    return pd.DataFrame(rows, columns=["dataset", "n_train", "seed", *COST_FLOORS])


# ---------------------------------------------------------------- formatters


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
