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

One lean training loop serves all six (bench.models.training); each class here gives its
parameters, its input layout and its layers. torch is imported inside the methods: it takes
seconds to import, and a worker that fits no network should not pay for it.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from bench.models.training import (
    _COMMON_DOC,
    TEXT_EMBED_DIM,
    _Classifier,
    _Regressor,
    _TorchEstimator,
)

CELLS = ("lstm", "gru", "rnn")
HEADS = ("flatten", "global", "linear")
READOUTS = ("last", "all")
BLOCKS = ("plain", "residual")
MAX_GRID = {1: 64, 2: 8}  # a flatten head sees at most this many positions per axis (1-D, 2-D)


_ACTIVATION_LAYERS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}  # name -> torch.nn layer
MLP_ACTIVATIONS = tuple(_ACTIVATION_LAYERS)
IO_MEAN = "io_mean"  # an MLP's d_hidden: (inputs + outputs) // 2, Weka's MultilayerPerceptron default ("a")


def _head(nn, d_in: int, d_hidden: int, dropout: float, n_out: int) -> list:
    drop = [nn.Dropout(dropout)] if dropout > 0 else []
    return [*drop, nn.Linear(d_in, d_hidden), nn.ReLU(), *drop, nn.Linear(d_hidden, n_out)]


class _MLP(_TorchEstimator):
    _parameter_constraints = {
        **_TorchEstimator._parameter_constraints,
        "n_layers": [Interval(Integral, 0, None, closed="left")],
        "d_hidden": [Interval(Integral, 1, None, closed="left"), StrOptions({IO_MEAN})],
        "residual": ["boolean"],
        "activation": [StrOptions(set(MLP_ACTIVATIONS))],
    }

    def __init__(
        self,
        n_layers: int = 3,
        d_hidden: int | str = 256,
        dropout: float = 0.3,
        residual: bool = False,
        activation: str = "relu",
        optimizer: str = "adamw",
        momentum: float = 0.0,
        loss: str = "auto",
        n_iter_no_change: int | None = None,
        weight_decay: float = 1e-4,
        lr: float = 1e-3,
        lr_schedule: str = "plateau",
        input_norm: str = "auto",
        batch_size: int = 128,
        n_epochs: int = 100,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        patience: int = 10,
        monitor: str = "loss",
        random_state=None,
        device: str = "auto",
        modality: str = "tabular",
        sample_shape=None,
    ):
        self.n_layers = n_layers
        self.d_hidden = d_hidden
        self.dropout = dropout
        self.residual = residual
        self.activation = activation
        self.optimizer = optimizer
        self.momentum = momentum
        self.loss = loss
        self.n_iter_no_change = n_iter_no_change
        self.weight_decay = weight_decay
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.input_norm = input_norm
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.monitor = monitor
        self.random_state = random_state
        self.device = device
        self.modality = modality
        self.sample_shape = sample_shape

    def _build(self, in_shape, n_out):
        from torch import nn

        layers, d_in = [], in_shape[0]
        if self.modality == "text":  # the mean of the words' embeddings, padding left out (as fastText)
            layers, d_in = [nn.EmbeddingBag(self.n_tokens_, TEXT_EMBED_DIM, mode="mean", padding_idx=0)], TEXT_EMBED_DIM
        from bench.models.layers import Residual

        d_hidden = (d_in + n_out) // 2 if self.d_hidden == IO_MEAN else self.d_hidden
        act = getattr(nn, _ACTIVATION_LAYERS[self.activation])
        for i in range(self.n_layers):
            block = [nn.Linear(d_in, d_hidden), act()]
            if self.residual and i > 0:  # h + relu(W h): MNIST-1D's MLP (Greydanus & Kobak 2020)
                block = [Residual(nn.Sequential(*block))]
            layers += block
            if self.dropout > 0:
                layers.append(nn.Dropout(self.dropout))
            d_in = d_hidden
        layers.append(nn.Linear(d_in, n_out))
        return nn.Sequential(*layers)


_MLP_DOC = """
    `residual=True` adds each hidden layer after the first to its input (h + ReLU(W h)): with
    `n_layers=2, d_hidden=100, dropout=0` it is MNIST-1D's MLP (Greydanus & Kobak 2020).
    `activation` ("relu", "sigmoid", "tanh") of the hidden layers; `d_hidden="io_mean"` is
    (inputs + outputs) // 2 units; `optimizer="sgd"` with `momentum` instead of AdamW; a
    classifier's `loss="squared"` trains a sigmoid per class on the squared error. Together
    (one sigmoid layer of "io_mean" units, SGD at 0.3 with momentum 0.2, batches of 1, 500
    epochs, `input_norm="minmax"`) they are Weka's MultilayerPerceptron defaults, the UCR
    bake-off's MLP (Bagnall et al. 2017). Without early stopping, `n_iter_no_change` stops
    training as scikit-learn's MLPClassifier does: once the training loss has missed its best
    by more than 1e-4 in more than that many epochs running.
"""


class MLPClassifier(_Classifier, _MLP):
    __doc__ = "Multilayer perceptron classifier on flat rows (images and sequences flattened).\n" + _MLP_DOC + _COMMON_DOC


class MLPRegressor(_Regressor, _MLP):
    __doc__ = "Multilayer perceptron regressor on flat rows (images and sequences flattened).\n" + _MLP_DOC + _COMMON_DOC


class _CNN(_TorchEstimator):
    _parameter_constraints = {
        **_TorchEstimator._parameter_constraints,
        "n_blocks": [Interval(Integral, 1, None, closed="left")],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "kernel_sizes": [list, tuple, None],
        "stride": [Interval(Integral, 1, None, closed="left")],
        "pool": ["boolean"],
        "channel_factor": [Interval(Integral, 1, None, closed="left")],
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
        kernel_sizes=None,
        stride: int = 1,
        pool: bool = True,
        channel_factor: int = 2,
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
        monitor: str = "loss",
        random_state=None,
        device: str = "auto",
        modality: str = "tabular",
        sample_shape=None,
    ):
        self.n_blocks = n_blocks
        self.n_channels = n_channels
        self.kernel_size = kernel_size
        self.kernel_sizes = kernel_sizes
        self.stride = stride
        self.pool = pool
        self.channel_factor = channel_factor
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
        self.monitor = monitor
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
        kernels = self._kernels()
        for i in range(self.n_blocks if self.block == "plain" else 0):
            c_out = self.n_channels * self.channel_factor**i
            k = kernels[i]
            if self.stride == 1:
                layers.append(conv(c_in, c_out, k, padding="same", bias=not self.batch_norm))
            else:  # a strided convolution: padding k // 2 on each side, so the length shrinks by the stride
                layers.append(conv(c_in, c_out, k, stride=self.stride, padding=k // 2, bias=not self.batch_norm))
                spatial = [(s + 2 * (k // 2) - k) // self.stride + 1 for s in spatial]
            if self.batch_norm:
                layers.append(norm(c_out))
            layers.append(nn.ReLU())
            if self.pool and min(spatial) >= 2:
                layers.append(pool(2))
                spatial = [s // 2 for s in spatial]
            c_in = c_out
        if self.head == "linear":  # the flattened maps straight into the output layer
            d_flat = c_in * int(np.prod(spatial))
            return nn.Sequential(*layers, nn.Flatten(), *([nn.Dropout(self.dropout)] if self.dropout > 0 else []),
                                 nn.Linear(d_flat, n_out))
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


    def _kernels(self) -> list[int]:
        """Each plain block's kernel size: `kernel_sizes` (one per block) where given, else `kernel_size`."""
        if self.kernel_sizes is None:
            return [self.kernel_size] * self.n_blocks
        sizes = list(self.kernel_sizes)
        if len(sizes) != self.n_blocks or not all(isinstance(k, Integral) and k >= 1 for k in sizes):
            raise ValueError(f"kernel_sizes must list {self.n_blocks} positive integers (one per block, n_blocks), got {sizes!r}")
        return [int(k) for k in sizes]


_CNN_DOC = """
    `block="residual"` builds residual blocks instead (bench.models.layers.ResidualBlock:
    kernels 8, 5 and 3, a shortcut, no pooling), the time-series ResNet of Wang et al. 2017;
    with `n_blocks=3`, `n_channels=64` and `head="global"` it is the network dl-4-tsc
    benchmarks on the UCR archive, save for the dense layer before the output.

    Plain blocks double their channels block by block (`channel_factor=2`); `stride` > 1
    makes each convolution strided, `pool=False` drops the pooling, `kernel_sizes` lists one
    size per block (overriding `kernel_size`), and `head="linear"` feeds the flattened maps straight to the output layer:
    with `n_blocks=3, n_channels=25, channel_factor=1, kernel_sizes=[5, 3, 3], stride=2,
    pool=False, batch_norm=False, head="linear"` it is MNIST-1D's CNN (Greydanus & Kobak 2020).
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
        "readout": [StrOptions(set(READOUTS))],
        "clip_grad_norm": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        cell: str = "gru",
        n_layers: int = 1,
        d_hidden: int = 128,
        bidirectional: bool = False,
        readout: str = "last",
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
        monitor: str = "loss",
        random_state=None,
        device: str = "auto",
        modality: str = "tabular",
        sample_shape=None,
    ):
        self.cell = cell
        self.n_layers = n_layers
        self.d_hidden = d_hidden
        self.bidirectional = bidirectional
        self.readout = readout
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
        self.monitor = monitor
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
        if self.readout == "all":  # the outputs at every step, flattened
            d_out *= in_shape[0]
        drop = [nn.Dropout(self.dropout)] if self.dropout > 0 else []
        parts = {"rnn": rnn, "head": nn.Sequential(*drop, nn.Linear(d_out, n_out))}
        if self.modality == "text":
            parts["embed"] = self._embedding(channels_first=False)
        return nn.ModuleDict(parts)

    def _features(self, module, x):
        import torch

        if "embed" in module:
            x = module["embed"](x)
        out, h = module["rnn"](x)
        if self.readout == "all":  # every step's output (both directions), flattened: MNIST-1D's GRU
            return out.reshape(len(out), -1)
        h = h[0] if isinstance(h, tuple) else h  # LSTM returns (h, c)
        # The top layer's final state, both directions when bidirectional.
        return torch.cat(list(h[-2:]), dim=1) if self.bidirectional else h[-1]

    def _output_layer(self, module):
        return module["head"]


_RNN_DOC = """
    The output layer reads the top layer's final state (`readout="last"`; both directions'
    when bidirectional), or every step's output flattened (`readout="all"`): with
    `d_hidden=6, bidirectional=True, readout="all"` it is MNIST-1D's GRU (Greydanus & Kobak 2020).
"""


class RNNClassifier(_Classifier, _RNN):
    __doc__ = "Recurrent classifier (GRU, LSTM or vanilla RNN) over sequences, or images row by row.\n" + _RNN_DOC + _COMMON_DOC


class RNNRegressor(_Regressor, _RNN):
    __doc__ = "Recurrent regressor (GRU, LSTM or vanilla RNN) over sequences, or images row by row.\n" + _RNN_DOC + _COMMON_DOC
