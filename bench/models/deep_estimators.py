"""The deep models' estimators: MLP, CNN and RNN, each a classifier and a regressor.

Registered (with their search spaces) in bench.models.deep, which imports this module only
when a factory builds one: scikit-learn alone takes over a second to import, and every
CLI call (`bench list`, `bench check`) loads the registry.

The defaults are what a practitioner would write, not the smallest network that runs:

- inputs normalised inside the estimator, from the training slice's statistics only
  (per channel for images and sequences, per column for tabular rows), since the harness
  hands raw images and sequences over unscaled;
- a CNN of conv-BN-ReLU-pool blocks whose flattened maps feed a dense head, so the head
  sees where features are (`head="global"` keeps global average pooling instead);
- AdamW with a learning rate cut when the validation loss stalls (`lr_schedule="plateau"`),
  up to 100 epochs, early stopping on a validation slice carved from the training rows,
  the best epoch's weights kept;
- an MLP (3 x 256, dropout 0.3) and a GRU (128 units) to match.

One lean training loop serves all six: data become tensors once, each epoch draws a
seeded permutation and slices mini-batches from it (no DataLoader), the loss is summed
on the device (no per-batch sync) and the validation slice is scored once per epoch.
torch is imported inside the methods: it takes seconds to import, and a worker that fits
no network should not pay for it.
"""

from __future__ import annotations

import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

CELLS = ("lstm", "gru", "rnn")
SCHEDULES = ("plateau", "cosine", "constant")
INPUT_NORMS = ("auto", "channel", "feature", "none")
HEADS = ("flatten", "global")
BLOCKS = ("plain", "residual")
EVAL_BATCH = 4096  # rows per forward pass at validation and prediction time
PLATEAU_FACTOR = 0.2  # "plateau": the learning rate is multiplied by this ...
# An epoch improves on the best only by lowering the validation loss more than this: a loss
# creeping towards 0 once every validation row is right would otherwise never stop training.
MIN_DELTA = 1e-4
MAX_GRID = {1: 64, 2: 8}  # a flatten head sees at most this many positions per axis (1-D, 2-D)
TEXT_EMBED_DIM = 64  # modality "text": each token id is embedded in this many dimensions
OOV_ID = 1  # modality "text": the id of a word outside the vocabulary (bench.datasets.text)


def resolve_device(device: str) -> str:
    """The torch device for "auto" (CUDA, then MPS, then CPU), or the one named."""
    import torch

    if device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def plateau_patience(patience: int) -> int:
    """... after this many epochs without a better validation loss (a third of `patience`)."""
    return max(1, patience // 3)


class _TorchEstimator(BaseEstimator):
    """Training loop, normalisation, schedule, early stopping and bookkeeping shared by every network."""

    _parameter_constraints: dict = {
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions(set(SCHEDULES))],
        "input_norm": [StrOptions(set(INPUT_NORMS))],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "device": [str],
        "modality": [StrOptions({"tabular", "image", "sequence", "text"})],
        "sample_shape": [tuple, list, None],
    }
    _classifier = False

    # -- what each architecture provides ---------------------------------------------
    def _input_shape(self, n_features: int) -> tuple[int, ...]:
        """Shape of one sample as the network takes it."""
        return (n_features,)

    def _to_input(self, X):
        """(n, n_features) tensor -> the network's input layout (not called for text: see `_network_input`)."""
        return X

    def _network_input(self, X: np.ndarray, device):
        """Rows as the network takes them: normalised, on the device, in the architecture's layout.

        Text is the same for every architecture: int64 token ids, their embedding being the
        network's first layer; an id no training row held reads as out-of-vocabulary.
        """
        import torch

        x = self._tensor(self._normalised(X), device)
        if self.modality != "text":
            return self._to_input(x)
        ids = x.long()
        return torch.where(ids < self.n_tokens_, ids, torch.full_like(ids, OOV_ID))

    def _embedding(self, channels_first: bool):
        from bench.models.layers import TokenEmbedding

        return TokenEmbedding(self.n_tokens_, TEXT_EMBED_DIM, channels_first)

    def _build(self, in_shape: tuple[int, ...], n_out: int):
        """The network; the last module maps the penultimate features to the outputs."""
        raise NotImplementedError

    def _features(self, module, x):
        """Penultimate-layer features: what the output layer reads."""
        return module[:-1](x)

    def _output_layer(self, module):
        return module[-1]

    def _forward(self, module, x):
        if type(module).__name__ == "Sequential" and type(self)._features is _TorchEstimator._features:
            return module(x)  # the same layers in one call: no slice of the network built per batch (~20 us)
        return self._output_layer(module)(self._features(module, x))

    # -- shared ---------------------------------------------------------------------
    def _sample_shape(self, n_features: int) -> tuple[int, ...] | None:
        if self.sample_shape is None:
            if self.modality == "image":
                raise ValueError(f"{type(self).__name__} on image data needs sample_shape, e.g. (28, 28)")
            return None
        shape = tuple(int(s) for s in self.sample_shape)
        if int(np.prod(shape)) != n_features:
            raise ValueError(f"sample_shape {shape} does not match {n_features} features per row")
        if self.modality == "image" and len(shape) not in (2, 3):
            raise ValueError(f"an image sample_shape is (H, W) or (C, H, W), got {shape}")
        if self.modality == "sequence" and len(shape) not in (1, 2):
            raise ValueError(f"a sequence sample_shape is (L,) or (L, C), got {shape}")
        if self.modality == "text" and len(shape) != 1:
            raise ValueError(f"a text sample_shape is (L,) token ids, got {shape}")
        return shape

    def _norm_groups(self, n_features: int) -> np.ndarray | None:
        """Which statistic each column shares: its channel's, or None for one per column.

        "auto" is per channel for images and sequences (a pixel is scaled like every other
        pixel of its channel, which keeps what convolutions see) and per column otherwise.
        """
        mode = self.input_norm
        shape = self.sample_shape_
        if mode == "auto":
            mode = "channel" if shape is not None and self.modality in ("image", "sequence") else "feature"
        if mode == "feature" or shape is None:
            return None
        if self.modality == "image" and len(shape) == 3:  # (C, H, W)
            return np.repeat(np.arange(shape[0]), shape[1] * shape[2])
        if len(shape) == 2 and self.modality != "image":  # (L, C) sequence
            return np.tile(np.arange(shape[1]), shape[0])
        return np.zeros(n_features, dtype=np.int64)  # one channel

    def _fit_normalisation(self, X: np.ndarray) -> None:
        """input_mean_ and input_scale_ (one per column) from the rows the network trains on."""
        n_features = X.shape[1]
        if self.input_norm == "none" or self.modality == "text" or len(X) == 0:  # token ids are not scaled
            self.input_mean_ = np.zeros(n_features, np.float32)
            self.input_scale_ = np.ones(n_features, np.float32)
            return
        X64 = X.astype(np.float64)
        groups = self._norm_groups(n_features)
        if groups is None:
            mean, std = X64.mean(axis=0), X64.std(axis=0)
        else:
            n_groups = int(groups.max()) + 1
            count = np.bincount(groups, minlength=n_groups) * len(X)
            g_sum = np.bincount(groups, weights=X64.sum(axis=0), minlength=n_groups)
            g_sq = np.bincount(groups, weights=(X64**2).sum(axis=0), minlength=n_groups)
            g_mean = g_sum / count
            g_std = np.sqrt(np.maximum(g_sq / count - g_mean**2, 0.0))
            mean, std = g_mean[groups], g_std[groups]
        self.input_mean_ = mean.astype(np.float32)
        self.input_scale_ = np.where(std > 1e-6, std, 1.0).astype(np.float32)

    def _normalised(self, X: np.ndarray) -> np.ndarray:
        if self.input_norm == "none" or self.modality == "text":
            return X
        return ((X - self.input_mean_) / self.input_scale_).astype(np.float32, copy=False)

    def _seed(self) -> int:
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _split(self, targets: np.ndarray, seed: int):
        """(train, validation) row indices; the validation slice comes from the training rows."""
        n = len(targets)
        n_valid = int(round(n * self.validation_fraction)) if self.early_stopping else 0
        if n_valid < 1 or n - n_valid < 1:
            return None, None
        stratify = None
        if self._classifier:
            counts = np.bincount(targets)
            n_classes = np.count_nonzero(counts)
            if counts[counts > 0].min() >= 2 and min(n_valid, n - n_valid) >= n_classes:
                stratify = targets
        return train_test_split(np.arange(n), test_size=n_valid, random_state=seed, stratify=stratify)

    def _tensor(self, array: np.ndarray, device):
        import torch

        if not array.flags.writeable or not array.flags.c_contiguous:
            array = np.ascontiguousarray(array).copy()
        return torch.from_numpy(array).to(device)

    def fit(self, X, y):
        """Train on (X, y) with early stopping on a slice of them; returns self."""
        import torch

        self._validate_params()
        X, y = validate_data(
            self, X, y, dtype=np.float32, multi_output=not self._classifier, y_numeric=not self._classifier
        )
        shape = self._sample_shape(X.shape[1])
        self.sample_shape_ = shape
        if self.modality == "text":
            if len(X) and (X.min() < 0 or not np.array_equal(X, np.round(X))):
                raise ValueError(f"{type(self).__name__} on text takes token ids (integers from 0), got other values")
            # Ids the training rows hold; an id beyond them at prediction time reads as out-of-vocabulary.
            self.n_tokens_ = max(int(X.max()) + 1 if len(X) else 0, OOV_ID + 1)
        targets, n_out = self._fit_targets(y)
        self.input_shape_ = self._input_shape(X.shape[1])
        self.device_ = resolve_device(self.device)
        device = torch.device(self.device_)
        seed = self._seed()
        cuda = device.type == "cuda"
        if cuda:
            torch.cuda.reset_peak_memory_stats(device)
        # Seed torch's global generator (weight init, dropout) without disturbing the caller's.
        with torch.random.fork_rng(devices=[device.index or 0] if cuda else []):
            torch.manual_seed(seed)
            self._train(X, targets, n_out, device, seed)
        self.gpu_peak_memory_mb_ = torch.cuda.max_memory_allocated(device) / 2**20 if cuda else None
        return self

    def _scheduler(self, optimizer):
        import torch

        if self.lr_schedule == "plateau":
            return torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, factor=PLATEAU_FACTOR, patience=plateau_patience(self.patience),
                threshold=MIN_DELTA, threshold_mode="abs",
            )
        if self.lr_schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.n_epochs)
        return None

    def _train(self, X: np.ndarray, targets: np.ndarray, n_out: int, device, seed: int) -> None:
        import torch

        train_idx, valid_idx = self._split(targets, seed)
        self._fit_normalisation(X if train_idx is None else X[train_idx])
        module = self._build(self.input_shape_, n_out).to(device)
        optimizer = torch.optim.AdamW(module.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        scheduler = self._scheduler(optimizer)
        loss_fn = self._loss_fn()
        clip = float(getattr(self, "clip_grad_norm", 0.0) or 0.0)
        generator = torch.Generator().manual_seed(seed)

        X_all = self._network_input(X, device)
        y_all = self._tensor(targets, device)
        if train_idx is None:
            X_tr, y_tr, X_va, y_va = X_all, y_all, None, None
        else:
            tr = torch.from_numpy(train_idx).to(device)
            va = torch.from_numpy(valid_idx).to(device)
            X_tr, y_tr, X_va, y_va = X_all[tr], y_all[tr], X_all[va], y_all[va]
        del X_all, y_all
        n, batch = len(X_tr), self.batch_size

        history: list[dict] = []
        best_loss, best_state, best_epoch, stale = float("inf"), None, 0, 0
        for epoch in range(1, self.n_epochs + 1):
            t0 = time.perf_counter()
            lr = optimizer.param_groups[0]["lr"]
            module.train()
            order = torch.randperm(n, generator=generator).to(device)
            total = torch.zeros((), device=device)
            seen = 0
            for start in range(0, n, batch):
                idx = order[start : start + batch]
                if len(idx) == 1 < n:  # a lone trailing row: batch norm cannot train on it
                    continue
                loss = loss_fn(self._forward(module, X_tr[idx]), y_tr[idx])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if clip > 0:
                    torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
                optimizer.step()
                total += loss.detach() * len(idx)
                seen += len(idx)
            train_loss = float(total) / seen  # the one sync per epoch
            if not np.isfinite(train_loss):
                raise FloatingPointError(
                    f"training diverged: the loss is {train_loss} at epoch {epoch}; lower lr"
                )
            record = {"epoch": epoch, "train_loss": train_loss, "lr": lr}
            monitored = train_loss
            if X_va is not None:
                valid_loss, valid_score = self._evaluate(module, X_va, y_va, loss_fn)
                record.update(valid_loss=valid_loss, valid_score=valid_score)
                monitored = valid_loss
                if valid_loss < best_loss - MIN_DELTA:
                    best_loss, best_epoch, stale = valid_loss, epoch, 0
                    best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
                else:
                    stale += 1
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(monitored)
            elif scheduler is not None:
                scheduler.step()
            record["time_s"] = time.perf_counter() - t0
            history.append(record)
            if X_va is not None and stale >= self.patience:
                break
        # Whether the epoch cap, not early stopping, ended training: True when all n_epochs ran
        # with the validation loss still improving within the last `patience` epochs; None
        # without a validation slice (the cap always ends training then).
        self.epochs_capped_ = None if X_va is None else bool(stale < self.patience and len(history) == self.n_epochs)
        if best_state is not None:
            module.load_state_dict(best_state)
        module.eval()
        self.module_ = module
        self.history_ = history
        self.n_epochs_ = len(history)
        self.best_epoch_ = best_epoch or len(history)

    def _batched(self, fn, X):
        import torch

        with torch.inference_mode():
            return torch.cat([fn(X[i : i + EVAL_BATCH]) for i in range(0, len(X), EVAL_BATCH)])

    def _evaluate(self, module, X, y, loss_fn) -> tuple[float, float]:
        module.eval()
        out = self._batched(lambda x: self._forward(module, x), X)
        loss = float(loss_fn(out, y))
        if self._classifier:
            score = float((out.argmax(1) == y).float().mean())
        else:
            score = float(1 - ((out - y) ** 2).sum() / ((y - y.mean(0)) ** 2).sum().clamp_min(1e-12))
        return loss, score

    def _inputs(self, X):
        check_is_fitted(self, "module_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        self.module_.eval()
        return self._network_input(X, self.device_)

    def _outputs(self, X):
        """Raw network outputs for X (logits, or standardised regression targets)."""
        return self._batched(lambda x: self._forward(self.module_, x), self._inputs(X))

    def embed(self, X) -> np.ndarray:
        """Penultimate-layer features of X (n, d): what the output layer reads; the hybrids' input."""
        out = self._batched(lambda x: self._features(self.module_, x), self._inputs(X))
        return out.float().cpu().numpy()

    def size_info(self) -> tuple[int, int, str]:
        """(learned parameters, parameters, unit) for the results table's size columns."""
        check_is_fitted(self, "module_")
        n = int(sum(p.numel() for p in self.module_.parameters()))
        return n, n, "network weights"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class _Classifier(ClassifierMixin):
    _classifier = True

    def _fit_targets(self, y):
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 classes; the target has 1 class")
        return encoded.astype(np.int64), len(self.classes_)

    def _loss_fn(self):
        import torch

        return torch.nn.functional.cross_entropy

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (softmax of the network's outputs), columns in classes_ order."""
        import torch

        return torch.softmax(self._outputs(X).cpu().double(), dim=1).numpy()

    def predict(self, X) -> np.ndarray:
        best = self._outputs(X).argmax(1).cpu().numpy()
        return self.classes_[best]


class _Regressor(RegressorMixin):
    _classifier = False

    def _fit_targets(self, y):
        y = np.asarray(y, dtype=np.float32)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        y2 = y.reshape(len(y), -1)
        # Standardised targets keep the loss near 1 whatever the target's unit.
        self.y_mean_ = y2.mean(axis=0)
        scale = y2.std(axis=0)
        self.y_scale_ = np.where(scale > 0, scale, 1.0).astype(np.float32)
        self._y_1d = y.ndim == 1
        return ((y2 - self.y_mean_) / self.y_scale_).astype(np.float32), y2.shape[1]

    def _loss_fn(self):
        import torch

        return torch.nn.functional.mse_loss

    def predict(self, X) -> np.ndarray:
        out = self._outputs(X).float().cpu().numpy().astype(np.float64) * self.y_scale_ + self.y_mean_
        return out[:, 0] if self.n_outputs_ == 1 and self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _head(nn, d_in: int, d_hidden: int, dropout: float, n_out: int) -> list:
    drop = [nn.Dropout(dropout)] if dropout > 0 else []
    return [*drop, nn.Linear(d_in, d_hidden), nn.ReLU(), *drop, nn.Linear(d_hidden, n_out)]


_COMMON_DOC = """
    Parameters shared by the deep models: `dropout`, `weight_decay` (AdamW), `lr`,
    `lr_schedule` ("plateau": cut by 5x after a third of `patience` epochs without a
    better validation loss; "cosine" over `n_epochs`; "constant"), `input_norm` ("auto":
    per channel for images and sequences, per column for tabular rows; "channel",
    "feature", "none"; statistics of the training slice), `batch_size`, `n_epochs` (at
    most), `early_stopping` on a `validation_fraction` of the training rows with
    `patience` epochs without the validation loss falling by more than MIN_DELTA (the
    best epoch's weights are kept), `random_state`, `device`
    ("auto": CUDA, then MPS, then CPU), `modality` and `sample_shape` (how a flat row is
    an image or sequence). `embed(X)` gives the penultimate layer's features.
"""


class _MLP(_TorchEstimator):
    _parameter_constraints = {
        **_TorchEstimator._parameter_constraints,
        "n_layers": [Interval(Integral, 0, None, closed="left")],
        "d_hidden": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_layers: int = 3,
        d_hidden: int = 256,
        dropout: float = 0.3,
        weight_decay: float = 1e-4,
        lr: float = 1e-3,
        lr_schedule: str = "plateau",
        input_norm: str = "auto",
        batch_size: int = 128,
        n_epochs: int = 100,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        patience: int = 10,
        random_state=None,
        device: str = "auto",
        modality: str = "tabular",
        sample_shape=None,
    ):
        self.n_layers = n_layers
        self.d_hidden = d_hidden
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
        from torch import nn

        layers, d_in = [], in_shape[0]
        if self.modality == "text":  # the mean of the words' embeddings, padding left out (as fastText)
            layers, d_in = [nn.EmbeddingBag(self.n_tokens_, TEXT_EMBED_DIM, mode="mean", padding_idx=0)], TEXT_EMBED_DIM
        for _ in range(self.n_layers):
            layers += [nn.Linear(d_in, self.d_hidden), nn.ReLU()]
            if self.dropout > 0:
                layers.append(nn.Dropout(self.dropout))
            d_in = self.d_hidden
        layers.append(nn.Linear(d_in, n_out))
        return nn.Sequential(*layers)


class MLPClassifier(_Classifier, _MLP):
    __doc__ = "Multilayer perceptron classifier on flat rows (images and sequences flattened).\n" + _COMMON_DOC


class MLPRegressor(_Regressor, _MLP):
    __doc__ = "Multilayer perceptron regressor on flat rows (images and sequences flattened).\n" + _COMMON_DOC


class _CNN(_TorchEstimator):
    _parameter_constraints = {
        **_TorchEstimator._parameter_constraints,
        "n_blocks": [Interval(Integral, 1, None, closed="left")],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "batch_norm": ["boolean"],
        "head": [StrOptions(set(HEADS))],
        "block": [StrOptions(set(BLOCKS))],
        "d_hidden": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_blocks: int = 2,
        n_channels: int = 32,
        kernel_size: int = 3,
        batch_norm: bool = True,
        head: str = "flatten",
        d_hidden: int = 128,
        dropout: float = 0.3,
        weight_decay: float = 1e-4,
        lr: float = 1e-3,
        lr_schedule: str = "plateau",
        input_norm: str = "auto",
        batch_size: int = 64,
        block: str = "plain",
        n_epochs: int = 100,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        patience: int = 10,
        random_state=None,
        device: str = "auto",
        modality: str = "tabular",
        sample_shape=None,
    ):
        self.n_blocks = n_blocks
        self.n_channels = n_channels
        self.kernel_size = kernel_size
        self.batch_norm = batch_norm
        self.head = head
        self.block = block
        self.d_hidden = d_hidden
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

    def _input_shape(self, n_features):
        # Images: (channels, H, W) for 2-D convolutions. Sequences and anything else:
        # (channels, length) for 1-D convolutions; a tabular row is a 1-channel sequence.
        shape = self.sample_shape_
        if self.modality == "image":
            return (1, *shape) if len(shape) == 2 else shape
        if self.modality == "text":  # the embedding's dimensions are the channels
            return (TEXT_EMBED_DIM, n_features)
        if shape is not None and len(shape) == 2:
            return (shape[1], shape[0])
        return (1, n_features)

    def _to_input(self, X):
        c, *rest = self.input_shape_
        if self.modality == "sequence" and self.sample_shape_ is not None and len(self.sample_shape_) == 2:
            return X.view(len(X), rest[0], c).transpose(1, 2).contiguous()  # (L, C) -> (C, L)
        return X.view(len(X), *self.input_shape_)

    def _build(self, in_shape, n_out):
        from torch import nn

        dims = len(in_shape) - 1
        conv, norm, pool, avg = (
            (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d) if dims == 2
            else (nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d, nn.AdaptiveAvgPool1d)
        )
        c_in, spatial = in_shape[0], list(in_shape[1:])
        layers = [self._embedding(channels_first=True)] if self.modality == "text" else []
        if self.block == "residual":  # Wang et al. 2017's time-series ResNet: no pooling between blocks
            from bench.models.layers import ResidualBlock

            for i in range(self.n_blocks):
                c_out = self.n_channels * 2 ** min(i, 1)  # 64, 128, 128 for n_channels = 64
                layers.append(ResidualBlock(c_in, c_out, dims))
                c_in = c_out
        for i in range(self.n_blocks if self.block == "plain" else 0):
            c_out = self.n_channels * 2**i
            layers.append(conv(c_in, c_out, self.kernel_size, padding="same", bias=not self.batch_norm))
            if self.batch_norm:
                layers.append(norm(c_out))
            layers.append(nn.ReLU())
            if min(spatial) >= 2:
                layers.append(pool(2))
                spatial = [s // 2 for s in spatial]
            c_in = c_out
        if self.head == "global":
            # Global average pooling: the head sees what was found, not where.
            layers += [avg(1), nn.Flatten()]
            d_flat = c_in
        else:
            # The flattened maps keep where each feature was found; a large input is first
            # averaged down to at most MAX_GRID positions per axis.
            grid = [min(s, MAX_GRID[dims]) for s in spatial]
            if grid != spatial:
                layers.append(avg(tuple(grid)))
            layers.append(nn.Flatten())
            d_flat = c_in * int(np.prod(grid))
        return nn.Sequential(*layers, *_head(nn, d_flat, self.d_hidden, self.dropout, n_out))


_CNN_DOC = """
    `block="residual"` builds residual blocks instead (bench.models.layers.ResidualBlock:
    kernels 8, 5 and 3, a shortcut, no pooling), the time-series ResNet of Wang et al. 2017;
    with `n_blocks=3`, `n_channels=64` and `head="global"` it is the network dl-4-tsc
    benchmarks on the UCR archive, save for the dense layer before the output.
"""


class CNNClassifier(_Classifier, _CNN):
    __doc__ = (
        "Convolutional classifier: conv-BN-ReLU-pool blocks, then a dense head; 2-D over images, "
        "1-D over sequences (and tabular rows).\n" + _CNN_DOC + _COMMON_DOC
    )


class CNNRegressor(_Regressor, _CNN):
    __doc__ = (
        "Convolutional regressor: conv-BN-ReLU-pool blocks, then a dense head; 2-D over images, "
        "1-D over sequences (and tabular rows).\n" + _CNN_DOC + _COMMON_DOC
    )


class _RNN(_TorchEstimator):
    _parameter_constraints = {
        **_TorchEstimator._parameter_constraints,
        "cell": [StrOptions(set(CELLS))],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "d_hidden": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "clip_grad_norm": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        cell: str = "gru",
        n_layers: int = 1,
        d_hidden: int = 128,
        bidirectional: bool = False,
        clip_grad_norm: float = 1.0,
        dropout: float = 0.0,
        weight_decay: float = 1e-4,
        lr: float = 3e-3,
        lr_schedule: str = "plateau",
        input_norm: str = "auto",
        batch_size: int = 64,
        n_epochs: int = 100,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        patience: int = 10,
        random_state=None,
        device: str = "auto",
        modality: str = "tabular",
        sample_shape=None,
    ):
        self.cell = cell
        self.n_layers = n_layers
        self.d_hidden = d_hidden
        self.bidirectional = bidirectional
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

    def _input_shape(self, n_features):
        # (steps, features per step): images are read row by row, a tabular row value by value.
        shape = self.sample_shape_
        if self.modality == "image":
            return (shape[0], shape[1]) if len(shape) == 2 else (shape[1], shape[0] * shape[2])
        if self.modality == "text":  # word by word, each an embedding
            return (n_features, TEXT_EMBED_DIM)
        if shape is not None and len(shape) == 2:
            return shape
        return (n_features, 1)

    def _to_input(self, X):
        shape = self.sample_shape_
        if self.modality == "image" and len(shape) == 3:
            c, h, w = shape
            return X.view(len(X), c, h, w).permute(0, 2, 1, 3).reshape(len(X), h, c * w)
        return X.view(len(X), *self.input_shape_)

    def _build(self, in_shape, n_out):
        from torch import nn

        rnn_cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[self.cell]
        rnn = rnn_cls(
            in_shape[1],
            self.d_hidden,
            num_layers=self.n_layers,
            batch_first=True,
            dropout=self.dropout if self.n_layers > 1 else 0.0,
            bidirectional=self.bidirectional,
        )
        d_out = self.d_hidden * (2 if self.bidirectional else 1)
        drop = [nn.Dropout(self.dropout)] if self.dropout > 0 else []
        parts = {"rnn": rnn, "head": nn.Sequential(*drop, nn.Linear(d_out, n_out))}
        if self.modality == "text":
            parts["embed"] = self._embedding(channels_first=False)
        return nn.ModuleDict(parts)

    def _features(self, module, x):
        import torch

        if "embed" in module:
            x = module["embed"](x)
        _, h = module["rnn"](x)
        h = h[0] if isinstance(h, tuple) else h  # LSTM returns (h, c)
        # The top layer's final state, both directions when bidirectional.
        return torch.cat(list(h[-2:]), dim=1) if self.bidirectional else h[-1]

    def _output_layer(self, module):
        return module["head"]


class RNNClassifier(_Classifier, _RNN):
    __doc__ = "Recurrent classifier (GRU, LSTM or vanilla RNN) over sequences, or images row by row.\n" + _COMMON_DOC


class RNNRegressor(_Regressor, _RNN):
    __doc__ = "Recurrent regressor (GRU, LSTM or vanilla RNN) over sequences, or images row by row.\n" + _COMMON_DOC
