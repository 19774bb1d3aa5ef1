"""Running a plan: the baseline, then the jobs of each row block, here or on an executor.

With a fixed budget there is one row block (all evaluated rows). With ``tolerance`` the rows
are taken in seeded random blocks; after each block every job of the block has been scored,
and the run stops as soon as every interval's half-width is at most ``tolerance`` times the
largest importance (or the rows run out). Which rows form a block, and every perturbation,
depend only on the seed, so the decision and the numbers do not depend on ``batch_size``, the
executor or the task size.

The intervals are computed here, once per decision: after each block for the stopping rule and,
for the result, the last of them (one computation at the end with a fixed budget), by
:func:`pyimportance.stats.intervals.run_intervals`, so the rule reads the intervals the result
reports.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from ..errors import ModelFailedError, ModelOutputError, NotRowWiseError
from ..model.predict import PredictFunction
from ..model.row_wise import check_row_wise
from ..scoring.heads import build_scoring
from ..scoring.scoring import Scoring, scoring_failures
from ..scoring.target_checks import check_targets
from ..stats.accumulator import RowStatistics
from ..stats.block_bootstrap import block_length_library_loading
from ..stats.intervals import Intervals, run_intervals
from ..stats.row_values import kept_row_statistics
from .evaluate import BASELINE, JobEvaluator
from .packing import chunk_rows
from .plan import Plan
from .tally import Baseline, JobResult, Tally, job_result

#: Early stopping: blocks of rows scored before the first stopping decision.
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


def run_plan(plan: Plan, model, targets, losses, *, output=None, per_output: bool = False,
             options: RunOptions = RunOptions()) -> RunOutcome:
    """Baseline, then every job of each row block, with early stopping when ``options.tolerance`` is set.

    ``losses``: the run's loss as :func:`pyimportance.scoring.losses.resolve_losses` resolved it.
    """
    values_per_row = sum(part.n_timesteps * part.n_features for part in plan.inputs.parts)
    n_blocks = len(plan.row_blocks) or 1
    jobs_per_block = len(plan.units) * plan.n_repeats
    total_rows = plan.n_samples * (jobs_per_block + 1)
    predict = PredictFunction(model, batch_rows=1, jit_compile=options.jit_compile, total_rows=total_rows,
                              probabilities=options.probabilities)
    predict.batch_rows = chunk_rows(options.batch_size, values_per_row, total_rows, np.dtype(predict.dtype).itemsize)
    evaluator = JobEvaluator(plan, predict, on_rows=options.on_rows)

    first_rows = plan.block_rows(0)
    first_predictions = evaluator.predictions(first_rows)
    try:
        check_row_wise(predict, lambda rows: _arguments(plan, first_rows[rows], predict.dtype), first_predictions)
    except (ModelOutputError, NotRowWiseError):
        raise
    except Exception as error:
        raise ModelFailedError.raised(error, BASELINE) from error
    scoring = build_scoring(predict.head_shapes, targets, losses, output=output, per_output=per_output,
                            aliases=predict.head_aliases)
    check_targets(scoring, first_predictions)
    with scoring_failures(scoring, BASELINE):
        scoring = scoring.with_row_wise_custom_losses(first_predictions, first_rows)
        baseline = _Baseline(plan, scoring, first_rows, first_predictions)
    tally = Tally(plan, scoring, baseline.state, track_rows=options.ci == "data")

    converged, precision, used_blocks, reported = None, None, 0, None
    with block_length_library_loading() if options.ci == "data" else contextlib.nullcontext():
        for block in range(n_blocks):
            if block > 0:
                rows = plan.block_rows(block)
                with scoring_failures(scoring, BASELINE):
                    baseline.add(block, rows, evaluator.predictions(rows))
            for result in _run_jobs(plan, predict, model, scoring, baseline.state, block, options, evaluator):
                tally.add(result)
            used_blocks = block + 1
            if options.tolerance is not None and used_blocks >= min(MIN_BLOCKS, n_blocks):
                reported = _intervals(plan, tally, scoring, baseline, options)
                precision = relative_precision(*reported[:2])
                options.on_round(int(sum(len(plan.block_rows(b)) for b in range(used_blocks))), precision)
                converged = precision is not None and precision <= options.tolerance
                if converged:
                    break
        if reported is None:
            reported = _intervals(plan, tally, scoring, baseline, options)
    intervals, importances, note = reported
    used_rows = np.concatenate([plan.block_rows(b) for b in range(used_blocks)])
    row_statistics, row_note = kept_row_statistics(
        tally.accumulator, [scoring.output_aggregate(k) for k in range(importances.shape[2])], options.ci)
    return RunOutcome(
        importances=importances,
        baseline_score=baseline.score(used_rows, range(used_blocks)),
        scoring=scoring,
        intervals=intervals,
        ci_note=note,
        rows_used=len(used_rows),
        converged=converged,
        precision=precision,
        row_statistics=row_statistics,
        row_note=row_note,
    )


def _arguments(plan: Plan, rows: np.ndarray, dtype):
    """The model's arguments for ``rows``, in the dtype of the chunk buffers (a compiled Keras forward
    pass would otherwise be traced a second time, for another input dtype)."""
    return plan.inputs.call_arguments([part.values[rows].astype(dtype) for part in plan.inputs.parts])


class _Baseline:
    """The unperturbed predictions and row-wise values, filled block by block."""

    def __init__(self, plan: Plan, scoring: Scoring, rows: np.ndarray, predictions: np.ndarray):
        self._plan = plan
        self._scoring = scoring
        n_parts = len(scoring.parts)
        full = np.zeros((plan.n_samples, predictions.shape[1]))
        self.state = Baseline(full, np.zeros((plan.n_samples, n_parts)) if scoring.rowwise else None, {})
        self.add(0, rows, predictions)

    def add(self, block: int, rows: np.ndarray, predictions: np.ndarray) -> None:
        self.state.predictions[rows] = predictions
        if self.state.part_values is not None:
            self.state.part_values[rows] = self._scoring.part_values(predictions, rows, self.state.predictions)
        if not self._scoring.decomposable:
            self.state.custom_scores[block] = self._scoring.custom_scores(predictions, rows)

    def score(self, rows: np.ndarray, blocks) -> np.ndarray:
        """Baseline score of each output unit on ``rows`` (non-decomposable parts: mean over blocks)."""
        sums = self.state.part_values[rows].sum(axis=0) if self.state.part_values is not None else None
        if sums is None:
            sums = np.zeros(len(self._scoring.parts))
        custom = None
        if self.state.custom_scores:
            custom = np.mean([self.state.custom_scores[b] for b in blocks], axis=0)
        return self._scoring.scores(sums, len(rows), custom)

    def slot_sums(self, tally: Tally) -> np.ndarray | None:
        """Baseline row-wise values of each output unit summed per slot of the accumulator (rmse intervals)."""
        if tally.accumulator is None or self.state.part_values is None:
            return None
        return tally.accumulator.slot_sums(self._scoring.by_output(self.state.part_values))


def _run_jobs(plan: Plan, predict: PredictFunction, model, scoring: Scoring, baseline: Baseline, block: int,
              options: RunOptions, evaluator: JobEvaluator):
    """Job results of one row block, computed here or by tasks on the executor."""
    jobs = plan.jobs(block)
    if options.executor is None:
        results: list[JobResult] = []
        evaluator.run(jobs, lambda job, rows, predictions, donors: results.append(
            job_result(scoring, baseline, job, rows, predictions, donors, plan.describe)))
        return results
    from .distributed import run_jobs

    return run_jobs(plan, model, scoring, baseline, jobs, predict=predict, executor=options.executor,
                    task_size=options.task_size, on_rows=options.on_rows)


def _intervals(plan: Plan, tally: Tally, scoring: Scoring, baseline: _Baseline,
               options: RunOptions) -> tuple[Intervals, np.ndarray, str | None]:
    """The intervals of the rows scored so far (those the result reports if the run ends here), the
    importances they are about and their note."""
    importances = tally.importances()
    aggregates = [scoring.output_aggregate(k) for k in range(importances.shape[2])]
    statistics = tally.accumulator.statistics() if tally.accumulator is not None else None
    intervals, note = run_intervals(importances, statistics, aggregates, options.ci, options.block_size,
                                    baseline.slot_sums(tally), plan.method.deterministic, n_rows=plan.inputs.n_samples)
    return intervals, importances, note


def relative_precision(intervals: Intervals, importances: np.ndarray) -> float | None:
    """Largest interval half-width over units and outputs, relative to the largest importance."""
    estimate = importances.mean(axis=1)
    half = (intervals.ci_high - intervals.ci_low) / 2
    largest = float(np.nanmax(np.abs(estimate))) if np.isfinite(estimate).any() else 0.0
    if not np.isfinite(half).all() or largest <= 0:
        return None
    return float(np.max(half) / largest)
