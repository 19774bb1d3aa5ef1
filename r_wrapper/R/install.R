# Installing the Python engine (keras3's install_keras() pattern): a named virtualenv, found again
# by .onLoad, filled from the copy of the engine this R package carries.

#' Install the Python engine
#'
#' Installs the Python package `pyimportance` and what it needs with pip,
#' never changing the TensorFlow, Keras and NumPy a Python has: their installed
#' versions are pinned as pip constraints, so the legacy R keras keeps its
#' TensorFlow 2.15 and Keras 2 (the engine works with Keras 2 and 3). With
#' `keras = TRUE`, a Python without TensorFlow also gets TensorFlow and Keras 3;
#' a Python with TensorFlow gets neither.
#'
#' Where it installs:
#'
#' | Situation | Installs into | Then |
#' |---|---|---|
#' | Python not running yet (the usual case) | the virtualenv `"r-pyimportance"` under reticulate's virtualenv root, created unless it exists | restart R: later sessions use it by themselves (unless `RETICULATE_PYTHON` or `PYIMPORTANCE_PYTHON` name another Python) |
#' | Python already running, started by another package (the legacy `library(keras)` does) | that running Python: R cannot switch Python within a session | use pyimportance at once |
#' | `envname` given | that virtualenv (or conda environment) | restart R |
#'
#' A running Python whose packages folder this user cannot write to is refused
#' before pip runs, with the commands to use instead (`pip install --user` in a
#' shell, or a virtualenv of your own).
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
#'   "conda"`, conda environment) to install into; `NULL` (the default): the
#'   running Python when Python is running, else `"r-pyimportance"`.
#' @param method `"virtualenv"` (the default) or `"conda"` (through
#'   [reticulate::py_install()], which pins nothing).
#' @param keras Also install TensorFlow and Keras 3 where the Python has no
#'   TensorFlow.
#' @param python The Python the virtualenv is made from, when it does not exist
#'   yet; `NULL` lets reticulate choose.
#' @param system_site_packages Whether the new virtualenv sees the packages of
#'   the Python it is made from.
#' @param pip_options Further options for `pip install`, e.g. `"--no-deps"`.
#' @return The path of the Python installed into, invisibly.
#' @examples
#' \dontrun{
#' install_pyimportance()
#' install_pyimportance("pyimportance==0.2.0", keras = FALSE)
#' }
#' @export
install_pyimportance <- function(package = NULL, envname = NULL,
                                 method = c("virtualenv", "conda"), keras = TRUE,
                                 python = NULL, system_site_packages = FALSE,
                                 pip_options = character()) {
  method <- match.arg(method)
  source <- engine_source(package)
  if (is.null(envname) && reticulate::py_available(initialize = FALSE)) {
    return(install_into_running_python(source, keras, pip_options))
  }
  envname <- if (is.null(envname)) ENVIRONMENT else envname
  without_library_path({
    if (method == "conda") {
      packages <- c(source, if (isTRUE(keras)) c("tensorflow", "keras>=3"))
      if (utils::packageVersion("reticulate") < "1.36") {
        pip_options <- c(pip_options, "--constraint", shQuote(write_constraints(numpy_1_constraints())))
      }
      reticulate::py_install(packages, envname = envname, method = "conda", pip = TRUE,
                             pip_options = pip_options)
      return(invisible(reticulate::conda_python(envname)))
    }
    if (!reticulate::virtualenv_exists(envname)) {
      # packages = FALSE: no pip upgrade from PyPI, the interpreter's own pip does
      reticulate::virtualenv_create(envname, python = python, packages = FALSE,
                                    system_site_packages = isTRUE(system_site_packages))
    }
    target <- reticulate::virtualenv_python(envname)
    pip_install(target, install_plan(target, source, keras), pip_options)
  })
  message("pyimportance installed in ", envname, "; restart R to use it")
  invisible(target)
}

#' Install into the Python this session runs (R cannot switch Python within a session: another
#' package, e.g. the legacy keras, may have started it), keeping its TensorFlow, Keras and NumPy;
#' the engine is then imported in this session.
#' @noRd
install_into_running_python <- function(source, keras, pip_options) {
  python <- reticulate::py_config()$python
  plan <- without_library_path(install_plan(python, source, keras))
  if (!plan$writable) {
    stop(unwritable_python_message(python, plan$site), call. = FALSE)
  }
  without_library_path(pip_install(python, plan, pip_options))
  # the import system caches folder listings: let it see the new package
  reticulate::import("importlib")$invalidate_caches()
  if (!pyimportance_available()) {
    stop("pip installed pyimportance into the running Python (", python, "), but it cannot be imported ",
         "there; restart R and call library(pyimportance) again", call. = FALSE)
  }
  message("pyimportance installed in the running Python (", python, "), ready to use")
  invisible(python)
}

#' What pip installs into `python` and with which constraints: the engine; TensorFlow and Keras 3
#' where `keras` is TRUE and that Python has none; a Python with TensorFlow, Keras or NumPy keeps
#' the versions it has (pinned as constraints: the legacy R keras needs its TensorFlow 2.15 and
#' Keras 2, and a new NumPy breaks a TensorFlow built for NumPy 1). Also where its packages go
#' (`site`) and whether this user can write there.
#' @noRd
install_plan <- function(python, source, keras) {
  facts <- system2(python, c("-c", shQuote(PYTHON_FACTS)), stdout = TRUE)
  status <- attr(facts, "status")
  if (!is.null(status) || length(facts) < 2L) {
    stop("could not run ", python, " (status ", if (is.null(status)) 0 else status, ")", call. = FALSE)
  }
  site <- facts[1]
  pins <- Filter(nzchar, facts[-(1:2)])
  present <- sub("==.*", "", pins)
  wanted <- c(tensorflow = "tensorflow", keras = "keras>=3")
  extras <- if (isTRUE(keras) && !identical(facts[2], "True")) unname(wanted[!names(wanted) %in% present])
  constraints <- pins
  if (utils::packageVersion("reticulate") < "1.36" && !"numpy" %in% present) {
    # reticulate before 1.36 cannot load NumPy 2 ("incompatible NumPy binary version"): pins
    # as constraints, which limit what is installed but install nothing themselves
    constraints <- c(constraints, numpy_1_constraints())
  }
  list(packages = c(source, extras), constraints = constraints, site = site,
       writable = unname(file.access(site, 2L) == 0L))
}

#' Printed by the target Python: its site-packages folder, whether it can import TensorFlow, and
#' the installed versions of NumPy, Keras and TensorFlow's distributions (tensorflow, tensorflow-cpu,
#' tf-keras, ...), as pip pins.
#' @noRd
PYTHON_FACTS <- paste(
  "import importlib.metadata as m, importlib.util as u, re, sysconfig",
  "print(sysconfig.get_paths()['purelib'])",
  "print(u.find_spec('tensorflow') is not None)",
  "names = {}",
  "for d in m.distributions():",
  "    name = re.sub(r'[-_.]+', '-', (d.metadata['Name'] or '')).lower()",
  "    if name in ('numpy', 'keras', 'tf-keras') or name.startswith('tensorflow'):",
  "        names.setdefault(name, d.version)",
  "print(*(f'{name}=={version}' for name, version in sorted(names.items())), sep='\\n')",
  sep = "\n"
)

#' pip install the plan's packages into `python`, under its constraints.
#' @noRd
pip_install <- function(python, plan, pip_options) {
  constraints <- if (length(plan$constraints)) c("--constraint", shQuote(write_constraints(plan$constraints)))
  arguments <- c("-m", "pip", "install", constraints, pip_options, shQuote(plan$packages))
  status <- system2(python, arguments)
  if (!identical(status, 0L)) {
    stop("pip could not install pyimportance into ", python, " (status ", status, "; its messages ",
         "are above); a Python without pip gets it with: ", shQuote(python), " -m ensurepip",
         call. = FALSE)
  }
  invisible(python)
}

#' What to do when the running Python's packages folder cannot be written to.
#' @noRd
unwritable_python_message <- function(python, site) {
  paste0(
    "install_pyimportance() installs into the running Python (", python, "), whose packages folder ",
    site, " this user cannot write to. Either install the engine for this user, in a shell: ",
    shQuote(python), " -m pip install --user \"pyimportance==", utils::packageVersion("pyimportance"),
    "\" (or ask the owner of that Python to install it without --user), then restart R; or use a ",
    "Python of your own: install_pyimportance(envname = \"", ENVIRONMENT, "\"), then restart R ",
    "and load pyimportance before any package that starts Python"
  )
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

#' The NumPy 1 stack, as pip constraints.
#' @noRd
numpy_1_constraints <- function() {
  c("numpy<2", "pandas<3", "ml_dtypes<0.6")
}

#' A pip constraints file of these lines.
#' @noRd
write_constraints <- function(lines) {
  path <- tempfile("pyimportance-constraints-", fileext = ".txt")
  writeLines(lines, path)
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
