"""The regression check's driver: one per side, it runs that side's samples on request.

`bench.regress.sides` writes this file into the check's temporary folder and runs it as a
script, `python _bench_regress_driver.py PLUGIN...`, with PYTHONPATH pointing at one side's
code; the plugins (the side's probe settings module) are named in every cell it runs. It
runs under either side's code, and the base side may predate `bench.regress`: it imports
nothing of `bench.regress`, only bench's harness (`bench.execution.isolate`). A harness from
before the execution package (e.g. 348767e) is refused: its rows lack the predictions hash
and the predict CPU time the check compares.

Protocol, one JSON object a line: the driver writes {"ready": true, "bench": <the bench
package it imported>, "foreign": <bench modules it loaded from elsewhere>, "error": <why this
side cannot run, or null>}; then for each request {"name": ..., "toml": <a one-cell suite>} it
reads, it runs that cell in a fresh measured process (`run_isolated`, as `bench run` does)
and writes the row back, without its private keys (those starting with "_", e.g. the test
predictions a run folder keeps). Anything else the harness prints goes to stderr (the side's log).
"""

import json
import math
import os
import sys


def clean(v):
    """A JSON-safe value: numpy scalars as Python ones, NaN and infinities as null."""
    if hasattr(v, "item") and not isinstance(v, str | bytes):
        try:
            v = v.item()
        except Exception:
            v = str(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return str(v)


def _has(*parts) -> bool:
    """Whether this side's own `bench` folder holds the file `parts`.

    Read from the side's folder, not found by trying imports: with bench installed in
    editable mode, the installer's import hook finds `bench.execution` in the installed
    (working-tree) copy even when this side's `bench` lacks it, and would mix the two
    versions' code.
    """
    import bench

    return os.path.exists(os.path.join(os.path.dirname(bench.__file__), *parts))


def harness_problem() -> str | None:
    """Why this side's harness cannot be checked, or None."""
    if not _has("execution", "isolate.py"):
        return ("its harness predates the execution package (a69106e): its rows lack predictions_sha and "
                "predict_cpu_s, which the check compares; choose a base revision at or after a69106e")
    return None


def harness_run_isolated():
    """The harness's `run_isolated` (`bench.execution.isolate`)."""
    from bench.execution.isolate import run_isolated

    return run_isolated


def name_plugins_for_old_servers(plugins) -> None:
    """Name `plugins` in BENCH_PLUGINS too, for a harness without cell hooks.

    Such a harness (every revision before bench.execution.hooks, e.g. the stored baseline's
    5842a87) may import into its worker servers only the plugins named in that variable,
    its interface for them then; a later one imports each cell's own plugins there.
    """
    if plugins and not _has("execution", "hooks.py"):
        named = [p for p in os.environ.get("BENCH_PLUGINS", "").split(",") if p.strip()]
        os.environ["BENCH_PLUGINS"] = ",".join(dict.fromkeys([*plugins, *named]))


def foreign_modules() -> list[str]:
    """Loaded bench modules that are not from this side's `bench` folder (should be none)."""
    import bench

    home = os.path.dirname(os.path.abspath(bench.__file__))
    out = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if (name == "bench" or name.startswith("bench.")) and path:
            if not os.path.abspath(path).startswith(home + os.sep):
                out.append(f"{name} from {path}")
    return sorted(out)


def run_one(request: dict, run_isolated, plugins=()) -> dict:
    """The row of the one-cell suite in `request`, its cell with `plugins`; an error row when it
    cannot run. Private keys (the test predictions) stay out."""
    from bench.suite import parse, plan

    try:
        cells, _ = plan(parse(request["toml"], request["name"] + ".toml", tuple(plugins)))
        if len(cells) != 1:
            raise ValueError(f"expected one cell, got {len(cells)}")
        row = run_isolated(cells[0])
    except Exception as exc:
        row = {"status": "error", "info": f"{type(exc).__name__}: {exc}"}
    return {k: clean(v) for k, v in row.items() if not str(k).startswith("_")}


def main() -> None:
    out = os.fdopen(os.dup(1), "w", buffering=1)  # the protocol's own channel
    os.dup2(2, 1)  # so that prints of the harness or of a model cannot break the protocol
    import bench

    plugins = tuple(sys.argv[1:])
    problem = harness_problem()
    hello = {"ready": True, "bench": bench.__file__, "foreign": foreign_modules(), "error": problem}
    if problem is not None:
        out.write(json.dumps(hello) + "\n")
        return
    name_plugins_for_old_servers(plugins)
    run_isolated = harness_run_isolated()
    hello["foreign"] = foreign_modules()
    out.write(json.dumps(hello) + "\n")
    for line in sys.stdin:
        out.write(json.dumps(run_one(json.loads(line), run_isolated, plugins)) + "\n")


# Also imported, not run, as __mp_main__ by each forkserver worker of this driver.
if __name__ == "__main__":
    main()
