"""A modern tabular network: TabM with numeric embeddings, its factory and search space.

The estimators live in bench.models.tabular_deep_estimators (torch, tabm and
rtdl_num_embeddings), imported by the factory when a cell builds one: the registry loads on
every CLI call and must stay light. Tagged `native_categories`: its cells get a table's
categories as ordinal codes, whose columns (`ModelContext.categorical`) it embeds.
"""

from __future__ import annotations

from bench.models.core import ModelContext, lazy_attributes, model

__getattr__ = lazy_attributes(__name__, "bench.models.tabular_deep_estimators")

# TabM's own space (Gorishniy et al. 2025, appendix), trimmed to what a CPU trains in minutes;
# epochs stay the suite's: early stopping on the training rows decides them.
_TABM_SPACE = {
    "lr": [3e-4, 1e-3, 2e-3, 3e-3],
    "weight_decay": [0.0, 1e-4, 1e-3, 1e-2],
    "dropout": [0.0, 0.1, 0.2, 0.3],
    "n_blocks": [1, 2, 3],
    "d_block": [128, 256, 512],
    "k": [8, 16, 32],
    "num_embeddings": ["piecewise", "periodic"],
    "d_embedding": [8, 16, 24],
    "n_bins": [8, 16, 32, 48],
}


@model(
    "tabm", family="deep", tasks=("classification", "regression"), modalities=("tabular",),
    tags=("fully_connected", "ensemble", "native_categories"), needs=("torch",), search=_TABM_SPACE,
)
def tabm(ctx: ModelContext):
    """TabM: 8 weight-sharing MLPs (2 x 256) over piecewise-linear number embeddings and category embeddings."""
    from bench.models.tabular_deep_estimators import TabMClassifier, TabMRegressor

    cls = TabMClassifier if ctx.task == "classification" else TabMRegressor
    return cls(random_state=ctx.seed, device=ctx.device, modality=ctx.modality, categorical_features=ctx.categorical)
