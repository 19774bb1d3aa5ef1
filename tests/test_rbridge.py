"""The rpy2 layer: R objects mirrored as RValues and back, the engine's numbers, the R data frame out.

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
def identical(ro):
    return lambda a, b: bool(ro.baseenv["identical"](a, b)[0])


@pytest.fixture(scope="module")
def signal_x(ro):
    """R array c(100, 6, 3) named signal/weak/noise, drawn in R."""
    return ro.r(
        "set.seed(1); array(rnorm(100 * 6 * 3), c(100, 6, 3), "
        "dimnames = list(NULL, NULL, c('signal', 'weak', 'noise')))"
    )


def r_column(frame, name):
    return list(frame.rx2(name))


def test_an_r_array_keeps_its_index_order(ro, rbridge):
    # value 100*i + 10*j + k at R index [i, j, k]
    value = rbridge.as_r_value(ro.r("array(outer(outer(100 * 1:4, 10 * 1:3, '+'), 1:2, '+'), c(4, 3, 2))"))
    assert value.type == "double" and value.values.shape == (4, 3, 2)
    i, j, k = np.meshgrid(np.arange(4), np.arange(3), np.arange(2), indexing="ij")
    np.testing.assert_array_equal(value.values, 100 * (i + 1) + 10 * (j + 1) + (k + 1))


@pytest.mark.parametrize(
    "code",
    [
        "array(c(1.5, NA, NaN, 4), c(2, 2), dimnames = list(NULL, c('a', 'b')))",
        "c(3L, NA, 1L)",
        "c(TRUE, NA, FALSE)",
        "c('u', NA)",
        "list(a = 1, b = list(c = 'x', d = NULL))",
        "data.frame(a = c(1L, NA), b = c(0.5, 2), s = c('u', 'v'), stringsAsFactors = FALSE)",
    ],
)
def test_r_objects_round_trip_through_the_mirror_unchanged(ro, rbridge, identical, code):
    original = ro.r(code)
    assert identical(rbridge.from_r_value(rbridge.as_r_value(original)), original)


def test_na_positions_are_kept_apart_from_the_values(ro, rbridge):
    integers = rbridge.as_r_value(ro.r("c(3L, NA, 1L)"))
    assert integers.type == "integer" and list(integers.na) == [False, True, False]
    logicals = rbridge.as_r_value(ro.r("c(TRUE, NA, FALSE)"))
    assert logicals.type == "logical" and list(logicals.na) == [False, True, False]
    doubles = rbridge.as_r_value(ro.r("c(NA, NaN, 1)"))
    assert list(doubles.na) == [True, False, False]  # NaN is a number, NA is missing


def test_a_factor_with_na_becomes_codes_and_levels(ro, rbridge):
    # rpy2's own numpy2ri fails on a factor with NA; the mirror takes R's codes instead.
    factor = rbridge.as_r_value(ro.r("factor(c('b', 'a', NA), levels = c('a', 'b'))"))
    assert factor.type == "factor" and factor.levels == ("a", "b")
    assert list(factor.values[:2]) == [2, 1] and list(factor.na) == [False, False, True]


def test_an_r_function_model_matches_the_numpy_callable(ro, rbridge, signal_x):
    frame = rbridge.perturbation_importance(ro.r("function(x) 3 * x[, dim(x)[2], 1]"), signal_x, n_repeats=3, seed=5)
    values = np.asfortranarray(rbridge.as_r_value(signal_x).values)  # the layout R hands over
    expected = perturbation_importance(lambda x: 3 * x[:, -1, 0], values, n_repeats=3, random_state=5,
                                       feature_names=["signal", "weak", "noise"])
    importances = np.asarray(ro.baseenv["attr"](frame, "importances"))
    by_name = dict(zip(r_column(frame, "feature"), importances))
    for index, name in enumerate(expected.feature):
        np.testing.assert_array_equal(by_name[name], expected.importances[index])
    assert r_column(frame, "feature")[0] == "signal"
    assert r_column(frame, "importance") == sorted(r_column(frame, "importance"), reverse=True)


def test_the_result_is_the_r_package_data_frame(ro, rbridge, signal_x):
    frame = rbridge.perturbation_importance(ro.r("function(x) 3 * x[, 6, 1] + x[, 2, 2]"), signal_x, by="cell",
                                            n_repeats=2, seed=1)
    assert isinstance(frame, ro.vectors.DataFrame)
    assert list(ro.baseenv["class"](frame)) == ["pyimportance_result", "data.frame"]
    assert list(frame.names) == ["feature", "timestep", "importance", "std", "ci_low", "ci_high", "p_value",
                                 "p_adjusted"]
    assert r_column(frame, "timestep")[0] == 6  # 1-based, as in R
    assert list(ro.baseenv["typeof"](frame.rx2("timestep"))) == ["integer"]
    assert list(ro.baseenv["rownames"](ro.baseenv["attr"](frame, "importances")))[0] == "signal@t6"
    settings = ro.baseenv["attr"](frame, "settings")
    assert list(settings.rx2("by")) == ["cell"]
    assert list(settings.rx2("seed")) == [1]
    assert list(ro.baseenv["attr"](frame, "baseline_score")) == [0.0]


def test_r_groups_factor_y_and_r_loss(ro, rbridge, signal_x):
    model = ro.r("function(x) cbind(plogis(-4 * x[, 6, 1]), plogis(4 * x[, 6, 1]))")
    y = ro.r("function(x) cut(x[, 6, 1], c(-Inf, 0, Inf), labels = c('down', 'up'))")(signal_x)
    groups = ro.r("list(main = 'signal', rest = c(2, 3))")
    frame = rbridge.perturbation_importance(model, signal_x, y, loss="accuracy", groups=groups, n_repeats=2, seed=3)
    assert r_column(frame, "feature") == ["main", "rest"]
    assert list(ro.baseenv["attr"](frame, "settings").rx2("classes")) == ["down", "up"]

    regression = ro.r("function(x) 3 * x[, 6, 1]")
    target = ro.r("function(x) 3 * x[, 6, 1] + 0.1")(signal_x)
    squared = ro.r("squared_error <- function(y_true, y_pred) mean((y_true - y_pred)^2); squared_error")
    custom = rbridge.perturbation_importance(regression, signal_x, target, loss=ro.r["squared_error"], n_repeats=2,
                                             seed=1, ci="repeats")
    mse = rbridge.perturbation_importance(regression, signal_x, target, loss="mse", n_repeats=2, seed=1, ci="repeats")
    np.testing.assert_allclose(r_column(custom, "importance"), r_column(mse, "importance"), rtol=1e-12)
    assert list(ro.baseenv["attr"](custom, "settings").rx2("loss")) == ["squared_error"]
    assert squared is not None


def test_numpy_input_works_too(rbridge):
    values = np.random.default_rng(0).normal(size=(50, 4, 2))
    frame = rbridge.perturbation_importance(lambda x: x[:, -1, 1], values, n_repeats=2, seed=0)
    assert list(frame.rx2("feature"))[0] == "x2"


def test_errors_are_r_errors_with_r_classes(ro, rbridge, signal_x):
    with pytest.raises(rbridge.RError, match=r"^n_repeats must be a positive integer, got 0$") as caught:
        rbridge.perturbation_importance(ro.r("function(x) x[, 6, 1]"), signal_x, n_repeats=0)
    assert caught.value.classes == ("pyimportance_argument_error", "pyimportance_error")
    with pytest.raises(rbridge.RError, match=r"^model failed on the unperturbed data: not fitted$") as caught:
        rbridge.perturbation_importance(ro.r("function(x) stop('not fitted')"), signal_x)
    assert caught.value.classes == ("pyimportance_model_error", "pyimportance_error")
    x = ro.r("x <- array(1:600, c(100, 6)); x[5, 2] <- NA; x")
    with pytest.raises(rbridge.RError, match=r"^x must not contain NA, NaN or infinite values, got NA at x\[5, 2\]"):
        rbridge.perturbation_importance(ro.r("function(x) x[, 1]"), x)
    with pytest.raises(rbridge.RError, match=r"^relative_scale must be TRUE or FALSE, got NA$"):
        rbridge.perturbation_importance(ro.r("function(x) x[, 1]"), signal_x, relative_scale=ro.r("NA"))
