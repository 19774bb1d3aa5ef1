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


def prefer_own_libpython() -> str | None:
    """Make processes started from here load this interpreter's ``libpython`` first.

    An embedding host such as R puts system library folders on ``LD_LIBRARY_PATH``, which
    outranks the interpreter's own run path: a worker process started from R (a Dask
    ``LocalCluster``, a process pool) can then load the system's older ``libpython`` and fail
    with "undefined symbol". Putting this interpreter's library folder first fixes the
    children; this process is unaffected. Returns the folder added, or None if nothing was needed.
    """
    import os
    import sysconfig

    libdir = sysconfig.get_config_var("LIBDIR")
    if not libdir or not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        return None
    paths = [path for path in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if path]
    if paths[:1] == [libdir]:
        return None
    os.environ["LD_LIBRARY_PATH"] = os.pathsep.join([libdir] + [path for path in paths if path != libdir])
    return libdir
