"""The R functions' arguments after ``y``: one line each in :data:`ARGUMENTS` (the engine's setting and its
conversion from R), for every estimator. A conversion checks what R can get wrong (type, length, NA) in R's
words and leaves range checks to the engine. Which settings an estimator offers R, in which order and with
which defaults, is its entry's in :mod:`pyimportance.registry` (its settings table,
:mod:`pyimportance.settings`): :func:`arguments_of` reads it, so a new estimator needs a line here only for a
setting no other estimator has. Tests check this table and the R package's formals against the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import terms
from .conditions import RArgumentError
from .data import as_inputs
from .functions import r_learner, r_loss, r_method
from .values import RValue, describe, is_null, is_r_function, named_items

if TYPE_CHECKING:
    from ..registry import EstimatorEntry


def _check_scalar(name: str, value: RValue, types: Sequence[str], expected: str) -> Any:
    if value.type not in types or value.values is None or value.values.size != 1 or value.na is not None:
        raise RArgumentError(f"{name} must be {expected}, got {describe(value)}")
    return value.values.reshape(-1)[0]


def as_string(name: str, value):
    """A single string (``by``)."""
    if is_null(value) or not isinstance(value, RValue):
        return None if is_null(value) else value
    return str(_check_scalar(name, value, ("character",), "a single string"))


def _number(name: str, value, expected: str):
    if is_null(value) or not isinstance(value, RValue):
        return None if is_null(value) else value
    item = _check_scalar(name, value, ("double", "integer"), expected)
    return int(item) if value.type == "integer" else float(item)


def as_number(name: str, value):
    """A single number (``scale``, ``max_samples``): double stays float, integer int."""
    return _number(name, value, "a single number")


def as_whole_number(name: str, value):
    """A single whole number (``n_repeats``, ``batch_size``, ``seed``): R's ``5`` is 5."""
    number = _number(name, value, "a single whole number")
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number  # the engine says what is wrong with 2.5 or -1


def as_flag(name: str, value):
    """``TRUE`` or ``FALSE`` (``NULL`` where the engine allows None)."""
    if is_null(value) or not isinstance(value, RValue):
        return None if is_null(value) else value
    return bool(_check_scalar(name, value, ("logical",), "TRUE or FALSE"))


def as_strings(name: str, value):
    """Names: a character vector (or a list of them, one per input) without NA."""
    if is_null(value) or not isinstance(value, RValue):
        return None if is_null(value) else value
    if value.type == "list":
        items = named_items(value, name)
        converted = [as_strings(f"{name}[[{i + 1}]]", item) for i, (_, item) in enumerate(items)]
        if items and items[0][0] is not None:
            return {key: part for (key, _), part in zip(items, converted)}
        return converted
    if value.type == "factor":
        value = RValue("character", values=np.array([value.levels[int(c) - 1] for c in value.values]), na=value.na)
    if value.type != "character":
        raise RArgumentError(f"{name} must be a character vector, got {describe(value)}")
    if value.na is not None:
        position = int(np.flatnonzero(value.na.reshape(-1))[0]) + 1
        raise RArgumentError(f"{name} must not contain NA, got NA at {name}[{position}]")
    return [str(item) for item in value.values.reshape(-1)]


def _group_members(label: str, value) -> list:
    """One group's members: names as they are, 1-based numbers as 0-based positions."""
    if not isinstance(value, RValue):
        return list(value) if isinstance(value, (list, tuple)) else [value]
    if value.type == "character":
        return as_strings(label, value)
    if value.type not in ("double", "integer") or value.values.ndim != 1:
        raise RArgumentError(f"{label} must hold feature names or numbers, got {describe(value)}")
    if value.na is not None:
        position = int(np.flatnonzero(value.na)[0]) + 1
        raise RArgumentError(f"{label} must not contain NA, got NA at {label}[{position}]")
    members = []
    for number in value.values.astype(np.float64):
        if not number.is_integer():
            raise RArgumentError(f"{label} must hold feature names or whole numbers, got {number:g}")
        members.append(int(number) - 1)  # the engine names a bad position 1-based again
    return members


def as_groups(name: str, value):
    """``groups``: a named list of feature names or 1-based feature numbers."""
    if is_null(value) or not isinstance(value, RValue):
        return None if is_null(value) else value
    if value.type != "list" or not value.items or value.names is None or not all(value.names):
        raise RArgumentError(
            f'{name} must be a named list of feature names, e.g. list(weather = c("temp", "rain")), '
            f"got {describe(value)}"
        )
    return {key: _group_members(f'{name}[["{key}"]]', item) for key, item in zip(value.names, value.items)}


def as_python_object(name: str, value):
    """A Python object made through reticulate (``executor``): passed as it is."""
    if isinstance(value, RValue) and not is_null(value):
        raise RArgumentError(f"{name} must be a Python object (e.g. client$get_executor()) or NULL, "
                             f"got {describe(value)}")
    return None if is_null(value) else value


def as_output(name: str, value):
    """Output heads: names, or numbers as R counts them (1-based, made 0-based for the engine), or a
    named list ``head = columns`` (1-based column numbers; NULL: all)."""
    if is_null(value) or not isinstance(value, RValue):
        return None if is_null(value) else value
    if value.type == "list":
        if value.names is None or not all(value.names):
            raise RArgumentError(f"{name} must be head names or numbers, or a named list of columns, "
                                 f"got {describe(value)}")
        return {key: None if is_null(item) else [number - 1 for number in _whole_numbers(f'{name}[["{key}"]]', item)]
                for key, item in zip(value.names, value.items)}
    heads = as_strings(name, value) if value.type == "character" else [
        number - 1 for number in _whole_numbers(name, value)]
    return heads[0] if len(heads) == 1 else heads


def _whole_numbers(name: str, value) -> list[int]:
    if not isinstance(value, RValue) or value.type not in ("double", "integer") or value.values.ndim != 1:
        raise RArgumentError(f"{name} must be whole numbers, got {describe(value)}")
    if value.na is not None:
        position = int(np.flatnonzero(value.na)[0]) + 1
        raise RArgumentError(f"{name} must not contain NA, got NA at {name}[{position}]")
    numbers = value.values.astype(np.float64)
    if not np.all(numbers == np.round(numbers)):
        raise RArgumentError(f"{name} must be whole numbers, got {describe(value)}")
    return [int(number) for number in numbers]


def as_weights(name: str, value):
    """``sample_weight``: a numeric vector without NA, one weight per row (the engine checks the rest)."""
    if is_null(value) or not isinstance(value, RValue):
        return None if is_null(value) else value
    if value.type not in ("double", "integer") or value.values is None or value.values.ndim != 1:
        raise RArgumentError(f"{name} must be a numeric vector (one weight per row of x), got {describe(value)}")
    if value.na is not None:
        position = int(np.flatnonzero(value.na)[0]) + 1
        raise RArgumentError(f"{name} must not contain NA, got NA at {name}[{position}]")
    return value.values.astype(np.float64)


def as_mask_value(name: str, value):
    """Padding value: a number, ``"auto"`` (the model's Masking layers), NULL, or one per input."""
    if is_null(value) or not isinstance(value, RValue):
        return None if is_null(value) else value
    if value.type == "character":
        return as_string(name, value)
    if value.type == "list":
        if value.names is None or not all(value.names):
            raise RArgumentError(f"{name} must be a number, \"auto\", NULL or a named list (one per input), "
                                 f"got {describe(value)}")
        return {key: as_number(f'{name}[["{key}"]]', item) for key, item in zip(value.names, value.items)}
    return as_number(name, value)


def as_reference(name: str, value):
    """Rows for ``method = "conditional"`` to fit on: like ``x``."""
    return None if is_null(value) else as_inputs(value, name).values


def as_baselines(name: str, value):
    """Where the paths start: ``"mean"``, ``"zeros"``, or one row like those of ``x`` (an array, a vector for a
    matrix ``x``, or a list of them, one per input)."""
    if isinstance(value, RValue) and value.type in ("character", "factor"):
        return as_string(name, value)
    if isinstance(value, RValue) and value.type in ("double", "integer") and value.values.ndim == 1:
        if value.na is not None:  # one row of a matrix x: a vector
            position = int(np.flatnonzero(value.na)[0]) + 1
            raise RArgumentError(f"{name} must not contain NA, got NA at {name}[{position}]")
        return value.values.astype(np.float64)
    return None if is_null(value) else as_inputs(value, name).values


def as_rows(name: str, value):
    """Rows of ``x``: 1-based positions as R counts them, 0-based for the engine."""
    if is_null(value) or not isinstance(value, RValue):
        return None if is_null(value) else value
    return [number - 1 for number in _whole_numbers(name, value)]


def as_learner(name: str, value):
    """The conditional model: an R ``function(x, y)`` returning a predict function, or a Python regressor; or a
    named list of them by role (``continuous``, ``categorical``: a Python classifier)."""
    if is_r_function(value):
        return r_learner(value)
    if isinstance(value, RValue) and value.type == "list" and value.names is not None:
        return {key: as_learner(f'{name}[["{key}"]]', item) for key, item in zip(value.names, value.items)}
    if isinstance(value, RValue) and not is_null(value):
        raise RArgumentError(f"{name} must be an R function(x, y) returning a predict function, or a Python "
                             f"regressor (e.g. from reticulate), got {describe(value)}")
    return None if is_null(value) else value


def as_loss(name: str, value):
    """A loss name or R function, or a (named) list of them, one per output head."""
    if not (isinstance(value, RValue) and value.type == "list"):
        return r_loss(value) if is_r_function(value) else as_string(name, value)
    items = named_items(value, name)
    losses = [as_loss(f'{name}[["{key}"]]' if key else f"{name}[[{i + 1}]]", item)
              for i, (key, item) in enumerate(items)]
    if items and items[0][0] is not None:
        return {key: one for (key, _), one in zip(items, losses)}
    return losses


def _function_or(convert: Callable, wrap: Callable) -> Callable:
    def either(name: str, value):
        return wrap(value) if is_r_function(value) else convert(name, value)

    return either


@dataclass(frozen=True)
class Argument:
    """One argument of the R functions: the engine's setting (:mod:`pyimportance.settings`) and its conversion
    from R; its R name is :mod:`pyimportance.terms`' (``random_state`` is ``seed``)."""

    engine_name: str
    convert: Callable[[str, Any], Any]

    @property
    def r_name(self) -> str:
        return terms.R.name_of(self.engine_name)


#: Every setting some estimator offers R, and its conversion (each estimator takes those it offers R:
#: :func:`arguments_of`).
ARGUMENTS: tuple[Argument, ...] = (
    Argument("method", _function_or(as_string, r_method)),
    Argument("scale", as_number),
    Argument("relative_scale", as_flag),
    Argument("loss", as_loss),
    Argument("n_repeats", as_whole_number),
    Argument("n_draws", as_whole_number),
    Argument("n_steps", as_whole_number),
    Argument("baselines", as_baselines),
    Argument("attribution_rows", as_rows),
    Argument("imputer", as_string),
    Argument("by", as_string),
    Argument("groups", as_groups),
    Argument("max_samples", as_number),
    Argument("sample_weight", as_weights),
    Argument("batch_size", as_whole_number),
    Argument("random_state", as_whole_number),
    Argument("progress", as_flag),
    Argument("feature_names", as_strings),
    Argument("ci", as_string),
    Argument("block_size", as_whole_number),
    Argument("tolerance", as_number),
    Argument("output", as_output),
    Argument("per_output", as_flag),
    Argument("mask_value", as_mask_value),
    Argument("reference", as_reference),
    Argument("learner", as_learner),
    Argument("categorical", as_strings),
    Argument("executor", as_python_object),
)

BY_ENGINE_NAME: dict[str, Argument] = {argument.engine_name: argument for argument in ARGUMENTS}


def arguments_of(entry: EstimatorEntry) -> tuple[Argument, ...]:
    """The arguments of ``entry``'s R function after ``y``: the conversions of the settings its registry entry
    offers R, in the entry's order."""
    offered = entry.offered("r")
    missing = [setting.name for setting in offered if setting.name not in BY_ENGINE_NAME]
    if missing:
        raise LookupError(f"the R layer has no conversion for {', '.join(missing)} (estimator {entry.name!r}): "
                          "add a line to pyimportance.rlayer.r_arguments.ARGUMENTS")
    return tuple(BY_ENGINE_NAME[setting.name] for setting in offered)


def engine_options(arguments: Mapping[str, Any], table: Sequence[Argument]) -> dict[str, Any]:
    """The engine's keyword arguments for the R arguments given (R names, R values), from ``table`` (an
    estimator's :func:`arguments_of`); an argument not in it is R's "unused argument", with the R name
    where it was given under the engine's."""
    by_r_name = {argument.r_name: argument for argument in table}
    options = {}
    for r_name, value in arguments.items():
        argument = by_r_name.get(r_name)
        if argument is None:
            renamed = next((known.r_name for known in table if known.engine_name == r_name), None)
            hint = f" (the R name is {renamed})" if renamed else ""
            raise RArgumentError(f"unused argument {r_name}{hint}")
        options[argument.engine_name] = argument.convert(r_name, value)
    return options
