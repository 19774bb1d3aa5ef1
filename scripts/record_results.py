"""Record the results of a broad set of calls, to check that a refactoring changes no number.

Usage (the engine is the one on ``PYTHONPATH``; only public names are used, so any tree works)::

    git worktree add /tmp/engine-old <commit>
    PYTHONPATH=/tmp/engine-old python scripts/record_results.py --out /tmp/old.npz
    PYTHONPATH=. python scripts/record_results.py --out /tmp/new.npz
    python scripts/record_results.py --compare /tmp/old.npz /tmp/new.npz

Each case is one call of ``perturbation_importance`` (or of the R layer, with the values a
binding makes from R) with a NumPy model: every method, ``by``, groups, several inputs and
outputs, padding, conditional with and without ``reference``, early stopping, executors,
losses, ``ci`` and R. Recorded: every number of the result (importances of every repeat,
intervals, p-values, baseline, rows used, precision), the settings, the table and the header
text. ``--compare`` says which cases differ, in numbers (must be none) and in text. Record and
compare on the same machine: float rounding differs between CPUs.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np

N, T, F = 240, 6, 4


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


def shuffle_first_half(values, rng):
    out = values.copy()
    half = values.shape[0] // 2
    out[:half] = values[rng.permutation(half)]
    return out


def absolute_loss(y_true, y_pred):
    return float(np.mean(np.abs(y_true - y_pred)))


def squared_rows(y_true, y_pred):
    return (y_true - y_pred) ** 2


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


def cases():
    """(name, function returning a result) of every recorded call."""
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
        ("groups-cell", run(sequence_model, X, y, by="cell", groups={"a": ["x1", "x4"], "b": ["x2"]}, method="permute")),
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
    ]
    found += _r_cases(X, y, labels)
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


def _r_cases(X, y, labels):
    """Calls as the R package makes them: RValues in R's index order, R functions behind a binding."""
    from pyimportance import rlayer
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
    ]


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


def record(result) -> dict:
    """Numbers and text of one result (an ImportanceResult or the R layer's frame)."""
    if not hasattr(result, "importances_all"):
        frame = _plain(result)
        header = frame["attributes"].pop("summary", None)
        frame["attributes"].pop("confidence", None)  # added with the summary: the level R shows
        return {"numbers": frame, "text": {"header": header}}
    intervals = result.intervals
    numbers = {
        "importances_all": _plain(np.asarray(result.importances_all)),
        "baseline_scores": _plain(np.asarray(result.baseline_scores)),
        "std_error": _plain(np.asarray(intervals.std_error)),
        "ci_low": _plain(np.asarray(intervals.ci_low)),
        "ci_high": _plain(np.asarray(intervals.ci_high)),
        "p_value": _plain(np.asarray(intervals.p_value)),
        "p_adjusted": _plain(np.asarray(result.p_adjusted)),
        "block_size": intervals.block_size,
        "interval_method": intervals.method,
        "n_rows_used": int(result.n_rows_used),
        "converged": result.converged,
        "precision": _plain(result.precision),
        "frame": _plain({name: np.asarray(column) for name, column in result.to_frame().items()}),
        "settings": _plain({key: value for key, value in result.settings.items()}),
    }
    return {"numbers": numbers, "text": {"repr": repr(result), "summary": result.summary()}}


def _record_all(path: str) -> None:
    recorded = {}
    for name, call in cases():
        try:
            recorded[name] = record(call())
        except Exception as error:  # an error is a result too: it must stay the same
            recorded[name] = {"numbers": {"error": type(error).__name__}, "text": {"message": str(error)}}
    with open(path, "w") as file:
        json.dump(recorded, file, indent=0, sort_keys=True, default=str)
    print(f"recorded {len(recorded)} cases in {path}")


def _compare(old_path: str, new_path: str) -> int:
    with open(old_path) as file:
        old = json.load(file)
    with open(new_path) as file:
        new = json.load(file)
    missing = sorted(set(old) ^ set(new))
    numbers = [name for name in old if name in new and old[name]["numbers"] != new[name]["numbers"]]
    text = [name for name in old if name in new and old[name]["text"] != new[name]["text"]]
    print(f"{len(old)} cases recorded before, {len(new)} after; missing on one side: {missing or 'none'}")
    print(f"numbers differ in {len(numbers)} case(s): {numbers or 'none'}")
    print(f"text differs in {len(text)} case(s): {text or 'none'}")
    for name in numbers:
        before, after = old[name]["numbers"], new[name]["numbers"]
        keys = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
        print(f"  {name}: {keys}")
    return 1 if numbers or missing else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="record the engine on PYTHONPATH into this JSON file")
    parser.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"), help="compare two recordings")
    args = parser.parse_args(argv)
    if args.compare:
        return _compare(*args.compare)
    if not args.out:
        parser.error("give --out FILE or --compare OLD NEW")
    _record_all(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
