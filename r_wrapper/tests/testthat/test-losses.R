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

test_that("per-step classification and Keras loss objects with their settings give Keras' numbers from R", {
  skip_if_no_python()
  keras <- reticulate::import("keras")
  set.seed(1)
  n <- 120L; steps <- 5L
  x <- array(rnorm(n * steps * 4L), c(n, steps, 4L))
  input <- keras$Input(shape = list(steps, 4L))
  model <- keras$Model(input, keras$layers$Dense(3L, activation = "softmax")(input))  # a softmax per step
  p <- model$predict(x, verbose = 0L)
  y <- matrix(sample(0:2, n * steps, replace = TRUE), n, steps)  # one class per step
  sparse <- perturbation_importance(model, x, y, loss = "sparse_categorical_crossentropy", method = "zero")
  expect_equal(attr(sparse, "baseline_score"),
               keras$losses$SparseCategoricalCrossentropy()(y, p)$numpy(), tolerance = 1e-6)
  ignoring <- keras$losses$SparseCategoricalCrossentropy(ignore_class = 0L)
  counted <- perturbation_importance(model, x, y, loss = ignoring, method = "zero")
  expect_equal(attr(counted, "baseline_score"), ignoring(y, p)$numpy(), tolerance = 1e-6)
  expect_identical(attr(counted, "settings")$loss, "sparse_categorical_crossentropy (ignore_class=0)")
  expect_error(
    perturbation_importance(model, x, y[, 1:4], loss = "sparse_categorical_crossentropy", method = "zero"),
    paste0("loss = \"sparse_categorical_crossentropy\" needs y as class labels (an array of dim c(n, 5)) or a ",
           "one-hot array of dim c(n, 5, 3), one class per step, got dim c(120, 4)"), fixed = TRUE)
})
