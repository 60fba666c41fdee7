"""The regression check's probe: a bench plugin loaded on both sides of the check.

`bench.regress.sides` writes this file into the check's temporary folder as the module
`_bench_regress_probe`, and beside it one settings module per side (`settings_source`), a
plugin that calls `install` with that side's settings: the modules to import in the worker
server, and (the working-tree side of the self-test only) the regressions to inject. The
driver names the settings module as a plugin of every cell it runs, so each side's harness
imports it in its worker server. It runs under either side's code, and the base side may
predate `bench.regress`: it imports nothing of `bench.regress`, only bench's harness.

An injection, e.g. ``slow:svm:2.0,memory:knn:100,score:logistic_regression:0.1``, is a cell
hook (`bench.execution.hooks`, the harness's public interface for it): the named model's
measured fit burns CPU time or holds memory, or its test predictions are changed. Nothing
of the harness is replaced.

Imported under any other name (a test, a linter) it changes nothing.
"""

import hashlib
import time

import numpy as np

MODULE_NAME = "_bench_regress_probe"  # the name the check loads it under
INJECTIONS = ("slow", "memory", "score")


def predictions_sha(pred) -> str:
    """A short hash of predictions; floats rounded to 7 significant digits.

    The same function as `bench.measure.predictions_sha` (a test holds them equal): the
    check compares the hashes the two sides' rows carry.
    """
    p = np.asarray(pred)
    if p.dtype.kind in "fc":
        q = p.astype(np.float64)
        top = float(np.nanmax(np.abs(q))) if q.size else 0.0
        digits = 7 - int(np.floor(np.log10(top))) - 1 if top > 0 and np.isfinite(top) else 7
        data = (np.round(q, digits) + 0.0).tobytes()
    elif p.dtype.kind in "iub":
        data = p.astype(np.int64).tobytes()
    else:
        data = "\x00".join(map(str, p.ravel().tolist())).encode()
    return hashlib.sha256(str(p.shape).encode() + data).hexdigest()[:16]


class Injection:
    """One injected regression, as a cell hook: `kind` ("slow", "memory" or "score") on the
    cells of the registered model `model`, by `amount`.

    - slow: the measured fit burns (amount - 1) x its own CPU time more, so it costs amount x;
    - memory: `amount` MB are held (and touched) through the measured fit;
    - score: one test prediction in round(1 / amount) is changed (a number moved by one
      standard deviation plus one; a label turned into the next class).
    """

    def __init__(self, kind: str, model: str, amount: float):
        self.kind, self.model, self.amount = kind, model, amount
        self._cpu_at_fit = 0.0
        self._block = None

    def _mine(self, cell) -> bool:
        return cell.model.name == self.model

    def before_fit(self, cell, estimator) -> None:
        if not self._mine(cell):
            return
        if self.kind == "memory":
            self._block = np.ones(int(self.amount * 2**20) // 8)
        self._cpu_at_fit = time.process_time()

    def after_fit(self, cell, estimator) -> None:
        if not self._mine(cell):
            return
        if self.kind == "slow":
            end = time.process_time() + (self.amount - 1.0) * (time.process_time() - self._cpu_at_fit)
            while time.process_time() < end:
                pass
        self._block = None

    def after_predict(self, cell, estimator, y_pred):
        if self.kind != "score" or not self._mine(cell) or len(y_pred) == 0:
            return None
        pred = np.array(y_pred)
        idx = np.arange(0, len(pred), max(1, int(round(1 / self.amount))))
        if pred.dtype.kind in "fc":
            pred[idx] = pred[idx] + np.std(pred) + 1.0
        else:
            labels = np.unique(np.concatenate([np.asarray(getattr(estimator, "classes_", [])), pred]))
            if len(labels) > 1:
                pred[idx] = labels[(np.searchsorted(labels, pred[idx]) + 1) % len(labels)]
        return pred


def parse_injections(spec: str) -> list[Injection]:
    """`spec` ("kind:model:amount,...") as injections; a clear error for a malformed item."""
    out = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        parts = item.split(":")
        if len(parts) != 3:
            raise ValueError(f"injection {item!r}: write kind:model:amount, e.g. slow:svm:2.0")
        kind, model, amount = parts
        if kind not in INJECTIONS:
            raise ValueError(f"injection {item!r}: {kind!r} is not one of {', '.join(INJECTIONS)}")
        try:
            value = float(amount)
        except ValueError:
            raise ValueError(f"injection {item!r}: the amount {amount!r} is not a number") from None
        if not value > 0:
            raise ValueError(f"injection {item!r}: the amount must be above 0")
        out.append(Injection(kind, model, value))
    return out


def inject(spec: str) -> list[Injection]:
    """Register the injections of `spec` as cell hooks of this process (and the workers it forks)."""
    # The harness's public hook points; revisions before them are never injected into (the base side).
    from bench.execution import hooks
    from bench.models import MODELS

    injections = parse_injections(spec)
    for injection in injections:
        MODELS[injection.model]  # an unknown model is an error naming the valid ones
        hooks.register(injection)
    return injections


def install(inject_spec: str | None = None, preload: tuple[str, ...] = ()) -> None:
    """What loading a side's settings module does: import `preload` (in the worker server, so
    that no sample pays and times that import), then register the injections of `inject_spec`."""
    for name in preload:
        try:
            __import__(name)
        except ImportError:
            pass
    if inject_spec:
        inject(inject_spec)


def settings_source(inject_spec: str | None, preload: tuple[str, ...]) -> str:
    """The source of one side's settings module: a plugin that installs the probe with these settings."""
    return (
        f'"""The regression check\'s probe with one side\'s settings (written by bench.regress.sides)."""\n\n'
        f"import {MODULE_NAME}\n\n"
        f"{MODULE_NAME}.install(inject_spec={inject_spec or None!r}, preload={tuple(preload)!r})\n"
    )
