"""Output heads known by their names (pyimportance.scoring.heads with the model's names): a Keras 3
model built on a dict of outputs is matched by its keys, in ``y``, ``loss`` and ``output``, and
labelled by them; a single head answers to its output layer's name as well as to ``"output"``;
``output={head: [columns]}`` takes ``y`` with all the head's columns or only the chosen ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pyimportance import perturbation_importance

N, T, F = 48, 5, 3


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(11).normal(size=(N, T, F)).astype(np.float32)


def _reader(keras, flat, name, feature, weight, activation=None, units=1):
    """A Dense head reading only ``feature`` at the last step (weight ``weight`` on it, 0 elsewhere)."""
    layer = keras.layers.Dense(units, activation=activation, name=name)
    out = layer(flat)
    kernel = np.zeros((T * F, units), dtype=np.float32)
    kernel[(T - 1) * F + feature, :] = weight * np.arange(1, units + 1)
    layer.set_weights([kernel, np.zeros(units, dtype=np.float32)])
    return out


def sales_churn_model(keras):
    """keras.Model(inp, {"sales": ..., "churn": ...}): sales reads x1, churn (a sigmoid) reads x2."""
    inp = keras.Input((T, F), name="seq")
    flat = keras.layers.Flatten()(inp)
    sales = _reader(keras, flat, "dense_sales", 0, 2.0)
    churn = _reader(keras, flat, "dense_churn", 1, 3.0, activation="sigmoid")
    return keras.Model(inp, {"sales": sales, "churn": churn})


def sales_churn_y(X):
    return {"sales": 2.0 * X[:, -1, 0] + 0.1, "churn": (X[:, -1, 1] > 0).astype(float)}


@pytest.mark.keras
def test_dict_outputs_are_matched_and_labelled_by_their_keys(keras, X):
    model = sales_churn_model(keras)
    losses = {"sales": "mse", "churn": "binary_crossentropy"}
    result = perturbation_importance(model, X, sales_churn_y(X), loss=losses, per_output=True,
                                     method="permute", n_repeats=3, random_state=0)
    assert result.output == ["churn", "sales"]
    frame = result.to_frame().set_index(["feature", "output"])["importance"]
    assert frame["x1", "sales"] > 1.0 and frame["x1", "churn"] == 0.0
    assert frame["x2", "churn"] > 0.2 and frame["x2", "sales"] == 0.0
    # the baseline per head is what Keras' own evaluate gives for the same y and losses
    model.compile(loss=losses)
    # (one batch: Keras averages the per-head losses over batches unweighted)
    keras_losses = model.evaluate(X, sales_churn_y(X), batch_size=N, verbose=0, return_dict=True)
    # (Keras 3 names them by key, Keras 2 by output layer)
    by_head = [keras_losses.get(f"{key}_loss", keras_losses.get(f"dense_{key}_loss")) for key in ("churn", "sales")]
    np.testing.assert_allclose(result.baseline_scores, by_head, rtol=1e-4)


@pytest.mark.keras
def test_dict_outputs_selected_by_key_or_by_layer_name(keras, X):
    model = sales_churn_model(keras)
    y = sales_churn_y(X)
    by_key = perturbation_importance(model, X, y, loss={"sales": "mae"}, output="sales", method="permute",
                                     random_state=0)
    by_layer = perturbation_importance(model, X, {"dense_sales": y["sales"], "churn": y["churn"]},
                                       loss={"dense_sales": "mae"}, output="dense_sales", method="permute",
                                       random_state=0)
    np.testing.assert_array_equal(by_key.importances, by_layer.importances)
    assert by_key.settings["loss"] == "mae"
    assert by_key.baseline_score == pytest.approx(0.1, rel=1e-5)  # |2 x1 - (2 x1 + 0.1)|


@pytest.mark.keras
def test_y_naming_some_heads_scores_those_chosen_by_output(keras, X):
    model = sales_churn_model(keras)
    sales = sales_churn_y(X)["sales"]
    result = perturbation_importance(model, X, {"sales": sales}, output="sales", method="permute", random_state=0)
    assert result.baseline_score == pytest.approx(0.01, rel=1e-4)
    with pytest.raises(ValueError) as error:
        perturbation_importance(model, X, {"sales": sales}, method="permute", random_state=0)
    assert str(error.value) == (
        "y must have one target per model output head (2: ['churn', 'sales'] (their layers: ['dense_churn', "
        "'dense_sales'])), got none for ['churn']; give them one, or score only the heads y names with output "
        "['sales']"
    )


@pytest.mark.keras
def test_unknown_head_names_list_the_keys(keras, X):
    model = sales_churn_model(keras)
    y = sales_churn_y(X)
    with pytest.raises(ValueError) as error:
        perturbation_importance(model, X, {"sale": y["sales"], "churn": y["churn"]}, random_state=0)
    assert str(error.value) == ("y names unknown output heads ['sale']; the model's heads are ['churn', 'sales'] "
                                "(their layers: ['dense_churn', 'dense_sales'])")


@pytest.mark.keras
def test_y_as_a_data_frame_for_a_named_head(keras, X):
    model = sales_churn_model(keras)
    y = sales_churn_y(X)
    frame_y = {"sales": pd.DataFrame({"sales": y["sales"]}), "churn": pd.Series(y["churn"])}
    losses = {"churn": "log_loss"}
    from_frames = perturbation_importance(model, X, frame_y, loss=losses, method="permute", random_state=0)
    from_arrays = perturbation_importance(model, X, y, loss=losses, method="permute", random_state=0)
    np.testing.assert_array_equal(from_frames.importances, from_arrays.importances)


@pytest.mark.keras
def test_list_outputs_are_known_by_their_layers_names(keras, X):
    inp = keras.Input((T, F))
    flat = keras.layers.Flatten()(inp)
    model = keras.Model(inp, [_reader(keras, flat, "level", 0, 1.0), _reader(keras, flat, "trend", 2, 1.0)])
    y = {"trend": X[:, -1, 2], "level": X[:, -1, 0]}
    result = perturbation_importance(model, X, y, per_output=True, method="permute", random_state=0)
    assert result.output == ["level", "trend"]
    frame = result.to_frame().set_index(["feature", "output"])["importance"]
    assert frame["x3", "trend"] > 0.5 and frame["x3", "level"] == 0.0


@pytest.mark.keras
def test_a_subclassed_model_returning_a_dict_is_labelled_by_its_keys(keras, X):
    class TwoHeads(keras.Model):
        def call(self, x):
            return {"b_second": x[:, -1, 1:2] * 3.0, "a_first": x[:, -1, 0:1]}

    result = perturbation_importance(TwoHeads(), X, per_output=True, method="permute", random_state=0)
    assert result.output == ["a_first", "b_second"]
    frame = result.to_frame().set_index(["feature", "output"])["importance"]
    assert frame["x2", "b_second"] > 1.0 and frame["x2", "a_first"] == 0.0


@pytest.mark.keras
@pytest.mark.parametrize("sequential", [True, False])
def test_a_single_head_answers_to_its_layer_name(keras, X, sequential):
    flat_input = keras.Input((T, F))
    if sequential:
        model = keras.Sequential([flat_input, keras.layers.Flatten(), keras.layers.Dense(3, name="forecast")])
        kernel = np.zeros((T * F, 3), dtype=np.float32)
        kernel[(T - 1) * F + np.arange(3), np.arange(3)] = 1.0
        model.layers[-1].set_weights([kernel, np.zeros(3, dtype=np.float32)])
    else:
        flat = keras.layers.Flatten()(flat_input)
        model = keras.Model(flat_input, _reader(keras, flat, "forecast", 0, 1.0, units=3))
    Y = model.predict(X, verbose=0).astype(np.float64) + 0.5
    by_name = perturbation_importance(model, X, Y[:, :2], output={"forecast": [0, 1]}, method="zero")
    by_word = perturbation_importance(model, X, Y, output={"output": [0, 1]}, method="zero")
    np.testing.assert_allclose(by_name.importances, by_word.importances, rtol=1e-12)
    assert by_name.baseline_score == pytest.approx(0.25, rel=1e-5)


@pytest.mark.keras
def test_the_documented_multi_output_example_runs_as_shown():
    from pathlib import Path

    guide = (Path(__file__).parents[2] / "docs" / "guides" / "inputs-outputs-padding.md").read_text()
    start = guide.index("```python\n# a sequence input plus static covariates, two named output heads")
    code = guide[start + len("```python\n"):guide.index("```", start + 3)]
    namespace: dict = {}
    exec(compile(code, "docs/guides/inputs-outputs-padding.md", "exec"), namespace)  # noqa: S102 - our own docs
    result, sales = namespace["result"], namespace["sales"]
    assert result.output == ["churn", "sales"]
    frame = result.to_frame()
    top = frame.groupby("output")["importance"].idxmax()
    assert frame.loc[top["sales"], "feature"] == "price" and frame.loc[top["churn"], "feature"] == "promo"
    np.testing.assert_allclose(sales.importances, result.importances[:, :, 1], rtol=1e-6)


@pytest.mark.keras
def test_three_named_outputs_of_different_shapes(keras, X):
    inp = keras.Input((T, F))
    steps = keras.layers.GRU(4, return_sequences=True)(inp)
    model = keras.Model(inp, {
        "path": keras.layers.Dense(2)(steps),  # (n, T, 2): a sequence head
        "horizons": keras.layers.Dense(3)(keras.layers.Flatten()(steps)),
        "flag": keras.layers.Dense(1, activation="sigmoid")(keras.layers.GlobalAveragePooling1D()(steps)),
    })
    predicted = model.predict(X, verbose=0)
    y = {"path": predicted["path"] + 0.1, "horizons": predicted["horizons"] + 0.2,
         "flag": (predicted["flag"][:, 0] > 0.5).astype(float)}
    result = perturbation_importance(model, X, y, loss={"flag": "log_loss"}, per_output=True, method="permute",
                                     n_repeats=2, random_state=0)
    assert result.output == ["flag", "horizons[0]", "horizons[1]", "horizons[2]"] + [
        f"path[{t}, {j}]" for t in range(T) for j in range(2)]
    np.testing.assert_allclose(result.baseline_scores[1:], [0.04] * 3 + [0.01] * (2 * T), rtol=1e-5)
    two = perturbation_importance(model, X, {"horizons": y["horizons"][:, [0, 2]]}, output={"horizons": [0, 2]},
                                  method="permute", n_repeats=2, random_state=0)
    assert two.baseline_score == pytest.approx(0.04, rel=1e-5)
    panels = [ax.get_title() for ax in result.plot().axes if ax.images]
    assert panels == ["flag", "horizons", "path"]


@pytest.mark.keras
def test_a_keras_2_model_with_named_outputs(keras2, X):
    inp = keras2.Input((T, F))
    hidden = keras2.layers.GRU(4)(inp)
    model = keras2.Model(inp, {"sales": keras2.layers.Dense(1, name="d_sales")(hidden),
                                 "churn": keras2.layers.Dense(1, activation="sigmoid", name="d_churn")(hidden)})
    predicted = model.predict(X, verbose=0)
    y = {"sales": predicted["sales"][:, 0] + 0.1, "churn": (predicted["churn"][:, 0] > 0.5).astype(float)}
    result = perturbation_importance(model, X, y, loss={"churn": "log_loss"}, per_output=True, method="permute",
                                     n_repeats=2, random_state=0)
    assert result.output == ["churn", "sales"]
    assert result.baseline_scores[1] == pytest.approx(0.01, rel=1e-4)
    by_layer = perturbation_importance(model, X, {"d_sales": y["sales"]}, output="d_sales", method="permute",
                                       n_repeats=2, random_state=0)
    np.testing.assert_allclose(by_layer.importances, result.importances[:, :, 1], rtol=1e-6)
