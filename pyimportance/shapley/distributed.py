"""Pieces of a Shapley run as tasks on a ``concurrent.futures`` executor (a Dask client's, a pool).

Pieces (one order of every row of a block) are cut into runs of ``task_size`` pieces, one task
each. A worker computes a piece exactly as the local run does (the same draws from the seed, the
same ``batch_rows``), so the numbers do not depend on the executor or the task size. The model
travels as the engine ships it (:func:`~pyimportance.engine.distributed.shipped_model`: Keras
models in their own format, rebuilt once per worker process).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass

import numpy as np

from ..engine.distributed import count_task, default_task_size, share, shipped_model, worker_model
from ..errors import LossFailedError, ModelFailedError
from ..model.predict import PredictFunction
from ..scoring.scoring import Scoring
from .contributions import PieceResult, PieceSpec, piece_result


@dataclass(frozen=True)
class _Payload:
    """What every task of a run shares; sent to each Dask worker once."""

    spec: PieceSpec
    model: object
    scoring: Scoring
    baseline: np.ndarray
    batch_rows: int
    jit_compile: bool
    probabilities: str | None


def _score_pieces(payload: _Payload, pieces: Sequence[tuple[int, int, np.ndarray]]) -> list[PieceResult]:
    """The results of ``pieces`` ((repeat, block, rows) each), on a worker."""
    predict = PredictFunction(worker_model(payload.model), batch_rows=payload.batch_rows,
                              jit_compile=payload.jit_compile, probabilities=payload.probabilities)
    results = [piece_result(payload.spec, predict, payload.scoring, payload.baseline, rows, repeat, block)
               for repeat, block, rows in pieces]
    count_task()
    return results


def run_pieces(spec: PieceSpec, model, scoring: Scoring, baseline: np.ndarray,
               pieces: Sequence[tuple[int, int, np.ndarray]], *, predict: PredictFunction, executor: Executor,
               task_size: int | None, on_rows: Callable[[int], None]) -> list[PieceResult]:
    """Results of ``pieces`` (in their order), computed by tasks on ``executor``."""
    size = task_size or default_task_size(executor, len(pieces))
    payload = _Payload(spec, shipped_model(model), scoring, baseline, predict.batch_rows, bool(predict.uses_xla),
                       predict.probabilities)
    shared = share(executor, payload)
    futures = {executor.submit(_score_pieces, shared, list(pieces[start:start + size])): start
               for start in range(0, len(pieces), size)}
    results: list[PieceResult | None] = [None] * len(pieces)
    try:
        for future in as_completed(futures):
            start = futures[future]
            try:
                done = future.result()
            except (ModelFailedError, LossFailedError):
                raise
            except Exception as error:
                where = f"while predicting coalitions of pieces {start + 1}..{start + size}"
                raise ModelFailedError(f"task failed {where}: {type(error).__name__}: {error}", where) from error
            results[start:start + len(done)] = done
            on_rows(sum(result.contributions.shape[0] for result in done))
    finally:
        for future in futures:
            future.cancel()
    return results
