"""The regression check's driver: one per side, it runs that side's samples on request.

`bench.regress.sides` writes this file into the check's temporary folder and runs it as a
script with PYTHONPATH pointing at one side's code. It runs under either side's code, and
the base side may predate `bench.regress`: it imports nothing of `bench.regress`, only
bench's harness, in either layout (`bench.execution.isolate`, or `bench.isolate` before the
execution package, e.g. 348767e).

Protocol, one JSON object a line: the driver writes {"ready": true, "bench": <the bench
package it imported>, "foreign": <bench modules it loaded from elsewhere>}; then for each request {"name": ..., "toml": <a one-cell suite>} it
reads, it runs that cell in a fresh measured process (`run_isolated`, as `bench run` does)
and writes the row back. Anything else the harness prints goes to stderr (the side's log).
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


def harness_run_isolated():
    """The harness's `run_isolated`, from this side's layout.

    The layout is read from the side's own folder, not found by trying imports: with bench
    installed in editable mode, the installer's import hook finds `bench.execution` in the
    installed (working-tree) copy even when this side's `bench` lacks it, and would mix the
    two versions' code.
    """
    import bench

    if os.path.exists(os.path.join(os.path.dirname(bench.__file__), "execution", "isolate.py")):
        from bench.execution.isolate import run_isolated
    else:  # before the execution package (e.g. 348767e)
        from bench.isolate import run_isolated
    return run_isolated


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


def run_one(request: dict, run_isolated) -> dict:
    """The row of the one-cell suite in `request`; an error row when it cannot run."""
    from bench.suite import parse, plan

    try:
        cells, _ = plan(parse(request["toml"], request["name"] + ".toml"))
        if len(cells) != 1:
            raise ValueError(f"expected one cell, got {len(cells)}")
        row = run_isolated(cells[0])
    except Exception as exc:
        row = {"status": "error", "info": f"{type(exc).__name__}: {exc}"}
    return {k: clean(v) for k, v in row.items()}


def main() -> None:
    out = os.fdopen(os.dup(1), "w", buffering=1)  # the protocol's own channel
    os.dup2(2, 1)  # so that prints of the harness or of a model cannot break the protocol
    import bench

    run_isolated = harness_run_isolated()
    hello = {"ready": True, "bench": bench.__file__, "foreign": foreign_modules()}
    out.write(json.dumps(hello) + "\n")
    for line in sys.stdin:
        out.write(json.dumps(run_one(json.loads(line), run_isolated)) + "\n")


# Also imported, not run, as __mp_main__ by each forkserver worker of this driver.
if __name__ == "__main__":
    main()
