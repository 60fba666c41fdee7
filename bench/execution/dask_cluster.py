"""Cells on an existing Dask distributed cluster (`--scheduler tcp://HOST:PORT`).

Each cell is one Dask task. On the worker the task calls `bench.execution.isolate.run_isolated`,
exactly as a local run does, so the cell runs in its own fresh, measured process under
the suite's time limit and memory cap, and the row it sends back has the same meaning as
a local row; it also names the worker (`worker`) and, as every row does, the host and CPU
of the machine the cell ran on (`host`, `cpu_model`, taken in the cell's own process).

A worker that dies mid-cell (killed, out of memory, its machine lost) does not lose the
cell: the scheduler runs it again on another worker, and when it has failed on too many
workers (Dask's `distributed.scheduler.allowed-failures`), the cell becomes an `error`
row naming the cause. Losing the scheduler itself stops the run with an error; the cells
already finished are saved and `--resume` completes the rest.

Dask is an optional extra (`pip install 'bench[dask]'`), imported only when used.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
from collections.abc import Iterable, Iterator

from bench.errors import ExecutorError
from bench.execution.executors import Executor, ExecutorOptions, executor
from bench.suite import Cell

CONNECT_TIMEOUT_S = 20.0
WAIT_FOR_WORKERS_S = 60.0
# A Dask server greets every new connection first (its handshake: a length-prefixed msgpack
# frame of a few dozen bytes); a server that says nothing in this long, or something else, is
# not one (an HTTP server waits for a request; another service answers with its own bytes).
GREETING_TIMEOUT_S = 5.0
MAX_GREETING_BYTES = 2**16

_PREPARED = False
_PREPARE_LOCK = threading.Lock()


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ExecutorError(
            "running on a Dask cluster needs Dask's distributed scheduler, which is not installed: "
            "pip install 'bench[dask]' (or pip install 'dask[distributed]') on this machine and on every worker"
            f" ({exc})"
        ) from None
    return distributed


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of a tcp:// (or scheme-less) scheduler address; None for another transport."""
    from urllib.parse import urlsplit

    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme != "tcp":
        return None  # tls://, ws://, ucx://...: left to Dask and its connect timeout
    try:
        parts = urlsplit(f"//{rest}")
        port = parts.port or 8786
    except ValueError:
        raise ExecutorError(f"{address}: not a scheduler address; expected tcp://HOST:PORT") from None
    if not parts.hostname:
        raise ExecutorError(f"{address}: not a scheduler address; expected tcp://HOST:PORT")
    return parts.hostname, port


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        block = sock.recv(n - len(data))
        if not block:
            break
        data += block
    return data


def probe(address: str, connect_timeout_s: float = CONNECT_TIMEOUT_S, greeting_timeout_s: float | None = None) -> None:
    """Refuse, within bounded time, an address where no Dask scheduler listens.

    Reads the greeting a Dask server sends on every connection, and nothing else: a port held
    by another service (whose first bytes Dask would read as a frame length of exabytes) or an
    HTTP server (which waits for a request for ever) is refused in one line before any client
    connects to it.
    """
    target = _host_port(address)
    if target is None:
        return
    greeting_timeout_s = GREETING_TIMEOUT_S if greeting_timeout_s is None else greeting_timeout_s
    hint = "start one with `dask scheduler` and workers with `dask worker tcp://HOST:8786`"
    try:
        sock = socket.create_connection(target, timeout=connect_timeout_s)
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {reason}; {hint}") from None
    not_dask = f"{address} does not speak Dask's protocol: not a Dask scheduler's port; {hint}"
    try:
        sock.settimeout(greeting_timeout_s)
        head = _recv_exactly(sock, 8)
        if len(head) < 8:
            raise ExecutorError(f"{address} closed the connection without a Dask greeting: not a Dask scheduler's "
                                f"port; {hint}")
        (size,) = struct.unpack("<Q", head)
        if not 0 < size <= MAX_GREETING_BYTES:
            raise ExecutorError(not_dask)
        if b"pickle-protocol" not in _recv_exactly(sock, size):
            raise ExecutorError(not_dask)
    except TimeoutError:
        raise ExecutorError(f"{address} sent no Dask greeting within {greeting_timeout_s:g} s: not a Dask "
                            f"scheduler's port; {hint}") from None
    except OSError as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {exc.strerror or exc}; {hint}") from None
    finally:
        sock.close()


def _prepare_worker_process() -> None:
    """Let this Dask worker process start cell processes as a plain local run would.

    A Dask worker under a nanny is a daemonic process by default, from which multiprocessing
    starts no child; the cells' worker servers (bench.execution.server) are fresh interpreters
    started with subprocess, not multiprocessing children, so that needs nothing here (only a
    platform without fork servers starts cells with multiprocessing, and asks for
    `distributed.worker.daemon: false` there). The nanny also pins OMP/MKL/OpenBLAS threads to 1 in the worker's
    environment (`distributed.nanny.pre-spawn-environ`, and a fixed PYTHONHASHSEED);
    those values are removed (an identical value set by hand goes too) so the
    cell processes, which set their own thread budget, start from the same environment
    as on a local run. Runs before the worker starts its first cell process (whose
    server inherits this environment).
    """
    global _PREPARED
    with _PREPARE_LOCK:
        if _PREPARED:
            return
        try:
            import dask

            pinned = dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {}
        except Exception:  # noqa: BLE001 - dask config is best effort here
            pinned = {}
        pinned = {**pinned, "PYTHONHASHSEED": "6640"}  # the nanny's fixed hash seed
        for key, value in pinned.items():
            if value is not None and os.environ.get(key) == str(value):
                del os.environ[key]
        # Prepared data is cached per worker (a local run caches it in its run folder).
        from bench.execution.isolate import use_cache_dir

        try:
            from distributed import get_worker

            use_cache_dir(os.path.join(get_worker().local_directory, "bench-cache"))
        except (ImportError, ValueError, AttributeError):
            use_cache_dir(None)
        _PREPARED = True


def run_cell_on_worker(cell: Cell) -> dict:
    """The Dask task: one isolated, measured cell on this worker; its row, naming the worker."""
    from bench.execution.isolate import run_isolated

    _prepare_worker_process()
    row = run_isolated(cell)
    try:
        from distributed import get_worker

        row["worker"] = get_worker().address
    except (ImportError, ValueError):
        row["worker"] = None
    return row


def stop_cells_on_worker() -> int:
    """Stop the cells this worker is running (their run was interrupted); how many were stopped."""
    from bench.execution import isolate

    n = isolate.running_cells()
    isolate.stop_all()
    isolate.allow_cells()
    return n


def worker_facts() -> dict:
    """Hardware of a worker's machine (run on each worker when a run starts)."""
    from bench.measure import host_info

    return host_info()


def failed_row(cell: Cell, exc: BaseException) -> dict:
    """The row of a cell whose task failed on the cluster itself (not inside the cell)."""
    from bench.execution.cell import base_row

    name = type(exc).__name__
    if name == "KilledWorker":
        info = (
            "the Dask workers running this cell died each time it was tried "
            f"(distributed.scheduler.allowed-failures); {exc}"
        )
    else:
        info = f"the Dask task failed: {name}: {exc}"
    row = base_row(cell)
    # base_row names this (the client's) machine; no machine finished the cell.
    row.update(status="error", info=info[:4000], error_type=name, worker=None, host=None, cpu_model=None)
    return row


@executor("dask")
class DaskExecutor(Executor):
    """Cells as tasks on the Dask cluster at `address`; rows come back as cells finish."""

    @classmethod
    def create(cls, options: ExecutorOptions) -> DaskExecutor:
        """The executor of `--scheduler ADDRESS` (or the suite's `scheduler`)."""
        address = options.scheduler or getattr(options.suite, "scheduler", None)
        if not address:
            raise ExecutorError("the dask executor needs a scheduler address: --scheduler tcp://HOST:PORT "
                                "(or `scheduler` in the suite's [suite] table)")
        return cls(address)

    def __init__(
        self,
        address: str,
        *,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        wait_for_workers_s: float = WAIT_FOR_WORKERS_S,
        client=None,
    ):
        distributed = _import_distributed()
        self.address = address
        self._own_client = client is None
        if client is None:
            probe(address, connect_timeout_s)
            try:
                client = distributed.Client(
                    address, timeout=f"{connect_timeout_s}s", set_as_default=False
                )
            except (OSError, TimeoutError) as exc:
                raise ExecutorError(
                    f"cannot reach the Dask scheduler at {address}: {exc}; start one with "
                    "`dask scheduler` and workers with `dask worker tcp://HOST:8786`"
                ) from None
        self.client = client
        try:
            client.wait_for_workers(1, timeout=wait_for_workers_s)
        except (TimeoutError, OSError):
            self.close()
            raise ExecutorError(
                f"the Dask scheduler at {address} has no workers after {wait_for_workers_s:g} s; "
                f"start some with `dask worker {address}`"
            ) from None
        self._futures: list = []
        self._hosts = self._survey()

    def _survey(self) -> dict[str, dict]:
        """Per machine: its hardware, its workers and how many cells it runs at once."""
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        try:
            facts = self.client.run(worker_facts)
        except Exception:  # noqa: BLE001 - a worker leaving now is no reason to stop
            facts = {}
        hosts: dict[str, dict] = {}
        for address, info in workers.items():
            fact = facts.get(address) or {"host": info.get("host", address)}
            entry = hosts.setdefault(
                fact["host"],
                {
                    "host": fact["host"],
                    "cpu_model": fact.get("cpu_model"),
                    "cores": fact.get("cores_logical") or info.get("nthreads", 1),
                    "memory_gb": fact.get("memory_gb"),
                    "slots": 0,
                    "workers": [],
                },
            )
            entry["slots"] += int(info.get("nthreads", 1))
            entry["workers"].append(address)
        return hosts

    def layout(self) -> tuple[int, int]:
        """(cells at once on one machine, cores of that machine) for the tightest machine.

        The thread budget of every cell is then chosen from it, so that no machine runs
        more threads than it has cores, and every cell of the run gets the same budget.
        """
        tightest = min(self._hosts.values(), key=lambda h: h["cores"] / max(1, h["slots"]))
        return max(1, tightest["slots"]), max(1, int(tightest["cores"]))

    def describe(self) -> dict:
        """Recorded in environment.json: the scheduler and every machine's workers and hardware."""
        return {"executor": "dask", "scheduler": self.address, "hosts": list(self._hosts.values())}

    def run(self, cells: Iterable[Cell]) -> Iterator[dict]:
        distributed = _import_distributed()
        cells = list(cells)
        if not cells:
            return
        futures = self.client.map(run_cell_on_worker, cells, pure=False)
        self._futures = futures
        by_key = {f.key: cell for f, cell in zip(futures, cells, strict=True)}
        remaining = len(futures)
        for future in distributed.as_completed(futures, loop=self.client.loop):
            cell = by_key[future.key]
            status = future.status
            if status == "finished":
                try:
                    row = future.result()
                except Exception as exc:  # noqa: BLE001 - lost between finishing and fetching
                    row = failed_row(cell, exc)
            elif status == "error":
                row = failed_row(cell, future.exception())
            else:  # cancelled: the scheduler went away, or the run is being closed
                raise ExecutorError(
                    f"lost the Dask scheduler at {self.address} ({status}); {remaining} cells did not "
                    "finish; the finished ones are saved: complete the run with --resume RUN_DIR"
                )
            remaining -= 1
            future.release()
            yield row

    def close(self) -> None:
        """Cancel the cells not yet finished and stop those running (an interrupted run).

        A cancelled Dask task is not interrupted on its worker, so the cell processes of
        this run still running are stopped explicitly: they would otherwise run on and
        share the workers' cores with the cells of the next run.
        """
        if self._futures and self.client is not None:
            pending = {f.key for f in self._futures if not f.done()}
            busy = []
            try:
                if pending:
                    busy = [w for w, keys in self.client.processing().items() if pending & set(keys)]
                self.client.cancel(self._futures)
                if busy:
                    self.client.run(stop_cells_on_worker, workers=busy)
            except Exception:  # noqa: BLE001 - closing a client whose scheduler is gone
                pass
            self._futures = []
        if self._own_client and self.client is not None:
            try:
                self.client.close(timeout=5)
            except Exception:  # noqa: BLE001
                pass
            self.client = None
