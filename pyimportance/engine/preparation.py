"""One preparation for every estimator: the options they share, checked once, the evaluated rows, the run and
what every result records.

Each public function (:func:`pyimportance.perturbation_importance`, :func:`pyimportance.shapley_importance`)
is a recipe: :func:`prepare` with its own checks, its plan of the tasks (an
:class:`~.estimator.Estimator`), :meth:`Prepared.run`, then its result with
:meth:`Prepared.settings`. The shared options (:data:`pyimportance.settings.SHARED`) are checked here,
in one order, so a mistake gets one message from every estimator; an estimator checks only its own
options, in the ``own_checks`` callback (run after the model and the data, before the shared
options), whose values the rules between settings (:data:`pyimportance.settings.RULES`) see too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import settings
from ..data import seeding
from ..data.arguments import (
    check_choice,
    check_executor,
    check_flag,
    check_jit_compile,
    check_positive_int,
    check_tolerance,
)
from ..data.inputs import Inputs
from ..data.rows import check_max_samples, evaluated_rows, subsample_rows
from ..data.units import BY_CHOICES, check_units
from ..data.weights import check_sample_weight, evaluated_weights
from ..scoring.losses import probabilities_wanted, resolve_losses
from ..stats.intervals import CI_CHOICES, warn_if_too_few_rows
from .estimator import Estimator
from .model_data import masked_inputs, model_inputs
from .progress import Progress
from .runner import RunOptions, RunOutcome, run_estimator


@dataclass(frozen=True)
class Prepared:
    """The checked shared options and the evaluated rows of one run."""

    inputs: Inputs  # the evaluated rows, with their padding masks
    targets: Any
    input_names: Any  # a Keras model's input names, or None
    masking_layers: Any
    losses: Any  # :func:`~pyimportance.scoring.losses.resolve_losses`
    by: str
    groups: dict[str, tuple[int, ...]] | None  # group names -> feature positions
    root: seeding.RootSeed
    random_state: Any  # as the caller gave it
    row_blocks: list[np.ndarray]
    row_index: Any  # the evaluated rows' labels: X's DataFrame index, else their 0-based positions
    sample_weight: np.ndarray | None  # (n_evaluated,) float64: the evaluated rows' ``sample_weight``, or None
    options: Mapping[str, Any]  # batch_size, progress, ci, block_size, tolerance, output, per_output, jit_compile,
    #                             executor, task_size

    def run(self, estimator: Estimator, model) -> RunOutcome:
        """The baseline and the estimator's tasks, with progress (:func:`~.runner.run_estimator`)."""
        options = self.options
        with Progress(options["progress"], estimator.total_rows(), options["tolerance"]) as shown:
            run_options = RunOptions(
                batch_size=options["batch_size"], jit_compile=options["jit_compile"], executor=options["executor"],
                task_size=options["task_size"], tolerance=options["tolerance"], ci=options["ci"],
                block_size=options["block_size"], probabilities=probabilities_wanted(self.losses),
                on_rows=shown.rows, on_round=shown.round,
            )
            return run_estimator(estimator, model, self.targets, self.losses, output=options["output"],
                                 per_output=options["per_output"], options=run_options,
                                 sample_weight=self.sample_weight)

    def settings(self, record: type[settings.RunSettings], estimator: str, outcome: RunOutcome, *, n_repeats: int,
                 **own) -> settings.RunSettings:
        """The settings the result records: the shared ones, ``n_repeats`` and the estimator's ``own`` fields."""
        inputs, options = self.inputs, self.options
        names = inputs.feature_names
        groups = self.groups or {}
        return record(
            estimator=estimator,
            loss=outcome.scoring.loss_name,
            by=self.by,
            groups={name: [names[i] for i in members] for name, members in groups.items()} or None,
            n_repeats=n_repeats,
            n_samples=inputs.n_samples,
            random_state=self.random_state if isinstance(self.random_state, (int, np.integer))
            else self.root.describe(),
            feature_names=list(names),
            inputs=list(inputs.names),
            ci=options["ci"],
            ci_note=outcome.ci_note,
            block_size_used=outcome.intervals.block_size,
            tolerance=options["tolerance"],
            per_output=options["per_output"],
            mask_value={part.name: part.mask_value for part in inputs.parts if part.mask is not None} or None,
            **own,
        )

    def result_fields(self, outcome: RunOutcome) -> dict[str, Any]:
        """The fields every result takes from the run (:class:`~pyimportance.result.ImportanceResult`)."""
        return dict(importances_all=outcome.importances, baseline_scores=outcome.baseline_score,
                    intervals=outcome.intervals, outputs=outcome.scoring.labels, n_rows_used=outcome.rows_used,
                    converged=outcome.converged, precision=outcome.precision,
                    row_statistics=outcome.row_statistics, row_note=outcome.row_note, row_index=self.row_index)


def prepare(model, X, y, *, own_checks: Callable[[], Mapping[str, Any]] = dict,
            check_rows: Callable[[Inputs, list], None] = lambda inputs, blocks: None,
            loss, by, groups, feature_names, max_samples, batch_size, random_state, progress, ci, block_size,
            tolerance, output, per_output, mask_value, jit_compile, executor, task_size,
            sample_weight=None) -> Prepared:
    """The shared options checked, the model with its data, and the evaluated rows, before any model call.

    Parameters
    ----------
    own_checks : callable
        Checks the estimator's own options (after the model and the data); returns the values the
        rules between settings need of them (e.g. ``method``, ``reference``, ``learner``).
    check_rows : callable
        ``(inputs, row_blocks)`` of the evaluated rows: the estimator's own checks or warnings on them.
    loss, by, ..., task_size, sample_weight
        The shared options, as the public functions take them (their defaults are the functions', from
        :mod:`pyimportance.settings`). ``Prepared.sample_weight`` holds the evaluated rows' weights (None
        without ``sample_weight``); an estimator's means over rows are weighted by them (the run loop's
        scoring carries them as ``Scoring.row_weights``, with a loss's own per-row weights).
    """
    inputs, targets, input_names, x_index = model_inputs(model, X, y, feature_names)
    own = dict(own_checks())
    losses = resolve_losses(loss, targets is not None)
    by = check_choice(by, "by", BY_CHOICES)
    batch_size = check_positive_int(batch_size, "batch_size", allow_none=True)
    progress = check_flag(progress, "progress", allow_none=True)
    jit_compile = check_jit_compile(jit_compile)
    executor = check_executor(executor)
    task_size = check_positive_int(task_size, "task_size", allow_none=True)
    ci = check_choice(ci, "ci", CI_CHOICES)
    block_size = check_positive_int(block_size, "block_size", allow_none=True)
    tolerance = check_tolerance(tolerance)
    per_output = check_flag(per_output, "per_output")
    settings.check_rules(dict(loss=loss, y=targets, groups=groups, by=by, task_size=task_size, executor=executor,
                              block_size=block_size, ci=ci, **own))
    groups = check_units(by, groups, inputs)
    inputs, masking_layers = masked_inputs(model, inputs, mask_value)
    root = seeding.root_seed(random_state)

    weights = check_sample_weight(sample_weight, inputs.n_samples, x_index)
    n_rows = check_max_samples(max_samples, inputs.n_samples)
    row_positions = subsample_rows(inputs.n_samples, n_rows, root)
    weights = evaluated_weights(weights, row_positions)
    inputs, targets, row_blocks = evaluated_rows(inputs, targets, n_rows, root, tolerance)
    check_rows(inputs, row_blocks)
    warn_if_too_few_rows(inputs.n_samples)
    return Prepared(
        inputs=inputs, targets=targets, input_names=input_names, masking_layers=masking_layers, losses=losses, by=by,
        groups=groups, root=root, random_state=random_state, row_blocks=row_blocks,
        row_index=x_index[row_positions] if x_index is not None else row_positions, sample_weight=weights,
        options=dict(batch_size=batch_size, progress=progress, ci=ci, block_size=block_size, tolerance=tolerance,
                     output=output, per_output=per_output, jit_compile=jit_compile, executor=executor,
                     task_size=task_size),
    )
