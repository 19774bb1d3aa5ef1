"""The result as R's data frame (pyimportance.rlayer.frame): 1-based time steps, R's unit labels,
rows in the result's order, the importances attribute, settings (any mapping) under R names with
large seeds kept exact, a factor ``y``'s levels in the settings, the rows x units matrix built once.
"""

from __future__ import annotations

import numpy as np
from helpers import column, double, r_function, run_r, scalar, signal_model

from pyimportance import rlayer
from pyimportance.rlayer import RValue


def test_the_frame_has_1_based_time_steps_r_labels_and_rows_in_its_order(x3d):
    frame = run_r(signal_model(), x3d, by=scalar("cell"), n_repeats=double([2]), seed=double([1]))
    assert frame.names[:2] == ("feature", "timestep")
    steps = frame.items[1]
    assert steps.type == "integer" and sorted(set(steps.values)) == [1, 2, 3, 4]
    assert (column(frame, "feature")[0], steps.values[0]) == ("signal", 4)
    importances = frame.attributes["importances"]
    assert importances.dimnames[0][0] == "signal@t4"
    np.testing.assert_allclose(importances.values.mean(axis=1), column(frame, "importance"), rtol=1e-12)
    assert list(frame.attributes["class"].values) == ["pyimportance_result", "data.frame"]
    assert rlayer.unit_label("(all)", 3) == "t3"


def test_settings_use_r_names_and_keep_large_seeds_exact(x3d):
    frame = run_r(signal_model(), x3d, n_repeats=double([1]), seed=double([2.0**40]))
    settings = frame.attributes["settings"]
    seed = settings.items[settings.names.index("seed")]
    assert seed.type == "double" and seed.values[0] == 2.0**40
    assert rlayer.as_r_setting(2**60).type == "character"
    assert rlayer.as_r_setting(5).type == "integer"
    assert rlayer.as_r_setting(["a", "b"]).type == "character"


def test_a_factor_y_gives_codes_from_zero_and_its_levels_in_the_settings(x3d):
    codes = np.where(x3d.values[:, -1, 0] > 0, 2, 1).astype(np.int32)

    def classifier(chunk: RValue) -> RValue:
        score = chunk.values[:, -1, 0]
        return double(np.column_stack([1 / (1 + np.exp(4 * score)), 1 / (1 + np.exp(-4 * score))]))

    frame = run_r(r_function(classifier), x3d, RValue("factor", values=codes, levels=["down", "up"]),
                loss=scalar("accuracy"), n_repeats=double([2]), seed=double([1]))
    settings = frame.attributes["settings"]
    assert list(settings.items[settings.names.index("classes")].values) == ["down", "up"]
    assert column(frame, "feature")[0] == "signal"


def test_the_frame_says_which_interval_the_run_reports_in_the_summarys_words(x3d):
    for options, kind in (({}, "data"), ({"ci": scalar("repeats")}, "repeats")):
        frame = run_r(signal_model(), x3d, n_repeats=double([2]), seed=double([1]), **options)
        interval = frame.attributes["interval"]
        parts = {name: item.values[0] for name, item in zip(interval.names, interval.items)}
        assert parts["kind"] == kind
        assert f"Interval: {parts['text']}" == frame.attributes["summary"].values[1]
        assert parts["meaning"].startswith("It ")


def test_call_from_r_hands_the_runs_warnings_to_r_as_an_attribute(x3d):
    from pyimportance.rlayer import ENGINE_WARNINGS, call_from_r

    values = x3d.values.copy()
    values[:, :, 1] = 1.0
    constant = RValue("double", values=values, dimnames=x3d.dimnames)
    frame = call_from_r(signal_model(), constant, None, {"n_repeats": double([1]), "seed": double([1])})
    messages = list(frame.attributes[ENGINE_WARNINGS].values)
    assert len(messages) == 1 and "unchanged: constant on the evaluated rows" in messages[0]
    quiet = call_from_r(signal_model(), x3d, None, {"n_repeats": double([1]), "seed": double([1])})
    assert ENGINE_WARNINGS not in quiet.attributes


def test_the_rows_x_units_matrix_is_built_once_per_frame(x3d, monkeypatch):
    from pyimportance.rlayer import frame as frame_module

    calls = []
    original = frame_module.row_attributes

    def counted(*arguments):
        calls.append(arguments)
        return original(*arguments)

    monkeypatch.setattr(frame_module, "row_attributes", counted)
    frame = run_r(signal_model(), x3d, n_repeats=double([2]), seed=double([1]))
    assert len(calls) == 1
    assert frame.attributes["row_importances"].values.shape == (60, 3)


def test_the_settings_list_reads_any_mapping_in_its_order_under_r_names():
    from types import MappingProxyType

    from pyimportance.rlayer.frame import settings_list

    settings = settings_list(MappingProxyType({"estimator": "shapley", "random_state": 7,
                                               "groups": MappingProxyType({"g": ["a", "b"]})}))
    assert settings.names == ("estimator", "seed", "groups")
    assert [item.type for item in settings.items] == ["character", "integer", "list"]
    assert list(settings.items[2].items[0].values) == ["a", "b"]
