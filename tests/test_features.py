"""Feature variants: raw, and engineered features for images (HOG), sequences and text (bag of words)."""

import numpy as np
import pytest

from bench.datasets import load
from bench.features import FEATURES, engineered, image_features, sequence_features
from bench.suite import parse, plan


def test_engineered_applies_to_images_sequences_and_text_only():
    assert FEATURES["engineered"].modalities == {"image", "sequence", "text"}
    assert FEATURES["raw"].modalities == {"tabular", "image", "sequence", "text"}


@pytest.mark.parametrize("shape", [(8, 8), (28, 28), (3, 16, 16)])
def test_hog_gives_a_fixed_length_vector_per_image(shape):
    X = np.random.default_rng(0).random((5, int(np.prod(shape))), dtype=np.float32)
    F = engineered(X, shape)
    assert F.shape == (5, 324) and np.isfinite(F).all()


def test_hog_responds_to_edge_orientation():
    vertical = np.zeros((16, 16), np.float32)
    vertical[:, 8:] = 1
    F = image_features(np.stack([vertical.ravel(), vertical.T.ravel()]), (16, 16))
    assert not np.allclose(F[0], F[1])


def test_features_are_computed_per_sample_without_labels():
    data = load("synthetic_sequences", {"n_samples": 50, "length": 40})
    whole = engineered(data.X, data.sample_shape)
    alone = np.vstack([engineered(data.X[i : i + 1], data.sample_shape) for i in range(5)])
    np.testing.assert_allclose(whole[:5], alone, rtol=1e-5, atol=1e-6)


def test_sequence_features_summarise_each_channel():
    X = np.random.default_rng(0).standard_normal((6, 64 * 2)).astype(np.float32)
    one = sequence_features(X[:, :64], (64,))
    two = engineered(X, (64, 2), modality="sequence")
    assert two.shape == (6, 2 * one.shape[1]) and np.isfinite(two).all()


def test_spectral_features_tell_frequencies_apart():
    t = np.arange(64)
    slow, fast = np.sin(2 * np.pi * t / 32), np.sin(2 * np.pi * t / 4)
    F = sequence_features(np.stack([slow, fast]).astype(np.float32), (64,))
    assert not np.allclose(F[0], F[1])


def test_engineered_without_a_shape_is_an_error():
    with pytest.raises(ValueError, match="sample shape"):
        engineered(np.zeros((2, 4)), None)


def test_plan_gives_classical_models_both_variants_and_deep_models_raw_only():
    suite = parse(
        """
        [suite]
        seeds = [0]
        features = ["raw", "engineered"]
        [datasets.digits]
        [datasets.wine]
        [models.svm]
        [models.mlp]
        """.replace("        ", ""),
        "s.toml",
    )
    cells, skips = plan(suite)
    got = {(c.dataset.label, c.features, c.model.label) for c in cells}
    assert got == {
        ("digits", "raw", "svm"), ("digits", "engineered", "svm"), ("digits", "raw", "mlp"),
        ("wine", "raw", "svm"), ("wine", "raw", "mlp"),
    }
    assert any(s.dataset == "wine" and s.features == "engineered" for s in skips)


def test_an_engineered_cell_records_its_variant():
    from bench.execution.cell import run_cell

    suite = parse(
        """
        [suite]
        seeds = [0]
        train_sizes = [300]
        features = ["engineered"]
        [datasets.synthetic_sequences]
        n_samples = 500
        length = 32
        [models.logistic_regression]
        """.replace("        ", ""),
        "s.toml",
    )
    cells, _ = plan(suite)
    row = run_cell(cells[0])
    assert row["status"] == "ok", row.get("info")
    assert row["features"] == "engineered" and row["n_features"] == engineered(
        np.zeros((1, 32), np.float32), (32,)
    ).shape[1]
