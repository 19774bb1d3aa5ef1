"""Running a plan: the baseline, then the jobs of each row block, here or on an executor.

With a fixed budget there is one row block (all evaluated rows). With ``tolerance`` the rows
are taken in seeded random blocks; after each block every job of the block has been scored,
and the run stops as soon as every interval's half-width is at most ``tolerance`` times the
largest importance (or the rows run out). Which rows form a block, and every perturbation,
depend only on the seed, so the decision and the numbers do not depend on ``batch_size``, the
executor or the task size.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from . import inference
from .evaluate import BASELINE, JobEvaluator, model_failed
from .plan import Plan
from .predict import ModelOutputError, NotRowWiseError, PredictFunction, check_row_wise
from .tally import Baseline, JobResult, Tally, job_result, scoring_failures
from .targets import Scoring, build_scoring, check_targets

# Default rows per model call. Recurrent layers run fastest at a few thousand rows (their
# per-step state then stays in the CPU caches: at 16k rows, LSTM(64) runs about half as fast
# as at 2-4k); a chunk also holds at most about 8M input values (32 MiB in float32).
_MAX_CHUNK_ROWS = 4096
_TARGET_CHUNK_VALUES = 8_000_000
_MIN_CHUNK_ROWS = 256
# A chunk larger than this is refused (batch_size=10**12 would try to allocate terabytes).
_MAX_CHUNK_BYTES = 2 * 2**30
# Early stopping: rows per block, and blocks scored before the first stopping decision.
ROWS_PER_BLOCK = 1000
MIN_BLOCKS = 2


def default_batch_rows(values_per_row: int, total_rows: int) -> int:
    """Rows per model call when ``batch_size`` is None: fast, bounded in memory, little padding.

    The rows are spread evenly over the calls needed, so the last call is not mostly padding.
    """
    rows = _TARGET_CHUNK_VALUES // max(1, values_per_row)
    rows = int(np.clip(rows, _MIN_CHUNK_ROWS, _MAX_CHUNK_ROWS))
    total_rows = max(1, total_rows)
    calls = -(-total_rows // rows)
    return -(-total_rows // calls)


def chunk_rows(batch_size: int | None, values_per_row: int, total_rows: int, itemsize: int) -> int:
    """Rows per model call: ``batch_size`` (at most the rows there are), or the default."""
    if batch_size is None:
        return default_batch_rows(values_per_row, total_rows)
    rows = min(batch_size, max(1, total_rows))
    needed = rows * values_per_row * itemsize
    if needed > _MAX_CHUNK_BYTES:
        raise ValueError(
            f"batch_size={batch_size} needs {needed / 2**30:.1f} GiB per model call for this data; "
            f"use a smaller batch_size (at most {max(1, _MAX_CHUNK_BYTES // (values_per_row * itemsize))})"
        )
    return rows


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
    statistics: inference.RowStatistics | None
    baseline_rows: np.ndarray | None  # (n_slots, n_outputs) summed baseline values (rmse intervals)
    rows_used: int
    converged: bool | None
    precision: float | None  # largest half-width / largest importance at the end (tolerance runs)


def run_plan(plan: Plan, model, targets, loss, *, output=None, per_output: bool = False,
             options: RunOptions = RunOptions()) -> RunOutcome:
    """Baseline, then every job of each row block, with early stopping when ``options.tolerance`` is set."""
    if options.ci == "data":
        inference.prefetch()
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
        raise model_failed(error, BASELINE) from error
    scoring = build_scoring(predict.head_shapes, targets, loss, output=output, per_output=per_output)
    check_targets(scoring, first_predictions)
    with scoring_failures(scoring, BASELINE):
        scoring = scoring.with_row_wise_custom_losses(first_predictions, first_rows)
        baseline = _Baseline(plan, scoring, first_rows, first_predictions)
    tally = Tally(plan, scoring, baseline.state, track_rows=options.ci == "data")

    converged, precision, used_blocks = None, None, 0
    for block in range(n_blocks):
        if block > 0:
            rows = plan.block_rows(block)
            with scoring_failures(scoring, BASELINE):
                baseline.add(block, rows, evaluator.predictions(rows))
        for result in _run_jobs(plan, predict, model, scoring, baseline.state, block, options, evaluator):
            tally.add(result)
        used_blocks = block + 1
        if options.tolerance is not None and used_blocks >= min(MIN_BLOCKS, n_blocks):
            precision = _precision(tally, scoring, options, baseline.slot_sums(tally))
            options.on_round(int(sum(len(plan.block_rows(b)) for b in range(used_blocks))), precision)
            converged = precision is not None and precision <= options.tolerance
            if converged:
                break
    used_rows = np.concatenate([plan.block_rows(b) for b in range(used_blocks)])
    return RunOutcome(
        importances=tally.importances(),
        baseline_score=baseline.score(used_rows, range(used_blocks)),
        scoring=scoring,
        statistics=None if tally.accumulator is None else tally.accumulator.statistics(),
        baseline_rows=baseline.slot_sums(tally),
        rows_used=len(used_rows),
        converged=converged,
        precision=precision,
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


def _precision(tally: Tally, scoring: Scoring, options: RunOptions, baseline_rows) -> float | None:
    """Largest interval half-width over units and outputs, relative to the largest importance: of the
    same intervals the result will report (``baseline_rows``: what an rmse interval needs)."""
    importances = tally.importances()
    estimate = importances.mean(axis=1)
    intervals = interval_table(estimate, importances, tally.accumulator.statistics() if tally.accumulator else None,
                               scoring, options.ci, options.block_size, baseline_rows)
    half = (intervals.ci_high - intervals.ci_low) / 2
    largest = float(np.nanmax(np.abs(estimate))) if np.isfinite(estimate).any() else 0.0
    if not np.isfinite(half).all() or largest <= 0:
        return None
    return float(np.max(half) / largest)


def interval_table(estimate: np.ndarray, importances: np.ndarray, statistics, scoring: Scoring, ci: str,
                   block_size: int | None, baseline_rows) -> inference.Intervals:
    """Intervals of every unit and output: data-level where row-wise values exist, else over repeats."""
    n_units, _, n_outputs = importances.shape
    if ci == "data" and statistics is not None:
        aggregates = [scoring.output_aggregate(k) for k in range(n_outputs)]
        if all(a == "mean" for a in aggregates):
            return inference.data_intervals(statistics, estimate, block_size=block_size)
        if all(a == "rmse" for a in aggregates) and baseline_rows is not None:
            return inference.data_intervals(statistics, estimate, block_size=block_size,
                                            baseline_rows=baseline_rows, aggregate="rmse")
    per_output = [inference.repeats_intervals(importances[:, :, k]) for k in range(n_outputs)]
    return inference.Intervals(
        std_error=np.stack([i.std_error for i in per_output], axis=1),
        ci_low=np.stack([i.ci_low for i in per_output], axis=1),
        ci_high=np.stack([i.ci_high for i in per_output], axis=1),
        p_value=np.stack([i.p_value for i in per_output], axis=1),
        block_size=None,
        method="repeats",
    )

