"""The registry of estimators (pyimportance.registry): each entry's function, settings table, result class and
choices agree with what the function does; the shared settings are every estimator's. The R layer's and the
command line's walks over the registry are in tests/rlayer and tests/cli."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from pyimportance import ImportanceResult, registry, settings


def _model(x):
    return 2.0 * x[:, -1, 0] + x[:, -2, 1]


def _keras_model():
    """``_model`` as a Keras model: sensitivity importance needs the gradients a function lacks."""
    import keras

    model = keras.Sequential([keras.Input((4, 3)), keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)])
    weights = np.zeros((4, 3))
    weights[-1, 0], weights[-2, 1] = 2.0, 1.0
    model.set_weights([weights.reshape(12, 1)])
    return model


def _call(entry, X, y, **options):
    """The entry's function on ``_model`` (a Keras copy where it needs gradients), with 2 repeats where it has any."""
    names = {setting.name for setting in entry.settings}
    model = _keras_model() if entry.name == "sensitivity" else _model
    return entry.function(model, X, y, **({"n_repeats": 2} if "n_repeats" in names else {}), **options)


#: Every estimator, sensitivity marked keras (it needs a Keras model: left out where Keras is not installed).
ENTRIES = [pytest.param(entry, marks=pytest.mark.keras) if entry.name == "sensitivity" else entry
           for entry in registry.ESTIMATORS]


@pytest.fixture(scope="module")
def data():
    X = np.random.default_rng(0).normal(size=(80, 4, 3))
    return X, _model(X)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_the_signature_is_the_settings_table_in_order_with_its_defaults(entry):
    parameters = inspect.signature(entry.function).parameters
    assert list(parameters) == [setting.name for setting in entry.settings]
    for setting in entry.settings:
        expected = inspect.Parameter.empty if setting.default is settings.REQUIRED else setting.default
        assert parameters[setting.name].default == expected, setting.name
    assert entry.defaults() == {name: p.default for name, p in parameters.items() if p.default is not p.empty}


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_every_estimator_takes_every_shared_setting(entry):
    names = [setting.name for setting in entry.settings]
    assert set(settings.SHARED) <= set(names)
    shared = [setting for setting in entry.settings if setting.name in settings.SHARED]
    assert shared == [setting for setting in settings.SETTINGS if setting.name in settings.SHARED]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_a_result_is_the_entrys_class_and_records_the_estimator(entry, data):
    X, y = data
    result = _call(entry, X, y, random_state=0)
    assert type(result) is entry.result_class and isinstance(result, ImportanceResult)
    assert result.settings["estimator"] == entry.name and registry.of_result(result) is entry
    own = {setting.name for setting in entry.settings} - set(settings.SHARED)
    recorded = set(result.settings) - {"estimator", "n_samples", "ci_note", "block_size_used", "inputs",
                                       "deterministic", "ungrouped",
                                       "n_repeats"}  # n_repeats: the repeats the numbers rest on
    # every recorded setting is one the estimator takes (no placeholder keys of another estimator)
    assert recorded <= {setting.name for setting in entry.settings} | {"mask_value"}, recorded - own


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_each_choice_is_read_from_its_owner_in_the_error(entry, data):
    X, y = data
    for name, choices in entry.choices.items():
        with pytest.raises(ValueError) as error:
            _call(entry, X, y, **{name: "nonsense"})
        assert all(repr(choice) in str(error.value) or choice in str(error.value) for choice in choices), name


def test_an_unknown_estimator_names_the_estimators_there_are():
    expected = "estimator must be one of 'perturbation', 'shapley', 'sensitivity', got 'lime'"
    with pytest.raises(ValueError, match=expected):
        registry.estimator("lime")


def test_the_shapley_package_leaves_the_run_to_the_engine():
    """shapley/ imports none of the run loop's own modules: the engine predicts, checks and counts for it."""
    import ast
    from pathlib import Path

    forbidden = {"model.predict", "model.row_wise", "scoring.heads", "scoring.target_checks", "engine.packing",
                 "stats.intervals"}
    folder = Path(registry.__file__).parent / "shapley"
    found = []
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module in forbidden:
                found.append((path.name, node.module))
    assert found == []
    assert not (folder / "estimator.py").exists() and not (folder / "distributed.py").exists()
