"""The per-row attribution maps of a sensitivity result in R's frame (pyimportance.rlayer.row_frame): R arrays rows x
time steps x features named by the 1-based rows of ``x``, the rows R named kept (1-based in, 1-based out), R's
baseline row, the convergence deltas, and why no maps were kept. A linear Keras model gives the closed form
``w * (x - x0)`` for every cell."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import double, expect_r_error, scalar, signal_model

from pyimportance import rlayer
from pyimportance.rlayer import RValue

pytestmark = pytest.mark.keras

WEIGHTS = np.array([[0.5, 0.0, -1.0], [0.0, 0.0, 0.0], [1.5, 0.25, 0.0], [2.0, 0.0, 0.75]])  # (4 steps, 3 features)


@pytest.fixture(scope="module")
def linear_model():
    """x -> sum of WEIGHTS * x over the (4, 3) cells: Flatten, then Dense(1) without bias."""
    import keras

    model = keras.Sequential([keras.Input((4, 3)), keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)])
    model.set_weights([WEIGHTS.reshape(12, 1)])
    return model


def _attributes(frame) -> dict:
    return frame.attributes


def _run(model, x3d, **arguments):
    return rlayer.call_from_r(model, x3d, None, {"progress": scalar(False), **arguments}, estimator="sensitivity")


def test_the_maps_are_r_arrays_of_w_times_x_minus_the_baseline_named_by_1_based_rows(linear_model, x3d):
    frame = _run(linear_model, x3d, baselines=scalar("zeros"), n_steps=double([2]), by=scalar("cell"))
    maps = frame.attributes["attributions"]
    assert maps.type == "double" and maps.values.shape == (60, 4, 3)
    np.testing.assert_allclose(maps.values, WEIGHTS[None] * x3d.values, rtol=1e-6, atol=1e-6)
    assert maps.dimnames == (tuple(str(row) for row in range(1, 61)), ("1", "2", "3", "4"),
                             ("signal", "weak", "noise"))
    rows = frame.attributes["attribution_rows"]
    assert rows.type == "integer" and rows.values.tolist() == list(range(1, 61))
    delta = frame.attributes["convergence_delta"]
    assert delta.values.shape == (60,) and delta.names == tuple(str(row) for row in range(1, 61))
    assert np.abs(delta.values).max() < 1e-5  # a linear model: the path integral is exact


def test_the_mean_baseline_centres_the_maps_and_an_r_row_is_the_baseline_given(linear_model, x3d):
    centred = _run(linear_model, x3d, by=scalar("cell"))
    expected = WEIGHTS[None] * (x3d.values - x3d.values.mean(axis=0))
    np.testing.assert_allclose(centred.attributes["attributions"].values, expected, rtol=1e-6, atol=1e-6)
    row = np.full((1, 4, 3), 0.5)
    given = _run(linear_model, x3d, baselines=double(row), by=scalar("cell"))
    np.testing.assert_allclose(given.attributes["attributions"].values, WEIGHTS[None] * (x3d.values - 0.5),
                               rtol=1e-6, atol=1e-6)


def test_attribution_rows_counts_from_1_in_and_out(linear_model, x3d):
    frame = _run(linear_model, x3d, attribution_rows=double([3, 10]), baselines=scalar("zeros"))
    assert frame.attributes["attribution_rows"].values.tolist() == [3, 10]
    maps = frame.attributes["attributions"]
    assert maps.dimnames[0] == ("3", "10")
    np.testing.assert_allclose(maps.values, WEIGHTS[None] * x3d.values[[2, 9]], rtol=1e-6, atol=1e-6)
    assert frame.attributes["convergence_delta"].values.shape == (60,)  # every evaluated row has its delta


def test_a_row_that_was_not_evaluated_is_named_1_based_in_the_error(linear_model, x3d):
    with expect_r_error("attribution_rows must name evaluated rows (labels as in X's index, or 1-based positions), "
                        "got c(61) not among them"):
        rlayer.sensitivity_importance(linear_model, x3d, attribution_rows=double([61]), progress=scalar(False))


def test_a_matrix_x_gives_a_map_of_rows_by_features(x3d):
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, use_bias=False)])
    model.set_weights([np.array([[2.0], [-1.0], [0.0]])])
    x = double(x3d.values[:, 0, :], dimnames=[None, ["a", "b", "c"]])
    frame = rlayer.call_from_r(model, x, None, {"baselines": scalar("zeros"), "progress": scalar(False)},
                               estimator="sensitivity")
    maps = frame.attributes["attributions"]
    assert maps.values.shape == (60, 3) and maps.dimnames[1] == ("a", "b", "c")
    np.testing.assert_allclose(maps.values, x3d.values[:, 0, :] * [2.0, -1.0, 0.0], rtol=1e-6, atol=1e-6)


def test_a_result_without_maps_says_why_and_other_estimators_have_no_map_attributes(linear_model, x3d, monkeypatch):
    monkeypatch.setattr("pyimportance.sensitivity.sensitivity_recipe.MAX_ATTRIBUTION_BYTES", 8)
    frame = _run(linear_model, x3d)
    assert "attributions" not in frame.attributes
    (note,) = frame.attributes["attributions_note"].values
    assert note.startswith("the per-row maps of 60 rows x 12 cells would take") and "attribution_rows" in note
    perturbation = rlayer.call_from_r(signal_model(), x3d, None, {"seed": double([1])}, estimator="perturbation")
    assert not {"attributions", "attribution_rows", "convergence_delta", "attributions_note"} & set(
        perturbation.attributes)


def test_per_output_maps_get_a_last_dimension_named_by_output(x3d):
    import keras

    model = keras.Sequential([keras.Input((4, 3)), keras.layers.Flatten(), keras.layers.Dense(2, use_bias=False)])
    kernel = np.stack([WEIGHTS.reshape(-1), -2.0 * WEIGHTS.reshape(-1)], axis=1)
    model.set_weights([kernel])
    frame = _run(model, x3d, baselines=scalar("zeros"), per_output=scalar(True))
    maps = frame.attributes["attributions"]
    assert maps.values.shape == (60, 4, 3, 2)
    assert maps.dimnames[3] == ("output[1]", "output[2]")  # as the frame's output column names them in R
    np.testing.assert_allclose(maps.values[..., 0], WEIGHTS[None] * x3d.values, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(maps.values[..., 1], -2.0 * WEIGHTS[None] * x3d.values, rtol=1e-6, atol=1e-6)
    assert frame.attributes["convergence_delta"].values.shape == (60, 2)


def test_several_inputs_give_a_named_list_of_maps(x3d):
    import keras

    sequence, static = keras.Input((4, 3), name="seq"), keras.Input((2,), name="static")
    joined = keras.layers.Concatenate()([keras.layers.Flatten()(sequence), static])
    model = keras.Model([sequence, static], keras.layers.Dense(1, use_bias=False)(joined))
    model.set_weights([np.concatenate([WEIGHTS.reshape(-1), [3.0, -1.0]])[:, None]])
    static_x = np.random.default_rng(1).normal(size=(60, 2))
    x = RValue("list", names=("seq", "static"),
               items=(x3d, double(static_x, dimnames=[None, ["price", "store"]])))
    frame = rlayer.call_from_r(model, x, None, {"baselines": scalar("zeros"), "progress": scalar(False)},
                               estimator="sensitivity")
    maps = frame.attributes["attributions"]
    assert maps.type == "list" and maps.names == ("seq", "static")
    np.testing.assert_allclose(maps.items[0].values, WEIGHTS[None] * x3d.values, rtol=1e-6, atol=1e-6)
    assert maps.items[1].dimnames[1] == ("price", "store")
    np.testing.assert_allclose(maps.items[1].values, static_x * [3.0, -1.0], rtol=1e-6, atol=1e-6)
