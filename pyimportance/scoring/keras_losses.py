"""Keras' own losses, by name (``"huber"``, ``"log_cosh"``, ``"mape"``, ...) or as loss objects, computed by Keras.

Our table (:mod:`.losses`) computes mse, rmse, mae, the cross-entropies and accuracy itself;
every other loss Keras knows by name is computed by Keras' own function, on the float64
predictions, so its numbers are Keras'. Keras returns one value per row (the mean over the
last axis): *element-wise* losses (huber, log_cosh, ...) are asked for one value per column
instead (each column alone), so a head's columns can be scored apart (``per_output``) and their
mean is Keras' row value. Row values make the data-level intervals. Losses Keras computes over
the whole batch (dice, tversky, circle, ctc) are one number for all rows, like a custom loss.

Keras is imported only when such a loss is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


def _targets(y_true: np.ndarray, y_pred: np.ndarray, how: KerasLossName) -> np.ndarray:
    """``y_true`` as Keras takes it: one-hot rows for class labels where Keras wants one-hot, else columns."""
    if how.one_hot and y_true.ndim == 1:
        return np.eye(y_pred.shape[1])[y_true.astype(np.intp)]
    return y_true.reshape(-1, 1) if y_true.ndim == 1 else y_true.reshape(y_true.shape[0], -1)


def row_values(function: Callable, key: str) -> Callable[..., np.ndarray]:
    """Keras' ``function(y_true, y_pred)`` of loss ``key`` as (n, m) row-wise values (m: the columns of an
    element-wise loss, else 1). The settings (``from_logits``) are the function's own."""
    how = KERAS_LOSSES[key]

    def rows(y_true: np.ndarray, y_pred: np.ndarray, from_logits: bool = False) -> np.ndarray:
        target = _targets(y_true, y_pred, how)
        if how.values == "column":  # each column as its own last axis: Keras' value per column
            return as_numpy(function(target[..., None], y_pred[..., None])).reshape(y_pred.shape)
        return as_numpy(function(target, y_pred)).reshape(-1, 1)

    return rows
