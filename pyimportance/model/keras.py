"""What a Keras model says about itself: its flavour, inputs, outputs, Masking layers and stateful layers.

Keras is never imported here: a model is recognised by the classes of the Keras packages the
caller has already imported (``keras``, and ``tf_keras`` beside it). Which Keras it is, 2 or 3,
is read from that package's own version, never from its name: ``keras`` is Keras 3 from
TensorFlow 2.16 on, but Keras 2 under TensorFlow 2.15 and older (what R's legacy ``keras``
package runs on); ``tf_keras`` is Keras 2. Anything that is not a Keras model answers None or
nothing, and is called as it is (:mod:`.predict`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import terms
from ..errors import NotRowWiseError

#: The packages whose ``Model`` classes are Keras models (``tf_keras``: Keras 2 beside Keras 3).
KERAS_PACKAGES = ("keras", "tf_keras")


@dataclass(frozen=True)
class KerasFlavour:
    """Which Keras a model comes from: the package holding its classes, and that package's major version."""

    package: str  # "keras" or "tf_keras": where the model's classes (and its loader) are
    major: int  # 2 or 3, from the package's own version


def keras_major_version(module) -> int | None:
    """The major version a Keras package declares (its ``__version__``, else Keras 3's ``version()``), or None.

    ``keras`` 2.15.0 (TensorFlow 2.15) answers 2, ``keras`` 3.x answers 3, ``tf_keras`` 2.x answers 2.
    """
    version = getattr(module, "__version__", None)
    if not isinstance(version, str) and callable(getattr(module, "version", None)):
        version = module.version()
    head = version.split(".", 1)[0] if isinstance(version, str) else ""
    return int(head) if head.isdigit() else None


def keras_flavour(model) -> KerasFlavour | None:
    """The Keras ``model`` comes from (package and major version 2 or 3), or None; imports no package.

    A package whose version is not Keras 2 or 3 is not taken as Keras (the model is then called as it is).
    """
    for package in KERAS_PACKAGES:
        module = sys.modules.get(package)
        if module is None or not isinstance(model, getattr(module, "Model", ())):
            continue
        major = keras_major_version(module)
        if major in (2, 3):
            return KerasFlavour(package, major)
    return None


def is_keras_model(model) -> bool:
    """Whether ``model`` is a Keras 2 or Keras 3 model."""
    return keras_flavour(model) is not None


def uses_tensorflow(flavour: KerasFlavour) -> bool:
    """Whether a Keras model of this flavour runs on TensorFlow (Keras 2 always; Keras 3 by its backend)."""
    if flavour.major == 2:
        return True
    return sys.modules[flavour.package].backend.backend() == "tensorflow"


def _input_tensors(model) -> list | None:
    """A Keras model's input tensors (``model.inputs``), or None: not Keras, or inputs unknown."""
    if keras_flavour(model) is None:
        return None
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    return list(inputs) if inputs else None


def keras_inputs(model) -> list[tuple[str, tuple]] | None:
    """``(name, shape)`` of each input of a Keras model, e.g. ``[("seq", (None, 30, 20))]``; None if unknown.

    Names are the keys of a model built on a dict of inputs, else the names of its ``Input`` layers.
    """
    inputs = _input_tensors(model)
    if inputs is None:
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


def keras_input_dtypes(model) -> list[str | None] | None:
    """The dtype name of each input of a Keras model (``"float32"``, ``"int32"``...), in :func:`keras_inputs`' order.

    None for anything that is not a Keras model (or whose inputs are unknown); an input whose dtype
    cannot be read is None.
    """
    inputs = _input_tensors(model)
    if inputs is None:
        return None
    structure = getattr(model, "_inputs_struct", None)
    tensors = list(structure.values()) if isinstance(structure, dict) else inputs
    found = []
    for tensor in tensors:
        dtype = getattr(tensor, "dtype", None)
        found.append(None if dtype is None else str(getattr(dtype, "name", dtype)))
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
    if keras_flavour(model) is None:
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
    """Names of a Keras model's output layers (``model.output_names``; a Sequential's last layer), or None.

    For a model built on a dict of outputs these are the layers' names, in the order of the sorted keys.
    """
    structure = getattr(model, "_outputs_struct", None)
    names = getattr(model, "output_names", None)  # Keras 3 Functional, tf-keras
    try:
        if isinstance(structure, dict):  # Keras 3 named outputs: each key's layer, keys sorted
            names = [structure[key]._keras_history.operation.name for key in sorted(structure)]
        elif names is None:  # a Keras 3 Sequential: the layers its outputs come from
            names = [tensor._keras_history.operation.name for tensor in model.outputs]
    except (AttributeError, ValueError, TypeError):
        return None
    try:
        return [str(name) for name in names]
    except TypeError:
        return None


def keras_mask_values(model) -> dict[int, float]:
    """``mask_value`` of each Keras ``Masking`` layer fed directly by a model input, by input position."""
    found: dict[int, float] = {}
    layers = getattr(model, "layers", None)
    if not layers:
        return found
    try:
        inputs = list(model.inputs)
    except (AttributeError, ValueError, TypeError):  # TypeError: a Keras 2 subclassed model's inputs are None
        return found
    for layer in layers:
        if type(layer).__name__ != "Masking":
            continue
        value = float(layer.get_config().get("mask_value", 0.0))
        if len(inputs) == 1:
            found[0] = value
            continue
        try:
            source = layer.input
        except (AttributeError, ValueError):
            continue
        for position, tensor in enumerate(inputs):
            if source is tensor:
                found[position] = value
    return found
