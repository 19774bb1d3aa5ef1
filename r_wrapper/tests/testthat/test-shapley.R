# shapley_importance(): Shapley global importance from R, on the same engine, arguments and data frame
# as perturbation_importance().

test_that("the product of two inputs gets half the explained loss each, the values adding up to the total", {
  skip_if_no_python()
  set.seed(2)
  x <- matrix(rnorm(3000 * 2), 3000, 2, dimnames = list(NULL, c("a", "b")))
  model <- function(x) x[, "a"] * x[, "b"]
  result <- shapley_importance(model, x, model(x), n_draws = 2L, seed = 1)
  expect_s3_class(result, "pyimportance_result")
  expect_setequal(result$feature, c("a", "b"))
  expect_equal(result$importance, c(0.5, 0.5), tolerance = 0.16)
  expect_equal(sum(result$importance), attr(result, "total"), tolerance = 1e-10)
  expect_true(attr(result, "total_ci_low") < attr(result, "total"))
  expect_true(attr(result, "total") < attr(result, "total_ci_high"))
  expect_match(attr(result, "summary")[1], "^Shapley importance \\(SAGE\\) by feature: marginal imputation, 2 draws")
  expect_identical(attr(result, "settings")$n_draws, 2L)
  expect_identical(attr(result, "settings")$seed, 1L)
  expect_identical(ggplot2::autoplot(result)$labels$title, "Shapley importance (SAGE, mse)")
})

test_that("imputer = \"conditional\" splits the value of correlated inputs", {
  skip_if_no_python()
  set.seed(4)
  x1 <- rnorm(3000)
  x <- cbind(x1 = x1, x2 = 0.8 * x1 + 0.6 * rnorm(3000))
  result <- shapley_importance(function(x) x[, "x1"], x, x1, imputer = "conditional", seed = 1)
  values <- setNames(result$importance, result$feature)
  expect_equal(unname(values[c("x1", "x2")]), c(1 - 0.32, 0.32), tolerance = 0.1)
  expect_identical(attr(result, "settings")$imputer, "conditional")
})

test_that("a Keras LSTM built from R gets cell values with 1-based time steps, the same numbers for the same seed", {
  skip_if_no_python()
  x <- signal_x(n = 120L, timesteps = 4L)
  keras <- reticulate::import("keras")
  keras$utils$set_random_seed(2L)
  model <- keras$Sequential(list(keras$Input(shape = list(4L, 3L)), keras$layers$LSTM(4L), keras$layers$Dense(1L)))
  y <- x[, 4, 1] + 0.3 * x[, 4, 2]
  cells <- shapley_importance(model, x, y, by = "cell", n_draws = 4L, seed = 3)
  expect_identical(nrow(cells), 12L)
  expect_setequal(cells$timestep, 1:4)
  expect_equal(sum(cells$importance), attr(cells, "total"), tolerance = 1e-8)
  again <- shapley_importance(model, x, y, by = "cell", n_draws = 4L, seed = 3)
  expect_identical(attr(again, "importances"), attr(cells, "importances"))
})

test_that("a wrong argument is named in R's terms, and method, which it does not take, is unused", {
  skip_if_no_python()
  x <- matrix(rnorm(100), 50, 2)
  expect_error(shapley_importance(function(x) x[, 1], x, x[, 1], n_draws = 1),
               "n_draws must be at least 2 \\(the bias of the average is removed with its draws\\), got 1",
               class = "pyimportance_argument_error")
  expect_error(shapley_importance(function(x) x[, 1], x, x[, 1], by = "cell"),
               'by = "cell" needs 3D x', class = "pyimportance_argument_error")
  expect_error(shapley_importance(function(x) x[, 1], x, x[, 1], method = "permute"),
               "unused argument \\(method = \"permute\"\\)")
})

test_that("features outside every group are units of their own, so the values add up to the explained loss", {
  skip_if_no_python()
  set.seed(6)
  x <- matrix(rnorm(3000 * 3), 3000, 3, dimnames = list(NULL, c("a", "b", "c")))
  model <- function(x) x[, "a"] + x[, "b"]
  result <- shapley_importance(model, x, model(x), groups = list(g = c("b", "c")), seed = 1)
  values <- setNames(result$importance, result$feature)
  expect_setequal(names(values), c("g", "a"))
  expect_equal(unname(values[c("a", "g")]), c(var(x[, "a"]), var(x[, "b"])), tolerance = 0.1)
  expect_equal(attr(result, "total"), mean((model(x) - mean(model(x)))^2), tolerance = 0.05)
  expect_identical(attr(result, "settings")$ungrouped, "a")
  expect_true(any(grepl("Features outside every group, each a unit of its own: a", attr(result, "summary"))))
})
