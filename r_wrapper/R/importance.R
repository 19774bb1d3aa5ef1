#' Perturbation importance of each input variable of a model
#'
#' Each unit (a feature over all its time steps by default) is perturbed
#' `n_repeats` times; the importance is how much the loss grows (with `y`) or
#' how much the predictions move (without `y`). The work is done by the Python
#' engine: the same arguments and the same `seed` give the same numbers as
#' `pyimportance.perturbation_importance(..., random_state = seed)` in Python.
#'
#' @param model A Keras model built from R (keras3, keras or reticulate: a
#'   Python object, passed as it is), or an R function `function(x)` that
#'   takes an R array shaped like `x` (a chunk of its rows) and returns a
#'   numeric vector (one prediction per row) or matrix (one row per row of
#'   `x`). The chunk keeps the feature names of `x` (`dimnames`), and is a
#'   data frame when `x` is one, so `function(d) predict(fit, newdata = d)`
#'   works for R models.
#' @param x Evaluation data: an array `c(n_samples, n_timesteps, n_features)`
#'   (feature names from `dimnames(x)[[3]]`), a matrix
#'   `c(n_samples, n_features)` (names from `colnames(x)`) or a data frame of
#'   numeric columns. Never modified.
#' @param y Optional true targets: a numeric vector, a factor (its integer
#'   codes `0..K-1` are used, as a Keras classifier expects), or a matrix (one
#'   row per sample, e.g. one-hot). Without `y` the importance is the mean
#'   absolute change of the predictions.
#' @param method How a unit is perturbed: `"gaussian"`, `"uniform"`,
#'   `"permute"`, `"resample"`, `"zero"` or `"mean"`, or an R function
#'   `function(values, rng)` that gets an array `c(n, n_unit_timesteps,
#'   n_unit_features)` (and NumPy's random generator) and returns new values
#'   of the same shape.
#' @param scale Noise standard deviation for `"gaussian"`/`"uniform"`: a
#'   fraction of each feature's sd when `relative_scale` is `TRUE`, otherwise
#'   an absolute sd.
#' @param relative_scale See `scale`.
#' @param loss With `y`: `"mse"` (default), `"rmse"`, `"mae"`, `"log_loss"`,
#'   `"binary_crossentropy"`, `"categorical_crossentropy"` or `"accuracy"`, or
#'   an R function `function(y_true, y_pred)` returning one number (a loss:
#'   larger is worse); one-column targets and predictions arrive as numeric
#'   vectors.
#' @param n_repeats Perturbations per unit (a whole number; `5` works).
#' @param by Unit of perturbation: `"feature"` (a feature over all time
#'   steps), `"timestep"` (all features at one time step) or `"cell"` (each
#'   time step and feature).
#' @param groups Optional named list of features perturbed together, e.g.
#'   `list(weather = c("temp", "rain"), load = "load")`; members are feature
#'   names or 1-based column numbers. Groups replace single features as units.
#' @param max_samples Evaluate on a random subset of rows: a count (`200`), or
#'   a fraction (`0.5`; `1` means all rows).
#' @param batch_size Rows per model call: a performance knob that never
#'   changes the result.
#' @param seed A whole number: same seed, same result (Python's
#'   `random_state`). `NULL` draws fresh randomness.
#' @param progress Show a progress bar.
#' @param feature_names Optional names of the features, overriding those of
#'   `x`.
#' @param executor Optional Python `concurrent.futures` executor that runs the
#'   perturbed jobs as tasks, e.g. `client$get_executor()` of a Dask client
#'   (`client <- reticulate::import("dask.distributed")$Client()`). Same numbers
#'   as the local run. Needs a Keras model (or another Python model) and
#'   built-in `method` and `loss`: R functions cannot run in other processes.
#'
#' @return A data frame of class `pyimportance_result`, one row per unit,
#'   sorted by decreasing importance, with columns `feature`, `timestep`
#'   (only for `by = "timestep"` or `"cell"`; 1-based), `importance` (mean
#'   over repeats), `std` (sd over repeats), `ci_low`, `ci_high` (95%
#'   t-interval of the mean). Attributes: `importances` (matrix units x
#'   repeats, rows in the order of the data frame, named by unit),
#'   `settings` (list of the options used) and `baseline_score` (loss of the
#'   unperturbed model; 0 for the prediction-change measure).
#'
#' @examples
#' if (pyimportance_available()) {
#'   x <- array(rnorm(200 * 10 * 3), c(200, 10, 3),
#'              dimnames = list(NULL, NULL, c("load", "temp", "noise")))
#'   model <- function(x) 2 * x[, 10, 1] + 0.5 * x[, 10, 2]
#'   result <- perturbation_importance(model, x, n_repeats = 3, seed = 1)
#'   result
#'   plot(result)
#' }
#' @export
perturbation_importance <- function(model, x, y = NULL, method = "gaussian", scale = 0.1,
                                    relative_scale = TRUE, loss = NULL, n_repeats = 5,
                                    by = "feature", groups = NULL, max_samples = NULL,
                                    batch_size = NULL, seed = NULL, progress = interactive(),
                                    feature_names = NULL, executor = NULL) {
  call <- match.call()
  is_r_function <- function(value) is.function(value) && !inherits(value, "python.builtin.object")
  if (!is.null(executor) && (is_r_function(model) || is_r_function(method) || is_r_function(loss))) {
    argument_error(paste(
      "executor needs a Python model and built-in method and loss:",
      "R functions cannot run in other processes or threads"
    ), call)
  }
  if (is.null(feature_names)) {
    feature_names <- names_of_features(x)
  }
  model_py <- as_python_model(model, call, like = chunk_shaper(x, feature_names))
  n_features <- count_features(x)
  target <- as_python_target(y)
  result <- with_python_errors(call = call, py_engine$perturbation_importance(
    model_py,
    as_python_x(x),
    target$values,
    method = as_python_function(method, "method", perturbation_adapter, deparse_name(substitute(method))),
    scale = scale,
    relative_scale = relative_scale,
    loss = as_python_function(loss, "loss", loss_adapter, deparse_name(substitute(loss))),
    n_repeats = as_whole_number(n_repeats),
    by = by,
    groups = as_python_groups(groups, n_features, call),
    feature_names = if (is.null(feature_names)) NULL else as.list(as.character(feature_names)),
    max_samples = max_samples,
    batch_size = as_whole_number(batch_size),
    random_state = as_whole_number(seed),
    progress = progress,
    executor = executor
  ))
  new_importance_result(result, seed = seed, classes = target$classes)
}

#' A model as a Python callable: Python objects pass through, R functions
#' are wrapped; `like` dresses each chunk like `x` (names, data frame).
#' @noRd
as_python_model <- function(model, call, like = identity) {
  if (inherits(model, "python.builtin.object")) {
    return(model)
  }
  if (is.function(model)) {
    return(python_callable(function(chunk) as_numpy(model(like(chunk)))))
  }
  argument_error(paste0(
    "model must be a Keras model (a Python object) or an R function(x) returning predictions, got ",
    describe_r(model)
  ), call)
}

#' An R function as a Python callable whose arguments arrive as R objects
#' (NumPy arrays as R arrays with the same index order). An interrupt while it
#' runs becomes Python's KeyboardInterrupt, so Ctrl-C stops the run as an
#' interrupt rather than as a failed model call.
#' @noRd
python_callable <- function(fun, name = NULL) {
  marker <- "__pyimportance_interrupted__"
  guarded <- function(...) tryCatch(fun(...), interrupt = function(condition) marker)
  interop <- reticulate::import("pyimportance.interop", convert = FALSE)
  interop$raising_interrupts(reticulate::r_to_py(guarded, convert = TRUE), name)
}

#' A function giving a chunk of rows (an R array from NumPy) the feature
#' names of `x`, and the data frame form when `x` is a data frame, so R
#' functions such as `function(d) predict(fit, newdata = d)` work.
#' @noRd
chunk_shaper <- function(x, feature_names) {
  if (is.data.frame(x)) {
    column_names <- if (is.null(feature_names)) names(x) else as.character(feature_names)
    return(function(chunk) {
      frame <- as.data.frame(matrix(chunk, nrow = dim(chunk)[1]))
      names(frame) <- column_names
      frame
    })
  }
  if (is.null(feature_names)) {
    return(identity)
  }
  function(chunk) {
    dims <- dim(chunk)
    if (length(dims) >= 2L && utils::tail(dims, 1L) == length(feature_names)) {
      names <- vector("list", length(dims))
      names[[length(dims)]] <- as.character(feature_names)
      dimnames(chunk) <- names
    }
    chunk
  }
}

perturbation_adapter <- function(fun) function(values, rng) as_numpy(fun(values, rng))

#' Targets and predictions with one column arrive as plain numeric vectors,
#' so `mean((y_true - y_pred)^2)` means what it says.
#' @noRd
loss_adapter <- function(fun) {
  as_vector_if_one_column <- function(value) {
    if (is.null(dim(value)) || length(dim(value)) == 1L || (length(dim(value)) == 2L && ncol(value) == 1L)) {
      return(as.vector(value))
    }
    value
  }
  function(y_true, y_pred) {
    value <- fun(as_vector_if_one_column(y_true), as_vector_if_one_column(y_pred))
    if (is.numeric(value) && length(value) == 1L) as.numeric(value) else value
  }
}

#' `method`/`loss`: a name (or NULL) as it is, an R function wrapped.
#' @noRd
as_python_function <- function(value, argument, adapter, name) {
  if (is.function(value)) {
    return(python_callable(adapter(value), name = name))
  }
  value
}

deparse_name <- function(expression) {
  if (is.name(expression)) as.character(expression) else "custom"
}

#' An R result (vector, matrix, array, data frame) as a float64 NumPy array;
#' never a Python list, whatever its length.
#' @noRd
as_numpy <- function(value) {
  if (inherits(value, "python.builtin.object")) {
    return(value)
  }
  if (is.data.frame(value)) {
    value <- as.matrix(value)
  }
  if (is.logical(value) || is.integer(value)) {
    storage.mode(value) <- "double"
  }
  if (!is.numeric(value)) {
    return(value) # the engine reports what it got
  }
  reticulate::np_array(value, dtype = "float64")
}

#' x for Python: arrays/matrices (Fortran-ordered, same index order) and data
#' frames (pandas) convert as they are; a bare vector becomes a 1D array so
#' the engine names its shape.
#' @noRd
as_python_x <- function(x) {
  if (inherits(x, "python.builtin.object") || is.array(x) || is.data.frame(x)) {
    return(x)
  }
  if (is.atomic(x) && length(x) > 0L) {
    return(reticulate::np_array(x))
  }
  x
}

names_of_features <- function(x) {
  if (is.data.frame(x)) {
    return(NULL) # pandas keeps the column names
  }
  dims <- dim(x)
  if (!is.array(x) || length(dims) < 2L) {
    return(NULL)
  }
  dimnames(x)[[length(dims)]]
}

count_features <- function(x) {
  if (is.data.frame(x)) {
    return(ncol(x))
  }
  if (is.array(x) && length(dim(x)) >= 2L) {
    return(utils::tail(dim(x), 1L))
  }
  NA_integer_
}

#' y for Python plus the class labels of a factor.
#' @noRd
as_python_target <- function(y) {
  if (is.null(y) || inherits(y, "python.builtin.object")) {
    return(list(values = y, classes = NULL))
  }
  if (is.factor(y)) {
    return(list(values = reticulate::np_array(as.integer(y) - 1L), classes = levels(y)))
  }
  if (is.data.frame(y)) {
    y <- as.matrix(y)
  }
  if (is.logical(y)) {
    storage.mode(y) <- "integer"
  }
  if (is.numeric(y)) {
    return(list(values = reticulate::np_array(y), classes = NULL))
  }
  list(values = reticulate::np_array(y), classes = NULL) # the engine names the bad dtype
}

#' Counts and seeds: a whole double (R's `5`) becomes an integer; anything
#' else goes to the engine as it is, so its message names the bad value.
#' @noRd
as_whole_number <- function(value) {
  if (is.numeric(value) && length(value) == 1L && !is.na(value) && is.finite(value) &&
      value == round(value) && abs(value) <= .Machine$integer.max) {
    return(as.integer(value))
  }
  value
}

#' groups as a Python dict of lists: names as they are, 1-based numbers as
#' 0-based indices; a single member still becomes a list.
#' @noRd
as_python_groups <- function(groups, n_features, call) {
  if (is.null(groups) || inherits(groups, "python.builtin.object")) {
    return(groups)
  }
  if (!is.list(groups) || is.null(names(groups)) || any(!nzchar(names(groups)))) {
    argument_error(paste0(
      "groups must be a named list of feature names, e.g. list(weather = c(\"temp\", \"rain\")), got ",
      describe_r(groups)
    ), call)
  }
  members <- lapply(names(groups), function(name) {
    lapply(as.list(groups[[name]]), function(member) {
      if (!is.numeric(member)) {
        return(member)
      }
      if (member != round(member) || member < 1 || (!is.na(n_features) && member > n_features)) {
        argument_error(sprintf(
          "groups[[\"%s\"]] has feature number %s out of range 1..%s", name, format(member), n_features
        ), call)
      }
      as.integer(member) - 1L
    })
  })
  reticulate::py_dict(as.list(names(groups)), members, convert = FALSE)
}

describe_r <- function(value) {
  text <- paste(class(value), collapse = "/")
  if (is.atomic(value) && length(value) <= 5L) {
    text <- paste0(text, " ", paste(deparse(value), collapse = ""))
  }
  text
}
