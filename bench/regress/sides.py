"""The two sides of the check: a driver process per version of the code, and their sampling.

Each side's driver (driver.py) imports `bench` from that side's code (PYTHONPATH) and runs
each sample through the harness's own `run_isolated`, a fresh measured process per sample.
The probe (probe.py) is loaded into both sides as a plugin, through a settings module per
side that holds that side's settings (what to preload, what to inject); the driver is given
its name on its command line. The base side may predate this package, so these files are
written into the check's temporary folder and run from there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.regress.judgement import HIGHER_IS_BETTER
from bench.regress.probe import MODULE_NAME as PROBE_MODULE
from bench.regress.probe import parse_injections, settings_source
from bench.regress.suite import Benchmark

_HERE = Path(__file__).resolve().parent
PROBE_SOURCE = (_HERE / "probe.py").read_text()
DRIVER_SOURCE = (_HERE / "driver.py").read_text()
DRIVER_FILE = "_bench_regress_driver.py"
KEPT = ("status", "info", "fit_time_s", "fit_cpu_s", "predict_time_s", "predict_cpu_s", "peak_memory_mb",
        "predictions_sha", "score", "train_score", *HIGHER_IS_BETTER)


def write_helpers(folder: Path) -> None:
    """The probe (as the module `_bench_regress_probe`) and the driver, into `folder`."""
    (folder / f"{PROBE_MODULE}.py").write_text(PROBE_SOURCE)
    (folder / DRIVER_FILE).write_text(DRIVER_SOURCE)


def write_settings(folder: Path, label: str, inject: str | None, preload: tuple[str, ...]) -> str:
    """One side's probe settings, as the plugin module `_bench_regress_probe_LABEL` in `folder`; its name."""
    if inject:
        parse_injections(inject)  # a malformed injection is refused here, before a side starts
    name = f"{PROBE_MODULE}_{label}"
    (folder / f"{name}.py").write_text(settings_source(inject, preload))
    return name


class Side:
    """One version of the code, in a long-lived driver that runs samples on request.

    `helpers` is the folder `write_helpers` filled; the side's probe settings (`inject`, the
    regressions to inject, and `preload`, the modules its worker servers import) are written
    there too. The driver's stderr goes to `log_dir/LABEL.log`. A side that cannot start sets
    `error` and returns error rows.
    """

    def __init__(self, label: str, root: Path, helpers: Path, log_dir: Path, inject: str | None = None,
                 preload: tuple[str, ...] = ("torch",)):
        self.label = label
        self.root = root
        self.error: str | None = None
        settings = write_settings(helpers, label, inject, preload)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(root), str(helpers)])
        env["PYTHONHASHSEED"] = "0"
        env.pop("BENCH_CACHE_DIR", None)  # a harness that reads its split cache from there uses none
        self.log_path = log_dir / f"{label}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, str(helpers / DRIVER_FILE), settings],
            cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._log, text=True, bufsize=1,
        )
        hello = self._read()
        if hello is None:
            self.error = f"the {label} side did not start: {self.log_tail()}"
        elif hello.get("error"):
            self.error = f"the {label} side cannot be checked: {hello['error']}"
        elif Path(hello.get("bench", "")).resolve().parent.parent != root.resolve():
            self.error = f"the {label} side imported bench from {hello.get('bench')}, not from {root}"
        elif hello.get("foreign"):
            self.error = f"the {label} side mixed in code from elsewhere: {'; '.join(hello['foreign'][:3])}"

    def _read(self) -> dict | None:
        line = self.proc.stdout.readline()
        if not line:
            return None
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            return None

    def log_tail(self, n: int = 1500) -> str:
        self._log.flush()
        try:
            return self.log_path.read_text()[-n:].strip() or "(no output)"
        except OSError:
            return "(no log)"

    def run(self, b: Benchmark) -> dict:
        """One sample of `b`: the row's figures the check keeps (KEPT)."""
        if self.error:
            return {"status": "error", "info": self.error}
        try:
            self.proc.stdin.write(json.dumps({"name": b.name, "toml": b.toml}) + "\n")
            self.proc.stdin.flush()
        except OSError:
            self.error = f"the {self.label} side's driver died: {self.log_tail()}"
            return {"status": "error", "info": self.error}
        row = self._read()
        if row is None:
            self.error = f"the {self.label} side's driver died: {self.log_tail()}"
            return {"status": "error", "info": self.error}
        return {k: row.get(k) for k in KEPT}

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(20)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def sample(sides: list[Side], benchmarks: list[Benchmark], rounds: int, say=print) -> dict:
    """{side label: {benchmark: [rows]}}, samples interleaved A B / B A across rounds and benchmarks."""
    rows: dict[str, dict[str, list[dict]]] = {s.label: {b.name: [] for b in benchmarks} for s in sides}
    for r in range(rounds):
        t0 = time.perf_counter()
        for i, b in enumerate(benchmarks):
            if b.samples is not None and r >= b.samples and rounds > 1:
                continue
            order = sides if (r + i) % 2 == 0 else list(reversed(sides))
            for side in order:
                rows[side.label][b.name].append(side.run(b))
        say(f"  round {r + 1}/{rounds}: {time.perf_counter() - t0:.1f} s")
    return rows
