"""Running the plan: perturbed copies of X streamed through the model in fixed-size chunks.

A *job* is one (unit, repeat). Its perturbed values are drawn once, from the job's own
generator, for all samples (only the unit's own columns are held, never a whole copy of X).
Rows of consecutive jobs are then packed into one buffer of ``batch_rows`` rows, so many
small jobs share one model call, and one large job spans several; the buffer is the only
full-width copy in memory. Scores depend only on the job, never on this packing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from .perturbations import FeatureStats
from .predict import PredictFunction
from .scoring import Scorer
from .seeding import unit_rng
from .units import Unit

# Default chunk size: about this many float32 values in one model call (32 MiB).
_TARGET_CHUNK_VALUES = 8_000_000
_MIN_CHUNK_ROWS = 256
_MAX_CHUNK_ROWS = 16_384


def default_batch_rows(n_timesteps: int, n_features: int, total_rows: int) -> int:
    """Rows per model call when ``batch_size`` is None: large for throughput, bounded in memory."""
    rows = _TARGET_CHUNK_VALUES // max(1, n_timesteps * n_features)
    rows = int(np.clip(rows, _MIN_CHUNK_ROWS, _MAX_CHUNK_ROWS))
    return max(1, min(rows, total_rows))


class ModelFailedError(RuntimeError):
    """The model raised while a given unit and repeat were being evaluated."""


@dataclass(frozen=True)
class Plan:
    """Everything needed to score jobs; cheap to ship to another process (X aside)."""

    values: np.ndarray  # (n, T, F) evaluation data, never written to
    is_sequence: bool
    units: Sequence[Unit]
    n_repeats: int
    perturb: Callable
    stats: FeatureStats
    scale: float
    relative_scale: bool
    scorer: Scorer
    entropy: int

    @property
    def jobs(self) -> list[tuple[int, int]]:
        """All (unit, repeat) pairs in canonical order."""
        return [(u, r) for u in range(len(self.units)) for r in range(self.n_repeats)]

    def describe(self, job: tuple[int, int]) -> str:
        """Human description of a job, for error messages."""
        unit = self.units[job[0]]
        where = f"feature {unit.feature!r}"
        if unit.timestep is not None:
            where += f" at timestep {unit.timestep}"
        return f"{where} (repeat {job[1] + 1} of {self.n_repeats})"

    def perturbed_columns(self, job: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(time steps, features, new values) of a job; new values shaped (n, steps, features)."""
        unit = self.units[job[0]]
        steps, features = unit.columns(self.values.shape[1])
        original = np.asarray(self.values[:, steps[:, None], features[None, :]], dtype=np.float64)
        context = self.stats.context(features, scale=self.scale, relative_scale=self.relative_scale)
        rng = unit_rng(self.entropy, job[0], job[1])
        return steps, features, self.perturb(original, rng, context)


@dataclass
class _Pending:
    """A job whose rows are being predicted."""

    job: tuple[int, int] | None
    predictions: np.ndarray | None = None
    done_rows: int = 0


@dataclass
class _Segment:
    pending: _Pending
    source_start: int
    source_stop: int
    buffer_start: int


@dataclass
class ChunkedEvaluator:
    """Packs rows of jobs into chunks of ``predict.batch_rows`` and scores finished jobs."""

    plan: Plan
    predict: PredictFunction
    on_rows: Callable[[int], None] = lambda rows: None
    _segments: list[_Segment] = field(default_factory=list)
    _fill: int = 0

    def __post_init__(self) -> None:
        shape = (self.predict.batch_rows,) + self.plan.values.shape[1:]
        self._buffer = np.empty(shape, dtype=self.predict.dtype)

    def _model_view(self, rows: int) -> np.ndarray:
        chunk = self._buffer[:rows]
        return chunk if self.plan.is_sequence else chunk[:, 0, :]

    def _flush(self, finished: list[_Pending]) -> None:
        if self._fill == 0:
            return
        try:
            predictions = self.predict(self._model_view(self._fill))
        except KeyboardInterrupt:
            raise
        except Exception as error:
            jobs = [segment.pending.job for segment in self._segments]
            if all(job is None for job in jobs):
                raise
            where = self.plan.describe(next(job for job in jobs if job is not None))
            raise ModelFailedError(
                f"model failed while evaluating {where}: {type(error).__name__}: {error}"
            ) from error
        n = self.plan.values.shape[0]
        for segment in self._segments:
            pending = segment.pending
            if pending.predictions is None:
                pending.predictions = np.empty((n, predictions.shape[1]))
            rows = segment.source_stop - segment.source_start
            block = predictions[segment.buffer_start : segment.buffer_start + rows]
            pending.predictions[segment.source_start : segment.source_stop] = block
            pending.done_rows += rows
            if pending.done_rows == n:
                finished.append(pending)
        self.on_rows(self._fill)
        self._segments = []
        self._fill = 0

    def _rows_of(self, job: tuple[int, int] | None) -> Iterator[_Pending]:
        """Copy the rows of ``job`` (None = unperturbed X) into the buffer, flushing when full."""
        pending = _Pending(job)
        finished: list[_Pending] = []
        columns = self.plan.perturbed_columns(job) if job is not None else None
        n = self.plan.values.shape[0]
        start = 0
        while start < n:
            rows = min(n - start, self.predict.batch_rows - self._fill)
            target = self._buffer[self._fill : self._fill + rows]
            target[...] = self.plan.values[start : start + rows]
            if columns is not None:
                steps, features, new_values = columns
                target[:, steps[:, None], features[None, :]] = new_values[start : start + rows]
            self._segments.append(_Segment(pending, start, start + rows, self._fill))
            self._fill += rows
            start += rows
            if self._fill == self.predict.batch_rows:
                self._flush(finished)
                yield from finished
                finished = []

    def predictions(self, job: tuple[int, int] | None = None) -> np.ndarray:
        """All predictions for one job alone (used for the baseline)."""
        finished = list(self._rows_of(job))
        final: list[_Pending] = []
        self._flush(final)
        return (finished + final)[-1].predictions

    def scores(self, jobs: Sequence[tuple[int, int]], target: np.ndarray, baseline_score: float) -> np.ndarray:
        """Importance of each job in ``jobs``, in that order."""
        position = {job: index for index, job in enumerate(jobs)}
        scores = np.full(len(jobs), np.nan)

        def record(done: _Pending) -> None:
            value = self.plan.scorer.function(target, done.predictions)
            scores[position[done.job]] = self.plan.scorer.importance(baseline_score, value)
            done.predictions = None

        for job in jobs:
            for done in self._rows_of(job):
                record(done)
        final: list[_Pending] = []
        self._flush(final)
        for done in final:
            record(done)
        return scores
