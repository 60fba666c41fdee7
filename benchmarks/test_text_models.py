"""Text: what each way of reading a document gets on the generated reviews (issue 11).

`synthetic_text` labels a review by the majority of its sentiment words, with a "not" that
flips the next word. A bag of words counts the words but cannot see which one a "not"
precedes; a network reading the words in order can. Held here, on 6,000 training reviews
and 2,000 test reviews (seed 0):

- logistic regression on the raw token ids is at chance (ids are names, not quantities);
- the bag of words (the `engineered` variant) is well above chance;
- the GRU, reading the embedded words in order, beats the bag of words by a wide margin.

The last test prints every figure with its fit time. Run with `nox -s perf` or
`pytest benchmarks/test_text_models.py -p no:cacheprovider -s`. `BENCH_PERF_THREADS` sets
torch's threads (default 2). Measured 2026-11-22, 2 threads, load 2: GRU 0.952, 1-D CNN
0.894, bag of words 0.732, MLP (mean embedding) 0.727, raw ids 0.484.
"""

from __future__ import annotations

import os
import time

import pytest

pytest.importorskip("torch")

THREADS = int(os.environ.get("BENCH_PERF_THREADS", "2"))
N_TRAIN = 6000
RESULTS: dict[str, tuple[float, float]] = {}


@pytest.fixture(scope="module")
def reviews():
    import torch

    from bench.datasets import load

    torch.set_num_threads(THREADS)
    data = load("synthetic_text", {"n_samples": 8000})
    return data.X[:N_TRAIN], data.y[:N_TRAIN], data.X[N_TRAIN:], data.y[N_TRAIN:]


def _logistic(X_train, y_train, X_test, y_test) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X_train)
    model = LogisticRegression(max_iter=500).fit(scaler.transform(X_train), y_train)
    return float(model.score(scaler.transform(X_test), y_test))


def _timed(name: str, fn) -> float:
    t0 = time.perf_counter()
    score = fn()
    RESULTS[name] = (score, time.perf_counter() - t0)
    return score


def test_raw_ids_tell_a_linear_model_nothing(reviews):
    assert _timed("logistic regression, raw ids", lambda: _logistic(*reviews)) < 0.56


def test_a_bag_of_words_is_well_above_chance(reviews):
    from bench.features import text_features

    X_train, y_train, X_test, y_test = reviews
    score = _timed("logistic regression, bag of words",
                   lambda: _logistic(text_features(X_train), y_train, text_features(X_test), y_test))
    assert score > 0.65


@pytest.mark.parametrize("kind", ["MLPClassifier", "CNNClassifier", "RNNClassifier"])
def test_networks_on_embedded_words(reviews, kind):
    from bench.models import deep_estimators as networks

    X_train, y_train, X_test, y_test = reviews
    net = getattr(networks, kind)(modality="text", sample_shape=(X_train.shape[1],), random_state=0, n_epochs=40)
    score = _timed(f"{kind}, embedded words", lambda: float((net.fit(X_train, y_train).predict(X_test) == y_test).mean()))
    assert score > 0.65


def test_the_gru_reads_what_a_bag_of_words_cannot():
    if {"RNNClassifier, embedded words", "logistic regression, bag of words"} - set(RESULTS):
        pytest.skip("run the whole file: this compares the cases above")
    print(f"\nsynthetic_text, {N_TRAIN} training reviews, {THREADS} thread(s), load {os.getloadavg()[0]:.1f}:")
    for name, (score, seconds) in sorted(RESULTS.items(), key=lambda kv: -kv[1][0]):
        print(f"  {name:40s} accuracy {score:.3f}   fit and score {seconds:6.1f} s")
    gru = RESULTS["RNNClassifier, embedded words"][0]
    assert gru > RESULTS["logistic regression, bag of words"][0] + 0.10
