"""MNIST-1D's spatially shuffled variant (the paper's table 1, second row; suites/real.toml's mnist1d_shuffled)."""

from __future__ import annotations

import numpy as np

from bench.datasets import load
from bench.datasets import mnist1d as m1


def test_shuffling_permutes_the_positions_of_every_sequence_by_one_permutation():
    plain, y_plain = m1.make(200)
    shuffled, y_shuffled = m1.make(200, shuffle_seq=True)
    np.testing.assert_array_equal(y_plain, y_shuffled)  # the same sequences, in the same order
    # Drawn after every sequence and their order, as the package draws it: one permutation for all.
    perm = [int(np.flatnonzero(np.all(np.isclose(plain, shuffled[:, [j]]), axis=0))[0]) for j in range(m1.SEQ_LENGTH)]
    assert sorted(perm) == list(range(m1.SEQ_LENGTH)) and perm != list(range(m1.SEQ_LENGTH))
    np.testing.assert_allclose(shuffled, plain[:, perm])


def test_the_shuffled_set_keeps_the_standard_split():
    data = load("mnist1d", {"n_samples": 200, "shuffle_seq": True})
    assert data.X.shape == (200, 40) and data.n_test == 40
