"""What every command line of bench shares: exit codes, error lines, SIGTERM as an interrupt."""

from __future__ import annotations

import signal
import sys

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and found a problem (a regression)
EXIT_BAD_INPUT = 2  # bad input or a run that cannot start: one line on stderr says why
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def sigterm_as_interrupt() -> None:
    """A scheduler's or CI job's SIGTERM ends a command like Ctrl-C, so its cleanup runs."""
    signal.signal(signal.SIGTERM, _interrupt)


def error(message: object, code: int = EXIT_BAD_INPUT) -> int:
    """Print `error: MESSAGE` on stderr, as one line whatever a file name in it holds, and return the exit code."""
    from bench.inputs import printable  # the standard library only

    print(f"error: {printable(str(message))}", file=sys.stderr)  # a newline or terminal escape in a file name
    return code


def interrupted(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_INTERRUPTED
