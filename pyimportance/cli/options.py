"""The ``pyimportance`` argument parser: the commands, their options and how an option's text is read.

Each estimator of :data:`pyimportance.registry.ESTIMATORS` is one subcommand (``entry.command``),
with an option for each setting its entry offers the command line (``entry.offered("cli")``), added
by that setting's builder in :data:`_OPTIONS`: its name from :mod:`pyimportance.terms`
(``random_state`` is ``--seed``, ``groups`` is ``--group``), its default from ``entry.defaults()``
and its choices from ``entry.choices``. Two settings are spelled the command line's own way:
``relative_scale`` is ``--absolute-scale`` and ``mask_value`` is ``--mask-value``/``--no-mask``.
The files and the like are the command line's own. An option's value is checked as it is read
(``--n-repeats 0`` is argparse's usage error); combinations are :mod:`.usage`'s.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from typing import Any, NamedTuple

from .. import __version__, terms
from ..registry import ESTIMATORS, EstimatorEntry
from ..scoring.losses import SHOWN_LOSSES, loss_names
from ..sensitivity import BASELINES
from ..settings import DEFAULTS
from ..stats.intervals import level_text
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


_SHAPLEY_EXAMPLES = """\
examples:
  pyimportance shapley --model model.keras --x X.npy --y y.npy --out shapley.csv --plot shapley.png
  pyimportance shapley --model model.keras --x X.npy --y y.npy --by cell --tolerance 0.05 --out cells.csv

Files, CSV headers ("see below") and exit statuses as for 'pyimportance run' (see its --help).
"""


_SENSITIVITY_EXAMPLES = """\
examples:
  pyimportance sensitivity --model model.keras --x X.npy --out sensitivity.csv --plot sensitivity.png
  pyimportance sensitivity --model model.keras --x X.npy --by cell --attributions maps.npy --out cells.csv
  pyimportance sensitivity --model model.keras --x X.npy --y y.npy --method derivative --out derivative.csv

--attributions writes the per-row map of the rows the run kept (all of them, up to the byte cap): a .npy
array rows x time steps x features for a model with one input; a .npz with one such array per input
(by input name), 'rows' (their 0-based positions in X) and 'convergence_delta' (integrated gradients:
the sum of a row's attributions minus f(x) - f(x0)). Files, CSV headers and exit statuses as for
'pyimportance run' (see its --help).
"""


class CommandTexts(NamedTuple):
    """What an estimator's subcommand says: its help line, description and epilog; the setting that counts its
    work (``count``) and how the progress note words it (``counted``); and the help of each option whose meaning
    is the estimator's own (``helps``, by setting name; argparse's ``%(default)s`` and ``%(choices)s`` work)."""

    help: str
    description: str
    epilog: str
    count: str  # the setting the progress note counts: "n_repeats"
    counted: str  # what one of it is, in the progress note: "2 repeats per unit"
    helps: dict[str, str]


#: By ``entry.command`` (:mod:`pyimportance.registry`).
TEXTS: dict[str, CommandTexts] = {
    "run": CommandTexts(
        help="importance of the inputs of a saved Keras model",
        description="Perturbation importance of the inputs of a saved Keras model on data from files.",
        epilog=_RUN_EXAMPLES,
        count="n_repeats",
        counted="repeats per unit",
        helps={"n_repeats": "perturbations per unit (default: %(default)s)",
               "method": "how a unit is perturbed: %(choices)s (default: %(default)s)"},
    ),
    "shapley": CommandTexts(
        help="Shapley global importance (SAGE) of the inputs of a saved Keras model",
        description="Shapley global importance (SAGE) of the inputs of a saved Keras model on data from files: "
                    "each input's fair share of the loss the model explains (the values add up to it).",
        epilog=_SHAPLEY_EXAMPLES,
        count="n_repeats",
        counted="unit orders per row",
        helps={"n_repeats": "unit orders per row, in antithetic pairs (default: %(default)s)"},
    ),
    "sensitivity": CommandTexts(
        help="sensitivity importance (gradient attributions) of the inputs of a saved Keras model",
        description="Sensitivity importance of the inputs of a saved Keras model on data from files, read from the "
                    "model's gradients: how strongly the output (without --y) or the loss (with --y) moves with "
                    "each input, per row (--attributions) and over the rows.",
        epilog=_SENSITIVITY_EXAMPLES,
        count="n_steps",
        counted="path points per row (integrated gradients)",
        helps={"method": "integrated_gradients: each cell's (x - x0) times the mean gradient along the straight "
                         "path from the baseline x0 to x; derivative: (d output / d cell)^2 x var(cell) "
                         "(default: %(default)s)",
               "n_steps": "points of the path per row, integrated_gradients only (default: %(default)s)",
               "groups": "sum these features' attributions (by name) as one unit NAME (repeatable)",
               "batch_size": "path points per gradient call (never changes the result beyond float32 rounding)",
               "ci": "data: the interval for the population the rows come from (the only one: nothing is random)"},
    ),
}


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


def _rows(text: str) -> list[int]:
    """Comma-separated 0-based row positions."""
    items = [item.strip() for item in text.split(",")]
    if not all(item.isdigit() for item in items):
        raise argparse.ArgumentTypeError(f"expected comma-separated row positions (0-based), got {text!r}")
    return [int(item) for item in items]


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
            f"unknown loss {loss.strip()!r}; use one of {', '.join(SHOWN_LOSSES)} (or a Keras loss name such as "
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
    parser.set_defaults(command="demo", entry=None)


# ----------------------------------------------------------------------------- the estimators' subcommands


class Groups(NamedTuple):
    """The option groups of an estimator's subcommand (argparse's argument groups), in the order ``--help`` shows
    them."""

    files: Any
    importance: Any
    intervals: Any
    outputs: Any


def _groups(parser) -> Groups:
    return Groups(parser.add_argument_group("input and output files"),
                  parser.add_argument_group("importance options"),
                  parser.add_argument_group("intervals and early stopping"),
                  parser.add_argument_group("outputs and padding"))


def _header_option(group, option: str) -> None:
    """--OPTION-header/--no-OPTION-header: whether the first row of each CSV given with --OPTION is a header."""
    group.add_argument(f"--{option}-header", action=argparse.BooleanOptionalAction, default=None,
                       help=f"the first row of each --{option} CSV is a header / is data (default: detect, see below)")


def _add_input_files(files) -> None:
    files.add_argument("--model", required=True, metavar="FILE", help="Keras model file (.keras, or legacy .h5)")
    files.add_argument("--x", required=True, action="append", type=_named_file, metavar="[NAME=]FILE",
                       help="evaluation inputs X (.npy, .npz or .csv); NAME=FILE for each input of a model with "
                            "several (repeatable)")
    files.add_argument("--y", action="append", type=_named_file, metavar="[HEAD=]FILE",
                       help="true targets y (.npy, .npz or .csv); HEAD=FILE for each output head (repeatable); "
                            "without --y: mean |change of prediction|")
    _header_option(files, "x")
    _header_option(files, "y")


def _add_output_files(files) -> None:
    files.add_argument("--out", required=True, metavar="CSV", help="result table to write (.csv)")
    files.add_argument("--plot", metavar="FILE", help="also write a plot (.png, .pdf or .svg)")
    files.add_argument("--overwrite", action="store_true", help="replace existing output files")
    files.add_argument("--unsafe", action="store_true",
                       help="allow Lambda layers in the model file (runs their code: trusted files only)")


def has_row_maps(entry: EstimatorEntry) -> bool:
    """Whether ``entry``'s results carry per-row attribution maps (``plot_attributions``): its subcommand has
    --attributions."""
    return hasattr(entry.result_class, "plot_attributions")


def _add_map_file(files) -> None:
    files.add_argument("--attributions", metavar="FILE",
                       help="also write the per-row attribution map: .npy (one input) or .npz (see below)")


def _or_list(names) -> str:
    """``a, b or c``."""
    names = list(names)
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


#: What adds a setting's option to a subcommand: ``builder(groups, entry, name)``.
Builder = Callable[[Groups, EstimatorEntry, str], None]


def _add(group, entry: EstimatorEntry, name: str, **options) -> None:
    """The option of setting ``name``: its flag from :mod:`pyimportance.terms`, its default and choices from
    ``entry``, its help the estimator's own where its subcommand's texts have one."""
    if name in entry.choices:
        options["choices"] = list(entry.choices[name])
    options["help"] = TEXTS[entry.command].helps.get(name, options.get("help"))
    group.add_argument(_flag(name), default=entry.defaults()[name], **options)


def _plain(group: str, **options) -> Builder:
    """The builder of an option that is argparse's ``options`` in ``groups.<group>`` (help texts may say
    ``%(default)s`` and ``%(choices)s``)."""

    def add(groups: Groups, entry: EstimatorEntry, name: str) -> None:
        _add(getattr(groups, group), entry, name, **options)

    return add


def _relative_scale(groups: Groups, entry: EstimatorEntry, name: str) -> None:
    # relative_scale (default True) is the command line's --absolute-scale, off by default
    groups.importance.add_argument("--absolute-scale", action="store_true", default=not entry.defaults()[name],
                                   help="--scale is an absolute sd")


def _by(groups: Groups, entry: EstimatorEntry, name: str) -> None:
    _add(groups.importance, entry, name, metavar="UNIT",
         help=f"unit: {_or_list(entry.choices[name])} (default: %(default)s)")


def _mask_value(groups: Groups, entry: EstimatorEntry, name: str) -> None:
    # mask_value (default "auto": from the model) is --mask-value V, or --no-mask for None
    padding = groups.outputs.add_mutually_exclusive_group()
    padding.add_argument("--mask-value", type=_finite_float, metavar="V",
                         help="padding value of variable-length sequences (default: from a Keras Masking layer)")
    padding.add_argument("--no-mask", action="store_true", help="no padding, even where the model has a Masking layer")


def _reference(groups: Groups, entry: EstimatorEntry, name: str) -> None:
    _add(groups.files, entry, name, action="append", type=_named_file, metavar="[NAME=]FILE",
         help="rows the conditional model is fitted on (--method conditional; default: the X rows); NAME=FILE per "
              "input (repeatable)")
    _header_option(groups.files, "reference")


def _baseline(text: str) -> Named:
    """mean, zeros, or [NAME=]FILE: the rows the paths start from."""
    if text.strip() in BASELINES:  # a baseline named in words; any other value is a file
        return Named(None, text.strip(), text)
    return _named_file(text)


def _baselines(groups: Groups, entry: EstimatorEntry, name: str) -> None:
    # "mean" (the default), "zeros", or the rows of a file (NAME=FILE per input of a model with several)
    groups.importance.add_argument(
        _flag(name), action="append", type=_baseline, metavar="mean|zeros|[NAME=]FILE",
        help=f"where each path starts: the mean row, zeros, or the one row of a file (.npy, .npz or .csv); "
             f"NAME=FILE per input of a model with several (default: {entry.defaults()[name]})")


#: The option of each setting the command line can offer, by the setting's name.
_OPTIONS: dict[str, Builder] = {
    "method": _plain("importance", metavar="NAME", help="%(choices)s (default: %(default)s)"),
    "scale": _plain("importance", type=_positive_float, metavar="S",
                    help="noise sd for gaussian/uniform, as a fraction of each feature's sd (default: %(default)s)"),
    "relative_scale": _relative_scale,
    "loss": _plain("importance", action="append", type=_named_loss, metavar="[HEAD=]NAME",
                   help=f"loss, needs --y: {', '.join(SHOWN_LOSSES)} or a Keras loss name (default: mse); HEAD=NAME "
                        "for one output head (repeatable)"),
    "n_repeats": _plain("importance", type=_positive_int, metavar="N", help="repeats per unit (default: %(default)s)"),
    "n_draws": _plain("importance", type=_positive_int, metavar="K",
                      help="rows averaged over per coalition, at least 2 (default: %(default)s)"),
    "n_steps": _plain("importance", type=_positive_int, metavar="N", help="path points per row (default: %(default)s)"),
    "baselines": _baselines,
    "attribution_rows": _plain("importance", type=_rows, metavar="I,J,...",
                               help="rows of X (0-based) whose maps the result keeps and --attributions writes "
                                    "(default: every evaluated row, while the maps fit in 256 MiB)"),
    "imputer": _plain("importance", help="absent units from other rows (marginal, default) or drawn given the known "
                                         "ones from a Gaussian model of the inputs (conditional)"),
    "by": _by,
    "groups": _plain("importance", type=_group, action="append", metavar="NAME=F1,F2",
                     help="perturb these features (by name) together as NAME (repeatable)"),
    "feature_names": _plain("importance", type=_named_names, action="append", metavar="[INPUT=]A,B,C",
                            help="feature names (default: CSV header or x1, x2, ...); INPUT=A,B,C for each input of a "
                                 "model with several"),
    "max_samples": _plain("importance", type=_count_or_fraction, metavar="N",
                          help="evaluate on a random subset: a count or a fraction in (0, 1]; with --tolerance, the "
                               "most rows to use"),
    "sample_weight": _plain("files", metavar="FILE",
                            help="a weight per row of --x (.npy, or a one-column .csv): every score is the weighted "
                                 "mean sum(w * loss) / sum(w)"),
    "batch_size": _plain("importance", type=_positive_int, metavar="N",
                         help="rows per model call (never changes the result beyond float32 rounding)"),
    "random_state": _plain("importance", type=_seed, metavar="N",
                           help="random seed (default: fresh; the seed used is printed)"),
    "progress": _plain("importance", action=argparse.BooleanOptionalAction,
                       help="show a progress bar (default: when stderr is a terminal)"),
    "ci": _plain("intervals", help=f"data: {level_text().replace('%', '%%')} interval for the population the rows "
                                   "come from (default); repeats: t-interval over repeats, for this data set only"),
    "block_size": _plain("intervals", type=_positive_int, metavar="N",
                         help="rows per block of the --ci data bootstrap (default: chosen from the data)"),
    "tolerance": _plain("intervals", type=_fraction, metavar="F",
                        help="stop once every interval's half-width is at most F x the largest importance"),
    "output": _plain("outputs", action="append", metavar="HEAD",
                     help="score only this output head (repeatable; default: all)"),
    "per_output": _plain("outputs", action="store_true",
                         help="importance per output head and per column of a regression head"),
    "mask_value": _mask_value,
    "reference": _reference,
}


def _add_estimator_parser(subparsers, entry: EstimatorEntry) -> None:
    """``pyimportance ENTRY.COMMAND``: the files, then an option for each setting the entry offers the command line."""
    text = TEXTS[entry.command]
    parser = subparsers.add_parser(entry.command, help=text.help, description=text.description, epilog=text.epilog,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    groups = _groups(parser)
    _add_input_files(groups.files)
    for setting in entry.offered("cli"):
        _OPTIONS[setting.name](groups, entry, setting.name)
    _add_output_files(groups.files)
    if has_row_maps(entry):
        _add_map_file(groups.files)
    parser.set_defaults(command=entry.command, entry=entry, parser=parser)


def build_parser() -> argparse.ArgumentParser:
    """The ``pyimportance`` argument parser: ``demo`` and one subcommand per estimator (``run``, ``shapley``)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Perturbation (permutation) variable importance for Keras models, above all LSTM/GRU.",
        epilog="Run 'pyimportance COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    subparsers.required = True
    _add_demo_parser(subparsers)
    for entry in ESTIMATORS:
        _add_estimator_parser(subparsers, entry)
    return parser
