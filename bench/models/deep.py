"""Deep models registered: MLP, CNN and RNN, their factories and search spaces.

The estimators (defaults, training loop) live in bench.models.deep_estimators, imported by the
factories when a cell builds a model: the registry loads on every CLI call and must stay
light. `from bench.models.deep import MLPClassifier` still works (a lazy attribute).
"""

from __future__ import annotations

from bench.models.core import ModelContext, lazy_attributes, model

__getattr__ = lazy_attributes(__name__, "bench.models.deep_estimators")  # the estimators, imported on first use


def _context(ctx: ModelContext) -> dict:
    return {
        "random_state": ctx.seed,
        "device": ctx.device,
        "modality": ctx.modality,
        "sample_shape": tuple(ctx.sample_shape) if ctx.sample_shape is not None else None,
    }


# Search spaces (bench.tuning): the optimiser's settings every network shares, then each
# architecture's size. Epochs stay the suite's: early stopping on the training rows decides them.
_TRAINING_SPACE = {
    "lr": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
    "weight_decay": [0.0, 1e-5, 1e-4, 1e-3, 1e-2],
    "dropout": [0.0, 0.1, 0.2, 0.3, 0.5],
}


@model(
    "mlp", family="deep", tags=("fully_connected",), needs=("torch",),
    search={**_TRAINING_SPACE, "n_layers": [1, 2, 3], "d_hidden": [64, 128, 256, 512]},
)
def mlp(ctx: ModelContext):
    """Multilayer perceptron (3 x 256 ReLU, AdamW, early stopping); images and sequences flattened, text as its mean word embedding."""
    from bench.models.deep_estimators import MLPClassifier, MLPRegressor

    cls = MLPClassifier if ctx.task == "classification" else MLPRegressor
    return cls(**_context(ctx))


@model(
    "cnn", family="deep", modalities=("image", "sequence", "text"), tags=("convolutional",), needs=("torch",),
    search={**_TRAINING_SPACE, "n_channels": [16, 32, 64], "kernel_size": [3, 5], "d_hidden": [64, 128, 256]},
)
def cnn(ctx: ModelContext):
    """Convolutional network: 2-D over images, 1-D over sequences and word embeddings; a dense head on the pooled maps."""
    from bench.models.deep_estimators import CNNClassifier, CNNRegressor

    cls = CNNClassifier if ctx.task == "classification" else CNNRegressor
    return cls(**_context(ctx))


@model(
    "rnn", family="deep", modalities=("image", "sequence", "text"), tags=("recurrent",), needs=("torch",),
    search={
        **_TRAINING_SPACE, "dropout": [0.0, 0.1, 0.3], "n_layers": [1, 2],
        "d_hidden": [32, 64, 128, 256], "bidirectional": [False, True],
    },
)
def rnn(ctx: ModelContext):
    """Recurrent network (cell = "lstm", "gru" or "rnn") over sequences, text word by word, or images row by row."""
    from bench.models.deep_estimators import RNNClassifier, RNNRegressor

    cls = RNNClassifier if ctx.task == "classification" else RNNRegressor
    return cls(**_context(ctx))
