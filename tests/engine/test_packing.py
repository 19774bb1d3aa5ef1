"""Rows of jobs packed into model calls (pyimportance.engine.packing): chunks, segments, buffers, rows per call."""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance.data.inputs import Inputs, ModelInput
from pyimportance.engine.packing import ChunkPacker, Segment, chunk_rows, default_batch_rows
from pyimportance.engine.plan import Override

N_ROWS = 12


def _inputs(*, static: bool = False) -> Inputs:
    X = np.arange(N_ROWS * 2 * 2, dtype=np.float64).reshape(N_ROWS, 2, 2)
    parts = [ModelInput("input", X, ("x1", "x2"), True)]
    if static:
        Z = 1000.0 + np.arange(N_ROWS * 3, dtype=np.float64).reshape(N_ROWS, 1, 3)
        parts.append(ModelInput("static", Z, ("z1", "z2", "z3"), False))
    return Inputs(tuple(parts), "list" if static else "array")


def _jobs(*, static: bool = False):
    """Three jobs of 5, 3 and 9 rows (the second's rows scattered), each with its own new values."""
    rows = [np.arange(0, 5), np.array([7, 2, 9]), np.arange(3, 12)]
    jobs = []
    for job, job_rows in enumerate(rows):
        values = -(100.0 * (job + 1) + np.arange(len(job_rows), dtype=np.float64)).reshape(-1, 1, 1)
        overrides = [Override(0, (slice(1, 2), slice(0, 1)), values)]
        if static:
            static_values = np.concatenate([values - 0.5, values - 0.25], axis=2)  # z1 and z3
            overrides.append(Override(1, (slice(0, 1), np.array([0, 2])), static_values))
        jobs.append((job_rows, overrides))
    return jobs


def _expected(inputs: Inputs, rows, overrides) -> list[np.ndarray]:
    """The job's rows as the model must see them: the data's rows with the overrides written in."""
    arrays = [part.values[rows].copy() for part in inputs.parts]
    for override in overrides:
        arrays[override.input][(slice(None),) + override.index] = override.values
    return arrays


def _pack(inputs: Inputs, jobs, batch_rows: int, dtype=np.float64):
    """Every chunk, copied when it is handed out (the packer reuses its buffers), with its segments."""
    packer = ChunkPacker(inputs, batch_rows, dtype)
    chunks = []
    for job, (rows, overrides) in enumerate(jobs):
        for chunk in packer.add(job, rows, overrides):
            chunks.append(([array.copy() for array in chunk.arrays], list(chunk.segments), chunk.rows))
    rest = packer.rest()
    if rest is not None:
        chunks.append(([array.copy() for array in rest.arrays], list(rest.segments), rest.rows))
    return chunks


def _reassemble(inputs: Inputs, jobs, chunks) -> list[list[np.ndarray]]:
    found = [[np.full((len(rows),) + part.values.shape[1:], np.nan) for part in inputs.parts] for rows, _ in jobs]
    for arrays, segments, _ in chunks:
        for segment in segments:
            count = segment.stop - segment.start
            for part, array in enumerate(arrays):
                found[segment.job][part][segment.start : segment.stop] = array[segment.offset : segment.offset + count]
    return found


def test_every_chunk_has_batch_rows_rows_except_the_rest():
    chunks = _pack(_inputs(), _jobs(), batch_rows=4)
    assert [rows for _, _, rows in chunks] == [4, 4, 4, 4, 1]
    assert [arrays[0].shape for arrays, _, _ in chunks] == [(4, 2, 2)] * 4 + [(1, 2, 2)]


def test_segments_say_which_rows_of_which_job_sit_where_in_each_chunk():
    chunks = _pack(_inputs(), _jobs(), batch_rows=4)
    assert [segments for _, segments, _ in chunks] == [
        [Segment(0, 0, 4, 0)],
        [Segment(0, 4, 5, 0), Segment(1, 0, 3, 1)],
        [Segment(2, 0, 4, 0)],
        [Segment(2, 4, 8, 0)],
        [Segment(2, 8, 9, 0)],
    ]


@pytest.mark.parametrize("batch_rows", [1, 2, 4, 5, 7, 17, 100])
def test_reassembling_the_segments_gives_each_jobs_rows_with_its_overrides(batch_rows):
    inputs, jobs = _inputs(), _jobs()
    found = _reassemble(inputs, jobs, _pack(inputs, jobs, batch_rows))
    for (rows, overrides), arrays in zip(jobs, found):
        assert np.array_equal(arrays[0], _expected(inputs, rows, overrides)[0])


@pytest.mark.parametrize("batch_rows", [3, 8])
def test_several_inputs_are_packed_side_by_side_and_overrides_reach_their_own_input(batch_rows):
    inputs, jobs = _inputs(static=True), _jobs(static=True)
    chunks = _pack(inputs, jobs, batch_rows)
    assert all(arrays[1].shape == (rows, 1, 3) for arrays, _, rows in chunks)
    found = _reassemble(inputs, jobs, chunks)
    for (rows, overrides), arrays in zip(jobs, found):
        expected = _expected(inputs, rows, overrides)
        assert np.array_equal(arrays[0], expected[0])
        assert np.array_equal(arrays[1], expected[1])
    # the static input's first job: z1 and z3 changed, z2 kept
    first = found[0][1]
    assert np.array_equal(first[:, 0, 1], inputs.parts[1].values[:5, 0, 1])
    assert np.array_equal(first[:, 0, 0], [-100.5, -101.5, -102.5, -103.5, -104.5])
    assert np.array_equal(first[:, 0, 2], [-100.25, -101.25, -102.25, -103.25, -104.25])


def test_a_job_without_overrides_is_packed_as_the_datas_rows():
    inputs = _inputs()
    rows = np.array([11, 0, 5, 6])
    found = _reassemble(inputs, [(rows, [])], _pack(inputs, [(rows, [])], batch_rows=3))
    assert np.array_equal(found[0][0], inputs.parts[0].values[rows])


def test_chunks_are_in_the_packers_dtype():
    inputs = _inputs()
    packer = ChunkPacker(inputs, 4, np.float32)
    chunk = next(iter(packer.add(0, np.arange(4))))
    assert chunk.arrays[0].dtype == np.float32
    assert np.array_equal(chunk.arrays[0], inputs.parts[0].values[:4].astype(np.float32))


def test_a_chunk_is_kept_while_the_next_is_filled_and_reused_by_the_one_after():
    inputs = _inputs()
    packer = ChunkPacker(inputs, 4, np.float64)
    produced = packer.add(0, np.arange(N_ROWS))
    first = next(produced)
    first_copy = first.arrays[0].copy()
    second = next(produced)
    assert np.array_equal(first.arrays[0], first_copy)  # filling the second left the first alone
    assert not np.shares_memory(first.arrays[0], second.arrays[0])
    third = next(produced)
    assert np.shares_memory(first.arrays[0], third.arrays[0])  # the first's buffers, reused
    assert np.array_equal(first.arrays[0], inputs.parts[0].values[8:12])
    assert not np.array_equal(first.arrays[0], first_copy)
    assert np.array_equal(second.arrays[0], inputs.parts[0].values[4:8])


def test_rest_is_none_when_nothing_is_filled_and_the_next_chunk_starts_afresh():
    inputs = _inputs()
    packer = ChunkPacker(inputs, 4, np.float64)
    assert packer.rest() is None
    assert list(packer.add(0, np.arange(2))) == []
    rest = packer.rest()
    assert rest.rows == 2 and rest.segments == [Segment(0, 0, 2, 0)]
    assert packer.rest() is None
    chunk = next(iter(packer.add(1, np.arange(4, 8))))
    assert chunk.segments == [Segment(1, 0, 4, 0)]
    assert not np.shares_memory(chunk.arrays[0], rest.arrays[0])  # the rest took a buffer set too
    assert np.array_equal(chunk.arrays[0], inputs.parts[0].values[4:8])


# -- rows per model call --------------------------------------------------------------------------------------


def test_chunk_rows_is_the_batch_size_capped_at_the_rows_there_are():
    assert chunk_rows(64, 10, 1000, 4) == 64
    assert chunk_rows(5000, 10, 1000, 4) == 1000
    assert chunk_rows(7, 10, 0, 8) == 1
    assert chunk_rows(10**12, 3, 100, 8) == 100  # capped before the memory check


def test_chunk_rows_without_batch_size_is_the_default():
    assert chunk_rows(None, 1, 10_000, 8) == default_batch_rows(1, 10_000) == 3334


def test_chunk_rows_allows_exactly_2_gib_and_refuses_one_row_more():
    # 1024 float64 values per row: 8 KiB, so 262144 rows are exactly 2 GiB
    assert chunk_rows(262_144, 1024, 10**6, 8) == 262_144
    with pytest.raises(ValueError) as caught:
        chunk_rows(262_145, 1024, 10**6, 8)
    assert str(caught.value) == (
        "batch_size=262145 needs 2.0 GiB per model call for this data; use a smaller batch_size (at most 262144)"
    )


def test_chunk_rows_refuses_a_huge_batch_with_the_memory_it_would_need():
    with pytest.raises(ValueError) as caught:
        chunk_rows(10**12, 3, 10**12, 4)
    assert str(caught.value) == (
        "batch_size=1000000000000 needs 11175.9 GiB per model call for this data; "
        "use a smaller batch_size (at most 178956970)"
    )


def test_default_batch_rows_spreads_the_rows_evenly_over_calls_of_at_most_4096():
    rows = default_batch_rows(1, 10_000)
    assert rows == 3334  # three calls: 3334 + 3334 + 3332, not 4096 + 4096 + 1808
    assert -(-10_000 // rows) == 3
    assert default_batch_rows(1, 4096) == 4096
    assert default_batch_rows(1, 4097) == 2049
    assert default_batch_rows(1, 100) == 100


def test_default_batch_rows_bounds_the_values_per_call():
    assert default_batch_rows(2000, 10_000) == 3334  # 4000 rows of 2000 values, spread over 3 calls
    assert default_batch_rows(100_000, 1000) == 250  # at least 256 rows a call: 4 calls of 250
    assert default_batch_rows(8_000_000, 300) == 150  # 256 rows a call: 2 calls of 150


def test_default_batch_rows_of_no_rows_is_one():
    assert default_batch_rows(1, 0) == 1
    assert default_batch_rows(0, 10) == 10
