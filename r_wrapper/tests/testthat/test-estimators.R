# Every estimator of the engine's registry (pyimportance.registry) is one exported R function: its
# formals are model, x, y and the settings its entry offers R, in the entry's order, under R's names,
# with the entry's defaults; it runs the estimator of that name.

#' The estimators that read the model's gradients: they get a Keras model, not an R function.
needs_gradients <- "sensitivity"

test_that("each registry entry is an exported function with model, x, y and the entry's settings as formals", {
  skip_if_no_python()
  for (entry in estimators()) {
    name <- entry$r_function
    expect_true(name %in% getNamespaceExports("pyimportance"), label = name)
    formal <- formals(getExportedValue("pyimportance", name))
    offered <- r_offered_settings(entry)
    expect_identical(names(formal), c("model", "x", "y", names(offered)), label = name)
    expect_identical(deparse(formal$model), "", label = paste(name, "model"))
    expect_identical(deparse(formal$x), "", label = paste(name, "x"))
    expect_null(formal$y, label = paste(name, "y"))
    for (r_name in names(offered)) {
      setting <- offered[[r_name]]
      label <- paste0(name, "(", r_name, ")")
      if (!is.null(setting$r_default)) {
        expect_identical(formal[[r_name]], str2lang(setting$r_default), label = label)
      } else if (is.numeric(setting$default)) {
        expect_identical(as.numeric(formal[[r_name]]), as.numeric(setting$default), label = label)
      } else {
        expect_identical(formal[[r_name]], setting$default, label = label)
      }
    }
  }
})

test_that("each registry entry's R function runs that estimator and records its name and seed", {
  skip_if_no_python()
  set.seed(7)
  x <- matrix(rnorm(120), 60, 2, dimnames = list(NULL, c("a", "b")))
  model <- function(x) 2 * x[, "a"]
  # the same model as Keras, for the estimators that read its gradients (an R function has none)
  keras <- reticulate::import("keras")
  keras_model <- keras$Sequential(list(keras$Input(shape = list(2L)), keras$layers$Dense(1L, use_bias = FALSE)))
  keras_model$set_weights(list(matrix(c(2, 0), ncol = 1L)))
  for (entry in estimators()) {
    run <- getExportedValue("pyimportance", entry$r_function)
    given <- if (entry$name %in% needs_gradients) keras_model else model
    result <- run(given, x, model(x), seed = 3, progress = FALSE)
    expect_s3_class(result, "pyimportance_result")
    expect_identical(attr(result, "settings")$estimator, entry$name, label = entry$r_function)
    expect_identical(attr(result, "settings")$seed, 3L, label = entry$r_function)
    expect_null(attr(result, "settings")$random_state, label = entry$r_function)
    expect_identical(result$feature[1], "a", label = entry$r_function)
  }
})
