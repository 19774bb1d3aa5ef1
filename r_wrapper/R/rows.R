# Per-row importances and selection of a result. The numbers come from the engine: the row
# importances as the result's attribute "row_importances" (pyimportance.rlayer.row_frame), the
# selection from the engine's own rule (pyimportance.stats.selection), so R decides nothing twice.

utils::globalVariables(c("row", "unit", "smooth"))

#' Per-row importances of a result
#'
#' Each evaluated row's share of a unit's importance: the loss increase the row
#' suffered when it got other rows' values and the one it caused when its values
#' went to other rows, combined as the data interval counts them. Their mean over
#' the rows is the unit's `importance`. There are none for `loss = "rmse"`
#' (the root of a mean, not a mean), for an R `loss` returning one number, and
#' with `ci = "repeats"`; the error says why. At most 1,000,000 values (units x
#' rows x outputs) are kept (about 32 MB in the engine, 8 MB in R).
#'
#' @param result A `pyimportance_result` from [perturbation_importance()].
#' @return A data frame in long form, one row per evaluated row and unit (and
#'   output): `row` (the row's 1-based position in `x`), `feature`, `timestep`
#'   (for `by = "timestep"` or `"cell"`), `output` (with `per_output = TRUE`)
#'   and `importance`; units in the engine's order, rows in the data's order.
#' @examples
#' if (pyimportance_available()) {
#'   x <- matrix(rnorm(600), ncol = 3, dimnames = list(NULL, c("a", "b", "c")))
#'   result <- perturbation_importance(function(x) x[, 1], x, x[, 1], method = "permute", seed = 1)
#'   rows <- row_importances(result)
#'   tapply(rows$importance, rows$feature, mean)  # the importances
#' }
#' @export
row_importances <- function(result) {
  matrix <- attr(result, "row_importances")
  if (is.null(matrix)) {
    note <- attr(result, "row_note")
    stop(pyimportance_condition(if (is.null(note)) "this result has no row importances" else note,
                                classes = "pyimportance_argument_error"))
  }
  units <- as.data.frame(result)[order(attr(result, "unit_position")), , drop = FALSE]
  keep <- intersect(c("feature", "timestep", "output"), names(units))
  rows <- suppressWarnings(as.integer(rownames(matrix)))
  if (anyNA(rows)) rows <- rownames(matrix)
  evaluated <- !is.na(matrix)
  frame <- units[rep(seq_len(nrow(units)), colSums(evaluated)), keep, drop = FALSE]
  frame <- cbind(row = unlist(lapply(seq_len(ncol(matrix)), function(k) rows[evaluated[, k]])), frame,
                 importance = matrix[evaluated])
  rownames(frame) <- NULL
  frame
}

#' Plot the per-row importances over the rows
#'
#' One line per unit over the rows in the data's order (over time, for the
#' windows of one series): every row's value, thin, and its moving average over
#' 2% of the rows, thick.
#'
#' @param result A `pyimportance_result` from [perturbation_importance()].
#' @param units Features (or units as the `importances` attribute names them,
#'   `"x1@t3"`) to draw; default the `top` most important.
#' @param top How many units to draw by default.
#' @return A ggplot object.
#' @examples
#' if (pyimportance_available()) {
#'   x <- matrix(rnorm(600), ncol = 3, dimnames = list(NULL, c("a", "b", "c")))
#'   result <- perturbation_importance(function(x) x[, 1], x, x[, 1], method = "permute", seed = 1)
#'   plot_row_importances(result)
#' }
#' @export
plot_row_importances <- function(result, units = NULL, top = 5L) {
  matrix <- attr(result, "row_importances")
  if (is.null(matrix)) row_importances(result)  # says why there are none
  if (is.null(units)) {
    units <- rownames(attr(result, "importances"))[seq_len(min(top, nrow(result)))]
  }
  unknown <- setdiff(units, colnames(matrix))
  if (length(unknown)) {
    stop(pyimportance_condition(paste0("units must be units of the result (", paste(colnames(matrix), collapse = ", "),
                                       "), got \"", unknown[1], "\""), classes = "pyimportance_argument_error"))
  }
  window <- max(1L, nrow(matrix) %/% 50L)
  position <- suppressWarnings(as.numeric(rownames(matrix)))
  if (anyNA(position)) position <- seq_len(nrow(matrix))
  lines <- do.call(rbind, lapply(units, function(label) {
    values <- matrix[, label]
    smooth <- stats::filter(ifelse(is.na(values), 0, values), rep(1 / window, window), sides = 2)
    data.frame(row = position, unit = label, importance = values, smooth = as.numeric(smooth))
  }))
  lines$unit <- factor(lines$unit, levels = units)
  ggplot2::ggplot(lines, ggplot2::aes(row, importance, colour = unit)) +
    ggplot2::geom_line(alpha = 0.35, linewidth = 0.3, na.rm = TRUE) +
    ggplot2::geom_line(ggplot2::aes(y = smooth), linewidth = 1, na.rm = TRUE) +
    ggplot2::geom_hline(yintercept = 0, colour = "grey50") +
    ggplot2::labs(x = "row", y = "importance", colour = NULL, title = "Importance over the rows")
}

#' Which units are important
#'
#' The units whose importance is above 0 at a false discovery rate
#' (`control = "fdr"`, Benjamini-Hochberg: `p_adjusted <= alpha`) or a
#' family-wise error rate (`control = "fwer"`, Holm), over every unit (and
#' output) of the run, from the one-sided `p_value`s. The engine decides (the
#' same rule as Python's `result.selected()`); `print()` says how many are
#' selected at 5% FDR.
#'
#' @param result A `pyimportance_result` from [perturbation_importance()].
#' @param alpha The error rate, in (0, 1).
#' @param control `"fdr"` or `"fwer"`.
#' @return A logical vector, one per row of `result` (named by feature).
#' @examples
#' if (pyimportance_available()) {
#'   x <- matrix(rnorm(600), ncol = 3, dimnames = list(NULL, c("a", "b", "c")))
#'   result <- perturbation_importance(function(x) x[, 1], x, x[, 1], method = "permute", seed = 1)
#'   result$feature[selected(result)]
#' }
#' @export
selected <- function(result, alpha = 0.05, control = "fdr") {
  outcome <- rlayer()$row_frame$selected_from_r(as_r_value(as.double(result$p_value)), as_r_value(alpha),
                                         as_r_value(control))
  if (inherits(outcome, "pyimportance.rlayer.RCondition")) {
    stop_engine_error(outcome, sys.call())
  }
  stats::setNames(from_r_value(outcome), result$feature)
}
