"""Packing rows of jobs into fixed-size chunks, one buffer per model input.

Rows of consecutive jobs are copied into buffers of ``batch_rows`` rows, so many small jobs
share one model call and one large job spans several. The buffers (two sets, used in turn, so
one chunk can be predicted while the next is filled) are the only full-width copies in memory.
A row's values never depend on which other rows share its chunk. How many rows a chunk holds
(``batch_size``, or a default that is fast and bounded in memory) is :func:`chunk_rows`' decision.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..data.inputs import Inputs
from ..data.rows import as_slice
from .plan import Override

# Default rows per model call. Recurrent layers run fastest at a few thousand rows (their
# per-step state then stays in the CPU caches: at 16k rows, LSTM(64) runs about half as fast
# as at 2-4k); a chunk also holds at most about 8M input values (32 MiB in float32).
_MAX_CHUNK_ROWS = 4096
_TARGET_CHUNK_VALUES = 8_000_000
_MIN_CHUNK_ROWS = 256
# A chunk larger than this is refused (batch_size=10**12 would try to allocate terabytes).
_MAX_CHUNK_BYTES = 2 * 2**30


def default_batch_rows(values_per_row: int, total_rows: int) -> int:
    """Rows per model call when ``batch_size`` is None: fast, bounded in memory, little padding.

    The rows are spread evenly over the calls needed, so the last call is not mostly padding.
    """
    rows = _TARGET_CHUNK_VALUES // max(1, values_per_row)
    rows = int(np.clip(rows, _MIN_CHUNK_ROWS, _MAX_CHUNK_ROWS))
    total_rows = max(1, total_rows)
    calls = -(-total_rows // rows)
    return -(-total_rows // calls)


def chunk_rows(batch_size: int | None, values_per_row: int, total_rows: int, itemsize: int) -> int:
    """Rows per model call: ``batch_size`` (at most the rows there are), or the default."""
    if batch_size is None:
        return default_batch_rows(values_per_row, total_rows)
    rows = min(batch_size, max(1, total_rows))
    needed = rows * values_per_row * itemsize
    if needed > _MAX_CHUNK_BYTES:
        raise ValueError(
            f"batch_size={batch_size} needs {needed / 2**30:.1f} GiB per model call for this data; "
            f"use a smaller batch_size (at most {max(1, _MAX_CHUNK_BYTES // (values_per_row * itemsize))})"
        )
    return rows


@dataclass(frozen=True)
class Segment:
    """Rows ``start:stop`` of job ``job`` (an index into the caller's job list; -1: no job) at ``offset``."""

    job: int
    start: int
    stop: int
    offset: int


@dataclass
class Chunk:
    """Filled rows of one buffer set: the model's arguments for them and which jobs they belong to."""

    arrays: list[np.ndarray]  # one per input, ``rows`` rows each (views of the buffers)
    segments: list[Segment]

    @property
    def rows(self) -> int:
        return self.arrays[0].shape[0]


class ChunkPacker:
    """Copies rows of jobs into chunks of ``batch_rows`` rows.

    Parameters
    ----------
    inputs
        The evaluated data (rows are copied from here).
    batch_rows
        Rows per chunk.
    dtype
        dtype of the buffers (what the model computes in).
    """

    def __init__(self, inputs: Inputs, batch_rows: int, dtype):
        self._inputs = inputs
        self.batch_rows = batch_rows
        self._dtype = dtype
        self._sets: list[list[np.ndarray]] = []
        self._current = 0
        self._fill = 0
        self._segments: list[Segment] = []

    def _buffers(self) -> list[np.ndarray]:
        while len(self._sets) <= self._current:
            self._sets.append(
                [np.empty((self.batch_rows,) + part.values.shape[1:], dtype=self._dtype) for part in self._inputs.parts]
            )
        return self._sets[self._current]

    def add(self, job: int, rows: np.ndarray, overrides: Sequence[Override] = ()) -> Iterator[Chunk]:
        """Copy job ``job``'s rows (``rows`` of the data, with ``overrides``); yield each chunk that fills up."""
        n_rows, start = len(rows), 0
        span = as_slice(rows)
        while start < n_rows:
            count = min(n_rows - start, self.batch_rows - self._fill)
            if span is not None:
                source = slice(span.start + start, span.start + start + count)
            else:
                source = rows[start : start + count]
            for part, buffer in zip(self._inputs.parts, self._buffers()):
                buffer[self._fill : self._fill + count] = part.values[source]
            buffers = self._buffers()
            for override in overrides:
                target = buffers[override.input][self._fill : self._fill + count]
                target[(slice(None),) + override.index] = override.values[start : start + count]
            self._segments.append(Segment(job, start, start + count, self._fill))
            self._fill += count
            start += count
            if self._fill == self.batch_rows:
                yield self._take()

    def rest(self) -> Chunk | None:
        """The partly filled chunk, if any."""
        return self._take() if self._fill else None

    def _take(self) -> Chunk:
        chunk = Chunk([buffer[: self._fill] for buffer in self._buffers()], self._segments)
        self._segments, self._fill = [], 0
        self._current = 1 - self._current
        return chunk
