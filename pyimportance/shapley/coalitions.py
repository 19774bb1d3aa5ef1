"""Coalitions stacked into the model's calls: the draws of many coalitions fill each fixed-size call.

A piece (one order of every row of a block) needs, for each coalition size ``s`` (the first
``s`` units of each row's order known), K rows per row. Their inputs are built coalition by
coalition (:class:`~.imputation.Imputation`) and cut into calls of ``batch_rows`` rows, so a call
holds draws of several coalitions and the compiled forward pass (fixed batch shape) is padded
once per piece at most. The calls run one at a time on the engine's pipeline
(:class:`~pyimportance.engine.pipeline.Pipeline`): while one is predicted on a worker thread, the
next is built. A row's prediction does not depend on the rows sharing its call (the model is
row-wise), so ``batch_size`` never changes a number. With prefix reuse (:mod:`.coalition_prefix`) the rows
go into one call per start step instead, and each call skips its rows' shared first time steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from ..data.inputs import Inputs
from ..engine.pipeline import Pipeline
from ..errors import ModelFailedError
from ..model.prefix import PrefixPolicy
from .coalition_prefix import Prefix, PrefixCall, prefix_calls


def _calls(arrays: Iterator[list[np.ndarray]], batch_rows: int) -> Iterator[list[np.ndarray]]:
    """The rows of ``arrays`` (per input, consecutive), copied into calls of ``batch_rows`` rows.

    Two buffer sets, used in turn: the pipeline has at most one call in flight, and collects it
    before the next is submitted, so a set is refilled only once its call is done.
    """
    sets: list[list[np.ndarray]] = []
    current, fill = 0, 0
    for piece in arrays:
        if not sets:
            sets = [[np.empty((batch_rows,) + array.shape[1:], dtype=array.dtype) for array in piece]
                    for _ in range(2)]
        start, n_rows = 0, piece[0].shape[0]
        while start < n_rows:
            count = min(n_rows - start, batch_rows - fill)
            for buffer, array in zip(sets[current], piece):
                buffer[fill:fill + count] = array[start:start + count]
            fill += count
            start += count
            if fill == batch_rows:
                yield sets[current]
                current, fill = 1 - current, 0
    if fill:
        yield [buffer[:fill] for buffer in sets[current]]


def predict_stacked(predict, inputs: Inputs, arrays: Iterator[list[np.ndarray]], total_rows: int,
                    where: str, on_rows: Callable[[int], None] = lambda rows: None, *, prefix: Prefix | None = None,
                    samples: np.ndarray | None = None, timed_by: PrefixPolicy | None = None) -> np.ndarray:
    """(total_rows, columns) predictions of the rows ``arrays`` yields (per input, (rows, T, F) each).

    ``where`` says, in a failure's message, what was being predicted. With ``prefix``, the rows are
    coalitions (draw-major) of the evaluated ``samples`` and skip the time steps they share with them;
    ``timed_by``: a prefix policy the calls' durations go to.
    """
    if prefix is not None and not prefix.policy.declined:
        return _predict_past_prefixes(predict, inputs, arrays, total_rows, where, on_rows, prefix, samples)
    found: list[np.ndarray] = []

    def collect(rows: int, predictions: np.ndarray) -> None:
        found.append(predictions)
        on_rows(rows)

    def fail(error: Exception, rows: int) -> None:
        raise ModelFailedError.raised(error, where) from error

    with Pipeline(collect, fail, threaded=predict.releases_gil) as pipeline:
        for call in _calls(arrays, predict.batch_rows):
            arguments = inputs.call_arguments(call)
            run = lambda arguments=arguments: predict(arguments)  # noqa: E731
            pipeline.submit(call[0].shape[0], run if timed_by is None else timed_by.timed(run))
        pipeline.wait()
    predictions = np.concatenate(found) if found else np.empty((0, 0))
    if predictions.shape[0] != total_rows:  # pragma: no cover - the stacking's own invariant
        raise AssertionError(f"predicted {predictions.shape[0]} rows, expected {total_rows}")
    return predictions


def _predict_past_prefixes(predict, inputs: Inputs, arrays: Iterator[list[np.ndarray]],
                           total_rows: int, where: str, on_rows: Callable[[int], None], prefix: Prefix,
                           samples: np.ndarray) -> np.ndarray:
    """:func:`predict_stacked` in calls of one start step each (:func:`~.coalition_prefix.prefix_calls`)."""
    predictions = np.empty((total_rows, 0))

    def collect(call: PrefixCall, found: np.ndarray) -> None:
        nonlocal predictions
        if predictions.shape[1] != found.shape[1]:
            predictions = np.empty((total_rows, found.shape[1]))
        predictions[call.positions] = found
        on_rows(len(call.positions))

    def fail(error: Exception, call: PrefixCall) -> None:
        raise ModelFailedError.raised(error, where) from error

    with Pipeline(collect, fail, threaded=predict.releases_gil) as pipeline:
        for call in prefix_calls(prefix, arrays, samples, predict.batch_rows):
            arguments = inputs.call_arguments([call.values])
            pipeline.submit(call, prefix.policy.call(predict, arguments, call.step, lambda call=call: call.samples))
        pipeline.wait()
    return predictions


def coalition_sizes(n_units: int, empty_needs_model: bool) -> list[int]:
    """The coalition sizes a piece predicts: 1 .. n_units - 1, and 0 when the empty coalition is not the
    donors' own predictions (cells of no unit stay known)."""
    return list(range(0 if empty_needs_model else 1, n_units))


