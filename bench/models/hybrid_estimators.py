"""The hybrid estimators: a network's penultimate-layer features read out by a classical model.

Registered in bench.models.hybrid (which says what a hybrid is and why its family is "deep");
imported only when a factory builds one, so the registry loads without scikit-learn.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from bench.models.deep_estimators import MLPClassifier, MLPRegressor


class _Hybrid(BaseEstimator):
    """Network features -> standardisation -> classical model."""

    _classifier = False

    def __init__(self, network=None, head=None, scale_features: bool = True):
        self.network = network
        self.head = head
        self.scale_features = scale_features

    def _default_network(self):
        raise NotImplementedError

    def _default_head(self):
        raise NotImplementedError

    def fit(self, X, y):
        """Train the network on (X, y), then the head on the network's features of the same rows."""
        X, y = validate_data(self, X, y, dtype=np.float32, y_numeric=not self._classifier)
        if self._classifier:
            y = column_or_1d(y, warn=True)
            check_classification_targets(y)
            self.classes_, codes = np.unique(y, return_inverse=True)
            if len(self.classes_) < 2:
                raise ValueError(f"{type(self).__name__} needs at least 2 classes; the target has 1 class")
            target = codes  # the head sees 0..k-1: XGBoost needs them, every head accepts them
        else:
            target = y
        network = self.network if self.network is not None else self._default_network()
        head = self.head if self.head is not None else self._default_head()
        self.network_ = clone(network).fit(X, target)
        Z = self.network_.embed(X)
        self.scaler_ = StandardScaler().fit(Z) if self.scale_features else None
        self.head_ = clone(head).fit(self._scaled(Z), target)
        # What the harness records of a deep model, from the network that learned the features.
        self.history_ = self.network_.history_
        self.n_epochs_ = self.network_.n_epochs_
        self.best_epoch_ = self.network_.best_epoch_
        self.device_ = self.network_.device_
        self.gpu_peak_memory_mb_ = self.network_.gpu_peak_memory_mb_
        self.n_features_embedded_ = Z.shape[1]
        return self

    def _scaled(self, Z):
        return self.scaler_.transform(Z) if self.scaler_ is not None else Z

    def embed(self, X) -> np.ndarray:
        """The head's input: the network's penultimate-layer features of X, standardised."""
        check_is_fitted(self, "head_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        return self._scaled(self.network_.embed(X))

    def size_info(self) -> tuple[int, int, str]:
        """(network weights + the head's learned parameters, network weights, unit)."""
        from bench.measure import model_size

        check_is_fitted(self, "head_")
        n_net = self.network_.size_info()[0]
        n_head = model_size(self.head_)[0]
        n_scale = 2 * self.n_features_embedded_ if self.scaler_ is not None else 0
        return n_net + n_scale + n_head, n_net, "network weights"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class HybridClassifier(ClassifierMixin, _Hybrid):
    """A classical classifier on a network's learned features.

    `network`: an unfitted bench deep classifier (default MLPClassifier()); `head`: an
    unfitted scikit-learn classifier (default LogisticRegression(max_iter=1000)), fitted
    on class codes 0..k-1; `scale_features`: standardise the features first.
    """

    _classifier = True

    def _default_network(self):
        return MLPClassifier()

    def _default_head(self):
        return LogisticRegression(max_iter=1000)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities from the head, columns in classes_ order."""
        Z = self.embed(X)  # checks the fit first
        return self.head_.predict_proba(Z)

    def predict(self, X) -> np.ndarray:
        Z = self.embed(X)
        codes = np.asarray(self.head_.predict(Z), dtype=np.int64)
        return self.classes_[codes]


class HybridRegressor(RegressorMixin, _Hybrid):
    """A classical regressor on a network's learned features.

    `network`: an unfitted bench deep regressor (default MLPRegressor()); `head`: an unfitted
    scikit-learn regressor (default Ridge()); `scale_features`: standardise the features first.
    """

    def _default_network(self):
        return MLPRegressor()

    def _default_head(self):
        return Ridge()

    def predict(self, X) -> np.ndarray:
        Z = self.embed(X)
        return self.head_.predict(Z)
