"""A worker's watchdog knows its parent across a system clock step (issue 23's real reference run
lost 8 cells when the virtual machine under it was forked and its clock moved)."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil

from bench.execution import isolate


def test_the_parent_stays_itself_when_the_clock_steps(monkeypatch):
    born = isolate.process_identity(os.getpid())
    assert born is not None and isolate.same_process(os.getpid(), born)
    # The clock steps forward by 90 s: psutil's boot time moves, and with it (on Linux) every
    # process's creation time; the time since boot does not.
    real_boot, real_create = psutil.boot_time, psutil.Process.create_time
    monkeypatch.setattr(psutil, "boot_time", lambda: real_boot() + 90.0)
    monkeypatch.setattr(psutil.Process, "create_time", lambda self: real_create(self) + 90.0)
    assert isolate.same_process(os.getpid(), born)
    # A clock that moves the boot time but not the creation time (as on macOS) is the same process too.
    monkeypatch.setattr(psutil.Process, "create_time", real_create)
    assert isolate.same_process(os.getpid(), born)


def test_a_gone_or_new_process_is_not_the_parent():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    born = isolate.process_identity(child.pid)
    child.wait()
    assert not isolate.same_process(child.pid, born)
    assert isolate.process_identity(child.pid) is None
    # Another process is not the one born: both its creation time and its time since boot differ.
    me = isolate.process_identity(os.getpid())
    assert not isolate.same_process(os.getpid(), (me[0] - 3600.0, me[1] - 3600.0))
