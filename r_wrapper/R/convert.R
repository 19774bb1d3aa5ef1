# R objects to and from the engine's neutral RValue (pyimportance/rlayer.py), which knows every
# R convention; this file only mirrors R objects, as the rpy2 layer does in Python.

#' An R object as an RValue: NULL as NULL (Python None), Python objects as they are.
#'
#' Values keep R's index order (reticulate passes arrays without copying); a vector goes
#' as a 1-D array so it arrives as a NumPy array. NA positions go separately (`na`):
#' NumPy has no NA for integers and logicals, and reticulate turns a logical NA into TRUE.
#' @noRd
as_r_value <- function(value, name = NULL) {
  if (is.null(value) || inherits(value, "python.builtin.object")) {
    return(value)
  }
  if (is.function(value)) {
    return(rlayer()$RValue("function", `function` = python_caller(value), name = name))
  }
  if (is.factor(value)) {
    codes <- as_array(unclass(value))
    return(rlayer()$RValue("factor", values = codes, levels = levels(value), na = na_positions(codes)))
  }
  if (is.list(value)) {
    type <- if (is.data.frame(value)) "data.frame" else "list"
    return(rlayer()$RValue(type, names = names(value), items = unname(lapply(value, as_r_value))))
  }
  if (is.atomic(value) && typeof(value) %in% c("double", "integer", "logical", "character")) {
    values <- as_array(value)
    return(rlayer()$RValue(typeof(value), values = values, dimnames = dimnames(values),
                         na = na_positions(values)))
  }
  rlayer()$RValue(typeof(value))
}

#' A vector as a 1-D array (attributes other than dim and dimnames dropped).
#' @noRd
as_array <- function(value) {
  if (is.null(dim(value))) {
    value <- as.vector(value)
    dim(value) <- length(value)
  } else if (!all(names(attributes(value)) %in% c("dim", "dimnames"))) {
    # only then: changing attributes copies the array
    attributes(value) <- attributes(value)[intersect(c("dim", "dimnames"), names(attributes(value)))]
  }
  value
}

#' Where R holds NA (for doubles NA, not NaN), or NULL when nowhere.
#' @noRd
na_positions <- function(values) {
  if (!anyNA(values)) {
    return(NULL)
  }
  na <- is.na(values)
  if (is.double(values)) na <- na & !is.nan(values)
  na
}

#' An RValue (a Python object) as the R object it mirrors.
#' @noRd
from_r_value <- function(value) {
  if (!inherits(value, "python.builtin.object")) {
    return(value)
  }
  type <- value$type
  names <- character_or_null(value$names)
  out <- switch(type,
    "NULL" = NULL,
    list = stats::setNames(lapply(value$items, from_r_value), names),
    data.frame = new_data_frame(lapply(value$items, from_r_value), names),
    stats::setNames(atomic_from_r_value(value), names)
  )
  attributes <- value$attributes
  for (name in names(attributes)) {
    attr(out, name) <- from_r_value(attributes[[name]])
  }
  out
}

atomic_from_r_value <- function(value) {
  values <- value$values
  if (length(dim(values)) <= 1L) {
    values <- as.vector(values)
  }
  na <- value$na
  if (!is.null(na)) {
    values[as.vector(na)] <- NA
  }
  dimnames <- value$dimnames
  if (!is.null(dimnames) && length(dim(values)) >= 2L) {
    dimnames(values) <- lapply(dimnames, character_or_null)
  }
  values
}

character_or_null <- function(value) {
  if (is.null(value)) NULL else as.character(unlist(value))
}

new_data_frame <- function(columns, names) {
  rows <- if (length(columns)) length(columns[[1]]) else 0L
  structure(columns, names = names, class = "data.frame", row.names = c(NA_integer_, -rows))
}

#' An R function as the Python callable rlayer calls: arguments arrive as RValues and go
#' to R; the result goes back as an RValue. An error or an interrupt in R comes back as an
#' RCondition, which rlayer raises as a failed call or as KeyboardInterrupt (so Ctrl-C stops
#' the run as an interrupt, not as a failed model call).
#' @noRd
python_caller <- function(fun) {
  guarded <- function(...) {
    arguments <- lapply(list(...), from_r_value)
    tryCatch(
      as_r_value(if (length(arguments) == 1L) fun(arguments[[1]]) else fun(arguments[[1]], arguments[[2]])),
      error = function(error) rlayer()$RCondition("error", conditionMessage(error)),
      interrupt = function(condition) rlayer()$RCondition("interrupt")
    )
  }
  reticulate::r_to_py(guarded, convert = TRUE)
}
