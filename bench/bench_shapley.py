"""Shapley importance (SAGE) on a Keras LSTM: pyimportance against sage-importance, and the cost per coalition.

Usage::

    python bench/bench_shapley.py --out bench/RESULTS_shapley.md [--quick]

1. *Time to converge*, same trained LSTM(64) and rows: ``pyimportance.shapley_importance`` at
   ``tolerance=0.05`` (largest 95% half-width at most 5% of the largest value, intervals about the
   population) against ``sage.PermutationEstimator`` with ``GroupedMarginalImputer`` (the LSTM
   wrapped as a 2D model, one column group per feature, 128 background rows) and its convergence
   detection ``thresh=0.025`` (largest sd at most 2.5% of the range of the values). sage's model
   call is the same compiled forward pass (``tf.function``) pyimportance uses, in chunks of 8,192
   rows, so the comparison is of estimators, not of model calls. Both first calls include
   compilation. Reported: seconds, ratio, model rows, the top three features of each.
2. *Cost per coalition*: the model rows pyimportance predicted per second during the run, against
   the forward limit (the fastest compiled forward pass at a large batch, measured alone).
3. A ``by="cell"`` run on the medium case (10,000 x 30 x 20; 600 cells): rows, seconds, rate.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402
from run_bench import SEED, find_limit, fresh_copy, machine_description, make_data, train_model  # noqa: E402

from pyimportance import shapley_importance  # noqa: E402

SAGE_BACKGROUND = 128
ORDERS = 4  # the most unit orders per row: a tolerance run adds pairs once the rows have run out
SAGE_CHUNK = 8192


def _compiled(model):
    import tensorflow as tf

    return tf.function(lambda x: model(x, training=False))


def sage_run(model, X: np.ndarray, y: np.ndarray, thresh: float) -> dict:
    """sage's PermutationEstimator with one column group per feature on the LSTM seen as a 2D model."""
    import sage

    n, steps, features = X.shape
    forward = _compiled(model)
    rows = [0]

    def flat_model(flat):
        rows[0] += flat.shape[0]
        shaped = flat.reshape(-1, steps, features).astype(np.float32)
        return np.concatenate([np.asarray(forward(shaped[start:start + SAGE_CHUNK]))
                               for start in range(0, len(shaped), SAGE_CHUNK)])[:, 0]

    flat = X.reshape(n, -1)
    groups = [list(range(f, steps * features, features)) for f in range(features)]
    start = time.perf_counter()
    imputer = sage.GroupedMarginalImputer(flat_model, flat[:SAGE_BACKGROUND], groups)
    estimator = sage.PermutationEstimator(imputer, "mse", random_state=SEED)
    explanation = estimator(flat, y, batch_size=512, thresh=thresh, bar=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "values": explanation.values, "std": explanation.std, "rows": rows[0]}


def ours_run(model, X: np.ndarray, y: np.ndarray, **options) -> dict:
    """One ``shapley_importance`` run, its seconds and the model rows it predicted (counted at the calls)."""
    from pyimportance.model.predict import PredictFunction

    counted = [0]
    call = PredictFunction.__call__

    def counting(self, arguments):
        counted[0] += (arguments[0] if isinstance(arguments, list) else arguments).shape[0]
        return call(self, arguments)

    PredictFunction.__call__ = counting
    try:
        start = time.perf_counter()
        result = shapley_importance(model, X, y, random_state=SEED, progress=False, **options)
        seconds = time.perf_counter() - start
    finally:
        PredictFunction.__call__ = call
    return {"seconds": seconds, "result": result, "rows": counted[0]}


def _top(values, names, k=3) -> list[str]:
    return [names[i] for i in np.argsort(-np.asarray(values), kind="stable")[:k]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS_shapley.md")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    # enough rows for a 95% interval about the population of 5% of the largest value (10,000 rows and 16
    # orders per row reached 8.6%: the rows' own spread, not the orders', sets the width here)
    n, steps, features = (2_000, 10, 4) if args.quick else (40_000, 10, 6)
    model = train_model(steps, features)
    X, y = make_data(n, steps, features, seed=SEED + 2)
    names = [f"x{f + 1}" for f in range(features)]
    limit = find_limit(fresh_copy(model), X, probe_seconds=1.0, batches=(4096, 8192))
    print(f"limit {limit['rate']:,.0f} rows/s", flush=True)

    # The machine is shared: ours runs before and after sage, and the slower of the two is the one compared.
    before = ours_run(fresh_copy(model), X, y, tolerance=0.05, n_repeats=ORDERS)
    print(f"ours {before['seconds']:.1f} s, {before['rows']:,} rows, precision {before['result'].precision}",
          flush=True)
    load_sage = os.getloadavg()[0]
    theirs = sage_run(fresh_copy(model), X, y, thresh=0.025)
    print(f"sage {theirs['seconds']:.1f} s, {theirs['rows']:,} rows", flush=True)
    after = ours_run(fresh_copy(model), X, y, tolerance=0.05, n_repeats=ORDERS)
    print(f"ours again {after['seconds']:.1f} s", flush=True)
    ours = max(before, after, key=lambda run: run["seconds"])
    result = ours["result"]

    cell_case = (1_000, 30, 20) if args.quick else (10_000, 30, 20)
    cell_model = train_model(cell_case[1], cell_case[2])
    X_cell, y_cell = make_data(*cell_case, seed=SEED + 2)
    cell_limit = find_limit(fresh_copy(cell_model), X_cell, probe_seconds=1.0, batches=(4096, 8192))
    cell_options = dict(by="cell", n_draws=2, max_samples=100 if args.quick else 400)
    cells = ours_run(fresh_copy(cell_model), X_cell, y_cell, **cell_options)
    print(f"cells {cells['seconds']:.1f} s, {cells['rows']:,} rows", flush=True)

    ratio = theirs["seconds"] / ours["seconds"]
    top_ours, top_sage = _top(result.importances_mean, names), _top(theirs["values"], names)
    lines = [
        "# Shapley importance (SAGE): pyimportance against sage-importance",
        "",
        f"Generated by `python bench/bench_shapley.py{' --quick' if args.quick else ''}` on "
        f"{time.strftime('%Y-%m-%d %H:%M')} in {time.perf_counter() - started:.0f} s.",
        "",
        f"Machine: {machine_description()}",
        "",
        "No GPU machine was lent to this session: every number is from the 2-core CPU machine above "
        "(shared with other work while it ran); the GPU ratios are still to be measured.",
        "",
        f"## Time to converge: LSTM(64), {n:,} x {steps} x {features}, mse",
        "",
        "| estimator | stopping rule | seconds | model rows | rows/s | converged |",
        "|---|---|---|---|---|---|",
        f"| pyimportance `shapley_importance` (K = {result.settings['n_draws']} draws, "
        f"{result.n_repeats_used} antithetic orders per row of at most {ORDERS}) | tolerance 0.05 (95% half-width "
        f"/ largest value, about the population) | {ours['seconds']:.1f} | {ours['rows']:,} | "
        f"{ours['rows'] / ours['seconds']:,.0f} "
        f"| {result.converged} (precision {result.precision:.3f} on {result.n_rows_used:,} rows) |",
        f"| sage `PermutationEstimator` + `GroupedMarginalImputer` ({SAGE_BACKGROUND} background rows) | "
        f"thresh 0.025 (sd / range) | {theirs['seconds']:.1f} | {theirs['rows']:,} | "
        f"{theirs['rows'] / theirs['seconds']:,.0f} | yes |",
        "",
        f"**Speed ratio: {ratio:.1f}x** (goal >= 10x), against the slower of pyimportance's two runs "
        f"({before['seconds']:.1f} s before sage, {after['seconds']:.1f} s after; the same numbers both times; "
        f"load average {load_sage:.1f} when sage started). Top three: pyimportance {top_ours}, sage {top_sage} "
        f"({'the same' if top_ours == top_sage else 'DIFFERENT'}).",
        "",
        "| feature | pyimportance | 95% interval | sage | sage sd |",
        "|---|---|---|---|---|",
        *(f"| {names[f]} | {result.importances_mean[f]:.4f} | [{result.ci_low[f]:.4f}, {result.ci_high[f]:.4f}] "
          f"| {theirs['values'][f]:.4f} | {theirs['std'][f]:.4f} |" for f in range(features)),
        "",
        f"v(all features) = {result.total:.4f} [{result.total_ci_low:.4f}, {result.total_ci_high:.4f}] "
        f"(sum of sage's values: {np.sum(theirs['values']):.4f}).",
        "",
        "Why the ratio: sage averages every coalition over its 128 background rows (128 model rows per row "
        "and coalition, and its loss of that average is biased by Var/128, small); pyimportance averages "
        f"over K = {result.settings['n_draws']} donor rows and removes the bias of so few draws "
        "(the jackknife, exact for squared error), so a coalition costs 16 times fewer model rows; its "
        "antithetic orders lower the variance per order.",
        "",
        "## Cost per coalition against the forward limit",
        "",
        "| run | model rows | seconds | rows/s | forward limit rows/s | run / limit time |",
        "|---|---|---|---|---|---|",
        f"| {n:,} x {steps} x {features}, by feature | {ours['rows']:,} | {ours['seconds']:.1f} | "
        f"{ours['rows'] / ours['seconds']:,.0f} | {limit['rate']:,.0f} ({'XLA' if limit['xla'] else 'tf.function'}"
        f", batch {limit['batch']}) | {ours['seconds'] / (ours['rows'] / limit['rate']):.2f}x |",
        f"| {cell_case[0]:,} x {cell_case[1]} x {cell_case[2]}, by cell ({len(cells['result'].units)} cells), "
        f"{cells['result'].n_rows_used} rows, K = 2 | {cells['rows']:,} | {cells['seconds']:.1f} | "
        f"{cells['rows'] / cells['seconds']:,.0f} | {cell_limit['rate']:,.0f} "
        f"({'XLA' if cell_limit['xla'] else 'tf.function'}, batch {cell_limit['batch']}) | "
        f"{cells['seconds'] / (cells['rows'] / cell_limit['rate']):.2f}x |",
        "",
        f"The by-cell run's v(all cells) = {cells['result'].total:.4f}; its largest cells: "
        + ", ".join(f"{row.feature}@t{int(row.timestep) + 1} {row.importance:.4f}"
                    for row in cells["result"].to_frame().head(3).itertuples())
        + f"; precision (largest half-width / largest value) "
          f"{_precision(cells['result']):.2f} on {cells['result'].n_rows_used} rows.",
        "",
        "Not done: prefix reuse (coalitions that share leading time steps are predicted in full); the GPU run.",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


def _precision(result) -> float:
    half = (result.ci_high - result.ci_low) / 2
    return float(np.nanmax(half) / np.nanmax(np.abs(result.importances_mean)))


if __name__ == "__main__":
    sys.exit(main())
