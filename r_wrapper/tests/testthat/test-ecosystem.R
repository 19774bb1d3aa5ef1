# as_vi(), as_model_parts() and tidy() against the structures measured from vip 0.4.1 and
# DALEX 2.4.3 (shared/r-conventions.md): classes, columns and their types, row order, attributes.

linear_x <- function(n = 120L) {
  set.seed(3)
  matrix(rnorm(n * 3L), ncol = 3L, dimnames = list(NULL, c("a", "b", "c")))
}
linear_model <- function(x) x[, 1] - 2 * x[, 2]

linear_result <- function(n_repeats = 3L, ...) {
  x <- linear_x()
  perturbation_importance(linear_model, x, linear_model(x) + 0.1, method = "permute",
                          n_repeats = n_repeats, seed = 5L, ...)
}

test_that("as_vi() is vip's vi tibble: class, columns, types, sorted, type and raw_scores", {
  skip_if_no_python()
  result <- linear_result()
  vi <- as_vi(result)
  expect_identical(class(vi), c("vi", "tbl_df", "tbl", "data.frame"))
  expect_identical(names(vi), c("Variable", "Importance", "StDev"))
  expect_identical(vapply(vi, typeof, ""), c(Variable = "character", Importance = "double", StDev = "double"))
  expect_identical(vi$Variable, c("b", "a", "c"))
  expect_identical(vi$Importance, result$importance)
  expect_identical(vi$StDev, result$std)
  expect_identical(attr(vi, "type"), "permutation")
  raw <- attr(vi, "raw_scores")
  expect_identical(dimnames(raw), list(c("a", "b", "c"), c("permutation_1", "permutation_2", "permutation_3")))
  expect_equal(unname(rowMeans(raw)[vi$Variable]), vi$Importance, tolerance = 1e-12)
  expect_equal(unname(apply(raw, 1, sd)[vi$Variable]), vi$StDev, tolerance = 1e-12)
  # b's importance is 4 var(b) exactly in expectation; a's is var(a): both seen, c is 0
  expect_equal(vi$Importance[3], 0)
  expect_gt(vi$Importance[1] / vi$Importance[2], 2.5)
})

test_that("as_vi() of one repeat has no StDev and no raw_scores, as vip leaves them out", {
  skip_if_no_python()
  vi <- as_vi(linear_result(n_repeats = 1L))
  expect_identical(names(vi), c("Variable", "Importance"))
  expect_null(attr(vi, "raw_scores"))
  vi <- as_vi(perturbation_importance(linear_model, linear_x(), method = "zero"))
  expect_identical(names(vi), c("Variable", "Importance"))
  expect_identical(attr(vi, "type"), "perturbation (zero)")
})

test_that("as_vi() of a Shapley result is labelled by its estimator", {
  skip_if_no_python()
  x <- linear_x()
  vi <- as_vi(shapley_importance(linear_model, x, linear_model(x), n_draws = 2L, seed = 5L))
  expect_identical(attr(vi, "type"), "shapley")
  expect_identical(vi$Variable[1], "b")
})

test_that("as_model_parts() is DALEX's model_parts: class, columns, types, blocks, attributes", {
  skip_if_no_python()
  result <- linear_result()
  everything <- linear_result(groups = list(all = c("a", "b", "c")))
  parts <- as_model_parts(result, label = "linear", baseline = everything)
  expect_identical(class(parts), c("model_parts", "feature_importance_explainer", "data.frame"))
  expect_identical(names(parts), c("variable", "permutation", "dropout_loss", "label"))
  expect_identical(vapply(parts, typeof, ""),
                   c(variable = "character", permutation = "double", dropout_loss = "double", label = "character"))
  expect_identical(attr(parts, "B"), 3)
  expect_identical(attr(parts, "loss_name"), "mse")
  expect_identical(parts$permutation, rep(c(0, 1, 2, 3), each = 5L))
  expect_identical(parts$variable, c("_full_model_", "c", "a", "b", "_baseline_",
                                     rep(c("_full_model_", "a", "b", "c", "_baseline_"), 3L)))
  expect_identical(unique(parts$label), "linear")
  full <- attr(result, "baseline_score")
  expect_identical(parts$dropout_loss[parts$variable == "_full_model_"], rep(full, 4L))
  # each repeat: the loss with the variable perturbed = the full model's + its importance then
  raw <- attr(result, "importances")
  for (b in 1:3) {
    block <- parts[parts$permutation == b & parts$variable %in% c("a", "b", "c"), ]
    expect_equal(block$dropout_loss, unname(full + raw[block$variable, b]), tolerance = 1e-12)
  }
  averages <- parts[parts$permutation == 0 & parts$variable %in% c("a", "b", "c"), ]
  expect_equal(averages$dropout_loss, full + result$importance[match(averages$variable, result$feature)],
               tolerance = 1e-12)
  # _baseline_: the one-group run's loss in each repeat, and their mean
  everything_loss <- attr(everything, "baseline_score") + attr(everything, "importances")[1, ]
  expect_equal(parts$dropout_loss[parts$variable == "_baseline_"],
               unname(c(mean(everything_loss), everything_loss)), tolerance = 1e-12)
})

test_that("as_model_parts() takes baseline as a number, one per repeat, and says what it needs", {
  skip_if_no_python()
  result <- linear_result()
  parts <- as_model_parts(result, baseline = 9)
  expect_identical(parts$dropout_loss[parts$variable == "_baseline_"], rep(9, 4L))
  expect_identical(unique(parts$label), "pyimportance")
  parts <- as_model_parts(result, baseline = c(8, 9, 10))
  expect_identical(parts$dropout_loss[parts$variable == "_baseline_"], c(9, 8, 9, 10))
  expect_error(as_model_parts(result, baseline = c(1, 2)),
               "baseline must be a result of perturbation_importance() or a number (or 3 numbers, one per repeat), got c(1, 2)",
               fixed = TRUE)
  expect_error(as_model_parts(result, baseline = result),
               "baseline must be a result with one unit (groups = list(all = <every feature>)) and 3 repeats like result, got 3 units and 3 repeats",
               fixed = TRUE)
  expect_error(as_model_parts(result, label = c("a", "b"), baseline = 1),
               'label must be a single non-empty string, got c("a", "b")', fixed = TRUE)
  expect_error(as_model_parts(data.frame(), baseline = 1),
               "as_model_parts() needs a result of perturbation_importance(), got an object of class data.frame",
               fixed = TRUE)
})

test_that("as_model_parts() without baseline leaves _baseline_ NA, every other row as with one", {
  skip_if_no_python()
  result <- linear_result()
  parts <- as_model_parts(result, label = "lstm")
  with_number <- as_model_parts(result, label = "lstm", baseline = 9)
  is_baseline <- parts$variable == "_baseline_"
  expect_identical(parts$dropout_loss[is_baseline], rep(NA_real_, 4L))
  expect_identical(parts[!is_baseline, ], with_number[!is_baseline, ])
  expect_identical(parts$variable, with_number$variable)
  expect_identical(class(parts), class(with_number))
  expect_identical(attributes(parts)[c("B", "loss_name")], attributes(with_number)[c("B", "loss_name")])
  # the variables' losses are the full model's plus their importance, as with a baseline
  full <- attr(result, "baseline_score")
  averages <- parts[parts$permutation == 0 & parts$variable %in% c("a", "b", "c"), ]
  expect_equal(averages$dropout_loss, full + result$importance[match(averages$variable, result$feature)],
               tolerance = 1e-12)
  # per output: NA in each output's _baseline_ rows
  x <- linear_x()
  two <- function(x) cbind(first = x[, 1], second = 2 * x[, 2])
  per_output <- perturbation_importance(two, x, two(x), method = "permute", per_output = TRUE,
                                        n_repeats = 2L, seed = 1L)
  parts <- as_model_parts(per_output, label = "two")
  expect_identical(parts$dropout_loss[parts$variable == "_baseline_"], rep(NA_real_, 6L))
  expect_false(anyNA(parts$dropout_loss[parts$variable != "_baseline_"]))
})

test_that("as_model_parts() refuses a score, which DALEX would draw upside down, naming a loss", {
  skip_if_no_python()
  x <- linear_x()
  y <- factor(x[, 1] > 0)
  probability <- function(x) cbind(1 - stats::plogis(4 * x[, 1]), stats::plogis(4 * x[, 1]))
  result <- perturbation_importance(probability, x, y, loss = "accuracy", n_repeats = 2L, seed = 1L)
  expect_error(as_model_parts(result, baseline = 0.5), paste0(
    "as_model_parts() needs a loss (larger is worse), as DALEX's dropout_loss is; result's measure ",
    "\"accuracy\" is a score: run perturbation_importance() with a loss (loss = \"log_loss\")"),
    fixed = TRUE)
  expect_identical(as_vi(result)$Variable[1], "a")
})

test_that("time steps and cells are named t3 and b@t3 in vi and model_parts, from the engine's labels", {
  skip_if_no_python()
  set.seed(2)
  x <- array(rnorm(60 * 4 * 2), c(60L, 4L, 2L), dimnames = list(NULL, NULL, c("a", "b")))
  model <- function(x) x[, 4, 2] + 0.5 * x[, 3, 1]
  steps <- perturbation_importance(model, x, by = "timestep", method = "permute", n_repeats = 2L, seed = 1L)
  vi <- as_vi(steps)
  expect_identical(vi$Variable[1:2], c("t4", "t3"))
  expect_identical(rownames(attr(vi, "raw_scores")), c("t1", "t2", "t3", "t4"))
  cells <- perturbation_importance(model, x, by = "cell", method = "permute", n_repeats = 2L, seed = 1L)
  parts <- as_model_parts(cells, label = "cells", baseline = 1)
  expect_identical(parts$variable[parts$permutation == 0][8:9], c("a@t3", "b@t4"))
  expect_setequal(parts$variable[parts$permutation == 1],
                  c("_full_model_", paste0(rep(c("a", "b"), 4), "@t", rep(1:4, each = 2)), "_baseline_"))
  expect_identical(parts$variable[parts$permutation == 1][-c(1, 10)], rownames(attr(as_vi(cells), "raw_scores")))
})

test_that("a per-output result is one DALEX model per output, labelled label[output]; vi asks for one output", {
  skip_if_no_python()
  x <- linear_x()
  model <- function(x) cbind(first = x[, 1], second = 2 * x[, 2])
  y <- model(x)
  result <- perturbation_importance(model, x, y, method = "permute", per_output = TRUE, n_repeats = 2L, seed = 1L)
  parts <- as_model_parts(result, label = "two", baseline = 10)
  outputs <- names(attr(result, "baseline_score"))
  expect_identical(outputs, c("output[1]", "output[2]"))
  expect_identical(unique(parts$label), c("two[output[1]]", "two[output[2]]"))
  expect_identical(nrow(parts), 2L * 3L * 5L)
  first <- parts[parts$label == "two[output[1]]" & parts$permutation == 0, ]
  expect_identical(first$variable, c("_full_model_", "b", "c", "a", "_baseline_"))
  second <- parts[parts$label == "two[output[2]]" & parts$permutation == 0, ]
  expect_identical(second$variable, c("_full_model_", "a", "c", "b", "_baseline_"))
  expect_identical(second$dropout_loss[1], unname(attr(result, "baseline_score")["output[2]"]))
  expect_equal(second$dropout_loss[4] - second$dropout_loss[1],
               result$importance[result$output == "output[2]" & result$feature == "b"], tolerance = 1e-12)
  expect_error(as_vi(result), paste0(
    "as_vi() makes one vi object per output, and result has 2 (per_output = TRUE): ",
    "choose one with output = in perturbation_importance()"), fixed = TRUE)
})

test_that("tidy() is the result's table as a plain tibble, one row per unit", {
  skip_if_no_python()
  result <- linear_result()
  tidied <- tidy(result)
  expect_identical(class(tidied), c("tbl_df", "tbl", "data.frame"))
  expect_identical(names(tidied), c("feature", "importance", "std", "ci_low", "ci_high", "p_value", "p_adjusted"))
  expect_identical(as.data.frame(tidied), as.data.frame(result))
  expect_identical(environmentName(environment(tidy)), "generics")
})
