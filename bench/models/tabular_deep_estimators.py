"""TabM (Gorishniy et al. 2025) with numeric embeddings, behind the scikit-learn API.

Registered in bench.models.tabular_deep, which imports this module only when a factory builds
one; this module imports torch, tabm and rtdl_num_embeddings at the top, so its network
classes live at module level and a fitted model pickles.

The training loop, seeding, device choice, early stopping on a validation slice of the
training rows and normalisation are bench.models.training's (`_TorchEstimator`); this
module adds what TabM needs:

- inputs: numeric columns and categorical columns apart. A DataFrame's text columns, or the
  columns `categorical_features` names (holding category codes, as the harness gives a table's
  categories to a model tagged `native_categories`), are categories (bench.models.categories): each gets a learned embedding of `d_cat` numbers (row 0 of its
  table stands for a missing or unseen value), not a one-hot code. Numeric columns are
  standardised from the training slice and embedded (`num_embeddings`): "piecewise" (the
  piecewise-linear embeddings of Gorishniy et al. 2022, version B, on quantile bins of the
  training slice), "periodic", or "none";
- the network: `k` MLPs sharing their weights (BatchEnsemble, `arch_type="tabm"`) trained
  together, each on the same mini-batch, the loss the mean of theirs; the prediction is the
  mean of their probabilities (classification) or of their outputs (regression), and early
  stopping watches the loss of that mean.

CPU-friendly defaults (k = 8, 2 blocks of 256, 16-number embeddings, batch 256) are smaller
than the paper's GPU defaults (k = 32, blocks of 512): a TabM step costs about k times an MLP
step of the same width, and on one CPU core k = 16 already takes ~0.1 s per batch of 256. The
search space covers the paper's defaults too.
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import rtdl_num_embeddings
import tabm
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from bench.models.categories import MISSING, CategoryCodes
from bench.models.training import _COMMON_DOC, _Classifier, _Regressor, _TorchEstimator

NUM_EMBEDDINGS = ("piecewise", "periodic", "none")
ARCH_TYPES = ("tabm", "tabm-mini")
ONE_BIN = ".*just two bin edges"  # rtdl_num_embeddings' warning on a binary (one-hot) column: one bin is right there


class CategoryEmbeddings(nn.Module):
    """(batch, n_cat) codes -> (batch, n_cat, d): one table per column, row 0 for a missing or unseen value."""

    def __init__(self, cardinalities: list[int], d: int):
        super().__init__()
        self.tables = nn.ModuleList(nn.Embedding(c + 1, d) for c in cardinalities)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return torch.stack([table(codes[:, i]) for i, table in enumerate(self.tables)], dim=1)


class TabMNetwork(nn.Module):
    """TabM on rows whose first `n_num` columns are numbers and the rest category codes (+1; 0 is missing).

    tabm.TabM embeds categories by one-hot encoding; here it is built as if each categorical
    column were `d_cat` wide (so its backbone takes `d_cat` numbers per column), and its
    one-hot module is replaced by learned embeddings of that width.
    """

    def __init__(self, n_num: int, cardinalities: list[int], n_out: int, *, num_embeddings, d_cat: int, **backbone):
        super().__init__()
        self.n_num = n_num
        self.tabm = tabm.TabM.make(
            n_num_features=n_num, cat_cardinalities=[d_cat] * len(cardinalities) or None,
            d_out=n_out, num_embeddings=num_embeddings, **backbone,
        )
        if cardinalities:
            self.tabm.cat_module = CategoryEmbeddings(cardinalities, d_cat)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, k, n_out): each member's outputs."""
        x_num = x[:, : self.n_num] if self.n_num else None
        x_cat = x[:, self.n_num :].long() if x.shape[1] > self.n_num else None
        return self.tabm(x_num, x_cat)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, d_block): the members' last hidden layer, averaged."""
        out, self.tabm.output = self.tabm.output, None  # TabM without its output layer gives the backbone's
        try:
            return self(x).mean(1)
        finally:
            self.tabm.output = out


def quantile_bins(X: torch.Tensor, n_bins: int) -> list[torch.Tensor]:
    """Bin edges per column from quantiles of the training rows (rtdl_num_embeddings.compute_bins),
    a column with a single value getting one bin around it (compute_bins refuses such columns)."""
    n_bins = max(2, min(n_bins, len(X) - 1))
    constant = (X == X[0]).all(dim=0) if len(X) else torch.ones(X.shape[1], dtype=torch.bool)
    bins: list[torch.Tensor | None] = [None] * X.shape[1]
    varying = torch.nonzero(~constant).flatten().tolist()
    if varying and len(X) >= 3:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=ONE_BIN)
            for i, edges in zip(varying, rtdl_num_embeddings.compute_bins(X[:, varying], n_bins=n_bins), strict=True):
                bins[i] = edges
    for i in range(X.shape[1]):
        if bins[i] is None:
            v = float(X[0, i]) if len(X) else 0.0
            bins[i] = torch.tensor([v - 1.0, v + 1.0], dtype=X.dtype)
    return bins


class _TabM(_TorchEstimator):
    _parameter_constraints = {
        **_TorchEstimator._parameter_constraints,
        "k": [Interval(Integral, 1, None, closed="left")],
        "n_blocks": [Interval(Integral, 1, None, closed="left")],
        "d_block": [Interval(Integral, 1, None, closed="left")],
        "arch_type": [StrOptions(set(ARCH_TYPES))],
        "num_embeddings": [StrOptions(set(NUM_EMBEDDINGS))],
        "d_embedding": [Interval(Integral, 1, None, closed="left")],
        "n_bins": [Interval(Integral, 2, None, closed="left")],
        "d_cat": [Interval(Integral, 1, None, closed="left")],
        "categorical_features": [tuple, list, None],
    }

    def __init__(
        self,
        k: int = 8,
        n_blocks: int = 2,
        d_block: int = 256,
        arch_type: str = "tabm",
        num_embeddings: str = "piecewise",
        d_embedding: int = 16,
        n_bins: int = 32,
        d_cat: int = 16,
        categorical_features=(),
        dropout: float = 0.1,
        weight_decay: float = 3e-4,
        lr: float = 2e-3,
        lr_schedule: str = "constant",
        input_norm: str = "feature",
        batch_size: int = 256,
        n_epochs: int = 100,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        patience: int = 16,
        random_state=None,
        device: str = "auto",
        modality: str = "tabular",
        sample_shape=None,
    ):
        self.k = k
        self.n_blocks = n_blocks
        self.d_block = d_block
        self.arch_type = arch_type
        self.num_embeddings = num_embeddings
        self.d_embedding = d_embedding
        self.n_bins = n_bins
        self.d_cat = d_cat
        self.categorical_features = categorical_features
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

    # -- inputs: numbers first, then category codes + 1 (0: missing or unseen) -----------------
    def _design(self, X) -> np.ndarray:
        c = self.codes_
        numbers = c.numbers(X)
        numbers = np.where(np.isnan(numbers), self.fill_, numbers)
        codes = c.codes(X) + 1  # MISSING (-1) -> 0
        return np.hstack([numbers, codes.astype(np.float64)]).astype(np.float32)

    def fit(self, X, y):
        """Train on (X, y); categorical columns (a DataFrame's text columns or `categorical_features`) embedded."""
        if self.modality != "tabular":
            raise ValueError(f"{type(self).__name__} takes tabular rows, not {self.modality} data")
        self.codes_ = CategoryCodes(self.categorical_features).fit(X)
        numbers = self.codes_.numbers(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column: its fill is 0
            fill = np.nanmedian(numbers, axis=0) if len(numbers) else np.zeros(numbers.shape[1])
        self.fill_ = np.where(np.isnan(fill), 0.0, fill)
        self.n_num_ = numbers.shape[1]
        return super().fit(self._design(X), y)

    def _inputs(self, X):
        return super()._inputs(self._design(X))

    def _fit_normalisation(self, X: np.ndarray) -> None:
        """Numbers standardised from the training slice (codes untouched), then the quantile bins of the result."""
        super()._fit_normalisation(X)
        self.input_mean_[self.n_num_ :] = 0.0
        self.input_scale_[self.n_num_ :] = 1.0
        self.bins_ = None
        if self.num_embeddings == "piecewise" and self.n_num_:
            numbers = torch.from_numpy(np.ascontiguousarray(self._normalised(X)[:, : self.n_num_]))
            self.bins_ = quantile_bins(numbers, self.n_bins)

    def _build(self, in_shape, n_out):
        n_num = self.n_num_
        embeddings = None
        if n_num and self.num_embeddings == "piecewise":
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=ONE_BIN)
                embeddings = rtdl_num_embeddings.PiecewiseLinearEmbeddings(
                    self.bins_, self.d_embedding, activation=False, version="B"
                )
        elif n_num and self.num_embeddings == "periodic":
            embeddings = rtdl_num_embeddings.PeriodicEmbeddings(n_num, self.d_embedding, lite=False)
        return TabMNetwork(
            n_num, self.codes_.cardinalities, n_out, num_embeddings=embeddings, d_cat=self.d_cat,
            k=self.k, n_blocks=self.n_blocks, d_block=self.d_block, dropout=self.dropout, arch_type=self.arch_type,
        )

    # -- the ensemble: members trained apart, predicted together -------------------------------
    def _forward(self, module, x):
        out = module(x)  # (batch, k, n_out)
        if module.training:
            return out
        if self._classifier:  # log of the mean probability: its softmax is the members' mean
            return torch.logsumexp(torch.log_softmax(out, dim=-1), dim=1) - np.log(out.shape[1])
        return out.mean(1)

    def _features(self, module, x):
        return module.features(x)


class _MembersLoss:
    """Placed first among a TabM estimator's bases: wraps its task's loss (the classifier's or the regressor's)."""

    def _loss_fn(self):
        base = super()._loss_fn()

        def loss(out, target):
            if out.ndim == 3:  # training: each member's loss on the same batch, averaged
                k = out.shape[1]
                target = target.repeat_interleave(k, dim=0)
                return base(out.flatten(0, 1), target)
            return base(out, target)

        return loss


_TABM_DOC = """
    TabM parameters: `k` (members), `n_blocks` and `d_block` (each member's MLP), `arch_type`
    ("tabm": BatchEnsemble in every layer; "tabm-mini": adapters on the first only),
    `num_embeddings` ("piecewise", "periodic" or "none"), `d_embedding` (numbers per numeric
    column), `n_bins` (piecewise-linear bins), `d_cat` (numbers per categorical column) and
    `categorical_features` (columns of a numeric X that hold category codes; a DataFrame's text
    columns are categories anyway).
"""


class TabMClassifier(_MembersLoss, _Classifier, _TabM):
    __doc__ = "TabM classifier: k weight-sharing MLPs over embedded numbers and categories.\n" + _TABM_DOC + _COMMON_DOC


class TabMRegressor(_MembersLoss, _Regressor, _TabM):
    __doc__ = "TabM regressor: k weight-sharing MLPs over embedded numbers and categories.\n" + _TABM_DOC + _COMMON_DOC


__all__ = ["MISSING", "TabMClassifier", "TabMRegressor", "TabMNetwork", "CategoryEmbeddings", "quantile_bins"]
