# Render every vignette in vignettes/ and the R Markdown report template of the R package to
# self-contained HTML in out/vignettes/, and fail (exit status 1) when a render fails or a
# document has fewer embedded figures than expected.
#
#   Rscript scripts/render_vignettes.R [output_dir]
#
# Each document is rendered in its own R process, so one document's Python state (models,
# random seeds) cannot leak into another. The template is drafted into a temporary directory
# with rmarkdown::draft() and rendered against a tiny saved Keras model and .npy data that
# this script creates there. Run it through `make render`, which installs the R package into
# .rlib and exports RETICULATE_PYTHON and R_LIBS.

# Minimum number of embedded PNG figures per document; other vignettes need at least one.
expected_figures <- c(
  "lstm-importance" = 11L,
  "python-and-r" = 2L,
  "importance-report" = 3L
)

script_path <- function() {
  file_argument <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  normalizePath(sub("^--file=", "", file_argument[1]))
}

repo_root <- normalizePath(file.path(dirname(script_path()), ".."))

# Defaults for running the script by hand: the project's Python environment.
if (!nzchar(Sys.getenv("RETICULATE_PYTHON"))) {
  venv_python <- file.path(repo_root, ".venv", "bin", "python")
  if (file.exists(venv_python)) Sys.setenv(RETICULATE_PYTHON = venv_python)
}
if (!nzchar(Sys.getenv("TF_CPP_MIN_LOG_LEVEL"))) Sys.setenv(TF_CPP_MIN_LOG_LEVEL = "3")
if (!nzchar(Sys.getenv("MPLBACKEND"))) Sys.setenv(MPLBACKEND = "Agg")

#' Run R code in a fresh Rscript process; TRUE when it exits with status 0.
run_in_child <- function(code, log_file) {
  code_file <- tempfile(fileext = ".R")
  writeLines(code, code_file)
  status <- system2(file.path(R.home("bin"), "Rscript"), c("--vanilla", shQuote(code_file)),
                    stdout = log_file, stderr = log_file)
  identical(as.integer(status), 0L)
}

#' Render one .Rmd to HTML in output_dir (in a child process); returns TRUE on success.
render_document <- function(input, output_dir, params = NULL, log_file) {
  work_dir <- tempfile("render-")
  dir.create(work_dir)
  # Knit a copy inside the work directory: reticulate's Python engine writes figures relative
  # to the document, and figure paths that climb out of it ("../out/...") break pandoc.
  file.copy(input, work_dir)
  input <- file.path(work_dir, basename(input))
  code <- sprintf(
    "rmarkdown::render(%s, output_dir = %s, intermediates_dir = %s, params = %s, envir = new.env(), quiet = TRUE)",
    deparse1(input), deparse1(output_dir), deparse1(work_dir),
    if (is.null(params)) "NULL" else deparse1(params)
  )
  run_in_child(code, log_file)
}

#' A tiny saved Keras LSTM and its data in `directory`, for the template.
make_template_inputs <- function(directory, log_file) {
  code <- sprintf('
    np <- reticulate::import("numpy")
    keras <- reticulate::import("keras")
    keras$utils$set_random_seed(3L)
    rng <- np$random$default_rng(3L)
    x <- rng$normal(size = c(200L, 8L, 3L))
    y <- 1.5 * x[, 8, 1] + 0.5 * x[, 6, 2] + 0.1 * rng$normal(size = 200L)
    model <- keras$Sequential(list(keras$Input(shape = c(8L, 3L)), keras$layers$LSTM(8L),
                                   keras$layers$Dense(1L)))
    model$compile(optimizer = keras$optimizers$Adam(0.02), loss = "mse")
    model$fit(x, matrix(y, ncol = 1), epochs = 5L, batch_size = 32L, verbose = 0L)
    model$save(file.path(%1$s, "model.keras"))
    np$save(file.path(%1$s, "x.npy"), np$asarray(x, dtype = "float64"))
    np$save(file.path(%1$s, "y.npy"), np$asarray(y, dtype = "float64"))
  ', deparse1(directory))
  run_in_child(code, log_file)
}

#' Embedded base64 PNG figures in an HTML file.
count_figures <- function(html_file) {
  html <- paste(readLines(html_file, warn = FALSE), collapse = "\n")
  matches <- gregexpr("<img src=\"data:image/png;base64,", html, fixed = TRUE)[[1]]
  if (matches[1] == -1L) 0L else length(matches)
}

main <- function(arguments) {
  output_dir <- if (length(arguments)) arguments[1] else file.path(repo_root, "out", "vignettes")
  dir.create(output_dir, recursive = TRUE, showWarnings = FALSE)
  output_dir <- normalizePath(output_dir)
  log_dir <- file.path(output_dir, "logs")
  dir.create(log_dir, showWarnings = FALSE)

  jobs <- lapply(sort(list.files(file.path(repo_root, "vignettes"), "\\.Rmd$", full.names = TRUE)),
                 function(input) list(name = tools::file_path_sans_ext(basename(input)), input = input))

  template_dir <- tempfile("importance-report-")
  dir.create(template_dir)
  template_log <- file.path(log_dir, "importance-report.log")
  drafted <- tryCatch({
    report <- rmarkdown::draft(file.path(template_dir, "importance-report.Rmd"),
                               template = "importance-report", package = "pyimportance", edit = FALSE)
    make_template_inputs(template_dir, template_log) && file.exists(report)
  }, error = function(error) {
    cat("Drafting the template failed: ", conditionMessage(error), "\n", sep = "", file = template_log)
    FALSE
  })
  jobs[[length(jobs) + 1L]] <- list(
    name = "importance-report", input = file.path(template_dir, "importance-report.Rmd"),
    params = list(model_path = file.path(template_dir, "model.keras"),
                  data_path = file.path(template_dir, "x.npy"), y_path = file.path(template_dir, "y.npy"),
                  method = "permute", n_repeats = 5L, seed = 1L, by = "feature"),
    ready = drafted
  )

  passed <- 0L
  failed <- 0L
  for (job in jobs) {
    log_file <- file.path(log_dir, paste0(job$name, ".log"))
    html_file <- file.path(output_dir, paste0(job$name, ".html"))
    unlink(html_file)
    started <- Sys.time()
    rendered <- !identical(job$ready, FALSE) &&
      render_document(job$input, output_dir, job$params, log_file) && file.exists(html_file)
    seconds <- as.numeric(difftime(Sys.time(), started, units = "secs"))
    figures <- if (rendered) count_figures(html_file) else 0L
    wanted <- if (job$name %in% names(expected_figures)) expected_figures[[job$name]] else 1L
    ok <- rendered && figures >= wanted
    problem <- if (!rendered) {
      paste0("render failed, see ", log_file)
    } else if (!ok) {
      sprintf("%d figures, expected at least %d", figures, wanted)
    } else {
      sprintf("%d figures", figures)
    }
    cat(sprintf("%-4s %-20s %6.1f s  %s\n", if (ok) "ok" else "FAIL", job$name, seconds, problem))
    if (!rendered && file.exists(log_file)) {
      cat(utils::tail(readLines(log_file, warn = FALSE), 15), sep = "\n")
    }
    if (ok) passed <- passed + 1L else failed <- failed + 1L
  }
  unlink(template_dir, recursive = TRUE)
  cat(sprintf("HTML in %s\n", output_dir))
  cat(sprintf("Vignettes: %d passed, %d failed\n", passed, failed))
  if (failed > 0L) quit(status = 1L)
}

main(commandArgs(trailingOnly = TRUE))
