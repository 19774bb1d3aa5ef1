"""``y`` checked: one target array, or a list/dict of them (one per output head).

Numeric, one row per sample of ``X``, 1D to 3D (``(n, 1)`` flattened), finite, C-ordered float64
(sums must not depend on the caller's memory layout). A pandas ``y`` must be in ``X``'s row
order (an index with other labels than a DataFrame ``X``'s is refused too, e.g. after
``y.reset_index(drop=True)``: the labels cannot say which rows pair). Whether a target
suits its loss and the model's output is :mod:`pyimportance.scoring`'s check, once the model
has been called.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from .. import terms
from .check_x import is_several_arrays
from .finite import first_non_finite, non_finite_message


def _as_target_array(y, name: str, n_samples: int, x_index=None) -> np.ndarray:
    """One target: numeric, 1D or 2D ((n, 1) flattened to (n,)), one row per sample, finite."""
    if hasattr(y, "to_numpy"):
        index = getattr(y, "index", None)
        if index is not None and x_index is not None and not index.equals(x_index):
            if len(index) == len(x_index) and set(index) == set(x_index):
                raise ValueError(
                    f"{name} is a pandas object whose index is in another order than {terms.arg('X')}'s; "
                    f"align it first, e.g. {name}.loc[X.index]"
                )
            if len(index) == len(x_index) and len(index):
                shared = int(index.isin(x_index).sum())
                how = "shares no label" if shared == 0 else f"shares only {shared} of its {len(index)} labels"
                raise ValueError(
                    f"{name} is a pandas object whose index {how} with {terms.arg('X')}'s "
                    f"({name}'s starts at {index[0]!r}, {terms.arg('X')}'s at {x_index[0]!r}), so its rows cannot "
                    f"be matched to {terms.arg('X')}'s; if they are in the same order, pass {name}.to_numpy() "
                    f"(or reset both indexes with .reset_index(drop=True)), else align them by label first"
                )
        elif index is not None and x_index is None and hasattr(index, "equals"):
            import pandas as pd

            if not index.equals(pd.RangeIndex(len(index))):
                warnings.warn(
                    f"{name} is a pandas object whose index is not 0..{len(index) - 1}; it is matched to the "
                    f"rows of {terms.arg('X')} by position",
                    UserWarning,
                    stacklevel=4,
                )
        y = y.to_numpy()
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be numeric (encode class labels as integers {terms.index(0)}..K"
            f"{'' if terms.index(0) else '-1'}), got {terms.type_word(y.dtype)}"
        )
    if y.ndim == 0 or y.ndim > 3:
        raise ValueError(
            f"{name} must be 1D (n_samples,), 2D (n_samples, n_outputs) or 3D (n_samples, n_timesteps, n_outputs), "
            f"got {terms.shape(y.shape)}"
        )
    if y.shape[0] != n_samples:
        raise ValueError(
            f"{name} must have one row per sample of {terms.arg('X')} ({n_samples}), got {y.shape[0]} rows"
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    y = np.ascontiguousarray(y, dtype=np.float64)  # C order: sums must not depend on the caller's layout
    bad = first_non_finite(y)
    if bad is not None:
        raise ValueError(non_finite_message(name, y, bad))
    return y


def check_y(y, n_samples: int, x_index=None) -> list[tuple[str | None, np.ndarray]] | None:
    """Validate ``y``: one target array, or a list/dict of them (one per output head).

    Returns a list of ``(head name or None, float64 array)``, or None without ``y``.
    """
    if y is None:
        return None
    if isinstance(y, Mapping):
        if not y:
            raise ValueError("y must not be an empty dict")
        return [(str(k), _as_target_array(v, terms.element("y", str(k)), n_samples, x_index)) for k, v in y.items()]
    if is_several_arrays(y):
        return [(None, _as_target_array(v, terms.element("y", i), n_samples, x_index)) for i, v in enumerate(y)]
    return [(None, _as_target_array(y, "y", n_samples, x_index))]
