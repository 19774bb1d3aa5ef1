"""Turning any model into a fast batched predict function.

Keras models (Keras 3 and tf-keras, on the TensorFlow backend) skip ``model.predict()``'s
per-call overhead: their forward pass is compiled once with ``tf.function`` (optionally XLA)
at one fixed batch shape, and every call is padded to it, so the graph is traced once and
a row's prediction never depends on which other rows share its call. Objects with a
``.predict`` method and plain callables are called as they are.
"""

from __future__ import annotations

import sys
import threading
import warnings
import weakref
from collections.abc import Callable

import numpy as np

from . import terms

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
            f"{terms.arg('X')} does not fit the model: the model expects input of shape {expected}, "
            f"got {terms.arg('X')} of shape {tuple(data_shape)}"
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


# Compiled forward passes per model (weakly keyed: a model that is freed takes its own along),
# so repeated runs on one model trace and compile it once rather than every time.
_COMPILED_FORWARDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_COMPILED_LOCK = threading.Lock()


def _compile_forward(model_ref: weakref.ref, use_xla: bool) -> Callable:
    """``tf.function`` of the model's inference pass (XLA if asked, falling back without it)."""
    import tensorflow as tf

    def forward(x):
        return tf.nest.flatten(model_ref()(x, training=False))

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


def pad_rows(array: np.ndarray, rows: int) -> np.ndarray:
    """``array`` with zero rows appended up to ``rows`` rows (itself if it has enough)."""
    if array.shape[0] >= rows:
        return array
    padded = np.zeros((rows,) + array.shape[1:], dtype=array.dtype)
    padded[: array.shape[0]] = array
    return padded


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
        self.uses_xla = False
        self._forward: Callable = self._call_generic
        self._model = model
        flavour = _keras_flavour(model)
        if flavour is not None:
            self.dtype = np.dtype(getattr(model, "compute_dtype", None) or "float32")
            if self.dtype.kind != "f":
                self.dtype = np.dtype(np.float32)
            if _uses_tensorflow(flavour):
                use_xla = total_rows >= XLA_MIN_ROWS if jit_compile == "auto" else bool(jit_compile)
                self.uses_xla = use_xla
                self._forward = self._compile_tensorflow(model, use_xla)
                self.releases_gil = True
            else:
                self._forward = model.predict_on_batch

    def prefix_reuse(self, values: np.ndarray) -> PrefixReuse | None:
        """A :class:`PrefixReuse` for ``values`` where the model allows it, else None."""
        if not self.releases_gil or not PrefixReuse.supports(self._model, values.shape):
            return None
        return PrefixReuse(self._model, self, values)

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
        """The model's compiled forward pass, built once per model and kept for later runs."""
        with _COMPILED_LOCK:  # worker threads (Dask, thread pools) may build predictors at once
            try:
                compiled = _COMPILED_FORWARDS.setdefault(model, {})
            except TypeError:  # not weakly referenceable: compile for this run only
                compiled = {}
            if use_xla not in compiled:
                compiled[use_xla] = _compile_forward(weakref.ref(model), use_xla)
            return compiled[use_xla]

    def __call__(self, chunk: np.ndarray) -> np.ndarray:
        rows = chunk.shape[0]
        # Only compiled Keras forwards are padded to their fixed batch shape; `!=`, not `is not`:
        # each access to a bound method creates a new object.
        padded_rows = max(self.batch_rows, MIN_COMPILED_ROWS)
        if self._forward != self._call_generic and rows < padded_rows:
            return as_prediction_matrix(self._slice(self._forward(pad_rows(chunk, padded_rows)), rows), rows)
        return as_prediction_matrix(self._forward(chunk), rows)

    @staticmethod
    def _slice(output, rows: int):
        if isinstance(output, (list, tuple)):
            return [np.asarray(part)[:rows] for part in output]
        return np.asarray(output)[:rows]


# Prefix reuse pays off only when many rows share a start step; it costs a few compilations.
PREFIX_MIN_ROWS = 100_000
_PREFIX_STARTS = 6  # default; the runner picks how many from measured call times


class PrefixReuse:
    """Predictions that skip the unperturbed first time steps of a recurrent first layer.

    For a Keras ``Sequential`` model whose first layer is a plain one-way LSTM or GRU that
    returns only its last output, rows whose values before time step ``s`` equal X's have the
    layer state of the unperturbed rows after step ``s - 1``. That state is computed once per
    sample, and such rows only run steps ``s..T-1``: by="timestep" and by="cell" then cost about
    half as much. ``s`` is rounded down to one of a few start steps, each compiled once. The
    first chunk from each start step is also predicted in full and compared bit for bit; on any
    difference the shortcut is dropped for the rest of the run, so results never change.
    """

    def __init__(self, model, predict: PredictFunction, values: np.ndarray):
        import tensorflow as tf

        self._predict = predict
        self._values = values
        layer = model.layers[0]
        self._twin = type(layer).from_config({**layer.get_config(), "return_state": True})
        self._twin.build((None, None, values.shape[2]))
        self._twin.set_weights(layer.get_weights())
        rest = model.layers[1:]
        twin = self._twin

        def states(x):
            return twin(x, training=False)[1:]

        def suffix(x, state):
            output = twin(x, initial_state=list(state), training=False)[0]
            for later in rest:
                output = later(output, training=False)
            return tf.nest.flatten(output)

        self._states_fn = tf.function(states, jit_compile=predict.uses_xla)
        self._suffix_fn = tf.function(suffix, jit_compile=predict.uses_xla)
        self._starts = self.starts_for(values.shape[1], _PREFIX_STARTS)
        self._cached_start: int | None = None
        self._cached_states: list[np.ndarray] = []
        self._verified: set[int] = set()
        self.active = True

    @staticmethod
    def supports(model, values_shape: tuple[int, ...]) -> bool:
        """Whether ``model`` has the structure the shortcut is exact for."""
        keras3 = sys.modules.get("keras")
        if keras3 is None or _keras_flavour(model) != "keras" or not isinstance(model, keras3.Sequential):
            return False
        if len(values_shape) != 3 or values_shape[1] < 2 or not model.layers:
            return False
        layer = model.layers[0]
        if type(layer) not in (keras3.layers.LSTM, keras3.layers.GRU):
            return False
        config = layer.get_config()
        flags = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")
        return not any(config.get(flag) for flag in flags)

    @staticmethod
    def starts_for(n_timesteps: int, n_starts: int) -> list[int]:
        """``n_starts`` start steps spread evenly over ``n_timesteps`` (0 included)."""
        return sorted({(k * n_timesteps) // n_starts for k in range(n_starts)})

    def use_starts(self, starts: list[int]) -> None:
        """Compile for these start steps (0 included) rather than the default ones."""
        self._starts = sorted(set(starts) | {0})

    def start_for(self, step: int, starts: list[int] | None = None) -> int:
        """The start step used for rows unperturbed before ``step`` (0: run in full)."""
        if not self.active:
            return 0
        return max(start for start in (starts or self._starts) if start <= step)

    def _states(self, start: int) -> list[np.ndarray]:
        """Layer state of every sample after step ``start - 1`` (unperturbed), cached per start."""
        if self._cached_start != start:
            batch = self._predict.batch_rows
            parts = []
            for first in range(0, self._values.shape[0], batch):
                block = np.asarray(self._values[first : first + batch, :start], dtype=self._predict.dtype)
                rows = block.shape[0]
                parts.append([np.asarray(state)[:rows] for state in self._states_fn(pad_rows(block, batch))])
            self._cached_states = [np.concatenate(kind) for kind in zip(*parts)]
            self._cached_start = start
        return self._cached_states

    def __call__(self, chunk: np.ndarray, step: int, sample_rows: np.ndarray) -> np.ndarray:
        """Predictions for ``chunk``, whose rows are samples ``sample_rows`` unperturbed before ``step``."""
        start = self.start_for(step)
        if start == 0:
            return self._predict(chunk)
        rows, batch = chunk.shape[0], self._predict.batch_rows
        suffix = pad_rows(chunk[:, start:], batch)
        state = [pad_rows(kind[sample_rows], batch) for kind in self._states(start)]
        try:
            fast = as_prediction_matrix(PredictFunction._slice(self._suffix_fn(suffix, state), rows), rows)
        except Exception:  # e.g. XLA cannot compile it: the full forward pass decides
            self.active = False
            return self._predict(chunk)
        if start not in self._verified:
            full = self._predict(chunk)
            if not np.array_equal(fast, full):
                self.active = False
                return full
            self._verified.add(start)
        return fast
