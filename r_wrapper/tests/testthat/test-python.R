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

test_that("engine errors become R conditions of their kind, with R's message and no Python type", {
  skip_if_no_python()
  x <- signal_x()
  error <- tryCatch(perturbation_importance(function(x) x[, 10, 1], x, n_repeats = 0),
                    error = function(error) error)
  expect_identical(class(error), c("pyimportance_argument_error", "pyimportance_error", "error", "condition"))
  expect_identical(conditionMessage(error), "n_repeats must be a positive integer, got 0")
  expect_identical(error$python_type, "ValueError")
  expect_identical(deparse(error$call[[1]]), "perturbation_importance")
})

test_that("the engine's messages reach R word for word, in R's terms", {
  skip_if_no_python()
  x <- signal_x()
  model <- function(x) x[, 10, 1]
  expect_error(perturbation_importance(model, x, by = "time"),
               "by must be one of \"feature\", \"timestep\" or \"cell\", got \"time\"", fixed = TRUE,
               class = "pyimportance_argument_error")
  expect_error(perturbation_importance(model, x, y = 1:10),
               "y must have one row per sample of x (200), got 10 rows", fixed = TRUE)
  expect_error(perturbation_importance(model, x, seed = -1),
               "seed must be a non-negative integer, got -1", fixed = TRUE)
  expect_error(perturbation_importance(model, x, loss = "mse"),
               "loss = \"mse\" needs y (the true targets); pass y or leave loss = NULL", fixed = TRUE)
  expect_error(perturbation_importance(model, x, groups = list(g = "signal"), by = "timestep"),
               paste("groups cannot be used with by = \"timestep\", which perturbs all features of a time",
                     "step together; use by = \"cell\" for each group at each time step, or by = \"feature\""),
               fixed = TRUE)
  expect_error(perturbation_importance(model, x, ci = "boot"),
               "ci must be one of \"data\" or \"repeats\", got \"boot\"", fixed = TRUE)
  expect_error(perturbation_importance(model, x, tolerance = 2),
               "tolerance must be a fraction of the largest importance in (0, 1), got 2", fixed = TRUE)
  expect_error(perturbation_importance(model, x, y = x[, 10, 1], output = 3),
               "output head number 3 is out of range 1..1", fixed = TRUE)
  expect_error(perturbation_importance(model, list(a = x, x)),
               "x must be a list whose items are all named or all unnamed", fixed = TRUE)
  expect_error(perturbation_importance(function(x) stop("model is broken"), x),
               "model failed on the unperturbed data: model is broken", fixed = TRUE, class = "pyimportance_model_error")
})

test_that("a Python engine that cannot be imported gives a hint on how to install it, every time", {
  skip_if_no_python()
  broken <- tempfile("broken-engine")
  dir.create(file.path(broken, "pyimportance"), recursive = TRUE)
  on.exit(unlink(broken, recursive = TRUE))
  writeLines("raise ImportError('this engine is broken')", file.path(broken, "pyimportance", "__init__.py"))
  rscript <- file.path(R.home("bin"), "Rscript")
  code <- paste(
    "suppressMessages(library(pyimportance))",
    "for (i in 1:2) {",
    "  error <- tryCatch(perturbation_importance(function(x) x[, 1], matrix(1, 2, 2)), error = function(e) e)",
    "  cat(class(error)[1:2], conditionMessage(error), sep = '\\n')",
    "}",
    sep = "\n"
  )
  output <- withr_env(c(PYTHONPATH = broken),
                      system2(rscript, c("-e", shQuote(code)), stdout = TRUE, stderr = FALSE))
  message <- paste("the Python engine of pyimportance could not be loaded (ImportError: this engine is broken);",
                   "install it with install_pyimportance(), or set RETICULATE_PYTHON or PYIMPORTANCE_PYTHON",
                   "to a Python that has it")
  expected <- c("pyimportance_python_error", "pyimportance_error", message)
  expect_identical(utils::tail(output, 6), c(expected, expected))
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
