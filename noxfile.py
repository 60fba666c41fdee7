"""Sessions: `nox -s bench` runs the default suite; `nox -s tests` runs the tests."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def bench(session: nox.Session) -> None:
    """Run the default suite (or the suite given after --) and print the summary."""
    session.install("-e", ".")
    args = session.posargs or ["suites/default.toml"]
    session.run("python", "-m", "bench", "run", *args)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-q", *session.posargs)


@nox.session(default=False)
def lint(session: nox.Session) -> None:
    """Check style with ruff."""
    session.install("ruff")
    session.run("ruff", "check", "bench", "tests", "noxfile.py")
