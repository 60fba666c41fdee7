"""Imported first by the worker server of cells that may use torch (deep and hybrid models, plug-ins).

The server of bench's own classical models leaves these out: they double its resident
memory, and so what every fork and exit of a worker costs (bench.execution.isolate).
"""

import torch  # noqa: F401  (seconds to import: once here, not in every deep cell)
import torch._dynamo  # noqa: F401  (a torch optimizer's first construction imports it: seconds)
