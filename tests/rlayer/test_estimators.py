"""Every estimator of the registry (pyimportance.registry) reaches R the same way: its R arguments are the
conversions of the settings its entry offers R, in the entry's order; it runs by name through the reticulate
path (``call_from_r``) and through the rpy2 layer (``rbridge``), every setting it offers R accepted and any
other refused; its frame names it in the settings and carries the numbers it reports beside the table.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import double, signal_model

from pyimportance import registry, rlayer, terms
from pyimportance.rlayer import RArgumentError, RCondition, RValue, as_r_setting

NAMES = [entry.name for entry in registry.ESTIMATORS]
#: Estimators that read the model's gradients: an R function has none, so they get a Keras model (same predictions).
GRADIENTS = {"sensitivity"}
# Each estimator, those that need a Keras model marked so (deselected where there is no TensorFlow).
RUNS = [pytest.param(name, marks=pytest.mark.keras) if name in GRADIENTS else name for name in NAMES]


def _keras_signal_model():
    """``signal_model()`` as a Keras model: 2 x signal at the last of 4 steps (Flatten, Dense without bias)."""
    import keras

    model = keras.Sequential([keras.Input((4, 3)), keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)])
    weights = np.zeros((4, 3))
    weights[-1, 0] = 2.0
    model.set_weights([weights.reshape(12, 1)])
    return model


def _model_for(name: str):
    return _keras_signal_model() if name in GRADIENTS else signal_model()


def _unused(r_name: str):
    return pytest.raises(RArgumentError, match=f"^unused argument {r_name}$")


def _r_names(entry) -> list[str]:
    return [terms.R.name_of(setting.name) for setting in entry.offered("r")]


def _defaults_in_r(entry) -> dict[str, RValue]:
    """Every setting ``entry`` offers R, at its default, as the R value a binding would pass."""
    return {terms.R.name_of(setting.name): as_r_setting(setting.default) for setting in entry.offered("r")}


@pytest.mark.parametrize("name", NAMES)
def test_an_estimators_r_arguments_are_the_settings_its_entry_offers_r_in_its_order(name):
    entry = registry.estimator(name)
    arguments = rlayer.arguments_of(entry)
    assert [argument.engine_name for argument in arguments] == [setting.name for setting in entry.offered("r")]
    assert [argument.r_name for argument in arguments] == _r_names(entry)


def test_the_table_has_one_line_per_setting_some_estimator_offers_r():
    engine_names = [argument.engine_name for argument in rlayer.ARGUMENTS]
    assert len(engine_names) == len(set(engine_names))
    offered = {setting.name for entry in registry.ESTIMATORS for setting in entry.offered("r")}
    assert set(engine_names) == offered


@pytest.mark.parametrize("name", NAMES)
def test_engine_options_accept_each_setting_the_entry_offers_r_and_refuse_the_others(name):
    entry = registry.estimator(name)
    table = rlayer.arguments_of(entry)
    given = {r_name: RValue("NULL") for r_name in _r_names(entry)}
    assert rlayer.engine_options(given, table) == {setting.name: None for setting in entry.offered("r")}
    others = {r_name for other in registry.ESTIMATORS for r_name in _r_names(other)} - set(_r_names(entry))
    for r_name in sorted(others):
        with _unused(r_name):
            rlayer.engine_options({r_name: RValue("NULL")}, table)


def test_shapley_refuses_method_as_an_unused_argument():
    with _unused("method"):
        rlayer.engine_options({"method": as_r_setting("permute")}, rlayer.arguments_of(registry.estimator("shapley")))


def _settings(frame) -> dict:
    settings = frame.attributes["settings"]
    return dict(zip(settings.names, settings.items))


@pytest.mark.parametrize("name", RUNS)
def test_call_from_r_runs_each_estimator_by_name_with_every_setting_it_offers_r(x3d, name):
    entry = registry.estimator(name)
    y = double(2 * x3d.values[:, -1, 0])
    arguments = {**_defaults_in_r(entry), "seed": double([1]), "progress": as_r_setting(False)}
    frame = rlayer.call_from_r(_model_for(name), x3d, y, arguments, estimator=name)
    assert isinstance(frame, RValue) and frame.type == "data.frame"
    assert list(_settings(frame)["estimator"].values) == [name]
    assert list(frame.attributes["class"].values) == ["pyimportance_result", "data.frame"]


def test_a_shapley_frame_carries_the_total_and_its_interval_a_perturbation_frame_nothing_more(x3d):
    y = double(2 * x3d.values[:, -1, 0])
    extra = ("total", "total_ci_low", "total_ci_high")
    shapley = rlayer.call_from_r(signal_model(), x3d, y, {"seed": double([1])}, estimator="shapley")
    assert [shapley.attributes[key].values.shape for key in extra] == [(1,)] * 3
    units = np.asarray(shapley.items[shapley.names.index("importance")].values)
    np.testing.assert_allclose(units.sum(), shapley.attributes["total"].values[0], rtol=1e-10)
    perturbation = rlayer.call_from_r(signal_model(), x3d, y, {"seed": double([1])}, estimator="perturbation")
    assert not set(extra) & set(perturbation.attributes)


def test_an_unknown_estimator_comes_back_as_an_argument_error_naming_the_estimators(x3d):
    outcome = rlayer.call_from_r(signal_model(), x3d, None, {}, estimator="sage")
    assert isinstance(outcome, RCondition)
    known = ", ".join(repr(name) for name in NAMES)
    assert outcome.message == f"estimator must be one of {known}, got 'sage'"
    assert outcome.classes == ("pyimportance_argument_error", "pyimportance_error")


@pytest.mark.r
@pytest.mark.parametrize("name", RUNS)
def test_the_rpy2_layer_offers_each_estimator_under_its_r_function_with_every_setting_it_offers_r(name):
    import rpy2.robjects as ro
    from rpy2.robjects.conversion import localconverter

    from pyimportance import rbridge

    entry = registry.estimator(name)
    x = ro.r("set.seed(1); matrix(rnorm(120), 60, 2, dimnames = list(NULL, c('a', 'b')))")
    model = ro.r("function(x) 2 * x[, 'a']")
    y = model(x)
    if name in GRADIENTS:  # the same model as Keras: an R function has no gradients
        import keras

        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
        model.set_weights([np.array([[2.0], [0.0]])])
    with localconverter(ro.default_converter):
        arguments = {r_name: rbridge.from_r_value(value) for r_name, value in _defaults_in_r(entry).items()}
    arguments.update(seed=1, progress=False)
    frame = getattr(rbridge, entry.r_function)(model, x, y, **arguments)
    assert list(ro.baseenv["class"](frame)) == ["pyimportance_result", "data.frame"]
    assert list(ro.baseenv["attr"](frame, "settings").rx2("estimator")) == [name]
