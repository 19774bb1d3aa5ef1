"""The straight path of integrated gradients: its quadrature, and the baseline rows it starts from.

Integrated gradients (Sundararajan, Taly and Yan 2017, "Axiomatic attribution for deep networks")
attribute ``f(x) - f(x0)`` to the cells of ``x``: cell ``c`` gets ``(x_c - x0_c)`` times the mean of
``df/dx_c`` along the straight path ``x0 + a (x - x0)``, ``a`` in [0, 1]. The mean is a
Gauss-Legendre quadrature (as captum's default, ``method="gausslegendre"``): ``n_steps`` nodes
inside (0, 1) with weights summing to 1, exact for polynomials of degree ``2 n_steps - 1``, so it
converges fast for the smooth activations of recurrent models (tanh, sigmoid).

Baselines (``baselines``): "mean" (default), each cell's mean over the evaluated rows (over real
time steps only); "zeros"; or an array of one row (one per input). Padded time steps stay at the
mask value along the whole path (the baseline equals the row there), so they get exactly 0.
"""

from __future__ import annotations

import numpy as np

from .. import terms

BASELINES = ("mean", "zeros")


def gauss_legendre(n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes in (0, 1) and weights summing to 1 of the ``n_steps``-point Gauss-Legendre rule on [0, 1]."""
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    return (nodes + 1.0) / 2.0, weights / 2.0


def check_baselines(baselines):
    """``"mean"``, ``"zeros"``, or the caller's array(s) as given (shapes are checked against the inputs later)."""
    if isinstance(baselines, str):
        if baselines not in BASELINES:
            raise ValueError(f"{terms.arg('baselines')} must be one of {terms.choices(list(BASELINES))} or an "
                             f"array of one row, got {terms.literal(baselines)}")
        return baselines
    if baselines is None:
        raise ValueError(f"{terms.arg('baselines')} must be one of {terms.choices(list(BASELINES))} or an array of "
                         "one row, got None")
    return baselines


def baseline_rows(baselines, inputs) -> list[np.ndarray]:
    """One (T, F) float64 baseline row per input."""
    parts = inputs.parts
    if isinstance(baselines, str):
        rows = []
        for part in parts:
            if baselines == "zeros":
                rows.append(np.zeros(part.values.shape[1:]))
                continue
            values = np.asarray(part.values, dtype=np.float64)
            real = np.ones(values.shape[:2], dtype=bool) if part.mask is None else part.mask
            counts = real.sum(axis=0)[:, None]
            sums = np.where(real[:, :, None], values, 0.0).sum(axis=0)
            rows.append(np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0))
        return rows
    given = _as_list(baselines, inputs)
    rows = []
    for part, value in zip(parts, given):
        array = np.array(value, dtype=np.float64)
        want = part.values.shape[1:]
        if array.shape == (1, *want) or (not part.is_sequence and array.shape in ((want[1],), (1, want[1]))):
            array = array.reshape(want)
        if array.shape != want:
            shown = want if part.is_sequence else (want[1],)
            raise ValueError(f"{terms.arg('baselines')} must be one row of {terms.shape(shown)} for input "
                             f"{part.name!r}, got {terms.shape(array.shape)}")
        if not np.isfinite(array).all():
            raise ValueError(f"{terms.arg('baselines')} must be finite, got NaN or infinite values for input "
                             f"{part.name!r}")
        rows.append(array)
    return rows


def _as_list(baselines, inputs) -> list:
    """The caller's baselines as one value per input (a list in the inputs' order, or a dict by name)."""
    if isinstance(baselines, dict):
        missing = [name for name in inputs.names if name not in baselines]
        if missing:
            raise ValueError(f"{terms.arg('baselines')} has no row for input(s) {terms.vector(missing)}")
        return [baselines[name] for name in inputs.names]
    if isinstance(baselines, (list, tuple)) and len(inputs.parts) > 1:
        if len(baselines) != len(inputs.parts):
            raise ValueError(f"{terms.arg('baselines')} must have one row per input ({len(inputs.parts)}), got "
                             f"{len(baselines)}")
        return list(baselines)
    return [baselines]


def path_starts(rows_x: list[np.ndarray], starts: list[np.ndarray], masks: list[np.ndarray | None]) -> list[np.ndarray]:
    """Each row's own baseline: the baseline row, except on padded steps, which keep the row's (mask) values."""
    result = []
    for x, start, mask in zip(rows_x, starts, masks):
        x0 = np.broadcast_to(start, x.shape).copy()
        if mask is not None:
            x0[~mask] = x[~mask]
        result.append(x0)
    return result
