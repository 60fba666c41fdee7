"""Waits in tests that end on an event, with a limit that stretches with the machine's load.

A fixed limit (wait 120 s for a cell to start) holds on a quiet machine and fails on one
shared with other work. Here a limit is in seconds of a quiet machine: wall time is counted
at the rate this process would get a core, 1 / max(1, load average / cores), measured while
waiting, so at load 30 on 2 cores a 60 s limit lasts about 15 minutes. A hang still ends.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def load_factor() -> float:
    """How many times slower than a quiet machine this one runs now: max(1, 1-minute load / cores)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1.0, os.getloadavg()[0] / cores)


def scaled(seconds: float) -> float:
    """A timeout for an API that takes one (`proc.wait`, `wait_for_workers`): `seconds` stretched by the load now."""
    return seconds * load_factor()


def wait_until(condition: Callable[[], T], what: str, quiet_s: float = 60.0, poll_s: float = 0.1) -> T:
    """Poll `condition` until it returns something true, and return that.

    Fails after `quiet_s` seconds of a quiet machine's time (see the module's docstring),
    saying `what` was awaited, how long it took in wall time and at which load.
    """
    start = last = time.monotonic()
    quiet = 0.0
    while True:
        value = condition()
        if value:
            return value
        time.sleep(poll_s)
        now = time.monotonic()
        quiet += (now - last) / load_factor()
        last = now
        if quiet > quiet_s:
            raise AssertionError(
                f"{what}: not within {quiet_s:g} s of a quiet machine's time "
                f"({now - start:.0f} s of wall time, load average now {os.getloadavg()[0]:.1f})"
            )
