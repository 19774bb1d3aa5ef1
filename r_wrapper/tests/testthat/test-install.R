# install_pyimportance() from the engine inside the R package, into a fresh virtualenv root, and
# a fresh R session (no RETICULATE_PYTHON, no PYIMPORTANCE_PYTHON) that finds that environment.

#' A folder holding only the test environment's setuptools, for pip's --no-build-isolation
#' builds: nothing is downloaded, and the test environment's own pyimportance stays out of sight.
build_tools <- function() {
  site <- reticulate::import("sysconfig")$get_paths()[["purelib"]]
  tools <- tempfile("build-tools-")
  dir.create(tools)
  # setuptools, wheel (whose bdist_wheel is found through its entry points) and what they import
  names <- list.files(site, pattern = "^(setuptools|pkg_resources|_distutils_hack|wheel|packaging)([-.]|$)")
  file.symlink(file.path(site, names), file.path(tools, names))
  tools
}

test_that("pip's Pythons run without LD_LIBRARY_PATH, which is restored afterwards", {
  skip_if_no_python()
  python <- reticulate::py_config()$python
  withr_env(c(LD_LIBRARY_PATH = paste(file.path(R.home(), "lib"), "/usr/lib/x86_64-linux-gnu", sep = ":")), {
    seen <- pyimportance:::without_library_path(system2(
      python, c("-c", shQuote("import os, ssl; print(os.environ.get('LD_LIBRARY_PATH'))")), stdout = TRUE
    ))
    expect_identical(seen, "None")
    expect_identical(Sys.getenv("LD_LIBRARY_PATH"), paste(file.path(R.home(), "lib"), "/usr/lib/x86_64-linux-gnu", sep = ":"))
  })
})

test_that("the R package carries the engine of its own version", {
  bundled <- system.file("python", "engine", package = "pyimportance")
  expect_true(file.exists(file.path(bundled, "pyproject.toml")))
  init <- readLines(file.path(bundled, "pyimportance", "__init__.py"))
  expect_identical(sub('^__version__ = "(.*)"$', "\\1", grep("^__version__ = ", init, value = TRUE)),
                   as.character(utils::packageVersion("pyimportance")))
})

#' Run R code in a new R process (this one has loaded the engine already); its output lines.
run_r <- function(lines, variables = character()) {
  script <- tempfile(fileext = ".R")
  writeLines(c("setwd(tempdir())", lines), script)
  withr_env(variables, {
    suppressWarnings(system2(file.path(R.home("bin"), "Rscript"), shQuote(script), stdout = TRUE, stderr = TRUE))
  })
}

test_that("loading an engine of another version warns once, naming the fix, and the call goes on", {
  skip_if_no_python()
  output <- run_r(c(
    "library(pyimportance)",
    "reticulate::py_set_attr(reticulate::import('pyimportance'), '__version__', '0.0.1')",
    "x <- matrix(rnorm(100), ncol = 2)",
    "seen <- character()",
    "result <- withCallingHandlers(perturbation_importance(function(x) x[, 1], x, seed = 1, n_repeats = 2),",
    "  pyimportance_version_warning = function(w) { seen <<- c(seen, conditionMessage(w)); invokeRestart('muffleWarning') })",
    "perturbation_importance(function(x) x[, 1], x, seed = 1, n_repeats = 2)",
    "cat(seen, nrow(result), sep = '\\n')"
  ))
  expect_null(attr(output, "status"))
  expect_identical(tail(output, 2), c(paste0(
    "the Python engine is pyimportance 0.0.1 (", reticulate::py_config()$python, "), but this R package is ",
    as.character(utils::packageVersion("pyimportance")), ": they must be the same version; ",
    "install_pyimportance() installs the engine that came with this R package"), "2"))
  expect_false(any(grepl("Warning", output)))  # the second call does not warn again
  expect_null(pyimportance:::engine_version_problem("0.2.0", "0.2.0"))
})

test_that("install_pyimportance() installs the bundled engine in r-pyimportance, and a new R session uses it", {
  skip_if_no_python()
  root <- normalizePath(tempfile("virtualenvs-"), mustWork = FALSE)
  dir.create(root)
  on.exit(unlink(root, recursive = TRUE), add = TRUE)
  test_python <- reticulate::py_config()$python
  site <- reticulate::import("sysconfig")$get_paths()[["purelib"]]
  # reticulate 1.28 reads WORKON_HOME, later versions RETICULATE_VIRTUALENV_ROOT
  roots <- c(WORKON_HOME = root, RETICULATE_VIRTUALENV_ROOT = root)
  withr_env(c(roots, PYTHONPATH = build_tools()), {
    python <- suppressMessages(install_pyimportance(
      keras = FALSE, python = test_python, pip_options = c("--no-deps", "--no-build-isolation", "--quiet")
    ))
  })
  expect_identical(normalizePath(dirname(dirname(python))), file.path(root, "r-pyimportance"))
  # --no-deps: the new environment borrows NumPy, pandas, ... from the test environment
  env_site <- system2(python, c("-c", shQuote("import sysconfig; print(sysconfig.get_paths()['purelib'])")),
                      stdout = TRUE)
  writeLines(site, file.path(env_site, "test-environment.pth"))

  output <- run_r(c(
    "library(pyimportance)",
    "stopifnot(pyimportance_available())",
    "x <- matrix(rnorm(200), ncol = 2, dimnames = list(NULL, c('a', 'b')))",
    "result <- perturbation_importance(function(x) 3 * x[, 2], x, seed = 1, n_repeats = 2)",
    "cat(reticulate::py_config()$python, reticulate::import('pyimportance')$`__file__`, result$feature[1], sep = '\\n')"
  ), c(roots, RETICULATE_PYTHON = "", PYIMPORTANCE_PYTHON = "", PYTHONPATH = ""))
  expect_null(attr(output, "status"))
  expect_identical(normalizePath(output[1]), normalizePath(python))
  expect_true(startsWith(normalizePath(output[2]), normalizePath(env_site)))
  expect_identical(output[3], "b")
  expect_false(any(grepl("Warning", output)))
})
