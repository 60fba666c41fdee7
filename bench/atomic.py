"""Writes that are whole or absent: a kill mid-write never leaves a torn file behind."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def temp_name(path: Path) -> Path:
    """A hidden sibling of `path`, unique to this process, on the same file system."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write(path: str | os.PathLike, content: str | bytes | Callable[[Path], object]) -> Path:
    """Write `content` (text, bytes, or a function that writes a given path) to `path` atomically."""
    path = Path(path)
    tmp = temp_name(path)
    try:
        if isinstance(content, str):
            tmp.write_text(content, encoding="utf-8")
        elif isinstance(content, bytes | bytearray):
            tmp.write_bytes(content)
        else:
            content(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
