"""Packing rows of jobs into fixed-size chunks, one buffer per model input.

Rows of consecutive jobs are copied into buffers of ``batch_rows`` rows, so many small jobs
share one model call and one large job spans several. The buffers (two sets, used in turn, so
one chunk can be predicted while the next is filled) are the only full-width copies in memory.
A row's values never depend on which other rows share its chunk.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .inputs import Inputs
from .plan import Override
from .units import as_slice


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
