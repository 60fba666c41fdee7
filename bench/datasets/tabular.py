"""Tabular (structured) datasets that need no network."""

from __future__ import annotations

import numpy as np

from bench.datasets.core import Data, DataError, dataset


def _positive(*keys: str):
    def check(params: dict) -> None:
        for key in keys:
            if params[key] < 1:
                raise DataError(f"{key} must be at least 1, got {params[key]}")

    return check


@dataset("breast_cancer", task="classification", modality="tabular", size=569, tags=("real",))
def breast_cancer() -> Data:
    """Wisconsin breast cancer: 569 rows, 30 numeric features, 2 classes (bundled with scikit-learn)."""
    X, y = _skd().load_breast_cancer(return_X_y=True)
    return Data(X=X.astype(np.float64), y=y)


@dataset("wine", task="classification", modality="tabular", size=178, tags=("real",))
def wine() -> Data:
    """Wine cultivars: 178 rows, 13 numeric features, 3 classes (bundled with scikit-learn)."""
    X, y = _skd().load_wine(return_X_y=True)
    return Data(X=X.astype(np.float64), y=y)


@dataset("diabetes", task="regression", modality="tabular", size=442, tags=("real",))
def diabetes() -> Data:
    """Diabetes progression: 442 rows, 10 numeric features (bundled with scikit-learn)."""
    X, y = _skd().load_diabetes(return_X_y=True)
    return Data(X=X.astype(np.float64), y=y.astype(np.float64))


def _check_synthetic_classification(params: dict) -> None:
    _positive("n_samples", "n_features", "n_informative")(params)
    if params["n_classes"] < 2:
        raise DataError(f"n_classes must be at least 2, got {params['n_classes']}")
    if params["n_informative"] > params["n_features"]:
        raise DataError("n_informative cannot exceed n_features")
    if params["n_classes"] * 2 > 2 ** params["n_informative"]:
        raise DataError("n_classes * 2 must be <= 2 ** n_informative (one cluster per class)")


@dataset(
    "synthetic_classification",
    task="classification",
    modality="tabular",
    size=lambda p: p["n_samples"],
    check=_check_synthetic_classification,
    tags=("synthetic",),
)
def synthetic_classification(
    n_samples: int = 5000,
    n_features: int = 20,
    n_informative: int = 10,
    n_classes: int = 2,
    class_sep: float = 1.0,
    flip_y: float = 0.01,
    random_state: int = 0,
) -> Data:
    """Gaussian clusters on hypercube vertices (scikit-learn make_classification); any size."""
    X, y = _skd().make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=0,
        n_classes=n_classes,
        class_sep=class_sep,
        flip_y=flip_y,
        random_state=random_state,
    )
    return Data(X=X.astype(np.float32), y=y)


@dataset(
    "friedman1",
    task="regression",
    modality="tabular",
    size=lambda p: p["n_samples"],
    check=_positive("n_samples"),
    tags=("synthetic",),
)
def friedman1(
    n_samples: int = 5000, n_features: int = 10, noise: float = 1.0, random_state: int = 0
) -> Data:
    """Friedman #1: y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + noise; nonlinear."""
    if n_features < 5:
        raise DataError(f"n_features must be at least 5 for Friedman #1, got {n_features}")
    X, y = _skd().make_friedman1(
        n_samples=n_samples, n_features=n_features, noise=noise, random_state=random_state
    )
    return Data(X=X.astype(np.float32), y=y)


def _skd():
    """scikit-learn's datasets module, imported when a dataset is built (not to list the registry)."""
    from sklearn import datasets

    return datasets
