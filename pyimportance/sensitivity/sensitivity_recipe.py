"""The public function :func:`sensitivity_importance`, as a recipe: prepare, plan the chunks, run, wrap.

The options it shares with the other estimators are checked by the one preparation
(:func:`pyimportance.engine.preparation.prepare`); its own (``method``, ``n_steps``, ``baselines``,
``attribution_rows``) are checked here, and its result records them (:class:`SensitivitySettings`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from .. import terms
from ..data.arguments import check_choice, check_positive_int
from ..data.units import build_units
from ..engine.preparation import prepare
from ..settings import RunSettings
from .attributions import METHODS, SensitivitySpec, unit_members
from .gradients import backend_of, check_float_inputs
from .paths import baseline_rows, check_baselines, gauss_legendre
from .sensitivity_estimator import SensitivityEstimator
from .sensitivity_result import SensitivityResult

#: Default path points of integrated gradients (captum's default too): the Gauss-Legendre rule meets
#: :data:`COMPLETENESS_TOLERANCE` on the models of ``tests/sensitivity`` and the benchmark's LSTM. Measured
#: (mean |delta| / mean |f(x) - f(x0)|, 200 rows): LSTM(16) and LSTM(64) of 30 x 5, 2e-7 from 8 steps on; a
#: two-layer ReLU network (the kinks are the hard case) 2.7% at 8 steps, 1.0% at 32, 0.4% at 50, 0.3% at 64; an
#: LSTM with its weights scaled 4x (saturated, chaotic) 90% even at 50: check ``result.convergence_delta``.
N_STEPS = 50

#: Completeness at the default ``n_steps``: the rows' mean ``|convergence_delta|`` is at most this fraction of
#: their mean ``|f(x) - f(x0)|`` (on the models above: smooth recurrent networks, ReLU networks).
COMPLETENESS_TOLERANCE = 0.01

#: Path points per gradient call without ``batch_size``: recurrent layers' forward and backward passes run
#: fastest at about 512 to 1,024 rows on CPU (measured on LSTM(64), 200 x 20: 0.85 ms per point there, 1.1 to
#: 1.5 at 1,550 to 2,048), and the backward pass keeps every step's activations in memory.
POINTS_PER_CALL = 1024

#: Most bytes of per-row maps a result keeps (float64 values: rows x cells x outputs).
MAX_ATTRIBUTION_BYTES = 256 * 2 ** 20


def sensitivity_importance(
    model,
    X,
    y=None,
    *,
    loss: str | Callable | None = None,
    method: str = "integrated_gradients",
    n_steps: int = N_STEPS,
    baselines="mean",
    attribution_rows: Sequence | None = None,
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
) -> SensitivityResult:
    """Sensitivity importance of each unit, read from the model's gradients, globally and per row.

    ``method="integrated_gradients"`` (default): per row, each cell's attribution is
    ``(x - x0)`` times the mean gradient along the straight path from the baseline row ``x0`` to
    ``x`` (``n_steps`` Gauss-Legendre points); a unit's value for a row is the signed sum of its
    cells' attributions (its total contribution to ``f(x) - f(x0)``). The importance is the mean
    over rows of ``|value|``; ``direction`` (a column of ``to_frame()``) its mean signed value.

    ``method="derivative"``: the derivative-based global sensitivity measure (DGSM), per row the sum
    over a unit's cells of ``(df/dx)^2 var(x)``. For independent inputs it bounds the unit's
    unnormalised total-effect (Sobol') variance: ``D_tot <= C E[(df/dx)^2]`` with the Poincare
    constant ``C = var(x)`` for Gaussian inputs (so the measure itself is the bound) and
    ``C = (b - a)^2 / pi^2`` for uniform inputs on [a, b] (``12 / pi^2`` times the measure), as in
    Sobol' and Kucherenko (2009, Math. Comput. Simul. 79: 3009-3017) and Lamboni, Iooss, Popelin
    and Gamboa (2013, Math. Comput. Simul. 87: 45-54). ``direction``: the mean of
    ``sum df/dx sd(x)``.

    Without ``y`` the prediction is attributed, each scored column on its own, an output's value
    being the mean over its columns (as perturbation importance's prediction change); with ``y``
    each output's per-row loss (``loss``, default "mse").

    Parameters
    ----------
    model : keras.Model
        A Keras 3 model (TensorFlow, JAX or torch backend) or a tf-keras model, with float inputs;
        a function or an object with ``.predict`` only has no gradients: use
        :func:`pyimportance.perturbation_importance`.
    X, y, loss, by, groups, feature_names, max_samples, sample_weight, batch_size, random_state,
    progress, block_size, tolerance, output, per_output, mask_value, jit_compile, executor, task_size
        As in :func:`pyimportance.perturbation_importance` (the loss must be differentiable with
        per-row values: not "accuracy" or "rmse"). ``batch_size``: rows per prediction call and
        path points per gradient call (default 1,024; at least one row's ``n_steps`` points).
    method : {"integrated_gradients", "derivative"}, default "integrated_gradients"
    n_steps : int, default 50
        Gauss-Legendre points of the path (integrated gradients): at the default the attributions
        of the test models (recurrent and ReLU networks) and the benchmark's LSTM add up to
        ``f(x) - f(x0)`` within 1% on average over the rows; a saturated network may need more:
        ``result.convergence_delta`` says.
    baselines : {"mean", "zeros"} or array, default "mean"
        The path's start ``x0``: each cell's mean over the evaluated rows, zeros, or one row
        (shaped as one row of ``X``; a list or dict per input). Padded steps keep the row's mask
        value along the path (their attribution is 0).
    attribution_rows : sequence of row labels, optional
        The rows whose per-row maps ``result.attributions`` keeps (labels as ``to_frame(rows=True)``
        names rows: ``X``'s DataFrame index, else 0-based positions). Default: every evaluated row
        while the maps fit in 256 MiB, else none (with the reason).
    ci : {"data"}, default "data"
        The 95% interval about the population the rows come from; "repeats" is refused (nothing
        is random).

    Returns
    -------
    SensitivityResult

    Examples
    --------
    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, use_bias=False)])
    >>> model.set_weights([np.array([[2.0], [-1.0], [0.0]])])
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> result = sensitivity_importance(model, X, baselines="zeros")
    >>> np.round(result.importances_mean / np.abs(X).mean(axis=0), 3).tolist()
    [2.0, 1.0, 0.0]
    """
    def own_checks() -> dict:
        """This estimator's own options, and the model's gradients."""
        nonlocal method, n_steps, baselines
        backend_of(model)
        method = check_choice(method, "method", METHODS)
        n_steps = check_positive_int(n_steps, "n_steps")
        baselines = check_baselines(baselines)
        if isinstance(ci, str) and ci == "repeats":
            raise ValueError(f"sensitivity_importance has no repeats (nothing is random): use "
                             f"{terms.setting('ci', 'data')}, the interval about the population, got "
                             f"{terms.setting('ci', 'repeats')}")
        return {}

    # check: the model, the data and every setting, before any model call; the evaluated rows
    prepared = prepare(
        model, X, y, own_checks=own_checks,
        loss=loss, by=by, groups=groups, feature_names=feature_names, max_samples=max_samples,
        sample_weight=sample_weight, batch_size=batch_size, random_state=random_state, progress=progress, ci=ci,
        block_size=block_size, tolerance=tolerance, output=output, per_output=per_output, mask_value=mask_value,
        jit_compile=jit_compile, executor=executor, task_size=task_size,
    )
    check_float_inputs(model, prepared.input_names)
    # plan: the units, the path and the rows whose maps are kept
    inputs = prepared.inputs
    units = build_units(prepared.by, inputs, prepared.groups)
    nodes, weights = gauss_legendre(n_steps) if method == "integrated_gradients" else (np.ones(1), np.ones(1))
    kept, kept_note = _kept_rows(attribution_rows, prepared.row_index, inputs.n_columns)
    spec = SensitivitySpec(
        inputs=inputs, units=units, member=unit_members(inputs, units), method=method, n_steps=n_steps,
        nodes=nodes, weights=weights, starts=baseline_rows(baselines, inputs), spreads=_cell_variances(inputs),
        kept=kept, points_per_call=prepared.options["batch_size"] or POINTS_PER_CALL,
    )
    # run: the baseline and the chunks, block by block, with the intervals the result reports
    outcome = prepared.run(SensitivityEstimator(spec, prepared.row_blocks), model)
    # wrap: the result and the settings it records
    recorded = prepared.settings(
        SensitivitySettings, "sensitivity", outcome, n_repeats=1, method=method,
        n_steps=n_steps if method == "integrated_gradients" else None,
        baselines=None if method == "derivative" else baselines if isinstance(baselines, str) else "array",
        deterministic=True,
    )
    extra = outcome.extra
    return SensitivityResult(
        units=units, settings=recorded, direction_values=extra["direction"], attribution_maps=extra["maps"],
        attribution_note=kept_note, delta_values=extra["convergence_delta"], input_shapes=[
            (part.name, part.n_timesteps, part.n_features, part.is_sequence) for part in inputs.parts],
        **prepared.result_fields(outcome),
    )


def _kept_rows(attribution_rows, row_index, n_cells: int) -> tuple[np.ndarray, str | None]:
    """Which evaluated rows keep their maps, and why none are kept (or None). The cap counts one output: with
    ``per_output`` the maps hold one value per output and cell."""
    labels = np.asarray(row_index)
    n_rows = len(labels)
    per_row = 8 * n_cells
    if attribution_rows is None:
        if n_rows * per_row <= MAX_ATTRIBUTION_BYTES:
            return np.ones(n_rows, dtype=bool), None
        return np.zeros(n_rows, dtype=bool), (
            f"the per-row maps of {n_rows} rows x {n_cells} cells would take {n_rows * per_row / 2 ** 20:.0f} MiB, "
            f"over {MAX_ATTRIBUTION_BYTES / 2 ** 20:.0f} MiB: name the rows to keep with "
            f"{terms.arg('attribution_rows')}, or evaluate fewer rows ({terms.arg('max_samples')})")
    wanted = list(attribution_rows)
    missing = [label for label in wanted if not (labels == label).any()]
    if missing:
        positions = np.issubdtype(labels.dtype, np.integer)  # positions as the caller counts them (1-based in R)
        shown = [terms.index(label) for label in missing[:5]] if positions else missing[:5]
        counted = "1-based" if terms.index(0) == 1 else "0-based"
        raise ValueError(f"{terms.arg('attribution_rows')} must name evaluated rows (labels as in X's index, or "
                         f"{counted} positions), got {terms.vector(shown)} not among them")
    kept = np.isin(labels, wanted)
    if int(kept.sum()) * per_row > MAX_ATTRIBUTION_BYTES:
        raise ValueError(f"{terms.arg('attribution_rows')} names {int(kept.sum())} rows, whose maps would take "
                         f"more than {MAX_ATTRIBUTION_BYTES / 2 ** 20:.0f} MiB; name fewer")
    return kept, None


def _cell_variances(inputs) -> np.ndarray:
    """(n_cells,) each cell's variance over the evaluated rows' real (unpadded) steps (0 where padded always)."""
    spreads = []
    for part in inputs.parts:
        values = np.asarray(part.values, dtype=np.float64)
        real = np.ones(values.shape[:2], dtype=bool) if part.mask is None else part.mask
        counts = real.sum(axis=0)[:, None]
        safe = np.maximum(counts, 1)
        mean = np.where(real[:, :, None], values, 0.0).sum(axis=0) / safe
        square = np.where(real[:, :, None], (values - mean) ** 2, 0.0).sum(axis=0) / safe
        spreads.append(np.where(counts > 0, square, 0.0).reshape(-1))
    return np.concatenate(spreads)


@dataclass(frozen=True, eq=False, repr=False)
class SensitivitySettings(RunSettings):
    """The settings a sensitivity importance result records: the shared ones (:class:`RunSettings`) and its own.

    ``method`` is "integrated_gradients" or "derivative"; ``n_steps`` and ``baselines`` ("mean", "zeros" or
    "array") are None for the derivative, which has no path; ``n_repeats`` is 1 and ``deterministic`` True
    (nothing is random: ``std`` is 0, as for perturbation's deterministic methods).
    """

    method: str
    n_steps: int | None
    baselines: str | None
    deterministic: bool
