"""Jobs through the model: perturbed rows are packed into chunks, predicted, and handed back per job.

:class:`JobEvaluator` ties the pieces together for one list of jobs: the plan draws each job's
new values (:mod:`.plan`), the packer copies rows into chunks (:mod:`.packing`), the pipeline
runs the model (:mod:`.pipeline`), prefix reuse skips unchanged time steps where it pays
(:mod:`.prefix`), and each job's predictions, once complete, go to ``on_job``. A model that
raises is reported naming the job(s) its call served
(:class:`~pyimportance.errors.ModelFailedError`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ModelFailedError, ModelOutputError, NotRowWiseError
from ..model.predict import PredictFunction
from ..model.prefix import PREFIX_MIN_ROWS, PrefixPolicy, PrefixReuse
from .estimator import BASELINE
from .packing import Chunk, ChunkPacker
from .pipeline import Pipeline
from .plan import Job, Plan


class _Pending:
    """A job whose rows are being predicted."""

    __slots__ = ("job", "rows", "donors", "done", "predictions")

    def __init__(self, job: Job | None, rows: np.ndarray, donors: np.ndarray | None):
        self.job = job
        self.rows = rows
        self.donors = donors
        self.done = 0
        self.predictions: np.ndarray | None = None


class JobEvaluator:
    """Predicts jobs of a plan with one :class:`PredictFunction`; bit-identical whatever shares a chunk."""

    def __init__(self, plan: Plan, predict: PredictFunction, on_rows: Callable[[int], None] = lambda rows: None):
        self.plan = plan
        self.predict = predict
        self.on_rows = on_rows

    def predictions(self, rows: np.ndarray) -> np.ndarray:
        """Predictions of the unperturbed data for ``rows`` (the baseline)."""
        found: list[np.ndarray] = []
        self._run([(None, rows, (), None)], lambda pending: found.append(pending.predictions), None)
        return found[0]

    def run(self, jobs: Sequence[Job], on_job: Callable[[Job, np.ndarray, np.ndarray, np.ndarray | None], None]):
        """Predict every job; ``on_job(job, rows, predictions, donors)`` as each completes, in order."""
        plan = self.plan

        def tasks():
            for job in jobs:
                overrides, donors = plan.perturbed(job)
                yield job, plan.block_rows(job.block), overrides, donors

        policy = self._prefix_policy(jobs)
        self._run(tasks(), lambda p: on_job(p.job, p.rows, p.predictions, p.donors), policy)

    def _prefix_policy(self, jobs: Sequence[Job]) -> PrefixPolicy | None:
        """Prefix reuse for one-input recurrent Sequential models with many rows past time step 0."""
        inputs = self.plan.inputs
        if not (self.predict.releases_gil and inputs.single and inputs.parts[0].is_sequence):
            return None
        values = inputs.parts[0].values
        first_steps = [self.plan.units[job.unit].first_step for job in jobs]
        block_rows = len(self.plan.block_rows(jobs[0].block)) if jobs else 0
        if sum(1 for step in first_steps if step) * block_rows < PREFIX_MIN_ROWS:
            return None
        if not PrefixReuse.supports(self.predict.model, values.shape):
            return None
        reuse = PrefixReuse(self.predict.model, self.predict, values)
        return PrefixPolicy(reuse, first_steps, block_rows, values.shape[1], self.predict.batch_rows)

    def _run(self, tasks, on_done: Callable[[_Pending], None], policy: PrefixPolicy | None) -> None:
        packer = ChunkPacker(self.plan.inputs, self.predict.batch_rows, self.predict.dtype)
        pending: list[_Pending] = []

        def collect(chunk: Chunk, predictions: np.ndarray) -> None:
            for segment in chunk.segments:
                job = pending[segment.job]
                if job.predictions is None:
                    job.predictions = np.empty((len(job.rows), predictions.shape[1]))
                count = segment.stop - segment.start
                job.predictions[segment.start : segment.stop] = predictions[segment.offset : segment.offset + count]
                job.done += count
                if job.done == len(job.rows):
                    on_done(job)
                    job.predictions = job.donors = None  # scored: free the memory (the list keeps every job)
            self.on_rows(chunk.rows)

        def fail(error: Exception, chunk: Chunk) -> None:
            self._raise_failure(error, [pending[segment.job].job for segment in chunk.segments])

        with Pipeline(collect, fail, threaded=self.predict.releases_gil) as pipeline:
            for job, rows, overrides, donors in tasks:
                pending.append(_Pending(job, rows, donors))
                for chunk in packer.add(len(pending) - 1, rows, overrides):
                    pipeline.submit(chunk, self._call(chunk, pending, policy))
            chunk = packer.rest()
            if chunk is not None:
                pipeline.submit(chunk, self._call(chunk, pending, policy))
            pipeline.wait()

    def _call(self, chunk: Chunk, pending: list[_Pending], policy: PrefixPolicy | None) -> Callable[[], np.ndarray]:
        """The call that predicts ``chunk``: the model on its arguments, or past an unchanged prefix."""
        arguments = self.plan.inputs.call_arguments(chunk.arrays)
        if policy is None:
            return lambda: self.predict(arguments)
        jobs = [pending[segment.job].job for segment in chunk.segments]
        step = min(0 if job is None else self.plan.units[job.unit].first_step for job in jobs)

        def sample_rows() -> np.ndarray:
            return np.concatenate([pending[s.job].rows[s.start : s.stop] for s in chunk.segments])

        return policy.call(self.predict, arguments, step, sample_rows)

    def _raise_failure(self, error: Exception, jobs: list[Job | None]) -> None:
        """Re-raise a model error as a :class:`ModelFailedError` naming the chunk's jobs (or the baseline).

        A chunk may hold rows of several jobs (one model call); the message then names the
        first and the last, since the call that failed served all of them.
        """
        jobs = list(dict.fromkeys(jobs))
        if any(job is None for job in jobs):
            if isinstance(error, (ModelOutputError, NotRowWiseError)):
                raise error  # what the model returned, not a failure of the call: its own message says it
            raise ModelFailedError.raised(error, BASELINE)
        where = self.plan.describe(jobs[0])
        if len(jobs) > 1:
            where += f" (in one model call with {len(jobs) - 1} more job(s), up to {self.plan.describe(jobs[-1])})"
        raise ModelFailedError.raised(error, f"while evaluating {where}")
