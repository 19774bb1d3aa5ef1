#' Perturbation importance of each input variable of a model
#'
#' Each unit (a feature over all its time steps by default) is perturbed
#' `n_repeats` times; the importance is how much the loss grows (with `y`) or
#' how much the predictions move (without `y`). The work is done by the Python
#' engine: the same arguments and the same `seed` give the same numbers as
#' `pyimportance.perturbation_importance(..., random_state = seed)` in Python,
#' and the same data frame as `pyimportance.rbridge.perturbation_importance()`
#' from Python with rpy2.
#'
#' @param model A Keras model built from R (keras3, keras or reticulate: a
#'   Python object, passed as it is), or an R function `function(x)` that
#'   takes an R array shaped like `x` (a chunk of its rows) and returns a
#'   numeric vector (one prediction per row), matrix (one row per row of `x`)
#'   or data frame. The chunk keeps the feature names of `x` (`dimnames`), and
#'   is a data frame when `x` is one, so `function(d) predict(fit, newdata = d)`
#'   works for R models. With several inputs (`x` a list) it gets a list of
#'   chunks.
#' @param x Evaluation data: an array `c(n_samples, n_timesteps, n_features)`
#'   (feature names from `dimnames(x)[[3]]`), a matrix
#'   `c(n_samples, n_features)` (names from `colnames(x)`) or a data frame of
#'   numeric (or logical) columns; for a model with several inputs, a list (or
#'   named list) of them. Never modified. `NA` is refused, with its position.
#' @param y Optional true targets: a numeric vector, a factor (its integer
#'   codes `0..K-1` are used, as a Keras classifier expects; its levels are
#'   kept in `settings$classes`), a matrix (one row per sample, e.g. one-hot)
#'   or a data frame; for a model with several outputs, a list of them. Without
#'   `y` the importance is the mean absolute change of the predictions.
#' @param method How a unit is perturbed: `"gaussian"`, `"uniform"`,
#'   `"permute"`, `"resample"`, `"conditional"` (permute only the part of the
#'   unit the rest of the sample does not predict), `"zero"` or `"mean"`, or an
#'   R function `function(values, seed)` that gets the unit's values, an array
#'   `c(n, n_unit_timesteps, n_unit_features)`, and `seed`, a whole number
#'   drawn from the job's own random generator (call `set.seed(seed)` for
#'   reproducible draws), and returns new values as an array of the same `dim`
#'   (for a unit that spans several inputs: a list of arrays in, a list out).
#' @param scale Noise standard deviation for `"gaussian"`/`"uniform"`: a
#'   fraction of each feature's sd when `relative_scale` is `TRUE`, otherwise
#'   an absolute sd.
#' @param relative_scale See `scale`.
#' @param loss With `y`: `"mse"` (default), `"rmse"`, `"mae"`, `"log_loss"`,
#'   `"binary_crossentropy"`, `"categorical_crossentropy"` or `"accuracy"`, or
#'   an R function `function(y_true, y_pred)` returning one number (a loss:
#'   larger is worse) or one per row; one-column targets and predictions
#'   arrive as numeric vectors. A list of them gives one loss per output head.
#' @param n_repeats Perturbations per unit (a whole number; `5` works).
#' @param by Unit of perturbation: `"feature"` (a feature over all time
#'   steps), `"timestep"` (all features at one time step) or `"cell"` (each
#'   time step and feature).
#' @param groups Optional named list of features perturbed together, e.g.
#'   `list(weather = c("temp", "rain"), load = "load")`; members are feature
#'   names or 1-based column numbers. Groups replace single features as units
#'   (each scored on its own: features in no group are not reported).
#' @param feature_names Optional names of the features, overriding those of
#'   `x` (with several inputs, a list of them, one per input).
#' @param max_samples Evaluate on a random subset of rows: a count (`200`), or
#'   a fraction (`0.5`; `1` means all rows).
#' @param sample_weight Optional numeric vector, one non-negative weight per
#'   row of `x`: every score is the weighted mean `sum(w * loss) / sum(w)`
#'   (scikit-learn's convention; Keras' `evaluate()` divides by the number of
#'   rows instead), in the importances, the baseline and the intervals. An R
#'   loss function returning one value per row is weighted; one returning one
#'   number is refused with weights.
#' @param batch_size Rows per model call: a performance knob (the same
#'   settings give identical results; other batch sizes agree to rounding).
#' @param seed A whole number: same seed, same result (Python's
#'   `random_state`). `NULL` draws a seed, a whole number below 2^31 that the
#'   result records (`attr(result, "settings")$seed`): pass it back as `seed`
#'   to repeat the run exactly.
#' @param progress Show a progress bar.
#' @param ci The 95% interval: `"data"` (default) for the population the rows
#'   come from, counting the rows (a circular block bootstrap over consecutive
#'   rows) and the perturbations; `"repeats"` for the t-interval over repeats,
#'   conditional on this data set.
#' @param block_size Rows per block for `ci = "data"` (default: chosen from
#'   the data); refused with `ci = "repeats"`, which has no blocks.
#' @param tolerance Stop early once every interval's half-width is at most
#'   this fraction of the largest importance (rows are evaluated in seeded
#'   random blocks); `NULL` evaluates all rows.
#' @param output Output heads to score: names or (1-based) numbers, or a named
#'   list `head = columns` of 1-based column numbers; `NULL` scores all.
#' @param per_output Report importance per output head (and per column of a
#'   regression head): the result then has an `output` column.
#' @param mask_value Value marking padded time steps (all features of the step
#'   equal it): a number, `"auto"` (the `mask_value` of a Keras `Masking` layer
#'   reading the input) or `NULL` (no padding); a named list for several inputs.
#' @param reference Rows on which `method = "conditional"` fits its
#'   conditional model (like `x`, e.g. the training windows); default: `x`.
#' @param learner The conditional model of `method = "conditional"` (default
#'   `NULL`: ridge regression, linear and fast): an R function `fit(x, y)` that
#'   gets a numeric matrix `x` (the rows, every column outside the unit) and a
#'   numeric vector `y` (one column of the unit) and returns a predict
#'   `function(x)` of one number per row, e.g.
#'   `function(x, y) { m <- loess(y ~ x[, 1]); function(x) predict(m, x[, 1]) }`;
#'   or a Python regressor made through reticulate (scikit-learn's
#'   `HistGradientBoostingRegressor()`). Fitted out of fold (5 folds of
#'   consecutive rows), or on `reference`; all fits and predictions happen
#'   before the run, in this R process, so an `executor` may be used with it.
#'   Categorical units (integer codes, one-hot groups) are sampled from a
#'   classifier's class probabilities: `list(categorical = classifier)` (a
#'   Python classifier through reticulate; default scikit-learn's
#'   `LogisticRegression`), with `continuous =` for the other units.
#' @param categorical Names of features that are integer codes although `x`
#'   holds them as doubles (`method = "conditional"` samples them from a
#'   classifier); integer and logical columns, a model's integer input and
#'   one-hot columns are detected.
#' @param executor Optional Python `concurrent.futures` executor that runs the
#'   perturbed jobs as tasks, e.g. `client$get_executor()` of a Dask client
#'   (`client <- reticulate::import("dask.distributed")$Client()`). Same numbers
#'   as the local run. Needs a Keras model (or another Python model) and
#'   built-in `method` and `loss`: R functions cannot run in other processes.
#'
#' @return A data frame of class `pyimportance_result`, one row per unit,
#'   sorted by decreasing importance, with the columns of the engine's result:
#'   `feature`, `timestep` (only for `by = "timestep"` or `"cell"`; 1-based),
#'   `importance` (mean over repeats), `std` (sd over repeats), `ci_low`,
#'   `ci_high` (the 95% interval chosen by `ci`), `p_value` (one-sided, of
#'   "importance <= 0") and `p_adjusted` (Benjamini-Hochberg over the run), and
#'   `output` with `per_output = TRUE`; columns the engine adds appear too.
#'   Attributes: `importances` (matrix rows x repeats, rows in the order of the
#'   data frame, named by unit: `"x1"`, `"t3"` or `"x1@t3"`, plus `"[output]"`
#'   per output), `settings` (list of the options used, under their R names,
#'   e.g. `seed`; `classes` holds the levels of a factor `y`), `baseline_score`
#'   (loss of the unperturbed model, one per output; 0 for the
#'   prediction-change measure), `n_rows_used`, `n_repeats_used`, `converged`
#'   and `precision` (with `tolerance`; else `NA`), `summary` (the lines
#'   `print()` shows above the table: what was measured, the interval and the
#'   stopping rule, as the engine words them), `confidence` (the level of
#'   `ci_low`/`ci_high`, 0.95) and `interval` (the interval the run reports, a
#'   list: `kind`, `"data"`, `"repeats"` or `"none"`; `text`, as in the summary;
#'   `meaning`, what it covers, in a sentence).
#'
#' @section Errors:
#' Errors are R conditions that inherit `pyimportance_error`, with the
#' engine's message in R's terms (R argument names, 1-based positions):
#' `pyimportance_argument_error` (an argument is wrong),
#' `pyimportance_model_error` (the model failed; the message names the unit
#' and repeat), `pyimportance_model_output_error` (the model returned
#' something other than one row of numbers per row), `pyimportance_method_error`
#' and `pyimportance_loss_error` (an R `method` or `loss` failed or returned
#' something unusable), `pyimportance_python_error` (the Python engine could
#' not be loaded). Ctrl-C stops a run as an interrupt.
#'
#' @examples
#' if (pyimportance_available()) {
#'   x <- array(rnorm(200 * 10 * 3), c(200, 10, 3),
#'              dimnames = list(NULL, NULL, c("load", "temp", "noise")))
#'   model <- function(x) 2 * x[, 10, 1] + 0.5 * x[, 10, 2]
#'   result <- perturbation_importance(model, x, n_repeats = 3, seed = 1)
#'   result
#'   plot(result)
#'
#'   shuffle_rows <- function(values, seed) {
#'     set.seed(seed)
#'     values[sample(dim(values)[1]), , , drop = FALSE]
#'   }
#'   perturbation_importance(model, x, method = shuffle_rows, n_repeats = 3, seed = 1)
#' }
#' @export
perturbation_importance <- function(model, x, y = NULL, method = "gaussian", scale = 0.1,
                                    relative_scale = TRUE, loss = NULL, n_repeats = 5,
                                    by = "feature", groups = NULL, feature_names = NULL,
                                    max_samples = NULL, sample_weight = NULL,
                                    batch_size = NULL, seed = NULL,
                                    progress = interactive(), ci = "data", block_size = NULL,
                                    tolerance = NULL, output = NULL, per_output = FALSE,
                                    mask_value = "auto", reference = NULL, learner = NULL,
                                    categorical = NULL, executor = NULL) {
  # Every argument after y goes to the engine's R layer under its R name (the registry's entry for the
  # estimator says which it takes), R functions under the name they were passed as.
  call <- match.call()
  arguments <- mget(setdiff(names(formals()), c("model", "x", "y")))
  function_names <- list(method = deparse_name(substitute(method)), loss = deparse_name(substitute(loss)),
                         learner = deparse_name(substitute(learner)))
  run_estimator("perturbation", model, x, y, arguments, function_names, call)
}

#' Run the estimator named `estimator` in the engine's registry (`pyimportance.registry`) from the
#' arguments of its R function: `arguments` are those after `y` under their R names, R functions
#' among them named as in `function_names`; errors and warnings become R's, raised for `call`.
#' @noRd
run_estimator <- function(estimator, model, x, y, arguments, function_names, call) {
  arguments <- Map(function(value, name) as_r_value(value, function_names[[name]]), arguments, names(arguments))
  outcome <- with_python_errors(call = call, rlayer()$call_from_r(
    as_r_value(model, "model"), as_r_value(x), as_r_value(y), arguments, estimator = estimator
  ))
  if (inherits(outcome, "pyimportance.rlayer.RCondition")) {
    stop_engine_error(outcome, call)
  }
  with_engine_warnings(from_r_value(outcome))
}

#' The name an R function was passed as (`method = zero_out` gives "zero_out").
#' @noRd
deparse_name <- function(expression) {
  if (is.name(expression)) as.character(expression) else "custom"
}
