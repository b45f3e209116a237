r"""Carleman linearization: continuous and discrete, Kronecker and symmetric bases.

A polynomial system is embedded into an infinite *linear* one by taking the tensor
powers of the state as new unknowns,

.. math::

    \hat y = [u;\ u^{\otimes 2};\ \dots;\ u^{\otimes N};\ \dots],

and truncating at the order :math:`N`. Two settings are covered.

**Continuous time** (PNAS Eqs. 3-7 of [1]_). For the quadratic ODE
:math:`du/dt = F_2 u^{\otimes 2} + F_1 u + F_0(t)` the lifted system is
:math:`d\hat y/dt = A(t)\hat y + b(t)` with the block-tridiagonal matrix

.. math::

    A_{j,j+1} = \sum_{i=1}^{j} I^{\otimes i-1}\otimes F_2\otimes I^{\otimes j-i},\quad
    A_{j,j}   = \sum_{i=1}^{j} I^{\otimes i-1}\otimes F_1\otimes I^{\otimes j-i},\quad
    A_{j,j-1} = \sum_{i=1}^{j} I^{\otimes i-1}\otimes F_0(t)\otimes I^{\otimes j-i},

and :math:`b = [F_0(t); 0; \dots]` (:func:`carleman_matrix`). It is integrated with
forward Euler (PNAS Eq. 8) or with the exact matrix exponential (:func:`solve_carleman`),
and its truncation error is bounded a priori when the ratio R of nonlinearity and forcing
to dissipation is below one (:func:`lemma1_bound`, :func:`homogeneous_bound`).

**Discrete time** (Eq. 5 of [2]_). For a polynomial map
:math:`u_{t+1} = u_t + \sum_{\ell=0}^{q} F_\ell u_t^{\otimes\ell}` -- a gradient-descent
step of a polynomial loss -- every tensor power of the next state is a polynomial of the
current one,

.. math::

    u_{t+1}^{\otimes j} = \sum_{w\in\{0..q\}^j} \Big(\bigotimes_{i=1}^{j} M_{w_i}\Big)
    u_t^{\otimes |w|},\qquad M_0 = F_0,\ M_1 = I + F_1,\ M_\ell = F_\ell\ (\ell\ge2),

so :math:`\hat y_{t+1} = C\hat y_t + b` exactly, up to the levels above :math:`N` that
truncation drops (:func:`discrete_carleman`). Unlike the continuous matrix, :math:`C` is not
tridiagonal: row block :math:`j` reaches column blocks up to :math:`qj`, and it carries the
:math:`O(\eta^2)` products such as :math:`F_1\otimes F_1` that vanish in the continuous limit.
The error of that truncation is measured after the fact by :func:`truncation_error_estimate`
and bounded before the run by :func:`qsgd.carleman_bounds.truncation_error_bound`.

**Bases.** The *Kronecker* basis keeps all :math:`n^j` ordered products of level :math:`j`
(what the papers write). Since :math:`u^{\otimes j}` is a symmetric tensor, the *symmetric*
basis keeps each monomial :math:`u_{i_1}\cdots u_{i_j}`, :math:`i_1\le\dots\le i_j`, once:
:math:`\binom{n+j-1}{j}` unknowns per level, listed in lexicographic order
(:func:`monomials`). Both describe the same dynamics (the lifted matrices map symmetric
tensors to symmetric tensors), and the first block, :math:`u` itself, is identical. For the
Burgers problem of PNAS at :math:`N=4` this is 4,844 unknowns instead of 69,904.

**Coefficients and sizes.** Every function takes the coefficients as one object ``F`` in
ascending degree order -- a sequence ``[F0, F1, F2, ...]`` (``None`` for a zero coefficient,
``[F0, F1]`` for a linear field), a :class:`qsgd.gd.PolynomialMap` or a
:class:`qsgd.ode.BurgersProblem` -- through :func:`qsgd._validation.as_coefficients`:
``carleman_matrix([F0, F1, F2], order=3)``, ``discrete_carleman(pm, order=2)``,
``solve_carleman(problem, order=4)``, ``homogeneous_bound([None, F1, F2], u0, t, order=3)``;
anything else (separate matrices, a dict, a stacked array) is refused with a ``ValueError``
that names ``F``. Sizes are estimated in floating point
before any exact big-integer count or allocation, and refused above ``max_bytes`` (default
4 GiB) with the estimate in the message.

Symbols: ``n`` the state dimension, ``N = order`` the truncation order, ``q`` the degree of
the map, ``R`` the PNAS ratio (:func:`qsgd.ode.r_number`).

References
----------
.. [1] J.-P. Liu, H. Ø. Kolden, H. K. Krovi, N. F. Loureiro, K. Trivisa, A. M. Childs,
   "Efficient quantum algorithm for dissipative nonlinear differential equations",
   PNAS 118, e2026805118 (2021).
.. [2] J. Liu, M. Liu, J.-P. Liu, Z. Ye, Y. Wang, Y. Alexeev, J. Eisert, L. Jiang,
   "Towards provably efficient quantum algorithms for large-scale machine-learning models",
   Nat. Commun. 15, 434 (2024).
.. [3] M. Forets, A. Pouly, "Explicit error bounds for Carleman linearization",
   arXiv:1711.02552 (2017); JuliaReach/CarlemanLinearization.jl, ``src/error_bounds.jl``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import expm_multiply

from qsgd._validation import (
    as_coefficients,
    as_vector,
    check_choice,
    check_int,
    check_memory,
    describe,
    estimate_bytes,
    problem_defaults,
)
from qsgd._linalg import dense, eigenvalues, lambda_1, norm2
from qsgd._symmetric import BYTES_PER_PAIR, CHUNK_PAIRS, SymmetricSpace, monomial_rows, split_constant
from qsgd.ode import check_quadratic, r_number

__all__ = [
    "truncation_error_estimate",
    "BASES",
    "DEFAULT_BASIS",
    "lifted_dimension",
    "level_slices",
    "monomials",
    "lift",
    "carleman_matrix",
    "discrete_carleman",
    "CarlemanSolution",
    "solve_carleman",
    "homogeneous_bound",
    "lemma1_bound",
]

#: the two bases of the lifted space
BASES = ("kronecker", "symmetric")

#: the basis every function of the package uses unless told otherwise: the paper's Kronecker
#: powers :math:`u^{\otimes j}` (Eq. 4). ``"symmetric"`` keeps one entry per monomial, a smaller
#: but equivalent system; chapters that use it say so.
DEFAULT_BASIS = "kronecker"

#: bytes per stored non-zero while assembling (COO row, column and value, plus the CSR copy)
_BYTES_PER_NONZERO = 40


# ----------------------------------------------------------------------------------------
# dimensions and index bookkeeping
# ----------------------------------------------------------------------------------------


def _level_dim(n: int, j: int, basis: str) -> int:
    return n**j if basis == "kronecker" else math.comb(n + j - 1, j)


#: largest log2 of a lifted dimension that :func:`lifted_dimension` computes exactly
MAX_DIMENSION_LOG2 = 1023.0


def _log2_dimension(n: int, order: int, basis: str) -> float:
    """log2 of the lifted dimension, in floating point (no big integers)."""
    if basis == "kronecker":
        if n == 1:
            return math.log2(order)
        # sum_{j=1}^N n^j = n (n^N - 1) / (n - 1) < n^N * n / (n - 1)
        return order * math.log2(n) + math.log2(n / (n - 1))
    # C(n + N, N) - 1 <= C(n + N, N)
    return (math.lgamma(n + order + 1) - math.lgamma(order + 1) - math.lgamma(n + 1)) / math.log(2)


def _dimension_bytes(n: int, order: int, basis: str) -> float:
    """Bytes of one lifted vector (8 per unknown), in floating point."""
    log2 = _log2_dimension(n, order, basis) + 3.0
    return math.inf if log2 > 1023 else 2.0**log2


def _pre_guard(n: int, order: int, basis: str, max_bytes, func: str) -> None:
    """Float estimate of the smallest memory any assembly needs, checked before exact sizes.

    One lifted vector (8 bytes per unknown) and the block bookkeeping (order**2 entries);
    checked only when the exact sizes would be costly to compute (over 2**62 unknowns or
    order > 2048); otherwise, and once the sizes are known to be moderate, the detailed guard
    (:func:`_guard`) decides.
    """
    if _log2_dimension(n, order, basis) <= 62 and order <= 2048:
        return  # exact sizes are cheap: the detailed guard decides, with its own estimate
    nbytes = _dimension_bytes(n, order, basis) + estimate_bytes(order, order)
    check_memory(nbytes, what=f"the order-{order} {basis} Carleman system of a state of dimension {n} "
                 f"(about 2**{_log2_dimension(n, order, basis):.4g} unknowns)", max_bytes=max_bytes, func=func)


def _exact_dimension(n: int, order: int, basis: str) -> int:
    if basis == "kronecker":
        return order if n == 1 else (n ** (order + 1) - n) // (n - 1)
    return math.comb(n + order, order) - 1


def lifted_dimension(n, order, *, basis=DEFAULT_BASIS) -> int:
    r"""Number of unknowns of the Carleman system truncated at ``order``.

    .. math::

        D = \sum_{j=1}^{N} n^j \ \text{(Kronecker)},\qquad
        D = \sum_{j=1}^{N} \binom{n+j-1}{j} = \binom{n+N}{N} - 1 \ \text{(symmetric)}.

    Parameters
    ----------
    n : int
        Dimension of the state :math:`u`.
    order : int
        Truncation order :math:`N \ge 1`.
    basis : {"kronecker", "symmetric"}, default :data:`qsgd.carleman.DEFAULT_BASIS` ("kronecker")
        Basis of the lifted space.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        Bad input, or a dimension above ``2**1023`` (:data:`MAX_DIMENSION_LOG2`): estimated
        in floating point first, so an absurd ``order`` is refused at once instead of hanging
        in exact integer arithmetic.

    Examples
    --------
    >>> lifted_dimension(16, 4), lifted_dimension(16, 4, basis="symmetric")
    (69904, 4844)

    Used in chapters 1, 2 and 8.
    """
    func = "lifted_dimension"
    n = check_int(n, "n", func=func, minimum=1)
    order = check_int(order, "order", func=func, minimum=1)
    basis = check_choice(basis, "basis", BASES, func=func)
    log2 = _log2_dimension(n, order, basis)
    if log2 > MAX_DIMENSION_LOG2:
        raise ValueError(
            f"{func}: the lifted dimension for n = {n}, order = {order} ({basis}) is about 2**{log2:.6g}, "
            f"above the 2**{MAX_DIMENSION_LOG2:.0f} this function computes"
        )
    return _exact_dimension(n, order, basis)


def level_slices(n, order, *, basis=DEFAULT_BASIS, max_bytes=None) -> list[slice]:
    r"""Slices of the levels :math:`j = 1..N` inside the lifted vector.

    ``level_slices(n, N)[j - 1]`` selects :math:`u^{\otimes j}` (or its monomials).

    Parameters
    ----------
    n, order : int
        State dimension and truncation order (both >= 1).
    basis : {"kronecker", "symmetric"}, default :data:`qsgd.carleman.DEFAULT_BASIS` ("kronecker")
    max_bytes : float, optional
        Refuse (``ValueError``) when the lifted vector these slices index would exceed this
        (default 4 GiB): no such vector can exist, and the exact sizes would take long to compute.

    Used in chapters 1, 2 and 8.
    """
    func = "level_slices"
    n = check_int(n, "n", func=func, minimum=1)
    order = check_int(order, "order", func=func, minimum=1)
    basis = check_choice(basis, "basis", BASES, func=func)
    check_memory(_dimension_bytes(n, order, basis) + estimate_bytes(order, itemsize=64),
                 what=f"the lifted vector indexed (about 2**{_log2_dimension(n, order, basis):.4g} unknowns)",
                 max_bytes=max_bytes, func=func)
    out, start = [], 0
    for j in range(1, order + 1):
        d = _level_dim(n, j, basis)
        out.append(slice(start, start + d))
        start += d
    return out


def monomials(n, degree, *, max_bytes=None) -> np.ndarray:
    r"""The monomials of one level of the symmetric basis.

    Row ``r`` holds the indices :math:`i_1\le\dots\le i_j` of the ``r``-th monomial
    :math:`u_{i_1}\cdots u_{i_j}`; rows are in lexicographic order, so the level has
    :math:`\binom{n+j-1}{j}` rows and level 1 is ``[[0], [1], ..., [n-1]]``.

    Parameters
    ----------
    n : int
        Dimension of the state.
    degree : int
        The level :math:`j \ge 0`.
    max_bytes : float, optional
        Refuse (``ValueError``) when the table (and its construction's copy) would exceed this
        (default 4 GiB).

    Returns
    -------
    ndarray of int64, shape (C(n+j-1, j), j)

    Used in chapters 1 and 2.
    """
    func = "monomials"
    n = check_int(n, "n", func=func, minimum=1)
    degree = check_int(degree, "degree", func=func, minimum=0)
    if degree:
        log2_rows = (math.lgamma(n + degree) - math.lgamma(degree + 1) - math.lgamma(n)) / math.log(2)
        nbytes = math.inf if log2_rows > 1000 else 2.0 * 8.0 * degree * 2.0**log2_rows
        check_memory(nbytes, what=f"the {degree}-th level monomials of {n} variables "
                     f"(about 2**{log2_rows:.4g} rows of {degree} indices)", max_bytes=max_bytes, func=func)
    return monomial_rows(n, degree)


def lift(u, *, order, basis=DEFAULT_BASIS, max_bytes=None) -> np.ndarray:
    r"""The lifted vector :math:`[u; u^{\otimes 2}; \dots; u^{\otimes N}]`.

    In the symmetric basis level :math:`j` holds the monomials of :func:`monomials` instead.

    Parameters
    ----------
    u : array_like, shape (n,)
        The state.
    order : int
        Truncation order :math:`N \ge 1`.
    basis : {"kronecker", "symmetric"}, default :data:`qsgd.carleman.DEFAULT_BASIS` ("kronecker")
    max_bytes : float, optional
        Size guard on the lifted vector (default 4 GiB).

    Returns
    -------
    ndarray, shape (lifted_dimension(n, order, basis=basis),)

    Examples
    --------
    >>> lift([1.0, 2.0], order=2)
    array([1., 2., 1., 2., 2., 4.])
    >>> lift([1.0, 2.0], order=2, basis="symmetric")
    array([1., 2., 1., 2., 4.])

    Used in chapters 1, 2 and 8.
    """
    func = "lift"
    u = as_vector(u, "u", func=func)
    order = check_int(order, "order", func=func, minimum=1)
    basis = check_choice(basis, "basis", BASES, func=func)
    n = u.shape[0]
    check_memory(
        _dimension_bytes(n, order, basis),
        what=f"the lifted vector (about 2**{_log2_dimension(n, order, basis):.4g} unknowns)",
        max_bytes=max_bytes,
        func=func,
    )
    levels = [u]
    if basis == "kronecker":
        for _ in range(order - 1):
            levels.append(np.kron(u, levels[-1]))
    else:
        for j in range(2, order + 1):
            mono = monomial_rows(n, j)
            levels.append(np.prod(u[mono], axis=1))
    return np.concatenate(levels)


# ----------------------------------------------------------------------------------------
# input handling and size estimates
# ----------------------------------------------------------------------------------------


def _coefficients(F, func: str) -> tuple[int, np.ndarray, list[sp.csr_array]]:
    """Validate F = [F0, F1, ..., Fq] (or an object carrying them): (n, F0, [F1..Fq])."""
    return as_coefficients(F, func=func, name="F", max_degree=3)


def _row_nnz_max(mat: sp.csr_array) -> int:
    return int(np.max(np.diff(mat.indptr))) if mat.shape[0] else 0


def _estimate_nonzeros(per_level: Sequence[float], row_max: Sequence[float], n: int, order: int,
                       basis: str, continuous: bool) -> int:
    r"""Upper bound on the non-zeros of the assembled matrix (what the size guard counts).

    ``per_level[a]`` is nnz(M_a) and ``row_max[a]`` the largest row count of M_a, a = 0..q
    (Kronecker layout, ``M_0`` the column ``F_0``).

    * Kronecker basis: the number of products the assembly forms before duplicates merge
      (exact for the assembly, and at least nnz).
    * Symmetric basis: the smaller of that (the symmetric matrix is a row selection and column
      merge of the Kronecker one) and the block bound :func:`_symmetric_bound`,
      :math:`\mathrm{nnz}(C_{jk}) \le d_j\,\min(d_k, c_{jk})`.

    Both are upper bounds, never estimates from below. The symmetric one is exact when the
    coefficient rows are dense and within 2.5x on banded inputs up to N = 4 (pinned by the tests).
    """
    kron = _estimate_pairs(per_level, n, order, continuous)
    if basis == "kronecker":
        return kron
    return min(kron, _symmetric_bound(row_max, n, order, continuous)[0])


def _estimate_pairs(per_level, n: int, order: int, continuous: bool) -> int:
    """Products formed by the Kronecker assembly (exact count before duplicates merge)."""
    q = len(per_level) - 1
    total = 0.0
    if continuous:
        for j in range(1, order + 1):
            for a in range(q + 1):
                if 1 <= j + a - 1 <= order:
                    total += j * n ** (j - 1) * per_level[a]
        return int(total)
    # coefficients of x^k in p(x)^j, p(x) = sum_a nnz(M_a) x^a, summed over j and k <= N
    prev = np.zeros(order + 1)
    prev[0] = 1.0
    for _ in range(order):
        cur = np.zeros(order + 1)
        for a in range(q + 1):
            if per_level[a]:
                cur[a:] += per_level[a] * prev[: order + 1 - a]
        prev = cur
        total += cur.sum()
    return int(total)


def _symmetric_bound(row_max, n: int, order: int, continuous: bool) -> tuple[int, int]:
    r"""(bound on nnz, bound on products formed) of the symmetric-basis matrix.

    A row of :math:`M_a` merges to at most :math:`r_a = \min(\text{row\_max}_a, d_a)` monomials
    of level :math:`a` (:math:`d_a = \binom{n+a-1}{a}`). Discrete: row :math:`m` of level
    :math:`j` is the product :math:`g_{i_1}\cdots g_{i_j}` of :math:`j` such polynomials, so its
    level-:math:`k` part has at most :math:`c_{jk} = [x^k]\,(\sum_a r_a x^a)^j` terms, and never
    more than the :math:`d_k` columns of that level: :math:`\mathrm{nnz}(C_{jk}) \le d_j
    \min(d_k, c_{jk})`. Continuous: :math:`\mathrm{nnz}(A_{j,j+a-1}) \le d_j \min(d_{j+a-1},
    j r_a)`. The products are the same sums without the cap :math:`d_k`.
    """
    q = len(row_max) - 1
    dims = [math.comb(n + k - 1, k) for k in range(order + 1)]
    r = [min(float(row_max[a]), float(dims[a])) if a <= order else 0.0 for a in range(q + 1)]
    nnz = pairs = 0.0
    if continuous:
        for j in range(1, order + 1):
            for a in range(q + 1):
                k = j + a - 1
                if 1 <= k <= order:
                    nnz += dims[j] * min(dims[k], j * r[a])
                    pairs += dims[j] * j * r[a]
        return int(nnz), int(pairs)
    prev = np.zeros(order + 1)
    prev[0] = 1.0
    for j in range(1, order + 1):
        cur = np.zeros(order + 1)
        for a in range(q + 1):
            if r[a]:
                cur[a:] += r[a] * prev[: order + 1 - a]
        prev = cur
        nnz += dims[j] * sum(min(dims[k], cur[k]) for k in range(1, order + 1))
        pairs += dims[j] * cur.sum()
    return int(nnz), int(pairs)


def _symmetric_workspace(row_max, n: int, order: int, continuous: bool) -> float:
    """Bytes of the symmetric assembly besides the result.

    The multiplication table, the monomials, and the products in one chunk beyond the result's
    own non-zeros (the duplicates that the CSR conversion merges).
    """
    below_top = sum(math.comb(n + k - 1, k) for k in range(order))
    nnz, pairs = _symmetric_bound(row_max, n, order, continuous)
    return 8.0 * n * below_top + 8.0 * (order + 2) * math.comb(n + order, order) \
        + BYTES_PER_PAIR * min(max(pairs - nnz, 0), CHUNK_PAIRS)


def _guard(n: int, order: int, basis: str, nnz: int, max_bytes, func: str, extra: float = 0.0) -> None:
    dim = lifted_dimension(n, order, basis=basis)
    check_memory(
        _BYTES_PER_NONZERO * float(nnz) + 8.0 * dim + extra,
        what=f"the order-{order} {basis} Carleman system ({dim:,} unknowns, at most about {nnz:,} non-zeros)",
        max_bytes=max_bytes,
        func=func,
    )


# ----------------------------------------------------------------------------------------
# continuous Carleman matrix
# ----------------------------------------------------------------------------------------


def _kron_position_sum(mat: sp.csr_array, n: int, j: int) -> sp.csr_array:
    """sum_{i=1}^{j} I^(x)(i-1) (x) mat (x) I^(x)(j-i)."""
    out = None
    for i in range(1, j + 1):
        term = sp.kron(sp.kron(sp.eye_array(n ** (i - 1), format="csr"), mat, format="csr"),
                       sp.eye_array(n ** (j - i), format="csr"), format="csr")
        out = term if out is None else out + term
    return out


def _continuous_parts(F0, F1, F2, order: int, basis: str):
    """(A without F0, A from F0 only, b from F0) of the truncated continuous system."""
    n = F1.shape[0]
    dims = [_level_dim(n, j, basis) for j in range(1, order + 1)]
    offs = np.concatenate([[0], np.cumsum(dims)])
    D = int(offs[-1])
    b = np.zeros(D)
    b[:n] = F0
    if basis == "kronecker":
        hom = [[None] * order for _ in range(order)]
        frc = [[None] * order for _ in range(order)]
        F0col = sp.csr_array(F0.reshape(n, 1))
        for j in range(1, order + 1):
            hom[j - 1][j - 1] = _kron_position_sum(F1, n, j)
            if j < order:
                hom[j - 1][j] = _kron_position_sum(F2, n, j)
            if j > 1:
                frc[j - 1][j - 2] = _kron_position_sum(F0col, n, j)
        for blocks in (hom, frc):
            for j in range(order):
                if blocks[j][j] is None:
                    blocks[j][j] = sp.csr_array((dims[j], dims[j]))
        A_hom = sp.block_array(hom, format="csr")
        A_frc = sp.block_array(frc, format="csr")
        return A_hom, A_frc, b
    space = SymmetricSpace(n, order)
    zero = [sp.csr_array((n, n)), sp.csr_array((n, n * n))]
    A_hom = space.derivative(space.polynomial(np.zeros(n), [F1, F2]), D)
    A_frc = space.derivative(space.polynomial(F0, zero), D)
    return A_hom, A_frc, b


def _continuous_inputs(F, func):
    """(n, F0, F1, F2) of the coefficient object F of a quadratic field."""
    F1, F2, F0 = check_quadratic(F, func=func)
    return F1.shape[0], F0, F1, F2


def _continuous_guard(n, F0, F1, F2, order, basis, max_bytes, func):
    per = [np.count_nonzero(F0), F1.nnz, F2.nnz]
    rmax = [int(np.count_nonzero(F0) > 0), _row_nnz_max(F1), _row_nnz_max(F2)]
    extra = _symmetric_workspace(rmax, n, order, True) if basis == "symmetric" else 0.0
    _guard(n, order, basis, _estimate_nonzeros(per, rmax, n, order, basis, True), max_bytes, func, extra)


def carleman_matrix(F, *, order, basis=DEFAULT_BASIS, max_bytes=None):
    r"""Truncated Carleman matrix of :math:`du/dt = F_2 u^{\otimes 2} + F_1 u + F_0`.

    Implements PNAS Eqs. 3-7 of [1]_: the block-tridiagonal :math:`A` with
    :math:`A_{j,j+1} = \sum_i I^{\otimes i-1}\otimes F_2\otimes I^{\otimes j-i}` (dropped for
    :math:`j = N`), :math:`A_{j,j} = \sum_i I^{\otimes i-1}\otimes F_1\otimes I^{\otimes j-i}`,
    :math:`A_{j,j-1} = \sum_i I^{\otimes i-1}\otimes F_0\otimes I^{\otimes j-i}`, and
    :math:`b = [F_0; 0; \dots; 0]`, so that :math:`d\hat y/dt = A\hat y + b` (the printed
    Eq. 7 of [1]_ labels the :math:`F_0` block :math:`A_{j,j+1}`; it is :math:`A_{j,j-1}`).

    Parameters
    ----------
    F : sequence, PolynomialMap or problem
        The coefficients in ascending degree: ``[F0, F1, F2]``, a ``PolynomialMap`` of degree
        <= 2 or a ``BurgersProblem`` (module docstring). ``F0`` (n,) is the constant forcing
        or None (for a time-dependent :math:`F_0(t)` assemble at each time, or use
        :func:`solve_carleman` with ``forcing``); ``F1`` (n, n) the linear part; ``F2``
        (n, n**2) the quadratic part acting on :math:`u\otimes u` (all :math:`n^2` ordered
        products) or None. Dense or sparse. A linear field is ``[F0, F1]`` or ``[None, F1]``.
    order : int
        Truncation order :math:`N \ge 1`.
    basis : {"kronecker", "symmetric"}, default :data:`qsgd.carleman.DEFAULT_BASIS` ("kronecker")
        ``"symmetric"`` uses the monomials of :func:`monomials`; its first block agrees with the
        Kronecker basis.
    max_bytes : float, optional
        Refuse (``ValueError``) when the estimated memory of the assembly exceeds this
        (default :data:`qsgd._validation.DEFAULT_MAX_BYTES`).

    Returns
    -------
    A : scipy.sparse.csr_array, shape (D, D)
    b : ndarray, shape (D,)

    Raises
    ------
    ValueError
        Bad shapes or non-finite entries, an unknown basis, ``order < 1``, or a system whose
        estimated size (unknowns and non-zeros, stated in the message) exceeds ``max_bytes``.

    Examples
    --------
    >>> A, b = carleman_matrix([[0.5], [[-1.0]], [[0.25]]], order=2)
    >>> A.toarray()
    array([[-1.  ,  0.25],
           [ 1.  , -2.  ]])
    >>> b
    array([0.5, 0. ])

    References
    ----------
    .. [1] J.-P. Liu et al., PNAS 118, e2026805118 (2021), Eqs. 3-7.

    Used in chapter 1.
    """
    func = "carleman_matrix"
    order = check_int(order, "order", func=func, minimum=1)
    basis = check_choice(basis, "basis", BASES, func=func)
    n, F0, F1, F2 = _continuous_inputs(F, func)
    _pre_guard(n, order, basis, max_bytes, func)
    _continuous_guard(n, F0, F1, F2, order, basis, max_bytes, func)
    A_hom, A_frc, b = _continuous_parts(F0, F1, F2, order, basis)
    return (A_hom + A_frc).tocsr(), b


# ----------------------------------------------------------------------------------------
# discrete Carleman matrix
# ----------------------------------------------------------------------------------------


def discrete_carleman(F, *, order, basis=DEFAULT_BASIS, max_bytes=None):
    r"""Exact Carleman lifting of the polynomial map :math:`u \mapsto u + \sum_\ell F_\ell u^{\otimes\ell}`.

    With :math:`M_0 = F_0` (a column), :math:`M_1 = I + F_1` and :math:`M_\ell = F_\ell`
    (:math:`\ell = 2..q`), the blocks of the lifted map follow the recursion on row blocks

    .. math::

        C_{0,0} = 1,\qquad C_{j,k} = \sum_{a=0}^{\min(q,k)} M_a \otimes C_{j-1,k-a},

    which is the expansion of :math:`u_{t+1}^{\otimes j} = u_{t+1}\otimes u_{t+1}^{\otimes j-1}`;
    every block is kept, including the :math:`O(\eta^2)` ones such as
    :math:`C_{2,2} = (I+F_1)\otimes(I+F_1)` (Eq. 5 of [2]_ and the remark below it: the discrete
    matrix carries terms absent from the continuous one). Truncation drops the columns
    :math:`k > N`, so ``lift(u_next) == C @ lift(u) + b`` holds exactly whenever no level above
    :math:`N` is reached (for instance :math:`q = 1`) and up to those dropped levels otherwise.

    **Constants.** The column :math:`k = 0` is the constant part
    :math:`b_j = F_0^{\otimes j}` of every level (not only :math:`b_1 = F_0` as displayed in
    Eqs. 5-6 of [2]_, which is exact only for :math:`F_0 = 0`); the products that mix
    :math:`F_0` with higher factors stay in :math:`C`: the blocks :math:`C_{j,k}` with
    :math:`0 < k < j`, e.g. :math:`C_{2,1} = (I+F_1)\otimes F_0 + F_0\otimes(I+F_1)`, and also
    :math:`F_0\otimes F_2 + F_2\otimes F_0` inside :math:`C_{2,2}`. No homogenizing
    coordinate is added, so ``C`` has the same size as the continuous Carleman matrix.

    Parameters
    ----------
    F : sequence ``[F0, F1, ..., Fq]``, q in 1..3, or an object carrying them
        ``F0`` a length-n vector (zeros or None for none), ``F_l`` an (n, n**l) matrix, dense or
        sparse, acting on :math:`u^{\otimes\ell}` (all ordered products, Kronecker order).
        A :class:`qsgd.gd.PolynomialMap` is taken as its ``coefficients`` (no ``list(...)``
        needed); see :func:`qsgd._validation.as_coefficients`.
    order : int
        Truncation order :math:`N \ge 1`.
    basis : {"kronecker", "symmetric"}, default :data:`qsgd.carleman.DEFAULT_BASIS` ("kronecker")
        ``"symmetric"`` lifts onto the monomials of :func:`monomials` (same first block).
    max_bytes : float, optional
        Refuse (``ValueError``) when the estimated memory of the assembly exceeds this. The
        estimate rests on an upper bound of the non-zeros of ``C`` (block by block, at most the
        rows of level j times the columns of level k; exact for dense coefficients in the
        symmetric basis), stated in the message.

    Returns
    -------
    C : scipy.sparse.csr_array, shape (D, D)
        The lifted one-step map.
    b : ndarray, shape (D,)
        Its constant part, :math:`b_j = F_0^{\otimes j}` (or the monomials of :math:`F_0`).

    Raises
    ------
    ValueError
        Bad shapes, non-finite entries, q outside 1..3, or a system above ``max_bytes``.

    References
    ----------
    .. [2] J. Liu et al., Nat. Commun. 15, 434 (2024), Eqs. 4-5.

    Examples
    --------
    >>> import numpy as np
    >>> F = [np.zeros(1), np.array([[-0.1]]), np.array([[0.05]])]
    >>> C, b = discrete_carleman(F, order=2)
    >>> C.toarray()
    array([[0.9 , 0.05],
           [0.  , 0.81]])

    Used in chapters 1, 2 and 8.
    """
    func = "discrete_carleman"
    order = check_int(order, "order", func=func, minimum=1)
    basis = check_choice(basis, "basis", BASES, func=func)
    n, F0, mats = _coefficients(F, func)
    _pre_guard(n, order, basis, max_bytes, func)
    M = [sp.csr_array(F0.reshape(n, 1)), (sp.eye_array(n, format="csr") + mats[0]).tocsr(), *mats[1:]]
    per = [m.nnz for m in M]
    rmax = [_row_nnz_max(m) for m in M]
    extra = _symmetric_workspace(rmax, n, order, False) if basis == "symmetric" else 0.0
    _guard(n, order, basis, _estimate_nonzeros(per, rmax, n, order, basis, False), max_bytes, func, extra)
    q = len(M) - 1
    if basis == "kronecker":
        prev = {0: sp.csr_array(np.ones((1, 1)))}
        rows_C, b_parts = [], []
        for j in range(1, order + 1):
            cur = {}
            for k in range(0, order + 1):
                acc = None
                for a in range(0, min(q, k) + 1):
                    blk = prev.get(k - a)
                    if blk is None or M[a].nnz == 0 or blk.nnz == 0:
                        continue
                    term = sp.kron(M[a], blk, format="csr")
                    acc = term if acc is None else acc + term
                if acc is not None:
                    cur[k] = acc
            prev = cur
            b_parts.append(cur[0].toarray().ravel() if 0 in cur else np.zeros(n**j))
            rows_C.append([cur.get(k, sp.csr_array((n**j, n**k))) for k in range(1, order + 1)])
        C = sp.block_array(rows_C, format="csr")
        C.sum_duplicates()
        C.eliminate_zeros()
        return C, np.concatenate(b_parts)
    space = SymmetricSpace(n, order)
    parts = space.polynomial(F0, M[1:])
    C, b = split_constant(space.lifted_map(parts))
    C.eliminate_zeros()
    return C, b


# ----------------------------------------------------------------------------------------
# solving the truncated continuous system
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CarlemanSolution:
    r"""Solution of a truncated Carleman system.

    Attributes
    ----------
    t : ndarray, shape (m,)
        Times (the Euler grid or the evaluation times).
    u : ndarray, shape (m, n)
        The first block :math:`\hat y_1(t)`, the approximation of :math:`u(t)`.
    y_final : ndarray, shape (D,)
        The whole lifted state at ``t[-1]``.
    order, basis, method : the settings used.
    dimension : int
        Number of unknowns D.
    nnz : int
        Stored non-zeros of the Carleman matrix (both parts when forced).
    success : bool
        False when the iterate became non-finite.
    message : str
    """

    t: np.ndarray
    u: np.ndarray
    y_final: np.ndarray
    order: int
    basis: str
    method: str
    dimension: int
    nnz: int
    success: bool
    message: str


def _euler(A_hom, A_frc, b, y, t, forcing, us):
    """Forward Euler (PNAS Eq. 8), writing the first block into ``us``; blow-up is reported."""
    n = us.shape[1]
    forced = A_frc.nnz > 0 or np.any(b)
    A_const = (A_hom + A_frc).tocsr() if forcing is None else None
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(t.shape[0] - 1):
            h = t[k + 1] - t[k]
            if forcing is None:
                y = y + h * (A_const @ y + b)
            elif forced:
                g = float(forcing(t[k]))
                y = y + h * (A_hom @ y + g * (A_frc @ y + b))
            else:
                y = y + h * (A_hom @ y)
            us[k + 1] = y[:n]
            if not np.all(np.isfinite(us[k + 1])):
                us[k + 1 :] = np.nan
                return y, False, f"the Euler iterate became non-finite at step {k + 1}"
    return y, True, "ok"


def _expm(A, b, y, t, us):
    """Exact solution of dy/dt = A y + b via expm_multiply on [[A, b], [0, 0]]."""
    n, D = us.shape[1], y.shape[0]
    aug = sp.block_array([[A, sp.csr_array(b.reshape(D, 1))], [None, sp.csr_array((1, 1))]], format="csr")
    z = np.concatenate([y, [1.0]])
    for k in range(t.shape[0] - 1):
        z = expm_multiply(aug * (t[k + 1] - t[k]), z)
        us[k + 1] = z[:n]
    ok = bool(np.all(np.isfinite(us)))
    return z[:D], ok, "ok" if ok else "the exact solution overflowed"


def _euler_stability(F1, t: np.ndarray, order: int, func: str) -> tuple[bool, str]:
    r"""Is forward Euler on the grid ``t`` stable for the order-N Carleman matrix of F1?

    The diagonal blocks :math:`A_{jj}` have the eigenvalues :math:`\lambda_{i_1}+\dots+\lambda_{i_j}`
    (sums of j eigenvalues of :math:`F_1`); forward Euler damps a decaying mode iff
    :math:`|1 + h\mu| \le 1`. That region is a disc through 0, so it holds for all the sums
    up to level N iff it holds for :math:`\mu = N\lambda` for every decaying eigenvalue
    :math:`\lambda` of :math:`F_1` (growing modes grow in the ODE as well and are not flagged).
    """
    h = float(np.max(np.diff(t))) if t.shape[0] > 1 else 0.0
    n = F1.shape[0]
    if h == 0.0 or n > 2000:  # no step, or a dense eigen-decomposition too costly for a check
        return True, ""
    lam = eigenvalues(F1, func)
    lam = lam[lam.real < 0]
    if lam.size == 0:
        return True, ""
    amp = np.abs(1.0 + h * order * lam)
    worst = int(np.argmax(amp))
    if amp[worst] <= 1.0 + 1e-12:
        return True, ""
    mu = order * lam[worst]
    return False, (
        f"forward Euler is unstable on this grid: step h = {h:.4g} and the level-{order} eigenvalue "
        f"N*lambda = {mu:.4g} of the Carleman matrix give h*|N*lambda| = {h * abs(mu):.4g} and "
        f"|1 + h*N*lambda| = {amp[worst]:.4g} > 1 (for a real lambda the limit is h*N*|lambda| <= 2); "
        "use a finer grid or method='expm'"
    )


def solve_carleman(F, u0=None, t=None, *, order, basis=DEFAULT_BASIS, method="euler", forcing=None,
                   max_bytes=None) -> CarlemanSolution:
    r"""Solve the truncated Carleman system :math:`d\hat y/dt = A(t)\hat y + b(t)`.

    ``method="euler"`` steps forward Euler on the grid ``t`` (PNAS Eq. 8 of [1]_):
    :math:`y^{k+1} = y^k + h_k\,[A(t_k) y^k + b(t_k)]`, with :math:`h_k = t_{k+1}-t_k`.
    ``method="expm"`` is the exact solution of the truncated (constant-coefficient) system,
    :math:`y(t) = e^{At}y(0) + \int_0^t e^{As}b\,ds`, via ``expm_multiply`` on the augmented
    matrix :math:`[[A, b], [0, 0]]`.

    A time-dependent forcing :math:`F_0(t) = g(t) F_0` (as in the PNAS Burgers test) is given as
    the vector ``F0`` and the scalar function ``forcing = g``: the :math:`A_{j,j-1}` blocks and
    ``b`` are assembled once and scaled by :math:`g(t_k)` at each step.

    Before stepping, forward Euler is checked for stability: with :math:`h` the largest step
    and :math:`\lambda` the decaying eigenvalues of :math:`F_1`, the level-N eigenvalues
    :math:`N\lambda` of the Carleman matrix need :math:`|1 + hN\lambda| \le 1` (for a real
    :math:`\lambda`, :math:`hN|\lambda| \le 2`). An unstable grid is still integrated, but
    the result comes back with ``success=False`` and a message giving :math:`h|N\lambda|`.

    Parameters
    ----------
    F : sequence, PolynomialMap or problem
        The coefficients in ascending degree, as in :func:`carleman_matrix`, followed by
        ``u0`` and ``t``: ``solve_carleman([F0, F1, F2], u0, t, order=3)``. For a problem,
        ``u0``, ``t`` and ``forcing`` default to ``problem.u0``, ``problem.t`` and
        ``problem.forcing``: ``solve_carleman(problem, order=3)``.
    u0 : (n,) array_like
        Initial state; :math:`y(0)` is ``lift(u0)``.
    t : (m,) array_like
        Increasing times starting at the initial time.
    order : int
        Truncation order N.
    basis : {"kronecker", "symmetric"}, default :data:`qsgd.carleman.DEFAULT_BASIS` ("kronecker")
    method : {"euler", "expm"}
    forcing : callable, optional
        Scalar :math:`g(t)` multiplying F0 (only with ``method="euler"``).
    max_bytes : float, optional
        Size guard, as in :func:`carleman_matrix`.

    Returns
    -------
    CarlemanSolution

    Examples
    --------
    >>> sol = solve_carleman([None, [[-1.0]], [[0.1]]], [0.5], [0.0, 1.0], order=3, method="expm")
    >>> sol.u.shape, sol.dimension, sol.success
    ((2, 1), 3, True)

    Used in chapter 1.
    """
    func = "solve_carleman"
    order = check_int(order, "order", func=func, minimum=1)
    basis = check_choice(basis, "basis", BASES, func=func)
    method = check_choice(method, "method", ("euler", "expm"), func=func)
    u0, t, problem_forcing = problem_defaults(F, u0, t)
    if forcing is None and method == "euler":
        forcing = problem_forcing
    n, F0, F1, F2 = _continuous_inputs(F, func)
    for name, value in (("u0", u0), ("t", t)):
        if value is None:
            raise ValueError(f"{func}: missing argument {name} (only a problem object supplies its own)")
    u0 = as_vector(u0, "u0", func=func, size=n)
    t = as_vector(t, "t", func=func)
    if t.shape[0] < 1 or np.any(np.diff(t) <= 0):
        raise ValueError(f"{func}: t must be strictly increasing, got {t[:5]}...")
    if forcing is not None and not callable(forcing):
        raise ValueError(f"{func}: forcing must be a callable g(t) or None, got {type(forcing).__name__}")
    if forcing is not None and method != "euler":
        raise ValueError(f"{func}: a time-dependent forcing needs method='euler', got method={method!r}")
    _pre_guard(n, order, basis, max_bytes, func)
    _continuous_guard(n, F0, F1, F2, order, basis, max_bytes, func)
    stable, why = _euler_stability(F1, t, order, func) if method == "euler" else (True, "")
    A_hom, A_frc, b = _continuous_parts(F0, F1, F2, order, basis)
    y = lift(u0, order=order, basis=basis, max_bytes=max_bytes)
    D = y.shape[0]
    us = np.empty((t.shape[0], n))
    us[0] = y[:n]
    if method == "euler":
        y, ok, message = _euler(A_hom, A_frc, b, y, t, forcing, us)
    else:
        y, ok, message = _expm(A_hom + A_frc, b, y, t, us)
    if not stable:
        ok, message = False, why + ("" if ok else f"; {message}")
    nnz = int(A_hom.nnz + A_frc.nnz)
    return CarlemanSolution(t=t, u=us, y_final=y, order=order, basis=basis, method=method,
                            dimension=D, nnz=nnz, success=ok, message=message)


# ----------------------------------------------------------------------------------------
# a-priori error bounds
# ----------------------------------------------------------------------------------------


def _bound_inputs(F, u0, t, order, func, *, homogeneous=False):
    order = check_int(order, "order", func=func, minimum=1)
    F1, F2, F0 = check_quadratic(F, dissipative=True, func=func)
    if F2.nnz == 0:
        raise ValueError(f"{func}: F2 is zero or absent; the bounds concern the quadratic term (R would be 0)")
    if homogeneous and np.any(F0):
        raise ValueError(f"{func}: the homogeneous bound needs F0 = 0; use lemma1_bound for a forced problem")
    u0 = problem_defaults(F, u0, None)[0]
    for name, value in (("u0", u0), ("t", t)):
        if value is None:
            raise ValueError(f"{func}: missing argument {name}" + (" (only a problem object supplies its own)"
                                                                   if name == "u0" else ""))
    u0 = as_vector(u0, "u0", func=func, size=F1.shape[0], allow_zero=False)
    t_arr = as_vector(np.atleast_1d(t) if not isinstance(t, (str, bytes)) and t is not None else t, "t", func=func)
    if np.any(t_arr < 0):
        raise ValueError(f"{func}: t must be times >= 0, got {describe(t)}")
    lam = lambda_1(F1, func=func)
    R = r_number([F0, F1, F2], u0)
    if R >= 1:
        raise ValueError(f"{func}: the bound needs R < 1, got R = {R:.6g}")
    return order, F1, F2, F0, u0, t_arr, lam, R, norm2(F2)


def homogeneous_bound(F, u0=None, t=None, *, order):
    r"""PNAS improved bound for the homogeneous problem (:math:`F_0 = 0`).

    .. math::

        \|u(t) - \hat y_1(t)\| \le \|u_0\|\,\mathrm R^N\,\big(1 - e^{\mathrm{Re}\lambda_1 t}\big)^N,
        \qquad \mathrm R = \frac{\|u_0\|\,\|F_2\|}{|\mathrm{Re}\lambda_1|},

    the error of the first block of the exact solution of the truncated continuous Carleman
    system (arXiv:2011.03185 Eq. 4.29 / Corollary 1 of [1]_, as implemented in
    CarlemanLinearization.jl [3]_).

    Parameters
    ----------
    F : sequence, PolynomialMap or problem
        The coefficients in ascending degree with :math:`F_0 = 0`: ``[None, F1, F2]``, a
        ``PolynomialMap`` or a problem (see :func:`carleman_matrix`), followed by ``u0`` and
        ``t``: ``homogeneous_bound([None, F1, F2], u0, t, order=N)``. ``F1`` diagonalizable
        with :math:`\mathrm{Re}\lambda_1 < 0` (largest real part), ``F2`` non-zero.
    u0 : (n,) array_like, non-zero
        Defaults to a problem's ``u0``.
    t : float or array_like of times >= 0
    order : int

    Returns
    -------
    ndarray, the bound at each time (shape of ``np.atleast_1d(t)``).

    Raises
    ------
    ValueError
        ``Re(lambda_1) >= 0`` or ``R >= 1`` (the hypotheses of the bound), a non-zero
        :math:`F_0`, or bad input.

    Examples
    --------
    >>> homogeneous_bound([None, [[-1.0]], [[0.5]]], [1.0], [0.0, 1.0], order=2)
    array([0.       , 0.0998941])

    References
    ----------
    .. [1] J.-P. Liu et al., PNAS 118, e2026805118 (2021); arXiv:2011.03185, Eq. (4.29).
    .. [3] JuliaReach/CarlemanLinearization.jl, ``error_bound_pwr`` in ``src/error_bounds.jl``.

    Used in chapter 1.
    """
    func = "homogeneous_bound"
    order, F1, F2, F0, u0, t_arr, lam, R, _ = _bound_inputs(F, u0, t, order, func, homogeneous=True)
    return np.linalg.norm(u0) * R**order * (1.0 - np.exp(lam * t_arr)) ** order


def lemma1_bound(F, u0=None, t=None, *, order):
    r"""PNAS Lemma 1: :math:`\|u^{\otimes j}(t) - \hat y_j(t)\| \le t\,N\,\|F_2\|\,\|u_0\|^{N+1}`.

    Valid for every level :math:`j \le N` of the truncated continuous Carleman system when
    :math:`\mathrm R < 1` (Lemma 1 of [1]_). The PNAS analysis first rescales :math:`u` so that
    :math:`\|u_0\| < 1`; the bound is stated in the coordinates it is given.

    Parameters
    ----------
    F : sequence, PolynomialMap or problem
        The coefficients in ascending degree: ``[F0, F1, F2]``, a ``PolynomialMap`` or a
        problem, followed by ``u0`` and ``t``: ``lemma1_bound([F0, F1, F2], u0, t, order=N)``.
        ``F0`` is the constant forcing or None (for a time-dependent one pass the vector of
        largest norm); ``F1`` and ``F2`` as in :func:`homogeneous_bound`.
    u0 : (n,) array_like, non-zero
        Defaults to a problem's ``u0``.
    t : float or array_like of times >= 0
    order : int

    Returns
    -------
    ndarray, the bound at each time.

    Raises
    ------
    ValueError
        ``Re(lambda_1) >= 0`` or ``R >= 1``, or bad input.

    Examples
    --------
    >>> lemma1_bound([[0.1], [[-1.0]], [[0.5]]], [0.5], 2.0, order=3)
    array([0.1875])

    References
    ----------
    .. [1] J.-P. Liu et al., PNAS 118, e2026805118 (2021), Lemma 1.

    Used in chapter 1.
    """
    func = "lemma1_bound"
    order, F1, F2, F0, u0, t_arr, lam, R, f2 = _bound_inputs(F, u0, t, order, func)
    return t_arr * order * f2 * np.linalg.norm(u0) ** (order + 1)


def truncation_error_estimate(C, b, u_poly, *, order: int, basis: str = DEFAULT_BASIS):
    r"""Carleman tail after the fact: the exact truncation error and a norm estimate of it.

    Computed from the trajectory it judges, so it is an *estimate*, not an a priori bound: the
    residuals come from the very iterates whose error they describe, and nothing is known before
    the run. :func:`qsgd.carleman_bounds.truncation_error_bound` is the bound computed from the
    coefficients and a radius alone.

    With :math:`r_t=\mathrm{lift}(u_{t+1})-C\,\mathrm{lift}(u_t)-b` (only the levels above
    :math:`N` that truncation drops feed it) and :math:`\hat y_0=\mathrm{lift}(u_0)=0`,
    :math:`\mathrm{lift}(u_T)-\hat y_T=\sum_t C^{T-1-t}r_t`; its first level is minus the
    truncation error and :math:`\lVert P_1r_{T-1}\rVert+\sum_{t<T-1}\lVert P_1C^{T-1-t}\rVert
    \lVert r_t\rVert` is at least its norm (the triangle inequality on the same sum; the last
    residual reaches the first level only through its own first level, which is zero once
    :math:`N\ge q`).

    Parameters
    ----------
    C, b : sparse or dense matrix (or a CarlemanOperator), ndarray
        The truncated discrete lift of :func:`discrete_carleman` at ``order`` and ``basis``, or the
        same map as products only (:func:`qsgd.lifting_operators.carleman_operator`): then the
        powers of :math:`C` are never formed; the sum is accumulated by Horner's rule and the rows
        :math:`P_1C^s` are propagated by transpose products.
    u_poly : array_like, shape (T + 1, n)
        The trajectory of the polynomial map that ``C`` lifts, starting at :math:`u_0 = 0`.
    order : int
    basis : {"kronecker", "symmetric"}, default :data:`qsgd.carleman.DEFAULT_BASIS` ("kronecker")

    Returns
    -------
    error : ndarray, shape (n,)
        :math:`\hat y_1(T) - u_T`, the truncation error of the first level at step :math:`T`.
    estimate : float
        The norm estimate above, :math:`\ge\lVert\mathrm{error}\rVert` (it cannot fail: it is
        the triangle inequality on the sum that defines the error).
    residual_norms : ndarray, shape (T,)
        :math:`\lVert r_t\rVert`.

    Used in chapter 8 (the error budget of a quantum segment).
    """
    func = "truncation_error_estimate"
    u_poly = np.asarray(u_poly, dtype=float)
    if u_poly.ndim != 2 or u_poly.shape[0] < 2 or not np.all(np.isfinite(u_poly)):
        raise ValueError(f"{func}: u_poly must be a finite (T + 1, n) trajectory with T >= 1, got shape "
                         f"{u_poly.shape}")

    n = u_poly.shape[1]
    T = u_poly.shape[0] - 1
    if products_only(C):
        return _truncation_estimate_by_products(C, b, u_poly, n, T, order, basis, func)
    Cd = dense(C)
    if Cd.shape != (lifted_dimension(n, order, basis=basis),) * 2:
        raise ValueError(f"{func}: C has shape {Cd.shape}, expected the order-{order} {basis} lift of n = {n}")
    first = level_slices(n, order, basis=basis)[0]
    lifts = [lift(u, order=order, basis=basis) for u in u_poly]
    residuals = [lifts[t + 1] - Cd @ lifts[t] - b for t in range(T)]
    powers = [np.eye(Cd.shape[0])]
    for _ in range(T - 1):
        powers.append(Cd @ powers[-1])
    propagated = sum(powers[T - 1 - t] @ residuals[t] for t in range(T))
    bound = float(np.linalg.norm(residuals[T - 1][first]))
    bound += sum(float(np.linalg.norm(powers[T - 1 - t][first], 2)) * float(np.linalg.norm(residuals[t]))
                 for t in range(T - 1))
    tail = np.array([float(np.linalg.norm(r)) for r in residuals])
    return -propagated[first], float(bound), tail


def products_only(C: Any) -> bool:
    """Whether ``C`` gives products only (``matvec``/``rmatmat``), not entries.

    True for the operators of :mod:`qsgd.lifting_operators`; the truncation estimate and bound then
    propagate by products.
    """
    return not sp.issparse(C) and not isinstance(C, np.ndarray) and hasattr(C, "rmatmat") and hasattr(C, "matvec")


def _truncation_estimate_by_products(C, b, u_poly, n, T, order, basis, func):
    """:func:`truncation_error_estimate` with products by C only (an operator of :mod:`qsgd.lifting_operators`)."""
    D = lifted_dimension(n, order, basis=basis)
    if tuple(C.shape) != (D, D):
        raise ValueError(f"{func}: C has shape {tuple(C.shape)}, expected the order-{order} {basis} lift of n = {n}")
    first = level_slices(n, order, basis=basis)[0]
    b = np.asarray(b, dtype=float).reshape(-1)
    lifts = [lift(u, order=order, basis=basis) for u in u_poly]
    residuals = [lifts[t + 1] - C.matvec(lifts[t]) - b for t in range(T)]
    propagated = np.zeros(D)
    for r in residuals:  # sum_t C^{T-1-t} r_t by Horner's rule
        propagated = C.matvec(propagated) + r
    # ||P_1 C^s||_2 for s = 1..T-1: the rows P_1 C^s = (C^T)^s P_1^T, propagated n at a time
    rows = np.zeros((D, n))
    rows[first, :] = np.eye(n)
    norms = []
    for _ in range(T - 1):
        rows = np.asarray(C.rmatmat(rows))
        norms.append(norm2(rows.T))  # ||P_1 C^s||_2 through the n x n Gram matrix
    bound = float(np.linalg.norm(residuals[T - 1][first]))
    bound += sum(norms[T - 2 - t] * float(np.linalg.norm(residuals[t])) for t in range(T - 1))
    tail = np.array([float(np.linalg.norm(r)) for r in residuals])
    return -propagated[first], float(bound), tail
