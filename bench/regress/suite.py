"""The regression suite (suites/regress.toml): its benchmarks, and their validation.

Each benchmark is one harness cell, one model on one dataset at one training size, written
out as a one-cell harness suite (`Benchmark.toml`) that both sides of the check run.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SUITE = "suites/regress.toml"
HEAD_KEYS = ("device", "samples", "seed", "test_size", "threads", "time_limit_s")
BENCHMARK_KEYS = ("dataset", "dataset_params", "model", "params", "samples", "train_size")


class RegressError(RuntimeError):
    """The check cannot run as asked (bad suite, unknown revision...)."""


@dataclass(frozen=True)
class Benchmark:
    name: str
    model: str
    dataset: str
    toml: str  # a one-cell harness suite
    samples: int | None = None  # per-benchmark override of the suite's samples


@dataclass(frozen=True)
class RegressSuite:
    path: str
    samples: int
    benchmarks: tuple[Benchmark, ...]
    sha: str


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float | str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise RegressError(f"unsupported value {v!r}")


def _benchmark(path: str, name: str, table: dict, head: dict) -> Benchmark:
    t = dict(table)
    model = t.pop("model", name)
    dataset = t.pop("dataset", None)
    size = t.pop("train_size", None)
    dparams = t.pop("dataset_params", {})
    params = t.pop("params", {})
    n_samples = t.pop("samples", None)
    if n_samples is not None and (not isinstance(n_samples, int) or n_samples < 3):
        raise RegressError(f"{path}: [benchmarks.{name}.samples] expected an integer >= 3, got {n_samples!r}")
    if not dataset or not isinstance(size, int):
        raise RegressError(f"{path}: [benchmarks.{name}] needs dataset = \"...\" and train_size = N")
    if t:
        raise RegressError(
            f"{path}: [benchmarks.{name}.{sorted(t)[0]}] unknown key; valid: {', '.join(BENCHMARK_KEYS)}"
        )
    lines = [
        "[suite]",
        f"name = {json.dumps('regress-' + name)}",
        f"seeds = [{int(head.get('seed', 0))}]",
        f"train_sizes = [{size}]",
        f"test_size = {_toml_value(head.get('test_size', 0.25))}",
        f"threads = {int(head.get('threads', 1))}",
        f"time_limit_s = {_toml_value(head.get('time_limit_s', 300))}",
        f"device = {json.dumps(head.get('device', 'cpu'))}",
        f"[datasets.{dataset}]",
        *(f"{k} = {_toml_value(v)}" for k, v in dparams.items()),
        f"[models.{name}]",
        f"model = {json.dumps(model)}",
        *(f"{k} = {_toml_value(v)}" for k, v in params.items()),
    ]
    return Benchmark(name=name, model=model, dataset=dataset, toml="\n".join(lines) + "\n", samples=n_samples)


def load_suite(path: str | os.PathLike) -> RegressSuite:
    """suites/regress.toml: a [regress] table of shared settings and one [benchmarks.NAME] each."""
    path = str(path)
    try:
        text = Path(path).read_text()
        raw = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegressError(f"{path}: cannot read the regression suite: {exc}") from None
    head = raw.get("regress", {})
    for key in head:
        if key not in HEAD_KEYS:
            raise RegressError(f"{path}: [regress.{key}] unknown key; valid: {', '.join(HEAD_KEYS)}")
    benches = raw.get("benchmarks")
    if not benches:
        raise RegressError(f"{path}: [benchmarks] no benchmarks; add a [benchmarks.NAME] table")
    return RegressSuite(
        path=path,
        samples=int(head.get("samples", 7)),
        benchmarks=tuple(_benchmark(path, name, t, head) for name, t in benches.items()),
        sha=hashlib.sha256(text.encode()).hexdigest()[:16],
    )


def validate(suite: RegressSuite) -> list[str]:
    """Check each benchmark's one-cell suite against this working tree's harness.

    A benchmark of a model or dataset this tree does not register is skipped (returned as a
    warning: a model still being written, or removed); any other problem is an error.
    """
    from bench.datasets import DATASETS
    from bench.models import MODELS
    from bench.plugins import load_plugins
    from bench.suite import SuiteError, parse, plan

    load_plugins()
    skipped = []
    for b in suite.benchmarks:
        missing = [f"model {b.model!r}"] if b.model not in MODELS else []
        missing += [f"dataset {b.dataset!r}"] if b.dataset not in DATASETS else []
        if missing:
            skipped.append(f"{b.name}: {' and '.join(missing)} not registered in this tree; benchmark skipped")
            continue
        try:
            cells, _ = plan(parse(b.toml, f"{suite.path} [benchmarks.{b.name}]"))
        except SuiteError as exc:
            raise RegressError(str(exc)) from None
        if len(cells) != 1:
            raise RegressError(
                f"{suite.path}: [benchmarks.{b.name}] model {b.model!r} cannot run on {b.dataset!r}"
            )
    return skipped
