"""Sensitivity importance as an estimator on the engine's run loop (:mod:`pyimportance.engine.runner`).

A task is a chunk of rows of a row block (:mod:`.attributions`); nothing is random, so there is one
"repeat". The rows' values go to the engine's :class:`~pyimportance.stats.accumulator.RowAccumulator`
(the per-row importance: ``|value|``, or the DGSM measure), so the interval about the population is
the engine's ``ci="data"`` interval, and the rows' importances come with it. The importance is
never below 0, so the one-sided test of "importance <= 0" says nothing: p-values are NaN
(:data:`P_VALUE_NOTE`).

Per-row weights (the run's ``Scoring.row_weights``: ``sample_weight`` times the rows a loss counts) weight
each row's value: the importance is ``sum(w v) / sum(w)``, and the data interval is the ratio estimator's, as
for every estimator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..engine.estimator import Estimator, IntervalTerms, PredictionSums, Reported, Step
from ..stats.accumulator import RowAccumulator
from ..stats.row_values import kept_row_statistics
from .attributions import ChunkResult, SensitivitySpec, chunk_result, predict_rows
from .targets import Targets, check_differentiable, targets_of

#: Rows per task (a task's gradient calls hold ``batch_rows // n_steps`` rows each).
TASK_ROWS = 512

P_VALUE_NOTE = ("no p-values: a sensitivity importance (a mean of |attribution| or of squared gradients) is never "
                "below 0, so the test of 'importance <= 0' would be trivial")

#: A task: (block, rows).
Chunk = tuple[int, np.ndarray]


class SensitivityEstimator(Estimator):
    """The chunks of a sensitivity run: every row once, block by block."""

    def __init__(self, spec: SensitivitySpec, row_blocks: Sequence[np.ndarray]):
        self.spec, self.blocks = spec, list(row_blocks)

    inputs = property(lambda self: self.spec.inputs, doc="The evaluated rows.")
    row_blocks = property(lambda self: self.blocks, doc="Rows of each block (sorted); empty: one block of all rows.")

    def model_rows_per_row(self) -> int:
        """Gradient points per row (each a forward and a backward pass), and the path's start."""
        spec = self.spec
        return spec.points_per_row + (1 if spec.method == "integrated_gradients" else 0)

    def steps(self, tolerance: float | None) -> list[Step]:
        return [Step([block], [0]) for block in range(self.n_blocks)]

    def check_scoring(self, scoring) -> None:
        check_differentiable(scoring)

    def sums(self, scoring, track_rows: bool) -> SensitivitySums:
        return SensitivitySums(self.spec, scoring, track_rows=track_rows)

    def baseline_predictions(self, predict, rows: np.ndarray, on_rows: Callable[[int], None], context) -> np.ndarray:
        return predict_rows(predict, self.inputs, [part.values[rows] for part in self.inputs.parts], on_rows)

    def tasks(self, block: int, repeats: Sequence[int]) -> list[Chunk]:
        rows = self.block_rows(block)
        return [(block, rows[start:start + TASK_ROWS]) for start in range(0, len(rows), TASK_ROWS)]

    def compute(self, predict, scoring, baseline: np.ndarray, tasks: Sequence[Chunk],
                on_rows: Callable[[int], None] = lambda rows: None, context=None) -> list[ChunkResult]:
        targets = targets_of(scoring)
        return [chunk_result(self.spec, targets, predict, scoring, baseline, block, rows, on_rows)
                for block, rows in tasks]

    def task_rows(self, task: Chunk) -> int:
        return len(task[1]) * self.model_rows_per_row()

    def describe_tasks(self, first: Chunk, last: Chunk) -> str:
        return (f"while computing the gradients of rows {int(first[1][0]) + 1} to {int(last[1][-1]) + 1} "
                f"(row blocks {first[0] + 1} to {last[0] + 1})")


class SensitivitySums(PredictionSums):
    """The chunks' values added up: per (unit, output), per row for the data interval, and the kept maps."""

    def __init__(self, spec: SensitivitySpec, scoring, *, track_rows: bool):
        n_units, n_outputs, n_samples = len(spec.units), len(scoring.outputs), spec.inputs.n_samples
        super().__init__(n_samples, scoring)
        self._spec = spec
        self._targets: Targets = targets_of(scoring)
        self._weight = scoring.row_weights  # (n_samples,) or None: every row weighs 1
        self.measure = np.zeros((n_units, n_outputs))
        self.signed = np.zeros((n_units, n_outputs))
        self.weight_sum = 0.0
        self.rows = 0
        self.delta = np.full((n_samples, n_outputs), np.nan)
        self.maps: dict[int, np.ndarray] = {}
        # weighted rows: the accumulator's ratio estimator (each row's value times its weight over the weights)
        self.accumulator = RowAccumulator(n_units, n_samples, n_outputs, track_donors=False,
                                          row_weights=self._weight) if track_rows else None

    def add(self, result: ChunkResult) -> None:
        rows = result.rows
        weight = np.ones(len(rows)) if self._weight is None else self._weight[rows]
        self.measure += np.einsum("r,ruk->uk", weight, result.measure)
        self.signed += np.einsum("r,ruk->uk", weight, result.signed)
        self.weight_sum += float(weight.sum())
        self.rows += len(rows)
        self.delta[rows] = result.delta
        if result.maps is not None:
            for position, row in enumerate(rows[self._spec.kept[rows]]):
                self.maps[int(row)] = result.maps[position]
        if self.accumulator is not None:
            for unit in range(result.measure.shape[1]):
                self.accumulator.add(unit, rows, result.measure[:, unit], None)

    def values(self) -> np.ndarray:
        """(n_units, 1, n_outputs): the weighted mean measure over the rows so far."""
        return (self.measure / max(self.weight_sum, 1e-300))[:, None, :]

    def interval_terms(self) -> IntervalTerms:
        statistics = self.accumulator.statistics() if self.accumulator is not None else None
        return IntervalTerms(statistics, None, True, self.rows)

    def reported(self, values: np.ndarray, intervals) -> Reported:
        """The values and their intervals (p-values NaN: :data:`P_VALUE_NOTE`), the direction, maps and deltas."""
        from dataclasses import replace

        intervals = replace(intervals, p_value=np.full(np.shape(intervals.p_value), np.nan))
        return Reported(values, intervals, {
            "direction": self.signed / max(self.weight_sum, 1e-300),
            "maps": dict(self.maps),
            "convergence_delta": self.delta.copy(),
        })

    def row_statistics(self, aggregates: Sequence[str], ci: str):
        return kept_row_statistics(self.accumulator, aggregates, ci)
