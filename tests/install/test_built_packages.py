"""The wheel and the sdist, built as they would be published, install and run on their own.

Each is built from a copy of what a build reads (``pyproject.toml``, ``README.md``, ``pyimportance/``)
with the test environment's setuptools (``--no-isolation``: nothing is downloaded), installed
``--no-deps`` into a new virtualenv that sees the test environment's packages (NumPy,
TensorFlow, ... through a ``.pth`` line; the environment's own editable pyimportance is not
seen, as ``.pth`` files of an added folder are not read), and run from an empty folder:
``pyimportance demo``, the installed package's files (``py.typed``, the demo's CSV) and its version.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

import pyimportance

pytestmark = pytest.mark.keras  # the demo trains an LSTM

REPO = Path(__file__).resolve().parents[2]
PACKAGE_FILES = ("pyimportance/py.typed", "pyimportance/datasets/demo_sales.csv", "pyimportance/rlayer/__init__.py")


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _clean_environment() -> dict[str, str]:
    """The test's environment less what would point Python at the repository's sources."""
    return {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The wheel and the sdist of the working tree, built once for this module."""
    source = tmp_path_factory.mktemp("source")
    shutil.copy(REPO / "pyproject.toml", source)
    shutil.copy(REPO / "README.md", source)
    shutil.copytree(REPO / "pyimportance", source / "pyimportance",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    hooks = ("import contextlib, sys; from setuptools import build_meta\n"
             f"with contextlib.redirect_stdout(sys.stderr):  # the build's log\n"
             f"    names = build_meta.build_wheel({str(out)!r}), build_meta.build_sdist({str(out)!r})\n"
             "print(*names)")
    wheel, sdist = _run([sys.executable, "-c", hooks], cwd=source, env=_clean_environment()).split()
    return {"wheel": out / wheel, "sdist": out / sdist}


def _new_environment(root: Path) -> Path:
    """A virtualenv without pip (the test environment's pip installs into it) that sees the test's packages."""
    _run([sys.executable, "-m", "venv", "--without-pip", str(root)], cwd=root.parent)
    python = root / "bin" / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root).strip()
    Path(site, "test-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def test_the_wheel_and_the_sdist_hold_the_typing_marker_the_demo_data_and_the_version(built):
    assert built["wheel"].name == f"pyimportance-{pyimportance.__version__}-py3-none-any.whl"
    assert built["sdist"].name == f"pyimportance-{pyimportance.__version__}.tar.gz"
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    assert set(PACKAGE_FILES) <= names
    with tarfile.open(built["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert set(PACKAGE_FILES) | {"pyproject.toml", "README.md"} <= names


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_the_built_package_installs_without_its_dependencies_and_runs_the_demo(built, kind, tmp_path):
    python = _new_environment(tmp_path / "env")
    environment = _clean_environment()
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
          "--no-build-isolation", "--no-index", str(built[kind])], cwd=tmp_path, env=environment)
    work = tmp_path / "work"
    work.mkdir()
    check = ("import pathlib, pyimportance; root = pathlib.Path(pyimportance.__file__).parent; "
             "print(root); print(pyimportance.__version__); "
             "print((root / 'py.typed').is_file(), (root / 'datasets' / 'demo_sales.csv').is_file())")
    root, version, files = _run([str(python), "-c", check], cwd=work, env=environment).splitlines()
    assert Path(root).is_relative_to(tmp_path / "env")
    assert version == pyimportance.__version__
    assert files == "True True"
    shown = _run([str(python.parent / "pyimportance"), "demo", "--out", "out", "--epochs", "1", "--n-repeats", "2"],
                 cwd=work, env=environment)
    assert shown.startswith("Demo: LSTM(16) on ")
    assert (work / "out" / "importance.csv").stat().st_size > 0
    assert (work / "out" / "importance_cells.png").stat().st_size > 0
