"""Run a command, by default the whole test suite, on a machine loaded by busy loops on every core.

    python tests/load.py [--per-core N] [-- COMMAND ...]

The loops are started here and stopped here when the command ends, fails or is interrupted;
each also dies with this process (PR_SET_PDEATHSIG), so a killed driver leaves none running
(and the command gets SIGTERM).
Prints the load average before, during and after, the wall time, and returns the command's exit code.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
SPIN = "while True:\n    pass\n"


def _die_with_parent(signum: int = signal.SIGKILL):
    def set_signal() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum)

    return set_signal


def _terminate(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-core", type=int, default=1, help="busy loops per core (default 1)")
    parser.add_argument("command", nargs="*", help="the command to run (default: the whole test suite)")
    args = parser.parse_args(argv)
    command = args.command or [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    cores = len(os.sched_getaffinity(0))
    signal.signal(signal.SIGTERM, _terminate)
    before = os.getloadavg()[0]
    loops: list[subprocess.Popen] = []
    samples: list[float] = []
    child = None
    t0 = time.monotonic()
    try:
        for _ in range(cores * args.per_core):
            loops.append(subprocess.Popen([sys.executable, "-c", SPIN], preexec_fn=_die_with_parent()))
        print(f"load.py: {len(loops)} busy loops on {cores} cores; load average before {before:.1f}", flush=True)
        child = subprocess.Popen(command, preexec_fn=_die_with_parent(signal.SIGTERM))
        while child.poll() is None:
            time.sleep(5)
            samples.append(os.getloadavg()[0])
        code = child.returncode
    except KeyboardInterrupt:
        code = 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not interrupt the clean-up
        if child is not None and child.poll() is None:
            child.terminate()
            child.wait()
        for loop in loops:
            loop.kill()
        for loop in loops:
            loop.wait()
    wall = time.monotonic() - t0
    during = f"{min(samples):.1f} to {max(samples):.1f} (mean {sum(samples) / len(samples):.1f})" if samples else "n/a"
    print(f"load.py: exit {code} after {wall / 60:.1f} min; load average during {during}; "
          f"{len(loops)} busy loops stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
