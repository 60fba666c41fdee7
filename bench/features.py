"""Feature variants: what a classical model sees of a dataset (`raw`, or engineered features).

A variant is a per-sample transform that never looks at labels, so computing it on the
whole dataset before the split cannot leak the test set. Deep models always take `raw`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench.registry import Registry


@dataclass(frozen=True)
class FeatureVariant:
    name: str
    modalities: frozenset[str]
    fn: Callable[[np.ndarray, tuple[int, ...] | None], np.ndarray]
    description: str = ""


FEATURES: Registry[FeatureVariant] = Registry("feature variant")


def feature_variant(name: str, *, modalities: tuple[str, ...]):
    """Register a transform X (rows x features), sample_shape -> new X (rows x new features)."""

    def wrap(fn):
        FEATURES.add(
            name,
            FeatureVariant(name, frozenset(modalities), fn, (fn.__doc__ or "").strip().splitlines()[0]),
        )
        return fn

    return wrap


@feature_variant("raw", modalities=("tabular", "image", "sequence"))
def raw(X, sample_shape):
    """The inputs as they are (images and sequences flattened)."""
    return X
