"""Model files through ``pyimportance run --model`` (pyimportance.cli.modelfile): a Keras 2 GRU saved
as .h5 or .keras is loaded with Keras 2 (tf-keras beside Keras 3; ``keras`` itself under TensorFlow
2.15) and gives the Python API's numbers; a Keras 2 file with a Lambda layer is refused without
``--unsafe`` (Keras 2's HDF5 loader would run its code); a file saved by Keras 3 is refused by name
where the Keras installed is Keras 2; a model with named outputs takes ``--y NAME=FILE`` by its output
keys and labels the rows by them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import CLI_F, CLI_T, error_line, read_result

from pyimportance import cli, perturbation_importance
from pyimportance.cli.modelfile import saved_keras_version

pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def keras_2_files(keras2, tmp_path_factory):
    """A Keras 2 GRU (seeded) saved as .h5 and .keras, and a Keras 2 model with a Lambda layer as .h5 (Keras 2:
    tf-keras beside Keras 3, or ``keras`` itself under TensorFlow 2.15)."""
    directory = tmp_path_factory.mktemp("keras_2")
    keras2.utils.set_random_seed(4)
    model = keras2.Sequential([keras2.layers.GRU(3, input_shape=(CLI_T, CLI_F)), keras2.layers.Dense(1)])
    model.save(directory / "gru.h5")
    model.save(directory / "gru.keras")
    with_lambda = keras2.Sequential([keras2.layers.Lambda(lambda x: x * 2.0, input_shape=(CLI_T, CLI_F)),
                                     keras2.layers.GRU(2)])
    with_lambda.save(directory / "lambda.h5")
    return model, directory


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_a_keras_2_gru_file_is_loaded_with_keras_2(keras_2_files, tmp_path, arrays, suffix):
    model, directory = keras_2_files
    X, y = arrays
    path = directory / f"gru{suffix}"
    assert saved_keras_version(path, suffix).startswith("2.")
    code = cli.main(["run", "--model", str(path), "--x", str(tmp_path / "X.npy"), "--y", str(tmp_path / "y.npy"),
                     "--method", "permute", "--n-repeats", "2", "--seed", "5", "--no-progress",
                     "--out", str(tmp_path / "r.csv")])
    assert code == 0
    expected = perturbation_importance(model, X, y, method="permute", n_repeats=2, random_state=5).to_frame()
    pd.testing.assert_frame_equal(read_result(tmp_path / "r.csv"), expected, rtol=1e-6)


def test_a_keras_2_lambda_file_is_refused_without_unsafe(keras_2_files, tmp_path, arrays, capsys):
    _, directory = keras_2_files
    path = directory / "lambda.h5"
    args = ["run", "--model", str(path), "--x", str(tmp_path / "X.npy"), "--n-repeats", "2", "--no-progress",
            "--out", str(tmp_path / "r.csv")]
    assert cli.main(args) == 1
    assert error_line(capsys) == (
        f"pyimportance: error: --model: {path} contains a Lambda layer with Python code, which is not "
        "loaded by default because it can run arbitrary code; if you trust this file, pass --unsafe"
    )
    assert cli.main([*args, "--unsafe"]) == 0
    assert len(read_result(tmp_path / "r.csv")) == CLI_F


def test_a_model_with_named_outputs_takes_y_files_by_its_keys(keras_module, tmp_path, arrays):
    keras = keras_module
    X, y = arrays
    keras.utils.set_random_seed(2)
    inputs = keras.Input((CLI_T, CLI_F))
    hidden = keras.layers.GRU(3)(inputs)
    model = keras.Model(inputs, {"sales": keras.layers.Dense(1)(hidden),
                                 "churn": keras.layers.Dense(1, activation="sigmoid")(hidden)})
    model.save(tmp_path / "named.keras")
    churn = (y > 0).astype(float)
    np.save(tmp_path / "churn.npy", churn)
    code = cli.main(["run", "--model", str(tmp_path / "named.keras"), "--x", str(tmp_path / "X.npy"),
                     "--y", f"sales={tmp_path / 'y.npy'}", "--y", f"churn={tmp_path / 'churn.npy'}",
                     "--loss", "churn=log_loss", "--per-output", "--method", "permute", "--n-repeats", "2",
                     "--seed", "1", "--no-progress", "--out", str(tmp_path / "r.csv")])
    assert code == 0
    frame = read_result(tmp_path / "r.csv")
    assert sorted(set(frame["output"])) == ["churn", "sales"]
    expected = perturbation_importance(model, X, {"sales": y, "churn": churn}, loss={"churn": "log_loss"},
                                       per_output=True, method="permute", n_repeats=2, random_state=1)
    pd.testing.assert_frame_equal(frame, expected.to_frame(), rtol=1e-6)
