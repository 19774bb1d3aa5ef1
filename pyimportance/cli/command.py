"""The ``pyimportance`` command: argument parsing, then one call into the library.

``pyimportance demo`` trains a small LSTM on the embedded data set and ranks its inputs;
``pyimportance run`` computes the importance for a saved Keras model and data files.
Exit status: 0 on success, 2 for usage errors (argparse's message, also for option combinations
that cannot work), 1 for any other error (one line ``pyimportance: error: ...`` on stderr), 130
when interrupted and 141 (quietly) when the reader of stdout has gone away, as for SIGPIPE;
output files are written before anything is printed, so a closed pipe never costs them.

Files named per model input or output head (``--x seq=FILE``, ``--y sales=FILE``) are read
here into what :func:`pyimportance.perturbation_importance` takes: one array, or a dict by
input/head name. Reading a single file is :mod:`pyimportance.io`'s job.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__, runfiles
from .api import CI_CHOICES
from .perturbations import METHODS
from .runfiles import Named, listed, suffix
from .scoring import LOSSES, loss_names
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
  pyimportance run --model model.keras --x seq=seq.npy --x static=static.csv --y sales=sales.npy \\
      --y churn=churn.npy --loss sales=mse --loss churn=log_loss --per-output --out heads.csv
  pyimportance run --model model.keras --x X.npy --y y.npy --method conditional --reference train.npy \\
      --tolerance 0.05 --out conditional.csv

X: .npy or .npz (2D or 3D: samples x timesteps x features) or .csv (2D only; a header row gives
feature names). A .npz holds one array, arrays named x and y, or, for a model with several
inputs, one array per input named after it (and y). --x NAME=FILE (repeatable) gives the
inputs one file each; --y NAME=FILE one target per output head. Files are never unpickled.

CSV header rule (without --x-header/--no-x-header, --y-header/--no-y-header): a first row with
any field that is not a number is a header; a first row of numbers is data, except where it
cannot be told apart from a header (whole numbers such as 2020,2021 over columns with fractions,
pandas' unnamed labels 0,1,2,..., or numbers with empty fields): then pass the flag.
CSV files are comma-separated with '.' as the decimal point, UTF-8, numbers only, no gaps.
"""


# --- option values ---------------------------------------------------------------------------------


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


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _positive_float(text: str) -> float:
    value = _float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _finite_float(text: str) -> float:
    value = _float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    return value


def _fraction(text: str) -> float:
    value = _float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction of the largest importance in (0, 1), got {text!r}")
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
        value = _float(text)
        if 0 < value <= 1:
            return value
    if value >= 1 and float(value).is_integer():
        return int(value)
    raise argparse.ArgumentTypeError(f"expected a count >= 1 or a fraction in (0, 1], got {text!r}")


def _split_name(text: str, not_in_name: str) -> tuple[str | None, str]:
    """``NAME=rest`` as (NAME, rest); text whose part before "=" holds ``not_in_name`` characters has no name."""
    name, sep, rest = text.partition("=")
    if sep and name.strip() and not any(char in name for char in not_in_name):
        return name.strip(), rest
    return None, text


def _named_file(text: str) -> Named:
    """FILE or NAME=FILE (a file name with "=" in it: give a path with a directory, ./a=b.npy)."""
    name, path = _split_name(text, "/" + os.sep)
    if not path.strip():
        raise argparse.ArgumentTypeError(f"expected FILE or NAME=FILE, got {text!r}")
    return Named(name, path.strip(), text)


def _named_loss(text: str) -> Named:
    """LOSS or HEAD=LOSS; our names and Keras' names and aliases, in any case."""
    name, loss = _split_name(text, "")
    if loss.strip().lower() not in loss_names():
        raise argparse.ArgumentTypeError(
            f"unknown loss {loss.strip()!r}; use one of {', '.join(LOSSES)} (or a Keras loss name such as "
            "mean_squared_error; case-insensitive)"
        )
    return Named(name, loss.strip(), text)


def _named_names(text: str) -> Named:
    """a,b,c or INPUT=a,b,c."""
    name, names = _split_name(text, ",")
    return Named(name, _comma_list(names), text)


# --- the parser --------------------------------------------------------------------------------------


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


def _add_file_options(parser) -> None:
    files = parser.add_argument_group("input and output files")
    files.add_argument("--model", required=True, metavar="FILE", help="Keras model file (.keras, or legacy .h5)")
    files.add_argument("--x", required=True, action="append", type=_named_file, metavar="[NAME=]FILE",
                       help="evaluation inputs X (.npy, .npz or .csv); NAME=FILE for each input of a model with "
                            "several (repeatable)")
    files.add_argument("--y", action="append", type=_named_file, metavar="[HEAD=]FILE",
                       help="true targets y (.npy, .npz or .csv); HEAD=FILE for each output head (repeatable); "
                            "without --y: mean |change of prediction|")
    files.add_argument("--reference", action="append", type=_named_file, metavar="[NAME=]FILE",
                       help="rows the conditional model is fitted on (--method conditional; default: the X rows); "
                            "NAME=FILE per input (repeatable)")
    for option, what in (("x", "--x"), ("y", "--y"), ("reference", "--reference")):
        files.add_argument(f"--{option}-header", action=argparse.BooleanOptionalAction, default=None,
                           help=f"the first row of each {what} CSV is a header / is data (default: detect, see below)")
    files.add_argument("--out", required=True, metavar="CSV", help="result table to write (.csv)")
    files.add_argument("--plot", metavar="FILE", help="also write a plot (.png, .pdf or .svg)")
    files.add_argument("--overwrite", action="store_true", help="replace existing output files")
    files.add_argument("--unsafe", action="store_true",
                       help="allow Lambda layers in the model file (runs their code: trusted files only)")


def _add_importance_options(parser) -> None:
    options = parser.add_argument_group("importance options")
    options.add_argument("--method", choices=list(METHODS), default="gaussian", metavar="NAME",
                         help=f"how a unit is perturbed: {', '.join(METHODS)} (default: gaussian)")
    options.add_argument("--scale", type=_positive_float, default=0.1, metavar="S",
                         help="noise sd for gaussian/uniform, as a fraction of each feature's sd (default: 0.1)")
    options.add_argument("--absolute-scale", action="store_true", help="--scale is an absolute sd")
    options.add_argument("--loss", action="append", type=_named_loss, metavar="[HEAD=]NAME",
                         help=f"loss, needs --y: {', '.join(LOSSES)} or a Keras loss name (default: mse); "
                              "HEAD=NAME for one output head (repeatable)")
    options.add_argument("--n-repeats", type=_positive_int, default=5, metavar="N",
                         help="perturbations per unit (default: 5)")
    options.add_argument("--by", choices=list(BY_CHOICES), default="feature", metavar="UNIT",
                         help="unit: feature, timestep or cell (default: feature)")
    options.add_argument("--group", type=_group, action="append", metavar="NAME=F1,F2",
                         help="perturb these features (by name) together as NAME (repeatable)")
    options.add_argument("--feature-names", type=_named_names, action="append", metavar="[INPUT=]A,B,C",
                         help="feature names (default: CSV header or x1, x2, ...); INPUT=A,B,C for each input "
                              "of a model with several")
    options.add_argument("--max-samples", type=_count_or_fraction, metavar="N",
                         help="evaluate on a random subset: a count or a fraction in (0, 1]; with --tolerance, "
                              "the most rows to use")
    options.add_argument("--batch-size", type=_positive_int, metavar="N",
                         help="rows per model call (never changes the result beyond float32 rounding)")
    options.add_argument("--seed", type=_seed, metavar="N",
                         help="random seed (default: fresh; the seed used is printed)")
    options.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                         help="show a progress bar (default: when stderr is a terminal)")

    sure = parser.add_argument_group("intervals and early stopping")
    sure.add_argument("--ci", choices=list(CI_CHOICES), default="data",
                      help="data: 95%% interval for the population the rows come from (default); repeats: "
                           "t-interval over repeats, for this data set only")
    sure.add_argument("--block-size", type=_positive_int, metavar="N",
                      help="rows per block of the --ci data bootstrap (default: chosen from the data)")
    sure.add_argument("--tolerance", type=_fraction, metavar="F",
                      help="stop once every interval's half-width is at most F x the largest importance")

    heads = parser.add_argument_group("outputs and padding")
    heads.add_argument("--output", action="append", metavar="HEAD",
                       help="score only this output head (repeatable; default: all)")
    heads.add_argument("--per-output", action="store_true",
                       help="importance per output head and per column of a regression head")
    padding = heads.add_mutually_exclusive_group()
    padding.add_argument("--mask-value", type=_finite_float, metavar="V",
                         help="padding value of variable-length sequences (default: from a Keras Masking layer)")
    padding.add_argument("--no-mask", action="store_true", help="no padding, even where the model has a Masking layer")


def _add_run_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="importance of the inputs of a saved Keras model",
        description="Perturbation importance of the inputs of a saved Keras model on data from files.",
        epilog=_RUN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_file_options(parser)
    _add_importance_options(parser)
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


# --- demo --------------------------------------------------------------------------------------------

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
    print(f"Permutation importance (increase of mse, {result.importances.shape[1]} repeats, 95% data interval, "
          "p-values):")
    print(_ranking_table(result))
    top = result.to_frame()["feature"].head(len(demo.true_drivers)).tolist()
    found = "yes" if set(top) == set(demo.true_drivers) else "NO"
    lag = LAGS["advertising"]
    print(f"True drivers: {', '.join(demo.true_drivers)} (advertising acts {lag} days later); ranked first: {found}")
    print(f"Most important (time step, feature) cells (time step {WINDOW - 1} is the target's day):")
    print(_ranking_table(demo.cells, max_rows=4, csv_name="importance_cells.csv"))
    print("Wrote " + ", ".join(str(path) for path in paths))


# --- run: option combinations that cannot work (usage errors) ------------------------------------------

def _given(option: str, items) -> str:
    return " ".join(f"{option} {item.text}" for item in items) if items else f"no {option}"


def _files_problem(args) -> str | None:
    """Outputs that would replace an input or each other, or have the wrong suffix."""
    from .io import PLOT_SUFFIXES, same_file

    inputs = [("--model", args.model)] + [
        (option, item.value) for option in ("--x", "--y", "--reference") for item in getattr(args, option[2:]) or ()
    ]
    outputs = [(option, path) for option, path in (("--out", args.out), ("--plot", args.plot)) if path]
    if args.plot is not None and same_file(args.out, args.plot):
        return f"--plot: {args.plot} is also the --out file; give the plot its own file name (e.g. importance.png)"
    for out_option, out_path in outputs:
        for in_option, in_path in inputs:
            if same_file(out_path, in_path):
                return f"{out_option}: {out_path} is the {in_option} input file; choose another name for the output"
    if suffix(args.out) != ".csv":
        return f"--out: {args.out} must be a .csv file name (the result table is written as CSV)"
    if args.plot is not None and suffix(args.plot) not in PLOT_SUFFIXES:
        return f"--plot: {args.plot} must end in {', '.join(PLOT_SUFFIXES)} (the suffix gives the image format)"
    for option in ("x", "y", "reference"):
        header, items = getattr(args, f"{option}_header"), getattr(args, option) or []
        if header is not None and not any(suffix(item.value) == ".csv" for item in items):
            flag = f"--{'' if header else 'no-'}{option}-header"
            return f"{flag} applies to a CSV file given with --{option}, got {_given(f'--{option}', items)}"
    return None


def _repeated(names) -> str | None:
    """The first name (in sorted order) given more than once, or None."""
    names = list(names)
    return next(iter(sorted({name for name in names if names.count(name) > 1})), None)


def _names_problem(option: str, items, several: str, form: str) -> str | None:
    """Several values of a repeatable option must each name their input/head, once."""
    unnamed = [item for item in items or () if item.name is None]
    if unnamed and len(items) > 1:
        return f"{option}: with several {several}, give each as {form}, got {option} {unnamed[0].text}"
    repeated = _repeated(item.name for item in items or ())
    return f"{option}: the name {repeated!r} is given more than once" if repeated else None


def _inputs_problem(args) -> str | None:
    """--x, --reference and --feature-names: named when there are several, each name once."""
    for option, items, several, form in (
        ("--x", args.x, "inputs", "NAME=FILE"),
        ("--reference", args.reference, "inputs", "NAME=FILE"),
        ("--feature-names", args.feature_names, "inputs", "INPUT=a,b,c"),
        ("--y", args.y, "output heads", "HEAD=FILE"),
    ):
        problem = _names_problem(option, items, several, form)
        if problem:
            return problem
    if args.reference and args.method != "conditional":
        return f"--reference is used by --method conditional only, got --method {args.method}"
    return None


def _heads_problem(args) -> str | None:
    """--loss and --output: one loss for all heads or one per --y head, each head once."""
    losses = args.loss or []
    if losses and not args.y:
        return (f"--loss {losses[0].text} needs --y (the true targets); without --y the importance is the "
                "prediction change")
    unnamed = [item for item in losses if item.name is None]
    if len(unnamed) > 1:
        return (f"--loss: give one LOSS for all output heads or HEAD=LOSS for each, got --loss {unnamed[0].text} "
                f"--loss {unnamed[1].text}")
    y_heads = [item.name for item in args.y or () if item.name]
    for item in losses:
        if item.name and not y_heads:
            return (f"--loss {item.text}: a loss per output head needs the targets per head, --y HEAD=FILE, "
                    f"got {_given('--y', args.y)}")
        if item.name and item.name not in y_heads:
            return f"--loss {item.text}: there is no --y {item.name}=FILE; the --y heads are {listed(y_heads)}"
    for option, heads in (("--loss", [item.name for item in losses if item.name]), ("--output", args.output or [])):
        repeated = _repeated(heads)
        if repeated:
            return f"{option}: the output head {repeated!r} is given more than once"
    return None


def _options_problem(args) -> str | None:
    if args.group and args.by == "timestep":
        return (
            "--group has no effect with --by timestep (each unit is one time step of all features); "
            "use --by feature or --by cell"
        )
    repeated = _repeated(name for name, _ in args.group or ())
    if repeated:
        return f"--group: the group name {repeated!r} is given more than once"
    if args.block_size is not None and args.ci != "data":
        return f"--block-size applies to --ci data (the block bootstrap over rows), got --ci {args.ci}"
    return None


def _run_usage_problem(args) -> str | None:
    """What is wrong with this combination of ``run`` options (a usage error), or None."""
    for check in (_files_problem, _inputs_problem, _heads_problem, _options_problem):
        problem = check(args)
        if problem:
            return problem
    return None


def _run_model(args) -> None:
    from .api import perturbation_importance
    from .io import check_writable, load_model, write_csv, write_figure

    # Refuse existing outputs before the (possibly long) computation, and again when writing.
    check_writable(args.out, "--out", overwrite=args.overwrite)
    if args.plot is not None:
        check_writable(args.plot, "--plot", overwrite=args.overwrite)
    files = runfiles.read_files(args)
    feature_names = runfiles.feature_names(args.feature_names, files.x)
    groups = runfiles.groups(args.group, feature_names, files.x)
    _note(f"loading {args.model} ...")
    model = load_model(args.model, unsafe=args.unsafe)
    X = runfiles.model_inputs(model, files.x, "--x")
    reference = runfiles.model_inputs(model, files.reference, "--reference") if files.reference else None
    _note(f"computing importance on {runfiles.shapes(files.x)} ({args.n_repeats} repeats per unit) ...")
    result = perturbation_importance(
        model,
        X,
        runfiles.targets(files.y),
        method=args.method,
        scale=args.scale,
        relative_scale=not args.absolute_scale,
        loss=runfiles.losses(args.loss, files.y),
        n_repeats=args.n_repeats,
        by=args.by,
        groups=groups,
        feature_names=feature_names,
        max_samples=args.max_samples,
        batch_size=args.batch_size,
        random_state=args.seed,
        progress=args.progress,
        ci=args.ci,
        block_size=args.block_size,
        tolerance=args.tolerance,
        output=args.output,
        per_output=args.per_output,
        mask_value=None if args.no_mask else ("auto" if args.mask_value is None else args.mask_value),
        reference=reference,
    )
    # Files first, then the terminal: a closed pipe (| head) must not cost the results.
    written = [write_csv(result.to_frame(), args.out, "--out", overwrite=args.overwrite)]
    if args.plot is not None:
        written.append(write_figure(result.plot(), args.plot, "--plot", overwrite=args.overwrite))
    print(result.summary())
    seed = result.settings["random_state"]
    print(f"Seed: {seed}" if args.seed is not None else f"Seed: {seed} (drawn; --seed {seed} repeats this run)")
    print(_ranking_table(result, csv_name=str(args.out)))
    print("Wrote " + " and ".join(str(path) for path in written))


# --- entry point -----------------------------------------------------------------------------------------


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
