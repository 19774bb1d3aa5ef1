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
    y_columns = 1 if y.ndim == 1 else int(np.prod(y.shape[1:]))
    if loss.label_form == "binary" and n_outputs > 1 and _sums_to_1(y_pred.reshape(-1, head.shape[-1])):
        kind = "categorical"  # multi-hot y for a softmax output: y is meant one-hot, and is not
    if kind == "binary":
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
        _check_categorical(name, y, head.shape if len(head.shape) > 1 else (n_outputs,), where)
    elif kind in ("regression", "row"):
        if y_columns != n_outputs:
            shape = f" (the model returns an array of shape {head.shape} per row)" if len(head.shape) > 1 else ""
            raise ValueError(
                f"y must have one column per model output ({n_outputs}){where}, got {y_columns} column(s){shape}"
            )
        _warn_if_classifier(loss, y, y_pred)
    if head.loss.counted is not None and not head.loss.row_weights(y).any():
        raise ValueError(f"{name} ignores every label of y{where}: there is nothing to score")
    if loss.probabilities and not loss.from_logits:
        classes = head.shape[-1] if kind == "categorical" and len(head.shape) > 1 else n_outputs
        _check_probabilities(loss, y_pred.reshape(-1, classes), kind, where, one_hot=y.size == y_pred.size)


def _expected_forms(shape: tuple[int, ...]) -> str:
    """The label forms a categorical loss takes for an output of per-row ``shape`` (..., K), in the caller's words."""
    classes = shape[-1]
    if len(shape) == 1:
        return terms.either(f"labels (n,) or one-hot (n, {classes})",
                            f"class labels (a vector or a factor) or a one-hot matrix of {classes} columns")
    steps = ", ".join(str(d) for d in shape[:-1])
    return terms.either(f"labels (n, {steps}) or one-hot (n, {steps}, {classes}), one class per step",
                        f"class labels (an array of dim c(n, {steps})) or a one-hot array of dim "
                        f"c(n, {steps}, {classes}), one class per step")


def _check_categorical(name: str, y: np.ndarray, shape: tuple[int, ...], where: str) -> None:
    """Class labels or one-hot rows for an output of per-row ``shape`` (K,), or (T, K): one class per step."""
    classes, steps = shape[-1], int(np.prod(shape[:-1], dtype=int))
    per_row = y.size // y.shape[0]
    if per_row == steps * classes and classes > 1:
        one_hot = y.reshape(-1, classes)
        if not _is_binary(one_hot):
            raise ValueError(f"{name} needs one-hot y (0/1 columns){where}, got continuous values")
        ones = one_hot.sum(axis=1)
        bad = np.flatnonzero(ones != 1)
        if len(bad):
            at = int(bad[0])
            row = terms.index(at // steps) if steps == 1 else terms.vector([terms.index(i) for i in
                                                                            divmod(at, steps)])
            what = "no class" if ones[at] == 0 else f"{int(ones[at])} classes"
            raise ValueError(
                f"{name} needs one-hot y with exactly one 1 per {'row' if steps == 1 else 'row and step'}{where}, "
                f"got {len(bad)} that are not: {'row' if steps == 1 else 'row and step'} {row} marks {what}"
                + (f" (several independent 0/1 labels per row: use {terms.setting('loss', 'binary_crossentropy')} "
                   f"or {terms.literal('binary_accuracy')} with a sigmoid output)" if ones[at] > 1 else "")
            )
        return
    if per_row != steps:
        raise ValueError(f"{name} needs y as {_expected_forms(shape)}{where}, got {terms.shape(y.shape)}")
    labels = y
    if not (np.all(labels == np.round(labels)) and labels.min() >= 0 and labels.max() < classes):
        raise ValueError(
            f"{name} needs y as class labels 0..{classes - 1} for a model with {classes} outputs"
            f"{' per step' if steps > 1 else ''}{where}, got values such as {_sample(labels)}"
        )


def _sums_to_1(y_pred: np.ndarray) -> bool:
    """Whether every row of ``y_pred`` (n, K) is a probability vector (a softmax output)."""
    return bool(y_pred.min() >= -_PROBABILITY_SLACK and (np.abs(y_pred.sum(axis=1) - 1.0) <= _SUM_SLACK).all())


def _check_probabilities(loss: Loss, y_pred: np.ndarray, kind: str, where: str, one_hot: bool) -> None:
    """Probability losses need probabilities (``y_pred`` (n, K), one row per row or step): refuse logits and
    unnormalised scores with a fix; ``one_hot``: y is one-hot (it may be meant as several 0/1 labels)."""
    if loss.greater_is_better and kind == "categorical":
        return  # argmax reads logits and probabilities alike
    low, high = float(y_pred.min()), float(y_pred.max())
    problem, hint = None, ""
    if low < -_PROBABILITY_SLACK or high > 1 + _PROBABILITY_SLACK:
        problem = f"values outside [0, 1] (from {low:.4g} to {high:.4g})"
    elif kind == "categorical" and y_pred.shape[1] > 1:
        sums = y_pred.sum(axis=1)
        worst = float(sums[np.argmax(np.abs(sums - 1.0))])
        if abs(worst - 1.0) > _SUM_SLACK:
            problem = f"rows that do not sum to 1 (one sums to {worst:.4g})"
            hint = "" if not one_hot else (f" (for several independent 0/1 labels per row, sigmoid outputs, pass "
                    f"{terms.setting('loss', 'binary_crossentropy')} or {terms.literal('binary_accuracy')})")
    if problem is None:
        return
    keras_loss = {
        "binary": "BinaryCrossentropy", "categorical": "CategoricalCrossentropy",
    }.get(kind, "BinaryCrossentropy")
    fix = terms.either(f"loss=keras.losses.{keras_loss}(from_logits=True)",
                       f"loss = keras3::loss_{_snake(keras_loss)}(from_logits = TRUE)")
    activation = "softmax" if kind == "categorical" and y_pred.shape[1] > 1 else "sigmoid"
    raise ValueError(
        f"{terms.setting('loss', loss.name)} needs predicted probabilities{where}, but the model returned {problem}: "
        f"it seems to output logits. Add a {activation} activation to its last layer, or pass {fix}{hint}"
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
