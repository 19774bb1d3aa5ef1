"""Shapley importance as an estimator on the engine's run loop (:mod:`pyimportance.engine.runner`).

A task is a *piece*: one unit order (repeat) for every row of a row block (:mod:`.contributions`).
The rows' contributions go to the engine's :class:`~pyimportance.stats.accumulator.RowAccumulator`
as a unit's per-row loss increases, so the interval about the population is the engine's
``ci="data"`` interval (per-row influence, circular block bootstrap over neighbouring rows), and
v(all units) is one more series there, with its own interval. The donor rows' own influence is not
counted (their values enter other rows' coalitions only through an average over draws).

The steps (:meth:`ShapleyEstimator.steps`): every repeat of each block; with ``tolerance``, the
first antithetic pair of orders block by block, then, once the rows have run out, each further pair
for all blocks at once (up to ``n_repeats`` orders per row: the orders' noise keeps shrinking where
the rows' does not), so every order reported covers the same rows.

Everything else (the predict function, the checks, the baseline, stopping, intervals, executors)
is the run loop's. A Shapley run needs a loss that is a mean of per-row values
(:meth:`ShapleyEstimator.check_scoring`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..engine.estimator import BASELINE, Estimator, IntervalTerms, PredictionSums, Reported, Step
from ..stats.accumulator import RowAccumulator
from .coalition_prefix import ALIGNED_ROWS, Prefix, prefix_policy
from .coalitions import coalition_sizes, predict_stacked
from .contributions import PieceResult, PieceSpec, piece_result, piece_rows

#: A piece: (repeat, block, rows).
Piece = tuple[int, int, np.ndarray]


class ShapleyEstimator(Estimator):
    """The pieces of a Shapley run: ``n_repeats`` unit orders for every row, block by block."""

    aligned_rows = ALIGNED_ROWS  # whole SIMD widths, so prefix reuse may run (:mod:`.coalition_prefix`)

    def __init__(self, spec: PieceSpec, n_repeats: int, row_blocks: Sequence[np.ndarray]):
        self.spec = spec
        self.n_repeats = n_repeats
        self._row_blocks = list(row_blocks)

    @property
    def inputs(self):
        return self.spec.inputs

    @property
    def row_blocks(self) -> Sequence[np.ndarray]:
        return self._row_blocks

    def model_rows_per_row(self) -> int:
        return piece_rows(self.spec, len(self.spec.units)) * self.n_repeats

    def steps(self, tolerance: float | None) -> list[Step]:
        n_blocks, n_repeats = self.n_blocks, self.n_repeats
        if tolerance is None:
            return [Step([block], list(range(n_repeats))) for block in range(n_blocks)]
        pairs = [[r for r in (2 * p, 2 * p + 1) if r < n_repeats] for p in range(-(-n_repeats // 2))]
        return [Step([block], pairs[0]) for block in range(n_blocks)] + \
            [Step(list(range(n_blocks)), pair) for pair in pairs[1:]]

    def check_scoring(self, scoring) -> None:
        aggregates = {scoring.output_aggregate(k) for k in range(len(scoring.outputs))}
        if aggregates != {"mean"}:
            raise ValueError(
                f"shapley_importance needs a loss that is a mean of per-row values (each row's contributions add "
                f"up to its loss drop), got loss ({scoring.loss_name}); use mse for rmse, or a loss function that "
                "returns one value per row"
            )

    def sums(self, scoring, track_rows: bool) -> ShapleySums:
        return ShapleySums(self.spec, self.n_repeats, scoring, track_rows=track_rows)

    def local_context(self, predict, on_rows: Callable[[int], None], local: bool) -> Prefix | None:
        """The run's prefix reuse (here only: a run on an executor predicts in full)."""
        spec = self.spec
        if not local:
            return None
        sizes = coalition_sizes(len(spec.units), spec.empty_needs_model)
        return prefix_policy(predict, spec.inputs, spec.units, sizes, spec.inputs.n_samples * self.model_rows_per_row())

    def baseline_predictions(self, predict, rows: np.ndarray, on_rows: Callable[[int], None],
                             context: Prefix | None) -> np.ndarray:
        """In calls of ``batch_rows`` (timed for the prefix policy: the first pays the compilation, which is what
        each of the shortcut's start steps costs again)."""
        parts = self.spec.inputs.parts
        arrays = iter([[np.asarray(part.values[rows], dtype=predict.dtype) for part in parts]])
        return predict_stacked(predict, self.spec.inputs, arrays, len(rows), BASELINE, on_rows,
                               timed_by=None if context is None else context.policy)

    def tasks(self, block: int, repeats: Sequence[int]) -> list[Piece]:
        rows = self.block_rows(block)
        return [(repeat, block, rows) for repeat in repeats]

    def compute(self, predict, scoring, baseline: np.ndarray, tasks: Sequence[Piece],
                on_rows: Callable[[int], None] = lambda rows: None, context: Prefix | None = None) -> list[PieceResult]:
        return [piece_result(self.spec, predict, scoring, baseline, rows, repeat, block, on_rows, context)
                for repeat, block, rows in tasks]

    def task_rows(self, task: Piece) -> int:
        return len(task[2]) * piece_rows(self.spec, len(self.spec.units))

    def describe_tasks(self, first: Piece, last: Piece) -> str:
        return (f"while predicting coalitions of orders {first[0] + 1} to {last[0] + 1} (row blocks {first[1] + 1} "
                f"to {last[1] + 1})")


class ShapleySums(PredictionSums):
    """The pieces' contributions added up: per (unit, repeat) and, for the data interval, per row; the last
    series is v(all units), the contributions' telescoped sum."""

    def __init__(self, spec: PieceSpec, n_repeats: int, scoring, *, track_rows: bool):
        n_units, n_outputs = len(spec.units), len(scoring.outputs)
        super().__init__(spec.inputs.n_samples, scoring)
        self.sums = np.zeros((n_units + 1, n_repeats, n_outputs))
        self.rows = np.zeros(n_repeats, dtype=np.int64)
        self.totals = self.rows if scoring.row_weights is None else np.zeros(n_repeats)  # sums of the rows' weights
        self.accumulator = RowAccumulator(n_units + 1, self._n_samples, n_outputs, track_donors=False,
                                          row_weights=scoring.row_weights) if track_rows else None

    def add(self, result: PieceResult) -> None:
        rows = self._block_rows[result.block]
        per_unit = np.concatenate([result.contributions, result.total[:, None, :]], axis=1)
        self.sums[:, result.repeat] += self._scoring.row_sums(per_unit, rows)
        self.rows[result.repeat] += len(rows)
        if self.totals is not self.rows:
            self.totals[result.repeat] += self._scoring.row_total(rows)
        if self.accumulator is not None:
            for unit in range(per_unit.shape[1]):
                self.accumulator.add(unit, rows, per_unit[:, unit], None)

    def values(self) -> np.ndarray:
        """(n_units + 1, started repeats, n_outputs) mean contributions of each repeat begun so far (weighted means
        in a weighted run: ``Scoring.row_weights``)."""
        started = self.rows > 0
        totals = self.totals[started]
        return self.sums[:, started] / np.where(totals > 0, totals, 1)[None, :, None]

    def interval_terms(self) -> IntervalTerms:
        statistics = self.accumulator.statistics() if self.accumulator is not None else None
        return IntervalTerms(statistics, None, False, int(self.rows.max()))

    def reported(self, values: np.ndarray, intervals) -> Reported:
        """The units' values and intervals; v(all units), the largest number, apart (the stopping rule skips it)."""
        return Reported(values[:-1], intervals.select(slice(0, -1)),
                        {"total": values[-1].mean(axis=0), "total_intervals": intervals.select(slice(-1, None))})
