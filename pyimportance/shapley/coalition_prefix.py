"""Prefix reuse in a Shapley run: coalition rows whose first time steps are the row's own skip them.

A coalition's row keeps the row's own values before its first absent time step ``s`` (the earliest
step holding a donor's value), so a recurrent first layer's state there is that of the
unperturbed row: :class:`~pyimportance.model.prefix.PrefixReuse` runs only steps ``s..T-1`` of
it (``s`` rounded down to its start steps), with its bit-for-bit guard, when
:class:`~pyimportance.model.prefix.PrefixPolicy` finds it pays. Rows are routed into one call
buffer per start step (:func:`prefix_calls`), so a call's rows share a start. ``s`` is found by
comparing each row with the row's own values, so it holds for any imputer, padding and units; by
feature every step is touched and ``s`` is 0 (:func:`prefix_policy` then returns None). Runs on an
executor predict in full.

*Why the numbers do not change.* A row's prediction must not depend on the other rows of its call
nor on its position there: the start calls hold other rows, at other positions, than the plain
stacking. On CPUs a row's float32 output can differ in its last bits when it sits in the tail of a
batch that is not a multiple of the SIMD width (seen with 50 rows, never with multiples of 8), so
the shortcut is used only when ``batch_rows`` is a multiple of :data:`ALIGNED_ROWS`; and the first
call of each start is still checked bit for bit against the full pass (the shortcut is dropped on
any difference).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..data.inputs import Inputs
from ..data.units import Unit
from ..model.prefix import PREFIX_MIN_ROWS, PrefixPolicy, PrefixReuse

# the first absent steps the policy's estimate is made of: quantiles of their distribution
_QUANTILES = 1000
#: Calls of a multiple of this many rows have no tail rows on SIMD kernels up to 64 floats wide.
ALIGNED_ROWS = 64


@dataclass
class Prefix:
    """A run's prefix reuse: the policy that decides, the mechanism (``reuse.rows_past_prefix`` counts the
    model rows it predicted from a later start), the evaluated values."""

    policy: PrefixPolicy
    reuse: PrefixReuse
    values: np.ndarray  # the single input's (n_samples, T, F) values


def prefix_policy(predict, inputs: Inputs, units: Sequence[Unit], sizes: Sequence[int],
                  total_rows: int) -> Prefix | None:
    """The run's prefix reuse (``sizes``: the coalition sizes a piece predicts; ``total_rows``: the model rows
    of the run), or None where the model, the inputs or the units leave nothing to skip."""
    if not (predict.releases_gil and inputs.single and inputs.parts[0].is_sequence) \
            or predict.batch_rows % ALIGNED_ROWS:
        return None
    values = inputs.parts[0].values
    steps = first_absent_steps(np.array([unit.first_step for unit in units]), sizes)
    if not np.any(steps > 0) or np.mean(steps > 0) * total_rows < PREFIX_MIN_ROWS:
        return None
    if not PrefixReuse.supports(predict.model, values.shape):
        return None
    reuse = PrefixReuse(predict.model, predict, values, cached_starts=None)
    # each listed step stands for total_rows / len(steps) model rows (a "job" of the engine's policy)
    policy = PrefixPolicy(reuse, [int(step) for step in steps], total_rows / len(steps), values.shape[1],
                          predict.batch_rows)
    return Prefix(policy, reuse, values)


def first_absent_steps(unit_steps: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """Quantiles of the first absent time step of a coalition row (sizes equally frequent, orders uniform).

    With ``a`` of ``d`` units absent (a uniform subset), the first absent unit in the order of their
    first steps is past the ``m`` first with probability ``C(d - m, a) / C(d, a)``.
    """
    ordered = np.sort(unit_steps)
    d = len(ordered)
    probabilities = np.zeros(d)
    for size in sizes:
        absent = d - size
        m = np.arange(d + 1)
        survival = np.concatenate([[1.0], np.cumprod((d - absent - m[:-1]) / (d - m[:-1]))])
        survival = np.clip(survival, 0.0, 1.0)
        probabilities += survival[:-1] - survival[1:]
    cumulative = np.cumsum(probabilities / probabilities.sum())
    levels = (np.arange(_QUANTILES) + 0.5) / _QUANTILES
    return ordered[np.minimum(np.searchsorted(cumulative, levels), d - 1)]


@dataclass
class PrefixCall:
    """One model call of a piece: its input rows, their first absent step (the least), the samples they are
    rows of, and their positions among the piece's rows."""

    values: np.ndarray
    step: int
    samples: np.ndarray
    positions: np.ndarray


class _Rows:
    """Rows waiting for a call: their values, first absent steps, samples and positions in the piece."""

    def __init__(self):
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.count = 0

    def add(self, values, first, samples, positions) -> None:
        self.parts.append((values, first, samples, positions))
        self.count += len(first)

    def take(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        joined = tuple(np.concatenate(kind) for kind in zip(*self.parts))
        self.parts, self.count = [], 0
        return joined


def prefix_calls(prefix: Prefix, coalitions: Iterator[list[np.ndarray]], samples: np.ndarray,
                 batch_rows: int) -> Iterator[PrefixCall]:
    """The rows of ``coalitions`` (one input, (K * n, T, F) each, draw-major over the piece's ``samples``)
    in calls of ``batch_rows`` rows (the last of each start fewer) whose rows share a start step of
    ``prefix.reuse`` (all start 0 until the policy finds the shortcut pays). Each call's buffers are
    new (the pipeline may still read the previous ones).
    """
    reuse, n_timesteps = prefix.reuse, prefix.values.shape[1]
    waiting: dict[int, _Rows] = {}
    own, offset = None, 0
    for arrays in coalitions:
        array = arrays[0]
        if own is None:
            own = np.asarray(prefix.values[samples], dtype=array.dtype)
        local = np.arange(array.shape[0]) % len(samples)
        differs = (array != own[local]).any(axis=2)  # (rows, T)
        first = np.where(differs.any(axis=1), differs.argmax(axis=1), n_timesteps)
        if prefix.policy.pays_off():
            starts = np.array([reuse.start(step) for step in range(n_timesteps + 1)])[first]
        else:  # in full, in the plain order, until the policy's timed calls say the shortcut pays
            starts = np.zeros(len(first), dtype=np.int64)
        for start in np.unique(starts):
            chosen = np.flatnonzero(starts == start)
            rows = waiting.setdefault(int(start), _Rows())
            rows.add(array[chosen], first[chosen], samples[local[chosen]], offset + chosen)
            yield from _calls_of(rows, batch_rows, whole=True)
        offset += array.shape[0]
    for _, rows in sorted(waiting.items()):
        yield from _calls_of(rows, batch_rows, whole=False)


def _calls_of(rows: _Rows, batch_rows: int, whole: bool) -> Iterator[PrefixCall]:
    """Calls of ``batch_rows`` of ``rows`` (``whole``: only full calls, the rest wait)."""
    if not rows.count or (whole and rows.count < batch_rows):
        return
    values, first, samples, positions = rows.take()
    end = len(first) - len(first) % batch_rows if whole else len(first)
    for begin in range(0, end, batch_rows):
        stop = min(begin + batch_rows, end)
        yield PrefixCall(np.ascontiguousarray(values[begin:stop]), int(first[begin:stop].min()),
                         samples[begin:stop], positions[begin:stop])
    if end < len(first):
        rows.add(values[end:], first[end:], samples[end:], positions[end:])
