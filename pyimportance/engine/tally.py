"""What a run adds up: each job's scores, and the per-row statistics the data-level intervals need.

A job's predictions become, per row, the values of each scored part (:mod:`pyimportance.scoring`). A
:class:`JobResult` holds their sums over the job's rows (the repeat's importance follows from
them) and, for row-wise measures, each row's increase over the baseline with the donors of
donor-based methods. :class:`Tally` adds job results up. The runner adds them in the plan's
job order, block by block, whether they were computed here or by an executor's tasks (which
return them in job order), so the sums, rounding included, do not depend on how the jobs were
batched or spread over workers. (Added in another order, sums of three or more terms would
differ in their last bits.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..data.rows import as_slice
from ..scoring.scoring import Scoring, scoring_failures
from ..stats.accumulator import RowAccumulator
from .plan import Job, Plan


@dataclass(frozen=True)
class JobResult:
    """What one job contributes."""

    job: Job
    part_sums: np.ndarray  # (n_parts,) sums over the job's rows of each part's row-wise values (times their weights)
    custom_scores: np.ndarray | None  # (n_parts,) scores of non-decomposable parts on the job's rows
    increase: np.ndarray | None  # (k, K) per-row increase of each output unit (row-wise measures)
    donors: np.ndarray | None


@dataclass(frozen=True)
class Baseline:
    """The unperturbed model on the evaluated rows."""

    predictions: np.ndarray  # (n, columns)
    part_values: np.ndarray | None  # (n, n_parts) row-wise values (None: no row-wise measure)
    custom_scores: dict[int, np.ndarray]  # row block -> scores of non-decomposable parts on its rows


def job_result(scoring: Scoring, baseline: Baseline, job: Job, rows: np.ndarray, predictions: np.ndarray,
               donors: np.ndarray | None, describe: Callable[[Job], str]) -> JobResult:
    """Score one job's predictions (same on a worker as here); a custom loss's failure names the job."""
    with scoring_failures(scoring, f"while scoring {describe(job)}"):
        return _job_result(scoring, baseline, job, rows, predictions, donors)


def _job_result(scoring: Scoring, baseline: Baseline, job: Job, rows: np.ndarray, predictions: np.ndarray,
                donors: np.ndarray | None) -> JobResult:
    span = as_slice(rows)
    rows = span if span is not None else rows  # a slice selects without copying
    if scoring.decomposable:
        values = scoring.part_values(predictions, rows, baseline.predictions)
        increase = scoring.row_increase(values, baseline.part_values[rows])
        return JobResult(job, scoring.row_sums(values, rows), None, increase, donors)
    values = scoring.part_values(predictions, rows, baseline.predictions) if scoring.rowwise else None
    sums = scoring.row_sums(values, rows) if values is not None else np.zeros(len(scoring.parts))
    return JobResult(job, sums, scoring.custom_scores(predictions, rows), None, donors)


class Tally:
    """Sums of job results: per (unit, repeat) scores and per-row statistics for the intervals."""

    def __init__(self, plan: Plan, scoring: Scoring, baseline: Baseline, *, track_rows: bool):
        n_units, n_parts = len(plan.units), len(scoring.parts)
        self._plan = plan
        self._scoring = scoring
        self._baseline = baseline
        self.part_sums = np.zeros((n_units, plan.n_repeats, n_parts))
        self.baseline_sums = np.zeros((n_units, plan.n_repeats, n_parts))
        # rows (or their weights: Scoring.row_weights) each (unit, repeat) has seen
        self.rows = np.zeros((n_units, plan.n_repeats), dtype=np.int64 if scoring.row_weights is None else np.float64)
        # non-decomposable parts: sum over blocks of (perturbed - baseline) block scores, and block counts (in a
        # weighted run, each block's difference times its rows' weight, and the sum of those weights)
        self.custom_differences = np.zeros((n_units, plan.n_repeats, n_parts))
        self.blocks = np.zeros((n_units, plan.n_repeats), dtype=np.int64 if scoring.row_weights is None else np.float64)
        self._block_baseline: dict[int, np.ndarray] = {}
        self.accumulator = (
            RowAccumulator(n_units, plan.n_samples, len(scoring.outputs), track_donors=plan.method.donor_based,
                           row_weights=scoring.row_weights)
            if track_rows and scoring.decomposable
            else None
        )

    def add(self, result: JobResult) -> None:
        unit, repeat, block = result.job
        rows = self._plan.block_rows(block)
        self.part_sums[unit, repeat] += result.part_sums
        if self._baseline.part_values is not None:
            if block not in self._block_baseline:
                self._block_baseline[block] = self._scoring.row_sums(self._baseline.part_values[rows], rows)
            self.baseline_sums[unit, repeat] += self._block_baseline[block]
        self.rows[unit, repeat] += self._scoring.row_total(rows)
        share = 1 if self._scoring.row_weights is None else self._scoring.row_total(rows)
        self.blocks[unit, repeat] += share
        if result.custom_scores is not None:
            difference = result.custom_scores - self._baseline.custom_scores[block]
            self.custom_differences[unit, repeat] += share * difference
        if self.accumulator is not None and result.increase is not None:
            self.accumulator.add(unit, rows, result.increase, result.donors)

    def importances(self) -> np.ndarray:
        """(n_units, n_repeats, n_outputs) importance of each unit, repeat and output unit."""
        scoring = self._scoring
        n_units, n_repeats, _ = self.part_sums.shape
        result = np.empty((n_units, n_repeats, len(scoring.outputs)))
        custom = self.custom_differences / np.where(self.blocks > 0, self.blocks, 1)[..., None]
        for unit in range(n_units):
            for repeat in range(n_repeats):
                count = self.rows[unit, repeat]
                perturbed = scoring.scores(self.part_sums[unit, repeat], count, custom[unit, repeat])
                baseline = scoring.scores(self.baseline_sums[unit, repeat], count, np.zeros(len(scoring.parts)))
                result[unit, repeat] = scoring.importance(baseline, perturbed)
        return result
