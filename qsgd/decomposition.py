r"""Spectra of the linear systems the quantum solvers invert: one decomposition type, one maker.

Every consumer of a spectrum -- the HHL model and circuit (:mod:`qsgd.hhl`), the HHL error
bound, the polynomial solver (:mod:`qsgd.solvers`), :func:`qsgd.theorem.check_assumptions`,
:mod:`qsgd.history` and :mod:`qsgd.pipeline` -- takes a :class:`Decomposition` made by
:func:`decompose`, so a segment decomposes its Eq. 6 matrix once and the condition number
:math:`\kappa` has one code path (:attr:`Decomposition.condition_number`).

A quantum linear-system solver inverts a Hermitian matrix. For a symmetric :math:`A` that is
:math:`A` itself, :math:`A = V\,\mathrm{diag}(\lambda)\,V^{\mathsf T}` (an *eigen*
decomposition); otherwise the Hermitian dilation :math:`[[0, A], [A^{\mathsf T}, 0]]`, whose
eigenvalues are :math:`\pm\sigma_i(A)` for :math:`A = U\,\mathrm{diag}(\sigma)\,W^{\mathsf T}`
(a *singular-value* decomposition). :func:`decompose` picks the kind the solvers need.

:class:`SpectralBounds` holds bounds only (no vectors): what a solver is told about the
spectrum before it runs, from a decomposition, Gershgorin discs or the caller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, splu, svds

from qsgd._validation import (
    as_matrix,
    as_rng,
    check_bool,
    check_choice,
    check_memory,
    check_positive,
    estimate_bytes,
)

__all__ = [
    "SpectralBounds",
    "Decomposition",
    "DECOMPOSITION_METHODS",
    "SPECTRUM_RTOL",
    "EXACT_LIMIT",
    "decompose",
    "spectral_bounds",
    "condition_number",
    "is_symmetric",
    "dense_square",
]

#: the ways :func:`decompose` can decompose a matrix (see its docstring)
DECOMPOSITION_METHODS = ("auto", "normal", "svd")

#: relative tolerance of :meth:`Decomposition.check` (``||A v|| = sigma`` for the extreme pairs)
SPECTRUM_RTOL = 1e-6

#: largest dimension whose condition number :func:`condition_number` computes exactly by default
EXACT_LIMIT = 3000

#: dense working copies an O(m^3) decomposition of an (m, m) matrix may hold at once
_WORK_COPIES = 3

#: relative size of the smallest modulus below which a matrix counts as singular (dense methods)
_SINGULAR_RTOL = 1e-13


@dataclass(frozen=True)
class SpectralBounds:
    r"""Bounds on the eigenvalue moduli of the Hermitian matrix a solver inverts.

    Attributes
    ----------
    lower, upper : float
        :math:`0 < \text{lower} \le |\lambda| \le \text{upper}` for every eigenvalue
        :math:`\lambda` of :math:`H` (:math:`A` itself when symmetric, else the dilation,
        whose eigenvalues are :math:`\pm\sigma_i(A)`).
    definite : bool
        :math:`H` is positive definite (no sign bit needed on the clock).
    dilated : bool
        :math:`A` is not symmetric, so the dilation is used.
    method : str
        ``"exact"``, ``"gershgorin"`` or ``"known"``.
    """

    lower: float
    upper: float
    definite: bool
    dilated: bool
    method: str

    def __post_init__(self) -> None:
        func = "SpectralBounds"
        lower = check_positive(self.lower, "lower", func=func)
        upper = check_positive(self.upper, "upper", func=func)
        if lower > upper:
            raise ValueError(f"{func}: lower must be <= upper, got lower={lower} > upper={upper}")
        check_bool(self.definite, "definite", func=func)
        check_bool(self.dilated, "dilated", func=func)

    @property
    def condition_number(self) -> float:
        r"""``upper / lower``, an upper bound on :math:`\kappa(A)`."""
        return self.upper / self.lower


@dataclass(frozen=True)
class Decomposition:
    r"""The eigen- or singular-value decomposition of a square matrix, as the solvers use it.

    Symmetric :math:`A = V\,\mathrm{diag}(\lambda)\,V^{\mathsf T}`: ``values`` are the
    eigenvalues :math:`\lambda` (ascending), ``left`` is :math:`V`, ``right`` is None.
    Non-symmetric :math:`A = U\,\mathrm{diag}(\sigma)\,W^{\mathsf T}`: ``values`` are
    :math:`\sigma` (descending), ``left`` is :math:`U`, ``right`` is :math:`W`. Made by
    :func:`decompose`; ``left``/``right`` are None when it was asked for values only.

    Attributes
    ----------
    values : ndarray
    left, right : ndarray or None
    shape : tuple of int
        The shape of the decomposed matrix.
    symmetric : bool
        An eigendecomposition of a symmetric matrix (else a singular-value decomposition).
    method : str
        How it was computed: ``"eigh"``, ``"svd"`` or ``"normal"`` (``eigh`` of
        :math:`A^{\mathsf T}A`).
    """

    values: np.ndarray = field(repr=False)
    left: np.ndarray | None = field(repr=False)
    right: np.ndarray | None = field(repr=False)
    shape: tuple[int, int]
    symmetric: bool
    method: str

    @property
    def dimension(self) -> int:
        """The matrix is ``dimension x dimension``."""
        return int(self.shape[0])

    @property
    def dilated(self) -> bool:
        """A solver inverts the Hermitian dilation (the matrix is not symmetric)."""
        return not self.symmetric

    @property
    def moduli(self) -> np.ndarray:
        r"""The eigenvalue moduli of the inverted Hermitian matrix: :math:`|\lambda_i|` or :math:`\sigma_i`."""
        return np.abs(np.asarray(self.values, dtype=float))

    @property
    def sigma(self) -> np.ndarray:
        """The singular values, descending."""
        return np.sort(self.moduli)[::-1]

    @property
    def definite(self) -> bool:
        """Symmetric positive definite."""
        return bool(self.symmetric and np.min(self.values) > 0)

    @property
    def bounds(self) -> SpectralBounds:
        """The exact :class:`SpectralBounds` (smallest and largest modulus)."""
        moduli = self.moduli
        return SpectralBounds(float(moduli.min()), float(moduli.max()), self.definite, self.dilated, "exact")

    @property
    def condition_number(self) -> float:
        r""":math:`\kappa = \sigma_{\max}/\sigma_{\min}`: the package's one condition-number path."""
        moduli = self.moduli
        low = float(moduli.min())
        return float(moduli.max() / low) if low > 0 else math.inf

    def check(self, A: Any, *, rtol: float = SPECTRUM_RTOL, func: str = "Decomposition.check") -> "Decomposition":
        r"""Refuse (ValueError) a decomposition that does not describe ``A``; cheap, no new decomposition.

        ``A`` must have this shape, and for the vectors :math:`v` of the largest and the smallest
        modulus :math:`\sigma` (``right`` for an SVD, ``left`` for an eigendecomposition),
        :math:`|\,\|A v\| - \sigma| \le` ``rtol`` :math:`\cdot\sigma`. Returns ``self``.
        """
        shape = getattr(A, "shape", None)
        if shape is None or tuple(shape) != tuple(self.shape):
            raise ValueError(f"{func}: the decomposition is of a {self.shape[0]}x{self.shape[1]} matrix, but A has "
                             f"shape {None if shape is None else tuple(shape)}")
        if symmetric_of(A) != self.symmetric:
            kind = "an eigendecomposition" if self.symmetric else "a singular-value decomposition"
            raise ValueError(f"{func}: the decomposition is {kind}, but A is {'not ' if self.symmetric else ''}"
                             "symmetric; pass decompose(A), which decomposes A the way the solvers invert it")
        moduli = self.moduli
        refuse_singular(float(moduli.min()), float(moduli.max()), func)
        vectors = self.right if self.dilated else self.left
        if vectors is None:
            raise ValueError(f"{func}: the decomposition holds values only (decompose(..., vectors=False)); "
                             "a solver needs its vectors")
        moduli = self.moduli
        for k in (int(np.argmax(moduli)), int(np.argmin(moduli))):
            image = float(np.linalg.norm(A @ vectors[:, k]))
            if not abs(image - moduli[k]) <= rtol * moduli[k]:
                raise ValueError(
                    f"{func}: the decomposition does not describe A: ||A v|| = {image:.6g} for its vector of "
                    f"modulus {moduli[k]:.6g} (relative tolerance {rtol:g})"
                )
        return self


def is_symmetric(A: np.ndarray) -> bool:
    """``A == A.T`` up to 1e-12 of its largest entry (the test by which the solvers choose the dilation)."""
    scale = max(float(np.max(np.abs(A))), 1e-300)
    return bool(np.allclose(A, A.T, rtol=0.0, atol=1e-12 * scale))


def symmetric_of(A: Any) -> bool:
    """:func:`is_symmetric` for a dense or sparse matrix."""
    if sp.issparse(A):
        diff = abs(sp.csr_array(A) - sp.csr_array(A).T)
        scale = max(float(abs(A).max()), 1e-300)
        return bool(diff.nnz == 0 or diff.max() <= 1e-12 * scale)
    return is_symmetric(np.asarray(A))


def dense_square(A: Any, func: str, *, max_bytes: float | None = None, copies: int = _WORK_COPIES) -> np.ndarray:
    """A as a dense real square matrix, refusing before densifying when it would exceed the guard."""
    shape = getattr(A, "shape", None) if sp.issparse(A) or isinstance(A, np.ndarray) else None
    if shape is not None and len(shape) == 2:
        check_memory(estimate_bytes(copies, shape[0], shape[1]),
                     what=f"the dense ({shape[0]}, {shape[1]}) matrix A and its decomposition",
                     max_bytes=max_bytes, func=func)
    mat = as_matrix(A, "A", func=func, square=True, sparse=False)
    check_memory(estimate_bytes(copies, *mat.shape), what=f"the dense {mat.shape} matrix A and its decomposition",
                 max_bytes=max_bytes, func=func)
    if mat.shape[0] < 1:
        raise ValueError(f"{func}: A is empty, got shape {mat.shape}")
    return mat


def refuse_singular(lower: float, upper: float, func: str) -> None:
    """ValueError when the moduli ``lower <= upper`` make A numerically singular."""
    if upper == 0.0 or lower <= _SINGULAR_RTOL * upper:
        cond = math.inf if lower == 0.0 else upper / lower
        raise ValueError(f"{func}: A is singular (condition number {cond:.3g}); the solvers need an invertible A")


def _sparse_square(A: Any, func: str) -> sp.csr_array:
    """A real, finite, non-empty square matrix as a sparse array (never densified)."""
    if sp.issparse(A):
        if np.iscomplexobj(A.data):
            raise ValueError(f"{func}: A must be real, got complex entries")
        mat = sp.csr_array(A, dtype=float)
        if not np.all(np.isfinite(mat.data)):
            raise ValueError(f"{func}: A has non-finite entries")
    else:
        mat = sp.csr_array(as_matrix(A, "A", func=func))
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
        raise ValueError(f"{func}: A must be a square matrix, got shape {mat.shape}")
    return mat


def decompose(A: Any, *, method: str = "auto", vectors: bool = True, max_bytes: float | None = None,
              func: str | None = None) -> Decomposition:
    r"""Decompose :math:`A` the way the solvers invert it: the package's one maker of decompositions.

    Parameters
    ----------
    A : (m, m) array_like or sparse matrix
        Real, square, finite, invertible.
    method : {"auto", "normal", "svd"}
        ``"auto"``: ``eigh`` if :math:`A` is symmetric, else a full ``svd`` (dense LAPACK).
        ``"normal"``: the singular values and right vectors from ``eigh`` of the sparse normal
        matrix :math:`A^{\mathsf T}A`, then :math:`U = AW\Sigma^{-1}` by one sparse-dense product
        (half the time of a full SVD, relative accuracy about :math:`\kappa^2\varepsilon_{\rm mach}`
        for :math:`\sigma_{\min}`; always an SVD-kind decomposition, used for the non-symmetric
        Eq. 6 systems of chapter 8). ``"svd"``: a full SVD even of a symmetric matrix.
    vectors : bool, default True
        False: values only (``left = right = None``), e.g. for a condition number.
    max_bytes : float, optional
        Size guard: refuse, before densifying, a decomposition above this many bytes (default 4 GiB).
    func : str, optional
        The public function the user called, for messages (default ``"decompose"``).

    Returns
    -------
    Decomposition

    Raises
    ------
    ValueError
        Non-square, complex, non-finite, empty or singular :math:`A`, or one beyond the memory guard.

    Examples
    --------
    >>> d = decompose([[1.0, -1 / 3], [-1 / 3, 1.0]])
    >>> np.round(d.values, 4), d.dilated, round(d.condition_number, 6)
    (array([0.6667, 1.3333]), False, 2.0)
    """
    func = func or "decompose"
    check_choice(method, "method", set(DECOMPOSITION_METHODS), func=func)
    vectors = check_bool(vectors, "vectors", func=func)
    if method == "normal":
        return _normal(A, vectors=vectors, max_bytes=max_bytes, func=func)
    mat = dense_square(A, func, max_bytes=max_bytes)
    symmetric = method == "auto" and is_symmetric(mat)
    left = right = None
    if symmetric and vectors:
        w, left = scipy.linalg.eigh(mat, driver="evd", check_finite=False)
        how = "eigh"
    elif symmetric:
        w = np.linalg.eigvalsh(mat)
        how = "eigh"
    elif vectors:
        left, w, Wt = scipy.linalg.svd(mat, lapack_driver="gesdd", check_finite=False)
        right, how = Wt.T, "svd"
    else:
        w, how = np.linalg.svd(mat, compute_uv=False), "svd"
    moduli = np.abs(w)
    refuse_singular(float(moduli.min()), float(moduli.max()), func)
    return Decomposition(values=w, left=left, right=right, shape=mat.shape, symmetric=symmetric, method=how)


def _normal(A: Any, *, vectors: bool, max_bytes: float | None, func: str) -> Decomposition:
    """:func:`decompose` with ``method="normal"``."""
    mat = _sparse_square(A, func)
    m = mat.shape[0]
    check_memory(8.0 * 3 * float(m) ** 2, what=f"the dense {m}x{m} normal matrix", max_bytes=max_bytes, func=func)
    gram = (mat.T @ mat).toarray()
    if vectors:
        w, V = np.linalg.eigh(gram)
        order = np.argsort(w)[::-1]
        w, V = w[order], V[:, order]
    else:
        w, V = np.sort(np.linalg.eigvalsh(gram))[::-1], None
    if not w[-1] > 1e-24 * w[0]:
        raise ValueError(f"{func}: A is singular to working precision (smallest/largest squared singular value "
                         f"{w[-1]:.3g}/{w[0]:.3g})")
    sigma = np.sqrt(w)
    U = np.asarray(mat @ V) / sigma if vectors else None
    return Decomposition(values=sigma, left=U, right=V, shape=(m, m), symmetric=False, method="normal")


def spectral_bounds(A: Any, *, method: str = "exact", max_bytes: float | None = None,
                    func: str | None = None) -> SpectralBounds:
    r"""Bounds on :math:`|\lambda|` of the Hermitian matrix a solver inverts for :math:`A`.

    For symmetric :math:`A` the eigenvalues of :math:`A`; otherwise the singular values of
    :math:`A` (the eigenvalue moduli of the dilation :math:`[[0, A], [A^T, 0]]`).

    Parameters
    ----------
    A : (m, m) array_like or sparse matrix
        Real, square, finite, non-singular.
    method : {"exact", "gershgorin"}
        ``"exact"``: :func:`decompose` with values only (:math:`O(m^3)`). ``"gershgorin"``:
        Gershgorin discs; rigorous but loose. The upper bound is :math:`\max_i \sum_j |a_{ij}|`;
        a lower bound exists only for symmetric, strictly diagonally dominant :math:`A` with a
        positive diagonal.
    max_bytes : float, optional
        Size guard (default 4 GiB).

    Returns
    -------
    SpectralBounds

    Examples
    --------
    >>> b = spectral_bounds([[1.0, -1 / 3], [-1 / 3, 1.0]])
    >>> round(b.lower, 4), round(b.upper, 4), b.definite
    (0.6667, 1.3333, True)
    """
    func = func or "spectral_bounds"
    check_choice(method, "method", {"exact", "gershgorin"}, func=func)
    if method == "exact":
        return decompose(A, vectors=False, max_bytes=max_bytes, func=func).bounds
    mat = dense_square(A, func, max_bytes=max_bytes)
    if not is_symmetric(mat):
        raise ValueError(
            f"{func}: Gershgorin discs of the dilation [[0, A], [A^T, 0]] are centred at 0 and give no "
            "lower bound on the singular values of a non-symmetric A; use method='exact' or pass known bounds"
        )
    diag = np.diag(mat)
    radius = np.abs(mat).sum(axis=1) - np.abs(diag)
    upper = float(np.max(np.abs(diag) + radius))
    lower = float(np.min(diag - radius))
    if lower <= 0.0:
        raise ValueError(
            f"{func}: the Gershgorin discs of A reach {lower:.3g} <= 0, so they give no lower "
            "eigenvalue bound; use method='exact' or pass known bounds"
        )
    return SpectralBounds(lower, upper, True, False, "gershgorin")


def condition_number(L: Any, *, exact: bool | None = None, rng: Any = None) -> float:
    r"""The 2-norm condition number :math:`\kappa(L) = \sigma_{\max}/\sigma_{\min}`.

    ``exact=True`` (the default up to dimension :data:`EXACT_LIMIT`): all singular values of the
    dense matrix (:func:`decompose` with ``method="svd"``, values only). ``exact=False`` (the
    default above it): the two extreme singular values by ARPACK, :math:`\sigma_{\max}` from
    ``scipy.sparse.linalg.svds(L, k=1)`` and :math:`1/\sigma_{\min}` from ``svds`` applied to
    :math:`L^{-1}` through a sparse LU factorisation (``splu``; cheap, the Eq. 6 matrix is
    triangular). This is an iterative *estimate* that converges to :math:`\kappa` (ARPACK's
    default tolerance), not a bound.

    Parameters
    ----------
    L : sparse or dense square matrix
    exact : bool or None
    rng : None, int or Generator
        Seeds ARPACK's starting vectors (estimate only); None draws fresh entropy.

    Returns
    -------
    float (``inf`` for a singular matrix)

    Used in chapters 2, 4, 6 and 8.
    """
    func = "condition_number"
    L = as_matrix(L, "L", func=func, square=True, sparse=True)
    dim = L.shape[0]
    if exact is None:
        exact = dim <= EXACT_LIMIT
    exact = check_bool(exact, "exact", func=func)
    if exact or dim < 3:
        check_memory(8.0 * 3 * dim * dim, what=f"a dense SVD of a {dim} x {dim} matrix", max_bytes=None, func=func)
        s = np.linalg.svd(L.toarray(), compute_uv=False)
        return float(s[0] / s[-1]) if s[-1] > 0 else float("inf")
    gen = as_rng(rng, func=func)
    smax = svds(L, k=1, return_singular_vectors=False, v0=gen.standard_normal(dim))[0]
    try:
        lu = splu(sp.csc_array(L))
    except RuntimeError:  # exactly singular
        return float("inf")
    inv = LinearOperator((dim, dim), matvec=lu.solve, rmatvec=lambda v: lu.solve(v, trans="T"), dtype=float)
    inv_norm = svds(inv, k=1, return_singular_vectors=False, v0=gen.standard_normal(dim))[0]
    return float(smax * inv_norm)
