# A result in the shapes R's importance tools take as their own: vip's `vi`, DALEX's
# `model_parts`, and broom's `tidy()`. Every number comes from the result as the engine built it
# (its frame, the attribute `importances` with the units' labels, `baseline_score`,
# `unit_position`): nothing is computed again here, only arranged.

#' @importFrom generics tidy
#' @export
generics::tidy

#' Tidy a perturbation importance result
#'
#' The result's table as a plain tibble (broom's `tidy()` convention): one row
#' per unit (and output, with `per_output = TRUE`), sorted by decreasing
#' importance, with the engine's columns (`feature`, then `timestep` and
#' `output` where the result has them, `importance`, `std`, `ci_low`,
#' `ci_high`, `p_value`, `p_adjusted`) and no attributes.
#'
#' @param x A `pyimportance_result` from [perturbation_importance()].
#' @param ... Unused.
#' @return A tibble.
#' @examples
#' if (pyimportance_available()) {
#'   x <- matrix(rnorm(300), ncol = 3, dimnames = list(NULL, c("a", "b", "c")))
#'   result <- perturbation_importance(function(x) x[, 1] - x[, 2], x, seed = 1)
#'   tidy(result)
#' }
#' @method tidy pyimportance_result
#' @export
tidy.pyimportance_result <- function(x, ...) {
  tibble::as_tibble(as.data.frame(x))
}

#' A result as vip's `vi` object
#'
#' The convention of vip 0.4.1 (`vi()`, `vi_permute()`), so `vip::vip()`
#' draws an importance computed by pyimportance like any other: a tibble of
#' class `c("vi", "tbl_df", "tbl", "data.frame")` with columns `Variable`
#' (character), `Importance` (double) and, with more than one repeat, `StDev`
#' (double), sorted by `Importance`, largest first; attribute `type`
#' (the estimator: for [perturbation_importance()] `"permutation"` with
#' `method = "permute"`, else `"perturbation (<method>)"`; `"shapley"` for
#' [shapley_importance()]; `"sensitivity (<method>)"` for
#' [sensitivity_importance()])
#' and, with more than one repeat, attribute `raw_scores`: the importance of
#' each repeat, a matrix variables x repeats with the variables as row names
#' (in the engine's unit order, not sorted) and columns `permutation_1`, ...
#' `Importance` and `StDev` are the result's `importance` and `std` columns.
#'
#' Variables are named as the result's units: a feature or group (`"x1"`), a
#' time step (`"t3"`, `by = "timestep"`) or a cell (`"x1@t3"`, `by = "cell"`).
#'
#' @param result A `pyimportance_result` from [perturbation_importance()],
#'   [shapley_importance()] or [sensitivity_importance()] of one output (a
#'   `per_output = TRUE` result has one table per output: choose one with
#'   `output =`).
#' @return A `vi` tibble.
#' @seealso [as_model_parts()] for DALEX, [tidy.pyimportance_result()].
#' @examples
#' if (pyimportance_available()) {
#'   x <- matrix(rnorm(300), ncol = 3, dimnames = list(NULL, c("a", "b", "c")))
#'   result <- perturbation_importance(function(x) x[, 1] - x[, 2], x, seed = 1)
#'   vi <- as_vi(result)
#'   vi
#'   attr(vi, "raw_scores")
#' }
#' @export
as_vi <- function(result) {
  check_result(result, "as_vi")
  check_one_output(result, "as_vi", "vi object")
  frame <- as.data.frame(result)
  scores <- attr(result, "importances")
  table <- tibble::tibble(Variable = rownames(scores), Importance = frame$importance)
  repeats <- ncol(scores)
  if (repeats > 1L) {
    table$StDev <- frame$std
  }
  class(table) <- c("vi", class(table))
  attr(table, "type") <- importance_type(attr(result, "settings"))
  if (repeats > 1L) {
    attr(table, "raw_scores") <- raw_scores(scores, attr(result, "unit_position"), "permutation_")
  }
  table
}

#' A result as DALEX's `model_parts` object
#'
#' The convention of DALEX 2.4.3 (`model_parts()`, which calls
#' `ingredients::feature_importance()`), so DALEX's `plot(mp1, mp2, ...)`
#' overlays a pyimportance result with other models' explanations. A data
#' frame of class `c("model_parts", "feature_importance_explainer",
#' "data.frame")` with columns `variable` (character), `permutation`
#' (double), `dropout_loss` (double) and `label` (character). Rows: first the
#' averages (`permutation == 0`): `_full_model_`, the variables by increasing
#' `dropout_loss`, `_baseline_`; then one block per repeat (`permutation` 1,
#' 2, ...), each with `_full_model_`, the variables in the engine's unit order
#' and `_baseline_`. Attributes `B` (the number of repeats, double) and
#' `loss_name` (the run's loss).
#'
#' `_full_model_` is the loss of the unperturbed model (the result's
#' `baseline_score`); a variable's `dropout_loss` is the loss with it
#' perturbed: `_full_model_` plus its importance in that repeat (the averages:
#' plus the result's `importance`). Variables are named as the result's units
#' (`"x1"`, `"t3"`, `"x1@t3"`). With `per_output = TRUE` each output is one
#' model for DALEX: its rows carry the label `"<label>[<output>]"`, so
#' `plot()` draws one panel per output. The measure must be a loss (larger is
#' worse); a score such as `"accuracy"` is refused, naming a loss to use. A
#' [sensitivity_importance()] result is refused: its importance is read from
#' the model's gradients, not a loss drop.
#'
#' DALEX's `_baseline_` is the loss with every variable perturbed at once,
#' which a run of single units does not measure: pass it as `baseline`, or
#' leave it out and the `_baseline_` rows hold `NA` (DALEX's `plot()` does not
#' draw that row, so the plot is the same; DALEX's `print()` shows `NA`).
#'
#' @param result A `pyimportance_result` from [perturbation_importance()].
#' @param label The model's name, one per object: overlaid plots tell models
#'   apart by it.
#' @param baseline The loss with every variable perturbed (`_baseline_`):
#'   `NULL` (the default) leaves it `NA`; or the result of
#'   [perturbation_importance()] on the same model and data with one group
#'   holding every feature (`groups = list(all =
#'   <every feature>)`, same `seed` and `n_repeats`: its loss per repeat is
#'   used), or a number (or one per repeat).
#' @return A `model_parts` data frame.
#' @seealso [as_vi()] for vip.
#' @examples
#' if (pyimportance_available()) {
#'   x <- matrix(rnorm(300), ncol = 3, dimnames = list(NULL, c("a", "b", "c")))
#'   y <- x[, 1] - x[, 2]
#'   model <- function(x) x[, 1] - x[, 2]
#'   result <- perturbation_importance(model, x, y, method = "permute", seed = 1)
#'   everything <- perturbation_importance(model, x, y, method = "permute", seed = 1,
#'                                         groups = list(all = colnames(x)))
#'   as_model_parts(result, label = "difference", baseline = everything)
#'   as_model_parts(result, label = "difference")  # _baseline_ NA
#' }
#' @export
as_model_parts <- function(result, label = "pyimportance", baseline = NULL) {
  check_result(result, "as_model_parts")
  if (!is.character(label) || length(label) != 1L || is.na(label) || !nzchar(label)) {
    stop("label must be a single non-empty string, got ", deparse(label), call. = FALSE)
  }
  settings <- attr(result, "settings")
  check_loss_drop(settings)
  check_loss(settings$loss)
  scores <- attr(result, "importances")
  frame <- as.data.frame(result)
  full <- attr(result, "baseline_score")  # one per output, in the engine's output order
  in_engine_order <- order(attr(result, "unit_position"))
  outputs <- if ("output" %in% names(frame)) unique(frame$output[in_engine_order]) else NA_character_
  everything <- baseline_losses(baseline, ncol(scores), length(outputs))
  parts <- lapply(seq_along(outputs), function(k) {
    single <- is.na(outputs[k])
    rows <- if (single) seq_len(nrow(frame)) else which(frame$output == outputs[k])
    # the units' labels, less the "[output]" that names a per-output row
    variables <- rownames(scores)[rows]
    if (!single) variables <- substr(variables, 1L, nchar(variables) - nchar(outputs[k]) - 2L)
    one_model_parts(
      variables = variables,
      positions = attr(result, "unit_position")[rows],
      importance = frame$importance[rows], repeats = scores[rows, , drop = FALSE],
      full = unname(full[k]), everything = everything[, k],
      label = if (single) label else paste0(label, "[", outputs[k], "]")
    )
  })
  parts <- do.call(rbind, parts)
  rownames(parts) <- NULL
  structure(parts, class = c("model_parts", "feature_importance_explainer", "data.frame"),
            B = as.double(ncol(scores)), loss_name = settings$loss)
}

#' One model's model_parts rows: the averages block, then one block per repeat.
#' @noRd
one_model_parts <- function(variables, positions, importance, repeats, full, everything, label) {
  average <- full + importance
  by_loss <- order(average, positions)
  in_unit_order <- order(positions)
  block <- function(permutation, names, losses, baseline) {
    data.frame(variable = c("_full_model_", names, "_baseline_"),
               permutation = as.double(permutation),
               dropout_loss = c(full, losses, baseline),
               label = label, stringsAsFactors = FALSE)
  }
  blocks <- c(
    list(block(0, variables[by_loss], average[by_loss], mean(everything))),
    lapply(seq_len(ncol(repeats)), function(b) {
      block(b, variables[in_unit_order], full + repeats[in_unit_order, b], everything[b])
    })
  )
  do.call(rbind, blocks)
}

#' `_baseline_` per repeat (rows) and output (columns), from a number, one per repeat, or a
#' one-unit result (its baseline score plus its importance in each repeat); NA without one.
#' @noRd
baseline_losses <- function(baseline, repeats, outputs) {
  if (is.null(baseline)) {
    return(matrix(NA_real_, nrow = repeats, ncol = outputs))
  }
  if (inherits(baseline, "pyimportance_result")) {
    scores <- attr(baseline, "importances")
    units <- nrow(scores) / outputs
    if (units != 1 || ncol(scores) != repeats) {
      stop("baseline must be a result with one unit (groups = list(all = <every feature>)) and ",
           repeats, " repeats like result, got ", nrow(scores) / outputs, " units and ",
           ncol(scores), " repeats", call. = FALSE)
    }
    # rows of `scores` are sorted by importance: put them back in output order
    scores <- scores[order(attr(baseline, "unit_position")), , drop = FALSE]
    return(sweep(t(scores), 2L, attr(baseline, "baseline_score"), "+"))
  }
  if (!is.numeric(baseline) || !length(baseline) %in% c(1L, repeats) || anyNA(baseline)) {
    stop("baseline must be a result of perturbation_importance() or a number (or ", repeats,
         " numbers, one per repeat), got ", deparse(baseline), call. = FALSE)
  }
  matrix(as.double(baseline), nrow = repeats, ncol = outputs)
}

#' The raw scores as vip keeps them: variables x repeats in the engine's unit order.
#' @noRd
raw_scores <- function(scores, positions, prefix) {
  scores <- scores[order(positions), , drop = FALSE]
  colnames(scores) <- paste0(prefix, seq_len(ncol(scores)))
  scores
}

#' vip's `type`, from a result's settings: the estimator ("shapley"); for sensitivity importance with its
#' method ("sensitivity (integrated_gradients)"); for perturbation importance, "permutation" for
#' permutations, else which perturbation.
#' @noRd
importance_type <- function(settings) {
  if (identical(settings$estimator, "sensitivity")) {
    return(paste0("sensitivity (", settings$method, ")"))
  }
  if (!identical(settings$estimator, "perturbation")) {
    return(settings$estimator)
  }
  method <- settings$method
  if (identical(method, "permute")) "permutation" else paste0("perturbation (", method, ")")
}

check_result <- function(result, caller) {
  if (!inherits(result, "pyimportance_result")) {
    stop(caller, "() needs a result of perturbation_importance(), got an object of class ",
         paste(class(result), collapse = "/"), call. = FALSE)
  }
}

check_one_output <- function(result, caller, what) {
  frame <- as.data.frame(result)
  if ("output" %in% names(frame) && length(unique(frame$output)) > 1L) {
    stop(caller, "() makes one ", what, " per output, and result has ", length(unique(frame$output)),
         " (per_output = TRUE): choose one with output = in perturbation_importance()", call. = FALSE)
  }
}

#' DALEX's `dropout_loss` is the loss with a variable perturbed: refuse a result whose importance is no
#' loss drop (a sensitivity result: gradient attributions), saying why and what to use.
#' @noRd
check_loss_drop <- function(settings) {
  if (identical(settings$estimator, "sensitivity")) {
    stop("as_model_parts() needs a loss drop (DALEX's dropout_loss: the loss with a variable perturbed), and ",
         "a sensitivity_importance() result is not one: its importance is read from the model's gradients ",
         "(method \"", settings$method, "\"), with no loss of a perturbed model; use as_vi() for it, or ",
         "perturbation_importance() for DALEX", call. = FALSE)
  }
}

#' DALEX draws losses: refuse a score (larger is better), read from the engine's table of losses.
#' @noRd
check_loss <- function(loss) {
  table <- reticulate::import("pyimportance.scoring.losses", convert = FALSE)$LOSSES
  for (name in strsplit(loss, "+", fixed = TRUE)[[1]]) {
    known <- reticulate::py_get_item(table, name, silent = TRUE)
    if (!is.null(known) && isTRUE(reticulate::py_to_r(known$greater_is_better))) {
      stop("as_model_parts() needs a loss (larger is worse), as DALEX's dropout_loss is; result's ",
           "measure \"", name, "\" is a score: run perturbation_importance() with a loss ",
           "(loss = \"log_loss\")", call. = FALSE)
    }
  }
}
