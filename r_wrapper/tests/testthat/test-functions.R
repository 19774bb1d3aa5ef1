last_step_model <- function(x) 3 * x[, dim(x)[2], 1]

test_that("an R function model gives the same numbers as the same Python function", {
  skip_if_no_python()
  x <- signal_x()
  from_r <- perturbation_importance(last_step_model, x, n_repeats = 3, seed = 5)
  python_model <- reticulate::py_eval("lambda x: 3 * x[:, -1, 0]", convert = FALSE)
  from_python <- engine()$perturbation_importance(
    python_model, numpy()$ascontiguousarray(x), n_repeats = 3L, random_state = 5L
  )

  expected <- python_importances(from_python)
  rownames(expected) <- c("signal", "weak", "noise")
  actual <- attr(from_r, "importances")[rownames(expected), ]
  dimnames(actual) <- dimnames(expected)
  expect_identical(max(abs(actual - expected)), 0)
  expect_identical(from_r$feature, c("signal", "weak", "noise"))
  expect_identical(from_r$importance[2:3], c(0, 0))
})

test_that("the R function gets an R array with the original index order", {
  skip_if_no_python()
  x <- array(as.numeric(seq_len(4 * 3 * 2)), c(4, 3, 2))
  seen <- NULL
  model <- function(chunk) {
    seen <<- chunk
    chunk[, 1, 1]
  }
  perturbation_importance(model, x, method = "zero", n_repeats = 1, batch_size = 4)
  expect_identical(dim(seen), c(4L, 3L, 2L))
  expect_identical(seen[2, 3, 1], x[2, 3, 1])
})

test_that("feature names come from dimnames, colnames and data frame columns", {
  skip_if_no_python()
  x <- signal_x()
  expect_setequal(perturbation_importance(last_step_model, x, n_repeats = 1, seed = 1)$feature,
                  c("signal", "weak", "noise"))

  matrix_x <- x[, 10, ]
  result <- perturbation_importance(function(x) x[, "signal"] * 2, matrix_x, n_repeats = 2, seed = 1)
  expect_identical(result$feature[1], "signal")
  expect_identical(result$importance[2:3], c(0, 0))

  frame_x <- as.data.frame(matrix_x)
  frame_result <- perturbation_importance(function(x) x[, 1] * 2, frame_x, n_repeats = 2, seed = 1)
  expect_identical(as.data.frame(frame_result), as.data.frame(result))

  fit <- stats::lm(y ~ ., data = cbind(frame_x, y = 2 * frame_x$signal + 0.01 * frame_x$weak))
  r_model <- perturbation_importance(function(d) stats::predict(fit, newdata = d), frame_x, n_repeats = 2, seed = 1)
  expect_identical(r_model$feature, c("signal", "weak", "noise"))

  renamed <- perturbation_importance(last_step_model, x, n_repeats = 1, seed = 1,
                                     feature_names = c("a", "b", "c"))
  expect_identical(renamed$feature[1], "a")
})

test_that("n_repeats, batch_size and seed may be doubles", {
  skip_if_no_python()
  x <- signal_x()
  result <- perturbation_importance(last_step_model, x, n_repeats = 5, batch_size = 64, seed = 3)
  expect_identical(dim(attr(result, "importances")), c(3L, 5L))
  expect_identical(attr(result, "settings")$n_repeats, 5L)
  same <- perturbation_importance(last_step_model, x, n_repeats = 5L, batch_size = 1000L, seed = 3L)
  expect_identical(as.data.frame(result), as.data.frame(same))
})

test_that("by = 'cell' and by = 'timestep' report 1-based time steps", {
  skip_if_no_python()
  x <- signal_x()
  cells <- perturbation_importance(last_step_model, x, by = "cell", n_repeats = 2, seed = 1)
  expect_identical(nrow(cells), 30L)
  expect_identical(cells$feature[1], "signal")
  expect_identical(cells$timestep[1], 10L)
  expect_setequal(cells$timestep, 1:10)
  expect_identical(rownames(attr(cells, "importances"))[1], "signal@t10")

  steps <- perturbation_importance(last_step_model, x, by = "timestep", n_repeats = 2, seed = 1)
  expect_identical(steps$timestep[1], 10L)
  expect_identical(steps$feature[1], "(all)")
})

test_that("groups become units, whether one member or several, names or numbers", {
  skip_if_no_python()
  x <- signal_x()
  result <- perturbation_importance(last_step_model, x, n_repeats = 2, seed = 1,
                                    groups = list(main = "signal", rest = c(2, 3)))
  expect_identical(result$feature, c("main", "rest"))
  expect_identical(attr(result, "settings")$groups, list(main = "signal", rest = c("weak", "noise")))
})

test_that("a factor y is passed as codes 0..K-1 for accuracy and log_loss", {
  skip_if_no_python()
  x <- signal_x()
  score <- x[, 10, 1]
  y <- cut(score, c(-Inf, -0.5, 0.5, Inf), labels = c("low", "mid", "high"))
  classifier <- function(x) {
    s <- x[, 10, 1]
    logits <- cbind(-4 * s, 0 * s, 4 * s)
    exp(logits) / rowSums(exp(logits))
  }
  accuracy <- perturbation_importance(classifier, x, y, loss = "accuracy", n_repeats = 3, seed = 2)
  expect_identical(accuracy$feature[1], "signal")
  expect_identical(attr(accuracy, "settings")$classes, c("low", "mid", "high"))
  expect_identical(attr(accuracy, "settings")$loss, "accuracy")

  log_loss <- perturbation_importance(classifier, x, y, loss = "log_loss", n_repeats = 3, seed = 2)
  codes <- perturbation_importance(classifier, x, as.integer(y) - 1L, loss = "log_loss",
                                   n_repeats = 3, seed = 2)
  expect_identical(as.data.frame(log_loss), as.data.frame(codes))
  expect_gt(log_loss$importance[1], 0)
})

test_that("method and loss may be R functions", {
  skip_if_no_python()
  x <- signal_x()
  y <- 3 * x[, 10, 1]
  zero_out <- function(values, rng) values * 0
  zeroed <- perturbation_importance(last_step_model, x, method = zero_out, n_repeats = 1)
  builtin <- perturbation_importance(last_step_model, x, method = "zero", n_repeats = 1)
  expect_identical(zeroed$importance, builtin$importance)
  expect_identical(attr(zeroed, "settings")$method, "zero_out")

  squared_error <- function(y_true, y_pred) mean((y_true - y_pred)^2)
  custom <- perturbation_importance(last_step_model, x, y, loss = squared_error, n_repeats = 2, seed = 4)
  builtin <- perturbation_importance(last_step_model, x, y, loss = "mse", n_repeats = 2, seed = 4)
  expect_equal(custom$importance, builtin$importance, tolerance = 1e-12)
  expect_identical(attr(custom, "settings")$loss, "squared_error")
})
