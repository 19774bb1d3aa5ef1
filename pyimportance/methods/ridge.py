"""Ridge models of any block of input columns given all the other columns: the conditional method's algebra.

The conditional method (:mod:`.conditional`) keeps the part of a unit's columns S that every
other column C of the sample predicts and permutes only the residual. Here that model is ridge
regression with a penalty chosen per block by generalised cross-validation (GCV) on reference rows.

Why hand-written. scikit-learn's ``RidgeCV`` fits one regression per call; a ``by="cell"`` run
on a 30 x 20 window needs 600 of them, each with 599 predictors, and each would re-read the
reference rows and factor its own 599 x 599 matrix. All of these regressions share one matrix:
with centred and scaled columns ``Z``, Gram matrix ``G = Z'Z = V diag(d) V'`` and
``P = (G + a I)^-1 = V diag(1 / (d + a)) V'``, block inversion gives the ridge coefficients of
S on C (penalty ``a`` on C's coefficients, intercept unpenalised) as
``B = (G_CC + a I)^-1 G_CS = -P_CS P_SS^-1``. So one pass over the rows (streamed in chunks, the
Gram matrix accumulated by Chan's pairwise update) and one eigendecomposition serve every block,
every penalty of the grid, and the GCV score of each. No library offers this reuse.

GCV in the eigenbasis, for block S of k columns with complement C, from ``n`` reference rows:

- residual sum of squares: the residuals are ``R = Z P_{.S} P_SS^-1``, so
  ``RSS(a) = tr(P_SS^-1 Q_SS P_SS^-1)`` with ``Q = P G P = V diag(d / (d + a)^2) V'``;
- effective degrees of freedom: ``df(a) = tr(G_CC (G_CC + a I)^-1) = |C| - a tr((G_CC + a I)^-1)``
  and, by the same block inversion, ``tr((G_CC + a I)^-1) = sum(1 / (d + a)) - tr(P_SS^-1 (P^2)_SS)``;
- ``GCV(a) = RSS(a) / (n k) / (1 - (df(a) + 1) / n)^2`` (the 1 is the unpenalised intercept).

Each costs ``O(k^2 p)`` per penalty from the rows of ``V`` that belong to S. These are exact for
the given rows: nothing is approximated in RSS or df.

What is approximated or assumed:

- GCV, not exact leave-one-out (scikit-learn's ``RidgeCV(gcv_mode=...)`` computes exact LOO
  errors, which need every row's leverage and hence the rows again for every block); the two
  agree closely when no row has an outsized leverage;
- one penalty per block, shared by its columns (scikit-learn's ``alpha_per_target=False``),
  chosen from a discrete log grid;
- the penalty acts on columns scaled to unit standard deviation over the reference rows;
  a column that is constant there carries no information: it is left out of every regression,
  and as a target its fitted value is its constant;
- residuals of the reference rows themselves (``split(..., in_sample=True)``, for when the
  model is fitted on the rows it then perturbs) are scaled by ``1 / (1 - (df + 1) / n)``: the
  average leverage stands in for each row's own, as in GCV, so they approximate leave-one-out
  residuals (exact for a mean-only model) instead of the too-small in-sample ones;
- the conditional model is linear-Gaussian: permuting residuals reproduces the conditional
  distribution exactly when the residual is independent of C (jointly Gaussian inputs);
  otherwise it keeps the conditional mean and the average spread only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

_SPLIT_ROWS = 4096  # rows per step of ColumnModel.split (bounds its temporary copies)
_DEFAULT_RELATIVE_ALPHAS = np.logspace(-6.0, 3.0, 28)  # times the number of reference rows


class ColumnModel:
    """The fitted ridge model of one block of columns given all the others.

    Made by :meth:`LinearConditional.for_columns`; not meant to be built by hand.

    Attributes
    ----------
    columns : numpy.ndarray
        The block's column indices (int64), in the order given.
    alpha : float
        The chosen ridge penalty (on scaled columns; ``inf`` when nothing is left to condition
        on, so that the fitted values are the block's reference means).
    conditioning_columns : numpy.ndarray
        The columns the block is regressed on: every non-constant column outside the block.
    """

    def __init__(
        self,
        columns: np.ndarray,
        alpha: float,
        conditioning_columns: np.ndarray,
        mean: np.ndarray,
        coefficients: np.ndarray,
        informative_targets: np.ndarray,
        leave_one_out_factor: float,
        n_reference_rows: int,
    ) -> None:
        self.columns = columns
        self.alpha = alpha
        self.conditioning_columns = conditioning_columns
        self._mean = mean  # (p,) reference means of every column
        self._coefficients = coefficients  # (p, len(columns)) in data units; zero outside conditioning_columns
        self._informative_targets = informative_targets  # (len(columns),) bool: not constant in the reference
        self._leave_one_out_factor = leave_one_out_factor  # 1 / (1 - average leverage), nan if undefined
        self._n_reference_rows = n_reference_rows

    def __repr__(self) -> str:
        return (
            f"ColumnModel(columns={self.columns.tolist()}, alpha={self.alpha:.4g}, "
            f"n_conditioning_columns={self.conditioning_columns.size})"
        )

    def split(self, rows: np.ndarray, *, in_sample: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Split the block's values into the part the other columns explain and the rest.

        Parameters
        ----------
        rows : numpy.ndarray
            Shape ``(m, p)``: whole rows (every column, as in the reference rows). Not modified.
        in_sample : bool, default False
            Whether ``rows`` are (some of) the reference rows the model was fitted on. Residuals of the rows
            a model was fitted on are too small (with more columns than rows, nearly zero), so
            they are scaled by ``1 / (1 - h)``, ``h`` the average leverage: GCV's approximation
            of leave-one-out residuals, which have the spread of residuals on new rows.

        Returns
        -------
        fitted, residual : numpy.ndarray
            Each ``(m, len(columns))`` float64, with ``fitted + residual == rows[:, columns]``
            up to float rounding. Conditional permutation permutes the residual rows.

        Examples
        --------
        >>> rng = np.random.default_rng(0)
        >>> rows = rng.normal(size=(500, 3))
        >>> rows[:, 1] += rows[:, 0]
        >>> fitted, residual = LinearConditional.fit([rows]).for_columns([1]).split(rows, in_sample=True)
        >>> bool(residual.var() < 0.6 * rows[:, 1].var())
        True
        """
        rows = np.asarray(rows)
        n_columns = self._mean.size
        if rows.ndim != 2 or rows.shape[1] != n_columns:
            raise ValueError(
                f"rows must be a 2-D array with {n_columns} columns (as the reference rows), got shape {rows.shape}"
            )
        fitted = np.empty((rows.shape[0], self.columns.size))
        residual = np.empty_like(fitted)
        # whole rows, centred in slices: no gather of columns, temporaries bounded by _SPLIT_ROWS rows
        for start in range(0, rows.shape[0], _SPLIT_ROWS):
            centred = np.subtract(rows[start : start + _SPLIT_ROWS], self._mean, dtype=np.float64)
            fitted[start : start + _SPLIT_ROWS], residual[start : start + _SPLIT_ROWS] = self.split_centred(
                centred, in_sample=in_sample)
        return fitted, residual

    def split_centred(self, centred: np.ndarray, *, in_sample: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`split` for rows already centred on the reference means (``rows - mean``).

        For callers that split the same rows for many blocks: centring them once saves a full
        copy of the rows per block.
        """
        block = centred[:, self.columns]
        explained = centred @ self._coefficients if self.conditioning_columns.size else np.zeros_like(block)
        residual = block - explained
        if in_sample:
            self._to_leave_one_out(residual)
        fitted = block - residual + self._mean[self.columns]
        return fitted, residual

    def _to_leave_one_out(self, residual: np.ndarray) -> None:
        """Scale in-sample residuals (in place) to GCV's approximation of leave-one-out residuals."""
        if not self._informative_targets.any():
            return
        if not np.isfinite(self._leave_one_out_factor):
            raise ValueError(
                f"in_sample residuals are undefined: with {self._n_reference_rows} reference rows the model of "
                f"columns {self.columns.tolist()} fits them exactly at every penalty of alphas; pass larger alphas"
            )
        residual[:, self._informative_targets] *= self._leave_one_out_factor


class LinearConditional:
    """Ridge models of any block of columns given all other columns, from one pass over reference rows.

    Build it with :meth:`fit`; then :meth:`for_columns` gives the model of one block (a unit),
    with its own penalty, at a cost of ``O(p^2 k)`` for a block of ``k`` of the ``p`` columns.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x1 = rng.normal(size=4000)
    >>> x2 = 0.8 * x1 + 0.6 * rng.normal(size=4000)      # correlation 0.8 with x1
    >>> rows = np.column_stack([x1, x2, rng.normal(size=4000)])
    >>> conditional = LinearConditional.fit(np.array_split(rows, 4))
    >>> fitted, residual = conditional.for_columns([0]).split(rows)
    >>> round(float(residual.var()), 2)                  # 1 - 0.8^2
    0.36
    """

    def __init__(
        self,
        n_rows: int,
        mean: np.ndarray,
        scale: np.ndarray,
        informative: np.ndarray,
        eigenvalues: np.ndarray,
        eigenvectors: np.ndarray,
        alphas: np.ndarray,
    ) -> None:
        self._n_rows = n_rows
        self._mean = mean
        self._scale = scale
        self._informative = informative  # non-constant columns, ascending
        self._position = np.full(mean.size, -1, dtype=np.int64)
        self._position[informative] = np.arange(informative.size)
        self._eigenvalues = eigenvalues
        self._eigenvectors = eigenvectors  # rows: informative columns; columns: eigenvectors
        self._alphas = alphas

    @classmethod
    def fit(cls, chunks: Iterable[np.ndarray], *, alphas: Sequence[float] | None = None) -> LinearConditional:
        """Accumulate the reference rows' means and Gram matrix, and decompose it once.

        Parameters
        ----------
        chunks : iterable of numpy.ndarray
            Yields arrays ``(rows, p)`` of reference rows (float64, or anything convertible), all
            with the same ``p``. Consumed once; only one chunk is held at a time. Not modified.
        alphas : sequence of float, optional
            The ridge penalties to choose from, positive, on columns scaled to unit standard
            deviation (the ``alpha`` of ``sklearn.linear_model.Ridge`` on such columns).
            Default: ``n_rows * numpy.logspace(-6, 3, 28)``.

        Returns
        -------
        LinearConditional
        """
        n_rows, mean, crossproducts, column_min, column_max = _accumulate(chunks)
        grid = _penalty_grid(alphas, n_rows)
        informative = np.flatnonzero(column_max > column_min)
        scale = np.ones(mean.size)
        scale[informative] = np.sqrt(np.diag(crossproducts)[informative] / n_rows)
        kept = scale[informative]
        gram = crossproducts[np.ix_(informative, informative)] / np.outer(kept, kept)
        eigenvalues, eigenvectors = np.linalg.eigh(gram)
        return cls(n_rows, mean, scale, informative, np.clip(eigenvalues, 0.0, None), eigenvectors, grid)

    @property
    def n_columns(self) -> int:
        """Number of columns ``p`` of the rows."""
        return self._mean.size

    @property
    def n_rows(self) -> int:
        """Number of reference rows the models were fitted on."""
        return self._n_rows

    @property
    def alphas(self) -> np.ndarray:
        """The penalty grid, ascending (a copy)."""
        return self._alphas.copy()

    def centre(self, rows: np.ndarray) -> np.ndarray:
        """``rows - mean`` (float64): what :meth:`ColumnModel.split_centred` takes."""
        return np.subtract(rows, self._mean, dtype=np.float64)

    def for_columns(self, columns: Sequence[int]) -> ColumnModel:
        """The ridge model of the block ``columns`` given every other column, penalty chosen by GCV.

        Parameters
        ----------
        columns : sequence of int
            Distinct column indices in ``[0, p)``: the unit's columns of the flattened row.

        Returns
        -------
        ColumnModel
        """
        block = self._validate_columns(columns)
        block_positions = self._position[block]
        targets = block_positions[block_positions >= 0]  # the block's informative columns
        others = np.setdiff1d(np.arange(self._informative.size), targets)
        coefficients = np.zeros((self.n_columns, block.size))
        informative_targets = block_positions >= 0
        if targets.size == 0 or others.size == 0:  # nothing to regress on: the fitted values are the means
            factor = self._n_rows / (self._n_rows - 1.0) if self._n_rows > 1 else math.nan
            empty = np.empty(0, dtype=np.int64)
            return ColumnModel(
                block, math.inf, empty, self._mean, coefficients, informative_targets, factor, self._n_rows
            )

        scores, denominators = self._gcv_scores(targets)
        best = int(np.argmin(scores))
        alpha = float(self._alphas[best])
        factor = 1.0 / denominators[best] if denominators[best] > 0 else math.nan
        standardised = self._standardised_coefficients(targets, others, alpha)
        conditioning_columns = self._informative[others]
        target_scale = self._scale[self._informative[targets]]
        coefficients[np.ix_(conditioning_columns, np.flatnonzero(informative_targets))] = (
            standardised / self._scale[conditioning_columns][:, None] * target_scale[None, :]
        )
        return ColumnModel(
            block, alpha, conditioning_columns, self._mean, coefficients, informative_targets, factor, self._n_rows
        )

    def _gcv_scores(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """GCV score of every penalty of the grid for the block ``targets`` (informative positions).

        Also returns ``1 - (df + 1) / n`` for every penalty: 1 minus the average leverage.
        """
        n, d, k = self._n_rows, self._eigenvalues, targets.size
        n_others = d.size - k
        block_vectors = self._eigenvectors[targets]  # (k, p')
        weights = 1.0 / (d[None, :] + self._alphas[:, None])  # (n_alphas, p'): diagonal of P

        def block_of(diagonal: np.ndarray) -> np.ndarray:  # (V diag(.) V')_SS for every penalty
            return (block_vectors[None, :, :] * diagonal[:, None, :]) @ block_vectors.T

        p_ss = block_of(weights)
        p_ss_inv_q = np.linalg.solve(p_ss, block_of(d[None, :] * weights**2))
        rss = np.trace(np.linalg.solve(p_ss, np.swapaxes(p_ss_inv_q, 1, 2)), axis1=1, axis2=2)
        trace_inverse = weights.sum(axis=1) - np.trace(np.linalg.solve(p_ss, block_of(weights**2)), axis1=1, axis2=2)
        dof = n_others - self._alphas * trace_inverse
        denominator = 1.0 - (dof + 1.0) / n
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = np.where(denominator > 0, rss / (n * k) / denominator**2, np.inf)
        if not np.isfinite(scores).any():  # as many parameters as rows at every penalty: shrink most
            scores = np.where(np.arange(scores.size) == scores.size - 1, 0.0, np.inf)
        return scores, denominator

    def _standardised_coefficients(self, targets: np.ndarray, others: np.ndarray, alpha: float) -> np.ndarray:
        """Ridge coefficients ``-P_CS P_SS^-1`` of the scaled targets on the scaled other columns."""
        weights = 1.0 / (self._eigenvalues + alpha)
        p_columns = self._eigenvectors @ (weights[:, None] * self._eigenvectors[targets].T)  # P[:, S]
        return -np.linalg.solve(p_columns[targets], p_columns[others].T).T

    def _validate_columns(self, columns: Sequence[int]) -> np.ndarray:
        """``columns`` as an int64 array of distinct indices in ``[0, p)``, or a ValueError."""
        values = np.asarray(columns)
        if (
            values.ndim != 1
            or values.size == 0
            or not (np.issubdtype(values.dtype, np.integer) and not np.issubdtype(values.dtype, np.bool_))
        ):
            raise ValueError(f"columns must be a non-empty sequence of integer column indices, got {columns!r}")
        outside = values[(values < 0) | (values >= self.n_columns)]
        if outside.size:
            raise ValueError(f"columns must lie in [0, {self.n_columns}), got {int(outside[0])}")
        if np.unique(values).size != values.size:
            raise ValueError(f"columns must be distinct, got {values.tolist()}")
        return values.astype(np.int64)


def _accumulate(chunks: Iterable[np.ndarray]) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row count, column means, centred cross-products, column minima and maxima over all chunks.

    Chan, Golub & LeVeque's pairwise update merges each chunk's own centred statistics, so large
    column means cost no precision and the result does not depend on the chunk sizes (up to
    rounding).
    """
    n_rows, mean, crossproducts, column_min, column_max = 0, None, None, None, None
    for index, chunk in enumerate(chunks):
        values = np.asarray(chunk, dtype=np.float64)
        if values.ndim != 2:
            raise ValueError(f"chunks must yield 2-D arrays (rows, columns), got shape {values.shape} (chunk {index})")
        if mean is not None and values.shape[1] != mean.size:
            raise ValueError(
                f"chunks must all have the same number of columns: {mean.size} before, "
                f"got {values.shape[1]} (chunk {index})"
            )
        if values.shape[0] == 0:
            continue
        chunk_min, chunk_max = values.min(axis=0), values.max(axis=0)
        if not (np.isfinite(chunk_min).all() and np.isfinite(chunk_max).all()):
            row, column = np.argwhere(~np.isfinite(values))[0]
            raise ValueError(
                f"chunks must hold finite values, got {values[row, column]} at row {row}, column {column} "
                f"(chunk {index})"
            )
        chunk_mean = values.mean(axis=0)
        centred = values - chunk_mean
        chunk_crossproducts = centred.T @ centred
        chunk_rows = values.shape[0]
        if mean is None:
            n_rows, mean, crossproducts = chunk_rows, chunk_mean, chunk_crossproducts
            column_min, column_max = chunk_min, chunk_max
            continue
        total = n_rows + chunk_rows
        delta = chunk_mean - mean
        crossproducts += chunk_crossproducts
        crossproducts += np.outer(delta, delta) * (n_rows * chunk_rows / total)
        mean = mean + delta * (chunk_rows / total)
        n_rows = total
        np.minimum(column_min, chunk_min, out=column_min)
        np.maximum(column_max, chunk_max, out=column_max)
    if mean is None:
        raise ValueError("chunks must yield at least one row of reference data, got none")
    return n_rows, mean, crossproducts, column_min, column_max


def _penalty_grid(alphas: Sequence[float] | None, n_rows: int) -> np.ndarray:
    """The validated penalty grid, ascending and without repeats."""
    if alphas is None:
        return n_rows * _DEFAULT_RELATIVE_ALPHAS
    try:
        grid = np.asarray(alphas, dtype=np.float64)
    except (TypeError, ValueError):
        grid = np.empty(0)
    if grid.ndim != 1 or grid.size == 0 or not (np.isfinite(grid).all() and (grid > 0).all()):
        raise ValueError(f"alphas must be a non-empty sequence of positive finite numbers, got {alphas!r}")
    return np.unique(grid)
