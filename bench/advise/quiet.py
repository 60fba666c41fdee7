"""`bench advise` keeps the terminal for the answer: what the cells' libraries print goes to the run's log.

The cells run in worker processes forked from servers that inherit this process's file
descriptors 1 and 2 (bench.execution.isolate). `Quiet` points both at a pipe for the
command's duration, and a reader thread keeps what comes through it; this process's own
output (the plan, the progress bar, the answer) goes on to the terminal through copies of
the original descriptors. Python warnings raised in this process are kept the same way.

Before each batch of cells the executor wrapper (`Marked`) writes a marker into the pipe,
so that each message is filed under the cells that printed it; `summary` counts, per model,
the cells whose output carried each kind of warning (a ConvergenceWarning in three cells of
logistic_regression is one line, not three hundred). When the command ends the descriptors
are restored; the servers keep the pipe's write end, so the reader passes whatever later
workers print straight on to the original standard error.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

MARK = b"\x00bench-advise-cell "
SYNC = b"\x00bench-advise-sync "
WARNING = re.compile(r"\b([A-Z]\w*Warning)\b|\[(Warning)\]")
PLAIN = {"ConvergenceWarning": "did not converge"}


class Quiet:
    """Context manager: fds 1 and 2 into a pipe read into `lines`; sys.stdout and sys.stderr to the terminal."""

    def __init__(self) -> None:
        self.lines: list[str] = []  # the log: messages and "--- cells: ..." headers
        self.by_cell: dict[str, list[str]] = {}  # a batch's label -> its messages
        self._current = "this process"
        self._lock = threading.Lock()
        self._capturing = False
        self._synced = threading.Event()
        self._sync_token = b""

    def __enter__(self) -> Quiet:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        read_fd, write_fd = os.pipe()
        self._saved = {fd: os.dup(fd) for fd in (1, 2)}
        self._swapped = {}
        for name, fd in (("stdout", 1), ("stderr", 2)):
            stream = getattr(sys, name)
            try:
                real = stream.fileno() == fd
            except (AttributeError, OSError, ValueError):
                real = False  # captured already (a test's capsys): it does not write to the descriptor
            if real:
                copy = os.fdopen(os.dup(self._saved[fd]), "w", buffering=1, encoding=stream.encoding,
                                 errors=stream.errors)
                self._swapped[name] = stream
                setattr(sys, name, copy)
        self._passthrough = os.dup(self._saved[2])
        os.dup2(write_fd, 1)
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._capturing = True
        threading.Thread(target=self._read, args=(read_fd,), daemon=True, name="advise-log").start()
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.showwarning = self._show
        return self

    def __exit__(self, *exc) -> None:
        self.sync()
        self._warnings.__exit__(*exc)
        self._capturing = False
        for name, stream in self._swapped.items():
            getattr(sys, name).flush()
            getattr(sys, name).close()
            setattr(sys, name, stream)
        for fd, saved in self._saved.items():
            os.dup2(saved, fd)
            os.close(saved)

    def _show(self, message, category, filename, lineno, file=None, line=None) -> None:
        self._keep(warnings.formatwarning(message, category, filename, lineno, line).rstrip("\n"), "this process")

    def _keep(self, text: str, label: str | None = None) -> None:
        with self._lock:
            for line in text.splitlines():
                self.lines.append(line)
                self.by_cell.setdefault(label or self._current, []).append(line)

    def _read(self, fd: int) -> None:
        pending = b""
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return
            if not data:
                return
            if not self._capturing:  # the command is over: later workers' output goes where it used to
                os.write(self._passthrough, pending + data)
                pending = b""
                continue
            pending += data
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                if raw.startswith(MARK):
                    self._current = raw[len(MARK):].decode("utf-8", "replace")
                    with self._lock:
                        self.lines.append(f"--- cells: {self._current}")
                elif raw.startswith(SYNC):
                    if raw[len(SYNC):] == self._sync_token:
                        self._synced.set()
                else:
                    self._keep(raw.decode("utf-8", "replace"))

    def mark(self, label: str) -> None:
        """Files what follows under `label` (the cells about to start)."""
        os.write(2, MARK + label.replace("\n", " ").encode() + b"\n")

    def sync(self, timeout: float = 5.0) -> None:
        """Waits until everything written before now has been read (the cells that finished wrote first)."""
        if not self._capturing:
            return
        self._synced.clear()
        self._sync_token = os.urandom(8).hex().encode()
        os.write(2, SYNC + self._sync_token + b"\n")
        self._synced.wait(timeout)

    def summary(self) -> list[str]:
        """Per model, the kinds of warning its cells printed and in how many cells: one line each."""
        self.sync()
        with self._lock:
            items = list(self.by_cell.items())
        counts: dict[tuple[str, str], int] = {}
        for label, lines in items:
            kinds = {m.group(1) or m.group(2) for line in lines for m in WARNING.finditer(line)}
            models = sorted({part.split(" ")[0] for part in label.split(", ")}) if label != "this process" else [label]
            for kind in kinds:
                for model in models:
                    counts[(model, kind)] = counts.get((model, kind), 0) + 1
        out = []
        for (model, kind), n in sorted(counts.items()):
            what = PLAIN.get(kind, f"printed a {kind}")
            out.append(f"{model} {what} in {n} cell{'s' if n != 1 else ''}" if model != "this process"
                       else f"a {kind} in the command itself")
        return out

    def write(self, path: Path) -> None:
        self.sync()
        with self._lock:
            text = "\n".join(self.lines)
        path.write_text(text + ("\n" if text else ""), encoding="utf-8")


class Marked:
    """An executor whose every batch of cells is announced to `quiet` first (see Quiet.mark)."""

    def __init__(self, inner, quiet: Quiet | None):
        self.inner = inner
        self.quiet = quiet

    def __getattr__(self, name):  # layout, describe: the inner executor's, where it has them
        return getattr(self.inner, name)

    def run(self, cells: Iterable) -> Iterator[dict]:
        cells = list(cells)
        if self.quiet is not None:
            self.quiet.mark(", ".join(f"{c.model.label} {c.features} n={c.n_train} seed={c.seed}"
                                      + (" tuned" if c.tuning == "tuned" else "") for c in cells))
        return self.inner.run(cells)

    def close(self) -> None:
        self.inner.close()
