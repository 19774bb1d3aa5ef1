"""Reliability, round two (issue 15): the caller's data is never written; odd inputs get a right answer or an error."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from pyimportance import (
    MethodFailedError,
    ModelOutputError,
    NotRowWiseError,
    perturbation_importance,
)

N, T, F = 40, 4, 3


def _model(X):
    return X[:, -1, 0] - 0.5 * X[:, -2, 1]  # x3 unused


def _shuffle_in_place(values, rng):
    rng.shuffle(values)  # the natural thing to write: it works in place
    return values


def _data(dtype=np.float64):
    return np.random.default_rng(0).normal(size=(N, T, F)).astype(dtype)


# ---------------------------------------------------------------- the caller's data is never written


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_an_in_place_custom_method_never_changes_the_callers_array(dtype, order):
    X = np.asarray(_data(dtype), order=order)
    before = X.copy()
    result = perturbation_importance(_model, X, method=_shuffle_in_place, n_repeats=3, random_state=0)
    np.testing.assert_array_equal(X, before)
    assert result.importances_mean[2] == 0.0  # later jobs saw the original values: x3 stays unused


def test_an_in_place_custom_method_works_on_read_only_X():
    X = _data()
    X.flags.writeable = False
    result = perturbation_importance(_model, X, method=_shuffle_in_place, n_repeats=2, random_state=0)
    assert result.importances_mean[0] > 0


def test_an_in_place_custom_method_never_changes_a_dataframe():
    frame = pd.DataFrame(_data()[:, -1, :], columns=["a", "b", "c"])
    before = frame.copy()
    perturbation_importance(lambda x: x[:, 0] - x[:, 1], frame, method=_shuffle_in_place, random_state=0)
    pd.testing.assert_frame_equal(frame, before)


def test_an_in_place_custom_method_never_changes_a_memory_mapped_file(tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, _data())
    on_disk = np.load(path, mmap_mode="r+")
    perturbation_importance(_model, on_disk, method=_shuffle_in_place, n_repeats=2, random_state=0)
    del on_disk
    np.testing.assert_array_equal(np.load(path), _data())


# ---------------------------------------------------------------- models that are not row-wise


def _standardise_within_batch(X):
    last = X[:, -1, 0]
    return (last - last.mean()) / (last.std() + 1e-9) + 0.0 * X[:, 0, 2]


def test_a_model_that_reads_other_rows_of_the_call_is_refused():
    with pytest.raises(NotRowWiseError, match=r"^model is not row-wise: the predictions for the same rows changed"):
        perturbation_importance(_standardise_within_batch, _data(), random_state=0)


def test_a_random_model_is_refused_too():
    rng = np.random.default_rng(0)
    with pytest.raises(NotRowWiseError, match="no dropout at prediction time"):
        perturbation_importance(lambda x: x[:, -1, 0] + rng.normal(size=len(x)), _data(), random_state=0)


@pytest.mark.keras
def test_a_stateful_keras_model_is_refused_with_the_fix(keras):
    model = keras.Sequential([keras.Input((T, F), batch_size=N), keras.layers.LSTM(3, stateful=True, name="memory"),
                              keras.layers.Dense(1)])
    with pytest.raises(NotRowWiseError) as error:
        perturbation_importance(model, _data(np.float32))
    assert str(error.value).startswith("model has stateful layers ['memory']: their output depends on earlier calls")
    assert "stateful=False" in str(error.value)


# ---------------------------------------------------------------- silently wrong answers, now right or refused


@pytest.mark.parametrize("max_samples", [None, 1])
def test_permutation_on_one_row_warns_and_has_no_interval(max_samples):
    X = _data()[:1] if max_samples is None else _data()
    with pytest.warns(UserWarning, match="cannot move any values between rows"):
        result = perturbation_importance(_model, X, method="permute", max_samples=max_samples, random_state=0)
    np.testing.assert_array_equal(result.importances, 0.0)
    assert np.isnan(result.ci_low).all() and np.isnan(result.ci_high).all()


def test_a_scikit_learn_classifier_is_scored_on_its_probabilities():
    from sklearn import metrics
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3))
    y = (rng.random(400) < 1 / (1 + np.exp(-2 * X[:, 0]))).astype(int)
    classifier = LogisticRegression().fit(X, y)
    result = perturbation_importance(classifier, X, y, loss="log_loss", method="permute", random_state=0)
    assert result.baseline_score == pytest.approx(metrics.log_loss(y, classifier.predict_proba(X)), rel=1e-12)
    assert result.importances_mean[0] > 0.2  # hard labels gave a negative importance here
    binary = perturbation_importance(classifier, X, y, loss="binary_crossentropy", method="permute", random_state=0)
    assert binary.baseline_score == pytest.approx(result.baseline_score, rel=1e-9)
    accuracy = perturbation_importance(classifier, X, y, loss="accuracy", random_state=0)
    assert accuracy.baseline_score == pytest.approx(metrics.accuracy_score(y, classifier.predict(X)))


def test_group_names_that_read_the_same_as_text_are_refused():
    with pytest.raises(ValueError) as error:
        perturbation_importance(_model, _data(), groups={1: ["x1"], "1": ["x2"]})
    assert str(error.value) == (
        "groups must have distinct names, got keys that read the same as text: ['1'] (from [1, '1'])"
    )


def test_a_pandas_y_in_another_order_than_the_dataframe_X_is_refused():
    frame = pd.DataFrame(_data()[:, -1, :], columns=["a", "b", "c"])
    y = pd.Series(frame["a"].to_numpy(), index=frame.index)
    with pytest.raises(ValueError, match=re.escape("y is a pandas object whose index is in another order than X's")):
        perturbation_importance(lambda x: x[:, 0], frame, y.sample(frac=1.0, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        perturbation_importance(lambda x: x[:, 0], frame, y, n_repeats=1)  # aligned: fine


def test_a_pandas_y_with_a_non_default_index_warns_for_array_X():
    y = pd.Series(np.arange(N, dtype=float), index=np.arange(N)[::-1])
    with pytest.warns(UserWarning, match="matched to the rows of X by position"):
        perturbation_importance(_model, _data(), y, n_repeats=1)


def test_a_model_returning_a_reordered_series_is_refused():
    def model(x):
        return pd.Series(x[:, -1, 0], index=np.arange(len(x))[::-1])

    with pytest.raises(ModelOutputError, match="whose index is not 0..n-1 in order"):
        perturbation_importance(model, _data())


# ---------------------------------------------------------------- unclear messages, now clear


def test_groups_with_by_timestep_are_refused():
    with pytest.raises(ValueError) as error:
        perturbation_importance(_model, _data(), by="timestep", groups={"g": ["x1", "x2"]})
    assert str(error.value) == (
        "groups cannot be used with by='timestep', which perturbs all features of a time step together; "
        "use by='cell' for each group at each time step, or by='feature'"
    )


def test_integer_group_members_match_integer_feature_names_or_say_they_are_ambiguous():
    names = ["2020", "2021", "2022"]
    by_name = perturbation_importance(_model, _data(), feature_names=names, groups={"g": [2020]}, random_state=0)
    by_text = perturbation_importance(_model, _data(), feature_names=names, groups={"g": ["2020"]}, random_state=0)
    np.testing.assert_array_equal(by_name.importances, by_text.importances)
    with pytest.raises(ValueError) as error:
        perturbation_importance(_model, _data(), feature_names=["2", "0", "1"], groups={"g": [1]})
    assert str(error.value) == (
        "groups['g'] member 1 is ambiguous: feature names are numbers too; pass the name as text ('1') "
        "or the position of another feature"
    )


@pytest.mark.parametrize(
    ("method", "message"),
    [
        (lambda v, rng: v * np.nan,
         "method (a custom perturbation) returned NaN or infinite values (160 of 160); it must return finite "
         "numbers, while perturbing feature 'x1'"),
        (lambda v, rng: np.full(v.shape, "a"),
         "method (a custom perturbation) must return numbers, got ndarray of dtype <U1, while perturbing feature 'x1'"),
        (lambda v, rng: 1 / 0,
         "method (<lambda>) failed while perturbing feature 'x1': ZeroDivisionError: division by zero"),
    ],
    ids=["NaN", "strings", "raises"],
)
def test_a_failing_custom_method_names_the_unit_and_is_not_blamed_on_the_model(method, message):
    with pytest.raises(MethodFailedError) as error:
        perturbation_importance(_model, _data(), method=method, n_repeats=1)
    assert str(error.value) == message


def test_a_model_whose_output_width_changes_is_named():
    def model(x):
        return np.stack([x[:, -1, 0]] * (2 if len(x) == N else 3), axis=1)

    with pytest.raises(ModelOutputError) as error:
        perturbation_importance(model, _data(), batch_size=N + 5)
    assert str(error.value) == (
        "model returned output of per-row shape (3,) in this call but (2,) in an earlier one; "
        "the model must return the same shape for every call"
    )


def test_a_model_returning_a_list_of_rows_works():
    X = _data()
    as_list = perturbation_importance(lambda x: _model(x)[:, None].tolist(), X, random_state=0)
    as_array = perturbation_importance(_model, X, random_state=0)
    np.testing.assert_array_equal(as_list.importances, as_array.importances)


def test_sequence_output_with_one_column_y_says_how_many_values_each_row_has():
    with pytest.raises(ValueError) as error:
        perturbation_importance(lambda x: x[:, :, :1] * 2.0, _data(), _data()[:, -1, 0])
    assert str(error.value) == (
        "y must have one column per model output (4), got 1 column(s) (the model returns an array of shape (4, 1) "
        "per row)"
    )


def test_a_huge_batch_size_is_capped_at_the_rows_there_are():
    small = perturbation_importance(_model, _data(), batch_size=10**12, random_state=0)
    assert np.isfinite(small.importances).all()
