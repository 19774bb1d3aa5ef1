"""The Shapley run's conventions: the same numbers whatever the batching, executor or task size; the units,
inputs, outputs and padding of perturbation importance; the stopping rule; what it refuses."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from pyimportance import ShapleyResult, shapley_importance


def sequence_model(x):
    """Reads feature 0 at the last step and feature 1 at the first, times each other, plus feature 2's mean."""
    return x[:, -1, 0] * x[:, 0, 1] + x[:, :, 2].mean(axis=1)


@pytest.fixture
def sequence_data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(120, 4, 3))
    return X, sequence_model(X) + 0.1 * rng.normal(size=120)


def test_the_same_seed_gives_the_same_numbers_whatever_the_batch_size_executor_and_task_size(sequence_data):
    X, y = sequence_data
    reference = shapley_importance(sequence_model, X, y, by="cell", random_state=5)
    for options in (dict(batch_size=7), dict(batch_size=1000), dict(executor=ThreadPoolExecutor(2)),
                    dict(executor=ThreadPoolExecutor(3), task_size=1, batch_size=64)):
        again = shapley_importance(sequence_model, X, y, by="cell", random_state=5, **options)
        np.testing.assert_array_equal(again.importances, reference.importances)
        np.testing.assert_array_equal(again.ci_low, reference.ci_low)
        assert again.total == reference.total


def test_another_seed_gives_other_numbers(sequence_data):
    X, y = sequence_data
    first = shapley_importance(sequence_model, X, y, random_state=1).importances_mean
    assert not np.array_equal(first, shapley_importance(sequence_model, X, y, random_state=2).importances_mean)


def test_units_by_timestep_and_cell_add_up_and_only_the_read_cells_count(sequence_data):
    X, y = sequence_data
    cells = shapley_importance(sequence_model, X, y, by="cell", n_repeats=4, random_state=0)
    assert isinstance(cells, ShapleyResult)
    frame = cells.to_frame(sort=False)
    assert frame[["feature", "timestep"]].values.tolist()[:3] == [["x1", 0], ["x2", 0], ["x3", 0]]
    values = frame.set_index(["feature", "timestep"])["importance"]
    ignored = [("x1", 0), ("x1", 1), ("x1", 2), ("x2", 1), ("x2", 2), ("x2", 3)]
    assert values[ignored].tolist() == [0.0] * 6
    assert values[("x1", 3)] > 0.3 and values[("x2", 0)] > 0.3
    np.testing.assert_allclose(cells.importances_mean.sum(), cells.total, rtol=1e-10)
    steps = shapley_importance(sequence_model, X, y, by="timestep", random_state=0)
    assert steps.timestep == [0, 1, 2, 3]
    np.testing.assert_allclose(steps.importances_mean.sum(), steps.total, rtol=1e-10)


def test_features_outside_every_group_are_units_of_their_own(sequence_data):
    X, y = sequence_data
    result = shapley_importance(sequence_model, X, y, groups={"product": [0, 1]}, random_state=0)
    assert result.feature == ["product", "x3"]
    assert result.settings["ungrouped"] == ["x3"]
    # x3 acts on its own (additively): its value is the loss drop of knowing its mean over the steps
    mean_x3 = X[:, :, 2].mean(axis=1)
    assert result.importances_mean[1] == pytest.approx(np.var(mean_x3), rel=0.25)
    np.testing.assert_allclose(result.importances_mean.sum(), result.total, rtol=1e-10)
    assert "by group" in result.summary()


def test_several_inputs_and_outputs_per_output():
    rng = np.random.default_rng(3)
    sequence, static = rng.normal(size=(150, 3, 2)), rng.normal(size=(150, 2))

    def model(inputs):
        first, second = inputs
        return [first[:, -1, 0] + second[:, 0], 2 * second[:, 1]]

    targets = model([sequence, static])
    result = shapley_importance(model, [sequence, static], targets, per_output=True, random_state=0)
    frame = result.to_frame(sort=False)
    assert result.output == ["output1", "output2"]
    table = frame.set_index(["feature", "output"])["importance"]
    assert table[("input1:x2", "output1")] == table[("input2:x2", "output1")] == 0.0
    assert table[("input1:x1", "output2")] == table[("input2:x1", "output2")] == 0.0
    np.testing.assert_allclose(result.importances_mean.sum(axis=0), result.total, rtol=1e-10)
    assert result.importances_mean[3, 1] == pytest.approx(4.0, rel=0.25)  # (w^2 var) of the second output


def test_padded_steps_stay_padded_and_real_steps_never_take_padding():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(100, 5, 2))
    X[:50, :2] = -1.0  # the first half padded on its first two steps
    seen = []

    def model(x):
        seen.append(x.copy())
        return x[:, -1, 0] + x[:, 0, 1]

    shapley_importance(model, X, model(X), mask_value=-1.0, random_state=0)
    stacked = np.concatenate(seen[1:])
    padded_rows = np.all(stacked[:, :2] == -1.0, axis=(1, 2))
    real_first = np.any(stacked[:, :2] == -1.0, axis=2)
    # each row's padding stays as it is: a row is either padded on both first steps or real on both
    assert np.array_equal(real_first[:, 0], real_first[:, 1]) and np.array_equal(real_first[:, 0], padded_rows)


def test_without_y_the_values_split_the_mean_prediction_change():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 3))
    result = shapley_importance(lambda x: x[:, 0] + 3 * x[:, 1], X, random_state=0)
    assert result.settings["loss"] == "prediction_change"
    assert result.importances_mean[1] > 2 * result.importances_mean[0] > 0 and result.importances_mean[2] == 0.0


def test_tolerance_stops_once_every_interval_is_narrow_enough():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(6000, 3))

    def model(x):
        return 2 * x[:, 0] + x[:, 1]

    result = shapley_importance(model, X, model(X), tolerance=0.1, random_state=0)
    assert result.converged is True and result.n_rows_used == 2000 and result.precision <= 0.1
    assert "Stopping: tolerance 0.1 met" in result.summary()


def test_a_loss_that_is_not_a_mean_over_rows_is_refused():
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match=r"^shapley_importance needs a loss that is a mean of per-row values"):
        shapley_importance(lambda x: x[:, 0], X, X[:, 0], loss="rmse")


def test_the_result_reads_as_shapley_values():
    X = np.random.default_rng(0).normal(size=(200, 2))
    result = shapley_importance(lambda x: x[:, 0] * x[:, 1], X, X[:, 0] * X[:, 1], random_state=0)
    lines = repr(result).splitlines()
    assert lines[0].startswith("Shapley importance (SAGE) by feature: marginal imputation, 8 draws per coalition")
    assert lines[1].startswith("Explained in all (the values add up to it): ")
    assert result.settings["estimator"] == "shapley" and result.settings["n_draws"] == 8
    assert not {"method", "scale", "relative_scale", "deterministic"} & set(result.settings)  # no placeholder keys
    axes = result.plot().axes[0]
    assert axes.get_title() == "Shapley importance (SAGE, 2 orders per row)"
    assert axes.get_xlabel() == "Shapley value (share of the mse)"


def test_the_signature_lists_the_shapley_settings_in_order_with_the_tables_defaults():
    import inspect

    from pyimportance import settings

    parameters = inspect.signature(shapley_importance).parameters
    assert list(parameters) == [setting.name for setting in settings.SHAPLEY_SETTINGS]
    for setting in settings.SHAPLEY_SETTINGS:
        expected = inspect.Parameter.empty if setting.default is settings.REQUIRED else setting.default
        assert parameters[setting.name].default == expected, setting.name


def test_when_the_rows_run_out_tolerance_adds_orders_for_every_row_up_to_n_repeats():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(800, 3))

    def model(x):
        return x[:, 0] * x[:, 1] + 0.5 * x[:, 2]

    result = shapley_importance(model, X, model(X), tolerance=0.2, n_repeats=40, random_state=0)
    assert result.converged is True and result.n_rows_used == 800
    assert 2 < result.n_repeats_used < 40 and result.n_repeats_used % 2 == 0
    threaded = shapley_importance(model, X, model(X), tolerance=0.2, n_repeats=40, random_state=0,
                                  executor=ThreadPoolExecutor(2), batch_size=50)
    np.testing.assert_array_equal(threaded.importances, result.importances)
    np.testing.assert_allclose(result.importances_mean.sum(), result.total, rtol=1e-10)
    # every order reported covers every row: the values are the means over all evaluations
    fixed = shapley_importance(model, X, model(X), n_repeats=result.n_repeats_used, random_state=0)
    np.testing.assert_allclose(fixed.importances, result.importances, rtol=1e-12)
    fixed = shapley_importance(model, X, model(X), n_repeats=2, random_state=0)
    assert fixed.n_repeats_used == 2


def test_a_group_may_span_inputs_and_by_cell_pairs_each_time_step_of_two_sequence_inputs():
    rng = np.random.default_rng(8)
    first, second, static = rng.normal(size=(200, 3, 2)), rng.normal(size=(200, 3, 1)), rng.normal(size=(200, 2))

    def model(inputs):
        a, b, c = inputs
        return a[:, -1, 0] * b[:, -1, 0] + c[:, 1]

    X = [first, second, static]
    spanning = shapley_importance(model, X, model(X), groups={"pair": [0, 2], "rest": [1, 3, 4]}, random_state=0)
    assert spanning.feature == ["pair", "rest"]
    np.testing.assert_allclose(spanning.importances_mean.sum(), spanning.total, rtol=1e-10)
    assert spanning.importances_mean[0] > 0.5 and spanning.importances_mean[1] > 0.5
    cells = shapley_importance(model, X, model(X), by="cell", random_state=0)
    frame = cells.to_frame(sort=False)
    assert len(frame) == 3 * 3 + 2  # (2 + 1 sequence features) x 3 steps, then the 2 static features
    assert frame["timestep"].isna().sum() == 2
    np.testing.assert_allclose(cells.importances_mean.sum(), cells.total, rtol=1e-10)


@pytest.mark.parametrize("ci", ["data", "repeats"])
def test_two_rows_give_nan_intervals_and_a_warning_under_either_interval(ci):
    X = np.random.default_rng(0).normal(size=(2, 3))
    with pytest.warns(UserWarning, match=r"2 evaluated row\(s\) are too few for an interval"):
        result = shapley_importance(lambda x: x[:, 0] * x[:, 1], X, X[:, 0] * X[:, 1], ci=ci, n_repeats=4,
                                    random_state=0)
    assert np.isnan(result.ci_low).all() and np.isnan(result.p_value).all()
    assert "Interval: none; fewer than 3 rows" in result.summary()
