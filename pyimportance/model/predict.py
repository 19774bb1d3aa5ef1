"""Turning any model into a fast batched predict function.

Keras models (Keras 3 on the TensorFlow backend, Keras 2: tf-keras, or ``keras`` 2.x) skip ``model.predict()``'s
per-call overhead: their forward pass is compiled once with ``tf.function`` (optionally XLA)
at one fixed batch shape, and every call is padded to it, so the graph is traced once.
Objects with a ``.predict`` method and plain callables are called as they are.

What a model must satisfy: it is *row-wise* (a row's prediction depends on that row only, not
on the other rows of the call: no statistics over the batch, no stateful layers) and
deterministic. The engine packs rows of many perturbed copies into each call, so a model that
breaks this would give numbers that change with ``batch_size``. Stateful Keras layers are
refused up front (:func:`.keras.check_not_stateful`); :func:`.row_wise.check_repeatable`
predicts the first row block twice and compares them (to rounding), and :func:`.row_wise.check_row_wise`
compares a few rows predicted alone with the same rows predicted among others.
"""

from __future__ import annotations

import threading
import warnings
import weakref
from collections.abc import Callable

import numpy as np

from ..errors import ModelOutputError
from .keras import keras_flavour, output_names, uses_tensorflow
from .outputs import as_prediction_heads, first_rows

# XLA compilation costs about a second; it only pays off for many rows.
XLA_MIN_ROWS = 50_000
# A one-row batch runs other (matrix-vector) kernels that round differently; compiled Keras
# forwards always see at least this many rows.
MIN_COMPILED_ROWS = 2


def check_model(model) -> None:
    """Refuse what cannot be called as a model: a Keras model, an object with ``.predict`` or a callable."""
    if not (callable(model) or callable(getattr(model, "predict", None))):
        raise TypeError(
            "model must be a Keras model, an object with a .predict(X) method or a callable "
            f"X -> predictions, got {type(model).__name__}"
        )


# Compiled forward passes per model (weakly keyed: a model that is freed takes its own along),
# so repeated runs on one model trace and compile it once rather than every time.
_COMPILED_FORWARDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_COMPILED_LOCK = threading.Lock()


def forget_compiled(model) -> None:
    """Drop the model's compiled forward passes, so the next run traces it again (after a fix to its layers)."""
    with _COMPILED_LOCK:
        try:
            _COMPILED_FORWARDS.pop(model, None)
        except TypeError:  # not weakly referenceable: never kept
            pass


def _compile_forward(model_ref: weakref.ref, use_xla: bool) -> Callable:
    """``tf.function`` of the model's inference pass (XLA if asked, falling back without it)."""
    import tensorflow as tf

    def forward(x):
        output = model_ref()(x, training=False)
        if isinstance(output, dict):  # named outputs keep their names (the heads are known by them)
            return {str(key): tf.nest.flatten(value)[0] for key, value in output.items()}
        return tf.nest.flatten(output)

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


def _map_arrays(arguments, function):
    """``function`` applied to each array of a model's arguments (one array, a list or a dict)."""
    if isinstance(arguments, dict):
        return {key: function(value) for key, value in arguments.items()}
    if isinstance(arguments, list):
        return [function(value) for value in arguments]
    return function(arguments)


class PredictFunction:
    """A model as ``f(arguments) -> (rows, n_columns)`` float64 predictions.

    ``arguments`` is what the model takes: one array, a list, or a dict of arrays (see
    :meth:`pyimportance.data.inputs.Inputs.call_arguments`). The heads of a several-output model
    are concatenated column-wise; :attr:`head_shapes` records each head's name and per-row shape.

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

    def __init__(self, model, *, batch_rows: int, jit_compile="auto", total_rows: int = 0,
                 probabilities: str | None = None):
        self.batch_rows = batch_rows
        # Objects with .predict_proba (scikit-learn classifiers) are asked for probabilities under
        # probability losses, as scikit-learn's own scorers do: "all" columns, or the "positive"
        # class's column for a binary loss. .predict would give hard labels.
        self.probabilities = probabilities if callable(getattr(model, "predict_proba", None)) else None
        self.dtype = np.float64
        # True when calls run compiled TensorFlow, which releases the GIL: the caller may then
        # predict one chunk on a worker thread while it builds the next.
        self.releases_gil = False
        self.uses_xla = False
        self.head_shapes: list[tuple[str, tuple[int, ...]]] | None = None
        # Other names the heads are known by (the output layers' names): alias -> head name.
        self.head_aliases: dict[str, str] = {}
        self._forward: Callable = self._call_generic
        self._compiled = False
        self._model = model
        flavour = keras_flavour(model)
        if flavour is not None:
            self.dtype = np.dtype(getattr(model, "compute_dtype", None) or "float32")
            if self.dtype.kind != "f":
                self.dtype = np.dtype(np.float32)
            if uses_tensorflow(flavour):
                use_xla = total_rows >= XLA_MIN_ROWS if jit_compile == "auto" else bool(jit_compile)
                self.uses_xla = use_xla
                self._forward = self._compile_tensorflow(model, use_xla)
                self.releases_gil = True
                self._compiled = True
            else:
                self._forward = model.predict_on_batch
                self._compiled = True

    @property
    def model(self):
        return self._model

    @property
    def pads(self) -> bool:
        """Whether calls shorter than ``batch_rows`` are padded to it (compiled Keras forwards)."""
        return self._compiled

    def _call_generic(self, arguments):
        model = self._model
        if self.probabilities is not None:
            output = np.asarray(model.predict_proba(arguments))
            if self.probabilities == "positive" and output.ndim == 2 and output.shape[1] == 2:
                return output[:, 1]
            return output
        if hasattr(model, "predict") and callable(model.predict):
            return model.predict(arguments)
        return model(arguments)

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

    def __call__(self, arguments) -> np.ndarray:
        first = arguments if not isinstance(arguments, (list, dict)) else next(iter(
            arguments.values() if isinstance(arguments, dict) else arguments))
        rows = first.shape[0]
        padded_rows = max(self.batch_rows, MIN_COMPILED_ROWS)
        if self._compiled and rows < padded_rows:
            output = self._forward(_map_arrays(arguments, lambda a: pad_rows(a, padded_rows)))
            output = first_rows(output, rows)
        else:
            output = self._forward(arguments)
        return self._as_matrix(output, rows)

    def _as_matrix(self, output, rows: int) -> np.ndarray:
        heads = as_prediction_heads(output, rows)
        shapes = [head.shape[1:] for head in heads]
        if self.head_shapes is None:
            self.head_shapes = list(zip(self._head_names(output, len(heads)), shapes))
            self.head_aliases = self._aliases([name for name, _ in self.head_shapes])
        elif shapes != [shape for _, shape in self.head_shapes]:
            raise ModelOutputError(
                f"model returned output of per-row shape {shapes if len(shapes) > 1 else shapes[0]} in this call but "
                f"{[s for _, s in self.head_shapes] if len(shapes) > 1 else self.head_shapes[0][1]} in an earlier "
                "one; the model must return the same shape for every call"
            )
        return np.concatenate([head.reshape(rows, -1) for head in heads], axis=1)

    def _head_names(self, output, count: int) -> list[str]:
        """The heads' names: a dict output's keys (sorted, as Keras flattens them), "output" for one head,
        else the model's output names."""
        if isinstance(output, dict):
            return [str(key) for key in sorted(output)]
        if count == 1:
            return ["output"]
        names = output_names(self._model) if keras_flavour(self._model) else None
        if names and len(names) == count:
            return names
        return [f"output{i + 1}" for i in range(count)]

    def _aliases(self, names: list[str]) -> dict[str, str]:
        """The output layers' names of a Keras model as other names of its heads (e.g. "forecast" for "output")."""
        layers = output_names(self._model) if keras_flavour(self._model) else None
        if not layers or len(layers) != len(names):
            return {}
        return {layer: name for layer, name in zip(layers, names) if layer != name and layer not in names}
