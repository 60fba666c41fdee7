"""Registry contract: every registered dataset and model keeps the promises the harness relies on.

Parametrised over the registries themselves (as scikit-learn's common estimator checks are),
so a dataset or model added anywhere, by a plugin too, is checked without editing this file:

- a dataset loads as many rows as its `size` declares (before loading, the suite plans with
  that number), with its official test part where it declares one, at two small settings;
- a model fits and predicts every (task, modality) it declares, on tiny data prepared by the
  harness's own preprocessing, and `model_size` counts its parameters (a model without a
  count would silently drop out of the report's complexity claims).

Models tagged `testing` (test doubles) are left out. Datasets tagged `download` without a
cached copy are skipped with the loader's reason: downloads are off while they load.
"""

from __future__ import annotations

import socket

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from bench.datasets import DATASETS, DataError, load
from bench.datasets.cache import OFFLINE_ENV
from bench.execution.prepare import _preprocessor
from bench.execution.scoring import scores
from bench.measure import UnknownSizeError, model_size, serialized_bytes
from bench.models import MODELS, ModelContext, build
from bench.plugins import load_plugins

load_plugins()  # BENCH_PLUGINS (set by conftest): plugin datasets and models are checked too

# Parameters that set a dataset's row count, and the two small values each is checked at.
SIZE_PARAMS = ("n_samples", "n_train", "n_rows")
SMALL_SIZES = (100, 150)
# Hyperparameters that make a fit quick, applied with set_params where the estimator has them.
QUICK = {"n_epochs": 2, "n_estimators": 5, "batch_size": 16}
# Sample layouts per modality: a bare one and one with channels, as the datasets deliver them.
LAYOUTS = {"tabular": [None], "image": [(8, 8), (2, 6, 6)], "sequence": [(16,), (12, 2)], "text": [(16,)]}


# -- datasets ---------------------------------------------------------------------------------

def _user_file(entry, tmp_path, n_rows: int) -> dict:
    """Parameters of a dataset read from the user's file: a small file of its modality."""
    rng = np.random.default_rng(0)
    y = np.arange(n_rows) % 2
    if entry.modality == "tabular":
        path = tmp_path / f"{entry.name}.csv"
        frame = pd.DataFrame(rng.normal(size=(n_rows, 4)), columns=["a", "b", "c", "d"])
        frame["label"] = y
        frame.to_csv(path, index=False)
    else:
        path = tmp_path / f"{entry.name}.npz"
        shape = (6, 6) if entry.modality == "image" else (16,)
        np.savez(path, X=rng.random((n_rows, *shape)), y=y)
    made = {"path": str(path), "target": "label", "task": "classification"}
    unknown = [k for k in entry.required if k not in made]
    if unknown:
        pytest.fail(f"dataset {entry.name!r}: the contract test cannot fill required parameters {unknown}")
    return {k: made[k] for k in entry.required}


def _small_params(entry, tmp_path, n_rows: int) -> dict:
    params = _user_file(entry, tmp_path, n_rows) if entry.required else {}
    params.update({k: n_rows for k in SIZE_PARAMS if k in entry.defaults})
    return params


class _NetworkBlocked(OSError):
    pass


@pytest.fixture
def offline(monkeypatch):
    """Downloads are switched off (BENCH_OFFLINE) and any connection fails at once."""

    def refuse(*args, **kwargs):
        raise _NetworkBlocked("network blocked by the contract test")

    monkeypatch.setenv(OFFLINE_ENV, "1")
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: refuse(address))
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.filterwarnings("ignore:A network error occurred")
@pytest.mark.parametrize("name", DATASETS.names())
def test_dataset_loads_the_rows_its_size_declares(name, tmp_path, offline):
    entry = DATASETS[name]
    for n_rows in SMALL_SIZES:
        small = _small_params(entry, tmp_path, n_rows)
        params = {**entry.defaults, **small}
        try:  # as the suite does: check the parameters, read the size, then load
            if entry.check:
                entry.check(params)
            declared = int(entry.size(params))
            data = load(name, small)  # the harness's loader: the function, then validation
        except (DataError, OSError) as exc:
            if "download" in entry.tags:
                pytest.skip(f"dataset {name!r} (tagged download) does not load offline: {str(exc).splitlines()[0]}")
            raise
        where = f"dataset {name!r} with {small or 'its defaults'}"
        assert data.n_samples == declared, f"{where}: declares {declared} rows but loads {data.n_samples}"
        official = entry.official_rows(params)  # None: these parameters ask for no official split
        if official is not None:
            assert data.n_test == official, f"{where}: declares {official} official test rows, has {data.n_test}"
        else:
            assert data.n_test is None, f"{where}: returns an official test part but declares none"
        if entry.modality != "tabular":
            assert data.sample_shape is not None, f"{where}: {entry.modality} rows need their sample_shape"


def test_dataset_size_follows_its_size_parameters():
    # A size function that ignores its parameters would pass the check above at one setting only.
    for name, entry in DATASETS.items():
        sizing = [k for k in SIZE_PARAMS if k in entry.defaults]
        if sizing and not entry.required:
            sizes = {int(entry.size({**entry.defaults, sizing[0]: n})) for n in SMALL_SIZES}
            assert len(sizes) == len(SMALL_SIZES), f"dataset {name!r}: size ignores {sizing[0]}"


# -- models -----------------------------------------------------------------------------------

def _model_cases() -> list:
    cases = []
    for name, entry in MODELS.items():
        if "testing" in entry.tags:
            continue
        for task in sorted(entry.tasks):
            for modality in sorted(entry.modalities):
                for shape in LAYOUTS[modality]:
                    layout = "x".join(map(str, shape)) if shape else "rows"
                    cases.append(pytest.param(name, task, modality, shape, id=f"{name}-{task}-{modality}-{layout}"))
    return cases


def _tiny(task: str, modality: str, shape, n_rows: int = 60, seed: int = 0):
    """Tiny learnable data of a modality: X flat (rows x features), y from the first features."""
    rng = np.random.default_rng(seed)
    width = int(np.prod(shape)) if shape else 5
    if modality == "text":  # token ids, 0 padding the end of some rows
        X = rng.integers(1, 30, size=(n_rows, width)).astype(np.float32)
        X[::3, width // 2 :] = 0
    else:
        X = rng.random((n_rows, width)).astype(np.float32) if modality == "image" else rng.normal(size=(n_rows, width))
    signal = X[:, :4].sum(axis=1)
    if task == "classification":
        y = np.digitize(signal, np.quantile(signal, [1 / 3, 2 / 3]))  # three balanced classes
    else:
        y = signal + 0.1 * rng.normal(size=n_rows)
    return X, y


@pytest.mark.parametrize(("name", "task", "modality", "shape"), _model_cases())
def test_model_fits_what_it_declares_and_reports_its_size(name, task, modality, shape):
    X, y = _tiny(task, modality, shape)
    n_train = 45
    pre = _preprocessor(X[:n_train], modality, "raw")
    X_train = np.ascontiguousarray(pre.fit_transform(X[:n_train]))
    X_test = np.ascontiguousarray(pre.transform(X[n_train:]))
    y_train, y_test = y[:n_train], y[n_train:]
    ctx = ModelContext(
        task=task, modality=modality, seed=0, threads=1, n_features=X.shape[1],
        n_classes=3 if task == "classification" else None, sample_shape=shape, device="cpu",
    )
    estimator = build(name, ctx, {})
    quick = {k: v for k, v in QUICK.items() if k in estimator.get_params()}
    estimator = clone(estimator).set_params(**quick)  # the suite applies hyperparameters so

    assert estimator.fit(X_train, y_train) is estimator, f"model {name!r}: fit must return the estimator"
    pred = np.asarray(estimator.predict(X_test))
    assert pred.shape == (len(X_test),), f"model {name!r}: predict gave shape {pred.shape}"
    if task == "classification":
        assert set(np.unique(pred)) <= set(np.unique(y_train)), f"model {name!r}: predicts unseen labels"
    else:
        assert np.isfinite(pred).all(), f"model {name!r}: non-finite predictions"
    measured = scores(task, estimator, X_test, y_test, pred)
    assert all(np.isfinite(v) for v in measured.values()), f"model {name!r}: scores {measured}"

    try:
        n_params, proxy, unit = model_size(estimator)
    except UnknownSizeError as exc:
        pytest.fail(f"model {name!r}: {exc}")
    assert isinstance(n_params, int | np.integer) and n_params > 0, f"model {name!r}: n_params = {n_params!r}"
    assert proxy is not None and proxy > 0 and unit, f"model {name!r}: size proxy {proxy!r} {unit!r}"
    assert serialized_bytes(estimator), f"model {name!r}: the fitted model cannot be pickled"


def test_every_registered_model_is_checked():
    # The parametrisation above comes from the registry; a model that declares no task or
    # modality would have no case and escape the contract.
    checked = {p.values[0] for p in _model_cases()}
    expected = {n for n, e in MODELS.items() if "testing" not in e.tags}
    assert checked == expected, f"models with nothing to check: {sorted(expected - checked)}"


def test_model_size_refuses_an_estimator_it_cannot_count():
    from sklearn.naive_bayes import GaussianNB

    fitted = GaussianNB().fit(np.eye(4), [0, 1, 0, 1])
    with pytest.raises(UnknownSizeError, match=r"GaussianNB .*size_info\(\)"):
        model_size(fitted)


def test_model_size_counts_boosting_ensembles_and_pipelines_a_plugin_may_register():
    from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    X, y = _tiny("classification", "tabular", None)
    hist = HistGradientBoostingClassifier(max_iter=3).fit(X, y)
    boosted = GradientBoostingRegressor(n_estimators=3).fit(X, X[:, 0])
    piped = make_pipeline(StandardScaler(), SVC()).fit(X, y)
    svc = SVC().fit(StandardScaler().fit_transform(X), y)
    assert model_size(hist)[2] == model_size(boosted)[2] == "tree nodes"
    assert model_size(boosted)[0] == sum(t.tree_.node_count for t in boosted.estimators_.ravel())
    # The pipeline's parameters: the scaler's means and scales, then the SVM's; its proxy is the SVM's.
    assert model_size(piped) == (model_size(svc)[0] + 2 * X.shape[1], *model_size(svc)[1:])
