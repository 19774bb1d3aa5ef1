# The report template (inst/rmarkdown/templates/importance-report) rendered end to end: its text
# describes the interval the run actually used, in the engine's words.

says <- function(report, text) grepl(text, report, fixed = TRUE)

test_that("the report's text follows the interval the run used, data or repeats", {
  skip_if_no_python()
  skip_if_not(rmarkdown::pandoc_available(), "pandoc is not available")
  directory <- tempfile("report")
  dir.create(directory)
  on.exit(unlink(directory, recursive = TRUE), add = TRUE)
  keras <- reticulate::import("keras")
  np <- reticulate::import("numpy", convert = FALSE)
  keras$utils$set_random_seed(1L)
  model <- keras$Sequential(list(keras$Input(shape = list(3L)), keras$layers$Dense(1L)))
  model$save(file.path(directory, "model.keras"))
  set.seed(1)
  x <- matrix(rnorm(120), 40, 3)
  np$save(file.path(directory, "x.npy"), np$array(x))
  np$save(file.path(directory, "y.npy"), np$array(x[, 1]))

  data_report <- render_report(directory, ci = "data")
  expect_true(says(data_report, paste("The interval. 95% interval for the population the rows come from",
                                      "(rows and perturbations) (block length")))
  expect_true(says(data_report, "counts the randomness of the rows"))
  expect_false(says(data_report, "t-interval"))

  repeats_report <- render_report(directory, ci = "repeats")
  expect_true(says(repeats_report, "The interval. 95% t-interval over repeats, conditional on this data set."))
  expect_true(says(repeats_report, "for this model and these data only"))
  expect_false(says(repeats_report, "for the population the rows come from"))
})
