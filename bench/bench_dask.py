"""Local run vs a Dask LocalCluster of single-threaded workers, and the cost of one task.

The medium case: X of 10,000 x 30 x 20, LSTM(64) -> Dense(1), 5 repeats, gaussian (100 jobs).
Each setup runs twice: the first (cold) run includes TensorFlow's import in the workers, the
model's rebuilding and tracing; the second (warm) run is the steady state. The per-task
overhead is estimated from tasks of one job against the default task size, both with one
model call per job (``batch_size`` = n_samples) so padding cannot blur it.

    python bench/bench_dask.py            # medium case (minutes; run on an idle machine)
    python bench/bench_dask.py --quick    # small sizes, to check the script works

Results go to bench/RESULTS_dask.md (or ``--out``).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

SIZES = {
    "medium": {"n_samples": 10_000, "n_timesteps": 30, "n_features": 20, "units": 64, "n_repeats": 5},
    "quick": {"n_samples": 1_000, "n_timesteps": 10, "n_features": 5, "units": 16, "n_repeats": 2},
}


def build_case(n_samples, n_timesteps, n_features, units, n_repeats):
    """(model, X, y, options) of one benchmark case; an untrained model times like a trained one."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((n_timesteps, n_features)), keras.layers.LSTM(units), keras.layers.Dense(1)]
    )
    X = np.random.default_rng(0).normal(size=(n_samples, n_timesteps, n_features)).astype(np.float32)
    y = (X[:, -1, 0] + 0.5 * X[:, -5, 1]).astype(np.float32)
    options = {"method": "gaussian", "n_repeats": n_repeats, "random_state": 0, "progress": False}
    return model, X, y, options


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def run(size: str, n_workers: int) -> dict:
    from dask.distributed import Client, LocalCluster

    from pyimportance import perturbation_importance
    from pyimportance.engine.distributed import default_task_size

    case = SIZES[size]
    model, X, y, options = build_case(**case)
    n_jobs = case["n_features"] * case["n_repeats"]
    out = {"case": case, "n_jobs": n_jobs, "n_workers": n_workers, "load": os.getloadavg()[0]}

    def local(**extra):
        return timed(lambda: perturbation_importance(model, X, y, **options, **extra))

    out["local_cold"], reference = local()
    out["local_warm"], _ = local()

    start = time.perf_counter()
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            out["cluster_start"] = time.perf_counter() - start
            executor = client.get_executor()
            out["default_task_size"] = default_task_size(executor, n_jobs)

            def remote(**extra):
                return timed(lambda: perturbation_importance(model, X, y, **options, executor=executor, **extra))

            out["dask_cold"], result = remote()
            out["dask_warm"], result = remote()
            out["identical"] = bool(np.array_equal(result.importances, reference.importances))

            # Per-task overhead: one model call per job in both runs, only the task count differs.
            one_call = {"batch_size": case["n_samples"]}
            remote(**one_call)  # warm-up for this batch shape
            out["default_tasks_time"], _ = remote(**one_call)
            out["tiny_tasks_time"], _ = remote(**one_call, task_size=1)
    n_default = -(-n_jobs // out["default_task_size"])
    out["n_default_tasks"], out["n_tiny_tasks"] = n_default, n_jobs
    extra_tasks = n_jobs - n_default
    extra_seconds = out["tiny_tasks_time"] - out["default_tasks_time"]
    # Wall seconds x workers = worker seconds; spread over the extra tasks.
    out["overhead_per_task"] = extra_seconds * n_workers / extra_tasks if extra_tasks > 0 else float("nan")
    return out


def report(out: dict, size: str) -> str:
    case = out["case"]
    shape = f"{case['n_samples']:,} x {case['n_timesteps']} x {case['n_features']}"
    lines = [
        "# Dask benchmark",
        "",
        f"Case: **{size}** — X {shape}, LSTM({case['units']}) -> Dense(1), {case['n_repeats']} repeats, "
        f"gaussian ({out['n_jobs']} jobs). Dask: LocalCluster of {out['n_workers']} single-threaded worker "
        f"processes on one machine ({os.cpu_count()} CPUs, {platform.processor() or platform.machine()}); "
        "TensorFlow in each worker and in the local run uses its default thread pools. "
        f"Load average at the start: {out['load']:.1f} (other work on the machine slows every number).",
        "",
        "| run | seconds |",
        "| --- | ---: |",
        f"| local, first (includes tracing) | {out['local_cold']:.2f} |",
        f"| local, second | {out['local_warm']:.2f} |",
        f"| LocalCluster start | {out['cluster_start']:.2f} |",
        f"| Dask, first (workers import TensorFlow, rebuild and trace the model) | {out['dask_cold']:.2f} |",
        f"| Dask, second ({out['n_default_tasks']} tasks of {out['default_task_size']} jobs) | "
        f"{out['dask_warm']:.2f} |",
        "",
        f"- Dask / local (second runs): **{out['dask_warm'] / out['local_warm']:.2f}x** the local time.",
        f"- Bit-identical to the local run: **{out['identical']}**.",
        f"- Per-task overhead: {out['n_tiny_tasks']} tasks of 1 job took {out['tiny_tasks_time']:.2f} s against "
        f"{out['default_tasks_time']:.2f} s for {out['n_default_tasks']} tasks (one model call per job in both), "
        f"so about **{1000 * out['overhead_per_task']:.0f} ms of worker time per task**.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script works")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (default 2)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS_dask.md"))
    args = parser.parse_args()
    size = "quick" if args.quick else "medium"
    text = report(run(size, args.workers), size)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
