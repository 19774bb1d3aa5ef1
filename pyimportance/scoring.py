"""Losses, scores and the prediction-change measure; one table of names -> functions.

Predictions reach this module as float64 arrays of shape ``(n_samples, n_outputs)``.
Importance is always "how much worse": ``loss(perturbed) - loss(baseline)`` for a loss,
``score(baseline) - score(perturbed)`` for a score such as accuracy, and the mean absolute
change of the predictions when no ``y`` is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_EPS = 1e-7  # probability clipping, as Keras does for cross-entropy


def _as_column(y: np.ndarray) -> np.ndarray:
    return y.reshape(-1, 1) if y.ndim == 1 else y


def mean_squared_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean of squared errors over samples and outputs."""
    return float(np.mean((_as_column(y_true) - y_pred) ** 2))


def root_mean_squared_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Square root of :func:`mean_squared_error`."""
    return float(np.sqrt(mean_squared_error(y_true, y_pred)))


def mean_absolute_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean of absolute errors over samples and outputs."""
    return float(np.mean(np.abs(_as_column(y_true) - y_pred)))


def binary_crossentropy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean binary cross-entropy; ``y_true`` in {0, 1}, ``y_pred`` probabilities of class 1."""
    y = _as_column(y_true)
    p = np.clip(y_pred, _EPS, 1.0 - _EPS)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p)))


def _labels(y_true: np.ndarray) -> np.ndarray:
    return (np.argmax(y_true, axis=1) if y_true.ndim == 2 else y_true).astype(np.intp)


def categorical_crossentropy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean categorical cross-entropy; ``y_true`` labels 0..K-1 or one-hot, ``y_pred`` (n, K)."""
    labels = _labels(y_true)
    p = np.clip(y_pred[np.arange(len(labels)), labels], _EPS, 1.0)
    return float(-np.mean(np.log(p)))


def log_loss(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Binary cross-entropy for one output column, categorical cross-entropy for several."""
    if y_pred.shape[1] == 1:
        return binary_crossentropy(y_true, y_pred)
    return categorical_crossentropy(y_true, y_pred)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of correct classes: threshold 0.5 for one output column, argmax for several."""
    if y_pred.shape[1] == 1:
        return float(np.mean((y_pred[:, 0] >= 0.5) == (_as_column(y_true)[:, 0] >= 0.5)))
    return float(np.mean(np.argmax(y_pred, axis=1) == _labels(y_true)))


def prediction_change(baseline: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute change of the predictions from the baseline (over samples and outputs)."""
    return float(np.mean(np.abs(y_pred - baseline)))


@dataclass(frozen=True)
class Scorer:
    """A named loss or score; ``kind`` says which targets it accepts."""

    name: str
    function: Callable[[np.ndarray, np.ndarray], float]
    greater_is_better: bool = False
    kind: str = "any"  # "regression", "binary", "categorical", "classification" or "any"

    def importance(self, baseline_score: float, perturbed_score: float) -> float:
        """How much worse the perturbed score is than the baseline."""
        if self.greater_is_better:
            return baseline_score - perturbed_score
        return perturbed_score - baseline_score


LOSSES: dict[str, Scorer] = {
    "mse": Scorer("mse", mean_squared_error, kind="regression"),
    "rmse": Scorer("rmse", root_mean_squared_error, kind="regression"),
    "mae": Scorer("mae", mean_absolute_error, kind="regression"),
    "log_loss": Scorer("log_loss", log_loss, kind="classification"),
    "binary_crossentropy": Scorer("binary_crossentropy", binary_crossentropy, kind="binary"),
    "categorical_crossentropy": Scorer("categorical_crossentropy", categorical_crossentropy, kind="categorical"),
    "accuracy": Scorer("accuracy", accuracy, greater_is_better=True, kind="classification"),
}

PREDICTION_CHANGE = Scorer("prediction_change", prediction_change)


def resolve_loss(loss, has_y: bool) -> Scorer:
    """The :class:`Scorer` for ``loss`` (name, callable or None) given whether ``y`` was passed."""
    if not has_y:
        if loss is not None:
            raise ValueError(f"loss={loss!r} needs y (the true targets); pass y or leave loss=None")
        return PREDICTION_CHANGE
    if loss is None:
        return LOSSES["mse"]
    if callable(loss):
        return Scorer(getattr(loss, "__name__", "custom"), _checked_custom(loss))
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]
    allowed = ", ".join(repr(name) for name in LOSSES)
    raise ValueError(f"loss must be one of {allowed} or a callable (y_true, y_pred) -> float, got {loss!r}")


def _checked_custom(function: Callable) -> Callable[[np.ndarray, np.ndarray], float]:
    def custom_loss(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        # A 1D y meets 1D predictions (sklearn's convention), so y_true - y_pred never broadcasts.
        if y_true.ndim == 1 and y_pred.shape[1] == 1:
            y_pred = y_pred[:, 0]
        value = function(y_true, y_pred)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"loss (a custom callable) must return a number, got {value!r}") from None
        if not np.isfinite(value):
            raise ValueError(f"loss (a custom callable) returned a non-finite value {value}")
        return value

    return custom_loss


def _is_binary(values: np.ndarray) -> bool:
    return bool(np.isin(values, (0.0, 1.0)).all())


def check_target(scorer: Scorer, y: np.ndarray, predictions: np.ndarray) -> None:
    """Check that ``y`` fits ``scorer`` and the model's ``predictions`` (n, n_outputs)."""
    n_outputs = predictions.shape[1]
    kind = scorer.kind
    if kind == "classification":
        kind = "binary" if n_outputs == 1 else "categorical"
    if kind == "binary" and not _is_binary(y):
        raise ValueError(
            f"loss={scorer.name!r} needs y with classes 0/1, got values such as "
            f"{np.unique(y)[:5].tolist()} (continuous y: use loss='mse')"
        )
    if kind == "categorical":
        if y.ndim == 2 and y.shape[1] == n_outputs:
            if not _is_binary(y):
                raise ValueError(f"loss={scorer.name!r} needs one-hot y (0/1 columns), got continuous values")
        elif y.ndim == 1 or y.shape[1] == 1:
            labels = y.reshape(-1)
            if not (np.all(labels == np.round(labels)) and labels.min() >= 0 and labels.max() < n_outputs):
                raise ValueError(
                    f"loss={scorer.name!r} needs y as class labels 0..{n_outputs - 1} for a model with "
                    f"{n_outputs} outputs, got values such as {np.unique(labels)[:5].tolist()}"
                )
        else:
            raise ValueError(
                f"loss={scorer.name!r} needs y as labels (n,) or one-hot (n, {n_outputs}), got shape {y.shape}"
            )
        return
    if scorer.kind in ("regression", "binary"):
        y_columns = 1 if y.ndim == 1 else y.shape[1]
        if y_columns != n_outputs:
            raise ValueError(
                f"y must have one column per model output ({n_outputs}), got {y_columns} column(s)"
            )
