#' Shapley global importance (SAGE) of each input variable of a model
#'
#' Each unit's fair share of the loss the model explains: v(S) is the loss of
#' the prediction knowing no unit minus the loss of the prediction knowing only
#' the units in S (the absent units integrated out over `n_draws` rows of the
#' data, the bias of that average removed); a unit's value is its mean loss drop
#' when it joins the units before it, along random unit orders (`n_repeats` per
#' row, antithetic in pairs). The values add up to v(all units), the loss of
#' the mean prediction minus the model's loss (`attr(result, "total")`). Where
#' inputs interact, permutation importance counts an interaction in full for
#' each of its inputs, Shapley importance splits it: for `y = x1 * x2` each
#' feature's permutation importance (mse) is 2, its Shapley value 0.5.
#' Same engine, arguments, units and data frame as [perturbation_importance()];
#' the same `seed` gives the same numbers as
#' `pyimportance.shapley_importance(..., random_state = seed)` in Python.
#'
#' @inheritParams perturbation_importance
#' @param loss As in [perturbation_importance()], but a mean of per-row values
#'   (not `"rmse"`; an R function must return one value per row).
#' @param n_repeats Unit orders per row (a whole number; `2`, one antithetic
#'   pair, works); with `tolerance`, the most orders per row.
#' @param groups Optional named list of features that join a coalition
#'   together, e.g. `list(weather = c("temp", "rain"))`; members are feature
#'   names or 1-based column numbers. A feature in no group is a unit of its
#'   own, named by its feature name (`attr(result, "settings")$ungrouped` lists
#'   them), so the values still add up to `attr(result, "total")`.
#' @param n_draws Rows of the data averaged over per coalition (at least 2):
#'   more lowers the variance; the bias of the average is removed for any
#'   number (exactly for squared error).
#' @param imputer How the absent units are integrated out: `"marginal"`
#'   (their values from other rows: what the model does with the inputs'
#'   typical values) or `"conditional"` (drawn given the known units from a
#'   Gaussian model of the inputs: correlated inputs share their value; units
#'   of one size, no padding).
#' @param ci The 95% interval: `"data"` (default) for the population the rows
#'   come from (a circular block bootstrap over consecutive rows); `"repeats"`
#'   for the t-interval over the orders, conditional on these rows.
#' @param tolerance Stop early once every value's half-width is at most this
#'   fraction of the largest value: rows in seeded random blocks of 1,000 with
#'   one antithetic pair of orders each, then, once the rows have run out,
#'   another pair for every block, up to `n_repeats` orders.
#' @param executor Optional Python `concurrent.futures` executor that computes
#'   the orders as tasks (same numbers as the local run); needs a Python model.
#'
#' @return A data frame of class `pyimportance_result`, as
#'   [perturbation_importance()]'s (`importance` is the Shapley value, `std`
#'   its sd over the orders), with the attributes `total`, `total_ci_low` and
#'   `total_ci_high` (v(all units) and its interval, one per output).
#'
#' @examples
#' if (pyimportance_available()) {
#'   x <- matrix(rnorm(800), 400, 2, dimnames = list(NULL, c("x1", "x2")))
#'   model <- function(x) x[, 1] * x[, 2]
#'   result <- shapley_importance(model, x, model(x), seed = 1)
#'   result
#'   attr(result, "total")
#' }
#' @export
shapley_importance <- function(model, x, y = NULL, loss = NULL, n_repeats = 2, n_draws = 8,
                               imputer = "marginal", by = "feature", groups = NULL, feature_names = NULL,
                               max_samples = NULL, sample_weight = NULL,
                               batch_size = NULL, seed = NULL,
                               progress = interactive(), ci = "data", block_size = NULL,
                               tolerance = NULL, output = NULL, per_output = FALSE,
                               mask_value = "auto", executor = NULL) {
  call <- match.call()
  arguments <- mget(setdiff(names(formals()), c("model", "x", "y")))
  run_estimator("shapley", model, x, y, arguments, list(loss = deparse_name(substitute(loss))), call)
}
