"""Read a suite: its TOML text validated key by key before anything runs.

Any problem is a SuiteError in one line naming the file and the key (`fail`): an unknown
key, a value of the wrong type or range, an unknown dataset, model or feature variant, a
model's parameters that do not build, a search space that does not fit the model, a
matrix too large for memory, keys nested absurdly deep.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from bench.datasets import DATASETS, DataError, test_count
from bench.errors import SuiteError
from bench.features import FEATURES
from bench.inputs import read_bytes, shown
from bench.models import MODELS, ModelContext, build
from bench.plugins import load_plugins
from bench.suite.spec import DatasetSpec, ModelSpec, Suite, Tuning
from bench.tuning import (
    MODES,
    SIZES,
    Budget,
    check_space,
    from_table,
    space_for,
)

SUITE_KEYS = {
    "name": "a short name for the run",
    "description": "free text",
    "seeds": "list of integer seeds; each gives its own split and model initialisation",
    "train_sizes": 'list of training-set sizes (integers, or "max" for the whole training pool)',
    "test_size": "held-out test part: a fraction in (0, 1) or a row count",
    "features": 'feature variants for classical models, e.g. ["raw", "engineered"]',
    "threads": "thread budget of every cell (BLAS, OpenMP, n_jobs, XGBoost, torch)",
    "time_limit_s": "time limit of one cell, in seconds (on the clock `limit` names)",
    "limit": '"wall" (default): time_limit_s is wall time; "cpu": the cell\'s CPU seconds per thread, which a busy machine does not inflate',
    "wall_backstop": 'with limit = "cpu": stop a cell after this many times time_limit_s of wall time too (default 5)',
    "memory_limit_mb": "memory cap of one cell, in MB (the cell is stopped and recorded as oom)",
    "device": 'device for deep models: "auto", "cpu", "cuda" or "mps"',
    "scheduler": 'a Dask scheduler to run the cells on, e.g. "tcp://10.0.0.5:8786" (--scheduler overrides it)',
    "validation": "fraction of each cell's training rows held out for every choice (0: none); default 0.2",
    "tuning": "table [suite.tuning]: the search budget, the same for every model (trials, time_s, modes, sizes, seeds)",
}
TUNING_KEYS = {
    "trials": "configurations per tuned cell, the default one included (default 10)",
    "time_s": "seconds of search per tuned cell; no trial starts that would end after them (default: no limit)",
    "modes": 'which cells to plan: ["default"], ["tuned"] or ["default", "tuned"] (the default with a [suite.tuning] table)',
    "sizes": '"all" training sizes get tuned cells, or only each dataset\'s "largest", or its "smallest" that leaves '
             'a validation part (a dataset\'s tuning_sizes overrides it)',
    "seeds": "the seeds that get tuned cells, some of suite.seeds (default: all of them)",
}
DATASET_KEYS = {"dataset", "train_sizes", "test_size", "seeds", "one_seed_from", "models", "large_models", "tuning_sizes",
                "features"}
MODEL_KEYS = {"model", "search"}
DEVICES = ("auto", "cpu", "cuda", "mps")
LIMITS = ("wall", "cpu")
MAX_THREADS = 1024
MAX_ROWS = 20_000_000
# A dataset's whole matrix (rows x features, as float64) may hold at most this many bytes: a
# generated dataset's width is known from its parameters (WIDTH_KEYS), so a suite asking for
# more is refused by `check` rather than becoming an oom row.
MAX_MATRIX_BYTES = 16 * 2**30
WIDTH_KEYS = {"n_features": 1, "length": 1, "max_len": 1, "image_size": 2}  # parameter: its power in the width
# A suite's tables and values nest a few levels ([models.NAME.search.KEY]); deeper nesting is
# refused before anything recurses through it. A dotted key of more parts than MAX_KEY_PARTS is
# refused from the raw text, before tomllib parses it (its time grows with the square of the parts).
MAX_DEPTH = 32
MAX_KEY_PARTS = 32
_KEY_TOKENS = re.compile(r"""[ \t]+|(?P<part>[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')|(?P<dot>\.)|(?P<open>["'])|.""")
_ANNOTATED = {"str": "", "int": 0, "float": 0.0, "bool": False, "list": []}  # a required parameter's type, by example


def fail(path: str, where: str, message: str) -> SuiteError:
    return SuiteError(f"{path}: [{where}] {message}" if where else f"{path}: {message}")


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "table"}.get(
        type(value), type(value).__name__
    )


def _where_it_runs(label: str, datasets) -> tuple[set, set]:
    """The tasks and modalities of the datasets a model label runs on: those whose `models` list
    names it, or that list none. A configuration is checked only against those, so a
    classification-only setting (a tree's `criterion = "entropy"`) may sit in a suite that
    also holds a regression set the configuration is not listed on. A label no dataset lists
    is checked against all of them."""
    on = [d for d in datasets if d.models is None or label in d.models or label in (d.large_models or ())]
    on = on or list(datasets)
    return {d.task for d in on}, {d.modality for d in on}


def _check_value(
    path: str, where: str, value: Any, default: Any, numbers_too: bool = False, strings_too: bool = False
) -> Any:
    """Check a suite value against the type of the parameter's default; return it coerced.

    A parameter the estimator constrains itself may take a number where its default is a
    string (`numbers_too`: scikit-learn's SVC gamma, "scale" or a positive number), or a string
    where its default is a number when its constraints name strings (`strings_too`: an MLP's
    d_hidden, 256 or "io_mean"); those constraints then decide.
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise fail(path, where, f"expected a finite number, got {value}")
    if default is None:
        return value
    ok: bool
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (strings_too and isinstance(value, str))
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
        ok = ok or (strings_too and isinstance(value, str))
    elif isinstance(default, str):
        ok = isinstance(value, str) or (numbers_too and isinstance(value, int | float) and not isinstance(value, bool))
    elif isinstance(default, list | tuple):
        ok = isinstance(value, list)
    else:
        ok = True
    if not ok:
        raise fail(path, where, f"expected {_type_name(default)}, got {_type_name(value)} {value!r}")
    return value


def _int_list(path: str, where: str, value: Any, allow_max: bool = False) -> list:
    if not isinstance(value, list) or not value:
        raise fail(path, where, f"expected a non-empty list, got {_type_name(value)} {value!r}")
    for item in value:
        if allow_max and item == "max":
            continue
        if not isinstance(item, int) or isinstance(item, bool):
            hint = ' or "max"' if allow_max else ""
            raise fail(path, where, f"expected integers{hint}, got {_type_name(item)} {item!r}")
    return value


def _test_size(path: str, where: str, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(path, where, f"expected a fraction or a row count, got {_type_name(value)} {value!r}")
    if isinstance(value, float) and not 0 < value < 1:
        raise fail(path, where, f"a fraction must lie in (0, 1), got {value}")
    if isinstance(value, int) and value < 1:
        raise fail(path, where, f"a row count must be at least 1, got {value}")
    return value


def _positive_number(path: str, where: str, value: Any, integer: bool = False) -> float | int:
    types = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, types) or not value > 0 or value != value:
        kind = "positive integer" if integer else "positive number"
        raise fail(path, where, f"expected a {kind}, got {_type_name(value)} {value!r}")
    if not integer and value == float("inf"):
        raise fail(path, where, "expected a finite number, got inf")
    return value


def _labels(path: str, where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(m, str) for m in value):
        raise fail(path, where, f"expected a non-empty list of model labels, got {value!r}")
    return tuple(value)


def _seeds(path: str, where: str, value: Any) -> tuple[int, ...]:
    seeds = _int_list(path, where, value)
    if len(set(seeds)) != len(seeds) or any(s < 0 for s in seeds):
        raise fail(path, where, f"seeds must be distinct and non-negative, got {seeds}")
    if any(s >= 2**32 for s in seeds):  # scikit-learn's and numpy's legacy random states take 32 bits
        raise fail(path, where, f"seeds must be below 2**32 = {2**32}, got {max(seeds)}")
    return tuple(seeds)


def _table(path: str, where: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise fail(path, where, f"expected a table, got {_type_name(value)} {value!r}")
    return value


def _dataset_spec(path: str, label: str, table: dict, defaults: dict) -> DatasetSpec:
    where = f"datasets.{label}"
    name = table.get("dataset", label)
    if not isinstance(name, str) or name not in DATASETS:
        raise fail(
            path,
            f"{where}.dataset" if "dataset" in table else where,
            f"unknown dataset {name!r}; valid: {', '.join(DATASETS.names())} "
            '(or name one with dataset = "...")',
        )
    entry = DATASETS[name]
    params = {}
    for key, value in table.items():
        if key in DATASET_KEYS:
            continue
        if key not in entry.defaults and key not in entry.required:
            valid = sorted({*entry.defaults, *entry.required, *DATASET_KEYS})
            raise fail(path, f"{where}.{key}", f"unknown key for dataset {name!r}; valid: {', '.join(valid)}")
        default = entry.defaults.get(key)
        if key in entry.required:  # no default to check against: the loader's annotation says the type
            default = _ANNOTATED.get(str(_annotation(entry.fn, key)).removeprefix("<class '").removesuffix("'>"))
        params[key] = _check_value(path, f"{where}.{key}", value, default)
    missing = [k for k in entry.required if k not in params]
    if missing:
        raise fail(path, where, f"dataset {name!r} needs {', '.join(missing)}")
    full = {**entry.defaults, **params}
    try:
        if entry.check:
            entry.check(full)
        n_samples = int(entry.size(full))
    except DataError as exc:
        raise fail(path, where, str(exc)) from None
    if n_samples > MAX_ROWS:
        raise fail(path, where, f"{n_samples} rows is more than this harness handles ({MAX_ROWS})")
    width = _width(full)
    if width is not None and n_samples * width * 8 > MAX_MATRIX_BYTES:
        raise fail(path, where, f"{n_samples} rows x {width} features x 8 bytes = {n_samples * width * 8 / 2**30:,.1f} GB "
                                 f"is more than this harness handles ({MAX_MATRIX_BYTES // 2**30} GB); "
                                 f"lower n_samples or {', '.join(k for k in WIDTH_KEYS if k in full)}")
    task = entry.task_for(full)
    try:  # an official split's test rows; a parameter may choose whether there is one (None: not)
        official_rows = entry.official_rows(full)
    except DataError as exc:
        raise fail(path, where, str(exc)) from None
    official = official_rows is not None
    if official:
        if "test_size" in table:
            raise fail(path, f"{where}.test_size", f"dataset {name!r} has an official test split; test_size does not apply")
        test_size = official_rows
    else:
        test_size = _test_size(path, f"{where}.test_size", table.get("test_size", defaults["test_size"]))
    n_test = test_count(n_samples, test_size)
    n_pool = n_samples - n_test
    if n_pool < 2:
        raise fail(path, f"{where}.test_size", f"leaves {n_pool} training rows of {n_samples}")
    size_where = f"{where}.train_sizes" if "train_sizes" in table else "suite.train_sizes"
    sizes = _int_list(path, size_where, table.get("train_sizes", defaults["train_sizes"]), allow_max=True)
    resolved = []
    for size in sizes:
        n = n_pool if size == "max" else size
        if n < 2 or n > n_pool:
            raise fail(
                path,
                size_where,
                f"training size {size} is impossible for {label!r}: it has {n_samples} rows, "
                f"{n_test} held out for test, so sizes run from 2 to {n_pool} (or \"max\")",
            )
        resolved.append(n)
    seeds = _seeds(path, f"{where}.seeds", table["seeds"]) if "seeds" in table else None
    one_seed_from = None
    if "one_seed_from" in table:
        one_seed_from = _positive_number(path, f"{where}.one_seed_from", table["one_seed_from"], integer=True)
    models, large_models = (_labels(path, f"{where}.{k}", table[k]) if k in table else None
                            for k in ("models", "large_models"))
    if large_models is not None and one_seed_from is None:
        raise fail(path, f"{where}.large_models", "needs one_seed_from, the size from which it applies")
    tuning_sizes = _tuning_sizes(path, f"{where}.tuning_sizes", table["tuning_sizes"], n_pool, resolved) \
        if "tuning_sizes" in table else None
    features = _features(path, f"{where}.features", table["features"]) if "features" in table else None
    return DatasetSpec(
        label=label,
        name=name,
        params=params,
        task=task,
        modality=entry.modality,
        n_samples=n_samples,
        test_size=test_size,
        train_sizes=tuple(sorted(set(resolved))),
        tags=entry.tags,
        official_split=official,
        seeds=seeds,
        one_seed_from=one_seed_from,
        models=models,
        large_models=large_models,
        tuning_sizes=tuning_sizes,
        features=features,
    )


def _features(path: str, where: str, features) -> tuple[str, ...]:
    """A list of feature variants (the suite's, or one dataset's own): known names, each once."""
    if not isinstance(features, list) or not features or not all(isinstance(f, str) for f in features):
        raise fail(path, where, f"expected a non-empty list of names, got {features!r}")
    for feat in features:
        if feat not in FEATURES:
            raise fail(path, where, f"unknown feature variant {feat!r}; valid: {', '.join(FEATURES.names())}")
    twice = sorted({f for f in features if features.count(f) > 1})
    if twice:
        raise fail(path, where, f"{twice[0]!r} is listed twice; each feature variant once")
    return tuple(features)


def _tuning_sizes(path: str, where: str, value, n_pool: int, sizes: list[int]) -> str | tuple[int, ...]:
    """A dataset's tuning_sizes: one of SIZES, or some of its training sizes ("max" = its pool)."""
    if isinstance(value, str) and value in SIZES:
        return value
    if not isinstance(value, list):
        raise fail(path, where, f"expected one of {', '.join(SIZES)} or a list of this dataset's training sizes, got {value!r}")
    chosen = _int_list(path, where, value, allow_max=True)
    resolved = [n_pool if n == "max" else n for n in chosen]
    outside = [n for n in resolved if n not in sizes]
    if outside or len(set(resolved)) != len(resolved):
        raise fail(path, where, f"expected distinct sizes from this dataset's training sizes {sorted(set(sizes))}, got {chosen}")
    return tuple(sorted(resolved))


def _annotation(fn, key: str) -> object:
    try:
        return inspect.signature(fn).parameters[key].annotation
    except (KeyError, TypeError, ValueError):
        return None


def _model_spec(
    path: str, label: str, table: dict, tasks: set[str], modalities: set[str], tuning: Tuning | None = None
) -> ModelSpec:
    where = f"models.{label}"
    name = table.get("model", label)
    if not isinstance(name, str) or name not in MODELS:
        raise fail(
            path,
            f"{where}.model" if "model" in table else where,
            f"unknown model {name!r}; valid: {', '.join(MODELS.names())} (or name one with model = \"...\")",
        )
    entry = MODELS[name]
    params = {k: v for k, v in table.items() if k not in MODEL_KEYS}
    # Cheap here: building the estimators below loads scikit-learn anyway.
    from sklearn.utils._param_validation import StrOptions

    # Check the hyperparameters against the estimator for every task it will see here.
    for task in sorted(tasks & entry.tasks) or sorted(entry.tasks)[:1]:
        modality = next(iter(sorted(modalities & entry.modalities)), "tabular")
        ctx = ModelContext(task=task, modality=modality, seed=0, threads=1, n_features=4, n_classes=2)
        estimator = entry.fn(ctx)
        valid = estimator.get_params(deep=True)  # nested keys too: a hybrid's network__n_epochs
        for key, value in params.items():
            if key not in valid:
                raise fail(
                    path,
                    f"{where}.{key}",
                    f"unknown hyperparameter for {name!r} ({task}); valid: {', '.join(sorted(valid))}",
                )
            # A key scikit-learn constrains itself may take what its constraints allow (checked below).
            constraints = getattr(estimator, "_parameter_constraints", {})
            declared = key in constraints
            strings = declared and any(isinstance(c, StrOptions) or c is str for c in constraints[key])
            params[key] = _check_value(
                path, f"{where}.{key}", value, valid[key], numbers_too=declared, strings_too=strings
            )
        try:
            built = build(name, ctx, params)
            if hasattr(built, "_parameter_constraints"):  # scikit-learn's own value checks
                built._validate_params()
        except Exception as exc:
            raise fail(path, where, f"invalid hyperparameters for {name!r}: {exc}") from None
    search = table.get("search")
    if search is not None:
        search = dict(_table(path, f"{where}.search", search))
        if not search:
            raise fail(path, f"{where}.search", "an empty search space; name hyperparameters to search, or drop the table")
    if tuning is not None and "tuned" in tuning.modes:
        _check_search(path, where, name, params, search, tasks, modalities)
    return ModelSpec(label=label, name=name, params=params, family=entry.family, tags=entry.tags, search=search)


def _check_search(
    path: str, where: str, name: str, params: dict, search: dict | None, tasks: set[str], modalities: set[str]
) -> None:
    """The space a tuned cell would search names real hyperparameters with values the estimator accepts."""
    entry = MODELS[name]
    for task in sorted(tasks & entry.tasks) or sorted(entry.tasks)[:1]:
        modality = next(iter(sorted(modalities & entry.modalities)), "tabular")
        ctx = ModelContext(task=task, modality=modality, seed=0, threads=1, n_features=4, n_classes=2)
        try:
            space = space_for(entry, ctx, params, search)
        except ValueError as exc:  # a malformed entry of the suite's own table
            key = next((k for k in search or {} if _bad_entry(search[k])), "")
            raise fail(path, f"{where}.search.{key}" if key else f"{where}.search", str(exc)) from None
        problem = check_space(space, lambda p, ctx=ctx: build(name, ctx, {**params, **p}))
        if problem:
            key, message = problem
            origin = f"{where}.search.{key}" if search is not None else where
            owner = "" if search is not None else f"the search space of model {name!r} ({task}): {key}: "
            raise fail(path, origin, owner + message)


def _bad_entry(value) -> bool:
    try:
        from_table(value)
    except ValueError:
        return True
    return False


def _tuning(path: str, head: dict, time_limit_s: float, validation: float, suite_seeds: tuple[int, ...]) -> Tuning:
    """[suite.tuning]: the budget (trials and/or seconds), the modes and the sizes that get tuned cells."""
    if "tuning" not in head:
        return Tuning()
    table = _table(path, "suite.tuning", head["tuning"])
    for key in table:
        if key not in TUNING_KEYS:
            raise fail(path, f"suite.tuning.{key}", f"unknown key; valid: {', '.join(sorted(TUNING_KEYS))}")
    trials = _positive_number(path, "suite.tuning.trials", table.get("trials", 10), integer=True)
    time_s = table.get("time_s")
    if time_s is not None:
        time_s = float(_positive_number(path, "suite.tuning.time_s", time_s))
        if time_s >= time_limit_s:
            raise fail(
                path, "suite.tuning.time_s",
                f"{time_s:g} s of search leaves no time for the final fit within suite.time_limit_s = {time_limit_s:g}",
            )
    modes = table.get("modes", list(MODES))
    if (
        not isinstance(modes, list) or not modes or len(set(modes)) != len(modes)
        or not all(isinstance(m, str) and m in MODES for m in modes)
    ):
        raise fail(path, "suite.tuning.modes", f"expected distinct names from {', '.join(MODES)}, got {modes!r}")
    if "tuned" in modes:
        if trials < 2:
            raise fail(path, "suite.tuning.trials", "a tuned cell needs at least 2 trials (the first is the default configuration)")
        if validation == 0:
            raise fail(path, "suite.validation", "tuned cells choose on validation rows; validation = 0 leaves none")
    sizes = table.get("sizes", "all")
    if sizes not in SIZES:
        raise fail(path, "suite.tuning.sizes", f"expected one of {', '.join(SIZES)}, got {sizes!r}")
    seeds = table.get("seeds")
    if seeds is not None:
        seeds = _int_list(path, "suite.tuning.seeds", seeds)
        outside = [s for s in seeds if s not in suite_seeds]
        if outside or len(set(seeds)) != len(seeds):
            raise fail(path, "suite.tuning.seeds", f"expected distinct seeds from suite.seeds {list(suite_seeds)}, got {seeds}")
        seeds = tuple(seeds)
    return Tuning(budget=Budget(trials=int(trials), time_s=time_s), modes=tuple(modes), sizes=sizes, seeds=seeds)


def _long_key_line(text: str) -> int | None:
    """The first line holding a dotted key of more than MAX_KEY_PARTS parts, or None; linear in the text.

    Only a line with more dots than that can hold one (str.count, at C speed); such a line is
    read token by token (bare and quoted keys, dots), as far as a string left open on it.
    """
    for number, line in enumerate(text.split("\n"), 1):
        if line.count(".") < MAX_KEY_PARTS:
            continue
        chain, after_dot = 0, False
        for token in _KEY_TOKENS.finditer(line):
            kind = token.lastgroup
            if kind == "part":
                chain = chain + 1 if after_dot else 1
                if chain > MAX_KEY_PARTS:
                    return number
                after_dot = False
            elif kind == "dot":
                after_dot = chain > 0 and not after_dot
                if not after_dot:
                    chain = 0
            elif kind == "open":  # a string open to the end of the line (or a multi-line one): no key after it
                break
            elif token.group().strip():  # whitespace keeps a chain (TOML allows `a . b`); anything else ends it
                chain, after_dot = 0, False
    return None


def _too_deep(doc: dict) -> str | None:
    """The dotted path of the first value nested deeper than MAX_DEPTH in a parsed suite, or None."""
    stack: list[tuple[object, tuple[str, ...]]] = [(doc, ())]
    while stack:
        value, where = stack.pop()
        if len(where) > MAX_DEPTH:
            return ".".join(k[:40] for k in where[:4]) + "..."
        if isinstance(value, dict):
            stack += [(v, (*where, k)) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(v, (*where, str(i))) for i, v in enumerate(value)]
    return None


def _width(params: dict) -> int | None:
    """The features of a dataset's matrix from its parameters (WIDTH_KEYS), or None when they do not say."""
    width = None
    for key, power in WIDTH_KEYS.items():
        value = params.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            width = (width or 1) * value**power
    return width


def parse(text: str, path: str = "<suite>", plugins: tuple[str, ...] = ()) -> Suite:
    """Validate a suite's TOML text; raise SuiteError naming the file and key on any problem."""
    plugins = load_plugins(plugins)
    line = _long_key_line(text)
    if line:
        raise fail(path, "", f"line {line}: a dotted key of more than {MAX_KEY_PARTS} parts; a suite's keys nest "
                              "a few levels ([models.NAME.search.KEY])")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise fail(path, "", f"not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses once per level of arrays or inline tables
        raise fail(path, "", "nested too deeply (arrays or inline tables hundreds of levels inside each other)") from None
    deep = _too_deep(raw)
    if deep is not None:
        raise fail(path, deep, f"values nested more than {MAX_DEPTH} levels deep; a suite's tables nest a few levels")
    unknown = set(raw) - {"suite", "datasets", "models"}
    if unknown:
        raise fail(path, sorted(unknown)[0], "unknown section; valid: suite, datasets, models")
    for section in ("suite", "datasets", "models"):
        if section not in raw:
            raise fail(path, section, "missing section")
    head = _table(path, "suite", raw["suite"])
    for key in head:
        if key not in SUITE_KEYS:
            raise fail(path, f"suite.{key}", f"unknown key; valid: {', '.join(sorted(SUITE_KEYS))}")
    name = head.get("name", Path(path).stem)
    if not isinstance(name, str) or not name.strip():
        raise fail(path, "suite.name", f"expected a non-empty string, got {name!r}")
    seeds = _seeds(path, "suite.seeds", head.get("seeds", [0]))
    features = _features(path, "suite.features", head.get("features", ["raw"]))
    threads = _positive_number(path, "suite.threads", head.get("threads", 1), integer=True)
    if threads > MAX_THREADS:
        raise fail(path, "suite.threads", f"{threads} threads is absurd; at most {MAX_THREADS}")
    time_limit = float(_positive_number(path, "suite.time_limit_s", head.get("time_limit_s", 600)))
    limit = head.get("limit", "wall")
    if limit not in LIMITS:
        raise fail(path, "suite.limit", f"expected one of {', '.join(map(repr, LIMITS))}, got {limit!r}")
    backstop = float(_positive_number(path, "suite.wall_backstop", head.get("wall_backstop", 5.0)))
    if backstop < 1:
        raise fail(path, "suite.wall_backstop", f"must be at least 1 (a multiple of time_limit_s), got {backstop:g}")
    memory = head.get("memory_limit_mb")
    if memory is not None:
        memory = float(_positive_number(path, "suite.memory_limit_mb", memory))
    device = head.get("device", "auto")
    if device not in DEVICES:
        raise fail(path, "suite.device", f"unknown device {device!r}; valid: {', '.join(DEVICES)}")
    scheduler = head.get("scheduler")
    if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler):
        raise fail(path, "suite.scheduler", f'expected a scheduler address such as "tcp://HOST:8786", got {scheduler!r}')
    validation = head.get("validation", 0.2)
    if isinstance(validation, bool) or not isinstance(validation, int | float) or not 0 <= validation <= 0.5:
        raise fail(path, "suite.validation", f"expected a fraction in [0, 0.5] (0: no validation part), got {validation!r}")
    tuning = _tuning(path, head, time_limit, float(validation), seeds)
    defaults = {
        "train_sizes": head.get("train_sizes", ["max"]),
        "test_size": head.get("test_size", 0.25),
    }
    _test_size(path, "suite.test_size", defaults["test_size"])
    _int_list(path, "suite.train_sizes", defaults["train_sizes"], allow_max=True)

    dtables = _table(path, "datasets", raw["datasets"])
    mtables = _table(path, "models", raw["models"])
    if not dtables:
        raise fail(path, "datasets", "no datasets; add a [datasets.NAME] table")
    if not mtables:
        raise fail(path, "models", "no models; add a [models.NAME] table")
    datasets = tuple(
        _dataset_spec(path, label, _table(path, f"datasets.{label}", t), defaults) for label, t in dtables.items()
    )
    models = tuple(
        _model_spec(path, label, _table(path, f"models.{label}", t), *_where_it_runs(label, datasets), tuning)
        for label, t in mtables.items()
    )
    labels = {m.label for m in models}
    for ds in datasets:
        for key in ("models", "large_models"):
            unknown = [m for m in getattr(ds, key) or () if m not in labels]
            if unknown:
                raise fail(path, f"datasets.{ds.label}.{key}",
                            f"unknown model label {unknown[0]!r}; valid: {', '.join(sorted(labels))}")
    return Suite(
        path=path,
        name=name,
        seeds=tuple(seeds),
        features=tuple(features),
        threads=int(threads),
        time_limit_s=time_limit,
        memory_limit_mb=memory,
        device=device,
        datasets=datasets,
        models=models,
        raw=raw,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        plugins=plugins,
        scheduler=scheduler,
        limit=limit,
        wall_backstop=backstop,
        validation=float(validation),
        tuning=tuning,
    )


MAX_SUITE_BYTES = 2**20  # the largest suite in suites/ is 3 KB


def load(path: str | os.PathLike, plugins: tuple[str, ...] = ()) -> Suite:
    """Read and validate a suite file; a FIFO, device, directory or oversized file is refused unread."""
    data = read_bytes(path, SuiteError, "suite file", max_bytes=MAX_SUITE_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SuiteError(f"{shown(path)}: not UTF-8 text (byte {exc.start})") from None
    return parse(text, os.fspath(path), plugins)
