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

test_that("install_pyimportance() without Python running installs in r-pyimportance, and a new R session uses it", {
  skip_if_no_python()
  root <- normalizePath(tempfile("virtualenvs-"), mustWork = FALSE)
  dir.create(root)
  on.exit(unlink(root, recursive = TRUE), add = TRUE)
  test_python <- reticulate::py_config()$python
  site <- reticulate::import("sysconfig")$get_paths()[["purelib"]]
  # reticulate 1.28 reads WORKON_HOME, later versions RETICULATE_VIRTUALENV_ROOT
  roots <- c(WORKON_HOME = root, RETICULATE_VIRTUALENV_ROOT = root)
  # in a new R session, where Python has not started (this one's Python would be installed into)
  installed <- run_r(c(
    "library(pyimportance)",
    sprintf("python <- install_pyimportance(keras = FALSE, python = '%s',", test_python),
    "  pip_options = c('--no-deps', '--no-build-isolation', '--quiet'))",
    "stopifnot(!reticulate::py_available(initialize = FALSE))",
    "cat(python, sep = '\\n')"
  ), c(roots, PYTHONPATH = build_tools(), RETICULATE_PYTHON = "", PYIMPORTANCE_PYTHON = ""))
  expect_null(attr(installed, "status"))
  expect_true("pyimportance installed in r-pyimportance; restart R to use it" %in% installed)
  python <- utils::tail(installed, 1)
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

# Python started before the package (the legacy library(keras) starts its own): library() loads,
# says what to run, checks the engine's version at its first use, and install_pyimportance()
# installs into that running Python, keeping its TensorFlow, Keras and NumPy.

#' A virtualenv without pip and without the engine; with `sees`, a folder whose packages it sees.
new_virtualenv <- function(sees = NULL) {
  root <- tempfile("python-")
  test_python <- reticulate::py_config()$python
  status <- pyimportance:::without_library_path(
    system2(test_python, c("-m", "venv", "--without-pip", shQuote(root)))
  )
  stopifnot(identical(status, 0L))
  python <- file.path(root, "bin", "python")
  if (!is.null(sees)) {
    writeLines(sees, file.path(virtualenv_site(python), "test-environment.pth"))
  }
  python
}

virtualenv_site <- function(python) {
  pyimportance:::without_library_path(system2(
    python, c("-c", shQuote("import sysconfig; print(sysconfig.get_paths()['purelib'])")), stdout = TRUE
  ))
}

#' The test environment's packages (NumPy, TensorFlow, Keras, pip, setuptools, ...) less the engine:
#' a folder of links to its site-packages, without pyimportance and its editable-install hooks.
site_without_engine <- function() {
  site <- reticulate::import("sysconfig")$get_paths()[["purelib"]]
  names <- list.files(site, all.files = TRUE, no.. = TRUE)
  names <- names[!grepl("^(pyimportance|__editable__)", names)]
  folder <- tempfile("site-without-engine-")
  dir.create(folder)
  file.symlink(file.path(site, names), file.path(folder, names))
  folder
}

#' The lines that start an R session on `python`, started before pyimportance is loaded.
python_first <- function(python) {
  c(sprintf("reticulate::use_python('%s', required = TRUE)", python),
    "invisible(reticulate::py_config())",
    "stopifnot(reticulate::py_available(initialize = FALSE))")
}

#' No engine anywhere in the new session (nor a temporary r-pyimportance from an old version).
without_engine <- function(root) {
  c(PYTHONPATH = "", RETICULATE_PYTHON = "", PYIMPORTANCE_PYTHON = "",
    WORKON_HOME = root, RETICULATE_VIRTUALENV_ROOT = root)
}

test_that("library() loads over a running Python without the engine, saying what to run; calls say it again", {
  skip_if_no_python()
  python <- new_virtualenv()
  on.exit(unlink(dirname(dirname(python)), recursive = TRUE), add = TRUE)
  output <- run_r(c(
    python_first(python),
    "library(pyimportance)",
    "cat('available:', pyimportance_available(), '\\n')",
    "error <- tryCatch(perturbation_importance(function(x) x[, 1], matrix(1, 2, 2)), error = identity)",
    "cat(class(error)[1], conditionMessage(error), sep = '\\n')"
  ), without_engine(tempfile()))
  expect_null(attr(output, "status"))
  expect_true(paste0(
    "pyimportance: Python was started before this package (", python, "), and it has no pyimportance ",
    "engine; R cannot switch Python within a session. Run install_pyimportance() to install the engine ",
    "into this Python (its TensorFlow, Keras and NumPy are kept) and use it at once, or in a shell: '",
    python, "' -m pip install \"pyimportance==", utils::packageVersion("pyimportance"), "\"") %in% output)
  expect_true("available: FALSE " %in% output)
  expect_identical(utils::tail(output, 2), c(
    "pyimportance_python_error",
    paste("the Python engine of pyimportance could not be loaded (ModuleNotFoundError: No module named",
          "'pyimportance'); install it with install_pyimportance(), or set RETICULATE_PYTHON or",
          "PYIMPORTANCE_PYTHON to a Python that has it")))
})

test_that("over a running Python with the engine, library() is silent and the first call checks its version", {
  skip_if_no_python()
  output <- run_r(c(
    python_first(reticulate::py_config()$python),
    "reticulate::py_set_attr(reticulate::import('pyimportance'), '__version__', '0.0.1')",
    "library(pyimportance)",
    "seen <- character()",
    "x <- matrix(rnorm(100), ncol = 2)",
    "for (i in 1:2) withCallingHandlers(perturbation_importance(function(x) x[, 1], x, seed = 1, n_repeats = 2),",
    "  pyimportance_version_warning = function(w) { seen <<- c(seen, conditionMessage(w)); invokeRestart('muffleWarning') })",
    "cat('warnings:', length(seen), '\\n')",
    "cat(seen, sep = '\\n')"
  ))
  expect_null(attr(output, "status"))
  expect_false(any(grepl("started before this package", output)))
  expect_identical(utils::tail(output, 2), c("warnings: 1 ", paste0(
    "the Python engine is pyimportance 0.0.1 (", reticulate::py_config()$python, "), but this R package is ",
    as.character(utils::packageVersion("pyimportance")), ": they must be the same version; ",
    "install_pyimportance() installs the engine that came with this R package")))
})

test_that("install_pyimportance() asks for no TensorFlow or Keras where TensorFlow is, and pins what is there", {
  skip_if_no_python()
  metadata <- reticulate::import("importlib.metadata")
  distributions <- metadata$packages_distributions()
  skip_if_not("tensorflow" %in% names(distributions), "the test environment has no TensorFlow")
  numpy_version <- reticulate::import("numpy")$`__version__`
  tensorflow_distribution <- gsub("[-_.]+", "-", tolower(distributions[["tensorflow"]][[1]]))
  plan <- pyimportance:::install_plan(reticulate::py_config()$python, "engine", keras = TRUE)
  expect_identical(plan$packages, "engine")
  expect_true(all(c(paste0("numpy==", numpy_version), paste0("keras==", metadata$version("keras")),
                    paste0(tensorflow_distribution, "==", metadata$version(tensorflow_distribution)))
                  %in% plan$constraints))
  expect_false(any(grepl("[<>]", plan$constraints)))
  # a Python without TensorFlow gets TensorFlow and Keras 3 with keras = TRUE, nothing with FALSE
  python <- new_virtualenv()
  on.exit(unlink(dirname(dirname(python)), recursive = TRUE), add = TRUE)
  expect_identical(pyimportance:::install_plan(python, "engine", keras = TRUE)$packages,
                   c("engine", "tensorflow", "keras>=3"))
  expect_identical(pyimportance:::install_plan(python, "engine", keras = FALSE)$packages, "engine")
})

test_that("install_pyimportance() installs into the running Python, adding only the engine, and the session uses it", {
  skip_if_no_python()
  python <- new_virtualenv(sees = site_without_engine())
  on.exit(unlink(dirname(dirname(python)), recursive = TRUE), add = TRUE)
  site <- virtualenv_site(python)
  before <- list.files(site, all.files = TRUE, no.. = TRUE)
  # the versions of the distributions that hold numpy, keras and tensorflow (tensorflow-cpu, ...)
  versions <- paste0("reticulate::py_run_string(\"import importlib.metadata as m; d = m.packages_distributions(); ",
                     "print(*(m.version(d[name][0]) if name in d else 'none' for name in ('numpy', 'keras', 'tensorflow')))\")")
  output <- run_r(c(
    python_first(python),
    "library(pyimportance)",
    "cat('available:', pyimportance_available(), '\\n')",
    versions,
    # offline: the engine's dependencies are those the Python has, and nothing is downloaded
    "installed <- install_pyimportance(pip_options = c('--no-index', '--no-build-isolation', '--quiet'))",
    "cat('available:', pyimportance_available(), '\\n')",
    versions,
    "x <- matrix(rnorm(200), ncol = 2, dimnames = list(NULL, c('a', 'b')))",
    "result <- perturbation_importance(function(x) 3 * x[, 2], x, seed = 1, n_repeats = 2)",
    "cat(installed, reticulate::import('pyimportance')$`__file__`, result$feature[1], sep = '\\n')"
  ), without_engine(tempfile()))
  expect_null(attr(output, "status"))
  expect_identical(grep("^available:", output, value = TRUE), c("available: FALSE ", "available: TRUE "))
  expect_true(paste0("pyimportance installed in the running Python (", python, "), ready to use") %in% output)
  # TensorFlow, Keras and NumPy as they were (the line after each availability line)
  lines <- output[grep("^available:", output) + 1L]
  expect_identical(lines[1], lines[2])
  expect_false(grepl("none", lines[1]))
  expect_identical(utils::tail(output, 3)[c(1, 3)], c(python, "b"))
  expect_true(startsWith(utils::tail(output, 2)[1], site))
  # nothing but the engine was added to that Python
  added <- setdiff(list.files(site, all.files = TRUE, no.. = TRUE), before)
  expect_setequal(added, c("pyimportance", paste0("pyimportance-", utils::packageVersion("pyimportance"), ".dist-info")))
})

test_that("install_pyimportance() into a running Python this user cannot write to says what to do instead", {
  skip_if_no_python()
  python <- new_virtualenv()
  on.exit(unlink(dirname(dirname(python)), recursive = TRUE), add = TRUE)
  output <- run_r(c(
    python_first(python),
    "suppressPackageStartupMessages(library(pyimportance))",
    # as if this user could not write there (tests may run as root, who can write anywhere)
    "plan <- pyimportance:::install_plan",
    "assignInNamespace('install_plan', function(...) { p <- plan(...); p$writable <- FALSE; p }, 'pyimportance')",
    "error <- tryCatch(install_pyimportance(), error = identity)",
    "cat(conditionMessage(error), sep = '\\n')"
  ), without_engine(tempfile()))
  site <- virtualenv_site(python)
  expect_identical(utils::tail(output, 1), paste0(
    "install_pyimportance() installs into the running Python (", python, "), whose packages folder ", site,
    " this user cannot write to. Either install the engine for this user, in a shell: '", python,
    "' -m pip install --user \"pyimportance==", utils::packageVersion("pyimportance"), "\" (or ask the owner ",
    "of that Python to install it without --user), then restart R; or use a Python of your own: ",
    "install_pyimportance(envname = \"r-pyimportance\"), then restart R and load pyimportance before any ",
    "package that starts Python"))
  expect_identical(list.files(site, all.files = TRUE, no.. = TRUE), character())
})
