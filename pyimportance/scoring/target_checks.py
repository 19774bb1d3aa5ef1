"""Whether each head's ``y`` suits its loss and the model's predictions, checked once, on the baseline.

Class labels against the number of outputs, one-hot rows, 0/1 targets for binary losses,
probabilities (not logits) for probability losses, one target column per regression output;
a regression loss on class labels and probabilities warns (it measures the Brier score).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import terms
from .losses import Loss
from .scoring import Head, Scoring

_PROBABILITY_SLACK = 1e-6
_SUM_SLACK = 1e-3


def _is_binary(values: np.ndarray) -> bool:
    return bool(np.isin(values, (0.0, 1.0)).all())


def _sample(values: np.ndarray) -> str:
    """A few distinct values, as the caller writes a vector."""
    return terms.vector(np.unique(values)[:5].tolist())


def check_targets(scoring: Scoring, predictions: np.ndarray) -> None:
    """Check each head's ``y`` (all rows) against its loss and the model's baseline predictions (some rows)."""
    for head in scoring.heads:
        if head.target is not None:
            _check_head(head, predictions[:, head.columns], len(scoring.heads) > 1)


def _check_head(head: Head, y_pred: np.ndarray, several: bool) -> None:
    loss, y, n_outputs = head.loss, head.target, y_pred.shape[1]
    where = f" for output head {terms.literal(head.name)}" if several else ""
    name = terms.setting("loss", loss.name)
    kind = loss.kind
    if kind == "classification":
        kind = "binary" if n_outputs == 1 else "categorical"
    if kind == "binary":
        y_columns = 1 if y.ndim == 1 else y.shape[1]
        if y_columns != n_outputs:
            raise ValueError(
                f"{name} needs y with one 0/1 column per model output ({n_outputs}){where}, got {y_columns} "
                f"columns" + (" (one-hot y for a one-output sigmoid model: pass the class labels 0/1 instead)"
                               if n_outputs == 1 and y_columns == 2 else "")
            )
        if not _is_binary(y):
            raise ValueError(
                f"{name} needs y with classes 0/1{where}, got values such as {_sample(y)} "
                f"(continuous y: use {terms.setting('loss', 'mse')})"
            )
    elif kind == "categorical":
        _check_categorical(name, y, n_outputs, where)
    elif kind in ("regression", "row"):
        y_columns = 1 if y.ndim == 1 else int(np.prod(y.shape[1:]))
        if y_columns != n_outputs:
            shape = f" (the model returns an array of shape {head.shape} per row)" if len(head.shape) > 1 else ""
            raise ValueError(
                f"y must have one column per model output ({n_outputs}){where}, got {y_columns} column(s){shape}"
            )
        _warn_if_classifier(loss, y, y_pred)
    if loss.probabilities and not loss.from_logits:
        _check_probabilities(loss, y_pred, kind, where)


def _check_categorical(name: str, y: np.ndarray, n_outputs: int, where: str) -> None:
    if y.ndim == 2:
        if y.shape[1] != n_outputs:
            expected = terms.either(f"labels (n,) or one-hot (n, {n_outputs})",
                                    f"class labels (a vector or a factor) or a one-hot matrix of {n_outputs} columns")
            raise ValueError(f"{name} needs y as {expected}{where}, got {terms.shape(y.shape)}")
        if not _is_binary(y):
            raise ValueError(f"{name} needs one-hot y (0/1 columns){where}, got continuous values")
        ones = y.sum(axis=1)
        bad = np.flatnonzero(ones != 1)
        if len(bad):
            row = int(bad[0])
            what = "no class" if ones[row] == 0 else f"{int(ones[row])} classes"
            raise ValueError(
                f"{name} needs one-hot y with exactly one 1 per row{where}, got {len(bad)} rows that are not: "
                f"row {terms.index(row)} marks {what}"
            )
        return
    labels = y
    if not (np.all(labels == np.round(labels)) and labels.min() >= 0 and labels.max() < n_outputs):
        raise ValueError(
            f"{name} needs y as class labels 0..{n_outputs - 1} for a model with {n_outputs} outputs{where}, "
            f"got values such as {_sample(labels)}"
        )


def _check_probabilities(loss: Loss, y_pred: np.ndarray, kind: str, where: str) -> None:
    """Probability losses need probabilities: refuse logits and unnormalised scores with a fix."""
    if loss.name == "accuracy" and y_pred.shape[1] > 1:
        return  # argmax reads logits and probabilities alike
    low, high = float(y_pred.min()), float(y_pred.max())
    problem = None
    if low < -_PROBABILITY_SLACK or high > 1 + _PROBABILITY_SLACK:
        problem = f"values outside [0, 1] (from {low:.4g} to {high:.4g})"
    elif kind == "categorical" and y_pred.shape[1] > 1:
        sums = y_pred.sum(axis=1)
        worst = float(sums[np.argmax(np.abs(sums - 1.0))])
        if abs(worst - 1.0) > _SUM_SLACK:
            problem = f"rows that do not sum to 1 (one sums to {worst:.4g})"
    if problem is None:
        return
    keras_loss = {
        "binary": "BinaryCrossentropy", "categorical": "CategoricalCrossentropy",
    }.get(kind, "BinaryCrossentropy")
    fix = terms.either(f"loss=keras.losses.{keras_loss}(from_logits=True)",
                       f"loss = keras3::loss_{_snake(keras_loss)}(from_logits = TRUE)")
    raise ValueError(
        f"{terms.setting('loss', loss.name)} needs predicted probabilities{where}, but the model returned {problem}: "
        f"it seems to output logits. Add a {'sigmoid' if y_pred.shape[1] == 1 else 'softmax'} activation to its "
        f"last layer, or pass {fix}"
    )


def _snake(name: str) -> str:
    """``BinaryCrossentropy`` -> ``binary_crossentropy`` (keras3's R function names)."""
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def _warn_if_classifier(loss: Loss, y: np.ndarray, y_pred: np.ndarray) -> None:
    """A squared or absolute error on class labels and a classifier's probabilities is usually a mistake."""
    if loss.name not in ("mse", "rmse", "mae"):
        return
    labels_like = np.all(y == np.round(y)) and len(np.unique(y)) <= 20
    probabilities = y_pred.min() >= 0 and y_pred.max() <= 1
    if labels_like and probabilities and _is_binary(y):
        warnings.warn(
            f"{terms.setting('loss', loss.name)} on class labels and predicted probabilities measures the "
            f"Brier score; for a classifier, {terms.setting('loss', 'log_loss')} or {terms.literal('accuracy')} "
            "is usually meant",
            UserWarning,
            stacklevel=5,
        )
