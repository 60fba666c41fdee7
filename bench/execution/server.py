"""bench's own warm worker server: a process that imports the libraries once and forks a worker per cell.

    WorkerServer(preloads, env)      started on first use: a fresh interpreter (`python -c`, not a
      │                              multiprocessing child, so a daemonic process such as a Dask
      │                              worker may start one) that imports `preloads` and waits
      ▼
    server.spawn(target, args)       over a socket pair: the call, pickled, and two pipe ends
      │                              (the worker's channel to the caller, and its status pipe)
      ▼
    the server forks; the worker     runs target(*args) and exits (os._exit); the server reaps
                                     it and writes its exit code to the status pipe

The caller holds a `Worker` (pid, is_alive, join, exitcode, terminate, kill), read from the
status pipe: the worker is the server's child, not the caller's. Every exchange uses public
APIs (socket.send_fds, os.fork, os.waitpid, signal.set_wakeup_fd); nothing of multiprocessing's
is replaced or read. POSIX only (`available()`): elsewhere bench.execution.isolate starts
each worker as a fresh interpreter instead.

`Channel` is the worker's line to the caller: pickled messages, length-prefixed, on a pipe.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

_HEADER = struct.Struct("<Q")  # a message's length
_CODE = struct.Struct("<i")  # a pid, then an exit code, on a worker's status pipe
READY = b"R"
UNKNOWN_EXIT = 255  # the server died before it could report a worker's exit code


def available() -> bool:
    """Whether this platform has what the server needs (fork, and descriptors over Unix sockets)."""
    return hasattr(os, "fork") and hasattr(socket, "send_fds") and hasattr(socket, "AF_UNIX")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, n: int) -> bytes:
    data = b""
    while len(data) < n:
        block = os.read(fd, n - len(data))
        if not block:
            break
        data += block
    return data


class Channel:
    """One end of a one-way pipe carrying pickled messages (the worker sends, the caller receives)."""

    def __init__(self, fd: int):
        self.fd = fd

    @classmethod
    def pipe(cls) -> tuple[Channel, Channel]:
        """(receiving end, sending end)."""
        r, w = os.pipe()
        return cls(r), cls(w)

    def fileno(self) -> int:
        return self.fd

    def send(self, obj) -> None:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        _write_all(self.fd, _HEADER.pack(len(data)) + data)

    def poll(self, timeout_s: float) -> bool:
        """Whether a message (or the end of the pipe) is ready within `timeout_s`."""
        return bool(select.select([self.fd], [], [], timeout_s)[0])

    def recv(self):
        """The next message; EOFError when the sender closed the pipe without sending one."""
        head = _read_exactly(self.fd, _HEADER.size)
        if len(head) < _HEADER.size:
            raise EOFError("the worker closed its channel")
        (size,) = _HEADER.unpack(head)
        data = _read_exactly(self.fd, size)
        if len(data) < size:
            raise EOFError("the worker closed its channel in the middle of a message")
        return pickle.loads(data)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Worker:
    """A worker forked by a WorkerServer, as its caller sees it."""

    def __init__(self, pid: int, status_fd: int):
        self.pid = pid
        self._status = status_fd
        self._code: int | None = None
        self._lock = threading.Lock()

    def _read_code(self, timeout_s: float | None) -> int | None:
        """The exit code once the server has reported it, waiting up to `timeout_s` for it."""
        if self._code is None and timeout_s != 0:
            try:  # the wait is outside the lock, so that another thread's look is never held up by it
                select.select([self._status], [], [], timeout_s)
            except (OSError, ValueError):  # read and closed by another thread meanwhile
                pass
        with self._lock:
            if self._code is None and self._status >= 0 and select.select([self._status], [], [], 0)[0]:
                data = _read_exactly(self._status, _CODE.size)
                self._code = _CODE.unpack(data)[0] if len(data) == _CODE.size else UNKNOWN_EXIT
                os.close(self._status)
                self._status = -1
            return self._code

    @property
    def exitcode(self) -> int | None:
        """None while it runs; its exit code, or -N after signal N, as multiprocessing reports them."""
        return self._read_code(0)

    def is_alive(self) -> bool:
        return self._read_code(0) is None

    def join(self, timeout_s: float | None = None) -> None:
        """Wait until the server has reaped the worker, or `timeout_s`."""
        self._read_code(timeout_s)

    def _signal(self, signum: int) -> None:
        if self.is_alive():  # not after it is reaped: its pid may be another process's by now
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def __del__(self):
        if getattr(self, "_status", -1) >= 0:
            try:
                os.close(self._status)
            except OSError:
                pass


class WorkerServer:
    """A warm server: a fresh interpreter that imports `preloads` (in order) with `env` as its environment,
    then forks a worker per `spawn`. Started by `start()`, or at the first `spawn`; it ends when this
    process closes its end of the socket pair (or exits), once its last worker has exited."""

    def __init__(self, preloads: list[str], env: dict[str, str]):
        self.preloads = list(preloads)
        self.env = dict(env)
        self.pid: int | None = None
        self._proc: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._ready = False
        self._lock = threading.Lock()

    def start(self) -> None:
        """Launch the server (it imports its preloads meanwhile); returns at once."""
        with self._lock:
            if self._proc is not None:
                return
            mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            config = {"sys_path": sys.path, "preloads": self.preloads, "fd": theirs.fileno()}
            code = ("import json, sys; config = json.loads(sys.argv[1]); sys.path[:] = config['sys_path']; "
                    "from bench.execution.server import serve; serve(config)")
            try:
                self._proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(config)],
                                              pass_fds=(theirs.fileno(),), env=self.env, stdin=subprocess.DEVNULL)
            finally:
                theirs.close()
            self._sock = mine
            self.pid = self._proc.pid

    def wait_ready(self, timeout_s: float) -> None:
        """Wait until the server has imported its preloads; RuntimeError if it died or took longer."""
        self.start()
        with self._lock:
            if self._ready:
                return
            self._sock.settimeout(timeout_s)
            try:
                greeting = self._sock.recv(1)
            except TimeoutError:
                raise RuntimeError(f"the worker server (pid {self.pid}) was not ready within {timeout_s:g} s") from None
            finally:
                self._sock.settimeout(None)
            if greeting != READY:
                code = self._proc.wait()
                raise RuntimeError(f"the worker server (preloading {', '.join(self.preloads)}) exited with code "
                                   f"{code} before it was ready; its error is on stderr above")
            self._ready = True

    def spawn(self, target, args: tuple, timeout_s: float) -> tuple[Worker, Channel]:
        """Fork a worker running `target(*args, channel)`; (the worker, the caller's end of its channel).

        `target` must be importable by name (a module-level function); `args` are pickled.
        """
        self.wait_ready(timeout_s)
        receive, send = Channel.pipe()
        status_r, status_w = os.pipe()
        call = pickle.dumps((target, args), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            cwd = os.getcwd()
        except OSError:  # removed under this process: the worker keeps the server's
            cwd = None
        payload = pickle.dumps((cwd, sys.path, call), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            with self._lock:
                socket.send_fds(self._sock, [_HEADER.pack(len(payload))], [send.fd, status_w])
                self._sock.sendall(payload)
        except OSError as exc:
            receive.close()
            os.close(status_r)
            raise RuntimeError(f"the worker server (pid {self.pid}) is gone: {exc}") from None
        finally:  # the server holds its own copies now
            send.close()
            os.close(status_w)
        if not select.select([status_r], [], [], timeout_s)[0]:
            receive.close()
            os.close(status_r)
            raise RuntimeError(f"the worker server (pid {self.pid}) did not fork a worker within {timeout_s:g} s")
        data = _read_exactly(status_r, _CODE.size)
        if len(data) < _CODE.size:
            receive.close()
            os.close(status_r)
            raise RuntimeError(f"the worker server (pid {self.pid}) died before forking a worker")
        return Worker(_CODE.unpack(data)[0], status_r), receive


# ---- in the server process -------------------------------------------------------------------


def _recv_request(sock: socket.socket):
    """(payload, [channel fd, status fd]) of the next request; None when the caller has gone."""
    head, fds, _, _ = socket.recv_fds(sock, _HEADER.size, 2)
    if not head:
        return None
    while len(head) < _HEADER.size:
        more = sock.recv(_HEADER.size - len(head))
        if not more:
            return None
        head += more
    (size,) = _HEADER.unpack(head)
    chunks, left = [], size
    while left:
        block = sock.recv(min(left, 1 << 20))
        if not block:
            return None
        chunks.append(block)
        left -= len(block)
    return b"".join(chunks), fds


def serve(config: dict) -> None:
    """The server's main loop: import the preloads, say ready, fork a worker per request, report exits."""
    sock = socket.socket(fileno=config["fd"])
    for name in config["preloads"]:
        try:
            importlib.import_module(name)
        except ImportError:  # a plug-in that does not import here fails in its cells, with their rows
            traceback.print_exc()
    sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so the wakeup fd hears of every exit
    sock.sendall(READY)
    status: dict[int, int] = {}  # live worker pid -> its status pipe's write end
    listening = True
    while listening or status:  # once the caller has gone, until the last worker's exit is reported
        ready = select.select([sock, wake_r] if listening else [wake_r], [], [])[0]
        if wake_r in ready:
            try:
                while os.read(wake_r, 4096):
                    pass
            except BlockingIOError:
                pass
            while True:
                try:
                    pid, code = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                fd = status.pop(pid, None)
                if fd is not None:
                    try:
                        _write_all(fd, _CODE.pack(os.waitstatus_to_exitcode(code)))
                    except OSError:
                        pass  # the caller has stopped listening
                    os.close(fd)
        if sock in ready:
            request = _recv_request(sock)
            if request is None:  # the caller has gone (or closed the server)
                listening = False
                continue
            payload, fds = request
            channel_fd, status_fd = fds
            pid = os.fork()
            if pid == 0:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.signal(signal.SIGINT, sigint)
                for fd in (sock.fileno(), wake_r, wake_w, status_fd, *status.values()):
                    os.close(fd)
                _worker(payload, channel_fd)
            os.close(channel_fd)
            status[pid] = status_fd
            try:
                _write_all(status_fd, _CODE.pack(pid))
            except OSError:
                pass
    for fd in status.values():
        os.close(fd)


def _worker(payload: bytes, channel_fd: int) -> None:
    """In a forked worker: run the call with its channel, then exit (never return to the server's loop)."""
    code = 1
    try:
        cwd, path, call = pickle.loads(payload)
        sys.path[:] = path  # the caller's, as multiprocessing gives its children
        if cwd is not None:
            with contextlib.suppress(OSError):
                os.chdir(cwd)
        target, args = pickle.loads(call)
        target(*args, Channel(channel_fd))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - the worker's end: its caller sees the exit code
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(code)


def wait_all(servers, timeout_s: float) -> None:
    """Wait until every server in `servers` is ready (they import their preloads side by side)."""
    for server in servers:
        server.start()
    deadline = time.monotonic() + timeout_s
    for server in servers:
        server.wait_ready(max(0.0, deadline - time.monotonic()))
