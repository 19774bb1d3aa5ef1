# Bad inputs from R: each gets one R-worded message (R argument names, 1-based positions, no
# Python type or module names, no traceback) and an R condition class; x is never modified.
# R's NA in any form is refused before any model call. Interrupts stop a run promptly.

skip_if_not(pyimportance_available())

errors_x <- function() {
  set.seed(3)
  array(rnorm(40 * 5 * 3), c(40, 5, 3), dimnames = list(NULL, NULL, c("signal", "weak", "noise")))
}

last_step <- function(x) x[, dim(x)[2], 1] + 0.5 * x[, dim(x)[2], 2]

#' Expect `expr` to fail with exactly `message`, as a condition of `class` (a
#' pyimportance_error) without a traceback or a Python type name.
expect_engine_error <- function(expr, message, class = "pyimportance_argument_error") {
  error <- tryCatch({
    force(expr)
    NULL
  }, error = function(error) error)
  expect_false(is.null(error), info = message)
  if (is.null(error)) {
    return(invisible(NULL))
  }
  expect_s3_class(error, class)
  expect_s3_class(error, "pyimportance_error")
  expect_identical(conditionMessage(error), message)
  expect_false(grepl("Traceback|py_last_error|pyimportance\\.|Error: |True|False|None|-2147483648",
                     conditionMessage(error)))
  invisible(error)
}

cell_x <- function(x, i, j, k, value) {
  x[i, j, k] <- value
  x
}

integer_x <- function(x) array(as.integer(round(10 * x)), dim(x), dimnames(x))

bad_input_cases <- list(
  "vector instead of array" = list(
    args = function(x) list(last_step, as.vector(x)),
    message = paste("x must be a numeric array, matrix or data frame (several inputs: a list of them),",
                    "got a numeric vector of length 600")),
  "NaN in x" = list(
    args = function(x) list(last_step, cell_x(x, 3, 2, 1, NaN)),
    message = "x must not contain NA, NaN or infinite values, got NaN at x[3, 2, 1]; remove or impute them first"),
  "NA in x" = list(
    args = function(x) list(last_step, cell_x(x, 40, 5, 3, NA)),
    message = "x must not contain NA, NaN or infinite values, got NA at x[40, 5, 3]; remove or impute them first"),
  "integer NA in an integer array" = list(
    args = function(x) list(last_step, cell_x(integer_x(x), 7, 2, 3, NA_integer_)),
    message = "x must not contain NA, NaN or infinite values, got NA at x[7, 2, 3]; remove or impute them first"),
  "logical NA in a logical array" = list(
    args = function(x) list(last_step, cell_x(x > 0, 2, 5, 1, NA)),
    message = "x must not contain NA, NaN or infinite values, got NA at x[2, 5, 1]; remove or impute them first"),
  "integer NA in a matrix" = list(
    args = function(x) list(function(x) x[, 1], matrix(c(1:79, NA), 40)),
    message = "x must not contain NA, NaN or infinite values, got NA at x[40, 2]; remove or impute them first"),
  "integer NA in a data frame column" = list(
    args = function(x) list(function(x) x[, 1], data.frame(a = 1:40, b = c(1:3, NA, 5:40))),
    message = "x must not contain NA, NaN or infinite values, got NA at x[4, 2]; remove or impute them first"),
  "Inf in x" = list(
    args = function(x) list(last_step, cell_x(x, 1, 1, 2, -Inf)),
    message = "x must not contain NA, NaN or infinite values, got -Inf at x[1, 1, 2]; remove or impute them first"),
  "y of the wrong length" = list(
    args = function(x) list(last_step, x, y = rnorm(41)),
    message = "y must have one row per sample of x (40), got 41 rows"),
  "NaN in y" = list(
    args = function(x) list(last_step, x, y = c(rnorm(9), NaN, rnorm(30))),
    message = "y must not contain NA, NaN or infinite values, got NaN at y[10]"),
  "integer NA in y" = list(
    args = function(x) list(last_step, x, y = c(1:4, NA, 6:40)),
    message = "y must not contain NA, NaN or infinite values, got NA at y[5]"),
  "logical NA in y" = list(
    args = function(x) list(last_step, x, y = c(TRUE, NA, rep(FALSE, 38))),
    message = "y must not contain NA, NaN or infinite values, got NA at y[2]"),
  "NA in a factor y" = list(
    args = function(x) list(last_step, x, y = factor(c(rep(c("a", "b"), 19), "a", NA))),
    message = "y must not contain NA, NaN or infinite values, got NA at y[40]"),
  "character y" = list(
    args = function(x) list(last_step, x, y = rep(c("a", "b"), 20)),
    message = "y must be a numeric vector, a factor, a matrix or a data frame, got a character vector of length 40"),
  "character data frame column" = list(
    args = function(x) list(last_step, data.frame(a = 1:5, b = letters[1:5])),
    message = "x must have only numeric (or logical) columns, got column \"b\" of type character"),
  "factor data frame column" = list(
    args = function(x) list(last_step, data.frame(a = 1:5, f = factor(letters[1:5]))),
    message = "x must have only numeric (or logical) columns, got column \"f\" of type factor"),
  "unknown method" = list(
    args = function(x) list(last_step, x, method = "shuffle"),
    message = paste("method must be one of \"gaussian\", \"uniform\", \"permute\", \"resample\", \"conditional\",",
                    "\"zero\" or \"mean\" or an R function(values, seed), got \"shuffle\"")),
  "unknown loss" = list(
    args = function(x) list(last_step, x, y = rnorm(40), loss = "r2"),
    message = paste("loss must be one of \"mse\", \"rmse\", \"mae\", \"log_loss\", \"binary_crossentropy\",",
                    "\"categorical_crossentropy\" or \"accuracy\" (or a Keras loss name such as",
                    "\"mean_squared_error\") or an R function(y_true, y_pred) returning a number, got \"r2\"")),
  "n_repeats = 0" = list(
    args = function(x) list(last_step, x, n_repeats = 0),
    message = "n_repeats must be a positive integer, got 0"),
  "n_repeats = 2.5" = list(
    args = function(x) list(last_step, x, n_repeats = 2.5),
    message = "n_repeats must be a positive integer, got 2.5"),
  "n_repeats = NA" = list(
    args = function(x) list(last_step, x, n_repeats = NA),
    message = "n_repeats must be a single whole number, got NA"),
  "n_repeats = NA_integer_" = list(
    args = function(x) list(last_step, x, n_repeats = NA_integer_),
    message = "n_repeats must be a single whole number, got NA"),
  "n_repeats = \"5\"" = list(
    args = function(x) list(last_step, x, n_repeats = "5"),
    message = "n_repeats must be a single whole number, got \"5\""),
  "two n_repeats" = list(
    args = function(x) list(last_step, x, n_repeats = c(2, 3)),
    message = "n_repeats must be a single whole number, got a numeric vector of length 2"),
  "scale = -1" = list(
    args = function(x) list(last_step, x, scale = -1),
    message = "scale must be a positive finite number, got -1"),
  "scale = NA_real_" = list(
    args = function(x) list(last_step, x, scale = NA_real_),
    message = "scale must be a single number, got NA"),
  "relative_scale = NA" = list(
    args = function(x) list(last_step, x, relative_scale = NA),
    message = "relative_scale must be TRUE or FALSE, got NA"),
  "relative_scale = 1" = list(
    args = function(x) list(last_step, x, relative_scale = 1),
    message = "relative_scale must be TRUE or FALSE, got 1"),
  "progress = NA" = list(
    args = function(x) list(last_step, x, progress = NA),
    message = "progress must be TRUE or FALSE, got NA"),
  "by = NA_character_" = list(
    args = function(x) list(last_step, x, by = NA_character_),
    message = "by must be a single string, got NA"),
  "by = \"time\"" = list(
    args = function(x) list(last_step, x, by = "time"),
    message = "by must be one of \"feature\", \"timestep\" or \"cell\", got \"time\""),
  "max_samples above n" = list(
    args = function(x) list(last_step, x, max_samples = 1000),
    message = "max_samples must be at most the number of samples in x (40), got 1000"),
  "max_samples = NA" = list(
    args = function(x) list(last_step, x, max_samples = NA),
    message = "max_samples must be a single number, got NA"),
  "batch_size = NA_integer_" = list(
    args = function(x) list(last_step, x, batch_size = NA_integer_),
    message = "batch_size must be a single whole number, got NA"),
  "mask_value = NA" = list(
    args = function(x) list(last_step, x, mask_value = NA),
    message = "mask_value must be a single number, got NA"),
  "group naming an unknown feature" = list(
    args = function(x) list(last_step, x, groups = list(g = c("signal", "rain"))),
    message = paste("groups[[\"g\"]] names unknown feature \"rain\"; known features:",
                    "c(\"signal\", \"weak\", \"noise\")")),
  "group number out of range" = list(
    args = function(x) list(last_step, x, groups = list(g = 4)),
    message = "groups[[\"g\"]] has feature number 4 out of range 1..3"),
  "NA among group members" = list(
    args = function(x) list(last_step, x, groups = list(g = c(1, NA))),
    message = "groups[[\"g\"]] must not contain NA, got NA at groups[[\"g\"]][2]"),
  "groups not a named list" = list(
    args = function(x) list(last_step, x, groups = "signal"),
    message = paste("groups must be a named list of feature names, e.g. list(weather = c(\"temp\", \"rain\")),",
                    "got \"signal\"")),
  "NA among feature names" = list(
    args = function(x) list(last_step, x, feature_names = c("a", NA, "c")),
    message = "feature_names must not contain NA, got NA at feature_names[2]"),
  "by = 'cell' with a matrix" = list(
    args = function(x) list(function(x) x[, 1], x[, 1, ], by = "cell"),
    message = "by = \"cell\" needs 3D x (n_samples, n_timesteps, n_features), got 2D x"),
  "loss without y" = list(
    args = function(x) list(last_step, x, loss = "mae"),
    message = "loss = \"mae\" needs y (the true targets); pass y or leave loss = NULL"),
  "binary loss with continuous y" = list(
    args = function(x) list(function(x) stats::plogis(last_step(x)), x, y = rep(c(0.25, 2), 20),
                            loss = "binary_crossentropy"),
    message = paste("loss = \"binary_crossentropy\" needs y with classes 0/1, got values such as",
                    "c(0.25, 2) (continuous y: use loss = \"mse\")")),
  "R model returning the wrong length" = list(
    args = function(x) list(function(x) last_step(x)[-1], x),
    class = "pyimportance_model_output_error",
    message = "model must return one prediction per row of its input (40), got a numeric vector of length 39"),
  "R model returning NaN" = list(
    args = function(x) list(function(x) rep(NaN, dim(x)[1]), x),
    class = "pyimportance_model_output_error",
    message = paste("model returned NaN or infinite predictions (40 of 40 values);",
                    "the model must return finite numbers")),
  "R model returning integer NA" = list(
    args = function(x) list(function(x) c(NA, rep(1L, dim(x)[1] - 1)), x),
    class = "pyimportance_model_output_error",
    message = "model must return numbers, got NA in 1 of 40 values"),
  "R model returning a factor" = list(
    args = function(x) list(function(x) factor(x[, 5, 1] > 0), x),
    class = "pyimportance_model_output_error",
    message = paste("model must return numeric predictions, got a factor of length 40;",
                    "return class probabilities, not labels")),
  "R method dropping the dims" = list(
    args = function(x) list(last_step, x, method = function(values, seed) as.vector(values)),
    class = "pyimportance_method_error",
    message = paste("method must return a numeric array with dim c(40, 5, 1) (as it was given), got a numeric",
                    "vector of length 200 (no dim), while perturbing feature \"signal\" (repeat 1 of 5)")),
  "R method returning NA" = list(
    args = function(x) list(last_step, x, method = function(values, seed) values * NA),
    class = "pyimportance_method_error",
    message = paste("method must return numbers, got NA in 200 of 200 values, while perturbing",
                    "feature \"signal\" (repeat 1 of 5)")),
  "R method calling stop()" = list(
    args = function(x) list(last_step, x, method = function(values, seed) stop("no draws left")),
    class = "pyimportance_method_error",
    message = "method (custom) failed while perturbing feature \"signal\" (repeat 1 of 5): no draws left"),
  "R loss returning NA" = list(
    args = function(x) list(last_step, x, y = rnorm(40), loss = function(y_true, y_pred) NA),
    class = "pyimportance_loss_error",
    message = paste("loss (custom) failed on the unperturbed data: loss must return a single number",
                    "(or one per row: 40), got NA")),
  "R loss returning TRUE" = list(
    args = function(x) list(last_step, x, y = rnorm(40), loss = function(y_true, y_pred) TRUE),
    class = "pyimportance_loss_error",
    message = paste("loss (custom) failed on the unperturbed data: loss must return a single number",
                    "(or one per row: 40), got TRUE")),
  "R loss calling stop()" = list(
    args = function(x) list(last_step, x, y = rnorm(40), loss = function(y_true, y_pred) stop("bad loss")),
    class = "pyimportance_loss_error",
    message = "loss (custom) failed on the unperturbed data: bad loss"),
  "model that is neither a function nor a Keras model" = list(
    args = function(x) list(list(1), x),
    message = paste("model must be a Keras model (a Python object) or an R function(x) returning predictions,",
                    "got a list of length 1"))
)

for (case in names(bad_input_cases)) {
  test_that(paste("bad input gets one R-worded message and leaves x unchanged:", case), {
    x <- errors_x()
    x_before <- x + 0 # a copy in new memory
    args <- bad_input_cases[[case]]$args(x)
    given <- args[[2]]
    given_before <- unserialize(serialize(given, NULL)) # a copy in new memory, of the same type
    expect_engine_error(do.call(perturbation_importance, c(args, list(seed = 1))), bad_input_cases[[case]]$message,
                        bad_input_cases[[case]]$class %or% "pyimportance_argument_error")
    expect_identical(x, x_before)
    expect_identical(args[[2]], given_before)
  })
}

test_that("R's NA never reaches an R model: it is refused before the first call", {
  x <- integer_x(errors_x())
  x[5, 1, 1] <- NA_integer_
  calls <- 0
  counting <- function(x) {
    calls <<- calls + 1
    x[, 5, 1]
  }
  expect_engine_error(perturbation_importance(counting, x, seed = 1),
                      "x must not contain NA, NaN or infinite values, got NA at x[5, 1, 1]; remove or impute them first")
  expect_identical(calls, 0)
})

test_that("an R model that calls stop() mid-run: the error names the feature, the repeat and the R message", {
  x <- errors_x()
  x_before <- x + 0
  calls <- 0
  failing <- function(x) {
    calls <<- calls + 1
    if (calls == 5) stop("weights file is corrupt")
    last_step(x)
  }
  # batch_size = n: call 1 is the baseline, call 2 the baseline again (the check that the model
  # repeats its predictions), call 3 the check that it is row-wise (a few rows alone), call 4
  # repeat 1 of 'signal', call 5 repeat 2.
  error <- expect_engine_error(
    perturbation_importance(failing, x, n_repeats = 3, batch_size = 40, seed = 1),
    "model failed while evaluating feature \"signal\" (repeat 2 of 3): weights file is corrupt",
    class = "pyimportance_model_error"
  )
  expect_identical(error$python_type, "ModelFailedError")
  expect_identical(calls, 5)
  expect_identical(x, x_before)
})

test_that("an R model that fails on the unperturbed data reports the R message, catchable by its class", {
  x <- errors_x()
  expect_engine_error(perturbation_importance(function(x) stop("model not fitted"), x, seed = 1),
                      "model failed on the unperturbed data: model not fitted", class = "pyimportance_model_error")
  caught <- tryCatch(perturbation_importance(function(x) stop("model not fitted"), x, seed = 1),
                     pyimportance_model_error = function(condition) "model error",
                     pyimportance_error = function(condition) "other error")
  expect_identical(caught, "model error")
})

test_that("an executor must be a Python object", {
  python_model <- reticulate::py_eval("lambda x: x[:, -1, 0]")
  expect_engine_error(perturbation_importance(python_model, errors_x(), executor = 3),
                      "executor must be a Python object (e.g. client$get_executor()) or NULL, got 3")
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
    "  if (calls == 11) tools::pskill(Sys.getpid(), tools::SIGINT) # 1-4: baseline, 5-9: checks, 10-13: x1",
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
    "cat(sprintf('outcome %s\\ncalls %d\\n', outcome, calls)); flush(stdout())"
  ), script)
  rscript <- file.path(R.home("bin"), "Rscript")
  system2(rscript, c(shQuote(script), mode), stdout = log, stderr = log, wait = FALSE,
          env = paste0("R_LIBS=", shQuote(paste(.libPaths(), collapse = .Platform$path.sep))))
  # Only whole lines: the script's "outcome ..." line may be read while it is being written.
  read_log <- function() {
    if (!file.exists(log) || file.size(log) == 0) return(character())
    text <- readChar(log, file.size(log), useBytes = TRUE)
    lines <- strsplit(text, "\n", fixed = TRUE)[[1]]
    if (!endsWith(text, "\n")) lines <- utils::head(lines, -1)
    lines
  }
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
  expect_identical(sub("\\s+$", "", run$calls), "calls 11")
  expect_lt(run$seconds, 10)
})

test_that("an R model with dropout at prediction time is refused every time, in R's words", {
  x <- errors_x()
  # one output unit, 40 rows: missed only if no row is dropped in either call, with probability 0.8^80
  dropout <- function(x) last_step(x) * (runif(dim(x)[1]) > 0.2) / 0.8
  for (i in 1:5) {
    error <- tryCatch(perturbation_importance(dropout, x, seed = 1), error = function(error) error)
    expect_s3_class(error, "pyimportance_not_row_wise_error")
    expect_match(conditionMessage(error), "^model is not deterministic: predicting the same 40 rows twice")
    expect_match(conditionMessage(error), "the same seed, so a model", fixed = TRUE)
    expect_match(conditionMessage(error), "Build the model without training = TRUE", fixed = TRUE)
    expect_false(grepl("True|None|random_state", conditionMessage(error)))
  }
})
