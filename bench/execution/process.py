"""Process plumbing of a cell's worker: waiting for its predecessor to exit, forked helpers
that die with it, and an error as one row's text."""

from __future__ import annotations

import os
import pickle
import select
import signal
import time
import traceback

import psutil

_PREDECESSOR: int | None = None  # a worker of the same executor thread, still exiting when this one started


def after_predecessor(pid: int | None) -> None:
    """Measure nothing before process `pid` has exited (bench.execution.isolate starts this worker while the
    last one, its row sent, still tears down its memory)."""
    global _PREDECESSOR
    _PREDECESSOR = pid


def _await_predecessor(timeout_s: float = 60.0) -> None:
    global _PREDECESSOR
    pid, _PREDECESSOR = _PREDECESSOR, None
    if not pid:
        return
    try:
        fd = os.pidfd_open(pid)
    except AttributeError:  # no pidfd here: watch the pid until it is reaped
        deadline = time.monotonic() + timeout_s
        while psutil.pid_exists(pid) and time.monotonic() < deadline:
            time.sleep(0.001)
        return
    except OSError:  # exited and reaped already
        return
    try:
        select.select([fd], [], [], timeout_s)
    finally:
        os.close(fd)


def in_forked_child(fn):
    """fn() run in a forked copy of this process; its (pickled) result, or its error raised here.

    The copy dies with this process (PR_SET_PDEATHSIG), so a cell stopped at its limit leaves
    nothing behind; its memory and CPU count in the cell's process tree meanwhile.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            os.close(read_fd)
            _die_with_parent()
            try:
                payload = pickle.dumps(("ok", fn()))
            except BaseException as exc:  # noqa: BLE001  (everything goes back to the parent)
                try:
                    payload = pickle.dumps(("error", exc))
                except Exception:
                    payload = pickle.dumps(("error", RuntimeError(error_text(exc))))
            with os.fdopen(write_fd, "wb") as fh:
                fh.write(payload)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        payload = fh.read()
    _, status = os.waitpid(pid, 0)
    if not payload:
        raise RuntimeError(f"the process making the cell's choices on validation rows died ({_wait_text(status)})")
    kind, value = pickle.loads(payload)
    if kind == "error":
        raise value
    return value


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _wait_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"


def error_text(exc: BaseException) -> str:
    tb = traceback.format_exception(exc)
    head = f"{type(exc).__name__}: {exc}"
    tail = "".join(tb[-3:]) if len(tb) > 1 else ""
    return (head + ("\n" + tail if tail else ""))[:4000]
