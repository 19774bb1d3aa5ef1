"""Cost and accuracy of method="conditional" with each conditional model: ridge (the default) and learners.

Usage::

    python bench/bench_conditional.py --out bench/RESULTS_conditional.md

It rewrites the section ``LEARNERS_HEADER`` of that file (the ridge measurements on the Keras
benchmark cases above it stay: they were made by this script's earlier version, before the layout).

A NumPy model on the sine example of issue 20 (x2 = sin(2 x1) + e, sd(e) = 0.3, y = x2 read by the
model; truth of x2's conditional importance 2 var(e) = 0.18), on windows of 4 steps and 2 features
(8 columns per row), at 2,000 and 10,000 rows. For each conditional model: the run's wall time,
the part spent fitting it (out of fold, before the run: timed by wrapping the sampler), and x2's
importance against the truth; ``method="permute"`` for reference. Learners run single-threaded
(``threadpoolctl``), as on a shared machine; the model's cost is negligible here, so the times are
the conditional model's overhead itself.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.neighbors import KNeighborsRegressor
from threadpoolctl import threadpool_limits

import pyimportance.api as api
from pyimportance import perturbation_importance

LEARNERS_HEADER = "## Learners: cost and accuracy of the conditional models (issue 20)"
NOISE_SD = 0.3
TRUTH = 2 * NOISE_SD**2
N_STEPS = 4
LEARNERS = {
    "ridge (default)": lambda: None,
    "HistGradientBoostingRegressor()": lambda: HistGradientBoostingRegressor(random_state=0),
    "HistGradientBoostingRegressor(max_iter=50, max_leaf_nodes=8)": lambda: HistGradientBoostingRegressor(
        max_iter=50, max_leaf_nodes=8, random_state=0),
    "KNeighborsRegressor(n_neighbors=20)": lambda: KNeighborsRegressor(n_neighbors=20),
}


def sine_windows(n_rows: int, seed: int = 0) -> np.ndarray:
    """(n, 4, 2) windows: x1 uniform on (-2, 2) at every step, x2 = sin(2 x1) + e."""
    rng = np.random.default_rng(seed)
    x1 = rng.uniform(-2, 2, (n_rows, N_STEPS))
    return np.stack([x1, np.sin(2 * x1) + rng.normal(0, NOISE_SD, (n_rows, N_STEPS))], axis=2)


def last_x2(x):
    return x[:, -1, 1]


def timed_run(X, learner, method="conditional"):
    """Wall time of the run, time in the sampler's fit, x2's importance."""
    fitted = {"seconds": 0.0}
    original = api.fit_sampler

    def fit_and_time(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            fitted["seconds"] += time.perf_counter() - start

    api.fit_sampler = fit_and_time
    try:
        start = time.perf_counter()
        options = dict(learner=learner) if method == "conditional" else {}
        result = perturbation_importance(last_x2, X, last_x2(X), method=method, n_repeats=5, random_state=0,
                                         **options)
        return time.perf_counter() - start, fitted["seconds"], float(result.importances_mean[1])
    finally:
        api.fit_sampler = original


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/RESULTS_conditional.md")
    parser.add_argument("--rows", default="2000,10000")
    args = parser.parse_args(argv)
    lines = [
        LEARNERS_HEADER,
        "",
        f"`python bench/bench_conditional.py` — {platform.platform()}, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, scikit-learn {sklearn.__version__}; single-threaded learners.",
        "",
        "Sine example: windows of 4 steps x 2 features, x1 ~ U(-2, 2), x2 = sin(2 x1) + N(0, 0.3²) at every "
        "step, a NumPy model reading x2 at the last step, y = that value; `method=\"conditional\"`, mse, 5 "
        f"repeats. Truth of x2's conditional importance: 2 var(e) = {TRUTH:.2f} (permute's: 2 var(x2), about "
        "1.1). A learner fits 5 folds per column of each unit, each with one learner on all the training rows and "
        "one on each half (2 units x 4 columns: 120 fits), ridge one Gram matrix. *fit*: time making the sampler "
        "(fits and out-of-fold predictions, before the run).",
        "",
        "| rows | conditional model | run | of which fit | x2 importance | / truth |",
        "|---|---|---|---|---|---|",
    ]
    with threadpool_limits(1):
        for n_rows in (int(n) for n in args.rows.split(",")):
            X = sine_windows(n_rows)
            seconds, _, value = timed_run(X, None, method="permute")
            lines.append(f"| {n_rows:,} | (`permute`, for reference) | {seconds:.2f} s | — | {value:.3f} | "
                         f"{value / TRUTH:.2f} |")
            for name, make in LEARNERS.items():
                seconds, fit_seconds, value = timed_run(X, make())
                lines.append(f"| {n_rows:,} | {name} | {seconds:.2f} s | {fit_seconds:.2f} s | {value:.3f} | "
                             f"{value / TRUTH:.2f} |")
    lines.append("")
    path = Path(args.out)
    before = path.read_text(encoding="utf-8").partition(LEARNERS_HEADER)[0] if path.exists() else ""
    path.write_text(before.rstrip("\n") + "\n\n" + "\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
