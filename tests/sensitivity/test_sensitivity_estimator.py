"""The sensitivity estimator's sums: weighted means of the rows' values (sample_weight), the direction beside the
importance, p-values left out, each row's delta and kept map where it belongs."""

from __future__ import annotations

import numpy as np

from pyimportance.data.inputs import Inputs, ModelInput
from pyimportance.data.units import build_units
from pyimportance.scoring.heads import build_scoring
from pyimportance.scoring.losses import resolve_losses
from pyimportance.sensitivity.attributions import ChunkResult, SensitivitySpec, unit_members
from pyimportance.sensitivity.sensitivity_estimator import P_VALUE_NOTE, SensitivitySums


def _spec(n_rows: int) -> SensitivitySpec:
    part = ModelInput("input", np.zeros((n_rows, 1, 2)), ("a", "b"), False)
    inputs = Inputs((part,))
    units = build_units("feature", inputs)
    return SensitivitySpec(inputs=inputs, units=units, member=unit_members(inputs, units),
                           method="integrated_gradients", n_steps=4, nodes=np.ones(4) / 2, weights=np.ones(4) / 4,
                           starts=[np.zeros((1, 2))], spreads=np.ones(2), kept=np.arange(n_rows) < 2, points_per_call=8)


def _sums(spec, sample_weight=None):
    scoring = build_scoring([("output", ())], None, resolve_losses(None, False)).with_weights(sample_weight)
    return SensitivitySums(spec, scoring, track_rows=True)


def _chunk(rows, measure, signed):
    measure = np.asarray(measure, dtype=float)[:, :, None]
    return ChunkResult(0, np.asarray(rows), measure, np.asarray(signed, dtype=float)[:, :, None],
                       np.arange(2 * 2, dtype=float).reshape(2, 2, 1), np.full((len(rows), 1), 0.5))


def test_the_importance_is_the_weighted_mean_of_the_rows_values():
    measure = [[1.0, 0.0], [3.0, 1.0], [5.0, 2.0], [7.0, 3.0]]
    weight = np.array([1.0, 1.0, 2.0, 4.0])
    sums = _sums(_spec(4), weight)
    sums.add(_chunk([0, 1, 2, 3], measure, np.negative(measure)))
    expected = (weight[:, None] * np.array(measure)).sum(axis=0) / weight.sum()
    np.testing.assert_allclose(sums.values()[:, 0, 0], expected)
    reported = sums.reported(sums.values(), _intervals(2))
    np.testing.assert_allclose(reported.extra["direction"][:, 0], -expected)
    assert np.isnan(reported.intervals.p_value).all() and "never below 0" in P_VALUE_NOTE
    assert sorted(reported.extra["maps"]) == [0, 1] and np.all(reported.extra["convergence_delta"] == 0.5)


def test_without_weights_every_row_weighs_one():
    sums = _sums(_spec(4))
    sums.add(_chunk([0, 1, 2, 3], [[1.0, 0.0], [3.0, 1.0], [5.0, 2.0], [7.0, 3.0]], np.zeros((4, 2))))
    np.testing.assert_allclose(sums.values()[:, 0, 0], [4.0, 1.5])


def _intervals(n_units):
    from pyimportance.stats.intervals import Intervals

    zeros = np.zeros((n_units, 1))
    return Intervals(zeros, zeros, zeros, zeros + 0.01, None, "data")
