"""XGBoost's classifier for any integer labels.

XGBoost requires the labels 0..k-1, all present; a small stratified training prefix of real
data (rare classes) may lack some of the dataset's classes. This subclass fits on the codes of
the labels it sees and predicts the labels themselves, as every scikit-learn classifier does.
Imported only when an XGBoost classifier is built, so the CLI starts without xgboost.
"""

from __future__ import annotations

import numpy as np
from xgboost import XGBClassifier


class XGBClassifierAnyLabels(XGBClassifier):
    def fit(self, X, y, **kwargs):
        labels, codes = np.unique(np.asarray(y), return_inverse=True)
        self.__dict__.pop("labels_", None)  # XGBoost's fit checks classes_ against the codes
        super().fit(X, codes, **kwargs)
        self.labels_ = labels
        return self

    @property
    def classes_(self) -> np.ndarray:
        labels = self.__dict__.get("labels_")
        return labels if labels is not None else np.arange(self.n_classes_)

    def predict(self, X, **kwargs):
        return self.labels_[np.asarray(super().predict(X, **kwargs), dtype=np.int64)]
