"""The ``pyimportance`` argument parser: the commands, their options and how an option's text is read.

Options that set the run's settings take their names and defaults from
:mod:`pyimportance.settings` and :mod:`pyimportance.terms` (``random_state`` is ``--seed``,
``groups`` is ``--group``); files and the like are the command line's own. An option's value is
checked as it is read (``--n-repeats 0`` is argparse's usage error); combinations are
:mod:`.usage`'s.
"""

from __future__ import annotations

import argparse
import math
import os

from .. import __version__, terms
from ..data.units import BY_CHOICES
from ..methods.perturbations import METHODS
from ..scoring.losses import LOSSES, loss_names
from ..settings import DEFAULTS, SHAPLEY_DEFAULTS
from ..stats.intervals import CI_CHOICES, level_text
from .runfiles import Named

PROG = "pyimportance"

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



def _flag(setting: str) -> str:
    """The command line's option for one of the run's settings (``random_state`` -> ``--seed``)."""
    return terms.CLI.name_of(setting)


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
    parser.add_argument("--n-repeats", type=_positive_int, default=DEFAULTS["n_repeats"], metavar="N",
                        help=f"permutations per feature (default: {DEFAULTS['n_repeats']})")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar (default: when stderr is a terminal)")
    parser.set_defaults(command="demo")


def _add_file_options(parser, shapley: bool = False) -> None:
    files = parser.add_argument_group("input and output files")
    files.add_argument("--model", required=True, metavar="FILE", help="Keras model file (.keras, or legacy .h5)")
    files.add_argument("--x", required=True, action="append", type=_named_file, metavar="[NAME=]FILE",
                       help="evaluation inputs X (.npy, .npz or .csv); NAME=FILE for each input of a model with "
                            "several (repeatable)")
    files.add_argument("--y", action="append", type=_named_file, metavar="[HEAD=]FILE",
                       help="true targets y (.npy, .npz or .csv); HEAD=FILE for each output head (repeatable); "
                            "without --y: mean |change of prediction|")
    if shapley:  # no conditional method: no --reference
        parser.set_defaults(reference=None, reference_header=None)
    else:
        files.add_argument("--reference", action="append", type=_named_file, metavar="[NAME=]FILE",
                           help="rows the conditional model is fitted on (--method conditional; default: the X "
                                "rows); NAME=FILE per input (repeatable)")
    for option, what in (("x", "--x"), ("y", "--y")) + (() if shapley else (("reference", "--reference"),)):
        files.add_argument(f"--{option}-header", action=argparse.BooleanOptionalAction, default=None,
                           help=f"the first row of each {what} CSV is a header / is data (default: detect, see below)")
    files.add_argument("--out", required=True, metavar="CSV", help="result table to write (.csv)")
    files.add_argument("--plot", metavar="FILE", help="also write a plot (.png, .pdf or .svg)")
    files.add_argument("--overwrite", action="store_true", help="replace existing output files")
    files.add_argument("--unsafe", action="store_true",
                       help="allow Lambda layers in the model file (runs their code: trusted files only)")


def _add_importance_options(parser, shapley: bool = False) -> None:
    """The run's options; with ``shapley``, those of Shapley importance (no method, its own --n-repeats and
    --n-draws: :data:`pyimportance.settings.SHAPLEY_SETTINGS`)."""
    options = parser.add_argument_group("importance options")
    if shapley:
        parser.set_defaults(method="shapley", scale=None, absolute_scale=False)
    else:
        options.add_argument(_flag("method"), choices=list(METHODS), default=DEFAULTS["method"], metavar="NAME",
                             help=f"how a unit is perturbed: {', '.join(METHODS)} (default: {DEFAULTS['method']})")
        options.add_argument(_flag("scale"), type=_positive_float, default=DEFAULTS["scale"], metavar="S",
                             help="noise sd for gaussian/uniform, as a fraction of each feature's sd "
                                  f"(default: {DEFAULTS['scale']})")
        # relative_scale (default True) is the command line's --absolute-scale, off by default
        options.add_argument("--absolute-scale", action="store_true", help="--scale is an absolute sd")
    options.add_argument(_flag("loss"), action="append", type=_named_loss, metavar="[HEAD=]NAME",
                         help=f"loss, needs --y: {', '.join(LOSSES)} or a Keras loss name (default: mse); "
                              "HEAD=NAME for one output head (repeatable)")
    if shapley:
        options.add_argument(_flag("n_repeats"), type=_positive_int, default=SHAPLEY_DEFAULTS["n_repeats"],
                             metavar="N", help="unit orders per row, in antithetic pairs (default: "
                                               f"{SHAPLEY_DEFAULTS['n_repeats']})")
        options.add_argument(_flag("n_draws"), type=_positive_int, default=SHAPLEY_DEFAULTS["n_draws"], metavar="K",
                             help="rows averaged over per coalition, at least 2 (default: "
                                  f"{SHAPLEY_DEFAULTS['n_draws']})")
        options.add_argument(_flag("imputer"), choices=["marginal", "conditional"],
                             default=SHAPLEY_DEFAULTS["imputer"],
                             help="absent units from other rows (marginal, default) or drawn given the known ones "
                                  "from a Gaussian model of the inputs (conditional)")
    else:
        options.add_argument(_flag("n_repeats"), type=_positive_int, default=DEFAULTS["n_repeats"], metavar="N",
                             help=f"perturbations per unit (default: {DEFAULTS['n_repeats']})")
    options.add_argument(_flag("by"), choices=list(BY_CHOICES), default=DEFAULTS["by"], metavar="UNIT",
                         help=f"unit: feature, timestep or cell (default: {DEFAULTS['by']})")
    options.add_argument(_flag("groups"), type=_group, action="append", metavar="NAME=F1,F2",
                         help="perturb these features (by name) together as NAME (repeatable)")
    options.add_argument(_flag("feature_names"), type=_named_names, action="append", metavar="[INPUT=]A,B,C",
                         help="feature names (default: CSV header or x1, x2, ...); INPUT=A,B,C for each input "
                              "of a model with several")
    options.add_argument(_flag("max_samples"), type=_count_or_fraction, metavar="N",
                         help="evaluate on a random subset: a count or a fraction in (0, 1]; with --tolerance, "
                              "the most rows to use")
    options.add_argument(_flag("batch_size"), type=_positive_int, metavar="N",
                         help="rows per model call (never changes the result beyond float32 rounding)")
    options.add_argument(_flag("random_state"), type=_seed, metavar="N",
                         help="random seed (default: fresh; the seed used is printed)")
    options.add_argument(_flag("progress"), action=argparse.BooleanOptionalAction, default=DEFAULTS["progress"],
                         help="show a progress bar (default: when stderr is a terminal)")

    sure = parser.add_argument_group("intervals and early stopping")
    sure.add_argument(_flag("ci"), choices=list(CI_CHOICES), default=DEFAULTS["ci"],
                      help=f"data: {level_text().replace('%', '%%')} interval for the population the rows come "
                           "from (default); repeats: t-interval over repeats, for this data set only")
    sure.add_argument(_flag("block_size"), type=_positive_int, metavar="N",
                      help="rows per block of the --ci data bootstrap (default: chosen from the data)")
    sure.add_argument(_flag("tolerance"), type=_fraction, metavar="F",
                      help="stop once every interval's half-width is at most F x the largest importance")

    heads = parser.add_argument_group("outputs and padding")
    heads.add_argument(_flag("output"), action="append", metavar="HEAD",
                       help="score only this output head (repeatable; default: all)")
    heads.add_argument(_flag("per_output"), action="store_true",
                       help="importance per output head and per column of a regression head")
    # mask_value (default "auto": from the model) is --mask-value V, or --no-mask for None
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
    parser.set_defaults(command="run", parser=parser)


_SHAPLEY_EXAMPLES = """\
examples:
  pyimportance shapley --model model.keras --x X.npy --y y.npy --out shapley.csv --plot shapley.png
  pyimportance shapley --model model.keras --x X.npy --y y.npy --by cell --tolerance 0.05 --out cells.csv

Files, CSV headers ("see below") and exit statuses as for 'pyimportance run' (see its --help).
"""


def _add_shapley_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "shapley",
        help="Shapley global importance (SAGE) of the inputs of a saved Keras model",
        description="Shapley global importance (SAGE) of the inputs of a saved Keras model on data from files: "
                    "each input's fair share of the loss the model explains (the values add up to it).",
        epilog=_SHAPLEY_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_file_options(parser, shapley=True)
    _add_importance_options(parser, shapley=True)
    parser.set_defaults(command="shapley", parser=parser)


def build_parser() -> argparse.ArgumentParser:
    """The ``pyimportance`` argument parser (subcommands ``demo``, ``run`` and ``shapley``)."""
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
    _add_shapley_parser(subparsers)
    return parser
