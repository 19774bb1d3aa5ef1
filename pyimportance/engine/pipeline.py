"""Model calls one at a time: right away, or on a worker thread while the next chunk is built.

Compiled TensorFlow releases the GIL, so predicting chunk ``k`` on a worker thread overlaps
with copying and perturbing chunk ``k + 1`` on the caller's thread. At most one call is in
flight: :meth:`Pipeline.submit` first collects the previous one, which is what lets the packer
reuse a buffer set two chunks later. Results are handed back in submission order.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np


class Pipeline:
    """Runs ``call()`` for each submitted item and passes ``(item, predictions)`` to ``collect``.

    ``fail(error, item)`` is called (and must raise) when a call raises an ``Exception``;
    ``KeyboardInterrupt`` passes through untouched.
    """

    def __init__(self, collect: Callable[[object, np.ndarray], None], fail: Callable[[Exception, object], None],
                 *, threaded: bool):
        self._collect = collect
        self._fail = fail
        self._threaded = threaded
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: tuple[Future, object] | None = None

    def __enter__(self) -> Pipeline:
        if self._threaded:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyimportance-predict")
        return self

    def __exit__(self, *exc_info) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._in_flight = None

    def submit(self, item, call: Callable[[], np.ndarray]) -> None:
        """Predict ``item`` with ``call``: now (no worker thread) or on the worker thread."""
        if self._pool is None:
            try:
                predictions = call()
            except Exception as error:
                self._fail(error, item)
                raise
            self._collect(item, predictions)
            return
        self.wait()
        self._in_flight = (self._pool.submit(call), item)

    def wait(self) -> None:
        """Collect the call in flight, if any."""
        if self._in_flight is None:
            return
        future, item = self._in_flight
        self._in_flight = None
        try:
            predictions = future.result()
        except Exception as error:
            self._fail(error, item)
            raise
        self._collect(item, predictions)
