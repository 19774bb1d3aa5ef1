"""The model and its data checked together, before any model call: the first step of every public recipe.

:func:`model_inputs` checks the model (callable, not stateful) and ``X`` and ``y`` against it (a
Keras model's input names and dict inputs, a DataFrame's index); :func:`masked_inputs` checks the
input shapes a Keras model takes and finds the padding (``mask_value``, or the model's ``Masking``
layers). :func:`pyimportance.perturbation_importance` and :func:`pyimportance.shapley_importance`
both call them, so one mistake gets one message from either.
"""

from __future__ import annotations

from typing import NamedTuple

from ..data.check_x import check_not_long_frame, check_X, frame_index
from ..data.check_y import check_y
from ..data.inputs import Inputs
from ..data.padding import with_masks
from ..data.tf_dataset import dataset_arrays
from ..model.keras import (
    check_model_input,
    check_not_stateful,
    is_keras_model,
    keras_inputs,
    keras_mask_values,
    keras_takes_dict,
)
from ..model.predict import check_model


class ModelData(NamedTuple):
    """The checked inputs (as the model takes them), the targets and the Keras model's input names (or None)."""

    inputs: Inputs
    targets: list | None
    input_names: list[str] | None
    row_labels: object | None  # X's DataFrame index (one DataFrame X), else None


class MaskedInputs(NamedTuple):
    inputs: Inputs
    masking_layers: dict  # the model's Masking layers' values by input position (``mask_value="auto"``)


def model_inputs(model, X, y, feature_names) -> ModelData:
    """``model``, ``X`` and ``y`` checked against each other (see the module docstring)."""
    check_model(model)
    check_not_stateful(model)
    X, y = dataset_arrays(X, y)  # a tf.data.Dataset of (x, y) batches: read once into arrays
    keras_model_inputs = keras_inputs(model)
    input_names = [name for name, _ in keras_model_inputs] if keras_model_inputs else None
    inputs = check_X(X, feature_names, input_names)
    if keras_takes_dict(model) and inputs.form == "list":
        inputs = Inputs(inputs.parts, "dict")
    x_index = frame_index(X) if inputs.single else None
    check_not_long_frame(X, y)
    return ModelData(inputs, check_y(y, inputs.n_samples, x_index), input_names, x_index)


def masked_inputs(model, inputs: Inputs, mask_value) -> MaskedInputs:
    """The inputs with their padding masks, once a Keras model is known to take their shapes."""
    check_model_input(model, [part.values.shape if part.is_sequence else part.values[:, 0].shape
                              for part in inputs.parts], inputs.names)
    auto_mask = isinstance(mask_value, str) and mask_value == "auto"
    masking_layers = keras_mask_values(model) if auto_mask and is_keras_model(model) else {}
    return MaskedInputs(with_masks(inputs, mask_value, masking_layers), masking_layers)
