"""Image datasets: digits, synthetic shapes, and the MNIST-format loader (offline)."""

import gzip

import numpy as np
import pytest

from bench.datasets import DATASETS, DataError, load
from bench.datasets import images as im


def test_digits_are_8x8_images_in_the_unit_range():
    data = load("digits", {})
    assert data.X.shape == (1797, 64) and data.X.dtype == np.float32
    assert data.sample_shape == (8, 8)
    assert data.X.min() == 0 and data.X.max() == 1


def test_synthetic_images_have_the_size_and_classes_the_suite_sets():
    data = load("synthetic_images", {"n_samples": 300, "image_size": 20, "n_classes": 4})
    assert data.X.shape == (300, 400) and data.sample_shape == (20, 20)
    assert set(np.unique(data.y)) == {0, 1, 2, 3}
    assert 0 <= data.X.min() and data.X.max() <= 1
    assert DATASETS["synthetic_images"].modality == "image"


def test_synthetic_images_are_reproducible_from_their_seed():
    a = im.synthetic_images(n_samples=50, random_state=3)
    b = im.synthetic_images(n_samples=50, random_state=3)
    c = im.synthetic_images(n_samples=50, random_state=4)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)


def test_synthetic_shapes_appear_at_varying_positions():
    data = im.synthetic_images(n_samples=400, image_size=24, noise=0.0, n_classes=2)
    images = data.X.reshape(-1, 24, 24)
    rows, cols = np.arange(24)[None, :, None], np.arange(24)[None, None, :]
    mass = images.sum((1, 2))
    centre_row = (images * rows).sum((1, 2)) / mass
    centre_col = (images * cols).sum((1, 2)) / mass
    assert centre_row.std() > 2 and centre_col.std() > 2  # pixels: translation invariance matters


def test_fifty_thousand_synthetic_images_are_possible():
    assert DATASETS["synthetic_images"].size({"n_samples": 50_000}) == 50_000
    data = im.synthetic_images(n_samples=50_000, image_size=8, n_classes=3)
    assert data.X.shape == (50_000, 64)


def test_bad_synthetic_parameters_are_data_errors():
    check = DATASETS["synthetic_images"].check
    defaults = DATASETS["synthetic_images"].defaults
    with pytest.raises(DataError, match="n_classes"):
        check({**defaults, "n_classes": 20})
    with pytest.raises(DataError, match="image_size"):
        check({**defaults, "image_size": 4})


# MNIST and Fashion-MNIST (official split, cache, system copy, verified download): tests/test_real_data.py


def test_a_truncated_idx_file_is_a_data_error(tmp_path):
    with gzip.open(tmp_path / "bad.gz", "wb") as fh:
        fh.write(bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big") + b"abc")
    with pytest.raises(DataError, match="holds 3 bytes"):
        im.read_idx(tmp_path / "bad.gz")


def test_digits_half_split_is_the_scikit_learn_example_s_split_as_an_official_one():
    from sklearn.datasets import load_digits

    from bench.datasets import load
    from bench.suite import parse, plan

    data = load("digits", {"half_split": True})
    _, y = load_digits(return_X_y=True)
    assert data.n_test == 899 and np.array_equal(data.y[-899:], y[898:])  # the last half, in the file's order
    assert load("digits", {}).n_test is None  # the default: a random stratified split per the suite
    suite = parse("[suite]\nseeds = [0]\n[datasets.digits]\nhalf_split = true\n[models.knn]\n", "d.toml")
    cells, _ = plan(suite)
    assert {c.n_train for c in cells} == {898} and suite.datasets[0].official_split
