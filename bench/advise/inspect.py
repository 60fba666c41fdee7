"""`bench advise`, step 1: what the user's data is, and what the harness will do with each column.

The data is named as a CSV or Parquet file with a target column, an `.npz` of images or
sequences (as the `image_arrays` and `sequence_arrays` datasets read them), a registered
dataset, or `openml:NAME_OR_ID` (read from the local cache). The result is a `Profile`: the
dataset table of the suite to run, and the findings said to the user in plain words.

Columns are handled as the `file` dataset does, fitted on each cell's training rows only:
missing cells are filled (median, most frequent category) with `missing = "impute"`, text
categories are one-hot encoded for most models, while models tagged `native_categories`
(LightGBM, CatBoost, TabM) take each as one column of category codes (docs/categorical.md). Columns that carry no usable signal are dropped and the
answer names them: ID-like columns (every value distinct), constant columns, free text
(more categories than the loader encodes), exact duplicates and copies of the target.
Files are read, and their targets checked, by the loaders themselves (bench.datasets.files):
a repeated target name, a damaged label or an .npz of complex numbers is refused here as in a run.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from bench.datasets import DATASETS, TASKS, DataError, test_count
from bench.datasets import files as df
from bench.inputs import listed, shown
from bench.tuning import min_training_rows

TEST_SIZE = 0.25
VALIDATION = 0.2
MAX_CLASS_LEVELS = 20  # an integer target with at most this many values is read as classes
ID_NAME = re.compile(r"(^|[^a-z])(id|uuid|guid|key|index|identifier)($|[^a-z])", re.IGNORECASE)
TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # numeric, categorical
    n_missing: int = 0
    n_levels: int = 0  # distinct values of a categorical column


@dataclass(frozen=True)
class Profile:
    """What the data is, and the suite's dataset table that reads it."""

    source: str  # what the user named
    label: str  # the suite's name for it
    dataset: str  # registry name
    params: dict
    task: str
    modality: str
    n_rows: int
    n_inputs: int  # columns most models see (after one-hot encoding; native_categories models: one per column), or pixels / time steps x channels
    test_size: float | int | None  # None: the dataset's official test part
    n_test: int
    task_reason: str = ""
    target: str | None = None
    sample_shape: tuple[int, ...] | None = None
    classes: tuple[tuple[str, int], ...] = ()  # (class, rows), most frequent first
    columns: tuple[Column, ...] = ()
    dropped: tuple[tuple[str, str], ...] = ()  # (column, why)
    notes: tuple[str, ...] = ()
    x_range: tuple[float, float] | None = None  # arrays: smallest and largest input value

    @property
    def n_pool(self) -> int:
        """Training rows: the whole dataset less its test part."""
        return self.n_rows - self.n_test

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def missing(self) -> dict[str, int]:
        return {c.name: c.n_missing for c in self.columns if c.n_missing}

    def lines(self) -> list[str]:
        """What was found and what will be done, one finding a line."""
        out = [f"{self.source}: {_n(self.n_rows)} rows; {self.task} ({self.task_reason})"]
        if self.modality == "tabular" and not self.columns:
            out.append(f"features: {self.n_inputs} numeric columns")
        elif self.modality == "tabular":
            num = [c for c in self.columns if c.kind == "numeric"]
            cat = [c for c in self.columns if c.kind == "categorical"]
            out.append(
                f"features: {len(self.columns)} columns ({len(num)} numeric, {len(cat)} categorical) "
                f"-> {self.n_inputs} model inputs"
                + (" after one-hot encoding of the categories (LightGBM, CatBoost and TabM take them as codes: "
                   f"{len(self.columns)} inputs)" if cat else "")
            )
            if cat:
                out.append("categorical: " + ", ".join(f"{c.name!r} ({c.n_levels} values)" for c in cat)
                           + "; one-hot encoded for most models, category codes for LightGBM, CatBoost and TabM "
                           "(tagged native_categories), fitted on each cell's training rows")
        else:
            shape = " x ".join(map(str, self.sample_shape or ()))
            what = "images" if self.modality == "image" else "sequences"
            out.append(f"{self.modality}: {what} of {shape} ({self.n_inputs} values each)")
        if self.classes:
            top = ", ".join(f"{c} {k / self.n_rows:.0%}" for c, k in self.classes[:8])
            more = f" and {len(self.classes) - 8} more" if len(self.classes) > 8 else ""
            out.append(f"classes: {len(self.classes)}: {top}{more}")
        if self.missing:
            cells = ", ".join(f"{name!r} {k} ({k / self.n_rows:.0%})" for name, k in self.missing.items())
            out.append(f"missing values in {len(self.missing)} columns: {cells}; filled from each cell's "
                       "training rows (median of a number, most frequent category)")
        elif self.modality == "tabular":
            out.append("missing values: none")
        for name, why in self.dropped:
            out.append(f"dropped {name!r}: {why}")
        out.extend(self.notes)
        part = "the dataset's official test part" if self.test_size is None else f"{TEST_SIZE:.0%} of the rows"
        out.append(f"test part: {_n(self.n_test)} rows ({part}), never used for a choice; "
                   f"training part: up to {_n(self.n_pool)} rows")
        return out


def _n(x: int) -> str:
    return f"{int(x):,}"


# ------------------------------------------------------------------ task


def detect_task(y: pd.Series) -> tuple[str, str]:
    """(task, why): text, booleans and integers with few values are classes; other numbers regression."""
    values = y.dropna()
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return "classification", "the target holds text labels"
    numbers = values.to_numpy(dtype=np.float64)
    n_unique = len(np.unique(numbers))
    if (numbers != np.round(numbers)).any():
        return "regression", "the target holds fractional numbers"
    if n_unique <= MAX_CLASS_LEVELS:
        return "classification", f"the target holds {n_unique} distinct integers"
    return "regression", f"the target holds {n_unique} distinct integers (more than {MAX_CLASS_LEVELS})"


def _task(y: pd.Series, override: str | None) -> tuple[str, str]:
    if override:
        if override not in TASKS:
            raise DataError(f"--task must be one of {', '.join(TASKS)}, got {override!r}")
        return override, "as --task says"
    task, why = detect_task(y)
    return task, f"{why}; --task overrides"


def _classes(y: pd.Series) -> tuple[tuple[str, int], ...]:
    counts = y.astype(str).value_counts()
    return tuple((str(k), int(v)) for k, v in counts.items())


# ------------------------------------------------------------------ tables


def _looks_like_id(name: str, s: pd.Series) -> bool:
    """Every value distinct and either text, a name like `id`, or integers forming one consecutive run."""
    values = s.dropna()
    if len(values) < 20 or values.nunique() != len(values):
        return False
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return True
    numbers = values.to_numpy(dtype=np.float64)
    if (numbers != np.round(numbers)).any():
        return False
    return bool(ID_NAME.search(name)) or numbers.max() - numbers.min() + 1 == len(numbers)


def _is_prose(s: pd.Series) -> bool:
    """Text whose values are mostly several words."""
    values = s.dropna().astype(str)
    return bool(values.str.strip().str.contains(r"\s").mean() > 0.5)


def inspect_table(path: str, target: str | None, task: str | None, label: str = "",
                  source: str = "", suite_path: str | None = None) -> Profile:
    """A CSV or Parquet file with a target column: columns classified, unusable ones dropped."""
    frame = df.read_table(path)  # the loader's header checks: repeated names (BOM or not), width
    if target is None:
        raise DataError(f"{shown(path)}: name the column to predict with --target COLUMN; columns are: "
                        f"{listed(frame.columns, quote=False)}")
    y = df.target_column(path, frame, target)  # a class "NA" stays a class
    n = len(frame)
    blank = int(y.isna().sum())
    if blank:
        raise DataError(f"{path}: target column {target!r} has {blank} blank cells; drop those rows")
    task, task_reason = _task(y, task)
    X = frame.drop(columns=[target])
    empty = [str(c) for c in X.columns if X[c].isna().all()]
    if empty:
        raise DataError(f"{path}: {'column' if len(empty) == 1 else 'columns'} with every cell blank: "
                        f"{', '.join(map(repr, empty))}; remove {'it' if len(empty) == 1 else 'them'} from the file")
    dropped: list[tuple[str, str]] = []
    for col in df.target_copies(X, y):
        dropped.append((str(col), f"holds the target {target!r} under another name (it would leak the answer)"))
    seen: dict[int, str] = {}
    columns: list[Column] = []
    for col in X.columns:
        name = str(col)
        if name in dict(dropped):
            continue
        s = X[col]
        digest = int(pd.util.hash_pandas_object(s.astype(str), index=False).sum())
        if digest in seen and s.astype(str).equals(X[seen[digest]].astype(str)):
            dropped.append((name, f"an exact copy of column {seen[digest]!r}"))
            continue
        seen.setdefault(digest, col)
        n_levels = int(s.nunique(dropna=True))
        if n_levels == 1:
            dropped.append((name, f"constant (every filled cell holds {s.dropna().iloc[0]!r})"))
            continue
        numeric = pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
        if not numeric and n_levels > df.MAX_CATEGORIES and _is_prose(s):
            dropped.append((name, f"free text ({_n(n_levels)} distinct values); bench does not model text"))
            continue
        if _looks_like_id(name, s):
            dropped.append((name, "ID-like: every value is distinct, so it cannot generalise to new rows"))
            continue
        if not numeric and n_levels > df.MAX_CATEGORIES:
            dropped.append((name, f"text with {_n(n_levels)} distinct values (more than the {df.MAX_CATEGORIES} "
                                  "a category may have); bench does not model free text"))
            continue
        columns.append(Column(name, "numeric" if numeric else "categorical", int(s.isna().sum()), 0 if numeric else n_levels))
    if not columns:
        reasons = listed([f"{c!r}: {why}" for c, why in dropped], quote=False) or "none"
        raise DataError(f"{shown(path)}: no usable feature column besides the target {target!r} (dropped: {reasons})")
    missing = any(c.n_missing for c in columns)
    params = {"path": suite_path or path, "target": target, "task": task}
    if dropped:
        params["drop"] = [name for name, _ in dropped]
    if missing:
        params["missing"] = "impute"
    # The loader's own checks (one class, constant or non-integer targets, infinities...) decide
    # what runs; their message is the user's.
    load_params = {**params, "path": path, "drop": [_original(frame, c) for c in params.get("drop", [])]}
    df.file_data(**load_params)
    n_inputs = sum(1 if c.kind == "numeric" else c.n_levels for c in columns)
    test = test_count(n, TEST_SIZE)
    return Profile(
        source=source or path, label=label or _label(path), dataset="file", params=params, task=task,
        modality="tabular", n_rows=n, n_inputs=n_inputs, test_size=TEST_SIZE, n_test=test,
        task_reason=task_reason, target=target,
        classes=_classes(y) if task == "classification" else (), columns=tuple(columns), dropped=tuple(dropped),
    )


def _original(frame: pd.DataFrame, name: str):
    """The frame's own column key for a name (Parquet columns may be integers)."""
    return next(c for c in frame.columns if str(c) == name)


# ------------------------------------------------------------------ arrays


def array_modality(shape: tuple[int, ...], override: str | None) -> tuple[str, str]:
    """(modality, why) of X's shape: (n, L) sequences, (n, C, H, W) images, (n, A, B) either."""
    if override:
        return override, "as --modality says"
    if len(shape) == 2:
        return "sequence", f"X is (samples, steps) = {shape}"
    if len(shape) == 4:
        return "image", f"X is (samples, channels, height, width) = {shape}"
    a, b = shape[1], shape[2]
    if min(a, b) >= 8 and max(a, b) <= 4 * min(a, b):
        return "image", f"X is {shape}: read as {a} x {b} images (--modality sequence for {a} steps of {b} channels)"
    return "sequence", f"X is {shape}: read as {a} steps of {b} channels (--modality image for {a} x {b} images)"


def inspect_arrays(path: str, task: str | None, modality: str | None, label: str = "",
                   suite_path: str | None = None) -> Profile:
    """An .npz with X and y: images or sequences, task from y."""
    X, y = df.read_arrays(path)  # the loader's reading: no pickles, complex numbers refused, native byte order
    shape = X.shape
    if len(shape) not in (2, 3, 4):
        raise DataError(f"{path}: X has {len(shape)} dimensions {shape}; images are (n, H, W) or (n, C, H, W), "
                        "sequences (n, L) or (n, L, C)")
    if y.ndim != 1:
        raise DataError(f"{path}: y must be one-dimensional, got shape {y.shape}")
    modality, why_mod = array_modality(shape, modality)
    if modality == "image" and len(shape) == 2 or modality == "sequence" and len(shape) == 4:
        raise DataError(f"{path}: X of shape {shape} cannot be {modality} data")
    ys = pd.Series(y)
    task, task_reason = _task(ys, task)
    name = "image_arrays" if modality == "image" else "sequence_arrays"
    data = DATASETS[name].fn(path=path, task=task)  # the loader's checks: NaN, one class, ...
    X = np.asarray(data.X)
    n = len(y)
    test = test_count(n, TEST_SIZE)
    return Profile(
        source=path, label=label or _label(path), dataset=name, params={"path": suite_path or path, "task": task},
        task=task, modality=modality, n_rows=n, n_inputs=int(X.shape[1]), test_size=TEST_SIZE, n_test=test,
        task_reason=task_reason, sample_shape=tuple(shape[1:]),
        classes=_classes(ys) if task == "classification" else (), notes=(why_mod,),
        x_range=(float(X.min()), float(X.max())),
    )


# ------------------------------------------------------------------ registered and OpenML


def inspect_registered(name: str, task: str | None) -> Profile:
    """A dataset of the registry, with its own parameters' defaults."""
    entry = DATASETS[name]
    if entry.task is None or entry.required:
        raise DataError(f"dataset {name!r} reads a file or needs parameters ({', '.join(entry.required) or 'task'}); "
                        "give a file: bench advise PATH --target COLUMN")
    if task and task != entry.task:
        raise DataError(f"dataset {name!r} is {entry.task}; --task {task} does not apply")
    from bench.datasets import load

    params: dict = {}
    full = {**entry.defaults, **params}
    if entry.check:
        entry.check(full)
    data = load(name, params)
    n = data.n_samples
    official_rows = entry.official_rows(full)
    test = official_rows if official_rows is not None else test_count(n, TEST_SIZE)
    columns = ()
    if isinstance(data.X, pd.DataFrame):
        columns = tuple(
            Column(str(c), "numeric" if pd.api.types.is_numeric_dtype(data.X[c]) else "categorical",
                   int(data.X[c].isna().sum()), 0 if pd.api.types.is_numeric_dtype(data.X[c]) else int(data.X[c].nunique()))
            for c in data.X.columns
        )
    y = pd.Series(np.asarray(data.y))
    if data.target_names is not None and entry.task == "classification":
        y = y.map(lambda v: data.target_names[int(v)])
    return Profile(
        source=name, label=name, dataset=name, params=params, task=entry.task, modality=entry.modality,
        n_rows=n, n_inputs=sum(c.n_levels or 1 for c in columns) if columns else int(data.X.shape[1]),
        test_size=None if official_rows is not None else TEST_SIZE, n_test=test,
        task_reason=f"registered as {entry.task}", sample_shape=data.sample_shape,
        classes=_classes(y) if entry.task == "classification" else (), columns=columns,
        notes=(f"{name}: {entry.description}",),
    )


def inspect_openml(spec: str, target: str | None, task: str | None) -> Profile:
    """`openml:NAME_OR_ID` from the local cache, read as a file (so missing cells can be imputed)."""
    from bench.datasets import openml

    arg = spec.split(":", 1)[1]
    if not arg:
        raise DataError(f"{spec}: name an OpenML dataset, e.g. openml:adult or openml:1590")
    folder, meta = openml._ensure(int(arg) if arg.isdigit() else 0, "" if arg.isdigit() else arg, 1, "")
    path = str(folder / openml.DATA)
    profile = inspect_table(path, target or meta["target"], task, label=_slug(meta["name"]), source=spec)
    note = f"{spec}: OpenML {meta['data_id']} ({meta['name']}), read from the cache at {path}"
    return replace(profile, notes=(*profile.notes, note))


# ------------------------------------------------------------------ entry


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:40] or "data"


def _label(path: str) -> str:
    return _slug(Path(path).stem)


def suite_path(path: str) -> str:
    """The path as the saved suite names it: relative to here when it lies below, else absolute."""
    full = Path(path).resolve()
    try:
        return str(full.relative_to(Path.cwd()))
    except ValueError:
        return str(full)


def inspect(data: str, target: str | None = None, task: str | None = None, modality: str | None = None) -> Profile:
    """The profile of what the user named; DataError, in one line, for anything unusable."""
    suffix = Path(data).suffix.lower()
    if data.startswith("openml:"):
        return inspect_openml(data, target, task)
    if suffix in TABLE_SUFFIXES:
        return inspect_table(data, target, task, suite_path=suite_path(data) if os.path.isfile(data) else None)
    if suffix == ".npz":
        if target:
            raise DataError(f"{data}: an .npz holds its target as the array y; --target applies to tables")
        return inspect_arrays(data, task, modality, suite_path=suite_path(data) if os.path.isfile(data) else None)
    if os.path.exists(data):
        raise DataError(f"{data}: unknown file type {suffix or '(none)'!r}; use .csv, .parquet or .npz")
    if data in DATASETS:
        if target:
            raise DataError(f"dataset {data!r} has its own target; --target applies to tables")
        return inspect_registered(data, task)
    if os.sep in data or suffix:
        raise DataError(f"{data}: no such file")
    raise DataError(f"{data!r}: no such file or registered dataset; datasets: "
                    f"{', '.join(n for n, e in DATASETS.items() if e.task and not e.required)}, or openml:NAME")


# ------------------------------------------------------------------ sizes


def min_size(profile: Profile) -> int:
    """The smallest training size worth a cell: a validation part, and a few rows of each class."""
    return max(min_training_rows(VALIDATION), 3 * profile.n_classes)


def size_ladder(profile: Profile, k: int, top: int | None = None) -> list[int]:
    """`k` training sizes spread evenly in log scale up to `top` (default: the whole training part)."""
    top = profile.n_pool if top is None else min(int(top), profile.n_pool)
    low = max(min_size(profile), top // 16)
    if k <= 1 or low >= top:
        return [top]
    sizes = sorted({int(round(x)) for x in np.geomspace(low, top, k)})
    sizes[-1] = top
    return sizes


def check_enough_rows(profile: Profile) -> None:
    """DataError when the training part holds fewer than `min_size` rows: no comparison is possible.

    A learning curve wants two sizes of `min_size` rows or more, but a smaller file still gets an
    answer: ArrowHead's 48 series leave 36 training rows (two sizes of 20 would need 40), and
    advise compares the families at the sizes there are (20, 27 and 36 rows there; at exactly
    `min_size` rows, the one size), saying that the curve is too short to read. Refusing such a file (as
    advise did before) left its user with nothing."""
    if profile.n_pool < min_size(profile):
        part = "the official test part" if profile.test_size is None else f"the {TEST_SIZE:.0%} test part"
        raise DataError(
            f"{profile.source}: {_n(profile.n_rows)} rows leave {_n(profile.n_pool)} training rows after {part}; "
            f"a comparison needs at least {min_size(profile)} (a validation part and a few rows of each class)"
        )


def chance_score(profile: Profile) -> float:
    """What predicting the most frequent class scores (accuracy), or 0 (R² of the mean)."""
    if profile.task == "classification" and profile.classes:
        return profile.classes[0][1] / profile.n_rows
    return 0.0


def minority_share(profile: Profile) -> float:
    return profile.classes[-1][1] / profile.n_rows if profile.classes else math.nan

