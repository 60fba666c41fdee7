"""The regression check's probe: a bench plugin loaded on both sides of the check.

`bench.regress.sides` writes this file into the check's temporary folder as the module
`_bench_regress_probe` and names it in BENCH_PLUGINS, so each side's harness imports it in
its driver and in its worker server. It runs under either side's code, and the base side
may predate `bench.regress`: it imports nothing of `bench.regress`, only bench's harness.

It does two things when loaded under that name:

- On revisions whose rows lack `predictions_sha` and `predict_cpu_s` (before the execution
  package, e.g. 348767e) it adds them, by wrapping `bench.worker.scores` and `Timer`. Rows
  of later revisions carry both columns themselves and are left alone.
- When BENCH_REGRESS_INJECT is set (the working-tree side of the self-test only) it makes
  named models slower, hungrier or less accurate, e.g. ``slow:svm:2.0,memory:knn:100``.

Imported under any other name (a test, a linter) it changes nothing.
"""

import dataclasses
import hashlib
import os
import time

import numpy as np

MODULE_NAME = "_bench_regress_probe"  # the name the check loads it under
INJECT_ENV = "BENCH_REGRESS_INJECT"
PRELOAD_ENV = "BENCH_REGRESS_PRELOAD"
INJECTIONS = ("slow", "memory", "score")


def predictions_sha(pred) -> str:
    """A short hash of predictions; floats rounded to 7 significant digits.

    The same function as `bench.measure.predictions_sha` (a test holds them equal), for
    revisions that lack it: hashes of the two layouts must compare.
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


def rows_carry_the_columns() -> bool:
    """Whether this revision's harness records `predictions_sha` and `predict_cpu_s` itself.

    Both came with the execution package, together with `bench.measure.predictions_sha`.
    """
    import bench.measure

    return hasattr(bench.measure, "predictions_sha")


def patch_worker(worker) -> None:
    """Fallback for older revisions: the worker's test scores also carry the two columns.

    `worker` is the module holding `scores` and `Timer` (`bench.worker` before the execution
    package). Its `Timer` is wrapped so that the predict timer's CPU time can be read when
    `scores` is called with the test predictions, which the worker does right after timing them.
    """
    original = getattr(worker, "scores", None)
    if original is None or getattr(original, "_regress_probe", False):
        return
    timers = []
    timer = getattr(worker, "Timer", None)
    if timer is not None:
        class Timer(timer):
            """The worker's timer, remembered: the predict timer's CPU time goes into the row."""

            def __exit__(self, *exc):
                out = super().__exit__(*exc)
                timers.append(self)
                return out

        worker.Timer = Timer

    def scores(task, estimator, X, y, pred=None, *args, **kwargs):
        out = original(task, estimator, X, y, pred, *args, **kwargs)
        if pred is not None:  # the test predictions, just timed by the last timer
            out = {**out, "predictions_sha": predictions_sha(pred)}
            if timers and hasattr(timers[-1], "cpu_s"):
                out["predict_cpu_s"] = timers[-1].cpu_s
        return out

    scores._regress_probe = True
    worker.scores = scores


def _injected_class(base, kind, amount):
    name = f"_Injected_{kind}_{base.__name__}"
    if name in globals():
        return globals()[name]

    def fit(self, X, y, *args, **kwargs):
        block = None
        if kind == "memory":
            block = np.ones(int(amount * 2**20) // 8)
        c0 = time.process_time()
        out = base.fit(self, X, y, *args, **kwargs)
        if kind == "slow":  # burn (amount - 1) x the fit's CPU time, so the fit costs amount x
            end = time.process_time() + (amount - 1.0) * (time.process_time() - c0)
            while time.process_time() < end:
                pass
        del block
        return out

    def predict(self, X, *args, **kwargs):
        pred = np.array(base.predict(self, X, *args, **kwargs))
        if kind != "score" or len(pred) == 0:
            return pred
        step = max(1, int(round(1 / amount)))
        idx = np.arange(0, len(pred), step)
        if pred.dtype.kind in "fc":
            pred[idx] = pred[idx] + np.std(pred) + 1.0
        else:
            labels = np.unique(np.concatenate([np.asarray(getattr(self, "classes_", [])), pred]))
            if len(labels) > 1:
                pos = np.searchsorted(labels, pred[idx])
                pred[idx] = labels[(pos + 1) % len(labels)]
        return pred

    cls = type(name, (base,), {"fit": fit, "predict": predict, "__module__": __name__})
    cls.__qualname__ = name
    globals()[name] = cls  # picklable by name, like any class of a module
    return cls


def inject(spec: str) -> None:
    """Replace the named models' factories by ones whose estimators misbehave as `spec` says."""
    from bench.models import MODELS

    for item in filter(None, (s.strip() for s in spec.split(","))):
        kind, model, amount = item.split(":")
        if kind not in INJECTIONS:
            raise ValueError(f"{kind!r}: injections are {', '.join(INJECTIONS)}")
        entry = MODELS[model]
        if getattr(entry.fn, "_regress_injected", False):
            continue

        def factory(ctx, _fn=entry.fn, _kind=kind, _amount=float(amount)):
            est = _fn(ctx)
            est.__class__ = _injected_class(type(est), _kind, _amount)
            return est

        factory._regress_injected = True
        MODELS._entries[model] = dataclasses.replace(entry, fn=factory)


def install() -> None:
    """What loading the probe as a plugin does (see the module docstring)."""
    if not rows_carry_the_columns():
        import bench.worker

        patch_worker(bench.worker)
    # Imported here, in the worker server, so that no sample pays (and times) a torch import.
    for name in filter(None, os.environ.get(PRELOAD_ENV, "").split(",")):
        try:
            __import__(name)
        except ImportError:
            pass
    if os.environ.get(INJECT_ENV):
        inject(os.environ[INJECT_ENV])


if __name__ == MODULE_NAME:
    install()
