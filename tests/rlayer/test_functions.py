"""The R conventions (pyimportance.rlayer), driven with neutral RValues as a binding makes them.

No R is needed: a Python function stands in for an R function behind a binding. The same code
serves the R package (reticulate) and the rpy2 layer; tests/test_r_layers.py checks that both
give identical R data frames.
"""

import re

import numpy as np
import pytest

from pyimportance import ModelFailedError, rlayer
from pyimportance.rlayer import RCondition, RError, RValue

INT_NA = np.iinfo(np.int32).min


def double(values, **fields) -> RValue:
    return RValue("double", values=np.asarray(values, dtype=np.float64), **fields)


def scalar(value) -> RValue:
    if isinstance(value, bool):
        return RValue("logical", values=np.array([value]))
    if isinstance(value, str):
        return RValue("character", values=np.array([value]))
    return double([value])


def na_scalar(r_type: str) -> RValue:
    values = {"logical": np.array([True]), "integer": np.array([INT_NA], dtype=np.int32),
              "double": np.array([np.nan]), "character": np.array(["NA"])}[r_type]
    return RValue(r_type, values=values, na=np.array([True]))


def r_function(function, name=None) -> RValue:
    """A Python function in the place of an R function behind a binding: RValues in and out."""
    return RValue("function", function=function, name=name)


@pytest.fixture
def x3d():
    values = np.random.default_rng(0).normal(size=(60, 4, 3))
    return double(values, dimnames=[None, None, ["signal", "weak", "noise"]])


def signal_model(seen=None) -> RValue:
    def call(chunk: RValue) -> RValue:
        if seen is not None:
            seen.append(chunk)
        return double(2 * chunk.values[:, -1, 0])

    return r_function(call)


def run(model, x, y=None, **arguments) -> RValue:
    return rlayer.perturbation_importance(model, x, y, **arguments)


def column(frame: RValue, name: str) -> np.ndarray:
    return frame.items[frame.names.index(name)].values


def expect_r_error(message: str):
    """An RError with exactly ``message`` (argument errors; other kinds are checked where they occur)."""
    return pytest.raises(RError, match="^" + re.escape(message) + "$")


# --- the neutral mirror -------------------------------------------------------------------------


def test_rvalue_normalises_what_reticulate_gives():
    value = RValue("character", values="a", dimnames=[None, "b"], names="n", na=[False])
    assert value.values.shape == (1,)
    assert value.dimnames == (None, ("b",))
    assert value.names == ("n",)
    assert value.na is None  # no NA anywhere: no mask
    assert RValue("list", items=None).items == ()


def test_describe_speaks_r():
    assert rlayer.describe(na_scalar("integer")) == "NA"
    assert rlayer.describe(scalar(True)) == "TRUE"
    assert rlayer.describe(scalar("a")) == '"a"'
    assert rlayer.describe(scalar(2.5)) == "2.5"
    assert rlayer.describe(double([1, 2])) == "a numeric vector of length 2"
    assert rlayer.describe(double(np.zeros((2, 3)))) == "a numeric array with dim c(2, 3)"
    assert rlayer.describe(RValue("factor", values=np.array([1, 2], np.int32), levels=["a", "b"])) == (
        "a factor of length 2")
    assert rlayer.describe(None) == "NULL"


# --- R's NA, caught before the engine runs --------------------------------------------------------


def test_integer_na_in_x_is_reported_at_its_1_based_position_before_any_model_call(x3d):
    values = np.ones((60, 4, 3), dtype=np.int32)
    na = np.zeros(values.shape, dtype=bool)
    values[6, 1, 2], na[6, 1, 2] = INT_NA, True
    seen = []
    with expect_r_error("x must not contain NA, NaN or infinite values, got NA at x[7, 2, 3]; "
                        "remove or impute them first"):
        run(signal_model(seen), RValue("integer", values=values, na=na))
    assert seen == []


def test_logical_na_in_y_is_not_read_as_true(x3d):
    y = np.ones(60, dtype=bool)
    na = np.zeros(60, dtype=bool)
    na[4] = True  # reticulate gives TRUE here
    with expect_r_error("y must not contain NA, NaN or infinite values, got NA at y[5]"):
        run(signal_model(), x3d, RValue("logical", values=y, na=na))


@pytest.mark.parametrize(
    ("name", "r_type", "message"),
    [
        ("n_repeats", "integer", "n_repeats must be a single whole number, got NA"),
        ("relative_scale", "logical", "relative_scale must be TRUE or FALSE, got NA"),
        ("scale", "double", "scale must be a single number, got NA"),
        ("by", "character", "by must be a single string, got NA"),
        ("seed", "double", "seed must be a single whole number, got NA"),
    ],
)
def test_na_in_a_scalar_argument_is_refused(x3d, name, r_type, message):
    with expect_r_error(message):
        run(signal_model(), x3d, **{name: na_scalar(r_type)})


def test_na_in_a_factor_y_is_reported_at_its_position(x3d):
    codes = np.array([1, 2] * 30, dtype=np.int32)
    na = np.zeros(60, dtype=bool)
    codes[59], na[59] = INT_NA, True
    with expect_r_error("y must not contain NA, NaN or infinite values, got NA at y[60]"):
        run(signal_model(), x3d, RValue("factor", values=codes, levels=["a", "b"], na=na))


# --- arguments ------------------------------------------------------------------------------------


def test_each_argument_has_one_line_in_the_table():
    names = [argument.r_name for argument in rlayer.ARGUMENTS]
    assert len(names) == len(set(names))
    assert {"seed", "ci", "block_size", "tolerance", "output", "per_output", "mask_value", "reference"} <= set(names)
    assert rlayer.engine_options({"seed": double([3.0]), "n_repeats": double([5.0])}) == {
        "random_state": 3, "n_repeats": 5}


def test_python_names_are_refused_with_the_r_name(x3d):
    with expect_r_error("unused argument random_state (the R name is seed)"):
        run(signal_model(), x3d, random_state=1)


def test_groups_take_names_and_1_based_numbers(x3d):
    groups = RValue("list", names=["main", "rest"],
                    items=[scalar("signal"), double([2, 3])])
    frame = run(signal_model(), x3d, groups=groups, n_repeats=double([2]), seed=double([1]))
    assert list(column(frame, "feature")) == ["main", "rest"]
    settings = frame.attributes["settings"]
    groups_setting = settings.items[settings.names.index("groups")]
    assert [list(item.values) for item in groups_setting.items] == [["signal"], ["weak", "noise"]]
    with expect_r_error('groups[[\"g\"]] must hold feature names or whole numbers, got 1.5'):
        run(signal_model(), x3d, groups=RValue("list", names=["g"], items=[double([1.5])]))


# --- R functions as model, method, loss -----------------------------------------------------------


def test_the_r_model_gets_chunks_named_like_x(x3d):
    seen = []
    run(signal_model(seen), x3d, n_repeats=double([1]), seed=double([0]))
    assert seen[0].type == "double"
    assert seen[0].dimnames == (None, None, ("signal", "weak", "noise"))
    assert seen[0].values.shape[1:] == (4, 3)


def test_a_data_frame_x_reaches_the_r_model_as_a_data_frame():
    rng = np.random.default_rng(1)
    frame = RValue("data.frame", names=["a", "b"],
                   items=[double(rng.normal(size=50)), RValue("integer", values=np.arange(50, dtype=np.int32))])
    seen = []

    def model(chunk: RValue) -> RValue:
        seen.append(chunk)
        return double(3 * chunk.items[0].values)

    result = run(r_function(model), frame, n_repeats=double([1]), seed=double([0]))
    assert seen[0].type == "data.frame" and seen[0].names == ("a", "b")
    assert list(column(result, "feature")) == ["a", "b"]


def test_an_r_method_gets_values_and_a_whole_seed_and_must_keep_the_dims(x3d):
    seeds = []

    def shuffle(values: RValue, seed: RValue) -> RValue:
        seeds.append(int(seed.values[0]))
        order = np.random.default_rng(int(seed.values[0])).permutation(values.values.shape[0])
        return double(values.values[order])

    first = run(signal_model(), x3d, method=r_function(shuffle, "shuffle"), n_repeats=double([2]), seed=double([4]))
    again = run(signal_model(), x3d, method=r_function(shuffle, "shuffle"), n_repeats=double([2]), seed=double([4]))
    np.testing.assert_array_equal(first.attributes["importances"].values, again.attributes["importances"].values)
    assert seeds[:6] == seeds[6:] and len(set(seeds[:6])) == 6 and all(0 <= s < 2**31 for s in seeds)

    def flatten(values: RValue, seed: RValue) -> RValue:
        return double(values.values.reshape(-1))

    with pytest.raises(RError) as caught:
        run(signal_model(), x3d, method=r_function(flatten))
    assert str(caught.value) == (
        "method must return a numeric array with dim c(60, 4, 1) (as it was given), got a numeric vector of "
        'length 240 (no dim), while perturbing feature "signal" (repeat 1 of 5)'
    )
    assert caught.value.classes == ("pyimportance_method_error", "pyimportance_error")


def test_an_r_error_in_the_model_names_the_unit_and_is_a_model_error(x3d):
    calls = []

    def failing(chunk: RValue):
        calls.append(1)
        if len(calls) == 3:
            return RCondition("error", "weights file is corrupt")
        return double(chunk.values[:, -1, 0])

    with pytest.raises(RError) as caught:
        run(r_function(failing), x3d, n_repeats=double([2]), batch_size=double([60]), seed=double([1]))
    assert str(caught.value) == (
        'model failed while evaluating feature "signal" (repeat 1 of 2): weights file is corrupt')
    assert caught.value.classes == ("pyimportance_model_error", "pyimportance_error")
    assert isinstance(caught.value.__cause__, ModelFailedError)


def test_an_interrupt_in_r_stays_an_interrupt(x3d):
    with pytest.raises(KeyboardInterrupt):
        run(r_function(lambda chunk: RCondition("interrupt")), x3d)


def test_an_r_loss_returning_na_is_refused(x3d):
    y = double(np.zeros(60))
    expected = r"^loss \(custom\) failed on the unperturbed data: loss must return a single number"
    with pytest.raises(RError, match=expected + r" \(or one per row: 60\), got NA$") as caught:
        run(signal_model(), x3d, y, loss=r_function(lambda a, b: na_scalar("logical")))
    assert caught.value.classes == ("pyimportance_loss_error", "pyimportance_error")


def test_call_from_r_returns_the_error_as_a_condition(x3d):
    outcome = rlayer.call_from_r(signal_model(), x3d, None, {"n_repeats": double([0])})
    assert outcome == RCondition("error", "n_repeats must be a positive integer, got 0",
                                 ("pyimportance_argument_error", "pyimportance_error"), "ValueError")


# --- the result frame -----------------------------------------------------------------------------


def test_the_frame_has_1_based_time_steps_r_labels_and_rows_in_its_order(x3d):
    frame = run(signal_model(), x3d, by=scalar("cell"), n_repeats=double([2]), seed=double([1]))
    assert frame.names[:2] == ("feature", "timestep")
    steps = frame.items[1]
    assert steps.type == "integer" and sorted(set(steps.values)) == [1, 2, 3, 4]
    assert (column(frame, "feature")[0], steps.values[0]) == ("signal", 4)
    importances = frame.attributes["importances"]
    assert importances.dimnames[0][0] == "signal@t4"
    np.testing.assert_allclose(importances.values.mean(axis=1), column(frame, "importance"), rtol=1e-12)
    assert list(frame.attributes["class"].values) == ["pyimportance_result", "data.frame"]
    assert rlayer.unit_label("(all)", 3) == "t3"


def test_settings_use_r_names_and_keep_large_seeds_exact(x3d):
    frame = run(signal_model(), x3d, n_repeats=double([1]), seed=double([2.0**40]))
    settings = frame.attributes["settings"]
    seed = settings.items[settings.names.index("seed")]
    assert seed.type == "double" and seed.values[0] == 2.0**40
    assert rlayer.as_r_setting(2**60).type == "character"
    assert rlayer.as_r_setting(5).type == "integer"
    assert rlayer.as_r_setting(["a", "b"]).type == "character"


def test_a_factor_y_gives_codes_from_zero_and_its_levels_in_the_settings(x3d):
    codes = np.where(x3d.values[:, -1, 0] > 0, 2, 1).astype(np.int32)

    def classifier(chunk: RValue) -> RValue:
        score = chunk.values[:, -1, 0]
        return double(np.column_stack([1 / (1 + np.exp(4 * score)), 1 / (1 + np.exp(-4 * score))]))

    frame = run(r_function(classifier), x3d, RValue("factor", values=codes, levels=["down", "up"]),
                loss=scalar("accuracy"), n_repeats=double([2]), seed=double([1]))
    settings = frame.attributes["settings"]
    assert list(settings.items[settings.names.index("classes")].values) == ["down", "up"]
    assert column(frame, "feature")[0] == "signal"


def test_integer_and_logical_na_become_rs_double_na_not_a_plain_nan():
    values = np.array([[1, INT_NA], [3, 4]], dtype=np.int32)
    converted = rlayer.as_inputs(RValue("integer", values=values, na=values == INT_NA)).values
    assert converted.dtype == np.float64 and np.isnan(converted[0, 1])
    assert converted.view(np.uint64)[0, 1] == 0x7FF00000000007A2  # R's NA_real_, as reticulate passes it
    assert converted[1, 0] == 3.0
