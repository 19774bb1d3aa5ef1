"""Files in and out for the command line: safe model and data loading, atomic writes.

Nothing here ever unpickles: ``.npy``/``.npz`` files are read with ``allow_pickle=False``,
CSV files with pandas, and Keras models with ``safe_mode=True`` unless the caller opts out.
Outputs are written to a temporary file in the target's directory and moved into place with
``os.replace``, so an interrupted run leaves either the old file or the new one, never half.

Every error names the file and the option it came from (``what``, e.g. ``"--x"``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
ARRAY_SUFFIXES = (".npy", ".npz", ".csv")
# .npy files at least this large are memory-mapped (read-only) instead of read into memory.
MMAP_MIN_BYTES = 64 * 2**20
_NPZ_KEYS = {"x": ("x", "X"), "y": ("y", "Y")}


class LoadedArray(NamedTuple):
    """An array read from a file, with the column names of a CSV header (else None)."""

    values: np.ndarray
    column_names: list[str] | None


def _existing_file(path, what: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what}: file not found: {path}")
    if not path.is_file():
        raise ValueError(f"{what}: not a file: {path}")
    return path


def _suffix(path: Path, allowed: tuple[str, ...], what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise ValueError(
            f"{what}: unsupported file type {suffix or '(none)'!r} for {path}; use {', '.join(allowed)}"
        )
    return suffix


def _pickle_refused(what: str, path: Path) -> ValueError:
    return ValueError(
        f"{what}: {path} holds Python objects (pickled data), which pyimportance never loads; "
        "save a numeric array instead (numpy.save(path, array.astype(float)))"
    )


def _is_pickle_error(error: ValueError) -> bool:
    text = str(error).lower()
    return "pickle" in text or "python objects" in text


def _load_npy(path: Path, what: str) -> np.ndarray:
    mmap_mode = "r" if path.stat().st_size >= MMAP_MIN_BYTES else None
    try:
        return np.load(path, allow_pickle=False, mmap_mode=mmap_mode)
    except ValueError as error:
        if _is_pickle_error(error):
            raise _pickle_refused(what, path) from None
        raise ValueError(f"{what}: cannot read {path} as a NumPy .npy file ({error})") from None


def _load_npz(path: Path, what: str, role: str) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            keys = [key for key in _NPZ_KEYS.get(role, ()) if key in names]
            if len(names) == 1:
                key = names[0]
            elif keys:
                key = keys[0]
            else:
                wanted = " or ".join(repr(key) for key in _NPZ_KEYS.get(role, ()))
                raise ValueError(
                    f"{what}: {path} holds several arrays {names}; name the one to use {wanted} "
                    "(or save a single array)"
                )
            return archive[key]
    except ValueError as error:
        if _is_pickle_error(error):
            raise _pickle_refused(what, path) from None
        if str(error).startswith(f"{what}:"):
            raise
        raise ValueError(f"{what}: cannot read {path} as a NumPy .npz file ({error})") from None
    except OSError as error:  # np.load raises BadZipFile (an OSError subclass) for a broken archive
        raise ValueError(f"{what}: cannot read {path} as a NumPy .npz file ({error})") from None


def _is_number(text) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _load_csv(path: Path, what: str) -> LoadedArray:
    import pandas as pd

    try:
        frame = pd.read_csv(path)
        has_header = not all(_is_number(name) for name in frame.columns)
        if not has_header:
            frame = pd.read_csv(path, header=None)
    except (ValueError, pd.errors.ParserError) as error:
        raise ValueError(f"{what}: cannot read {path} as CSV ({error})") from None
    non_numeric = [str(name) for name, dtype in frame.dtypes.items() if dtype.kind not in "biuf"]
    if non_numeric:
        raise ValueError(f"{what}: {path} has non-numeric columns {non_numeric}; a CSV must hold numbers only")
    names = [str(name) for name in frame.columns] if has_header else None
    return LoadedArray(frame.to_numpy(dtype=np.float64), names)


def load_array(path, what: str = "--x", role: str = "x") -> LoadedArray:
    """Read an array from ``.npy``, ``.npz`` or ``.csv`` without ever unpickling.

    Parameters
    ----------
    path : str or Path
    what : str
        The option the path came from, used in error messages.
    role : {"x", "y"}
        Which array of a several-array ``.npz`` to take (``x``/``X`` or ``y``/``Y``).

    Returns
    -------
    LoadedArray
        ``values`` (large ``.npy`` files come memory-mapped, read-only) and, for a CSV with
        a header row, ``column_names``. A CSV is always 2D: save 3D data as ``.npy``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "X.npy")
    >>> np.save(path, np.zeros((4, 3, 2)))
    >>> load_array(path).values.shape
    (4, 3, 2)
    """
    path = _existing_file(path, what)
    suffix = _suffix(path, ARRAY_SUFFIXES, what)
    if suffix == ".csv":
        return _load_csv(path, what)
    values = _load_npy(path, what) if suffix == ".npy" else _load_npz(path, what, role)
    return LoadedArray(values, None)


def load_model(path, *, unsafe: bool = False, what: str = "--model"):
    """Load a Keras model from ``.keras`` (or legacy ``.h5``) in Keras safe mode.

    Parameters
    ----------
    path : str or Path
    unsafe : bool, default False
        Allow ``Lambda`` layers, whose Python code runs when the model is loaded. Only for
        files you trust.
    what : str
        The option the path came from, used in error messages.

    Returns
    -------
    keras.Model
        Loaded with ``compile=False`` (only its forward pass is needed).
    """
    path = _existing_file(path, what)
    _suffix(path, MODEL_SUFFIXES, what)
    try:
        import keras
    except ImportError:
        raise ImportError(f"{what}: loading a Keras model needs Keras 3: pip install 'pyimportance[keras]'") from None
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=not unsafe)
    except ValueError as error:
        if "safe_mode" in str(error) or "unsafe" in str(error).lower():
            raise ValueError(
                f"{what}: {path} contains a Lambda layer with Python code, which is not loaded by default "
                "because it can run arbitrary code; if you trust this file, pass --unsafe"
            ) from None
        raise ValueError(f"{what}: cannot load {path} as a Keras model ({_first_line(error)})") from None
    except (OSError, TypeError, KeyError) as error:
        raise ValueError(f"{what}: cannot load {path} as a Keras model ({_first_line(error)})") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def check_writable(path, what: str, *, overwrite: bool) -> Path:
    """Raise ``FileExistsError`` if ``path`` exists and ``overwrite`` is False."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{what}: {path} is a directory; give a file name")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{what}: {path} already exists; pass --overwrite to replace it")
    return path


def _new_file_mode() -> int:
    """Permissions an ordinary new file gets here (0666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_write(path, what: str = "output", *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` only if the block succeeds.

    The parent directory is created if needed. On any error (or interrupt) the temporary
    file is removed and ``path`` is left as it was.

    Examples
    --------
    >>> import tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> with atomic_write(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> open(target).read()
    'done'
    """
    path = check_writable(path, what, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp_path = Path(tmp_name)
    try:
        tmp_path.chmod(_new_file_mode())  # mkstemp makes it private (0600); give it the usual mode
        yield tmp_path
        check_writable(path, what, overwrite=overwrite)  # it may have appeared meanwhile
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def write_csv(frame, path, what: str = "--out", *, overwrite: bool = False) -> Path:
    """Write a DataFrame as CSV (no index, full float precision), atomically."""
    with atomic_write(path, what, overwrite=overwrite) as tmp_path:
        frame.to_csv(tmp_path, index=False)
    return Path(path)


def write_figure(figure, path, what: str = "--plot", *, overwrite: bool = False, dpi: int = 120) -> Path:
    """Save a matplotlib figure as PNG, atomically, and close it."""
    import matplotlib.pyplot as plt

    try:
        with atomic_write(path, what, overwrite=overwrite) as tmp_path:
            figure.savefig(tmp_path, format="png", dpi=dpi)
    finally:
        plt.close(figure)
    return Path(path)
