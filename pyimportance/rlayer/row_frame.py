"""Per-row importances and selection for R: the result frame's ``row_importances`` attribute, and
``selected()`` computed by the engine's own rule (:mod:`pyimportance.stats.selection`), in R's terms.

``row_importances`` is a matrix, evaluated rows x units (and outputs), columns in the engine's unit
order (the frame's ``unit_position``) named like the rows of the ``importances`` attribute, rows
named by the evaluated rows' 1-based positions in ``x`` (or the labels of a pandas index); rows not
evaluated (early stopping) hold ``NaN``. Where the run has none, the attribute ``row_note`` says
why, in R's terms. The R package's ``row_importances()`` turns it into the long data frame.
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
