"""The stored baseline (results/baseline/regress.json) and the git handling of the base revision.

The baseline holds the working tree's figures at one commit (`made_from`): scores and the
predictions hash (judged exactly), peak memory, and time samples (used only when the base
revision cannot be run). It also records the CPU and library versions, so that differences
the environment explains are told apart from regressions.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path

from bench.atomic import atomic_write
from bench.measure import LIBRARIES, _git_commit, host_info
from bench.regress.judgement import HIGHER_IS_BETTER, TIME_FIGURES, WALL_FIGURES, median_of, ok_rows
from bench.regress.suite import ROOT, Benchmark, RegressError, RegressSuite

DEFAULT_BASELINE = "results/baseline"
BASELINE_FILE = "regress.json"


def _git(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:  # no git, or not a repository
        return subprocess.CompletedProcess(["git", *args], 1, "", str(exc))


def resolve_commit(rev: str) -> str | None:
    """The full hash of `rev`, or None when this clone does not have it."""
    res = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    return res.stdout.strip() if res.returncode == 0 and res.stdout.strip() else None


def checkout(commit: str, into: Path) -> None:
    """The code of `commit` in the folder `into` (a detached git worktree)."""
    res = _git("worktree", "add", "--detach", "--force", str(into), commit)
    if res.returncode != 0:
        raise RegressError(f"git worktree add of {commit[:12]} failed: {res.stderr.strip()}")


def remove_checkout(path: Path) -> None:
    res = _git("worktree", "remove", "--force", str(path))
    if res.returncode != 0:
        shutil.rmtree(path, ignore_errors=True)
        _git("worktree", "prune")


def _dirty_files() -> list[str]:
    """Tracked files with uncommitted changes, outside the baseline folder."""
    res = _git("status", "--porcelain", "--untracked-files=no", "--", ".", f":!{DEFAULT_BASELINE}")
    return sorted(line[3:] for line in res.stdout.split("\n") if line.strip())


def versions() -> dict:
    """Python's and the measured libraries' versions (bench.measure.LIBRARIES)."""
    out = {"python": platform.python_version()}
    for lib in LIBRARIES:
        try:
            out[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            out[lib] = None
    return out


def version_changes(recorded: dict | None) -> str:
    """'lib old -> new, ...' for the versions a baseline recorded that differ now; '' when none."""
    now = versions()
    return ", ".join(f"{k} {v} -> {now.get(k)}" for k, v in (recorded or {}).items() if now.get(k) != v)


def cpu_model() -> str:
    return host_info().get("cpu_model") or platform.machine()


def read_baseline(folder: Path) -> dict | None:
    path = folder / BASELINE_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text())


def write_baseline(folder: Path, suite: RegressSuite, rows: dict, benchmarks: list[Benchmark]) -> Path:
    """Write folder/regress.json from the working tree's rows {benchmark: [rows]}."""
    data = {
        "made_from": _git_commit()["commit"],
        "dirty_files": _dirty_files(),
        "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "suite": os.path.relpath(suite.path, ROOT) if os.path.isabs(suite.path) else suite.path,
        "suite_sha": suite.sha,
        "samples": suite.samples,
        "cpu_model": cpu_model(),
        "versions": versions(),
        "benchmarks": {},
    }
    for b in benchmarks:
        ok = ok_rows(rows[b.name])
        if not ok:
            bad = rows[b.name][0] if rows[b.name] else {}
            raise RegressError(f"cannot write the baseline: {b.name} did not run: {bad.get('status')}: {bad.get('info')}")
        first = ok[0]
        entry = {"model": b.model, "dataset": b.dataset}
        entry.update({k: first.get(k) for k in ("score", "train_score", "predictions_sha", *HIGHER_IS_BETTER)
                      if first.get(k) is not None})
        entry["peak_memory_mb"] = round(median_of(ok, "peak_memory_mb"), 3)
        for fig in WALL_FIGURES:
            entry[fig] = median_of(ok, fig)
        for fig in TIME_FIGURES:
            entry[fig] = median_of(ok, fig)
            entry[f"{fig}_samples"] = [r[fig] for r in ok if r.get(fig) is not None]
        data["benchmarks"][b.name] = entry
    folder.mkdir(parents=True, exist_ok=True)
    return atomic_write(folder / BASELINE_FILE, json.dumps(data, indent=1, sort_keys=False) + "\n")
