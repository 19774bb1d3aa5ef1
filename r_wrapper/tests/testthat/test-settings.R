# The settings R records: the seed a run drew, which repeats it. (Each R function's arguments are
# its registry entry's settings, under R's names and with their defaults: test-estimators.R.)

test_that("a default-seeded run records a seed R holds as a number, and seed = that seed repeats it", {
  skip_if_no_python()
  model <- function(x) x[, 10, 1] - 0.5 * x[, 9, 2]
  first <- perturbation_importance(model, signal_x(), n_repeats = 2)
  seed <- attr(first, "settings")$seed
  expect_true(is.numeric(seed) && length(seed) == 1 && seed >= 0 && seed < 2^31 - 1 && seed == round(seed))
  again <- perturbation_importance(model, signal_x(), n_repeats = 2, seed = seed)
  expect_identical(attr(again, "importances"), attr(first, "importances"))
  expect_identical(attr(again, "settings")$seed, seed)
  as_double <- perturbation_importance(model, signal_x(), n_repeats = 2, seed = as.numeric(seed))
  expect_identical(attr(as_double, "importances"), attr(first, "importances"))
})
