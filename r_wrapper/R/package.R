#' pyimportance: perturbation variable importance for Keras sequence models
#'
#' A thin R interface to the Python package `pyimportance`. The one function,
#' [perturbation_importance()], calls the Python engine through 'reticulate',
#' so R and Python give the same numbers for the same `seed`.
#'
#' Which Python is used: `RETICULATE_PYTHON` when set (reticulate's own rule);
#' otherwise `PYIMPORTANCE_PYTHON` when set (passed to
#' `reticulate::use_python(required = TRUE)` before Python starts); otherwise
#' reticulate's usual discovery. Loading this package never starts Python;
#' the first call imports the engine's R layer (`pyimportance.rlayer`, shared
#' with the rpy2 layer) and, when that fails, says how to install the engine
#' ([install_pyimportance()]).
#'
#' @keywords internal
"_PACKAGE"

# The engine's R layer (pyimportance.rlayer), imported lazily in .onLoad (keras3 pattern): the
# first use starts Python; a failed import says how to install the engine.
rlayer <- NULL

.onLoad <- function(libname, pkgname) {
  choose_python()
  rlayer <<- reticulate::import("pyimportance.rlayer", delay_load = list(on_error = engine_missing))
}

#' The error of a failed engine import, with what to do about it. reticulate calls
#' `on_error` once and then forgets it: put it back, so every later call says the same.
#' @noRd
engine_missing <- function(error) {
  if (inherits(rlayer, "python.builtin.module") && is.environment(rlayer)) {
    assign("on_error", engine_missing, envir = rlayer)
  }
  stop(pyimportance_condition(paste0(
    "the Python engine of pyimportance could not be loaded (",
    python_error_message(conditionMessage(error)), "); install it with install_pyimportance(), ",
    "or set RETICULATE_PYTHON or PYIMPORTANCE_PYTHON to a Python that has it"
  ), classes = "pyimportance_python_error"))
}

#' The Python interpreter requested through PYIMPORTANCE_PYTHON, honoured
#' only while Python has not started and RETICULATE_PYTHON is unset.
#' @noRd
choose_python <- function() {
  if (reticulate::py_available(initialize = FALSE)) {
    return(invisible(FALSE))
  }
  requested <- Sys.getenv("PYIMPORTANCE_PYTHON", unset = "")
  if (nzchar(requested) && !nzchar(Sys.getenv("RETICULATE_PYTHON", unset = ""))) {
    reticulate::use_python(requested, required = TRUE)
    return(invisible(TRUE))
  }
  if (!nzchar(requested) && !nzchar(Sys.getenv("RETICULATE_PYTHON", unset = "")) &&
      exists("py_require", asNamespace("reticulate"))) {
    # Newer reticulate (>= 1.41) resolves declared requirements itself.
    py_require <- get("py_require", asNamespace("reticulate"))
    try(py_require("pyimportance"), silent = TRUE)
  }
  invisible(FALSE)
}

#' Is the Python engine available?
#'
#' `TRUE` when Python can be started (or is running) and the Python package
#' `pyimportance` with NumPy can be imported. Use it to skip examples and
#' tests: `testthat::skip_if_not(pyimportance_available())`. Calling it starts
#' Python.
#'
#' @return A single logical.
#' @examples
#' pyimportance_available()
#' @export
pyimportance_available <- function() {
  tryCatch(
    reticulate::py_module_available("numpy") &&
      reticulate::py_module_available("pyimportance") &&
      # a folder named pyimportance in the working directory is not the engine
      reticulate::py_has_attr(reticulate::import("pyimportance"), "perturbation_importance"),
    error = function(error) FALSE
  )
}

#' Install the Python engine
#'
#' Installs the Python package `pyimportance` (and, with `keras = TRUE`, the
#' TensorFlow and Keras 3 that Keras models need) into a Python environment
#' with [reticulate::py_install()].
#'
#' @param package What to install: a PyPI name with an optional version
#'   specification (`"pyimportance==0.2.0"`), or a path to a source checkout
#'   or a wheel.
#' @param envname Name of (or path to) the virtualenv or conda environment to
#'   install into; `NULL` uses reticulate's default (`"r-reticulate"`).
#' @param method `"auto"`, `"virtualenv"` or `"conda"`: how to install; see
#'   [reticulate::py_install()].
#' @param keras Also install TensorFlow and Keras 3.
#' @param ... Further arguments for [reticulate::py_install()], e.g.
#'   `pip_options`.
#' @return Whatever [reticulate::py_install()] returns, invisibly.
#' @examples
#' \dontrun{
#' install_pyimportance()
#' install_pyimportance("path/to/pyimportance", envname = "r-pyimportance")
#' }
#' @export
install_pyimportance <- function(package = "pyimportance", envname = NULL,
                                 method = c("auto", "virtualenv", "conda"),
                                 keras = TRUE, ...) {
  method <- match.arg(method)
  if (!is.character(package) || length(package) != 1L || !nzchar(package)) {
    stop("package must be a single PyPI name or path, got ", deparse(package), call. = FALSE)
  }
  if (dir.exists(package) || file.exists(package)) {
    package <- normalizePath(package)
  }
  packages <- c(package, if (isTRUE(keras)) c("tensorflow", "keras>=3"))
  if (utils::packageVersion("reticulate") < "1.36") {
    # reticulate before 1.36 cannot load NumPy 2 ("incompatible NumPy binary version")
    packages <- c(packages, "numpy<2", "pandas<3", "ml_dtypes<0.6")
  }
  invisible(reticulate::py_install(packages, envname = envname, method = method, pip = TRUE, ...))
}
