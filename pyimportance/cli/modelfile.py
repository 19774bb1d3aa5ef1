"""Which Keras saved a model file, and loading a Keras 2 file with Keras 2, safely.

Keras 3 cannot read many files that Keras 2 wrote (a GRU saved by tf-keras carries
``time_major``, which Keras 3's GRU refuses). The version a file was saved with is read from
the file's own metadata, never by running it: the ``keras_version`` attribute of an HDF5 file,
``metadata.json`` in a ``.keras`` archive. Files saved by Keras 2 are loaded by Keras 2: by
``keras`` itself where it is Keras 2 (TensorFlow 2.15 and older), else by ``tf_keras``.

Keras 2's HDF5 loader runs a ``Lambda`` layer's marshalled Python code even in safe mode, so the
model's configuration (JSON, read without loading the model) is searched for ``Lambda`` layers
first, and a file holding one is refused unless the caller opted in (``--unsafe``).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from ..model.keras import keras_major_version


def saved_keras_version(path: Path, suffix: str) -> str | None:
    """The Keras version a model file records (``"2.21.0"``), or None when it records none."""
    try:
        if suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                if "metadata.json" not in archive.namelist():
                    return None
                return str(json.loads(archive.read("metadata.json")).get("keras_version") or "") or None
        import h5py

        with h5py.File(path, "r") as handle:
            version = handle.attrs.get("keras_version")
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, ImportError):
        return None
    if isinstance(version, bytes):
        version = version.decode("utf-8", "replace")
    return str(version) if version else None


def saved_by_keras_2(path: Path, suffix: str) -> bool:
    """Whether the file was saved by Keras 2 (tf-keras, or Keras 2 inside TensorFlow)."""
    version = saved_keras_version(path, suffix)
    return version is not None and version.split(".", 1)[0] == "2"


def check_readable_by(keras, path: Path, suffix: str, what: str) -> None:
    """Refuse a file saved by a Keras newer in major version than the ``keras`` installed (Keras 3's files
    under Keras 2), before Keras 2 misreads it."""
    installed = keras_major_version(keras)
    version = saved_keras_version(path, suffix)
    head = version.split(".", 1)[0] if version else ""
    if installed is not None and head.isdigit() and int(head) > installed:
        raise ValueError(
            f"{what}: {path} was saved by Keras {version}, which the Keras installed here ({keras.__name__} "
            f"{getattr(keras, '__version__', installed)}) cannot read; load it where Keras {head} is installed, "
            f"or save the model again with Keras {installed}"
        )


def _model_config(path: Path, suffix: str):
    """The model's configuration as saved (JSON), without loading the model."""
    if suffix == ".keras":
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))
    import h5py

    with h5py.File(path, "r") as handle:
        config = handle.attrs.get("model_config")
    if isinstance(config, bytes):
        config = config.decode("utf-8")
    return json.loads(config) if config else {}


def _lambda_layers(config) -> list[str]:
    """Names of the ``Lambda`` layers anywhere in a saved configuration."""
    found = []
    if isinstance(config, dict):
        if config.get("class_name") == "Lambda":
            found.append(str((config.get("config") or {}).get("name", "lambda")))
        for value in config.values():
            found.extend(_lambda_layers(value))
    elif isinstance(config, list):
        for value in config:
            found.extend(_lambda_layers(value))
    return found


def load_keras_2(path: Path, suffix: str, *, unsafe: bool, what: str, keras=None):
    """Load a model file saved by Keras 2 (``compile=False``), refusing Lambda layers unless ``unsafe``.

    ``keras`` is the installed ``keras`` package when it is Keras 2 itself (TensorFlow 2.15 and older),
    which then loads the file; otherwise (Keras 3 installed) the file is loaded with ``tf_keras``.
    """
    if not unsafe:
        lambdas = _lambda_layers(_model_config(path, suffix))
        if lambdas:
            raise ValueError(
                f"{what}: {path} contains a Lambda layer with Python code ({', '.join(lambdas)}), which is not "
                "loaded by default because it can run arbitrary code; if you trust this file, pass --unsafe"
            )
    if keras is None:
        try:
            import tf_keras as keras
        except ImportError:
            raise ImportError(
                f"{what}: {path} was saved by Keras 2 (tf-keras), which Keras 3 cannot always read; "
                "install tf-keras (pip install tf-keras) to load it"
            ) from None
    return keras.models.load_model(path, compile=False, safe_mode=not unsafe)
