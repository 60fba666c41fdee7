"""Cell hooks: code a plugin runs at fixed points of every measured cell (a public interface).

A hook is an object with any of the methods of `CellHook` (subclass it, or write the methods
you need); `register(hook)` adds it. `bench.execution.cell.measure_cell` then calls every
registered hook, in the order registered, at these points of each cell:

    before_fit(cell, estimator)             the model is built; inside the measured region
                                            (fit time, fit CPU time, peak memory), just before fit
    after_fit(cell, estimator)              inside the measured region, just after fit (and after
                                            a GPU's queued work has finished)
    after_predict(cell, estimator, y_pred)  after the timed predictions of the test rows, before
                                            anything is computed from them; an array returned
                                            replaces them for the scores, `predictions_sha` and
                                            the predictions the run folder keeps; None keeps them

`cell` is the `bench.suite.Cell` being measured (`cell.model.name`, `cell.dataset.name`,
`cell.seed`...). Hooks run in the cell's worker process, so register them when a plugin module
is imported (`--plugin`, a suite's plugins): the worker servers import the plugins before
they fork, and every worker inherits the registered hooks.

What a hook does inside the measured region is measured with the model: that is what fault
injection needs (the regression check's self-test, bench/regress/probe.py, makes a named model
slower, hungrier or less accurate through these three points), and what a hook that only
observes must keep small. With no hook registered, each point costs one function call.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CellHook", "after_fit", "after_predict", "before_fit", "clear", "register", "registered", "unregister"]


class CellHook:
    """The hook points, each doing nothing: override the ones a hook needs."""

    def before_fit(self, cell, estimator) -> None:
        """Just before `estimator.fit`, inside the measured region."""

    def after_fit(self, cell, estimator) -> None:
        """Just after `estimator.fit` returned (and a GPU finished), inside the measured region."""

    def after_predict(self, cell, estimator, y_pred) -> Any:
        """After the timed test predictions: an array to use instead of `y_pred`, or None."""
        return None


_HOOKS: list = []


def register(hook):
    """Add `hook` (called after those registered before it); registering it again changes nothing.
    Returns the hook, so that a class can be registered where it is made: `register(MyHook())`."""
    if not any(callable(getattr(hook, point, None)) for point in ("before_fit", "after_fit", "after_predict")):
        raise TypeError(f"{hook!r}: a cell hook has at least one of before_fit, after_fit, after_predict")
    if not any(h is hook for h in _HOOKS):
        _HOOKS.append(hook)
    return hook


def unregister(hook) -> None:
    """Remove `hook`; one not registered is ignored."""
    _HOOKS[:] = [h for h in _HOOKS if h is not hook]


def registered() -> tuple:
    """The registered hooks, in the order they are called."""
    return tuple(_HOOKS)


def clear() -> None:
    """Remove every hook (tests)."""
    _HOOKS.clear()


def before_fit(cell, estimator) -> None:
    for hook in _HOOKS:
        point = getattr(hook, "before_fit", None)
        if point is not None:
            point(cell, estimator)


def after_fit(cell, estimator) -> None:
    for hook in _HOOKS:
        point = getattr(hook, "after_fit", None)
        if point is not None:
            point(cell, estimator)


def after_predict(cell, estimator, y_pred):
    """The test predictions after every hook had its say (each sees what the one before returned)."""
    for hook in _HOOKS:
        point = getattr(hook, "after_predict", None)
        if point is not None:
            replaced = point(cell, estimator, y_pred)
            if replaced is not None:
                if len(replaced) != len(y_pred):
                    raise ValueError(f"cell hook {type(hook).__name__}.after_predict returned {len(replaced)} "
                                     f"predictions for {len(y_pred)} test rows")
                y_pred = replaced
    return y_pred
