"""Hybrid models: a network's learned features fed to a classical model (issue 12, seed 004).

A hybrid trains a network (bench's MLP or CNN, with its defaults: normalisation, schedule,
early stopping on a validation slice of the training rows) on the training rows only, reads
its penultimate layer on those same rows, standardises those features, and fits a classical
model on them; prediction runs the network up to that layer, then the classical model. The
test rows reach neither the network's training nor the head's.

Family "deep": the representation is learned by gradient descent on the raw pixels or
values, the network is most of the cost (fit time, memory, the accelerator it may use) and
the reason the model works on images and sequences at all; the classical model is a read-out
of that representation, as in the linear-probe and "CNN features + SVM" practice of deep
learning. Filed under "classical", a hybrid would carry a network's compute into the
classical family's cost and data-efficiency verdicts. Like every deep model it runs on raw
features only. Each carries the `hybrid` tag and the tags of its two parts (`convolutional`
or `fully_connected`; `linear` or `boosting`): the report's "Deep and classical combined"
row sets a hybrid against the best of the models that share them.

Nested hyperparameters follow scikit-learn: `network__n_epochs`, `head__C`.
"""

from __future__ import annotations

from bench.models.core import MODELS, ModelContext, lazy_attributes, model
from bench.models.deep import _context

__getattr__ = lazy_attributes(__name__, "bench.models.hybrid_estimators")  # the estimators, imported on first use


def _hybrid(ctx: ModelContext, network_classes: tuple, head_model: str):
    """The registered network (deep defaults) and the registered classical model, as one estimator."""
    from bench.models import deep_estimators
    from bench.models.hybrid_estimators import HybridClassifier, HybridRegressor

    classifier = ctx.task == "classification"
    network = getattr(deep_estimators, network_classes[0 if classifier else 1])(**_context(ctx))
    head = MODELS[head_model].fn(ctx)
    return (HybridClassifier if classifier else HybridRegressor)(network=network, head=head)


@model("cnn_logistic", family="deep", tasks=("classification",), modalities=("image", "sequence"),
       tags=("convolutional", "linear", "hybrid"), needs=("torch",))
def cnn_logistic(ctx: ModelContext):
    """Logistic regression on the penultimate-layer features of the default CNN."""
    return _hybrid(ctx, ("CNNClassifier", "CNNRegressor"), "logistic_regression")


@model("cnn_xgboost", family="deep", modalities=("image", "sequence"), tags=("convolutional", "boosting", "hybrid"), needs=("torch",))
def cnn_xgboost(ctx: ModelContext):
    """XGBoost on the penultimate-layer features of the default CNN."""
    return _hybrid(ctx, ("CNNClassifier", "CNNRegressor"), "xgboost")


@model("mlp_xgboost", family="deep", tags=("fully_connected", "boosting", "hybrid"), needs=("torch",))
def mlp_xgboost(ctx: ModelContext):
    """XGBoost on the penultimate-layer features of the default MLP."""
    return _hybrid(ctx, ("MLPClassifier", "MLPRegressor"), "xgboost")
