# sample_weight from R: the weighted mean sum(w * loss) / sum(w) by hand, the Python engine's numbers, and
# the mistakes R users make, in R's terms.

weighted_data <- function(n = 200L) {
  set.seed(5)
  x <- matrix(rnorm(n * 3), n, dimnames = list(NULL, c("a", "b", "c")))
  list(x = x, y = 2 * x[, 1] + 0.5 * x[, 2] + 0.3 * rnorm(n), w = runif(n, 0, 3))
}

linear_model <- function(x) 2 * x[, 1] + 0.5 * x[, 2]

in_feature_order <- function(result) result$importance[match(c("a", "b", "c"), result$feature)]

test_that("sample_weight gives the weighted mean of a hand loop", {
  skip_if_no_python()
  data <- weighted_data()
  result <- perturbation_importance(linear_model, data$x, data$y, method = "zero", sample_weight = data$w)
  weighted_mse <- function(x) sum(data$w * (linear_model(x) - data$y)^2) / sum(data$w)
  expected <- vapply(c("a", "b", "c"), function(feature) {
    zeroed <- data$x
    zeroed[, feature] <- 0
    weighted_mse(zeroed) - weighted_mse(data$x)
  }, numeric(1))
  expect_equal(in_feature_order(result), unname(expected), tolerance = 1e-10)
  expect_equal(attr(result, "baseline_score"), weighted_mse(data$x), tolerance = 1e-10)
})

test_that("weights from R give the Python engine's numbers, Shapley's too", {
  skip_if_no_python()
  data <- weighted_data()
  np <- numpy()
  python_model <- reticulate::py_eval("lambda x: 2 * x[:, 0] + 0.5 * x[:, 1]")
  for (estimator in c("perturbation_importance", "shapley_importance")) {
    from_r <- do.call(estimator, list(linear_model, data$x, data$y, sample_weight = data$w, seed = 2L))
    in_python <- engine()[[estimator]](python_model, np$array(data$x), np$array(data$y),
                                       sample_weight = np$array(data$w), random_state = 2L)
    expected <- in_python$importances_mean
    expect_equal(in_feature_order(from_r), as.numeric(expected), tolerance = 1e-10)
    unweighted <- do.call(estimator, list(linear_model, data$x, data$y, seed = 2L))
    expect_gt(max(abs(in_feature_order(unweighted) - in_feature_order(from_r))), 1e-3)
  }
})

test_that("bad weights are refused in R's terms", {
  skip_if_no_python()
  data <- weighted_data(20L)
  expect_error(perturbation_importance(linear_model, data$x, data$y, sample_weight = c(1, NA, rep(1, 18))),
               "sample_weight must not contain NA, got NA at sample_weight[2]", fixed = TRUE)
  expect_error(perturbation_importance(linear_model, data$x, data$y, sample_weight = c(1, -2, rep(1, 18))),
               "sample_weight must be finite and >= 0, got -2 at sample_weight[2]", fixed = TRUE)
  expect_error(perturbation_importance(linear_model, data$x, data$y, sample_weight = rep(1, 5)),
               "sample_weight must be one number per row of x (20)", fixed = TRUE)
  expect_error(perturbation_importance(linear_model, data$x, data$y, sample_weight = "a"),
               "sample_weight must be a numeric vector", fixed = TRUE)
  one_number <- function(y_true, y_pred) mean((y_true - y_pred)^2)
  expect_error(perturbation_importance(linear_model, data$x, data$y, loss = one_number, sample_weight = rep(1, 20)),
               "gives one number for a set of rows and takes no sample_weight", fixed = TRUE)
})
