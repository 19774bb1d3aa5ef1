"""What an R session embedding this Python needs (pyimportance.rlayer.embedding): the library path of the
processes it starts.
"""

from __future__ import annotations

import os
import sysconfig

from pyimportance.rlayer.embedding import prefer_own_libpython


def _python_build(monkeypatch, shared: bool, libdir: str) -> None:
    settings = {"Py_ENABLE_SHARED": int(shared), "LIBDIR": libdir}
    monkeypatch.setattr(sysconfig, "get_config_var", settings.get)


def test_own_libpython_folder_goes_first_once(monkeypatch):
    libdir = "/opt/python/lib"
    _python_build(monkeypatch, shared=True, libdir=libdir)
    monkeypatch.setenv("LD_LIBRARY_PATH", os.pathsep.join(["/usr/lib/R/lib", libdir, "/usr/lib/x86_64-linux-gnu"]))
    assert prefer_own_libpython() == libdir
    assert os.environ["LD_LIBRARY_PATH"] == os.pathsep.join([libdir, "/usr/lib/R/lib", "/usr/lib/x86_64-linux-gnu"])
    assert prefer_own_libpython() is None
    assert os.environ["LD_LIBRARY_PATH"].count(libdir) == 1


def test_a_static_python_leaves_the_library_path_alone(monkeypatch):
    _python_build(monkeypatch, shared=False, libdir="/opt/python/lib")
    monkeypatch.setenv("LD_LIBRARY_PATH", "/usr/lib/R/lib")
    assert prefer_own_libpython() is None
    assert os.environ["LD_LIBRARY_PATH"] == "/usr/lib/R/lib"
