"""Real model shapes (issue 13): several inputs, several outputs, padded variable-length sequences."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from pyimportance import perturbation_importance  # noqa: E402

N, T, F = 200, 6, 3
RNG = np.random.default_rng(11)
SEQ = RNG.normal(size=(N, T, F))
STATIC = RNG.normal(size=(N, 2))


def two_input_model(inputs):
    sequence, static = inputs
    return 1.5 * sequence[:, -3, 0] + static[:, 1]


# ---------------------------------------------------------------- several inputs


def test_a_list_of_inputs_gives_units_for_every_feature_of_every_input():
    y = two_input_model([SEQ, STATIC])
    result = perturbation_importance(two_input_model, [SEQ, STATIC], y, method="permute", random_state=0)
    frame = result.to_frame()
    assert frame["feature"].tolist()[:2] == ["input1:x1", "input2:x2"]
    assert set(frame["feature"]) == {"input1:x1", "input1:x2", "x3", "input2:x1", "input2:x2"}
    expected = {"input1:x1": 2 * 1.5**2 * SEQ[:, -3, 0].var(), "input2:x2": 2 * STATIC[:, 1].var()}
    for name, value in expected.items():
        assert frame.set_index("feature").loc[name, "importance"] == pytest.approx(value, rel=0.25)
    assert result.settings["inputs"] == ["input1", "input2"]


def test_a_dict_of_inputs_is_passed_to_the_model_as_a_dict_with_its_own_feature_names():
    seen = []

    def model(inputs):
        seen.append(sorted(inputs))
        return 2.0 * inputs["seq"][:, -1, 1] + inputs["static"][:, 0]

    X = {"seq": SEQ, "static": pd.DataFrame(STATIC, columns=["store", "price"])}
    result = perturbation_importance(model, X, method="zero", feature_names={"seq": ["a", "b", "c"]})
    assert seen[0] == ["seq", "static"]
    assert result.feature == ["a", "b", "c", "store", "price"]
    assert result.to_frame()["feature"].tolist()[:2] == ["b", "store"]


def test_by_cell_covers_the_sequence_input_and_leaves_static_features_without_a_time_step():
    y = two_input_model([SEQ, STATIC])
    result = perturbation_importance(two_input_model, [SEQ, STATIC], y, method="permute", by="cell", random_state=0)
    frame = result.to_frame()
    assert frame.loc[0, "feature"] == "input1:x1" and frame.loc[0, "timestep"] == T - 3
    static = frame[frame["timestep"].isna()]
    assert sorted(static["feature"]) == ["input2:x1", "input2:x2"]
    assert static.set_index("feature").loc["input2:x2", "importance"] > 1.0
    assert len(frame) == T * F + 2


def test_a_group_can_span_inputs():
    y = two_input_model([SEQ, STATIC])
    result = perturbation_importance(two_input_model, [SEQ, STATIC], y, method="permute", random_state=0,
                                     groups={"drivers": ["input1:x1", "input2:x2"], "rest": ["x3"]})
    assert result.feature == ["drivers", "rest"]
    assert result.importances_mean[0] > 3.0 and result.importances_mean[1] == 0.0


def test_inputs_with_different_row_counts_are_refused():
    with pytest.raises(ValueError) as error:
        perturbation_importance(two_input_model, [SEQ, STATIC[:-1]])
    assert str(error.value) == (
        "every input in X must have the same number of samples, got {'input1': 200, 'input2': 199}"
    )


@pytest.mark.keras
def test_a_trained_two_input_keras_model_ranks_the_lagged_and_the_static_driver_first(keras):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    n = 1200
    sequence = rng.normal(size=(n, T, F)).astype("float32")
    static = rng.normal(size=(n, 2)).astype("float32")
    y = 1.5 * sequence[:, -3, 0] + static[:, 1] + 0.1 * rng.normal(size=n)
    seq_in, static_in = keras.Input((T, F), name="seq"), keras.Input((2,), name="static")
    hidden = keras.layers.Concatenate()([keras.layers.LSTM(16)(seq_in), static_in])
    model = keras.Model([seq_in, static_in], keras.layers.Dense(1)(keras.layers.Dense(16, "relu")(hidden)))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit([sequence, static], y, epochs=20, batch_size=64, verbose=0)
    X = {"static": static[:300], "seq": sequence[:300]}
    result = perturbation_importance(model, X, y[:300], method="permute", random_state=0)
    assert result.to_frame()["feature"].tolist()[:2] == ["seq:x1", "static:x2"]
    cells = perturbation_importance(model, X, y[:300], method="permute", by="cell", random_state=0).to_frame()
    top = cells.iloc[0]
    assert (top["feature"], top["timestep"]) == ("seq:x1", T - 3)


# ---------------------------------------------------------------- several outputs


def two_head_model(X):
    return [X[:, -1, 0:1] * 2.0, X[:, -1, 1] - X[:, -2, 1]]  # head 1 reads x1 only, head 2 reads x2 only


def test_per_output_separates_the_heads():
    y = [out.reshape(len(SEQ), -1) + 0.1 for out in two_head_model(SEQ)]
    result = perturbation_importance(two_head_model, SEQ, y, method="permute", per_output=True, random_state=0)
    frame = result.to_frame().set_index(["feature", "output"])["importance"]
    assert result.output == ["output1", "output2"]
    assert frame["x1", "output1"] > 5 and frame["x1", "output2"] == 0.0
    assert frame["x2", "output2"] > 2 and frame["x2", "output1"] == 0.0
    total = perturbation_importance(two_head_model, SEQ, y, method="permute", random_state=0)
    np.testing.assert_allclose(total.importances, result.importances.sum(axis=2), rtol=1e-12)  # heads' losses add up
    figure = result.plot()
    assert figure.axes[0].images[0].get_array().shape == (F, 2)


def test_one_loss_per_head_and_output_selects_heads():
    classes = (SEQ[:, -1, 0] > 0).astype(int)

    def model(X):
        return {"amount": X[:, -1, 1], "churn": 1 / (1 + np.exp(-3 * X[:, -1, 0]))}

    y = {"churn": classes, "amount": SEQ[:, -1, 1]}
    result = perturbation_importance(model, SEQ, y, loss={"churn": "log_loss", "amount": "mse"}, method="permute",
                                     per_output=True, random_state=0)
    assert result.output == ["amount", "churn"]
    assert result.settings["loss"] == "mse+log_loss"
    only_churn = perturbation_importance(model, SEQ, y, loss={"churn": "log_loss", "amount": "mse"}, output="churn",
                                         method="permute", random_state=0)
    churn = result.importances[:, :, 1]
    np.testing.assert_allclose(only_churn.importances, churn, rtol=1e-12)


def test_per_output_gives_one_number_per_forecast_horizon():
    def forecaster(X):  # horizon h reads time step T-1-h of x1
        return np.stack([X[:, T - 1 - h, 0] for h in range(3)], axis=1)

    result = perturbation_importance(forecaster, SEQ, forecaster(SEQ), by="cell", method="permute",
                                     per_output=True, random_state=0)
    frame = result.to_frame()
    for h in range(3):
        top = frame[frame["output"] == f"output[{h}]"].iloc[0]
        assert (top["feature"], top["timestep"]) == ("x1", T - 1 - h)


# ---------------------------------------------------------------- padding


def _padded(rng, n=120, mask_value=-1.0):
    """Pre-padded sequences of lengths 2..T (Keras' pad_sequences default)."""
    values = rng.normal(size=(n, T, F))
    lengths = rng.integers(2, T + 1, size=n)
    real = np.arange(T)[None, :] >= (T - lengths)[:, None]
    values[~real] = mask_value
    return values, real


def _masked_sum_model(real, mask_value):
    def model(X):
        padded = np.all(X == mask_value, axis=2)
        assert np.array_equal(padded, ~real[: len(X)]) or len(X) != len(real), "padding was perturbed"
        return np.where(padded, 0.0, X[:, :, 0] + 0.5 * X[:, :, 1]).sum(axis=1)

    return model


@pytest.mark.parametrize("method", ["gaussian", "uniform", "permute", "resample", "conditional", "zero", "mean"])
def test_padded_steps_are_never_perturbed_and_never_fed_to_real_steps(method):
    X, real = _padded(np.random.default_rng(2))
    seen = []

    def model(x):
        padded_now = np.all(x == -1.0, axis=2)
        seen.append(padded_now)
        return np.where(padded_now, 0.0, x[:, :, 0]).sum(axis=1)

    result = perturbation_importance(model, X, method=method, mask_value=-1.0, batch_size=len(X), n_repeats=2,
                                     random_state=0)
    for padded_now in seen[2:]:  # every perturbed copy (after the baseline and the row-wise check)
        np.testing.assert_array_equal(padded_now, ~real)
    assert result.settings["mask_value"] == {"input": -1.0}
    assert result.importances_mean[2] == 0.0


def test_the_mean_ablation_on_padded_data_matches_a_hand_computation():
    X, real = _padded(np.random.default_rng(3))
    model = _masked_sum_model(real, -1.0)
    result = perturbation_importance(model, X, method="mean", mask_value=-1.0)
    for feature, weight in ((0, 1.0), (1, 0.5)):
        values = X[:, :, feature]
        mean = values[real].mean()  # over real cells only
        change = weight * np.where(real, mean - values, 0.0).sum(axis=1)
        assert result.importances_mean[feature] == pytest.approx(np.abs(change).mean(), rel=1e-12)


def test_noise_scale_on_padded_data_comes_from_the_real_cells_only():
    X, real = _padded(np.random.default_rng(4))
    X[real] = X[real] * 3.0
    model = _masked_sum_model(real, -1.0)
    result = perturbation_importance(model, X, method="gaussian", scale=0.5, n_repeats=30, mask_value=-1.0,
                                     random_state=0)
    sd = 0.5 * X[:, :, 0][real].std()
    expected = np.mean(np.sqrt(real.sum(axis=1)) * sd) * np.sqrt(2 / np.pi)  # E|sum of L normals| per row
    assert result.importances_mean[0] == pytest.approx(expected, rel=0.05)


@pytest.mark.keras
def test_a_keras_masking_layer_sets_the_mask_value(keras):
    X, real = _padded(np.random.default_rng(5), mask_value=0.0)
    model = keras.Sequential([keras.Input((T, F)), keras.layers.Masking(0.0), keras.layers.LSTM(4),
                              keras.layers.Dense(1)])
    result = perturbation_importance(model, X.astype("float32"), method="permute", n_repeats=1, random_state=0)
    assert list(result.settings["mask_value"].values()) == [0.0]
    unmasked = perturbation_importance(model, X.astype("float32"), method="permute", n_repeats=1, random_state=0,
                                       mask_value=None)
    assert unmasked.settings["mask_value"] is None


def test_output_selects_columns_of_a_head_and_labels_keep_their_positions():
    def model(X):
        return {"forecast": np.stack([X[:, T - 1 - h, 0] for h in range(3)], axis=1), "level": X[:, -1, 2]}

    y = {key: value for key, value in model(SEQ).items()}
    result = perturbation_importance(model, SEQ, y, method="permute", per_output=True, random_state=0,
                                     output={"forecast": [0, 2]})
    assert result.output == ["forecast[0]", "forecast[2]"]
    joint = perturbation_importance(model, SEQ, np.column_stack([y["forecast"], y["level"]]), method="permute",
                                    per_output=True, random_state=0, output={"level": None})
    assert joint.output == ["level"]
    assert joint.to_frame().iloc[0]["feature"] == "x3"


def test_a_sequence_output_is_reported_per_time_step_and_channel():
    def model(X):
        return np.stack([X[:, :, 0], -X[:, :, 1]], axis=2)  # (n, T, 2)

    result = perturbation_importance(model, SEQ, model(SEQ), method="permute", per_output=True, random_state=0)
    assert len(result.output) == T * 2
    assert result.output[:3] == ["output[0, 0]", "output[0, 1]", "output[1, 0]"]
    frame = result.to_frame().set_index(["feature", "output"])["importance"]
    assert frame["x1", "output[0, 0]"] > 0 and frame["x1", "output[0, 1]"] == 0.0
