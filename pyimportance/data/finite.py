"""Finite numbers: the one check that values are numbers and none of them is NaN or infinite.

Two uses of the same check:

- what user code returns (a model's predictions, a custom method's values, a custom loss's
  value): :func:`as_float64` coerces it to float64, :func:`check_finite` counts the NaN and
  infinite values; each raises the caller's error kind with the caller's own words (the
  message callbacks), so a model's failure reads as the model's;
- the caller's data (``X``, ``y``), which may be a memory map larger than memory:
  :func:`first_non_finite` looks in blocks of rows, and :func:`non_finite_message` names the
  first bad position as the caller counts (``X[2, 3, 1]``, in R ``x[3, 4, 2]``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import terms

_FINITE_CHECK_ROWS = 4096  # rows checked at once, so a huge memory map is never copied whole


def as_float64(value, error: type[Exception], not_numbers: Callable[[object], str]) -> np.ndarray:
    """``value`` (an array, a tensor, a list, a number) as a float64 array.

    Raises ``error(not_numbers(value))`` when it is not numeric.
    """
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise error(not_numbers(value)) from None


def check_finite(array: np.ndarray, error: type[Exception], not_finite: Callable[[int, int], str]) -> np.ndarray:
    """``array`` itself when every value is finite, else ``error(not_finite(n_bad, n_values))``."""
    finite = np.isfinite(array)
    if not finite.all():
        raise error(not_finite(int(np.count_nonzero(~finite)), int(array.size)))
    return array


def first_non_finite(values: np.ndarray) -> tuple[int, ...] | None:
    """Index of the first NaN/inf in ``values`` (checked in row blocks), or None if all are finite."""
    for start in range(0, values.shape[0], _FINITE_CHECK_ROWS):
        bad = ~np.isfinite(values[start : start + _FINITE_CHECK_ROWS])
        if bad.any():
            index = np.unravel_index(int(np.argmax(bad)), bad.shape)
            return (start + int(index[0]),) + tuple(int(i) for i in index[1:])
    return None


def non_finite_message(name: str, values: np.ndarray, index: tuple[int, ...]) -> str:
    """``X must not contain NaN or infinite values, got nan at X[2, 3, 1]``, in the caller's terms."""
    in_r = terms.current().language == "R"
    shown = terms.number(values[index])
    return (
        f"{terms.arg(name) if name in ('X', 'y') else name} must not contain {'NA, NaN' if in_r else 'NaN'} "
        f"or infinite values, got {shown} at {terms.position(name, index)}"
    )
