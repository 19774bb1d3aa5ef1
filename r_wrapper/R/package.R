#' pyimportance: perturbation variable importance for Keras sequence models
#'
#' A thin R interface to the Python package `pyimportance`. The one function,
#' [perturbation_importance()], calls the Python engine through 'reticulate',
#' so R and Python give the same numbers for the same `seed`.
#'
#' Which Python is used: `RETICULATE_PYTHON` when set (reticulate's own rule);
#' otherwise `PYIMPORTANCE_PYTHON` when set (passed to
#' `reticulate::use_python(required = TRUE)` before Python starts); otherwise
#' the virtualenv `"r-pyimportance"` under reticulate's virtualenv root when it
#' exists (what [install_pyimportance()] creates; keras3's `"r-keras"`
#' convention: reticulate itself looks for `"r-<module>"` environments of a
#' lazily imported module, and `.onLoad` also says so with
#' `reticulate::use_virtualenv(required = FALSE)`);
#' otherwise reticulate's usual discovery. Loading this package never starts
#' Python; the first call imports the engine's R layer (`pyimportance.rlayer`,
#' shared with the rpy2 layer), checks that the engine's version is this
#' package's (a warning says how to reinstall it when not) and, when the import
#' fails, says how to install the engine ([install_pyimportance()]).
#'
#' Python already running: another package may have started Python before
#' this one loads (the legacy `library(keras)` does), and R cannot switch
#' Python within a session. The package still loads; when that Python has no
#' engine, [pyimportance_available()] is `FALSE` and a startup message says
#' what to run: [install_pyimportance()] installs the engine into that running
#' Python, keeping its TensorFlow, Keras and NumPy, and the session can use it
#' at once.
#'
#' @keywords internal
"_PACKAGE"

# The engine's R layer (pyimportance.rlayer), imported at its first use (keras3's lazy import): see
# rlayer(). `the$rlayer` holds it once imported.
the <- new.env(parent = emptyenv())

.onLoad <- function(libname, pkgname) {
  choose_python()
  if (!reticulate::py_available(initialize = FALSE)) {
    # Registers the engine with reticulate's discovery of the Python to start (a Python that has
    # it, or the virtualenv "r-pyimportance"); the proxy itself is not used: rlayer() imports. While
    # Python runs, reticulate would import at once, and a Python without the engine would fail
    # library(pyimportance): then nothing is registered.
    reticulate::import("pyimportance.rlayer", delay_load = list(environment = ENVIRONMENT))
  }
  the$rlayer <- NULL
}

.onAttach <- function(libname, pkgname) {
  message <- running_python_message()
  if (!is.null(message)) {
    packageStartupMessage(message)
  }
}

#' The engine's R layer, `pyimportance.rlayer`, imported at the first call (which starts Python
#' when it is not running yet) and then kept; the import checks the engine's version once. A
#' failed import is not kept: after install_pyimportance() into the running Python the next call
#' imports the engine.
#' @noRd
rlayer <- function() {
  if (is.null(the$rlayer)) {
    module <- tryCatch(reticulate::import("pyimportance.rlayer"), error = engine_missing)
    the$rlayer <- module
    check_engine_version()
  }
  the$rlayer
}

#' The startup message when Python was running before this package loaded (started by another
#' package, e.g. the legacy keras) and cannot import the engine; NULL otherwise. Never starts Python.
#' @noRd
running_python_message <- function() {
  if (!reticulate::py_available(initialize = FALSE) || pyimportance_available()) {
    return(NULL)
  }
  python <- reticulate::py_config()$python
  paste0(
    "pyimportance: Python was started before this package (", python, "), and it has no ",
    "pyimportance engine; R cannot switch Python within a session. Run install_pyimportance() to ",
    "install the engine into this Python (its TensorFlow, Keras and NumPy are kept) and use it at once, ",
    "or in a shell: ", shQuote(python), " -m pip install \"pyimportance==",
    utils::packageVersion("pyimportance"), "\""
  )
}

#' The virtualenv install_pyimportance() creates and .onLoad looks for (keras3's "r-keras").
#' @noRd
ENVIRONMENT <- "r-pyimportance"

#' Warn when the engine that was imported is not this package's version: the R package and the
#' engine are released together (one version, `pyimportance.__version__`, which DESCRIPTION repeats).
#' @noRd
check_engine_version <- function() {
  problem <- engine_version_problem(reticulate::import("pyimportance")$`__version__`,
                                    as.character(utils::packageVersion("pyimportance")))
  if (!is.null(problem)) {
    warning(structure(class = c("pyimportance_version_warning", "warning", "condition"),
                      list(message = problem, call = NULL)))
  }
}

#' The message for an engine of another version than the R package, or NULL when they agree.
#' @noRd
engine_version_problem <- function(engine, package) {
  if (identical(engine, package)) {
    return(NULL)
  }
  paste0("the Python engine is pyimportance ", engine, " (", reticulate::py_config()$python,
         "), but this R package is ", package, ": they must be the same version; ",
         "install_pyimportance() installs the engine that came with this R package")
}

#' The error of a failed engine import, with what to do about it.
#' @noRd
engine_missing <- function(error) {
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
      reticulate::virtualenv_exists(ENVIRONMENT)) {
    reticulate::use_virtualenv(ENVIRONMENT, required = FALSE)
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
