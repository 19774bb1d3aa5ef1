# Conditional importance from R: what the other inputs know is kept; reference rows.

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
