# The loop an R user writes today (through reticulate), against the R package's single call.
#
# Usage: Rscript bench/r_loop.R MODEL.keras X.npy N_REPEATS MAX_FEATURES
# Prints "RESULT key value" lines read by bench/run_bench.py:
#   baseline_seconds  the baseline model$predict()
#   loop_seconds      baseline + the loop over the first MAX_FEATURES features (all repeats)
#   package_seconds   pyimportance::perturbation_importance(model, X, n_repeats = N_REPEATS)
# Run it from a directory without a pyproject.toml (reticulate 1.28 warns about Poetry there).

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 4) {
  stop("usage: Rscript r_loop.R MODEL.keras X.npy N_REPEATS MAX_FEATURES")
}
model_path <- args[[1]]
x_path <- args[[2]]
n_repeats <- as.integer(args[[3]])
max_features <- as.integer(args[[4]])
scale <- 0.1

suppressPackageStartupMessages(library(reticulate))
np <- import("numpy")
keras <- import("keras")
model <- keras$models$load_model(model_path)
X <- np$load(x_path) # an R array n x T x F (double)
n_features <- dim(X)[3]
features <- seq_len(min(max_features, n_features))
feature_sd <- apply(X, 3, function(values) sqrt(mean((values - mean(values))^2)))

set.seed(0)
started <- proc.time()[["elapsed"]]
baseline <- model$predict(X, verbose = 0L)
baseline_seconds <- proc.time()[["elapsed"]] - started
importance <- matrix(NA_real_, n_features, n_repeats)
for (feature in features) {
  for (repeat_index in seq_len(n_repeats)) {
    perturbed <- X
    noise <- rnorm(length(perturbed[, , feature]), 0, scale * feature_sd[feature])
    perturbed[, , feature] <- perturbed[, , feature] + noise
    predictions <- model$predict(perturbed, verbose = 0L)
    importance[feature, repeat_index] <- mean(abs(predictions - baseline))
  }
}
loop_seconds <- proc.time()[["elapsed"]] - started
cat("RESULT baseline_seconds", baseline_seconds, "\n")
cat("RESULT loop_seconds", loop_seconds, "\n")

package_seconds <- NA_real_
if (requireNamespace("pyimportance", quietly = TRUE) &&
    "perturbation_importance" %in% getNamespaceExports("pyimportance")) {
  started <- proc.time()[["elapsed"]]
  result <- pyimportance::perturbation_importance(model, X, n_repeats = n_repeats, seed = 0L, progress = FALSE)
  package_seconds <- proc.time()[["elapsed"]] - started
}
cat("RESULT package_seconds", if (is.na(package_seconds)) "NA" else package_seconds, "\n")
