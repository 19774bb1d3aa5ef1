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
    IgnoredCounts,
    ObjectRowValues,
    as_numpy,
    changed_settings,
    described,
    keras_function,
    keras_loss_key,
    keras_object_key,
    keras_object_role,
    object_rows,
    object_settings,
    row_values,
)

_EPS = 1e-7  # probability clipping, as Keras does for cross-entropy


def _as_columns(y: np.ndarray) -> np.ndarray:
    """Targets or predictions of any per-row shape as columns (n, m)."""
    return y.reshape(-1, 1) if y.ndim == 1 else y.reshape(y.shape[0], -1)


def squared_error(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Squared error of each row and output column."""
    return (_as_columns(y_true) - _as_columns(y_pred)) ** 2


def absolute_error(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Absolute error of each row and output column."""
    return np.abs(_as_columns(y_true) - _as_columns(y_pred))


def _log_sigmoid(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


def binary_crossentropy(y_true: np.ndarray, y_pred: np.ndarray, from_logits: bool = False) -> np.ndarray:
    """Binary cross-entropy of each row and column (each label of a multi-label output, each step of a
    sequence); ``y_true`` in {0, 1}, ``y_pred`` P(class 1) or logits."""
    y, z = _as_columns(y_true), _as_columns(y_pred)
    if from_logits:
        return -(y * _log_sigmoid(z) + (1.0 - y) * _log_sigmoid(-z))
    p = np.clip(z, _EPS, 1.0 - _EPS)
    return -(y * np.log(p) + (1.0 - y) * np.log1p(-p))


def class_labels(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Class labels 0..K-1, one per row (or per step) of ``y_pred`` (n, ..., K), from labels or one-hot ``y_true``.

    ``y_true`` is one-hot when it has ``y_pred``'s number of values per row, else labels.
    """
    if y_true.size == y_pred.size:
        return np.argmax(y_true.reshape(y_pred.shape), axis=-1).astype(np.intp)
    return y_true.reshape(y_pred.shape[:-1]).astype(np.intp)


def _class_axis(y_pred: np.ndarray) -> np.ndarray:
    """Predictions as (n, ..., K); a one-column output as (n, 1)."""
    return y_pred[:, None] if y_pred.ndim == 1 else y_pred


def categorical_crossentropy(y_true: np.ndarray, y_pred: np.ndarray, from_logits: bool = False) -> np.ndarray:
    """Categorical cross-entropy of each row (n, 1), or of each step (n, T) of a sequence output (n, T, K);
    ``y_true`` labels or one-hot, ``y_pred`` probabilities (or logits) over the last axis."""
    y_pred = _class_axis(y_pred)
    labels = class_labels(y_true, y_pred)[..., None]
    if from_logits:
        shifted = y_pred - y_pred.max(axis=-1, keepdims=True)
        log_p = np.take_along_axis(shifted, labels, axis=-1)[..., 0] - np.log(np.exp(shifted).sum(axis=-1))
        return -log_p.reshape(y_pred.shape[0], -1)
    p = np.clip(np.take_along_axis(y_pred, labels, axis=-1)[..., 0], _EPS, 1.0)
    return -np.log(p).reshape(y_pred.shape[0], -1)


def log_loss(y_true: np.ndarray, y_pred: np.ndarray, from_logits: bool = False) -> np.ndarray:
    """Binary cross-entropy for one output column, categorical cross-entropy for several (the head's
    label form decides: :func:`.label_forms.for_head`)."""
    if _as_columns(y_pred).shape[1] == 1:
        return binary_crossentropy(y_true, y_pred, from_logits)
    return categorical_crossentropy(y_true, y_pred, from_logits)


def binary_correct(y_true: np.ndarray, y_pred: np.ndarray, from_logits: bool = False) -> np.ndarray:
    """1.0 where each column's 0/1 label is predicted right: above 0.5 (above 0 for logits), as Keras'
    ``binary_accuracy``."""
    threshold = 0.0 if from_logits else 0.5
    return ((_as_columns(y_pred) > threshold) == (_as_columns(y_true) >= 0.5)).astype(np.float64)


def categorical_correct(y_true: np.ndarray, y_pred: np.ndarray, from_logits: bool = False) -> np.ndarray:
    """1.0 where the argmax is the class (n, 1), per step (n, T) for a sequence output (n, T, K)."""
    y_pred = _class_axis(y_pred)
    right = np.argmax(y_pred, axis=-1) == class_labels(y_true, y_pred)
    return right.astype(np.float64).reshape(y_pred.shape[0], -1)


def correct(y_true: np.ndarray, y_pred: np.ndarray, from_logits: bool = False) -> np.ndarray:
    """Binary accuracy on one output column, categorical accuracy on several (the head's label form
    decides: :func:`.label_forms.for_head`)."""
    if _as_columns(y_pred).shape[1] == 1:
        return binary_correct(y_true, y_pred, from_logits)
    return categorical_correct(y_true, y_pred, from_logits)


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
    counted: Callable[[np.ndarray], np.ndarray] | None = None  # y_true -> label elements counted per row
    label_form: str | None = None  # log_loss, accuracy: "binary" or "categorical", as the head's y reads

    def per_row(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """(n, m) row-wise values (loss, or score for ``greater_is_better``)."""
        if self.probabilities:
            return self.rows(y_true, y_pred, self.from_logits)
        return self.rows(y_true, y_pred)

    def row_weights(self, y_true: np.ndarray) -> np.ndarray | None:
        """How many label elements the loss counts in each row (n,), or None: every row counts once.

        A row's value is the mean over its counted elements, and the loss over rows is
        ``sum(weights * values) / sum(weights)``: Keras' mean over the labels not ignored
        (``ignore_class``), where a row of ignored labels counts 0.
        """
        return None if self.counted is None else np.asarray(self.counted(y_true), dtype=np.float64)

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
    "sparse_categorical_crossentropy": Loss(
        "sparse_categorical_crossentropy", categorical_crossentropy, kind="categorical", probabilities=True
    ),
    "accuracy": Loss("accuracy", correct, greater_is_better=True, kind="classification", probabilities=True),
    "binary_accuracy": Loss("binary_accuracy", binary_correct, greater_is_better=True, kind="binary",
                            probabilities=True),
    "categorical_accuracy": Loss("categorical_accuracy", categorical_correct, greater_is_better=True,
                                 kind="categorical", probabilities=True),
    "sparse_categorical_accuracy": Loss("sparse_categorical_accuracy", categorical_correct, greater_is_better=True,
                                        kind="categorical", probabilities=True),
}

#: The names messages and help list (the others are Keras' names of the same measures).
SHOWN_LOSSES = ("mse", "rmse", "mae", "log_loss", "binary_crossentropy", "categorical_crossentropy", "accuracy")

#: How ``log_loss`` and ``accuracy`` read a head: as the binary or the categorical loss of this table.
CLASSIFICATION_FORMS: dict[str, dict[str, str]] = {
    "log_loss": {"binary": "binary_crossentropy", "categorical": "categorical_crossentropy"},
    "accuracy": {"binary": "binary_accuracy", "categorical": "categorical_accuracy"},
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
    "sparsecategoricalcrossentropy": "sparse_categorical_crossentropy",
    "scce": "sparse_categorical_crossentropy",
    "acc": "accuracy",
    "binaryaccuracy": "binary_accuracy",
    "categoricalaccuracy": "categorical_accuracy",
    "sparsecategoricalaccuracy": "sparse_categorical_accuracy",
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
            f"loss must be one of {terms.choices(list(SHOWN_LOSSES))} (or a Keras loss name such as "
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
    """A Keras loss object (``keras.losses.MeanSquaredError()``, ``CategoricalCrossentropy(label_smoothing=0.1)``)
    with its settings, or a Keras metric object our table computes; None for anything else."""
    role = keras_object_role(loss)
    if role is None:
        return None
    settings, key = changed_settings(loss), _table_key(loss)
    from_logits = bool(object_settings(loss).get("from_logits"))
    if role == "metric":
        if key is None or settings:
            why = f"its settings {settings}" if key is not None else "it"
            raise ValueError(
                f"loss got the Keras metric object {type(loss).__name__}: pyimportance cannot compute {why} row by "
                f"row (a metric keeps state between calls); pass a loss name such as {terms.literal('accuracy')}, "
                f"a Keras loss object, or {_loss_function()}"
            )
        return _with_logits(LOSSES[key], from_logits)
    if key is not None and not settings:
        return _with_logits(LOSSES[key], from_logits)
    name = described(key or keras_object_key(loss) or type(loss).__name__,
                     {**({"from_logits": True} if from_logits else {}), **settings})
    counted = IgnoredCounts(settings["ignore_class"]) if settings.get("ignore_class") is not None else None
    if key is not None:  # one of our table's losses, with settings only Keras computes
        ours = LOSSES[key]
        rows = object_rows(loss, element_wise=ours.kind in ("regression", "binary"),
                           one_hot=key == "categorical_crossentropy")
        return Loss(name, rows, kind=ours.kind, probabilities=ours.probabilities, from_logits=from_logits,
                    counted=counted)
    keras_key = keras_object_key(loss)
    if keras_key is None:  # a loss Keras' table does not know: the object's own values, per row where it gives them
        return Loss(name, ObjectRowValues(loss), kind="any", decomposable=False)
    how = KERAS_LOSSES[keras_key]
    if how.values == "batch":
        return replace(custom_loss(lambda y_true, y_pred: as_numpy(loss.call(y_true, y_pred))), name=name)
    return Loss(name, object_rows(loss, element_wise=how.values == "column", one_hot=how.one_hot), kind=how.kind,
                probabilities=how.probabilities, from_logits=from_logits, counted=counted)


def _table_key(loss) -> str | None:
    """The key of our table for a Keras object, by its name or its class's name."""
    key = str(loss.get_config().get("name") or "").lower() if hasattr(loss, "get_config") else ""
    key = ALIASES.get(key, ALIASES.get(type(loss).__name__.lower(), key))
    return key if key in LOSSES else None


def _with_logits(loss: Loss, from_logits: bool) -> Loss:
    return replace(loss, from_logits=True, name=f"{loss.name} (from logits)") if from_logits else loss


def _keras_loss(key: str, function: Callable) -> Loss:
    """Keras' loss ``key`` computed by Keras' own ``function``: row-wise, or over all rows at once (one number,
    as a custom loss) where Keras computes it so."""
    how = KERAS_LOSSES[key]
    if how.values == "batch":
        return replace(custom_loss(lambda y_true, y_pred: as_numpy(function(y_true, y_pred))), name=key)
    return Loss(key, row_values(function, key), kind=how.kind, probabilities=how.probabilities)


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
