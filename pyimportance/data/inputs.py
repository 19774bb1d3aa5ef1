"""What the model reads: one or several input arrays, their feature names and their padding.

A model may take one array (``X`` of shape (n, T, F) or (n, F)) or several (a sequence input
plus static covariates, say). Each is held as a :class:`ModelInput` viewed as
``(n_samples, n_timesteps, n_features)`` (a 2D input has one time step and ``is_sequence``
False) and never written to. :class:`Inputs` keeps them in the model's order and knows how
the model wants them: one array, a list, or a dict keyed by input name.

``ModelInput.mask`` is True on the real (not padded) time steps; :mod:`.padding` finds them.
``ModelInput.integer_data`` says which features came as integers (the values are float64 here):
:mod:`.categorical` reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class ModelInput:
    """One model input seen as ``(n_samples, n_timesteps, n_features)``."""

    name: str
    values: np.ndarray
    feature_names: tuple[str, ...]
    is_sequence: bool
    mask: np.ndarray | None = None  # (n, T) bool, True on real steps; None: no padding
    mask_value: float | None = None
    integer_data: tuple[bool, ...] = ()  # per feature: the caller's data had an integer/bool dtype

    @property
    def n_timesteps(self) -> int:
        return self.values.shape[1]

    @property
    def n_features(self) -> int:
        return self.values.shape[2]

    def model_view(self, array: np.ndarray) -> np.ndarray:
        """``array`` (rows, T, F) as the model takes it: 3D, or 2D for a static input."""
        return array if self.is_sequence else array[:, 0, :]


@dataclass(frozen=True)
class Inputs:
    """The model's inputs, in the model's order.

    ``form`` is how the model is called: ``"array"`` (one input, passed as an array),
    ``"list"`` (several, in order) or ``"dict"`` (several, keyed by input name).
    """

    parts: tuple[ModelInput, ...]
    form: str = "array"

    @property
    def n_samples(self) -> int:
        return self.parts[0].values.shape[0]

    @property
    def single(self) -> bool:
        return self.form == "array"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(part.name for part in self.parts)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Every feature's label, input by input."""
        return tuple(name for part in self.parts for name in part.feature_names)

    @property
    def features(self) -> tuple[tuple[int, int], ...]:
        """(input, feature) of every feature, in the order of :attr:`feature_names`."""
        return tuple((i, f) for i, part in enumerate(self.parts) for f in range(part.n_features))

    @property
    def is_sequence(self) -> bool:
        """Whether any input has a time axis."""
        return any(part.is_sequence for part in self.parts)

    @property
    def column_offsets(self) -> tuple[int, ...]:
        """Start of each input in a sample flattened to ``sum(T_i * F_i)`` columns."""
        offsets, start = [], 0
        for part in self.parts:
            offsets.append(start)
            start += part.n_timesteps * part.n_features
        return tuple(offsets)

    @property
    def n_columns(self) -> int:
        return sum(part.n_timesteps * part.n_features for part in self.parts)

    def take(self, rows: np.ndarray) -> Inputs:
        """These rows only (a copy of each input, in the given order)."""
        return Inputs(
            tuple(
                replace(part, values=part.values[rows], mask=None if part.mask is None else part.mask[rows])
                for part in self.parts
            ),
            self.form,
        )

    def flat_rows(self, rows: np.ndarray | slice, padding: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """Samples ``rows`` flattened to ``(len(rows), n_columns)`` float64 (all inputs side by side, ``t * F + f``
        within each); with ``padding`` (per input, one value per feature), padded cells take those values."""
        flat = []
        for i, part in enumerate(self.parts):
            values = np.array(part.values[rows], dtype=np.float64)
            if padding is not None and part.mask is not None:
                values[~part.mask[rows]] = padding[i]
            flat.append(values.reshape(values.shape[0], -1))
        return np.concatenate(flat, axis=1)

    def call_arguments(self, arrays: Sequence[np.ndarray]):
        """One array per input (rows, T, F) as the model takes them: an array, a list or a dict."""
        viewed = [part.model_view(array) for part, array in zip(self.parts, arrays)]
        if self.form == "array":
            return viewed[0]
        if self.form == "dict":
            return dict(zip(self.names, viewed))
        return viewed
