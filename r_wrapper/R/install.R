# Installing the Python engine (keras3's install_keras() pattern): a named virtualenv, found again
# by .onLoad, filled from the copy of the engine this R package carries.

#' Install the Python engine
#'
#' Creates the virtualenv `envname` (`"r-pyimportance"`) under reticulate's
#' virtualenv root, unless it exists, and installs the Python package
#' `pyimportance` into it with pip (and, with `keras = TRUE`, the TensorFlow
#' and Keras 3 that Keras models need). The next R session that loads this
#' package uses that environment by itself, without any environment variable
#' (unless `RETICULATE_PYTHON` or `PYIMPORTANCE_PYTHON` name another Python);
#' restart R after installing.
#'
#' Where the engine comes from: by default, the copy inside this R package
#' (`system.file("python", "engine", package = "pyimportance")`), so an R user
#' with only the R package gets the engine of the same version. That copy is
#' the engine's source, taken from the repository when the package is installed
#' from its folder (`R CMD INSTALL r_wrapper`: the package's `configure` script
#' copies `pyproject.toml`, `README.md` and `pyimportance/` from the folder
#' above), and kept in the tarball `R CMD build` makes from that folder; it is
#' not committed twice. pip builds it from a temporary copy (its build backend,
#' setuptools, comes from PyPI unless `pip_options` says
#' `--no-build-isolation`). `package = "pyimportance"` (or
#' `"pyimportance==0.2.0"`) asks PyPI instead; a path installs a source
#' checkout or a wheel.
#'
#' pip runs without `LD_LIBRARY_PATH`: R puts its own and the system's library
#' folders there, ahead of a Python's own, and a Python built with a shared
#' `libpython` (pyenv) then loads the system's `libpython` and cannot import
#' `ssl` (`undefined symbol: _PyModule_Add`). Python finds its libraries
#' through its own run path.
#'
#' @param package What to install: `NULL` (the default) for the engine inside
#'   this R package; a PyPI name with an optional version specification
#'   (`"pyimportance"`, `"pyimportance==0.2.0"`); or a path to a source
#'   checkout or a wheel.
#' @param envname Name of (or path to) the virtualenv (or, with `method =
#'   "conda"`, conda environment) to install into.
#' @param method `"virtualenv"` (the default) or `"conda"` (through
#'   [reticulate::py_install()]).
#' @param keras Also install TensorFlow and Keras 3.
#' @param python The Python the virtualenv is made from, when it does not exist
#'   yet; `NULL` lets reticulate choose.
#' @param system_site_packages Whether the new virtualenv sees the packages of
#'   the Python it is made from.
#' @param pip_options Further options for `pip install`, e.g. `"--no-deps"`.
#' @return The path of the environment's Python, invisibly.
#' @examples
#' \dontrun{
#' install_pyimportance()
#' install_pyimportance("pyimportance==0.2.0", keras = FALSE)
#' }
#' @export
install_pyimportance <- function(package = NULL, envname = ENVIRONMENT,
                                 method = c("virtualenv", "conda"), keras = TRUE,
                                 python = NULL, system_site_packages = FALSE,
                                 pip_options = character()) {
  method <- match.arg(method)
  source <- engine_source(package)
  packages <- c(source, if (isTRUE(keras)) c("tensorflow", "keras>=3"))
  if (utils::packageVersion("reticulate") < "1.36") {
    # reticulate before 1.36 cannot load NumPy 2 ("incompatible NumPy binary version"): pins
    # as constraints, which limit what is installed but install nothing themselves
    pip_options <- c(pip_options, "--constraint", shQuote(numpy_1_constraints()))
  }
  without_library_path({
    if (method == "conda") {
      reticulate::py_install(packages, envname = envname, method = "conda", pip = TRUE,
                             pip_options = pip_options)
      return(invisible(reticulate::conda_python(envname)))
    }
    if (!reticulate::virtualenv_exists(envname)) {
      # packages = FALSE: no pip upgrade from PyPI, the interpreter's own pip does
      reticulate::virtualenv_create(envname, python = python, packages = FALSE,
                                    system_site_packages = isTRUE(system_site_packages))
    }
    reticulate::virtualenv_install(envname, packages, pip_options = pip_options)
  })
  message("pyimportance installed in ", envname, "; restart R to use it")
  invisible(reticulate::virtualenv_python(envname))
}

#' What pip installs: a temporary copy of the engine inside this package (pip builds in the
#' source folder, and the R library may be read-only), or the caller's name or path.
#' @noRd
engine_source <- function(package) {
  if (!is.null(package)) {
    if (!is.character(package) || length(package) != 1L || is.na(package) || !nzchar(package)) {
      stop("package must be NULL (the engine inside this R package), a single PyPI name or a path, got ",
           deparse(package), call. = FALSE)
    }
    return(if (file.exists(package)) normalizePath(package) else package)
  }
  bundled <- system.file("python", "engine", package = "pyimportance")
  if (!nzchar(bundled)) {
    stop("this installation of the R package carries no copy of the Python engine (it was installed ",
         "from a folder outside the pyimportance repository): install_pyimportance(\"pyimportance\") ",
         "asks PyPI, install_pyimportance(\"<path to the repository>\") installs a checkout", call. = FALSE)
  }
  copy <- tempfile("pyimportance-engine-")
  dir.create(copy)
  file.copy(list.files(bundled, full.names = TRUE, all.files = TRUE, no.. = TRUE), copy, recursive = TRUE)
  normalizePath(copy)
}

#' A pip constraints file pinning the NumPy 1 stack.
#' @noRd
numpy_1_constraints <- function() {
  path <- tempfile("pyimportance-constraints-", fileext = ".txt")
  writeLines(c("numpy<2", "pandas<3", "ml_dtypes<0.6"), path)
  path
}

#' Evaluate `code` with LD_LIBRARY_PATH unset (restored afterwards): the Pythons and pips it
#' starts load their own libpython, not the system's one R's folders would put first.
#' @noRd
without_library_path <- function(code) {
  old <- Sys.getenv("LD_LIBRARY_PATH", unset = NA)
  if (!is.na(old)) {
    Sys.unsetenv("LD_LIBRARY_PATH")
    on.exit(Sys.setenv(LD_LIBRARY_PATH = old), add = TRUE)
  }
  force(code)
}
