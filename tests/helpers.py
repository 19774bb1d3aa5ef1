"""Helpers shared by several test files: stand-in models, small data sets, R values without R, and the
command line's runs and messages.

Plain functions and constants only (the fixtures are in the ``conftest.py`` files); pytest's
``pythonpath`` puts this folder on the path, so test files ``import helpers``. Nothing here
imports TensorFlow or R, so every environment can import it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# ----------------------------------------------------------------------------- the ground-truth task

# The ground-truth task: y = 2 * x1[last step] + x2[LAG steps before the end]; x3..x5 are noise.
GT_TIMESTEPS = 6
GT_FEATURES = 5
GT_LAG = 3
GT_DRIVERS = ("x1", "x2")
GT_NOISE = ("x3", "x4", "x5")


def ground_truth_target(X: np.ndarray) -> np.ndarray:
    """The known function the LSTM learns."""
    return 2.0 * X[:, -1, 0] + 1.0 * X[:, -GT_LAG, 1]


# ----------------------------------------------------------------------------- small sequences (40, 4, 3)

SEQ_N, SEQ_T, SEQ_F = 40, 4, 3


def seq_model(X):
    """Reads x1 at the last step and x2 at the one before; x3 unused."""
    return X[:, -1, 0] - 0.5 * X[:, -2, 1]


def seq_data(dtype=np.float64):
    """(SEQ_N, SEQ_T, SEQ_F) standard normal values, the same on every call."""
    return np.random.default_rng(0).normal(size=(SEQ_N, SEQ_T, SEQ_F)).astype(dtype)


# ----------------------------------------------------------------------------- small data with targets (12, 4, 3)

SMALL_N, SMALL_T, SMALL_F = 12, 4, 3


def small_data() -> tuple[np.ndarray, np.ndarray]:
    """X (SMALL_N, SMALL_T, SMALL_F) and y (SMALL_N,), the same on every call."""
    rng = np.random.default_rng(7)
    return rng.normal(size=(SMALL_N, SMALL_T, SMALL_F)), rng.normal(size=SMALL_N)


def sum_model(x: np.ndarray) -> np.ndarray:
    """One output per row: a weighted sum over all inputs (2D or 3D)."""
    return x.reshape(len(x), -1).sum(axis=1)


def read_only(value):
    """A read-only copy of an array (anything else as it is)."""
    if isinstance(value, np.ndarray):
        value = value.copy()
        value.flags.writeable = False
    return value


# ----------------------------------------------------------------------------- classifiers (class_X, class_labels)

CLASS_N = 120  # rows of conftest's class_X


def three_class_model(X):
    """Softmax over three logits read at the last step: class 0 follows x1, class 2 x2."""
    logits = np.stack([X[:, -1, 0], -X[:, -1, 0], 0.5 * X[:, -1, 1]], axis=1)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def sigmoid_model(X):
    """One probability per row: sigmoid(2 x1) at the last step."""
    return (1.0 / (1.0 + np.exp(-2.0 * X[:, -1, 0])))[:, None]


# ----------------------------------------------------------------------------- several inputs and outputs

MULTI_N, MULTI_T, MULTI_F = 200, 6, 3
MULTI_RNG = np.random.default_rng(11)
SEQ = MULTI_RNG.normal(size=(MULTI_N, MULTI_T, MULTI_F))
STATIC = MULTI_RNG.normal(size=(MULTI_N, 2))


def two_input_model(inputs):
    """Reads x1 of the sequence input three steps before the end and x2 of the static input."""
    sequence, static = inputs
    return 1.5 * sequence[:, -3, 0] + static[:, 1]


def padded_sequences(rng, n=120, mask_value=-1.0):
    """Pre-padded sequences of lengths 2..MULTI_T (Keras' pad_sequences default): (values, real)."""
    values = rng.normal(size=(n, MULTI_T, MULTI_F))
    lengths = rng.integers(2, MULTI_T + 1, size=n)
    real = np.arange(MULTI_T)[None, :] >= (MULTI_T - lengths)[:, None]
    values[~real] = mask_value
    return values, real


# ----------------------------------------------------------------------------- scoring: targets and predictions

SCORING_RNG = np.random.default_rng(0)
Y_REG = SCORING_RNG.normal(size=50)
P_REG = SCORING_RNG.normal(size=(50, 1))
Y_BIN = (SCORING_RNG.random(50) < 0.4).astype(float)
P_BIN = SCORING_RNG.uniform(0.05, 0.95, size=(50, 1))
LABELS = SCORING_RNG.integers(0, 3, 50).astype(float)
P_CAT = SCORING_RNG.dirichlet([1.0, 1.0, 1.0], size=50)


# ----------------------------------------------------------------------------- perturbations

def unit_context(n_features: int = 2, sd: float = 0.5):
    """A UnitContext of one block: every feature's mean 3.0, noise sd ``sd``."""
    from pyimportance.methods.context import UnitContext

    return UnitContext(mean=[np.full((1, 1, n_features), 3.0)], noise_sd=[np.full((1, 1, n_features), sd)])


# ----------------------------------------------------------------------------- the stopping rule's data (stopping_data)

STOPPING_WEIGHTS = np.array([1.0, 0.5, 0.05, 0.0])


def stopping_model(X):
    return X[:, -1, :] @ STOPPING_WEIGHTS


def run_stopping(data, **options):
    """perturbation_importance on conftest's stopping_data: permute, 2 repeats, seed 5, unless told otherwise."""
    from pyimportance import perturbation_importance

    X, y = data
    options = {"method": "permute", "n_repeats": 2, "random_state": 5, **options}
    return perturbation_importance(stopping_model, X, y, **options)


# ----------------------------------------------------------------------------- R values, as a binding makes them

INT_NA = np.iinfo(np.int32).min


def double(values, **fields):
    from pyimportance.rlayer import RValue

    return RValue("double", values=np.asarray(values, dtype=np.float64), **fields)


def scalar(value):
    from pyimportance.rlayer import RValue

    if isinstance(value, bool):
        return RValue("logical", values=np.array([value]))
    if isinstance(value, str):
        return RValue("character", values=np.array([value]))
    return double([value])


def na_scalar(r_type: str):
    from pyimportance.rlayer import RValue

    values = {"logical": np.array([True]), "integer": np.array([INT_NA], dtype=np.int32),
              "double": np.array([np.nan]), "character": np.array(["NA"])}[r_type]
    return RValue(r_type, values=values, na=np.array([True]))


def r_function(function, name=None):
    """A Python function in the place of an R function behind a binding: RValues in and out."""
    from pyimportance.rlayer import RValue

    return RValue("function", function=function, name=name)


def signal_model(seen=None):
    """An R model (2 x signal at the last step) that records the chunks it gets in ``seen``."""

    def call(chunk):
        if seen is not None:
            seen.append(chunk)
        return double(2 * chunk.values[:, -1, 0])

    return r_function(call)


def run_r(model, x, y=None, **arguments):
    """The R layer's perturbation_importance, as a binding calls it."""
    from pyimportance import rlayer

    return rlayer.perturbation_importance(model, x, y, **arguments)


def column(frame, name: str) -> np.ndarray:
    """A column of an R data frame (an RValue)."""
    return frame.items[frame.names.index(name)].values


def expect_r_error(message: str):
    """An RError with exactly ``message`` (argument errors; other kinds are checked where they occur)."""
    from pyimportance.rlayer import RError

    return pytest.raises(RError, match="^" + re.escape(message) + "$")


# ----------------------------------------------------------------------------- the command line

CLI_T, CLI_F = 4, 3  # time steps and features of the tiny model's input (the cli conftest's fixtures)
CLI_S = 2  # static features of the two-input model (the two_inputs fixture)

RUN = ["run", "--model", "m.keras", "--x", "X.npy"]
TWO_INPUTS = ["run", "--model", "m.keras", "--x", "seq=seq.npy", "--x", "static=static.npy", "--out", "r.csv"]
TWO_HEADS = [*TWO_INPUTS, "--y", "sales=sales.npy", "--y", "churn=churn.npy"]
KNOWN_LOSSES = "mse, rmse, mae, log_loss, binary_crossentropy, categorical_crossentropy, accuracy"

# The stand-in model that the cli conftest's ``linear_model`` makes --model load: X @ WEIGHTS.
WEIGHTS = np.array([2.0, 1.0, 0.0])
MEASURED = np.array([[0.5, 1.25, -2.0], [1.0, -1.0, 3.5], [2.0, 0.25, 1.0], [-0.75, 2.0, 0.0]])


def files_in(directory: Path) -> list[str]:
    """The names of the files in ``directory``, sorted."""
    return sorted(path.name for path in directory.iterdir())


def read_result(path: Path, **options) -> pd.DataFrame:
    """A result CSV as the command line wrote it, its decimals read exactly."""
    # pandas < 3 reads decimals exactly only with float_precision="round_trip"; pandas 3 always does.
    exact = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
    return pd.read_csv(path, **exact, **options)


def error_line(capsys) -> str:
    """The last line on stderr (the error), after checking that no traceback was printed."""
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    return err[-1]


def usage_error(capsys) -> str:
    """The last line of a usage error of ``pyimportance run``, after checking that it starts with the usage."""
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("usage: pyimportance run")
    return err[-1]


def zero_importances(X: np.ndarray) -> np.ndarray:
    """The importances of method 'zero' for the stand-in model: mean |w_j x_j|."""
    return np.abs(X * WEIGHTS).mean(axis=0)


def run_zero(tmp_path, *extra) -> int:
    """``pyimportance run`` with method 'zero', 2 repeats, seed 0, writing tmp_path/r.csv."""
    from pyimportance import cli

    return cli.main(["run", "--model", "m.keras", "--method", "zero", "--n-repeats", "2", "--seed", "0",
                     "--out", str(tmp_path / "r.csv"), *extra])


def run_on_files(tmp_path, *extra) -> int:
    """``pyimportance run`` on tmp_path/X.npy, seed 1, 2 repeats, no progress bar, writing tmp_path/r.csv."""
    from pyimportance import cli

    return cli.main(["run", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--seed", "1",
                     "--n-repeats", "2", "--no-progress", "--out", str(tmp_path / "r.csv"), *extra])


def run_two_inputs(directory: Path, out: Path, *extra) -> int:
    """``pyimportance run`` of the two_inputs fixture's model: permute, 2 repeats, seed 3."""
    from pyimportance import cli

    return cli.main(["run", "--model", str(directory / "model.keras"), "--n-repeats", "2", "--seed", "3",
                     "--method", "permute", "--no-progress", "--out", str(out), *extra])


# ----------------------------------------------------------------------------- a result built by hand

RESULT_IMPORTANCES = np.array([[0.1, 0.3, 0.2], [2.0, 2.5, 1.5], [-0.1, 0.0, 0.1]])


def toy_result(importances=RESULT_IMPORTANCES, by="feature", names=("a", "b", "c"), n_timesteps=1):
    """An ImportanceResult of ``importances`` (units x repeats) with the interval over repeats, 50 rows."""
    from pyimportance import ImportanceResult
    from pyimportance.data.inputs import Inputs, ModelInput
    from pyimportance.data.units import build_units
    from pyimportance.stats.intervals import Intervals, repeats_intervals

    inputs = Inputs((ModelInput("input", np.zeros((2, n_timesteps, len(names))), tuple(names), n_timesteps > 1),))
    units = build_units(by, inputs)
    settings = {"by": by, "method": "permute", "loss": "mse", "n_samples": 50, "ci": "repeats"}
    values = np.asarray(importances, dtype=float)
    found = repeats_intervals(values)
    intervals = Intervals(*(np.asarray(a).reshape(-1, 1) for a in
                            (found.std_error, found.ci_low, found.ci_high, found.p_value)), None, "repeats")
    return ImportanceResult(values[:, :, None], units, np.array([0.75]), intervals, settings, n_rows_used=50)


# ----------------------------------------------------------------------------- classifiers against Keras' objects

CLASS_WEIGHTS = np.array([[1.5, -1.0, 0.2], [-0.5, 1.0, 0.0], [0.3, 0.3, 1.0], [0.0, 0.0, 0.0]])  # x4 unused


def softmax_of_features(X):
    """Three classes from x1..x3 of four features (x4 unused), per row (n, 3) or per step (n, T, 3)."""
    logits = 2.0 * X @ CLASS_WEIGHTS
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def drawn_classes(probabilities, rng):
    """Classes drawn from the model's probabilities (over the last axis): a model that fits its labels."""
    cumulative = probabilities.cumsum(axis=-1)
    return (rng.uniform(size=cumulative.shape[:-1] + (1,)) > cumulative).sum(axis=-1).astype(float)


def keras_zero_importances(measure, model, X, y):
    """Baseline and each feature's importance under method 'zero' by hand, from a Keras loss or metric object
    (a class: a fresh metric per call); y in the predictions' shape where it has their size (tf-keras
    broadcasts (n,) against (n, 1))."""
    y = y.reshape(model(X).shape) if y.size == model(X).size else y

    def value(data):
        fresh = measure() if isinstance(measure, type) else measure
        return float(fresh(y, model(data)))

    def zeroed(j):
        copy = X.copy()
        copy[..., j] = 0.0
        return copy

    baseline = value(X)
    return baseline, np.array([value(zeroed(j)) - baseline for j in range(X.shape[-1])])
