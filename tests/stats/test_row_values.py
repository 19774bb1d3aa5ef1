"""Per-row importances (pyimportance.stats.row_values and ImportanceResult.row_importances): their mean is
the importance to rtol 1e-12 for every loss that is a mean over rows, a row's value is its recipient and
donor terms combined, and runs without them say why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pyimportance import perturbation_importance
from pyimportance.stats.accumulator import RowAccumulator
from pyimportance.stats.row_values import ROW_VALUES_KEPT, kept_row_statistics, row_importances

RNG = np.random.default_rng(0)
X = RNG.normal(size=(300, 3))
Y = X[:, 0] + 0.3 * X[:, 1] + 0.1 * RNG.normal(size=300)
LABELS = (X[:, 0] + 0.5 * RNG.normal(size=300) > 0).astype(int)


def _linear(x):
    return x[:, 0] + 0.3 * x[:, 1]


def _probabilities(x):
    positive = 1 / (1 + np.exp(-2 * x[:, 0]))
    return np.column_stack([1 - positive, positive])


def _assert_mean_is_the_importance(result):
    np.testing.assert_allclose(np.nanmean(result.row_importances, axis=0), result.importances_mean, rtol=1e-12,
                               atol=0)


@pytest.mark.parametrize("method", ["permute", "resample", "conditional", "gaussian", "zero"])
def test_the_row_importances_average_to_the_importance_under_every_method(method):
    result = perturbation_importance(_linear, X, Y, method=method, n_repeats=3, random_state=0)
    assert result.row_importances.shape == (300, 3)
    _assert_mean_is_the_importance(result)


@pytest.mark.parametrize(("loss", "target", "model"), [
    ("mae", Y, _linear), ("accuracy", LABELS, _probabilities), ("log_loss", LABELS, _probabilities),
    (lambda y_true, y_pred: (y_true - y_pred) ** 2, Y, _linear), (None, None, _linear),
], ids=["mae", "accuracy", "log_loss", "per-row custom", "no y"])
def test_the_row_importances_average_to_the_importance_for_every_mean_over_rows(loss, target, model):
    _assert_mean_is_the_importance(perturbation_importance(model, X, target, loss=loss, method="permute",
                                                           n_repeats=2, random_state=1))


def test_per_output_row_importances_have_an_output_axis():
    result = perturbation_importance(lambda x: x[:, :2], X, np.column_stack([Y, Y]), per_output=True,
                                     method="permute", random_state=0)
    assert result.row_importances.shape == (300, 3, 2)
    _assert_mean_is_the_importance(result)


def test_rows_not_evaluated_before_early_stopping_are_nan_and_left_out_of_the_mean():
    W = np.random.default_rng(2).normal(size=(3000, 4, 2))
    result = perturbation_importance(lambda x: x[:, -1, 0], W, W[:, -1, 0], by="cell", tolerance=0.2,
                                     method="permute", random_state=0)
    assert result.n_rows_used == 2000
    assert np.isnan(result.row_importances).all(axis=(1)).sum() == 1000
    _assert_mean_is_the_importance(result)


def test_a_permuted_rows_value_is_the_mean_of_its_recipient_and_donor_increases():
    accumulator = RowAccumulator(n_units=1, n_rows=4, track_donors=True)
    accumulator.add(0, np.arange(4), np.array([1.0, 2.0, 3.0, 6.0]), np.array([1, 0, 3, 2]))
    accumulator.add(0, np.arange(4), np.array([4.0, 0.0, 0.0, 0.0]), np.array([3, 2, 1, 0]))
    # row 0: recipient 1 + 4, donor 2 (to row 1) + 0 (to row 3): (5 + 2) / 4
    np.testing.assert_allclose(row_importances(accumulator.statistics())[:, 0, 0], [7 / 4, 3 / 4, 9 / 4, 13 / 4])


def test_without_donors_a_rows_value_is_its_mean_increase():
    accumulator = RowAccumulator(n_units=1, n_rows=3, track_donors=False)
    accumulator.add(0, np.arange(3), np.array([1.0, 2.0, 6.0]), None)
    accumulator.add(0, np.arange(3), np.array([3.0, 2.0, 0.0]), None)
    np.testing.assert_allclose(row_importances(accumulator.statistics())[:, 0, 0], [2.0, 2.0, 3.0])


def test_rmse_a_one_number_loss_and_the_repeats_interval_say_why_there_are_no_row_importances():
    cases = [
        (dict(loss="rmse"), "loss='rmse' is the root of a mean over rows, not a mean: it has no per-row importances; "
                            "loss='mse' has them"),
        (dict(loss=lambda y_true, y_pred: float(np.mean((y_true - y_pred) ** 2))),
         "the loss gives one number for a set of rows (a custom loss without per-row values): there are no per-row "
         "importances; a loss returning one value per row has them"),
        (dict(ci="repeats"), "row importances are kept with ci='data', which adds up each row's loss increases; "
                             "got ci='repeats'"),
    ]
    for options, message in cases:
        result = perturbation_importance(_linear, X, Y, n_repeats=2, random_state=0, **options)
        with pytest.raises(ValueError) as error:
            _ = result.row_importances
        assert str(error.value) == message


def test_more_values_than_are_kept_say_how_many_and_what_to_do():
    accumulator = RowAccumulator(n_units=4, n_rows=ROW_VALUES_KEPT // 4 + 1, track_donors=False)
    statistics, note = kept_row_statistics(accumulator, ["mean"], "data")
    assert statistics is None
    assert note == ("row importances are kept up to 1,000,000 values (units x rows x outputs), got "
                    "4 x 250001 x 1 = 1,000,004; evaluate fewer rows (max_samples) or units")


def test_the_long_frame_labels_each_row_by_the_data_frames_index():
    frame = pd.DataFrame(X, columns=["a", "b", "c"], index=pd.date_range("2024-01-01", periods=300, name="day"))
    result = perturbation_importance(_linear, frame, Y, method="permute", max_samples=100, n_repeats=2,
                                     random_state=0)
    rows = result.to_frame(rows=True)
    assert list(rows.columns) == ["row", "feature", "importance"]
    assert len(rows) == 300 and rows["feature"].tolist()[:1] == ["a"]
    assert rows["row"].iloc[:100].tolist() == list(result.row_index) and result.row_index.isin(frame.index).all()
    np.testing.assert_allclose(rows.groupby("feature", sort=False)["importance"].mean(), result.importances_mean,
                               rtol=1e-12)


def test_the_long_frame_of_cells_has_their_time_steps_and_0_based_row_positions():
    W = np.random.default_rng(3).normal(size=(50, 3, 2))
    result = perturbation_importance(lambda x: x[:, -1, 0], W, W[:, -1, 0], by="cell", method="permute",
                                     random_state=0)
    rows = result.to_frame(rows=True)
    assert list(rows.columns) == ["row", "feature", "timestep", "importance"]
    assert rows["row"].tolist()[:3] == [0, 1, 2] and len(rows) == 50 * 6
    assert rows[["feature", "timestep"]].drop_duplicates().shape == (6, 2)
