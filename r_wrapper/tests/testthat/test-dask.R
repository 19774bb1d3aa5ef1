test_that("a Dask LocalCluster started from R runs worker processes and gives the same numbers", {
  skip_if_no_python()
  skip_if_not(reticulate::py_module_available("dask.distributed"), "dask.distributed is not installed")
  engine() # importing the engine (here or via pyimportance_available()) readies child processes
  distributed <- reticulate::import("dask.distributed")
  cluster <- distributed$LocalCluster(n_workers = 2L, threads_per_worker = 1L, processes = TRUE,
                                      dashboard_address = NULL)
  client <- distributed$Client(cluster)
  on.exit({
    client$close()
    cluster$close()
  })
  main <- reticulate::py_run_string(
    "import numpy as np\ndef dask_model(x):\n    return np.tanh(x[:, -1, 0]) + 0.3 * x[:, -2, 1]\n"
  )
  x <- signal_x(n = 100L)
  local <- perturbation_importance(main$dask_model, x, n_repeats = 2, seed = 3)
  pooled <- perturbation_importance(main$dask_model, x, n_repeats = 2, seed = 3,
                                    executor = client$get_executor())
  expect_identical(attr(pooled, "importances"), attr(local, "importances"))
  expect_identical(pooled$feature, c("signal", "weak", "noise"))
  expect_equal(pooled$importance[3], 0)
})
