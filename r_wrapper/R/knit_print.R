# How a result prints inside an R Markdown / knitr document: a formatted table
# with a caption saying what was measured, instead of the console print.

#' Print an importance result as a table in R Markdown
#'
#' When a `pyimportance_result` is the value of a chunk in a knitr / R Markdown
#' document, it is shown as a Markdown [knitr::kable()] table (the result's
#' columns: feature, time step when there is one, importance, sd, the 95%
#' interval, p-values), each column in one number format, with a caption that
#' summarises the run (the header `print()` shows: unit, method, loss, repeats,
#' rows, baseline score, interval and stopping rule). Each output format styles it as its own tables. In the console the
#' usual `print()` method is used.
#'
#' @param x A `pyimportance_result` from [perturbation_importance()].
#' @param options The chunk options knitr passes (unused).
#' @param ... Further arguments: `max_rows` (default
#'   `getOption("pyimportance.knit_max_rows", 20)`), the number of rows shown
#'   (the most important ones; a note says how many were left out), and
#'   `digits` (default 4): significant digits of each column's largest value;
#'   the other values of the column get as many decimals.
#' @return A `knit_asis` object, as knitr's `knit_print()` methods do.
#' @examples
#' \dontrun{
#' # In a chunk of an R Markdown document:
#' result <- perturbation_importance(model, x, y, method = "permute", n_repeats = 10, seed = 1)
#' result   # printed as a captioned table
#' }
#' @exportS3Method knitr::knit_print
knit_print.pyimportance_result <- function(x, options = NULL, ...) {
  arguments <- list(...)
  max_rows <- arguments$max_rows %or% getOption("pyimportance.knit_max_rows", 20L)
  digits <- arguments$digits %or% 4L
  table <- importance_table(x)
  n_rows <- nrow(table)
  shown <- formatted_table(utils::head(table, max_rows), digits = digits)
  caption <- importance_caption(x)
  if (n_rows > nrow(shown)) {
    caption <- paste0(caption, " Showing the ", nrow(shown), " most important of ", n_rows, " units.")
  }
  # A Markdown table: each output format (html_document, html_vignette, PDF, Word) styles it
  # as its own tables, with cell padding; raw HTML would get none in html_document.
  formatted <- knitr::kable(shown, format = "pipe", caption = caption, row.names = FALSE,
                            align = ifelse(vapply(table, is.numeric, logical(1)), "r", "l"))
  knitr::asis_output(paste0("\n\n", header_alignment_style(), paste(formatted, collapse = "\n"), "\n\n"))
}

# The documents that already have the style below.
styled_documents <- new.env(parent = emptyenv())

#' Pandoc marks right-aligned columns with `align="right"`, which Bootstrap's `th` rule
#' (html_document) overrides: the numbers' headings would sit to their left. One style rule
#' per HTML document restores them; other formats need nothing.
#' @noRd
header_alignment_style <- function() {
  document <- knitr::current_input() %or% ""
  if (!knitr::is_html_output() || isTRUE(styled_documents[[document]])) {
    return("")
  }
  assign(document, TRUE, envir = styled_documents)
  "<style>th[align=\"right\"] { text-align: right; }</style>\n\n"
}

#' The result's columns in display order, sorted by decreasing importance,
#' without attributes or class.
#' @noRd
importance_table <- function(x) {
  table <- as.data.frame(x)
  table <- table[order(-table$importance, seq_len(nrow(table))), , drop = FALSE]
  rownames(table) <- NULL
  names(table)[names(table) == "timestep"] <- "time step"
  names(table)[names(table) == "std"] <- "sd"
  names(table)[names(table) == "ci_low"] <- paste(level_text(x), "low")
  names(table)[names(table) == "ci_high"] <- paste(level_text(x), "high")
  names(table)[names(table) == "p_value"] <- "p"
  names(table)[names(table) == "p_adjusted"] <- "p (BH)"
  table
}

#' What the numbers are: the engine's summary lines (the console header) as sentences.
#' @noRd
importance_caption <- function(x) {
  paste0(paste(attr(x, "summary"), collapse = ". "), ".")
}

#' `a`, or `b` when `a` is NULL (base R has `%||%` only from 4.4).
#' @noRd
`%or%` <- function(a, b) if (is.null(a)) b else a
