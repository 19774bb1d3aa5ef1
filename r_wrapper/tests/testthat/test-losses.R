# Losses from R: Keras' loss names give our losses' numbers.

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
