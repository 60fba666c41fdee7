"""Reading a user's file safely: regular files only, bounded, whole, and named on one line.

A path that is not a regular file (a FIFO, a device such as /dev/zero, a socket, a directory)
is refused from its `stat`, before anything opens it for reading: opening a FIFO blocks until
a writer comes, and a device can be read forever. The file is then opened without blocking and
checked again on the open descriptor, so a path swapped between the two checks is refused too.
A file whose size or modification time changes while it is read is refused rather than half read.
Imports only the standard library.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Iterator
from typing import BinaryIO

MAX_SHOWN = 160  # characters of a path an error line shows; a longer one is shortened in the middle
MAX_LISTED = 20  # names an error line lists (valid columns, columns with blanks...); the rest are counted

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


def printable(text: str) -> str:
    """`text` with each character that is not printable (newline, terminal escape, bidi override) escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shown(path: str | os.PathLike | bytes) -> str:
    """`path` as one printable line: control characters escaped, a very long name shortened."""
    return _shortened(printable(os.fsdecode(path)))  # undecodable bytes come back as escaped surrogates


def _shortened(text: str) -> str:
    if len(text) > MAX_SHOWN:
        half = MAX_SHOWN // 2 - 10
        text = f"{text[:half]}...[{len(text)} characters]...{text[-half:]}"
    return text


def listed(names, limit: int = MAX_LISTED, quote: bool = True) -> str:
    """Up to `limit` names, comma-separated, then '... and N more': an error line stays one readable line
    when a table has 100,000 columns. Each name is shown as `shown` shows a path (escaped, shortened)."""
    names = list(names)
    parts = [_shortened(repr(str(n))) if quote else shown(str(n)) for n in names[:limit]]
    if len(names) > limit:
        parts.append(f"... and {len(names) - limit:,} more")
    return ", ".join(parts)


def kind(mode: int) -> str:
    """What a file of this `st_mode` is, in words ('a FIFO (named pipe)', 'a regular file')."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def _refusal(path, exc: OSError, what: str) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"{shown(path)}: cannot read the {what}: no such file"
    if isinstance(exc, PermissionError):
        return f"{shown(path)}: permission denied; cannot read the {what}"
    return f"{shown(path)}: cannot read the {what}: {exc.strerror or exc}"


def stat_regular(path: str | os.PathLike, error: type[Exception], what: str = "file") -> os.stat_result:
    """The `stat` of a regular file at `path` (links followed), or `error` saying what it is instead."""
    try:
        st = os.stat(path)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        if isinstance(exc, ValueError):
            raise error(f"{shown(path)}: not a valid file name (it holds a NUL character)") from None
        raise error(_refusal(path, exc, what)) from None
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{shown(path)}: is {kind(st.st_mode)}, not a regular file; give the path of a {what}")
    return st


@contextlib.contextmanager
def reading(path: str | os.PathLike, error: type[Exception], what: str = "file",
            max_bytes: int | None = None) -> Iterator[BinaryIO]:
    """Open a regular file for binary reading; on leaving the block, refuse it if it changed meanwhile.

    `max_bytes` refuses a larger file before reading it (a suite of a gigabyte is no suite).
    """
    st = stat_regular(path, error, what)
    if max_bytes is not None and st.st_size > max_bytes:
        raise error(f"{shown(path)}: is {_bytes(st.st_size)}; a {what} is at most {_bytes(max_bytes)}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise error(_refusal(path, exc, what)) from None
    fh = os.fdopen(fd, "rb")
    with fh:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):  # swapped for something else since the stat above
            raise error(f"{shown(path)}: is {kind(before.st_mode)}, not a regular file; give the path of a {what}")
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        yield fh
        after = os.fstat(fd)
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            raise error(
                f"{shown(path)}: changed while being read ({_bytes(before.st_size)}, then {_bytes(after.st_size)}); "
                "read it again once whatever writes it has finished"
            )


def read_bytes(path: str | os.PathLike, error: type[Exception], what: str = "file",
               max_bytes: int | None = None) -> bytes:
    """The whole content of a regular file of at most `max_bytes`, read once and unchanged meanwhile."""
    with reading(path, error, what, max_bytes) as fh:
        data = fh.read() if max_bytes is None else fh.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:  # it grew between the stat and the read
        raise error(f"{shown(path)}: grew past {_bytes(max_bytes)} while being read; a {what} is at most that")
    return data


def _bytes(n: int) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"
