"""Old name of bench.models.hybrid_estimators, kept only until bench/execution/preload_torch.py
imports the new name; then delete this file."""

import sys

from bench.models import hybrid_estimators

sys.modules[__name__] = hybrid_estimators  # the same module under both names, not a copy
