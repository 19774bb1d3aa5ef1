"""Selection (pyimportance.stats.selection and ImportanceResult.selected): Benjamini-Hochberg for the FDR, Holm
for the FWER, over every unit and output of a run; the summary's line says how many are selected at 5% FDR."""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance import perturbation_importance
from pyimportance.stats.selection import holm_adjusted, selected

P_VALUES = np.array([0.001, 0.02, 0.04, 0.5, np.nan])


def test_fdr_selection_is_benjamini_hochberg_and_fwer_selection_is_holm():
    assert selected(P_VALUES, 0.05, "fdr").tolist() == [True, True, False, False, False]  # 0.02 <= 2/4 * 0.05
    assert selected(P_VALUES, 0.05, "fwer").tolist() == [True, False, False, False, False]  # 0.02 > 0.05 / 3
    assert selected(P_VALUES, 0.2, "fwer").tolist() == [True, True, True, False, False]


def test_holm_adjusted_p_values_are_the_step_down_products_made_monotone():
    np.testing.assert_allclose(holm_adjusted(P_VALUES), [0.004, 0.06, 0.08, 0.5, np.nan])


def test_holm_controls_the_family_wise_error_rate_under_the_null():
    rng = np.random.default_rng(0)
    rejections = [selected(rng.uniform(size=20), 0.05, "fwer").any() for _ in range(4000)]
    assert 0.035 < np.mean(rejections) < 0.05  # Holm's bound; a per-test 5% would reject in 64% of families


@pytest.mark.parametrize(("alpha", "control", "message"), [
    (0.0, "fdr", "alpha must be a number in (0, 1), got 0.0"),
    (0.05, "bonferroni", "control must be 'fdr' (Benjamini-Hochberg) or 'fwer' (Holm), got 'bonferroni'"),
])
def test_wrong_alpha_or_control_is_refused_with_the_value(alpha, control, message):
    with pytest.raises(ValueError) as error:
        selected(P_VALUES, alpha, control)
    assert str(error.value) == message


def test_a_result_selects_the_features_the_target_depends_on_and_says_how_many():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 4))
    y = X[:, 0] + 0.5 * X[:, 1] + 0.1 * rng.normal(size=400)
    result = perturbation_importance(lambda x: x[:, 0] + 0.5 * x[:, 1] + 0.05 * x[:, 2], X, y, method="permute",
                                     n_repeats=3, random_state=0)
    assert result.selected().tolist() == [True, True, False, False]
    assert result.selected(0.05, "fwer").tolist() == [True, True, False, False]
    np.testing.assert_array_equal(result.selected(0.3), result.p_adjusted <= 0.3)
    assert result.summary().splitlines()[-1] == "2 of 4 features selected at 5% FDR (Benjamini-Hochberg)"


def test_per_output_selection_is_one_family_over_units_and_outputs():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 2))
    result = perturbation_importance(lambda x: x, X, X, per_output=True, method="permute", random_state=0)
    assert result.selected().tolist() == [[True, False], [False, True]]
    assert result.summary().splitlines()[-1] == "2 of 4 features x outputs selected at 5% FDR (Benjamini-Hochberg)"


def test_a_deterministic_method_without_intervals_has_no_selection_line():
    X = np.random.default_rng(3).normal(size=(100, 2))
    result = perturbation_importance(lambda x: x[:, 0], X, X[:, 0], method="zero", ci="repeats")
    assert "selected" not in result.summary()
    assert result.selected().tolist() == [False, False]
