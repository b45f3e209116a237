r"""The T-step linear system of the paper's Eq. 6 and what can be read out of its solution.

The lifted gradient-descent recurrence :math:`\hat y(t+1) = C\,\hat y(t) + b`
(:func:`qsgd.carleman.discrete_carleman`, :math:`C = I + A` in the notation of [1]_) is
unrolled over :math:`T` steps into one block lower-bidiagonal system (Eq. 6 of [1]_),

.. math::

    \begin{bmatrix} I &&&\\ -C & I &&\\ & \ddots & \ddots &\\ && -C & I \end{bmatrix}
    \begin{bmatrix} \hat y(0)\\ \hat y(1)\\ \vdots\\ \hat y(T)\end{bmatrix}
    = \begin{bmatrix} \hat y_{\rm in}\\ b\\ \vdots\\ b\end{bmatrix},

whose solution, normalized, is the *history state*
:math:`|Y\rangle\propto\sum_t |t\rangle\otimes\hat y(t)` that a quantum linear-system
algorithm prepares. Optionally :math:`p` padding block rows :math:`-\hat y(t-1) + \hat y(t) = 0`,
:math:`t = T+1..T+p`, copy the final state, as in Eq. 8 of the PNAS parent paper [2]_; they
raise the probability of postselecting the final time.

Writing :math:`L = I - S\otimes C` (:math:`S` the down-shift, without padding),
:math:`L^{-1} = \sum_{k=0}^{T} S^k\otimes C^k`, so the condition number of :math:`L` is bounded
independently of :math:`T` when :math:`\|C\|\le\rho<1` (by :math:`(1+\rho)/(1-\rho)`), grows
linearly in :math:`T` when :math:`\rho = 1` and exponentially when :math:`C` has an eigenvalue
of modulus above one (a divergent mode).

Symbols: ``T = steps``, ``p = padding``, ``D`` the lifted dimension, ``kappa`` the condition
number.

References
----------
.. [1] J. Liu, M. Liu, J.-P. Liu, Z. Ye, Y. Wang, Y. Alexeev, J. Eisert, L. Jiang,
   "Towards provably efficient quantum algorithms for large-scale machine-learning models",
   Nat. Commun. 15, 434 (2024), Eq. 6.
.. [2] J.-P. Liu, H. Ø. Kolden, H. K. Krovi, N. F. Loureiro, K. Trivisa, A. M. Childs,
   "Efficient quantum algorithm for dissipative nonlinear differential equations",
   PNAS 118, e2026805118 (2021), Eq. 8 and Lemmas 3 and 5.

Used in chapters 2, 4, 6 and 8.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import MatrixRankWarning, spsolve

from qsgd._validation import (
    as_matrix,
    as_vector,
    check_choice,
    check_int,
    check_memory,
    check_positive,
)
from qsgd.carleman import BASES, DEFAULT_BASIS

__all__ = [
    "history_system",
    "solve_history",
    "history_blocks",
    "theta_trajectory",
    "postselection_probability",
    "readout_weights",
    "readout_error_bound",
]

def history_system(C, b, y0, steps, *, padding=0, max_bytes=None):
    r"""The block lower-bidiagonal system of Eq. 6 of [1]_, with optional padding.

    .. math::

        L = I_{(T+1+p)D} - S_T\otimes C - S_p\otimes I_D,\qquad
        \text{rhs} = [\hat y_{\rm in};\ b;\ \dots;\ b;\ 0;\ \dots;\ 0],

    where :math:`S_T` has ones at block positions :math:`(t, t-1)`, :math:`t = 1..T`, and
    :math:`S_p` at :math:`t = T+1..T+p` (the padding rows copy the last state; Eq. 8 of [2]_).
    The solution is :math:`\hat y(t) = C^t\hat y_{\rm in} + \sum_{k<t} C^k b` for
    :math:`t\le T` and :math:`\hat y(T)` for the padding blocks.

    Parameters
    ----------
    C : (D, D) matrix, dense or sparse
        One step of the lifted map (:func:`qsgd.carleman.discrete_carleman`).
    b : array_like, shape (D,)
        Its constant part.
    y0 : array_like, shape (D,)
        :math:`\hat y_{\rm in}`, e.g. ``lift(u0, order=N)``.
    steps : int
        T >= 1.
    padding : int, optional
        p >= 0 padding block rows.
    max_bytes : float, optional
        Refuse (``ValueError``) when the system would exceed this (default 4 GiB).

    Returns
    -------
    L : scipy.sparse.csr_array, shape ((T+1+p) D, (T+1+p) D)
    rhs : ndarray, shape ((T+1+p) D,)

    Raises
    ------
    ValueError
        ``C`` not square or non-finite, ``b``/``y0`` of another length, ``steps < 1``,
        ``padding < 0``, or a system above ``max_bytes``.

    References
    ----------
    .. [1] J. Liu et al., Nat. Commun. 15, 434 (2024), Eq. 6.
    .. [2] J.-P. Liu et al., PNAS 118, e2026805118 (2021), Eq. 8.

    Examples
    --------
    >>> L, rhs = history_system([[0.5]], [0.0], [1.0], 2)
    >>> L.toarray()
    array([[ 1. ,  0. ,  0. ],
           [-0.5,  1. ,  0. ],
           [ 0. , -0.5,  1. ]])

    Used in chapters 2, 4, 6 and 8.
    """
    func = "history_system"
    C = as_matrix(C, "C", func=func, square=True, sparse=True)
    D = C.shape[0]
    b = as_vector(b, "b", func=func, size=D)
    y0 = as_vector(y0, "y0", func=func, size=D)
    steps = check_int(steps, "steps", func=func, minimum=1)
    padding = check_int(padding, "padding", func=func, minimum=0)
    blocks = steps + 1 + padding
    check_memory(12.0 * (float(blocks) * D + float(steps) * C.nnz + float(padding) * D) + 8.0 * blocks * D,
                 what=f"the Eq. 6 system ({blocks} blocks of size {D}, about {steps * C.nnz:,} non-zeros)",
                 max_bytes=max_bytes, func=func)
    shift_T = sp.diags_array([np.r_[np.ones(steps), np.zeros(padding)]], offsets=[-1],
                             shape=(blocks, blocks), format="csr")
    L = sp.eye_array(blocks * D, format="csr") - sp.kron(shift_T, C, format="csr")
    if padding:
        shift_p = sp.diags_array([np.r_[np.zeros(steps), np.ones(padding)]], offsets=[-1],
                                 shape=(blocks, blocks), format="csr")
        L = L - sp.kron(shift_p, sp.eye_array(D, format="csr"), format="csr")
    L.eliminate_zeros()
    rhs = np.concatenate([y0, np.tile(b, steps), np.zeros(padding * D)])
    return L, rhs


def solve_history(L, rhs) -> np.ndarray:
    r"""The classical solution :math:`Y = L^{-1}\,\text{rhs}` of the Eq. 6 system.

    :math:`L` is unit lower triangular, so a sparse LU (``scipy.sparse.linalg.spsolve``) has no
    fill-in beyond :math:`L` itself; the result equals iterating the recurrence.

    Parameters
    ----------
    L : sparse or dense square matrix
    rhs : array_like, matching length

    Returns
    -------
    Y : ndarray, shape (rhs.size,)

    Raises
    ------
    ValueError
        Bad input; a singular ``L`` (a zero pivot: no unique solution); a solution that is
        not finite (overflow: the lifted map diverges so fast over the T steps that
        :math:`\hat y(t)` leaves the floating-point range).

    Used in chapters 2, 4, 6 and 8.
    """
    func = "solve_history"
    L = as_matrix(L, "L", func=func, square=True, sparse=True)
    rhs = as_vector(rhs, "rhs", func=func, size=L.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", MatrixRankWarning)
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                Y = np.asarray(spsolve(sp.csc_array(L), rhs), dtype=float).reshape(-1)
        except (MatrixRankWarning, RuntimeError) as exc:
            raise ValueError(f"{func}: L is singular, or its factorization overflowed (SuperLU: {exc})") from exc
    if not np.all(np.isfinite(Y)):
        bad = np.flatnonzero(~np.isfinite(Y))
        raise ValueError(
            f"{func}: the solution is not finite from entry {bad[0]} of {Y.shape[0]} on: L is singular or "
            "the recurrence overflows (a strongly divergent lifted map over many steps)"
        )
    return Y


def _check_blocks(Y, steps, padding, func):
    Y = as_vector(Y, "Y", func=func)
    steps = check_int(steps, "steps", func=func, minimum=1)
    padding = check_int(padding, "padding", func=func, minimum=0)
    blocks = steps + 1 + padding
    if Y.shape[0] % blocks:
        raise ValueError(f"{func}: Y has length {Y.shape[0]}, not a multiple of steps + 1 + padding = {blocks}")
    return Y.reshape(blocks, -1), steps, padding


def history_blocks(Y, *, steps, padding=0) -> np.ndarray:
    r"""The solution split into its time blocks :math:`\hat y(0), \dots, \hat y(T+p)`.

    Returns
    -------
    ndarray, shape (steps + 1 + padding, D)

    Used in chapters 2 and 8.
    """
    return _check_blocks(Y, steps, padding, "history_blocks")[0].copy()


def theta_trajectory(Y, *, n, steps, padding=0, basis=DEFAULT_BASIS, theta0=None) -> np.ndarray:
    r"""The first Carleman level :math:`\hat y_1(t)\approx u(t)`, :math:`t = 0..T`.

    Both bases share the first level (:math:`u` itself), so ``basis`` is only checked.

    Parameters
    ----------
    Y : array_like
        Solution of :func:`history_system`.
    n : int
        Number of parameters.
    steps, padding : int
        As given to :func:`history_system`.
    basis : {"kronecker", "symmetric"}, default :data:`qsgd.carleman.DEFAULT_BASIS` ("kronecker")
    theta0 : array_like, shape (n,), optional
        Expansion point added back (:math:`\theta = \theta_0 + u`); default: shifted coordinates.

    Returns
    -------
    ndarray, shape (steps + 1, n)

    Used in chapters 2 and 8.
    """
    func = "theta_trajectory"
    blocks, steps, padding = _check_blocks(Y, steps, padding, func)
    n = check_int(n, "n", func=func, minimum=1)
    check_choice(basis, "basis", BASES, func=func)
    if n > blocks.shape[1]:
        raise ValueError(f"{func}: n = {n} exceeds the block size {blocks.shape[1]}")
    out = blocks[: steps + 1, :n].copy()
    if theta0 is not None:
        out += as_vector(theta0, "theta0", func=func, size=n)
    return out


def postselection_probability(Y, *, n, steps, padding=0) -> float:
    r"""Probability of postselecting the final step and the first Carleman level.

    Measuring the time register of the normalized history state :math:`|Y\rangle` in
    :math:`\{T, \dots, T+p\}` and the Carleman-level register on level 1 leaves a state
    proportional to :math:`\hat y_1(T)\approx u(T)`; this happens with probability

    .. math::

        P = \frac{\sum_{t=T}^{T+p}\|\hat y_1(t)\|^2}{\sum_{t=0}^{T+p}\|\hat y(t)\|^2},

    which padding (:math:`p > 0`) raises towards :math:`p/(T+p)` times the level-1 share of the
    final block (PNAS Lemma 5 of [2]_ bounds it from below).

    Returns
    -------
    float in [0, 1]

    References
    ----------
    .. [2] J.-P. Liu et al., PNAS 118, e2026805118 (2021), Lemma 5.

    Used in chapters 2, 4 and 8.
    """
    func = "postselection_probability"
    blocks, steps, padding = _check_blocks(Y, steps, padding, func)
    n = check_int(n, "n", func=func, minimum=1)
    if n > blocks.shape[1]:
        raise ValueError(f"{func}: n = {n} exceeds the block size {blocks.shape[1]}")
    with np.errstate(over="ignore"):
        total = float(np.sum(blocks**2))
    if total == 0.0:
        raise ValueError(f"{func}: Y is the zero vector")
    if not np.isfinite(total):  # the squares overflow: rescale first
        blocks = blocks / np.max(np.abs(blocks))
        total = float(np.sum(blocks**2))
    return float(np.sum(blocks[steps:, :n] ** 2) / total)


# --------------------------------------------------------------------------- read-out


def readout_weights(x, f0, *, n, copies=1) -> np.ndarray:
    r"""The displacement :math:`u_T` from the postselected anchor and final blocks.

    ``x = [a; c_0; ...; c_p]`` holds the first Carleman level of step 1 (``a``, proportional to
    :math:`F_0` because :math:`\hat y_1=b`) and of the steps :math:`T..T+p` (``c_k``, proportional
    to :math:`u_T`), in any common normalization. Returns
    :math:`\operatorname{sign}\langle a,F_0\rangle\,\lVert F_0\rVert\,\bar c/\lVert a\rVert`,
    :math:`\bar c` the mean of the copies (the read-out with an anchor, :mod:`qsgd.pipeline`).

    Parameters
    ----------
    x : array_like, shape ((1 + copies) n,)
    f0 : array_like, shape (n,)
        :math:`F_0`, non-zero.
    n : int
    copies : int
        ``p + 1``.

    Returns
    -------
    ndarray, shape (n,)

    Used in chapter 8.
    """
    func = "readout_weights"
    n = check_int(n, "n", func=func, minimum=1)
    copies = check_int(copies, "copies", func=func, minimum=1)
    x = as_vector(x, "x", func=func, size=(1 + copies) * n)
    f0 = as_vector(f0, "f0", func=func, size=n, allow_zero=False)
    a = x[:n]
    na = float(np.linalg.norm(a))
    if na == 0.0:
        raise ValueError(f"{func}: the anchor block of x is zero; the length of u_T cannot be recovered")
    c = x[n:].reshape(copies, n).mean(axis=0)
    sign = 1.0 if float(a @ f0) >= 0 else -1.0
    return sign * float(np.linalg.norm(f0)) / na * c


def readout_error_bound(delta, *, anchor_norm, final_norm, f0_norm, copies=1) -> float:
    r"""Error of :func:`readout_weights` when its input is within ``delta`` of the exact one.

    For unit-scale inputs :math:`\hat x` and :math:`x` with :math:`\lVert\hat x-x\rVert\le\delta<\lVert a\rVert`
    (anchor :math:`a`, final block :math:`c`),

    .. math::

        \lVert\hat u-u\rVert\le\frac{\lVert F_0\rVert}{\lVert a\rVert-\delta}\,\delta
        \sqrt{\frac{1}{\mathrm{copies}}+\frac{\lVert c\rVert^2}{\lVert a\rVert^2}}

    (triangle and Cauchy-Schwarz inequalities; the sign is right because
    :math:`\langle\hat a,a\rangle>0`). Returns ``inf`` when :math:`\delta\ge\lVert a\rVert`.

    Parameters
    ----------
    delta : float
        >= 0.
    anchor_norm, final_norm : float
        :math:`\lVert a\rVert>0` and :math:`\lVert c\rVert` in the normalization of ``delta``.
    f0_norm : float
        :math:`\lVert F_0\rVert`.
    copies : int
        ``p + 1``.

    Returns
    -------
    float

    Used in chapter 8.
    """
    func = "readout_error_bound"
    delta = check_positive(delta, "delta", func=func, strict=False)
    a = check_positive(anchor_norm, "anchor_norm", func=func)
    c = check_positive(final_norm, "final_norm", func=func, strict=False)
    f0 = check_positive(f0_norm, "f0_norm", func=func)
    copies = check_int(copies, "copies", func=func, minimum=1)
    if delta >= a:
        return math.inf
    return float(f0 / (a - delta) * delta * math.sqrt(1.0 / copies + (c / a) ** 2))
