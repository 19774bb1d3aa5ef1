"""Turning any model into a fast batched predict function.

Keras models (Keras 3 and tf-keras, on the TensorFlow backend) skip ``model.predict()``'s
per-call overhead: their forward pass is compiled once with ``tf.function`` (optionally XLA)
at one fixed batch shape, and every call is padded to it, so the graph is traced once and
a row's prediction never depends on which other rows share its call. Objects with a
``.predict`` method and plain callables are called as they are.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable

import numpy as np

# XLA compilation costs about a second; it only pays off for many rows.
XLA_MIN_ROWS = 50_000
# A one-row batch runs other (matrix-vector) kernels that round differently; compiled Keras
# forwards always see at least this many rows, so batch_size=1 gives the same numbers too.
MIN_COMPILED_ROWS = 2


class ModelOutputError(ValueError):
    """The model returned something that is not one finite prediction row per input row."""


def _keras_flavour(model) -> str | None:
    """'keras' (Keras 3), 'tf_keras' (Keras 2) or None, without importing either package."""
    keras3 = sys.modules.get("keras")
    if keras3 is not None and isinstance(model, getattr(keras3, "Model", ())):
        return "keras"
    tf_keras = sys.modules.get("tf_keras")
    if tf_keras is not None and isinstance(model, getattr(tf_keras, "Model", ())):
        return "tf_keras"
    return None


def _uses_tensorflow(flavour: str) -> bool:
    if flavour == "tf_keras":
        return True
    return sys.modules["keras"].backend.backend() == "tensorflow"


def keras_input_shape(model) -> tuple | None:
    """The input shape a Keras model expects, e.g. ``(None, 30, 20)``, or None if unknown."""
    if _keras_flavour(model) is None:
        return None
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs or len(inputs) != 1:
        return None
    return tuple(inputs[0].shape)


def check_model_input(model, data_shape: tuple[int, ...]) -> None:
    """Raise ``ValueError`` if a Keras ``model`` cannot take X of shape ``data_shape``."""
    expected = keras_input_shape(model)
    if expected is None:
        return
    given = (None,) + tuple(data_shape[1:])
    fits = len(expected) == len(given) and all(e is None or e == g for e, g in zip(expected[1:], given[1:]))
    if not fits:
        raise ValueError(
            f"X does not fit the model: the model expects input of shape {expected}, "
            f"got X of shape {tuple(data_shape)}"
        )


def as_prediction_matrix(output, n_rows: int) -> np.ndarray:
    """Model output (array, tensor, list/dict of them) as a finite float64 ``(n_rows, n_outputs)``."""
    if isinstance(output, dict):
        output = [output[key] for key in sorted(output)]
    if isinstance(output, (list, tuple)) and output and not np.isscalar(output[0]):
        parts = [as_prediction_matrix(part, n_rows) for part in output]
        return np.concatenate(parts, axis=1)
    if hasattr(output, "numpy") and not isinstance(output, np.ndarray):
        output = output.numpy()
    try:
        matrix = np.asarray(output, dtype=np.float64)
    except (TypeError, ValueError):
        dtype = f" of dtype {output.dtype}" if hasattr(output, "dtype") else ""
        raise ModelOutputError(f"model must return numeric predictions, got {type(output).__name__}{dtype}") from None
    if matrix.ndim == 0 or matrix.shape[0] != n_rows:
        got = f"output of shape {matrix.shape}" if matrix.ndim else f"a single value {output!r}"
        raise ModelOutputError(f"model must return one prediction row per input row ({n_rows}), got {got}")
    matrix = matrix.reshape(n_rows, -1)
    if not np.isfinite(matrix).all():
        bad = int(np.count_nonzero(~np.isfinite(matrix)))
        raise ModelOutputError(
            f"model returned NaN or infinite predictions ({bad} of {matrix.size} values); "
            "the model must return finite numbers"
        )
    return matrix


class PredictFunction:
    """A model as ``f(X_chunk) -> (rows, n_outputs)`` float64 predictions.

    Parameters
    ----------
    model
        Keras model, object with ``.predict(X)``, or callable ``X -> predictions``.
    batch_rows
        Rows per call. Keras models are compiled for exactly this many rows and shorter
        chunks are padded to it.
    jit_compile
        Use XLA for Keras models on TensorFlow: True, False or "auto" (only for large work).
    total_rows
        Rows that will be predicted in all; decides "auto".
    """

    def __init__(self, model, *, batch_rows: int, jit_compile="auto", total_rows: int = 0):
        self.batch_rows = batch_rows
        self.dtype = np.float64
        # True when calls run compiled TensorFlow, which releases the GIL: the caller may then
        # predict one chunk on a worker thread while it builds the next.
        self.releases_gil = False
        self._forward: Callable = self._call_generic
        self._model = model
        flavour = _keras_flavour(model)
        if flavour is not None:
            self.dtype = np.dtype(getattr(model, "compute_dtype", None) or "float32")
            if self.dtype.kind != "f":
                self.dtype = np.dtype(np.float32)
            if _uses_tensorflow(flavour):
                use_xla = total_rows >= XLA_MIN_ROWS if jit_compile == "auto" else bool(jit_compile)
                self._forward = self._compile_tensorflow(model, use_xla)
                self.releases_gil = True
            else:
                self._forward = model.predict_on_batch

    @property
    def pads(self) -> bool:
        """Whether calls shorter than ``batch_rows`` are padded to it (compiled Keras forwards)."""
        return self._forward != self._call_generic

    def _call_generic(self, chunk: np.ndarray):
        model = self._model
        if hasattr(model, "predict") and callable(model.predict):
            return model.predict(chunk)
        return model(chunk)

    def _compile_tensorflow(self, model, use_xla: bool) -> Callable:
        import tensorflow as tf

        def forward(x):
            return tf.nest.flatten(model(x, training=False))

        plain = tf.function(forward)
        if not use_xla:
            return plain
        compiled = tf.function(forward, jit_compile=True)

        def forward_with_fallback(x):
            nonlocal compiled
            if compiled is None:
                return plain(x)
            try:
                return compiled(x)
            except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as error:
                warnings.warn(f"XLA compilation failed, using tf.function without XLA: {error}", stacklevel=2)
                compiled = None
                return plain(x)

        return forward_with_fallback

    def __call__(self, chunk: np.ndarray) -> np.ndarray:
        rows = chunk.shape[0]
        # Only compiled Keras forwards are padded to their fixed batch shape; `!=`, not `is not`:
        # each access to a bound method creates a new object.
        padded_rows = max(self.batch_rows, MIN_COMPILED_ROWS)
        if self._forward != self._call_generic and rows < padded_rows:
            padded = np.zeros((padded_rows,) + chunk.shape[1:], dtype=chunk.dtype)
            padded[:rows] = chunk
            return as_prediction_matrix(self._slice(self._forward(padded), rows), rows)
        return as_prediction_matrix(self._forward(chunk), rows)

    @staticmethod
    def _slice(output, rows: int):
        if isinstance(output, (list, tuple)):
            return [np.asarray(part)[:rows] for part in output]
        return np.asarray(output)[:rows]
