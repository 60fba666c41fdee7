"""The deep estimators' training loop on a GPU against a bare torch loop on the same GPU.

The workload of benchmarks/test_training_loop.py scaled to a GPU: an MLP 50 -> 512 -> 512 -> 5
on 200,000 synthetic rows, batches of 256, 5 epochs, no validation slice, data resident on
the device for both contenders (bench's MLPClassifier moves it there once; the bare loop
starts from tensors already there), timed from the call to the GPU's last kernel
(torch.cuda.synchronize). Prints both times, their ratio and the device's name, and holds
bench to <= 1.10x the bare loop. Skipped, with the reason, where no CUDA device exists: no
figure is made up for a GPU that was not there.

`nox -s perf`, or `pytest benchmarks/test_training_loop_gpu.py -p no:cacheprovider`.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

N_ROWS, N_FEATURES, N_CLASSES, D_HIDDEN = 200_000, 50, 5, 512
BATCH, EPOCHS, LR = 256, 5, 1e-3
WEIGHT_DECAY = 1e-4  # both contenders: AdamW with this decay, no dropout, no schedule, raw features
ROUNDS = 5
MAX_RATIO = 1.10

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason=f"no CUDA device (torch {torch.__version__}, built for CUDA {torch.version.cuda}): "
    "the GPU training loop is not timed here",
)


@pytest.fixture(scope="module")
def data():
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=N_ROWS, n_features=N_FEATURES, n_informative=20, n_classes=N_CLASSES, random_state=0
    )
    return X.astype(np.float32), y.astype(np.int64)


def bare_loop(X_t, y_t) -> None:
    """The least a torch user would write: tensors on the GPU, a permutation per epoch, slices."""
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(N_FEATURES, D_HIDDEN), nn.ReLU(),
        nn.Linear(D_HIDDEN, D_HIDDEN), nn.ReLU(),
        nn.Linear(D_HIDDEN, N_CLASSES),
    ).cuda()
    opt = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    for _ in range(EPOCHS):
        order = torch.randperm(len(X_t), device="cuda")
        for start in range(0, len(X_t), BATCH):
            idx = order[start : start + BATCH]
            loss = torch.nn.functional.cross_entropy(net(X_t[idx]), y_t[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    torch.cuda.synchronize()


def bench_estimator(X, y):
    from bench.models.deep import MLPClassifier

    model = MLPClassifier(
        n_layers=2, d_hidden=D_HIDDEN, dropout=0.0, weight_decay=WEIGHT_DECAY, batch_size=BATCH, n_epochs=EPOCHS,
        lr=LR, lr_schedule="constant", input_norm="none", early_stopping=False, random_state=0, device="cuda",
    ).fit(X, y)
    torch.cuda.synchronize()
    return model


def _best(fn, *args) -> float:
    fn(*args)  # warm-up: CUDA context, kernels, allocator
    best = float("inf")
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def test_gpu_training_loop_against_a_bare_loop(data, capsys):
    X, y = data
    X_t, y_t = torch.from_numpy(X).cuda(), torch.from_numpy(y).cuda()
    model = bench_estimator(X, y)
    assert model.device_ == "cuda"
    assert next(model.module_.parameters()).is_cuda
    bare = _best(bare_loop, X_t, y_t)
    ours = _best(bench_estimator, X, y)
    name = torch.cuda.get_device_name()
    with capsys.disabled():
        print(f"\nGPU training loop ({name}; {N_ROWS} rows, MLP {N_FEATURES}-{D_HIDDEN}-{D_HIDDEN}-{N_CLASSES}, "
              f"batch {BATCH}, {EPOCHS} epochs), best of {ROUNDS}:")
        print(f"  bare loop {bare:.3f} s, bench {ours:.3f} s: {ours / bare:.2f}x (limit {MAX_RATIO}x)")
    assert ours <= MAX_RATIO * bare, f"bench's GPU loop takes {ours / bare:.2f}x the bare loop (limit {MAX_RATIO}x)"
