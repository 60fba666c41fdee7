"""Plan a suite's cells: every (dataset, features, size, seed, model, tuning) to run and the pairs
skipped with why; the devices a suite names checked against this machine."""

from __future__ import annotations

from dataclasses import replace

from bench.features import FEATURES
from bench.models import MODELS, ModelContext
from bench.suite.parsing import fail
from bench.suite.spec import Cell, DatasetSpec, ModelSpec, Skip, Suite
from bench.tuning import min_training_rows, sizes_to_tune, space_for, validation_rows


def _requested_devices(suite: Suite) -> list[tuple[str, str]]:
    """(where, device) for every device the suite names other than "auto" and "cpu": suite.device, a model's `device`."""
    named = [("suite.device", suite.device)]
    for m in suite.models:
        named += [(f"models.{m.label}.{k}", v) for k, v in m.params.items()
                  if (k == "device" or k.endswith("__device")) and isinstance(v, str)]
    return [(where, d) for where, d in named if d not in ("auto", "cpu")]


def check_devices(suite: Suite) -> None:
    """Refuse a suite naming a device this machine lacks ("cuda" with no GPU), naming the devices found.

    Imports torch only when a suite names a device other than "auto" or "cpu". A suite run on a
    Dask cluster is not checked here: its cells run on the workers' machines.
    """
    wanted = _requested_devices(suite)
    if not wanted:
        return
    import torch

    cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    found = ["cpu", *(f"cuda:{i} ({torch.cuda.get_device_name(i)})" for i in range(cuda)), *(["mps"] if has_mps else [])]
    for where, device in wanted:
        kind, _, index = device.partition(":")
        if kind == "cuda" and (index == "" or index.isdigit()):
            ok = cuda > (int(index) if index else 0)
        elif device == "mps":
            ok = has_mps
        else:
            raise fail(suite.path, where, f"unknown device {device!r}; valid: auto, cpu, cuda, cuda:N, mps")
        if not ok:
            raise fail(suite.path, where, f"device {device!r} is not on this machine; devices found: {', '.join(found)} "
                                           '(use "auto" or "cpu")')


def plan(suite: Suite, jobs: int = 1) -> tuple[list[Cell], list[Skip]]:
    """Every (dataset, features, size, seed, model, tuning) cell to run, and the pairs skipped with why."""
    cells: list[Cell] = []
    skips: list[Skip] = []
    for ds in suite.datasets:
        variants = []
        for feat in ds.features or suite.features:
            if ds.modality in FEATURES[feat].modalities:
                variants.append(feat)
            else:
                skips.append(Skip(ds.label, "*", feat, f"feature variant {feat!r} does not apply to {ds.modality} data"))
        usable = []
        for m in suite.models:
            reason = MODELS[m.name].incompatibility(ds.task, ds.modality)
            if reason is None and ds.models is not None and m.label not in ds.models:
                reason = f"{m.label} is not in the models list of {ds.label}"
            if reason:
                skips.append(Skip(ds.label, m.label, "*", reason))
            else:
                usable.append(m)
        modes = _modes(suite, ds, usable, skips)
        for feat in variants:
            for n_train in ds.train_sizes:
                for seed in ds.seeds_at(n_train, suite.seeds):
                    for m, tuning in ((u, t) for u in usable for t in modes[u.label]):
                        if m.family == "deep" and feat != "raw":
                            continue  # deep models learn their own features from raw input
                        if not ds.runs_at(n_train, m.label):
                            continue
                        if tuning == "tuned" and not _tuned_size(suite, ds, n_train, seed, m, feat, skips):
                            continue
                        cells.append(
                            Cell(
                                dataset=ds,
                                model=m,
                                seed=seed,
                                n_train=n_train,
                                features=feat,
                                threads=suite.threads,
                                time_limit_s=suite.time_limit_s,
                                memory_limit_mb=suite.memory_limit_mb,
                                device=suite.device,
                                plugins=suite.plugins,
                                jobs=jobs,
                                tuning=tuning,
                                validation=suite.validation,
                                budget=suite.tuning.budget,
                                limit=suite.limit,
                                wall_backstop=suite.wall_backstop,
                            )
                        )
    return cells, skips


def _modes(suite: Suite, ds: DatasetSpec, models: list[ModelSpec], skips: list[Skip]) -> dict[str, tuple[str, ...]]:
    """The tuning modes each model runs in on this dataset; a model with nothing to search has no tuned cell."""
    out = {}
    for m in models:
        modes = suite.tuning.modes
        if "tuned" in modes:
            ctx = ModelContext(task=ds.task, modality=ds.modality, seed=0, threads=1, n_features=4, n_classes=2)
            if not space_for(MODELS[m.name], ctx, m.params, m.search):
                pinned = " (the suite fixes every hyperparameter it searches)" if MODELS[m.name].space(ctx) else ""
                skips.append(Skip(ds.label, m.label, "*", f"{m.name} declares no search space{pinned}: no tuned cell"))
                modes = tuple(t for t in modes if t != "tuned")
        out[m.label] = modes
    return out


def _tuned_size(
    suite: Suite, ds: DatasetSpec, n_train: int, seed: int, m: ModelSpec, feat: str, skips: list[Skip]
) -> bool:
    """Whether a tuned cell runs at this size and seed: the suite (or the dataset's tuning_sizes)
    may tune some sizes or some seeds only; a validation part must fit."""
    choice = ds.tuning_sizes if ds.tuning_sizes is not None else suite.tuning.sizes
    if n_train not in sizes_to_tune(choice, ds.train_sizes, suite.validation):
        return False
    if suite.tuning.seeds is not None and seed not in suite.tuning.seeds:
        return False
    if validation_rows(n_train, suite.validation) == 0:
        skip = Skip(ds.label, m.label, feat, f"{n_train} training rows leave no validation part "
                    f"(tuned cells need at least {min_training_rows(suite.validation)}): no tuned cell")
        if skip not in skips:
            skips.append(skip)
        return False
    return True


def skip_lines(skips: list[Skip], verbose: bool = False) -> list[str]:
    """What the plan skipped: one line per reason with its count (every pair with `verbose`)."""
    if verbose:
        seen = dict.fromkeys(f"skip {s.dataset} x {s.model} ({s.features}): {s.reason}" for s in skips)
        return list(seen)
    by_reason: dict[str, set[str]] = {}
    for s in skips:
        by_reason.setdefault(s.reason, set()).add(s.dataset)
    lines = []
    for reason, datasets in by_reason.items():
        names = sorted(datasets)
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        lines.append(f"skipped on {len(names)} dataset(s) ({shown}): {reason}")
    if lines:
        lines.append("(every skipped pair: --verbose, and plan.json in the run folder)")
    return lines


def with_layout(cells: list[Cell], jobs: int, threads: int | None = None) -> list[Cell]:
    return [replace(c, jobs=jobs, threads=threads or c.threads) for c in cells]
