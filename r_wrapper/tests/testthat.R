library(testthat)
library(pyimportance)

test_check("pyimportance")
