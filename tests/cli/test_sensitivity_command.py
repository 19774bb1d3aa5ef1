"""``pyimportance sensitivity``: its own options (--method, --n-steps, --baselines, --attribution-rows), the per-row
maps written with --attributions (.npy, .npz with rows and convergence deltas), the same numbers as the Python call,
and the errors of a model without gradients and of a map file that cannot be written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import CLI_F, CLI_T, error_line, read_result

from pyimportance import cli, sensitivity_importance
from pyimportance.cli.options import build_parser

pytestmark = pytest.mark.keras

WEIGHTS = np.random.default_rng(5).normal(size=(CLI_T, CLI_F))


@pytest.fixture(scope="module")
def linear(keras_module, tmp_path_factory):
    """A saved linear Keras model (Flatten, Dense without bias) over (CLI_T, CLI_F): attributions w * (x - x0)."""
    keras = keras_module
    model = keras.Sequential([keras.Input((CLI_T, CLI_F)), keras.layers.Flatten(),
                              keras.layers.Dense(1, use_bias=False)])
    model.set_weights([WEIGHTS.reshape(-1, 1)])
    path = tmp_path_factory.mktemp("linear") / "linear.keras"
    model.save(path)
    return model, path


def usage_error(capsys) -> str:
    """The last line of a usage error of ``pyimportance sensitivity``, after checking that it starts with the usage."""
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("usage: pyimportance sensitivity")
    return err[-1]


def _run(linear, tmp_path, *extra) -> int:
    _, path = linear
    return cli.main(["sensitivity", "--model", str(path), "--x", str(tmp_path / "X.npy"), "--no-progress",
                     "--out", str(tmp_path / "r.csv"), *extra])


def test_the_defaults_are_its_settings_table_and_it_has_no_repeats():
    args = build_parser().parse_args(["sensitivity", "--model", "m.keras", "--x", "X.npy", "--out", "r.csv"])
    assert (args.method, args.n_steps, args.baselines, args.attribution_rows, args.attributions) == (
        "integrated_gradients", 50, None, None, None)
    assert not hasattr(args, "n_repeats") and not hasattr(args, "scale")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sensitivity", "--model", "m.keras", "--x", "X.npy", "--out", "r.csv", "--ci",
                                   "repeats"])


def test_the_table_and_the_npy_map_are_the_python_calls_and_the_map_is_w_times_x(linear, tmp_path, arrays, capsys):
    X, _ = arrays
    maps = tmp_path / "maps.npy"
    assert _run(linear, tmp_path, "--by", "cell", "--baselines", "zeros", "--n-steps", "4", "--attributions",
                str(maps)) == 0
    expected = sensitivity_importance(linear[0], X, by="cell", baselines="zeros", n_steps=4, progress=False)
    pd.testing.assert_frame_equal(read_result(tmp_path / "r.csv"), expected.to_frame())
    written = np.load(maps)
    assert written.shape == (len(X), CLI_T, CLI_F)
    np.testing.assert_array_equal(written, expected.attributions)
    np.testing.assert_allclose(written, WEIGHTS[None] * X, rtol=1e-5, atol=1e-6)
    stdout = capsys.readouterr().out
    assert stdout.startswith(expected.summary() + "\n")
    assert stdout.splitlines()[-1] == f"Wrote {tmp_path / 'r.csv'} and {maps}"


def test_an_npz_map_holds_the_rows_asked_for_and_every_rows_convergence_delta(linear, tmp_path, arrays):
    X, _ = arrays
    maps = tmp_path / "maps.npz"
    assert _run(linear, tmp_path, "--attribution-rows", "2,7", "--attributions", str(maps)) == 0
    with np.load(maps) as archive:
        assert sorted(archive.files) == ["attributions", "convergence_delta", "rows"]
        assert archive["rows"].tolist() == [2, 7]
        np.testing.assert_allclose(archive["attributions"], WEIGHTS[None] * (X[[2, 7]] - X.mean(axis=0)),
                                   rtol=1e-5, atol=1e-5)
        assert archive["convergence_delta"].shape == (len(X),)
        assert np.abs(archive["convergence_delta"]).max() < 1e-4  # linear: the path integral is exact


def test_method_derivative_and_a_baseline_file_reach_the_engine(linear, tmp_path, arrays):
    X, _ = arrays
    assert _run(linear, tmp_path, "--method", "derivative") == 0
    expected = sensitivity_importance(linear[0], X, method="derivative", progress=False)
    pd.testing.assert_frame_equal(read_result(tmp_path / "r.csv"), expected.to_frame())
    np.testing.assert_allclose(expected.importances_mean,  # the measure: sum of w^2 var(x) over a feature's steps
                               (WEIGHTS ** 2 * X.astype(np.float64).var(axis=0)).sum(axis=0), rtol=1e-5)
    row = np.full((1, CLI_T, CLI_F), 0.25)
    np.save(tmp_path / "start.npy", row)
    assert _run(linear, tmp_path, "--baselines", str(tmp_path / "start.npy"), "--overwrite") == 0
    given = sensitivity_importance(linear[0], X, baselines=row, progress=False)
    pd.testing.assert_frame_equal(read_result(tmp_path / "r.csv"), given.to_frame())


def test_a_model_without_gradients_is_refused_naming_perturbation_importance(linear_model, tmp_path, arrays, capsys):
    assert cli.main(["sensitivity", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--out",
                     str(tmp_path / "r.csv")]) == 1
    line = error_line(capsys)
    assert "sensitivity_importance needs the model's gradients" in line and "perturbation_importance" in line


def test_a_map_file_of_another_kind_or_the_out_file_is_a_usage_error(tmp_path, capsys):
    base = ["sensitivity", "--model", "m.keras", "--x", "X.npy", "--out", "r.csv"]
    assert cli.main([*base, "--attributions", "maps.csv"]) == 2
    assert usage_error(capsys).endswith("--attributions: maps.csv must end in .npy (one input's map) or .npz (one "
                                        "array per input, with the rows and convergence deltas)")
    assert cli.main([*base, "--attributions", "r.csv"]) == 2
    assert usage_error(capsys).endswith("--attributions: r.csv is also the --out file; give the map its own file "
                                        "name (maps.npy)")
    assert cli.main([*base, "--attributions", "X.npy"]) == 2
    assert usage_error(capsys).endswith("--attributions: X.npy is the --x input file; choose another name for the "
                                        "output")


def test_a_map_file_that_exists_is_refused_before_the_run(linear, tmp_path, arrays, capsys):
    (tmp_path / "maps.npy").write_bytes(b"")
    assert _run(linear, tmp_path, "--attributions", str(tmp_path / "maps.npy")) == 1
    assert error_line(capsys).endswith(f"--attributions: {tmp_path / 'maps.npy'} already exists; pass --overwrite "
                                       "to replace it")
    assert not (tmp_path / "r.csv").exists()


def test_two_inputs_need_an_npz_map_and_get_one_array_per_input(two_inputs, tmp_path, capsys):
    _, directory, data, _, _ = two_inputs
    base = ["sensitivity", "--model", str(directory / "model.keras"), "--x", f"seq={directory / 'seq.npy'}",
            "--x", f"static={directory / 'static.npy'}", "--no-progress", "--n-steps", "4"]
    assert cli.main([*base, "--out", str(tmp_path / "a.csv"), "--attributions", str(tmp_path / "maps.npy")]) == 1
    assert error_line(capsys).endswith(f"--attributions: {tmp_path / 'maps.npy'}: the model has several inputs "
                                       "(seq, static); write a .npz file, which holds one array per input")
    assert not (tmp_path / "a.csv").exists()
    assert cli.main([*base, "--out", str(tmp_path / "b.csv"), "--attributions", str(tmp_path / "maps.npz")]) == 0
    with np.load(tmp_path / "maps.npz") as archive:
        assert sorted(archive.files) == ["convergence_delta", "rows", "seq", "static"]
        assert archive["seq"].shape[:2] == (len(data["seq"]), CLI_T) and archive["static"].ndim == 2
        assert np.all(archive["seq"][:8, :2] == 0)  # padded steps stay at the mask value along the path


def test_a_baseline_in_words_goes_alone(linear, tmp_path, arrays, capsys):
    assert _run(linear, tmp_path, "--baselines", "mean", "--baselines", "zeros") == 1
    assert error_line(capsys).endswith("error: --baselines mean: give one of mean, zeros alone, or files")
