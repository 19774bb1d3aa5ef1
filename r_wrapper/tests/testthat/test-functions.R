last_step_model <- function(x) 3 * x[, dim(x)[2], 1]

test_that("an R function model gives the same numbers as the same Python function", {
  skip_if_no_python()
  x <- signal_x()
  from_r <- perturbation_importance(last_step_model, x, n_repeats = 3, seed = 5)
  python_model <- reticulate::py_eval("lambda x: 3 * x[:, -1, 0]", convert = FALSE)
  # The very array R passes (Fortran order, R's memory): the engine's numbers do not depend
  # on the memory layout only up to rounding (reported to the engine).
  from_python <- engine()$perturbation_importance(
    python_model, reticulate::r_to_py(x), n_repeats = 3L, random_state = 5L
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
  zero_out <- function(values, seed) values * 0
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

test_that("an R method gets function(values, seed): the seed makes its draws reproducible", {
  skip_if_no_python()
  x <- signal_x()
  seen <- list()
  shuffle_rows <- function(values, seed) {
    seen[[length(seen) + 1L]] <<- list(dim = dim(values), seed = seed)
    set.seed(seed)
    values[sample(dim(values)[1]), , , drop = FALSE]
  }
  first <- perturbation_importance(last_step_model, x, method = shuffle_rows, n_repeats = 2, seed = 9)
  again <- perturbation_importance(last_step_model, x, method = shuffle_rows, n_repeats = 2, seed = 9)
  expect_identical(as.data.frame(first), as.data.frame(again))
  expect_identical(seen[[1]]$dim, c(200L, 10L, 1L))
  seeds <- vapply(seen, function(call) call$seed, integer(1))
  expect_true(all(seeds >= 0L))
  expect_identical(seeds[1:6], seeds[7:12]) # same seed, same draws
  expect_identical(length(unique(seeds[1:6])), 6L) # one seed per (feature, repeat)
  expect_gt(first$importance[1], 1)
  expect_identical(first$importance[2:3], c(0, 0))
})

test_that("a data frame x gives the R model data frame chunks with the column types it needs", {
  skip_if_no_python()
  set.seed(4)
  frame <- data.frame(a = rnorm(60), b = sample(1:5, 60, replace = TRUE), flag = rnorm(60) > 0)
  seen <- NULL
  model <- function(d) {
    seen <<- d
    2 * d$a + d$flag
  }
  result <- perturbation_importance(model, frame, n_repeats = 2, seed = 1)
  expect_identical(names(seen), c("a", "b", "flag"))
  expect_true(is.data.frame(seen))
  expect_identical(result$feature[3], "b")
  expect_identical(result$importance[3], 0)
})

test_that("several inputs: a named list x gives the R model a named list of chunks", {
  skip_if_no_python()
  set.seed(5)
  sequence <- array(rnorm(80 * 4 * 2), c(80, 4, 2), dimnames = list(NULL, NULL, c("load", "temp")))
  static <- matrix(rnorm(80 * 2), 80, dimnames = list(NULL, c("site", "size")))
  seen <- NULL
  model <- function(inputs) {
    seen <<- inputs
    2 * inputs$sequence[, 4, "load"] + inputs$static[, "size"]
  }
  result <- perturbation_importance(model, list(sequence = sequence, static = static), n_repeats = 2, seed = 3)
  expect_identical(names(seen), c("sequence", "static"))
  expect_identical(dim(seen$sequence)[-1], c(4L, 2L))
  expect_identical(colnames(seen$static), c("site", "size"))
  expect_setequal(result$feature, c("load", "temp", "site", "size"))
  expect_identical(result$importance[result$feature %in% c("temp", "site")], c(0, 0))
  expect_identical(attr(result, "settings")$inputs, c("sequence", "static"))
})

test_that("several outputs: a list y with a factor head keeps its levels; per_output adds an output column", {
  skip_if_no_python()
  x <- signal_x()
  level <- x[, 10, 1] + 0.5 * x[, 10, 2]
  direction <- factor(ifelse(x[, 10, 2] > 0, "up", "down"), levels = c("down", "up"))
  model <- function(x) list(x[, 10, 1] + 0.5 * x[, 10, 2], cbind(stats::plogis(-5 * x[, 10, 2]),
                                                                   stats::plogis(5 * x[, 10, 2])))
  result <- perturbation_importance(model, x, list(level, direction),
                                    loss = list("mse", "log_loss"), per_output = TRUE, n_repeats = 2, seed = 1)
  expect_identical(attr(result, "settings")$classes, list(NULL, c("down", "up")))
  expect_true("output" %in% names(result))
  expect_identical(nrow(result), 6L)
  expect_identical(length(attr(result, "baseline_score")), 2L)
  labels <- rownames(attr(result, "importances"))
  expect_identical(labels, paste0(result$feature, "[", result$output, "]"))
  top <- result[result$output == result$output[1], ]
  expect_identical(top$feature[3], "noise")
})
