"""Pairwise-complete correlations of a large matrix with missing values, as matrix products."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._input import as_matrix

__all__ = [
    "PairwiseSums",
    "pairwise_correlation",
    "pairwise_covariance",
    "pairwise_covariance_from_sums",
    "pairwise_sums",
]

# Rows per block of element-wise work (kept in cache) and rows per BLAS call. 512-row products
# stay under OpenBLAS's threading threshold, so each worker thread runs single-threaded BLAS and
# two workers use two cores without contending for BLAS's own thread pool.
_BLOCK = 8192
_SUB = 512


def _default_workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def _moments(X: np.ndarray, lo: int, hi: int, shift: np.ndarray):
    """Sums over rows lo..hi of the zero-filled, shifted data and the observed-value mask.

    Returns ``G = xᵀx``, ``S1 = xᵀm``, ``S2 = (x²)ᵀm`` and ``C = mᵀm`` where ``x`` is the data
    minus ``shift`` with missing values set to 0 and ``m`` is 1 where a value is present.
    """
    p = X.shape[1]
    k = min(_BLOCK, max(hi - lo, 1))
    shift_rows = np.broadcast_to(shift, (k, p)).copy()
    nan = np.empty((k, p), dtype=bool)
    keep = np.empty((k, p), dtype=np.int8)
    x = np.empty((k, p))
    sq = np.empty((k, p))
    m = np.empty((k, p))
    m32 = np.empty((k, p), dtype=np.float32)
    G = np.zeros((p, p))
    S1 = np.zeros((p, p))
    S2 = np.zeros((p, p))
    C = np.zeros((p, p))
    one32 = np.float32(1.0)
    for a in range(lo, hi, k):
        r = min(hi, a + k) - a
        blk = X[a : a + r]
        if not blk.flags.c_contiguous:
            blk = np.ascontiguousarray(blk)
        nan_, keep_, x_, sq_, m_, m32_ = nan[:r], keep[:r], x[:r], sq[:r], m[:r], m32[:r]
        np.isnan(blk, out=nan_)
        np.subtract(blk, shift_rows[:r], out=x_)
        # Zero the missing values with a bit mask (0 or all ones): much faster than copyto(where=).
        np.subtract(nan_.view(np.int8), 1, out=keep_)
        np.bitwise_and(x_.view(np.int64), keep_, out=x_.view(np.int64))
        np.multiply(x_, x_, out=sq_)
        np.subtract(one32, nan_, out=m32_)
        np.copyto(m_, m32_)
        full = (r // _SUB) * _SUB
        if full:
            b = full // _SUB
            x3 = x_[:full].reshape(b, _SUB, p)
            s3 = sq_[:full].reshape(b, _SUB, p)
            m3 = m_[:full].reshape(b, _SUB, p)
            c3 = m32_[:full].reshape(b, _SUB, p)
            xt = x3.transpose(0, 2, 1)
            G += np.matmul(xt, x3).sum(axis=0)
            S1 += np.matmul(xt, m3).sum(axis=0)
            S2 += np.matmul(s3.transpose(0, 2, 1), m3).sum(axis=0)
            # Counts in float32 are exact: each block sums at most 512 ones.
            C += np.matmul(c3.transpose(0, 2, 1), c3).sum(axis=0, dtype=np.float64)
        if full < r:
            xt, st, mt = x_[full:], sq_[full:], m_[full:]
            G += xt.T @ xt
            S1 += xt.T @ mt
            S2 += st.T @ mt
            C += mt.T @ mt
    return G, S1, S2, C


def _pairwise_sums(X: np.ndarray, workers: int | None, shift: np.ndarray | None = None):
    n, p = X.shape
    if shift is None:  # the mean of the first rows, so that the sums do not cancel
        sample = X[: min(n, 4096)]
        with np.errstate(all="ignore"):
            counts = (~np.isnan(sample)).sum(axis=0)
            shift = np.where(counts > 0, np.nansum(sample, axis=0) / np.maximum(counts, 1), 0.0)
        shift = np.where(np.isfinite(shift), shift, 0.0)
    w = workers if workers is not None else _default_workers()
    w = max(1, min(int(w), n // (4 * _BLOCK) or 1))
    if w == 1:
        return _moments(X, 0, n, shift)
    bounds = np.linspace(0, n, w + 1).astype(int)
    with ThreadPoolExecutor(w) as pool:
        parts = list(pool.map(lambda i: _moments(X, bounds[i], bounds[i + 1], shift), range(w)))
    return tuple(sum(part[j] for part in parts) for j in range(4))


def _label(names: Sequence[Any] | None, j: int) -> str:
    return repr(names[j]) if names is not None else str(j)


def _pairwise(X: np.ndarray, names: Sequence[Any] | None, workers: int | None, min_count: int = 3):
    """Pairwise-complete covariance, correlation and counts, validated."""
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"expected a non-empty 2-D array of numbers, got shape {X.shape}")
    G, S1, S2, C = _pairwise_sums(X, workers)
    if not (np.isfinite(G).all() and np.isfinite(S2).all()):
        # Only an infinite input makes the sums non-finite; find it (this scan is the rare path).
        for j in range(X.shape[1]):
            rows = np.flatnonzero(np.isinf(X[:, j]))
            if rows.size:
                raise ValueError(
                    f"column {_label(names, j)} has an infinite value at row {int(rows[0])}"
                )
    return _from_sums(G, S1, S2, C, names, min_count)


def _centred_products(G, S1, C):
    """Σ (x_j − x̄_j)(x_k − x̄_k) over the rows where both are present, from the sums."""
    return G - S1 * S1.T / C


def _from_sums(G, S1, S2, C, names: Sequence[Any] | None, min_count: int):
    """Covariance, correlation and counts from the pairwise sums, validated."""
    p = C.shape[0]
    for j in range(p):
        if C[j, j] == 0:
            raise ValueError(f"column {_label(names, j)} has no values (all missing)")
    low = np.argwhere(min_count > C)
    if low.size:
        i, j = sorted(low.tolist(), key=lambda ij: ij[0] != ij[1])[0]
        if i == j:
            raise ValueError(
                f"column {_label(names, int(i))} has only {int(C[i, i])} values; at least "
                f"{min_count} are needed for a correlation"
            )
        raise ValueError(
            f"columns {_label(names, int(i))} and {_label(names, int(j))} are both present in only "
            f"{int(C[i, j])} rows; at least {min_count} are needed for a correlation"
        )
    cov = _centred_products(G, S1, C)
    var = S2 - S1 * S1 / C  # var[j, k]: sum of squares of column j over rows where k is present
    # Relative tolerance: exact constants leave only rounding noise of the sums of squares.
    flat = var <= 1e-12 * np.maximum(S2, np.finfo(float).tiny)
    if flat.any():
        i, j = np.argwhere(flat)[0]
        where = "" if i == j else f" over the rows it shares with column {_label(names, int(j))}"
        raise ValueError(f"column {_label(names, int(i))} is constant{where}")
    corr = cov / np.sqrt(var * var.T)
    np.clip(corr, -1.0, 1.0, out=corr)
    np.fill_diagonal(corr, 1.0)
    return cov / np.maximum(C - 1.0, 1.0), corr, C.astype(np.int64)


def pairwise_correlation(matrix: Any, *, workers: int | None = None) -> np.ndarray:
    r"""Pearson correlations of every pair of columns over the rows where both are present.

    For columns :math:`j, k` and the rows :math:`I_{jk}` where both are observed
    (:math:`n_{jk} = |I_{jk}|`),

    .. math::

        r_{jk} = \frac{\sum x_j x_k - \sum x_j \sum x_k / n_{jk}}
        {\sqrt{\bigl(\sum x_j^2 - (\sum x_j)^2/n_{jk}\bigr)
               \bigl(\sum x_k^2 - (\sum x_k)^2/n_{jk}\bigr)}}

    with every sum over :math:`I_{jk}` (the same as pandas ``DataFrame.corr()``). All the sums
    are matrix products of the zero-filled data :math:`X` and the mask :math:`M` of observed
    values, :math:`X^\top X`, :math:`X^\top M`, :math:`(X\circ X)^\top M` and :math:`M^\top M`,
    computed in cache-sized blocks with BLAS on several threads. Columns are first shifted by
    their mean in the first rows so that the sums do not cancel. Memory beyond the input is a
    few MB per thread.

    Parameters
    ----------
    matrix : array-like, shape (n, p)
        A 2-D float array (or pandas/Polars DataFrame) with NaN for missing values. A
        C-contiguous float64 array is used without copying.
    workers : int, optional
        Threads; default the available cores (at most 8).

    Returns
    -------
    numpy.ndarray, shape (p, p)
        Symmetric, ones on the diagonal.

    Raises
    ------
    ValueError
        Empty input, an all-missing column, a pair of columns with fewer than 3 rows in
        common, a column constant over the rows it shares with another, or an infinite value.

    References
    ----------
    Pearson, K. (1896). Mathematical contributions to the theory of evolution. III. Regression,
    heredity and panmixia. *Phil. Trans. R. Soc. A* 187, 253–318.
    Chan, T. F., Golub, G. H. & LeVeque, R. J. (1983). Algorithms for computing the sample
    variance: analysis and recommendations. *Am. Stat.* 37, 242–247 (shifted data).

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, np.nan], [2.0, 4.1, 1.0], [3.0, np.nan, 0.0],
    ...               [4.0, 8.2, 2.0], [5.0, 9.9, 1.0]])
    >>> pairwise_correlation(x).round(3)
    array([[1.   , 0.999, 0.316],
           [0.999, 1.   , 0.232],
           [0.316, 0.232, 1.   ]])
    """
    names = list(matrix.columns) if hasattr(matrix, "columns") else None
    X = as_matrix(matrix, name="matrix")
    return _pairwise(X, names, workers)[1]


def pairwise_covariance(matrix: Any, *, workers: int | None = None):
    r"""Pairwise-complete covariances (``ddof=1``) and the number of rows behind each.

    .. math::

        c_{jk} = \frac{1}{n_{jk} - 1}\Bigl(\sum x_j x_k - \sum x_j \sum x_k / n_{jk}\Bigr)

    over the rows where both columns are present. Same algorithm and errors as
    :func:`pairwise_correlation`. A pairwise covariance matrix need not be positive
    semi-definite.

    References
    ----------
    Chan, Golub & LeVeque (1983); see :func:`pairwise_correlation`.

    Returns
    -------
    (covariance, counts) : tuple of numpy.ndarray, each (p, p)

    Examples
    --------
    >>> cov, n = pairwise_covariance(np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 7.0],
    ...                                        [4.0, 8.0]]))
    >>> n.tolist()
    [[4, 3], [3, 3]]
    """
    names = list(matrix.columns) if hasattr(matrix, "columns") else None
    X = as_matrix(matrix, name="matrix")
    cov, _, counts = _pairwise(X, names, workers)
    return cov, counts


@dataclass(frozen=True, eq=False)  # arrays: no element-wise == for the dataclass's
class PairwiseSums:
    r"""The sums behind pairwise-complete covariances, which add up over parts of the rows.

    For columns :math:`j, k` and the rows :math:`I_{jk}` where both are present: ``n[j, k]`` =
    :math:`n_{jk}`, ``x[j, k]`` = :math:`\sum_{I_{jk}} x_j`, ``x2[j, k]`` =
    :math:`\sum_{I_{jk}} x_j^2` and ``xx[j, k]`` = :math:`\sum_{I_{jk}} x_j x_k`, each a
    (p, p) float array. The sums of two sets of rows are the sums of their union (``+``), and
    of a set less a subset of it (``-``): a store can keep them per month and group and a
    reader add up the months it wants, exactly, for integer data (scores) whose sums stay below
    :math:`2^{53}`.
    """

    n: np.ndarray
    x: np.ndarray
    x2: np.ndarray
    xx: np.ndarray

    def __add__(self, other: PairwiseSums) -> PairwiseSums:
        return PairwiseSums(
            self.n + other.n, self.x + other.x, self.x2 + other.x2, self.xx + other.xx
        )

    def __sub__(self, other: PairwiseSums) -> PairwiseSums:
        return PairwiseSums(
            self.n - other.n, self.x - other.x, self.x2 - other.x2, self.xx - other.xx
        )

    def take(self, columns: Sequence[int]) -> PairwiseSums:
        """The sums of ``columns`` only, in that order."""
        pick = np.ix_(columns, columns)
        return PairwiseSums(self.n[pick], self.x[pick], self.x2[pick], self.xx[pick])

    @classmethod
    def zeros(cls, p: int) -> PairwiseSums:
        return cls(*(np.zeros((p, p)) for _ in range(4)))


def pairwise_sums(matrix: Any, *, workers: int | None = None) -> PairwiseSums:
    r"""The :class:`PairwiseSums` of ``matrix``'s columns (NaN: missing), unshifted, so that
    sums of different rows can be added:

    .. math::

        n_{jk} = |I_{jk}|,\quad x_{jk} = \sum_{I_{jk}} x_j,\quad
        x2_{jk} = \sum_{I_{jk}} x_j^2,\quad xx_{jk} = \sum_{I_{jk}} x_j x_k

    over the rows :math:`I_{jk}` where both columns are present, as the matrix products of
    :func:`pairwise_correlation`. For data of large magnitude whose sums would cancel,
    :func:`pairwise_covariance` (which shifts them) is the better road.

    References
    ----------
    Chan, Golub & LeVeque (1983). Algorithms for computing the sample variance: analysis and
    recommendations. *The American Statistician* 37, 242–247 (pairwise sums and when they
    cancel).

    Examples
    --------
    >>> sums = pairwise_sums(np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 7.0]]))
    >>> sums.n.tolist(), sums.x.tolist()
    ([[3.0, 2.0], [2.0, 2.0]], [[6.0, 4.0], [9.0, 9.0]])
    """
    X = as_matrix(matrix, name="matrix")
    if X.shape[0] == 0:
        return PairwiseSums.zeros(X.shape[1])
    infinite = np.argwhere(np.isinf(X))
    if infinite.size:
        row, column = infinite[0]
        raise ValueError(f"column {int(column)} has an infinite value at row {int(row)}")
    G, S1, S2, C = _pairwise_sums(X, workers, shift=np.zeros(X.shape[1]))
    return PairwiseSums(n=C, x=S1, x2=S2, xx=G)


def pairwise_covariance_from_sums(
    sums: PairwiseSums, names: Sequence[Any] | None = None, *, checked: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    r""":func:`pairwise_covariance` of the rows whose :class:`PairwiseSums` are ``sums``: the
    same formula, checks and errors (``names`` label the columns in them). ``checked`` False
    skips the checks, for a caller that needs whatever pairs there are (a pooled variance's
    cross terms), not a valid correlation matrix: a pair of fewer than two rows is then 0.

    .. math::

        c_{jk} = \frac{1}{n_{jk} - 1}\Bigl(xx_{jk} - x_{jk}\,x_{kj} / n_{jk}\Bigr)

    References
    ----------
    Chan, Golub & LeVeque (1983); see :func:`pairwise_correlation`.

    Examples
    --------
    >>> X = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 7.0], [4.0, 8.0]])
    >>> cov, n = pairwise_covariance_from_sums(pairwise_sums(X[:2]) + pairwise_sums(X[2:]))
    >>> np.allclose(cov, pairwise_covariance(X)[0])
    True
    """
    if sums.n.ndim != 2 or sums.n.shape[0] == 0:
        raise ValueError(f"expected sums of at least one column, got shape {sums.n.shape}")
    if not checked:
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = _centred_products(sums.xx, sums.x, sums.n) / (sums.n - 1.0)
        cov[~(sums.n >= 2)] = 0.0
        return cov, sums.n.astype(np.int64)
    cov, _, counts = _from_sums(sums.xx, sums.x, sums.x2, sums.n, names, 3)
    return cov, counts
