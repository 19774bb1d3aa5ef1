"""Benchmark: pyimportance against the hand-written loop, scikit-learn, R, and the hardware limit.

Usage::

    python bench/run_bench.py --out bench/RESULTS.md [--quick] [--cases small,common,...] [--skip-r]

Every contender works on the same trained LSTM(64) -> Dense(1) model (a fresh clone with the
same weights each, so each pays its own first-call compilation) and the same data, in one
process:

loop      the loop users write today: for each unit and repeat, copy X, add Gaussian noise to
          the unit, ``model.predict(Xp, verbose=0)`` (Keras' default batch size), mean absolute
          change of the predictions.
limit     the hardware limit: the same number of rows through the model's fastest compiled
          forward pass (best of tf.function / XLA over a few batch sizes), doing nothing else;
          compilation excluded.
pyimp     ``perturbation_importance`` with default settings (compilation included).
sklearn   for method="permute": ``sklearn.inspection.permutation_importance`` through an adapter
          that permutes whole feature sequences, against pyimportance with method="permute".
R         (optional) the same loop in R through reticulate (bench/r_loop.R) against the R
          package's single call.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import psutil  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SCALE = 0.1  # noise sd as a fraction of each feature's sd (pyimportance's default)
SEED = 0
LIMIT_BATCHES = (1024, 2048, 4096, 8192)


@dataclass(frozen=True)
class Case:
    """One workload: data shape, repeats, unit granularity, and how much of the loop to time."""

    name: str
    n_samples: int
    n_timesteps: int
    n_features: int
    n_repeats: int
    by: str = "feature"
    loop_units: int | None = None  # time the loop on this many units and extrapolate (None: all)
    peers: bool = True  # run the scikit-learn permute comparison

    @property
    def n_units(self) -> int:
        return self.n_features * (self.n_timesteps if self.by == "cell" else 1)

    @property
    def total_rows(self) -> int:
        return self.n_samples * (self.n_units * self.n_repeats + 1)


FULL_CASES = {
    "small": Case("small", 100, 10, 5, 1),
    "common": Case("common", 1_000, 10, 20, 5),
    "medium": Case("medium", 10_000, 30, 20, 5),
    "large": Case("large", 100_000, 30, 50, 3, loop_units=1, peers=False),
    "cell": Case("cell", 10_000, 30, 20, 5, by="cell", loop_units=4, peers=False),
}
QUICK_CASES = {
    "small": Case("small", 100, 10, 5, 1, peers=False),
    "common": Case("common", 1_000, 10, 20, 5, loop_units=3, peers=False),
    "medium": Case("medium", 2_000, 30, 20, 2, loop_units=2),
    "large": Case("large", 4_000, 30, 50, 1, loop_units=1, peers=False),
    "cell": Case("cell", 500, 30, 20, 1, by="cell", loop_units=10, peers=False),
}


# --------------------------------------------------------------------------- measuring


class PeakRSS:
    """Context manager sampling this process's resident memory every few milliseconds."""

    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def peak_mib(self) -> float:
        return self.peak / 2**20

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.start) / 2**20


@dataclass
class Timing:
    """One contender's result on one case."""

    seconds: float  # wall time for the whole workload (extrapolated where noted)
    rows: int
    peak_mib: float = float("nan")
    growth_mib: float = float("nan")
    note: str = ""
    measured_seconds: float | None = None  # time actually measured, when extrapolated
    importances: list[float] = field(default_factory=list)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")


def timed(function: Callable[[], object]) -> tuple[float, PeakRSS, object]:
    """Wall time, memory and return value of ``function()``."""
    with PeakRSS() as memory:
        start = time.perf_counter()
        value = function()
        seconds = time.perf_counter() - start
    return seconds, memory, value


# --------------------------------------------------------------------------- model and data


def make_data(n_samples: int, n_timesteps: int, n_features: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random sequences and a target that depends on a few features at a few time steps."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_timesteps, n_features)).astype(np.float32)
    y = (
        1.0 * X[:, -1, 0]
        + 0.5 * X[:, :, 1 % n_features].mean(axis=1) * np.sqrt(n_timesteps)
        - 0.3 * X[:, n_timesteps // 2, 2 % n_features]
        + 0.1 * rng.normal(size=n_samples)
    )
    return X, y.astype(np.float32)


def train_model(n_timesteps: int, n_features: int):
    """LSTM(64) -> Dense(1), trained for a few seconds on data like the benchmark's."""
    import keras

    keras.utils.set_random_seed(SEED)
    model = keras.Sequential([keras.Input((n_timesteps, n_features)), keras.layers.LSTM(64), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    X, y = make_data(2_000, n_timesteps, n_features, seed=SEED + 1)
    model.fit(X, y, epochs=2, batch_size=128, verbose=0)
    return model


def fresh_copy(model):
    """A clone with the same weights and no compiled functions: it pays its own compilation."""
    import keras

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def case_units(case: Case) -> list[tuple[int | None, int]]:
    """(time step or None, feature) of each unit, in pyimportance's order."""
    if case.by == "cell":
        return [(t, f) for t in range(case.n_timesteps) for f in range(case.n_features)]
    return [(None, f) for f in range(case.n_features)]


# --------------------------------------------------------------------------- contenders


def run_loop(model, X: np.ndarray, case: Case) -> Timing:
    """The hand-written loop; timed on ``case.loop_units`` units and extrapolated when set."""
    units = case_units(case)
    measured_units = units if case.loop_units is None else units[: case.loop_units]
    rng = np.random.default_rng(SEED)
    sd = X.std(axis=(0, 1), dtype=np.float64)
    importances = []

    def loop() -> float:
        start = time.perf_counter()
        baseline = model.predict(X, verbose=0)
        baseline_seconds = time.perf_counter() - start
        for step, feature in measured_units:
            for _ in range(case.n_repeats):
                Xp = X.copy()
                if step is None:
                    Xp[:, :, feature] += rng.normal(0.0, SCALE * sd[feature], size=Xp.shape[:2])
                else:
                    Xp[:, step, feature] += rng.normal(0.0, SCALE * sd[feature], size=Xp.shape[0])
                predictions = model.predict(Xp, verbose=0)
                importances.append(float(np.mean(np.abs(predictions - baseline))))
        return baseline_seconds

    seconds, memory, baseline_seconds = timed(loop)
    timing = Timing(seconds, case.total_rows, memory.peak_mib, memory.growth_mib)
    timing.importances = list(np.mean(np.reshape(importances, (len(measured_units), case.n_repeats)), axis=1))
    if len(measured_units) < len(units):
        per_unit = (seconds - baseline_seconds) / len(measured_units)
        timing.measured_seconds = seconds
        timing.seconds = baseline_seconds + per_unit * len(units)
        timing.note = f"extrapolated from {len(measured_units)} of {len(units)} units"
    return timing


def _measure_rate(forward, chunk: np.ndarray, min_seconds: float) -> float:
    """Rows per second of ``forward`` on ``chunk`` (already compiled), over at least ``min_seconds``."""
    calls, start = 0, time.perf_counter()
    while True:
        np.asarray(forward(chunk))
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds and calls >= 2:
            return calls * chunk.shape[0] / elapsed


def find_limit(model, X: np.ndarray, probe_seconds: float, batches: tuple[int, ...] = LIMIT_BATCHES) -> dict:
    """Fastest forward pass of ``model``: the best of tf.function / XLA at a few batch sizes."""
    import tensorflow as tf

    best = {"rate": 0.0}
    tried = []
    for xla in (False, True):
        forward = tf.function(lambda x: model(x, training=False), jit_compile=xla)
        for batch in batches:
            chunk = np.resize(X, (batch,) + X.shape[1:])
            forward(chunk)  # compile for this shape
            rate = _measure_rate(forward, chunk, probe_seconds)
            tried.append({"xla": xla, "batch": batch, "rate": rate})
            if rate > best["rate"]:
                best = {"rate": rate, "xla": xla, "batch": batch, "forward": forward, "chunk": chunk}
    best["tried"] = tried
    return best


def run_limit(limit: dict, case: Case, confirm_seconds: float) -> Timing:
    """Push rows through the fastest forward pass: all of them, or for ``confirm_seconds`` and extrapolate."""
    forward, chunk = limit["forward"], limit["chunk"]
    calls = -(-case.total_rows // chunk.shape[0])
    rate_guess = limit["rate"]
    budget_calls = max(2, int(confirm_seconds * rate_guess / chunk.shape[0]))
    run_calls = min(calls, budget_calls)

    def push() -> None:
        for _ in range(run_calls):
            np.asarray(forward(chunk))

    seconds, memory, _ = timed(push)
    config = f"{'XLA' if limit['xla'] else 'tf.function'}, batch {chunk.shape[0]}"
    timing = Timing(seconds, case.total_rows, memory.peak_mib, memory.growth_mib, note=config)
    rate = run_calls * chunk.shape[0] / seconds
    timing.seconds = case.total_rows / max(rate, limit["rate"])
    if run_calls < calls:
        timing.measured_seconds = seconds
        timing.note += f"; rate measured on {run_calls * chunk.shape[0]:,} rows"
    return timing


def run_pyimportance(model, X: np.ndarray, case: Case, method: str = "gaussian") -> Timing:
    """``perturbation_importance`` with default settings (first-call compilation included)."""
    from pyimportance import perturbation_importance

    def call():
        return perturbation_importance(
            model, X, method=method, n_repeats=case.n_repeats, by=case.by, random_state=SEED, progress=False
        )

    seconds, memory, result = timed(call)
    timing = Timing(seconds, case.total_rows, memory.peak_mib, memory.growth_mib)
    timing.importances = [float(v) for v in result.importances_mean]
    return timing


def _sequence_adapter_class():
    """The adapter class (built lazily: scikit-learn is only needed for this comparison)."""
    from sklearn.base import BaseEstimator, RegressorMixin

    class SequencePermutationAdapter(RegressorMixin, BaseEstimator):
        """A 3D-input Keras model seen by scikit-learn as a 2D model over per-feature sample indices.

        ``X_index`` has shape (n, F) and ``X_index[i, f]`` says whose sequence of feature ``f``
        sample ``i`` gets. Permuting column ``f`` (what sklearn does) therefore permutes whole
        sequences of feature ``f`` across samples; ``predict`` rebuilds the 3D array by gathering.
        """

        def __init__(self, model=None, X3=None):
            self.model = model
            self.X3 = X3

        def fit(self, X, y=None):
            return self

        def predict(self, X_index) -> np.ndarray:
            index = np.asarray(X_index, dtype=np.intp)
            rebuilt = np.empty_like(self.X3)
            for feature in range(self.X3.shape[2]):
                rebuilt[:, :, feature] = self.X3[index[:, feature], :, feature]
            return self.model.predict(rebuilt, verbose=0).ravel()

    return SequencePermutationAdapter


def run_sklearn_permute(model, X: np.ndarray, case: Case) -> Timing:
    """scikit-learn's permutation_importance through the sequence-permuting adapter."""
    from sklearn.inspection import permutation_importance

    def call():
        adapter = _sequence_adapter_class()(model, X)
        X_index = np.repeat(np.arange(X.shape[0])[:, None], X.shape[2], axis=1)
        baseline = adapter.predict(X_index)  # y = baseline: importance = mean absolute change
        return permutation_importance(
            adapter, X_index, baseline, scoring="neg_mean_absolute_error", n_repeats=case.n_repeats, random_state=SEED
        )

    seconds, memory, result = timed(call)
    timing = Timing(seconds, case.total_rows, memory.peak_mib, memory.growth_mib)
    timing.importances = [float(v) for v in result.importances_mean]
    return timing


R_LOOP_UNITS_LARGE = 4


def run_r(model, X: np.ndarray, case: Case, workdir: Path) -> dict | None:
    """bench/r_loop.R: the loop in R through reticulate, then the R package's single call."""
    rscript = shutil.which("Rscript")
    rlib = REPO / ".rlib"
    if rscript is None or not (rlib / "pyimportance").is_dir():
        return None
    model_path = workdir / f"{case.name}.keras"
    x_path = workdir / f"{case.name}_X.npy"
    model.save(model_path)
    np.save(x_path, X)
    env = dict(os.environ, R_LIBS=str(rlib), RETICULATE_PYTHON=sys.executable, PYIMPORTANCE_PYTHON=sys.executable)
    # The R loop costs as much per unit as Python's; on large cases time a few units and extrapolate.
    max_units = case.loop_units or (R_LOOP_UNITS_LARGE if case.n_samples >= 10_000 else case.n_features)
    command = [rscript, str(HERE / "r_loop.R"), str(model_path), str(x_path), str(case.n_repeats), str(max_units)]
    completed = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=3600)
    values = {}
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            _, key, value = line.split(maxsplit=2)
            values[key] = float(value) if value != "NA" else float("nan")
    if completed.returncode != 0 or "loop_seconds" not in values:
        return {"error": (completed.stderr or completed.stdout)[-500:]}
    measured = values["loop_seconds"]
    per_unit = (measured - values["baseline_seconds"]) / max_units
    values["loop_total_seconds"] = values["baseline_seconds"] + per_unit * case.n_features
    values["extrapolated"] = max_units < case.n_features
    return values


# --------------------------------------------------------------------------- scaling


def run_scaling(model, n_timesteps: int, n_features: int, points: list[tuple[int, int]]) -> list[dict]:
    """pyimportance time and memory at several (n_samples, n_repeats); one model, one shape."""
    rows = []
    for n_samples, n_repeats in points:
        X, _ = make_data(n_samples, n_timesteps, n_features, seed=SEED + 2)
        case = Case(f"scale-{n_samples}x{n_repeats}", n_samples, n_timesteps, n_features, n_repeats)
        timing = run_pyimportance(model, X, case)
        rows.append(
            {
                "n_samples": n_samples,
                "n_units_x_repeats": n_features * n_repeats,
                "rows": case.total_rows,
                "seconds": timing.seconds,
                "growth_mib": timing.growth_mib,
            }
        )
        print(f"  scaling {case.name}: {timing.seconds:.2f} s, +{timing.growth_mib:.0f} MiB", flush=True)
    return rows


def fit_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least squares y = a + b x; returns (a, b, R^2)."""
    b, a = np.polyfit(x, y, 1)
    residual = y - (a + b * x)
    total = y - y.mean()
    r2 = 1.0 - float(residual @ residual) / float(total @ total) if total.any() else float("nan")
    return float(a), float(b), r2


# --------------------------------------------------------------------------- report


def machine_description() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import keras
    import tensorflow as tf

    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{psutil.cpu_count(logical=True)} logical cores ({cpu}), {memory:.0f} GiB RAM, GPU: none; "
        f"Python {platform.python_version()}, NumPy {np.__version__}, TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}; load average at start {os.getloadavg()[0]:.2f}"
    )


def _fmt_time(timing: Timing | None) -> str:
    if timing is None:
        return "–"
    mark = "*" if timing.measured_seconds is not None else ""
    return f"{timing.seconds:,.{3 if timing.seconds < 1 else 2}f}{mark}"


def _fmt_rate(timing: Timing | None) -> str:
    return "–" if timing is None else f"{timing.rows_per_s:,.0f}"


def _ratio(a: Timing | None, b: Timing | None) -> str:
    if a is None or b is None:
        return "–"
    return f"{a.seconds / b.seconds:.2f}x"


def _agreement(a: Timing | None, b: Timing | None) -> str:
    """Pearson correlation of the mean importances over the units both measured."""
    if a is None or b is None or not a.importances or not b.importances:
        return "–"
    k = min(len(a.importances), len(b.importances))
    if k < 3:
        return "–"
    return f"{np.corrcoef(a.importances[:k], b.importances[:k])[0, 1]:.3f}"


def write_report(path: Path, results: dict, args) -> None:
    lines = [
        "# pyimportance benchmark",
        "",
        f"Generated by `python bench/run_bench.py {' '.join(args.argv)}` on {time.strftime('%Y-%m-%d %H:%M')}"
        f" in {results['total_seconds']:.0f} s.",
        "",
        f"Machine: {results['machine']}.",
        "",
        "Model: LSTM(64) -> Dense(1), trained 2 epochs on 2,000 synthetic sequences; data: standard normal",
        f"float32. Noise: Gaussian, sd = {SCALE} x feature sd. Importance = mean absolute change of the",
        "predictions (y=None). Every contender gets a fresh clone of the model (same weights), so each pays",
        "its own first-call compilation. Times in seconds, wall clock; `*` = extrapolated (see notes).",
        "",
        "## Gaussian noise: loop vs pyimportance vs hardware limit",
        "",
        "| case | n x T x F | by | repeats | rows | loop s | pyimp s | limit s | loop/pyimp | pyimp/limit "
        "| pyimp rows/s | limit rows/s | limit config | RSS growth MiB (pyimp / loop) | agreement |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in results["cases"].items():
        case = Case(**entry["case"])
        loop, pyimp, limit = (_timing(entry.get(key)) for key in ("loop", "pyimportance", "limit"))
        lines.append(
            f"| {name} | {case.n_samples:,} x {case.n_timesteps} x {case.n_features} | {case.by} | {case.n_repeats} "
            f"| {case.total_rows:,} | {_fmt_time(loop)} | {_fmt_time(pyimp)} | {_fmt_time(limit)} "
            f"| {_ratio(loop, pyimp)} | {_ratio(pyimp, limit)} | {_fmt_rate(pyimp)} | {_fmt_rate(limit)} "
            f"| {limit.note.split(';')[0] if limit else '–'} "
            f"| {pyimp.growth_mib:,.0f} / {loop.growth_mib:,.0f} | {_agreement(loop, pyimp)} |"
        )
    lines += [
        "",
        "`agreement`: Pearson correlation between the loop's and pyimportance's mean importances over the",
        "units the loop measured (different random noise, so not identical).",
        "",
        "## method=\"permute\": scikit-learn (adapter) vs pyimportance",
        "",
        "| case | rows | sklearn s | pyimp s | sklearn/pyimp | RSS growth MiB (pyimp / sklearn) | agreement |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, entry in results["cases"].items():
        peer, pyimp = _timing(entry.get("sklearn_permute")), _timing(entry.get("pyimportance_permute"))
        if peer is None:
            continue
        lines.append(
            f"| {name} | {peer.rows:,} | {_fmt_time(peer)} | {_fmt_time(pyimp)} | {_ratio(peer, pyimp)} "
            f"| {pyimp.growth_mib:,.0f} / {peer.growth_mib:,.0f} | {_agreement(peer, pyimp)} |"
        )
    lines += ["", "## From R (reticulate)", ""]
    r_rows = [(name, entry["r"]) for name, entry in results["cases"].items() if entry.get("r")]
    if not r_rows:
        lines.append(f"Not run: {results.get('r_skipped', 'no R results')}.")
    else:
        lines += ["| case | R loop s | R package call s | loop/package |", "|---|---|---|---|"]
        for name, values in r_rows:
            if "error" in values:
                lines.append(f"| {name} | failed: {values['error'][-200:]!r} | | |")
                continue
            mark = "*" if values.get("extrapolated") else ""
            package = values.get("package_seconds", float("nan"))
            lines.append(
                f"| {name} | {values['loop_total_seconds']:.2f}{mark} | {package:.2f} "
                f"| {values['loop_total_seconds'] / package:.1f}x |"
            )
    scaling = results.get("scaling")
    if scaling:
        a, b, r2 = scaling["fit"]
        lines += [
            "",
            "## Scaling (pyimportance, one model, T={T}, F={F})".format(**scaling),
            "",
            "| n_samples | units x repeats | rows | seconds | RSS growth MiB |",
            "|---|---|---|---|---|",
        ]
        for point in scaling["points"]:
            lines.append(
                f"| {point['n_samples']:,} | {point['n_units_x_repeats']} | {point['rows']:,} "
                f"| {point['seconds']:.2f} | {point['growth_mib']:.0f} |"
            )
        lines += [
            "",
            f"Fit: time = {a:.3f} s + {b * 1e6:.2f} µs x rows (R^2 = {r2:.4f}); "
            f"i.e. {1 / b:,.0f} rows/s after a fixed {a:.2f} s.",
        ]
    lines += ["", "## Notes", ""] + [f"- {note}" for note in results["notes"]]
    path.write_text("\n".join(lines) + "\n")


def _timing(data: dict | None) -> Timing | None:
    if data is None:
        return None
    data = dict(data)
    return Timing(**{key: data[key] for key in Timing.__dataclass_fields__ if key in data})


# --------------------------------------------------------------------------- main


def run_case(case: Case, args, limits: dict, workdir: Path) -> dict:
    print(f"case {case.name}: {case.n_samples} x {case.n_timesteps} x {case.n_features}, by={case.by}, "
          f"{case.n_repeats} repeats, {case.total_rows:,} rows", flush=True)
    model = train_model(case.n_timesteps, case.n_features)
    X, _ = make_data(case.n_samples, case.n_timesteps, case.n_features, seed=SEED + 3)
    entry: dict = {"case": asdict(case)}

    def record(key: str, timing: Timing | None) -> None:
        if timing is not None:
            entry[key] = asdict(timing)
            print(f"  {key}: {timing.seconds:.2f} s ({timing.rows_per_s:,.0f} rows/s) {timing.note}", flush=True)

    record("pyimportance", run_pyimportance(fresh_copy(model), X, case))
    record("loop", run_loop(fresh_copy(model), X, case))
    shape = (case.n_timesteps, case.n_features)
    if shape not in limits:
        limits[shape] = find_limit(fresh_copy(model), X, args.probe_seconds, args.limit_batches)
        print("  limit probes: " + ", ".join(
            f"{'xla' if t['xla'] else 'tf'}@{t['batch']}={t['rate']:,.0f}" for t in limits[shape]["tried"]), flush=True)
    record("limit", run_limit(limits[shape], case, confirm_seconds=args.confirm_seconds))
    if case.peers:
        record("pyimportance_permute", run_pyimportance(fresh_copy(model), X, case, method="permute"))
        record("sklearn_permute", run_sklearn_permute(fresh_copy(model), X, case))
    if not args.skip_r and case.by == "feature" and case.name in ("small", "common", "medium"):
        entry["r"] = run_r(fresh_copy(model), X, case, workdir)
        print(f"  r: {entry['r']}", flush=True)
    entry["limit_probes"] = limits[shape]["tried"]
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--quick", action="store_true", help="reduced sizes, about a minute (smoke test)")
    parser.add_argument("--cases", default="small,common,medium,large,cell")
    parser.add_argument("--skip-r", action="store_true", help="skip the R comparison")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    args.probe_seconds = 0.3 if args.quick else 1.0
    args.confirm_seconds = 1.0 if args.quick else 20.0
    args.limit_batches = (2048, 4096) if args.quick else LIMIT_BATCHES
    table = QUICK_CASES if args.quick else FULL_CASES
    names = [name.strip() for name in args.cases.split(",") if name.strip()]
    unknown = [name for name in names if name not in table]
    if unknown:
        parser.error(f"--cases must name cases among {', '.join(table)}, got {', '.join(unknown)}")

    started = time.perf_counter()
    results: dict = {"machine": machine_description(), "cases": {}, "notes": []}
    limits: dict = {}
    with tempfile.TemporaryDirectory(prefix="pyimportance-bench-") as workdir:
        for name in names:
            results["cases"][name] = run_case(table[name], args, limits, Path(workdir))
        if not any(entry.get("r") for entry in results["cases"].values()):
            results["r_skipped"] = "--skip-r given" if args.skip_r else "Rscript or the R package in .rlib not found"
        shape = (30, 20)
        points = [(250, 1), (500, 2), (1_000, 2)] if args.quick else [
            (2_000, 1), (2_000, 4), (5_000, 2), (10_000, 1), (10_000, 4)]
        print("scaling", flush=True)
        scaling_points = run_scaling(train_model(*shape), *shape, points)
        fit = fit_line(np.array([p["rows"] for p in scaling_points], float),
                       np.array([p["seconds"] for p in scaling_points]))
        results["scaling"] = {"T": shape[0], "F": shape[1], "points": scaling_points, "fit": fit}
    results["total_seconds"] = time.perf_counter() - started
    results["notes"] = notes(results, args)
    write_report(args.out, results, args)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))
    print(f"wrote {args.out} ({results['total_seconds']:.0f} s)")
    return 0


def notes(results: dict, args) -> list[str]:
    out = [
        "limit: rows/s of the best (tf.function or XLA, batch size in "
        f"{', '.join(map(str, args.limit_batches))}) forward pass on a prepared NumPy chunk, compilation excluded; "
        f"the time shown is total rows / that rate (at most {args.confirm_seconds:.0f} s of rows are pushed "
        "per case, the rest is linear by construction).",
        "loop: `model.predict(Xp, verbose=0)` per unit and repeat (batch size 32), on a fresh clone, so its "
        "first call includes Keras' own compilation; where marked `*` it was timed on the first units only and "
        "extrapolated linearly (baseline time + per-unit time x units).",
        "pyimp: `perturbation_importance(model, X, n_repeats=..., by=..., random_state=0, progress=False)`, "
        "all defaults otherwise, first call (tracing/XLA compilation included).",
        "sklearn: `sklearn.inspection.permutation_importance` on a (n, F) matrix of sample indices; the adapter's "
        "predict gathers `X[idx[:, f], :, f]` per feature and calls `model.predict(X3, verbose=0)`; "
        "y = baseline predictions and scoring='neg_mean_absolute_error', so its importance is the same mean "
        "absolute change as pyimportance's method='permute'.",
        "RSS growth: peak resident memory of the process (psutil, sampled every 5 ms) during the contender, minus "
        "its resident memory when the contender started (TensorFlow and X are already loaded then); the JSON file "
        "next to this one also has the absolute peaks.",
        "Engine (pyimportance/runner.py, predict.py): fixed-shape compiled forward (tf.function, XLA from 50k rows), "
        "4,096-row default chunks spread evenly over the calls, the baseline's last chunk topped up with the first "
        "jobs instead of padding, the next chunk built while TensorFlow predicts the current one (worker thread), "
        "and for by='timestep'/'cell' on a Sequential starting with a one-way LSTM/GRU the unperturbed time steps "
        "are skipped from cached layer states when the measured call times say it pays (checked bit for bit "
        "against the full forward pass on the first chunk of each start step).",
        "The machine is shared; timings vary by a few percent run to run.",
        "Full run: `make bench` (= `.venv/bin/python bench/run_bench.py --out bench/RESULTS.md`), about 15-25 "
        "minutes on 2 idle cores; the large case's loop is timed on 1 of 50 features and the cell case's on 4 of "
        "600 cells (each with all repeats) and extrapolated, the limit is pushed for 20 s per case and extrapolated; "
        "everything else runs in full. R is compared on small, common and medium (its loop timed on 4 of 20 features "
        "there and extrapolated) when Rscript and .rlib/pyimportance exist "
        "(`--skip-r` to leave it out).",
    ]
    targets = []
    cases = results["cases"]
    if "medium" in cases:
        m = {k: _timing(cases["medium"].get(k)) for k in ("loop", "pyimportance", "limit", "sklearn_permute",
                                                          "pyimportance_permute")}
        targets.append(f"medium: pyimp/limit = {_ratio(m['pyimportance'], m['limit'])} (target <= 1.15x), "
                       f"loop/pyimp = {_ratio(m['loop'], m['pyimportance'])} (target >= 5x), "
                       f"sklearn/pyimp (permute) = {_ratio(m['sklearn_permute'], m['pyimportance_permute'])} "
                       "(target > 1x)")
    if "common" in cases:
        c = {k: _timing(cases["common"].get(k)) for k in ("loop", "pyimportance")}
        targets.append(f"common: loop/pyimp = {_ratio(c['loop'], c['pyimportance'])} (target >= 10x, "
                       "compilation included)")
    if "small" in cases:
        s = {k: _timing(cases["small"].get(k)) for k in ("loop", "pyimportance")}
        targets.append(f"small: loop/pyimp = {_ratio(s['loop'], s['pyimportance'])} (target >= 1x)")
    r_medium = cases.get("medium", {}).get("r") or {}
    if r_medium.get("package_seconds"):
        targets.append(f"R medium: R loop/R package = "
                       f"{r_medium['loop_total_seconds'] / r_medium['package_seconds']:.2f}x (target >= 5x)")
    if args.quick:
        out.insert(0, "**--quick run: reduced sizes, for smoke testing; the targets refer to the full sizes.**")
    return out + ["Targets: " + "; ".join(targets)] if targets else out


if __name__ == "__main__":
    sys.exit(main())
