"""Data larger than one chunk, read from a read-only memory map: same numbers, bounded memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from pyimportance import perturbation_importance

# The large array: 50_000 x 10 x 50 float64 = 200 MB on disk.
LARGE_SHAPE = (50_000, 10, 50)
LARGE_BATCH = 2_000


def last_step_model(x: np.ndarray) -> np.ndarray:
    """Cheap model reading a few features of the last time step (two outputs)."""
    return np.stack([x[:, -1, 0] + 0.5 * x[:, -1, 1], np.tanh(x[:, -1, 2]) - x[:, 0, 3]], axis=1)


def _write_npy(path, shape, seed: int, block_rows: int = 4_000) -> None:
    """Write a random float64 .npy of ``shape`` without holding it in memory."""
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=shape)
    for start in range(0, shape[0], block_rows):
        stop = min(shape[0], start + block_rows)
        out[start:stop] = rng.normal(size=(stop - start,) + shape[1:])
    out.flush()
    del out


@pytest.fixture(scope="module")
def large_npy(tmp_path_factory):
    path = tmp_path_factory.mktemp("large") / "X.npy"
    _write_npy(path, LARGE_SHAPE, seed=0)
    return path


@pytest.mark.parametrize(
    "options",
    [
        dict(method="gaussian"),
        dict(method="permute", loss="mse", with_y=True),
        dict(method="uniform", by="cell"),
        dict(method="resample", by="timestep", max_samples=1_000),
        dict(method="mean", groups={"first": ["x1", "x2"], "rest": [2, 3, 4]}),
    ],
    ids=["gaussian", "permute-y", "uniform-cell", "resample-timestep-subsample", "mean-groups"],
)
def test_memmap_gives_the_same_result_as_the_array_in_memory(tmp_path, options):
    options = dict(options)
    path = tmp_path / "X.npy"
    _write_npy(path, (1_500, 6, 5), seed=1, block_rows=400)
    X_map = np.load(path, mmap_mode="r")
    X_memory = np.load(path)
    y = last_step_model(X_memory) + 0.1 if options.pop("with_y", False) else None
    assert isinstance(X_map, np.memmap) and not X_map.flags.writeable
    common = dict(n_repeats=2, random_state=3, **options)
    from_map = perturbation_importance(last_step_model, X_map, y, batch_size=256, **common)
    from_memory = perturbation_importance(last_step_model, X_memory, y, **common)
    np.testing.assert_array_equal(from_map.importances, from_memory.importances)
    assert from_map.baseline_score == from_memory.baseline_score
    np.testing.assert_array_equal(np.load(path), X_memory)  # the file is untouched


def _peak_extra_bytes(X, **options) -> int:
    """Peak memory allocated (numpy included) while the importance is computed."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        perturbation_importance(last_step_model, X, batch_size=LARGE_BATCH, random_state=0, **options)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def test_memory_stays_far_below_a_copy_of_x_and_does_not_grow_with_the_work(large_npy):
    X = np.load(large_npy, mmap_mode="r")
    size = X.nbytes
    assert size > 150e6 and X.shape[0] > 10 * LARGE_BATCH  # many chunks
    small = _peak_extra_bytes(X, groups={"a": [0], "b": [1]}, n_repeats=1)  # 2 jobs
    large = _peak_extra_bytes(X, groups={"a": [0], "b": [1], "c": [2], "d": [3]}, n_repeats=2)  # 8 jobs
    print(f"X {size / 1e6:.0f} MB; peak extra memory {small / 1e6:.1f} MB (2 jobs), {large / 1e6:.1f} MB (8 jobs)")
    assert small < 0.5 * size
    assert large < 0.5 * size
    assert large < 1.5 * small
