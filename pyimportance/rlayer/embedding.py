"""What an R session embedding this Python (through reticulate) needs from the Python side.

The R conventions themselves (arguments, NA, R functions and their interrupts, the result
frame, errors) are in :mod:`pyimportance.rlayer`, shared with the rpy2 layer.
"""

from __future__ import annotations


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
