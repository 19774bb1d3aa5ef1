"""Each estimator against the device's limit: one model, one script, under 5 minutes on one GPU.

Usage::

    python bench/bench_device.py [--out table.md]       # LSTM(64) on 2,000 x 200 x 20 (a GPU: about 1 minute)
    python bench/bench_device.py --quick                # LSTM(8) on 48 x 6 x 3, on the CPU in seconds (CI)

The limits are measured first, on the same model (Keras 3 on TensorFlow): the *forward* limit, the
rows per second of the fastest compiled forward pass (``tf.function``, with and without XLA, at a
few batch sizes), and the *forward + backward* limit, the rows per second of the fastest compiled
gradient of the output with respect to the inputs (``tf.GradientTape``), as integrated gradients
need for each path point. Then each estimator of the registry runs twice (the first run pays the
compilation, the second is the one compared) with its defaults but ``progress=False``:
``perturbation_importance`` and ``shapley_importance`` by feature, ``sensitivity_importance`` by cell
(its cost does not depend on the units). Its model rows are counted at the engine's compiled
predict function; the gradient rows of integrated gradients are ``n_rows x n_steps`` (one per path
point; the derivative measure: one per row).

Printed (and written to ``--out``): per estimator its seconds, its forward and gradient rows, and
the ratio of its time to the time the device needs for those rows at its limits: ``vs forward``
counts every row at the forward limit, ``vs forward+backward`` counts gradient rows at the forward
+ backward limit and the others at the forward limit (only for an estimator that takes
gradients). A ratio of 1.0 is the device's limit; 1.3 means 30% over it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


@dataclass(frozen=True)
class Size:
    """The model and data of a run, and the limits' probes."""

    n_rows: int
    n_timesteps: int
    n_features: int
    units: int  # LSTM units
    batches: tuple[int, ...]  # batch sizes the limits try
    xla: tuple[bool, ...]  # compilations the limits try (XLA or not)
    probe_seconds: float  # time per (compilation, batch size) probe


FULL = Size(2_000, 200, 20, 64, (1024, 2048, 4096, 8192), (False, True), 1.0)
QUICK = Size(48, 6, 3, 8, (256,), (False,), 0.1)

#: Each estimator's run: its options beyond the defaults (cheap ones with --quick).
RUNS = {
    "perturbation": ({"by": "feature"}, {"by": "feature", "n_repeats": 2}),
    "shapley": ({"by": "feature"}, {"by": "feature", "n_repeats": 2, "n_draws": 2}),
    "sensitivity": ({"by": "cell"}, {"by": "cell"}),
}


@dataclass
class Limit:
    """The fastest rows per second of a compiled call, and where it was found."""

    rate: float
    xla: bool
    batch: int

    def describe(self) -> str:
        return f"{self.rate:,.0f} rows/s ({'XLA' if self.xla else 'tf.function'}, batch {self.batch})"


@dataclass
class Measured:
    """One estimator's run: seconds (cold: the first, with compilation; warm: the second) and rows."""

    name: str
    cold: float
    warm: float
    forward_rows: int
    gradient_rows: int

    def versus_forward(self, forward: Limit) -> float:
        return self.warm / ((self.forward_rows + self.gradient_rows) / forward.rate)

    def versus_backward(self, forward: Limit, backward: Limit) -> float:
        return self.warm / (self.forward_rows / forward.rate + self.gradient_rows / backward.rate)


def make_model(size: Size):
    """An LSTM -> Dense(1) with seeded weights (untrained: the timings do not depend on the weights)."""
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((size.n_timesteps, size.n_features)), keras.layers.LSTM(size.units),
                             keras.layers.Dense(1)])


def make_data(size: Size) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(size.n_rows, size.n_timesteps, size.n_features)).astype(np.float32)


def _rate(call: Callable, chunk, seconds: float) -> float:
    """Rows per second of ``call(chunk)`` over at least ``seconds`` (after one call that compiles)."""
    np.asarray(call(chunk))
    calls, start = 0, time.perf_counter()
    while calls < 2 or time.perf_counter() - start < seconds:
        np.asarray(call(chunk))
        calls += 1
    return calls * chunk.shape[0] / (time.perf_counter() - start)


def find_limit(make_call: Callable[[bool], Callable], X: np.ndarray, size: Size) -> Limit:
    """The fastest of ``make_call(xla)`` over the batch sizes."""
    import tensorflow as tf

    best = Limit(0.0, False, 0)
    for xla in size.xla:
        call = make_call(xla)
        for batch in size.batches:
            chunk = tf.constant(np.resize(X, (batch,) + X.shape[1:]))
            rate = _rate(call, chunk, size.probe_seconds)
            if rate > best.rate:
                best = Limit(rate, xla, batch)
    return best


def forward_call(model) -> Callable[[bool], Callable]:
    import tensorflow as tf

    return lambda xla: tf.function(lambda x: model(x, training=False), jit_compile=xla)


def gradient_call(model) -> Callable[[bool], Callable]:
    """The gradient of the summed output with respect to the inputs: one backward pass per row."""
    import tensorflow as tf

    def make(xla: bool):
        @tf.function(jit_compile=xla)
        def gradient(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                output = tf.reduce_sum(model(x, training=False))
            return tape.gradient(output, x)

        return gradient

    return make


def counted_run(function: Callable, model, X: np.ndarray, options: dict) -> tuple[float, int, object]:
    """Seconds, forward rows (counted at the engine's compiled predict function) and result of one run."""
    from pyimportance.model.predict import PredictFunction

    counted = [0]
    call = PredictFunction.__call__

    def counting(self, arguments):
        first = arguments[0] if isinstance(arguments, list) else next(iter(arguments.values())) \
            if isinstance(arguments, dict) else arguments
        counted[0] += first.shape[0]
        return call(self, arguments)

    PredictFunction.__call__ = counting
    try:
        start = time.perf_counter()
        result = function(model, X, progress=False, random_state=0, **options)
        seconds = time.perf_counter() - start
    finally:
        PredictFunction.__call__ = call
    return seconds, counted[0], result


def gradient_rows(result) -> int:
    """Gradient evaluations of a sensitivity run: one per path point and row (derivative: one per row)."""
    settings = result.settings
    if settings.get("estimator") != "sensitivity":
        return 0
    points = settings["n_steps"] if settings["method"] == "integrated_gradients" else 1
    return int(result.n_rows_used) * int(points)


def measure(name: str, model, X: np.ndarray, quick: bool) -> Measured:
    from pyimportance import registry

    function = registry.estimator(name).function
    options = RUNS[name][1 if quick else 0]
    cold, _, _ = counted_run(function, model, X, options)
    warm, rows, result = counted_run(function, model, X, options)
    gradients = gradient_rows(result)
    # the forward rows counted include none of the gradient calls (their own compiled function)
    return Measured(name, cold, warm, rows, gradients)


def table(measured: list[Measured], forward: Limit, backward: Limit) -> list[str]:
    lines = ["| estimator | cold s | warm s | forward rows | gradient rows | vs forward | vs forward+backward |",
             "|---|---|---|---|---|---|---|"]
    for run in measured:
        both = f"{run.versus_backward(forward, backward):.2f}x" if run.gradient_rows else "-"
        lines.append(f"| {run.name} | {run.cold:.2f} | {run.warm:.2f} | {run.forward_rows:,} | {run.gradient_rows:,} "
                     f"| {run.versus_forward(forward):.2f}x | {both} |")
    return lines


def device_description() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return f"CPU ({os.cpu_count()} cores)"
    details = tf.config.experimental.get_device_details(gpus[0])
    return f"{len(gpus)} x {details.get('device_name', 'GPU')}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small model and data set, in seconds on a CPU")
    parser.add_argument("--out", type=Path, help="also write the report (Markdown) here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    size = QUICK if args.quick else FULL
    model, X = make_model(size), make_data(size)
    forward = find_limit(forward_call(model), X, size)
    backward = find_limit(gradient_call(model), X, size)
    print(f"forward limit {forward.describe()}; forward + backward limit {backward.describe()}", flush=True)
    measured = []
    for name in RUNS:
        measured.append(measure(name, model, X, args.quick))
        print(f"{name}: {measured[-1].warm:.2f} s", flush=True)
    lines = [
        f"Device: {device_description()}; LSTM({size.units}) -> Dense(1) on {size.n_rows:,} x {size.n_timesteps} x "
        f"{size.n_features}{' (--quick)' if args.quick else ''}; {time.perf_counter() - started:.0f} s in all.",
        "",
        f"Limits: forward {forward.describe()}; forward + backward {backward.describe()}.",
        "",
        *table(measured, forward, backward),
        "",
    ]
    print("\n".join(lines))
    if args.out is not None:
        args.out.write_text("\n".join(lines), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
