"""LightGBM and CatBoost behind one scikit-learn interface, categorical columns passed natively.

Registered in bench.models.boosting, which imports this module only when a factory builds one
(lightgbm and catboost take a while to import, and `bench list` needs neither).

Both wrappers take the same inputs: a numeric array, one whose `categorical_features` columns
hold category codes (what the harness gives them: both are tagged `native_categories`, so
bench.execution.prepare codes a table's categories and ModelContext.categorical names the
columns), or a DataFrame whose text columns are categories (bench.models.categories). Classes are
fitted as codes 0..k-1 of the labels the training rows hold and predicted as those labels, as
every scikit-learn classifier does, whatever the labels are. Fits are deterministic given
`random_state` and the thread count (LightGBM's `deterministic`, CatBoost's seeded CPU fit).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from bench.models.categories import MISSING, CategoryCodes


class _Boosting(BaseEstimator):
    _classifier = False

    def _fit_targets(self, y):
        if not self._classifier:
            y = np.asarray(y, dtype=np.float64)
            if y.ndim != 1:
                raise ValueError(f"{type(self).__name__} takes one target column, got shape {y.shape}")
            return y
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 classes; the target has 1 class")
        return codes.astype(np.int64)

    def fit(self, X, y):
        """Fit on (X, y); categorical columns (a DataFrame's text columns or `categorical_features`) natively."""
        self._validate_params()
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        target = self._fit_targets(y)
        self.codes_ = CategoryCodes(self.categorical_features).fit(X)
        self.n_features_in_ = self.codes_.n_features
        self.model_ = self._make()
        self._fit_model(self._design(X), target)
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        out = np.asarray(self.model_.predict(self._design(X)))
        if self._classifier:
            return self.classes_[out.ravel().astype(np.int64)]
        return out.astype(np.float64).ravel()

    def _proba(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        return np.asarray(self.model_.predict_proba(self._design(X)), dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.input_tags.allow_nan = True
        return tags


class _Classifier(ClassifierMixin):
    _classifier = True

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in classes_ order."""
        return self._proba(X)


class _Regressor(RegressorMixin):
    _classifier = False


# -- LightGBM -----------------------------------------------------------------------------------

class _LightGBM(_Boosting):
    _parameter_constraints = {
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "num_leaves": [Interval(Integral, 2, None, closed="left")],
        "max_depth": [Integral],
        "min_child_samples": [Interval(Integral, 1, None, closed="left")],
        "subsample": [Interval(Real, 0, 1, closed="right")],
        "colsample_bytree": [Interval(Real, 0, 1, closed="right")],
        "reg_lambda": [Interval(Real, 0, None, closed="left")],
        "categorical_features": [tuple, list, None],
        "n_jobs": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_estimators: int = 200,
        learning_rate: float = 0.1,
        num_leaves: int = 31,
        max_depth: int = -1,
        min_child_samples: int = 20,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        reg_lambda: float = 0.0,
        categorical_features=(),
        n_jobs: int = 1,
        random_state: int = 0,
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.categorical_features = categorical_features
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _make(self):
        import lightgbm as lgb

        cls = lgb.LGBMClassifier if self._classifier else lgb.LGBMRegressor
        return cls(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate, num_leaves=self.num_leaves,
            max_depth=self.max_depth, min_child_samples=self.min_child_samples, subsample=self.subsample,
            subsample_freq=1 if self.subsample < 1 else 0, colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda, n_jobs=self.n_jobs, random_state=self.random_state,
            deterministic=True, force_col_wise=True, verbosity=-1,
        )

    def _design(self, X) -> np.ndarray:
        """All columns as float64 in their order; category codes in theirs, NaN for missing or unseen."""
        c = self.codes_
        out = np.empty((len(X), c.n_features), dtype=np.float64)
        out[:, c.numeric] = c.numbers(X)
        codes = c.codes(X).astype(np.float64)
        codes[codes == MISSING] = np.nan
        out[:, list(c.columns)] = codes
        return out

    def _fit_model(self, X: np.ndarray, target: np.ndarray) -> None:
        cats = list(self.codes_.columns)
        self.model_.fit(X, target, categorical_feature=cats if cats else "auto")

    def size_info(self) -> tuple[int, int, str]:
        """(tree nodes, tree nodes, "tree nodes"): 2 x leaves - 1 per tree."""
        check_is_fitted(self, "model_")
        trees = self.model_.booster_.dump_model()["tree_info"]
        nodes = int(sum(2 * t["num_leaves"] - 1 for t in trees))
        return nodes, nodes, "tree nodes"


class LightGBMClassifier(_Classifier, _LightGBM):
    """LightGBM gradient-boosted trees (leaf-wise growth), categorical columns split natively."""


class LightGBMRegressor(_Regressor, _LightGBM):
    """LightGBM gradient-boosted trees (leaf-wise growth), categorical columns split natively."""


# -- CatBoost -----------------------------------------------------------------------------------

class _CatBoost(_Boosting):
    _parameter_constraints = {
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "depth": [Interval(Integral, 1, 16, closed="both")],
        "l2_leaf_reg": [Interval(Real, 0, None, closed="left")],
        "random_strength": [Interval(Real, 0, None, closed="left")],
        "bagging_temperature": [Interval(Real, 0, None, closed="left")],
        "one_hot_max_size": [Interval(Integral, 1, None, closed="left")],
        "categorical_features": [tuple, list, None],
        "thread_count": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float | None = None,
        depth: int = 6,
        l2_leaf_reg: float = 3.0,
        random_strength: float = 1.0,
        bagging_temperature: float = 1.0,
        one_hot_max_size: int = 2,
        categorical_features=(),
        thread_count: int = 1,
        random_state: int = 0,
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.depth = depth
        self.l2_leaf_reg = l2_leaf_reg
        self.random_strength = random_strength
        self.bagging_temperature = bagging_temperature
        self.one_hot_max_size = one_hot_max_size
        self.categorical_features = categorical_features
        self.thread_count = thread_count
        self.random_state = random_state

    def _make(self):
        import catboost

        cls = catboost.CatBoostClassifier if self._classifier else catboost.CatBoostRegressor
        if self._classifier:
            loss = "Logloss" if len(self.classes_) == 2 else "MultiClass"
        else:
            loss = "RMSE"
        return cls(
            iterations=self.n_estimators, learning_rate=self.learning_rate, depth=self.depth,
            l2_leaf_reg=self.l2_leaf_reg, random_strength=self.random_strength,
            bagging_temperature=self.bagging_temperature, one_hot_max_size=self.one_hot_max_size,
            loss_function=loss, thread_count=self.thread_count, random_seed=self.random_state,
            allow_writing_files=False, verbose=False,
        )

    def _design(self, X):
        """A DataFrame: numbers as float64, categories as int codes (MISSING a category of its own)."""
        import pandas as pd

        c = self.codes_
        numbers, codes = c.numbers(X), c.codes(X)
        columns = {}
        num_iter, cat_iter = iter(range(numbers.shape[1])), iter(range(codes.shape[1]))
        cats = set(c.columns)
        for i in range(c.n_features):
            columns[f"f{i}"] = codes[:, next(cat_iter)] if i in cats else numbers[:, next(num_iter)]
        return pd.DataFrame(columns)

    def _fit_model(self, X, target: np.ndarray) -> None:
        self.model_.fit(X, target, cat_features=list(self.codes_.columns) or None)

    def size_info(self) -> tuple[int, int, str]:
        """(tree nodes, tree nodes, "tree nodes"): 2 x leaves - 1 per (oblivious) tree."""
        check_is_fitted(self, "model_")
        leaves = np.asarray(self.model_.get_tree_leaf_counts(), dtype=np.int64)
        nodes = int((2 * leaves - 1).sum())
        return nodes, nodes, "tree nodes"


class CatBoostClassifier(_Classifier, _CatBoost):
    """CatBoost gradient-boosted oblivious trees, categorical columns as ordered target statistics."""


class CatBoostRegressor(_Regressor, _CatBoost):
    """CatBoost gradient-boosted oblivious trees, categorical columns as ordered target statistics."""
