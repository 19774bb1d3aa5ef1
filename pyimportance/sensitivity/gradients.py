"""The model's gradients: one small function per backend, chosen once per model.

Keras 3 has no backend-neutral gradient, so each backend gets its own vector-Jacobian product:
``tf.GradientTape`` for Keras 3 on TensorFlow and for tf-keras, ``jax.vjp`` for Keras 3 on JAX and
``torch.autograd.grad`` for Keras 3 on torch. Each takes a batch of inputs (as the model takes them)
and ``m`` cotangents of the prediction matrix (the heads' columns side by side, as
:class:`pyimportance.model.predict.PredictFunction` concatenates them) and returns the predictions
and, per cotangent, the gradient of ``sum(cotangent * predictions)`` with respect to each input.

A model without gradients (a Python function, an object with ``.predict`` only, Keras on the
NumPy backend) is refused, naming :func:`pyimportance.perturbation_importance`, which needs none.
Integer inputs (the indices an ``Embedding`` layer reads) have no gradient and are refused as
well; integrating in the embedding space is not offered.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable

import numpy as np

from ..model.keras import keras_flavour, keras_input_dtypes

#: ``(arguments, cotangents) -> (predictions, gradients)``: ``arguments`` one array, a list or a dict of arrays
#: (model dtype); ``cotangents`` (m, rows, columns); ``predictions`` (rows, columns) float64; ``gradients`` a list
#: of m lists, one array per input (in the order of a list/dict's values), shaped as the input.
Vjps = Callable[[object, np.ndarray], tuple[np.ndarray, list[list[np.ndarray]]]]

_CHOSEN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def no_gradients_message(what: str) -> str:
    """Why a model is refused, and what to use instead."""
    return (f"sensitivity_importance needs the model's gradients, got {what}; pass a Keras model (Keras 3 on "
            "TensorFlow, JAX or torch, or tf-keras), or use perturbation_importance, which needs only predictions")


def backend_of(model) -> str:
    """'tensorflow', 'jax' or 'torch': the backend whose gradients the model takes; TypeError if it has none."""
    flavour = keras_flavour(model)
    if flavour is None:
        kind = "a function" if callable(model) and not hasattr(model, "predict") else \
            f"{type(model).__name__} (predictions only)"
        raise TypeError(no_gradients_message(kind))
    if flavour == "tf_keras":
        return "tensorflow"
    backend = sys.modules["keras"].backend.backend()
    if backend not in ("tensorflow", "jax", "torch"):
        raise TypeError(no_gradients_message(f"a Keras model on the {backend} backend (no gradients)"))
    return backend


def check_float_inputs(model, input_names) -> None:
    """Refuse a Keras model with integer inputs (an Embedding's indices): they have no gradient."""
    dtypes = keras_input_dtypes(model) or []
    integer = [name for name, dtype in zip(input_names or [f"input{i + 1}" for i in range(len(dtypes))], dtypes)
               if dtype is not None and not dtype.startswith(("float", "bfloat"))]
    if integer:
        raise ValueError(
            f"model input {', '.join(repr(name) for name in integer)} takes integers (e.g. an Embedding's indices), "
            "which have no gradient: sensitivity_importance refuses them (it does not integrate in the embedding "
            "space); use perturbation_importance for such inputs"
        )


def vjp_function(model) -> Vjps:
    """The model's vector-Jacobian products on its backend, built once per model."""
    backend = backend_of(model)
    with _LOCK:
        try:
            cached = _CHOSEN.get(model)
        except TypeError:  # not weakly referenceable: build for this call only
            cached = None
        if cached is None:
            cached = _BACKENDS[backend](weakref.ref(model))
            try:
                _CHOSEN[model] = cached
            except TypeError:
                pass
    return cached


def _heads(output) -> list:
    """The model's output as a list of heads, in :class:`~pyimportance.model.predict.PredictFunction`'s order."""
    if isinstance(output, dict):
        return [output[key] for key in sorted(output)]
    if isinstance(output, (list, tuple)):
        return list(output)
    return [output]


def _leaves(arguments) -> list:
    """The arrays of a model's arguments (one array, a list, or a dict's values in order)."""
    if isinstance(arguments, dict):
        return list(arguments.values())
    if isinstance(arguments, (list, tuple)):
        return list(arguments)
    return [arguments]


def _tensorflow(model_ref) -> Vjps:
    """``tf.GradientTape`` inside one ``tf.function`` (Keras 3 on TensorFlow, tf-keras)."""
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def vjps(arguments, cotangents):
        # cotangents: a tuple, so their number is part of the trace while the batch size may vary
        with tf.GradientTape(persistent=len(cotangents) > 1) as tape:  # one pull-back: free as it goes
            tape.watch(arguments)
            heads = _heads(model_ref()(arguments, training=False))
            rows = tf.shape(heads[0])[0]
            predictions = tf.concat([tf.reshape(tf.cast(h, cotangents[0].dtype), (rows, -1)) for h in heads], axis=1)
        gradients = [tape.gradient(predictions, _leaves(arguments), output_gradients=cotangent,
                                   unconnected_gradients=tf.UnconnectedGradients.ZERO)
                     for cotangent in cotangents]
        return predictions, gradients

    def call(arguments, cotangents):
        predictions, gradients = vjps(arguments, tuple(tf.constant(c) for c in cotangents))
        return (np.asarray(predictions, dtype=np.float64),
                [[np.asarray(g) for g in per_input] for per_input in gradients])

    return call


def _jax(model_ref) -> Vjps:
    """``jax.vjp`` of the model's call (Keras 3 on JAX)."""
    import jax
    import jax.numpy as jnp

    def forward(arguments):
        heads = _heads(model_ref()(arguments, training=False))
        return jnp.concatenate([jnp.reshape(h, (h.shape[0], -1)) for h in heads], axis=1)

    def call(arguments, cotangents):
        predictions, pullback = jax.vjp(forward, arguments)
        gradients = [_leaves(pullback(jnp.asarray(c, dtype=predictions.dtype))[0]) for c in cotangents]
        return (np.asarray(predictions, dtype=np.float64),
                [[np.asarray(g) for g in per_input] for per_input in gradients])

    return call


def _torch(model_ref) -> Vjps:
    """``torch.autograd.grad`` of the model's call (Keras 3 on torch)."""
    import torch

    def call(arguments, cotangents):
        tensors = [torch.tensor(np.asarray(a), requires_grad=True) for a in _leaves(arguments)]
        if isinstance(arguments, dict):
            given = dict(zip(arguments, tensors))
        else:
            given = tensors if isinstance(arguments, (list, tuple)) else tensors[0]
        heads = _heads(model_ref()(given, training=False))
        predictions = torch.cat([h.reshape(h.shape[0], -1) for h in heads], dim=1)
        gradients = [torch.autograd.grad(predictions, tensors, grad_outputs=torch.as_tensor(c, dtype=predictions.dtype),
                                         retain_graph=True, allow_unused=True) for c in cotangents]
        return (predictions.detach().cpu().numpy().astype(np.float64),
                [[np.zeros(t.shape) if g is None else g.detach().cpu().numpy() for g, t in zip(per_input, tensors)]
                 for per_input in gradients])

    return call


_BACKENDS: dict[str, Callable] = {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}
