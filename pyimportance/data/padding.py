"""Padding: which time steps of variable-length sequences are real.

A time step of a sample is *padded* when every feature of that step equals the input's
``mask_value`` (Keras' ``Masking`` rule). Padded steps are never perturbed, never give their
values to real steps and are left out of the feature statistics
(:mod:`pyimportance.methods`); here they are found, once per run.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from .. import terms
from .inputs import Inputs

_MASK_ROWS = 4096  # rows examined at once when looking for padding


def padding_mask(values: np.ndarray, mask_value: float) -> np.ndarray | None:
    """True on the real steps of ``values`` (n, T, F); None when no step is padded."""
    mask = np.empty(values.shape[:2], dtype=bool)
    for start in range(0, values.shape[0], _MASK_ROWS):
        block = values[start : start + _MASK_ROWS]
        mask[start : start + _MASK_ROWS] = np.any(block != mask_value, axis=2)
    return None if mask.all() else mask


def with_masks(inputs: Inputs, mask_value, masking_layers: Mapping[int, float]) -> Inputs:
    """The inputs with the padding masks of their sequence inputs, from ``mask_value``.

    ``mask_value``: a number for every sequence input, a dict by input name, None (no padding) or
    ``"auto"``: ``masking_layers``, the ``mask_value`` of the model's Keras ``Masking`` layers by
    input position (:func:`pyimportance.model.keras.keras_mask_values`).
    """
    if mask_value is None:
        return inputs
    if isinstance(mask_value, str):
        if mask_value != "auto":
            raise ValueError(f"mask_value must be a number, {terms.literal('auto')} or {terms.literal(None)}, "
                             f"got {terms.literal(mask_value)}")
        values = {inputs.parts[i].name: value for i, value in masking_layers.items() if i < len(inputs.parts)}
    elif isinstance(mask_value, Mapping):
        unknown = [key for key in mask_value if key not in inputs.names]
        if unknown:
            raise ValueError(
                f"mask_value names unknown inputs {terms.vector(unknown)}; inputs: {terms.vector(inputs.names)}"
            )
        values = {str(key): value for key, value in mask_value.items()}
    else:
        if isinstance(mask_value, (bool, np.bool_)) or not isinstance(mask_value, numbers.Real):
            raise TypeError(f"mask_value must be a number, {terms.literal('auto')} or {terms.literal(None)}, "
                            f"got {terms.literal(mask_value) if not isinstance(mask_value, list) else mask_value}")
        values = {part.name: mask_value for part in inputs.parts if part.is_sequence}
    parts = []
    for part in inputs.parts:
        value = values.get(part.name)
        if value is None or not part.is_sequence:
            parts.append(part)
            continue
        parts.append(replace(part, mask=padding_mask(part.values, float(value)), mask_value=float(value)))
    return Inputs(tuple(parts), inputs.form)
