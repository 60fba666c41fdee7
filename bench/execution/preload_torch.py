"""Imported first by the worker server of cells whose models need torch (`needs=("torch",)`, or undeclared `deep`).

The lean server, of every other model, leaves these out: they double its resident memory,
and so what every fork and exit of a worker costs (bench.execution.isolate).
"""

import contextlib

import torch  # noqa: F401  (seconds to import: once here, not in every deep cell)
import torch._dynamo  # noqa: F401  (a torch optimizer's first construction imports it: seconds)

import bench.models.deep_estimators  # noqa: F401  (the deep estimators: 40-80 ms in every deep cell otherwise)
import bench.models.hybrid_estimators  # noqa: F401
import bench.models.layers  # noqa: F401

with contextlib.suppress(ImportError):  # what a network's first training step imports (torch's profiler hooks)
    import torch.profiler._cupti_monitor  # noqa: F401
