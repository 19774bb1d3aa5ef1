"""Running an estimator's tasks on a ``concurrent.futures`` executor, e.g. a Dask cluster.

The tasks of a step (perturbation importance's (unit, repeat) jobs, Shapley importance's pieces)
are cut into contiguous runs, one executor task each. A worker computes its run exactly as the
local run would (:meth:`~.estimator.Estimator.compute`): the same ``PredictFunction`` (same
``batch_rows``, same compiled batch shape) and each task's own generator from
:mod:`pyimportance.data.seeding`, so the numbers are bit-identical to the local run whatever the
number of workers or the task size.

What travels to the workers:

- Keras models as bytes in Keras' own ``.keras`` format (never a pickled model). Each
  worker process rebuilds a model once and keeps it, keyed by a hash of those bytes, for
  all later tasks (and later runs) with the same model.
- Anything else (a callable, an object with ``.predict``, a custom method or loss) is the
  user's own code and is pickled by the executor (Dask uses cloudpickle).
- The estimator (X included), the scoring and the baseline: with a Dask executor they are
  scattered to every worker once; other executors pickle them with every task (a thread
  pool copies nothing).

Dask is never imported here: a Dask executor is recognised by its ``_client`` attribute.
"""

from __future__ import annotations

import hashlib
import importlib
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
from ..model.keras import KerasFlavour, keras_flavour
from ..model.predict import PredictFunction
from ..scoring.scoring import Scoring
from .estimator import Estimator

# Tasks per worker slot by default: enough to balance uneven workers, few enough that the
# per-task overhead stays small.
TASKS_PER_WORKER = 4
# Models kept per worker process.
_MAX_CACHED = 4


@dataclass(frozen=True)
class KerasModelBytes:
    """A Keras model saved in the ``.keras`` format, with a token naming its content."""

    flavour: KerasFlavour  # the package that saved it (and loads it) and its major version
    data: bytes
    token: str


@dataclass(frozen=True)
class _Payload:
    """Everything a task needs besides its run of tasks; sent to each worker once if possible."""

    estimator: Estimator  # the evaluated rows included
    model: object  # KerasModelBytes or the user's own model
    scoring: Scoring
    baseline: object  # what the estimator's tasks read of the baseline
    tasks: list
    batch_rows: int
    jit_compile: bool | str
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
    load = importlib.import_module(saved.flavour.package).models.load_model  # Keras 2 and 3 alike
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
    return PredictFunction(worker_model(payload.model), batch_rows=payload.batch_rows,
                           jit_compile=payload.jit_compile, probabilities=payload.probabilities)


def _compute_tasks(payload: _Payload, start: int, stop: int) -> list:
    """Results of tasks ``start:stop`` of the payload (runs on a worker)."""
    results = payload.estimator.compute(_worker_predict(payload), payload.scoring, payload.baseline,
                                        payload.tasks[start:stop])
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


def run_tasks(
    estimator: Estimator,
    tasks: list,
    model,
    scoring: Scoring,
    baseline,
    *,
    predict: PredictFunction,
    executor: Executor,
    task_size: int | None = None,
    on_rows: Callable[[int], None] = lambda rows: None,
) -> list:
    """Results of ``tasks`` (in their order), computed by runs of ``task_size`` tasks on ``executor``.

    Workers build the same :class:`PredictFunction` as ``predict`` (same ``batch_rows``, same
    compilation), so they give the same numbers as the local run.
    """
    size = task_size or default_task_size(executor, len(tasks))
    payload = _Payload(estimator, shipped_model(model), scoring, baseline, list(tasks), predict.batch_rows,
                       bool(predict.uses_xla), predict.probabilities)
    shared = share(executor, payload)
    runs = {}
    for start in range(0, len(tasks), size):
        stop = min(start + size, len(tasks))
        runs[executor.submit(_compute_tasks, shared, start, stop)] = (start, stop)
    results: list = [None] * len(tasks)
    try:
        for future in as_completed(runs):
            start, stop = runs[future]
            results[start:stop] = _run_result(future, estimator, tasks[start], tasks[stop - 1])
            on_rows(sum(estimator.task_rows(task) for task in tasks[start:stop]))
    finally:
        for future in runs:
            future.cancel()
    return results


def _run_result(future, estimator: Estimator, first, last) -> list:
    """A run's results; a failure of the run itself (not of the model, method or loss) is named by its tasks."""
    try:
        return future.result()
    except (ModelFailedError, MethodFailedError, LossFailedError):
        raise
    except Exception as error:
        where = estimator.describe_tasks(first, last)
        failure = ModelFailedError(f"task failed {where}: {type(error).__name__}: {error}", where)
        raise failure from error
