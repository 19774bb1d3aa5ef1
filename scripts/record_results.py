"""Record the results of a broad set of calls, to check that a refactoring changes no number.

Usage (the engine is the one on ``PYTHONPATH``; only public names are used, so any tree works)::

    git worktree add /tmp/engine-old <commit>
    PYTHONPATH=/tmp/engine-old python scripts/record_results.py --out /tmp/old.json
    PYTHONPATH=. python scripts/record_results.py --out /tmp/new.json
    python scripts/record_results.py --compare /tmp/old.json /tmp/new.json

Run it as a script (``python scripts/record_results.py``), not through ``python -c`` or ``-m``
from the repository root: those put the current folder ahead of ``PYTHONPATH``. The engine's
path is printed first; check it is the tree meant.

Each case is one call of a public function with NumPy models (the Keras cases last):

- ``perturbation_importance`` (or the R layer, with the values a binding makes from R): every
  method, ``by``, groups, several inputs and outputs, padding, conditional with and without
  ``reference``, learners (scikit-learn and a fit function), categorical units (integer codes,
  declared codes, one-hot runs), early stopping, executors, losses, ``ci`` and R;
- ``shapley_importance`` (and the R layer's): both imputers by feature, time step, cell and
  groups, draws, several inputs and outputs, padding, early stopping, blocks, ``ci``, rows,
  executors and R; both with ``sample_weight``;
- a Keras LSTM, large enough for the prefix reuse of a recurrent first layer to be considered.

Recorded: every number of the result (importances of every repeat, intervals, p-values,
baseline, rows used, precision, row importances, selection, and a Shapley run's v(all units)
with its interval), the settings, the table, the header text and the warnings; an error is a
result too (its type and message). ``--compare`` says which cases differ, in numbers (must be
none) and in text. Record and compare on the same machine: float rounding differs between CPUs.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np

N, T, F = 240, 6, 4
LEVELS = np.array([-1.0, 0.5, 2.0])  # the effect of each level of a coded feature


# ---------------------------------------------------------------------------------------------- models


def sequence_model(x):
    """Row-wise, arithmetic only: x1 now, x2 three steps back, a product, x4 unused."""
    return 2.0 * x[:, -1, 0] + x[:, -3, 1] + 0.5 * x[:, -1, 2] * x[:, -2, 0]


def two_output_model(x):
    return np.stack([sequence_model(x), x[:, -1, 1] - x[:, 0, 2]], axis=1)


def two_head_model(x):
    return [sequence_model(x)[:, None], np.stack([x[:, -1, 1], x[:, -2, 2], x[:, 0, 0]], axis=1)]


def tabular_model(x):
    return 1.5 * x[:, 0] - x[:, 1] + 0.25 * x[:, 2] * x[:, 0]


def softmax_model(x):
    logits = np.stack([x[:, -1, 0], -x[:, -1, 0], 0.5 * x[:, -1, 1]], axis=1)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def inputs_model(inputs):
    sequence, static = inputs["seq"], inputs["static"]
    return sequence[:, -1, 0] + 0.5 * sequence[:, -2, 1] + static[:, 0] - 0.3 * static[:, 1]


def list_inputs_model(inputs):
    return inputs_model({"seq": inputs[0], "static": inputs[1]})


def coded_model(x):
    """x1 and the level of a code in x2 (0, 1, 2; any other value counts as the nearest code)."""
    x = np.asarray(x, dtype=np.float64)
    return x[:, 0] + LEVELS[np.clip(np.rint(x[:, 1]), 0, 2).astype(int)]


def one_hot_model(x):
    """x1 and the level of a code one-hot coded in x2..x4."""
    return x[:, 0] + x[:, 1:4] @ LEVELS


# ---------------------------------------------------------------------------------- methods, losses


def shuffle_first_half(values, rng):
    out = values.copy()
    half = values.shape[0] // 2
    out[:half] = values[rng.permutation(half)]
    return out


def absolute_loss(y_true, y_pred):
    return float(np.mean(np.abs(y_true - y_pred)))


def squared_rows(y_true, y_pred):
    return (y_true - y_pred) ** 2


def least_squares(x, y):
    """A learner as a fit function: linear least squares with an intercept, returning its predict function."""
    design = np.column_stack([np.ones(len(x)), x])
    coefficients = np.linalg.lstsq(design, y, rcond=None)[0]
    return lambda new: np.column_stack([np.ones(len(new)), new]) @ coefficients


# -------------------------------------------------------------------------------------------- data


def _weights(n: int) -> np.ndarray:
    """``sample_weight`` for ``n`` rows: 0, 0.5, ..., 2 in turn (no draw, so the other cases' data stay)."""
    return (np.arange(n) % 5) / 2.0


def _data():
    rng = np.random.default_rng(20261202)
    X = rng.normal(size=(N, T, F))
    X[:, :, 3] = 0.8 * X[:, :, 0] + 0.2 * rng.normal(size=(N, T))  # correlated with x1
    y = sequence_model(X) + rng.normal(scale=0.3, size=N)
    padded = X.copy()
    lengths = rng.integers(3, T + 1, size=N)
    for row, length in enumerate(lengths):
        padded[row, : T - length] = 0.0
    long = rng.normal(size=(2600, 4, 3))
    static = rng.normal(size=(N, 2))
    labels = rng.integers(0, 3, size=N)
    return X, y, padded, long, static, labels, rng


def _coded_data():
    """x1, and a code 0/1/2 that x1 predicts in part (its own generator: the other data stay as they were)."""
    rng = np.random.default_rng(20261203)
    x1 = rng.normal(size=N)
    codes = np.digitize(x1 + 0.7 * rng.normal(size=N), [-0.5, 0.5])
    target = x1 + LEVELS[codes] + rng.normal(scale=0.3, size=N)
    return x1, codes, target


# ------------------------------------------------------------------------------------------- cases


def cases():
    """(name, function returning a result) of every recorded call, in the order they run."""
    from pyimportance import perturbation_importance as importance

    X, y, padded, long, static, labels, rng = _data()
    y2 = two_output_model(X) + rng.normal(scale=0.2, size=(N, 2))
    heads_y = [y, two_head_model(X)[1] + rng.normal(scale=0.2, size=(N, 3))]
    tab = X[:, -1, :3].copy()
    long_y = long[:, -1, 0] * 2.0 + long[:, -2, 1] + rng.normal(scale=0.5, size=len(long))
    reference = X + rng.normal(scale=0.1, size=X.shape)
    fortran = np.asfortranarray(X)

    def run(*arguments, **options):
        options = {"n_repeats": 3, "random_state": 5, **options}
        return lambda: importance(*arguments, **options)

    found = []
    for method in ("gaussian", "uniform", "permute", "resample", "conditional", "zero", "mean"):
        for by in ("feature", "timestep", "cell"):
            found.append((f"{method}-{by}-y", run(sequence_model, X, y, method=method, by=by)))
        found.append((f"{method}-no-y", run(sequence_model, X, method=method)))
    found += [
        ("custom-method", run(sequence_model, X, y, method=shuffle_first_half)),
        ("groups-feature", run(sequence_model, X, y, groups={"a": ["x1", "x4"], "b": [1, 2]})),
        ("groups-cell", run(sequence_model, X, y, by="cell", groups={"a": ["x1", "x4"], "b": ["x2"]},
                            method="permute")),
        ("groups-conditional", run(sequence_model, X, y, groups={"a": ["x1", "x4"], "b": ["x2", "x3"]},
                                   method="conditional")),
        ("feature-names", run(sequence_model, X, y, feature_names=["a", "b", "c", "d"])),
        ("max-samples-int", run(sequence_model, X, y, max_samples=100, method="permute")),
        ("max-samples-fraction", run(sequence_model, X, y, max_samples=0.5)),
        ("ci-repeats", run(sequence_model, X, y, ci="repeats", method="permute")),
        ("block-size", run(sequence_model, X, y, block_size=7, method="permute")),
        ("batch-size", run(sequence_model, X, y, batch_size=37, method="resample")),
        ("n-repeats-1", run(sequence_model, X, y, n_repeats=1)),
        ("scale-absolute", run(sequence_model, X, y, scale=0.5, relative_scale=False)),
        ("loss-rmse", run(sequence_model, X, y, loss="rmse", method="permute")),
        ("loss-mae", run(sequence_model, X, y, loss="mae", by="cell")),
        ("loss-keras-name", run(sequence_model, X, y, loss="Mean_Squared_Error")),
        ("loss-custom-scalar", run(sequence_model, X, y, loss=absolute_loss, method="permute")),
        ("loss-custom-rows", run(sequence_model, X, y, loss=squared_rows, method="permute")),
        ("log-loss", run(softmax_model, X, labels, loss="log_loss", method="permute")),
        ("accuracy", run(softmax_model, X, labels, loss="accuracy", method="permute", by="timestep")),
        ("categorical-one-hot", run(softmax_model, X, np.eye(3)[labels], loss="categorical_crossentropy")),
        ("tabular", run(tabular_model, tab, tabular_model(tab) + rng.normal(scale=0.3, size=N), method="permute")),
        ("tabular-conditional", run(tabular_model, tab, method="conditional")),
        ("two-outputs", run(two_output_model, X, y2, method="permute")),
        ("two-outputs-per-output", run(two_output_model, X, y2, per_output=True, by="cell")),
        ("two-outputs-select", run(two_output_model, X, y2[:, 1], output={0: [1]})),
        ("two-heads", run(two_head_model, X, heads_y, loss=["mse", "mae"], per_output=True)),
        ("two-heads-dict", run(two_head_model, X, {"output1": heads_y[0], "output2": heads_y[1]},
                               output="output2")),
        ("inputs-dict", run(inputs_model, {"seq": X, "static": static}, y, by="timestep", method="permute")),
        ("inputs-list", run(list_inputs_model, [X, static], y, by="cell")),
        ("inputs-groups", run(inputs_model, {"seq": X, "static": static}, y,
                              groups={"mixed": ["seq:x1", "static:x1"], "rest": ["seq:x2", "x3"]})),
        ("inputs-conditional", run(inputs_model, {"seq": X, "static": static}, y, method="conditional",
                                   by="cell")),
        ("padding", run(sequence_model, padded, y, mask_value=0.0, method="permute", by="cell")),
        ("padding-conditional", run(sequence_model, padded, y, mask_value=0.0, method="conditional")),
        ("padding-gaussian", run(sequence_model, padded, y, mask_value=0.0, by="timestep")),
        ("conditional-reference", run(sequence_model, X, y, method="conditional", reference=reference)),
        ("tolerance", run(sequence_model, long, long_y, tolerance=0.05, method="permute")),
        ("tolerance-rmse", run(sequence_model, long, long_y, tolerance=0.2, loss="rmse", by="timestep")),
        ("tolerance-max-samples", run(sequence_model, long, long_y, tolerance=0.01, max_samples=2100)),
        ("fortran-order", run(sequence_model, fortran, y, method="permute")),
        ("dataframe", _dataframe_case(importance, tab, rng)),
        ("thread-pool", _executor_case(importance, X, y, ThreadPoolExecutor(2), task_size=3)),
        ("process-pool", _executor_case(importance, X, y, ProcessPoolExecutor(
            2, mp_context=multiprocessing.get_context("fork")), task_size=None)),
        ("seed-sequence", run(sequence_model, X, y, random_state=np.random.SeedSequence(9).spawn(2)[1])),
        ("sample-weight-permute", run(sequence_model, X, y, method="permute", sample_weight=_weights(N))),
        ("sample-weight-no-y", run(sequence_model, X, by="cell", sample_weight=_weights(N))),
        ("sample-weight-rmse", run(sequence_model, X, y, loss="rmse", sample_weight=_weights(N))),
        ("sample-weight-tolerance-max-samples", run(sequence_model, long, long_y, tolerance=0.01, max_samples=2100,
                                                    sample_weight=_weights(len(long)))),
    ]
    found += _learner_cases(importance, X, y, tab, reference)
    found += _categorical_cases(importance)
    found += _r_cases(X, y, labels)
    found += _shapley_cases(X, y, y2, heads_y, padded, long, long_y, static, labels, tab)
    found += _r_shapley_cases(X, y, labels)
    found += _keras_cases()  # last: no process is forked once TensorFlow runs threads
    return found


def _dataframe_case(importance, tab, rng):
    import pandas as pd

    frame = pd.DataFrame(tab, columns=["price", "temp", "noise"])
    target = pd.Series(tabular_model(tab) + rng.normal(scale=0.3, size=len(tab)))
    return lambda: importance(tabular_model, frame, target, n_repeats=3, random_state=8, method="permute")


def _executor_case(importance, X, y, executor, task_size):
    def call():
        with executor:
            return importance(sequence_model, X, y, n_repeats=3, random_state=6, executor=executor,
                              task_size=task_size, method="permute", by="timestep")

    return call


def _one_thread(call):
    """``call`` with OpenMP and BLAS on one thread: scikit-learn's gradient boosting spins its OpenMP threads, so
    on a busy machine (two recordings at once) a learner case ran a hundred times slower; its numbers do not
    depend on the thread count, and one thread keeps every recording alike."""
    from threadpoolctl import threadpool_limits

    def limited():
        with threadpool_limits(limits=1):
            return call()

    return limited


def _learner_cases(importance, X, y, tab, reference):
    """``method="conditional"`` with a scikit-learn regressor and with a fit function, out of fold or on
    ``reference``."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    def boosting():
        return HistGradientBoostingRegressor(max_iter=20, random_state=0)

    def run(*arguments, **options):
        options = {"n_repeats": 3, "random_state": 7, "method": "conditional", **options}
        return _one_thread(lambda: importance(*arguments, **options))

    tab_y = tabular_model(tab)
    return [
        ("learner-boosting-tabular", run(tabular_model, tab, tab_y, learner=boosting())),
        ("learner-boosting-timestep", run(sequence_model, X, y, learner=boosting(), by="timestep")),
        ("learner-boosting-reference", run(sequence_model, X, y, learner=boosting(), reference=reference)),
        ("learner-function-feature", run(sequence_model, X, y, learner=least_squares)),
        ("learner-function-cell", run(sequence_model, X, y, learner=least_squares, by="cell")),
        ("learner-function-reference", run(sequence_model, X, y, learner=least_squares, reference=reference,
                                           by="timestep")),
        ("learner-function-no-y", run(tabular_model, tab, learner=least_squares)),
        ("learner-without-conditional", run(tabular_model, tab, tab_y, learner=least_squares, method="permute")),
    ]


def _categorical_cases(importance):
    """Coded features: integer data, codes declared in float data, one-hot runs; permuted and conditional."""
    import pandas as pd
    from sklearn.neighbors import KNeighborsClassifier

    x1, codes, target = _coded_data()
    floats = np.column_stack([x1, codes]).astype(np.float64)
    integers = pd.DataFrame({"x1": x1, "code": codes})  # an integer column: found as codes
    one_hot = np.column_stack([x1, np.eye(3)[codes]])
    one_hot_target = one_hot_model(one_hot) + (target - coded_model(floats))
    one_hot_groups = {"x1": ["x1"], "code": ["x2", "x3", "x4"]}

    def run(model, data, y, **options):
        options = {"n_repeats": 3, "random_state": 11, **options}
        return _one_thread(lambda: importance(model, data, y, **options))

    found = []
    for method in ("permute", "conditional", "gaussian"):
        found += [
            (f"codes-declared-{method}", run(coded_model, floats, target, method=method, categorical=["x2"])),
            (f"codes-integer-{method}", run(coded_model, integers, target, method=method)),
            (f"codes-one-hot-{method}", run(one_hot_model, one_hot, one_hot_target, method=method,
                                            groups=one_hot_groups)),
        ]
    found += [
        ("codes-undeclared-conditional", run(coded_model, floats, target, method="conditional")),
        ("codes-one-hot-lone-column", run(one_hot_model, one_hot, one_hot_target, method="conditional")),
        ("codes-one-hot-columns-permute", run(one_hot_model, one_hot, one_hot_target, method="permute")),
        ("codes-declared-no-y", run(coded_model, floats, None, method="conditional", categorical=["x2"])),
        ("codes-classifier", run(coded_model, integers, target, method="conditional",
                                 learner={"categorical": KNeighborsClassifier(n_neighbors=15),
                                          "continuous": least_squares})),
        ("codes-unknown-name", run(coded_model, floats, target, method="conditional", categorical=["x9"])),
    ]
    return found


def _shapley_cases(X, y, y2, heads_y, padded, long, long_y, static, labels, tab):
    """``shapley_importance``: both imputers by feature, time step, cell and groups, and every option."""
    from pyimportance import shapley_importance

    def run(*arguments, **options):
        options = {"n_repeats": 2, "n_draws": 3, "random_state": 5, **options}
        return lambda: shapley_importance(*arguments, **options)

    groups = {"a": ["x1", "x4"], "b": ["x2", "x3"]}
    found = []
    for imputer in ("marginal", "conditional"):
        for by in ("feature", "timestep", "cell"):
            found.append((f"shapley-{imputer}-{by}", run(sequence_model, X, y, imputer=imputer, by=by)))
        found += [
            (f"shapley-{imputer}-groups", run(sequence_model, X, y, imputer=imputer, groups=groups)),
            (f"shapley-{imputer}-draws-2", run(sequence_model, X, y, imputer=imputer, n_draws=2, by="timestep")),
            (f"shapley-{imputer}-draws-5", run(sequence_model, X, y, imputer=imputer, n_draws=5)),
            (f"shapley-{imputer}-no-y", run(sequence_model, X, imputer=imputer)),
            (f"shapley-{imputer}-inputs-dict", run(inputs_model, {"seq": X, "static": static}, y, imputer=imputer,
                                                   by="cell")),
            (f"shapley-{imputer}-two-outputs-per-output", run(two_output_model, X, y2, imputer=imputer,
                                                              per_output=True)),
            (f"shapley-{imputer}-tabular", run(tabular_model, tab, tabular_model(tab), imputer=imputer)),
        ]
    found += [
        ("shapley-groups-cell", run(sequence_model, X, y, by="cell", groups={"a": ["x1", "x4"], "b": ["x2"]})),
        ("shapley-conditional-unequal-units-refused", run(sequence_model, X, y, imputer="conditional", by="cell",
                                                          groups={"a": ["x1", "x4"], "b": ["x2"]})),
        ("shapley-inputs-timestep", run(inputs_model, {"seq": X, "static": static}, y, by="timestep")),
        ("shapley-inputs-list", run(list_inputs_model, [X, static], y, by="cell")),
        ("shapley-inputs-groups", run(inputs_model, {"seq": X, "static": static}, y,
                                      groups={"mixed": ["seq:x1", "static:x1"], "rest": ["seq:x2", "x3"]})),
        ("shapley-two-outputs", run(two_output_model, X, y2)),
        ("shapley-two-outputs-select", run(two_output_model, X, y2[:, 1], output={0: [1]})),
        ("shapley-two-heads", run(two_head_model, X, heads_y, loss=["mse", "mae"], per_output=True)),
        ("shapley-two-heads-dict", run(two_head_model, X, {"output1": heads_y[0], "output2": heads_y[1]},
                                       output="output2", by="timestep")),
        ("shapley-log-loss", run(softmax_model, X, labels, loss="log_loss")),
        ("shapley-loss-mae", run(sequence_model, X, y, loss="mae", by="timestep")),
        ("shapley-loss-custom-rows", run(sequence_model, X, y, loss=squared_rows)),
        ("shapley-loss-rmse-refused", run(sequence_model, X, y, loss="rmse")),
        ("shapley-draws-1-refused", run(sequence_model, X, y, n_draws=1)),
        ("shapley-padding", run(sequence_model, padded, y, mask_value=0.0)),
        ("shapley-padding-cell", run(sequence_model, padded, y, mask_value=0.0, by="cell")),
        ("shapley-padding-timestep", run(sequence_model, padded, y, mask_value=0.0, by="timestep", n_draws=2)),
        ("shapley-padding-conditional-refused", run(sequence_model, padded, y, mask_value=0.0,
                                                    imputer="conditional")),
        ("shapley-tolerance", run(sequence_model, long, long_y, tolerance=0.1, n_repeats=4)),
        ("shapley-tolerance-timestep", run(sequence_model, long, long_y, tolerance=0.2, by="timestep")),
        ("shapley-tolerance-conditional", run(sequence_model, long, long_y, tolerance=0.1, imputer="conditional")),
        ("shapley-tolerance-max-samples", run(sequence_model, long, long_y, tolerance=0.01, max_samples=2100)),
        ("shapley-block-size", run(sequence_model, X, y, block_size=7)),
        ("shapley-ci-repeats", run(sequence_model, X, y, ci="repeats", n_repeats=4)),
        ("shapley-ci-repeats-cell", run(sequence_model, X, y, ci="repeats", by="cell", imputer="conditional")),
        ("shapley-max-samples-int", run(sequence_model, X, y, max_samples=100)),
        ("shapley-max-samples-fraction", run(sequence_model, X, y, max_samples=0.5, by="timestep")),
        ("shapley-batch-size", run(sequence_model, X, y, batch_size=37, by="cell")),
        ("shapley-n-repeats-1", run(sequence_model, X, y, n_repeats=1)),
        ("shapley-feature-names", run(sequence_model, X, y, feature_names=["a", "b", "c", "d"])),
        ("shapley-sample-weight", run(sequence_model, X, y, sample_weight=_weights(N))),
        ("shapley-sample-weight-tolerance", run(sequence_model, long, long_y, tolerance=0.1,
                                                sample_weight=_weights(len(long)))),
        ("shapley-seed-sequence", run(sequence_model, X, y, random_state=np.random.SeedSequence(9).spawn(2)[1])),
        ("shapley-thread-pool", _shapley_executor_case(shapley_importance, X, y, ThreadPoolExecutor(2), task_size=2,
                                                       by="timestep")),
        ("shapley-thread-pool-conditional", _shapley_executor_case(
            shapley_importance, X, y, ThreadPoolExecutor(2), task_size=1, by="cell", imputer="conditional")),
        ("shapley-process-pool", _shapley_executor_case(shapley_importance, X, y, ProcessPoolExecutor(
            2, mp_context=multiprocessing.get_context("fork")), task_size=3, by="feature")),
    ]
    return found


def _shapley_executor_case(shapley_importance, X, y, executor, task_size, **options):
    def call():
        with executor:
            return shapley_importance(sequence_model, X, y, n_repeats=2, n_draws=3, random_state=6, executor=executor,
                                      task_size=task_size, **options)

    return call


# ------------------------------------------------------------------------------------------ R layer


def _r_values():
    """How a binding hands R's values over: helpers making RValues, and an R function model, method and loss."""
    from pyimportance.rlayer import RValue

    def double(values, **fields):
        return RValue("double", values=np.asfortranarray(values, dtype=np.float64), **fields)

    def scalar(value):
        if isinstance(value, str):
            return RValue("character", values=np.array([value]))
        return RValue("double", values=np.array([float(value)]))

    def r_function(function):
        return RValue("function", function=function)

    def r_model(chunk):
        return RValue("double", values=sequence_model(chunk.values))

    def r_method(values, seed):
        generator = np.random.default_rng(int(seed.values[0]))
        return RValue("double", values=values.values[generator.permutation(values.values.shape[0])])

    def r_loss(y_true, y_pred):
        return RValue("double", values=np.array([float(np.mean((y_true.values - y_pred.values) ** 2))]))

    return double, scalar, r_function, r_model, r_method, r_loss


def _r_cases(X, y, labels):
    """Calls as the R package makes them: RValues in R's index order, R functions behind a binding."""
    from pyimportance import rlayer
    from pyimportance.rlayer import RValue

    double, scalar, r_function, r_model, r_method, r_loss = _r_values()

    def r_learner(x, target):
        predict = least_squares(x.values, target.values)
        return RValue("function", function=lambda new: RValue("double", values=predict(new.values)))

    x = double(X, dimnames=[None, None, ["load", "temp", "price", "echo"]])
    factor = RValue("factor", values=(labels + 1).astype(np.int32), levels=["a", "b", "c"])

    def call(model, x_value, y_value, **arguments):
        arguments = {"n_repeats": scalar(3), "seed": scalar(4), **arguments}
        return lambda: rlayer.perturbation_importance(model, x_value, y_value, **arguments)

    return [
        ("r-function-model", call(r_function(r_model), x, double(y), method=scalar("permute"))),
        ("r-cell", call(r_function(r_model), x, double(y), by=scalar("cell"))),
        ("r-method-loss", call(r_function(r_model), x, double(y), method=r_function(r_method),
                               loss=r_function(r_loss))),
        ("r-groups", call(r_function(r_model), x, double(y),
                          groups=RValue("list", names=["ab"], items=[double(np.array([1.0, 2.0]))]))),
        ("r-python-model-factor", call(softmax_model, x, factor, loss=scalar("log_loss"))),
        ("r-conditional", call(r_function(r_model), x, double(y), method=scalar("conditional"),
                               by=scalar("timestep"))),
        ("r-tolerance", call(r_function(r_model), x, double(y), tolerance=scalar(0.3))),
        ("r-learner", call(r_function(r_model), x, double(y), method=scalar("conditional"),
                           learner=r_function(r_learner))),
    ]


def _r_shapley_cases(X, y, labels):
    """``shapley_importance`` as the R package calls it (R names: ``x``, ``seed``)."""
    from pyimportance import rlayer
    from pyimportance.rlayer import RValue

    double, scalar, r_function, r_model, _, r_loss = _r_values()
    x = double(X, dimnames=[None, None, ["load", "temp", "price", "echo"]])
    factor = RValue("factor", values=(labels + 1).astype(np.int32), levels=["a", "b", "c"])

    def call(model, x_value, y_value, **arguments):
        arguments = {"n_repeats": scalar(2), "n_draws": scalar(3), "seed": scalar(4), **arguments}
        return lambda: rlayer.shapley_importance(model, x_value, y_value, **arguments)

    return [
        ("r-shapley-function-model", call(r_function(r_model), x, double(y))),
        ("r-shapley-conditional-timestep", call(r_function(r_model), x, double(y), imputer=scalar("conditional"),
                                                by=scalar("timestep"))),
        ("r-shapley-cell-draws", call(r_function(r_model), x, double(y), by=scalar("cell"), n_draws=scalar(2))),
        ("r-shapley-groups", call(r_function(r_model), x, double(y),
                                  groups=RValue("list", names=["ab"], items=[double(np.array([1.0, 2.0]))]))),
        ("r-shapley-python-model-factor", call(softmax_model, x, factor, loss=scalar("log_loss"))),
        ("r-shapley-loss", call(r_function(r_model), x, double(y), loss=r_function(r_loss))),
        ("r-shapley-tolerance-ci", call(r_function(r_model), x, double(y), tolerance=scalar(0.3),
                                        ci=scalar("repeats"))),
        ("r-shapley-method-refused", call(r_function(r_model), x, double(y), method=scalar("permute"))),
    ]


# -------------------------------------------------------------------------------------------- Keras


KERAS_T, KERAS_F = 10, 3


def _keras_cases():
    """A Keras LSTM (a compiled forward, one input, a plain recurrent first layer) on enough rows by time step
    and by cell that the run considers prefix reuse (and takes it where its timed calls say it pays: the
    numbers are the same either way). Keras is imported when the first of these runs."""
    rng = np.random.default_rng(20261204)
    X = rng.normal(size=(4000, KERAS_T, KERAS_F)).astype(np.float32)
    y = X[:, -1, 0] + 0.5 * X[:, 4, 1] - 0.3 * X[:, 2, 2] + rng.normal(scale=0.2, size=len(X)).astype(np.float32)

    def lstm():
        import keras

        keras.utils.set_random_seed(0)
        return keras.Sequential([keras.Input((KERAS_T, KERAS_F)), keras.layers.LSTM(8), keras.layers.Dense(1)])

    def perturbation(rows, **options):
        from pyimportance import perturbation_importance

        return lambda: perturbation_importance(lstm(), X[:rows], y[:rows], random_state=3, **options)

    def shapley(rows, **options):
        from pyimportance import shapley_importance

        return lambda: shapley_importance(lstm(), X[:rows], y[:rows], random_state=3, batch_size=256, **options)

    return [
        ("keras-lstm-timestep", perturbation(4000, by="timestep", n_repeats=3, method="permute")),
        ("keras-lstm-cell", perturbation(2000, by="cell", n_repeats=2)),
        ("keras-lstm-feature", perturbation(1000, n_repeats=2)),
        ("keras-lstm-shapley-timestep", shapley(4000, by="timestep", n_repeats=2, n_draws=3)),
        ("keras-lstm-shapley-cell", shapley(4000, by="cell", n_repeats=2, n_draws=2)),
        ("keras-lstm-shapley-feature", shapley(500, n_repeats=2, n_draws=2)),
    ]


# ------------------------------------------------------------------------------------------ recording


def _plain(value):
    """A recorded value as JSON-able data (numbers exactly: floats by their hex form)."""
    from pyimportance.rlayer import RValue

    if isinstance(value, RValue):
        return {"type": value.type, "values": _plain(value.values), "names": _plain(value.names),
                "dimnames": _plain(value.dimnames), "levels": _plain(value.levels), "na": _plain(value.na),
                "items": [_plain(item) for item in value.items],
                "attributes": {key: _plain(item) for key, item in value.attributes.items()}}
    if isinstance(value, np.ndarray):
        return {"dtype": str(value.dtype), "shape": list(value.shape), "data": [_plain(v) for v in value.reshape(-1)]}
    if isinstance(value, (np.floating, float)):
        return float(value).hex()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _interval_numbers(intervals) -> dict:
    return {"std_error": _plain(np.asarray(intervals.std_error)), "ci_low": _plain(np.asarray(intervals.ci_low)),
            "ci_high": _plain(np.asarray(intervals.ci_high)), "p_value": _plain(np.asarray(intervals.p_value))}


def _row_numbers(result) -> tuple[dict, dict]:
    """Numbers and text of a result's row importances (or why it has none), selection and ranking; the
    attributes an older tree lacks are left out."""
    numbers, text = {}, {}
    if hasattr(type(result), "row_importances"):  # a property that raises where there are none
        try:
            numbers["row_importances"] = _plain(np.asarray(result.row_importances))
            numbers["row_index"] = _plain(np.asarray(result.row_index))
            numbers["row_frame"] = _plain({name: np.asarray(column)
                                           for name, column in result.to_frame(rows=True).items()})
        except ValueError as error:
            numbers["row_importances"] = None
            text["row_note"] = str(error)
    if hasattr(result, "selected"):
        numbers["selected"] = {control: _plain(np.asarray(result.selected(control=control)))
                               for control in ("fdr", "fwer")}
    if hasattr(result, "ranking"):
        numbers["ranking"] = _plain(np.asarray(result.ranking))
    return numbers, text


def record(result) -> dict:
    """Numbers and text of one result (an ImportanceResult, a ShapleyResult or the R layer's frame)."""
    if not hasattr(result, "importances_all"):
        frame = _plain(result)
        header = frame["attributes"].pop("summary", None)
        frame["attributes"].pop("confidence", None)  # added with the summary: the level R shows
        return {"numbers": frame, "text": {"header": header}}
    intervals = result.intervals
    numbers = {
        "importances_all": _plain(np.asarray(result.importances_all)),
        "baseline_scores": _plain(np.asarray(result.baseline_scores)),
        **_interval_numbers(intervals),
        "p_adjusted": _plain(np.asarray(result.p_adjusted)),
        "block_size": intervals.block_size,
        "interval_method": intervals.method,
        "n_rows_used": int(result.n_rows_used),
        "converged": result.converged,
        "precision": _plain(result.precision),
        "frame": _plain({name: np.asarray(column) for name, column in result.to_frame().items()}),
        "settings": _plain({key: value for key, value in result.settings.items()}),
        "result_class": type(result).__name__,
    }
    total_values = getattr(result, "total_values", None)  # a Shapley run's v(all units), and its interval
    if total_values is not None:
        numbers["total_values"] = _plain(np.asarray(total_values))
    total_intervals = getattr(result, "total_intervals", None)
    if total_intervals is not None:
        numbers["total_intervals"] = _interval_numbers(total_intervals)
    rows, row_text = _row_numbers(result)
    numbers.update(rows)
    return {"numbers": numbers, "text": {"repr": repr(result), "summary": result.summary(), **row_text}}


def _record_one(call) -> dict:
    """The record of one call: its result, or the error it raised (an error is a result too: it must stay the
    same); the warnings it gave are text."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            recorded = record(call())
        except Exception as error:
            recorded = {"numbers": {"error": type(error).__name__}, "text": {"message": str(error)}}
    recorded["text"]["warnings"] = sorted({f"{warning.category.__name__}: {warning.message}" for warning in caught})
    return recorded


def _record_all(path: str, only: str | None = None) -> None:
    import pyimportance

    print(f"engine: {pyimportance.__file__}", flush=True)
    recorded, seconds = {}, {}
    for name, call in cases():
        if only and only not in name:
            continue
        start = time.perf_counter()
        recorded[name] = _record_one(call)
        seconds[name] = time.perf_counter() - start
    with open(path, "w") as file:
        json.dump(recorded, file, indent=0, sort_keys=True, default=str)
    errors = sum("error" in case["numbers"] for case in recorded.values())
    slowest = ", ".join(f"{name} {seconds[name]:.1f} s" for name in sorted(seconds, key=seconds.get)[-5:][::-1])
    print(f"recorded {len(recorded)} cases ({errors} of them errors) in {path} in {sum(seconds.values()):.0f} s; "
          f"slowest: {slowest}")


def _without_settings(value, keys: set[str]):
    """A recorded case with the settings ``keys`` taken out of every settings record (a Python result's dict, an
    R frame's settings list, whose names are then sorted: a record's order is its fields'): what
    ``--settings-changed`` compares."""
    if isinstance(value, list):
        return [_without_settings(item, keys) for item in value]
    if not isinstance(value, dict):
        return value
    found = {}
    for key, item in value.items():
        if key == "settings" and isinstance(item, dict) and item.get("type") == "list":  # R's list
            pairs = sorted((name, part) for name, part in zip(item["names"], item["items"]) if name not in keys)
            item = {**item, "names": [name for name, _ in pairs], "items": [part for _, part in pairs]}
        elif key == "settings" and isinstance(item, dict):  # a Python result's settings
            item = {name: part for name, part in item.items() if name not in keys}
        found[key] = _without_settings(item, keys)
    return found


def _compare(old_path: str, new_path: str, settings_changed: str | None = None) -> int:
    with open(old_path) as file:
        old = json.load(file)
    with open(new_path) as file:
        new = json.load(file)
    if settings_changed:  # settings keys a change adds or removes on purpose: compare everything else
        keys = set(settings_changed.split(","))
        old, new = ({name: _without_settings(case, keys) for name, case in side.items()} for side in (old, new))
    missing = sorted(set(old) ^ set(new))
    numbers = [name for name in old if name in new and old[name]["numbers"] != new[name]["numbers"]]
    text = [name for name in old if name in new and old[name]["text"] != new[name]["text"]]
    print(f"{len(old)} cases recorded before, {len(new)} after; missing on one side: {missing or 'none'}")
    print(f"numbers differ in {len(numbers)} case(s): {numbers or 'none'}")
    print(f"text differs in {len(text)} case(s): {text or 'none'}")
    for kind, names in (("numbers", numbers), ("text", text)):
        for name in names:
            before, after = old[name][kind], new[name][kind]
            keys = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
            print(f"  {name} ({kind}): {keys}")
    return 1 if numbers or missing else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="record the engine on PYTHONPATH into this JSON file")
    parser.add_argument("--only", help="record only the cases whose name contains this (to try a case)")
    parser.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"), help="compare two recordings")
    parser.add_argument("--settings-changed", metavar="KEY,KEY",
                        help="with --compare: settings keys added or removed on purpose (left out of both sides, "
                             "and R's settings lists compared by name)")
    args = parser.parse_args(argv)
    if args.compare:
        return _compare(*args.compare, settings_changed=args.settings_changed)
    if not args.out:
        parser.error("give --out FILE or --compare OLD NEW")
    _record_all(args.out, args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
