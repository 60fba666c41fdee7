"""The text contenders' estimators: TF-IDF + logistic regression, and a small Transformer encoder.

Registered in bench.models.text_models, which imports this module only when a factory builds
one. Text reaches models as token ids, one document per row (bench.datasets.text: id 0 pads
the front, 1 is a word outside the vocabulary, 2, 3, ... the vocabulary's words).

- `TfidfLogisticClassifier` counts each document's words and word pairs (n-grams of ids),
  keeps those found in at least `min_df` training documents, weighs them by TF-IDF
  (sublinear term frequency, smoothed inverse document frequency, rows scaled to unit
  length; scikit-learn's TfidfTransformer) and fits a logistic regression on the sparse
  matrix. Vocabulary and document frequencies come from the training rows only. Given
  features that are not token ids (the `engineered` variant, a bag of words already scaled),
  it fits its logistic regression on them as they are.
- `TransformerClassifier` / `TransformerRegressor`: token and learned position embeddings, a
  pre-norm `nn.TransformerEncoder` (2 layers, 4 heads, d_model 64), mean pooling over the
  words, a linear head; trained by the deep models' loop (bench.models.training:
  AdamW, plateau schedule, early stopping on a validation slice of the training rows).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from bench.models.training import _COMMON_DOC, _Classifier, _Regressor, _TorchEstimator

FIRST_WORD = 2  # bench.datasets.text: ids below are padding (0) and out-of-vocabulary words (1)
MAX_KEY = 2**62  # n-gram keys are base**n: they must stay inside int64


def is_token_ids(X: np.ndarray) -> bool:
    """Whether rows hold token ids: finite, non-negative whole numbers."""
    return bool(X.size == 0 or (np.isfinite(X).all() and X.min() >= 0 and np.array_equal(X, np.floor(X))))


def ngram_keys(ids: np.ndarray, ngram_max: int, base: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, key) of every n-gram of words, n = 1..ngram_max; key = the ids' digits in base `base`.

    Padding and out-of-vocabulary ids break n-grams and count as no word. Every id of a key is
    at least FIRST_WORD, so keys of different lengths never collide (an n-gram's key is at
    least 2 * base**(n-1), above every shorter one's).
    """
    ids = np.where(ids < base, ids, 1)  # an id the training rows never held reads as out-of-vocabulary
    valid = ids >= FIRST_WORD
    rows_all, keys_all = [], []
    n_rows, length = ids.shape
    for n in range(1, ngram_max + 1):
        if n > length:
            break
        width = length - n + 1
        key = np.zeros((n_rows, width), dtype=np.int64)
        ok = np.ones((n_rows, width), dtype=bool)
        for j in range(n):
            key = key * base + ids[:, j : j + width]
            ok &= valid[:, j : j + width]
        r, c = np.nonzero(ok)
        rows_all.append(r)
        keys_all.append(key[r, c])
    return np.concatenate(rows_all), np.concatenate(keys_all)


class TfidfLogisticClassifier(ClassifierMixin, BaseEstimator):
    """TF-IDF of word n-grams (from token ids) and a logistic regression: the classical text baseline.

    `ngram_max` (2: words and word pairs), `min_df` (training documents an n-gram must occur
    in), `max_features` (keep the n-grams found in the most training documents; None: all),
    `C`, `max_iter` and `random_state` of the logistic regression (lbfgs).
    """

    _parameter_constraints: dict = {
        "ngram_max": [Interval(Integral, 1, 4, closed="both")],
        "min_df": [Interval(Integral, 1, None, closed="left")],
        "max_features": [Interval(Integral, 1, None, closed="left"), None],
        "C": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, ngram_max: int = 2, min_df: int = 2, max_features: int | None = None, C: float = 10.0,
                 max_iter: int = 1000, random_state=None):
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.max_features = max_features
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state

    def _counts(self, ids: np.ndarray):
        from scipy.sparse import csr_matrix

        rows, keys = ngram_keys(ids.astype(np.int64), self.ngram_max, self.base_)
        cols = np.searchsorted(self.vocabulary_, keys)
        hit = cols < len(self.vocabulary_)
        hit[hit] = self.vocabulary_[cols[hit]] == keys[hit]
        data = np.ones(int(hit.sum()), dtype=np.float64)
        return csr_matrix((data, (rows[hit], cols[hit])), shape=(len(ids), len(self.vocabulary_)))

    def _fit_vocabulary(self, ids: np.ndarray) -> None:
        self.base_ = max(int(ids.max()) + 1 if ids.size else 0, FIRST_WORD + 1)
        if self.base_ ** self.ngram_max >= MAX_KEY:
            raise ValueError(f"{type(self).__name__}: ids up to {self.base_ - 1} make {self.ngram_max}-gram keys "
                             "overflow int64; lower ngram_max")
        rows, keys = ngram_keys(ids.astype(np.int64), self.ngram_max, self.base_)
        order = np.lexsort((keys, rows))
        rows, keys = rows[order], keys[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (keys[1:] != keys[:-1])
        terms, df = np.unique(keys[first], return_counts=True)  # document frequency of each n-gram
        keep = df >= self.min_df
        terms, df = terms[keep], df[keep]
        if self.max_features is not None and len(terms) > self.max_features:
            top = np.lexsort((terms, -df))[: self.max_features]  # most documents first, ties by key
            terms = np.sort(terms[top])
        if len(terms) == 0:
            raise ValueError(f"{type(self).__name__}: no word occurs in {self.min_df} training documents; "
                             "lower min_df or give more documents")
        self.vocabulary_ = terms

    def fit(self, X, y):
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.linear_model import LogisticRegression

        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float32)
        y = column_or_1d(y)
        check_classification_targets(y)
        self.token_ids_ = is_token_ids(X)
        if self.token_ids_:
            self._fit_vocabulary(X)
            self.tfidf_ = TfidfTransformer(sublinear_tf=True)
            Z = self.tfidf_.fit_transform(self._counts(X))
        else:
            self.tfidf_ = None
            Z = X
        self.linear_ = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.random_state).fit(Z, y)
        self.classes_ = self.linear_.classes_
        return self

    def _design(self, X):
        check_is_fitted(self, "linear_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        if not self.token_ids_:
            return X
        if not is_token_ids(X):
            raise ValueError(f"{type(self).__name__} was fitted on token ids; these rows are not token ids")
        return self.tfidf_.transform(self._counts(X))

    def predict(self, X):
        return self.linear_.predict(self._design(X))

    def predict_proba(self, X):
        return self.linear_.predict_proba(self._design(X))

    def decision_function(self, X):
        return self.linear_.decision_function(self._design(X))

    def size_info(self) -> tuple[int, int, str]:
        """(coefficients and intercepts, plus one IDF weight per n-gram; coefficients; unit)."""
        check_is_fitted(self, "linear_")
        coef = int(self.linear_.coef_.size + self.linear_.intercept_.size)
        idf = len(self.tfidf_.idf_) if self.tfidf_ is not None else 0
        return coef + idf, coef, "coefficients"


class _Transformer(_TorchEstimator):
    _parameter_constraints = {
        **_TorchEstimator._parameter_constraints,
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "d_model": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "d_ff": [Interval(Integral, 1, None, closed="left")],
        "clip_grad_norm": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_layers: int = 2,
        d_model: int = 64,
        n_heads: int = 4,
        d_ff: int = 128,
        clip_grad_norm: float = 1.0,
        dropout: float = 0.1,
        weight_decay: float = 1e-2,
        lr: float = 1e-3,
        lr_schedule: str = "plateau",
        input_norm: str = "auto",
        batch_size: int = 64,
        n_epochs: int = 100,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        patience: int = 10,
        random_state=None,
        device: str = "auto",
        modality: str = "text",
        sample_shape=None,
    ):
        self.n_layers = n_layers
        self.d_model = d_model
        self.n_heads = n_heads
        self.d_ff = d_ff
        self.clip_grad_norm = clip_grad_norm
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.input_norm = input_norm
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.device = device
        self.modality = modality
        self.sample_shape = sample_shape

    def _build(self, in_shape, n_out):
        from bench.models.text_layers import TextTransformer

        if self.modality != "text":
            raise ValueError(f"{type(self).__name__} reads token ids (modality 'text'), not {self.modality} data")
        if self.d_model % self.n_heads:
            raise ValueError(f"{type(self).__name__}: d_model {self.d_model} is not a multiple of n_heads {self.n_heads}")
        return TextTransformer(self.n_tokens_, in_shape[0], self.d_model, self.n_heads, self.n_layers, self.d_ff,
                               self.dropout, n_out)

    def _features(self, module, x):
        return module.features(x)

    def _output_layer(self, module):
        return module.head


_TRANSFORMER_DOC = """
    A Transformer encoder over token ids: token and learned position embeddings (`d_model`),
    `n_layers` pre-norm encoder layers of `n_heads` heads and a `d_ff` feed-forward width,
    padding masked out of attention and of the mean over positions, then a linear head;
    gradients clipped to `clip_grad_norm`.
"""


class TransformerClassifier(_Classifier, _Transformer):
    __doc__ = "Transformer encoder classifier over token ids (text).\n" + _TRANSFORMER_DOC + _COMMON_DOC


class TransformerRegressor(_Regressor, _Transformer):
    __doc__ = "Transformer encoder regressor over token ids (text).\n" + _TRANSFORMER_DOC + _COMMON_DOC
