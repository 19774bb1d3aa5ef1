test_that("an LSTM built from R ranks the signal feature first", {
  skip_if_no_python()
  fit <- signal_lstm()
  result <- perturbation_importance(fit$model, fit$x, fit$y, n_repeats = 3, seed = 7)

  expect_s3_class(result, "pyimportance_result")
  expect_identical(result$feature[1], "signal")
  expect_gt(result$importance[1], 5 * result$importance[result$feature == "noise"])
  expect_identical(attr(result, "settings")$loss, "mse")
  expect_gt(attr(result, "baseline_score"), 0)
})

test_that("R and Python give the same numbers for a Keras model and the same seed", {
  skip_if_no_python()
  fit <- signal_lstm()
  from_r <- perturbation_importance(fit$model, fit$x, fit$y, n_repeats = 4, seed = 11)
  from_python <- engine()$perturbation_importance(
    fit$model, numpy()$ascontiguousarray(fit$x), reticulate::np_array(fit$y),
    n_repeats = 4L, random_state = 11L, feature_names = list("signal", "weak", "noise")
  )

  expected <- python_importances(from_python)
  actual <- attr(from_r, "importances")[rownames(expected), ]
  dimnames(actual) <- dimnames(expected)
  expect_equal(actual, expected, tolerance = 1e-12)
  expect_identical(max(abs(actual - expected)), 0)
  expect_identical(attr(from_r, "baseline_score"), from_python$baseline_score)
})

test_that("a Keras model rejects x of the wrong shape with the engine's message", {
  skip_if_no_python()
  fit <- signal_lstm()
  expect_error(
    perturbation_importance(fit$model, fit$x[, , 1:2], n_repeats = 1),
    "x does not fit the model: the model expects input of dim c(NA, 10, 3), got x of dim c(300, 10, 2)",
    fixed = TRUE, class = "pyimportance_argument_error"
  )
})

test_that("noise on an integer Embedding input is refused with the fix in R's terms; permute runs", {
  skip_if_no_python()
  keras <- reticulate::import("keras")
  keras$utils$set_random_seed(3L)
  days <- keras$Input(shape = list(4L), dtype = "int32", name = "day")
  embedded <- keras$layers$Flatten()(keras$layers$Embedding(5L, 2L)(days))
  model <- keras$Model(days, keras$layers$Dense(1L)(embedded))
  set.seed(1)
  codes <- matrix(sample(0:4, 160, replace = TRUE), 40, 4)
  expect_error(
    perturbation_importance(model, codes),
    paste0('method = "gaussian" cannot perturb c("x1", "x2", "x3", "x4"): the model reads input "day" as int32 ',
           'codes, so noise would turn a code into another category at random; use method = "permute" or ',
           'method = "resample", which move whole codes between rows'),
    fixed = TRUE, class = "pyimportance_argument_error"
  )
  result <- perturbation_importance(model, codes, method = "permute", n_repeats = 2, seed = 1)
  expect_true(all(is.finite(result$importance)))
})

test_that("a tf.data.Dataset of (x, y) windows made by Keras gives the numbers of the same windows as an array", {
  skip_if_no_python()
  keras <- reticulate::import("keras", convert = FALSE)
  set.seed(5)
  series <- matrix(round(rnorm(200 * 3) * 8) / 8, 200, 3)  # eighths: the same values in float32
  steps <- 6L
  targets <- series[steps:200, 1]
  windows <- keras$utils$timeseries_dataset_from_array(
    numpy()$array(series, dtype = "float32"), numpy()$array(targets, dtype = "float32"),
    sequence_length = steps, batch_size = 32L)
  x <- aperm(simplify2array(lapply(seq_along(targets), function(i) series[i:(i + steps - 1L), ])), c(3, 1, 2))
  model <- function(x) x[, steps, 1] + 0.5 * x[, steps - 1L, 2]
  direct <- perturbation_importance(model, x, targets, method = "permute", seed = 3)
  from_dataset <- perturbation_importance(model, windows, method = "permute", seed = 3)
  expect_identical(from_dataset$feature, direct$feature)
  expect_identical(from_dataset$importance, direct$importance)
  expect_gt(direct$importance[direct$feature == "x1"], 1)
  expect_error(perturbation_importance(model, windows, targets), "must be left out when x is a tf.data.Dataset")
})
