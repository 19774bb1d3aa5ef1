"""Every bad input gets a clear error naming the argument, the expectation and the value given,
and the caller's data is never touched, whether the error comes before or during the run."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from pyimportance import ModelFailedError, ModelOutputError, perturbation_importance

N_SAMPLES, N_TIMESTEPS, N_FEATURES = 12, 4, 3


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.normal(size=(N_SAMPLES, N_TIMESTEPS, N_FEATURES)), rng.normal(size=N_SAMPLES)


def linear_model(x: np.ndarray) -> np.ndarray:
    """One output per row: a weighted sum over all inputs (2D or 3D)."""
    return x.reshape(len(x), -1).sum(axis=1)


def _with(position: int, value):
    """Put ``value`` into X[position] (flat index) of a copy."""

    def make(X, y):
        X = X.copy()
        X.flat[position] = value
        return X

    return make


def _sigmoid_model(x):
    return 1.0 / (1.0 + np.exp(-linear_model(x)))


def _three_class_model(x):
    return np.full((len(x), 3), 1.0 / 3.0)


# Each case: (overrides, expected exception, exact message). ``overrides`` may replace the model,
# X or y (a value or a function of the base (X, y)) and add keyword arguments.
CASES = {
    # --- X ---
    "X 1D": (dict(X=lambda X, y: X[:, 0, 0]), ValueError,
             "X must be 2D (n_samples, n_features) or 3D (n_samples, n_timesteps, n_features), "
             "got an array of shape (12,)"),
    "X 4D": (dict(X=lambda X, y: X[..., None]), ValueError,
             "X must be 2D (n_samples, n_features) or 3D (n_samples, n_timesteps, n_features), "
             "got an array of shape (12, 4, 3, 1)"),
    "X scalar": (dict(X=3.0), ValueError,
                 "X must be 2D (n_samples, n_features) or 3D (n_samples, n_timesteps, n_features), "
                 "got an array of shape ()"),
    "X no rows": (dict(X=lambda X, y: X[:0], y=None), ValueError,
                  "X must not be empty, got an array of shape (0, 4, 3)"),
    "X no features": (dict(X=lambda X, y: X[:, :, :0]), ValueError,
                      "X must not be empty, got an array of shape (12, 4, 0)"),
    "X NaN": (dict(X=_with(5, np.nan)), ValueError,
              "X must not contain NaN or infinite values, got nan at X[0, 1, 2]; remove or impute them first"),
    "X inf": (dict(X=_with(N_TIMESTEPS * N_FEATURES * 3, -np.inf)), ValueError,
              "X must not contain NaN or infinite values, got -inf at X[3, 0, 0]; remove or impute them first"),
    "X DataFrame with string column": (
        dict(X=lambda X, y: pd.DataFrame({"a": X[:, 0, 0], "b": ["u"] * N_SAMPLES, "c": X[:, 0, 1]})),
        TypeError, "X must contain only numeric columns, got non-numeric columns ['b']"),
    "X DataFrame with categorical column": (
        dict(X=lambda X, y: pd.DataFrame({"a": X[:, 0, 0], "kind": pd.Categorical(["u", "v"] * (N_SAMPLES // 2))})),
        TypeError, "X must contain only numeric columns, got non-numeric columns ['kind']"),
    "X DataFrame with a missing value": (
        dict(X=lambda X, y: pd.DataFrame({"a": X[:, 0, 0], "n": pd.array([1, None] + [2] * (N_SAMPLES - 2),
                                                                           dtype="Int64")})),
        ValueError, "X must not contain NaN or infinite values, got nan at X[1, 1]; remove or impute them first"),
    "X object array": (dict(X=lambda X, y: X[:, 0, :].astype(object)), TypeError,
                       "X must be numeric, got an array of dtype object"),
    "X strings": (dict(X=lambda X, y: X[:, 0, :].astype(str).astype("U3")), TypeError,
                  "X must be numeric, got an array of dtype <U3"),
    "X None": (dict(X=None), TypeError, "X must be numeric, got an array of dtype object"),
    # --- y ---
    "y too short": (dict(y=lambda X, y: y[:5]), ValueError,
                    "y must have one row per sample of X (12), got 5 rows"),
    "y too long": (dict(y=lambda X, y: np.r_[y, y]), ValueError,
                   "y must have one row per sample of X (12), got 24 rows"),
    "y NaN": (dict(y=lambda X, y: np.r_[y[:4], np.nan, y[5:]]), ValueError,
              "y must not contain NaN or infinite values, got nan at y[4]"),
    "y inf": (dict(y=lambda X, y: np.r_[y[:-1], np.inf]), ValueError,
              "y must not contain NaN or infinite values, got inf at y[11]"),
    "y strings": (dict(y=np.array(["a"] * N_SAMPLES)), TypeError,
                  "y must be numeric (encode class labels as integers 0..K-1), got dtype <U1"),
    "y 3D for one output": (dict(y=np.zeros((N_SAMPLES, 2, 2))), ValueError,
                            "y must have one column per model output (1), got 4 column(s)"),
    "y 4D": (dict(y=np.zeros((N_SAMPLES, 1, 1, 1))), ValueError,
             "y must be 1D (n_samples,), 2D (n_samples, n_outputs) or 3D (n_samples, n_timesteps, n_outputs), "
             "got shape (12, 1, 1, 1)"),
    "y columns do not match outputs": (dict(y=np.zeros((N_SAMPLES, 2))), ValueError,
                                       "y must have one column per model output (1), got 2 column(s)"),
    # --- method / loss / by ---
    "unknown method": (dict(method="shuffle"), ValueError,
                       "method must be one of 'gaussian', 'uniform', 'permute', 'resample', 'conditional', 'zero' "
                       "or 'mean' or a callable (values, rng) -> values, got 'shuffle'"),
    "unknown loss": (dict(loss="hinge"), ValueError,
                     "loss must be one of 'mse', 'rmse', 'mae', 'log_loss', 'binary_crossentropy', "
                     "'categorical_crossentropy' or 'accuracy' (or a Keras loss name such as 'mean_squared_error') "
                     "or a callable (y_true, y_pred) -> float, got 'hinge'"),
    "unknown by": (dict(by="sample"), ValueError, "by must be one of 'feature', 'timestep' or 'cell', got 'sample'"),
    "by not a string": (dict(by=1), ValueError, "by must be one of 'feature', 'timestep' or 'cell', got 1"),
    "loss without y": (dict(y=None, loss="mse"), ValueError,
                       "loss='mse' needs y (the true targets); pass y or leave loss=None"),
    "by cell with 2D X": (dict(X=lambda X, y: X[:, 0, :], by="cell"), ValueError,
                          "by='cell' needs 3D X (n_samples, n_timesteps, n_features), got 2D X"),
    "by timestep with 2D X": (dict(X=lambda X, y: X[:, 0, :], by="timestep"), ValueError,
                              "by='timestep' needs 3D X (n_samples, n_timesteps, n_features), got 2D X"),
    # --- groups / feature names ---
    "group names unknown feature": (dict(groups={"g": ["x1", "speed"]}), ValueError,
                                    "groups['g'] names unknown feature 'speed'; known features: ['x1', 'x2', 'x3']"),
    "group lists a feature twice": (dict(groups={"g": ["x1", "x2", "x1"]}), ValueError,
                                    "groups['g'] lists a feature more than once: ['x1', 'x2', 'x1']"),
    "group index too large": (dict(groups={"g": [0, 3]}), ValueError,
                              "groups['g'] has feature index 3 out of range 0..2"),
    "group index negative": (dict(groups={"g": [-1]}), ValueError,
                             "groups['g'] has feature index -1 out of range 0..2"),
    "group empty": (dict(groups={"g": []}), ValueError,
                    "groups['g'] must name at least one feature, got an empty list"),
    "groups not a dict": (dict(groups=["x1"]), TypeError,
                          "groups must be a dict of {group name: [features]}, got list"),
    "groups empty dict": (dict(groups={}), ValueError, "groups must contain at least one group, got an empty dict"),
    "group member float": (dict(groups={"g": [1.5]}), TypeError,
                           "groups['g'] members must be feature names or integer indices, got 1.5"),
    "feature_names too short": (dict(feature_names=["a", "b"]), ValueError,
                                "feature_names must have one name per feature (3), got 2 names"),
    "feature_names duplicated": (dict(feature_names=["a", "b", "a"]), ValueError,
                                 "feature_names must be unique, got duplicates ['a']"),
    "feature_names not a sequence": (dict(feature_names=3), TypeError,
                                     "feature_names must be a sequence of strings, got 3"),
    # --- counts and scales ---
    "n_repeats zero": (dict(n_repeats=0), ValueError, "n_repeats must be a positive integer, got 0"),
    "n_repeats negative": (dict(n_repeats=-2), ValueError, "n_repeats must be a positive integer, got -2"),
    "n_repeats fractional": (dict(n_repeats=2.5), ValueError, "n_repeats must be a positive integer, got 2.5"),
    "n_repeats string": (dict(n_repeats="5"), TypeError, "n_repeats must be a positive integer, got str: '5'"),
    "n_repeats bool": (dict(n_repeats=True), TypeError, "n_repeats must be a positive integer, got True"),
    "scale zero": (dict(scale=0), ValueError, "scale must be a positive finite number, got 0"),
    "scale negative": (dict(scale=-0.5), ValueError, "scale must be a positive finite number, got -0.5"),
    "scale NaN": (dict(scale=float("nan")), ValueError, "scale must be a positive finite number, got nan"),
    "scale inf": (dict(scale=float("inf")), ValueError, "scale must be a positive finite number, got inf"),
    "scale string": (dict(scale="big"), TypeError, "scale must be a positive number, got str: 'big'"),
    "relative_scale string": (dict(relative_scale="yes"), TypeError,
                              "relative_scale must be True or False, got 'yes'"),
    "max_samples above n": (dict(max_samples=100), ValueError,
                            "max_samples must be at most the number of samples in X (12), got 100"),
    "max_samples zero": (dict(max_samples=0), ValueError, "max_samples must be a positive integer, got 0"),
    "max_samples zero fraction": (dict(max_samples=0.0), ValueError,
                                  "max_samples must be an int >= 1 or a fraction in (0, 1], got 0.0"),
    "max_samples fraction above 1": (dict(max_samples=1.5), ValueError,
                                     "max_samples must be an int >= 1 or a fraction in (0, 1], got 1.5"),
    "max_samples string": (dict(max_samples="all"), TypeError,
                           "max_samples must be a positive integer, got str: 'all'"),
    "batch_size zero": (dict(batch_size=0), ValueError, "batch_size must be a positive integer, got 0"),
    # --- wrong types ---
    "random_state string": (dict(random_state="abc"), TypeError,
                            "random_state must be None, an int >= 0, a numpy SeedSequence or Generator, "
                            "got str: 'abc'"),
    "random_state negative": (dict(random_state=-1), ValueError,
                              "random_state must be a non-negative integer, got -1"),
    "progress string": (dict(progress="yes"), TypeError, "progress must be True, False or None, got 'yes'"),
    "jit_compile string": (dict(jit_compile="maybe"), ValueError,
                           "jit_compile must be True, False or 'auto', got 'maybe'"),
    "model not callable": (dict(model=3), TypeError,
                           "model must be a Keras model, an object with a .predict(X) method or a callable "
                           "X -> predictions, got int"),
    # --- targets that do not fit the loss ---
    "binary loss with continuous y": (
        dict(model=_sigmoid_model, y=lambda X, y: np.linspace(-1.0, 1.0, N_SAMPLES), loss="binary_crossentropy"),
        ValueError,
        "loss='binary_crossentropy' needs y with classes 0/1, got values such as "
        f"{np.linspace(-1.0, 1.0, N_SAMPLES)[:5].tolist()} (continuous y: use loss='mse')"),
    "accuracy with continuous y": (
        dict(model=_sigmoid_model, y=lambda X, y: np.full(N_SAMPLES, 0.5), loss="accuracy"), ValueError,
        "loss='accuracy' needs y with classes 0/1, got values such as [0.5] (continuous y: use loss='mse')"),
    "labels out of range": (
        dict(model=_three_class_model, y=lambda X, y: np.arange(N_SAMPLES) % 5, loss="categorical_crossentropy"),
        ValueError,
        "loss='categorical_crossentropy' needs y as class labels 0..2 for a model with 3 outputs, "
        "got values such as [0.0, 1.0, 2.0, 3.0, 4.0]"),
    "fractional labels": (
        dict(model=_three_class_model, y=lambda X, y: np.full(N_SAMPLES, 0.5), loss="log_loss"), ValueError,
        "loss='log_loss' needs y as class labels 0..2 for a model with 3 outputs, got values such as [0.5]"),
    "one-hot y not 0/1": (
        dict(model=_three_class_model, y=lambda X, y: np.full((N_SAMPLES, 3), 0.2), loss="categorical_crossentropy"),
        ValueError, "loss='categorical_crossentropy' needs one-hot y (0/1 columns), got continuous values"),
    # --- models that return bad output on the unperturbed data ---
    "model returns too few rows": (dict(model=lambda x: linear_model(x)[:-1]), ModelOutputError,
                                   "model must return one prediction row per input row (12), "
                                   "got output of shape (11,)"),
    "model returns a scalar": (dict(model=lambda x: 1.0), ModelOutputError,
                               "model must return one prediction row per input row (12), got a single value 1.0"),
    "model returns None": (dict(model=lambda x: None), ModelOutputError,
                           "model must return one prediction row per input row (12), got a single value None"),
    "model returns NaN": (dict(model=lambda x: linear_model(x) * np.nan), ModelOutputError,
                          "model returned NaN or infinite predictions (12 of 12 values); "
                          "the model must return finite numbers"),
    "model returns strings": (dict(model=lambda x: np.array(["a"] * len(x))), ModelOutputError,
                              "model must return numeric predictions, got ndarray of dtype <U1"),
}


def _resolve(value, X, y):
    """X and y overrides are values or functions of the base (X, y)."""
    return value(X, y) if callable(value) else value


def _read_only(value):
    if isinstance(value, np.ndarray):
        value = value.copy()
        value.flags.writeable = False
    return value


def _same(a, b) -> bool:
    if isinstance(a, pd.DataFrame):
        return a.equals(b)
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return True


@pytest.mark.parametrize("read_only", [False, True], ids=["writeable", "read-only"])
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_raises_clear_error_and_leaves_data_unchanged(case, read_only):
    overrides, error_type, message = CASES[case]
    overrides = dict(overrides)
    X, y = _data()
    model = overrides.pop("model", linear_model)
    X = _resolve(overrides.pop("X", X), X, y)
    y = _resolve(overrides.pop("y", y), X, y)
    if read_only:
        X, y = _read_only(X), _read_only(y)
    X_before = X.copy() if hasattr(X, "copy") else X
    y_before = y.copy() if hasattr(y, "copy") else y
    with pytest.raises(error_type, match=re.escape(message)) as caught:
        perturbation_importance(model, X, y, **{"n_repeats": 2, "random_state": 0, **overrides})
    assert str(caught.value) == message
    assert "Traceback" not in str(caught.value)
    assert _same(X, X_before)
    assert _same(y, y_before)


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30


class FailsOnCall:
    """A model that works until its ``fail_on``-th call, then raises ``error``."""

    def __init__(self, fail_on: int, error: BaseException):
        self.fail_on = fail_on
        self.error = error
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        if self.calls == self.fail_on:
            raise self.error
        return linear_model(x)


@pytest.mark.parametrize("read_only", [False, True], ids=["writeable", "read-only"])
def test_model_failing_mid_run_names_feature_and_repeat_and_chains_the_cause(read_only):
    X, y = _data()
    if read_only:
        X, y = _read_only(X), _read_only(y)
    X_before, y_before = X.copy(), y.copy()
    # One job per model call (batch_size = n): call 1 is the baseline, call 2 the row-wise check,
    # call 3 is x1 repeat 1, call 4 is x1 repeat 2.
    model = FailsOnCall(4, ZeroDivisionError("division by zero in layer 3"))
    message = (
        "model failed while evaluating feature 'x1' (repeat 2 of 3): "
        "ZeroDivisionError: division by zero in layer 3"
    )
    with pytest.raises(ModelFailedError, match=re.escape(message)) as caught:
        perturbation_importance(model, X, y, n_repeats=3, batch_size=N_SAMPLES, random_state=0)
    assert str(caught.value) == message
    assert caught.value.__cause__ is model.error
    assert model.calls == 4  # stopped at once: no further calls after the failure
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_model_failing_mid_run_by_cell_names_the_timestep():
    X, _ = _data()
    # Cells are ordered (t0, x1), (t0, x2), (t0, x3), (t1, x1), (t1, x2), ...; call 1 is the baseline,
    # call 2 the row-wise check.
    model = FailsOnCall(2 + N_FEATURES + 2, ValueError("bad cell"))
    message = "model failed while evaluating feature 'x2' at time step 1: ValueError: bad cell"
    with pytest.raises(ModelFailedError, match=re.escape(message)) as caught:
        perturbation_importance(model, X, n_repeats=1, by="cell", batch_size=N_SAMPLES, random_state=0)
    assert isinstance(caught.value.__cause__, ValueError)


def test_model_returning_nan_mid_run_names_the_feature():
    X, _ = _data()

    def model(x):
        out = linear_model(x)
        out[np.any(x[:, :, 2] > 5.0, axis=1)] = np.nan  # breaks down outside the data's range
        return out

    X_shifted = X.copy()
    X_shifted[:, :, 2] = 4.0 + np.abs(X_shifted[:, :, 2]) * 1e-3  # only noise on x3 lifts it above 5
    with pytest.raises(ModelFailedError) as caught:
        perturbation_importance(model, X_shifted, method="uniform", scale=2000.0, n_repeats=1,
                                batch_size=N_SAMPLES, random_state=0)
    assert str(caught.value).startswith("model failed while evaluating feature 'x3': ModelOutputError")
    assert isinstance(caught.value.__cause__, ModelOutputError)


def test_model_failing_on_a_call_shared_by_several_jobs_names_the_first_and_last():
    X, _ = _data()
    # batch_size = 2n: call 1 is the baseline alone, call 2 the row-wise check, call 3 holds x1 repeats 1 and 2.
    model = FailsOnCall(3, ValueError("boom"))
    message = (
        "model failed while evaluating feature 'x1' (repeat 1 of 2) (in one model call with 1 more job(s), "
        "up to feature 'x1' (repeat 2 of 2)): ValueError: boom"
    )
    with pytest.raises(ModelFailedError) as caught:
        perturbation_importance(model, X, n_repeats=2, batch_size=2 * N_SAMPLES, random_state=0)
    assert str(caught.value) == message


def test_model_raising_on_the_baseline_is_named_as_such_with_the_cause_kept():
    X, y = _data()
    model = FailsOnCall(1, ZeroDivisionError("division by zero"))
    with pytest.raises(ModelFailedError) as caught:
        perturbation_importance(model, X, y, n_repeats=2, random_state=0)
    assert str(caught.value) == "model failed on the unperturbed data: ZeroDivisionError: division by zero"
    assert caught.value.where == "on the unperturbed data"
    assert caught.value.cause is model.error is caught.value.__cause__


def test_model_wrong_rows_mid_run_is_reported_with_the_feature():
    X, _ = _data()
    calls = []

    def model(x):
        calls.append(len(x))
        out = linear_model(x)
        return out[:-1] if len(calls) == 5 else out

    message = (
        "model failed while evaluating feature 'x2' (repeat 1 of 2): ModelOutputError: "
        "model must return one prediction row per input row (12), got output of shape (11,)"
    )
    with pytest.raises(ModelFailedError, match=re.escape(message)):
        perturbation_importance(model, X, n_repeats=2, batch_size=N_SAMPLES, random_state=0)


# --- Keras models: X that does not fit the model's input shape --------------------------------


@pytest.fixture(scope="module")
def keras_models():
    import keras

    keras.utils.set_random_seed(0)
    recurrent = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4), keras.layers.Dense(1)])
    dense = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    return {"recurrent": recurrent, "dense": dense}


KERAS_CASES = {
    "2D X for a 3D model": ("recurrent", (12, 3),
                            "X does not fit the model: the model expects input of shape (None, 5, 3), "
                            "got X of shape (12, 3)"),
    "wrong timesteps": ("recurrent", (12, 4, 3),
                        "X does not fit the model: the model expects input of shape (None, 5, 3), "
                        "got X of shape (12, 4, 3)"),
    "wrong features": ("recurrent", (12, 5, 2),
                       "X does not fit the model: the model expects input of shape (None, 5, 3), "
                       "got X of shape (12, 5, 2)"),
    "3D X for a 2D model": ("dense", (12, 5, 3),
                            "X does not fit the model: the model expects input of shape (None, 3), "
                            "got X of shape (12, 5, 3)"),
    "2D X with wrong features": ("dense", (12, 4),
                                 "X does not fit the model: the model expects input of shape (None, 3), "
                                 "got X of shape (12, 4)"),
}


@pytest.mark.keras
@pytest.mark.parametrize("case", list(KERAS_CASES), ids=list(KERAS_CASES))
def test_keras_model_rejects_x_of_the_wrong_shape(keras_models, case):
    name, shape, message = KERAS_CASES[case]
    X = np.random.default_rng(0).normal(size=shape)
    X.flags.writeable = False
    X_before = X.copy()
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        perturbation_importance(keras_models[name], X, n_repeats=1, random_state=0)
    assert str(caught.value) == message
    np.testing.assert_array_equal(X, X_before)
