# The report template (inst/rmarkdown/templates/importance-report) rendered in `directory`, which
# holds the model file `model` and x.npy (and `y`, unless ""); returns the report's text, with
# the tags removed and pandoc's line breaks undone.
render_report <- function(directory, ..., model = "model.keras", y = "y.npy") {
  template <- system.file("rmarkdown", "templates", "importance-report", "skeleton", "skeleton.Rmd",
                          package = "pyimportance", mustWork = TRUE)
  source <- file.path(directory, "report.Rmd")
  file.copy(template, source, overwrite = TRUE)
  output <- rmarkdown::render(source, params = list(model_path = file.path(directory, model),
                                                    data_path = file.path(directory, "x.npy"),
                                                    y_path = if (nzchar(y)) file.path(directory, y) else "",
                                                    n_repeats = 3, ...),
                              output_dir = directory, intermediates_dir = directory, knit_root_dir = directory,
                              envir = new.env(), quiet = TRUE)
  html <- paste(readLines(output, warn = FALSE), collapse = " ")
  gsub("\\s+", " ", gsub("<[^>]*>", " ", html))
}
