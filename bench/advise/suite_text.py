"""`bench advise`, step 3's output: the planned protocol written as a suite file (TOML) for the runner."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from bench.advise.inspect import VALIDATION, Profile


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string: JSON's escapes


@dataclass(frozen=True)
class Protocol:
    """What the suite runs; `suite_text` writes it."""

    name: str
    models: tuple[str, ...]
    sizes: tuple[int, ...]
    seeds: tuple[int, ...]
    features: tuple[str, ...]
    threads: int
    time_limit_s: float
    trials: int = 0  # 0: default configurations only
    time_s: float | None = None  # each tuned cell's search time
    description: str = ""


def suite_text(profile: Profile, p: Protocol, header: Iterable[str] = ()) -> str:
    lines = [f"# {h}" for h in header]
    lines += [
        "[suite]",
        f"name = {_toml(p.name)}",
        f"description = {_toml(p.description or 'written by bench advise')}",
        f"seeds = {_toml(list(p.seeds))}",
        f"features = {_toml(list(p.features))}",
        f"threads = {p.threads}",
        f"time_limit_s = {_toml(round(float(p.time_limit_s), 1))}",
        f"validation = {VALIDATION}",
        'device = "auto"',
    ]
    if profile.test_size is not None:
        lines.append(f"test_size = {_toml(profile.test_size)}")
    if p.trials:
        lines += ["", "[suite.tuning]", f"trials = {p.trials}"]
        if p.time_s is not None:
            lines.append(f"time_s = {_toml(round(float(p.time_s), 1))}")
        lines += ['modes = ["default", "tuned"]', 'sizes = "largest"']
    lines += ["", f"[datasets.{profile.label}]", f"dataset = {_toml(profile.dataset)}"]
    lines += [f"{key} = {_toml(value)}" for key, value in profile.params.items()]
    lines.append(f"train_sizes = {_toml(list(p.sizes))}")
    for name in p.models:
        lines += ["", f"[models.{name}]"]
    return "\n".join(lines) + "\n"
