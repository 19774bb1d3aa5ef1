test_that("loading the package does not start Python", {
  rscript <- file.path(R.home("bin"), "Rscript")
  code <- "suppressMessages(library(pyimportance)); cat(reticulate::py_available(initialize = FALSE))"
  output <- system2(rscript, c("-e", shQuote(code)), stdout = TRUE, stderr = FALSE)
  expect_identical(utils::tail(output, 1), "FALSE")
})

test_that("PYIMPORTANCE_PYTHON chooses the Python when RETICULATE_PYTHON is unset", {
  skip_if_no_python()
  python <- reticulate::py_config()$python
  rscript <- file.path(R.home("bin"), "Rscript")
  code <- paste(
    "suppressMessages(library(pyimportance))",
    "cat(pyimportance_available(), normalizePath(reticulate::py_config()$python), sep = '\\n')",
    sep = "; "
  )
  output <- withr_env(
    c(RETICULATE_PYTHON = "", PYIMPORTANCE_PYTHON = python),
    system2(rscript, c("-e", shQuote(code)), stdout = TRUE, stderr = FALSE)
  )
  expect_identical(utils::tail(output, 2), c("TRUE", normalizePath(python)))
})

test_that("pyimportance_available() finds the Python engine", {
  skip_if_no_python()
  expect_true(pyimportance_available())
  requested <- Sys.getenv("RETICULATE_PYTHON", Sys.getenv("PYIMPORTANCE_PYTHON"))
  if (nzchar(requested)) {
    expect_identical(normalizePath(reticulate::py_config()$python), normalizePath(requested))
  }
})

test_that("Python exceptions become R errors with the engine's message and its type", {
  skip_if_no_python()
  x <- signal_x()
  error <- tryCatch(perturbation_importance(function(x) x[, 10, 1], x, n_repeats = 0),
                    error = function(error) error)
  expect_s3_class(error, "pyimportance_error")
  expect_identical(conditionMessage(error), "ValueError: n_repeats must be a positive integer, got 0")
  expect_identical(error$python_type, "ValueError")
  expect_identical(deparse(error$call[[1]]), "perturbation_importance")
})

test_that("the engine's messages reach R word for word", {
  skip_if_no_python()
  x <- signal_x()
  model <- function(x) x[, 10, 1]
  expect_error(perturbation_importance(model, x, by = "time"),
               "ValueError: by must be one of 'feature', 'timestep', 'cell', got 'time'", fixed = TRUE)
  expect_error(perturbation_importance(model, x, n_repeats = 2.5),
               "ValueError: n_repeats must be a positive integer, got 2.5", fixed = TRUE)
  expect_error(perturbation_importance(model, x, y = 1:10),
               "ValueError: y must have one row per sample of X (200), got 10 rows", fixed = TRUE)
  expect_error(perturbation_importance(model, x, groups = list(g = "zzz")),
               "ValueError: groups['g'] names unknown feature 'zzz'; known features: ['signal', 'weak', 'noise']",
               fixed = TRUE)
  expect_error(perturbation_importance(model, x, loss = "mse"),
               "ValueError: loss='mse' needs y (the true targets); pass y or leave loss=None", fixed = TRUE)
  expect_error(perturbation_importance(function(x) stop("model is broken"), x),
               "RuntimeError: model is broken", fixed = TRUE)
})

test_that("wrong R arguments are caught in R with messages in the engine's style", {
  skip_if_no_python()
  x <- signal_x()
  expect_error(perturbation_importance(list(1), x),
               "model must be a Keras model (a Python object) or an R function(x) returning predictions, got list",
               fixed = TRUE, class = "pyimportance_error")
  expect_error(perturbation_importance(function(x) x[, 10, 1], x, groups = list(g = 4)),
               "groups[[\"g\"]] has feature number 4 out of range 1..3", fixed = TRUE)
  expect_error(perturbation_importance(function(x) x[, 10, 1], x, groups = c("signal")),
               "groups must be a named list of feature names", fixed = TRUE)
})

test_that("reticulate's traceback and hint lines are stripped from messages", {
  newer <- "ValueError: scale must be a positive finite number, got -1.0\nRun `reticulate::py_last_error()` for details."
  older <- paste0("ValueError: scale must be a positive finite number, got -1.0\n\nDetailed traceback:\n",
                  "  File \"api.py\", line 140, in perturbation_importance\n")
  traceback <- paste0("Traceback (most recent call last):\n  File \"x.py\", line 1\n",
                      "ValueError: scale must be a positive finite number, got -1.0")
  expected <- "ValueError: scale must be a positive finite number, got -1.0"
  expect_identical(python_error_message(newer), expected)
  expect_identical(python_error_message(older), expected)
  expect_identical(python_error_message(paste0(expected, "\n")), expected)
  expect_identical(python_error_message(traceback), expected)
})
