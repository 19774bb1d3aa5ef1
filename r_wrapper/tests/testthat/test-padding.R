# Padding from R: padded time steps are never perturbed.

test_that("padded time steps from R are never perturbed", {
  skip_if_no_python()
  x <- signal_x(n = 60L)
  x[1:20, 1:4, ] <- -1
  seen_padding <- list()
  model <- function(chunk) {
    seen_padding[[length(seen_padding) + 1L]] <<- sum(apply(chunk == -1, c(1, 2), all))
    rowSums(ifelse(chunk[, , 1] == -1, 0, chunk[, , 1]))
  }
  result <- perturbation_importance(model, x, method = "permute", mask_value = -1, n_repeats = 2, seed = 1,
                                    batch_size = 60)
  # every full call (the baseline, predicted twice to check it repeats, then the perturbed copies) but the
  # 3-row row-wise check
  expect_true(all(unlist(seen_padding)[-3] == 20 * 4))
  expect_identical(attr(result, "settings")$mask_value, list(input = -1))
})
