"""The public function :func:`shapley_importance`, as a recipe: prepare, plan the pieces, run, wrap.

The options it shares with :func:`pyimportance.perturbation_importance` are checked by the one
preparation (:func:`pyimportance.engine.preparation.prepare`), so a mistake gets the same message
from either function; its own (``n_repeats``, ``n_draws``, ``imputer``) are checked here, and its
result records them (:class:`ShapleySettings`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from ..data.arguments import check_choice, check_positive_int
from ..data.units import build_units, with_ungrouped_features
from ..engine.preparation import prepare
from ..settings import RunSettings
from .contributions import PieceSpec
from .gaussian_imputation import GaussianInputs, check_conditional, unit_columns
from .imputation import IMPUTERS, unit_cells
from .shapley_estimator import ShapleyEstimator
from .shapley_result import ShapleyResult


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
    sample_weight=None,
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
    model, X, y, loss, by, feature_names, max_samples, sample_weight, batch_size, random_state,
    progress, block_size, output, per_output, mask_value, jit_compile, executor, task_size
        As in :func:`pyimportance.perturbation_importance` (the loss must be a mean of per-row
        values: not ``"rmse"``).
    groups : dict of {name: list of feature names or indices}, optional
        Features that join a coalition together, as one unit. A feature outside every group is a
        unit of its own, named by its feature name (``result.settings["ungrouped"]`` lists them),
        so the values still add up to ``result.total``.
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
        their value); units of one size, no padding (:mod:`pyimportance.shapley.gaussian_imputation`).
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
    def own_checks() -> dict:
        """This estimator's own options (no rule between settings reads them)."""
        nonlocal n_repeats, n_draws, imputer
        n_repeats = check_positive_int(n_repeats, "n_repeats")
        n_draws = check_positive_int(n_draws, "n_draws")
        if n_draws < 2:
            raise ValueError(f"n_draws must be at least 2 (the bias of the average is removed with its draws), got "
                             f"{n_draws}")
        imputer = check_choice(imputer, "imputer", IMPUTERS)
        return {}

    # check: the model, the data and every setting, before any model call; the evaluated rows
    prepared = prepare(
        model, X, y, own_checks=own_checks, check_rows=_check_rows,
        loss=loss, by=by, groups=groups, feature_names=feature_names, max_samples=max_samples, batch_size=batch_size,
        sample_weight=sample_weight,
        random_state=random_state, progress=progress, ci=ci, block_size=block_size, tolerance=tolerance, output=output,
        per_output=per_output, mask_value=mask_value, jit_compile=jit_compile, executor=executor, task_size=task_size,
    )
    # plan: the units, and what each coalition knows
    inputs = prepared.inputs
    groups, ungrouped = (None, ()) if prepared.groups is None else \
        with_ungrouped_features(prepared.groups, inputs.feature_names)
    units = build_units(prepared.by, inputs, groups)
    cells = unit_cells(inputs, units)
    padded = any(part.mask is not None for part in inputs.parts)
    conditional = {}
    if imputer == "conditional":
        columns = unit_columns(inputs, cells)
        check_conditional(inputs, columns, ungrouped)
        conditional = dict(imputer=imputer, gaussian=GaussianInputs(inputs), columns=columns)
    spec = PieceSpec(inputs=inputs, units=units, cells=cells, root=prepared.root, n_draws=n_draws, **conditional,
                     empty_needs_model=padded or bool(conditional)
                     or not all(member.any(axis=0).all() for member in cells))

    # run: the baseline and the pieces, block by block, with the intervals the result reports
    outcome = prepared.run(ShapleyEstimator(spec, n_repeats, prepared.row_blocks), model)

    # wrap: the result and the settings it records
    recorded = prepared.settings(ShapleySettings, "shapley", outcome, n_repeats=n_repeats, imputer=imputer,
                                 n_draws=n_draws, ungrouped=list(ungrouped) or None)
    return ShapleyResult(units=units, settings=recorded, total_values=outcome.extra["total"],
                         total_intervals=outcome.extra["total_intervals"], **prepared.result_fields(outcome))


def _check_rows(inputs, row_blocks) -> None:
    if inputs.n_samples < 2:
        raise ValueError(f"shapley_importance needs at least 2 rows (absent units come from other rows), got "
                         f"{inputs.n_samples}")


@dataclass(frozen=True, eq=False, repr=False)
class ShapleySettings(RunSettings):
    """The settings a Shapley importance result records: the shared ones (:class:`RunSettings`) and its own
    (``n_repeats`` there is the unit orders per row)."""

    imputer: str
    n_draws: int
    ungrouped: list[str] | None = None  # features outside every group, each a unit of its own (named by it)
