"""Keras' own losses, by name (``"huber"``, ``"log_cosh"``, ``"mape"``, ...) or as loss objects, computed by Keras.

Our table (:mod:`.losses`) computes mse, rmse, mae, the cross-entropies and accuracy itself;
every other loss Keras knows by name is computed by Keras' own function, on the float64
predictions in the model's output shape, so its numbers are Keras'. Keras returns one value per
row (the mean over the last axis; per step for a sequence output): *element-wise* losses
(huber, log_cosh, ...) are asked for one value per column instead (each column alone), so a
head's columns can be scored apart (``per_output``) and their mean is Keras' row value. Row
values make the data-level intervals. Losses Keras computes over the whole batch (dice,
tversky, circle, ctc) are one number for all rows, like a custom loss.

A Keras loss object keeps its settings: one whose settings our table computes alike
(``from_logits``) is ours; any other (``label_smoothing``, ``ignore_class``, ``delta``, ...) is
computed by the object's own ``call``, Keras' unreduced per-sample values (Keras 3 and tf-keras
alike; the object's ``reduction`` is not read: rows are averaged). ``ignore_class`` follows
Keras: a row's value is the mean over its labels not ignored, and it counts as many labels
(:meth:`.losses.Loss.row_weights`). A Keras *metric* object is read by its name where our table
computes it with its settings, else refused (it keeps state between calls).

Keras is imported only when such a loss is asked for.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import terms


@dataclass(frozen=True)
class KerasLossName:
    """How pyimportance reads a Keras loss: the targets it takes and the values Keras gives."""

    kind: str  # the targets it takes, as :class:`.losses.Loss` ``kind``; "row": y of the predictions' shape
    values: str  # "column" (element-wise: one value per column), "row" (one per row) or "batch" (one number)
    probabilities: bool = False  # reads probabilities (or logits with from_logits)
    one_hot: bool = False  # Keras takes one-hot y: class labels are made one-hot first


#: Every loss name ``keras.losses.get`` takes that :data:`.losses.LOSSES` does not compute itself.
KERAS_LOSSES: dict[str, KerasLossName] = {
    "huber": KerasLossName("regression", "column"),
    "log_cosh": KerasLossName("regression", "column"),
    "mean_absolute_percentage_error": KerasLossName("regression", "column"),
    "mean_squared_logarithmic_error": KerasLossName("regression", "column"),
    "poisson": KerasLossName("regression", "column"),
    "hinge": KerasLossName("regression", "column"),
    "squared_hinge": KerasLossName("regression", "column"),
    "binary_focal_crossentropy": KerasLossName("binary", "column", probabilities=True),
    "categorical_focal_crossentropy": KerasLossName("categorical", "row", probabilities=True, one_hot=True),
    "categorical_hinge": KerasLossName("categorical", "row", one_hot=True),
    "cosine_similarity": KerasLossName("row", "row"),
    "kl_divergence": KerasLossName("row", "row"),
    "dice": KerasLossName("any", "batch"),
    "tversky": KerasLossName("any", "batch"),
    "circle": KerasLossName("any", "batch"),
    "ctc": KerasLossName("any", "batch"),
}

#: Other spellings (Keras' short names, class names, tf-keras' names, config names), lower-cased.
KERAS_ALIASES: dict[str, str] = {
    "huber_loss": "huber",
    "logcosh": "log_cosh",
    "mape": "mean_absolute_percentage_error",
    "meanabsolutepercentageerror": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "meansquaredlogarithmicerror": "mean_squared_logarithmic_error",
    "squaredhinge": "squared_hinge",
    "binaryfocalcrossentropy": "binary_focal_crossentropy",
    "categoricalfocalcrossentropy": "categorical_focal_crossentropy",
    "categoricalhinge": "categorical_hinge",
    "cosinesimilarity": "cosine_similarity",
    "kld": "kl_divergence",
    "kldivergence": "kl_divergence",
    "kullback_leibler_divergence": "kl_divergence",
}


def keras_loss_key(name: str) -> str | None:
    """The :data:`KERAS_LOSSES` key of a (lower-cased) Keras loss name or alias, or None."""
    key = KERAS_ALIASES.get(name, name)
    return key if key in KERAS_LOSSES else None


def keras_function(key: str) -> Callable:
    """Keras' own function of loss ``key`` (a :data:`KERAS_LOSSES` key), from ``keras`` (Keras 3, or Keras 2
    under TensorFlow 2.15) or else tf-keras; a loss that Keras does not know (dice, tversky, circle and ctc
    are Keras 3's) is refused with the version installed."""
    try:
        import keras
    except ImportError:
        try:
            import tf_keras as keras
        except ImportError:
            raise ImportError(f"{terms.setting('loss', key)} is computed by Keras: install it "
                              "(pip install 'pyimportance[keras]')") from None
    try:
        return keras.losses.get(key)
    except ValueError:
        version = getattr(keras, "__version__", "unknown")
        raise ValueError(
            f"{terms.setting('loss', key)} is computed by Keras, but the Keras installed ({keras.__name__} "
            f"{version}) does not know it: it needs a newer Keras (Keras 3 comes with TensorFlow 2.16 or later), "
            "or pass another loss"
        ) from None


def keras_object_key(loss) -> str | None:
    """The :data:`KERAS_LOSSES` key of a Keras loss object wrapping one of those losses
    (``keras.losses.Huber(delta=2.0)``), or None."""
    function = getattr(loss, "fn", None)
    if not callable(getattr(loss, "call", None)):
        return None
    return keras_loss_key(str(getattr(function, "__name__", "")).lower())


def as_numpy(value) -> np.ndarray:
    """A Keras result (a tensor of any backend) as a float64 array."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    elif not isinstance(value, np.ndarray) and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def _columns(y: np.ndarray) -> np.ndarray:
    return y.reshape(-1, 1) if y.ndim == 1 else y.reshape(y.shape[0], -1)


def _targets(y_true: np.ndarray, y_pred: np.ndarray, one_hot: bool) -> np.ndarray:
    """``y_true`` as Keras takes it next to ``y_pred`` (the model's shape): class labels made one-hot where
    Keras wants one-hot, values of the predictions' size in their shape, other targets (labels) as given."""
    if y_true.size == y_pred.size:
        return y_true.reshape(y_pred.shape)
    if one_hot:
        return np.eye(y_pred.shape[-1])[y_true.astype(np.intp)].reshape(y_pred.shape)
    return y_true


def row_values(function: Callable, key: str) -> KerasRows:
    """Keras' ``function(y_true, y_pred)`` of loss ``key`` as (n, m) row-wise values (m: the columns of an
    element-wise loss, the steps of a sequence output, else 1). The settings (``from_logits``) are the
    function's own; ``y_pred`` comes in the model's output shape."""
    how = KERAS_LOSSES[key]
    return KerasRows(function, how.values == "column", how.one_hot)


@dataclass(frozen=True)
class KerasRows:
    """A Keras loss function (or a loss object's ``call``) as (n, m) row-wise values; a class rather than a
    closure, so that executors can pickle it."""

    function: Callable
    element_wise: bool  # asked per column: one value per column
    one_hot: bool  # class labels are made one-hot for Keras

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, from_logits: bool = False) -> np.ndarray:
        if self.element_wise:  # each column as its own last axis: Keras' value per column
            values = self.function(_columns(y_true)[..., None], _columns(y_pred)[..., None])
        else:
            values = self.function(_targets(y_true, y_pred, self.one_hot), y_pred)
        return as_numpy(values).reshape(y_pred.shape[0], -1)


#: Settings of a Keras loss or metric object that do not change its per-row values, or that our own
#: computation reads (``from_logits``).
_PLAIN_SETTINGS = frozenset({"name", "reduction", "dtype", "fn", "from_logits"})
#: Settings whose default our table computes alike; another value is computed by Keras.
_DEFAULT_SETTINGS = {"label_smoothing": 0.0, "ignore_class": None, "axis": -1, "threshold": 0.5}


def keras_object_role(loss) -> str | None:
    """"loss" for a Keras loss object, "metric" for a Keras metric object (Keras 3 or tf-keras), else None."""
    for klass in type(loss).__mro__:
        if (klass.__module__ or "").split(".")[0] in ("keras", "tf_keras") and klass.__name__ in ("Loss", "Metric"):
            return klass.__name__.lower()
    return None


def object_settings(loss) -> dict:
    """A Keras loss or metric object's settings: its config and its function's keyword arguments."""
    settings = dict(loss.get_config()) if hasattr(loss, "get_config") else {}
    settings.update(getattr(loss, "_fn_kwargs", None) or {})
    return settings


def changed_settings(loss) -> dict:
    """The settings of a Keras object that change its values (beyond ``from_logits``): any but their defaults
    (Keras' function's own defaults, else :data:`_DEFAULT_SETTINGS`); a setting of unknown default counts."""
    defaults = dict(_DEFAULT_SETTINGS)
    with contextlib.suppress(TypeError, ValueError):
        defaults.update({name: parameter.default for name, parameter in
                         inspect.signature(getattr(loss, "fn", None)).parameters.items()
                         if parameter.default is not inspect.Parameter.empty})
    unknown = object()
    return {key: value for key, value in object_settings(loss).items()
            if key not in _PLAIN_SETTINGS and not _same(value, defaults.get(key, unknown))}


def _same(value, default) -> bool:
    try:
        return bool(value == default)
    except (TypeError, ValueError):  # an array-valued setting (alpha per class): not a default we know
        return False


def object_rows(loss, element_wise: bool, one_hot: bool) -> Callable[..., np.ndarray]:
    """A Keras loss object's per-sample values (its ``call``, with all its settings) as (n, m) row-wise values;
    with ``ignore_class``, the mean over each row's labels not ignored (n, 1)."""
    ignored = object_settings(loss).get("ignore_class")
    rows = KerasRows(loss.call, element_wise, one_hot)
    return rows if ignored is None else CountedRows(rows, ignored)


@dataclass(frozen=True)
class IgnoredCounts:
    """Labels per row that are not ``ignored`` (Keras' ``ignore_class``)."""

    ignored: float

    def __call__(self, y_true: np.ndarray) -> np.ndarray:
        return (_columns(y_true) != self.ignored).sum(axis=1)


@dataclass(frozen=True)
class CountedRows:
    """Each row's mean over its labels not ``ignored`` (n, 1), from Keras' values per label."""

    rows: KerasRows
    ignored: float

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, from_logits: bool = False) -> np.ndarray:
        values = np.where(_columns(y_true) != self.ignored, self.rows(y_true, y_pred), 0.0)
        return (values.sum(axis=1) / np.maximum(IgnoredCounts(self.ignored)(y_true), 1))[:, None]


@dataclass(frozen=True)
class ObjectRowValues:
    """A Keras loss object pyimportance knows nothing of (a subclass of ``keras.losses.Loss``, a wrapped
    function): the mean of each row's values from ``call`` where Keras gives one per sample, else the
    object's one number."""

    loss: Any

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray):
        found = as_numpy(self.loss.call(_targets(y_true, y_pred, one_hot=False), y_pred))
        if found.ndim >= 1 and found.shape[0] == y_pred.shape[0]:
            return found.reshape(y_pred.shape[0], -1).mean(axis=1)
        return as_numpy(self.loss(y_true, y_pred))


def described(key: str, settings: dict) -> str:
    """A loss's name with its settings: ``categorical_crossentropy (label_smoothing=0.1)``."""
    parts = ["from logits"] if settings.get("from_logits") else []
    parts += [f"{name}={value}" for name, value in settings.items() if name != "from_logits"]
    return key + (f" ({', '.join(parts)})" if parts else "")
