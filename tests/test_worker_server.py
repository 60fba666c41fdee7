"""bench's own worker server (bench/execution/server.py): workers forked on request report their
messages and exit codes as multiprocessing's would, and a daemonic process (a Dask worker under
its nanny) can start one without any flag of its own changed (issue 27)."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys

import pytest

from bench.execution.server import WorkerServer, available

pytestmark = pytest.mark.skipif(not available(), reason="no fork servers on this platform")
LIMIT_S = 300.0


def _echo(value, conn) -> None:
    conn.send(("echo", value, os.getppid(), "json" in sys.modules))
    conn.close()


def _exit_with(code: int, conn) -> None:
    os._exit(code)


def _raise(conn) -> None:
    raise ValueError("in the worker")


def _wait_forever(conn) -> None:
    conn.send("waiting")
    signal.pause()


@pytest.fixture(scope="module")
def server():
    return WorkerServer(["json"], dict(os.environ))


def test_a_worker_runs_its_call_and_sends_back_over_its_channel(server):
    worker, channel = server.spawn(_echo, ({"a": 1},), LIMIT_S)
    assert channel.poll(LIMIT_S)
    assert channel.recv() == ("echo", {"a": 1}, server.pid, True)  # forked by the server, its preload loaded
    worker.join(LIMIT_S)
    assert worker.exitcode == 0 and not worker.is_alive()
    with pytest.raises(EOFError):
        channel.recv()
    channel.close()


@pytest.mark.parametrize(("target", "args", "code"), [(_exit_with, (3,), 3), (_raise, (), 1)])
def test_exit_codes_come_back_as_multiprocessing_reports_them(server, target, args, code):
    worker, channel = server.spawn(target, args, LIMIT_S)
    worker.join(LIMIT_S)
    assert worker.exitcode == code
    channel.close()


def test_a_killed_worker_reports_the_signal_and_is_not_signalled_once_reaped(server):
    worker, channel = server.spawn(_wait_forever, (), LIMIT_S)
    assert channel.recv() == "waiting" and worker.is_alive()
    worker.kill()
    worker.join(LIMIT_S)
    assert worker.exitcode == -signal.SIGKILL
    worker.terminate()  # reaped: its pid is not signalled again (it may be another process's by now)
    channel.close()


def test_a_server_that_dies_while_starting_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "broken_preload.py").write_text("raise RuntimeError('broken on import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    server = WorkerServer(["broken_preload"], dict(os.environ))
    with pytest.raises(RuntimeError, match=r"worker server \(preloading broken_preload\) exited with code 1 "
                                           r"before it was ready"):
        server.spawn(_echo, (1,), LIMIT_S)


def _start_from_daemon(conn) -> None:
    """In a daemonic multiprocessing child: start a server and a worker from it."""
    server = WorkerServer(["json"], dict(os.environ))
    worker, channel = server.spawn(_echo, ("from a daemon",), LIMIT_S)
    message = channel.recv()
    worker.join(LIMIT_S)
    conn.send((mp.current_process().daemon, message[1], worker.exitcode))


def test_a_daemonic_process_starts_a_server_and_its_workers_as_it_is():
    receive, send = mp.Pipe(duplex=False)
    daemon = mp.get_context("fork").Process(target=_start_from_daemon, args=(send,), daemon=True)
    daemon.start()
    send.close()
    assert receive.poll(LIMIT_S), "the daemonic process did not answer"
    assert receive.recv() == (True, "from a daemon", 0)
    daemon.join(LIMIT_S)
