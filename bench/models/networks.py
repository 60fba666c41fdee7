"""Old name of bench.models.deep_estimators, kept only until bench/execution/preload_torch.py and
benchmarks/test_text_models.py import the new name; then delete this file."""

import sys

from bench.models import deep_estimators

sys.modules[__name__] = deep_estimators  # the same module under both names, not a copy
