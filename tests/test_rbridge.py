"""The rpy2 layer: R objects in, the engine's numbers, an R data frame out.

rpy2 is imported inside fixtures, so the NumPy 2 environment (no R) can still collect this file.
"""

import numpy as np
import pytest

from pyimportance import perturbation_importance

pytestmark = pytest.mark.r


@pytest.fixture(scope="module")
def ro():
    import rpy2.robjects

    return rpy2.robjects


@pytest.fixture(scope="module")
def rbridge():
    from pyimportance import rbridge

    return rbridge


@pytest.fixture(scope="module")
def signal_x(ro):
    """R array c(100, 6, 3) named signal/weak/noise, drawn in R."""
    return ro.r(
        "set.seed(1); array(rnorm(100 * 6 * 3), c(100, 6, 3), "
        "dimnames = list(NULL, NULL, c('signal', 'weak', 'noise')))"
    )


def r_column(frame, name):
    return list(frame.rx2(name))


def test_r_array_keeps_index_order(ro, rbridge):
    # value 100*i + 10*j + k at R index [i, j, k]
    r_array = ro.r("array(outer(outer(100 * 1:4, 10 * 1:3, '+'), 1:2, '+'), c(4, 3, 2))")
    values = rbridge.r_to_numpy(r_array)
    assert values.shape == (4, 3, 2)
    i, j, k = np.meshgrid(np.arange(4), np.arange(3), np.arange(2), indexing="ij")
    np.testing.assert_array_equal(values, 100 * (i + 1) + 10 * (j + 1) + (k + 1))
    assert values[3, 2, 1] == 432.0


def test_numpy_to_r_round_trips_index_order(ro, rbridge):
    values = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    r_array = rbridge.numpy_to_r(values, feature_names=["a", "b", "c", "d"])
    assert list(ro.baseenv["dim"](r_array)) == [2, 3, 4]
    assert ro.r("function(x) x[2, 3, 'd']")(r_array)[0] == values[1, 2, 3]
    np.testing.assert_array_equal(rbridge.r_to_numpy(r_array), values)


def test_feature_names_come_from_dimnames(ro, rbridge, signal_x):
    values, names = rbridge.as_python(signal_x, role="x")
    assert names == ["signal", "weak", "noise"]
    assert values.shape == (100, 6, 3)
    matrix, matrix_names = rbridge.as_python(ro.r("matrix(1:6, 2, dimnames = list(NULL, c('u', 'v', 'w')))"))
    assert matrix_names == ["u", "v", "w"]
    np.testing.assert_array_equal(matrix, [[1, 3, 5], [2, 4, 6]])


def test_factor_becomes_codes_from_zero_with_its_levels(ro, rbridge):
    codes, levels = rbridge.as_python(ro.r("factor(c('b', 'a', 'c', 'b'), levels = c('a', 'b', 'c'))"), role="y")
    np.testing.assert_array_equal(codes, [1, 0, 2, 1])
    assert levels == ["a", "b", "c"]


def test_factor_with_na_is_rejected(ro, rbridge):
    with pytest.raises(ValueError, match="^y must not contain NA values; remove or impute them first$"):
        rbridge.as_python(ro.r("factor(c('a', NA))"), role="y")


def test_integer_na_becomes_nan(ro, rbridge):
    values = rbridge.r_to_numpy(ro.r("c(1L, NA, 3L)"))
    assert values.dtype == np.float64
    np.testing.assert_array_equal(np.isnan(values), [False, True, False])


def test_data_frame_becomes_pandas_with_its_columns(ro, rbridge):
    frame, _ = rbridge.as_python(ro.r("data.frame(a = 1:3, b = c(0.5, 1, 2), f = factor(c('u', 'v', 'u')))"), role="x")
    assert list(frame.columns) == ["a", "b", "f"]
    np.testing.assert_array_equal(frame["b"].to_numpy(), [0.5, 1.0, 2.0])
    assert list(frame["f"].astype(str)) == ["u", "v", "u"]


def test_r_function_model_matches_the_numpy_callable(ro, rbridge, signal_x):
    r_model = ro.r("function(x) 3 * x[, dim(x)[2], 1]")
    frame = rbridge.perturbation_importance(r_model, signal_x, n_repeats=3, seed=5)

    values = rbridge.r_to_numpy(signal_x)
    expected = perturbation_importance(
        lambda x: 3 * x[:, -1, 0], values, n_repeats=3, random_state=5, feature_names=["signal", "weak", "noise"]
    )
    importances = rbridge.r_to_numpy(ro.baseenv["attr"](frame, "importances"))
    by_name = dict(zip(r_column(frame, "feature"), importances))
    for index, name in enumerate(expected.feature):
        np.testing.assert_array_equal(by_name[name], expected.importances[index])
    assert r_column(frame, "feature")[0] == "signal"
    assert r_column(frame, "importance") == sorted(r_column(frame, "importance"), reverse=True)


def test_r_function_gets_feature_names(ro, rbridge, signal_x):
    r_model = ro.r("function(x) 2 * x[, 6, 'weak']")
    frame = rbridge.perturbation_importance(r_model, signal_x, n_repeats=2, seed=1)
    assert r_column(frame, "feature")[0] == "weak"
    assert r_column(frame, "importance")[1:] == [0.0, 0.0]


def test_r_model_on_a_data_frame_gets_a_data_frame(ro, rbridge):
    frame = ro.r("set.seed(2); d <- data.frame(a = rnorm(80), b = rnorm(80)); d")
    fit = ro.r("lm(y ~ a + b, data = cbind(d, y = 2 * d$a + 0.1 * d$b))")
    r_model = ro.r("function(fit) function(d) predict(fit, newdata = d)")(fit)
    result = rbridge.perturbation_importance(r_model, frame, n_repeats=2, seed=1)
    assert r_column(result, "feature") == ["a", "b"]


def test_result_is_an_r_data_frame_with_the_r_package_columns(ro, rbridge, signal_x):
    r_model = ro.r("function(x) 3 * x[, 6, 1] + x[, 2, 2]")
    frame = rbridge.perturbation_importance(r_model, signal_x, by="cell", n_repeats=2, seed=1)
    assert isinstance(frame, ro.vectors.DataFrame)
    assert list(ro.baseenv["class"](frame)) == ["pyimportance_result", "data.frame"]
    assert list(frame.names) == ["feature", "timestep", "importance", "std", "ci_low", "ci_high"]
    assert r_column(frame, "feature")[0] == "signal"
    assert r_column(frame, "timestep")[0] == 6  # 1-based, as in R
    assert sorted(set(r_column(frame, "timestep"))) == [1, 2, 3, 4, 5, 6]
    importances = ro.baseenv["attr"](frame, "importances")
    assert list(ro.baseenv["dim"](importances)) == [18, 2]
    assert list(ro.baseenv["rownames"](importances))[0] == "signal@t6"
    settings = ro.baseenv["attr"](frame, "settings")
    assert list(settings.rx2("by")) == ["cell"]
    assert list(settings.rx2("random_state")) == [1]
    assert list(ro.baseenv["attr"](frame, "baseline_score")) == [0.0]


def test_factor_y_and_classes_reach_the_settings(ro, rbridge, signal_x):
    y = ro.r("function(x) cut(x[, 6, 1], c(-Inf, 0, Inf), labels = c('down', 'up'))")(signal_x)
    classifier = ro.r("function(x) cbind(plogis(-4 * x[, 6, 1]), plogis(4 * x[, 6, 1]))")
    frame = rbridge.perturbation_importance(classifier, signal_x, y, loss="accuracy", n_repeats=2, seed=3)
    assert r_column(frame, "feature")[0] == "signal"
    assert list(ro.baseenv["attr"](frame, "settings").rx2("classes")) == ["down", "up"]


def test_r_groups_and_r_loss(ro, rbridge, signal_x):
    r_model = ro.r("function(x) 3 * x[, 6, 1]")
    y = ro.r("function(x) 3 * x[, 6, 1] + 0.1")(signal_x)
    groups = ro.r("list(main = 'signal', rest = c(2, 3))")
    loss = ro.r("function(y_true, y_pred) mean((y_true - y_pred)^2)")
    frame = rbridge.perturbation_importance(r_model, signal_x, y, loss=loss, groups=groups, n_repeats=2, seed=1)
    assert r_column(frame, "feature") == ["main", "rest"]
    mse = rbridge.perturbation_importance(r_model, signal_x, y, loss="mse", groups=groups, n_repeats=2, seed=1)
    np.testing.assert_allclose(r_column(frame, "importance"), r_column(mse, "importance"), rtol=1e-12)


def test_numpy_input_works_too(rbridge):
    values = np.random.default_rng(0).normal(size=(50, 4, 2))
    frame = rbridge.perturbation_importance(lambda x: x[:, -1, 1], values, n_repeats=2, random_state=0)
    assert list(frame.rx2("feature"))[0] == "x2"


def test_engine_errors_pass_through(ro, rbridge, signal_x):
    with pytest.raises(ValueError, match=r"^n_repeats must be a positive integer, got 0$"):
        rbridge.perturbation_importance(ro.r("function(x) x[, 6, 1]"), signal_x, n_repeats=0)
