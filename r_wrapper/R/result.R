# Printing, converting and plotting the result. The data frame itself (sorted, with the raw
# repeats as an attribute) is built by the engine's R layer, pyimportance.rlayer; so is the
# header print() shows (attribute "summary": the engine's summary lines, in R's terms).

utils::globalVariables(c("feature", "importance", "ci_low", "ci_high", "timestep", "output", "fill_value"))

#' @export
print.pyimportance_result <- function(x, ..., n = 20L) {
  cat(attr(x, "summary"), sep = "\n")
  table <- formatted_table(utils::head(as.data.frame(x), n))
  print(table, row.names = FALSE, right = TRUE)
  if (nrow(x) > n) {
    cat("... ", nrow(x) - n, " more units (as.data.frame(x) has them all)\n", sep = "")
  }
  invisible(x)
}

#' The engine's warnings of a run (handed over by the R layer as an attribute) raised as R
#' warnings, so that `suppressWarnings()`, `withCallingHandlers()` and knitr see them; the
#' result without that attribute.
#' @noRd
with_engine_warnings <- function(result) {
  messages <- attr(result, "engine_warnings")
  attr(result, "engine_warnings") <- NULL
  for (message in messages) {
    warning(message, call. = FALSE)
  }
  result
}

#' The interval's level as R shows it ("95%"): the engine's, from the result.
#' @noRd
level_text <- function(x) {
  paste0(format(100 * attr(x, "confidence")), "%")
}

#' The numeric columns as text with one format per column: as many decimals as give
#' `digits` significant digits to the column's largest value (all in scientific notation
#' when that would need more than 9 decimals), so a column reads down at one scale.
#' @noRd
formatted_table <- function(frame, digits = 4L) {
  numeric <- vapply(frame, is.double, logical(1))
  frame[numeric] <- lapply(frame[numeric], format_column, digits = digits)
  frame
}

format_column <- function(values, digits = 4L) {
  finite <- abs(values[is.finite(values)])
  largest <- if (length(finite)) max(finite) else 0
  decimals <- if (largest > 0) digits - 1L - floor(log10(largest)) else digits - 1L
  if (decimals > 9L) {
    return(trimws(formatC(values, format = "e", digits = digits - 1L)))
  }
  trimws(formatC(values, format = "f", digits = max(0L, decimals)))
}

#' @export
as.data.frame.pyimportance_result <- function(x, ...) {
  attributes(x) <- attributes(x)[c("names", "row.names")]
  class(x) <- "data.frame"
  x
}

#' Rows or columns of a result are a plain data frame: the header, caption and
#' plot of a result describe all of its rows and columns, not a part of them.
#' @export
#' @noRd
`[.pyimportance_result` <- function(x, ...) {
  as.data.frame(x)[...]
}

#' Plot a perturbation importance result
#'
#' Bars with 95% intervals, most important on top (`by = "feature"`); a line
#' over time steps with its interval band (`by = "timestep"`); a heatmap of
#' time step x feature (`by = "cell"`). With `per_output = TRUE`, an output x
#' feature heatmap (`by = "feature"`), else one panel per output. With several
#' output heads each head is its own panel and its colours are scaled to its own
#' largest importance (heads have their own losses, in other units). Returns a
#' ggplot, so layers and themes can be added with `+`.
#'
#' @param object,x A `pyimportance_result` from [perturbation_importance()].
#' @param top Show at most this many units (bars only).
#' @param ... Unused.
#' @return A ggplot object.
#' @examples
#' if (pyimportance_available()) {
#'   x <- matrix(rnorm(300), ncol = 3, dimnames = list(NULL, c("a", "b", "c")))
#'   result <- perturbation_importance(function(x) x[, 1] - x[, 2], x, seed = 1)
#'   ggplot2::autoplot(result) + ggplot2::theme_minimal()
#' }
#' @exportS3Method ggplot2::autoplot
autoplot.pyimportance_result <- function(object, top = 30L, ...) {
  settings <- attr(object, "settings")
  frame <- as.data.frame(object)
  title <- switch(settings$estimator,
    shapley = sprintf("Shapley importance (SAGE, %s)", settings$loss),
    sensitivity = sprintf("Sensitivity importance (%s, %s)", settings$method, settings$loss),
    sprintf("Perturbation importance (%s, %s)", settings$method, settings$loss)
  )
  several_outputs <- "output" %in% names(frame) && length(unique(frame$output)) > 1L
  if (several_outputs && identical(settings$by, "feature")) {
    return(plot_outputs(frame, title))
  }
  plot <- switch(settings$by,
    cell = plot_cells(per_head_fill(frame[!is.na(frame$timestep), , drop = FALSE]), settings, title),
    timestep = plot_timesteps(frame[!is.na(frame$timestep), , drop = FALSE], title),
    plot_bars(utils::head(frame, top), title, level_text(object))
  )
  if (several_outputs) plot + ggplot2::facet_wrap(~output) else plot
}

#' Output x feature heatmap (`per_output = TRUE`): which inputs drive which output.
#' @noRd
plot_outputs <- function(frame, title) {
  frame <- per_head_fill(frame)
  frame$feature <- factor(frame$feature, levels = rev(unique(frame$feature)))
  frame$output <- factor(frame$output, levels = unique(frame$output))
  plot <- ggplot2::ggplot(frame, ggplot2::aes(x = output, y = feature, fill = fill_value)) +
    ggplot2::geom_tile() +
    ggplot2::scale_fill_viridis_c(name = attr(frame, "fill_name")) +
    ggplot2::labs(title = title, x = "output", y = NULL)
  if (length(unique(frame$head)) > 1L) {
    plot <- plot + ggplot2::facet_grid(~head, scales = "free_x", space = "free_x")
  }
  plot
}

#' The colour of each row: its importance, or with several output heads its
#' importance over its head's largest absolute importance (a scale per head).
#' Adds the columns `head` (the output's head: `"sales"` for `"sales[1]"`) and
#' `fill_value`, and the attribute `fill_name` (the legend's title).
#' @noRd
per_head_fill <- function(frame) {
  frame$head <- if ("output" %in% names(frame)) sub("\\[.*$", "", frame$output) else "output"
  frame$fill_value <- frame$importance
  attr(frame, "fill_name") <- "importance"
  if (length(unique(frame$head)) > 1L) {
    largest <- stats::ave(abs(frame$importance), frame$head, FUN = function(v) max(v, na.rm = TRUE))
    frame$fill_value <- ifelse(largest > 0, frame$importance / largest, 0)
    attr(frame, "fill_name") <- "importance /\nhead's largest"
  }
  frame
}

#' @rdname autoplot.pyimportance_result
#' @export
plot.pyimportance_result <- function(x, ...) {
  autoplot.pyimportance_result(x, ...)
}

plot_bars <- function(frame, title, level) {
  frame$feature <- factor(frame$feature, levels = rev(unique(frame$feature)))
  plot <- ggplot2::ggplot(frame, ggplot2::aes(x = importance, y = feature)) +
    ggplot2::geom_col(fill = "steelblue")
  if (any(is.finite(frame$ci_low))) {
    plot <- plot + ggplot2::geom_errorbar(
      ggplot2::aes(xmin = ci_low, xmax = ci_high), width = 0.3, orientation = "y", na.rm = TRUE
    )
  }
  plot + ggplot2::labs(title = title, x = paste0("importance (", level, " interval)"), y = NULL)
}

plot_timesteps <- function(frame, title) {
  frame <- frame[order(frame$timestep), , drop = FALSE]
  plot <- ggplot2::ggplot(frame, ggplot2::aes(x = timestep, y = importance))
  if (any(is.finite(frame$ci_low))) {
    plot <- plot + ggplot2::geom_ribbon(ggplot2::aes(ymin = ci_low, ymax = ci_high), alpha = 0.25, na.rm = TRUE)
  }
  plot + ggplot2::geom_line() + ggplot2::geom_point() +
    ggplot2::scale_x_continuous(breaks = integer_breaks) +
    ggplot2::labs(title = title, x = "time step", y = "importance")
}

plot_cells <- function(frame, settings, title) {
  levels <- if (!is.null(settings$groups)) names(settings$groups) else unlist(settings$feature_names)
  frame$feature <- factor(frame$feature, levels = rev(unique(c(levels, frame$feature))))
  ggplot2::ggplot(frame, ggplot2::aes(x = timestep, y = feature, fill = fill_value)) +
    ggplot2::geom_tile() +
    # viridis keeps cells at or below 0 visible (a white low end would hide them)
    ggplot2::scale_fill_viridis_c(name = attr(frame, "fill_name")) +
    ggplot2::scale_x_continuous(breaks = integer_breaks, expand = c(0, 0)) +
    ggplot2::labs(title = title, x = "time step", y = NULL)
}

#' Whole-number axis breaks for time steps.
#' @noRd
integer_breaks <- function(limits) {
  breaks <- pretty(limits)
  breaks[breaks == round(breaks)]
}
