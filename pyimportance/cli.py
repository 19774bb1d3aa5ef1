"""The ``pyimportance`` command: argument parsing, then one call into the library.

``pyimportance demo`` trains a small LSTM on the embedded data set and ranks its inputs;
``pyimportance run`` computes the importance for a saved Keras model and data files.
Exit status: 0 on success, 2 for usage errors, 1 for any other error (one line on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .perturbations import PERTURBATIONS
from .scoring import LOSSES
from .units import BY_CHOICES

PROG = "pyimportance"
MAX_TABLE_ROWS = 20
# Errors users cause (bad files, bad options, a model that fails): one line, no traceback.
_USER_ERRORS = (ValueError, TypeError, OSError, ImportError, RuntimeError)

_RUN_EXAMPLES = """\
examples:
  pyimportance run --model model.keras --x X.npy --y y.npy --out importance.csv --plot importance.png
  pyimportance run --model model.keras --x X.npy --by cell --method permute --n-repeats 10 --out cells.csv
  pyimportance run --model model.keras --x data.npz --y data.npz --group weather=temp,humidity --out g.csv

X: .npy or .npz (2D or 3D: samples x timesteps x features) or .csv (2D only; a header row gives
feature names). A .npz holds one array or arrays named x and y. Files are never unpickled.
"""


def _comma_list(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return items


def _group(text: str) -> tuple[str, list[str]]:
    name, sep, members = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=feature1,feature2, got {text!r}")
    return name.strip(), _comma_list(members)


def _count_or_fraction(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a count or a fraction in (0, 1], got {text!r}") from None


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
    parser.add_argument("--seed", type=int, default=42, metavar="N",
                        help="seed for training and perturbations (default: 42)")
    parser.add_argument("--epochs", type=int, default=10, metavar="N", help="training epochs (default: 10)")
    parser.add_argument("--n-repeats", type=int, default=5, metavar="N", help="permutations per feature (default: 5)")
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
    files.add_argument("--out", required=True, metavar="CSV", help="result table (CSV) to write")
    files.add_argument("--plot", metavar="PNG", help="also write a plot (PNG)")
    files.add_argument("--overwrite", action="store_true", help="replace existing output files")
    files.add_argument("--unsafe", action="store_true",
                       help="allow Lambda layers in the model file (runs their code: trusted files only)")

    options = parser.add_argument_group("importance options")
    options.add_argument("--method", choices=list(PERTURBATIONS), default="gaussian", metavar="NAME",
                         help=f"how a unit is perturbed: {', '.join(PERTURBATIONS)} (default: gaussian)")
    options.add_argument("--scale", type=float, default=0.1, metavar="S",
                         help="noise sd for gaussian/uniform, as a fraction of each feature's sd (default: 0.1)")
    options.add_argument("--absolute-scale", action="store_true", help="--scale is an absolute sd")
    options.add_argument("--loss", choices=list(LOSSES), metavar="NAME",
                         help=f"loss, needs --y: {', '.join(LOSSES)} (default: mse)")
    options.add_argument("--n-repeats", type=int, default=5, metavar="N", help="perturbations per unit (default: 5)")
    options.add_argument("--by", choices=list(BY_CHOICES), default="feature", metavar="UNIT",
                         help="unit: feature, timestep or cell (default: feature)")
    options.add_argument("--group", type=_group, action="append", metavar="NAME=F1,F2",
                         help="perturb these features together as NAME (repeatable)")
    options.add_argument("--feature-names", type=_comma_list, metavar="A,B,C",
                         help="feature names (default: CSV header or x1, x2, ...)")
    options.add_argument("--max-samples", type=_count_or_fraction, metavar="N",
                         help="evaluate on a random subset: a count or a fraction in (0, 1]")
    options.add_argument("--batch-size", type=int, metavar="N", help="rows per model call (never changes the result)")
    options.add_argument("--seed", type=int, metavar="N", help="random seed (default: fresh; the seed used is printed)")
    options.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                         help="show a progress bar (default: when stderr is a terminal)")
    parser.set_defaults(command=_run_model)


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


def _run_demo(args) -> None:
    from .datasets import LAGS
    from .demo import WINDOW, run_demo
    from .io import write_csv, write_figure

    out_dir = Path(args.out)
    _note(f"training a small LSTM on the embedded sales data ({args.epochs} epochs, seed {args.seed}) ...")
    demo = run_demo(seed=args.seed, epochs=args.epochs, n_repeats=args.n_repeats, progress=args.progress)
    result = demo.result
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
    written = [
        write_csv(result.to_frame(), out_dir / "importance.csv", overwrite=True),
        write_figure(result.plot(), out_dir / "importance.png", overwrite=True),
        write_csv(demo.cells.to_frame(), out_dir / "importance_cells.csv", overwrite=True),
        write_figure(demo.cells.plot(), out_dir / "importance_cells.png", overwrite=True),
    ]
    print("Wrote " + ", ".join(str(path) for path in written))


def _load_inputs(args):
    from .io import load_array

    x_file = load_array(args.x, "--x", role="x")
    y_values = None if args.y is None else load_array(args.y, "--y", role="y").values
    if y_values is not None and y_values.ndim == 2 and y_values.shape[1] == 1:
        y_values = y_values[:, 0]
    feature_names = args.feature_names or x_file.column_names
    return x_file.values, y_values, feature_names


def _groups(pairs) -> dict[str, list[str]] | None:
    if not pairs:
        return None
    groups: dict[str, list[str]] = {}
    for name, members in pairs:
        if name in groups:
            raise ValueError(f"--group: the group name {name!r} is given more than once")
        groups[name] = members
    return groups


def _run_model(args) -> None:
    from .api import perturbation_importance
    from .io import check_writable, load_model, write_csv, write_figure

    # Refuse existing outputs before the (possibly long) computation, and again when writing.
    check_writable(args.out, "--out", overwrite=args.overwrite)
    if args.plot is not None:
        check_writable(args.plot, "--plot", overwrite=args.overwrite)
    X, y, feature_names = _load_inputs(args)
    _note(f"loading {args.model} ...")
    model = load_model(args.model, unsafe=args.unsafe)
    _note(f"computing importance on X of shape {tuple(X.shape)} ({args.n_repeats} repeats per unit) ...")
    result = perturbation_importance(
        model,
        X,
        y,
        method=args.method,
        scale=args.scale,
        relative_scale=not args.absolute_scale,
        loss=args.loss,
        n_repeats=args.n_repeats,
        by=args.by,
        groups=_groups(args.group),
        feature_names=feature_names,
        max_samples=args.max_samples,
        batch_size=args.batch_size,
        random_state=args.seed,
        progress=args.progress,
    )
    settings = result.settings
    print(
        f"Importance by {settings['by']} ({settings['method']}, {settings['loss']}, {settings['n_repeats']} repeats, "
        f"{settings['n_samples']} samples, seed {settings['random_state']}); baseline {result.baseline_score:.6g}"
    )
    print(_ranking_table(result, csv_name=str(args.out)))
    written = [write_csv(result.to_frame(), args.out, "--out", overwrite=args.overwrite)]
    if args.plot is not None:
        written.append(write_figure(result.plot(), args.plot, "--plot", overwrite=args.overwrite))
    print("Wrote " + " and ".join(str(path) for path in written))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter off the terminal
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:  # --help, --version (0) and usage errors (2)
        return int(exit_request.code or 0)
    try:
        args.command(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except _USER_ERRORS as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
