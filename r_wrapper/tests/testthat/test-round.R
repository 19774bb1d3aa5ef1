# This round's features from R give Python's numbers: intervals and p-values, early stopping,
# conditional importance, padding, Keras loss names.

python_result <- function(model, x, y = NULL, ...) {
  engine()$perturbation_importance(model, x, y, ...)
}

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

test_that("conditional importance from R keeps what the other inputs know", {
  skip_if_no_python()
  set.seed(8)
  n <- 3000
  x1 <- matrix(rnorm(n * 3), n)
  x2 <- 0.8 * x1 + 0.6 * matrix(rnorm(n * 3), n)
  x <- array(c(x1, x2), c(n, 3, 2), dimnames = list(NULL, NULL, c("x1", "x2")))
  model <- function(x) x[, 3, "x1"] + 0.5 * x[, 3, "x2"]
  y <- model(x)
  conditional <- perturbation_importance(model, x, y, method = "conditional", n_repeats = 3, seed = 1)
  permute <- perturbation_importance(model, x, y, method = "permute", n_repeats = 3, seed = 1)
  ratio <- conditional$importance[conditional$feature == "x1"] / permute$importance[permute$feature == "x1"]
  expect_equal(ratio, 1 - 0.8^2, tolerance = 0.1)
  reference <- perturbation_importance(model, x[1:500, , ], y[1:500], method = "conditional", n_repeats = 2,
                                       seed = 1, reference = x)
  expect_identical(attr(reference, "settings")$method, "conditional")
  expect_error(perturbation_importance(model, x, y, reference = x),
               "reference is used by method = \"conditional\" only, got method = \"gaussian\"", fixed = TRUE,
               class = "pyimportance_argument_error")
})

test_that("padded time steps from R are never perturbed", {
  skip_if_no_python()
  x <- signal_x(n = 60L)
  x[1:20, 1:4, ] <- -1
  seen_padding <- list()
  model <- function(chunk) {
    seen_padding[[length(seen_padding) + 1L]] <<- sum(apply(chunk == -1, c(1, 2), all))
    rowSums(ifelse(chunk[, , 1] == -1, 0, chunk[, , 1]))
  }
  result <- perturbation_importance(model, x, method = "permute", mask_value = -1, n_repeats = 2, seed = 1,
                                    batch_size = 60)
  expect_true(all(unlist(seen_padding)[-2] == 20 * 4))  # every full call but the 3-row row-wise check
  expect_identical(attr(result, "settings")$mask_value, list(input = -1))
})

test_that("Keras loss names work from R", {
  skip_if_no_python()
  x <- signal_x()
  y <- x[, 10, 1] + rnorm(200, sd = 0.2)
  model <- function(x) x[, 10, 1]
  keras_name <- perturbation_importance(model, x, y, loss = "Mean_Squared_Error", n_repeats = 2, seed = 1)
  ours <- perturbation_importance(model, x, y, loss = "mse", n_repeats = 2, seed = 1)
  expect_identical(keras_name$importance, ours$importance)
  expect_identical(attr(keras_name, "settings")$loss, "mse")
})
