r"""The discrete Carleman map and the Eq. 6 system as products only, without assembling them.

At truncation order :math:`N = 2` the lifted map of :func:`qsgd.carleman.discrete_carleman`
has the level-2 block :math:`C_{2,2} = (I+F_1)\otimes(I+F_1) + F_0\otimes F_2 + F_2\otimes F_0`
with :math:`n^4` entries: for :math:`n = 200` free weights it cannot be stored. Matrix-function
methods (Chebyshev, Lanczos, Krylov solvers) only need the products :math:`Cy`, :math:`C^Ty`
and, for the T-step system of Eq. 6 of [1]_, :math:`LY` and :math:`L^TY`. This module gives
them from the coefficients alone, in :math:`O(n^3)` operations and memory per product.

**Kronecker identity.** The package orders :math:`u\otimes u` as ``np.kron(u, u)``: entry
:math:`in + j` is :math:`u_iu_j`, i.e. the row-major flattening of the matrix
:math:`uu^T`. With :math:`X` the row-major :math:`n\times n` reshape of a level-2 vector
:math:`y_2` (:math:`X_{ij} = (y_2)_{in+j}`),

.. math::

    (A\otimes B)\,y_2 = \mathrm{vec}_r(A X B^T),\qquad
    (a\otimes B)\,x = \mathrm{vec}_r(a\,(Bx)^T),\qquad (B\otimes a)\,x = \mathrm{vec}_r((Bx)\,a^T)

for matrices :math:`A, B` and a column :math:`a` (:math:`\mathrm{vec}_r` flattens row by row).
The second and third also hold for :math:`B = F_2` (an :math:`n\times n^2` matrix acting on
level 2), since :math:`a\otimes F_2` has the columns of :math:`F_2`.

**The map at N = 2.** With :math:`M_1 = I + F_1` the blocks of :func:`~qsgd.carleman.discrete_carleman`
are :math:`C_{1,1} = M_1`, :math:`C_{1,2} = F_2`, :math:`C_{2,1} = M_1\otimes F_0 + F_0\otimes M_1`,
:math:`C_{2,2} = M_1\otimes M_1 + F_0\otimes F_2 + F_2\otimes F_0`, and
:math:`b = [F_0;\ F_0\otimes F_0]` (the columns of levels 3 and 4 are dropped by the truncation).
So with :math:`v = M_1y_1 + F_2y_2`,

.. math::

    (Cy)_1 = v,\qquad (Cy)_2 = \mathrm{vec}_r\big(F_0v^T + vF_0^T + M_1XM_1^T\big),

and with :math:`R` the reshape of :math:`r_2` and :math:`w = r_1 + RF_0 + R^TF_0`,

.. math::

    (C^Tr)_1 = M_1^Tw,\qquad (C^Tr)_2 = F_2^Tw + \mathrm{vec}_r(M_1^TRM_1).

Each costs two :math:`n\times n` by :math:`n\times n` products and one product by
:math:`F_2` or :math:`F_2^T`: :math:`O(n^3)` for dense coefficients, and the operator stores
:math:`M_1`, :math:`F_2`, :math:`F_0` and :math:`b` (:math:`O(n^3)`), never :math:`C_{2,2}`.
At :math:`N = 1` the map is :math:`C = M_1`, :math:`b = F_0`. A cubic coefficient
:math:`F_3` only reaches the columns of level 3 and above, which both orders drop.

**Symmetric basis.** The monomial basis of :func:`qsgd.carleman.monomials` keeps one
coordinate per :math:`u_iu_j`, :math:`i\le j`. With the expansion :math:`E` (:math:`n^2\times
\binom{n+1}{2}`, a one at :math:`(in+j, m)` and :math:`(jn+i, m)` for the monomial :math:`m =
(i, j)`) and the selection :math:`P` of the Kronecker rows :math:`in+j`, :math:`i\le j`, the
symmetric matrix is exactly :math:`C_{\rm sym} = PC E` (on the level-2 coordinates;
identity on level 1) and :math:`b_{\rm sym} = Pb`: row :math:`(i, j)` of :math:`C` writes
:math:`(u_{t+1})_i(u_{t+1})_j` over all ordered products :math:`u_ku_l`, and :math:`E` adds
the coefficients of :math:`u_ku_l` and :math:`u_lu_k` into the one monomial. The same holds
for the lift: ``lift(u, basis="symmetric")`` is :math:`P` applied to the Kronecker lift. So the
symmetric operator costs the Kronecker one plus :math:`O(n^2)` index operations.

**Eq. 6.** The T-step system :math:`L = I - S_T\otimes C - S_p\otimes I` of
:func:`qsgd.history.history_system` is block lower bidiagonal with identity diagonal blocks;
:class:`HistoryOperator` applies it and its transpose block by block (batching the T blocks
into one product by :math:`C`), and solves it by forward substitution,
:math:`\hat y(0) = \text{rhs}_0`, :math:`\hat y(t) = \text{rhs}_t + C\hat y(t-1)`
(:math:`+\hat y(t-1)` on the padding rows), and its transpose by back substitution.

Symbols: ``n`` the state dimension, ``N = order``, ``D`` the lifted dimension, ``T = steps``,
``p = padding``.

References
----------
.. [1] J. Liu, M. Liu, J.-P. Liu, Z. Ye, Y. Wang, Y. Alexeev, J. Eisert, L. Jiang,
   "Towards provably efficient quantum algorithms for large-scale machine-learning models",
   Nat. Commun. 15, 434 (2024), Eqs. 4-6.

Used in chapter 8.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from qsgd._validation import (
    as_coefficients,
    as_matrix,
    as_vector,
    check_choice,
    check_int,
    check_memory,
    describe,
    estimate_bytes,
)
from qsgd.carleman import BASES, DEFAULT_BASIS, monomials

__all__ = [
    "OPERATOR_ORDERS",
    "CarlemanOperator",
    "carleman_operator",
    "HistoryOperator",
    "history_operator",
]

#: truncation orders N that :func:`carleman_operator` applies in O(n^3) per product
OPERATOR_ORDERS = (1, 2)

#: a coefficient is stored dense when at least this fraction of its entries is non-zero
_DENSE_FRACTION = 0.5


def _stored(mat: sp.csr_array):
    """``mat`` as a dense ndarray when that is smaller and faster, else as it is (CSR)."""
    size = float(mat.shape[0]) * float(mat.shape[1])
    if mat.nnz >= _DENSE_FRACTION * size:
        return mat.toarray()
    return mat


def _nbytes(mat) -> int:
    if mat is None:
        return 0
    if sp.issparse(mat):
        return int(mat.data.nbytes + mat.indices.nbytes + mat.indptr.nbytes)
    return int(mat.nbytes)


def _left(mat, X: np.ndarray) -> np.ndarray:
    """``mat @ X`` for a dense or sparse ``mat`` and a dense 2-D ``X``, as an ndarray."""
    return np.asarray(mat @ X)


def _two_sided(M, X: np.ndarray) -> np.ndarray:
    r"""``M X_c M^T`` for each slice ``X[:, :, c]`` of ``X`` (n, n, k), as an (n, n, k) array."""
    n, _, k = X.shape
    A = _left(M, X.reshape(n, n * k)).reshape(n, n, k)  # (M X)[i, j, c]
    B = _left(M, np.ascontiguousarray(A.transpose(1, 0, 2)).reshape(n, n * k)).reshape(n, n, k)
    return B.transpose(1, 0, 2)  # [i, l, c] = sum_j (M X)[i, j] M[l, j]


@dataclass(frozen=True, eq=False)
class CarlemanOperator:
    r"""The truncated discrete Carleman map :math:`y\mapsto Cy` as products only.

    Made by :func:`carleman_operator`; it equals ``discrete_carleman(F, order=order,
    basis=basis)`` without storing :math:`C` (module docstring for the formulas).

    Attributes
    ----------
    n : int
        State dimension.
    order : int
        Truncation order N (1 or 2).
    basis : {"kronecker", "symmetric"}
        Basis of the lifted space.
    shape : tuple of int
        ``(D, D)``, D the lifted dimension.
    b : ndarray, shape (D,)
        The constant part, as :func:`qsgd.carleman.discrete_carleman` returns it:
        :math:`[F_0;\ F_0\otimes F_0]` at N = 2 (its monomials in the symmetric basis).
    F0 : ndarray, shape (n,)
    M1 : ndarray or scipy.sparse.csr_array, shape (n, n)
        :math:`I + F_1` (dense unless it is sparse).
    F2 : ndarray, scipy.sparse.csr_array or None, shape (n, n**2)
        The quadratic coefficient (dense unless it is sparse); ``None`` at N = 1, where it
        does not enter.
    memory_bytes : int
        Bytes of the stored arrays: :math:`O(n^2 + \mathrm{nnz}(F_2))`, at most :math:`O(n^3)`.
        A product allocates a few lifted vectors more.
    """

    n: int
    order: int
    basis: str
    shape: tuple
    b: np.ndarray = field(repr=False)
    F0: np.ndarray = field(repr=False)
    M1: object = field(repr=False)
    F2: object = field(repr=False)
    memory_bytes: int
    _expand: object = field(default=None, repr=False)  # E: monomials -> Kronecker level 2
    _select: object = field(default=None, repr=False)  # P: Kronecker rows i*n + j, i <= j

    # ------------------------------------------------------------------ Kronecker kernels

    def _forward_kron(self, Y1: np.ndarray, Y2: np.ndarray | None):
        """(C Y)_1 and (C Y)_2 on the Kronecker coordinates; Y1 (n, k), Y2 (n^2, k)."""
        v = _left(self.M1, Y1)
        if self.order == 1:
            return v, None
        n, k = self.n, Y1.shape[1]
        v = v + _left(self.F2, Y2)
        out2 = _two_sided(self.M1, Y2.reshape(n, n, k))
        out2 = out2 + self.F0[:, None, None] * v[None, :, :] + v[:, None, :] * self.F0[None, :, None]
        return v, out2.reshape(n * n, k)

    def _adjoint_kron(self, R1: np.ndarray, R2: np.ndarray | None):
        """(C^T R)_1 and (C^T R)_2 on the Kronecker coordinates."""
        if self.order == 1:
            return _left(self.M1.T, R1), None
        n, k = self.n, R1.shape[1]
        R = R2.reshape(n, n, k)
        w = R1 + np.einsum("ijc,j->ic", R, self.F0) + np.einsum("jic,j->ic", R, self.F0)
        out2 = _two_sided(self.M1.T, R).reshape(n * n, k) + _left(self.F2.T, w)
        return _left(self.M1.T, w), out2

    # ------------------------------------------------------------------ products

    def _apply(self, Y: np.ndarray, adjoint: bool) -> np.ndarray:
        n = self.n
        Y1, Y2 = Y[:n], (Y[n:] if self.order == 2 else None)
        if self.basis == "symmetric" and Y2 is not None:
            if adjoint:  # P^T: scatter the monomial rows to their Kronecker rows i*n + j, i <= j
                full = np.zeros((n * n, Y.shape[1]))
                full[self._select] = Y2
                Y2 = full
            else:  # E: every ordered product u_k u_l reads its monomial
                Y2 = _left(self._expand, Y2)
        out1, out2 = (self._adjoint_kron if adjoint else self._forward_kron)(Y1, Y2)
        if out2 is None:
            return out1
        if self.basis == "symmetric":
            out2 = _left(self._expand.T, out2) if adjoint else out2[self._select]
        return np.concatenate([out1, out2], axis=0)

    def _vector(self, y, name: str, func: str) -> np.ndarray:
        return as_vector(y, name, func=func, size=self.shape[0])

    def _block(self, Y, name: str, func: str) -> np.ndarray:
        Y = as_matrix(Y, name, func=func, shape=(self.shape[0], None), sparse=False)
        return np.ascontiguousarray(Y)

    def matvec(self, y) -> np.ndarray:
        r""":math:`Cy` for a lifted vector ``y`` of length D (module docstring for the formulas).

        Raises
        ------
        ValueError
            ``y`` of another length, not 1-D, or with non-finite entries.
        """
        y = self._vector(y, "y", "CarlemanOperator.matvec")
        return self._apply(y[:, None], adjoint=False)[:, 0]

    def rmatvec(self, y) -> np.ndarray:
        r""":math:`C^Ty` for a lifted vector ``y`` of length D.

        Raises
        ------
        ValueError
            As :meth:`matvec`.
        """
        y = self._vector(y, "y", "CarlemanOperator.rmatvec")
        return self._apply(y[:, None], adjoint=True)[:, 0]

    def matmat(self, Y) -> np.ndarray:
        r""":math:`CY` for a (D, k) array: the k products share one pass over :math:`F_2`."""
        return self._apply(self._block(Y, "Y", "CarlemanOperator.matmat"), adjoint=False)

    def rmatmat(self, Y) -> np.ndarray:
        r""":math:`C^TY` for a (D, k) array."""
        return self._apply(self._block(Y, "Y", "CarlemanOperator.rmatmat"), adjoint=True)

    def aslinearoperator(self) -> LinearOperator:
        """The map as a ``scipy.sparse.linalg.LinearOperator`` (float64, with its transpose)."""
        return LinearOperator(self.shape, matvec=self.matvec, rmatvec=self.rmatvec, matmat=self.matmat,
                              rmatmat=self.rmatmat, dtype=np.float64)


def carleman_operator(F, *, order=2, basis=DEFAULT_BASIS, max_bytes=None) -> CarlemanOperator:
    r"""The truncated discrete Carleman map of :math:`u\mapsto u + F_0 + F_1u + F_2u^{\otimes2}`, matrix-free.

    Returns the operator :math:`y\mapsto Cy` (and :math:`C^T`) of
    ``discrete_carleman(F, order=order, basis=basis)`` (Eq. 5 of [1]_, with the same
    truncation: the columns of levels above N dropped) without assembling :math:`C`. At
    :math:`N = 2`, with :math:`M_1 = I + F_1`, :math:`X` the row-major reshape of the level-2
    part :math:`y_2` and :math:`v = M_1y_1 + F_2y_2`,

    .. math::

        C = \begin{bmatrix} M_1 & F_2\\ M_1\otimes F_0 + F_0\otimes M_1 &
        M_1\otimes M_1 + F_0\otimes F_2 + F_2\otimes F_0\end{bmatrix},\qquad
        Cy = \begin{bmatrix} v\\ \mathrm{vec}_r(F_0v^T + vF_0^T + M_1XM_1^T)\end{bmatrix},

    by :math:`(A\otimes B)\,\mathrm{vec}_r(X) = \mathrm{vec}_r(AXB^T)` in the package's
    ``np.kron`` order; :math:`C^T` follows from the same identity (module docstring). A product
    costs :math:`O(n^3)` for dense coefficients (:math:`O(n\,\mathrm{nnz}(M_1) + \mathrm{nnz}(F_2))`
    for sparse ones) and the operator stores :math:`O(n^2 + \mathrm{nnz}(F_2))` numbers, never
    the :math:`n^4` entries of :math:`C_{2,2}`.

    Parameters
    ----------
    F : sequence ``[F0, F1]``, ``[F0, F1, F2]`` or ``[F0, F1, F2, F3]``, or a PolynomialMap
        As for :func:`qsgd.carleman.discrete_carleman`: ``F0`` a length-n vector (or None),
        ``F1`` (n, n), ``F2`` (n, n**2) acting on ``np.kron(u, u)``, dense or sparse. A cubic
        ``F3`` is accepted and does not enter (at N <= 2 it reaches only the dropped columns).
    order : {1, 2}, default 2
        Truncation order N.
    basis : {"kronecker", "symmetric"}, default :data:`qsgd.carleman.DEFAULT_BASIS` ("kronecker")
        ``"symmetric"`` applies :math:`C_{\rm sym} = PCE` with the monomial expansion :math:`E`
        and the row selection :math:`P` of the module docstring: exactly the symmetric matrix
        of :func:`~qsgd.carleman.discrete_carleman`, at the cost of the Kronecker products.
    max_bytes : float, optional
        Refuse (``ValueError``) when the stored coefficients and a few lifted vectors would
        exceed this (default :data:`qsgd._validation.DEFAULT_MAX_BYTES`, 4 GiB).

    Returns
    -------
    CarlemanOperator

    Raises
    ------
    ValueError
        Bad shapes or non-finite entries of ``F``, ``order`` not 1 or 2, an unknown
        ``basis``, or an operator above ``max_bytes``; the message names the argument.

    Examples
    --------
    >>> import numpy as np
    >>> F = [np.array([0.1]), np.array([[-0.1]]), np.array([[0.05]])]
    >>> op = carleman_operator(F, order=2)
    >>> op.matvec([1.0, 0.0]), op.b
    (array([0.9 , 0.18]), array([0.1 , 0.01]))

    References
    ----------
    .. [1] J. Liu et al., Nat. Commun. 15, 434 (2024), Eqs. 4-5.

    Used in chapter 8.
    """
    func = "carleman_operator"
    order = check_int(order, "order", func=func)
    if order not in OPERATOR_ORDERS:
        raise ValueError(f"{func}: order must be 1 or 2 (the orders whose products stay O(n^3)), got {order}; "
                         "use qsgd.carleman.discrete_carleman for a higher order")
    basis = check_choice(basis, "basis", BASES, func=func)
    n, F0, mats = as_coefficients(F, func=func, name="F", max_degree=3)
    F1 = mats[0]
    F2 = (mats[1] if len(mats) > 1 else sp.csr_array((n, n * n))) if order == 2 else None
    # stored: M1 (dense at most), F2 (dense, or CSR at 12 bytes a non-zero), the index pair of the
    # symmetric basis, and the level-2 temporaries of one product (a few lifted vectors)
    f2_bytes = 0.0 if F2 is None else min(estimate_bytes(n, n, n), 12.0 * F2.nnz + 8.0 * n)
    check_memory(estimate_bytes(n, n) + f2_bytes + (8.0 * estimate_bytes(n, n) if order == 2 else 0.0),
                 what=f"the order-{order} Carleman operator of a state of dimension {n}",
                 max_bytes=max_bytes, func=func)
    M1 = _stored((sp.eye_array(n, format="csr") + F1).tocsr())
    if order == 1:
        return CarlemanOperator(n=n, order=1, basis=basis, shape=(n, n), b=F0.copy(), F0=F0, M1=M1, F2=None,
                                memory_bytes=int(2 * F0.nbytes + _nbytes(M1)))
    F2 = _stored(F2)
    b2 = np.outer(F0, F0).ravel()
    expand = select = None
    extra = 0
    if basis == "symmetric":
        mono = monomials(n, 2)
        select = mono[:, 0] * n + mono[:, 1]
        d2 = mono.shape[0]
        rows = np.concatenate([select, mono[:, 1] * n + mono[:, 0]])
        cols = np.concatenate([np.arange(d2), np.arange(d2)])
        off = mono[:, 0] != mono[:, 1]  # the diagonal u_i u_i appears once
        keep = np.concatenate([np.ones(d2, dtype=bool), off])
        expand = sp.csr_array((np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=(n * n, d2))
        b2 = b2[select]
        extra = _nbytes(expand) + int(select.nbytes)
    b = np.concatenate([F0, b2])
    D = b.shape[0]
    return CarlemanOperator(n=n, order=2, basis=basis, shape=(D, D), b=b, F0=F0, M1=M1, F2=F2,
                            memory_bytes=int(b.nbytes + F0.nbytes + _nbytes(M1) + _nbytes(F2) + extra),
                            _expand=expand, _select=select)


# ----------------------------------------------------------------------------------------
# the Eq. 6 system
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class HistoryOperator:
    r"""The Eq. 6 matrix :math:`L = I - S_T\otimes C - S_p\otimes I` as products and substitutions.

    Made by :func:`history_operator`; equal to the ``L`` of :func:`qsgd.history.history_system`
    for the same ``C``, ``steps`` and ``padding``.

    Attributes
    ----------
    carleman : CarlemanOperator
        The one-step map :math:`C`.
    steps : int
        T.
    padding : int
        p.
    shape : tuple of int
        ``((T+1+p) D, (T+1+p) D)``.
    """

    carleman: CarlemanOperator
    steps: int
    padding: int
    shape: tuple

    @property
    def blocks(self) -> int:
        """Number of time blocks, ``T + 1 + p``."""
        return self.steps + 1 + self.padding

    def _split(self, x, name: str, func: str) -> np.ndarray:
        x = as_vector(x, name, func=func, size=self.shape[0])
        return x.reshape(self.blocks, self.carleman.shape[0])

    def matvec(self, x) -> np.ndarray:
        r""":math:`Lx`: block :math:`t` is :math:`x_t - Cx_{t-1}` (:math:`1\le t\le T`),
        :math:`x_t - x_{t-1}` (padding) or :math:`x_0`.

        The T products by :math:`C` are one batched product (:meth:`CarlemanOperator.matmat`).

        Raises
        ------
        ValueError
            ``x`` of another length than ``shape[0]``, or non-finite.
        """
        X = self._split(x, "x", "HistoryOperator.matvec")
        T = self.steps
        out = X.copy()
        out[1 : T + 1] -= self.carleman._apply(np.ascontiguousarray(X[:T].T), adjoint=False).T
        out[T + 1 :] -= X[T : self.blocks - 1]
        return out.ravel()

    def rmatvec(self, x) -> np.ndarray:
        r""":math:`L^Tx`: block :math:`t` is :math:`x_t - C^Tx_{t+1}` (:math:`t < T`),
        :math:`x_t - x_{t+1}` (:math:`T\le t < T+p`) or :math:`x_{T+p}`.

        Raises
        ------
        ValueError
            As :meth:`matvec`.
        """
        X = self._split(x, "x", "HistoryOperator.rmatvec")
        T = self.steps
        out = X.copy()
        out[:T] -= self.carleman._apply(np.ascontiguousarray(X[1 : T + 1].T), adjoint=True).T
        out[T : self.blocks - 1] -= X[T + 1 :]
        return out.ravel()

    @staticmethod
    def _finite(Y: np.ndarray, func: str) -> np.ndarray:
        if not np.all(np.isfinite(Y)):
            bad = np.flatnonzero(~np.isfinite(Y))
            raise ValueError(f"{func}: the solution is not finite from entry {bad[0]} of {Y.shape[0]} on: the "
                             "recurrence overflows (a strongly divergent lifted map over many steps)")
        return Y

    def solve(self, rhs) -> np.ndarray:
        r""":math:`L^{-1}\text{rhs}` by forward substitution.

        :math:`Y_0 = \text{rhs}_0`, :math:`Y_t = \text{rhs}_t + CY_{t-1}` for :math:`t\le T` and
        :math:`Y_t = \text{rhs}_t + Y_{t-1}` on the padding rows: T products by :math:`C`, the
        same numbers as :func:`qsgd.history.solve_history` up to round-off.

        Raises
        ------
        ValueError
            ``rhs`` of another length or non-finite; a solution that overflows.
        """
        func = "HistoryOperator.solve"
        R = self._split(rhs, "rhs", func)
        C, T = self.carleman, self.steps
        Y = np.empty_like(R)
        Y[0] = R[0]
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(1, self.blocks):
                prev = C._apply(Y[t - 1][:, None], adjoint=False)[:, 0] if t <= T else Y[t - 1]
                Y[t] = R[t] + prev
        return self._finite(Y.ravel(), func)

    def solve_transpose(self, rhs) -> np.ndarray:
        r""":math:`L^{-T}\text{rhs}` by back substitution.

        :math:`Z_{T+p} = \text{rhs}_{T+p}`, :math:`Z_t = \text{rhs}_t + Z_{t+1}` for
        :math:`T\le t < T+p` and :math:`Z_t = \text{rhs}_t + C^TZ_{t+1}` for :math:`t < T`.

        Raises
        ------
        ValueError
            As :meth:`solve`.
        """
        func = "HistoryOperator.solve_transpose"
        R = self._split(rhs, "rhs", func)
        C, T = self.carleman, self.steps
        Z = np.empty_like(R)
        Z[-1] = R[-1]
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(self.blocks - 2, -1, -1):
                nxt = C._apply(Z[t + 1][:, None], adjoint=True)[:, 0] if t < T else Z[t + 1]
                Z[t] = R[t] + nxt
        return self._finite(Z.ravel(), func)

    def rhs(self, y0) -> np.ndarray:
        r"""The right-hand side :math:`[y_0;\ b;\ \dots;\ b;\ 0;\ \dots;\ 0]` of Eq. 6 (T copies
        of :math:`b`, p zero blocks), as :func:`qsgd.history.history_system` builds it.

        Parameters
        ----------
        y0 : array_like, shape (D,)
            :math:`\hat y_{\rm in}`, e.g. ``lift(u0, order=N, basis=basis)``.
        """
        C = self.carleman
        y0 = as_vector(y0, "y0", func="HistoryOperator.rhs", size=C.shape[0])
        return np.concatenate([y0, np.tile(C.b, self.steps), np.zeros(self.padding * C.shape[0])])

    def aslinearoperator(self) -> LinearOperator:
        """:math:`L` as a ``scipy.sparse.linalg.LinearOperator`` (float64, with its transpose)."""
        return LinearOperator(self.shape, matvec=self.matvec, rmatvec=self.rmatvec, dtype=np.float64)


def history_operator(carleman_op, steps, *, padding=0) -> HistoryOperator:
    r"""The T-step system of Eq. 6 of [1]_ for a matrix-free Carleman map.

    .. math::

        L = I_{(T+1+p)D} - S_T\otimes C - S_p\otimes I_D,

    with :math:`S_T` the ones at block positions :math:`(t, t-1)`, :math:`t = 1..T`, and
    :math:`S_p` at :math:`t = T+1..T+p` (padding rows that copy the last state), exactly as
    :func:`qsgd.history.history_system`; the right-hand side is :meth:`HistoryOperator.rhs`.
    :math:`L` is block lower bidiagonal with identity diagonal blocks, so
    :meth:`HistoryOperator.solve` is a forward substitution (T products by :math:`C`) and
    :meth:`HistoryOperator.solve_transpose` a back substitution (T products by :math:`C^T`).

    Parameters
    ----------
    carleman_op : CarlemanOperator
        The one-step map, from :func:`carleman_operator`.
    steps : int
        T >= 1.
    padding : int, optional
        p >= 0.

    Returns
    -------
    HistoryOperator

    Raises
    ------
    ValueError
        ``carleman_op`` not a :class:`CarlemanOperator`, ``steps < 1`` or ``padding < 0``.

    Examples
    --------
    >>> import numpy as np
    >>> op = carleman_operator([np.zeros(1), np.array([[-0.5]])], order=1)
    >>> L = history_operator(op, 2)
    >>> L.solve(L.rhs([1.0]))
    array([1.  , 0.5 , 0.25])

    References
    ----------
    .. [1] J. Liu et al., Nat. Commun. 15, 434 (2024), Eq. 6.

    Used in chapter 8.
    """
    func = "history_operator"
    if not isinstance(carleman_op, CarlemanOperator):
        raise ValueError(f"{func}: carleman_op must be a CarlemanOperator (from carleman_operator), got "
                         f"{describe(carleman_op)}")
    steps = check_int(steps, "steps", func=func, minimum=1)
    padding = check_int(padding, "padding", func=func, minimum=0)
    size = (steps + 1 + padding) * carleman_op.shape[0]
    return HistoryOperator(carleman=carleman_op, steps=steps, padding=padding, shape=(size, size))
