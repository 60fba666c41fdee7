"""Read a run folder for the report: its results table, environment.json and plan.json.

A file the report cannot read (not a regular file, not UTF-8, not JSON, the wrong shape)
is a RunError in one line that names it and says how to build the report without it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from bench import results
from bench.errors import RunError
from bench.inputs import read_bytes, shown


def load_run(run_dir: str | os.PathLike, table: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict | None]:
    """A run folder's results table (`table` when the caller read it already) and environment.json."""
    run_dir = Path(run_dir)
    if not (run_dir / "results.parquet").exists() and not (run_dir / results.ROWS_FILE).exists():
        raise FileNotFoundError(f"{run_dir}: no results.parquet or {results.ROWS_FILE} (is it a run folder?)")
    df = results.load(run_dir) if table is None else table
    env_path = run_dir / "environment.json"
    env = environment(env_path) if os.path.lexists(env_path) else None
    return df, env


MAX_JSON_BYTES = 2**26  # an environment.json or plan.json is a few KB


def json_file(path: Path):
    """The JSON value of a run folder's file; RunError in one line when it is not a regular file or not JSON."""
    data = read_bytes(path, RunError, "JSON file", max_bytes=MAX_JSON_BYTES)  # a FIFO is refused, not read for ever
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RunError(f"{shown(path)}: not UTF-8 text (byte {exc.start}), not the JSON a run writes; delete it to "
                       "build the report without it") from None
    except (ValueError, RecursionError) as exc:
        raise RunError(f"{shown(path)}: not valid JSON ({results.first_line_of(exc)}); delete it to build the "
                       "report without it") from None


ENV_TABLES = ("cpu", "git", "threads", "suite", "libraries")  # environment.json keys whose values are objects


def environment(path: Path) -> dict:
    env = json_file(path)
    if not isinstance(env, dict):
        raise RunError(f"{shown(path)}: holds a JSON {type(env).__name__}, not the object a run writes; delete it "
                       "to build the report without the run's environment")
    for key in ENV_TABLES:
        if env.get(key) is not None and not isinstance(env[key], dict):
            raise RunError(f"{shown(path)}: its {key!r} is a JSON {type(env[key]).__name__}, not an object; delete "
                           "the file to build the report without the run's environment")
    if env.get("gpu") is not None and not isinstance(env["gpu"], list):
        raise RunError(f"{shown(path)}: its 'gpu' is a JSON {type(env['gpu']).__name__}, not a list; delete the "
                       "file to build the report without the run's environment")
    if not isinstance(env.get("threads", {}).get("env") or {}, dict):
        raise RunError(f"{shown(path)}: its threads.env is not an object; delete the file to build the report "
                       "without the run's environment")
    return env

