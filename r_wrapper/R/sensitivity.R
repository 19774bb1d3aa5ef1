utils::globalVariables("attribution")

#' Sensitivity importance of each input variable of a Keras model, from its gradients
#'
#' How strongly the model's output (without `y`) or its per-row loss (with
#' `y`) moves with each input, read from the model's gradients. With
#' `method = "integrated_gradients"` (the default) each cell of a row gets
#' `(x - x0) * the mean gradient along the straight path from the baseline x0
#' to x` (`n_steps` points of a Gauss-Legendre quadrature); a unit's value for
#' a row is the signed sum of its cells' attributions, its importance the mean
#' of that value's absolute value over the rows, and the column `direction` the
#' mean of the signed value (the direction). With `method = "derivative"` a
#' row's value is the sum over the unit's cells of
#' `(d output / d cell)^2 * var(cell)` (the derivative-based global
#' sensitivity measure). Nothing is random: the intervals are about the
#' population the rows come from (`ci = "data"`, a block bootstrap over
#' consecutive rows).
#'
#' Every row's map (rows x time steps x features) comes with the result:
#' [row_attributions()] returns it, [plot_attributions()] draws one row's.
#' The model needs gradients: a Keras model (keras3, keras or reticulate, passed
#' as it is; Keras 3 on TensorFlow, JAX or torch, or tf-keras); an R function
#' is refused (use [perturbation_importance()], which needs predictions only).
#' Same engine, data frame and shared arguments as [perturbation_importance()];
#' the same call gives the same numbers as
#' `pyimportance.sensitivity_importance()` in Python.
#'
#' @inheritParams perturbation_importance
#' @param model A Keras model built from R (keras3, keras or reticulate: a
#'   Python object, passed as it is). Integer inputs (an `Embedding`'s
#'   indices) have no gradient and are refused.
#' @param loss As in [perturbation_importance()]: with `y`, the attributions
#'   are of the per-row loss (a built-in loss; an R function has no gradient).
#' @param method `"integrated_gradients"` (each cell's share of
#'   `f(x) - f(x0)`, signed) or `"derivative"` (squared gradients times the
#'   inputs' variance).
#' @param n_steps Gauss-Legendre points of the path per row (integrated
#'   gradients): at the default the attributions add up to `f(x) - f(x0)`
#'   within 1% on smooth models (`attr(result, "convergence_delta")` says how
#'   close, per row).
#' @param baselines Where each path starts: `"mean"` (the mean row, default),
#'   `"zeros"`, or one row like those of `x` (an array `c(1, n_timesteps,
#'   n_features)`, or a vector for a matrix `x`; a list of them for several
#'   inputs). Padded time steps stay at the mask value along the path.
#' @param attribution_rows Rows of `x` (1-based) whose maps the result keeps;
#'   default every evaluated row while the maps fit in 256 MiB (else none, and
#'   [row_attributions()] says why).
#' @param ci The 95% interval: `"data"` (default) for the population the rows
#'   come from; `"repeats"` is refused (nothing is random).
#' @param executor Optional Python `concurrent.futures` executor that computes
#'   the row blocks as tasks (same numbers as the local run).
#'
#' @return A data frame of class `pyimportance_result`, as
#'   [perturbation_importance()]'s (`importance` is the mean absolute
#'   attribution, or the mean derivative measure; `p_value` is `NA` where the
#'   null "importance <= 0" would be trivial, the summary says why), with the
#'   attributes `attributions` (the per-row maps, see [row_attributions()]),
#'   `attribution_rows` (their rows' 1-based positions in `x`) and
#'   `convergence_delta` (per row: the attributions' sum minus
#'   `f(x) - f(x0)`).
#'
#' @examples
#' if (pyimportance_available() && reticulate::py_module_available("keras")) {
#'   keras <- reticulate::import("keras")
#'   x <- array(rnorm(200 * 5 * 2), c(200, 5, 2), dimnames = list(NULL, NULL, c("a", "b")))
#'   model <- keras$Sequential(list(keras$Input(shape = list(5L, 2L)), keras$layers$LSTM(4L),
#'                                  keras$layers$Dense(1L)))
#'   result <- sensitivity_importance(model, x, n_steps = 16)
#'   result
#'   dim(row_attributions(result, rows = 1:3))
#' }
#' @export
sensitivity_importance <- function(model, x, y = NULL, loss = NULL, method = "integrated_gradients",
                                   n_steps = 50, baselines = "mean", attribution_rows = NULL, by = "feature",
                                   groups = NULL, feature_names = NULL, max_samples = NULL,
                                   sample_weight = NULL, batch_size = NULL, seed = NULL, progress = interactive(), ci = "data", block_size = NULL,
                                   tolerance = NULL, output = NULL, per_output = FALSE, mask_value = "auto",
                                   executor = NULL) {
  call <- match.call()
  arguments <- mget(setdiff(names(formals()), c("model", "x", "y")))
  run_estimator("sensitivity", model, x, y, arguments, list(loss = deparse_name(substitute(loss))), call)
}

#' Per-row attribution maps of a sensitivity result
#'
#' The local answer of [sensitivity_importance()]: each row's attribution of
#' every cell (time step x feature), whose sum over a unit's cells is the
#' unit's value for that row. Kept for the rows the run used, up to the
#' engine's byte cap (the summary says when fewer rows were kept).
#'
#' @param result A `pyimportance_result` from [sensitivity_importance()].
#' @param rows Rows of `x` (1-based positions) to return; default all kept.
#' @return For a model with one input, an array `c(rows, time steps,
#'   features)` (a matrix `c(rows, features)` for a matrix or data frame `x`;
#'   with `per_output = TRUE` a last dimension per output), its dimnames the
#'   1-based rows of `x`, the time steps, the feature (and output) names; for
#'   several inputs, a named list of such arrays, one per input.
#' @examples
#' if (pyimportance_available() && reticulate::py_module_available("keras")) {
#'   keras <- reticulate::import("keras")
#'   x <- matrix(rnorm(300), 100, 3, dimnames = list(NULL, c("a", "b", "c")))
#'   model <- keras$Sequential(list(keras$Input(shape = list(3L)), keras$layers$Dense(1L)))
#'   result <- sensitivity_importance(model, x, baselines = "zeros", n_steps = 4)
#'   row_attributions(result, rows = 1:2)
#' }
#' @export
row_attributions <- function(result, rows = NULL) {
  maps <- attr(result, "attributions")
  if (is.null(maps)) {
    note <- attr(result, "attributions_note")
    stop(pyimportance_condition(
      if (is.null(note)) "result has no per-row attributions: they come from sensitivity_importance()" else note,
      classes = "pyimportance_argument_error"))
  }
  if (is.null(rows)) {
    return(maps)
  }
  kept <- attr(result, "attribution_rows")
  if (!is.numeric(rows) || anyNA(rows) || any(rows != round(rows))) {
    stop(pyimportance_condition(paste0("rows must be whole numbers (1-based rows of x), got ",
                                       paste(deparse(rows), collapse = "")),
                                classes = "pyimportance_argument_error"))
  }
  missing <- setdiff(rows, kept)
  if (length(missing)) {
    stop(pyimportance_condition(
      paste0("rows must be rows whose maps the result kept (", kept_rows_text(kept), "), got ", missing[1]),
      classes = "pyimportance_argument_error"))
  }
  positions <- match(rows, kept)
  if (is.list(maps)) lapply(maps, first_dimension, positions) else first_dimension(maps, positions)
}

#' `array[positions, , ...]` for an array of any number of dimensions, dimensions kept.
#' @noRd
first_dimension <- function(array, positions) {
  do.call(`[`, c(list(array, positions), rep(list(quote(expr = )), length(dim(array)) - 1L), drop = FALSE))
}

#' The kept rows for a message: "rows 1 to 200", or the first few.
#' @noRd
kept_rows_text <- function(kept) {
  if (length(kept) > 1L && all(diff(kept) == 1L)) {
    return(paste0("rows ", kept[1], " to ", kept[length(kept)]))
  }
  shown <- paste(utils::head(kept, 8L), collapse = ", ")
  paste0("rows ", shown, if (length(kept) > 8L) paste0(", ... (", length(kept), " rows)") else "")
}

#' Plot one row's attribution map
#'
#' A heatmap of time step x feature for one row of `x`: each cell's
#' attribution, red where it pushes the output (or the loss) up, blue where
#' down, white at 0.
#'
#' @param result A `pyimportance_result` from [sensitivity_importance()].
#' @param row The row of `x` (1-based) to draw; default the first row whose
#'   map the result kept.
#' @param input For a model with several inputs, which one (name or 1-based
#'   number); default the first.
#' @param output With `per_output = TRUE`, which output (name or 1-based
#'   number); default the first.
#' @return A ggplot object.
#' @examples
#' if (pyimportance_available() && reticulate::py_module_available("keras")) {
#'   keras <- reticulate::import("keras")
#'   x <- array(rnorm(100 * 6 * 2), c(100, 6, 2), dimnames = list(NULL, NULL, c("a", "b")))
#'   model <- keras$Sequential(list(keras$Input(shape = list(6L, 2L)), keras$layers$LSTM(4L),
#'                                  keras$layers$Dense(1L)))
#'   result <- sensitivity_importance(model, x, by = "cell", n_steps = 8)
#'   plot_attributions(result, row = 1)
#' }
#' @export
plot_attributions <- function(result, row = NULL, input = NULL, output = NULL) {
  row_attributions(result)  # says why there are none
  if (is.null(row)) {
    row <- attr(result, "attribution_rows")[1]
  }
  if (!is.numeric(row) || length(row) != 1L || is.na(row)) {
    stop(pyimportance_condition(paste0("row must be a single row of x (1-based), got ",
                                       paste(deparse(row), collapse = "")),
                                classes = "pyimportance_argument_error"))
  }
  values <- without_rows(one_of(row_attributions(result, rows = row), input, "input"))
  if (isTRUE(attr(result, "settings")$per_output)) {
    values <- one_of(asplit(values, length(dim(values))), output, "output")
  }
  if (is.null(dim(values))) {  # a static input: one row of features
    values <- matrix(values, nrow = 1L, dimnames = list("1", names(values)))
  }
  cells <- data.frame(
    timestep = rep(seq_len(nrow(values)), times = ncol(values)),
    feature = factor(rep(colnames(values), each = nrow(values)), levels = rev(colnames(values))),
    attribution = as.vector(values)
  )
  ggplot2::ggplot(cells, ggplot2::aes(x = timestep, y = feature, fill = attribution)) +
    ggplot2::geom_tile() +
    ggplot2::scale_fill_gradient2(low = "#2166ac", mid = "white", high = "#b2182b", midpoint = 0) +
    ggplot2::scale_x_continuous(breaks = integer_breaks, expand = c(0, 0)) +
    ggplot2::labs(title = sprintf("Attributions of row %d (%s)", as.integer(row), attr(result, "settings")$method),
                  x = "time step", y = NULL)
}

#' One element of a list by name or 1-based number (`NULL`: the first); an array as it is.
#' @noRd
one_of <- function(items, which, what) {
  if (!is.list(items)) {
    return(items)
  }
  which <- if (is.null(which)) 1L else which
  known <- (is.numeric(which) && length(which) == 1L && which >= 1 && which <= length(items)) ||
    (is.character(which) && length(which) == 1L && which %in% names(items))
  if (!known) {
    stop(pyimportance_condition(paste0(what, " must be one of ", paste0("\"", names(items), "\"", collapse = ", "),
                                       " or its number, got ", paste(deparse(which), collapse = "")),
                                classes = "pyimportance_argument_error"))
  }
  items[[which]]
}

#' One row's map (an array whose first dimension has length 1) without its row dimension: a named
#' vector for a static input's features, else an array with the other dimensions' names.
#' @noRd
without_rows <- function(array) {
  dims <- dim(array)[-1L]
  if (length(dims) == 1L) {
    return(stats::setNames(as.vector(array), dimnames(array)[[2L]]))
  }
  base::array(array, dims, dimnames(array)[-1L])
}
