# Run the installed R package's testthat tests (r_wrapper/tests/testthat).
#
#   R CMD INSTALL --no-test-load --library=.rlib r_wrapper
#   R_LIBS=.rlib RETICULATE_PYTHON=.venv/bin/python Rscript scripts/run_r_tests.R
#
# Exits non-zero on any failure or error, and, when CI=true, on any skip (CI has
# Python, so every test must run). The last line is always
# "R tests: N passed, N failed, N skipped" (counts of expectations, as testthat counts).

script_path <- function() {
  file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(file_arg)) normalizePath(sub("^--file=", "", file_arg[1])) else normalizePath("scripts/run_r_tests.R")
}

repo_root <- dirname(dirname(script_path()))
test_path <- file.path(repo_root, "r_wrapper", "tests", "testthat")
in_ci <- tolower(Sys.getenv("CI", "false")) %in% c("true", "1", "yes")

suppressPackageStartupMessages(library(testthat))
results <- testthat::test_dir(
  test_path,
  package = "pyimportance",
  load_package = "installed",
  reporter = testthat::ProgressReporter$new(show_praise = FALSE),
  stop_on_failure = FALSE,
  stop_on_warning = FALSE
)

summary <- as.data.frame(results)
passed <- sum(summary$passed)
failed <- sum(summary$failed) + sum(summary$error)
skipped <- sum(summary$skipped)
if (in_ci && skipped > 0) {
  cat("\nCI=true: skipped R tests count as failures (CI has Python, so every test must run)\n")
}
cat(sprintf("R tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped))
quit(status = if (failed > 0 || (in_ci && skipped > 0)) 1L else 0L, save = "no")
