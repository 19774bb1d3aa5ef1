# Engine errors as R conditions. The engine's errors arrive from pyimportance.rlayer already in
# R's terms, with their condition classes; what is left here is signalling them, interrupts,
# and the odd Python error that reaches R directly (reticulate's "Type: message" text).

#' Signal an RCondition from rlayer as an R error of its classes (all inherit
#' `pyimportance_error`).
#' @noRd
stop_engine_error <- function(condition, call) {
  classes <- as.character(unlist(condition$classes))
  stop(pyimportance_condition(condition$message, classes, call, condition$python_type))
}

pyimportance_condition <- function(message, classes = "pyimportance_error", call = NULL,
                                   python_type = NULL) {
  structure(
    class = unique(c(classes, "pyimportance_error", "error", "condition")),
    list(message = message, call = call,
         python_type = if (is.null(python_type)) NA_character_ else python_type)
  )
}

#' Evaluate `expr`; a Python exception that reaches R directly becomes a `pyimportance_error`
#' with the exception's own line, and a KeyboardInterrupt the R interrupt it was.
#' @noRd
with_python_errors <- function(expr, call) {
  tryCatch(expr, error = function(error) {
    if (inherits(error, "pyimportance_error")) {
      stop(error)
    }
    message <- python_error_message(conditionMessage(error))
    if (startsWith(message, "KeyboardInterrupt")) {
      resignal_interrupt()
    }
    stop(pyimportance_condition(sub("^[A-Za-z_][A-Za-z0-9_.]*\\.(?=[A-Za-z_]+: )", "", message, perl = TRUE),
                                call = call))
  })
}

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
  lines <- paste(lines[nzchar(lines)], collapse = "\n")
  if (nzchar(lines)) lines else message
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
