"""Files in and out for the command line: safe model and data loading, atomic writes.

Nothing here ever unpickles: ``.npy``/``.npz`` files are read with ``allow_pickle=False``,
CSV files with pandas, and Keras models with ``safe_mode=True`` unless the caller opts out.
Outputs are written to a temporary file in the target's directory and moved into place with
``os.replace``, so an interrupted run leaves either the old file or the new one, never half.

Every error names the option the file came from (``what``, e.g. ``"--x"`` or ``"--x seq"``),
the file and what is actually wrong with it. Before a file is handed to NumPy, pandas or Keras,
its first bytes are looked at (:func:`_sniff`), so a text file named ``.npy`` or a truncated
``.keras`` archive is reported as such rather than by the library's error for some other
problem. CSV files are read by :mod:`.csvfile` (the header rule lives there).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..model.keras import keras_major_version
from .csvfile import first_line, header_flags, read_csv
from .modelfile import check_readable_by, load_keras_2, saved_by_keras_2

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
ARRAY_SUFFIXES = (".npy", ".npz", ".csv")
PLOT_SUFFIXES = (".png", ".pdf", ".svg")
# .npy files at least this large are memory-mapped (read-only) instead of read into memory.
MMAP_MIN_BYTES = 64 * 2**20
_NPZ_KEYS = {"x": ("x", "X"), "y": ("y", "Y")}
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


class LoadedArray(NamedTuple):
    """An array read from a file.

    ``column_names`` are the names of a CSV header (else None); ``first_row_guessed_data`` is
    True for a CSV whose first row of numbers was read as data by the automatic header rule
    (so a caller that finds one row too many can say which flag fixes it).
    """

    values: np.ndarray
    column_names: list[str] | None
    first_row_guessed_data: bool = False


# --- what a file holds ---------------------------------------------------------------------


def _sniff(path: Path) -> str:
    """What the file's first bytes say it is: npy, zip, hdf5, pickle, empty, text or binary."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    if not head:
        return "empty"
    if head.startswith(_NPY_MAGIC):
        return "npy"
    if head.startswith(_ZIP_MAGICS):
        return "zip"
    if head.startswith(_HDF5_MAGIC):
        return "hdf5"
    if head[0] == 0x80 and len(head) > 1 and 2 <= head[1] <= 5:  # pickle protocols 2-5
        return "pickle"
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        # A multi-byte character cut off at byte 512, or text in a legacy 8-bit encoding.
        text = head[: error.start].decode("utf-8-sig") if error.start >= len(head) - 3 else head.decode("latin-1")
    return "text" if all(char.isprintable() or char in "\r\n\t" for char in text) else "binary"


def _holds(kind: str, path: Path) -> str:
    """What a file of ``kind`` holds, as the end of a sentence ("it ...")."""
    return {
        "npy": "is a NumPy .npy file",
        "zip": "is a zip archive (such as .npz, .keras or .xlsx)",
        "hdf5": "is an HDF5 file (such as a legacy Keras .h5 model)",
        "pickle": "holds pickled Python objects",
        "text": f"holds text, starting {first_line(path)!r}",
        "binary": "holds binary data of another format",
    }[kind]


def _wrong_content(what: str, path: Path, expected: str, kind: str) -> ValueError:
    if kind == "pickle":
        return _pickle_refused(what, path)
    if kind == "empty":
        return ValueError(f"{what}: {path} is empty (0 bytes)")
    return ValueError(f"{what}: {path} is not {expected}: it {_holds(kind, path)}")


def _pickle_refused(what: str, path: Path) -> ValueError:
    return ValueError(
        f"{what}: {path} holds Python objects (pickled data), which pyimportance never loads; "
        "save a numeric array instead (numpy.save(path, array.astype(float)))"
    )


def _is_pickle_error(error: BaseException) -> bool:
    text = str(error).lower()
    return "pickle" in text or "python objects" in text


def _existing_file(path, what: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what}: file not found: {path}")
    if not path.is_file():
        raise ValueError(f"{what}: not a file: {path}")
    if not os.access(path, os.R_OK):
        raise PermissionError(f"{what}: {path} is not readable (permission denied)")
    return path


def _suffix(path: Path, allowed: tuple[str, ...], what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise ValueError(
            f"{what}: unsupported file type {suffix or '(none)'!r} for {path}; use {', '.join(allowed)}"
        )
    return suffix


# --- NumPy files ---------------------------------------------------------------------------------


def _npy_header(path: Path, what: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, dtype and data offset from a .npy header, checked against the file's size."""
    with open(path, "rb") as handle:
        try:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
        except (ValueError, OSError, EOFError) as error:
            raise ValueError(f"{what}: {path} is a damaged .npy file: its header cannot be read ({error})") from None
        offset = handle.tell()
    if dtype.hasobject:
        raise _pickle_refused(what, path)
    expected = math.prod(shape) * dtype.itemsize
    present = path.stat().st_size - offset
    if present < expected:
        raise ValueError(
            f"{what}: {path} is truncated: its header announces an array of shape {shape} and dtype {dtype} "
            f"({expected} bytes of data), but only {present} bytes follow"
        )
    return shape, dtype, offset


def _load_npy(path: Path, what: str) -> np.ndarray:
    kind = _sniff(path)
    if kind == "zip":
        raise ValueError(
            f"{what}: {path} is not a NumPy .npy file: it is a zip archive (a .npz file? then name it .npz)"
        )
    if kind != "npy":
        raise _wrong_content(what, path, "a NumPy .npy file", kind)
    _npy_header(path, what)
    mmap_mode = "r" if path.stat().st_size >= MMAP_MIN_BYTES else None
    try:
        return np.load(path, allow_pickle=False, mmap_mode=mmap_mode)
    except ValueError as error:
        if _is_pickle_error(error):
            raise _pickle_refused(what, path) from None
        raise ValueError(f"{what}: cannot read {path} as a NumPy .npy file ({error})") from None


def _npz_key(
    names: list[str], path: Path, what: str, role: str, shared_with: str | None, name: str | None = None
) -> str:
    """The archive member to read for ``role``: the one called ``name``, the only one, or the one named x/X (y/Y)."""
    if name is not None and name in names:
        return name
    wanted = _NPZ_KEYS.get(role, ())
    keys = [key for key in wanted if key in names]
    if not names:
        raise ValueError(f"{what}: {path} holds no arrays")
    if len(keys) > 1:
        raise ValueError(f"{what}: {path} holds both {keys[0]!r} and {keys[1]!r}; keep only one of them")
    if keys:
        return keys[0]
    named = " or ".join(repr(key) for key in ((name,) if name is not None else ()) + wanted)
    if len(names) == 1 and shared_with is None:
        return names[0]
    if len(names) == 1:
        raise ValueError(
            f"{what}: {path} holds a single array {names[0]!r}, which {shared_with} reads too; "
            "save X and y under the names 'x' and 'y' (numpy.savez(path, x=X, y=y))"
        )
    raise ValueError(
        f"{what}: {path} holds several arrays {names}; name the one to use {named} (or save a single array)"
    )


def _from_npz(path: Path, what: str, read: Callable):
    """``read(archive)`` on the ``.npz`` archive ``path``, after checking what the file is; errors name ``what``."""
    kind = _sniff(path)
    if kind == "npy":
        raise ValueError(f"{what}: {path} is not a NumPy .npz archive: it is a .npy file (then name it .npy)")
    if kind != "zip":
        raise _wrong_content(what, path, "a NumPy .npz archive", kind)
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{what}: {path} is truncated or damaged: it starts as a zip archive but has no complete directory"
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            return read(archive)
    except ValueError as error:
        if _is_pickle_error(error):
            raise _pickle_refused(what, path) from None
        if str(error).startswith(f"{what}:"):
            raise
        raise ValueError(f"{what}: cannot read {path} as a NumPy .npz file ({error})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:  # a damaged member (bad CRC, cut short)
        raise ValueError(f"{what}: {path} is damaged: cannot read its arrays ({error})") from None


def _several_inputs(names: list[str]) -> list[str] | None:
    """The members of an archive that hold several model inputs by name, or None when it holds one X.

    One X is a single array, or one named x/X; otherwise two or more arrays besides y/Y are
    the inputs, each named after the model input it feeds.
    """
    if len(names) < 2 or any(key in names for key in _NPZ_KEYS["x"]):
        return None
    inputs = [name for name in names if name not in _NPZ_KEYS["y"]]
    return inputs if len(inputs) > 1 else None


# --- public loaders ------------------------------------------------------------------------------


def load_array(
    path,
    what: str = "--x",
    role: str = "x",
    *,
    header: bool | None = None,
    shared_with: str | None = None,
    name: str | None = None,
) -> LoadedArray:
    """Read an array from ``.npy``, ``.npz`` or ``.csv`` without ever unpickling.

    Parameters
    ----------
    path : str or Path
    what : str
        The option the path came from, used in error messages (e.g. ``"--x"``, ``"--x seq"``).
    role : {"x", "y"}
        Which array of a several-array ``.npz`` to take (``x``/``X`` or ``y``/``Y``).
    header : bool, optional
        CSV only: whether the first row is a header (True) or data (False); by default it is
        decided by the rule in :mod:`.csvfile`, and refused where it cannot be.
    shared_with : str, optional
        The option that reads the same ``.npz`` for the other role; the archive must then
        name its arrays (a single unnamed array cannot be both X and y).
    name : str, optional
        The model input or output head the array is for: a ``.npz`` member of this name is
        taken first.

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
        kind = _sniff(path)
        if kind not in ("text", "empty"):
            raise ValueError(f"{what}: {path} is not a CSV text file: it {_holds(kind, path)}")
        return LoadedArray(*read_csv(path, what, header))
    if header is not None:
        flag = header_flags(what)[0 if header else 1]
        raise ValueError(f"{flag}: {path} is not a CSV file; the header option applies to .csv files only")
    if suffix == ".npy":
        return LoadedArray(_load_npy(path, what), None)

    def member(archive):
        return archive[_npz_key(list(archive.files), path, what, role, shared_with, name)]

    return LoadedArray(_from_npz(path, what, member), None)


def load_inputs(
    path, what: str = "--x", *, header: bool | None = None, shared_with: str | None = None
) -> dict[str | None, LoadedArray]:
    """The model input(s) in one file: ``{None: X}``, or ``{input name: array}`` for a ``.npz`` holding several.

    A ``.npz`` holds several inputs when it has two or more arrays besides ``y``/``Y`` and none
    named ``x``/``X``; each is named after the model input it feeds. Anything else is one X,
    read by :func:`load_array` (same parameters).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "data.npz")
    >>> np.savez(path, seq=np.zeros((4, 3, 2)), static=np.ones((4, 5)), y=np.zeros(4))
    >>> {name: loaded.values.shape for name, loaded in load_inputs(path).items()}
    {'seq': (4, 3, 2), 'static': (4, 5)}
    """
    checked = _existing_file(path, what)
    if checked.suffix.lower() == ".npz" and header is None:

        def several(archive) -> dict[str, np.ndarray] | None:
            names = _several_inputs(list(archive.files))
            return None if names is None else {name: archive[name] for name in names}

        arrays = _from_npz(checked, what, several)
        if arrays is not None:
            return {name: LoadedArray(values, None) for name, values in arrays.items()}
    return {None: load_array(path, what, "x", header=header, shared_with=shared_with)}


@contextlib.contextmanager
def _native_stderr_held() -> Iterator[None]:
    """Hold back what native libraries write to file descriptor 2; replay it only if the block fails.

    TensorFlow's C++ start-up notices (oneDNN, CPU features) go straight to fd 2 and ignore
    ``TF_CPP_MIN_LOG_LEVEL``; a command line that promises one-line errors keeps them off
    the terminal unless they explain a failure.
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 (embedded interpreter): nothing to hold back
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            os.write(2, held.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_keras(purpose: str = "loading a Keras model (--model)"):
    """Import Keras (once), keeping TensorFlow's start-up notices off the terminal."""
    if "keras" in sys.modules:
        import keras

        return keras
    try:
        with _native_stderr_held():
            import keras
    except ImportError:
        raise ImportError(f"{purpose} needs Keras with TensorFlow: pip install 'pyimportance[keras]'") from None
    return keras


def _check_model_file(path: Path, suffix: str, what: str) -> None:
    """Refuse a model file whose content does not match its suffix, before Keras misreads it."""
    kind = _sniff(path)
    if suffix == ".keras":
        if kind == "hdf5":
            raise ValueError(
                f"{what}: {path} is an HDF5 file (a legacy Keras .h5 model), not a .keras archive; name it .h5"
            )
        if kind != "zip":
            raise _wrong_content(what, path, "a .keras model file (a zip archive)", kind)
        if not zipfile.is_zipfile(path):
            raise ValueError(
                f"{what}: {path} is truncated or damaged: it starts as a zip archive but has no complete directory"
            )
        with zipfile.ZipFile(path) as archive:
            if "config.json" not in archive.namelist():
                raise ValueError(f"{what}: {path} is a zip archive without config.json, so not a Keras model file")
    elif kind == "zip":
        raise ValueError(f"{what}: {path} is a zip archive (a .keras model?), not an HDF5 file; name it .keras")
    elif kind != "hdf5" and kind != "binary":  # binary: perhaps HDF5 behind a user block; h5py decides
        raise _wrong_content(what, path, "an HDF5 model file", kind)


def load_model(path, *, unsafe: bool = False, what: str = "--model"):
    """Load a Keras model from ``.keras`` (or legacy ``.h5``) in Keras safe mode; a file saved by Keras 2 with
    Keras 2: ``keras`` where it is Keras 2, else tf-keras (:mod:`.modelfile`).

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
    suffix = _suffix(path, MODEL_SUFFIXES, what)
    _check_model_file(path, suffix, what)
    keras = import_keras(f"loading a Keras model ({what})")
    keras_2 = keras_major_version(keras) == 2  # TensorFlow 2.15 and older: ``keras`` is Keras 2
    check_readable_by(keras, path, suffix, what)
    try:
        if saved_by_keras_2(path, suffix):
            return load_keras_2(path, suffix, unsafe=unsafe, what=what, keras=keras if keras_2 else None)
        return keras.saving.load_model(path, compile=False, safe_mode=not unsafe)
    except ValueError as error:
        if "safe_mode" in str(error) or "unsafe" in str(error).lower():
            raise ValueError(
                f"{what}: {path} contains a Lambda layer with Python code, which is not loaded by default "
                "because it can run arbitrary code; if you trust this file, pass --unsafe"
            ) from None
        raise ValueError(f"{what}: cannot load {path} as a Keras model ({_first_line_of(error)})") from None
    except (OSError, TypeError, KeyError, zipfile.BadZipFile, EOFError) as error:
        truncated = "truncated" in str(error).lower()
        problem = "is truncated or damaged" if truncated else "cannot be loaded as a Keras model"
        raise ValueError(f"{what}: {path} {problem} ({_first_line_of(error)})") from None


def _first_line_of(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# --- outputs --------------------------------------------------------------------------------------


def same_file(first, second) -> bool:
    """Whether two paths name the same file (existing or not, through links and ``..``)."""
    first, second = Path(first), Path(second)
    with contextlib.suppress(OSError):
        if first.exists() and second.exists():
            return os.path.samefile(first, second)
    return first.resolve() == second.resolve()


def check_writable(path, what: str, *, overwrite: bool) -> Path:
    """Raise if ``path`` cannot be written: a directory, under a file, or existing without ``overwrite``."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{what}: {path} is a directory; give a file name")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"{what}: cannot write {path}: {parent} is a file, not a directory")
            break
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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise OSError(error.errno, f"{what}: cannot write {path} ({error.strerror})") from None
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
    """Save a matplotlib figure atomically in the format its suffix names (.png, .pdf, .svg), and close it."""
    import matplotlib.pyplot as plt

    try:
        image_format = _suffix(Path(path), PLOT_SUFFIXES, what)[1:]
        with atomic_write(path, what, overwrite=overwrite) as tmp_path:
            figure.savefig(tmp_path, format=image_format, dpi=dpi)
    finally:
        plt.close(figure)
    return Path(path)


MAP_SUFFIXES = (".npy", ".npz")


def check_map_file(path, inputs: list[str] | None, what: str = "--attributions") -> str:
    """The suffix of the maps' file (.npy or .npz); several ``inputs`` need .npz."""
    suffix = _suffix(Path(path), MAP_SUFFIXES, what)
    if suffix == ".npy" and inputs is not None and len(inputs) > 1:
        raise ValueError(f"{what}: {path}: the model has several inputs ({', '.join(inputs)}); write a .npz file, "
                         "which holds one array per input")
    return suffix


def write_row_maps(result, path, what: str = "--attributions", *, overwrite: bool = False) -> Path:
    """Write a result's per-row attribution maps atomically: ``.npy``, the one input's array (rows x time steps x
    features); ``.npz``, one array per input (``attributions`` for a model with one), ``rows`` (their 0-based
    positions in X) and ``convergence_delta`` (per evaluated row). Several inputs need ``.npz``."""
    maps = result.attributions  # a ValueError says why the result kept none
    several = isinstance(maps, dict)
    suffix = check_map_file(path, list(maps) if several else None, what)
    with atomic_write(path, what, overwrite=overwrite) as tmp_path, open(tmp_path, "wb") as handle:
        if suffix == ".npy":
            np.save(handle, np.asarray(maps), allow_pickle=False)
        else:
            arrays = dict(maps) if several else {"attributions": maps}
            arrays.update(rows=np.asarray(result.attribution_rows), convergence_delta=result.convergence_delta)
            np.savez(handle, **{name: np.asarray(values) for name, values in arrays.items()})
    return Path(path)
