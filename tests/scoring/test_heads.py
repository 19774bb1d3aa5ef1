"""How the run's scoring is built from the model's outputs, the targets and ``output=``
(pyimportance.scoring.heads): heads scored apart with ``per_output``, one loss per head, heads
and columns selected by ``output``, one number per forecast horizon or per time step and channel
of a sequence output.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import MULTI_F as F
from helpers import MULTI_T as T
from helpers import SEQ

from pyimportance import perturbation_importance


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
    figure = result.plot()  # one panel (and colour scale) per head
    assert [ax.images[0].get_array().shape for ax in figure.axes if ax.images] == [(F, 1), (F, 1)]


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


def three_horizons(X):
    return np.stack([X[:, -1, 0], X[:, -1, 1], X[:, -1, 2]], axis=1)


def test_output_columns_take_y_with_only_those_columns():
    Y = three_horizons(SEQ) + 0.25
    chosen_only = perturbation_importance(three_horizons, SEQ, Y[:, [0, 2]], output={0: [0, 2]}, method="zero")
    all_columns = perturbation_importance(three_horizons, SEQ, Y, output={0: [0, 2]}, method="zero")
    np.testing.assert_array_equal(chosen_only.importances, all_columns.importances)
    assert chosen_only.to_frame().set_index("feature")["importance"]["x2"] == 0.0  # column 1 is not scored
    assert chosen_only.baseline_score == pytest.approx(0.0625)


def test_output_columns_with_y_of_another_width_say_both_accepted_widths():
    Y = three_horizons(SEQ)
    with pytest.raises(ValueError) as error:
        perturbation_importance(three_horizons, SEQ, np.hstack([Y, Y]), output={0: [0, 2]}, method="zero")
    assert str(error.value) == "y must hold all 3 columns or only the 2 chosen by output, got 6 column(s)"


def test_a_dict_y_of_one_target_must_name_the_head():
    with pytest.raises(ValueError) as error:
        perturbation_importance(three_horizons, SEQ, {"forecast": three_horizons(SEQ)}, method="zero")
    assert str(error.value) == "y names unknown output heads ['forecast']; the model's heads are ['output']"
