"""Keras 2 told from Keras 3 on purpose (pyimportance.model.keras): by the version the package declares,
never by its name. ``keras`` is Keras 3 from TensorFlow 2.16 on but Keras 2.15 under TensorFlow 2.15
(what R's legacy ``keras`` runs on); ``tf_keras`` is Keras 2. Fake packages stand in for both here, so
these run without TensorFlow; the real ones are checked in the Keras environments (``make test-keras2``
runs the Keras tests on TensorFlow 2.15).
"""

from __future__ import annotations

import json
import sys
import types
import zipfile

import pytest

from pyimportance.cli.modelfile import check_readable_by
from pyimportance.model.keras import (
    KerasFlavour,
    is_keras_model,
    keras_flavour,
    keras_major_version,
    uses_tensorflow,
)


def fake_keras(name: str, version: str | None, *, version_function: bool = False) -> types.ModuleType:
    """A module named ``name`` with a ``Model`` class and a version (``__version__``, or Keras 3's ``version()``)."""
    module = types.ModuleType(name)
    module.Model = type("Model", (), {})
    if version is not None and version_function:
        module.version = lambda: version
    elif version is not None:
        module.__version__ = version
    return module


@pytest.fixture
def installed(monkeypatch):
    """Install fake ``keras`` / ``tf_keras`` packages in ``sys.modules`` (None: absent) for one test."""

    def install(keras=None, tf_keras=None):
        for name, module in (("keras", keras), ("tf_keras", tf_keras)):
            if module is None:
                monkeypatch.delitem(sys.modules, name, raising=False)
            else:
                monkeypatch.setitem(sys.modules, name, module)

    return install


@pytest.mark.parametrize(
    "version, major",
    [("2.15.0", 2), ("2.4.3", 2), ("3.0.0", 3), ("3.15.1", 3), ("2.21.0", 2), ("", None), ("dev", None), (None, None)],
)
def test_the_major_version_is_the_one_the_package_declares(version, major):
    assert keras_major_version(fake_keras("keras", version)) == major


def test_keras_3s_version_function_is_read_where_there_is_no_dunder_version():
    assert keras_major_version(fake_keras("keras", "3.2.1", version_function=True)) == 3


def test_a_package_named_keras_declaring_2_15_is_keras_2(installed):
    keras = fake_keras("keras", "2.15.0")
    installed(keras=keras)
    flavour = keras_flavour(keras.Model())
    assert flavour == KerasFlavour("keras", 2)
    assert uses_tensorflow(flavour)  # Keras 2 always runs on TensorFlow: its backend is not asked


def test_a_package_named_keras_declaring_3_is_keras_3(installed):
    keras = fake_keras("keras", "3.15.1")
    keras.backend = types.SimpleNamespace(backend=lambda: "jax")
    installed(keras=keras)
    flavour = keras_flavour(keras.Model())
    assert flavour == KerasFlavour("keras", 3)
    assert not uses_tensorflow(flavour)  # Keras 3: by its backend


def test_tf_keras_beside_keras_3_is_keras_2(installed):
    keras, tf_keras = fake_keras("keras", "3.15.1"), fake_keras("tf_keras", "2.21.0")
    installed(keras=keras, tf_keras=tf_keras)
    assert keras_flavour(tf_keras.Model()) == KerasFlavour("tf_keras", 2)
    assert keras_flavour(keras.Model()) == KerasFlavour("keras", 3)


def test_a_package_that_declares_no_keras_version_is_not_taken_as_keras(installed):
    keras = fake_keras("keras", None)
    installed(keras=keras)
    assert keras_flavour(keras.Model()) is None and not is_keras_model(keras.Model())
    installed(keras=fake_keras("keras", "4.0.0"))
    assert keras_flavour(sys.modules["keras"].Model()) is None


def test_a_keras_3_file_is_refused_by_name_where_keras_2_is_installed(tmp_path):
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        archive.writestr("config.json", "{}")
    with pytest.raises(ValueError) as error:
        check_readable_by(fake_keras("keras", "2.15.0"), path, ".keras", "--model")
    assert str(error.value) == (
        f"--model: {path} was saved by Keras 3.15.1, which the Keras installed here (keras 2.15.0) cannot read; "
        "load it where Keras 3 is installed, or save the model again with Keras 2"
    )
    check_readable_by(fake_keras("keras", "3.15.1"), path, ".keras", "--model")  # Keras 3 reads it
