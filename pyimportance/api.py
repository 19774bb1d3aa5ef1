"""The public function: validate, plan, run, wrap the result."""

from __future__ import annotations

import numbers
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

import numpy as np

from . import seeding, terms
from .inference import Intervals
from .inputs import Inputs, keras_mask_values, padding_mask
from .perturbations import feature_stats, resolve_method
from .plan import Plan
from .predict import check_model_input, check_not_stateful, is_keras_model, keras_inputs, keras_takes_dict
from .result import ImportanceResult
from .runner import ROWS_PER_BLOCK, RunOptions, interval_table, run_plan
from .scoring import resolve_loss
from .units import BY_CHOICES, build_units
from .validation import (
    check_choice,
    check_flag,
    check_groups,
    check_positive_float,
    check_positive_int,
    check_X,
    check_y,
)

CI_CHOICES = ("data", "repeats")


def _check_model(model) -> None:
    if not (callable(model) or callable(getattr(model, "predict", None))):
        raise TypeError(
            "model must be a Keras model, an object with a .predict(X) method or a callable "
            f"X -> predictions, got {type(model).__name__}"
        )


def _check_max_samples(max_samples, n_samples: int) -> int:
    """Rows to evaluate on: an int count or a float fraction in (0, 1]."""
    if max_samples is None:
        return n_samples
    if isinstance(max_samples, numbers.Real) and not isinstance(max_samples, (numbers.Integral, bool, np.bool_)):
        expectation = "max_samples must be an int >= 1 or a fraction in (0, 1]"
        if not np.isfinite(max_samples):
            raise ValueError(f"{expectation}, got {terms.number(max_samples)}")
        if float(max_samples).is_integer() and max_samples > 1:
            max_samples = int(max_samples)
        elif 0 < max_samples <= 1:
            return max(1, int(round(max_samples * n_samples)))
        else:
            raise ValueError(f"{expectation}, got {terms.number(max_samples)}")
    count = check_positive_int(max_samples, "max_samples")
    if count > n_samples:
        raise ValueError(
            f"max_samples must be at most the number of samples in {terms.arg('X')} ({n_samples}), got {count}"
        )
    return count


def _check_tolerance(tolerance) -> float | None:
    if tolerance is None:
        return None
    value = check_positive_float(tolerance, "tolerance")
    if value >= 1:
        raise ValueError(f"tolerance must be a fraction of the largest importance in (0, 1), got {value:g}")
    return value


def _progress_bar(enabled: bool | None, total: int):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="rows", unit_scale=True, desc="pyimportance", leave=False)


def _with_masks(inputs: Inputs, model, mask_value) -> Inputs:
    """Padding masks of the sequence inputs: ``mask_value``, or the model's Masking layers ("auto")."""
    if mask_value is None:
        return inputs
    if isinstance(mask_value, str):
        if mask_value != "auto":
            raise ValueError(f"mask_value must be a number, {terms.literal('auto')} or {terms.literal(None)}, "
                             f"got {terms.literal(mask_value)}")
        by_position = keras_mask_values(model) if is_keras_model(model) else {}
        values = {inputs.parts[i].name: value for i, value in by_position.items() if i < len(inputs.parts)}
    elif isinstance(mask_value, Mapping):
        unknown = [key for key in mask_value if key not in inputs.names]
        if unknown:
            raise ValueError(
                f"mask_value names unknown inputs {terms.vector(unknown)}; inputs: {terms.vector(inputs.names)}"
            )
        values = {str(key): value for key, value in mask_value.items()}
    else:
        if isinstance(mask_value, (bool, np.bool_)) or not isinstance(mask_value, numbers.Real):
            raise TypeError(f"mask_value must be a number, {terms.literal('auto')} or {terms.literal(None)}, "
                            f"got {terms.literal(mask_value) if not isinstance(mask_value, list) else mask_value}")
        values = {part.name: mask_value for part in inputs.parts if part.is_sequence}
    parts = []
    for part in inputs.parts:
        value = values.get(part.name)
        if value is None or not part.is_sequence:
            parts.append(part)
            continue
        parts.append(replace(part, mask=padding_mask(part.values, float(value)), mask_value=float(value)))
    return Inputs(tuple(parts), inputs.form)


def perturbation_importance(
    model,
    X,
    y=None,
    *,
    method: str | Callable = "gaussian",
    scale: float = 0.1,
    relative_scale: bool = True,
    loss: str | Callable | None = None,
    n_repeats: int = 5,
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
    reference=None,
    jit_compile: bool | str = "auto",
    executor: Executor | None = None,
    task_size: int | None = None,
) -> ImportanceResult:
    """Perturbation (permutation) importance of each input variable of a model.

    Each unit (a feature over all its time steps by default) is perturbed ``n_repeats``
    times; the importance is how much the loss grows (with ``y``) or how much the
    predictions move (without ``y``).

    Parameters
    ----------
    model : keras.Model, object with ``.predict`` or callable
        Keras 3 / tf-keras models take a compiled fast path; anything else is called as
        ``model.predict(X_chunk)`` or ``model(X_chunk)``. The model must be *row-wise*: a
        row's prediction depends on that row only, not on the other rows of the call (no
        statistics over the batch, no stateful layers), and the same in every call.
        Stateful Keras layers are refused and a quick check refuses models that fail this.
    X : array (n_samples, n_timesteps, n_features) or (n_samples, n_features), DataFrame, or a list/dict of them
        Evaluation data; never modified. Several arrays for a model with several inputs, in
        the model's order (list) or by input name (dict); a callable then receives the list/dict.
    y : array of shape (n_samples,) or (n_samples, n_outputs), or a list / dict of them, optional
        True targets (class labels as integers 0..K-1 or one-hot; (n, 1) labels are flattened).
        A list/dict gives one target per output head. Without ``y`` the importance is the mean
        absolute change of the predictions.
    method : {"gaussian", "uniform", "permute", "resample", "conditional", "zero", "mean"} or callable
        How a unit is perturbed; a callable gets ``(values, rng)`` with a fresh copy of the
        unit's values, shape (n_samples, n_unit_timesteps, n_unit_features), and returns new
        values of that shape. ``"conditional"`` keeps the part of the unit that the rest of
        the sample predicts (ridge regression) and permutes only the residual.
    scale : float, default 0.1
        Noise standard deviation for "gaussian"/"uniform": a fraction of each feature's sd
        when ``relative_scale`` is True, otherwise an absolute sd.
    relative_scale : bool, default True
    loss : str, Keras loss object, callable, or a list/dict of them (one per output head)
        Used with ``y`` (default "mse"): "mse", "rmse", "mae", "log_loss",
        "binary_crossentropy", "categorical_crossentropy", "accuracy", or a Keras name or
        alias ("mean_squared_error", "MSE", "sparse_categorical_crossentropy", ...); a Keras
        loss object such as ``keras.losses.BinaryCrossentropy(from_logits=True)``; a callable
        ``(y_true, y_pred) -> float`` (or one value per row).
    n_repeats : int, default 5
        Perturbations per unit (deterministic methods "zero"/"mean" are evaluated once).
    by : {"feature", "timestep", "cell"}, default "feature"
    groups : dict of {name: list of feature names or indices}, optional
    feature_names : sequence of str (or one per input), optional
    max_samples : int or float, optional
        Evaluate on a random subset of this many rows (or this fraction); with ``tolerance``
        the most rows to use.
    batch_size : int, optional
        Rows per model call; a performance knob. The same settings give bit-identical
        results; different batch sizes agree to float32 rounding (see the README).
    random_state : int, numpy Generator or SeedSequence, optional
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    ci : {"data", "repeats"}, default "data"
        "data": an interval for the importance in the population the rows come from, counting
        the rows (consecutive rows may be dependent: a circular block bootstrap with a
        data-chosen block length) and the perturbations. "repeats": the t-interval over
        repeats, conditional on this data set.
    block_size : int, optional
        Rows per block for ``ci="data"`` (default: chosen from the data, see the README).
    tolerance : float in (0, 1), optional
        Stop as soon as every interval's half-width is at most ``tolerance`` times the largest
        importance: rows are evaluated in seeded random blocks of 1,000 until then (or until
        ``max_samples``/all rows). None (default): a fixed budget, all rows.
    output : str, int, list or dict, optional
        Output heads (names or positions) to score, or ``{head: [columns]}``; default all.
    per_output : bool, default False
        Report importance per output head, and per column of a regression head (forecast
        horizons, time steps of a sequence output).
    mask_value : float, "auto", dict or None, default "auto"
        Value marking padded time steps (all features of the step equal it). "auto": the
        ``mask_value`` of a Keras ``Masking`` layer reading an input, else none. Padded steps
        are never perturbed, never supply values to real steps and are left out of the
        feature statistics.
    reference : array (or list/dict like X), optional
        Rows on which ``method="conditional"`` fits its conditional model (e.g. the training
        windows); default: the evaluation rows.
    jit_compile : bool or "auto", default "auto"
        XLA compilation of Keras models on TensorFlow; "auto" uses it for large work.
    executor : concurrent.futures.Executor, optional
        Run the perturbed jobs as tasks on this executor (e.g. a Dask client's executor);
        same numbers as the local run. See :mod:`pyimportance.distributed`.
    task_size : int, optional
        Jobs per task with ``executor``.

    Returns
    -------
    ImportanceResult

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(200, 10, 3))
    >>> model = lambda x: 2.0 * x[:, -1, 0] + 0.1 * x[:, -1, 1]
    >>> result = perturbation_importance(model, X, n_repeats=3, random_state=0)
    >>> result.to_frame()["feature"].tolist()
    ['x1', 'x2', 'x3']
    """
    _check_model(model)
    check_not_stateful(model)
    keras_model_inputs = keras_inputs(model)
    input_names = [name for name, _ in keras_model_inputs] if keras_model_inputs else None
    inputs = check_X(X, feature_names, input_names)
    if keras_takes_dict(model) and inputs.form == "list":
        inputs = Inputs(inputs.parts, "dict")
    x_index = getattr(X, "index", None) if inputs.single else None
    targets = check_y(y, inputs.n_samples, x_index)
    resolved = resolve_method(method)
    scale = check_positive_float(scale, "scale")
    relative_scale = check_flag(relative_scale, "relative_scale")
    probabilities = _check_loss(loss, targets)
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    by, resolved_groups = _check_units(by, groups, inputs)
    batch_size, progress, task_size = _check_execution(batch_size, progress, jit_compile, executor, task_size)
    ci = check_choice(ci, "ci", CI_CHOICES)
    block_size = check_positive_int(block_size, "block_size", allow_none=True)
    tolerance = _check_tolerance(tolerance)
    per_output = check_flag(per_output, "per_output")
    if reference is not None and not resolved.conditional:
        raise ValueError(f"reference is used by {terms.setting('method', 'conditional')} only, got "
                         f"{terms.setting('method', resolved.name)}")
    check_model_input(model, [part.values.shape if part.is_sequence else part.values[:, 0].shape
                              for part in inputs.parts], inputs.names)
    inputs = _with_masks(inputs, model, mask_value)
    root = seeding.root_seed(random_state)

    n_rows = _check_max_samples(max_samples, inputs.n_samples)
    inputs, targets, row_blocks = _rows(inputs, targets, n_rows, root, tolerance)
    if resolved.donor_based and inputs.n_samples < 2 or (resolved.donor_based and tolerance and
                                                         min(len(b) for b in row_blocks) < 2):
        warnings.warn(
            f"{terms.setting('method', resolved.name)} on {inputs.n_samples} row(s) cannot move any values between "
            "rows: every importance is 0 and the intervals are undefined (NaN); evaluate on more rows",
            UserWarning,
            stacklevel=2,
        )
    deterministic = resolved.deterministic
    repeats = 1 if deterministic else n_repeats
    units = build_units(by, inputs, resolved_groups)
    stats = [feature_stats(part.values, part.mask) for part in inputs.parts]
    plan = Plan(
        inputs=inputs,
        units=units,
        n_repeats=repeats,
        method=resolved,
        stats=stats,
        scale=scale,
        relative_scale=bool(relative_scale),
        root=root,
        row_blocks=row_blocks,
        conditional=_conditional(inputs, units, stats, reference, input_names, model, mask_value)
        if resolved.conditional
        else None,
    )
    total = inputs.n_samples * (len(units) * repeats + 1)
    bar = _progress_bar(progress, total)
    options = RunOptions(
        batch_size=batch_size, jit_compile=jit_compile, executor=executor, task_size=task_size,
        tolerance=tolerance, ci=ci, block_size=block_size, probabilities=probabilities,
        on_rows=bar.update if bar is not None else (lambda rows: None),
        on_round=_round_reporter(bar, tolerance),
    )
    try:
        outcome = run_plan(plan, model, targets, loss, output=output, per_output=per_output, options=options)
    finally:
        if bar is not None:
            bar.close()
    intervals, note = _intervals(outcome, ci, block_size, deterministic)
    scoring = outcome.scoring
    settings = _settings(resolved, scale, relative_scale, scoring, by, resolved_groups, repeats, inputs, random_state,
                         root, ci, note, intervals, tolerance, per_output)
    return ImportanceResult(
        importances_all=outcome.importances,
        units=units,
        baseline_scores=outcome.baseline_score,
        intervals=intervals,
        settings=settings,
        outputs=scoring.labels,
        n_rows_used=outcome.rows_used,
        converged=outcome.converged,
        precision=outcome.precision,
    )


def _check_units(by, groups, inputs: Inputs):
    """``by`` and ``groups`` checked against the inputs: (by, resolved groups or None)."""
    by = check_choice(by, "by", BY_CHOICES)
    if by != "feature" and not inputs.is_sequence:
        raise ValueError(
            f"{terms.setting('by', by)} needs 3D {terms.arg('X')} (n_samples, n_timesteps, n_features), "
            f"got 2D {terms.arg('X')}"
        )
    if groups is not None and by == "timestep":
        raise ValueError(
            f"groups cannot be used with {terms.setting('by', 'timestep')}, which perturbs all features of a time "
            f"step together; use {terms.setting('by', 'cell')} for each group at each time step, or "
            f"{terms.setting('by', 'feature')}"
        )
    return by, (check_groups(groups, inputs.feature_names) if groups is not None else None)


def _check_execution(batch_size, progress, jit_compile, executor, task_size):
    """How the work runs (never what it computes): (batch_size, progress, task_size) checked."""
    batch_size = check_positive_int(batch_size, "batch_size", allow_none=True)
    progress = check_flag(progress, "progress", allow_none=True)
    if not (isinstance(jit_compile, (bool, np.bool_)) or (isinstance(jit_compile, str) and jit_compile == "auto")):
        raise ValueError(
            f"jit_compile must be {terms.choices([True, False, 'auto'])}, got {terms.literal(jit_compile)}"
        )
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor or None, got {type(executor).__name__}")
    task_size = check_positive_int(task_size, "task_size", allow_none=True)
    if task_size is not None and executor is None:
        raise ValueError(f"task_size needs an executor, got {terms.setting('executor', None)}")
    return batch_size, progress, task_size


def _settings(method, scale, relative_scale, scoring, by, groups, repeats, inputs: Inputs, random_state,
              root, ci, note, intervals, tolerance, per_output) -> dict[str, Any]:
    """The options the run used, as the result records them."""
    return {
        "method": method.name,
        "scale": scale if method.uses_scale else None,
        "relative_scale": bool(relative_scale),
        "loss": scoring.loss_name,
        "by": by,
        "groups": {name: [inputs.feature_names[i] for i in idx] for name, idx in groups.items()}
        if groups
        else None,
        "n_repeats": repeats,
        "n_samples": inputs.n_samples,
        "random_state": random_state if isinstance(random_state, (int, np.integer)) else root.describe(),
        "feature_names": list(inputs.feature_names),
        "inputs": list(inputs.names),
        "ci": ci,
        "ci_note": note,
        "block_size_used": intervals.block_size,
        "tolerance": tolerance,
        "per_output": per_output,
        "deterministic": method.deterministic,
        "mask_value": {p.name: p.mask_value for p in inputs.parts if p.mask is not None} or None,
    }


def _check_loss(loss, targets) -> str | None:
    """Resolve ``loss`` early (names, Keras objects, callables) so a bad name fails before any model call.

    Returns what a model with ``.predict_proba`` must be asked for: None, "all" columns, or the
    "positive" class's column (binary losses).
    """
    losses = loss.values() if isinstance(loss, Mapping) else (loss if isinstance(loss, (list, tuple)) else [loss])
    resolved = [resolve_loss(one, targets is not None) for one in losses]
    wanted = [found for found in resolved if found.probabilities and not found.from_logits]
    if not wanted:
        return None
    return "positive" if any(found.kind == "binary" for found in wanted) else "all"


def _rows(inputs: Inputs, targets, count: int, root: seeding.RootSeed, tolerance: float | None):
    """The evaluated rows (a seeded subset, in order) and, with ``tolerance``, their seeded blocks."""
    if count < inputs.n_samples:
        rows = np.sort(seeding.subsample_rng(root).choice(inputs.n_samples, size=count, replace=False))
        inputs = inputs.take(rows)
        targets = None if targets is None else [(name, values[rows]) for name, values in targets]
    if tolerance is None:
        return inputs, targets, []
    order = seeding.row_blocks_rng(root).permutation(inputs.n_samples)
    n_blocks = max(1, -(-inputs.n_samples // ROWS_PER_BLOCK))
    blocks = [np.sort(part) for part in np.array_split(order, n_blocks)]
    return inputs, targets, blocks


def _conditional(inputs: Inputs, units, stats, reference, input_names, model, mask_value):
    """The conditional sampler, fitted on ``reference`` (its padding found as the evaluated rows' is)."""
    from .conditional_units import ConditionalSampler

    reference_inputs = None
    if reference is not None:
        reference_inputs = _with_masks(check_X(reference, None, input_names or list(inputs.names)), model, mask_value)
    return ConditionalSampler(inputs, units, [found.mean for found in stats], reference_inputs)


def _intervals(outcome, ci: str, block_size: int | None, deterministic: bool) -> tuple[Intervals, str | None]:
    """The intervals of the run and a note when the requested kind was not available."""
    estimate = outcome.importances.mean(axis=1)
    intervals = interval_table(estimate, outcome.importances, outcome.statistics, outcome.scoring, ci,
                               block_size, outcome.baseline_rows)
    note = None
    if ci == "data" and intervals.method == "repeats":
        note = "the loss is not a mean over rows (custom callable or several rmse heads): interval over repeats"
    if deterministic and intervals.method == "repeats":
        nan = np.full_like(intervals.ci_low, np.nan)
        intervals = Intervals(np.zeros_like(nan), nan, nan, nan, None, "none")
        note = "deterministic method: no interval over repeats"
    return intervals, note


def _round_reporter(bar, tolerance: float | None):
    def report(rows: int, precision: float | None) -> None:
        if bar is not None and tolerance is not None:
            shown = "?" if precision is None else f"{precision:.3f}"
            bar.set_postfix_str(f"precision {shown} (target {tolerance:g}) after {rows} rows", refresh=True)

    return report
