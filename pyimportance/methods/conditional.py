"""The conditional method: keep the part of a unit that the rest of the sample predicts, permute the residual.

Conditional permutation importance (hidimstat's CFI, Chamma et al. 2023) perturbs a unit's
values without leaving the data's joint distribution. :func:`fit_sampler` fits the model of
every unit given everything else, once per run, on the ``reference`` rows (default: the
evaluated rows); :class:`ConditionalSampler` splits a unit's rows into fitted part and residual
(the ridge algebra is :mod:`.ridge`'s), or any ``learner`` does, out of fold
(:class:`~.learners.LearnedConditional`); :func:`perturb_conditional` is the perturbation.

A sample is all of the model's inputs flattened side by side (``t * F + f`` within each
input), a unit's blocks are mapped to those columns, and each unit's split of its rows is
computed once and reused by its repeats (jobs come unit by unit).

Padding: padded cells carry the mask value, not data; they are replaced by their feature's mean
(over real cells) before the model sees them, so they neither inform nor distort the regression.
The perturbation then leaves padded cells as they were (:func:`.padding.keep_padding`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..data.check_x import check_X
from ..data.inputs import Inputs
from ..data.padding import with_masks
from ..data.units import Unit
from .categorical_sampler import CategoricalDraw, categorical_kind, categorical_variables, default_classifier
from .context import Perturbed, UnitContext
from .feature_stats import FeatureStats, feature_stats
from .learners import LearnedConditional, split_learner
from .ridge import LinearConditional

_FIT_ROWS = 4096
# The evaluated rows, flattened and centred, are kept for the whole run up to this size (every
# unit's split reads all of them); larger data is flattened again, in slices, for each unit.
_CACHE_BYTES = 512 * 2**20


def perturb_conditional(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
    """Keep the part of the values the rest of the sample predicts; permute the residual across samples.

    A categorical unit instead gets a class drawn from each row's class probabilities (no donors).
    """
    if isinstance(context.conditional, CategoricalDraw):
        return Perturbed(context.conditional.sample(blocks, rng), None)
    donors = rng.permutation(blocks[0].shape[0])
    return Perturbed([fitted + residual[donors] for fitted, residual in context.conditional], donors)




class ConditionalSampler:
    """Per unit and rows, ``[(fitted, residual)]`` shaped like the unit's blocks (see the module docstring)."""

    def __init__(self, inputs: Inputs, units: Sequence[Unit], means: Sequence[np.ndarray],
                 reference: Inputs | None = None):
        """``means``: each input's feature means over its real cells (the run's feature statistics)."""
        source = inputs if reference is None else reference
        self._inputs = inputs
        self._units = units
        self._in_sample = reference is None
        self._eval_means = list(means)
        source_means = self._eval_means if reference is None else _real_means(reference)

        def chunks():
            for start in range(0, source.n_samples, _FIT_ROWS):
                yield source.flat_rows(slice(start, start + _FIT_ROWS), source_means)

        self._model = LinearConditional.fit(chunks())
        # The last centred rows and the last unit's parts, each one (key, value) pair swapped in whole:
        # threads of an executor share this object, and a reader always sees a matching pair.
        self._centred: tuple[tuple[int, int], np.ndarray] | None = None
        self._last_parts: tuple[tuple[int, int, int], list[tuple[np.ndarray, np.ndarray]]] | None = None

    def _centred_rows(self, rows: np.ndarray) -> np.ndarray | None:
        """The rows flattened and centred, kept while they fit in :data:`_CACHE_BYTES` (else None)."""
        if len(rows) * self._inputs.n_columns * 8 > _CACHE_BYTES:
            return None
        key = (int(rows[0]) if len(rows) else -1, len(rows))
        cached = self._centred
        if cached is None or cached[0] != key:
            cached = (key, self._model.centre(self._inputs.flat_rows(rows, self._eval_means)))
            self._centred = cached
        return cached[1]

    def parts(self, unit_index: int, rows: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """(fitted, residual) of each block of the unit for these rows, each (k, steps, features)."""
        key = (unit_index, len(rows), int(rows[0]) if len(rows) else -1)
        last = self._last_parts
        if last is not None and last[0] == key:
            return last[1]
        unit = self._units[unit_index]
        block_columns = unit_columns(self._inputs, unit)
        model = self._model.for_columns(np.concatenate(block_columns))
        width = sum(len(columns) for columns in block_columns)
        fitted, residual = np.empty((len(rows), width)), np.empty((len(rows), width))
        centred = self._centred_rows(rows)
        for start in range(0, len(rows), _FIT_ROWS):
            stop = min(start + _FIT_ROWS, len(rows))
            chunk = centred[start:stop] if centred is not None else self._model.centre(
                self._inputs.flat_rows(rows[start:stop], self._eval_means))
            fitted[start:stop], residual[start:stop] = model.split_centred(chunk, in_sample=self._in_sample)
        result, start = [], 0
        for block, columns in zip(unit.blocks, block_columns):
            part = self._inputs.parts[block.input]
            steps, features = block.columns(part.n_timesteps)
            shape = (len(rows), len(steps), len(features))
            width = len(columns)
            result.append((fitted[:, start : start + width].reshape(shape),
                           residual[:, start : start + width].reshape(shape)))
            start += width
        self._last_parts = (key, result)
        return result


def unit_columns(inputs: Inputs, unit: Unit) -> list[np.ndarray]:
    """The columns of each block of the unit in a flattened sample (:meth:`Inputs.flat_rows`)."""
    offsets = inputs.column_offsets
    return [
        block.flat_columns(inputs.parts[block.input].n_timesteps, inputs.parts[block.input].n_features,
                           offsets[block.input])
        for block in unit.blocks
    ]


def _real_means(inputs: Inputs) -> list[np.ndarray]:
    """Each input's feature means over its real (not padded) cells."""
    return [feature_stats(part.values, part.mask).mean for part in inputs.parts]


class WithCategorical:
    """The continuous units' sampler, and a categorical sampler for the categorical units (``parts`` of either)."""

    def __init__(self, continuous, variables: Mapping[int, tuple]):
        self._continuous = continuous
        self._variables = dict(variables)

    def parts(self, unit_index: int, rows: np.ndarray):
        if unit_index in self._variables:
            return CategoricalDraw(self._variables[unit_index], rows)
        return self._continuous.parts(unit_index, rows)


def fit_sampler(inputs: Inputs, units: Sequence[Unit], stats: Sequence[FeatureStats], reference,
                input_names: Sequence[str] | None, mask_value,
                masking_layers: Mapping[int, float], learner=None, categorical=None):
    """The run's conditional sampler, fitted on ``reference`` (like ``X``; None: the evaluated rows).

    The padding of the reference rows is found as the evaluated rows' is (``mask_value``, or the
    model's ``masking_layers``), so padded cells never inform the fit. ``learner`` None: ridge
    (:mod:`.ridge`); else that learner, out of fold (:mod:`.learners`), fitted here and now.
    ``categorical`` (:class:`~pyimportance.data.categorical.CategoricalFeatures`): its units get
    a classifier's sampled class (:mod:`.categorical_sampler`).
    """
    reference_inputs = None
    if reference is not None:
        reference_inputs = with_masks(check_X(reference, None, input_names or list(inputs.names)), mask_value,
                                      masking_layers)
    means = [found.mean for found in stats]
    reference_means = None if reference_inputs is None else _real_means(reference_inputs)
    regressor, classifier = split_learner(learner)
    kinds = [categorical_kind(unit, categorical, inputs) if categorical else None for unit in units]
    coded = frozenset(index for index, kind in enumerate(kinds) if kind is not None)
    if regressor is None:
        continuous = ConditionalSampler(inputs, units, means, reference_inputs)
    else:
        continuous = LearnedConditional(inputs, units, [unit_columns(inputs, unit) for unit in units], means,
                                        regressor, reference_inputs, reference_means, skipped=coded)
    if not coded:
        return continuous
    flat = inputs.flat_rows(slice(None), means)
    source = flat if reference_inputs is None else reference_inputs.flat_rows(slice(None), reference_means)
    classifier = default_classifier() if classifier is None else classifier
    variables = {index: categorical_variables(units[index], categorical, inputs, flat, source,
                                              unit_columns(inputs, units[index]), classifier,
                                              in_sample=reference_inputs is None)
                 for index in sorted(coded)}
    return WithCategorical(continuous, variables)
