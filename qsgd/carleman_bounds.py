r"""A priori truncation-error bound of the discrete Carleman lift of a polynomial map.

The discrete-time analogue of Lemma 1 of PNAS [1]_, for the lift of :mod:`qsgd.carleman`
(:func:`qsgd.carleman.discrete_carleman`) of the map

.. math::

    v_{t+1} = P(v_t) = \sum_{\ell=0}^{q} M_\ell\, v_t^{\otimes\ell},\qquad
    M_0 = F_0,\ M_1 = I + F_1,\ M_\ell = F_\ell\ (\ell \ge 2).

**Residual.** Let :math:`y(t) = \mathrm{lift}(v_t)` be the exact lift (levels :math:`1..N`)
and :math:`\hat y(t+1) = C\hat y(t) + b`, :math:`\hat y(0) = y(0)`, the truncated one. Level
:math:`k` of :math:`P(v)^{\otimes k}` is

.. math::

    P(v)^{\otimes k} = \sum_{w\in\{0..q\}^k} \Big(\bigotimes_{i=1}^{k} M_{w_i}\Big)
    v^{\otimes|w|} = \sum_{m=0}^{kq} A_{k,m}\, v^{\otimes m},

and :math:`C` keeps the blocks :math:`A_{k,m}` with :math:`1 \le m \le N` (``b`` the
:math:`m = 0` ones). So :math:`y(t+1) = C y(t) + b + r_t` with the level-:math:`k` residual
:math:`r_{t,k} = \sum_{m=N+1}^{kq} A_{k,m} v_t^{\otimes m}`. Since
:math:`\|(\bigotimes_i M_{w_i}) v^{\otimes|w|}\| = \prod_i \|M_{w_i} v^{\otimes w_i}\| \le
\prod_i a_{w_i}\|v\|^{w_i}` with :math:`a_\ell = \|M_\ell\|_2`,

.. math::

    \|r_{t,k}\| \le \rho_k(R_t) := \sum_{m=N+1}^{kq} c_{k,m} R_t^m,\qquad
    \sum_m c_{k,m} x^m = \Big(\sum_{\ell=0}^{q} a_\ell x^\ell\Big)^k,

for any :math:`R_t \ge \|v_t\|`: the part of degree above :math:`N` of the :math:`k`-th power of
the norm polynomial, known before the run. Level 1 has a residual only when :math:`q > N` (the
dropped :math:`F_\ell v^{\otimes\ell}`, :math:`\ell > N`); every level :math:`k \ge 2` has one as
soon as :math:`kq > N`.

**Symmetric basis.** Level :math:`k` holds each monomial :math:`v_{i_1}\cdots v_{i_k}`
(:math:`i_1\le\dots\le i_k`) once, with no multinomial weight
(:func:`qsgd.carleman.lift`), and the row of a monomial in :math:`C` is the product
:math:`P_{i_1}(v)\cdots P_{i_k}(v)` truncated at degree :math:`N` -- the same polynomial as the
Kronecker row of the ordered index :math:`(i_1,\dots,i_k)`. So the symmetric residual holds the
entries of the Kronecker one, each once. With :math:`W_k` the diagonal of the square roots of the
multinomial coefficients :math:`k!/\prod_c\mu_c!` (:math:`\mu_c` the multiplicity of index
:math:`c` in the monomial), :math:`\|W_k x_{\rm sym}\| = \|x_{\rm kron}\|` for every symmetric
tensor; the residual is measured in that norm (:math:`\|W_k r_{t,k}\| \le \rho_k(R_t)`, the same
bound as in the Kronecker basis) and the propagation norms are those of
:math:`P_1 C^s E_k W_k^{-1}`. In the Kronecker basis :math:`W_k = I`. The first level is
:math:`v` in both bases, with :math:`W_1 = I`.

**Propagation** (discrete Duhamel, the counterpart of integrating :math:`\dot\eta = A\eta +
b_{\rm res}` in the proof of Lemma 1 [1]_). With :math:`e(t) = y(t) - \hat y(t)`,
:math:`e(0) = 0` and :math:`e(t+1) = C e(t) + r_t`, so
:math:`e(T) = \sum_{t<T} C^{T-1-t} r_t` and

.. math::

    \|\hat y_1(T) - v_T\| = \|P_1 e(T)\| \le \sum_{t=0}^{T-1} \min\Big(
    \sum_{k=1}^{N} g_{T-1-t,k}\,\rho_k(R_t),\ h_{T-1-t}\Big(\sum_{k=1}^N\rho_k(R_t)^2\Big)^{1/2}\Big),

with :math:`g_{s,k} = \|P_1 C^s E_k W_k^{-1}\|_2` and :math:`h_s = \|P_1 C^s W^{-1}\|_2`
(:math:`P_1` the first level, :math:`E_k` the embedding of level :math:`k`): each term bounds
:math:`\|P_1 C^{T-1-t} r_t\|` level by level or as a whole, and the smaller one holds. These are
exact matrix-power norms of the truncated :math:`C`, computed before the run
(:math:`g_{0,k} = \delta_{k1}`: the last residual reaches the first level only through its own
first level, which vanishes once :math:`N \ge q`). Unlike PNAS Lemma 1 no :math:`\mathrm R < 1`
is assumed: a growing :math:`C` or radius makes the bound grow, never fail.

**Radius.** The bound needs :math:`R_t \ge \|v_t\|` for :math:`t < T`, supplied by the caller;
:func:`a_priori_radius` gives one from the coefficient norms alone,
:math:`R_{t+1} = \sum_\ell a_\ell R_t^\ell`, valid because that polynomial has non-negative
coefficients and so is non-decreasing.

Symbols as in :mod:`qsgd.carleman`: ``n`` the state dimension, ``N = order``, ``q`` the degree,
``T = steps``.

References
----------
.. [1] J.-P. Liu, H. Ø. Kolden, H. K. Krovi, N. F. Loureiro, K. Trivisa, A. M. Childs,
   "Efficient quantum algorithm for dissipative nonlinear differential equations",
   PNAS 118, e2026805118 (2021), Lemma 1 and its proof.
.. [2] M. Forets, A. Pouly, "Explicit error bounds for Carleman linearization",
   arXiv:1711.02552 (2017).
.. [3] J. Liu et al., Nat. Commun. 15, 434 (2024), Eqs. 4-6.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from qsgd._validation import (
    as_array,
    as_coefficients,
    as_matrix,
    check_choice,
    check_int,
    check_memory,
    check_positive,
    describe,
    estimate_bytes,
)
from qsgd._linalg import norm2
from qsgd._symmetric import monomial_rows
from qsgd.carleman import BASES, DEFAULT_BASIS, _log2_dimension, level_slices, lifted_dimension, products_only

__all__ = ["TruncationBound", "truncation_error_bound", "a_priori_radius"]

#: largest number of multiply-adds spent on the exact norms :math:`\|P_1 C^s E_k\|`
#: (``steps`` products of an (n, D) matrix with C); above it :func:`truncation_error_bound` refuses
MAX_PROPAGATION_WORK = 2e10

#: the same limit for a CarlemanOperator, whose products are dense matrix multiplications (BLAS
#: level 3, some 10 times the rate of a sparse product per multiply-add)
MAX_OPERATOR_PROPAGATION_WORK = 4e11


def _coefficient_norms(F, func: str) -> tuple[int, np.ndarray]:
    r"""(n, a) with :math:`a_0 = \|F_0\|`, :math:`a_1 = \|I + F_1\|_2`, :math:`a_\ell = \|F_\ell\|_2`."""
    n, F0, mats = as_coefficients(F, func=func, name="F", max_degree=3)
    check_memory(3.0 * estimate_bytes(n, n), what=f"the spectral norms of the {n} x {n**len(mats)} coefficients "
                 "(dense Gram matrices)", max_bytes=None, func=func)
    a = [float(np.linalg.norm(F0)), norm2(sp.eye_array(n, format="csr") + mats[0])]
    a += [norm2(m) if m.nnz else 0.0 for m in mats[1:]]
    return n, np.array(a)


def _tail_polynomials(a: np.ndarray, order: int) -> list[np.ndarray]:
    r"""For k = 1..N, the coefficients :math:`c_{k,m}` of :math:`(\sum_\ell a_\ell x^\ell)^k` (index m)."""
    out, power = [], np.ones(1)
    for _ in range(order):
        power = np.convolve(power, a)
        out.append(power.copy())
    return out


def _residual_bounds(a: np.ndarray, order: int, radius: np.ndarray) -> np.ndarray:
    r""":math:`\rho_k(R_t) = \sum_{m>N} c_{k,m} R_t^m`, shape (len(radius), N)."""
    out = np.zeros((radius.shape[0], order))
    with np.errstate(over="ignore", invalid="ignore"):
        for k, c in enumerate(_tail_polynomials(a, order)):
            for m in range(order + 1, c.shape[0]):
                if c[m]:
                    out[:, k] += c[m] * radius**m
    return np.where(np.isnan(out), np.inf, out)


def _level_weights(n: int, order: int, basis: str) -> list[np.ndarray]:
    r"""Per level, :math:`\sqrt{\text{multiplicity}}` of each coordinate in :math:`v^{\otimes k}`.

    Ones in the Kronecker basis; in the symmetric basis the square root of the multinomial
    coefficient :math:`k!/\prod_c \mu_c!` of the monomial (:math:`\mu_c` the multiplicity of
    index :math:`c`), so that :math:`\|W_k\,x_{\rm sym}\| = \|x_{\rm kron}\|` for every symmetric
    tensor.
    """
    out = []
    for k in range(1, order + 1):
        if basis == "kronecker":
            out.append(np.ones(n**k))
            continue
        mono = monomial_rows(n, k)
        # multiplicities: runs of equal indices in each sorted row
        weight = np.full(mono.shape[0], float(math.factorial(k)))
        run = np.ones(mono.shape[0])
        for p in range(1, k):
            same = mono[:, p] == mono[:, p - 1]
            run = np.where(same, run + 1, 1.0)
            weight /= np.where(same, run, 1.0)
        out.append(np.sqrt(weight))
    return out


def _propagation_norms(C: sp.csr_array, n: int, slices: list[slice], weights: list[np.ndarray],
                       steps: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact :math:`g_{s,k} = \|P_1 C^s E_k W_k^{-1}\|_2` and :math:`\|P_1 C^s W^{-1}\|_2`, s < steps."""
    D = C.shape[0]
    g = np.zeros((steps, len(slices)))
    whole = np.zeros(steps)
    g[0, 0] = whole[0] = 1.0
    W = np.zeros((n, D))
    W[:, slices[0]] = np.eye(n)
    inverse = np.concatenate([1.0 / w for w in weights])
    transpose = C.rmatmat if products_only(C) else C.T.tocsr().__matmul__
    # wide (n, D) rows: through the n x n Gram matrix when D is large (the operator path), else an SVD
    spectral = norm2 if products_only(C) else (lambda M: float(np.linalg.norm(M, 2)))
    with np.errstate(over="ignore", invalid="ignore"):
        for s in range(1, steps):
            W = np.asarray(transpose(W.T)).T
            if not np.all(np.isfinite(W)):
                g[s:] = whole[s:] = np.inf
                break
            scaled = W * inverse
            for k, sl in enumerate(slices):
                g[s, k] = spectral(scaled[:, sl])
            whole[s] = spectral(scaled)
    return g, whole


@dataclass(frozen=True)
class TruncationBound:
    r"""A priori bound on the first-level truncation error of the discrete Carleman lift.

    Attributes
    ----------
    bound : float
        :math:`\sum_{t<T}\min\big(\sum_k g_{T-1-t,k}\,\rho_k(R_t),\ h_{T-1-t}\|\rho(R_t)\|\big)
        \ge \|\hat y_1(T) - v_T\|` (module docstring).
    bounds : ndarray, shape (T + 1,)
        The same bound at every step :math:`t = 0..T` (``bounds[0] = 0``, ``bounds[-1] = bound``).
    residual_bounds : ndarray, shape (T, N)
        :math:`\rho_k(R_t)`, the bound on the level-:math:`k` residual :math:`\|W_k r_{t,k}\|`.
    propagation_norms : ndarray, shape (T, N)
        :math:`g_{s,k} = \|P_1 C^s E_k W_k^{-1}\|_2`, :math:`s = 0..T-1` (:math:`W_k = I` in the
        Kronecker basis, the square roots of the multinomial weights in the symmetric one).
    joint_norms : ndarray, shape (T,)
        :math:`h_s = \|P_1 C^s W^{-1}\|_2`, the norm of the whole first block row.
    coefficient_norms : ndarray, shape (q + 1,)
        :math:`a_0 = \|F_0\|`, :math:`a_1 = \|I + F_1\|_2`, :math:`a_\ell = \|F_\ell\|_2`.
    radius : ndarray, shape (T + 1,)
        The radii :math:`R_t \ge \|v_t\|` used (a scalar broadcast).
    steps, order, basis : the settings used.
    success : bool
        False when the bound overflowed to infinity (it is then still valid, but says nothing).
    message : str
    """

    bound: float
    bounds: np.ndarray
    residual_bounds: np.ndarray
    propagation_norms: np.ndarray
    joint_norms: np.ndarray
    coefficient_norms: np.ndarray
    radius: np.ndarray
    steps: int
    order: int
    basis: str
    success: bool
    message: str


def _radius(radius, steps: int, func: str) -> np.ndarray:
    """The radius as a non-negative (steps + 1,) array, NaN refused, ``inf`` kept (a scalar broadcast).

    ``inf`` is a valid (empty) radius: :func:`a_priori_radius` returns it where its recursion
    overflows, and the bound is then infinite.
    """
    if isinstance(radius, (bool, np.bool_)) or radius is None or isinstance(radius, (str, bytes)):
        raise ValueError(f"{func}: radius must be a number or an array of steps + 1 = {steps + 1} numbers, "
                         f"got {radius!r}")
    arr = as_array(radius, "radius", func=func)
    if arr.ndim == 0:
        arr = np.full(steps + 1, float(arr))
    elif arr.ndim != 1 or arr.shape[0] != steps + 1:
        raise ValueError(f"{func}: radius must be one number or hold R_0..R_T, steps + 1 = {steps + 1} values, "
                         f"got {describe(radius)} of shape {arr.shape}")
    if np.any(np.isnan(arr)):
        bad = int(np.flatnonzero(np.isnan(arr))[0])
        raise ValueError(f"{func}: radius must be a number >= 0 (a bound on ||v_t||), got radius[{bad}] = nan"
                         + (" (a scalar nan)" if np.ndim(radius) == 0 else ""))
    if np.any(arr < 0):
        bad = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(f"{func}: radius must be >= 0 (a bound on ||v_t||), got radius[{bad}] = {arr[bad]}"
                         + (f" (the scalar {radius})" if np.ndim(radius) == 0 else ""))
    return arr


def truncation_error_bound(F, C, *, steps, order, radius, basis=DEFAULT_BASIS) -> TruncationBound:
    r"""A priori bound on :math:`\|\hat y_1(T) - v_T\|`, the Carleman truncation error of a map.

    The discrete-map analogue of PNAS Lemma 1 ([1]_; module docstring for the derivation):

    .. math::

        \|\hat y_1(T) - v_T\| \le \sum_{t=0}^{T-1}\sum_{k=1}^{N}
        \|P_1 C^{T-1-t} E_k W_k^{-1}\|_2\ \rho_k(R_t),\qquad
        \rho_k(R) = \sum_{m=N+1}^{kq} c_{k,m} R^m,\quad
        \sum_m c_{k,m}x^m = \Big(\sum_{\ell=0}^q a_\ell x^\ell\Big)^k,

    where :math:`v_{t+1} = v_t + \sum_\ell F_\ell v_t^{\otimes\ell}`, :math:`\hat y(0) =
    \mathrm{lift}(v_0)` (zero for :math:`v_0 = 0`, as in the Eq. 6 system of [3]_),
    :math:`\hat y(t+1) = C\hat y(t) + b`, :math:`a_0 = \|F_0\|`, :math:`a_1 = \|I + F_1\|_2`,
    :math:`a_\ell = \|F_\ell\|_2`, :math:`R_t \ge \|v_t\|`, and :math:`W_k` the identity in the
    Kronecker basis and the square roots of the multinomial weights in the symmetric one; each
    term is replaced by :math:`\|P_1 C^{T-1-t} W^{-1}\|_2\,(\sum_k\rho_k(R_t)^2)^{1/2}` where that
    is smaller. Everything on the right is known
    before the run: the coefficients, the truncated matrix :math:`C`, and the radius (from
    :func:`a_priori_radius`, or any other a priori estimate of the trajectory).

    Parameters
    ----------
    F : sequence ``[F0, F1, ..., Fq]`` or an object carrying them (a ``PolynomialMap``)
        The coefficients of the map (see :func:`qsgd._validation.as_coefficients`), q <= 3.
    C : sparse or dense matrix, shape (D, D), or a CarlemanOperator
        ``discrete_carleman(F, order=order, basis=basis)[0]``, or the same matrix as products only
        (:func:`qsgd.lifting_operators.carleman_operator`; the rows :math:`P_1C^s` are then
        propagated by its transpose products). Only its shape is checked; the bound is about the
        system this matrix defines.
    steps : int
        :math:`T \ge 1`.
    order : int
        Truncation order :math:`N \ge 1` of ``C``.
    radius : float or array_like, shape (steps + 1,)
        :math:`R_0..R_T` with :math:`\|v_t\| \le R_t` (only :math:`R_0..R_{T-1}` enter), or one
        :math:`R` for all steps. Each >= 0; ``inf`` is accepted (the bound is then infinite) and
        NaN refused.
    basis : {"kronecker", "symmetric"}, default :data:`qsgd.carleman.DEFAULT_BASIS` ("kronecker")
        The basis of ``C``.

    Returns
    -------
    TruncationBound

    Raises
    ------
    ValueError
        Bad coefficients, ``steps`` or ``order`` below 1, a ``C`` whose shape is not that of the
        order-N lift, a negative, NaN or wrongly sized ``radius``, or exact propagation
        norms above :data:`MAX_PROPAGATION_WORK` multiply-adds (the message points to the cruder
        :math:`\|P_1 C^s E_k\| \le \|C\|_2^s`).

    Notes
    -----
    The bound is valid for any radius that dominates the trajectory; it is tightest for
    :math:`R_t = \|v_t\|` (which is known only after the run) and grows with it. It holds in
    either basis; in the symmetric one the weights :math:`W_k` make the norms those of the
    Kronecker basis on symmetric tensors, so the symmetric bound is never above the Kronecker one
    (and equal to it for coefficients symmetric in their inputs, as the Taylor coefficients of a
    gradient are). Compared with PNAS Lemma 1 ([1]_, continuous time, :math:`\mathrm R < 1`), the
    discrete lift couples level :math:`k` to levels up to :math:`kq`, so every level has a
    residual rather than only the last, and the propagation uses exact norms of powers of the
    truncated matrix rather than a dissipativity argument; the residual-propagation form follows
    the error analysis of Forets and Pouly [2]_.

    References
    ----------
    .. [1] J.-P. Liu et al., PNAS 118, e2026805118 (2021), Lemma 1 and its proof.
    .. [2] M. Forets, A. Pouly, arXiv:1711.02552 (2017).
    .. [3] J. Liu et al., Nat. Commun. 15, 434 (2024), Eqs. 5-6.

    Examples
    --------
    >>> from qsgd.carleman import discrete_carleman
    >>> F = [[0.01], [[-0.1]], [[0.05]]]
    >>> C, b = discrete_carleman(F, order=2)
    >>> res = truncation_error_bound(F, C, steps=3, order=2, radius=0.1)
    >>> res.residual_bounds[0]
    array([0.000e+00, 9.025e-05])
    >>> round(res.bound, 10)
    1.22334e-05

    For the error budget of a quantum training segment (chapter 8).
    """
    func = "truncation_error_bound"
    steps = check_int(steps, "steps", func=func, minimum=1)
    order = check_int(order, "order", func=func, minimum=1)
    basis = check_choice(basis, "basis", BASES, func=func)
    n, a = _coefficient_norms(F, func)
    if C is None or not (sp.issparse(C) or hasattr(C, "shape") or isinstance(C, (list, tuple))):
        raise ValueError(f"{func}: C must be the (D, D) matrix of discrete_carleman, got {describe(C)}")
    products = products_only(C)  # a qsgd.lifting_operators.CarlemanOperator: products only
    if not products:
        C = as_matrix(C, "C", func=func, sparse=True)
    log2_dim = _log2_dimension(n, order, basis)
    if log2_dim > 62 or C.shape != (lifted_dimension(n, order, basis=basis),) * 2:
        raise ValueError(
            f"{func}: C has shape {C.shape}, expected the order-{order} {basis} lift of n = {n} "
            f"(about 2**{log2_dim:.4g} unknowns per side): pass discrete_carleman(F, order={order}, basis=...)[0]"
        )
    D = C.shape[0]
    # multiply-adds of one product by C: its non-zeros, or about 4 n^3 for the operator (order 2)
    per_product = 4.0 * float(n) ** 3 if products else float(C.nnz)
    work = float(steps) * n * (per_product + order * D * n)
    limit = MAX_OPERATOR_PROPAGATION_WORK if products else MAX_PROPAGATION_WORK
    if work > limit:
        raise ValueError(
            f"{func}: the exact norms ||P_1 C^s E_k|| for s < steps = {steps} need about {work:.3g} multiply-adds "
            f"({steps} products of an {n} x {D} matrix with C), above "
            f"{limit:.3g}; bound them by the cruder ||C||_2**s (one sparse norm) instead, or "
            "lower steps"
        )
    check_memory(3.0 * estimate_bytes(n, D) + estimate_bytes(steps, order, 4), what=f"the rows P_1 C^s "
                 f"({n} x {D})", max_bytes=None, func=func)
    R = _radius(radius, steps, func)
    slices = level_slices(n, order, basis=basis)
    rho = _residual_bounds(a, order, R[:steps])
    g, whole = _propagation_norms(C, n, slices, _level_weights(n, order, basis), steps)
    bounds = np.zeros(steps + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        rho_joint = np.sqrt(np.sum(rho**2, axis=1))
        for t in range(1, steps + 1):
            s = np.arange(t)[::-1]  # the power T - 1 - t' that the residual of step t' meets
            # 0 * inf (a level that no residual reaches, or that reaches no first level) is nothing
            level = np.where((g[s] == 0) | (rho[:t] == 0), 0.0, g[s] * rho[:t]).sum(axis=1)
            joint = np.where((whole[s] == 0) | (rho_joint[:t] == 0), 0.0, whole[s] * rho_joint[:t])
            # two bounds on each ||P_1 C^s r_t'||; the smaller one holds
            bounds[t] = float(np.sum(np.minimum(level, joint)))
    bounds = np.where(np.isnan(bounds), np.inf, bounds)
    ok = bool(math.isfinite(bounds[-1]))
    message = "ok" if ok else (
        "the bound overflowed: the radius or the norms ||P_1 C^s|| grow too fast over these steps "
        f"(largest radius {float(np.max(R[:steps])):.4g}, largest norm {float(np.max(g)):.4g})")
    return TruncationBound(bound=float(bounds[-1]), bounds=bounds, residual_bounds=rho, propagation_norms=g,
                           joint_norms=whole, coefficient_norms=a, radius=R, steps=steps, order=order,
                           basis=basis, success=ok, message=message)


def a_priori_radius(F, *, steps, initial=0.0, func=None) -> np.ndarray:
    r"""Radii :math:`R_t \ge \|v_t\|` of a polynomial map's trajectory, from the coefficient norms.

    .. math::

        R_0 = \|v_0\|,\qquad R_{t+1} = \sum_{\ell=0}^{q} a_\ell R_t^\ell,\qquad
        a_0 = \|F_0\|,\ a_1 = \|I + F_1\|_2,\ a_\ell = \|F_\ell\|_2,

    valid for :math:`v_{t+1} = v_t + \sum_\ell F_\ell v_t^{\otimes\ell}` because
    :math:`\|P(v)\| \le \sum_\ell a_\ell\|v\|^\ell` and the right-hand side is non-decreasing in
    :math:`\|v\|`. Crude (it grows at least like :math:`a_1^t`), but known before the run: the
    radius argument of :func:`truncation_error_bound`.

    Parameters
    ----------
    F : sequence ``[F0, F1, ..., Fq]`` or an object carrying them (a ``PolynomialMap``)
    steps : int
        :math:`T \ge 1`.
    initial : float, default 0.0
        :math:`\|v_0\|` (zero for the displacement coordinates of a segment).

    Returns
    -------
    ndarray, shape (steps + 1,)
        :math:`R_0..R_T`; ``inf`` from the step where the recursion overflows (still a valid,
        empty, bound).

    Examples
    --------
    >>> a_priori_radius([[0.01], [[-0.1]], [[0.05]]], steps=2)
    array([0.      , 0.01    , 0.019005])
    """
    func = func or "a_priori_radius"
    steps = check_int(steps, "steps", func=func, minimum=1)
    initial = check_positive(initial, "initial", func=func, strict=False)
    check_memory(estimate_bytes(steps + 1), what=f"{steps + 1} radii", max_bytes=None, func=func,
                 advice="lower steps")
    _, a = _coefficient_norms(F, func)
    R = np.empty(steps + 1)
    R[0] = initial
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            r = R[t]
            R[t + 1] = np.inf if not math.isfinite(r) else float(sum(c * r**ell for ell, c in enumerate(a) if c))
    return R
