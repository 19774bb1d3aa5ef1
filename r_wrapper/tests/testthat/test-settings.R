# The R function's arguments are the engine's table of settings (pyimportance.settings): the
# same names (as R spells them), the same defaults, and the same rules for settings that cannot
# go together.

test_that("perturbation_importance() has the settings R offers, under R's names, with the table's defaults", {
  skip_if_no_python()
  offered <- r_offered_settings("SETTINGS")
  formal <- formals(perturbation_importance)
  expect_identical(sort(names(formal)), sort(names(offered)))
  for (name in names(offered)) {
    setting <- offered[[name]]
    default <- setting$default
    if (inherits(default, "python.builtin.object")) {  # settings.REQUIRED: no default
      expect_identical(deparse(formal[[name]]), "", label = name)
    } else if (!is.null(setting$r_default)) {
      expect_identical(deparse(formal[[name]]), setting$r_default, label = name)
    } else if (is.numeric(default)) {
      expect_identical(as.numeric(eval(formal[[name]])), as.numeric(default), label = name)
    } else {
      expect_identical(eval(formal[[name]]), default, label = name)
    }
  }
})

test_that("the R names are those of the engine's R layer and of the settings R records", {
  skip_if_no_python()
  rlayer <- reticulate::import("pyimportance.rlayer")
  r_names <- vapply(rlayer$ARGUMENTS, function(argument) argument$r_name, character(1))
  expect_identical(sort(c("model", "x", "y", r_names)), sort(names(formals(perturbation_importance))))
  result <- perturbation_importance(function(x) x[, 10, 1], signal_x(), n_repeats = 2, seed = 3)
  expect_identical(attr(result, "settings")$seed, 3L)
  expect_null(attr(result, "settings")$random_state)
})

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
