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

test_that("an R learner fit(x, y) is fitted and asked for its predictions before the run, out of fold", {
  skip_if_no_python()
  set.seed(2)
  n <- 2000
  x1 <- runif(n, -2, 2)
  x <- cbind(x1 = x1, x2 = sin(2 * x1) + rnorm(n, sd = 0.3))
  model <- function(x) x[, 2]
  fits <- 0L
  spline_fit <- function(x, y) {
    fits <<- fits + 1L
    fitted <- stats::smooth.spline(x[, 1], y, df = 12)
    function(x) stats::predict(fitted, x[, 1])$y
  }
  result <- perturbation_importance(model, x, x[, 2], method = "conditional", learner = spline_fit,
                                    n_repeats = 3, seed = 1)
  expect_identical(fits, 30L)  # 5 folds x (all training rows, each half), 2 columns
  expect_equal(result$importance[result$feature == "x2"], 2 * 0.3^2, tolerance = 0.1)
  expect_identical(attr(result, "settings")$learner, "spline_fit")
  ridge <- perturbation_importance(model, x, x[, 2], method = "conditional", n_repeats = 3, seed = 1)
  expect_gt(ridge$importance[ridge$feature == "x2"], 5 * 2 * 0.3^2)
  expect_error(perturbation_importance(model, x, x[, 2], learner = spline_fit),
               "learner is the conditional model of method = \"conditional\", got method = \"gaussian\"",
               fixed = TRUE, class = "pyimportance_argument_error")
})

test_that("a Python regressor made through reticulate is a learner too", {
  skip_if_no_python()
  set.seed(5)
  n <- 1000
  x1 <- rnorm(n)
  x <- cbind(x1 = x1, x2 = 0.8 * x1 + 0.6 * rnorm(n))
  linear <- reticulate::import("sklearn.linear_model")$LinearRegression()
  result <- perturbation_importance(function(x) x[, 2], x, x[, 2], method = "conditional", learner = linear,
                                    n_repeats = 3, seed = 1)
  expect_equal(result$importance[result$feature == "x2"], 2 * 0.36, tolerance = 0.1)
  expect_identical(attr(result, "settings")$learner, "LinearRegression")
})

test_that("declared codes are sampled from a classifier, never given values between codes", {
  skip_if_no_python()
  set.seed(6)
  n <- 3000
  x1 <- runif(n, -2, 2)
  scores <- exp(outer(x1, c(-1.5, 0, 1.5)))
  codes <- apply(scores / rowSums(scores), 1, function(p) sample(0:2, 1, prob = p))
  x <- data.frame(x1 = x1, c = as.integer(codes))
  levels <- c(0, 1, 3)
  model <- function(d) {
    stopifnot(all(d$c %in% 0:2))
    levels[d$c + 1]
  }
  grid <- seq(-2, 2, length.out = 20001)
  p <- exp(outer(grid, c(-1.5, 0, 1.5)))
  p <- p / rowSums(p)
  truth <- mean(rowSums((p %*% outer(levels, levels, function(a, b) (a - b)^2)) * p))
  declared <- perturbation_importance(model, x, model(x), method = "conditional", categorical = "c",
                                      n_repeats = 3, seed = 1)
  expect_equal(declared$importance[declared$feature == "c"], truth, tolerance = 0.1)
  expect_error(perturbation_importance(model, x, model(x), method = "conditional", categorical = "day"),
               "categorical must name features of x (c(\"x1\", \"c\")), got \"day\"", fixed = TRUE,
               class = "pyimportance_argument_error")
})
