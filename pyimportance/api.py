"""The public function: validate, plan, run, wrap the result."""

from __future__ import annotations

import numbers
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np

from . import seeding, terms
from .perturbations import NOISE_METHODS, feature_stats, resolve_method
from .predict import PredictFunction, check_model_input
from .result import ImportanceResult
from .runner import ChunkedEvaluator, Plan, default_batch_rows
from .scoring import check_target, resolve_loss
from .units import BY_CHOICES, build_units
from .validation import (
    check_choice,
    check_groups,
    check_positive_float,
    check_positive_int,
    check_X,
    check_y,
)


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
    if isinstance(max_samples, numbers.Real) and not isinstance(max_samples, (numbers.Integral, bool)):
        if float(max_samples).is_integer() and max_samples > 1:
            max_samples = int(max_samples)
        elif 0 < max_samples <= 1:
            return max(1, int(round(max_samples * n_samples)))
        else:
            raise ValueError(f"max_samples must be an int >= 1 or a fraction in (0, 1], got {max_samples}")
    count = check_positive_int(max_samples, "max_samples")
    if count > n_samples:
        raise ValueError(
            f"max_samples must be at most the number of samples in {terms.arg('X')} ({n_samples}), got {count}"
        )
    return count


def _progress_bar(enabled: bool | None, total: int):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="rows", unit_scale=True, desc="pyimportance", leave=False)


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
        ``model.predict(X_chunk)`` or ``model(X_chunk)``.
    X : array of shape (n_samples, n_timesteps, n_features) or (n_samples, n_features), or DataFrame
        Evaluation data; never modified.
    y : array of shape (n_samples,) or (n_samples, n_outputs), optional
        True targets (class labels as integers 0..K-1 or one-hot). Without ``y`` the
        importance is the mean absolute change of the predictions.
    method : {"gaussian", "uniform", "permute", "resample", "zero", "mean"} or callable
        How a unit is perturbed; a callable gets ``(values, rng)`` with values of shape
        (n_samples, n_unit_timesteps, n_unit_features) and returns new values of that shape.
    scale : float, default 0.1
        Noise standard deviation for "gaussian"/"uniform": a fraction of each feature's sd
        when ``relative_scale`` is True, otherwise an absolute sd.
    relative_scale : bool, default True
    loss : {"mse", "rmse", "mae", "log_loss", "binary_crossentropy", "categorical_crossentropy", "accuracy"} or callable
        Used with ``y`` (default "mse"). A callable ``(y_true, y_pred) -> float`` is a loss.
    n_repeats : int, default 5
    by : {"feature", "timestep", "cell"}, default "feature"
        Unit of perturbation: a feature over all time steps, all features at one time step,
        or each (time step, feature) cell.
    groups : dict of {name: list of feature names or indices}, optional
        Features perturbed together; replaces single features as units.
    feature_names : sequence of str, optional
        Defaults to DataFrame columns or ``x1..xF``.
    max_samples : int or float, optional
        Evaluate on a random subset of this many rows (or this fraction).
    batch_size : int, optional
        Rows per model call; a performance knob that never changes the result.
    random_state : int, numpy Generator or SeedSequence, optional
        Same value, same result, whatever ``batch_size``.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    jit_compile : bool or "auto", default "auto"
        XLA compilation of Keras models on TensorFlow; "auto" uses it for large work.
    executor : concurrent.futures.Executor, optional
        Run the perturbed jobs as tasks on this executor, e.g. ``client.get_executor()`` of a
        Dask ``distributed.Client``, or a process or thread pool. Same numbers as the local run.
        Keras models travel in the ``.keras`` format; other models, methods and losses are
        pickled. See :mod:`pyimportance.distributed`.
    task_size : int, optional
        (unit, repeat) jobs per task with ``executor`` (default: about 4 tasks per worker).

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
    data = check_X(X, feature_names)
    y_values = check_y(y, data.n_samples)
    perturb = resolve_method(method)
    scale = check_positive_float(scale, "scale")
    if not isinstance(relative_scale, (bool, np.bool_)):
        raise TypeError(
            f"relative_scale must be {terms.choices([True, False])}, got {terms.literal(relative_scale)}"
        )
    scorer = resolve_loss(loss, y_values is not None)
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    by = check_choice(by, "by", BY_CHOICES)
    if by != "feature" and not data.is_sequence:
        raise ValueError(
            f"by={terms.literal(by)} needs 3D {terms.arg('X')} (n_samples, n_timesteps, n_features), "
            f"got 2D {terms.arg('X')}"
        )
    resolved_groups = check_groups(groups, data.feature_names) if groups is not None else None
    batch_size = check_positive_int(batch_size, "batch_size", allow_none=True)
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise TypeError(
            f"progress must be {terms.choices([True, False, None])}, got {terms.literal(progress)}"
        )
    if not (isinstance(jit_compile, (bool, np.bool_)) or (isinstance(jit_compile, str) and jit_compile == "auto")):
        raise ValueError(f"jit_compile must be True, False or 'auto', got {jit_compile!r}")
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor or None, got {type(executor).__name__}")
    task_size = check_positive_int(task_size, "task_size", allow_none=True)
    if task_size is not None and executor is None:
        raise ValueError("task_size needs an executor, got executor=None")
    check_model_input(model, data.values.shape if data.is_sequence else (data.n_samples, data.n_features))
    entropy = seeding.root_entropy(random_state)

    values, y_values = _subsample(data.values, y_values, _check_max_samples(max_samples, data.n_samples), entropy)
    units = build_units(by, data.feature_names, values.shape[1], resolved_groups)
    plan = Plan(
        values=values,
        is_sequence=data.is_sequence,
        units=units,
        n_repeats=n_repeats,
        perturb=perturb,
        stats=feature_stats(values),
        scale=scale,
        relative_scale=bool(relative_scale),
        scorer=scorer,
        entropy=entropy,
    )
    importances, baseline_score = _run(plan, model, y_values, batch_size, progress, jit_compile, executor, task_size)
    settings: dict[str, Any] = {
        "method": method if isinstance(method, str) else getattr(method, "__name__", "custom"),
        "scale": scale if method in NOISE_METHODS else None,
        "relative_scale": bool(relative_scale),
        "loss": scorer.name,
        "by": by,
        "groups": {name: [data.feature_names[i] for i in idx] for name, idx in resolved_groups.items()}
        if resolved_groups
        else None,
        "n_repeats": n_repeats,
        "n_samples": values.shape[0],
        "random_state": random_state if isinstance(random_state, (int, np.integer)) else entropy,
        "feature_names": list(data.feature_names),
    }
    return ImportanceResult(importances, units, baseline_score, settings)


def _subsample(values: np.ndarray, y: np.ndarray | None, count: int, entropy: int):
    """The rows to evaluate on: all of them, or ``count`` chosen at random (kept in order)."""
    if count == values.shape[0]:
        return values, y
    rows = np.sort(seeding.subsample_rng(entropy).choice(values.shape[0], size=count, replace=False))
    return values[rows], (None if y is None else y[rows])


def _run(plan: Plan, model, y: np.ndarray | None, batch_size: int | None, progress, jit_compile,
         executor: Executor | None = None, task_size: int | None = None):
    """Baseline, then every (unit, repeat) job (here or on ``executor``); returns (importances (U, R), baseline)."""
    n_samples, n_timesteps, n_features = plan.values.shape
    jobs = plan.jobs
    total_rows = n_samples * (len(jobs) + 1)
    batch_rows = batch_size or default_batch_rows(n_timesteps, n_features, total_rows)
    predict = PredictFunction(model, batch_rows=batch_rows, jit_compile=jit_compile, total_rows=total_rows)
    bar = _progress_bar(progress, total_rows)
    evaluator = ChunkedEvaluator(plan, predict, on_rows=bar.update if bar is not None else (lambda rows: None))
    try:
        baseline = evaluator.predictions(None)
        if y is not None:
            check_target(plan.scorer, y, baseline)
            target = y
        else:
            target = baseline
        baseline_score = float(plan.scorer.function(target, baseline))
        if executor is None:
            scores = evaluator.scores(jobs, target, baseline_score)
        else:
            from .distributed import run_jobs

            scores = run_jobs(
                plan, model, target, baseline_score, executor=executor, batch_rows=batch_rows,
                jit_compile=jit_compile, total_rows=total_rows, task_size=task_size, on_rows=evaluator.on_rows,
            )
    finally:
        if bar is not None:
            bar.close()
    return scores.reshape(len(plan.units), plan.n_repeats), baseline_score
