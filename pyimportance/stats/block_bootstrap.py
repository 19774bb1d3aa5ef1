"""The circular block bootstrap of the data interval, in closed form, and its block length.

:func:`circular_block_cumulants` gives the variance and third cumulant of a circular block
bootstrap (CBB) resample's sum exactly (what infinitely many replicates of
``arch.bootstrap.CircularBlockBootstrap`` give), deterministic and fast for many series at
once; :func:`block_slots` chooses the block length: ``block_size`` when given, else
``1 + BLOCK_MULTIPLIER * (L - 1)`` with ``L`` the Politis-White length (``arch.bootstrap.optimal_block_length``)
over the clearest series. Why these choices: :mod:`.intervals`' module docstring.

arch is imported on a background thread while a run evaluates its jobs
(:func:`block_length_library_loading`): the import costs 0.4-1.5 s.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
import warnings
from collections.abc import Iterator

import numpy as np

#: The automatic block length is 1 + this multiple of the Politis-White length's excess over one row (see
#: :mod:`.intervals`): independent rows (a length of 1) keep blocks of one row.
BLOCK_MULTIPLIER = 8.0
#: The automatic block length is the median over at most this many units (the clearest signals).
BLOCK_LENGTH_SERIES = 50
# Politis-White needs some room for its lag window (arch fails on a handful of slots).
_MIN_SERIES_FOR_BLOCK_LENGTH = 16
_BLOCK_LENGTH_MODULE = "arch.bootstrap"


def circular_block_cumulants(series: np.ndarray, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Variance and third cumulant of the sum of a circular block bootstrap resample, in closed form.

    Parameters
    ----------
    series : ndarray of shape (..., J)
        Series along the last axis (one per leading index).
    block_size : int
        Block length ``b`` (cut to [1, J]).

    Returns
    -------
    variance, third_cumulant : ndarray of shape (...,)
        Of the sum of the J resampled values: what infinitely many replicates of
        ``arch.bootstrap.CircularBlockBootstrap(b, series)`` would give. The resample is
        ``k = ceil(J / b)`` independent blocks (the last cut to ``r = J - (k - 1) b``), so its
        cumulants are ``(k - 1)`` times those of a block sum of length ``b`` plus one of length
        ``r``, over the J circular starting points.

    Examples
    --------
    >>> variance, third = circular_block_cumulants(np.array([1.0, 2.0, 4.0, 1.0]), 1)
    >>> float(variance), float(third)
    (6.0, 6.0)
    """
    series = np.asarray(series, dtype=np.float64)
    n = series.shape[-1]
    block = int(min(max(block_size, 1), n))
    n_blocks = -(-n // block)
    last = n - (n_blocks - 1) * block
    centred = series - series.mean(axis=-1, keepdims=True)
    wrapped = np.concatenate([centred, centred[..., : block - 1]], axis=-1)
    cumulative = np.concatenate([np.zeros(series.shape[:-1] + (1,)), np.cumsum(wrapped, axis=-1)], axis=-1)

    def block_sum_moments(length: int) -> tuple[np.ndarray, np.ndarray]:
        sums = cumulative[..., length : length + n] - cumulative[..., :n]
        squares = sums * sums
        return squares.mean(axis=-1), (squares * sums).mean(axis=-1)

    full_second, full_third = block_sum_moments(block)
    last_second, last_third = (full_second, full_third) if last == block else block_sum_moments(last)
    return (n_blocks - 1) * full_second + last_second, (n_blocks - 1) * full_third + last_third


def _politis_white_slots(series: np.ndarray, estimate: np.ndarray) -> float:
    """Median Politis-White circular block length (in slots) over the clearest series.

    ``series`` (n_series, J) and ``estimate`` (n_series,): the at most ``BLOCK_LENGTH_SERIES``
    series with the largest ``|estimate| / sqrt(sum of squares)`` and a non-zero variance; 1.0
    when there is none or the series are too short.
    """
    from arch.bootstrap import optimal_block_length

    series = np.nan_to_num(series)
    spread = np.sqrt((series**2).sum(axis=1))
    varying = np.flatnonzero((series.std(axis=1) > 0) & np.isfinite(estimate))
    if varying.size == 0 or series.shape[1] < _MIN_SERIES_FOR_BLOCK_LENGTH:
        return 1.0
    strength = np.abs(estimate[varying]) / spread[varying]
    chosen = varying[np.argsort(-strength, kind="stable")[:BLOCK_LENGTH_SERIES]]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            lengths = optimal_block_length(series[chosen].T)["circular"].to_numpy()
        except ValueError:  # too short for its lag window
            return 1.0
    lengths = lengths[np.isfinite(lengths)]
    return float(np.median(lengths)) if lengths.size else 1.0


def block_slots(block_size: int | None, series: np.ndarray, estimate: np.ndarray, rows_per_slot: int) -> int:
    """Block length in slots: the override, or 1 + BLOCK_MULTIPLIER x (Politis-White - 1); at most J // 3."""
    n_slots = series.shape[-1]
    if block_size is None:
        chosen = _politis_white_slots(series.reshape(-1, n_slots), estimate.reshape(-1))
        slots = int(np.ceil(1.0 + BLOCK_MULTIPLIER * max(chosen - 1.0, 0.0)))
    else:
        slots = -(-int(block_size) // rows_per_slot)
    return max(1, min(slots, n_slots // 3))


@contextlib.contextmanager
def block_length_library_loading() -> Iterator[None]:
    """Import arch (the block length's library) on a background thread while the block runs; wait for it on leaving.

    The import (0.4-1.5 s, statsmodels included) then overlaps the model evaluations of a run
    instead of following them. It is waited for however the block is left, by an exception or
    Ctrl-C too: a thread still importing while the interpreter exits after an uncaught
    ``KeyboardInterrupt`` runs ``exec``/``eval`` (``collections.namedtuple`` does, on import),
    and every such call resets CPython's record of that interrupt, so the script would exit with
    status 1 instead of being ended by SIGINT (130 in a shell) as Python promises. An interrupt
    therefore waits for the rest of the import, at most about a second.
    """
    thread = None
    if _BLOCK_LENGTH_MODULE not in sys.modules:
        thread = threading.Thread(target=importlib.import_module, args=(_BLOCK_LENGTH_MODULE,),
                                  name="pyimportance-import", daemon=True)
        thread.start()
    try:
        yield
    finally:
        if thread is not None:
            thread.join()
