# sensitivity_importance(): gradient importance from R, on the same engine and data frame as
# perturbation_importance(); its per-row maps (row_attributions(), plot_attributions()) with 1-based rows.
# A linear Keras model gives the closed forms, computed here in R: integrated gradients w * (x - x0) per cell,
# the derivative measure w^2 var(x).

#' A Keras model x -> sum(w * x) over the time steps and features of x (Flatten, Dense without bias), built
#' from R through reticulate (the Python object keras3 builds too).
linear_keras <- function(w) {
  keras <- reticulate::import("keras")
  model <- keras$Sequential(list(keras$Input(shape = as.list(dim(w))), keras$layers$Flatten(),
                                 keras$layers$Dense(1L, use_bias = FALSE)))
  # Flatten reads a (time step, feature) row feature by feature within each time step
  model$set_weights(list(matrix(as.vector(t(w)), ncol = 1L)))
  model
}

linear_case <- local({
  case <- NULL
  function() {
    if (is.null(case)) {
      set.seed(3)
      w <- matrix(c(1.5, 0, -0.5, 0, 2, 0.25, 0, 0, -1, 0, 0.5, 0), nrow = 4, ncol = 3)  # 4 steps x 3 features
      x <- array(rnorm(80 * 4 * 3), c(80, 4, 3), dimnames = list(NULL, NULL, c("a", "b", "c")))
      case <<- list(w = w, x = x, model = linear_keras(w))
    }
    case
  }
})

#' w * (x - x0) for every row and cell, x0 the mean row.
centred_cells <- function(case) {
  x0 <- apply(case$x, c(2, 3), mean)
  sweep(sweep(case$x, c(2, 3), x0), c(2, 3), case$w, "*")
}

test_that("integrated gradients of a linear model are w * (x - mean row), per row and cell, 1-based", {
  skip_if_no_python()
  case <- linear_case()
  result <- sensitivity_importance(case$model, case$x, by = "cell", n_steps = 2, progress = FALSE)
  expected <- centred_cells(case)
  maps <- row_attributions(result)
  expect_identical(dim(maps), c(80L, 4L, 3L))
  expect_identical(dimnames(maps), list(as.character(1:80), as.character(1:4), c("a", "b", "c")))
  expect_equal(unname(maps), unname(expected), tolerance = 1e-6)
  expect_identical(attr(result, "attribution_rows"), 1:80)
  expect_lt(max(abs(attr(result, "convergence_delta"))), 1e-5)
  # each cell's importance: the mean of |w (x - x0)| over the rows; time steps 1-based
  cell <- result[result$feature == "a" & result$timestep == 1L, ]
  expect_equal(cell$importance, mean(abs(expected[, 1, 1])), tolerance = 1e-6)
  cell <- result[result$feature == "b" & result$timestep == 2L, ]
  expect_equal(cell$importance, mean(abs(expected[, 2, 2])), tolerance = 1e-6)
  expect_identical(result$importance[result$feature == "c" & result$timestep == 4L], 0)  # w = 0: exactly 0
  expect_setequal(result$timestep, 1:4)
})

test_that("by feature, a row's value is the signed sum over the feature's cells; direction is its mean", {
  skip_if_no_python()
  case <- linear_case()
  result <- sensitivity_importance(case$model, case$x, baselines = "zeros", n_steps = 2, progress = FALSE)
  per_row <- apply(sweep(case$x, c(2, 3), case$w, "*"), c(1, 3), sum)  # rows x features
  values <- stats::setNames(result$importance, result$feature)
  expect_equal(unname(values[c("a", "b", "c")]), unname(colMeans(abs(per_row))), tolerance = 1e-6)
  direction <- stats::setNames(result$direction, result$feature)
  expect_equal(unname(direction[c("a", "b", "c")]), unname(colMeans(per_row)), tolerance = 1e-6)
  expect_identical(result$feature[1], "b")
})

test_that("the derivative measure of a linear model is the sum of w^2 var(x) over a feature's cells", {
  skip_if_no_python()
  case <- linear_case()
  result <- sensitivity_importance(case$model, case$x, method = "derivative", progress = FALSE)
  variance <- apply(case$x, c(2, 3), function(v) mean((v - mean(v))^2))  # over the evaluated rows
  expected <- colSums(case$w^2 * variance)
  values <- stats::setNames(result$importance, result$feature)
  expect_equal(unname(values[c("a", "b", "c")]), unname(expected), tolerance = 1e-6)
  expect_identical(attr(result, "settings")$method, "derivative")
  expect_null(attr(result, "settings")$n_steps)
})

test_that("the same call from Python gives the same numbers", {
  skip_if_no_python()
  case <- linear_case()
  from_r <- sensitivity_importance(case$model, case$x, by = "cell", progress = FALSE)
  from_python <- engine()$sensitivity_importance(case$model, numpy()$ascontiguousarray(case$x), by = "cell",
                                                 progress = FALSE, feature_names = list("a", "b", "c"))
  frame <- from_python$to_frame()
  python <- stats::setNames(frame$importance, paste0(frame$feature, "@t", frame$timestep + 1L))
  r <- stats::setNames(from_r$importance, rownames(attr(from_r, "importances")))
  expect_identical(r[names(python)], python)
})

test_that("row_attributions(rows =) takes 1-based rows of x, attribution_rows keeps only those", {
  skip_if_no_python()
  case <- linear_case()
  result <- sensitivity_importance(case$model, case$x, by = "cell", progress = FALSE)
  two <- row_attributions(result, rows = c(7, 3))
  expect_identical(dimnames(two)[[1]], c("7", "3"))
  expect_equal(unname(two), unname(centred_cells(case)[c(7, 3), , , drop = FALSE]), tolerance = 1e-6)
  expect_error(row_attributions(result, rows = 81), "rows must be rows whose maps the result kept \\(rows 1 to 80\\), got 81",
               class = "pyimportance_argument_error")
  kept <- sensitivity_importance(case$model, case$x, attribution_rows = c(5, 9), progress = FALSE)
  expect_identical(attr(kept, "attribution_rows"), c(5L, 9L))
  expect_identical(dimnames(row_attributions(kept))[[1]], c("5", "9"))
  expect_equal(unname(row_attributions(kept)), unname(centred_cells(case)[c(5, 9), , , drop = FALSE]),
               tolerance = 1e-6)
  expect_error(row_attributions(kept, rows = 1), "rows 5, 9\\), got 1", class = "pyimportance_argument_error")
  expect_error(row_attributions(perturbation_importance(function(x) x[, 4, 1], case$x, seed = 1, n_repeats = 2)),
               "result has no per-row attributions: they come from sensitivity_importance\\(\\)",
               class = "pyimportance_argument_error")
})

test_that("a matrix x gives a rows x features map, and baselines takes one R row", {
  skip_if_no_python()
  keras <- reticulate::import("keras")
  model <- keras$Sequential(list(keras$Input(shape = list(3L)), keras$layers$Dense(1L, use_bias = FALSE)))
  model$set_weights(list(matrix(c(2, -1, 0), ncol = 1L)))
  set.seed(5)
  x <- matrix(rnorm(150), 50, 3, dimnames = list(NULL, c("p", "q", "r")))
  result <- sensitivity_importance(model, x, baselines = c(1, 1, 1), progress = FALSE)
  maps <- row_attributions(result)
  expect_identical(dim(maps), c(50L, 3L))
  expect_equal(unname(maps), unname(sweep(x - 1, 2, c(2, -1, 0), "*")), tolerance = 1e-6)
  plot <- plot_attributions(result, row = 2)
  expect_equal(plot$data$attribution, unname(maps[2, ]), tolerance = 1e-12)
})

test_that("plot_attributions() draws one row's cells, with the method in the title", {
  skip_if_no_python()
  case <- linear_case()
  result <- sensitivity_importance(case$model, case$x, by = "cell", progress = FALSE)
  plot <- plot_attributions(result, row = 3)
  expect_s3_class(plot, "ggplot")
  expect_identical(plot$labels$title, "Attributions of row 3 (integrated_gradients)")
  cells <- plot$data
  expect_identical(nrow(cells), 12L)
  expect_equal(cells$attribution[cells$timestep == 2L & cells$feature == "b"],
               unname(centred_cells(case)[3, 2, 2]), tolerance = 1e-6)
  expect_identical(plot_attributions(result)$labels$title, "Attributions of row 1 (integrated_gradients)")
  expect_error(plot_attributions(result, row = "a"), "row must be a single row of x \\(1-based\\)",
               class = "pyimportance_argument_error")
})

test_that("print, autoplot, as_vi and knit_print name the estimator and its method; as_model_parts refuses it", {
  skip_if_no_python()
  case <- linear_case()
  result <- sensitivity_importance(case$model, case$x, case$x[, 1, 1], progress = FALSE)
  expect_identical(attr(result, "settings")$estimator, "sensitivity")
  expect_match(attr(result, "summary")[1], "^Sensitivity importance by feature: integrated gradients")
  expect_output(print(result), "Sensitivity importance by feature")
  expect_identical(ggplot2::autoplot(result)$labels$title, "Sensitivity importance (integrated_gradients, mse)")
  vi <- as_vi(result)
  expect_identical(attr(vi, "type"), "sensitivity (integrated_gradients)")
  expect_identical(vi$Importance, result$importance)
  expect_error(as_model_parts(result, baseline = 1),
               "as_model_parts\\(\\) needs a loss drop .* a sensitivity_importance\\(\\) result is not one")
  caption <- knitr::knit_print(result)
  expect_match(caption, "Sensitivity importance by feature", fixed = TRUE)
  expect_match(caption, "direction", fixed = TRUE)
})

test_that("an R function has no gradients: the error names perturbation_importance", {
  skip_if_no_python()
  x <- matrix(rnorm(100), 50, 2)
  expect_error(sensitivity_importance(function(x) x[, 1], x),
               "sensitivity_importance needs the model's gradients, got a function.*perturbation_importance",
               class = "pyimportance_argument_error")
  expect_error(sensitivity_importance(linear_case()$model, linear_case()$x, ci = "repeats"),
               "sensitivity_importance has no repeats", class = "pyimportance_argument_error")
  expect_error(sensitivity_importance(linear_case()$model, linear_case()$x, n_repeats = 2),
               "unused argument \\(n_repeats = 2\\)")
})

test_that("per_output maps have a dimension per output, and plot_attributions(output =) draws one", {
  skip_if_no_python()
  case <- linear_case()
  keras <- reticulate::import("keras")
  model <- keras$Sequential(list(keras$Input(shape = list(4L, 3L)), keras$layers$Flatten(),
                                 keras$layers$Dense(2L, use_bias = FALSE)))
  model$set_weights(list(cbind(as.vector(t(case$w)), -2 * as.vector(t(case$w)))))
  result <- sensitivity_importance(model, case$x, baselines = "zeros", per_output = TRUE, progress = FALSE)
  maps <- row_attributions(result, rows = 4)
  expect_identical(dim(maps), c(1L, 4L, 3L, 2L))
  expect_identical(dimnames(maps)[[4]], c("output[1]", "output[2]"))
  expect_equal(unname(maps[1, , , 2]), unname(-2 * case$w * case$x[4, , ]), tolerance = 1e-6)
  plot <- plot_attributions(result, row = 4, output = "output[2]")
  expect_equal(plot$data$attribution, as.vector(-2 * case$w * case$x[4, , ]), tolerance = 1e-6)
  expect_equal(plot_attributions(result, row = 4)$data$attribution, as.vector(case$w * case$x[4, , ]),
               tolerance = 1e-6)
  expect_error(plot_attributions(result, row = 4, output = 3),
               'output must be one of "output\\[1\\]", "output\\[2\\]" or its number, got 3',
               class = "pyimportance_argument_error")
})

test_that("groups (by name or 1-based number) and time steps sum their cells' attributions per row", {
  skip_if_no_python()
  case <- linear_case()
  cells <- sweep(case$x, c(2, 3), case$w, "*")  # w * x: zero baselines
  grouped <- sensitivity_importance(case$model, case$x, baselines = "zeros", groups = list(ac = c("a", "c"), b = 2),
                                    progress = FALSE)
  values <- stats::setNames(grouped$importance, grouped$feature)
  expect_equal(values[["ac"]], mean(abs(apply(cells[, , c(1, 3)], 1, sum))), tolerance = 1e-6)
  expect_equal(values[["b"]], mean(abs(apply(cells[, , 2], 1, sum))), tolerance = 1e-6)
  steps <- sensitivity_importance(case$model, case$x, baselines = "zeros", by = "timestep", progress = FALSE)
  expect_setequal(steps$timestep, 1:4)
  expect_equal(steps$importance[steps$timestep == 3L], mean(abs(apply(cells[, 3, ], 1, sum))), tolerance = 1e-6)
})
