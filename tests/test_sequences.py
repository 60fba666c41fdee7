"""Sequence datasets: a long-range classification set and a forecasting regression set."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from bench.datasets import DATASETS, DataError, load
from bench.datasets import sequences as sq


def test_long_range_set_has_the_length_and_size_the_suite_sets():
    data = load("synthetic_sequences", {"n_samples": 200, "length": 48, "n_classes": 6})
    assert data.X.shape == (200, 48) and data.sample_shape == (48,)
    assert set(np.unique(data.y)) == set(range(6))
    assert DATASETS["synthetic_sequences"].modality == "sequence"


def test_the_label_needs_both_the_early_motif_and_the_last_steps():
    data = sq.synthetic_sequences(n_samples=4000, length=64, n_classes=6, noise=0.0)
    X, y = data.X, data.y
    shift = (X[:, -sq.MARKER_STEPS :].mean(1) > 0).astype(int)
    np.testing.assert_array_equal(y % 2, shift)  # the last steps give one bit of the label...
    for bit in (0, 1):
        assert len(np.unique(y[shift == bit])) == 3  # ...and leave it open among the motifs
    # The motif sits in the first half; between it and the last steps there is nothing.
    assert np.all(X[:, 32 : -sq.MARKER_STEPS] == 0)
    spectra = np.abs(np.fft.rfft(X[:, :32], axis=1))
    assert len({int(np.argmax(spectra[y // 2 == m].mean(0))) for m in range(3)}) == 3


def test_a_linear_model_on_raw_values_gets_only_the_near_half_of_the_label():
    data = sq.synthetic_sequences(n_samples=2000, length=64, n_classes=4)
    model = LogisticRegression(max_iter=500).fit(data.X[:1500], data.y[:1500])
    # It reads the sign of the last steps (half the label) but not the motif.
    assert model.score(data.X[1500:], data.y[1500:]) < 0.6


def test_forecast_rows_are_standardised_series_with_the_next_value_as_target():
    data = load("forecast", {"n_samples": 500, "length": 40})
    assert data.X.shape == (500, 40) and data.y.shape == (500,)
    assert abs(data.X.mean()) < 0.3 and 0.6 < data.X.std() < 1.4
    # The next value is predictable from the past (a linear fit already explains most of it).
    fit = LinearRegression().fit(data.X[:400], data.y[:400])
    assert fit.score(data.X[400:], data.y[400:]) > 0.5


def test_sequences_are_reproducible_from_their_seed():
    np.testing.assert_array_equal(sq.forecast(n_samples=20).X, sq.forecast(n_samples=20).X)
    a = sq.synthetic_sequences(n_samples=20, random_state=1).X
    assert not np.array_equal(a, sq.synthetic_sequences(n_samples=20, random_state=2).X)


def test_bad_sequence_parameters_are_data_errors():
    entry = DATASETS["forecast"]
    with pytest.raises(DataError, match="delay"):
        entry.check({**entry.defaults, "length": 10})
    entry = DATASETS["synthetic_sequences"]
    with pytest.raises(DataError, match="length"):
        entry.check({**entry.defaults, "length": 8})
