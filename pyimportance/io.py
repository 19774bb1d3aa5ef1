"""Files in and out for the command line: safe model and data loading, atomic writes.

Nothing here ever unpickles: ``.npy``/``.npz`` files are read with ``allow_pickle=False``,
CSV files with pandas, and Keras models with ``safe_mode=True`` unless the caller opts out.
Outputs are written to a temporary file in the target's directory and moved into place with
``os.replace``, so an interrupted run leaves either the old file or the new one, never half.

Every error names the option the file came from (``what``, e.g. ``"--x"``), the file and
what is actually wrong with it. Before a file is handed to NumPy, pandas or Keras, its first
bytes are looked at (:func:`_sniff`), so a text file named ``.npy`` or a truncated ``.keras``
archive is reported as such rather than by the library's error for some other problem.

The CSV header rule (``header=None``) is written here by hand because no CSV reader decides
it the way a command line must: pandas' ``header="infer"`` always takes the first row as the
header, and ``csv.Sniffer.has_header`` guesses silently from type patterns. The rule:

- a first row with any field that is not a number is a header (column names);
- a first row of numbers is data, unless it cannot be told apart from a header: whole
  numbers over columns that hold fractions (``2020,2021,2022`` over measurements), the
  labels ``0,1,...,k-1`` that pandas writes for an unnamed DataFrame, or numbers mixed with
  empty fields. Those are refused with a message asking for ``--x-header``/``--no-x-header``.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import math
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
ARRAY_SUFFIXES = (".npy", ".npz", ".csv")
PLOT_SUFFIXES = (".png", ".pdf", ".svg")
# .npy files at least this large are memory-mapped (read-only) instead of read into memory.
MMAP_MIN_BYTES = 64 * 2**20
_NPZ_KEYS = {"x": ("x", "X"), "y": ("y", "Y")}
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity)", re.IGNORECASE)
_WHOLE_NUMBER = re.compile(r"[+-]?\d+")
# Fields pandas reads as missing by default (its na_values), compared in lower case.
_MISSING_FIELDS = {"", "na", "nan", "-nan", "n/a", "#n/a", "null", "none", "<na>", "#na", "-1.#ind", "1.#ind"}
_RAGGED_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")  # pandas' C parser
_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


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


def _first_line(path: Path) -> str:
    with open(path, "rb") as handle:
        line = handle.readline(200).decode("utf-8-sig", errors="replace").strip()
    return line if len(line) <= 40 else line[:37] + "..."


def _holds(kind: str, path: Path) -> str:
    """What a file of ``kind`` holds, as the end of a sentence ("it ...")."""
    return {
        "npy": "is a NumPy .npy file",
        "zip": "is a zip archive (such as .npz, .keras or .xlsx)",
        "hdf5": "is an HDF5 file (such as a legacy Keras .h5 model)",
        "pickle": "holds pickled Python objects",
        "text": f"holds text, starting {_first_line(path)!r}",
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


def _npz_key(names: list[str], path: Path, what: str, role: str, shared_with: str | None) -> str:
    """The archive member to read for ``role``: the only one, or the one named x/X (y/Y)."""
    wanted = _NPZ_KEYS.get(role, ())
    keys = [key for key in wanted if key in names]
    if not names:
        raise ValueError(f"{what}: {path} holds no arrays")
    if len(keys) > 1:
        raise ValueError(f"{what}: {path} holds both {keys[0]!r} and {keys[1]!r}; keep only one of them")
    if keys:
        return keys[0]
    named = " or ".join(repr(key) for key in wanted)
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


def _load_npz(path: Path, what: str, role: str, shared_with: str | None = None) -> np.ndarray:
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
            key = _npz_key(list(archive.files), path, what, role, shared_with)
            return archive[key]
    except ValueError as error:
        if _is_pickle_error(error):
            raise _pickle_refused(what, path) from None
        if str(error).startswith(f"{what}:"):
            raise
        raise ValueError(f"{what}: cannot read {path} as a NumPy .npz file ({error})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:  # a damaged member (bad CRC, cut short)
        raise ValueError(f"{what}: {path} is damaged: cannot read its arrays ({error})") from None


# --- CSV files ---------------------------------------------------------------------------------


def _field_kind(field: str) -> str:
    """"missing", "number" or "name" for one stripped CSV field."""
    if field.lower() in _MISSING_FIELDS:
        return "missing"
    return "number" if _NUMBER.fullmatch(field) else "name"


def _csv_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number where the record ends, stripped fields) of each non-blank record."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        for record in reader:
            if len(record) > 1 or (record and record[0].strip()):  # pandas skips blank lines too
                yield reader.line_num, [field.strip() for field in record]


def _csv_record(path: Path, index: int) -> tuple[int, list[str]]:
    """Line number and fields of the ``index``-th non-blank record (0 = the first)."""
    for position, (line, fields) in enumerate(_csv_records(path)):
        if position == index:
            return line, fields
    raise IndexError(index)  # pragma: no cover - only asked for records that pandas read


def _header_flags(what: str) -> tuple[str, str]:
    name = what.lstrip("-")
    return f"--{name}-header", f"--no-{name}-header"


def _first_csv_record(path: Path, what: str) -> tuple[int, list[str]]:
    kind = _sniff(path)
    if kind not in ("text", "empty"):
        raise ValueError(f"{what}: {path} is not a CSV text file: it {_holds(kind, path)}")
    try:
        first = next(_csv_records(path), None)
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{what}: {path} is not UTF-8 text (byte {error.object[error.start]:#04x} at position {error.start}); "
            "save it as UTF-8"
        ) from None
    except csv.Error as error:
        raise ValueError(f"{what}: cannot read {path} as CSV ({error})") from None
    if first is None:
        raise ValueError(f"{what}: {path} is empty: it has no header and no data rows")
    line, fields = first
    if len(fields) == 1:
        for separator, name in _SEPARATORS.items():
            if separator in fields[0]:
                sep = "\\t" if separator == "\t" else separator
                raise ValueError(
                    f"{what}: {path} is separated by {name}, not commas (line {line}: {_first_line(path)!r}); "
                    "pyimportance reads comma-separated files with '.' as the decimal point: convert it, e.g. "
                    f"pandas.read_csv(path, sep='{sep}', decimal=',').to_csv(new_path, index=False)"
                )
    return line, fields


def _read_rows(path: Path, what: str, skip_lines: int):
    """The CSV's records after the first ``skip_lines`` lines, as a DataFrame (columns 0..k-1)."""
    import pandas as pd

    # pandas < 3 parses decimals to the nearest double only with float_precision="round_trip"
    # (its default is off by an ulp for about a third of them); pandas 3 is exact and deprecates the option.
    exact = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
    try:
        return pd.read_csv(
            path, header=None, skiprows=skip_lines, skipinitialspace=True, encoding="utf-8-sig", **exact
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{what}: {path} is not UTF-8 text ({error.reason} at byte {error.start}); save it as UTF-8"
        ) from None
    except (ValueError, pd.errors.ParserError) as error:
        ragged = _RAGGED_LINE.search(str(error))
        if ragged:
            expected, line, seen = ragged.groups()
            raise ValueError(
                f"{what}: {path} has {seen} fields at line {line}, but {expected} on the lines before it; "
                "every line must have the same number of fields"
            ) from None
        raise ValueError(f"{what}: cannot read {path} as CSV ({' '.join(str(error).split())})") from None


def _has_fractions(rows) -> bool:
    numeric = rows.select_dtypes("number").to_numpy(dtype=np.float64)
    return bool(np.any(np.isfinite(numeric) & (numeric != np.round(numeric))))


def _ambiguous_first_row(path: Path, what: str, fields: list[str], rows) -> ValueError | None:
    """The error for a first row that cannot be told apart from a header, else None."""
    kinds = [_field_kind(field) for field in fields]
    header_flag, data_flag = _header_flags(what)
    if "missing" in kinds:
        why = "it holds numbers and empty or NA fields: a header with an unnamed column, or data with missing values"
    elif len(fields) > 1 and fields == [str(i) for i in range(len(fields))]:
        why = "it is 0, 1, ..., as the column labels pandas writes for a DataFrame without column names"
    elif all(_WHOLE_NUMBER.fullmatch(field) for field in fields) and len(rows) and _has_fractions(rows):
        why = "it holds whole numbers over columns with fractions, as a header of numbers (years, ids) would"
    else:
        return None
    return ValueError(
        f"{what}: cannot tell whether the first row of {path} ({', '.join(fields)}) is a header or data: {why}; "
        f"pass {header_flag} if it is a header (column names) or {data_flag} if it is data"
    )


def _check_header_names(path: Path, what: str, names: list[str]) -> None:
    for position, name in enumerate(names, start=1):
        if not name:
            if position == 1:
                likely = (
                    "an unnamed first column is usually a row index (written by pandas' to_csv() without "
                    "index=False, or R's write.csv() without row.names = FALSE): save the file without it"
                )
            elif position == len(names):
                likely = "is there a comma at the end of the lines?"
            else:
                likely = "give every column a name"
            raise ValueError(f"{what}: column {position} of {path} has no name in the header row; {likely}")
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise ValueError(
                f"{what}: {path} names two columns {name!r} (columns {seen[name]} and {position}); "
                "column names must be unique"
            )
        seen[name] = position


def _check_csv_numbers(path: Path, what: str, rows, names: list[str] | None, first_record: int) -> np.ndarray:
    """``rows`` as float64, or an error naming the line, column and field of the first bad value."""
    import pandas as pd

    def column(position: int) -> str:
        return f"column {position + 1}" + (f" ({names[position]!r})" if names else "")

    for position in range(rows.shape[1]):
        values = rows.iloc[:, position]
        if values.dtype.kind not in "biuf":
            bad = pd.to_numeric(values, errors="coerce").isna() & values.notna()
            row = int(np.argmax(bad.to_numpy()))
            line, fields = _csv_record(path, first_record + row)
            raise ValueError(
                f"{what}: {path} has a value that is not a number, {fields[position]!r}, at line {line}, "
                f"{column(position)}; a CSV must hold numbers only"
            )
    values = rows.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row, position = (int(i) for i in np.unravel_index(int(np.argmax(bad)), bad.shape))
        line, fields = _csv_record(path, first_record + row)
        if position >= len(fields):
            raise ValueError(
                f"{what}: {path} has no value at line {line}, {column(position)}: the line has only "
                f"{len(fields)} of {values.shape[1]} fields; every line must have the same number of fields"
            )
        kind = "an infinite value" if np.isinf(values[row, position]) else "a missing value"
        raise ValueError(
            f"{what}: {path} has {kind}, {fields[position]!r}, at line {line}, {column(position)}; remove or impute it"
        )
    return values


def _load_csv(path: Path, what: str, header: bool | None) -> LoadedArray:
    line, fields = _first_csv_record(path, what)
    second = next(itertools.islice(_csv_records(path), 1, None), None)
    if second is not None and len(second[1]) != len(fields):
        next_line, next_fields = second
        raise ValueError(
            f"{what}: {path} has {len(fields)} fields at line {line} but {len(next_fields)} at line {next_line}; "
            "every line must have the same number of fields"
        )
    rows = _read_rows(path, what, skip_lines=line)
    guessed = False
    if header is None:
        if any(_field_kind(field) == "name" for field in fields):
            header = True
        else:
            ambiguous = _ambiguous_first_row(path, what, fields, rows)
            if ambiguous is not None:
                raise ambiguous
            header, guessed = False, True
    if header:
        _check_header_names(path, what, fields)
        if rows.empty:
            raise ValueError(f"{what}: {path} has a header row ({', '.join(fields)}) but no data rows")
        return LoadedArray(_check_csv_numbers(path, what, rows, fields, 1), list(fields))
    import pandas as pd

    first = []
    for position, field in enumerate(fields):
        if _field_kind(field) == "name":  # only with header=False: the caller said line 1 is data
            raise ValueError(
                f"{what}: {path} has a value that is not a number, {field!r}, at line {line}, column {position + 1} "
                f"(read as data because of {_header_flags(what)[1]}); a CSV must hold numbers only"
            )
        first.append(np.nan if _field_kind(field) == "missing" else float(field))
    data = pd.concat([pd.DataFrame([first]), rows], ignore_index=True) if not rows.empty else pd.DataFrame([first])
    return LoadedArray(_check_csv_numbers(path, what, data, None, 0), None, guessed)


# --- public loaders ------------------------------------------------------------------------------


def load_array(
    path, what: str = "--x", role: str = "x", *, header: bool | None = None, shared_with: str | None = None
) -> LoadedArray:
    """Read an array from ``.npy``, ``.npz`` or ``.csv`` without ever unpickling.

    Parameters
    ----------
    path : str or Path
    what : str
        The option the path came from, used in error messages.
    role : {"x", "y"}
        Which array of a several-array ``.npz`` to take (``x``/``X`` or ``y``/``Y``).
    header : bool, optional
        CSV only: whether the first row is a header (True) or data (False); by default it is
        decided by the rule in this module's docstring, and refused where it cannot be.
    shared_with : str, optional
        The option that reads the same ``.npz`` for the other role; the archive must then
        name its arrays (a single unnamed array cannot be both X and y).

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
        return _load_csv(path, what, header)
    if header is not None:
        flag = _header_flags(what)[0 if header else 1]
        raise ValueError(f"{flag}: {path} is not a CSV file; the header option applies to .csv files only")
    values = _load_npy(path, what) if suffix == ".npy" else _load_npz(path, what, role, shared_with)
    return LoadedArray(values, None)


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
        raise ImportError(f"{purpose} needs Keras 3 with TensorFlow: pip install 'pyimportance[keras]'") from None
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
    suffix = _suffix(path, MODEL_SUFFIXES, what)
    _check_model_file(path, suffix, what)
    keras = import_keras(f"loading a Keras model ({what})")
    try:
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
