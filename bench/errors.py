"""The errors a user can cause, each reported as one line and exit code 2 by the command line.

Kept in a module that imports nothing, so the command line can catch them without importing
the libraries behind them (numpy, pandas, scikit-learn, torch) before it must.
"""


class DataError(ValueError):
    """A dataset that cannot be used as given (bad file, missing column, NaN, one class...)."""


class SuiteError(ValueError):
    """A suite that cannot run; the message names the file, the key and the valid choices."""


class RunError(RuntimeError):
    """A run that cannot start (a folder already holding results, a locked folder...)."""


class ExecutorError(RuntimeError):
    """An executor that cannot start or carry on (no Dask installed, no scheduler, scheduler lost)."""
