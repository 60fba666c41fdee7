"""The text Transformer's torch module: token and learned position embeddings, an encoder, mean pooling.

Imports torch at the top, so it is imported only when a Transformer is built; the class lives
at module level so a fitted network pickles (the harness measures a model's size so).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

PAD_ID = 0  # bench.datasets.text: documents are padded with id 0 at the front


class TextTransformer(nn.Module):
    """(batch, length) token ids -> (batch, n_out): a pre-norm Transformer encoder over word and position embeddings.

    Padding takes no part in attention or in the pooled average of the encoder's outputs; a
    document of padding only attends to its last position, so its output stays finite.
    """

    def __init__(self, n_tokens: int, max_len: int, d_model: int, n_heads: int, n_layers: int, d_ff: int,
                 dropout: float, n_out: int):
        super().__init__()
        self.tokens = nn.Embedding(n_tokens, d_model, padding_idx=PAD_ID)
        self.positions = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(d_model, n_out)

    def features(self, ids: Tensor) -> Tensor:
        """The pooled document representation (batch, d_model): what the head reads."""
        pad = ids == PAD_ID
        pad[:, -1] &= ~pad.all(dim=1)  # an all-padding row keeps one position to attend to
        where = torch.arange(ids.shape[1], device=ids.device)
        x = self.drop(self.tokens(ids) + self.positions(where)[None])
        h = self.encoder(x, src_key_padding_mask=pad)
        keep = (~pad).unsqueeze(-1).to(h.dtype)
        return (h * keep).sum(dim=1) / keep.sum(dim=1).clamp_min(1.0)

    def forward(self, ids: Tensor) -> Tensor:
        return self.head(self.features(ids))
