# Bad inputs from R: each gets the engine's one-line message (no Python traceback), and x is
# never modified. Interrupts stop a run promptly.

skip_if_not(pyimportance_available())

errors_x <- function() {
  set.seed(3)
  array(rnorm(40 * 5 * 3), c(40, 5, 3), dimnames = list(NULL, NULL, c("signal", "weak", "noise")))
}

last_step <- function(x) x[, dim(x)[2], 1] + 0.5 * x[, dim(x)[2], 2]

#' Expect `expr` to fail with exactly `message`, as a pyimportance_error without a traceback.
expect_engine_error <- function(expr, message) {
  error <- tryCatch({
    force(expr)
    NULL
  }, error = function(error) error)
  expect_false(is.null(error), info = message)
  if (is.null(error)) {
    return(invisible(NULL))
  }
  expect_s3_class(error, "pyimportance_error")
  expect_identical(conditionMessage(error), message)
  expect_false(grepl("Traceback", conditionMessage(error), fixed = TRUE))
  expect_false(grepl("py_last_error", conditionMessage(error), fixed = TRUE))
  invisible(error)
}

bad_input_cases <- list(
  "vector instead of array" = list(
    args = function(x) list(last_step, as.vector(x)),
    message = paste("ValueError: X must be 2D (n_samples, n_features) or 3D (n_samples, n_timesteps,",
                    "n_features), got an array of shape (600,)")),
  "NaN in x" = list(
    args = function(x) { x[3, 2, 1] <- NaN; list(last_step, x) },
    message = paste("ValueError: X must not contain NaN or infinite values, got nan at X[2, 1, 0];",
                    "remove or impute them first")),
  "NA in x" = list(
    args = function(x) { x[40, 5, 3] <- NA; list(last_step, x) },
    message = paste("ValueError: X must not contain NaN or infinite values, got nan at X[39, 4, 2];",
                    "remove or impute them first")),
  "Inf in x" = list(
    args = function(x) { x[1, 1, 2] <- -Inf; list(last_step, x) },
    message = paste("ValueError: X must not contain NaN or infinite values, got -inf at X[0, 0, 1];",
                    "remove or impute them first")),
  "y of the wrong length" = list(
    args = function(x) list(last_step, x, y = rnorm(41)),
    message = "ValueError: y must have one row per sample of X (40), got 41 rows"),
  "NaN in y" = list(
    args = function(x) list(last_step, x, y = c(rnorm(9), NaN, rnorm(30))),
    message = "ValueError: y must not contain NaN or infinite values, got nan at y[9]"),
  "character data frame column" = list(
    args = function(x) list(last_step, data.frame(a = 1:5, b = letters[1:5])),
    message = "TypeError: X must contain only numeric columns, got non-numeric columns ['b']"),
  "unknown method" = list(
    args = function(x) list(last_step, x, method = "shuffle"),
    message = paste("ValueError: method must be one of 'gaussian', 'uniform', 'permute', 'resample', 'zero',",
                    "'mean' or a callable (values, rng) -> values, got 'shuffle'")),
  "unknown loss" = list(
    args = function(x) list(last_step, x, y = rnorm(40), loss = "hinge"),
    message = paste("ValueError: loss must be one of 'mse', 'rmse', 'mae', 'log_loss', 'binary_crossentropy',",
                    "'categorical_crossentropy', 'accuracy' or a callable (y_true, y_pred) -> float, got 'hinge'")),
  "n_repeats = 0" = list(
    args = function(x) list(last_step, x, n_repeats = 0),
    message = "ValueError: n_repeats must be a positive integer, got 0"),
  "scale = -1" = list(
    args = function(x) list(last_step, x, scale = -1),
    message = "ValueError: scale must be a positive finite number, got -1.0"),
  "max_samples above n" = list(
    args = function(x) list(last_step, x, max_samples = 1000),
    message = "ValueError: max_samples must be at most the number of samples in X (40), got 1000"),
  "group naming an unknown feature" = list(
    args = function(x) list(last_step, x, groups = list(g = c("signal", "rain"))),
    message = "ValueError: groups['g'] names unknown feature 'rain'; known features: ['signal', 'weak', 'noise']"),
  "by = 'cell' with a matrix" = list(
    args = function(x) list(function(x) x[, 1], x[, 1, ], by = "cell"),
    message = "ValueError: by='cell' needs 3D X (n_samples, n_timesteps, n_features), got 2D X"),
  "loss without y" = list(
    args = function(x) list(last_step, x, loss = "mae"),
    message = "ValueError: loss='mae' needs y (the true targets); pass y or leave loss=None"),
  "binary loss with continuous y" = list(
    args = function(x) list(function(x) stats::plogis(last_step(x)), x, y = rep(c(0.25, 2), 20),
                            loss = "binary_crossentropy"),
    message = paste("ValueError: loss='binary_crossentropy' needs y with classes 0/1, got values such as",
                    "[0.25, 2.0] (continuous y: use loss='mse')")),
  "R model returning the wrong length" = list(
    args = function(x) list(function(x) last_step(x)[-1], x),
    message = paste("pyimportance.predict.ModelOutputError: model must return one prediction row per input",
                    "row (40), got output of shape (39,)")),
  "R model returning NaN" = list(
    args = function(x) list(function(x) rep(NaN, dim(x)[1]), x),
    message = paste("pyimportance.predict.ModelOutputError: model returned NaN or infinite predictions",
                    "(40 of 40 values); the model must return finite numbers"))
)

for (case in names(bad_input_cases)) {
  test_that(paste("bad input gets the engine's message and leaves x unchanged:", case), {
    x <- errors_x()
    x_before <- x + 0 # a copy in new memory
    args <- bad_input_cases[[case]]$args(x)
    given <- args[[2]]
    given_before <- if (is.numeric(given)) given + 0 else given
    expect_engine_error(do.call(perturbation_importance, c(args, list(seed = 1))), bad_input_cases[[case]]$message)
    expect_identical(x, x_before)
    expect_identical(args[[2]], given_before)
  })
}

test_that("an R model that calls stop() mid-run: the error names the feature, the repeat and the R message", {
  x <- errors_x()
  x_before <- x + 0
  calls <- 0
  failing <- function(x) {
    calls <<- calls + 1
    if (calls == 3) stop("weights file is corrupt")
    last_step(x)
  }
  # batch_size = n: call 1 is the baseline, call 2 repeat 1 of 'signal', call 3 repeat 2.
  error <- expect_engine_error(
    perturbation_importance(failing, x, n_repeats = 3, batch_size = 40, seed = 1),
    paste("pyimportance.runner.ModelFailedError: model failed while evaluating feature 'signal'",
          "(repeat 2 of 3): RuntimeError: weights file is corrupt")
  )
  expect_identical(error$python_type, "pyimportance.runner.ModelFailedError")
  expect_identical(calls, 3)
  expect_identical(x, x_before)
})

test_that("an R model that fails on the unperturbed data reports the R message", {
  x <- errors_x()
  expect_engine_error(perturbation_importance(function(x) stop("model not fitted"), x, seed = 1),
                      "RuntimeError: model not fitted")
})

# --- interrupts, in a separate R process (an interrupt must not reach this test session) ------

run_interrupt_script <- function(mode) {
  dir <- tempfile("pyimportance-interrupt")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  script <- file.path(dir, "run.R")
  log <- file.path(dir, "log.txt")
  writeLines(c(
    "library(pyimportance)",
    "set.seed(1)",
    "x <- array(rnorm(2000 * 20 * 8), c(2000, 20, 8))",
    "main <- reticulate::py_run_string('import numpy as np\\ndef model(x):\\n    return np.tanh(x).sum(axis=(1, 2))\\n')",
    "calls <- 0",
    "r_model <- function(x) {",
    "  calls <<- calls + 1",
    "  if (calls == 6) tools::pskill(Sys.getpid(), tools::SIGINT) # calls 1-4: baseline, 5-8: x1",
    "  rowSums(tanh(x))",
    "}",
    "invisible(perturbation_importance(main$model, x[1:10, , ], n_repeats = 1, seed = 1)) # Python is up",
    "model <- if (commandArgs(TRUE)[1] == 'python') main$model else r_model",
    "cat('pid', Sys.getpid(), '\\n'); flush(stdout())",
    "outcome <- tryCatch({",
    "  perturbation_importance(model, x, n_repeats = 5000, batch_size = 500, seed = 1, progress = FALSE)",
    "  'finished'",
    "}, interrupt = function(condition) 'interrupted',",
    "   error = function(error) paste('error:', conditionMessage(error)))",
    "cat('outcome', outcome, '\\n'); cat('calls', calls, '\\n'); flush(stdout())"
  ), script)
  rscript <- file.path(R.home("bin"), "Rscript")
  system2(rscript, c(shQuote(script), mode), stdout = log, stderr = log, wait = FALSE,
          env = paste0("R_LIBS=", shQuote(paste(.libPaths(), collapse = .Platform$path.sep))))
  read_log <- function() if (file.exists(log)) readLines(log, warn = FALSE) else character()
  wait_for <- function(prefix, seconds) {
    deadline <- Sys.time() + seconds
    repeat {
      line <- grep(paste0("^", prefix, " "), read_log(), value = TRUE)
      if (length(line) || Sys.time() > deadline) return(line)
      Sys.sleep(0.05)
    }
  }
  pid_line <- wait_for("pid", 120)
  if (!length(pid_line)) {
    fail(paste(c("the interrupt script did not start:", read_log()), collapse = "\n"))
    return(NULL)
  }
  pid <- as.integer(strsplit(pid_line, " ")[[1]][2])
  on.exit(tools::pskill(pid, tools::SIGKILL), add = TRUE)
  if (mode == "python") {
    Sys.sleep(1)
    tools::pskill(pid, tools::SIGINT)
  }
  sent <- Sys.time()
  outcome <- wait_for("outcome", 30)
  list(outcome = sub("\\s+$", "", outcome), calls = wait_for("calls", 5),
       seconds = as.numeric(difftime(Sys.time(), sent, units = "secs")), log = read_log())
}

test_that("SIGINT during a long run of a Python model stops it within seconds as an R interrupt", {
  skip_on_os("windows")
  run <- run_interrupt_script("python")
  expect_identical(run$outcome, "outcome interrupted", info = paste(run$log, collapse = "\n"))
  expect_lt(run$seconds, 5)
})

test_that("an interrupt inside an R function model stops the run at once, as an interrupt", {
  skip_on_os("windows")
  run <- run_interrupt_script("r")
  # The R wrapper catches the interrupt and the engine raises KeyboardInterrupt, so R sees an
  # interrupt (not a failed model call) right after the call that was interrupted.
  expect_identical(run$outcome, "outcome interrupted", info = paste(run$log, collapse = "\n"))
  expect_identical(sub("\\s+$", "", run$calls), "calls 6")
  expect_lt(run$seconds, 10)
})
