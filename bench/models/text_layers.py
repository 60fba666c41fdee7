"""Torch layers for text (modality "text"): token ids in, embeddings out.

Kept apart from bench.models.networks, which imports torch only inside its methods: this
module imports torch at the top and is imported only when a network for text is built.
Its classes live at module level so a fitted network pickles (the harness measures a
model's size by pickling it).
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
