"""Running the jobs on an executor (pyimportance.engine.distributed): same numbers as the local run,
failures named, model sent once.

Thread and process pools with a NumPy model run everywhere; the Dask tests use Keras models
and are marked ``keras`` (Dask is installed with the Keras stack, not in the NumPy 2 env).
One Dask ``LocalCluster`` of two single-threaded worker processes serves the whole module.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

from pyimportance import ModelFailedError, perturbation_importance
from pyimportance.engine import distributed as dist
from pyimportance.engine import preparation


def rowwise_model(x: np.ndarray) -> np.ndarray:
    """A NumPy model whose rows never interact (no BLAS), so chunking cannot change a bit."""
    return np.tanh(x[:, -1, 0]) * 2.0 + 0.5 * x[:, :, 1].mean(axis=1) + 0.1 * x[:, 0, 2] ** 2


class FailsOnZeroedX2:
    """Predicts like ``rowwise_model`` but raises once feature x2 has been zeroed."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if np.any(x[:, :, 1] == 0):
            raise ValueError("x2 is zero")
        return rowwise_model(x)


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(7).normal(size=(120, 5, 3))


@pytest.fixture(scope="module")
def process_pool():
    # "spawn": a forked child of a process that has started TensorFlow's threads may hang.
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def _importances(model, X, **options):
    options = {"n_repeats": 3, "random_state": 11, "batch_size": 100, **options}
    return perturbation_importance(model, X, **options)


@pytest.mark.parametrize("task_size", [1, 4])
def test_thread_pool_gives_bit_identical_importances(X, task_size):
    local = _importances(rowwise_model, X)
    with ThreadPoolExecutor(2) as pool:
        remote = _importances(rowwise_model, X, executor=pool, task_size=task_size)
    assert np.array_equal(remote.importances, local.importances)
    assert remote.baseline_score == local.baseline_score


@pytest.mark.parametrize("task_size", [None, 2])
def test_process_pool_gives_bit_identical_importances(X, process_pool, task_size):
    y = rowwise_model(X) + 0.1
    local = _importances(rowwise_model, X, y=y, method="permute", by="cell")
    remote = _importances(rowwise_model, X, y=y, method="permute", by="cell", executor=process_pool,
                          task_size=task_size)
    assert np.array_equal(remote.importances, local.importances)
    assert remote.baseline_score == local.baseline_score


def test_model_failure_in_a_worker_names_the_unit(X, process_pool):
    # One chunk per job (batch_size = n_samples) and one task per unit (task_size = n_repeats),
    # so only the task of x2 fails, and first at its repeat 1.
    with pytest.raises(ModelFailedError) as caught:
        _importances(FailsOnZeroedX2(), X, method="zero", batch_size=X.shape[0], executor=process_pool, task_size=3)
    assert str(caught.value) == "model failed while evaluating feature 'x2': ValueError: x2 is zero"


def test_task_that_cannot_start_names_its_jobs(X, process_pool):
    with pytest.raises(ModelFailedError) as caught:
        _importances(lambda x: rowwise_model(x), X, executor=process_pool, task_size=9)
    message = str(caught.value)
    assert message.startswith(
        "task failed while evaluating feature 'x1' (repeat 1 of 3) to feature 'x3' (repeat 3 of 3): "
    )
    assert "PicklingError" in message or "AttributeError" in message


class _CountingBar:
    """Stands in for pyimportance.engine.progress.Progress: counts the rows reported."""

    def __init__(self, enabled, total, tolerance):
        self.total, self.n = total, 0

    def rows(self, rows):
        self.n += rows

    def round(self, rows, precision):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        pass


def test_progress_counts_every_row_of_every_task(X, monkeypatch):
    bars = []
    monkeypatch.setattr(preparation, "Progress", lambda *args: bars.append(_CountingBar(*args)) or bars[-1])
    with ThreadPoolExecutor(2) as pool:
        _importances(rowwise_model, X, executor=pool, task_size=2)
    assert bars[0].total == X.shape[0] * (3 * 3 + 1)
    assert bars[0].n == bars[0].total


def test_default_task_size_is_about_four_tasks_per_worker():
    with ThreadPoolExecutor(3) as pool:
        assert dist.worker_slots(pool) == 3
        assert dist.default_task_size(pool, 100) == 9
        assert dist.default_task_size(pool, 5) == 1


def test_executor_must_be_a_concurrent_futures_executor(X):
    with pytest.raises(TypeError, match="^executor must be a concurrent.futures.Executor or None, got int$"):
        _importances(rowwise_model, X, executor=2)


def test_task_size_needs_an_executor(X):
    with pytest.raises(ValueError, match="^task_size needs an executor, got executor=None$"):
        _importances(rowwise_model, X, task_size=2)


# ---------------------------------------------------------------------------------------------
# Dask and Keras


def _lstm(keras, seed):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((6, 3)), keras.layers.LSTM(8), keras.layers.Dense(1)])


@pytest.fixture(scope="module")
def dask_client():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            yield client


@pytest.fixture(scope="module")
def lstm_data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 6, 3)).astype(np.float32)
    return X, (2.0 * X[:, -1, 0] - X[:, 2, 1]).astype(np.float32)


@pytest.mark.keras
def test_keras_model_travels_as_keras_bytes_with_a_stable_token(keras):
    model = _lstm(keras, 1)
    saved = dist.model_to_bytes(model)
    assert saved.data[:2] == b"PK"  # a .keras file is a zip archive
    assert dist.model_to_bytes(model).token == saved.token
    rebuilt = dist.model_from_bytes(saved)
    x = np.ones((2, 6, 3), np.float32)
    assert np.array_equal(rebuilt(x).numpy(), model(x).numpy())
    assert dist.model_to_bytes(_lstm(keras, 2)).token != saved.token


@pytest.mark.keras
@pytest.mark.parametrize(("task_size", "jit_compile"), [(None, "auto"), (4, True)])
def test_dask_gives_bit_identical_importances(keras, dask_client, lstm_data, task_size, jit_compile):
    X, y = lstm_data
    model = _lstm(keras, 0)
    options = {"y": y, "batch_size": 256, "jit_compile": jit_compile}
    local = _importances(model, X, **options)
    remote = _importances(model, X, **options, executor=dask_client.get_executor(), task_size=task_size)
    assert np.array_equal(remote.importances, local.importances)
    assert remote.baseline_score == local.baseline_score


@pytest.mark.keras
def test_dask_rebuilds_the_model_once_per_worker(keras, dask_client, lstm_data):
    X, _ = lstm_data
    model = _lstm(keras, 5)  # weights no worker has seen yet
    before = dask_client.run(dist.worker_stats)
    for _ in range(2):
        _importances(model, X, executor=dask_client.get_executor(), task_size=1)
    after = dask_client.run(dist.worker_stats)
    tasks = {worker: after[worker]["tasks"] - before[worker]["tasks"] for worker in after}
    loads = {worker: after[worker]["model_loads"] - before[worker]["model_loads"] for worker in after}
    assert sum(tasks.values()) == 2 * 3 * 3
    assert loads == {worker: int(count > 0) for worker, count in tasks.items()}


@pytest.mark.keras
def test_dask_model_failure_names_the_unit(dask_client, X):
    with pytest.raises(ModelFailedError) as caught:
        _importances(
            FailsOnZeroedX2(), X, method="zero", batch_size=X.shape[0], executor=dask_client.get_executor(), task_size=3
        )
    assert str(caught.value) == "model failed while evaluating feature 'x2': ValueError: x2 is zero"



def test_several_inputs_outputs_and_conditional_give_the_local_numbers_on_an_executor():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(4)
    sequence, static = rng.normal(size=(60, 5, 3)), rng.normal(size=(60, 2))

    def heads(inputs):
        return [inputs[0][:, -1, 0] + inputs[1][:, 0], inputs[0][:, -2, 1] - inputs[1][:, 1]]

    y = [out + 0.1 for out in heads([sequence, static])]
    options = {"method": "conditional", "per_output": True, "n_repeats": 3, "random_state": 2, "batch_size": 50}
    local = perturbation_importance(heads, [sequence, static], y, **options)
    with ThreadPoolExecutor(3) as pool:
        remote = perturbation_importance(heads, [sequence, static], y, executor=pool, task_size=2, **options)
    assert np.array_equal(remote.importances, local.importances)
    assert np.array_equal(remote.ci_low, local.ci_low)
