# Python exceptions as R errors that carry the engine's message, not a traceback.

#' The "ExceptionType: message" lines of a reticulate error message.
#'
#' reticulate 1.28 gives "ValueError: message" (older versions append a
#' "Detailed traceback:" block); newer versions add the traceback and a
#' "Run `reticulate::py_last_error()` for details." line. Only the exception
#' line(s) are kept.
#' @noRd
python_error_message <- function(message) {
  lines <- strsplit(message, "\n", fixed = TRUE)[[1]]
  lines <- lines[!grepl("reticulate::py_last_error()", lines, fixed = TRUE)]
  detailed <- grep("^Detailed traceback:", lines)
  if (length(detailed)) {
    lines <- lines[seq_len(detailed[1] - 1L)]
  }
  traceback <- grep("^Traceback \\(most recent call last\\)", lines)
  if (length(traceback)) {
    before <- lines[seq_len(traceback[1] - 1L)]
    frames <- grep("^\\s", lines)
    after <- lines[-seq_len(max(c(traceback[1], frames[frames > traceback[1]])))]
    lines <- if (any(nzchar(trimws(before)))) before else after
  }
  lines <- sub("\\s+$", "", lines)
  paste(lines[nzchar(lines)], collapse = "\n")
}

#' Evaluate `expr`; a Python exception becomes an R error of class
#' `pyimportance_error` whose message is the engine's "Type: message" line.
#' @noRd
with_python_errors <- function(expr, call) {
  tryCatch(expr, error = function(error) {
    if (inherits(error, "pyimportance_error")) {
      stop(error)
    }
    message <- python_error_message(conditionMessage(error))
    if (!nzchar(message)) {
      message <- conditionMessage(error)
    }
    if (startsWith(message, "KeyboardInterrupt")) {
      resignal_interrupt()
    }
    python_type <- regmatches(message, regexpr("^[A-Za-z_][A-Za-z0-9_.]*(Error|Exception|Warning)(?=: )", message, perl = TRUE))
    stop(structure(
      class = c("pyimportance_error", "error", "condition"),
      list(message = message, call = call,
           python_type = if (length(python_type)) python_type else NA_character_)
    ))
  })
}

#' An R-side argument error, in the engine's style (argument, expectation, value).
#' @noRd
argument_error <- function(message, call = NULL) {
  stop(structure(
    class = c("pyimportance_error", "error", "condition"),
    list(message = message, call = call, python_type = NA_character_)
  ))
}

#' Ctrl-C inside an R callback comes back from Python as KeyboardInterrupt
#' (reticulate reports it as an error): signal it as the R interrupt it was,
#' so `tryCatch(interrupt = )` handlers see it, and otherwise return to the
#' top level quietly, as an interrupt does.
#' @noRd
resignal_interrupt <- function() {
  signalCondition(structure(class = c("interrupt", "condition"), list(message = "", call = NULL)))
  invokeRestart("abort")
}
