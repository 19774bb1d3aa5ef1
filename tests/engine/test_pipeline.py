"""Model calls one at a time (pyimportance.engine.pipeline): order, at most one in flight, failures.

No assertion here depends on timing: with a worker thread, only the order of events that the
pipeline itself orders (a call finishes before it is collected; the previous item is collected
before the next call is handed to the worker) and the content of what is collected are checked.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from pyimportance.engine.pipeline import Pipeline

BOTH = pytest.mark.parametrize("threaded", [False, True], ids=["inline", "threaded"])


class Recorder:
    """Collects ``(item, predictions)`` and logs every call, collection and failure, in order."""

    def __init__(self):
        self.events: list[tuple] = []
        self.collected: list[tuple] = []
        self.failures: list[tuple] = []
        self.threads: list[str] = []

    def collect(self, item, predictions) -> None:
        self.events.append(("collect", item))
        self.collected.append((item, predictions))

    def fail(self, error, item) -> None:
        self.events.append(("fail", item))
        self.failures.append((error, item))

    def call(self, item, *, error: BaseException | None = None):
        def run():
            self.events.append(("call", item))
            self.threads.append(threading.current_thread().name)
            if error is not None:
                raise error
            return np.full((2, 1), float(item))

        return run


@BOTH
def test_results_are_collected_in_submission_order_with_each_items_own_predictions(threaded):
    recorder = Recorder()
    with Pipeline(recorder.collect, recorder.fail, threaded=threaded) as pipeline:
        for item in (3, 1, 2):
            pipeline.submit(item, recorder.call(item))
        pipeline.wait()
    assert [item for item, _ in recorder.collected] == [3, 1, 2]
    for item, predictions in recorder.collected:
        assert np.array_equal(predictions, np.full((2, 1), float(item)))
    # each call finishes and is collected before the next call starts: one in flight at most
    assert recorder.events == [("call", 3), ("collect", 3), ("call", 1), ("collect", 1), ("call", 2), ("collect", 2)]
    assert recorder.failures == []


def test_without_a_worker_thread_each_call_runs_and_is_collected_inside_submit():
    recorder = Recorder()
    with Pipeline(recorder.collect, recorder.fail, threaded=False) as pipeline:
        pipeline.submit("a", recorder.call(1))
        assert recorder.events == [("call", 1), ("collect", "a")]
        pipeline.wait()  # nothing in flight
        assert recorder.events == [("call", 1), ("collect", "a")]
    assert recorder.threads == [threading.current_thread().name]


def test_with_a_worker_thread_submit_collects_the_previous_call_before_starting_the_next():
    recorder = Recorder()
    with Pipeline(recorder.collect, recorder.fail, threaded=True) as pipeline:
        pipeline.submit("a", recorder.call(1))
        assert recorder.collected == []  # in flight, not collected yet
        pipeline.submit("b", recorder.call(2))
        assert [item for item, _ in recorder.collected] == ["a"]  # "b" is now the one in flight
        pipeline.submit("c", recorder.call(3))
        assert [item for item, _ in recorder.collected] == ["a", "b"]
        pipeline.wait()
        assert [item for item, _ in recorder.collected] == ["a", "b", "c"]
        pipeline.wait()  # a second wait collects nothing more
        assert [item for item, _ in recorder.collected] == ["a", "b", "c"]
    assert all(name.startswith("pyimportance-predict") for name in recorder.threads)
    assert len(recorder.threads) == 3


def test_every_call_starts_after_the_previous_items_were_collected():
    collected: list[int] = []
    seen_at_start: dict[int, list[int]] = {}

    def call_for(item):
        def run():
            seen_at_start[item] = list(collected)  # what had been collected when this call began
            return np.full((1, 1), float(item))

        return run

    with Pipeline(lambda item, predictions: collected.append(item), lambda error, item: None, threaded=True) as pipe:
        for item in range(6):
            pipe.submit(item, call_for(item))
        pipe.wait()
    assert seen_at_start == {item: list(range(item)) for item in range(6)}
    assert collected == list(range(6))


@BOTH
def test_a_call_that_raises_reaches_fail_with_its_item_and_then_propagates(threaded):
    recorder = Recorder()
    error = ValueError("bad chunk")
    with pytest.raises(ValueError) as caught:
        with Pipeline(recorder.collect, recorder.fail, threaded=threaded) as pipeline:
            pipeline.submit("ok", recorder.call(1))
            pipeline.submit("bad", recorder.call(2, error=error))
            pipeline.wait()
    assert caught.value is error
    assert recorder.failures == [(error, "bad")]
    assert [item for item, _ in recorder.collected] == ["ok"]  # the failed item is never collected
    assert recorder.events == [("call", 1), ("collect", "ok"), ("call", 2), ("fail", "bad")]


@BOTH
def test_what_fail_raises_is_what_the_caller_sees(threaded):
    class Reported(RuntimeError):
        pass

    def fail(error, item):
        raise Reported(f"{item}: {error}") from error

    recorder = Recorder()
    with pytest.raises(Reported) as caught:
        with Pipeline(recorder.collect, fail, threaded=threaded) as pipeline:
            pipeline.submit("chunk 7", recorder.call(7, error=ZeroDivisionError("division by zero")))
            pipeline.wait()
    assert str(caught.value) == "chunk 7: division by zero"
    assert isinstance(caught.value.__cause__, ZeroDivisionError)


def test_a_failure_on_the_worker_surfaces_at_the_next_submit_before_that_item_is_called():
    recorder = Recorder()
    error = OSError("device lost")
    with Pipeline(recorder.collect, recorder.fail, threaded=True) as pipeline:
        pipeline.submit("first", recorder.call(1, error=error))
        with pytest.raises(OSError) as caught:
            pipeline.submit("second", recorder.call(2))
    assert caught.value is error
    assert recorder.failures == [(error, "first")]
    assert ("call", 2) not in recorder.events  # the next call never started
    assert recorder.collected == []


@BOTH
def test_keyboard_interrupt_passes_through_without_fail(threaded):
    recorder = Recorder()
    with pytest.raises(KeyboardInterrupt):
        with Pipeline(recorder.collect, recorder.fail, threaded=threaded) as pipeline:
            pipeline.submit("a", recorder.call(1))
            pipeline.submit("b", recorder.call(2, error=KeyboardInterrupt()))
            pipeline.wait()
    assert recorder.failures == []
    assert ("fail", "b") not in recorder.events
    assert [item for item, _ in recorder.collected] == ["a"]


def test_leaving_the_block_without_wait_drops_the_call_in_flight():
    recorder = Recorder()
    with Pipeline(recorder.collect, recorder.fail, threaded=True) as pipeline:
        pipeline.submit("a", recorder.call(1))
    assert recorder.collected == []
    pipeline.wait()  # after the block: nothing is left in flight
    assert recorder.collected == []
