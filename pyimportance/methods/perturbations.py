"""The perturbations: pure functions ``(blocks, rng, context) -> Perturbed``, and their table.

``blocks`` are the unit's values, one array per :class:`~pyimportance.data.units.Block` (one
with a single input), each of shape ``(n_rows, n_unit_timesteps, n_unit_features)``, float64,
fresh copies owned by the function (never memory of the caller's data); ``context`` is a
:class:`~.context.UnitContext`. Donor-based methods (one sample's values given to another)
report the donor of each row, which the data-level intervals need (:mod:`pyimportance.stats`).
The conditional perturbation lives with its sampler (:mod:`.conditional`).

A new perturbation is one function here plus one line in :data:`METHODS`.

Integer and categorical features (:mod:`pyimportance.data.categorical`) are no measurements:
:func:`check_categorical_units` refuses noise on features the model reads as integers and warns
about noise on integer-typed data and one-hot columns; the donor methods (``permute``,
``resample``) move whole codes between rows and are untouched; ``conditional`` is refused on
them (its ridge residual is a continuous value the model never saw).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import terms
from ..data.categorical import MODEL_INPUT, ONE_HOT, CategoricalFeatures
from ..data.finite import as_float64, check_finite
from ..data.inputs import Inputs
from ..data.units import Unit
from ..errors import MethodFailedError
from .conditional import perturb_conditional
from .context import Perturbed, UnitContext


def perturb_gaussian(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
    """Add N(0, noise_sd) noise to every value."""
    return Perturbed([v + rng.standard_normal(v.shape) * sd for v, sd in zip(blocks, context.noise_sd)])


def perturb_uniform(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
    """Add uniform noise with the same standard deviation as :func:`perturb_gaussian`."""
    return Perturbed(
        [v + rng.uniform(-1.0, 1.0, v.shape) * (np.sqrt(3.0) * sd) for v, sd in zip(blocks, context.noise_sd)]
    )


def perturb_permute(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
    """Shuffle the unit's values across samples (whole sequences: Breiman/Fisher permutation importance)."""
    donors = rng.permutation(blocks[0].shape[0])
    return Perturbed([v[donors] for v in blocks], donors)


def perturb_resample(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
    """Replace each sample's values by those of a sample drawn at random (with replacement)."""
    n_rows = blocks[0].shape[0]
    donors = rng.integers(0, n_rows, n_rows)
    return Perturbed([v[donors] for v in blocks], donors)


def perturb_zero(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
    """Set every value to 0 (ablation)."""
    return Perturbed([np.zeros_like(v) for v in blocks])


def perturb_mean(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
    """Set every value to its feature's mean over samples and (real) time steps (ablation)."""
    return Perturbed([np.broadcast_to(mean, v.shape).copy() for v, mean in zip(blocks, context.mean)])


@dataclass(frozen=True)
class Method:
    """A perturbation and what the engine must know about it."""

    name: str
    function: Callable[[list[np.ndarray], np.random.Generator, UnitContext], Perturbed]
    deterministic: bool = False  # same values every repeat: evaluated once
    uses_scale: bool = False  # reads scale / relative_scale
    conditional: bool = False  # needs the fitted conditional model (context.conditional)
    donor_based: bool = False  # returns donors


METHODS: dict[str, Method] = {
    "gaussian": Method("gaussian", perturb_gaussian, uses_scale=True),
    "uniform": Method("uniform", perturb_uniform, uses_scale=True),
    "permute": Method("permute", perturb_permute, donor_based=True),
    "resample": Method("resample", perturb_resample, donor_based=True),
    "conditional": Method("conditional", perturb_conditional, conditional=True, donor_based=True),
    "zero": Method("zero", perturb_zero, deterministic=True),
    "mean": Method("mean", perturb_mean, deterministic=True),
}


def _wrap_custom(function: Callable) -> Method:
    name = getattr(function, "__name__", "custom")

    def perturb_custom(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
        given = blocks[0] if len(blocks) == 1 else blocks
        result = function(given, rng)
        results = [result] if len(blocks) == 1 else result
        if len(blocks) > 1 and (not isinstance(results, (list, tuple)) or len(results) != len(blocks)):
            raise MethodFailedError(
                f"method (a custom perturbation) must return a list of {len(blocks)} arrays for a unit that "
                f"spans {len(blocks)} inputs, got {type(result).__name__}"
            )
        return Perturbed([_checked_block(value, block) for value, block in zip(results, blocks)])

    perturb_custom.__name__ = name
    return Method(name, perturb_custom)


def _checked_block(value, block: np.ndarray) -> np.ndarray:
    """A custom method's result as a float64 array of the block's shape, finite."""
    array = as_float64(value, MethodFailedError, _not_numbers)
    if array.shape != block.shape:
        raise MethodFailedError(
            f"method (a custom perturbation) must return an array of the {terms.shape(block.shape)} it was given, "
            f"got {terms.shape(array.shape)}"
        )
    return check_finite(array, MethodFailedError, lambda bad, size: (
        f"method (a custom perturbation) returned NaN or infinite values ({bad} of {size}); "
        "it must return finite numbers"))


def _not_numbers(value) -> str:
    dtype = getattr(np.asarray(value), "dtype", None)
    kind = terms.type_word(dtype) if dtype is not None else type(value).__name__
    return f"method (a custom perturbation) must return numbers, got {type(value).__name__} of {kind}"


def resolve_method(method) -> Method:
    """The :class:`Method` for ``method`` (a name or a ``(values, rng) -> values`` callable)."""
    if callable(method):
        return _wrap_custom(method)
    if isinstance(method, str) and method in METHODS:
        return METHODS[method]
    raise ValueError(
        f"method must be one of {terms.choices(list(METHODS))} or "
        f"{terms.either('a callable (values, rng) -> values', 'an R function(values, seed)')}, "
        f"got {terms.literal(method) if isinstance(method, str) else repr(method)}"
    )


def warn_if_no_donors(method: Method, n_rows: int, row_blocks) -> None:
    """Warn when a donor-based method has fewer than two rows (or a block of fewer) to move values between."""
    if method.donor_based and (n_rows < 2 or (row_blocks and min(len(block) for block in row_blocks) < 2)):
        warnings.warn(
            f"{terms.setting('method', method.name)} on {n_rows} row(s) cannot move any values between "
            "rows: every importance is 0; evaluate on more rows",
            UserWarning,
            stacklevel=3,
        )


def _labels(inputs: Inputs, features) -> str:
    """Feature labels as the caller writes a vector, at most five of them."""
    names = [inputs.parts[i].feature_names[f] for i, f in features]
    shown = terms.vector(names[:5])
    return shown if len(names) <= 5 else f"{shown} and {len(names) - 5} more"


def _donor_fix() -> str:
    return (f"use {terms.setting('method', 'permute')} or {terms.setting('method', 'resample')}, "
            "which move whole codes between rows")


def _group_fix(inputs: Inputs, run) -> str:
    names = [inputs.parts[i].feature_names[f] for i, f in run]
    example = terms.either(f"groups={{'category': {names!r}}}",
                           "groups = list(category = " + terms.vector(names) + ")",
                           cli="a group of " + ", ".join(names))
    return f"perturb them together as one group ({example}) with {terms.setting('method', 'permute')}"


def check_categorical_units(method: Method, units: list[Unit], categorical: CategoricalFeatures,
                            inputs: Inputs) -> None:
    """Refuse or warn where ``method`` would treat integer / categorical codes as measurements.

    Noise (``gaussian``, ``uniform``) on an input the model reads as integers is refused: the
    noisy code is truncated to a neighbouring category at random. Noise on integer-typed data
    or on one-hot columns is warned about (the values may be counts; the fix is said).
    ``conditional`` samples them from a classifier (:mod:`.categorical_sampler`). Donor methods,
    ablations and custom callables pass untouched.
    """
    if not categorical or not method.uses_scale:
        return
    touched = list(dict.fromkeys((block.input, f) for unit in units for block in unit.blocks
                                 for f in block.features if categorical.kind((block.input, f)) is not None))
    if not touched:
        return
    shown = terms.setting("method", method.name)
    model_read = [feature for feature in touched if categorical.kind(feature) == MODEL_INPUT]
    coded = [feature for feature in touched if categorical.kind(feature) not in (MODEL_INPUT, ONE_HOT)]
    runs = list(dict.fromkeys(categorical.one_hot_run(feature) for feature in touched
                              if categorical.kind(feature) == ONE_HOT))
    if model_read:
        dtypes = categorical.model_dtypes or {}
        input_index = model_read[0][0]
        raise ValueError(
            f"{shown} cannot perturb {_labels(inputs, model_read)}: the model reads input "
            f"{terms.literal(inputs.parts[input_index].name)} as {dtypes.get(input_index, 'integer')} codes, so "
            f"noise would turn a code into another category at random; {_donor_fix()}"
        )
    if coded:
        warnings.warn(
            f"{shown} adds noise to integer-typed features {_labels(inputs, coded)}, giving values no row has; "
            f"if they are codes, {_donor_fix()} (if they are measurements, pass them as float to silence this)",
            UserWarning, stacklevel=3,
        )
    for run in runs:
        warnings.warn(
            f"{shown} adds noise to {_labels(inputs, run)}, which look like the one-hot columns of one "
            f"category; {_group_fix(inputs, run)}",
            UserWarning, stacklevel=3,
        )


def warn_if_constant(method: Method, relative_scale: bool, units: list[Unit], stats, inputs: Inputs) -> None:
    """Warn when relative noise meets a unit whose every feature is constant (sd 0): its importance is a silent 0.

    ``stats`` are the evaluated rows' :class:`~.feature_stats.FeatureStats`, one per input.
    """
    if not (method.uses_scale and relative_scale):
        return
    constant = [unit.feature for unit in units
                if all(stats[block.input].std[f] == 0 for block in unit.blocks for f in block.features)]
    constant = list(dict.fromkeys(constant))
    if not constant:
        return
    names = terms.vector(constant[:5]) + ("" if len(constant) <= 5 else f" and {len(constant) - 5} more")
    absolute = terms.either(f"{terms.setting('relative_scale', False)} with scale in the feature's units",
                            f"{terms.setting('relative_scale', False)} with scale in the feature's units",
                            cli="--absolute-scale with --scale in the feature's units")
    warnings.warn(
        f"{terms.setting('method', method.name)} with relative noise ({terms.arg('scale')} times the feature's sd) "
        f"leaves {names} unchanged: constant on the evaluated rows (sd 0), so the importance is exactly 0 without "
        f"being measured; for the model's sensitivity to them use absolute noise ({absolute}), or evaluate on rows "
        f"where they vary ({terms.setting('method', 'permute')} and {terms.setting('method', 'resample')} also give "
        "0 here: no row differs)",
        UserWarning,
        stacklevel=3,
    )
