"""MiniRocket (bench.minirocket) against its definition, the `minirocket` feature variant and `ridge_cv`."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from bench import minirocket as mr
from bench.features import FEATURES, minirocket
from bench.models import MODELS, ModelContext, build
from bench.suite import parse, plan


def _ppv_by_definition(x: np.ndarray, params: mr.Parameters) -> np.ndarray:
    """PPV features of one series, straight from the paper: one dilated kernel at a time, no vectorisation."""
    length = len(x)
    out, f_index = [], 0
    for d_index, (dilation, f) in enumerate(zip(params.dilations, params.n_features_per_dilation, strict=True)):
        padding = 4 * int(dilation)
        padded = np.concatenate([np.zeros(padding), x.astype(np.float64), np.zeros(padding)])
        for k, chosen in enumerate(combinations(range(9), 3)):
            weights = np.full(9, -1.0)
            weights[list(chosen)] = 2.0
            conv = np.array([sum(weights[j] * padded[t + j * dilation] for j in range(9)) for t in range(length)])
            if (d_index + k) % 2:
                conv = conv[padding : length - padding]
            for _ in range(int(f)):
                out.append(np.mean(conv > params.biases[f_index]))
                f_index += 1
    return np.array(out)


def test_transform_computes_the_definition_for_every_kernel_and_dilation():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3, 40)).astype(np.float32)
    params = mr.fit(X, n_features=840)  # 84 kernels x 10 features over the dilations of length 40
    got = mr.transform(X[:1], params)[0]
    want = _ppv_by_definition(X[0], params)
    assert got.shape == want.shape == (840,)
    # A bias equal to an output value may flip one comparison in float32: at most one position of one feature.
    close = np.abs(got - want) <= 1 / (40 - 2 * 4 * params.dilations.max()) + 1e-6
    assert close.all() and np.mean(np.isclose(got, want, rtol=0, atol=1e-6)) > 0.99


def test_biases_are_quantiles_of_one_series_convolution_outputs():
    x = np.sin(np.linspace(0, 6, 30)).astype(np.float32)[None]
    params = mr.fit(x, n_features=84)  # one feature per kernel: dilation 1 only
    assert params.dilations.tolist() == [1] and params.n_features_per_dilation.tolist() == [1]
    q = mr.quantiles(84)
    padded = np.concatenate([np.zeros(4), x[0].astype(np.float64), np.zeros(4)])
    for k, chosen in enumerate(combinations(range(9), 3)):
        weights = np.full(9, -1.0)
        weights[list(chosen)] = 2.0
        conv = np.array([weights @ padded[t : t + 9] for t in range(30)])
        assert params.biases[k] == pytest.approx(np.quantile(conv, q[k]), abs=1e-5)


def test_dilations_follow_the_reference_rule():
    dilations, per_dilation = mr.fit_dilations(150)
    assert dilations[0] == 1 and dilations[-1] == (150 - 1) // 8  # exponentially up to (L - 1) / 8
    assert np.all(np.diff(dilations) > 0)
    assert 84 * per_dilation.sum() == 9_996  # 10,000 rounded down to a multiple of 84
    assert mr.quantiles(3) == pytest.approx([0.618034, 0.236068, 0.854102], abs=1e-6)


def test_fit_ignores_labels_and_is_deterministic_for_a_seed():
    X = np.random.default_rng(2).normal(size=(20, 64)).astype(np.float32)
    a, b = mr.fit(X, seed=3), mr.fit(X, seed=3)
    assert np.array_equal(a.biases, b.biases)
    assert np.array_equal(mr.transform(X, a), mr.transform(X, b))
    assert not np.array_equal(a.biases, mr.fit(X, seed=4).biases)  # the only randomness: which series set the biases


def test_the_variant_gives_about_10000_features_to_sequences_only():
    assert FEATURES["minirocket"].modalities == {"sequence"}
    X = np.random.default_rng(0).normal(size=(5, 50)).astype(np.float32)
    F = minirocket(X, (50,), "sequence")
    assert F.shape == (5, 9_996) and F.dtype == np.float32
    assert ((F >= 0) & (F <= 1)).all()  # proportions of positive values


def test_channels_share_the_feature_budget_and_short_series_are_padded():
    X = np.random.default_rng(0).normal(size=(4, 12 * 2)).astype(np.float32)
    F = minirocket(X, (12, 2), "sequence")
    assert F.shape == (4, 2 * 84 * (5_000 // 84))
    one = minirocket(X[:, 0::2].copy(), (12,), "sequence")
    assert one.shape == (4, 9_996)
    short = minirocket(np.ones((3, 5), np.float32), (5,), "sequence")  # padded with zeros to 9 values
    assert short.shape == (3, 9_996) and np.isfinite(short).all()


@pytest.mark.parametrize(
    ("X", "shape", "match"),
    [
        (np.zeros((2, 10)), None, "sample shape"),
        (np.full((2, 10), np.nan), (10,), "NaN"),
    ],
)
def test_bad_input_is_a_clear_error(X, shape, match):
    with pytest.raises(ValueError, match=match):
        minirocket(X, shape, "sequence")


def test_ridge_cv_on_minirocket_features_tells_frequencies_apart():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 60)
    y = np.arange(80) % 2
    phase = rng.uniform(0, 2 * np.pi, size=80)
    X = (np.sin(2 * np.pi * np.where(y, 5, 3)[:, None] * t + phase[:, None]) + 0.3 * rng.normal(size=(80, 60)))
    F = minirocket(X.astype(np.float32), (60,), "sequence")
    ctx = ModelContext(task="classification", modality="sequence", seed=0, threads=1, n_features=F.shape[1], n_classes=2)
    model = build("ridge_cv", ctx, {}).fit(F[:40], y[:40])
    assert (model.predict(F[40:]) == y[40:]).mean() >= 0.9
    assert MODELS["ridge_cv"].family == "classical" and "linear" in MODELS["ridge_cv"].tags


def test_plan_gives_minirocket_to_classical_models_on_sequences_only():
    suite = parse(
        """
        [suite]
        seeds = [0]
        features = ["raw", "minirocket"]
        [datasets.synthetic_sequences]
        n_samples = 100
        [datasets.wine]
        [models.ridge_cv]
        [models.mlp]
        """.replace("        ", ""),
        "s.toml",
    )
    cells, skips = plan(suite)
    got = {(c.dataset.label, c.features, c.model.label) for c in cells}
    assert got == {
        ("synthetic_sequences", "raw", "ridge_cv"), ("synthetic_sequences", "minirocket", "ridge_cv"),
        ("synthetic_sequences", "raw", "mlp"), ("wine", "raw", "ridge_cv"), ("wine", "raw", "mlp"),
    }
    assert any(s.dataset == "wine" and s.features == "minirocket" for s in skips)


def test_the_variant_learns_its_biases_from_the_training_pool_never_from_test_rows(monkeypatch):
    """A cell's MiniRocket features do not change when only its test rows change."""
    from bench.execution import prepare as prep

    suite = parse(
        """
        [suite]
        seeds = [0]
        features = ["minirocket"]
        [datasets.synthetic_sequences]
        n_samples = 120
        [models.ridge_cv]
        """.replace("        ", ""),
        "s.toml",
    )
    cell = plan(suite)[0][0]
    seen = []
    real = FEATURES["minirocket"].fn

    def spy(X, shape, modality=None, fit_rows=None):
        seen.append(fit_rows)
        return real(X, shape, modality, fit_rows=fit_rows)

    import dataclasses

    monkeypatch.setitem(FEATURES._entries, "minirocket", dataclasses.replace(FEATURES["minirocket"], fn=spy))
    X_pool, _, X_test, _, _ = prep._prepared_pool(cell)
    assert FEATURES["minirocket"].fits and seen and seen[0] is not None, seen
    assert len(seen[0]) == len(X_pool) and len(X_pool) + len(X_test) == 120  # the pool: no test row

    # Changing the test rows' series alone leaves the pool's features as they were.
    import bench.datasets as ds

    data = ds.load(cell.dataset.name, cell.dataset.params)
    pool, test = ds.split(data.y, cell.seed, cell.dataset.test_size, cell.dataset.task, data.n_test)
    X = np.asarray(data.X, dtype=np.float32).copy()
    shape = data.sample_shape
    before = real(X, shape, "sequence", fit_rows=pool)[pool]
    X[test] = np.random.default_rng(1).normal(size=X[test].shape) * 100
    after = real(X, shape, "sequence", fit_rows=pool)[pool]
    assert np.array_equal(before, after)
