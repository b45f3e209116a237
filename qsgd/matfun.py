r"""Matrix functions without a decomposition: a certified singular-value bracket and Chebyshev series.

The algorithm-level models of the quantum solvers (:func:`qsgd.hhl.hhl_model`,
:func:`qsgd.solvers.polynomial.polynomial_model`) multiply every singular vector of the matrix by a
function of its singular value. With the decomposition that costs :math:`O(m^3)`. The same output
is a *matrix function* of the Hermitian dilation

.. math::

    H = \begin{pmatrix} 0 & A \\ A^{\mathsf T} & 0 \end{pmatrix},\qquad
    g(H)\begin{pmatrix} b \\ 0 \end{pmatrix}
    = \begin{pmatrix} U\,g_{\rm e}(\Sigma)\,U^{\mathsf T} b \\ W\,g_{\rm o}(\Sigma)\,U^{\mathsf T} b \end{pmatrix},
    \qquad g_{\rm e,o}(\sigma) = \tfrac12\,[g(\sigma) \pm g(-\sigma)],

for :math:`A = U\Sigma W^{\mathsf T}`, so it needs products by :math:`A` and :math:`A^{\mathsf T}`
only. This module provides the two pieces:

* :func:`singular_value_bracket`: intervals that contain :math:`\sigma_{\max}(A)` and
  :math:`\sigma_{\min}(A)`, from Lanczos on :math:`A^{\mathsf T}A` and on
  :math:`(A^{\mathsf T}A)^{-1}` (the latter through a sparse LU factorization or the caller's
  solves). The Ritz values give one side of each interval with certainty; the other side is the
  Kuczyński-Woźniakowski bound [1]_ for Lanczos from a uniformly random start: for a positive
  semi-definite :math:`M` of size :math:`n`, :math:`k` steps and :math:`0<\epsilon<1`,

  .. math:: \Pr\big[\theta_k \le (1-\epsilon)\lambda_{\max}(M)\big] \le 1.648\sqrt n\,e^{-\sqrt\epsilon\,(2k-1)},

  so :math:`\lambda_{\max} \le \theta_k/(1-\epsilon)` holds with the stated confidence. The
  bracket therefore is a *probabilistic bound*: it states its failure probability (default
  :math:`10^{-9}` per side) and a test measures its coverage.
* :func:`chebyshev_dilation`: :math:`p(H)\,(b, 0)` for a Chebyshev series :math:`p` on
  :math:`[-R, R]`, one product by :math:`A` or :math:`A^{\mathsf T}` per degree (the blocks of
  :math:`T_k(H/R)(b,0)` alternate between top and bottom), and :func:`chebyshev_apply` for a
  symmetric :math:`A` (no dilation).

The HHL filter's expansion and its rigorous truncation bound live with the filter
(:func:`qsgd.hhl.filter_expansion`); the polynomial solver's series is exact
(:class:`qsgd.solvers.polynomial.InversePolynomial`).

Symbols: :math:`m` the dimension of :math:`A`, :math:`k` Lanczos steps, :math:`\delta` the failure
probability of one side of the bracket, :math:`\epsilon` its relative width in
:math:`\sigma^2`, :math:`R` the radius of the Chebyshev interval, :math:`d` the degree.

Used in chapter 8.

References
----------
.. [1] J. Kuczyński, H. Woźniakowski, "Estimating the largest eigenvalue by the power and Lanczos
   algorithms with a random start", SIAM J. Matrix Anal. Appl. 13, 1094-1122 (1992), Theorem 4.2.
.. [2] L. N. Trefethen, *Approximation Theory and Approximation Practice*, SIAM (2019), ch. 3-4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigvalsh_tridiagonal
from scipy.sparse.linalg import LinearOperator, aslinearoperator, splu

from qsgd._validation import (
    as_rng,
    as_vector,
    check_int,
    check_memory,
    check_positive,
    describe,
    estimate_bytes,
)
from qsgd.decomposition import SpectralBounds

__all__ = [
    "SingularValueBracket",
    "singular_value_bracket",
    "lanczos_width",
    "chebyshev_dilation",
    "chebyshev_apply",
    "as_operator",
    "reference_direction",
    "MAX_CHEBYSHEV_DEGREE",
    "BRACKET_FAILURE",
]

#: failure probability of each side of :func:`singular_value_bracket` (the KW bound)
BRACKET_FAILURE = 1e-9

#: largest Chebyshev degree :func:`chebyshev_dilation` applies (products by A or A^T)
MAX_CHEBYSHEV_DEGREE = 200_000

#: the constant of the Kuczyński-Woźniakowski bound (Theorem 4.2 of [1])
_KW_CONSTANT = 1.648


def as_operator(A: Any, func: str) -> tuple[LinearOperator, Any]:
    """``A`` as a square real LinearOperator, and the sparse matrix itself (or None for an operator).

    Accepts a dense array, a scipy sparse matrix/array, a ``LinearOperator`` with ``rmatvec``, or an
    object with an ``aslinearoperator()`` method (the operators of :mod:`qsgd.lifting_operators`).
    """
    if not isinstance(A, LinearOperator) and callable(getattr(A, "aslinearoperator", None)):
        A = A.aslinearoperator()
    if isinstance(A, LinearOperator):
        op, mat = A, None
    elif sp.issparse(A):
        mat = sp.csr_array(A)
        op = aslinearoperator(mat)
    else:
        try:
            arr = np.asarray(A, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{func}: A must be a matrix, a sparse matrix or a LinearOperator, got {describe(A)}")
        if arr.ndim != 2:
            raise ValueError(f"{func}: A must be a square matrix, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{func}: A must be finite, got non-finite entries")
        mat = arr
        op = aslinearoperator(arr)
    if len(op.shape) != 2 or op.shape[0] != op.shape[1] or op.shape[0] < 1:
        raise ValueError(f"{func}: A must be square, got shape {op.shape}")
    if mat is not None and sp.issparse(mat) and not np.all(np.isfinite(mat.data)):
        raise ValueError(f"{func}: A must be finite, got non-finite entries")
    return op, mat


def lanczos_width(dimension: int, steps: int, failure: float = BRACKET_FAILURE) -> float:
    r"""The relative width :math:`\epsilon` of the Kuczyński-Woźniakowski bound after ``steps`` Lanczos steps.

    The smallest :math:`\epsilon` with :math:`1.648\sqrt n\,e^{-\sqrt\epsilon(2k-1)} \le \delta`:
    :math:`\epsilon = \big(\ln(1.648\sqrt n/\delta)/(2k-1)\big)^2`, or 1 (no bound) when that is not
    below 1.

    Parameters
    ----------
    dimension : int
        :math:`n`, the size of the matrix.
    steps : int
        :math:`k \ge 1`.
    failure : float
        :math:`\delta \in (0, 1)`.

    Returns
    -------
    float

    Examples
    --------
    >>> round(lanczos_width(100_000, 150), 5)
    0.00814
    """
    func = "lanczos_width"
    n = check_int(dimension, "dimension", func=func, minimum=1)
    k = check_int(steps, "steps", func=func, minimum=1)
    delta = check_positive(failure, "failure", func=func)
    if delta >= 1:
        raise ValueError(f"{func}: failure must be in (0, 1), got {delta}")
    eps = (math.log(_KW_CONSTANT * math.sqrt(n) / delta) / (2 * k - 1)) ** 2
    return min(eps, 1.0)


def _steps_for(n: int, width: float, failure: float) -> int:
    """Lanczos steps that make :func:`lanczos_width` at most ``width`` (capped at n)."""
    k = math.ceil((math.log(_KW_CONSTANT * math.sqrt(n) / failure) / math.sqrt(width) + 1) / 2)
    return max(1, min(k, n))


def _lanczos_top(matvec: Callable[[np.ndarray], np.ndarray], n: int, steps: int, start: np.ndarray) -> float:
    r"""The largest Ritz value of ``steps`` Lanczos steps on a symmetric PSD operator, full reorthogonalization.

    Stops early on an invariant subspace (then the Ritz value is an eigenvalue). Ritz values lie in
    the spectrum's convex hull, so the result is a lower bound on :math:`\lambda_{\max}`.
    """
    Q = np.empty((steps, n))
    alpha, beta = np.zeros(steps), np.zeros(steps)
    q = start / np.linalg.norm(start)
    done = steps
    for j in range(steps):
        Q[j] = q
        w = np.asarray(matvec(q), dtype=float).reshape(-1)
        alpha[j] = float(q @ w)
        # full reorthogonalization, twice (classical Gram-Schmidt is enough twice)
        for _ in range(2):
            w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
        if j + 1 == steps:
            break
        nrm = float(np.linalg.norm(w))
        if nrm <= 1e-14 * max(abs(alpha[j]), 1e-300):
            done = j + 1
            break
        beta[j] = nrm
        q = w / nrm
    ritz = eigvalsh_tridiagonal(alpha[:done], beta[: done - 1]) if done > 1 else alpha[:1]
    return float(ritz[-1])


@dataclass(frozen=True)
class SingularValueBracket:
    r"""Intervals containing the extreme singular values of :math:`A` (:func:`singular_value_bracket`).

    Attributes
    ----------
    sigma_max : tuple of float
        :math:`(\ell, u)` with :math:`\ell \le \sigma_{\max} \le u`; :math:`\ell` is certain
        (a Ritz value), :math:`u` holds with probability at least ``1 - failure`` (or is certain
        when it is the norm bound :math:`\sqrt{\|A\|_1\|A\|_\infty}`).
    sigma_min : tuple of float
        :math:`(\ell, u)` with :math:`\ell \le \sigma_{\min} \le u`; :math:`u` is certain,
        :math:`\ell` holds with probability at least ``1 - failure``.
    steps : int
        Lanczos steps per side.
    width : float
        :math:`\epsilon`, the relative width in :math:`\sigma^2` of each probabilistic side.
    failure : float
        :math:`\delta`, the failure probability of each probabilistic side; both sides hold with
        probability at least :math:`1 - 2\delta`.
    dimension : int
    method : str
        ``"lanczos"``.
    """

    sigma_max: tuple[float, float]
    sigma_min: tuple[float, float]
    steps: int
    width: float
    failure: float
    dimension: int
    method: str = "lanczos"

    @property
    def confidence(self) -> float:
        r"""Probability at least this that both intervals hold, :math:`1-2\delta`."""
        return 1.0 - 2.0 * self.failure

    @property
    def condition_number(self) -> tuple[float, float]:
        r"""Bracket of :math:`\kappa = \sigma_{\max}/\sigma_{\min}`: (lower, upper)."""
        return (self.sigma_max[0] / self.sigma_min[1], self.sigma_max[1] / self.sigma_min[0])

    @property
    def bounds(self) -> SpectralBounds:
        r"""The outer ends as :class:`qsgd.decomposition.SpectralBounds` of the dilation (``method="lanczos"``)."""
        return SpectralBounds(self.sigma_min[0], self.sigma_max[1], False, True, "lanczos")

    def contains(self, sigma_min: float, sigma_max: float) -> bool:
        """Whether both exact values lie in their intervals (for tests of coverage)."""
        return bool(self.sigma_min[0] <= sigma_min <= self.sigma_min[1]
                    and self.sigma_max[0] <= sigma_max <= self.sigma_max[1])


def singular_value_bracket(A: Any, *, width: float = 1e-2, failure: float = BRACKET_FAILURE,
                           steps: int | None = None, solve: Callable | None = None,
                           solve_transpose: Callable | None = None, rng: Any = None,
                           max_bytes: float | None = None) -> SingularValueBracket:
    r"""Certified intervals for :math:`\sigma_{\max}(A)` and :math:`\sigma_{\min}(A)` from products and solves.

    Lanczos with full reorthogonalization from a uniformly random start on
    :math:`M = A^{\mathsf T}A` (products by :math:`A` and :math:`A^{\mathsf T}`) gives its largest
    Ritz value :math:`\theta \le \sigma_{\max}^2`; on :math:`M^{-1} = A^{-1}A^{-\mathsf T}` (two
    solves per step) :math:`\theta' \le \sigma_{\min}^{-2}`. By the Kuczyński-Woźniakowski bound
    (module docstring) :math:`\sigma_{\max}^2 \le \theta/(1-\epsilon)` and
    :math:`\sigma_{\min}^{-2} \le \theta'/(1-\epsilon)`, each with probability at least
    :math:`1-\delta`. For a matrix (not an operator) the upper end of :math:`\sigma_{\max}` is also
    capped by the certain :math:`\sqrt{\|A\|_1\|A\|_\infty}`.

    Parameters
    ----------
    A : (m, m) ndarray, sparse matrix, LinearOperator or HistoryOperator
        Invertible. A LinearOperator must implement ``rmatvec`` and needs ``solve`` and
        ``solve_transpose``.
    width : float, default 0.01
        :math:`\epsilon \in (0, 1)`: the number of steps is chosen to reach it.
    failure : float, default :data:`BRACKET_FAILURE`
        :math:`\delta \in (0, 1)` per side.
    steps : int, optional
        Lanczos steps (overrides ``width``; the width is then what they reach).
    solve, solve_transpose : callable, optional
        :math:`x \mapsto A^{-1}x` and :math:`x \mapsto A^{-\mathsf T}x`; default the methods of the
        same names of ``A`` when it has them (a :class:`qsgd.lifting_operators.HistoryOperator`), else a
        sparse LU factorization of ``A`` (``scipy.sparse.linalg.splu``).
    rng : None, int or numpy.random.Generator
        Draws the two random starts.
    max_bytes : float, optional
        Size guard (default 4 GiB) on the Lanczos basis, ``steps`` vectors of length m.

    Returns
    -------
    SingularValueBracket

    Raises
    ------
    ValueError
        A not square or not finite, ``width`` or ``failure`` outside (0, 1), a singular ``A``
        (LU fails), a condition number beyond double precision (:math:`> 1/\epsilon_{\rm mach}`),
        a LinearOperator without solves, a basis beyond ``max_bytes``.

    Examples
    --------
    >>> A = np.diag([1.0, 2.0, 4.0])
    >>> br = singular_value_bracket(A, rng=0)
    >>> br.contains(1.0, 4.0), bool(abs(br.sigma_max[0] - 4.0) < 1e-9)
    (True, True)
    """
    func = "singular_value_bracket"
    solve = solve or getattr(A, "solve", None)
    solve_transpose = solve_transpose or getattr(A, "solve_transpose", None)
    op, mat = as_operator(A, func)
    m = op.shape[0]
    delta = check_positive(failure, "failure", func=func)
    if delta >= 1:
        raise ValueError(f"{func}: failure must be in (0, 1), got {delta}")
    if steps is None:
        eps = check_positive(width, "width", func=func)
        if eps >= 1:
            raise ValueError(f"{func}: width must be in (0, 1), got {eps}")
        k = _steps_for(m, eps, delta)
    else:
        k = check_int(steps, "steps", func=func, minimum=1)
        k = min(k, m)
    check_memory(estimate_bytes(k + 2, m), what=f"the Lanczos basis ({k} vectors of length {m})",
                 max_bytes=max_bytes, func=func, advice="lower steps or raise width")
    gen = as_rng(rng, func=func)
    if solve is None or solve_transpose is None:
        if mat is None:
            raise ValueError(f"{func}: a LinearOperator A needs solve= and solve_transpose= (x -> A^-1 x, A^-T x)")
        try:
            lu = splu(sp.csc_array(mat))
        except RuntimeError as exc:
            raise ValueError(f"{func}: A is singular ({exc}); no smallest singular value to bracket") from None
        solve = solve or lu.solve
        solve_transpose = solve_transpose or (lambda v: lu.solve(v, trans="T"))
    # uniform on the sphere: a normalized Gaussian
    top = _lanczos_top(lambda v: op.rmatvec(op.matvec(v)), m, k, gen.standard_normal(m))
    inv = _lanczos_top(lambda v: solve(solve_transpose(v)), m, k, gen.standard_normal(m))
    if not (math.isfinite(top) and math.isfinite(inv) and top > 0 and inv > 0):
        raise ValueError(f"{func}: Lanczos returned a non-finite or zero Ritz value (A singular or not finite)")
    eps = lanczos_width(m, k, delta) if k < m else 0.0
    smax_lo = math.sqrt(top)
    smin_hi = 1.0 / math.sqrt(inv)
    smax_hi = math.sqrt(top / (1.0 - eps)) if eps < 1 else math.inf
    smin_lo = math.sqrt((1.0 - eps) / inv) if eps < 1 else 0.0
    if mat is not None:  # certain: ||A||_2 <= sqrt(||A||_1 ||A||_inf)
        absm = abs(mat)
        norm_cap = math.sqrt(float(np.max(absm.sum(axis=0))) * float(np.max(absm.sum(axis=1))))
        smax_hi = min(smax_hi, norm_cap)
    if smin_lo <= 0:
        raise ValueError(f"{func}: {k} Lanczos steps give no lower bound on sigma_min (width {eps:.3g} >= 1); "
                         "raise steps or lower width")
    if smax_hi / smin_lo > 1.0 / np.finfo(float).eps:
        raise ValueError(f"{func}: the condition number of A is about {smax_lo * math.sqrt(inv):.3g}, beyond double "
                         f"precision (1/eps = {1.0 / np.finfo(float).eps:.3g}); no filter or polynomial can be "
                         "applied accurately")
    # rounding: the products and solves are backward stable, the solves' relative error grows like
    # m u kappa (Higham, ch. 8-9); widen every end by that much (negligible for kappa << 1/u)
    slack = 1e-12 + m * np.finfo(float).eps * smax_lo * math.sqrt(inv)
    return SingularValueBracket(sigma_max=(smax_lo * (1 - slack), smax_hi * (1 + slack)),
                                sigma_min=(smin_lo * (1 - slack), smin_hi * (1 + slack)),
                                steps=int(k), width=float(eps), failure=float(delta), dimension=int(m))


def _check_series(coefficients: Any, radius: Any, func: str) -> tuple[np.ndarray, float]:
    c = np.asarray(coefficients, dtype=float).reshape(-1)
    if c.size == 0 or not np.all(np.isfinite(c)):
        raise ValueError(f"{func}: coefficients must be a non-empty finite array, got {describe(coefficients)}")
    if c.size - 1 > MAX_CHEBYSHEV_DEGREE:
        raise ValueError(f"{func}: a Chebyshev series of degree {c.size - 1} is above the limit "
                         f"{MAX_CHEBYSHEV_DEGREE} (products by A); lower the clock or raise the accuracy")
    return c, check_positive(radius, "radius", func=func)


def _chebyshev_terms(product: Callable, vec: np.ndarray, degree: int, R: float):
    r"""Yield ``(k, T_k(M/R) vec)`` for ``k = 1..degree`` by :math:`T_{k+1} = 2(M/R)T_k - T_{k-1}`.

    ``product(k, v)`` is the product :math:`Mv` used to make degree ``k`` (the dilation picks
    :math:`A` or :math:`A^{\mathsf T}` by the parity of ``k``).
    """
    prev, cur = None, vec
    for k in range(1, degree + 1):
        prod = product(k, cur)
        nxt = (prod / R) if k == 1 else (2.0 / R) * prod - prev
        yield k, nxt
        prev, cur = cur, nxt


def reference_direction(mat: Any, unit: np.ndarray) -> np.ndarray:
    r""":math:`A^{-1}b/\|A^{-1}b\|` by a sparse LU solve of the matrix ``mat``; NaN entries when there is no matrix.

    The exact direction the algorithm-level models compare their output with (a classical
    reference, not part of the simulated algorithm). ``mat`` is the second value of
    :func:`as_operator` (None for a LinearOperator).
    """
    if mat is None:
        return np.full(np.asarray(unit).shape[0], np.nan)
    x = splu(sp.csc_array(mat)).solve(np.asarray(unit, dtype=float))
    return x / np.linalg.norm(x)


def chebyshev_dilation(A: Any, b: Any, coefficients: Any, *, radius: float) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`p(H)\,(b, 0)` for the dilation :math:`H` of :math:`A` and the series :math:`p = \sum_k c_k T_k(x/R)`.

    The three-term recurrence :math:`T_{k+1} = 2(H/R)T_k - T_{k-1}` on :math:`(b, 0)`: the vector
    :math:`T_k(H/R)(b, 0)` is :math:`(t_k, 0)` for even :math:`k` and :math:`(0, t_k)` for odd
    :math:`k`, so each degree costs one product, by :math:`A^{\mathsf T}` (odd) or :math:`A`
    (even). Stable when the spectrum of :math:`H`, :math:`\pm\sigma_i(A)`, lies in :math:`[-R, R]`.

    Parameters
    ----------
    A : (m, m) ndarray, sparse matrix or LinearOperator (with ``rmatvec``)
    b : (m,) array_like
    coefficients : (d + 1,) array_like
        :math:`c_0, \ldots, c_d`.
    radius : float
        :math:`R \ge \sigma_{\max}(A)`.

    Returns
    -------
    top, bottom : ndarray, shape (m,)
        :math:`U\,p_{\rm e}(\Sigma)\,U^{\mathsf T}b` and :math:`W\,p_{\rm o}(\Sigma)\,U^{\mathsf T}b`.

    Examples
    --------
    >>> top, bottom = chebyshev_dilation(np.diag([0.5, 2.0]), [1.0, 1.0], [0.0, 1.0], radius=2.0)
    >>> bottom  # T_1(H/2) (b, 0) = (0, A^T b / 2)
    array([0.25, 1.  ])
    """
    func = "chebyshev_dilation"
    op, _ = as_operator(A, func)
    m = op.shape[0]
    vec = as_vector(b, "b", func=func, size=m)
    c, R = _check_series(coefficients, radius, func)
    top = c[0] * vec
    bottom = np.zeros(m)
    # odd degrees land in the bottom block (a product by A^T), even ones in the top block (by A)
    for k, term in _chebyshev_terms(lambda k, v: op.rmatvec(v) if k % 2 == 1 else op.matvec(v), vec, c.size - 1, R):
        if k % 2 == 1:
            bottom += c[k] * term
        else:
            top += c[k] * term
    return np.asarray(top, dtype=float), np.asarray(bottom, dtype=float)


def chebyshev_apply(A: Any, b: Any, coefficients: Any, *, radius: float) -> np.ndarray:
    r""":math:`p(A)\,b` for a symmetric :math:`A` and :math:`p = \sum_k c_k T_k(x/R)`, one product per degree.

    Parameters
    ----------
    A : (m, m) symmetric ndarray, sparse matrix or LinearOperator
    b : (m,) array_like
    coefficients : (d + 1,) array_like
    radius : float
        :math:`R \ge \max|\lambda(A)|`.

    Returns
    -------
    ndarray, shape (m,)

    Examples
    --------
    >>> chebyshev_apply(np.diag([0.5, 2.0]), [1.0, 1.0], [1.0, 0.0, 1.0], radius=2.0)  # T0 + T2 = 2x^2
    array([0.125, 2.   ])
    """
    func = "chebyshev_apply"
    op, _ = as_operator(A, func)
    m = op.shape[0]
    vec = as_vector(b, "b", func=func, size=m)
    c, R = _check_series(coefficients, radius, func)
    out = c[0] * vec
    for k, term in _chebyshev_terms(lambda k, v: op.matvec(v), vec, c.size - 1, R):
        out = out + c[k] * term
    return np.asarray(out, dtype=float)
