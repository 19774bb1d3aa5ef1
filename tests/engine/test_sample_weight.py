"""``sample_weight`` in perturbation importance: every score the weighted mean sum(w l) / sum(w), checked
against hand loops, scikit-learn's weighted metrics, repeated and removed rows, under ``max_samples`` and
``tolerance``, for custom losses and for a loss's own row weights (``ignore_class``)."""

from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.metrics import log_loss, mean_squared_error

from pyimportance import perturbation_importance
from pyimportance.scoring.losses import LOSSES, Loss, squared_error

COEF = np.array([2.0, 0.5, 0.0])
N = 300


def linear(x):
    return np.asarray(x) @ COEF


def _data(n=N, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = linear(X) + 0.3 * rng.normal(size=n)
    return X, y, rng.uniform(0.0, 3.0, size=n)


def _weighted_mse(X, y, w):
    return np.sum(w * (linear(X) - y) ** 2) / np.sum(w)


def test_the_zero_method_gives_the_weighted_mean_of_a_hand_loop():
    X, y, w = _data()
    result = perturbation_importance(linear, X, y, method="zero", sample_weight=w)
    expected = []
    for j in range(3):
        zeroed = X.copy()
        zeroed[:, j] = 0.0
        expected.append(_weighted_mse(zeroed, y, w) - _weighted_mse(X, y, w))
    np.testing.assert_allclose(result.importances_mean, expected, rtol=1e-12)
    np.testing.assert_allclose(result.baseline_score, _weighted_mse(X, y, w), rtol=1e-12)
    unweighted = perturbation_importance(linear, X, y, method="zero")
    assert abs(unweighted.importances_mean[0] - expected[0]) > 0.05  # the weights matter here


def test_the_baseline_is_scikit_learns_weighted_metric():
    X, y, w = _data()
    np.testing.assert_allclose(perturbation_importance(linear, X, y, sample_weight=w, random_state=0).baseline_score,
                               mean_squared_error(y, linear(X), sample_weight=w), rtol=1e-12)
    labels = (y > 0).astype(float)

    def probability(x):
        return 1 / (1 + np.exp(-linear(x)))

    result = perturbation_importance(probability, X, labels, loss="log_loss", sample_weight=w, random_state=0)
    np.testing.assert_allclose(result.baseline_score, log_loss(labels, probability(X), sample_weight=w), rtol=1e-9)


@pytest.mark.keras
def test_keras_divides_by_the_number_of_rows_where_we_divide_by_the_weights():
    import keras
    X, y, w = _data()
    ours = perturbation_importance(linear, X, y, sample_weight=w, random_state=0).baseline_score
    losses = (linear(X) - y) ** 2
    keras_mean = float(keras.losses.MeanSquaredError()(y[:, None], linear(X)[:, None], sample_weight=w))
    np.testing.assert_allclose(keras_mean, np.sum(w * losses) / N, rtol=1e-5)
    np.testing.assert_allclose(ours, np.sum(w * losses) / np.sum(w), rtol=1e-12)
    np.testing.assert_allclose(keras_mean / ours, np.sum(w) / N, rtol=1e-5)


@pytest.mark.parametrize("method", ["zero", "mean"])
def test_integer_weights_equal_repeated_rows_for_deterministic_methods(method):
    X, y, _ = _data()
    counts = np.random.default_rng(1).integers(0, 4, size=N)
    repeated = np.repeat(np.arange(N), counts)
    weighted = perturbation_importance(linear, X, y, method=method, sample_weight=counts)
    copies = perturbation_importance(linear, X[repeated], y[repeated], method=method)
    if method == "zero":
        np.testing.assert_allclose(weighted.importances_mean, copies.importances_mean, rtol=1e-12)
        np.testing.assert_allclose(weighted.baseline_score, copies.baseline_score, rtol=1e-12)
    else:  # the mean the rows are set to is the data's (unweighted), as any perturbation ignores the weights
        assert not np.allclose(weighted.importances_mean, copies.importances_mean, rtol=1e-6)


def test_weight_zero_removes_a_row():
    X, y, w = _data()
    w[::3] = 0.0
    kept = w > 0
    # blocks of one row: the rows of weight 0 keep their place in the order, so longer blocks differ
    weighted = perturbation_importance(linear, X, y, method="zero", sample_weight=w, block_size=1)
    removed = perturbation_importance(linear, X[kept], y[kept], method="zero", sample_weight=w[kept], block_size=1)
    np.testing.assert_allclose(weighted.importances_mean, removed.importances_mean, rtol=1e-12)
    np.testing.assert_allclose(weighted.std_error, removed.std_error, rtol=1e-9)
    np.testing.assert_allclose(weighted.ci_low, removed.ci_low, rtol=1e-9)
    rows = weighted.row_importances
    assert np.isnan(rows[~kept]).all() and np.isfinite(rows[kept]).all()


def _recipient_means(result):
    """Each row's mean loss increase as a recipient (the unweighted run's own draws)."""
    stats = result.row_statistics
    return stats.recipient_sum[..., 0] / stats.recipient_count  # (n_units, n_rows)


@pytest.mark.parametrize("method", ["gaussian", "permute", "resample", "conditional"])
def test_random_methods_weight_the_same_draws(method):
    X, y, w = _data()
    unweighted = perturbation_importance(linear, X, y, method=method, n_repeats=3, random_state=4)
    weighted = perturbation_importance(linear, X, y, method=method, n_repeats=3, random_state=4, sample_weight=w)
    expected = _recipient_means(unweighted) @ w / w.sum()
    np.testing.assert_allclose(weighted.importances_mean, expected, rtol=1e-10)
    assert np.max(np.abs(weighted.importances_mean - unweighted.importances_mean)) > 1e-3


def test_row_importances_average_to_the_importance_with_the_weights():
    X, y, w = _data()
    for method in ("gaussian", "permute"):
        result = perturbation_importance(linear, X, y, method=method, n_repeats=3, random_state=4, sample_weight=w)
        np.testing.assert_allclose(w @ result.row_importances / w.sum(), result.importances_mean, rtol=1e-9,
                                   atol=1e-12)
    noise = perturbation_importance(linear, X, y, n_repeats=3, random_state=4, sample_weight=w)
    unweighted = perturbation_importance(linear, X, y, n_repeats=3, random_state=4)
    np.testing.assert_allclose(noise.row_importances, unweighted.row_importances, rtol=1e-9, atol=1e-12)


def test_max_samples_weights_the_evaluated_rows():
    X, y, w = _data()
    result = perturbation_importance(linear, X, y, method="zero", max_samples=120, sample_weight=w, random_state=2)
    rows = np.asarray(result.row_index)
    assert len(rows) == 120
    zeroed = X[rows].copy()
    zeroed[:, 0] = 0.0
    expected = _weighted_mse(zeroed, y[rows], w[rows]) - _weighted_mse(X[rows], y[rows], w[rows])
    np.testing.assert_allclose(result.importances_mean[0], expected, rtol=1e-12)


def test_tolerance_weights_every_block():
    X, y, w = _data(n=2500)
    options = dict(n_repeats=2, random_state=5, tolerance=1e-9)  # never met: every block runs in both
    unweighted = perturbation_importance(linear, X, y, **options)
    weighted = perturbation_importance(linear, X, y, sample_weight=w, **options)
    assert weighted.n_rows_used == 2500
    np.testing.assert_allclose(weighted.importances_mean, _recipient_means(unweighted) @ w / w.sum(), rtol=1e-10)


def test_the_data_interval_is_the_ratio_estimators():
    X, y, w = _data()
    result = perturbation_importance(linear, X, y, n_repeats=3, random_state=4, sample_weight=w, block_size=1)
    unweighted = perturbation_importance(linear, X, y, n_repeats=3, random_state=4)
    means = _recipient_means(unweighted)  # each row's mean increase over its 3 repeats
    estimate = means @ w / w.sum()
    terms = w * (means - estimate[:, None])  # c_j / repeats: the linearized sum(w l) / sum(w)
    rows = np.count_nonzero(w)  # blocks of one row: the usual n / (n - 1) over the rows of positive weight
    expected = np.sqrt((terms**2).sum(axis=1) * rows / (rows - 1)) / w.sum()
    np.testing.assert_allclose(result.std_error, expected, rtol=1e-9)


def test_a_per_row_custom_loss_is_weighted_by_the_engine():
    X, y, w = _data()

    def squared(y_true, y_pred):
        return (y_true - y_pred) ** 2

    custom = perturbation_importance(linear, X, y, loss=squared, random_state=0, sample_weight=w)
    builtin = perturbation_importance(linear, X, y, loss="mse", random_state=0, sample_weight=w)
    np.testing.assert_allclose(custom.importances_mean, builtin.importances_mean, rtol=1e-12)
    assert custom.intervals.method == "data"


def test_a_metric_taking_sample_weight_gets_the_weights_of_the_rows_it_scores():
    X, y, w = _data(n=2500)
    by_target = {value: weight for value, weight in zip(y.tolist(), w.tolist())}
    seen, blocks_seen = [], []

    def weighted_mse(y_true, y_pred, sample_weight=None):
        if sample_weight is not None:  # (called once without: does it give a value per row?)
            seen.append(len(y_true))
            blocks_seen.append(y_true.tolist())
            np.testing.assert_array_equal(sample_weight, [by_target[value] for value in y_true.tolist()])
        return mean_squared_error(y_true, y_pred, sample_weight=sample_weight)

    result = perturbation_importance(linear, X, y, loss=weighted_mse, method="zero", max_samples=2200,
                                     tolerance=1e-9, sample_weight=w, random_state=0)
    assert set(seen) == {733, 734}  # the three blocks of the 2200 rows max_samples chose
    assert len(seen) == 3 * 4 and result.n_rows_used == 2200  # baseline and 3 units, each block
    # each block's score difference, weighted by the block's weight
    position = {value: i for i, value in enumerate(y.tolist())}
    blocks = {tuple(sorted(position[value] for value in values)) for values in blocks_seen}
    assert len(blocks) == 3
    expected = np.zeros(3)
    for block in map(np.array, blocks):
        for j in range(3):
            zeroed = X[block].copy()
            zeroed[:, j] = 0.0
            expected[j] += w[block].sum() * (_weighted_mse(zeroed, y[block], w[block])
                                             - _weighted_mse(X[block], y[block], w[block]))
    np.testing.assert_allclose(result.importances_mean, expected / w[np.concatenate(list(map(list, blocks)))].sum(),
                               rtol=1e-10)
    one_block = perturbation_importance(linear, X, y, loss=mean_squared_error, method="zero", sample_weight=w)
    builtin = perturbation_importance(linear, X, y, method="zero", sample_weight=w)
    np.testing.assert_allclose(one_block.importances_mean, builtin.importances_mean, rtol=1e-12)


def test_a_loss_giving_one_number_without_sample_weight_is_refused():
    X, y, w = _data()

    def mean_error(y_true, y_pred):
        return float(np.mean((y_true - y_pred) ** 2))

    with pytest.raises(ValueError, match=r"loss \(mean_error\) gives one number for a set of rows and takes no "
                                         r"sample_weight, so it cannot be weighted by sample_weight"):
        perturbation_importance(linear, X, y, loss=mean_error, sample_weight=w)


@dataclass(frozen=True)
class _IgnoringLoss(Loss):
    """A loss counting only the rows whose label is not 0 (what ``ignore_class=0`` does), per the contract."""

    def row_weights(self, y_true):
        return (np.asarray(y_true).reshape(len(y_true), -1)[:, 0] != 0).astype(np.float64)


def test_a_losss_row_weights_multiply_the_sample_weights(monkeypatch):
    X, y, w = _data()
    labels = np.round(y).clip(-1, 1)  # -1, 0 or 1; rows with label 0 are "ignored"
    ignoring = _IgnoringLoss("mse", squared_error, kind="regression")
    monkeypatch.setattr("pyimportance.engine.preparation.resolve_losses", lambda loss, has_y: ignoring)
    counted = perturbation_importance(linear, X, labels, method="zero", sample_weight=w)
    alone = perturbation_importance(linear, X, labels, method="zero")
    monkeypatch.setattr("pyimportance.engine.preparation.resolve_losses", lambda loss, has_y: LOSSES["mse"])
    kept = labels != 0
    by_hand = perturbation_importance(linear, X, labels, method="zero", sample_weight=w * kept)
    np.testing.assert_allclose(counted.importances_mean, by_hand.importances_mean, rtol=1e-12)
    only_counted = perturbation_importance(linear, X[kept], labels[kept], method="zero")
    np.testing.assert_allclose(alone.importances_mean, only_counted.importances_mean, rtol=1e-12)


def test_a_constant_count_per_row_is_no_weight_and_heads_that_differ_are_refused():
    from pyimportance.scoring.scoring import Head, OutputUnit, Part, Scoring

    def head(name, loss, target):
        return Head(name, np.array([0]), (name,), (1,), loss, target)

    labels = np.array([0.0, 1.0, 2.0, 1.0])
    ignoring = _IgnoringLoss("mse", squared_error, kind="regression")
    constant = Scoring([head("a", ignoring, np.ones(4))], [OutputUnit("(all)", (Part(0, None),))])
    assert constant.with_weights(None) is constant
    one = Scoring([head("a", ignoring, labels)], [OutputUnit("(all)", (Part(0, None),))])
    np.testing.assert_array_equal(one.with_weights(np.array([1.0, 2.0, 3.0, 4.0])).row_weights, [0.0, 2.0, 3.0, 4.0])
    two = Scoring([head("a", ignoring, labels), head("b", LOSSES["mse"], labels)],
                  [OutputUnit("(all)", (Part(0, None), Part(1, None)))])
    with pytest.raises(ValueError, match=r"a loss that leaves label elements out \(ignore_class\) on one of several "
                                         r"output heads cannot share one mean over rows with the others; score that "
                                         r"head alone \(output\)"):
        two.with_weights(None)


def test_an_executor_gives_the_local_weighted_numbers():
    from concurrent.futures import ThreadPoolExecutor

    X, y, w = _data()
    local = perturbation_importance(linear, X, y, method="permute", n_repeats=3, random_state=4, sample_weight=w)
    with ThreadPoolExecutor(2) as executor:
        spread = perturbation_importance(linear, X, y, method="permute", n_repeats=3, random_state=4,
                                         sample_weight=w, executor=executor, task_size=2)
    np.testing.assert_array_equal(spread.importances, local.importances)
    np.testing.assert_array_equal(spread.std_error, local.std_error)


def test_without_y_the_prediction_change_is_weighted():
    X, _, w = _data()
    result = perturbation_importance(linear, X, method="zero", sample_weight=w)
    expected = [np.sum(w * np.abs(X[:, j] * COEF[j])) / w.sum() for j in range(3)]
    np.testing.assert_allclose(result.importances_mean, expected, rtol=1e-12)


@pytest.mark.keras
@pytest.mark.keras3  # dice: a Keras 3 loss
def test_a_keras_loss_of_all_rows_at_once_is_refused_with_weights():
    X, y, w = _data()
    labels = (y > 0).astype(float)
    with pytest.raises(ValueError, match=r"loss \(dice\) gives one number for a set of rows and takes no "
                                         r"sample_weight, so it cannot be weighted by sample_weight; use a loss with "
                                         r"a value per row"):
        perturbation_importance(lambda x: 1 / (1 + np.exp(-linear(x))), X, labels, loss="dice", sample_weight=w)


def test_every_kind_of_loss_takes_the_weighted_mean():
    from sklearn.metrics import accuracy_score, mean_absolute_error

    X, y, w = _data()
    prediction = linear(X)
    baseline = {
        "rmse": np.sqrt(mean_squared_error(y, prediction, sample_weight=w)),
        "mae": mean_absolute_error(y, prediction, sample_weight=w),
    }
    for loss, expected in baseline.items():
        result = perturbation_importance(linear, X, y, loss=loss, method="zero", sample_weight=w)
        np.testing.assert_allclose(result.baseline_score, expected, rtol=1e-12)
    labels = (y > 0).astype(float)
    probabilities = 1 / (1 + np.exp(-2 * prediction))
    result = perturbation_importance(lambda x: 1 / (1 + np.exp(-2 * linear(x))), X, labels, loss="accuracy",
                                     method="zero", sample_weight=w)
    np.testing.assert_allclose(result.baseline_score, accuracy_score(labels, probabilities > 0.5, sample_weight=w),
                               rtol=1e-12)


@pytest.mark.keras
def test_a_loss_keras_computes_per_row_is_weighted():
    X, y, w = _data()
    y_positive, shifted = np.abs(y), np.abs(linear(X)) + 0.1
    result = perturbation_importance(lambda x: np.abs(linear(x)) + 0.1, X, y_positive, loss="huber", method="zero",
                                     sample_weight=w)
    error = np.abs(shifted - y_positive)
    huber = np.where(error <= 1.0, 0.5 * error**2, error - 0.5)
    np.testing.assert_allclose(result.baseline_score, np.sum(w * huber) / w.sum(), rtol=1e-5)
