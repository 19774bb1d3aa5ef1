"""Per-row importances and selection for R: the result frame's ``row_importances`` attribute, and
``selected()`` computed by the engine's own rule (:mod:`pyimportance.stats.selection`), in R's terms.

``row_importances`` is a matrix, evaluated rows x units (and outputs), columns in the engine's unit
order (the frame's ``unit_position``) named like the rows of the ``importances`` attribute, rows
named by the evaluated rows' 1-based positions in ``x`` (or the labels of a pandas index); rows not
evaluated (early stopping) hold ``NaN``. Where the run has none, the attribute ``row_note`` says
why, in R's terms. The R package's ``row_importances()`` turns it into the long data frame.

A result with per-row attribution maps (``result.attributions``: a sensitivity result) also gives
``attributions`` (one array per input, rows x time steps x features, rows x features for a static
input, with a last dimension per output with ``per_output``; a named list for several inputs),
``attribution_rows`` (the maps' rows, 1-based positions in ``x``) and ``convergence_delta`` (per
evaluated row), or ``attributions_note`` (why no maps were kept). The R package's
``row_attributions()`` and ``plot_attributions()`` read them.
"""

from __future__ import annotations

import numpy as np

from .. import terms
from ..result import ImportanceResult
from ..stats.selection import selected
from .conditions import as_r_error
from .values import RCondition, RValue


def row_attributes(result: ImportanceResult, labels) -> dict[str, RValue]:
    """``row_importances`` (a matrix rows x units) or ``row_note`` (why there is none) for the R frame.

    ``labels``: each unit's (and output's) R label, in the engine's order.
    """
    try:
        values = result.row_importances
    except ValueError as error:
        return {"row_note": RValue("character", values=np.array([str(error)]))}
    matrix = values.reshape(values.shape[0], -1)
    index = np.asarray(result.row_index)
    names = index + 1 if np.issubdtype(index.dtype, np.integer) else index
    return {"row_importances": RValue("double", values=matrix,
                                      dimnames=(tuple(str(name) for name in names), tuple(labels)))}


def _row_names(labels) -> tuple[str, ...]:
    """Rows as R names them: 1-based positions, or the labels of a pandas index."""
    labels = np.asarray(labels)
    return tuple(str(label) for label in (labels + 1 if np.issubdtype(labels.dtype, np.integer) else labels))


def map_attributes(result) -> dict[str, RValue]:
    """``attributions``, ``attribution_rows`` and ``convergence_delta`` (or ``attributions_note``) of a result with
    per-row maps, for the R frame; nothing for a result without (it has no ``attribution_rows``)."""
    if not hasattr(result, "attribution_rows"):
        return {}
    rows = _row_names(result.row_index)
    delta = np.asarray(result.convergence_delta, dtype=np.float64)
    outputs = tuple(str(name) for name in result.outputs)
    found = {"convergence_delta": RValue("double", values=delta, names=rows if delta.ndim == 1 else None,
                                         dimnames=(rows, outputs) if delta.ndim == 2 else None)}
    try:
        maps = result.attributions
    except ValueError as error:
        return {**found, "attributions_note": RValue("character", values=np.array([str(error)]))}
    kept = _row_names(result.attribution_rows)
    features = _features_by_input(result)
    arrays = {name: _map_array(values, kept, features[name], outputs if result.per_output else None)
              for name, values in (maps.items() if isinstance(maps, dict) else [(next(iter(features)), maps)])}
    positions = np.asarray(result.attribution_rows)
    found["attribution_rows"] = (RValue("integer", values=(positions + 1).astype(np.int32))
                                 if np.issubdtype(positions.dtype, np.integer)
                                 else RValue("character", values=np.array(kept)))
    found["attributions"] = (next(iter(arrays.values())) if len(arrays) == 1
                             else RValue("list", names=tuple(arrays), items=tuple(arrays.values())))
    return found


def _features_by_input(result) -> dict[str, list[str]]:
    """Each input's feature names, by input name, in the inputs' order."""
    names = list(result.settings.get("feature_names") or [])
    found, start = {}, 0
    for name, _, n_features, _ in result.input_shapes:
        found[name] = [str(feature) for feature in names[start:start + n_features]]
        start += n_features
    return found


def _map_array(values, rows: tuple[str, ...], features: list[str], outputs: tuple[str, ...] | None) -> RValue:
    """One input's maps as an R array: rows x time steps x features (rows x features for a static input), then
    outputs; named dimensions."""
    values = np.asarray(values, dtype=np.float64)
    static = values.ndim == (3 if outputs else 2)
    steps = () if static else (tuple(str(t + 1) for t in range(values.shape[1])),)
    return RValue("double", values=values, dimnames=(rows, *steps, tuple(features), *((outputs,) if outputs else ())))


def selected_from_r(p_values, alpha, control) -> RValue | RCondition:
    """R's ``selected()``: which p-values are rejected at ``alpha`` under ``control`` ("fdr" or "fwer")."""
    with terms.speaking(terms.R):
        try:
            values = p_values.values if isinstance(p_values, RValue) else p_values
            alpha = alpha.values.reshape(-1)[0] if isinstance(alpha, RValue) else alpha
            control = str(control.values.reshape(-1)[0]) if isinstance(control, RValue) else control
            chosen = selected(np.asarray(values, dtype=np.float64), float(alpha), control)
            return RValue("logical", values=chosen)
        except Exception as error:  # noqa: BLE001 - every failure goes back to R as a condition
            r_error = as_r_error(error)
            return RCondition("error", r_error.message, r_error.classes, r_error.python_type)
