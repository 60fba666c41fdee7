"""What a cell measures about a model: peak memory, time, size; and the run's environment."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import io
import os
import pickle
import platform
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np
import psutil

_PROC_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


def _status_kb(field: str) -> float | None:
    try:
        with open(_PROC_STATUS) as fh:
            match = re.search(rf"^{field}:\s+(\d+) kB", fh.read(), re.M)
    except OSError:
        return None
    return float(match.group(1)) if match else None


def quiesce(max_s: float = 0.5, step_s: float = 0.01) -> float:
    """Wait until this process's other threads stop using CPU; return the seconds waited.

    BLAS pools spin for a while after their last task (and after being started), so
    without this the CPU time of data preparation would be billed to the next fit.
    """
    proc = psutil.Process()
    me = threading.get_native_id()

    def others() -> float:
        return sum(t.user_time + t.system_time for t in proc.threads() if t.id != me)

    t0 = time.perf_counter()
    before = others()
    while time.perf_counter() - t0 < max_s:
        time.sleep(step_s)
        now = others()
        if now == before:
            break
        before = now
    return time.perf_counter() - t0


class PeakMemory:
    """Peak resident memory of this process during a block, above what it held before.

    Resident memory counts every allocation that touches pages: numpy, XGBoost, torch and
    Python objects alike. On Linux the kernel's high-water mark (VmHWM) is reset through
    /proc/self/clear_refs, so even a peak lasting microseconds is caught; elsewhere a
    thread samples the resident size every millisecond.
    """

    def __init__(self) -> None:
        self.baseline_mb = 0.0
        self.peak_mb = 0.0
        self._exact = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._proc = psutil.Process()

    def _rss_mb(self) -> float:
        return self._proc.memory_info().rss / 2**20

    def __enter__(self) -> PeakMemory:
        self.baseline_mb = self._rss_mb()
        try:
            with open(_CLEAR_REFS, "w") as fh:
                fh.write("5")
            self._exact = _status_kb("VmHWM") is not None
        except OSError:
            self._exact = False
        if not self._exact:
            self.peak_mb = self.baseline_mb
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            self.peak_mb = max(self.peak_mb, self._rss_mb())

    def __exit__(self, *exc) -> None:
        if self._exact:
            self.peak_mb = (_status_kb("VmHWM") or 0.0) / 1024
        else:
            self._stop.set()
            if self._thread:
                self._thread.join()
            self.peak_mb = max(self.peak_mb, self._rss_mb())

    @property
    def used_mb(self) -> float:
        return max(0.0, self.peak_mb - self.baseline_mb)


@dataclass
class Timer:
    """Wall and CPU time (all threads of this process) of a block."""

    wall_s: float = 0.0
    cpu_s: float = 0.0

    def __enter__(self) -> Timer:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall_s = time.perf_counter() - self._wall
        self.cpu_s = time.process_time() - self._cpu


def predictions_sha(pred) -> str:
    """A short hash of predictions; floats rounded to 7 significant digits (BLAS-order noise)."""
    p = np.asarray(pred)
    if p.dtype.kind in "fc":
        q = p.astype(np.float64)
        top = float(np.nanmax(np.abs(q))) if q.size else 0.0
        digits = 7 - int(np.floor(np.log10(top))) - 1 if top > 0 and np.isfinite(top) else 7
        data = (np.round(q, digits) + 0.0).tobytes()
    elif p.dtype.kind in "iub":
        data = p.astype(np.int64).tobytes()
    else:
        data = "\x00".join(map(str, p.ravel().tolist())).encode()
    return hashlib.sha256(str(p.shape).encode() + data).hexdigest()[:16]


def effective_params(estimator) -> dict:
    """The estimator's own hyperparameters (`get_params(deep=False)`) that are JSON scalars."""
    try:
        params = estimator.get_params(deep=False)
    except Exception:
        return {}
    out = {}
    for key, value in params.items():
        if isinstance(value, np.generic):
            value = value.item()
        if value is None or isinstance(value, bool | int | str) or (
            isinstance(value, float) and np.isfinite(value)
        ):
            out[key] = value
    return out


def serialized_bytes(estimator) -> int | None:
    """Size of the fitted model as pickled (what saving it would take)."""
    buf = io.BytesIO()
    try:
        pickle.dump(estimator, buf, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return None
    return buf.tell()


def _array_size(*arrays) -> int:
    return int(sum(np.asarray(a).size for a in arrays if a is not None))


def _tree_nodes(estimator) -> int:
    return int(estimator.tree_.node_count)


class UnknownSizeError(TypeError):
    """model_size cannot count an estimator's learned parameters (it would drop out of the size claims)."""


def _step_size(step) -> tuple[int, int, str] | None:
    """Size of one pipeline step; None for a step that learns nothing ("passthrough", None)."""
    if step is None or isinstance(step, str):
        return None
    if hasattr(step, "scale_") or hasattr(step, "mean_"):  # scalers: one or two constants per feature
        n = _array_size(getattr(step, "mean_", None), getattr(step, "scale_", None))
        return n, n, "scaling constants"
    return model_size(step)


def model_size(estimator) -> tuple[int, int, str]:
    """(learned parameter count, family size proxy, proxy unit) of a fitted estimator.

    Parameters count the numbers a model learned; the proxy is what grows with it in each
    family: tree nodes for trees and boosting, support vectors for SVMs, stored rows for KNN.
    An estimator none of the rules below knows raises UnknownSizeError: a model without a
    count would silently drop out of the report's complexity claims. Such an estimator gets
    counted by giving it a `size_info()` method returning the same triple.
    """
    if hasattr(estimator, "size_info"):
        return estimator.size_info()
    if hasattr(estimator, "steps"):  # a Pipeline: every step's parameters, the final step's proxy
        sizes = [s for s in (_step_size(step) for _, step in estimator.steps) if s is not None]
        if not sizes:
            raise UnknownSizeError(f"model_size: the pipeline {type(estimator).__name__} has no fitted step")
        return sum(n for n, _, _ in sizes), sizes[-1][1], sizes[-1][2]
    if hasattr(estimator, "support_vectors_"):
        n_sv = int(estimator.support_vectors_.shape[0])
        n = _array_size(estimator.support_vectors_, estimator.dual_coef_, estimator.intercept_)
        return n, n_sv, "support vectors"
    if hasattr(estimator, "_fit_X"):
        fit_x = estimator._fit_X
        stored = _array_size(fit_x, getattr(estimator, "_y", None))
        return stored, int(fit_x.shape[0]), "stored rows"
    if hasattr(estimator, "tree_"):
        nodes = _tree_nodes(estimator)
        return nodes, nodes, "tree nodes"
    if hasattr(estimator, "estimators_"):
        # Forests hold a list of trees, gradient boosting a 2-D array (stages x outputs).
        members = np.asarray(estimator.estimators_, dtype=object).ravel()
        if len(members) and all(hasattr(t, "tree_") for t in members):
            nodes = sum(_tree_nodes(t) for t in members)
            return nodes, nodes, "tree nodes"
    if hasattr(estimator, "_predictors"):  # scikit-learn's histogram gradient boosting
        nodes = sum(len(p.nodes) for stage in estimator._predictors for p in stage)
        return nodes, nodes, "tree nodes"
    if hasattr(estimator, "get_booster"):
        dump = estimator.get_booster().get_dump()
        nodes = sum(tree.count("\n") for tree in dump)
        return nodes, nodes, "tree nodes"
    if hasattr(estimator, "coef_"):
        n = _array_size(estimator.coef_, getattr(estimator, "intercept_", None))
        return n, n, "coefficients"
    module = getattr(estimator, "module_", None)
    if module is not None and hasattr(module, "parameters"):  # a torch network behind another wrapper
        n = int(sum(p.numel() for p in module.parameters()))
        return n, n, "network weights"
    cls = type(estimator)
    raise UnknownSizeError(
        f"model_size: cannot count the learned parameters of {cls.__name__} ({cls.__module__}); "
        "give it a size_info() method returning (n_params, size_proxy, unit)"
    )


_HASH = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")  # SHA-1, or SHA-256 repositories


def _git_dir(root: str) -> str | None:
    """The repository's git directory: `root/.git`, or where a `.git` file points (a worktree, a submodule)."""
    dot = os.path.join(root, ".git")
    if os.path.isdir(dot):
        return dot
    try:
        with open(dot, encoding="utf-8") as fh:
            line = fh.readline().strip()
    except OSError:
        return None
    if not line.startswith("gitdir:"):
        return None
    path = line[len("gitdir:"):].strip()
    return os.path.normpath(os.path.join(root, path))


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def _head_from_files(git_dir: str) -> str | None:
    """HEAD's commit read from the git directory's own files (HEAD, the ref it names, packed-refs).

    The fallback where the git command answers nothing: not installed, or refusing a repository
    that another user owns ("detected dubious ownership", git >= 2.35.2).
    """
    head = (_read(os.path.join(git_dir, "HEAD")) or "").strip()
    if _HASH.match(head):
        return head  # a detached HEAD
    if not head.startswith("ref:"):
        return None
    ref = head[len("ref:"):].strip()
    common = (_read(os.path.join(git_dir, "commondir")) or "").strip()  # a worktree's refs live in the main repository
    for base in (git_dir, os.path.normpath(os.path.join(git_dir, common)) if common else None):
        if base is None:
            continue
        loose = (_read(os.path.join(base, ref)) or "").strip()
        if _HASH.match(loose):
            return loose
        for line in (_read(os.path.join(base, "packed-refs")) or "").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == ref and _HASH.match(parts[0]):
                return parts[0]
    return None


def _git(root: str, *args: str) -> subprocess.CompletedProcess:
    # safe.directory: a repository owned by another user (a shared checkout, a container's mount)
    # is one git refuses to read otherwise; GIT_OPTIONAL_LOCKS=0: `status` leaves the index alone,
    # so a run never races a commit made beside it.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    return subprocess.run(["git", "-c", f"safe.directory={root}", *args], cwd=root, capture_output=True,
                          text=True, timeout=10, env=env)


def _git_commit(root: str | None = None) -> dict:
    """The commit the code ran from, and whether its tree differed from it.

    `commit`: HEAD's hash, or None outside a repository (an installed, not editable, package).
    `dirty`: True where tracked files differ from the commit, False where none does, None where
    that is unknown (git could not run: the commit was then read from the git directory's files).
    `untracked`: files git does not ignore and does not track (a new module a run may import).
    `source`: "git" or "files", how the commit was read.
    """
    root = root or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    unknown = {"commit": None, "dirty": None, "untracked": None, "source": None}
    git_dir = _git_dir(root)
    if git_dir is None:
        return unknown
    try:
        head = _git(root, "rev-parse", "HEAD")
        commit = head.stdout.strip() if head.returncode == 0 else ""
        if _HASH.match(commit):
            status = _git(root, "status", "--porcelain", "--untracked-files=normal")
            if status.returncode == 0:
                lines = status.stdout.splitlines()
                untracked = sum(line.startswith("??") for line in lines)
                return {"commit": commit, "dirty": len(lines) > untracked, "untracked": untracked, "source": "git"}
            return {"commit": commit, "dirty": None, "untracked": None, "source": "git"}
    except (OSError, subprocess.SubprocessError):
        pass
    commit = _head_from_files(git_dir)
    return {**unknown, "commit": commit, "source": "files"} if commit else unknown


def _cpu_info() -> dict:
    info = {"model": platform.processor() or platform.machine(), "flags": []}
    try:
        with open("/proc/cpuinfo") as fh:
            text = fh.read()
        model = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        flags = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
        if model:
            info["model"] = model.group(1).strip()
        if flags:
            info["flags"] = flags.group(1).split()
    except OSError:
        pass
    return info


def gpu_info() -> list[dict]:
    try:
        import torch
    except ImportError:
        return []
    if not torch.cuda.is_available():
        return []
    return [
        {
            "name": torch.cuda.get_device_name(i),
            "memory_gb": round(torch.cuda.get_device_properties(i).total_memory / 2**30, 2),
        }
        for i in range(torch.cuda.device_count())
    ]


LIBRARIES = (
    "numpy", "scipy", "pandas", "pyarrow", "scikit-learn", "xgboost", "torch",
    "threadpoolctl", "scikit-image", "matplotlib", "psutil",
)


@functools.cache
def host_info() -> dict:
    """Hardware of the machine a cell ran on (recorded per row for distributed runs)."""
    cpu = _cpu_info()
    return {
        "host": platform.node(),
        "cpu_model": cpu["model"],
        "cores_logical": psutil.cpu_count(logical=True),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 2),
    }


def environment(suite=None, threads: int | None = None, jobs: int = 1) -> dict:
    """Provenance recorded once per run: hardware, OS, versions, threads, commit, suite."""
    from threadpoolctl import threadpool_info

    versions = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            versions[lib] = None
    cpu = _cpu_info()
    env = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": platform.node(),
        "cpu": {
            "model": cpu["model"],
            "flags": cpu["flags"],
            "cores_logical": psutil.cpu_count(logical=True),
            "cores_physical": psutil.cpu_count(logical=False),
        },
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 2),
        "gpu": gpu_info(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "libraries": versions,
        "threads": {
            "per_cell": threads,
            "jobs": jobs,
            "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
            "threadpools": [
                {k: p.get(k) for k in ("user_api", "internal_api", "num_threads", "version")}
                for p in threadpool_info()
            ],
        },
        "git": _git_commit(),
    }
    if suite is not None:
        env["suite"] = {"path": suite.path, "name": suite.name, "sha256": suite.sha256, "content": suite.raw}
    return env
