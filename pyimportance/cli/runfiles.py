"""The files of an estimator's subcommand (``pyimportance run``, ...), read into what its function takes.

Files named per model input or output head (``--x seq=FILE``, ``--y sales=FILE``) become one
array, or a dict by input/head name; their row counts are checked against each other, feature
names and groups are resolved, and a several-array ``.npz`` is matched to the model's inputs.
Reading one file is :mod:`.files`'s job; parsing the options is :mod:`.options`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ..data.check_x import default_feature_names

if TYPE_CHECKING:
    from .files import LoadedArray

NPZ = ".npz"


def suffix(path) -> str:
    """A path's suffix, lower-cased."""
    return Path(path).suffix.lower()


def listed(names) -> str:
    """Names for a message: ``'a', 'b'``."""
    return ", ".join(repr(name) for name in names)


class Named(NamedTuple):
    """An option value for one model input or output head (``name``), or for all of them (None)."""

    name: str | None
    value: object
    text: str  # as given, for messages


#: The options that name files of rows, each with its --OPTION-header flag; --reference only where the
#: subcommand's estimator offers ``reference``.
ROW_OPTIONS = ("x", "y", "reference")


def given(args, option: str) -> list[Named]:
    """The files given with --OPTION, one of :data:`ROW_OPTIONS` (none where the subcommand has no such option)."""
    return getattr(args, option, None) or []


def header_flag(args, option: str) -> bool | None:
    """--OPTION-header (True), --no-OPTION-header (False), or neither (None: detect)."""
    return getattr(args, f"{option}_header", None)


class _File(NamedTuple):
    """An array read for an option; ``what`` names it in messages ("--x", "--x seq")."""

    what: str
    path: str
    loaded: LoadedArray

    @property
    def values(self):
        return self.loaded.values


class _RunFiles(NamedTuple):
    x: dict[str | None, _File]  # by input name; None: the one input
    y: dict[str | None, _File]  # by output head; None: one target for all heads
    reference: dict[str | None, _File]


def _shared_with(item: Named, other_option: str, other_items) -> str | None:
    """``other_option`` when one of its files is ``item``'s file too (a .npz read for both), else None."""
    from .files import same_file

    if Path(item.value).exists() and any(same_file(item.value, other.value) for other in other_items or ()):
        return other_option
    return None


def _read(option: str, items, header: bool | None, role: str, other=("", ())) -> dict[str | None, _File]:
    """The arrays of --x, --y or --reference by name (None: one array for all); ``other``: (option, items)."""
    from .files import load_array, load_inputs

    files = {}
    for item in items or ():
        what = option if item.name is None else f"{option} {item.name}"
        options = dict(header=header if suffix(item.value) == ".csv" else None,
                       shared_with=_shared_with(item, *other))
        if item.name is None and role == "x":  # one file: one X, or a .npz holding every input
            found = load_inputs(item.value, option, **options)
            files.update((name, _File(what if name is None else f"{option} {name}", item.value, loaded))
                         for name, loaded in found.items())
        else:
            files[item.name] = _File(what, item.value, load_array(item.value, what, role, name=item.name, **options))
    return files


def read_files(args) -> _RunFiles:
    """--x, --y and --reference, checked against each other (one row per sample everywhere)."""
    for item in args.y or ():
        if _shared_with(item, "--x", args.x) and suffix(item.value) != NPZ:
            raise ValueError(
                f"--y: {item.value} is also the --x file; only a .npz archive can hold both (arrays named x and y)"
            )
    x = _read("--x", args.x, args.x_header, "x", ("--y", args.y))
    y = _read("--y", args.y, args.y_header, "y", ("--x", args.x))
    reference = _read("--reference", given(args, "reference"), header_flag(args, "reference"), "x")
    for file in [*x.values(), *y.values(), *reference.values()]:
        if file.values.ndim == 0:
            raise ValueError(f"{file.what}: {file.path} holds a single number (an array of shape ()), not a data set")
    for files, rule in ((x, "every input"), (y, "y"), (reference, "every input")):
        first = next(iter(x.values())) if files is y else next(iter(files.values()), None)
        for file in files.values():
            _check_rows(first, file, f"{rule} needs one row per sample")
    return _RunFiles(x, y, reference)


def read_baselines(items) -> dict[str | None, _File]:
    """The files of --baselines by input name (None: one array, or a .npz holding every input)."""
    files = _read("--baselines", items, None, "x")
    for file in files.values():
        if file.values.ndim == 0:
            raise ValueError(f"{file.what}: {file.path} holds a single number (an array of shape ()), not rows")
    return files


def _check_rows(first: _File, other: _File, rule: str) -> None:
    """``other`` has a row per sample of ``first``; a CSV whose first row was taken for data gets the fixing flag."""
    from .csvfile import header_flags

    n_first, n_other = first.values.shape[0], other.values.shape[0]
    if n_first == n_other:
        return
    hint = ""
    if other.loaded.first_row_guessed_data and n_other == n_first + 1:
        hint = f"; if the first row of {other.path} is a header, pass {header_flags(other.what)[0]}"
    elif first.loaded.first_row_guessed_data and n_first == n_other + 1:
        hint = f"; if the first row of {first.path} is a header, pass {header_flags(first.what)[0]}"
    elif other.what == "--y" and first.values.ndim == 2 and n_other > 1 and n_first % n_other == 0:
        steps, features = n_first // n_other, first.values.shape[1]
        hint = (f"; if {first.path} is in long form (one row per sample and time step: {n_other} samples of "
                f"{steps} steps, sorted by sample, then time), save it as a 3D array: "
                f"np.save('X.npy', X.reshape({n_other}, {steps}, {features})) and pass --x X.npy")
    raise ValueError(
        f"{other.what}: {other.path} has {n_other} rows, but {first.what} {first.path} has {n_first} samples; "
        f"{rule}{hint}"
    )


def _n_features(file: _File) -> int | None:
    return file.values.shape[-1] if file.values.ndim in (2, 3) else None


def feature_names(given, x: dict[str | None, _File]):
    """Names for the engine: a list for one input, {input: names} for several; from the options or CSV headers."""
    by_input = {item.name: item for item in given or ()}
    if None in by_input and len(x) == 1:
        by_input = {next(iter(x)): by_input[None]}  # the one input's names, however it is named
    for key, item in by_input.items():
        if key is None and len(x) > 1:
            raise ValueError(f"--feature-names {item.text}: --x holds several inputs ({listed(x)}); give "
                             "--feature-names INPUT=a,b,c for each")
        if key is not None and None in x:
            raise ValueError(f"--feature-names {item.text}: names an input, but --x is one input; use "
                             f"--feature-names {','.join(item.value)}")
        if key not in x:
            raise ValueError(f"--feature-names {item.text}: there is no --x input {key!r}; the inputs are "
                             f"{listed(x)}")
    names = {}
    for name, file in x.items():
        item, count = by_input.get(name), _n_features(file)
        if item is not None and count is not None and len(item.value) != count:
            label = "--feature-names" if len(x) == 1 else f"--feature-names {name}"
            raise ValueError(f"{label}: {len(item.value)} names given for the {count} features of {file.path}")
        header = file.loaded.column_names
        if item is not None and header is not None and list(item.value) != list(header):
            label = "--feature-names " if len(x) == 1 else f"--feature-names {name}="
            order = " (the same names in another order)" if sorted(item.value) == sorted(header) else ""
            raise ValueError(
                f"{label}{','.join(item.value)} disagrees with the header of {file.path} ({','.join(header)}){order}: "
                "the names would label the columns by position; leave --feature-names out (the header names the "
                "columns) or make the header and --feature-names agree"
            )
        found = item.value if item is not None else header
        if found is not None:
            names[name] = list(found)
    if len(x) == 1:
        return next(iter(names.values()), None)
    return names or None


def groups(pairs, feature_names, x: dict[str | None, _File]) -> dict[str, list[str]] | None:
    """The --group options as {name: [feature names]}; with one input every member must be one of its features."""
    if not pairs:
        return None
    if len(x) > 1:
        return dict(pairs)  # names across inputs: the engine checks them
    file = next(iter(x.values()))
    if _n_features(file) is None:
        return dict(pairs)
    known = list(feature_names) if feature_names else list(default_feature_names(_n_features(file)))
    listed = ", ".join(known[:12]) + (f", ... ({len(known)} features)" if len(known) > 12 else "")
    source = "" if feature_names else f" ({file.path} has no feature names; set them with --feature-names)"
    for name, members in pairs:
        unknown = [member for member in members if member not in known]
        if unknown:
            raise ValueError(
                f"--group {name}={','.join(members)}: no feature named {unknown[0]!r}; "
                f"the features are {listed}{source}"
            )
    return dict(pairs)


def model_inputs(model, files: dict[str | None, _File], option: str):
    """X (or the reference rows) as the engine takes them: one array, or {input name: array}, checked by name."""
    from ..model.keras import keras_inputs

    expected = keras_inputs(model)
    names = [name for name, _ in expected] if expected else None
    if len(files) == 1:
        if names is not None and len(names) > 1:
            raise ValueError(
                f"{option}: the model has {len(names)} inputs ({listed(names)}); give one {option} NAME=FILE "
                "per input, or one .npz holding an array of each name"
            )
        return next(iter(files.values())).values
    given = list(files)
    if names is not None and sorted(given) != sorted(names):
        model_says = (f"the model has one input ({names[0]!r})" if len(names) == 1
                      else f"the model's inputs are {listed(names)}")
        paths = {file.path for file in files.values()}
        if len(paths) == 1:  # one .npz holding several arrays
            fix = ("name the one to use 'x' (or save a single array)" if len(names) == 1
                   else "save one array per input under the input's name")
            raise ValueError(f"{option}: {paths.pop()} holds the arrays {listed(given)}, but {model_says}; {fix}")
        raise ValueError(f"{option}: {model_says}, got {listed(given)}; give one {option} NAME=FILE per model input")
    return {name: file.values for name, file in files.items()}


def sample_weight(path, x: dict[str | None, _File]):
    """--sample-weight FILE: one weight per row of --x (.npy, or a .csv/.npz of one column), or None."""
    if path is None:
        return None
    from .files import load_array

    what = "--sample-weight"
    file = _File(what, path, load_array(path, what, "y", name="sample_weight"))
    values = file.values
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(f"{what}: {path} must hold one weight per row (one column), got an array of shape "
                         f"{tuple(file.values.shape)}")
    _check_rows(next(iter(x.values())), file, f"{what} needs one weight per sample")
    return values


def targets(y: dict[str | None, _File]):
    if not y:
        return None
    return y[None].values if None in y else {head: file.values for head, file in y.items()}


def losses(losses, y: dict[str | None, _File]):
    """One loss name for all heads, or {head: loss} (heads without their own take the unnamed one, else mse)."""
    if not losses:
        return None
    default = next((item.value for item in losses if item.name is None), None)
    named = {item.name: item.value for item in losses if item.name is not None}
    if not named:
        return default
    return {head: named.get(head, default) for head in y}


def shapes(x: dict[str | None, _File]) -> str:
    if len(x) == 1:
        return f"X of shape {tuple(next(iter(x.values())).values.shape)}"
    return "X of shapes " + ", ".join(f"{name} {tuple(file.values.shape)}" for name, file in x.items())
