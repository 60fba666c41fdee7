"""Text contenders registered: TF-IDF + logistic regression (classical) and a small Transformer encoder (deep).

Beside the bag of words (the `engineered` variant, bench.features) and the networks that
embed words (MLP, CNN, GRU): the classical standard of text benchmarks and the architecture
that replaced recurrent networks there. The estimators live in
bench.models.text_estimators, imported when a factory builds one.
"""

from __future__ import annotations

import lazy_loader

from bench.models.core import ModelContext, lazy_attributes, model
from bench.models.deep import _TRAINING_SPACE, _context

stats = lazy_loader.load("scipy.stats", suppress_warning=True)
__getattr__ = lazy_attributes(__name__, "bench.models.text_estimators")  # the estimators, imported on first use


@model(
    "tfidf_logistic", family="classical", tasks=("classification",), modalities=("text",), tags=("linear", "engineered_features"),
    needs=(), search=lambda ctx: {"C": stats.loguniform(1e-2, 1e3), "min_df": [1, 2, 5], "ngram_max": [1, 2]},
)
def tfidf_logistic(ctx: ModelContext):
    """TF-IDF of words and word pairs (vocabulary from the training rows), then logistic regression."""
    from bench.models.text_estimators import TfidfLogisticClassifier

    return TfidfLogisticClassifier(random_state=ctx.seed)


@model(
    "transformer", family="deep", modalities=("text",), tags=("attention",), needs=("torch",),
    search={**_TRAINING_SPACE, "n_layers": [1, 2, 4], "d_model": [32, 64, 128], "d_ff": [64, 128, 256]},
)
def transformer(ctx: ModelContext):
    """Transformer encoder (2 layers, 4 heads, d_model 64, learned positions, mean pooling) over token ids."""
    from bench.models.text_estimators import TransformerClassifier, TransformerRegressor

    cls = TransformerClassifier if ctx.task == "classification" else TransformerRegressor
    return cls(**_context(ctx))
