"""Test scores of a cell's predictions, as scikit-learn computes them, without its input checks.

Accuracy, balanced accuracy, macro F1 and log-loss for labels; R², RMSE and MAE for numbers.
Each equals scikit-learn's result to the last bit (tests hold them to it) and costs a small
cell less than scikit-learn's checks would.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics

PROBA_FLOOR = 1e-15  # log-loss clips probabilities here, so a class the model never saw costs ~34.5


def full_proba(proba: np.ndarray, model_classes, classes: np.ndarray) -> np.ndarray:
    """Probabilities over every class of the dataset: a class the model lacks gets 0, then clipping."""
    out = np.zeros((len(proba), len(classes)))
    cols = np.searchsorted(classes, np.asarray(model_classes))
    out[:, cols] = proba
    out = np.clip(out, PROBA_FLOOR, None)
    return out / out.sum(axis=1, keepdims=True)


def scores(task: str, estimator, X, y, pred: np.ndarray | None = None, classes: np.ndarray | None = None) -> dict:
    """Test scores; `pred` are the predictions when they are already made.

    `classes` is the dataset's full label set: the training rows of a small size may lack rare
    classes that the test rows hold, and every score is still taken over all of them.
    """
    pred = estimator.predict(X) if pred is None else pred
    if task == "regression":
        return regression_scores(y, pred)
    if classes is None:
        classes = np.unique(np.concatenate([np.asarray(y), np.asarray(pred)]))
    out = label_scores(y, pred, classes)
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X)
        model_classes = getattr(estimator, "classes_", np.arange(proba.shape[1]))
        if np.isin(model_classes, classes).all():
            out["log_loss"] = log_loss(y, full_proba(proba, model_classes, classes), classes)
    return out


def log_loss(y, proba: np.ndarray, classes: np.ndarray) -> float:
    """scikit-learn's `log_loss(y, proba, labels=classes)` of probabilities over the sorted `classes`
    (full_proba's), without its input checks: equal to the last bit (tests hold it to that).

    scikit-learn clips to [eps, 1 - eps], takes the log of every entry, sums the one-hot labels
    times those logs along each row (the true class's log plus terms exactly 0) and averages;
    picking the true classes' logs gives the same floats without its checks, which took 3 ms of
    a small cell. Anything unusual goes through scikit-learn itself.
    """
    y = np.asarray(y).ravel()
    proba = np.asarray(proba)
    at = np.searchsorted(classes, y) if len(classes) else None
    if (proba.ndim != 2 or proba.dtype.kind != "f" or len(y) != len(proba) or len(y) < 1
            or len(classes) < 2 or proba.shape[1] != len(classes) or not np.isfinite(proba).all()
            or (proba < 0).any() or (proba > 1).any()
            or not np.all(np.isclose(proba.sum(axis=1), 1.0, rtol=np.sqrt(np.finfo(proba.dtype).eps)))
            or (at >= len(classes)).any() or (classes[np.minimum(at, len(classes) - 1)] != y).any()):
        return metrics.log_loss(y, proba, labels=classes)
    eps = np.finfo(proba.dtype).eps
    logs = np.log(np.clip(proba, eps, 1 - eps))  # every entry, as scikit-learn takes them (the same kernel)
    return float(np.average(-logs[np.arange(len(y)), at]))


def _regression_arrays(y, pred) -> tuple[np.ndarray, np.ndarray] | None:
    """y and pred as scikit-learn's regression metrics check them (columns, in their common floating
    dtype); None where those checks would refuse them or do more (scikit-learn then scores them)."""
    y, pred = np.asarray(y), np.asarray(pred)
    if y.ndim != 1 or pred.ndim != 1 or len(y) != len(pred) or len(y) < 2:
        return None
    if y.dtype.kind not in "fiu" or pred.dtype.kind not in "fiu":
        return None
    floating = [a.dtype for a in (y, pred) if a.dtype.kind == "f"]
    dtype = np.result_type(*floating) if floating else np.float64
    y, pred = y.astype(dtype, copy=False).reshape(-1, 1), pred.astype(dtype, copy=False).reshape(-1, 1)
    if not (np.isfinite(y).all() and np.isfinite(pred).all()):
        return None
    return y, pred


def r2(y, pred) -> float:
    """scikit-learn's `r2_score(y, pred)`, without its input checks (equal to the last bit)."""
    arrays = _regression_arrays(y, pred)
    if arrays is None:
        return metrics.r2_score(y, pred)
    y, pred = arrays
    numerator = np.sum(1.0 * (y - pred) ** 2, axis=0)
    denominator = np.sum(1.0 * (y - np.average(y, axis=0)) ** 2, axis=0)
    # scikit-learn's force_finite: 1 for perfect predictions, 0 for imperfect ones of a constant target.
    out = np.ones([1], dtype=numerator.dtype)
    valid = (denominator != 0) & (numerator != 0)
    out[valid] = 1 - (numerator[valid] / denominator[valid])
    out[(numerator != 0) & ~(denominator != 0)] = 0.0
    return float(np.average(out))


def regression_scores(y, pred) -> dict:
    """R², RMSE and MAE as scikit-learn computes them (`r2_score`, the root of `mean_squared_error`,
    `mean_absolute_error`), equal to the last bit, without three rounds of input checks."""
    arrays = _regression_arrays(y, pred)
    if arrays is None:
        return {
            "r2": metrics.r2_score(y, pred),
            "rmse": float(np.sqrt(metrics.mean_squared_error(y, pred))),
            "mae": metrics.mean_absolute_error(y, pred),
        }
    yc, pc = arrays
    mse = float(np.average(np.average((yc - pc) ** 2, axis=0)))
    mae = float(np.average(np.average(np.abs(pc - yc), axis=0)))
    return {"r2": r2(y, pred), "rmse": float(np.sqrt(mse)), "mae": mae}


def label_scores(y, pred, classes) -> dict:
    """Accuracy, balanced accuracy and macro F1 over `classes`, as scikit-learn computes them.

    The same arithmetic as `accuracy_score`, `balanced_accuracy_score` and `f1_score(labels=
    classes, average="macro", zero_division=0)` (equal to the last bit: tests hold them to it),
    from one table of counts instead of three passes of input checks, which cost a small
    cell more than its fit. A class absent from y or pred is scored as it should be (recall
    or precision 0; balanced accuracy averages the classes y holds).
    """
    y, pred = np.asarray(y).ravel(), np.asarray(pred).ravel()
    if len(y) != len(pred):
        raise ValueError(f"{len(y)} labels but {len(pred)} predictions")
    seen = np.union1d(y, pred)  # the labels of the confusion matrix, sorted
    k = len(seen)
    counts = np.bincount(np.searchsorted(seen, y) * k + np.searchsorted(seen, pred), minlength=k * k).reshape(k, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = np.diagonal(counts) / counts.sum(axis=1)
    per_class = per_class[~np.isnan(per_class)]
    # F1 per requested class: 2 tp / (2 tp + fp + fn), written as scikit-learn writes it.
    at = np.searchsorted(seen, classes)
    present = (at < k) & (seen[np.minimum(at, k - 1)] == classes)
    tp = np.where(present, np.diagonal(counts)[np.minimum(at, k - 1)], 0)
    true_sum = np.where(present, counts.sum(axis=1)[np.minimum(at, k - 1)], 0)
    pred_sum = np.where(present, counts.sum(axis=0)[np.minimum(at, k - 1)], 0)
    denom = 1.0 * true_sum.astype(np.float64) + pred_sum.astype(np.float64)
    empty = denom == 0
    denom[empty] = 1
    f1 = (2.0 * tp.astype(np.float64)) / denom
    f1[empty] = 0.0
    return {
        "accuracy": accuracy(y, pred),
        "balanced_accuracy": float(np.mean(per_class)),
        "f1_macro": float(np.nanmean(f1)) if len(f1) else float("nan"),
    }


def primary(task: str, s: dict) -> float:
    return s["accuracy"] if task == "classification" else s["r2"]


def _primary_score(task: str, y, pred) -> float:
    """The primary score alone (what `train_score` records): accuracy or R², as `scores` computes them."""
    if task == "regression":
        return r2(y, pred)
    return accuracy(y, pred)


def accuracy(y, pred) -> float:
    """scikit-learn's accuracy_score of labels, without its input checks (equal to the last bit)."""
    return float(np.mean((np.asarray(y).ravel() == np.asarray(pred).ravel()).astype(np.float64)))
