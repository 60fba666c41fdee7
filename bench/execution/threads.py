"""The thread pools of this process: BLAS/OpenMP (threadpoolctl) and torch's, sized for a cell."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading

from threadpoolctl import ThreadpoolController


@functools.cache
def threadpools() -> ThreadpoolController:
    """One scan of the loaded BLAS/OpenMP libraries (slow), made in the worker server and inherited."""
    return ThreadpoolController()


def size_pools(n: int) -> None:
    """Every BLAS/OpenMP pool, and torch's when it is loaded, at `n` threads, for good.

    Made in a worker server before it forks (bench.execution.preload), so that its workers,
    whose cells run at `n` threads, find their pools at that size and never resize one:
    resizing OpenBLAS in a forked process starts its thread server, and those threads spin
    beside the cell for about 0.1 s (a 1-thread cell lost a third or more of its CPU to them).
    """
    for lib in threadpools().lib_controllers:
        if lib.get_num_threads() != n:
            lib.set_num_threads(n)
    _set_torch_threads(n)


@contextlib.contextmanager
def thread_limit(n: int):
    """threadpoolctl's limit of every BLAS/OpenMP pool to `n` threads, setting only pools not at `n`.

    Setting a pool's size costs about a millisecond (OpenBLAS stops or starts its threads),
    and most cells run at the size the pools already have.
    """
    changed = []
    for lib in threadpools().lib_controllers:
        before = lib.get_num_threads()
        if before != n:
            lib.set_num_threads(n)
            changed.append((lib, before))
    try:
        yield
    finally:
        for lib, before in reversed(changed):
            lib.set_num_threads(before)


def _set_torch_threads(threads: int) -> None:
    # Called in every worker, even where the server set the same count: torch resets its thread
    # state at a fork, and its first parallel call would otherwise initialise it (and allocate)
    # inside the measured fit.
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def _other_threads_running() -> bool:
    """Whether a thread of this process other than the caller is running or runnable (state R).

    A spinning BLAS or OpenMP thread is; a thread blocked on a lock or a sleep is not and uses
    no CPU. Where /proc cannot tell, True (quiesce() then watches the threads' CPU time).
    """
    me = str(threading.get_native_id())
    try:
        tasks = [t for t in os.listdir("/proc/self/task") if t != me]
    except OSError:
        return True
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # ended meanwhile
        if state == b"R":
            return True
    return False
