"""Option combinations of an estimator's subcommand (``run``, ``shapley``) that cannot work: usage errors,
found before any file is read.

Outputs that would replace an input, files that must be named per input or head, losses per
head without targets per head, and the engine's own rules for settings that cannot go
together (:data:`pyimportance.settings.RULES`, in the command line's terms).
"""

from __future__ import annotations

from .. import terms
from ..sensitivity import BASELINES
from ..settings import RULES, rule_problem
from .runfiles import ROW_OPTIONS, given, header_flag, listed, suffix


def _given(option: str, items) -> str:
    return " ".join(f"{option} {item.text}" for item in items) if items else f"no {option}"


def _files_problem(args) -> str | None:
    """Outputs that would replace an input or each other, or have the wrong suffix."""
    from .files import MAP_SUFFIXES, PLOT_SUFFIXES, same_file

    inputs = [("--model", args.model)] + [
        (f"--{option}", item.value) for option in (*ROW_OPTIONS, "baselines") for item in given(args, option)
        if option != "baselines" or item.value not in BASELINES
    ]
    maps = getattr(args, "attributions", None)
    outputs = [(option, path) for option, path in (("--out", args.out), ("--plot", args.plot),
                                                   ("--attributions", maps)) if path]
    if args.plot is not None and same_file(args.out, args.plot):
        return f"--plot: {args.plot} is also the --out file; give the plot its own file name (e.g. importance.png)"
    for other_option, other_path in outputs[:-1] if maps else ():
        if same_file(maps, other_path):
            return f"--attributions: {maps} is also the {other_option} file; give the map its own file name (maps.npy)"
    for out_option, out_path in outputs:
        for in_option, in_path in inputs:
            if same_file(out_path, in_path):
                return f"{out_option}: {out_path} is the {in_option} input file; choose another name for the output"
    if suffix(args.out) != ".csv":
        return f"--out: {args.out} must be a .csv file name (the result table is written as CSV)"
    if args.plot is not None and suffix(args.plot) not in PLOT_SUFFIXES:
        return f"--plot: {args.plot} must end in {', '.join(PLOT_SUFFIXES)} (the suffix gives the image format)"
    if maps is not None and suffix(maps) not in MAP_SUFFIXES:
        return (f"--attributions: {maps} must end in .npy (one input's map) or .npz (one array per input, with "
                "the rows and convergence deltas)")
    for option in ROW_OPTIONS:
        header, items = header_flag(args, option), given(args, option)
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
        ("--reference", given(args, "reference"), "inputs", "NAME=FILE"),
        ("--feature-names", args.feature_names, "inputs", "INPUT=a,b,c"),
        ("--y", args.y, "output heads", "HEAD=FILE"),
    ):
        problem = _names_problem(option, items, several, form)
        if problem:
            return problem
    return None


def _heads_problem(args) -> str | None:
    """--loss and --output: one loss for all heads or one per --y head, each head once."""
    losses = args.loss or []
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


#: A setting's value for the rules, from the options alone, where it is not the option of its own name.
_RULE_VALUES = {
    "loss": lambda args: args.loss[0].text if args.loss else None,
    "groups": lambda args: args.group or None,
    "reference": lambda args: given(args, "reference") or None,
}


def _settings_problem(args) -> str | None:
    """The engine's rules for settings that cannot go together (:data:`pyimportance.settings.RULES`), in the
    command line's terms: one rule, one answer, whether it comes from Python, R or here. The values are those
    of the settings the subcommand's estimator offers (and y): a rule naming another is skipped."""
    ruled = {name for rule in RULES for name in rule.names}
    values = {"y": args.y or None}
    for setting in args.entry.offered("cli"):
        if setting.name in ruled:
            reader = _RULE_VALUES.get(setting.name)
            values[setting.name] = reader(args) if reader else getattr(args, setting.name)
    with terms.speaking(terms.CLI):
        return rule_problem(values)


def _groups_problem(args) -> str | None:
    repeated = _repeated(name for name, _ in args.group or ())
    return f"--group: the group name {repeated!r} is given more than once" if repeated else None


def run_usage_problem(args) -> str | None:
    """What is wrong with this combination of an estimator subcommand's options (a usage error), or None."""
    for check in (_files_problem, _inputs_problem, _settings_problem, _heads_problem, _groups_problem):
        problem = check(args)
        if problem:
            return problem
    return None
