"""Running the plan: perturbed copies of X streamed through the model in fixed-size chunks.

A *job* is one (unit, repeat). Its perturbed values are drawn once, from the job's own
generator, for all samples (only the unit's own columns are held, never a whole copy of X).
Rows of consecutive jobs are then packed into one buffer of ``batch_rows`` rows, so many
small jobs share one model call, and one large job spans several; the buffer (two, when the
model runs on a worker thread) is the only full-width copy in memory. Scores depend only on
the job, never on this packing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .perturbations import FeatureStats
from .predict import PREFIX_MIN_ROWS, PredictFunction, PrefixReuse
from .scoring import Scorer
from .seeding import unit_rng
from .units import Unit

# Default rows per model call. Recurrent layers run fastest at a few thousand rows (their
# per-step state then stays in the CPU caches: at 16k rows, LSTM(64) runs about half as fast
# as at 2-4k); a chunk also holds at most about 8M input values (32 MiB in float32).
_MAX_CHUNK_ROWS = 4096
_TARGET_CHUNK_VALUES = 8_000_000
_MIN_CHUNK_ROWS = 256


def default_batch_rows(n_timesteps: int, n_features: int, total_rows: int) -> int:
    """Rows per model call when ``batch_size`` is None: fast, bounded in memory, little padding.

    The rows are spread evenly over the calls needed, so the last call is not mostly padding.
    """
    rows = _TARGET_CHUNK_VALUES // max(1, n_timesteps * n_features)
    rows = int(np.clip(rows, _MIN_CHUNK_ROWS, _MAX_CHUNK_ROWS))
    total_rows = max(1, total_rows)
    calls = -(-total_rows // rows)
    return -(-total_rows // calls)


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
        original = np.asarray(self.values[(slice(None),) + _block_index(steps, features)], dtype=np.float64)
        context = self.stats.context(features, scale=self.scale, relative_scale=self.relative_scale)
        rng = unit_rng(self.entropy, job[0], job[1])
        return steps, features, self.perturb(original, rng, context)


def _block_index(steps: np.ndarray, features: np.ndarray) -> tuple:
    """Index of the block ``[:, steps, features]`` (shape (n, steps, features)) after the sample axis.

    Runs of consecutive indices become slices: basic indexing is several times faster than
    fancy indexing, and selects the same block.
    """

    def as_slice(index: np.ndarray):
        if len(index) and np.array_equal(index, np.arange(index[0], index[0] + len(index))):
            return slice(int(index[0]), int(index[0]) + len(index))
        return None

    step_slice, feature_slice = as_slice(steps), as_slice(features)
    if step_slice is None and feature_slice is None:
        return steps[:, None], features[None, :]
    return (steps if step_slice is None else step_slice), (features if feature_slice is None else feature_slice)


@dataclass
class _Pending:
    """A job (None = unperturbed X) whose rows are being copied and predicted."""

    job: tuple[int, int] | None
    columns: tuple[tuple, np.ndarray] | None = None  # (block index, new values) while being fed
    fed_rows: int = 0
    done_rows: int = 0
    predictions: np.ndarray | None = None


@dataclass
class _Segment:
    pending: _Pending
    source_start: int
    source_stop: int
    buffer_start: int


@dataclass
class ChunkedEvaluator:
    """Packs rows of jobs into chunks of ``predict.batch_rows`` and scores finished jobs.

    Three things keep the model busy without changing a single number (every row is
    predicted at the same fixed batch shape, whatever shares its chunk):

    - where short chunks would be padded (compiled Keras), the rows that would pad the
      baseline's last chunk are filled with the first jobs of the plan (kept for :meth:`scores`);
    - where the model runs outside the GIL (compiled TensorFlow), each chunk is predicted on a
      worker thread while the next one is built in a second buffer;
    - for units that start past time step 0 (by="timestep"/"cell"), :class:`PrefixReuse` skips
      the unperturbed steps when the model allows it and the timed calls say it pays off.
    """

    plan: Plan
    predict: PredictFunction
    on_rows: Callable[[int], None] = lambda rows: None
    _segments: list[_Segment] = field(default_factory=list)
    _fill: int = 0

    def __post_init__(self) -> None:
        shape = (self.predict.batch_rows,) + self.plan.values.shape[1:]
        self._buffers = [np.empty(shape, dtype=self.predict.dtype)]
        self._buffer = self._buffers[0]
        self._finished: list[_Pending] = []
        self._started: dict[tuple[int, int], _Pending] = {}  # jobs begun early, alongside the baseline
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: tuple[Future, list[_Segment], int] | None = None
        self._prefix: PrefixReuse | None = None
        self._prefix_decided: bool | None = None
        self._late_steps: list[int] = []
        self._call_seconds: list[float] = []  # full model calls, for the prefix-reuse decision

    def _first_step(self, job: tuple[int, int] | None) -> int:
        """The first time step a job perturbs (0 for the baseline and whole-sequence units)."""
        if job is None:
            return 0
        steps = self.plan.units[job[0]].timesteps
        return 0 if steps is None else min(steps)

    def _use_prefix_reuse(self, jobs: Sequence[tuple[int, int]]) -> None:
        """Plan :class:`PrefixReuse` when enough rows start past time step 0 (decided once timed)."""
        late = [job for job in jobs if self._first_step(job) > 0]
        if self._prefix is None and self.plan.is_sequence and len(late) * self.plan.values.shape[0] >= PREFIX_MIN_ROWS:
            self._prefix = self.predict.prefix_reuse(self.plan.values)
            self._late_steps = [self._first_step(job) for job in late]

    def _prefix_pays_off(self) -> bool:
        """Whether skipping steps saves more than it costs, judged from the calls timed so far.

        Each start step costs two compilations (about the first call's extra time), its states
        and one chunk predicted twice; it saves ``start / T`` of the work of each row starting
        there. More start steps save more and cost more: the best number is chosen here.
        """
        if self._prefix_decided is None:
            times = self._call_seconds
            if len(times) < 3:
                return False
            steady = float(np.median(times[1:]))
            per_start = 2 * max(times[0] - steady, 0.1 * steady) + 3 * steady
            n_samples, n_timesteps = self.plan.values.shape[:2]
            chunks_per_job = n_samples / self.predict.batch_rows
            best, best_net = None, 0.0
            for n_starts in sorted({2, 3, 4, 6, 8, 10, 15, 20, 30, n_timesteps} & set(range(2, n_timesteps + 1))):
                starts = PrefixReuse.starts_for(n_timesteps, n_starts)
                skipped = sum(self._prefix.start_for(step, starts) for step in self._late_steps) / n_timesteps
                cost = (len(starts) - 1) * per_start
                net = skipped * chunks_per_job * steady - 1.5 * cost
                if net > best_net:
                    best, best_net = starts, net
            self._prefix_decided = best is not None
            if best is not None:
                self._prefix.use_starts(best)
        return self._prefix_decided

    def _model_call(self, chunk: np.ndarray, segments: list[_Segment]) -> Callable[[], np.ndarray]:
        """The call that predicts ``chunk``: in full, or past the steps no row of it changed."""
        step = min(self._first_step(segment.pending.job) for segment in segments)
        if self._prefix is None or step == 0 or not self._prefix_pays_off():
            return self._timed(lambda: self.predict(chunk))
        samples = np.concatenate([np.arange(seg.source_start, seg.source_stop) for seg in segments])
        return lambda: self._prefix(chunk, step, samples)

    def _timed(self, call: Callable[[], np.ndarray]) -> Callable[[], np.ndarray]:
        def timed_call() -> np.ndarray:
            start = time.perf_counter()
            result = call()
            self._call_seconds.append(time.perf_counter() - start)
            return result

        return timed_call

    def _model_view(self, buffer: np.ndarray, rows: int) -> np.ndarray:
        chunk = buffer[:rows]
        return chunk if self.plan.is_sequence else chunk[:, 0, :]

    def _raise_failure(self, error: Exception, segments: list[_Segment]) -> None:
        """Re-raise a model error: as it is on the baseline's chunk, else naming the chunk's jobs.

        A chunk may hold rows of several jobs (one model call); the message then names the
        first and the last, since the call that failed served all of them.
        """
        jobs = list(dict.fromkeys(segment.pending.job for segment in segments))
        if any(job is None for job in jobs):
            raise error
        where = self.plan.describe(jobs[0])
        if len(jobs) > 1:
            where += f" (in one model call with {len(jobs) - 1} more job(s), up to {self.plan.describe(jobs[-1])})"
        raise ModelFailedError(f"model failed while evaluating {where}: {type(error).__name__}: {error}") from error

    def _flush(self) -> None:
        """Send the filled part of the buffer to the model (now, or on the worker thread)."""
        if self._fill == 0:
            return
        segments, rows = self._segments, self._fill
        self._segments, self._fill = [], 0
        call = self._model_call(self._model_view(self._buffer, rows), segments)
        if self._pool is None:
            try:
                predictions = call()
            except Exception as error:
                self._raise_failure(error, segments)
            self._collect(predictions, segments, rows)
            return
        self._wait()
        self._in_flight = (self._pool.submit(call), segments, rows)
        if len(self._buffers) == 1:
            self._buffers.append(np.empty_like(self._buffer))
        self._buffer = self._buffers[1] if self._buffer is self._buffers[0] else self._buffers[0]

    def _wait(self) -> None:
        """Collect the chunk being predicted on the worker thread, if any."""
        if self._in_flight is None:
            return
        future, segments, rows = self._in_flight
        self._in_flight = None
        try:
            predictions = future.result()
        except Exception as error:
            self._raise_failure(error, segments)
        self._collect(predictions, segments, rows)

    def _collect(self, predictions: np.ndarray, segments: list[_Segment], rows: int) -> None:
        n = self.plan.values.shape[0]
        for segment in segments:
            pending = segment.pending
            if pending.predictions is None:
                pending.predictions = np.empty((n, predictions.shape[1]))
            count = segment.source_stop - segment.source_start
            block = predictions[segment.buffer_start : segment.buffer_start + count]
            pending.predictions[segment.source_start : segment.source_stop] = block
            pending.done_rows += count
            if pending.done_rows == n:
                self._finished.append(pending)
        self.on_rows(rows)

    def _feed(self, pending: _Pending, stop_after_flush: bool = False) -> None:
        """Copy the remaining rows of ``pending`` into the buffer, sending each full buffer to the model.

        With ``stop_after_flush``, return after the first full buffer (the job may be half fed).
        """
        job, n = pending.job, self.plan.values.shape[0]
        if job is not None and pending.columns is None and pending.fed_rows < n:
            steps, features, new_values = self.plan.perturbed_columns(job)
            pending.columns = (_block_index(steps, features), new_values)
        while pending.fed_rows < n:
            start = pending.fed_rows
            rows = min(n - start, self.predict.batch_rows - self._fill)
            target = self._buffer[self._fill : self._fill + rows]
            target[...] = self.plan.values[start : start + rows]
            if pending.columns is not None:
                index, new_values = pending.columns
                target[(slice(None),) + index] = new_values[start : start + rows]
            self._segments.append(_Segment(pending, start, start + rows, self._fill))
            self._fill += rows
            pending.fed_rows += rows
            if pending.fed_rows == n:
                pending.columns = None
            if self._fill == self.predict.batch_rows:
                self._flush()
                if stop_after_flush:
                    return

    def _finish(self) -> None:
        """Predict whatever is still in the buffer or in flight."""
        self._flush()
        self._wait()

    def _run_in(self, work: Callable[[], None]) -> None:
        """Run ``work`` with a worker thread for the model when it releases the GIL."""
        if not getattr(self.predict, "releases_gil", False):
            work()
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyimportance-predict") as pool:
            self._pool = pool
            try:
                work()
            finally:
                self._pool = None
                self._in_flight = None

    def predictions(self, job: tuple[int, int] | None = None) -> np.ndarray:
        """All predictions for one job alone (None: the baseline, unperturbed X)."""
        pending = _Pending(job)

        def work() -> None:
            self._feed(pending)
            if job is None:
                self._start_first_jobs()
            self._finish()

        self._run_in(work)
        self._finished = [done for done in self._finished if done is not pending]
        return pending.predictions

    def _start_first_jobs(self) -> None:
        """Fill the rest of the last baseline chunk with the plan's first jobs instead of padding."""
        if self._fill == 0 or not getattr(self.predict, "pads", False):
            return
        for job in self.plan.jobs:
            pending = _Pending(job)
            self._started[job] = pending
            self._feed(pending, stop_after_flush=True)
            if self._fill == 0:
                return

    def scores(self, jobs: Sequence[tuple[int, int]], target: np.ndarray, baseline_score: float) -> np.ndarray:
        """Importance of each job in ``jobs``, in that order."""
        position = {job: index for index, job in enumerate(jobs)}
        scores = np.full(len(jobs), np.nan)

        def record_finished() -> None:
            for done in self._finished:
                if done.job in position:
                    value = self.plan.scorer.function(target, done.predictions)
                    scores[position[done.job]] = self.plan.scorer.importance(baseline_score, value)
                done.predictions = None
            self._finished = []

        def work() -> None:
            self._use_prefix_reuse(jobs)
            for job in jobs:
                pending = self._started.pop(job, None) or _Pending(job)
                self._feed(pending)
                record_finished()
            self._finish()
            record_finished()

        try:
            self._run_in(work)
        finally:
            self._started = {}
        return scores
