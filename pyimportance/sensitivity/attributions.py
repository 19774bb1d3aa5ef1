"""One task's attributions: the gradients of a chunk of rows, turned into each unit's value per row.

``method="integrated_gradients"``: every row's ``n_steps`` path points (:mod:`.paths`) are stacked
into the model's gradient calls (whole rows per call, ``points_per_call // n_steps`` of them: a
memory knob that never changes the numbers beyond float32 rounding); a cell's attribution is
``(x - x0)`` times the weighted mean of its gradient over the points, and a unit's value for a row
is the signed sum of its cells' attributions. The per-row ``convergence_delta`` is the
attributions' sum minus ``f(x) - f(x0)`` (completeness: 0 for the exact integral).

``method="derivative"`` (DGSM, Sobol' and Kucherenko 2009): one gradient per row, at the row itself;
a unit's value is the sum over its cells of ``(df/dx)^2 var(x)`` (``var``: the cell's variance
over the evaluated rows), its signed companion ``sum df/dx sd(x)``.

Each target (:mod:`.targets`) is attributed on its own; the outputs combine them
(``Targets.combine``), after the absolute value for integrated gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.inputs import Inputs
from ..data.units import Unit
from ..scoring.scoring import scoring_failures
from .gradients import vjp_function
from .paths import path_starts
from .targets import Targets

METHODS = ("integrated_gradients", "derivative")


@dataclass(frozen=True)
class SensitivitySpec:
    """What every task of a run shares (cheap to ship to a worker, the inputs aside)."""

    inputs: Inputs
    units: Sequence[Unit]
    member: Any  # (n_cells, n_units) sparse 0/1: which flat cells (inputs side by side, ``t * F + f``) a unit holds
    method: str
    n_steps: int
    nodes: np.ndarray  # (n_steps,) path points in (0, 1) (integrated gradients)
    weights: np.ndarray  # (n_steps,) their weights, summing to 1
    starts: Sequence[np.ndarray]  # per input, the (T, F) baseline row
    spreads: np.ndarray  # (n_cells,) each cell's variance over the evaluated rows (derivative)
    kept: np.ndarray  # (n_samples,) bool: the rows whose maps the result keeps
    points_per_call: int  # path points per gradient call (whole rows: at least one row's points)

    @property
    def points_per_row(self) -> int:
        """Gradient evaluations per row."""
        return self.n_steps if self.method == "integrated_gradients" else 1


@dataclass(frozen=True)
class ChunkResult:
    """Per row of one task: each unit's measure and signed value per output, the kept maps, the deltas."""

    block: int
    rows: np.ndarray  # evaluated-row positions
    measure: np.ndarray  # (r, n_units, K): |value| (integrated gradients) or the DGSM measure
    signed: np.ndarray  # (r, n_units, K)
    maps: np.ndarray | None  # (r_kept, n_cells, K): the kept rows' cell attributions
    delta: np.ndarray  # (r, K): completeness error (NaN for the derivative measure)


def unit_members(inputs: Inputs, units: Sequence[Unit]):
    """(n_cells, n_units) sparse 0/1 matrix (CSR): which flat cells each unit holds (by cell, one per unit)."""
    from scipy.sparse import csr_matrix

    offsets = inputs.column_offsets
    cells, owners = [], []
    for u, unit in enumerate(units):
        for block in unit.blocks:
            part = inputs.parts[block.input]
            columns = np.unique(block.flat_columns(part.n_timesteps, part.n_features, offsets[block.input]))
            cells.append(columns)
            owners.append(np.full(len(columns), u))
    cells, owners = np.concatenate(cells), np.concatenate(owners)
    return csr_matrix((np.ones(len(cells)), (cells, owners)), shape=(inputs.n_columns, len(units)))


def per_unit(member, values: np.ndarray) -> np.ndarray:
    """(m, r, n_cells) cell values summed over each unit's cells: (m, r, n_units)."""
    m, r, n_cells = values.shape
    return np.asarray(values.reshape(m * r, n_cells) @ member).reshape(m, r, -1)


def predict_rows(predict, inputs: Inputs, arrays: list[np.ndarray], on_rows: Callable[[int], None]) -> np.ndarray:
    """The model's predictions of these (rows, T, F) arrays, in calls of ``predict.batch_rows``."""
    n = arrays[0].shape[0]
    step = max(1, predict.batch_rows)
    found = []
    for start in range(0, n, step):
        chunk = [np.asarray(a[start:start + step], dtype=predict.dtype) for a in arrays]
        found.append(predict(inputs.call_arguments(chunk)))
        on_rows(len(chunk[0]))
    return np.concatenate(found) if found else np.zeros((0, 0))


def chunk_result(spec: SensitivitySpec, targets: Targets, predict, scoring, baseline: np.ndarray, block: int,
                 rows: np.ndarray, on_rows: Callable[[int], None] = lambda rows: None) -> ChunkResult:
    """The attributions of ``rows`` (evaluated-row positions of block ``block``)."""
    parts = spec.inputs.parts
    x = [np.asarray(part.values[rows], dtype=np.float64) for part in parts]
    ig = spec.method == "integrated_gradients"
    x0 = path_starts(x, spec.starts, [None if part.mask is None else part.mask[rows] for part in parts]) if ig else x
    per_call = max(1, spec.points_per_call // spec.points_per_row)
    gradients = np.concatenate([_mean_gradients(spec, targets, predict, scoring, x, x0, rows, start, per_call,
                                                baseline.shape[1], on_rows)
                                for start in range(0, len(rows), per_call)], axis=1)  # (m, r, n_cells)
    difference = np.concatenate([(a - b).reshape(len(rows), -1) for a, b in zip(x, x0)], axis=1) if ig else None
    combine = targets.combine
    if ig:
        cells = gradients * difference[None]  # (m, r, n_cells) attributions
        signed_targets = per_unit(spec.member, cells)  # (m, r, U)
        measure = np.einsum("km,mru->ruk", combine, np.abs(signed_targets))
        signed = np.einsum("km,mru->ruk", combine, signed_targets)
        with scoring_failures(scoring, "while scoring the baselines of the path"):
            start_values = targets.values(scoring, _start_predictions(spec, predict, x0, on_rows), rows)
            end_values = targets.values(scoring, baseline[rows], rows)
        delta = cells.sum(axis=2).T @ combine.T - (end_values - start_values) @ combine.T  # (r, K)
    else:
        cells = gradients ** 2 * spec.spreads[None, None]
        measure = np.einsum("km,mru->ruk", combine, per_unit(spec.member, cells))
        sensitivities = gradients * np.sqrt(spec.spreads)[None, None]
        signed = np.einsum("km,mru->ruk", combine, per_unit(spec.member, sensitivities))
        delta = np.full((len(rows), combine.shape[0]), np.nan)
    kept = spec.kept[rows]
    maps = np.einsum("km,mrc->rck", combine, cells[:, kept]) if kept.any() else None
    return ChunkResult(block, rows, measure, signed, maps, delta)


def _start_predictions(spec: SensitivitySpec, predict, x0: list[np.ndarray], on_rows) -> np.ndarray:
    """f(x0) of each row: one prediction of the baseline row when no input is padded (every row starts there)."""
    if all(part.mask is None for part in spec.inputs.parts):
        one = predict_rows(predict, spec.inputs, [start[:1] for start in x0], on_rows)
        on_rows(len(x0[0]) - 1)
        return np.repeat(one, len(x0[0]), axis=0)
    return predict_rows(predict, spec.inputs, x0, on_rows)


def _mean_gradients(spec: SensitivitySpec, targets: Targets, predict, scoring, x, x0, rows: np.ndarray, start: int,
                    per_call: int, n_columns: int, on_rows) -> np.ndarray:
    """(m, r, n_cells): each target's gradient, averaged over the path (or at the row), for rows
    ``start:start + per_call`` of the task, in one gradient call padded to ``per_call`` rows."""
    stop = min(start + per_call, len(rows))
    r, s = stop - start, spec.points_per_row
    if spec.method == "integrated_gradients":
        points = [(b[start:stop, None] + spec.nodes[None, :, None, None] * (a[start:stop, None] - b[start:stop, None]))
                  .reshape((r * s,) + a.shape[1:]) for a, b in zip(x, x0)]
    else:
        points = [a[start:stop] for a in x]
    n_points, size = r * s, per_call * s
    padded = [np.zeros((size,) + p.shape[1:], dtype=predict.dtype) for p in points]
    for target, p in zip(padded, points):
        target[:n_points] = p
    arguments = spec.inputs.call_arguments(padded)
    point_rows = np.repeat(rows[start:stop], s)
    if targets.with_loss:
        predictions = predict_rows(predict, spec.inputs, [p[:n_points] for p in padded], lambda n: None)
        with scoring_failures(scoring, "while differentiating the loss along the path"):
            cotangent = targets.cotangents(scoring, predictions, point_rows)
    else:
        cotangent = targets.cotangents(scoring, np.zeros((n_points, n_columns)), point_rows)
    full = np.zeros((cotangent.shape[0], size, cotangent.shape[2]), dtype=predict.dtype)
    full[:, :n_points] = cotangent
    _, gradients = vjp_function(predict.model)(arguments, full)
    on_rows(n_points)
    flat = np.stack([np.concatenate([np.asarray(g[:n_points], dtype=np.float64).reshape(n_points, -1)
                                     for g in per_target], axis=1) for per_target in gradients])
    flat = flat.reshape(flat.shape[0], r, s, -1)
    return np.einsum("mrsc,s->mrc", flat, spec.weights) if spec.method == "integrated_gradients" else flat[:, :, 0]

