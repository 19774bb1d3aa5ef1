"""Prefix reuse: skip the unperturbed first time steps of a recurrent first layer, when it pays.

For a Keras ``Sequential`` model whose first layer is a plain one-way LSTM or GRU that returns
only its last output, rows whose values before time step ``s`` equal X's have the layer state
of the unperturbed rows after step ``s - 1``. That state is computed once per sample, and such
rows only run steps ``s..T-1``: ``by="timestep"`` and ``by="cell"`` then cost about half as much.

- :class:`PrefixReuse` is the mechanism. ``s`` is rounded down to one of a few start steps,
  each compiled once. The first chunk from each start step is also predicted in full and
  compared bit for bit; on any difference the shortcut is dropped for the rest of the run, so
  results never change.
- :class:`PrefixPolicy` decides, from the first timed full calls, whether the shortcut pays
  (each start step costs two compilations and its states) and how many start steps to use.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from .keras import keras_flavour
from .outputs import as_prediction_matrix, first_rows
from .predict import PredictFunction, pad_rows

# Prefix reuse pays off only when many rows share a start step; it costs a few compilations.
PREFIX_MIN_ROWS = 100_000
_DEFAULT_STARTS = 6


def starts_for(n_timesteps: int, n_starts: int) -> list[int]:
    """``n_starts`` start steps spread evenly over ``n_timesteps`` (0 included)."""
    return sorted({(k * n_timesteps) // n_starts for k in range(n_starts)})


def start_for(step: int, starts: Sequence[int]) -> int:
    """The largest start step at or before ``step``."""
    return max(start for start in starts if start <= step)


class PrefixReuse:
    """Predictions that skip the unperturbed first time steps (see the module docstring)."""

    def __init__(self, model, predict: PredictFunction, values: np.ndarray, *, cached_starts: int | None = 1):
        """``cached_starts``: how many start steps' states are kept at once (None: all; callers whose calls
        alternate between start steps keep them all)."""
        import tensorflow as tf

        self._predict = predict
        self._values = values
        layer = model.layers[0]
        self._twin = type(layer).from_config({**layer.get_config(), "return_state": True})
        self._twin.build((None, None, values.shape[2]))
        self._twin.set_weights(layer.get_weights())
        rest = model.layers[1:]
        twin = self._twin

        def states(x):
            return twin(x, training=False)[1:]

        def suffix(x, state):
            output = twin(x, initial_state=list(state), training=False)[0]
            for later in rest:
                output = later(output, training=False)
            return tf.nest.flatten(output)

        self._states_fn = tf.function(states, jit_compile=predict.uses_xla)
        self._suffix_fn = tf.function(suffix, jit_compile=predict.uses_xla)
        self.starts = starts_for(values.shape[1], _DEFAULT_STARTS)
        self._cached_starts = cached_starts
        self._cached: dict[int, list[np.ndarray]] = {}
        self._verified: set[int] = set()
        self.active = True
        self.rows_past_prefix = 0  # rows predicted from a later start step (the shortcut taken)

    @staticmethod
    def supports(model, values_shape: tuple[int, ...]) -> bool:
        """Whether ``model`` has the structure the shortcut is exact for."""
        flavour = keras_flavour(model)
        # Tried on ``keras`` as Keras 3 and as Keras 2 (TensorFlow 2.15); tf-keras beside Keras 3 runs in full.
        if flavour is None or flavour.package != "keras":
            return False
        keras = sys.modules[flavour.package]
        if not isinstance(model, keras.Sequential):
            return False
        if len(values_shape) != 3 or values_shape[1] < 2 or not model.layers:
            return False
        layer = model.layers[0]
        if type(layer) not in (keras.layers.LSTM, keras.layers.GRU):
            return False
        config = layer.get_config()
        flags = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")
        return not any(config.get(flag) for flag in flags)

    def use_starts(self, starts: Sequence[int]) -> None:
        """Compile for these start steps (0 included) rather than the default ones."""
        self.starts = sorted(set(starts) | {0})

    def start(self, step: int) -> int:
        """The start step used for rows unperturbed before ``step`` (0: run in full)."""
        return start_for(step, self.starts) if self.active else 0

    def _states(self, start: int) -> list[np.ndarray]:
        """Layer state of every sample after step ``start - 1`` (unperturbed), cached per start."""
        if start not in self._cached:
            if self._cached_starts is not None and len(self._cached) >= self._cached_starts:
                self._cached.pop(next(iter(self._cached)))
            batch = self._predict.batch_rows
            parts = []
            for first in range(0, self._values.shape[0], batch):
                block = np.asarray(self._values[first : first + batch, :start], dtype=self._predict.dtype)
                rows = block.shape[0]
                parts.append([np.asarray(state)[:rows] for state in self._states_fn(pad_rows(block, batch))])
            self._cached[start] = [np.concatenate(kind) for kind in zip(*parts)]
        return self._cached[start]

    def __call__(self, chunk: np.ndarray, step: int, sample_rows: np.ndarray) -> np.ndarray:
        """Predictions for ``chunk``, whose rows are samples ``sample_rows`` unperturbed before ``step``."""
        start = self.start(step)
        if start == 0:
            return self._predict(chunk)
        rows, batch = chunk.shape[0], self._predict.batch_rows
        suffix = pad_rows(chunk[:, start:], batch)
        state = [pad_rows(kind[sample_rows], batch) for kind in self._states(start)]
        try:
            fast = as_prediction_matrix(first_rows(self._suffix_fn(suffix, state), rows), rows)
        except Exception:  # e.g. XLA cannot compile it: the full forward pass decides
            self.active = False
            return self._predict(chunk)
        if start not in self._verified:
            full = self._predict(chunk)
            if not np.array_equal(fast, full):
                self.active = False
                return full
            self._verified.add(start)
        self.rows_past_prefix += rows
        return fast


class PrefixPolicy:
    """Whether and how to use :class:`PrefixReuse` in a run, decided from timed full calls.

    ``first_steps`` are the first perturbed time steps of the run's jobs (one per job).
    """

    def __init__(self, reuse: PrefixReuse | None, first_steps: Sequence[int], n_samples: int, n_timesteps: int,
                 batch_rows: int):
        self._reuse = reuse
        self._late_steps = [step for step in first_steps if step > 0]
        self._n_samples = n_samples
        self._n_timesteps = n_timesteps
        self._batch_rows = batch_rows
        self._call_seconds: list[float] = []
        self._decided: bool | None = None

    @property
    def declined(self) -> bool:
        """Whether the shortcut was found not to pay (the run predicts in full from then on)."""
        return self._decided is False

    def pays_off(self) -> bool:
        """Whether the shortcut is used from now on (False until the first timed full calls decide, once)."""
        return self._reuse is not None and self._pays_off()

    def timed(self, call: Callable[[], np.ndarray]) -> Callable[[], np.ndarray]:
        """``call`` that records its duration (full calls feed the decision)."""

        def timed_call() -> np.ndarray:
            start = time.perf_counter()
            result = call()
            self._call_seconds.append(time.perf_counter() - start)
            return result

        return timed_call

    def call(self, predict: PredictFunction, chunk: np.ndarray, step: int, sample_rows: Callable[[], np.ndarray]):
        """The call that predicts ``chunk`` (rows unperturbed before ``step``): in full or past the prefix."""
        if self._reuse is None or step == 0 or not self._pays_off():
            return self.timed(lambda: predict(chunk))
        return lambda: self._reuse(chunk, step, sample_rows())

    def _pays_off(self) -> bool:
        """Each start step costs two compilations (about the first call's extra time), its states and
        one chunk predicted twice; it saves ``start / T`` of the work of each row starting there. More
        start steps save more and cost more: the best number is chosen here, once."""
        if self._decided is None:
            times = self._call_seconds
            if len(times) < 3:
                return False
            steady = float(np.median(times[1:]))
            per_start = 2 * max(times[0] - steady, 0.1 * steady) + 3 * steady
            n_timesteps = self._n_timesteps
            chunks_per_job = self._n_samples / self._batch_rows
            best, best_net = None, 0.0
            for n_starts in sorted({2, 3, 4, 6, 8, 10, 15, 20, 30, n_timesteps} & set(range(2, n_timesteps + 1))):
                starts = starts_for(n_timesteps, n_starts)
                skipped = sum(start_for(step, starts) for step in self._late_steps) / n_timesteps
                net = skipped * chunks_per_job * steady - 1.5 * (len(starts) - 1) * per_start
                if net > best_net:
                    best, best_net = starts, net
            self._decided = best is not None
            if best is not None:
                self._reuse.use_starts(best)
        return self._decided
