"""Torch layers the networks build from that torch itself does not have.

Kept apart from bench.models.deep_estimators, which imports torch only inside its methods: this
module imports torch at the top and is imported only when a network that needs one of
these layers is built. Its classes live at module level so a fitted network pickles (the
harness measures a model's size by pickling it).
"""

from __future__ import annotations

from torch import Tensor, nn


class TokenEmbedding(nn.Module):
    """(batch, length) token ids -> (batch, length, dim), or (batch, dim, length) for 1-D convolutions.

    Id 0 (padding) embeds to zeros and gets no gradient.
    """

    def __init__(self, n_tokens: int, dim: int, channels_first: bool = False):
        super().__init__()
        self.embedding = nn.Embedding(n_tokens, dim, padding_idx=0)
        self.channels_first = channels_first

    def forward(self, ids: Tensor) -> Tensor:
        out = self.embedding(ids)
        return out.transpose(1, 2).contiguous() if self.channels_first else out


class Residual(nn.Module):
    """x + inner(x): a residual connection around a layer that keeps the width."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: Tensor) -> Tensor:
        return x + self.inner(x)


class ResidualBlock(nn.Module):
    """Convolution, batch norm and ReLU three times, plus a shortcut, as in Wang et al. 2017's ResNet.

    The time-series ResNet of "Time series classification from scratch with deep neural
    networks" (Wang, Yan, Oates 2017), the one dl-4-tsc (Ismail Fawaz et al. 2019)
    benchmarks: kernel sizes 8, 5 and 3 along a series (3, 3, 3 over an image), no pooling;
    the shortcut is a 1x1 convolution with batch norm when the channel count changes, batch
    norm alone otherwise; the sum goes through a ReLU.
    """

    def __init__(self, c_in: int, c_out: int, dims: int):
        super().__init__()
        conv, norm = (nn.Conv2d, nn.BatchNorm2d) if dims == 2 else (nn.Conv1d, nn.BatchNorm1d)
        kernels = (3, 3, 3) if dims == 2 else (8, 5, 3)
        layers: list[nn.Module] = []
        for i, k in enumerate(kernels):
            if k % 2 == 0:  # "same" padding of an even kernel, as Keras pads it: one more on the right
                layers.append(nn.ConstantPad1d(((k - 1) // 2, k // 2), 0.0))
            layers.append(conv(c_in if i == 0 else c_out, c_out, k, padding=0 if k % 2 == 0 else "same", bias=False))
            layers.append(norm(c_out))
            if i < len(kernels) - 1:
                layers.append(nn.ReLU())
        self.body = nn.Sequential(*layers)
        self.shortcut = nn.Sequential(*([conv(c_in, c_out, 1, bias=False)] if c_in != c_out else []), norm(c_out))
        self.out = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.body(x) + self.shortcut(x))
