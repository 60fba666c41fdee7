"""Run one cell in a fresh worker process under a wall-time limit and a memory cap.

A raise, a hard exit, a segfault, a hang or an out-of-memory kill in the model becomes a
row with its status; the caller's process is never at risk. The worker is forked from one of
bench's own warm worker servers (bench.execution.server), chosen by what the cell's model
declares it needs (`server_kind`).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import select
import signal
import sys
import threading
import time
import warnings

import psutil

from bench.execution.server import WorkerServer, available, wait_all
from bench.suite import Cell

TERM_GRACE_S = 3.0
# Starting a worker (forking the server, which imports the libraries once) is outside every
# cell's limit; this backstop only catches a server that never starts.
STARTUP_LIMIT_S = 600.0
STARTED = "started"  # the child's first message: the cell's clock starts now
POLL_S = 0.02
CHILD_SCAN_S = 0.25  # how often a worker's descendants (joblib processes, a search's fork) are looked for
DEFAULT_MEMORY_SHARE = 0.8  # without a cap in the suite, cells at once share 80% of the RAM

_LIVE: set = set()  # worker processes running now, for stop_all()
_LIVE_LOCK = threading.Lock()
_STOPPING = threading.Event()
# A worker that has sent its row exits while the next cell's worker starts (its exit, tearing
# down a few hundred MB of mappings, takes as long as a fork); the next worker waits for it to
# be gone before it measures anything (bench.execution.cell.after_predecessor).
_RETIRING: set = set()  # workers that sent their row and are exiting, for stop_all()
_PREDECESSOR = threading.local()  # per calling thread: the pid of its last worker that sent a row
_CACHE_DIR: str | None = None  # the split cache of the cells started from this process (use_cache_dir)
FORK_SERVERS = available()  # elsewhere every worker is a fresh interpreter

# Two warm worker servers (bench.execution.server: bench's own, started as fresh interpreters).
# A fork copies the page tables of the server's resident memory and the worker's exit tears
# them down, so both cost in proportion to what the server holds: torch and its compiler stack
# double it (about 310 MB of private memory instead of 120). Cells of models that declare they
# need torch (`@model(..., needs=("torch",))`) fork from the server with it; every other cell
# from the lean one. A model that declares nothing is taken by its family: a `deep` model needs
# torch, a `classical` one does not, and a classical model's worker that imports torch all the
# same (its fit and memory would then count torch's import) is run again from the torch server,
# which its model's later cells use at once (see `needs_torch`).
# A server also holds the thread count of its cells: it sizes every BLAS/OpenMP pool (and
# torch's) to it before forking, so that a worker never resizes a pool. Resizing OpenBLAS in a
# forked process starts its thread server, whose threads then spin for a while (sched_yield,
# about 0.1 s each) beside the cell: a 1-thread cell forked from a 2-thread server lost a
# third or more of its CPU to them, and waited for them to stop before its fit (quiesce).
# OpenBLAS starts as many threads as it was loaded with, whatever size it is set to, and
# scikit-learn sets it itself (k-NN's distance reductions call threadpool_limits at every
# predict): so the server loads it with one thread (OPENBLAS_NUM_THREADS=1, the user's value
# restored once loaded) and grows it to the cells' count, and a 1-thread worker never starts one.
SERVER_THREADS_ENV = "BENCH_SERVER_THREADS"
SERVER_RESTORE_ENV = "BENCH_SERVER_RESTORE"  # the variables to give back their values once the libraries are loaded
# This module is preloaded too: a worker's target (_child) lives here, and a worker that
# imported it spent 10-30 ms on that per cell. The plug-ins go before the last entry.
PRELOADS = {
    "lean": ["bench.execution.cell", "bench.execution.isolate", "bench.execution.preload"],
    "torch": ["bench.execution.cell", "bench.execution.isolate", "bench.execution.preload_torch",
              "bench.execution.preload"],
}
_SERVERS: dict = {}
_SERVERS_LOCK = threading.Lock()
_LATE_TORCH: set[str] = set()  # models whose cells imported torch in a lean worker (this process)
_NOTED: set[str] = set()
ROW = "row"  # the child's second message: (ROW, row, imported torch during the cell)


class CellInterrupted(RuntimeError):
    """The run was interrupted while this cell ran; it has no row and will run on --resume."""


def needs_torch(model_name: str) -> bool:
    """Whether a model's cells fork from the server with torch: it declares `needs=("torch",)`; or it
    declares nothing and is a `deep` model; or one of its cells imported torch in a lean worker.
    An unknown name (a plug-in not loaded here) takes the torch server, which serves every model."""
    from bench.models import MODELS

    if model_name in _LATE_TORCH:
        return True
    try:
        entry = MODELS[model_name]
    except KeyError:
        return True
    needs = getattr(entry, "needs", None)
    if needs is None:
        return entry.family == "deep"
    return "torch" in needs


def server_kind(cell: Cell) -> tuple[str, tuple[str, ...], int]:
    """The warm server a cell's worker forks from: "lean" or "torch" (see PRELOADS and needs_torch),
    the suite's plug-in modules, imported by that server too so that no worker imports them again,
    and the cell's thread count, to which that server sizes its thread pools."""
    kind = "torch" if needs_torch(cell.model.name) else "lean"
    return kind, tuple(cell.plugins), max(1, int(cell.threads))


def _server(key: tuple[str, tuple[str, ...], int]) -> WorkerServer:
    """The worker server for `key` (see server_kind), one per process, started at first use."""
    kind, plugins, threads = key
    with _SERVERS_LOCK:
        if key not in _SERVERS:
            # The server reads its thread count from its environment (bench.execution.preload).
            env = {**os.environ,
                   SERVER_THREADS_ENV: str(threads),
                   "OPENBLAS_NUM_THREADS": "1",
                   SERVER_RESTORE_ENV: json.dumps({"OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")})}
            _SERVERS[key] = WorkerServer([*PRELOADS[kind][:-1], *plugins, PRELOADS[kind][-1]], env)
        return _SERVERS[key]


def server_pids() -> list[int]:
    """The process ids of the worker servers this process has started (their CPU counts reaped workers')."""
    with _SERVERS_LOCK:
        return [s.pid for s in _SERVERS.values() if s.pid]


def start_worker(target, args: tuple, key: tuple[str, tuple[str, ...], int]):
    """A worker forked from the server for `key` running `target(*args, channel)`; (worker, channel).

    Where this platform has no fork servers (server.available()), a fresh interpreter instead.
    """
    if FORK_SERVERS:
        return _server(key).spawn(target, args, STARTUP_LIMIT_S)
    if mp.current_process().daemon:
        raise RuntimeError("cells cannot start their worker process from a daemonic process on a platform without "
                           "fork servers; run Dask workers with `distributed.worker.daemon: false` "
                           "(DASK_DISTRIBUTED__WORKER__DAEMON=False)")
    receive, send = mp.Pipe(duplex=False)
    # Not a daemon: joblib (KNN, forests) may start its own worker processes inside a cell.
    process = mp.get_context("spawn").Process(target=target, args=(*args, send), daemon=False)
    process.start()
    send.close()
    return process, receive


def start_servers(cells) -> None:
    """Start the servers `cells` need and wait until they are ready, so that none is still importing
    its libraries (seconds of CPU) while another's cell is measured."""
    if FORK_SERVERS:
        wait_all([_server(key) for key in sorted({server_kind(c) for c in cells})], STARTUP_LIMIT_S)


def wall_limit_s(cell: Cell) -> float:
    """The wall time a cell may take once started: its limit, or under `limit = "cpu"` the backstop."""
    return cell.time_limit_s * (cell.wall_backstop if cell.limit == "cpu" else 1.0)


def process_identity(pid: int) -> tuple[float, float] | None:
    """(creation time, creation time since boot) of process `pid`, or None when it is gone.

    Creation time alone is no identity: psutil computes it on Linux as the boot time plus the
    process's start in clock ticks, and the boot time moves with the system clock, so a clock
    step (NTP, a virtual machine restored from a snapshot) changes it for a living process. A
    reference run of 2026-12-06 lost 8 cells so ("the worker exited with code 1") when the
    virtual machine was forked under it. The time since boot does not move with the clock.
    """
    try:
        created = psutil.Process(pid).create_time()
        return created, created - psutil.boot_time()
    except psutil.Error:
        return None


def same_process(pid: int, born: tuple[float, float]) -> bool:
    """Whether `pid` is still the process whose `process_identity` was `born` (not a new one
    given the same pid): the same creation time, or the same time since boot after a clock step."""
    now = process_identity(pid)
    return now is not None and (abs(now[0] - born[0]) < 1.0 or abs(now[1] - born[1]) < 1.0)


def _watch_parent(parent_pid: int, limit_s: float) -> None:
    """End this worker when the process that started it is gone, or long past its limit.

    The worker server outlives a run killed with SIGKILL while any cell runs (each cell
    holds the server's keep-alive pipe), so without this a hanging cell would run on
    forever with no watchdog; likewise when a Dask worker dies under its cells.
    """
    born = process_identity(parent_pid)
    if born is None:
        os._exit(1)
    deadline = time.monotonic() + limit_s + 4 * TERM_GRACE_S

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if not same_process(parent_pid, born) or time.monotonic() > deadline:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="watch-parent").start()


def _child(cell: Cell, parent_pid: int, predecessor: int | None, cache_dir: str | None, conn) -> None:
    """In the worker: the cell's row, sent over `conn` after STARTED, with whether the cell imported torch."""
    from bench.execution import cell as cellmod

    _watch_parent(parent_pid, wall_limit_s(cell))
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    cellmod.after_predecessor(predecessor)
    conn.send(STARTED)
    had_torch = "torch" in sys.modules
    row = cellmod.run_cell(cell, cache_dir)
    conn.send((ROW, row, not had_torch and "torch" in sys.modules))
    conn.close()


class _Tree:
    """A worker and its descendants, for their resident memory and CPU time at every poll.

    Finding the descendants reads every process's /proc entry (about 10 ms with a hundred
    processes on a busy machine, CPU taken from the cell being measured when it polls every
    20 ms), so it is redone every CHILD_SCAN_S; the worker itself is read at every poll.
    """

    def __init__(self, proc: psutil.Process | None):
        self.proc = proc  # None: the worker was gone before it could be looked at
        self.members = [proc] if proc is not None else []
        self.scanned_at = time.monotonic()

    def usage(self) -> tuple[float, float]:
        """(resident MB, CPU seconds) of the tree, reaped children's CPU included."""
        if self.proc is None:
            return 0.0, 0.0
        now = time.monotonic()
        if now - self.scanned_at >= CHILD_SCAN_S:
            try:
                self.members = [self.proc, *self.proc.children(recursive=True)]
            except psutil.Error:
                return 0.0, 0.0
            self.scanned_at = now
        rss, cpu = 0, 0.0
        for p in self.members:
            try:
                with p.oneshot():
                    rss += p.memory_info().rss
                    t = p.cpu_times()
                    cpu += t.user + t.system + t.children_user + t.children_system
            except psutil.Error:
                pass
        return rss / 2**20, cpu


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _cgroup_oom_files() -> list[str]:
    """Files where the kernel counts OOM kills of this process's memory cgroup (v2, then v1)."""
    paths = {}
    try:
        with open("/proc/self/cgroup") as fh:
            for line in fh:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                paths[controllers] = path.lstrip("/")
    except OSError:
        return []
    out = []
    if "" in paths:
        out += [os.path.join("/sys/fs/cgroup", paths[""], "memory.events"), "/sys/fs/cgroup/memory.events"]
    v1 = next((p for c, p in paths.items() if "memory" in c.split(",")), None)
    if v1 is not None:
        out += [os.path.join("/sys/fs/cgroup/memory", v1, "memory.oom_control"),
                "/sys/fs/cgroup/memory/memory.oom_control"]
    return out


def oom_kills() -> int | None:
    """OOM kills the kernel has recorded for this cgroup so far, or None where it cannot be read."""
    for path in _cgroup_oom_files():
        try:
            with open(path) as fh:
                for line in fh:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return None


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _joined(process, timeout_s: float) -> bool:
    process.join(timeout_s)
    return not process.is_alive()


def _exited(process, timeout_s: float) -> bool:
    """Whether the worker has exited within `timeout_s`, its memory torn down.

    Its pidfd says so at once; join() would wait on until the worker server has reaped it and
    reported its exit code (the server is one more process to be scheduled on a busy machine).
    """
    try:
        fd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # no pidfd (before Linux 5.3, not Linux), or gone and reaped already
        return _joined(process, timeout_s)
    try:
        return bool(select.select([fd], [], [], timeout_s)[0])
    finally:
        os.close(fd)


def stop(process, grace_s: float = TERM_GRACE_S) -> None:
    """SIGTERM, then SIGKILL if the worker has not gone after `grace_s`."""
    if not process.is_alive():
        return
    process.terminate()
    process.join(grace_s)
    if process.is_alive():
        process.kill()
        process.join(5)


def allow_cells() -> None:
    """Start accepting cells again (a new run in this process after an interrupted one)."""
    _STOPPING.clear()


def use_cache_dir(path: str | os.PathLike | None) -> None:
    """The folder where the cells started from now on share their prepared splits, or None for no cache:
    bench.execution.runner gives a run's (RUN_DIR/.cache), a Dask worker its own."""
    global _CACHE_DIR
    _CACHE_DIR = None if path is None else str(path)


def running_cells() -> int:
    """How many cells' workers are running now in this process."""
    with _LIVE_LOCK:
        return len(_LIVE)


def stop_all() -> None:
    """Stop every running worker (the run was interrupted); their cells get no row."""
    _STOPPING.set()
    with _LIVE_LOCK:
        live = list(_LIVE) + list(_RETIRING)
    for process in live:
        stop(process, 1.0)


def _retire(process) -> None:
    """Let a worker that has sent its row exit in the background; stop it if it lingers."""

    def reap() -> None:
        if not _exited(process, 10):
            stop(process, 1.0)
        with _LIVE_LOCK:
            _RETIRING.discard(process)

    with _LIVE_LOCK:
        _RETIRING.add(process)
        _LIVE.discard(process)
    threading.Thread(target=reap, daemon=True, name="reap-worker").start()


def memory_cap_mb(cell: Cell) -> float:
    """The cell's memory cap: the suite's, or a share of this machine's memory per running cell."""
    if cell.memory_limit_mb is not None:
        return cell.memory_limit_mb
    return DEFAULT_MEMORY_SHARE * psutil.virtual_memory().total / 2**20 / max(1, cell.jobs)


def _sigkill_failure(ooms_before: int | None, peak_mb: float, limit_mb: float) -> tuple[str, str]:
    """A SIGKILL the harness did not send: `oom` only with the kernel's word for it, else `killed`."""
    ooms_after = oom_kills()
    if ooms_before is not None and ooms_after is not None and ooms_after > ooms_before:
        return ("oom", f"the kernel's out-of-memory killer ended the worker (the cgroup's OOM kill count rose "
                       f"from {ooms_before} to {ooms_after}; peak seen {peak_mb:.0f} MB)")
    evidence = ("the cgroup records no OOM kill meanwhile" if ooms_before is not None
                else "no OOM record could be read on this machine")
    return ("killed", f"the worker was killed by SIGKILL from outside the harness (peak seen {peak_mb:.0f} MB, "
                      f"under the cell's cap of {limit_mb:.0f} MB; {evidence}); the sender is unknown; "
                      "--resume runs the cell again")


def _mean(values) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _load_note(loads) -> str:
    load = _mean([*loads, _load_average()])
    cores = os.cpu_count() or 1
    if load is None:
        return ""
    busy = " (a busy machine: its timing is not comparable)" if load > 1.5 * cores else ""
    return f"; load average {load:.1f} on {cores} cores{busy}"


def run_isolated(cell: Cell) -> dict:
    """The row of one cell, run in a fresh process; failures of any kind become the row's status.

    A lean worker whose cell imported torch (a classical model that uses it without declaring
    `needs=("torch",)`) counted torch's import in its measurements: the cell runs again from the
    torch server, as that model's later cells in this process do at once.
    """
    key = server_kind(cell)
    row, late_torch = _run_in_worker(cell, key)
    if late_torch and key[0] == "lean":
        name = cell.model.name
        _LATE_TORCH.add(name)
        if name not in _NOTED:
            _NOTED.add(name)
            warnings.warn(f"model {name!r} imported torch in its cell without declaring it (@model(..., "
                          "needs=(\"torch\",))): its cells run from the worker server with torch, and this one "
                          "ran again there", stacklevel=2)
        row, _ = _run_in_worker(cell, server_kind(cell))
    return row


def _run_in_worker(cell: Cell, key) -> tuple[dict, bool]:
    """The row of one cell run in a worker from the server for `key`, and whether the cell imported torch."""
    from bench.execution.cell import base_row

    if _STOPPING.is_set():
        raise CellInterrupted(cell.key)
    args = (cell, os.getpid(), getattr(_PREDECESSOR, "pid", None), _CACHE_DIR)
    _PREDECESSOR.pid = None
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    try:
        process, receive = start_worker(_child, args, key)
    except RuntimeError as exc:  # the worker server could not start, or is gone
        row = {**base_row(cell), "started_at": started, "cell_time_s": time.perf_counter() - t0,
               "startup_s": None, "limit": cell.limit, "load_avg": _load_average()}
        row.update(status="error", info=str(exc), error_type="WorkerDied")
        return row, False
    with _LIVE_LOCK:
        _LIVE.add(process)
    try:
        watched = _Tree(psutil.Process(process.pid))
    except psutil.NoSuchProcess:  # it ran and exited before it could be looked at: its report is in the pipe
        watched = _Tree(None)
    deadline = t0 + STARTUP_LIMIT_S
    startup_s = None
    # With limit = "cpu" the cell may use time_limit_s CPU seconds per thread (what it takes on a
    # quiet machine); the wall clock stops it only far beyond that, so load does not.
    cpu_limit = cell.time_limit_s * max(1, cell.threads) if cell.limit == "cpu" else None
    wall_limit = wall_limit_s(cell)  # the worker's own watchdog (_watch_parent) allows the same, and more
    cpu_at_start, cpu_used, loads = 0.0, 0.0, []
    limit_mb = memory_cap_mb(cell)
    ooms_before = oom_kills()
    row = None
    late_torch = False
    failure: tuple[str, str] | None = None
    peak_seen = 0.0
    while True:
        if receive.poll(POLL_S):
            try:
                message = receive.recv()
            except (EOFError, OSError):
                break
            if message == STARTED and startup_s is None:
                startup_s = time.perf_counter() - t0
                deadline = t0 + startup_s + wall_limit
                cpu_at_start = watched.usage()[1]
                loads.append(_load_average())
                continue
            _, row, late_torch = message
            break
        if not process.is_alive():
            # The worker may have reported and exited between the poll above and now: read what
            # it left in the pipe before calling it dead (under load this lost finished cells as
            # "exited with code 0 before reporting a result").
            if receive.poll(0):
                continue
            break
        if time.perf_counter() > deadline:
            stop(process)
            if startup_s is None:
                failure = ("error", f"the worker did not start within {STARTUP_LIMIT_S:g} s")
            elif cpu_limit:
                failure = ("timeout", f"stopped at the wall-time backstop of {wall_limit:g} s "
                                      f"({cell.wall_backstop:g} x the {cell.time_limit_s:g} s limit), "
                                      f"having used {cpu_used:.0f} CPU s of {cpu_limit:g}{_load_note(loads)}")
            else:
                failure = ("timeout", f"stopped after the cell's time limit of {cell.time_limit_s:g} s{_load_note(loads)}")
            break
        rss_mb, cpu_s = watched.usage()
        peak_seen = max(peak_seen, rss_mb)
        if startup_s is not None:
            cpu_used = cpu_s - cpu_at_start
            if cpu_limit and cpu_used > cpu_limit:
                stop(process)
                failure = ("timeout", f"stopped after {cpu_used:.0f} CPU s, over the cell's CPU-time limit of "
                                      f"{cell.time_limit_s:g} s x {max(1, cell.threads)} thread(s){_load_note(loads)}")
                break
        if peak_seen > limit_mb:
            process.kill()
            failure = ("oom", f"stopped at {peak_seen:.0f} MB, over the cell's memory cap of {limit_mb:.0f} MB")
            break
    if row is not None:
        _retire(process)
        _PREDECESSOR.pid = process.pid
    elif not _joined(process, 10):
        stop(process, 1.0)
    with _LIVE_LOCK:
        _LIVE.discard(process)
    receive.close()
    loads.append(_load_average())
    limits = {"startup_s": startup_s, "limit": cell.limit, "load_avg": _mean(loads)}
    if row is not None:
        row.update(limits)
        return row, late_torch
    if _STOPPING.is_set():
        raise CellInterrupted(cell.key)
    row = {**base_row(cell), "started_at": started, "cell_time_s": time.perf_counter() - t0, **limits}
    if failure is None:
        code = process.exitcode
        if code is not None and code < 0 and -code == signal.SIGKILL:
            failure = _sigkill_failure(ooms_before, peak_seen, limit_mb)
        elif code is not None and code < 0:
            failure = ("error", f"the worker died from {_signal_name(code)}")
        else:
            failure = ("error", f"the worker exited with code {code} before reporting a result")
    row.update(status=failure[0], info=failure[1], error_type=failure[0] if failure[0] != "error" else "WorkerDied")
    if failure[0] in ("oom", "killed") and peak_seen:
        row["peak_memory_mb"] = peak_seen
    return row, False
