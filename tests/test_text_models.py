"""The text contenders: TF-IDF + logistic regression and the Transformer encoder (bench.models.text_estimators)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from bench.models import MODELS, ModelContext, build
from bench.models.text_estimators import (
    TfidfLogisticClassifier,
    TransformerClassifier,
    TransformerRegressor,
    ngram_keys,
)


def _docs(n: int, length: int = 12, seed: int = 0):
    """Token ids padded at the front; label 1 when word 5 occurs (a word a bag of words sees)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(6, 40, size=(n, length))
    y = rng.integers(0, 2, size=n)
    X[y == 1, rng.integers(length // 2, length, size=int(y.sum()))] = 5
    X[::4, : length // 3] = 0  # padding
    return X.astype(np.float32), y


def test_ngrams_skip_padding_and_unknown_words():
    rows, keys = ngram_keys(np.array([[0, 0, 5, 6, 1, 7]]), 2, base=10)
    assert sorted(keys.tolist()) == [5, 6, 7, 56]  # words 5, 6, 7 and the pair (5, 6); OOV (1) breaks (6, 7)
    assert rows.tolist() == [0, 0, 0, 0]


def test_tfidf_equals_scikit_learns_vectorizer_on_the_same_words():
    from sklearn.feature_extraction.text import TfidfVectorizer

    X, y = _docs(60)
    model = TfidfLogisticClassifier(min_df=2).fit(X, y)
    ours = model.tfidf_.transform(model._counts(X)).toarray()
    words = [" ".join(f"w{int(i)}" for i in row if i >= 2) for row in X]
    ref = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=r"\S+")
    theirs = ref.fit_transform(words)

    def key(term: str) -> int:  # "w5 w6" -> 5 * base + 6, our n-gram key
        out = 0
        for w in term.split():
            out = out * model.base_ + int(w[1:])
        return out

    order = np.argsort([key(t) for t in ref.get_feature_names_out()])
    assert np.array_equal(np.sort([key(t) for t in ref.get_feature_names_out()]), model.vocabulary_)
    np.testing.assert_allclose(ours, theirs.toarray()[:, order], atol=1e-6)


def test_the_vocabulary_comes_from_the_training_rows_only():
    X, y = _docs(40)
    test = X[:5].copy()
    test[:, -1] = 39  # a word id above every training id: read as out of vocabulary
    model = TfidfLogisticClassifier(min_df=1).fit(X, y)
    assert model.base_ == int(X.max()) + 1
    before = len(model.vocabulary_)
    assert model.predict(np.where(test == 39, 77, test)).shape == (5,)  # an unseen id is no error
    assert len(model.vocabulary_) == before


def test_tfidf_learns_a_keyword_and_refuses_rows_that_are_not_ids():
    X, y = _docs(300)
    model = TfidfLogisticClassifier().fit(X[:200], y[:200])
    assert (model.predict(X[200:]) == y[200:]).mean() >= 0.9
    assert model.predict_proba(X[200:]).shape == (100, 2)
    with pytest.raises(ValueError, match="not token ids"):
        model.predict(X[200:] + 0.5)
    n_params, n_coef, unit = model.size_info()
    assert n_coef == len(model.vocabulary_) + 1 and n_params == n_coef + len(model.vocabulary_) and unit == "coefficients"


def test_on_engineered_features_it_is_logistic_regression_on_them():
    rng = np.random.default_rng(0)
    F = rng.normal(size=(80, 6)).astype(np.float32)  # standardised features: negative values, not ids
    y = (F[:, 0] > 0).astype(int)
    model = TfidfLogisticClassifier().fit(F, y)
    assert not model.token_ids_ and model.tfidf_ is None
    assert model.linear_.coef_.shape == (1, 6)


@pytest.fixture
def one_torch_thread():
    """One torch thread: two threads on a busy two-core machine spin against each other (20x slower)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _context(task="classification"):
    return ModelContext(task=task, modality="text", seed=0, threads=1, n_features=12, n_classes=2,
                        sample_shape=(12,), device="cpu")


def test_the_transformer_learns_a_keyword_through_the_shared_training_loop(one_torch_thread):
    X, y = _docs(300)
    small = {"n_epochs": 30, "patience": 30, "d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 32, "lr": 3e-3}
    model = build("transformer", _context(), small)
    model.fit(X[:200], y[:200])
    assert (model.predict(X[200:]) == y[200:]).mean() >= 0.85
    assert len(model.history_) == model.n_epochs_ >= 1  # the deep models' loop kept its telemetry
    assert model.embed(X[:3]).shape == (3, 16)


def test_an_all_padding_document_and_unseen_ids_give_finite_outputs(one_torch_thread):
    X, y = _docs(40)
    model = build("transformer", _context(), {"n_epochs": 2}).fit(X, y)
    odd = np.zeros((2, 12), np.float32)
    odd[1, -1] = 10_000  # an id no training row held: out of vocabulary
    proba = model.predict_proba(odd)
    assert np.isfinite(proba).all() and np.allclose(proba.sum(1), 1)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(again.predict_proba(X[:4]), model.predict_proba(X[:4]), rtol=1e-5)


def test_the_transformer_regresses_too_and_refuses_what_it_cannot_build(one_torch_thread):
    X, y = _docs(60)
    reg = TransformerRegressor(n_epochs=2, sample_shape=(12,), device="cpu", random_state=0).fit(X, y.astype(float))
    assert reg.predict(X[:5]).shape == (5,)
    with pytest.raises(ValueError, match="reads token ids"):
        TransformerClassifier(n_epochs=1, modality="sequence", device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="multiple of n_heads"):
        TransformerClassifier(n_epochs=1, d_model=30, n_heads=4, sample_shape=(12,), device="cpu").fit(X, y)


def test_registered_with_the_tags_and_families_the_claims_select_on():
    assert MODELS["tfidf_logistic"].family == "classical" and "linear" in MODELS["tfidf_logistic"].tags
    assert MODELS["transformer"].family == "deep" and MODELS["transformer"].modalities == {"text"}
    assert MODELS["transformer"].needs == {"torch"} and MODELS["tfidf_logistic"].needs == frozenset()
