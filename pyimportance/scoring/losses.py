"""Losses, scores and the prediction-change measure; one table of names -> row-wise functions.

Every built-in measure is computed per row: ``rows(y_true, y_pred)`` returns an ``(n, m)`` array
(``m`` = the head's columns for regression losses, 1 for classification losses), and a head's
score is its mean (the square root of its mean for ``rmse``). Row-wise values are what the
data-level intervals are built from, at no extra model calls. Importance is always "how much
worse": the loss increase, the score decrease (accuracy), or the mean absolute change of the
predictions when no ``y`` is given.

Names: ours (``"mse"``, ``"log_loss"``, ...), and the names and aliases Keras' ``compile()``
takes (``"mean_squared_error"``, ``"MSE"``, ``"sparse_categorical_crossentropy"``, ...),
case-insensitive. A Keras loss object (``keras.losses.BinaryCrossentropy(from_logits=True)``)
is read from its config, so models that output logits are scored correctly. Every other loss
Keras knows (``"huber"``, ``"log_cosh"``, ``"mape"``, ``keras.losses.Huber(delta=2.0)``, ...) is
computed by Keras' own function, per row where Keras gives row values (:mod:`.keras_losses`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from .. import terms
from ..data.finite import as_float64, check_finite
from .keras_losses import (
    KERAS_ALIASES,
    KERAS_LOSSES,
    as_numpy,
    keras_function,
    keras_loss_key,
    keras_object_key,
    row_values,
)

_EPS = 1e-7  # probability clipping, as Keras does for cross-entropy


def _as_columns(y: np.ndarray) -> np.ndarray:
    return y.reshape(-1, 1) if y.ndim == 1 else y.reshape(y.shape[0], -1)


def squared_error(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Squared error of each row and output column."""
    return (_as_columns(y_true) - y_pred) ** 2


def absolute_error(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Absolute error of each row and output column."""
    return np.abs(_as_columns(y_true) - y_pred)


def _log_sigmoid(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


def binary_crossentropy(y_true: np.ndarray, y_pred: np.ndarray, from_logits: bool = False) -> np.ndarray:
    """Binary cross-entropy of each row and column; ``y_true`` in {0, 1}, ``y_pred`` P(class 1) or logits."""
    y = _as_columns(y_true)
    if from_logits:
        return -(y * _log_sigmoid(y_pred) + (1.0 - y) * _log_sigmoid(-y_pred))
    p = np.clip(y_pred, _EPS, 1.0 - _EPS)
    return -(y * np.log(p) + (1.0 - y) * np.log1p(-p))


def class_labels(y_true: np.ndarray) -> np.ndarray:
    """Class labels 0..K-1 from labels (n,) or one-hot rows (n, K)."""
    return (np.argmax(y_true, axis=1) if y_true.ndim == 2 else y_true).astype(np.intp)


def categorical_crossentropy(y_true: np.ndarray, y_pred: np.ndarray, from_logits: bool = False) -> np.ndarray:
    """Categorical cross-entropy of each row (n, 1); ``y_true`` labels or one-hot, ``y_pred`` (n, K)."""
    labels = class_labels(y_true)
    rows = np.arange(len(labels))
    if from_logits:
        shifted = y_pred - y_pred.max(axis=1, keepdims=True)
        log_p = shifted[rows, labels] - np.log(np.exp(shifted).sum(axis=1))
        return -log_p[:, None]
    p = np.clip(y_pred[rows, labels], _EPS, 1.0)
    return -np.log(p)[:, None]


def log_loss(y_true: np.ndarray, y_pred: np.ndarray, from_logits: bool = False) -> np.ndarray:
    """Binary cross-entropy for one output column, categorical cross-entropy for several."""
    if y_pred.shape[1] == 1:
        return binary_crossentropy(y_true, y_pred, from_logits)
    return categorical_crossentropy(y_true, y_pred, from_logits)


def correct(y_true: np.ndarray, y_pred: np.ndarray, from_logits: bool = False) -> np.ndarray:
    """1.0 where the predicted class is right (threshold 0.5, or 0 for logits, on one column; argmax on several)."""
    if y_pred.shape[1] == 1:
        threshold = 0.0 if from_logits else 0.5
        return ((y_pred[:, 0] >= threshold) == (_as_columns(y_true)[:, 0] >= 0.5)).astype(np.float64)[:, None]
    return (np.argmax(y_pred, axis=1) == class_labels(y_true)).astype(np.float64)[:, None]


def absolute_change(baseline: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Absolute change of each prediction from the baseline."""
    return np.abs(y_pred - baseline)


@dataclass(frozen=True)
class Loss:
    """A named row-wise loss or score; ``kind`` says which targets it accepts."""

    name: str
    rows: Callable[..., np.ndarray]
    greater_is_better: bool = False
    kind: str = "any"  # "regression", "binary", "categorical", "classification" or "any"
    aggregate: str = "mean"  # "mean", or "rmse": square root of the mean
    probabilities: bool = False  # reads probabilities (or logits with from_logits)
    from_logits: bool = False
    decomposable: bool = True  # per-row values exist (False: a custom callable of all rows)
    takes_weights: bool = False  # a custom callable with a ``sample_weight`` parameter: gets the rows' weights

    def per_row(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """(n, m) row-wise values (loss, or score for ``greater_is_better``)."""
        if self.probabilities:
            return self.rows(y_true, y_pred, self.from_logits)
        return self.rows(y_true, y_pred)

    def score(self, row_mean: np.ndarray) -> np.ndarray:
        """A head's score from the mean of its row-wise values."""
        return np.sqrt(row_mean) if self.aggregate == "rmse" else row_mean

    @property
    def sign(self) -> float:
        """+1 for losses, -1 for scores: ``sign * (perturbed - baseline)`` is the importance."""
        return -1.0 if self.greater_is_better else 1.0


LOSSES: dict[str, Loss] = {
    "mse": Loss("mse", squared_error, kind="regression"),
    "rmse": Loss("rmse", squared_error, kind="regression", aggregate="rmse"),
    "mae": Loss("mae", absolute_error, kind="regression"),
    "log_loss": Loss("log_loss", log_loss, kind="classification", probabilities=True),
    "binary_crossentropy": Loss("binary_crossentropy", binary_crossentropy, kind="binary", probabilities=True),
    "categorical_crossentropy": Loss(
        "categorical_crossentropy", categorical_crossentropy, kind="categorical", probabilities=True
    ),
    "accuracy": Loss("accuracy", correct, greater_is_better=True, kind="classification", probabilities=True),
}

# Keras' names and aliases (as compile() and keras.losses.get take them), lower-cased.
ALIASES: dict[str, str] = {
    "mean_squared_error": "mse",
    "meansquarederror": "mse",
    "root_mean_squared_error": "rmse",
    "rootmeansquarederror": "rmse",
    "mean_absolute_error": "mae",
    "meanabsoluteerror": "mae",
    "bce": "binary_crossentropy",
    "binarycrossentropy": "binary_crossentropy",
    "cce": "categorical_crossentropy",
    "categoricalcrossentropy": "categorical_crossentropy",
    "sparse_categorical_crossentropy": "categorical_crossentropy",
    "sparsecategoricalcrossentropy": "categorical_crossentropy",
    "scce": "categorical_crossentropy",
    "acc": "accuracy",
    "binary_accuracy": "accuracy",
    "categorical_accuracy": "accuracy",
    "sparse_categorical_accuracy": "accuracy",
    "logloss": "log_loss",
    "crossentropy": "log_loss",
}

PREDICTION_CHANGE = Loss("prediction_change", absolute_change)


def loss_names() -> list[str]:
    """Every name ``loss`` accepts (ours first, then Keras' aliases, then the losses Keras computes)."""
    return list(LOSSES) + list(ALIASES) + list(KERAS_LOSSES) + list(KERAS_ALIASES)


def resolve_loss(loss, has_y: bool) -> Loss:
    """The :class:`Loss` for ``loss`` (name, Keras loss object, callable or None) given whether ``y`` was passed.

    Without ``y`` the measure is the prediction change (a loss given without ``y`` is refused by a
    rule of :mod:`pyimportance.settings`).
    """
    if not has_y:
        return PREDICTION_CHANGE
    if loss is None:
        return LOSSES["mse"]
    if isinstance(loss, str):
        key = loss.strip().lower()
        key = ALIASES.get(key, key)
        if key in LOSSES:
            return LOSSES[key]
        if keras_loss_key(key) is not None:
            return _keras_loss(keras_loss_key(key), keras_function(keras_loss_key(key)))
        raise ValueError(
            f"loss must be one of {terms.choices(list(LOSSES))} (or a Keras loss name such as "
            f"{terms.literal('mean_squared_error')}) or {_loss_function()}, got {terms.literal(loss)}"
        )
    keras_loss = _from_keras_loss(loss)
    if keras_loss is not None:
        return keras_loss
    if callable(loss):
        return custom_loss(loss)
    raise TypeError(f"loss must be a name or {_loss_function()}, got {type(loss).__name__}")


def resolve_losses(loss, has_y: bool):
    """``loss`` resolved once for the run, in its own form: a :class:`Loss`, or a list or dict of them (per head).

    A bad name fails here, before any model call; :func:`pyimportance.scoring.heads.build_scoring`
    assigns the resolved losses to the model's heads.
    """
    if isinstance(loss, Mapping):
        return {key: resolve_loss(one, has_y) for key, one in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [resolve_loss(one, has_y) for one in loss]
    return resolve_loss(loss, has_y)


def probabilities_wanted(losses) -> str | None:
    """What a model with ``.predict_proba`` must be asked for under ``losses`` (resolved): None, "all"
    columns, or the "positive" class's column (binary losses)."""
    found = losses.values() if isinstance(losses, Mapping) else losses if isinstance(losses, list) else [losses]
    wanted = [one for one in found if one.probabilities and not one.from_logits]
    if not wanted:
        return None
    return "positive" if any(one.kind == "binary" for one in wanted) else "all"


def _loss_function() -> str:  # noqa: N802 - reads as the phrase it returns
    """How a custom loss is written in the caller's language."""
    return terms.either("a callable (y_true, y_pred) -> float", "an R function(y_true, y_pred) returning a number")


def _from_keras_loss(loss) -> Loss | None:
    """A Keras loss object (``keras.losses.MeanSquaredError()``, ``BinaryCrossentropy(from_logits=True)``)."""
    module = type(loss).__module__ or ""
    if not (module.startswith("keras") or module.startswith("tf_keras")) or not hasattr(loss, "get_config"):
        return None
    config = loss.get_config()
    key = str(config.get("name") or type(loss).__name__).lower()
    key = ALIASES.get(key, ALIASES.get(type(loss).__name__.lower(), key))
    if key not in LOSSES:
        keras_key = keras_object_key(loss)
        return None if keras_key is None else _keras_loss(keras_key, loss.call, bool(config.get("from_logits")))
    found = LOSSES[key]
    if config.get("from_logits"):
        found = replace(found, from_logits=True, name=f"{found.name} (from logits)")
    return found


def _keras_loss(key: str, function: Callable, from_logits: bool = False) -> Loss:
    """Keras' loss ``key`` computed by ``function`` (Keras' own, or a loss object's ``call``): row-wise, or over
    all rows at once (one number, as a custom loss) where Keras computes it so."""
    how = KERAS_LOSSES[key]
    name = key + (" (from logits)" if from_logits else "")
    if how.values == "batch":
        return replace(custom_loss(lambda y_true, y_pred: as_numpy(function(y_true, y_pred))), name=name)
    return Loss(name, row_values(function, key), kind=how.kind, probabilities=how.probabilities,
                from_logits=from_logits)


def takes_sample_weight(function: Callable) -> bool:
    """Whether ``function`` has a parameter named ``sample_weight`` (scikit-learn's metrics have)."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin or C function without a signature
        return False
    return "sample_weight" in parameters


def custom_loss(function: Callable) -> Loss:
    """A user's ``(y_true, y_pred) -> float`` loss (or ``-> n values``: one loss per row).

    A function with a ``sample_weight`` parameter (``f(y_true, y_pred, sample_weight=None)``, as
    scikit-learn's metrics) is called with the weights of the rows it scores when the run is weighted
    and it returns one number; one that returns one value per row is called without them (the engine
    weights its values).
    """
    name = getattr(function, "__name__", "custom")
    if name == "<lambda>":
        name = "custom"
    weighted = takes_sample_weight(function)

    def call(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None):
        # A 1D y meets 1D predictions (sklearn's convention), so y_true - y_pred never broadcasts.
        if y_true.ndim == 1 and y_pred.ndim == 2 and y_pred.shape[1] == 1:
            y_pred = y_pred[:, 0]
        if sample_weight is not None and weighted:
            return function(y_true, y_pred, sample_weight=sample_weight)
        return function(y_true, y_pred)

    return Loss(name, call, kind="any", decomposable=False, takes_weights=weighted)


def row_wise_custom(loss: Loss) -> Loss:
    """A custom loss found to return one value per row, used as a row-wise loss (data-level intervals)."""

    def rows(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        _, values = custom_value(loss.rows(y_true, y_pred), y_pred.shape[0])
        if values is None:
            raise TypeError(f"loss (a custom callable) returned one value per row before, but now one number "
                            f"for {y_pred.shape[0]} rows")
        return values[:, None]

    return Loss(loss.name, rows, kind="any", decomposable=True)


def custom_value(value, n_rows: int) -> tuple[float, np.ndarray | None]:
    """A custom loss's return value as (mean, per-row values or None); refuses non-numbers and NaN."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    array = as_float64(value, TypeError, lambda given: (
        f"loss (a custom callable) must return a number, got {terms.literal(given)}"))
    if array.ndim == 1 and array.shape[0] == n_rows and n_rows > 1:
        check_finite(array, ValueError, lambda bad, size: "loss (a custom callable) returned non-finite per-row values")
        return float(array.mean()), array
    if array.size != 1:
        raise TypeError(
            f"loss (a custom callable) must return one number (or one per row: {n_rows}), "
            f"got {terms.shape(array.shape)}"
        )
    number = float(array.reshape(-1)[0])
    check_finite(np.array(number), ValueError, lambda bad, size: (
        f"loss (a custom callable) returned a non-finite value {terms.number(number)}"))
    return number, None
