"""SensitivityResult: an :class:`~pyimportance.result.ImportanceResult` of gradient importances, with per-row maps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import terms
from ..result import ImportanceResult


@dataclass(frozen=True, repr=False)
class SensitivityResult(ImportanceResult):
    """Sensitivity importance of each unit, read from the model's gradients (``settings["method"]``).

    The same table, plot and R data frame as :class:`~pyimportance.result.ImportanceResult`; the
    ``importance`` of a unit is the mean over rows of ``|its attribution|`` (integrated gradients) or
    of its derivative-based measure; ``p_value`` is NaN (the importance is never below 0). Also:

    Attributes
    ----------
    direction : ndarray like ``importances_mean``
        The mean signed value (integrated gradients: the unit's mean contribution to
        ``f(x) - f(x0)``); a column of :meth:`to_frame`.
    attributions : ndarray (rows, T, F), or a dict of them by input name
        Each kept row's map of cell attributions (``(rows, F)`` for a static input; a last axis
        per output with ``per_output``); rows in the data's order, labelled by :attr:`attribution_rows`.
        For the derivative measure, each cell's ``(df/dx)^2 var(x)``.
    convergence_delta : ndarray (n_rows,) or (n_rows, n_outputs)
        Per evaluated row, the attributions' sum minus ``f(x) - f(x0)`` (NaN: not evaluated, or the
        derivative measure).
    """

    direction_values: np.ndarray = field(default_factory=lambda: np.zeros((0, 1)))  # (n_units, n_outputs)
    attribution_maps: dict = field(default_factory=dict, repr=False)  # evaluated row -> (n_cells, n_outputs)
    attribution_note: str | None = None  # why no maps are kept
    delta_values: np.ndarray = field(default_factory=lambda: np.zeros((0, 1)), repr=False)  # (n_rows, n_outputs)
    input_shapes: list = field(default_factory=list)  # (name, T, F, is_sequence) per input

    @property
    def direction(self) -> np.ndarray:
        return self._shaped(self.direction_values)

    @property
    def convergence_delta(self) -> np.ndarray:
        values = self.delta_values
        return values[:, 0] if values.shape[1] == 1 and not self.per_output else values

    @property
    def attribution_rows(self) -> np.ndarray:
        """The labels of the rows whose maps are kept, in the data's order."""
        return np.asarray(self.row_index)[sorted(self.attribution_maps)]

    @property
    def attributions(self) -> Any:
        """The kept rows' maps (see the class docstring); ValueError says why there are none."""
        if not self.attribution_maps:
            raise ValueError(self.attribution_note or "this result keeps no per-row maps")
        rows = sorted(self.attribution_maps)
        flat = np.stack([self.attribution_maps[row] for row in rows])  # (rows, n_cells, K)
        if flat.shape[2] == 1 and not self.per_output:
            flat = flat[:, :, 0]
        maps, start = {}, 0
        for name, n_timesteps, n_features, is_sequence in self.input_shapes:
            size = n_timesteps * n_features
            block = flat[:, start:start + size]
            shape = (len(rows), n_timesteps, n_features) if is_sequence else (len(rows), n_features)
            maps[name] = block.reshape(shape + block.shape[2:])
            start += size
        return next(iter(maps.values())) if len(maps) == 1 else maps

    def to_frame(self, sort: bool = True, rows: bool = False):
        """As :meth:`ImportanceResult.to_frame`, with a ``direction`` column after ``importance``."""
        frame = super().to_frame(sort=False, rows=rows)
        if rows:
            return frame
        frame.insert(frame.columns.get_loc("importance") + 1, "direction", self.direction_values.reshape(-1))
        if sort:
            order = np.argsort(-frame["importance"].to_numpy(), kind="stable")
            frame = frame.iloc[order].reset_index(drop=True)
        return frame

    def plot_attributions(self, row=None, input=None, output: int = 0, ax=None):  # noqa: A002 - the input's name
        """Matplotlib figure: one row's map (time steps x features) as a heatmap.

        ``row``: its label (as :attr:`attribution_rows`; default the first kept row); ``input``: the
        input's name (default the first sequence input); ``output``: which output with ``per_output``.
        """
        from ..plotting import plot_attribution_map

        labels = list(self.attribution_rows)
        maps = self.attributions
        if row is None:
            position = 0
        elif row in labels:
            position = labels.index(row)
        else:
            raise ValueError(f"row must be one of the rows whose maps are kept ({terms.vector(labels[:5])}"
                             f"{', ...' if len(labels) > 5 else ''}), got {terms.literal(row)}")
        names = [name for name, *_ in self.input_shapes]
        if input is None:
            input = next((name for name, _, _, seq in self.input_shapes if seq), names[0])  # noqa: A001
        if input not in names:
            raise ValueError(f"input must be one of {terms.vector(names)}, got {terms.literal(input)}")
        values = maps[input] if isinstance(maps, dict) else maps
        values = values[position]
        if self.per_output:
            values = values[..., output]
        return plot_attribution_map(np.atleast_2d(values), features=self._features_of(input),
                                    title=f"Attributions of row {labels[position]}", ax=ax)

    def _features_of(self, name: str) -> list[str]:
        """The feature names of input ``name``."""
        names = list(self.settings.get("feature_names") or [])
        start = 0
        for input_name, _, n_features, _ in self.input_shapes:
            if input_name == name:
                return names[start:start + n_features]
            start += n_features
        return []

    def _measured_lines(self) -> list[str]:
        """What was measured (the gradient method, of what), on how much data, and how complete."""
        settings = self.settings
        measure, baseline = self._measure_words()
        if settings.get("method") == "integrated_gradients":
            how = (f"integrated gradients ({settings.get('n_steps')} Gauss-Legendre steps from the "
                   f"{settings.get('baselines')} baseline), mean |attribution|")
            finite = np.abs(self.delta_values[np.isfinite(self.delta_values)])
            completeness = [f"Completeness: mean |convergence delta| {finite.mean():.3g}"] if finite.size else []
        else:
            how, completeness = "derivative-based measure (DGSM: (df/dx)^2 var(x))", []
        of = "the prediction" if settings.get("loss") == "prediction_change" else measure
        return [f"Sensitivity importance by {self._unit_word()}: {how} of {of}, {self.n_rows_used} rows{baseline}",
                *completeness, "P-values: none (the importance is never below 0)"]
