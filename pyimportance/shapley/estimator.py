"""The Shapley run: the baseline, the pieces block by block, the values, their intervals and the stopping rule.

Each row block (all evaluated rows with a fixed budget; seeded blocks of rows with ``tolerance``)
is run for every repeat (one unit order per row each). The rows' contributions go to the engine's
:class:`~pyimportance.stats.accumulator.RowAccumulator` as a unit's per-row loss increases, so the
interval about the population is the engine's ``ci="data"`` interval
(:func:`~pyimportance.stats.intervals.run_intervals`: per-row influence, circular block bootstrap
over neighbouring rows), and v(all units) is one more series there, with its own interval. The
donor rows' own influence is not counted (their values enter other rows' coalitions only through
an average over draws). With ``tolerance`` the run stops after the first step (from the second)
at which every value's half-width is at most ``tolerance`` times the largest value, as
:func:`pyimportance.perturbation_importance` does; a step is the first antithetic pair of orders
of one row block, the blocks first, then, if the rows run out, the next pair for all blocks (up
to ``n_repeats`` orders per row: the orders' noise keeps shrinking where the rows' does not), so
every order reported covers the same rows. The
pieces' results are added in the same order whether computed here or by an executor's tasks, so
the numbers do not depend on it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..engine.packing import chunk_rows
from ..engine.runner import MIN_BLOCKS, RunOptions, relative_precision
from ..errors import ModelFailedError, ModelOutputError, NotRowWiseError
from ..model.predict import PredictFunction
from ..model.row_wise import check_row_wise
from ..scoring.heads import build_scoring
from ..scoring.scoring import Scoring, scoring_failures
from ..scoring.target_checks import check_targets
from ..stats.accumulator import RowAccumulator
from ..stats.block_bootstrap import block_length_library_loading
from ..stats.intervals import Intervals, run_intervals
from .coalitions import coalition_sizes, predict_stacked
from .contributions import PieceResult, PieceSpec, piece_result, piece_rows
from .prefix import ALIGNED_ROWS, Prefix, prefix_policy

BASELINE = "on the unperturbed data"


@dataclass(frozen=True)
class ShapleyOutcome:
    """Everything a Shapley result is made of."""

    values: np.ndarray  # (n_units, n_repeats, n_outputs): mean contribution per unit, repeat (order) and output
    intervals: Intervals  # (n_units, n_outputs)
    total: np.ndarray  # (n_outputs,) v(all units): loss knowing nothing - the model's loss
    total_intervals: Intervals  # (1, n_outputs)
    ci_note: str | None
    baseline_score: np.ndarray  # (n_outputs,)
    scoring: Scoring
    rows_used: int
    converged: bool | None
    precision: float | None


def _select(intervals: Intervals, chosen) -> Intervals:
    return Intervals(intervals.std_error[chosen], intervals.ci_low[chosen], intervals.ci_high[chosen],
                     intervals.p_value[chosen], intervals.block_size, intervals.method)


class _Sums:
    """The pieces' contributions added up: per (unit, repeat) and, for the data interval, per row."""

    def __init__(self, n_units: int, n_repeats: int, n_samples: int, n_outputs: int, *, track_rows: bool):
        # the last "unit" is v(all units), the contributions' telescoped sum
        self.sums = np.zeros((n_units + 1, n_repeats, n_outputs))
        self.rows = np.zeros(n_repeats, dtype=np.int64)
        self.accumulator = RowAccumulator(n_units + 1, n_samples, n_outputs, track_donors=False) if track_rows \
            else None

    def add(self, result: PieceResult, rows: np.ndarray) -> None:
        per_unit = np.concatenate([result.contributions, result.total[:, None, :]], axis=1)
        self.sums[:, result.repeat] += per_unit.sum(axis=0)
        self.rows[result.repeat] += len(rows)
        if self.accumulator is not None:
            for unit in range(per_unit.shape[1]):
                self.accumulator.add(unit, rows, per_unit[:, unit], None)

    def values(self) -> np.ndarray:
        """(n_units + 1, started repeats, n_outputs) mean contributions of each repeat begun so far."""
        started = self.rows > 0
        return self.sums[:, started] / self.rows[started][None, :, None]


def _baseline_predictions(predict: PredictFunction, spec: PieceSpec, rows: np.ndarray, on_rows,
                          prefix: Prefix | None) -> np.ndarray:
    """The model's predictions of ``rows``, in calls of ``batch_rows`` (timed for the prefix policy: the first
    pays the compilation, which is what each of the shortcut's start steps costs again)."""
    arrays = iter([[np.asarray(part.values[rows], dtype=predict.dtype) for part in spec.inputs.parts]])
    return predict_stacked(predict, spec.inputs, arrays, len(rows), BASELINE, on_rows,
                           timed_by=None if prefix is None else prefix.policy)


def _checked_scoring(predict: PredictFunction, spec: PieceSpec, rows: np.ndarray, predictions: np.ndarray,
                     targets, losses, output, per_output: bool) -> Scoring:
    """The run's scoring, once the model is known to be row-wise and the targets to fit its outputs."""
    inputs = spec.inputs
    try:
        check_row_wise(predict, lambda chosen: inputs.call_arguments(
            [np.asarray(part.values[rows[chosen]], dtype=predict.dtype) for part in inputs.parts]), predictions)
    except (ModelOutputError, NotRowWiseError):
        raise
    except Exception as error:
        raise ModelFailedError.raised(error, BASELINE) from error
    scoring = build_scoring(predict.head_shapes, targets, losses, output=output, per_output=per_output)
    check_targets(scoring, predictions)
    with scoring_failures(scoring, BASELINE):
        scoring = scoring.with_row_wise_custom_losses(predictions, rows)
    aggregates = {scoring.output_aggregate(k) for k in range(len(scoring.outputs))}
    if aggregates != {"mean"}:
        raise ValueError(
            f"shapley_importance needs a loss that is a mean of per-row values (each row's contributions add up "
            f"to its loss drop), got loss ({scoring.loss_name}); use mse for rmse, or a loss function that "
            "returns one value per row"
        )
    return scoring


def _steps(n_blocks: int, n_repeats: int, tolerance: float | None) -> list[tuple[list[int], list[int]]]:
    """The run's steps, (blocks, repeats), in order: every repeat of each block; with ``tolerance``, the first
    antithetic pair block by block, then each further pair for all blocks at once, so every repeat
    reported covers the same rows (their mean is the mean over all evaluations)."""
    if tolerance is None:
        return [([block], list(range(n_repeats))) for block in range(n_blocks)]
    pairs = [[r for r in (2 * p, 2 * p + 1) if r < n_repeats] for p in range(-(-n_repeats // 2))]
    return [([block], pairs[0]) for block in range(n_blocks)] + [(list(range(n_blocks)), pair) for pair in pairs[1:]]


def run_shapley(spec: PieceSpec, model, targets, losses, *, row_blocks: Sequence[np.ndarray], n_repeats: int,
                output=None, per_output: bool = False, options: RunOptions | None = None) -> ShapleyOutcome:
    """The baseline, then the pieces step by step (:func:`_steps`), with early stopping when
    ``options.tolerance`` is set: after each step from the second on, once every value's interval is
    narrow enough; rows first, then, once every row has its first pair of orders, more orders."""
    options = options or RunOptions()
    n_samples = spec.inputs.n_samples
    blocks = list(row_blocks) or [np.arange(n_samples)]
    per_row = piece_rows(spec, len(spec.units))
    total_rows = n_samples * (per_row * n_repeats + 1)
    predict = PredictFunction(model, batch_rows=1, jit_compile=options.jit_compile, total_rows=total_rows,
                              probabilities=options.probabilities)
    predict.batch_rows = chunk_rows(options.batch_size, spec.inputs.n_columns, total_rows,
                                    np.dtype(predict.dtype).itemsize)
    if options.batch_size is None:  # whole SIMD widths, so prefix reuse may run (:mod:`.prefix`)
        predict.batch_rows = -(-predict.batch_rows // ALIGNED_ROWS) * ALIGNED_ROWS
    prefix = None if options.executor is not None else prefix_policy(
        predict, spec.inputs, spec.units, coalition_sizes(len(spec.units), spec.empty_needs_model),
        n_samples * per_row * n_repeats)
    baseline = None
    scoring, sums = None, None
    steps = _steps(len(blocks), n_repeats, options.tolerance)
    converged, reached, reported, predicted = None, None, None, set()
    with block_length_library_loading() if options.ci == "data" else contextlib.nullcontext():
        for done, (step_blocks, repeats) in enumerate(steps, start=1):
            for block in step_blocks:
                rows = blocks[block]
                if block not in predicted:
                    predictions = _baseline_predictions(predict, spec, rows, options.on_rows, prefix)
                    if scoring is None:
                        scoring = _checked_scoring(predict, spec, rows, predictions, targets, losses, output,
                                                   per_output)
                        baseline = np.zeros((n_samples, predictions.shape[1]))
                        sums = _Sums(len(spec.units), n_repeats, n_samples, len(scoring.outputs),
                                     track_rows=options.ci == "data")
                    baseline[rows] = predictions
                    predicted.add(block)
                for result in _run_pieces(spec, predict, model, scoring, baseline, block, rows, repeats, options,
                                          prefix):
                    sums.add(result, rows)
            if options.tolerance is not None and done >= min(MIN_BLOCKS, len(steps)):
                reported = _intervals(sums, scoring, options)
                # the values' precision: v(all units), the largest number, is left out
                reached = relative_precision(_select(reported[0], slice(0, -1)), sums.values()[:-1])
                options.on_round(int(sum(len(blocks[b]) for b in predicted)), reached)
                converged = reached is not None and reached <= options.tolerance
                if converged:
                    break
        if reported is None:
            reported = _intervals(sums, scoring, options)
    intervals, note = reported
    values = sums.values()
    used_rows = np.sort(np.concatenate([blocks[b] for b in sorted(predicted)]))
    baseline_sums = signed_sums(scoring, baseline, used_rows)
    return ShapleyOutcome(
        values=values[:-1], intervals=_select(intervals, slice(0, -1)),
        total=values[-1].mean(axis=0), total_intervals=_select(intervals, slice(-1, None)), ci_note=note,
        baseline_score=scoring.scores(baseline_sums, len(used_rows)), scoring=scoring, rows_used=len(used_rows),
        converged=converged, precision=reached,
    )


def signed_sums(scoring: Scoring, baseline: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Sums over ``rows`` of each part's row-wise values of the model's own predictions."""
    return scoring.part_values(baseline[rows], rows, baseline).sum(axis=0)


def _run_pieces(spec: PieceSpec, predict: PredictFunction, model, scoring: Scoring, baseline: np.ndarray,
                block: int, rows: np.ndarray, repeats: Sequence[int], options: RunOptions,
                prefix: Prefix | None = None) -> list[PieceResult]:
    """The block's pieces (one per repeat), computed here (with the run's prefix reuse) or by tasks on the
    executor."""
    if options.executor is None:
        return [piece_result(spec, predict, scoring, baseline, rows, repeat, block, options.on_rows, prefix)
                for repeat in repeats]
    from .distributed import run_pieces

    per_row = piece_rows(spec, len(spec.units))
    return run_pieces(spec, model, scoring, baseline, [(repeat, block, rows) for repeat in repeats],
                      predict=predict, executor=options.executor, task_size=options.task_size,
                      on_rows=lambda count: options.on_rows(count * per_row))


def _intervals(sums: _Sums, scoring: Scoring, options: RunOptions) -> tuple[Intervals, str | None]:
    """The intervals of the values (and v(all units), last) from the rows so far."""
    aggregates = [scoring.output_aggregate(k) for k in range(len(scoring.outputs))]
    statistics = sums.accumulator.statistics() if sums.accumulator is not None else None
    return run_intervals(sums.values(), statistics, aggregates, options.ci, options.block_size, None, False,
                         n_rows=int(sums.rows.max()))
