# Output heads from R: a Keras model with named outputs (keras3's
# keras_model(inp, list(sales = ..., churn = ...)), built here through
# reticulate, the same Python objects), y, loss and output by those names,
# output columns with y holding only them (1-based), Keras loss names, and a
# colour scale per head in the heatmap.

#' A Dense head reading only `feature` at the last of `timesteps` steps.
reader <- function(keras, flat, name, feature, weight, timesteps, features, activation = NULL, units = 1L) {
  layer <- keras$layers$Dense(units, activation = activation, name = name)
  out <- layer(flat)
  kernel <- matrix(0, timesteps * features, units)
  kernel[(timesteps - 1L) * features + feature, ] <- weight * seq_len(units)
  layer$set_weights(list(reticulate::np_array(kernel, dtype = "float32"),
                         reticulate::np_array(rep(0, units), dtype = "float32")))
  out
}

#' keras_model(inp, list(sales = ..., churn = ...)): sales reads signal, churn (a sigmoid) reads weak.
sales_churn_model <- function() {
  keras <- reticulate::import("keras")
  inp <- keras$Input(shape = list(10L, 3L))
  flat <- keras$layers$Flatten()(inp)
  keras$Model(inp, list(
    sales = reader(keras, flat, "dense_sales", 1L, 2, 10L, 3L),
    churn = reader(keras, flat, "dense_churn", 2L, 3, 10L, 3L, activation = "sigmoid")
  ))
}

test_that("a Keras model with named outputs takes y and loss by those names and labels its heads by them", {
  skip_if_no_python()
  x <- signal_x(n = 60L)
  y <- list(sales = 2 * x[, 10, 1] + 0.1, churn = as.numeric(x[, 10, 2] > 0))
  result <- perturbation_importance(sales_churn_model(), x, y, loss = list(churn = "log_loss"),
                                    per_output = TRUE, method = "permute", n_repeats = 2, seed = 1)
  expect_setequal(unique(result$output), c("sales", "churn"))
  importance <- stats::setNames(result$importance, paste(result$feature, result$output))
  expect_gt(importance[["signal sales"]], 1)
  expect_identical(importance[["weak sales"]], 0)
  expect_gt(importance[["weak churn"]], 0.1)
  expect_identical(importance[["signal churn"]], 0)
  expect_identical(attr(result, "settings")$loss, "log_loss+mse")  # heads in key order: churn, sales

  only_sales <- perturbation_importance(sales_churn_model(), x, y["sales"], output = "sales",
                                        method = "permute", n_repeats = 2, seed = 1)
  expect_equal(attr(only_sales, "baseline_score"), 0.01, tolerance = 1e-4)
  expect_error(
    perturbation_importance(sales_churn_model(), x, list(sale = y$sales, churn = y$churn), n_repeats = 1),
    paste0("y names unknown output heads c(\"sale\"); the model's heads are c(\"churn\", \"sales\") ",
           "(their layers: c(\"dense_churn\", \"dense_sales\"))"),
    fixed = TRUE
  )
})

test_that("output columns take y with only those columns, and a single head answers to its layer's name", {
  skip_if_no_python()
  keras <- reticulate::import("keras")
  x <- signal_x(n = 60L)
  inp <- keras$Input(shape = list(10L, 3L))
  model <- keras$Model(inp, reader(keras, keras$layers$Flatten()(inp), "forecast", 1L, 1, 10L, 3L, units = 3L))
  y <- cbind(x[, 10, 1], 2 * x[, 10, 1], 3 * x[, 10, 1]) + 0.5
  chosen <- perturbation_importance(model, x, y[, c(1, 3)], output = list(forecast = c(1, 3)), method = "zero")
  all_columns <- perturbation_importance(model, x, y, output = list(output = c(1, 3)), method = "zero")
  expect_equal(chosen$importance, all_columns$importance, tolerance = 1e-12)
  expect_equal(attr(chosen, "baseline_score"), 0.25, tolerance = 1e-5)
  expect_error(
    perturbation_importance(model, x, cbind(y, y), output = list(forecast = c(1, 3)), method = "zero"),
    "y must hold all 3 columns or only the 2 chosen by output, got 6 column(s)", fixed = TRUE
  )
})

test_that("Keras loss names are computed by Keras, with intervals from the rows", {
  skip_if_no_python()
  keras <- reticulate::import("keras")
  x <- signal_x(n = 60L)
  y <- x[, 10, 1] + 0.5
  model <- function(x) x[, 10, 1]
  result <- perturbation_importance(model, x, y, loss = "huber", method = "permute", n_repeats = 2, seed = 1)
  expected <- keras$losses$Huber()(reticulate::np_array(y), reticulate::np_array(model(x)))$numpy()
  expect_equal(attr(result, "baseline_score"), as.numeric(expected), tolerance = 1e-6)
  expect_identical(attr(result, "settings")$loss, "huber")
  expect_true(all(is.finite(result$ci_low)))
})

test_that("a heatmap of heads with different losses gives each head its own colour scale", {
  skip_if_no_python()
  x <- signal_x(n = 80L)
  heads <- function(x) list(amount = 100 * x[, 10, 1], churn = 1 / (1 + exp(-3 * x[, 10, 2])))
  y <- list(amount = 100 * x[, 10, 1] + 1, churn = as.numeric(x[, 10, 2] > 0))
  result <- perturbation_importance(heads, x, y, loss = list(churn = "log_loss"), per_output = TRUE,
                                    method = "permute", n_repeats = 2, seed = 1)
  plot <- ggplot2::autoplot(result)
  expect_s3_class(plot$facet, "FacetGrid")
  built <- ggplot2::ggplot_build(plot)
  tiles <- built$data[[1]]
  limits <- built$plot$scales$get_scales("fill")$get_limits()
  expect_equal(max(limits), 1)
  # the brightest colour of the scale is reached in each head's panel: each head has its own scale
  brightest <- built$plot$scales$get_scales("fill")$map(1)
  expect_setequal(unique(tiles$PANEL[tiles$fill == brightest]), unique(tiles$PANEL))
  expect_length(unique(tiles$PANEL), 2L)
})

test_that("the report template loads a tf-keras GRU saved as .h5", {
  skip_if_no_python()
  skip_if_not(rmarkdown::pandoc_available(), "pandoc is not available")
  directory <- tempfile("report")
  dir.create(directory)
  on.exit(unlink(directory, recursive = TRUE), add = TRUE)
  tf_keras <- reticulate::import("tf_keras")
  np <- reticulate::import("numpy", convert = FALSE)
  tf_keras$utils$set_random_seed(1L)
  model <- tf_keras$Sequential(list(tf_keras$layers$GRU(2L, input_shape = list(4L, 3L)), tf_keras$layers$Dense(1L)))
  model$save(file.path(directory, "gru.h5"))
  x <- signal_x(n = 30L, timesteps = 4L)
  np$save(file.path(directory, "x.npy"), np$array(x))
  text <- render_report(directory, model = "gru.h5", y = "")
  expect_true(grepl("Perturbation importance by feature: method \u201cpermute\u201d", text, fixed = TRUE))
  expect_true(grepl(" x1 ", text, fixed = TRUE))
  expect_false(grepl("time_major", text, fixed = TRUE))
})
