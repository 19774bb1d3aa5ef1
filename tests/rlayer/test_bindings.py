"""One R layer: the R package (reticulate, in an Rscript process) and the rpy2 layer (in this
process) return identical R data frames for the same calls.

The R package is installed from ``r_wrapper/`` into a temporary library first, so the test
checks the source as it is. Each call runs in R through the package and saves its frame with
``saveRDS``; the same call goes through :mod:`pyimportance.rbridge` with the same R objects,
and R's ``identical()`` compares the two frames, attributes included.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.r

ROOT = Path(__file__).resolve().parents[2]

# R code that makes every object the calls use (run in both R sessions, so the data are the same).
SETUP = r"""
set.seed(7)
x <- array(rnorm(120 * 5 * 3), c(120, 5, 3), dimnames = list(NULL, NULL, c("signal", "weak", "noise")))
model <- function(x) 2 * x[, 5, 1] + 0.5 * x[, 4, 2]
y <- model(x) + rnorm(120, sd = 0.1)
frame_x <- data.frame(a = rnorm(80), b = sample(1:4, 80, replace = TRUE), flag = rnorm(80) > 0)
frame_model <- function(d) 3 * d$a + d$flag
classes <- factor(ifelse(x[, 5, 1] > 0, "up", "down"), levels = c("down", "up"))
classifier <- function(x) cbind(plogis(-4 * x[, 5, 1]), plogis(4 * x[, 5, 1]))
shuffle_rows <- function(values, seed) {
  set.seed(seed)
  values[sample(dim(values)[1]), , , drop = FALSE]
}
absolute_error <- function(y_true, y_pred) mean(abs(y_true - y_pred))
groups <- list(main = "signal", rest = c(2, 3))
inputs <- list(sequence = x, static = matrix(rnorm(240), 120, dimnames = list(NULL, c("site", "size"))))
inputs_model <- function(inputs) 2 * inputs$sequence[, 5, "signal"] + inputs$static[, "size"]
heads_model <- function(x) list(model(x), classifier(x))
heads <- list(y, classes)
losses <- list("mse", "log_loss")
reference <- array(rnorm(200 * 5 * 3), c(200, 5, 3))
padded <- x
padded[1:30, 1:2, ] <- -1
padded_model <- function(x) rowSums(ifelse(x[, , 1] == -1, 0, x[, , 1]))
"""

# name -> (model, x, y, arguments as R expressions)
CALLS = {
    "feature": ("model", "x", None, {"n_repeats": "3", "seed": "1"}),
    "timestep": ("model", "x", "y", {"by": '"timestep"', "n_repeats": "2", "seed": "2"}),
    "cell": ("model", "x", None, {"by": '"cell"', "n_repeats": "2", "seed": "3", "ci": '"repeats"'}),
    "groups": ("model", "x", "y", {"groups": "groups", "method": '"permute"', "n_repeats": "2", "seed": "4"}),
    "data_frame": ("frame_model", "frame_x", None, {"n_repeats": "2", "seed": "5"}),
    "factor_y": ("classifier", "x", "classes", {"loss": '"log_loss"', "n_repeats": "2", "seed": "6"}),
    "r_method": ("model", "x", None, {"method": "shuffle_rows", "n_repeats": "2", "seed": "7"}),
    "r_loss": ("model", "x", "y", {"loss": "absolute_error", "n_repeats": "2", "seed": "8", "max_samples": "90"}),
    "stopping": ("model", "x", "y", {"tolerance": "0.5", "ci": '"repeats"', "seed": "9"}),
    "several_inputs": ("inputs_model", "inputs", None, {"n_repeats": "2", "seed": "10"}),
    "per_output": ("heads_model", "x", "heads", {"loss": "losses", "per_output": "TRUE", "n_repeats": "2",
                                                 "seed": "11"}),
    "conditional": ("model", "x", "y", {"method": '"conditional"', "reference": "reference", "n_repeats": "2",
                                        "seed": "12"}),
    "padding": ("padded_model", "padded", None, {"mask_value": "-1", "method": '"permute"', "n_repeats": "2",
                                                 "seed": "13"}),
    "keras_loss_name": ("model", "x", "y", {"loss": '"Mean_Absolute_Error"', "n_repeats": "2", "seed": "14"}),
    # shapley_importance(): the calls whose names start with "shapley"
    "shapley_cell": ("model", "x", "y", {"by": '"cell"', "n_draws": "3", "seed": "15"}),
    "shapley_inputs": ("inputs_model", "inputs", None, {"n_repeats": "4", "seed": "16", "tolerance": "0.5"}),
    "shapley_conditional": ("model", "x", "y", {"imputer": '"conditional"', "n_draws": "4", "seed": "17"}),
}


def _function(name: str) -> str:
    return "shapley_importance" if name.startswith("shapley") else "perturbation_importance"


def _r_call(name: str) -> str:
    model, x, y, arguments = CALLS[name]
    parts = [model, x] + ([f"y = {y}"] if y else []) + [f"{key} = {value}" for key, value in arguments.items()]
    return f"frames[[{name!r}]] <- {_function(name)}({', '.join(parts)}, progress = FALSE)"


@pytest.fixture(scope="module")
def r_package_frames(tmp_path_factory):
    """Every call through the R package (installed from source), read back into this R session."""
    import rpy2.robjects as ro

    work = tmp_path_factory.mktemp("r_layers")
    library = work / "library"
    library.mkdir()
    installed = subprocess.run(
        ["R", "CMD", "INSTALL", "--no-test-load", f"--library={library}", str(ROOT / "r_wrapper")],
        capture_output=True, text=True,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    script = work / "calls.R"
    saved = work / "frames.rds"
    script.write_text("\n".join(
        ["suppressMessages(library(pyimportance))", SETUP, "frames <- list()"]
        + [_r_call(name) for name in CALLS]
        + [f"saveRDS(frames, {str(saved)!r})"]
    ))
    environment = dict(os.environ, RETICULATE_PYTHON=sys.executable,
                       R_LIBS=os.pathsep.join(filter(None, [str(library), os.environ.get("R_LIBS")])))
    environment.pop("PYIMPORTANCE_PYTHON", None)
    run = subprocess.run(["Rscript", str(script)], capture_output=True, text=True, env=environment, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return ro.r["readRDS"](str(saved))


@pytest.fixture(scope="module")
def r_objects():
    import rpy2.robjects as ro

    ro.r(SETUP)
    return ro


@pytest.mark.parametrize("name", list(CALLS))
def test_the_r_package_and_the_rpy2_layer_return_identical_frames(r_package_frames, r_objects, name):
    from pyimportance import rbridge

    ro = r_objects
    model, x, y, arguments = CALLS[name]
    values = {key: ro.r[value] if value in ro.globalenv else ro.r(value) for key, value in arguments.items()}
    through_rpy2 = getattr(rbridge, _function(name))(ro.r[model], ro.r[x], None if y is None else ro.r[y],
                                                     progress=False, **values)
    through_package = r_package_frames.rx2(name)
    assert bool(ro.baseenv["identical"](through_package, through_rpy2)[0]), (
        "\n".join(ro.r("function(a, b) capture.output(str(a), str(b), all.equal(a, b))")(through_package,
                                                                                           through_rpy2))
    )
    assert list(ro.baseenv["class"](through_rpy2)) == ["pyimportance_result", "data.frame"]
