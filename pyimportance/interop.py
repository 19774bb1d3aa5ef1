"""Functions from another language (R through reticulate) as Python callables.

An interrupt (Ctrl-C) that reaches R while an R function runs inside the engine would reach
Python as a plain error, which the engine reports as a failed model call. The R side catches
the interrupt and returns :data:`INTERRUPTED` instead; :func:`raising_interrupts` turns that
back into ``KeyboardInterrupt``, which stops the run at once and reaches R as an interrupt.
"""

from __future__ import annotations

from collections.abc import Callable

INTERRUPTED = "__pyimportance_interrupted__"


def raising_interrupts(function: Callable, name: str | None = None) -> Callable:
    """Wrap ``function`` so that its :data:`INTERRUPTED` result raises ``KeyboardInterrupt``."""

    def call(*args):
        result = function(*args)
        if isinstance(result, str) and result == INTERRUPTED:
            raise KeyboardInterrupt("interrupted in R")
        return result

    call.__name__ = name or getattr(function, "__name__", "r_function")
    return call
