small_result <- function(..., n_repeats = 3) {
  x <- signal_x()
  perturbation_importance(function(x) 3 * x[, 10, 1] + x[, 10, 2], x, n_repeats = n_repeats, seed = 1, ...)
}

#' A result as the engine's R layer builds it, with chosen numbers (no Python needed).
mock_result <- function(importance, by = "feature", groups = NULL, timestep = NULL) {
  n <- length(importance)
  frame <- data.frame(feature = paste0("x", seq_len(n)), stringsAsFactors = FALSE)
  if (!is.null(timestep)) frame$timestep <- timestep
  frame$importance <- importance
  frame$std <- importance / 10
  frame$ci_low <- importance - importance / 5
  frame$ci_high <- importance + importance / 5
  structure(frame, class = c("pyimportance_result", "data.frame"),
            importances = cbind(repeat1 = importance, repeat2 = importance),
            settings = list(method = "permute", scale = NULL, relative_scale = TRUE, loss = "mse", by = by,
                            groups = groups, n_repeats = 2L, n_samples = 100L, ci = "repeats"),
            baseline_score = 0.5, n_rows_used = 100L,
            summary = c("Perturbation importance by feature: method \"permute\", loss \"mse\", 2 repeats, 100 rows; baseline 0.5",
                        "Interval: 95% t-interval over repeats, conditional on this data set"),
            confidence = 0.95)
}

test_that("the result is a sorted data frame with the engine's columns and the documented attributes", {
  skip_if_no_python()
  result <- small_result()
  expect_identical(class(result), c("pyimportance_result", "data.frame"))
  expect_identical(names(result), c("feature", "importance", "std", "ci_low", "ci_high", "p_value", "p_adjusted"))
  expect_identical(result$feature, c("signal", "weak", "noise"))
  expect_false(is.unsorted(rev(result$importance)))
  importances <- attr(result, "importances")
  expect_identical(rownames(importances), result$feature)
  expect_identical(colnames(importances), c("repeat1", "repeat2", "repeat3"))
  expect_equal(rowMeans(importances), result$importance, tolerance = 1e-12, ignore_attr = TRUE)
  expect_equal(apply(importances, 1, sd), result$std, tolerance = 1e-12, ignore_attr = TRUE)
  expect_true(all(result$ci_low <= result$importance & result$importance <= result$ci_high))
  settings <- attr(result, "settings")
  expect_identical(settings$seed, 1L)
  expect_null(settings$random_state)
  expect_identical(settings$n_repeats, 3L)
  expect_identical(settings$feature_names, c("signal", "weak", "noise"))
  expect_identical(attr(result, "baseline_score"), 0)
  expect_identical(attr(result, "n_rows_used"), 200L)
  expect_identical(attr(result, "n_repeats_used"), 3L)
  expect_identical(attr(result, "converged"), NA)
  expect_identical(attr(result, "precision"), NA_real_)
  expect_identical(attr(result, "confidence"), 0.95)
  expect_identical(attributes(result)$row.names, 1:3)
})

test_that("time steps are 1-based integers; a stopping rule reports whether it was met", {
  skip_if_no_python()
  cells <- small_result(by = "cell", n_repeats = 2)
  expect_identical(cells$timestep[1:2], c(10L, 10L))
  expect_identical(sort(unique(cells$timestep)), 1:10)
  stopped <- small_result(tolerance = 0.5, ci = "repeats")
  expect_true(attr(stopped, "converged"))
  expect_true(attr(stopped, "precision") <= 0.5)
  expect_identical(attr(stopped, "settings")$tolerance, 0.5)
})

test_that("as.data.frame() drops the class and the attributes", {
  skip_if_no_python()
  frame <- as.data.frame(small_result())
  expect_identical(class(frame), "data.frame")
  expect_null(attr(frame, "importances"))
  expect_null(attr(frame, "n_rows_used"))
  expect_identical(names(frame), c("feature", "importance", "std", "ci_low", "ci_high", "p_value", "p_adjusted"))
})

test_that("each numeric column is printed in one format: the decimals its largest value needs", {
  expect_identical(format_column(c(3.552, 0.2264, 8.048e-06)), c("3.552", "0.226", "0.000"))
  expect_identical(format_column(c(-0.01234, 0.000912, NaN)), c("-0.01234", "0.00091", "NaN"))
  expect_identical(format_column(c(1234.5, 2)), c("1234", "2"))
  expect_identical(format_column(c(2e-12, 1e-13)), c("2.000e-12", "1.000e-13"))
  expect_identical(format_column(c(0, 0)), c("0.000", "0.000"))
})

test_that("print() shows the engine's summary lines, then the table in one format per column", {
  output <- capture.output(print(mock_result(c(3.552, 0.2264, 8.048e-06))))
  expect_identical(output, c(
    "Perturbation importance by feature: method \"permute\", loss \"mse\", 2 repeats, 100 rows; baseline 0.5",
    "Interval: 95% t-interval over repeats, conditional on this data set",
    " feature importance    std ci_low ci_high",
    "      x1      3.552 0.3552  2.842   4.262",
    "      x2      0.226 0.0226  0.181   0.272",
    "      x3      0.000 0.0000  0.000   0.000"
  ))
})

test_that("the header is the engine's summary in R's terms: what was measured, the interval, the stopping rule", {
  skip_if_no_python()
  result <- small_result()
  output <- capture.output(print(result))
  expect_identical(output[1:3], attr(result, "summary"))
  expect_identical(
    attr(result, "summary"),
    c(paste("Perturbation importance by feature: method \"gaussian\" (sd 0.1 x feature sd), mean |change of",
            "prediction| (no y), 3 repeats, 200 rows"),
      "Interval: 95% interval for the population the rows come from (rows and perturbations) (block length 3 rows)",
      "2 of 3 features selected at 5% FDR (Benjamini-Hochberg)")
  )
  expect_match(output[4], "^ *feature +importance +std +ci_low +ci_high +p_value +p_adjusted$")
  expect_match(output[5], "^ *signal ")
  expect_length(output, 7)
  stopped <- attr(small_result(tolerance = 0.5, ci = "repeats"), "summary")
  expect_identical(stopped[2], "Interval: 95% t-interval over repeats, conditional on this data set")
  expect_match(stopped[3], "^Stopping: tolerance 0.5 met; precision [0-9.]+ after 200 of 200 rows$")
})

test_that("the header names groups, time steps and cells, as the engine does", {
  skip_if_no_python()
  groups <- list(a = c("signal", "weak"), b = "noise")
  expect_match(attr(small_result(groups = groups), "summary")[1], "^Perturbation importance by group: ")
  expect_match(attr(small_result(by = "timestep"), "summary")[1], "^Perturbation importance by time step: ")
  expect_match(attr(small_result(by = "cell"), "summary")[1],
               "^Perturbation importance by cell \\(time step x feature\\): ")
  expect_match(attr(small_result(by = "cell", groups = groups), "summary")[1],
               "^Perturbation importance by cell \\(time step x group\\): ")
})

test_that("in a report the result is a Markdown table captioned with the summary, formatted like the console", {
  printed <- knitr::knit_print(mock_result(c(3.552, 0.2264, 8.048e-06), groups = list(a = "x1")))
  lines <- strsplit(as.character(printed), "\n")[[1]]
  lines <- lines[nzchar(lines)]
  expect_identical(lines, c(
    paste("Table: Perturbation importance by feature: method \"permute\", loss \"mse\", 2 repeats, 100 rows;",
          "baseline 0.5. Interval: 95% t-interval over repeats, conditional on this data set."),
    "|feature | importance|     sd| 95% low| 95% high|",
    "|:-------|----------:|------:|-------:|--------:|",
    "|x1      |      3.552| 0.3552|   2.842|    4.262|",
    "|x2      |      0.226| 0.0226|   0.181|    0.272|",
    "|x3      |      0.000| 0.0000|   0.000|    0.000|"
  ))
})

test_that("plot() and autoplot() return ggplots: bars, a line over time, a heatmap", {
  skip_if_no_python()
  bars <- plot(small_result())
  expect_s3_class(bars, "ggplot")
  expect_identical(class(bars$layers[[1]]$geom)[1], "GeomCol")
  expect_identical(class(bars$layers[[2]]$geom)[1], "GeomErrorbar")
  expect_identical(levels(bars$data$feature), c("noise", "weak", "signal")) # most important on top
  expect_s3_class(bars + ggplot2::theme_minimal(), "ggplot")

  line <- ggplot2::autoplot(small_result(by = "timestep"))
  expect_true("GeomLine" %in% vapply(line$layers, function(l) class(l$geom)[1], ""))

  heatmap <- ggplot2::autoplot(small_result(by = "cell"))
  expect_identical(class(heatmap$layers[[1]]$geom)[1], "GeomTile")
  expect_silent(ggplot2::ggplot_build(heatmap))

  single <- plot(small_result(n_repeats = 1, ci = "repeats")) # no interval over one repeat: bars only
  expect_length(single$layers, 1)
  expect_silent(ggplot2::ggplot_build(single))
})

test_that("rows or columns of a result are a plain data frame", {
  skip_if_no_python()
  x <- signal_x()
  result <- perturbation_importance(function(x) x[, 10, 1], x, n_repeats = 2, seed = 1)
  part <- result[, c("feature", "importance")]
  expect_identical(class(part), "data.frame")
  expect_identical(names(part), c("feature", "importance"))
  expect_null(attr(part, "settings"))
  expect_identical(result[result$feature == "signal", "importance"], result$importance[1])
  expect_s3_class(result, "pyimportance_result")
})

test_that("a per-output result plots as an output x feature heatmap, or one panel per output", {
  skip_if_no_python()
  x <- signal_x(n = 80L)
  heads <- function(x) cbind(x[, 10, 1], x[, 10, 2])
  y <- heads(x)
  by_feature <- perturbation_importance(heads, x, y, per_output = TRUE, n_repeats = 2, seed = 1)
  plot <- ggplot2::autoplot(by_feature)
  expect_s3_class(plot$layers[[1]]$geom, "GeomTile")
  expect_identical(plot$labels$x, "output")
  by_step <- perturbation_importance(heads, x, y, per_output = TRUE, by = "timestep", n_repeats = 2, seed = 1)
  expect_s3_class(ggplot2::autoplot(by_step)$facet, "FacetWrap")
})

test_that("the header's interval line is the interval the run reports, for every kind", {
  skip_if_no_python()
  x <- signal_x(n = 60L)
  y <- 3 * x[, 10, 1]
  model <- function(x) 3 * x[, 10, 1] + x[, 10, 2]
  one_number <- function(y_true, y_pred) mean((y_true - y_pred)^2)
  line <- function(..., method = "permute") {
    result <- suppressWarnings(perturbation_importance(model, x, y, method = method, n_repeats = 3, seed = 1, ...))
    expect_identical(capture.output(print(result))[2], attr(result, "summary")[2])
    attr(result, "summary")[2]
  }
  expect_identical(line(loss = one_number),
                   paste("Interval: 95% t-interval over repeats, conditional on this data set; the loss is not a mean",
                         "over rows (custom callable or several rmse heads): interval over repeats"))
  expect_identical(line(block_size = 5),
                   paste("Interval: 95% interval for the population the rows come from (rows and perturbations)",
                         "(block length 5 rows)"))
  expect_identical(line(ci = "repeats"), "Interval: 95% t-interval over repeats, conditional on this data set")
  expect_identical(line(method = "zero", ci = "repeats"), "Interval: none; deterministic method: no interval over repeats")
  expect_identical(line(max_samples = 2), "Interval: none; fewer than 3 rows: no interval")
})

test_that("the engine's warnings are R warnings, and the result keeps no trace of them", {
  skip_if_no_python()
  x <- signal_x(n = 40L)
  x[, , 3] <- 1  # a constant feature under relative noise
  expect_warning(
    result <- perturbation_importance(function(x) x[, 10, 1], x, n_repeats = 2, seed = 1),
    'leaves c("noise") unchanged: constant on the evaluated rows (sd 0)', fixed = TRUE
  )
  expect_null(attr(result, "engine_warnings"))
  expect_warning(perturbation_importance(function(x) x[, 10, 1], x[1:2, , 1:2], n_repeats = 2, seed = 1),
                 "2 evaluated row(s) are too few for an interval", fixed = TRUE)
  expect_silent(perturbation_importance(function(x) x[, 10, 1], signal_x(n = 40L), n_repeats = 2, seed = 1))
})
