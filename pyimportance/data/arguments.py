"""Checks of single argument values at the public boundary: counts, numbers, flags, choices.

Every check raises ``TypeError`` or ``ValueError`` with a message that names the argument,
says what was expected and shows what was given, in the caller's terms (:mod:`pyimportance.terms`);
each returns the value normalised (an R ``5`` is the int 5). What depends on several settings at
once is a rule of :mod:`pyimportance.settings`; what depends on the data is checked with the
data (:mod:`.check_x`, :mod:`.check_y`, :mod:`.units`, :mod:`.rows`).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from concurrent.futures import Executor

import numpy as np

from .. import terms


def describe(value) -> str:
    """A value as a message shows it: literals as the caller writes them, arrays by shape and type."""
    if isinstance(value, np.ndarray):
        return f"array of {terms.shape(value.shape)} and {terms.type_word(value.dtype)}"
    text = terms.literal(value) if isinstance(value, (bool, np.bool_, type(None), str)) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_positive_int(value, name: str, *, allow_none: bool = False) -> int | None:
    """Return ``value`` as an int >= 1 (an integral float such as R's ``5`` is accepted)."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a positive integer, got {terms.literal(value)}")
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        if not np.isfinite(value) or not float(value).is_integer():
            raise ValueError(f"{name} must be a positive integer, got {terms.number(value)}")
        value = int(value)
    if not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {type(value).__name__}: {describe(value)}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {terms.number(value)}")
    return int(value)


def check_positive_float(value, name: str) -> float:
    """Return ``value`` as a finite float > 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__}: {describe(value)}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {terms.number(value)}")
    return float(value)


def check_flag(value, name: str, *, allow_none: bool = False) -> bool | None:
    """Return ``value`` as a bool (True/False, or None when allowed)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        allowed = [True, False, None] if allow_none else [True, False]
        raise TypeError(f"{name} must be {terms.choices(allowed)}, got {describe(value)}")
    return bool(value)


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {terms.choices(list(choices))}, got {describe(value)}")
    return value


def check_tolerance(tolerance) -> float | None:
    """``tolerance``: None, or a fraction of the largest importance in (0, 1)."""
    if tolerance is None:
        return None
    value = check_positive_float(tolerance, "tolerance")
    if value >= 1:
        raise ValueError(f"tolerance must be a fraction of the largest importance in (0, 1), got {value:g}")
    return value


def check_jit_compile(jit_compile) -> bool | str:
    """``jit_compile``: True, False or "auto"."""
    if not (isinstance(jit_compile, (bool, np.bool_)) or (isinstance(jit_compile, str) and jit_compile == "auto")):
        raise ValueError(
            f"jit_compile must be {terms.choices([True, False, 'auto'])}, got {terms.literal(jit_compile)}"
        )
    return jit_compile


def check_executor(executor) -> Executor | None:
    """``executor``: a ``concurrent.futures.Executor`` or None."""
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor or None, got {type(executor).__name__}")
    return executor
