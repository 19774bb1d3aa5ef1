"""Perturbation importance as an estimator on the run loop (:mod:`.runner`).

A row block's tasks are the plan's (unit, repeat) jobs (:mod:`.plan`); they are computed by the
:class:`~.evaluate.JobEvaluator` (packing, pipeline, prefix reuse), each job scored against the
baseline (:func:`~.tally.job_result`), and the job results add up in a :class:`~.tally.Tally`.
Every method runs through here, ``"conditional"`` included (its sampler is part of the plan).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..scoring.scoring import Scoring
from ..stats.row_values import kept_row_statistics
from .estimator import Estimator, IntervalTerms, Step, Sums
from .evaluate import JobEvaluator
from .plan import Job, Plan
from .tally import Baseline, JobResult, Tally, job_result


class PerturbationEstimator(Estimator):
    """The jobs of a :class:`~.plan.Plan`: every unit perturbed ``n_repeats`` times, block by block."""

    def __init__(self, plan: Plan):
        self.plan = plan

    @property
    def inputs(self):
        return self.plan.inputs

    @property
    def row_blocks(self) -> Sequence[np.ndarray]:
        return self.plan.row_blocks

    def model_rows_per_row(self) -> int:
        return len(self.plan.units) * self.plan.n_repeats

    def steps(self, tolerance: float | None) -> list[Step]:
        """Every job of each block in turn (the stopping rule looks after each block)."""
        repeats = list(range(self.plan.n_repeats))
        return [Step([block], repeats) for block in range(self.n_blocks)]

    def sums(self, scoring: Scoring, track_rows: bool) -> PerturbationSums:
        return PerturbationSums(self.plan, scoring, track_rows=track_rows)

    def local_context(self, predict, on_rows: Callable[[int], None], local: bool) -> JobEvaluator:
        return JobEvaluator(self.plan, predict, on_rows=on_rows)

    def baseline_predictions(self, predict, rows: np.ndarray, on_rows: Callable[[int], None],
                             context: JobEvaluator) -> np.ndarray:
        return context.predictions(rows)

    def tasks(self, block: int, repeats: Sequence[int]) -> list[Job]:
        """The block's jobs, unit by unit, repeats within a unit (the plan's canonical order)."""
        return [Job(unit, repeat, block) for unit in range(len(self.plan.units)) for repeat in repeats]

    def compute(self, predict, scoring: Scoring, baseline: Baseline, tasks: Sequence[Job],
                on_rows: Callable[[int], None] = lambda rows: None,
                context: JobEvaluator | None = None) -> list[JobResult]:
        evaluator = context if context is not None else JobEvaluator(self.plan, predict, on_rows=on_rows)
        results: list[JobResult] = []
        evaluator.run(tasks, lambda job, rows, predictions, donors: results.append(
            job_result(scoring, baseline, job, rows, predictions, donors, self.plan.describe)))
        return results

    def task_rows(self, task: Job) -> int:
        return len(self.plan.block_rows(task.block))

    def describe_tasks(self, first: Job, last: Job) -> str:
        return f"while evaluating {self.plan.describe(first)} to {self.plan.describe(last)}"


class PerturbationSums(Sums):
    """The baseline (predictions, row-wise values, block scores of custom losses) and the jobs' :class:`Tally`."""

    def __init__(self, plan: Plan, scoring: Scoring, *, track_rows: bool):
        self._plan = plan
        self._scoring = scoring
        self._track_rows = track_rows
        self._state: Baseline | None = None  # made with the first block's predictions (their width)
        self._tally: Tally | None = None

    @property
    def baseline(self) -> Baseline:
        return self._state

    def add_baseline(self, block: int, rows: np.ndarray, predictions: np.ndarray) -> None:
        scoring, plan = self._scoring, self._plan
        if self._state is None:
            self._state = Baseline(np.zeros((plan.n_samples, predictions.shape[1])),
                                   np.zeros((plan.n_samples, len(scoring.parts))) if scoring.rowwise else None, {})
            self._tally = Tally(plan, scoring, self._state, track_rows=self._track_rows)
        state = self._state
        state.predictions[rows] = predictions
        if state.part_values is not None:
            state.part_values[rows] = scoring.part_values(predictions, rows, state.predictions)
        if not scoring.decomposable:
            state.custom_scores[block] = scoring.custom_scores(predictions, rows)

    def add(self, result: JobResult) -> None:
        self._tally.add(result)

    def values(self) -> np.ndarray:
        return self._tally.importances()

    def interval_terms(self) -> IntervalTerms:
        accumulator = self._tally.accumulator
        return IntervalTerms(accumulator.statistics() if accumulator is not None else None, self._slot_sums(),
                             self._plan.method.deterministic, self._plan.inputs.n_samples)

    def _slot_sums(self) -> np.ndarray | None:
        """Baseline row-wise values of each output unit summed per slot of the accumulator (rmse intervals)."""
        if self._tally.accumulator is None or self._state.part_values is None:
            return None
        return self._tally.accumulator.slot_sums(self._scoring.by_output(self._state.part_values))

    def baseline_score(self, blocks: Sequence[int]) -> np.ndarray:
        """Baseline score of each output unit on the blocks' rows (non-decomposable parts: mean over blocks)."""
        rows = np.concatenate([self._plan.block_rows(b) for b in blocks])
        state = self._state
        scoring = self._scoring
        sums = scoring.row_sums(state.part_values[rows], rows) if state.part_values is not None else None
        if sums is None:
            sums = np.zeros(len(scoring.parts))
        custom = None
        if state.custom_scores:
            shares = None if scoring.row_weights is None else [scoring.row_total(self._plan.block_rows(b))
                                                               for b in blocks]
            custom = np.average([state.custom_scores[b] for b in blocks], axis=0, weights=shares)
        return scoring.scores(sums, scoring.row_total(rows), custom)

    def row_statistics(self, aggregates: Sequence[str], ci: str):
        return kept_row_statistics(self._tally.accumulator, aggregates, ci)
