# The R result: a sorted data frame with the raw repeats as an attribute.

utils::globalVariables(c("feature", "importance", "ci_low", "ci_high", "timestep"))

#' Build the `pyimportance_result` data frame from a Python ImportanceResult.
#' @noRd
new_importance_result <- function(result, seed = NULL, classes = NULL) {
  importances <- as_matrix(result$importances)
  feature <- as.character(unlist(result$feature))
  by <- result$by
  frame <- data.frame(feature = feature, stringsAsFactors = FALSE)
  if (by %in% c("timestep", "cell")) {
    # Python counts time steps from 0; R from 1.
    frame$timestep <- as.integer(unlist(result$timestep)) + 1L
  }
  frame$importance <- as.numeric(result$importances_mean)
  frame$std <- as.numeric(result$importances_std)
  frame$ci_low <- as.numeric(result$ci_low)
  frame$ci_high <- as.numeric(result$ci_high)

  rownames(importances) <- unit_labels(frame, by)
  colnames(importances) <- paste0("repeat", seq_len(ncol(importances)))
  sorted <- order(-frame$importance) # stable: ties keep the engine's unit order
  frame <- frame[sorted, , drop = FALSE]
  rownames(frame) <- NULL

  settings <- python_settings(result)
  if (!is.null(seed)) {
    settings$random_state <- seed
  }
  settings$classes <- classes
  structure(
    frame,
    class = c("pyimportance_result", "data.frame"),
    importances = importances[sorted, , drop = FALSE],
    settings = settings,
    baseline_score = as.numeric(result$baseline_score)
  )
}

as_matrix <- function(value) {
  if (!is.matrix(value)) {
    value <- matrix(as.numeric(value), nrow = length(value))
  }
  value
}

#' "x1" (feature), "t3" (timestep) or "x1@t3" (cell), time steps 1-based.
#' @noRd
unit_labels <- function(frame, by) {
  switch(by,
    feature = frame$feature,
    timestep = paste0("t", frame$timestep),
    cell = paste0(frame$feature, "@t", frame$timestep)
  )
}

#' The engine's settings as an R list; a random_state too large for an R
#' integer (fresh entropy) is kept as a string.
#' @noRd
python_settings <- function(result) {
  builtins <- reticulate::import_builtins(convert = FALSE)
  settings <- builtins$getattr(result, "settings")
  copy <- builtins$dict(settings)
  random_state <- reticulate::py_to_r(builtins$str(reticulate::py_call(copy$pop, "random_state")))
  out <- reticulate::py_to_r(copy)
  out$random_state <- if (nchar(random_state) <= 9L) as.numeric(random_state) else random_state
  out
}

#' @export
print.pyimportance_result <- function(x, ..., n = 20L) {
  cat(result_header(x), "\n", sep = "")
  frame <- as.data.frame(x)
  shown <- utils::head(frame, n)
  print(shown, row.names = FALSE, digits = 4)
  if (nrow(frame) > n) {
    cat("... ", nrow(frame) - n, " more units (as.data.frame(x) has them all)\n", sep = "")
  }
  invisible(x)
}

#' One line saying how the numbers were made.
#' @noRd
result_header <- function(x) {
  settings <- attr(x, "settings")
  method <- settings$method
  if (!is.null(settings$scale)) {
    method <- sprintf("%s (scale %s%s)", method, format(settings$scale),
                      if (isTRUE(settings$relative_scale)) " x sd" else "")
  }
  measure <- if (identical(settings$loss, "prediction_change")) {
    "mean absolute change of predictions (no y)"
  } else {
    sprintf("loss %s (baseline %s)", settings$loss, format(attr(x, "baseline_score"), digits = 6))
  }
  sprintf(
    "Perturbation importance by %s: method %s, %s, %d repeats, %d samples",
    settings$by, method, measure, as.integer(settings$n_repeats), as.integer(settings$n_samples)
  )
}

#' @export
as.data.frame.pyimportance_result <- function(x, ...) {
  attributes(x)[c("importances", "settings", "baseline_score")] <- NULL
  class(x) <- "data.frame"
  x
}

#' Plot a perturbation importance result
#'
#' Bars with 95% intervals, most important on top (`by = "feature"`); a line
#' over time steps with its interval band (`by = "timestep"`); a heatmap of
#' time step x feature (`by = "cell"`). Returns a ggplot, so layers and themes
#' can be added with `+`.
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
  title <- sprintf("Perturbation importance (%s, %s)", settings$method, settings$loss)
  switch(settings$by,
    cell = plot_cells(frame, settings, title),
    timestep = plot_timesteps(frame, title),
    plot_bars(utils::head(frame, top), title)
  )
}

#' @rdname autoplot.pyimportance_result
#' @export
plot.pyimportance_result <- function(x, ...) {
  autoplot.pyimportance_result(x, ...)
}

plot_bars <- function(frame, title) {
  frame$feature <- factor(frame$feature, levels = rev(unique(frame$feature)))
  plot <- ggplot2::ggplot(frame, ggplot2::aes(x = importance, y = feature)) +
    ggplot2::geom_col(fill = "steelblue")
  if (any(is.finite(frame$ci_low))) {
    plot <- plot + ggplot2::geom_errorbar(
      ggplot2::aes(xmin = ci_low, xmax = ci_high), width = 0.3, orientation = "y", na.rm = TRUE
    )
  }
  plot + ggplot2::labs(title = title, x = "importance (95% interval)", y = NULL)
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
  ggplot2::ggplot(frame, ggplot2::aes(x = timestep, y = feature, fill = importance)) +
    ggplot2::geom_tile() +
    # viridis keeps cells at or below 0 visible (a white low end would hide them)
    ggplot2::scale_fill_viridis_c() +
    ggplot2::scale_x_continuous(breaks = integer_breaks, expand = c(0, 0)) +
    ggplot2::labs(title = title, x = "time step", y = NULL)
}

#' Whole-number axis breaks for time steps.
#' @noRd
integer_breaks <- function(limits) {
  breaks <- pretty(limits)
  breaks[breaks == round(breaks)]
}
