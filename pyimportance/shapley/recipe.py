"""The public function :func:`shapley_importance`, as a recipe: check, plan, run, wrap.

The checks are those :func:`pyimportance.perturbation_importance` makes (the model with its data:
:mod:`pyimportance.engine.model_data`; units, loss, settings rules), in the same order, so a
mistake gets the same message from either function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor

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
from ..data.rows import check_max_samples, evaluated_rows
from ..data.units import BY_CHOICES, build_units, check_units
from ..engine.model_data import masked_inputs, model_inputs
from ..engine.progress import Progress
from ..engine.runner import RunOptions
from ..scoring.losses import probabilities_wanted, resolve_losses
from ..stats.intervals import CI_CHOICES, warn_if_too_few_rows
from .conditional import GaussianInputs, check_conditional, unit_columns
from .contributions import PieceSpec, piece_rows
from .estimator import run_shapley
from .imputation import unit_cells
from .result import ShapleyResult

IMPUTERS = ("marginal", "conditional")


def shapley_importance(
    model,
    X,
    y=None,
    *,
    loss: str | Callable | None = None,
    n_repeats: int = 2,
    n_draws: int = 8,
    imputer: str = "marginal",
    by: str = "feature",
    groups: Mapping[str, Sequence[str | int]] | None = None,
    feature_names: Sequence[str] | None = None,
    max_samples: int | float | None = None,
    batch_size: int | None = None,
    random_state: int | np.random.Generator | np.random.SeedSequence | None = None,
    progress: bool | None = None,
    ci: str = "data",
    block_size: int | None = None,
    tolerance: float | None = None,
    output=None,
    per_output: bool = False,
    mask_value: float | str | None = "auto",
    jit_compile: bool | str = "auto",
    executor: Executor | None = None,
    task_size: int | None = None,
) -> ShapleyResult:
    """Shapley global importance (SAGE) of each unit: its fair share of the loss the model explains.

    ``v(S) = loss(prediction knowing no unit) - loss(prediction knowing only the units in S)``;
    a unit's value is its mean loss drop when it joins the units before it in a random order.
    The values add up to ``v(all units)`` (``result.total``): the loss of the mean prediction
    minus the model's loss. Unlike perturbation importance, an interaction's effect is split
    between its inputs, not counted in full for each (``y = x1 * x2``: 0.5 each, summing to the
    explained loss of 1, where each feature's permutation importance is 2).

    Absent units are integrated out, by default *marginally*: the prediction is averaged over
    ``n_draws`` donor rows (other rows of the data), the bias this average brings to the loss removed by a
    jackknife (exact for squared error: see :mod:`pyimportance.shapley.imputation`).

    Parameters
    ----------
    model, X, y, loss, by, groups, feature_names, max_samples, batch_size, random_state, progress,
    block_size, output, per_output, mask_value, jit_compile, executor, task_size
        As in :func:`pyimportance.perturbation_importance` (the loss must be a mean of per-row
        values: not ``"rmse"``).
    n_repeats : int, default 2
        Unit orders per row, in antithetic pairs (the second of a pair walks the first backwards);
        with ``tolerance``, the most orders per row.
    n_draws : int, default 8
        Draws averaged per coalition (K >= 2); more lowers the variance, never the bias (removed
        for any K).
    imputer : {"marginal", "conditional"}, default "marginal"
        How the absent units are integrated out. "marginal": their values from other rows (what
        the model does with the inputs' typical values; a unit the model ignores gets exactly 0).
        "conditional": drawn given the known units from a Gaussian model of the inputs (what
        knowing the units tells the model, their dependence included: correlated inputs share
        their value); units of one size, no padding (:mod:`pyimportance.shapley.conditional`).
    ci : {"data", "repeats"}, default "data"
        "data": a 95% interval about the population the rows come from (rows resampled as in
        perturbation importance's ``ci="data"``, circular blocks for overlapping windows);
        "repeats": a t-interval over the orders, conditional on these rows.
    tolerance : float in (0, 1), optional
        Stop as soon as every value's 95% half-width is at most ``tolerance`` times the largest
        value: rows in seeded random blocks of 1,000 with one antithetic pair of orders each, then,
        once the rows have run out, another pair for every block, up to ``n_repeats`` orders.

    Returns
    -------
    ShapleyResult

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(2000, 2))
    >>> result = shapley_importance(lambda x: x[:, 0] * x[:, 1], X, X[:, 0] * X[:, 1], random_state=0)
    >>> [round(value, 1) for value in result.importances_mean]
    [0.5, 0.5]
    """
    # check: the model, the data and every setting, before any model call
    inputs, targets, _ = model_inputs(model, X, y, feature_names)
    losses = resolve_losses(loss, targets is not None)
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    n_draws = check_positive_int(n_draws, "n_draws")
    if n_draws < 2:
        raise ValueError(f"n_draws must be at least 2 (the bias of the average is removed with its draws), got "
                         f"{n_draws}")
    imputer = check_choice(imputer, "imputer", IMPUTERS)
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
    settings.check_rules(dict(loss=loss, y=y, groups=groups, by=by, task_size=task_size, executor=executor,
                              block_size=block_size, ci=ci))
    groups = check_units(by, groups, inputs)
    inputs, _ = masked_inputs(model, inputs, mask_value)
    root = seeding.root_seed(random_state)

    # plan: the evaluated rows, the units, and what each coalition knows
    n_rows = check_max_samples(max_samples, inputs.n_samples)
    inputs, targets, row_blocks = evaluated_rows(inputs, targets, n_rows, root, tolerance)
    if inputs.n_samples < 2:
        raise ValueError(f"shapley_importance needs at least 2 rows (absent units come from other rows), got "
                         f"{inputs.n_samples}")
    warn_if_too_few_rows(inputs.n_samples)
    units = build_units(by, inputs, groups)
    cells = unit_cells(inputs, units)
    padded = any(part.mask is not None for part in inputs.parts)
    conditional = {}
    if imputer == "conditional":
        columns = unit_columns(inputs, cells)
        check_conditional(inputs, columns)
        conditional = dict(imputer=imputer, gaussian=GaussianInputs(inputs), columns=columns)
    spec = PieceSpec(inputs=inputs, units=units, cells=cells, root=root, n_draws=n_draws, **conditional,
                     empty_needs_model=padded or bool(conditional)
                     or not all(member.any(axis=0).all() for member in cells))

    # run: the baseline and the pieces, block by block, with the intervals the result reports
    total_rows = inputs.n_samples * (piece_rows(spec, len(units)) * n_repeats + 1)
    with Progress(progress, total_rows, tolerance) as shown:
        options = RunOptions(
            batch_size=batch_size, jit_compile=jit_compile, executor=executor, task_size=task_size,
            tolerance=tolerance, ci=ci, block_size=block_size, probabilities=probabilities_wanted(losses),
            on_rows=shown.rows, on_round=shown.round,
        )
        outcome = run_shapley(spec, model, targets, losses, row_blocks=row_blocks, n_repeats=n_repeats,
                              output=output, per_output=per_output, options=options)

    # wrap: the result and the settings it records
    recorded = {
        "method": "shapley",
        "imputer": imputer,
        "n_draws": n_draws,
        "scale": None,
        "relative_scale": True,
        "loss": outcome.scoring.loss_name,
        "by": by,
        "groups": {name: [inputs.feature_names[i] for i in members] for name, members in groups.items()}
        if groups else None,
        "n_repeats": n_repeats,
        "n_samples": inputs.n_samples,
        "random_state": random_state if isinstance(random_state, (int, np.integer)) else root.describe(),
        "feature_names": list(inputs.feature_names),
        "inputs": list(inputs.names),
        "ci": ci,
        "ci_note": outcome.ci_note,
        "block_size_used": outcome.intervals.block_size,
        "tolerance": tolerance,
        "per_output": per_output,
        "deterministic": False,
        "mask_value": {part.name: part.mask_value for part in inputs.parts if part.mask is not None} or None,
    }
    return ShapleyResult(
        importances_all=outcome.values,
        units=units,
        baseline_scores=outcome.baseline_score,
        intervals=outcome.intervals,
        settings=recorded,
        outputs=outcome.scoring.labels,
        n_rows_used=outcome.rows_used,
        converged=outcome.converged,
        precision=outcome.precision,
        total_values=outcome.total,
        total_intervals=outcome.total_intervals,
    )
