"""Running the jobs of a plan on a ``concurrent.futures`` executor, e.g. a Dask cluster.

The (unit, repeat) jobs are cut into contiguous blocks, one task each. A task scores its
block exactly as the local run would: the same ``PredictFunction`` (same ``batch_rows``,
same compiled batch shape) and the job's own generator from :mod:`pyimportance.data.seeding`, so the numbers
are bit-identical to the local run whatever the number of workers or the task size.

What travels to the workers:

- Keras models as bytes in Keras' own ``.keras`` format (never a pickled model). Each
  worker process rebuilds a model once and keeps it, keyed by a hash of those bytes, for
  all later tasks (and later runs) with the same model.
- Anything else (a callable, an object with ``.predict``, a custom method or loss) is the
  user's own code and is pickled by the executor (Dask uses cloudpickle).
- The plan (X included), the target and the baseline score: with a Dask executor they are
  scattered to every worker once; other executors pickle them with every task (a thread
  pool copies nothing).

Dask is never imported here: a Dask executor is recognised by its ``_client`` attribute.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass

import numpy as np

from ..errors import LossFailedError, MethodFailedError, ModelFailedError
from ..model.keras import keras_flavour
from ..model.predict import PredictFunction
from ..scoring.scoring import Scoring
from .evaluate import JobEvaluator
from .plan import Job, Plan
from .tally import Baseline, JobResult, job_result

# Tasks per worker slot by default: enough to balance uneven workers, few enough that the
# per-task overhead stays small.
TASKS_PER_WORKER = 4
# Models kept per worker process.
_MAX_CACHED = 4


@dataclass(frozen=True)
class KerasModelBytes:
    """A Keras model saved in the ``.keras`` format, with a token naming its content."""

    flavour: str  # "keras" (Keras 3) or "tf_keras" (Keras 2)
    data: bytes
    token: str


@dataclass(frozen=True)
class _Payload:
    """Everything a task needs besides its block of jobs; sent to each worker once if possible."""

    plan: Plan
    model: object  # KerasModelBytes or the user's own model
    scoring: Scoring
    baseline: Baseline
    jobs: list[Job]
    batch_rows: int
    jit_compile: bool | str
    total_rows: int
    probabilities: str | None = None


def model_to_bytes(model) -> KerasModelBytes:
    """Save a Keras model to bytes in the ``.keras`` format."""
    flavour = keras_flavour(model)
    if flavour is None:
        raise TypeError(f"model must be a Keras model, got {type(model).__name__}")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        with open(path, "rb") as file:
            data = file.read()
    return KerasModelBytes(flavour, data, _model_token(model))


def _model_token(model) -> str:
    """Hash of a Keras model's architecture and weights (the saved file also holds a date)."""
    digest = hashlib.sha256(model.to_json().encode())
    for weights in model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    return digest.hexdigest()


def model_from_bytes(saved: KerasModelBytes):
    """Rebuild a Keras model saved by :func:`model_to_bytes`."""
    if saved.flavour == "tf_keras":
        import tf_keras

        load = tf_keras.models.load_model
    else:
        import keras

        load = keras.saving.load_model
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        with open(path, "wb") as file:
            file.write(saved.data)
        return load(path, compile=False)


# Worker-side state: one per worker process, shared by the threads of that worker.
_lock = threading.Lock()
_models: OrderedDict[str, object] = OrderedDict()
_stats = {"model_loads": 0, "tasks": 0}


def worker_stats() -> dict[str, int]:
    """Models rebuilt and tasks run in this process (query workers with ``client.run``)."""
    with _lock:
        return dict(_stats)


def _remember(cache: OrderedDict, key, value) -> None:
    cache[key] = value
    while len(cache) > _MAX_CACHED:
        cache.popitem(last=False)


def shipped_model(model):
    """What travels to the workers for ``model``: Keras models as :class:`KerasModelBytes`, others as they are."""
    return model_to_bytes(model) if keras_flavour(model) is not None else model


def worker_model(model):
    """The model a shipped one stands for, in this process; a Keras model is rebuilt once per process.

    The compiled forward pass is kept per model by :mod:`pyimportance.model.predict`, so a cached
    model is also traced only once.
    """
    if isinstance(model, KerasModelBytes):
        with _lock:
            if model.token not in _models:
                _remember(_models, model.token, model_from_bytes(model))
                _stats["model_loads"] += 1
            model = _models[model.token]
    return model


def count_task() -> None:
    """Count one task run in this process (:func:`worker_stats`)."""
    with _lock:
        _stats["tasks"] += 1


def _worker_predict(payload: _Payload) -> PredictFunction:
    """The payload's predict function in this process (:func:`worker_model`)."""
    return PredictFunction(
        worker_model(payload.model), batch_rows=payload.batch_rows, jit_compile=payload.jit_compile,
        total_rows=payload.total_rows, probabilities=payload.probabilities,
    )


def _score_block(payload: _Payload, start: int, stop: int) -> list[JobResult]:
    """Results of jobs ``start:stop`` of the payload (runs on a worker)."""
    results: list[JobResult] = []
    evaluator = JobEvaluator(payload.plan, _worker_predict(payload))
    evaluator.run(payload.jobs[start:stop], lambda job, rows, predictions, donors: results.append(
        job_result(payload.scoring, payload.baseline, job, rows, predictions, donors, payload.plan.describe)))
    count_task()
    return results


def _dask_client(executor: Executor):
    """The ``distributed.Client`` behind ``Client.get_executor()``, else None."""
    client = getattr(executor, "_client", None)
    return client if callable(getattr(client, "scatter", None)) else None


def worker_slots(executor: Executor) -> int:
    """How many tasks ``executor`` runs at once (Dask threads, pool workers, else CPUs)."""
    client = _dask_client(executor)
    if client is not None:
        return max(1, sum(client.nthreads().values()))
    slots = getattr(executor, "_max_workers", None)
    if isinstance(slots, int) and slots > 0:
        return slots
    return os.cpu_count() or 1


def default_task_size(executor: Executor, n_jobs: int) -> int:
    """Jobs per task: about ``TASKS_PER_WORKER`` tasks per worker slot."""
    return max(1, math.ceil(n_jobs / (TASKS_PER_WORKER * worker_slots(executor))))


def share(executor: Executor, payload):
    """The payload as task argument: scattered to every Dask worker once, else the object itself."""
    client = _dask_client(executor)
    if client is None:
        return payload
    return client.scatter(payload, broadcast=True, hash=False)


def run_jobs(
    plan: Plan,
    model,
    scoring: Scoring,
    baseline: Baseline,
    jobs: list[Job],
    *,
    predict: PredictFunction,
    executor: Executor,
    task_size: int | None = None,
    on_rows: Callable[[int], None] = lambda rows: None,
) -> list[JobResult]:
    """Results of ``jobs`` (in their order), computed by tasks on ``executor``.

    Workers build the same :class:`PredictFunction` as ``predict`` (same ``batch_rows``, same
    compilation), so they give the same numbers as the local run.
    """
    size = task_size or default_task_size(executor, len(jobs))
    shipped = shipped_model(model)
    payload = _Payload(plan, shipped, scoring, baseline, list(jobs), predict.batch_rows,
                       bool(predict.uses_xla), 0, predict.probabilities)
    shared = share(executor, payload)
    blocks = {}
    for start in range(0, len(jobs), size):
        stop = min(start + size, len(jobs))
        blocks[executor.submit(_score_block, shared, start, stop)] = (start, stop)
    results: list[JobResult | None] = [None] * len(jobs)
    try:
        for future in as_completed(blocks):
            start, stop = blocks[future]
            results[start:stop] = _block_result(future, plan, jobs[start], jobs[stop - 1])
            on_rows(sum(len(plan.block_rows(job.block)) for job in jobs[start:stop]))
    finally:
        for future in blocks:
            future.cancel()
    return results


def _block_result(future, plan: Plan, first: Job, last: Job) -> list[JobResult]:
    """A task's scores; a failure of the task itself (not the model) is named by its jobs."""
    try:
        return future.result()
    except (ModelFailedError, MethodFailedError, LossFailedError):
        raise
    except Exception as error:
        where = f"while evaluating {plan.describe(first)} to {plan.describe(last)}"
        failure = ModelFailedError(f"task failed {where}: {type(error).__name__}: {error}", where)
        raise failure from error
