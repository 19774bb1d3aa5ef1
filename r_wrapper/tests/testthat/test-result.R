small_result <- function(..., n_repeats = 3) {
  x <- signal_x()
  perturbation_importance(function(x) 3 * x[, 10, 1] + x[, 10, 2], x, n_repeats = n_repeats, seed = 1, ...)
}

test_that("the result is a sorted data frame with the documented columns and attributes", {
  skip_if_no_python()
  result <- small_result()
  expect_identical(class(result), c("pyimportance_result", "data.frame"))
  expect_identical(names(result), c("feature", "importance", "std", "ci_low", "ci_high"))
  expect_identical(result$feature, c("signal", "weak", "noise"))
  expect_false(is.unsorted(rev(result$importance)))
  importances <- attr(result, "importances")
  expect_identical(rownames(importances), result$feature)
  expect_equal(rowMeans(importances), result$importance, tolerance = 1e-12, ignore_attr = TRUE)
  expect_equal(apply(importances, 1, sd), result$std, tolerance = 1e-12, ignore_attr = TRUE)
  expect_true(all(result$ci_low <= result$importance & result$importance <= result$ci_high))
  expect_identical(attr(result, "settings")$random_state, 1)
  expect_identical(attr(result, "baseline_score"), 0)
})

test_that("as.data.frame() drops the class and the attributes", {
  skip_if_no_python()
  frame <- as.data.frame(small_result())
  expect_identical(class(frame), "data.frame")
  expect_null(attr(frame, "importances"))
  expect_identical(names(frame), c("feature", "importance", "std", "ci_low", "ci_high"))
})

test_that("print() shows a header line with the settings, then the table", {
  skip_if_no_python()
  output <- capture.output(print(small_result()))
  expect_identical(
    output[1],
    "Perturbation importance by feature: method gaussian (scale 0.1 x sd), mean absolute change of predictions (no y), 3 repeats, 200 samples"
  )
  expect_match(output[2], "^ *feature +importance +std +ci_low +ci_high$")
  expect_match(output[3], "^ *signal ")
  expect_length(output, 5)

  x <- signal_x()
  with_y <- perturbation_importance(function(x) x[, 10, 1], x, x[, 10, 1] + 1, method = "permute",
                                    n_repeats = 2, seed = 1)
  expect_identical(
    capture.output(print(with_y))[1],
    "Perturbation importance by feature: method permute, loss mse (baseline 1), 2 repeats, 200 samples"
  )
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

  single <- plot(small_result(n_repeats = 1)) # no interval with one repeat: bars only
  expect_length(single$layers, 1)
  expect_silent(ggplot2::ggplot_build(single))
})
