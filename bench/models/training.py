"""The deep models' training: one loop, normalisation, schedule and early stopping for every network.

`_TorchEstimator` is the scikit-learn estimator every network subclasses (bench.models.deep_estimators:
MLP, CNN, RNN; bench.models.tabular_deep_estimators; bench.models.text_estimators); an
architecture gives its input layout and its layers (`_input_shape`, `_to_input`, `_build`),
and `_Classifier` or `_Regressor` its targets, loss and predictions.

One lean training loop serves them all: data become tensors once, each epoch draws a
seeded permutation and slices mini-batches from it (no DataLoader), the loss is summed
on the device (no per-batch sync) and the validation slice is scored once per epoch;
AdamW with a learning rate cut when the validation loss stalls (`lr_schedule="plateau"`),
early stopping on a validation slice carved from the training rows, the best epoch's
weights kept; inputs normalised inside the estimator, from the training slice's statistics
only. torch is imported inside the methods: it takes seconds to import, and a worker that
fits no network should not pay for it.
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

SCHEDULES = ("plateau", "cosine", "constant")
INPUT_NORMS = ("auto", "channel", "feature", "minmax", "none")
OPTIMIZERS = ("adamw", "sgd")  # AdamW (every network's default); SGD with `momentum` (Weka's MLP trains so)
LOSSES = ("auto", "squared")  # a classifier's loss: "auto" cross-entropy; "squared" see _Classifier._loss_fn
MONITORS = ("loss", "score")  # what early stopping and the kept weights follow on the validation slice
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
        "monitor": [StrOptions(set(MONITORS))],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "loss": [StrOptions(set(LOSSES))],
        "n_iter_no_change": [None, Interval(Integral, 1, None, closed="left")],
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
        if self.input_norm == "minmax":  # each column onto [-1, 1] by its training range (Weka's normalizeAttributes)
            low, high = X64.min(axis=0), X64.max(axis=0)
            half = (high - low) / 2
            self.input_mean_ = ((high + low) / 2).astype(np.float32)
            self.input_scale_ = np.where(half > 1e-12, half, 1.0).astype(np.float32)
            return
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
        if getattr(self, "optimizer", "adamw") == "sgd":  # Δw = -lr g + momentum Δw_prev, L2 as weight decay
            optimizer = torch.optim.SGD(
                module.parameters(), lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay
            )
        else:
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
        best_watched, best_state, best_epoch, stale = float("inf"), None, 0, 0
        # Without a validation slice, scikit-learn's MLP rule (optional): stop once the training loss
        # has missed its best by more than MIN_DELTA (its tol, 1e-4) in more than n_iter_no_change
        # epochs running (scikit-learn 0.19, which has no such parameter, stops after 2).
        no_change = getattr(self, "n_iter_no_change", None)
        best_train, train_stale = float("inf"), 0
        by_score = getattr(self, "monitor", "loss") == "score"  # accuracy (R² for a regressor), higher is better
        for epoch in range(1, self.n_epochs + 1):
            t0 = time.perf_counter()
            lr = optimizer.param_groups[0]["lr"]
            module.train()
            order = torch.randperm(n, generator=generator).to(device)
            total = torch.zeros((), device=device)
            seen = 0
            for start in range(0, n, batch):
                idx = order[start : start + batch]
                if len(idx) == 1 < min(n, batch):  # a lone trailing row: batch norm cannot train on it
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
                watched = -valid_score if by_score else valid_loss
                if watched < best_watched - MIN_DELTA:
                    best_watched, best_epoch, stale = watched, epoch, 0
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
            if X_va is None and no_change is not None:
                train_stale = train_stale + 1 if train_loss > best_train - MIN_DELTA else 0
                best_train = min(best_train, train_loss)
                if train_stale > no_change:
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
        """Cross-entropy of the softmax; `loss="squared"`: half the summed squared error of a
        sigmoid per class against the one-hot target, as Weka's MultilayerPerceptron trains."""
        import torch

        if getattr(self, "loss", "auto") != "squared":
            return torch.nn.functional.cross_entropy

        def squared(out, y):
            target = torch.nn.functional.one_hot(y, out.shape[1]).to(out.dtype)
            return 0.5 * ((torch.sigmoid(out) - target) ** 2).sum(1).mean()

        return squared

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (softmax of the network's outputs; with `loss="squared"` the
        sigmoid outputs scaled to sum to 1), columns in classes_ order."""
        import torch

        out = self._outputs(X).cpu().double()
        if getattr(self, "loss", "auto") == "squared":
            p = torch.sigmoid(out)
            return (p / p.sum(1, keepdim=True).clamp_min(1e-300)).numpy()
        return torch.softmax(out, dim=1).numpy()

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


_COMMON_DOC = """
    Parameters shared by the deep models: `dropout`, `weight_decay` (AdamW), `lr`,
    `lr_schedule` ("plateau": cut by 5x after a third of `patience` epochs without a
    better validation loss; "cosine" over `n_epochs`; "constant"), `input_norm` ("auto":
    per channel for images and sequences, per column for tabular rows; "channel",
    "feature", "minmax" (each column onto [-1, 1]), "none"; statistics of the training slice), `batch_size`, `n_epochs` (at
    most), `early_stopping` on a `validation_fraction` of the training rows with
    `patience` epochs without the validation loss falling by more than MIN_DELTA (the
    best epoch's weights are kept; `monitor="score"` follows the validation accuracy, R²
    for a regressor, instead), `random_state`, `device`
    ("auto": CUDA, then MPS, then CPU), `modality` and `sample_shape` (how a flat row is
    an image or sequence). `embed(X)` gives the penultimate layer's features.
"""
