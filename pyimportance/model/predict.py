"""Turning any model into a fast batched predict function.

Keras models (Keras 3 and tf-keras, on the TensorFlow backend) skip ``model.predict()``'s
per-call overhead: their forward pass is compiled once with ``tf.function`` (optionally XLA)
at one fixed batch shape, and every call is padded to it, so the graph is traced once.
Objects with a ``.predict`` method and plain callables are called as they are.

What a model must satisfy: it is *row-wise* (a row's prediction depends on that row only, not
on the other rows of the call: no statistics over the batch, no stateful layers) and
deterministic. The engine packs rows of many perturbed copies into each call, so a model that
breaks this would give numbers that change with ``batch_size``. Stateful Keras layers are
refused up front and :func:`check_row_wise` compares a few rows predicted alone with the same
rows predicted among others.
"""

from __future__ import annotations

import sys
import threading
import warnings
import weakref
from collections.abc import Callable, Sequence

import numpy as np

from . import terms

# XLA compilation costs about a second; it only pays off for many rows.
XLA_MIN_ROWS = 50_000
# A one-row batch runs other (matrix-vector) kernels that round differently; compiled Keras
# forwards always see at least this many rows.
MIN_COMPILED_ROWS = 2
# Rows predicted alone by the row-wise check, and its tolerance (relative to the predictions' scale):
# float32 rounding differs by ~1e-7; a model that reads other rows of the call differs by far more.
_ROW_CHECK_ROWS = 3
_ROW_CHECK_TOLERANCE = 1e-4


class ModelOutputError(ValueError):
    """The model returned something that is not one finite prediction row per input row."""


class NotRowWiseError(ValueError):
    """The model's prediction for a row depends on the other rows of the call (or varies between calls)."""


def _keras_flavour(model) -> str | None:
    """'keras' (Keras 3), 'tf_keras' (Keras 2) or None, without importing either package."""
    keras3 = sys.modules.get("keras")
    if keras3 is not None and isinstance(model, getattr(keras3, "Model", ())):
        return "keras"
    tf_keras = sys.modules.get("tf_keras")
    if tf_keras is not None and isinstance(model, getattr(tf_keras, "Model", ())):
        return "tf_keras"
    return None


def is_keras_model(model) -> bool:
    return _keras_flavour(model) is not None


def _uses_tensorflow(flavour: str) -> bool:
    if flavour == "tf_keras":
        return True
    return sys.modules["keras"].backend.backend() == "tensorflow"


def keras_inputs(model) -> list[tuple[str, tuple]] | None:
    """``(name, shape)`` of each input of a Keras model, e.g. ``[("seq", (None, 30, 20))]``; None if unknown.

    Names are the keys of a model built on a dict of inputs, else the names of its ``Input`` layers.
    """
    if _keras_flavour(model) is None:
        return None
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    structure = getattr(model, "_inputs_struct", None)
    if isinstance(structure, dict):
        return [(str(key), tuple(tensor.shape)) for key, tensor in structure.items()]
    legacy_names = getattr(model, "input_names", None)  # tf-keras
    found = []
    for position, tensor in enumerate(inputs):
        history = getattr(tensor, "_keras_history", None)
        operation = getattr(history, "operation", None) or getattr(history, "layer", None)
        name = getattr(operation, "name", None)
        if legacy_names and len(legacy_names) == len(inputs):
            name = legacy_names[position]
        found.append((str(name or getattr(tensor, "name", None) or f"input{position + 1}"), tuple(tensor.shape)))
    return found


def keras_takes_dict(model) -> bool:
    """Whether a Keras model was built on a dict of inputs (and must be called with one)."""
    return isinstance(getattr(model, "_inputs_struct", None), dict)


def check_model_input(model, shapes: Sequence[tuple[int, ...]], names: Sequence[str] | None = None) -> None:
    """Raise ``ValueError`` if a Keras ``model`` cannot take inputs of these shapes."""
    expected = keras_inputs(model)
    if expected is None:
        return
    if shapes and isinstance(shapes[0], (int, np.integer)):  # one shape given as a tuple of ints
        shapes = [tuple(shapes)]
    x_name = terms.arg("X")
    if len(expected) != len(shapes):
        raise ValueError(
            f"{x_name} does not fit the model: the model has {len(expected)} inputs "
            f"{terms.vector([name for name, _ in expected])}, got {len(shapes)} array(s); pass a list (or a "
            f"{terms.either('dict', 'named list')} by input name) with one array per input"
        )
    for position, ((name, want), shape) in enumerate(zip(expected, shapes)):
        given = (None,) + tuple(shape[1:])
        fits = len(want) == len(given) and all(e is None or e == g for e, g in zip(want[1:], given[1:]))
        if not fits:
            which = x_name if len(shapes) == 1 else terms.element(x_name, names[position] if names else name)
            raise ValueError(
                f"{which} does not fit the model: the model expects input of {_model_shape(want)}, "
                f"got {which} of {terms.shape(shape)}"
            )


def _model_shape(dims) -> str:
    """A Keras input shape with its open batch size: ``shape (None, 5, 3)``; in R ``dim c(NA, 5, 3)``."""
    shown = [terms.either("None", "NA") if d is None else str(d) for d in dims]
    return terms.either(f"shape ({', '.join(shown)})", f"dim c({', '.join(shown)})")


def check_not_stateful(model) -> None:
    """Refuse Keras models with stateful layers: their output depends on earlier calls and other rows."""
    if _keras_flavour(model) is None:
        return
    layers = getattr(model, "_flatten_layers", None)
    found = list(layers(include_self=False)) if callable(layers) else list(getattr(model, "layers", []))
    stateful = [layer.name for layer in found if getattr(layer, "stateful", False)]
    if stateful:
        raise NotRowWiseError(
            f"model has stateful layers {terms.vector(stateful)}: their output depends on earlier calls and on the "
            "other rows of a batch, so importance cannot be measured row by row; rebuild the model with "
            + terms.either("stateful=False (same weights: model_2.set_weights(model.get_weights()))",
                           "stateful = FALSE (same weights: model_2$set_weights(model$get_weights()))")
        )


def output_names(model) -> list[str] | None:
    """Names of a Keras model's output heads, or None."""
    names = getattr(model, "output_names", None)
    if names is None:
        return None
    try:
        return [str(name) for name in names]
    except TypeError:
        return None


def as_prediction_heads(output, n_rows: int) -> list[np.ndarray]:
    """Model output (array, tensor, Series, list/dict of them) as finite float64 arrays, one per head."""
    if isinstance(output, dict):
        output = [output[key] for key in sorted(output)]
    if isinstance(output, (list, tuple)) and output and all(hasattr(part, "shape") for part in output):
        return [as_prediction_heads(part, n_rows)[0] for part in output]
    if hasattr(output, "index") and hasattr(output, "to_numpy"):  # a pandas Series or DataFrame
        index = output.index
        if len(index) == n_rows and not np.array_equal(np.asarray(index), np.arange(n_rows)):
            raise ModelOutputError(
                "model returned a pandas object whose index is not 0..n-1 in order, so its rows cannot be matched "
                "to the rows it was given; return an array (e.g. .to_numpy()) in the input's row order"
            )
        output = output.to_numpy()
    if hasattr(output, "numpy") and not isinstance(output, np.ndarray):
        output = output.numpy()
    try:
        matrix = np.asarray(output, dtype=np.float64)
    except (TypeError, ValueError):
        dtype = np.asarray(output).dtype if isinstance(output, (list, tuple, np.ndarray)) else None
        kind = f" of {terms.type_word(dtype)}" if dtype is not None else ""
        raise ModelOutputError(f"model must return numeric predictions, got {type(output).__name__}{kind}") from None
    if matrix.ndim == 0 or matrix.shape[0] != n_rows:
        got = f"output of {terms.shape(matrix.shape)}" if matrix.ndim else f"a single value {terms.literal(output)}"
        raise ModelOutputError(f"model must return one prediction row per input row ({n_rows}), got {got}")
    if not np.isfinite(matrix).all():
        bad = int(np.count_nonzero(~np.isfinite(matrix)))
        raise ModelOutputError(
            f"model returned NaN or infinite predictions ({bad} of {matrix.size} values); "
            "the model must return finite numbers"
        )
    return [matrix]


def as_prediction_matrix(output, n_rows: int) -> np.ndarray:
    """Model output as one ``(n_rows, n_columns)`` matrix: every head's values side by side."""
    heads = as_prediction_heads(output, n_rows)
    return np.concatenate([head.reshape(n_rows, -1) for head in heads], axis=1)


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


def _map_arrays(arguments, function):
    if isinstance(arguments, dict):
        return {key: function(value) for key, value in arguments.items()}
    if isinstance(arguments, list):
        return [function(value) for value in arguments]
    return function(arguments)


class PredictFunction:
    """A model as ``f(arguments) -> (rows, n_columns)`` float64 predictions.

    ``arguments`` is what the model takes: one array, a list, or a dict of arrays (see
    :meth:`pyimportance.inputs.Inputs.call_arguments`). The heads of a several-output model
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
        self._forward: Callable = self._call_generic
        self._compiled = False
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
            output = _slice(output, rows)
        else:
            output = self._forward(arguments)
        return self._as_matrix(output, rows)

    def _as_matrix(self, output, rows: int) -> np.ndarray:
        heads = as_prediction_heads(output, rows)
        shapes = [head.shape[1:] for head in heads]
        if self.head_shapes is None:
            self.head_shapes = list(zip(self._head_names(output, len(heads)), shapes))
        elif shapes != [shape for _, shape in self.head_shapes]:
            raise ModelOutputError(
                f"model returned output of per-row shape {shapes if len(shapes) > 1 else shapes[0]} in this call but "
                f"{[s for _, s in self.head_shapes] if len(shapes) > 1 else self.head_shapes[0][1]} in an earlier "
                "one; the model must return the same shape for every call"
            )
        return np.concatenate([head.reshape(rows, -1) for head in heads], axis=1)

    def _head_names(self, output, count: int) -> list[str]:
        if isinstance(output, dict):
            return [str(key) for key in sorted(output)]
        if count == 1:
            return ["output"]
        names = output_names(self._model) if _keras_flavour(self._model) else None
        if names and len(names) == count:
            return names
        return [f"output{i + 1}" for i in range(count)]


def _slice(output, rows: int):
    if isinstance(output, dict):
        return {key: np.asarray(value)[:rows] for key, value in output.items()}
    if isinstance(output, (list, tuple)):
        return [np.asarray(part)[:rows] for part in output]
    return np.asarray(output)[:rows]


def check_row_wise(predict: PredictFunction, arguments_for: Callable[[np.ndarray], object],
                   baseline: np.ndarray) -> None:
    """Raise :class:`NotRowWiseError` unless a few rows predicted alone match their predictions among others.

    ``arguments_for(rows)`` builds the model's arguments for those rows of the evaluation data;
    ``baseline`` holds the predictions of all rows from the baseline's calls.
    """
    n_rows = baseline.shape[0]
    if n_rows <= 1:
        return
    rows = np.arange(min(_ROW_CHECK_ROWS, n_rows - 1))
    alone = predict(arguments_for(rows))
    scale = float(np.max(np.abs(baseline))) + 1e-12
    difference = float(np.max(np.abs(alone - baseline[rows])))
    if difference > _ROW_CHECK_TOLERANCE * scale:
        raise NotRowWiseError(
            f"model is not row-wise: the predictions for the same rows changed by up to {difference:.4g} "
            f"(predictions up to {scale:.4g}) when predicted with other rows of the data. pyimportance packs rows "
            "of many perturbed copies into each model call, so a row's prediction must depend on that row only "
            "(no statistics over the batch such as batch normalisation in training mode, no stateful layers) and "
            "be the same in every call (no dropout at prediction time)"
        )
