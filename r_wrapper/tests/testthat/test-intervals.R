# Intervals, p-values and early stopping from R: Python's numbers, bit for bit, and the same rules.

test_that("data intervals and p-values are Python's, bit for bit", {
  skip_if_no_python()
  x <- signal_x()
  y <- x[, 10, 1] + 0.3 * x[, 10, 2] + rnorm(200, sd = 0.1)
  model <- function(x) x[, 10, 1] + 0.3 * x[, 10, 2]
  from_r <- perturbation_importance(model, x, y, method = "permute", n_repeats = 3, seed = 4)
  np <- numpy()
  from_python <- python_result(model, np$asfortranarray(x), y, method = "permute", n_repeats = 3L,
                               random_state = 4L)
  frame <- from_python$to_frame()
  expect_identical(from_r$importance, frame$importance)
  expect_identical(from_r$ci_low, frame$ci_low)
  expect_identical(from_r$p_value, frame$p_value)
  expect_identical(from_r$p_adjusted, frame$p_adjusted)
  expect_identical(from_r$p_value < 0.025, from_r$ci_low > 0)
  expect_identical(attr(from_r, "settings")$ci, "data")
})

test_that("early stopping from R stops where Python stops and says whether the target was met", {
  skip_if_no_python()
  set.seed(3)
  x <- array(rnorm(3000 * 4 * 2), c(3000, 4, 2))
  y <- x[, 4, 1] + rnorm(3000, sd = 0.3)
  model <- function(x) x[, 4, 1]
  stopped <- perturbation_importance(model, x, y, method = "permute", n_repeats = 2, seed = 5, tolerance = 0.1)
  expect_identical(attr(stopped, "n_rows_used"), 2000L)
  expect_true(attr(stopped, "converged"))
  expect_lte(attr(stopped, "precision"), 0.1)
  from_python <- python_result(model, x, y, method = "permute", n_repeats = 2L, random_state = 5L, tolerance = 0.1)
  expect_identical(stopped$importance, from_python$to_frame()$importance)
  capped <- perturbation_importance(model, x, y, method = "permute", n_repeats = 2, seed = 5, tolerance = 0.001,
                                    max_samples = 1500)
  expect_false(attr(capped, "converged"))
})

test_that("block_size with ci = \"repeats\" is refused, as in Python and on the command line", {
  skip_if_no_python()
  expect_error(perturbation_importance(function(x) x[, 10, 1], signal_x(), ci = "repeats", block_size = 5),
               "block_size applies to ci = \"data\" (the block bootstrap over rows), got ci = \"repeats\"",
               fixed = TRUE, class = "pyimportance_argument_error")
})
