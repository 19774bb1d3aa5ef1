# Shared fixtures. Tests skip (never fail) where Python is missing; CI always has it.

skip_if_no_python <- function() {
  skip_if_not(pyimportance_available(), "Python module 'pyimportance' is not available")
}

engine <- function() reticulate::import("pyimportance")
numpy <- function() reticulate::import("numpy", convert = FALSE)

#' 200 x 10 x 3 standard normal values named signal/weak/noise.
signal_x <- function(n = 200L, timesteps = 10L, seed = 1L) {
  set.seed(seed)
  array(rnorm(n * timesteps * 3L), c(n, timesteps, 3L),
        dimnames = list(NULL, NULL, c("signal", "weak", "noise")))
}

#' A tiny seeded LSTM trained on y = x[, T, signal] + 0.3 x[, T, weak], built
#' from R through reticulate (the same Python objects keras3 builds); fitted
#' once per test run.
signal_lstm <- local({
  fitted <- NULL
  function() {
    if (is.null(fitted)) {
      keras <- reticulate::import("keras")
      keras$utils$set_random_seed(1L)
      x <- signal_x(n = 300L)
      y <- x[, 10, 1] + 0.3 * x[, 10, 2]
      model <- keras$Sequential(list(
        keras$Input(shape = list(10L, 3L)),
        keras$layers$LSTM(8L),
        keras$layers$Dense(1L)
      ))
      model$compile(optimizer = keras$optimizers$Adam(learning_rate = 0.02), loss = "mse")
      model$fit(x, reticulate::np_array(y), epochs = 5L, batch_size = 32L, verbose = 0L)
      fitted <<- list(model = model, x = x, y = y)
    }
    fitted
  }
})

#' The Python engine's result for the same call (Python argument names).
python_result <- function(model, x, y = NULL, ...) {
  engine()$perturbation_importance(model, x, y, ...)
}

#' Python's importances for the same call, rows named like the R result's.
python_importances <- function(result) {
  matrix <- result$importances
  rownames(matrix) <- unlist(result$feature)
  matrix
}

#' Evaluate `code` with environment variables set ("" unsets), then restore them.
withr_env <- function(variables, code) {
  old <- Sys.getenv(names(variables), unset = NA, names = TRUE)
  on.exit({
    for (name in names(old)) {
      if (is.na(old[[name]])) Sys.unsetenv(name) else do.call(Sys.setenv, as.list(old[name]))
    }
  })
  for (name in names(variables)) {
    if (nzchar(variables[[name]])) do.call(Sys.setenv, as.list(variables[name])) else Sys.unsetenv(name)
  }
  code
}

#' The estimators of the engine's registry (pyimportance.registry.ESTIMATORS), each a Python object
#' with `name`, `r_function` and `offered("r")`.
estimators <- function() reticulate::import("pyimportance.registry")$ESTIMATORS

#' The settings an estimator's registry entry offers R, in its order, named by their R names.
r_offered_settings <- function(entry) {
  terms <- reticulate::import("pyimportance.terms")
  offered <- entry$offered("r")
  names(offered) <- vapply(offered, function(setting) terms$R$name_of(setting$name), character(1))
  offered
}
