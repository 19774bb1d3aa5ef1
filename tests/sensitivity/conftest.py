"""The JAX module runs only where Keras' backend is JAX (``KERAS_BACKEND=jax``, set before Keras is imported): in
any other environment it is not collected, rather than collected and skipped."""

from __future__ import annotations

import os

collect_ignore = [] if os.environ.get("KERAS_BACKEND") == "jax" else ["test_sensitivity_jax.py"]
