# Per-row importances and selection from R: the engine's numbers, as a long data frame, a plot over the
# rows and a logical vector; why there are none, in R's terms.

row_data <- function(n = 300L) {
  set.seed(3)
  x <- matrix(rnorm(n * 3), n, dimnames = list(NULL, c("a", "b", "c")))
  list(x = x, y = x[, 1] + 0.3 * x[, 2] + 0.1 * rnorm(n))
}

test_that("the row importances average to the importance, one line per row and unit", {
  skip_if_no_python()
  data <- row_data()
  result <- perturbation_importance(function(x) x[, 1] + 0.3 * x[, 2], data$x, data$y, method = "permute",
                                    n_repeats = 2, seed = 1, max_samples = 200)
  rows <- row_importances(result)
  expect_identical(names(rows), c("row", "feature", "importance"))
  expect_identical(nrow(rows), 600L)
  expect_true(all(rows$row %in% 1:300) && !is.unsorted(rows$row[rows$feature == "a"]))
  means <- tapply(rows$importance, rows$feature, mean)
  expect_equal(as.numeric(means[result$feature]), result$importance, tolerance = 1e-12)
  expect_s3_class(plot_row_importances(result), "ggplot")
  expect_identical(levels(plot_row_importances(result, units = c("b", "a"))$data$unit), c("b", "a"))
})

test_that("cells keep their 1-based time steps in the long frame", {
  skip_if_no_python()
  set.seed(4)
  x <- array(rnorm(40 * 3 * 2), c(40, 3, 2), dimnames = list(NULL, NULL, c("u", "v")))
  result <- perturbation_importance(function(x) x[, 3, 1], x, x[, 3, 1], by = "cell", method = "permute", seed = 1)
  rows <- row_importances(result)
  expect_identical(names(rows), c("row", "feature", "timestep", "importance"))
  expect_identical(sort(unique(rows$timestep)), 1:3)
  expect_identical(rows$row[1:3], 1:3)
})

test_that("rmse has no row importances and says why in R's terms", {
  skip_if_no_python()
  data <- row_data(60L)
  result <- perturbation_importance(function(x) x[, 1], data$x, data$y, loss = "rmse", n_repeats = 2, seed = 1)
  expect_error(row_importances(result),
               "loss = \"rmse\" is the root of a mean over rows, not a mean: it has no per-row importances; loss = \"mse\" has them",
               fixed = TRUE, class = "pyimportance_argument_error")
})

test_that("selected() is the engine's Benjamini-Hochberg or Holm rule, and print says how many at 5% FDR", {
  skip_if_no_python()
  data <- row_data()
  result <- perturbation_importance(function(x) x[, 1] + 0.3 * x[, 2] + 0.01 * x[, 3], data$x, data$y,
                                    method = "permute", n_repeats = 3, seed = 1)
  expect_identical(selected(result), c(a = TRUE, b = TRUE, c = FALSE))
  expect_identical(unname(selected(result, alpha = 0.3)), result$p_adjusted <= 0.3)
  expect_identical(selected(result, control = "fwer"), c(a = TRUE, b = TRUE, c = FALSE))
  expect_identical(attr(result, "summary")[3], "2 of 3 features selected at 5% FDR (Benjamini-Hochberg)")
  expect_error(selected(result, control = "holm"),
               "control must be \"fdr\" (Benjamini-Hochberg) or \"fwer\" (Holm), got \"holm\"", fixed = TRUE,
               class = "pyimportance_argument_error")
})
