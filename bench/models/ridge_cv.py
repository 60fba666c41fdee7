"""The ridge model MiniRocket's paper pairs with its features: `ridge_cv`, alpha chosen by leave-one-out.

MiniRocket (Dempster, Schmidt, Webb 2021) is a feature variant here (`minirocket`,
bench.features; the transform in bench.minirocket): it is a fixed transform of each series,
and the report's feature-engineering claim sets classical models on engineered features
(any variant but `raw`) against deep models on raw input, so MiniRocket meets the networks
there as the non-deep state of the art it is. Its classifier is this model:
RidgeClassifierCV over 10 alphas log-spaced from 1e-3 to 1e3 (efficient leave-one-out
cross-validation on the training rows), as the paper and aeon's MiniRocketClassifier use
it; the harness standardises engineered features on the training rows first, as aeon's
pipeline does. RidgeCV, the same grid, for regression. It runs on every variant.
"""

from __future__ import annotations

from bench.models.core import ModelContext, model

ALPHAS = (1e-3, 1e3, 10)  # np.logspace(-3, 3, 10): log10 of the ends, and the count


@model("ridge_cv", family="classical", tags=("linear",), needs=())
def ridge_cv(ctx: ModelContext):
    """Ridge with its penalty chosen by leave-one-out over 10 log-spaced alphas (MiniRocket's classifier)."""
    import numpy as np
    from sklearn.linear_model import RidgeClassifierCV, RidgeCV

    lo, hi, n = ALPHAS
    alphas = np.logspace(np.log10(lo), np.log10(hi), n)
    return RidgeClassifierCV(alphas=alphas) if ctx.task == "classification" else RidgeCV(alphas=alphas)
