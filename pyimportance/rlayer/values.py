"""The neutral mirror of R objects: :class:`RValue` and :class:`RCondition`, and how an R user
describes a value in a message (``NA``, ``"a"``, ``a numeric vector of length 3``).

A binding (the R package through reticulate, the rpy2 layer) turns each R object into an
:class:`RValue` and back; nothing here knows what an argument means.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .conditions import RArgumentError

ATOMIC_TYPES = ("double", "integer", "logical", "character")
NUMERIC_TYPES = ("double", "integer", "logical")
INT32_MAX = 2**31 - 1
EXACT_DOUBLE_MAX = 2**53



def _strings(value) -> tuple[str, ...] | None:
    """None, a string or a sequence of strings (reticulate gives a lone string for length 1)."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in np.asarray(value, dtype=object).reshape(-1))


def _text(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "U":
        return values
    return np.array(["" if item is None else str(item) for item in values.reshape(-1)], dtype=str).reshape(values.shape)


# The NumPy dtype of each atomic R type (conversions copy only when the binding gave another).
_VALUE_TYPES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "double": lambda values: np.asarray(values, dtype=np.float64),
    "integer": lambda values: np.asarray(values, dtype=np.int32),
    "factor": lambda values: np.asarray(values, dtype=np.int32),
    "logical": lambda values: np.asarray(values, dtype=bool) if values.dtype.kind == "b" else values != 0,
    "character": _text,
}


@dataclass(eq=False)
class RValue:
    """A neutral mirror of one R object, made by a binding (from R) or here (for R).

    Attributes
    ----------
    type : str
        R's ``typeof`` for atomic vectors (``"double"``, ``"integer"``, ``"logical"``,
        ``"character"``), else ``"factor"``, ``"list"``, ``"data.frame"``, ``"function"``
        or ``"NULL"`` (any other R type name stands for an object this layer does not use).
    values : ndarray, optional
        Atomic values in R's index order, shaped by ``dim`` (a plain vector is 1-D): float64
        (double), int32 (integer; factor: R's codes, 1-based), bool (logical) or str
        (character), whatever the binding gave. Values at NA positions are meaningless.
    dimnames : tuple, optional
        One entry per dimension: a tuple of names or None.
    names : tuple of str, optional
        Names of a list's items, a data frame's columns or a vector's elements.
    items : tuple
        The items of a list or the columns of a data frame (RValues, or Python objects).
    levels : tuple of str, optional
        A factor's levels.
    na : ndarray of bool, optional
        True where R holds ``NA`` (for doubles: ``NA`` but not ``NaN``); None when there is none.
    function : callable, optional
        For ``"function"``: calls the R function with RValue arguments; returns an RValue,
        or an :class:`RCondition` when R signalled an error or an interrupt.
    name : str, optional
        For ``"function"``: the name it was passed under (shown in the settings).
    attributes : dict of str to RValue
        Further R attributes to set (``class``, ...), when the value goes to R.
    """

    type: str
    values: Any = None
    dimnames: Any = None
    names: Any = None
    items: Any = ()
    levels: Any = None
    na: Any = None
    function: Callable | None = None
    name: str | None = None
    attributes: Any = field(default_factory=dict)

    def __post_init__(self):
        # Normalise what the bindings' own conversions give (lists, lone strings, 0-d arrays).
        if self.values is not None:
            values = np.asarray(self.values)
            values = values.reshape(1) if values.ndim == 0 else values
            self.values = _VALUE_TYPES[self.type](values) if self.type in _VALUE_TYPES else values
        if self.na is not None:
            na = np.asarray(self.na, dtype=bool)
            self.na = na.reshape(self.values.shape) if self.values is not None else na
            if not self.na.any():
                self.na = None
        if self.dimnames is not None:
            self.dimnames = tuple(None if part is None else _strings(part) for part in self.dimnames)
        self.names = _strings(self.names)
        self.levels = _strings(self.levels)
        if self.items is None:
            self.items = ()
        elif isinstance(self.items, RValue):
            self.items = (self.items,)
        else:
            self.items = tuple(self.items)
        self.attributes = dict(self.attributes or {})

    @property
    def length(self) -> int:
        """R's ``length()``."""
        if self.values is not None:
            return int(self.values.size)
        return len(self.items)

    def __repr__(self) -> str:
        return f"RValue({describe(self)})"


@dataclass(frozen=True)
class RCondition:
    """An R condition in neutral form.

    A binding returns one from an R function's call when R signalled an error (``kind``
    ``"error"``, R's message) or was interrupted (``"interrupt"``); :func:`call_from_r`
    returns one for an error, with its R condition ``classes`` (most specific first).
    """

    kind: str
    message: str = ""
    classes: tuple[str, ...] = ()
    python_type: str | None = None


def r_vector(values, type: str | None = None) -> RValue:
    """An atomic RValue of ``values`` (R type from the NumPy dtype unless given)."""
    values = np.asarray(values)
    if type is None:
        kind = values.dtype.kind
        type = {"b": "logical", "i": "integer", "u": "integer", "f": "double"}.get(kind, "character")
    if type == "character" and values.dtype.kind != "U":
        values = np.array(["NA" if item is None else str(item) for item in values.reshape(-1)],
                          dtype=object).reshape(values.shape).astype(str)
    return RValue(type, values=values)


def describe(value) -> str:
    """An R user's description of ``value``: ``NA``, ``"a"``, ``2.5``, ``a numeric vector of length 3``."""
    if value is None:
        return "NULL"
    if not isinstance(value, RValue):
        return f"a Python {type(value).__name__}"
    if value.type == "NULL":
        return "NULL"
    if value.type == "function":
        return "a function"
    if value.type == "data.frame":
        return f"a data frame with {len(value.items)} columns"
    if value.type == "list":
        return f"a list of length {len(value.items)}"
    if value.values is None:
        return f"an R object of type {value.type}"
    word = {"double": "numeric", "integer": "integer", "logical": "logical"}.get(value.type, value.type)
    if value.type == "factor":
        return "NA" if value.length == 1 and value.na is not None else (
            _scalar_text(value) if value.length == 1 else f"a factor of length {value.length}")
    if value.values.size == 1 and value.values.ndim == 1:
        if value.na is not None:
            return "NA"
        return _scalar_text(value)
    if value.values.ndim > 1:
        return f"a {word} array with dim c({', '.join(str(d) for d in value.values.shape)})"
    return f"a {word} vector of length {value.values.size}"


def _scalar_text(value: RValue) -> str:
    item = value.values.reshape(-1)[0]
    if value.type == "logical":
        return "TRUE" if item else "FALSE"
    if value.type == "character":
        return f'"{item}"'
    if value.type == "factor":
        return f'a factor ("{value.levels[int(item) - 1]}")'
    if value.type == "integer":
        return str(int(item))
    number = float(item)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Inf" if number > 0 else "-Inf"
    return f"{number:.15g}"


def dim_text(shape: Sequence[int]) -> str:
    return f"c({', '.join(str(int(d)) for d in shape)})"


def is_null(value) -> bool:
    return value is None or (isinstance(value, RValue) and value.type == "NULL")


def named_items(value: RValue, name: str) -> list[tuple[str | None, Any]]:
    """A list's items with their names (all named or none)."""
    names = value.names
    if names is not None and all(names):
        return list(zip(names, value.items))
    if names is not None and any(names):
        raise RArgumentError(f"{name} must be a list whose items are all named or all unnamed")
    return [(None, item) for item in value.items]


def is_r_function(value) -> bool:
    return isinstance(value, RValue) and value.type == "function"
