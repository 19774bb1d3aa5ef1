"""The run loop of every estimator: the baseline, then each step's tasks, here or on an executor.

An estimator (:mod:`.estimator`) supplies the tasks of a row block and how their results add up;
everything else is here, once: the compiled predict function and its batch size, the row-wise,
target and scoring checks (head aliases included), the baseline block by block, early stopping,
the intervals, progress and the executors.

With a fixed budget there is one row block (all evaluated rows). With ``tolerance`` the rows
are taken in seeded random blocks; after each step (its blocks' tasks all added up) the run
stops as soon as every interval's half-width is at most ``tolerance`` times the largest
importance (or the steps run out). Which rows form a block, and every task's draws, depend only
on the seed, so the decision and the numbers do not depend on ``batch_size``, the executor or
the task size.

The intervals are computed here, once per decision: after each step for the stopping rule and,
for the result, the last of them (one computation at the end with a fixed budget), by
:func:`pyimportance.stats.intervals.run_intervals` through the estimator's sums, so the rule
reads the intervals the result reports.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from ..errors import ModelFailedError, ModelOutputError, NotRowWiseError
from ..model.predict import PredictFunction
from ..model.row_wise import check_repeatable, check_row_wise
from ..scoring.heads import build_scoring
from ..scoring.scoring import Scoring, scoring_failures
from ..scoring.target_checks import check_targets
from ..stats.accumulator import RowStatistics
from ..stats.block_bootstrap import block_length_library_loading
from ..stats.intervals import Intervals, run_intervals
from .estimator import BASELINE, Estimator, Reported, Sums
from .packing import chunk_rows

#: Early stopping: steps run before the first stopping decision.
MIN_BLOCKS = 2


@dataclass(frozen=True)
class RunOptions:
    """How to run: batching, compilation, executor, progress, stopping."""

    batch_size: int | None = None
    jit_compile: bool | str = "auto"
    executor: Executor | None = None
    task_size: int | None = None
    tolerance: float | None = None
    ci: str = "data"
    block_size: int | None = None
    probabilities: str | None = None  # ask .predict_proba models for "all" columns or the "positive" one
    on_rows: Callable[[int], None] = lambda rows: None
    on_round: Callable[[int, float | None], None] = lambda rows, precision: None


@dataclass(frozen=True)
class RunOutcome:
    """Everything a result is made of."""

    importances: np.ndarray  # (n_units, n_repeats, n_outputs)
    baseline_score: np.ndarray  # (n_outputs,)
    scoring: Scoring
    intervals: Intervals  # the intervals the result reports
    ci_note: str | None  # why they are not the kind ``ci`` asked for (None: they are)
    rows_used: int
    converged: bool | None
    precision: float | None  # largest half-width / largest importance at the end (tolerance runs)
    row_statistics: RowStatistics | None = None  # the per-row sums a result keeps for its row importances
    row_note: str | None = None  # why there are none
    extra: dict = field(default_factory=dict)  # the estimator's own numbers (Shapley: v(all units))


def run_estimator(estimator: Estimator, model, targets, losses, *, output=None, per_output: bool = False,
                  options: RunOptions = RunOptions(), sample_weight: np.ndarray | None = None) -> RunOutcome:
    """The baseline, then every step's tasks (:meth:`Estimator.steps`), with early stopping when
    ``options.tolerance`` is set: after each step from the second on, once every interval is narrow enough.

    ``losses``: the run's loss as :func:`pyimportance.scoring.losses.resolve_losses` resolved it;
    ``sample_weight``: the evaluated rows' weights (the scoring's :attr:`~.Scoring.row_weights`, with the
    loss's own), or None.
    """
    predict = _predict_function(estimator, model, options)
    context = estimator.local_context(predict, options.on_rows, options.executor is None)
    steps = estimator.steps(options.tolerance)
    scoring: Scoring | None = None
    sums: Sums | None = None
    aggregates: list[str] = []  # each output's aggregate of its row-wise values, once the scoring is known
    converged, precision, reported, predicted = None, None, None, []
    with block_length_library_loading() if options.ci == "data" else contextlib.nullcontext():
        for done, step in enumerate(steps, start=1):
            for block in step.blocks:
                rows = estimator.block_rows(block)
                if block not in predicted:
                    predictions = estimator.baseline_predictions(predict, rows, options.on_rows, context)
                    if scoring is None:
                        scoring = _checked_scoring(estimator, predict, rows, predictions, targets, losses, output,
                                                   per_output, sample_weight)
                        sums = estimator.sums(scoring, track_rows=options.ci == "data")
                        aggregates = [scoring.output_aggregate(k) for k in range(len(scoring.outputs))]
                    with scoring_failures(scoring, BASELINE):
                        sums.add_baseline(block, rows, predictions)
                    predicted.append(block)
                tasks = estimator.tasks(block, step.repeats)
                for result in _computed(estimator, tasks, predict, model, scoring, sums, options, context):
                    sums.add(result)
            if options.tolerance is not None and done >= min(MIN_BLOCKS, len(steps)):
                reported, note = _reported(sums, aggregates, options)
                precision = relative_precision(reported.intervals, reported.importances)
                options.on_round(_rows_of(estimator, predicted), precision)
                converged = precision is not None and precision <= options.tolerance
                if converged:
                    break
        if reported is None:
            reported, note = _reported(sums, aggregates, options)
    row_statistics, row_note = sums.row_statistics(aggregates, options.ci)
    return RunOutcome(
        importances=reported.importances,
        baseline_score=sums.baseline_score(predicted),
        scoring=scoring,
        intervals=reported.intervals,
        ci_note=note,
        rows_used=_rows_of(estimator, predicted),
        converged=converged,
        precision=precision,
        row_statistics=row_statistics,
        row_note=row_note,
        extra=reported.extra,
    )


def _predict_function(estimator: Estimator, model, options: RunOptions) -> PredictFunction:
    """The run's compiled predict function, with the batch size of its chunks (:func:`~.packing.chunk_rows`)."""
    total_rows = estimator.total_rows()
    predict = PredictFunction(model, batch_rows=1, jit_compile=options.jit_compile, total_rows=total_rows,
                              probabilities=options.probabilities)
    predict.batch_rows = chunk_rows(options.batch_size, estimator.inputs.n_columns, total_rows,
                                    np.dtype(predict.dtype).itemsize)
    if options.batch_size is None and estimator.aligned_rows > 1:
        predict.batch_rows = -(-predict.batch_rows // estimator.aligned_rows) * estimator.aligned_rows
    return predict


def _checked_scoring(estimator: Estimator, predict: PredictFunction, rows: np.ndarray, predictions: np.ndarray,
                     targets, losses, output, per_output: bool, sample_weight: np.ndarray | None) -> Scoring:
    """The run's scoring, once the model is known to be row-wise and the targets to fit its outputs."""
    inputs = estimator.inputs
    def arguments_for(chosen: np.ndarray):
        return inputs.call_arguments([part.values[rows[chosen]].astype(predict.dtype) for part in inputs.parts])

    try:
        check_repeatable(predict, arguments_for, predictions)
        check_row_wise(predict, arguments_for, predictions)
    except (ModelOutputError, NotRowWiseError):
        raise
    except Exception as error:
        raise ModelFailedError.raised(error, BASELINE) from error
    scoring = build_scoring(predict.head_shapes, targets, losses, output=output, per_output=per_output,
                            aliases=predict.head_aliases)
    check_targets(scoring, predictions)
    with scoring_failures(scoring, BASELINE):
        scoring = scoring.with_row_wise_custom_losses(predictions, rows)
    scoring = scoring.with_weights(sample_weight)
    estimator.check_scoring(scoring)
    return scoring


def _computed(estimator: Estimator, tasks: list, predict: PredictFunction, model, scoring: Scoring, sums: Sums,
              options: RunOptions, context) -> list:
    """The results of ``tasks``, in their order, computed here or by tasks on the executor."""
    if options.executor is None:
        return estimator.compute(predict, scoring, sums.baseline, tasks, options.on_rows, context)
    from .distributed import run_tasks

    return run_tasks(estimator, tasks, model, scoring, sums.baseline, predict=predict, executor=options.executor,
                     task_size=options.task_size, on_rows=options.on_rows)


def _rows_of(estimator: Estimator, blocks: list[int]) -> int:
    """Rows in ``blocks``."""
    return int(sum(len(estimator.block_rows(block)) for block in blocks))


def _reported(sums: Sums, aggregates: list[str], options: RunOptions) -> tuple[Reported, str | None]:
    """What the result reports if the run ends here (the importances, their intervals), and the intervals' note."""
    values = sums.values()
    terms = sums.interval_terms()
    intervals, note = run_intervals(values, terms.statistics, aggregates, options.ci, options.block_size,
                                    terms.slot_sums, terms.deterministic, n_rows=terms.n_rows)
    return sums.reported(values, intervals), note


def relative_precision(intervals: Intervals, importances: np.ndarray) -> float | None:
    """Largest interval half-width over units and outputs, relative to the largest importance."""
    estimate = importances.mean(axis=1)
    half = (intervals.ci_high - intervals.ci_low) / 2
    largest = float(np.nanmax(np.abs(estimate))) if np.isfinite(estimate).any() else 0.0
    if not np.isfinite(half).all() or largest <= 0:
        return None
    return float(np.max(half) / largest)
