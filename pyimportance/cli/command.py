"""The ``pyimportance`` command: argument parsing, then one call into the library.

``pyimportance demo`` trains a small LSTM on the embedded data set and ranks its inputs; each
estimator of :data:`pyimportance.registry.ESTIMATORS` is a subcommand (``pyimportance run``: the
perturbation importance, ``pyimportance shapley``: the Shapley global importance, SAGE) that
computes it for a saved Keras model and data files, calling ``entry.function`` with the settings
its entry offers the command line, each read from the options by :data:`_READERS` (or the option
of its own name).
Exit status: 0 on success, 2 for usage errors (argparse's message, also for option combinations
that cannot work), 1 for any other error (one line ``pyimportance: error: ...`` on stderr), 130
when interrupted and 141 (quietly) when the reader of stdout has gone away, as for SIGPIPE;
output files are written before anything is printed, so a closed pipe never costs them.

The parser is :mod:`.options`' and the usage rules :mod:`.usage`'s; the files are read by
:mod:`.runfiles` (one file at a time by :mod:`.files`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..registry import ESTIMATORS
from ..sensitivity import BASELINES
from . import runfiles
from .options import PROG, TEXTS, build_parser
from .usage import run_usage_problem

MAX_TABLE_ROWS = 20
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a program killed by a closed pipe
# Errors users cause (bad files, bad options, a model that fails): one line, no traceback.
_USER_ERRORS = (ValueError, TypeError, OSError, ImportError, RuntimeError)


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
    from ..datasets import LAGS
    from .files import check_writable, import_keras, write_csv, write_figure

    out_dir = Path(args.out)
    paths = [out_dir / name for name in DEMO_FILES]
    for path in paths:  # before the training, as `run` does
        check_writable(path, "--out", overwrite=True)
    import_keras("the demo")
    from ..demo import WINDOW, run_demo

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


class _Sources:
    """What an estimator's settings are read from: the options, the files they name, and the model, loaded
    (with a note) when first needed, so that the options and files are checked before a long load."""

    def __init__(self, args, files) -> None:
        self.args, self.files = args, files

    @functools.cached_property
    def feature_names(self):
        return runfiles.feature_names(self.args.feature_names, self.files.x)

    @functools.cached_property
    def model(self):
        from .files import load_model

        _note(f"loading {self.args.model} ...")
        return load_model(self.args.model, unsafe=self.args.unsafe)


def _reference(sources: _Sources):
    files = sources.files.reference
    return runfiles.model_inputs(sources.model, files, "--reference") if files else None


def _baselines(sources: _Sources):
    """--baselines: "mean" or "zeros" as they are, files read as the model's inputs (one array, or one per input)."""
    given = sources.args.baselines
    if not given:
        return sources.args.entry.defaults()["baselines"]
    words = [item for item in given if item.value in BASELINES and item.name is None]
    if words:
        if len(given) > 1:
            raise ValueError(f"--baselines {words[0].text}: give one of {', '.join(BASELINES)} alone, or files")
        return words[0].value
    files = runfiles.read_baselines(given)
    return runfiles.model_inputs(sources.model, files, "--baselines")


def _mask_value(args):
    return None if args.no_mask else ("auto" if args.mask_value is None else args.mask_value)


#: How a setting's value is read where it is not the option of its own name (``getattr(args, name)``).
_READERS: dict[str, Callable[[_Sources], Any]] = {
    "random_state": lambda sources: sources.args.seed,
    "relative_scale": lambda sources: not sources.args.absolute_scale,
    "mask_value": lambda sources: _mask_value(sources.args),
    "loss": lambda sources: runfiles.losses(sources.args.loss, sources.files.y),
    "feature_names": lambda sources: sources.feature_names,
    "groups": lambda sources: runfiles.groups(sources.args.group, sources.feature_names, sources.files.x),
    "reference": _reference,
    "sample_weight": lambda sources: runfiles.sample_weight(sources.args.sample_weight, sources.files.x),
    "baselines": _baselines,
}


def _map_file(args) -> str | None:
    """--attributions, where the subcommand has it."""
    return getattr(args, "attributions", None)


def _settings(entry, sources: _Sources) -> dict[str, Any]:
    """The value of each setting ``entry`` offers the command line, by its Python name (the model is loaded by
    the first reader that needs it, after those that check the options against the files)."""
    read = {setting.name: _READERS.get(setting.name) for setting in entry.offered("cli")}
    return {name: reader(sources) if reader else getattr(sources.args, name) for name, reader in read.items()}


def _run_model(args) -> None:
    from .files import check_map_file, check_writable, write_csv, write_figure, write_row_maps

    entry = args.entry
    # Refuse existing outputs before the (possibly long) computation, and again when writing.
    check_writable(args.out, "--out", overwrite=args.overwrite)
    for option, path in (("--plot", args.plot), ("--attributions", _map_file(args))):
        if path is not None:
            check_writable(path, option, overwrite=args.overwrite)
    files = runfiles.read_files(args)
    sources = _Sources(args, files)
    settings = _settings(entry, sources)
    X = runfiles.model_inputs(sources.model, files.x, "--x")
    if _map_file(args) is not None and isinstance(X, dict):
        check_map_file(args.attributions, list(X), "--attributions")
    text = TEXTS[entry.command]
    _note(f"computing {entry.title} on {runfiles.shapes(files.x)} ({getattr(args, text.count)} {text.counted}) ...")
    result = entry.function(sources.model, X, runfiles.targets(files.y), **settings)
    # Files first, then the terminal: a closed pipe (| head) must not cost the results.
    written = [write_csv(result.to_frame(), args.out, "--out", overwrite=args.overwrite)]
    if args.plot is not None:
        written.append(write_figure(result.plot(), args.plot, "--plot", overwrite=args.overwrite))
    if _map_file(args) is not None:
        written.append(write_row_maps(result, args.attributions, "--attributions", overwrite=args.overwrite))
    print(result.summary())
    seed = result.settings["random_state"]
    print(f"Seed: {seed}" if args.seed is not None else f"Seed: {seed} (drawn; --seed {seed} repeats this run)")
    print(_ranking_table(result, csv_name=str(args.out)))
    print("Wrote " + _and_list([str(path) for path in written]))


def _and_list(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


_COMMANDS = {"demo": _run_demo, **{entry.command: _run_model for entry in ESTIMATORS}}


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
        problem = run_usage_problem(args) if args.entry is not None else None
        if problem:
            args.parser.error(problem)
    except SystemExit as exit_request:  # --help, --version (0) and usage errors (2)
        return int(exit_request.code or 0)
    try:
        _COMMANDS[args.command](args)
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
