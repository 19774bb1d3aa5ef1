test_that("an executor gives the same numbers as the local run", {
  skip_if_no_python()
  fitted <- signal_lstm()
  futures <- reticulate::import("concurrent.futures")
  pool <- futures$ThreadPoolExecutor(max_workers = 2L)
  on.exit(pool$shutdown())
  local <- perturbation_importance(fitted$model, fitted$x, n_repeats = 3, seed = 5)
  pooled <- perturbation_importance(fitted$model, fitted$x, n_repeats = 3, seed = 5, executor = pool)
  expect_identical(attr(pooled, "importances"), attr(local, "importances"))
  expect_identical(pooled$feature[1], "signal")
})

test_that("an executor refuses R functions, which cannot run in other processes", {
  skip_if_no_python()
  futures <- reticulate::import("concurrent.futures")
  pool <- futures$ThreadPoolExecutor(max_workers = 1L)
  on.exit(pool$shutdown())
  expect_error(
    perturbation_importance(function(x) x[, 10, 1], signal_x(), executor = pool),
    "executor needs a Python model and built-in method and loss: R functions cannot run in other processes or threads",
    fixed = TRUE
  )
})
