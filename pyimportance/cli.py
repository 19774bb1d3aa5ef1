"""The ``pyimportance`` command: argument parsing, then one call into the library.

``pyimportance demo`` trains a small LSTM on the embedded data set and ranks its inputs;
``pyimportance run`` computes the importance for a saved Keras model and data files.
Exit status: 0 on success, 2 for usage errors (argparse's message, also for option combinations
that cannot work), 1 for any other error (one line ``pyimportance: error: ...`` on stderr), 130
when interrupted and 141 (quietly) when the reader of stdout has gone away, as for SIGPIPE;
output files are written before anything is printed, so a closed pipe never costs them.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from . import __version__
from .perturbations import PERTURBATIONS
from .scoring import LOSSES
from .units import BY_CHOICES

PROG = "pyimportance"
MAX_TABLE_ROWS = 20
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a program killed by a closed pipe
# Errors users cause (bad files, bad options, a model that fails): one line, no traceback.
_USER_ERRORS = (ValueError, TypeError, OSError, ImportError, RuntimeError)

_RUN_EXAMPLES = """\
examples:
  pyimportance run --model model.keras --x X.npy --y y.npy --out importance.csv --plot importance.png
  pyimportance run --model model.keras --x X.npy --by cell --method permute --n-repeats 10 --out cells.csv
  pyimportance run --model model.keras --x data.npz --y data.npz --group weather=temp,humidity --out g.csv

X: .npy or .npz (2D or 3D: samples x timesteps x features) or .csv (2D only; a header row gives
feature names). A .npz holds one array or arrays named x and y. Files are never unpickled.

CSV header rule (without --x-header/--no-x-header, --y-header/--no-y-header): a first row with
any field that is not a number is a header; a first row of numbers is data, except where it
cannot be told apart from a header (whole numbers such as 2020,2021 over columns with fractions,
pandas' unnamed labels 0,1,2,..., or numbers with empty fields): then pass the flag.
CSV files are comma-separated with '.' as the decimal point, UTF-8, numbers only, no gaps.
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _comma_list(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    repeated = sorted({item for item in items if items.count(item) > 1})
    if repeated:
        raise argparse.ArgumentTypeError(f"{repeated[0]!r} is listed more than once in {text!r}")
    return items


def _group(text: str) -> tuple[str, list[str]]:
    name, sep, members = text.partition("=")
    if not sep or not name.strip() or not members.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=feature1,feature2, got {text!r}")
    return name.strip(), _comma_list(members)


def _count_or_fraction(text: str) -> int | float:
    try:
        value: float = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if 0 < value <= 1:
            return value
    if value >= 1 and float(value).is_integer():
        return int(value)
    raise argparse.ArgumentTypeError(f"expected a count >= 1 or a fraction in (0, 1], got {text!r}")


def _add_demo_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="train a small LSTM on the embedded sales data and rank its inputs",
        description=(
            "Train a small LSTM on the embedded, simulated daily sales series (true drivers: "
            "temperature, price and advertising acting 5 days later; three pure-noise features), "
            "print the permutation importance ranking and write importance.csv/.png and "
            "importance_cells.csv/.png (by time step and feature) into --out, replacing earlier demo files."
        ),
    )
    parser.add_argument("--out", default="out", metavar="DIR", help="output directory (default: out)")
    parser.add_argument("--seed", type=_seed, default=42, metavar="N",
                        help="seed for training and perturbations (default: 42)")
    parser.add_argument("--epochs", type=_positive_int, default=10, metavar="N", help="training epochs (default: 10)")
    parser.add_argument("--n-repeats", type=_positive_int, default=5, metavar="N",
                        help="permutations per feature (default: 5)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar (default: when stderr is a terminal)")
    parser.set_defaults(command=_run_demo)


def _add_run_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="importance of the inputs of a saved Keras model",
        description="Perturbation importance of the inputs of a saved Keras model on data from files.",
        epilog=_RUN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    files = parser.add_argument_group("input and output files")
    files.add_argument("--model", required=True, metavar="FILE", help="Keras model file (.keras, or legacy .h5)")
    files.add_argument("--x", required=True, metavar="FILE", help="evaluation inputs X (.npy, .npz or .csv)")
    files.add_argument("--y", metavar="FILE",
                       help="true targets y (.npy, .npz or .csv); without it: mean |change of prediction|")
    files.add_argument("--x-header", action=argparse.BooleanOptionalAction, default=None,
                       help="the first row of the --x CSV is a header / is data (default: detect, see below)")
    files.add_argument("--y-header", action=argparse.BooleanOptionalAction, default=None,
                       help="the same for the --y CSV")
    files.add_argument("--out", required=True, metavar="CSV", help="result table to write (.csv)")
    files.add_argument("--plot", metavar="FILE", help="also write a plot (.png, .pdf or .svg)")
    files.add_argument("--overwrite", action="store_true", help="replace existing output files")
    files.add_argument("--unsafe", action="store_true",
                       help="allow Lambda layers in the model file (runs their code: trusted files only)")

    options = parser.add_argument_group("importance options")
    options.add_argument("--method", choices=list(PERTURBATIONS), default="gaussian", metavar="NAME",
                         help=f"how a unit is perturbed: {', '.join(PERTURBATIONS)} (default: gaussian)")
    options.add_argument("--scale", type=_positive_float, default=0.1, metavar="S",
                         help="noise sd for gaussian/uniform, as a fraction of each feature's sd (default: 0.1)")
    options.add_argument("--absolute-scale", action="store_true", help="--scale is an absolute sd")
    options.add_argument("--loss", choices=list(LOSSES), metavar="NAME",
                         help=f"loss, needs --y: {', '.join(LOSSES)} (default: mse)")
    options.add_argument("--n-repeats", type=_positive_int, default=5, metavar="N",
                         help="perturbations per unit (default: 5)")
    options.add_argument("--by", choices=list(BY_CHOICES), default="feature", metavar="UNIT",
                         help="unit: feature, timestep or cell (default: feature)")
    options.add_argument("--group", type=_group, action="append", metavar="NAME=F1,F2",
                         help="perturb these features (by name) together as NAME (repeatable)")
    options.add_argument("--feature-names", type=_comma_list, metavar="A,B,C",
                         help="feature names (default: CSV header or x1, x2, ...)")
    options.add_argument("--max-samples", type=_count_or_fraction, metavar="N",
                         help="evaluate on a random subset: a count or a fraction in (0, 1]")
    options.add_argument("--batch-size", type=_positive_int, metavar="N",
                         help="rows per model call (never changes the result)")
    options.add_argument("--seed", type=_seed, metavar="N",
                         help="random seed (default: fresh; the seed used is printed)")
    options.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                         help="show a progress bar (default: when stderr is a terminal)")
    parser.set_defaults(command=_run_model, check=_run_usage_problem, parser=parser)


def build_parser() -> argparse.ArgumentParser:
    """The ``pyimportance`` argument parser (subcommands ``demo`` and ``run``)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Perturbation (permutation) variable importance for Keras models, above all LSTM/GRU.",
        epilog="Run 'pyimportance COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    subparsers.required = True
    _add_demo_parser(subparsers)
    _add_run_parser(subparsers)
    return parser


def _note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _ranking_table(result, max_rows: int = MAX_TABLE_ROWS, csv_name: str = "the CSV") -> str:
    """The sorted result table as text, 1-line header, at most ``max_rows`` rows."""
    frame = result.to_frame()
    table = frame.head(max_rows).to_string(index=False, float_format=lambda value: f"{value:.4g}")
    more = len(frame) - max_rows
    return table + (f"\n... {more} more rows in {csv_name}" if more > 0 else "")


DEMO_FILES = ("importance.csv", "importance.png", "importance_cells.csv", "importance_cells.png")


def _run_demo(args) -> None:
    from .datasets import LAGS
    from .io import check_writable, import_keras, write_csv, write_figure

    out_dir = Path(args.out)
    paths = [out_dir / name for name in DEMO_FILES]
    for path in paths:  # before the training, as `run` does
        check_writable(path, "--out", overwrite=True)
    import_keras("the demo")
    from .demo import WINDOW, run_demo

    _note(f"training a small LSTM on the embedded sales data ({args.epochs} epochs, seed {args.seed}) ...")
    demo = run_demo(seed=args.seed, epochs=args.epochs, n_repeats=args.n_repeats, progress=args.progress)
    result = demo.result
    # Files first, then the terminal: a closed pipe (| head) must not cost the results.
    write_csv(result.to_frame(), paths[0], "--out", overwrite=True)
    write_figure(result.plot(), paths[1], "--out", overwrite=True)
    write_csv(demo.cells.to_frame(), paths[2], "--out", overwrite=True)
    write_figure(demo.cells.plot(), paths[3], "--out", overwrite=True)
    print(
        f"Demo: LSTM(16) on {WINDOW}-day windows of simulated daily sales; test mse {demo.test_mse:.3f} "
        f"(variance of sales {demo.target_variance:.3f})."
    )
    print(f"Permutation importance (increase of mse, {result.importances.shape[1]} repeats, 95% interval):")
    print(_ranking_table(result))
    top = result.to_frame()["feature"].head(len(demo.true_drivers)).tolist()
    found = "yes" if set(top) == set(demo.true_drivers) else "NO"
    lag = LAGS["advertising"]
    print(f"True drivers: {', '.join(demo.true_drivers)} (advertising acts {lag} days later); ranked first: {found}")
    print(f"Most important (time step, feature) cells (time step {WINDOW - 1} is the target's day):")
    print(_ranking_table(demo.cells, max_rows=4, csv_name="importance_cells.csv"))
    print("Wrote " + ", ".join(str(path) for path in paths))


def _run_usage_problem(args) -> str | None:
    """What is wrong with this combination of ``run`` options (a usage error), or None."""
    from .io import PLOT_SUFFIXES, same_file

    inputs = [(option, path) for option, path in (("--model", args.model), ("--x", args.x), ("--y", args.y)) if path]
    outputs = [(option, path) for option, path in (("--out", args.out), ("--plot", args.plot)) if path]
    if args.plot is not None and same_file(args.out, args.plot):
        return f"--plot: {args.plot} is also the --out file; give the plot its own file name (e.g. importance.png)"
    for out_option, out_path in outputs:
        for in_option, in_path in inputs:
            if same_file(out_path, in_path):
                return f"{out_option}: {out_path} is the {in_option} input file; choose another name for the output"
    if Path(args.out).suffix.lower() != ".csv":
        return f"--out: {args.out} must be a .csv file name (the result table is written as CSV)"
    if args.plot is not None and Path(args.plot).suffix.lower() not in PLOT_SUFFIXES:
        return f"--plot: {args.plot} must end in {', '.join(PLOT_SUFFIXES)} (the suffix gives the image format)"
    if args.loss is not None and args.y is None:
        return f"--loss {args.loss} needs --y (the true targets); without --y the importance is the prediction change"
    if args.group and args.by == "timestep":
        return (
            "--group has no effect with --by timestep (each unit is one time step of all features); "
            "use --by feature or --by cell"
        )
    names = [name for name, _ in args.group or ()]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        return f"--group: the group name {repeated[0]!r} is given more than once"
    for option, path, header in (("--x", args.x, args.x_header), ("--y", args.y, args.y_header)):
        if header is not None and (path is None or Path(path).suffix.lower() != ".csv"):
            flag = f"--{'' if header else 'no-'}{option[2:]}-header"
            return f"{flag} applies to a CSV file given with {option}, got {option} {path}"
    return None


class _RunInputs(NamedTuple):
    X: object
    y: object
    feature_names: list[str] | None
    groups: dict[str, list[str]] | None


def _load_inputs(args) -> _RunInputs:
    """X, y, feature names and groups from the files and options, checked against each other."""
    from .io import load_array, same_file

    shared = args.y is not None and Path(args.x).exists() and same_file(args.x, args.y)
    if shared and Path(args.x).suffix.lower() != ".npz":
        raise ValueError(
            f"--y: {args.y} is also the --x file; only a .npz archive can hold both (arrays named x and y)"
        )
    x_file = load_array(args.x, "--x", role="x", header=args.x_header, shared_with="--y" if shared else None)
    _refuse_single_number(x_file.values, "--x", args.x)
    y_file = None
    if args.y is not None:
        y_file = load_array(args.y, "--y", role="y", header=args.y_header, shared_with="--x" if shared else None)
        _refuse_single_number(y_file.values, "--y", args.y)
        _check_rows(x_file, y_file, args)
    y = None if y_file is None else y_file.values
    if y is not None and y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    X = x_file.values
    feature_names = args.feature_names or x_file.column_names
    if args.feature_names and X.ndim in (2, 3) and len(args.feature_names) != X.shape[-1]:
        raise ValueError(
            f"--feature-names: {len(args.feature_names)} names given for the {X.shape[-1]} features of {args.x}"
        )
    groups = None
    if args.group and X.ndim in (2, 3):
        groups = _groups(args.group, feature_names, X.shape[-1], args.x)
    return _RunInputs(X, y, feature_names, groups)


def _refuse_single_number(values, what: str, path) -> None:
    if values.ndim == 0:
        raise ValueError(f"{what}: {path} holds a single number (an array of shape ()), not a data set")


def _check_rows(x_file, y_file, args) -> None:
    """One target per sample; a CSV whose first row was taken for data gets the flag that fixes it."""
    n_x, n_y = x_file.values.shape[0], y_file.values.shape[0]
    if n_x == n_y or x_file.values.ndim == 0:
        return
    hint = ""
    if y_file.first_row_guessed_data and n_y == n_x + 1:
        hint = f"; if the first row of {args.y} is a header, pass --y-header"
    elif x_file.first_row_guessed_data and n_x == n_y + 1:
        hint = f"; if the first row of {args.x} is a header, pass --x-header"
    raise ValueError(
        f"--y: {args.y} has {n_y} rows, but --x {args.x} has {n_x} samples; y needs one row per sample{hint}"
    )


def _groups(pairs, feature_names, n_features: int, x_path) -> dict[str, list[str]]:
    """The --group options as {name: [feature names]}, every member a known feature."""
    known = list(feature_names) if feature_names else [f"x{i + 1}" for i in range(n_features)]
    listed = ", ".join(known[:12]) + (f", ... ({len(known)} features)" if len(known) > 12 else "")
    source = "" if feature_names else f" ({x_path} has no feature names; set them with --feature-names)"
    for name, members in pairs:
        unknown = [member for member in members if member not in known]
        if unknown:
            raise ValueError(
                f"--group {name}={','.join(members)}: no feature named {unknown[0]!r}; "
                f"the features are {listed}{source}"
            )
    return dict(pairs)


def _run_model(args) -> None:
    from .api import perturbation_importance
    from .io import check_writable, load_model, write_csv, write_figure

    # Refuse existing outputs before the (possibly long) computation, and again when writing.
    check_writable(args.out, "--out", overwrite=args.overwrite)
    if args.plot is not None:
        check_writable(args.plot, "--plot", overwrite=args.overwrite)
    inputs = _load_inputs(args)
    _note(f"loading {args.model} ...")
    model = load_model(args.model, unsafe=args.unsafe)
    _note(f"computing importance on X of shape {tuple(inputs.X.shape)} ({args.n_repeats} repeats per unit) ...")
    result = perturbation_importance(
        model,
        inputs.X,
        inputs.y,
        method=args.method,
        scale=args.scale,
        relative_scale=not args.absolute_scale,
        loss=args.loss,
        n_repeats=args.n_repeats,
        by=args.by,
        groups=inputs.groups,
        feature_names=inputs.feature_names,
        max_samples=args.max_samples,
        batch_size=args.batch_size,
        random_state=args.seed,
        progress=args.progress,
    )
    # Files first, then the terminal: a closed pipe (| head) must not cost the results.
    written = [write_csv(result.to_frame(), args.out, "--out", overwrite=args.overwrite)]
    if args.plot is not None:
        written.append(write_figure(result.plot(), args.plot, "--plot", overwrite=args.overwrite))
    settings = result.settings
    print(
        f"Importance by {settings['by']} ({settings['method']}, {settings['loss']}, {settings['n_repeats']} repeats, "
        f"{settings['n_samples']} samples, seed {settings['random_state']}); baseline {result.baseline_score:.6g}"
    )
    print(_ranking_table(result, csv_name=str(args.out)))
    print("Wrote " + " and ".join(str(path) for path in written))


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit flush does not fail again."""
    if sys.stdout is not sys.__stdout__:  # replaced (tests, embedding): leave the real fd alone
        return
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    try:
        return _main(argv)
    except BrokenPipeError:  # the reader went away (| head): stop quietly, like a program killed by SIGPIPE
        _silence_stdout()
        return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter off the terminal
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        problem = args.check(args) if getattr(args, "check", None) else None
        if problem:
            args.parser.error(problem)
    except SystemExit as exit_request:  # --help, --version (0) and usage errors (2)
        return int(exit_request.code or 0)
    try:
        args.command(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise
    except MemoryError as error:
        print(f"{PROG}: error: out of memory ({_one_line(error) or 'MemoryError'}); "
              "try a smaller --batch-size or --max-samples", file=sys.stderr)
        return 1
    except _USER_ERRORS as error:
        print(f"{PROG}: error: {_one_line(error) or type(error).__name__}", file=sys.stderr)
        return 1
    return 0


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


if __name__ == "__main__":
    sys.exit(main())
