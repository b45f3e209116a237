"""Tests for qsgd.lifting_operators: the discrete Carleman map and the Eq. 6 system as products only."""

from __future__ import annotations

import dataclasses
import itertools
import types

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, spsolve

from qsgd.carleman import discrete_carleman, lift, lifted_dimension
from qsgd.lifting_operators import (
    OPERATOR_ORDERS,
    CarlemanOperator,
    HistoryOperator,
    carleman_operator,
    history_operator,
)
from qsgd.history import history_system, solve_history

RTOL = 1e-12

# --------------------------------------------------------------------------------------------
# the catalogue of maps: state dimension x dense/sparse coefficients x zero/non-zero F0
# --------------------------------------------------------------------------------------------


def random_map(n, *, sparse=False, forced=True, seed=0, scale=0.3):
    """[F0, F1, F2] with ||F_l|| of order `scale`; sparse ones keep about a third of the entries."""
    rng = np.random.default_rng(seed)
    F0 = scale * rng.standard_normal(n) / np.sqrt(n) if forced else np.zeros(n)
    if sparse:
        F1 = sp.random_array((n, n), density=0.35, rng=rng, data_sampler=rng.standard_normal, format="csr")
        F2 = sp.random_array((n, n * n), density=0.3, rng=rng, data_sampler=rng.standard_normal, format="csr")
        return [F0, scale * F1 / np.sqrt(n), scale * F2 / n]
    return [F0, scale * rng.standard_normal((n, n)) / np.sqrt(n), scale * rng.standard_normal((n, n * n)) / n]


def dense_c(F0, F1, F2):
    """The order-2 Kronecker lift written out from its block formulas (independent of discrete_carleman)."""
    n = F1.shape[0]
    B = np.eye(n) + F1
    f0 = F0.reshape(n, 1)
    C = np.block([[B, F2], [np.kron(B, f0) + np.kron(f0, B), np.kron(B, B) + np.kron(f0, F2) + np.kron(F2, f0)]])
    return C, np.concatenate([F0, np.kron(F0, F0)])


def as_dense(a):
    return a.toarray() if sp.issparse(a) else np.asarray(a)


def rel(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)


MAPS = {f"n{n}-{'sparse' if s else 'dense'}-{'forced' if f else 'F0=0'}": (n, s, f)
        for n, s, f in itertools.product((2, 3, 4, 6), (False, True), (True, False))}
SETTINGS = list(itertools.product(OPERATOR_ORDERS, ("kronecker", "symmetric")))


def case(name, seed=0):
    n, s, f = MAPS[name]
    return n, random_map(n, sparse=s, forced=f, seed=seed + 17 * n + 3 * s + f)


# --------------------------------------------------------------------------------------------
# the one-step map C
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("order,basis", SETTINGS)
@pytest.mark.parametrize("name", list(MAPS))
def test_products_equal_the_explicit_matrix(name, order, basis):
    """C y, C^T y, C Y, C^T Y and b equal discrete_carleman's C and b to 1e-12 relative."""
    n, F = case(name)
    C, b = discrete_carleman(F, order=order, basis=basis)
    C = C.toarray()
    op = carleman_operator(F, order=order, basis=basis)
    D = lifted_dimension(n, order, basis=basis)
    assert op.shape == C.shape == (D, D) and (op.n, op.order, op.basis) == (n, order, basis)
    np.testing.assert_allclose(op.b, b, rtol=RTOL, atol=0)
    rng = np.random.default_rng(1)
    Y = rng.standard_normal((D, 3))
    for k in range(3):
        assert rel(op.matvec(Y[:, k]), C @ Y[:, k]) < RTOL
        assert rel(op.rmatvec(Y[:, k]), C.T @ Y[:, k]) < RTOL
    assert rel(op.matmat(Y), C @ Y) < RTOL
    assert rel(op.rmatmat(Y), C.T @ Y) < RTOL


@pytest.mark.parametrize("sparse", [False, True])
def test_kronecker_order_2_equals_the_block_formulas(sparse):
    """An independent reference: the blocks (I+F1)(x)(I+F1) + F0(x)F2 + F2(x)F0 written out with np.kron."""
    F0, F1, F2 = random_map(4, sparse=sparse, seed=3)
    C, b = dense_c(F0, as_dense(F1), as_dense(F2))
    op = carleman_operator([F0, F1, F2], order=2)
    y = np.random.default_rng(2).standard_normal(C.shape[0])
    assert rel(op.matvec(y), C @ y) < RTOL and rel(op.rmatvec(y), C.T @ y) < RTOL
    np.testing.assert_allclose(op.b, b, rtol=RTOL, atol=0)


@pytest.mark.parametrize("order,basis", SETTINGS)
def test_the_lift_of_a_linear_map_is_exact(order, basis):
    """For q = 1 (no F2) nothing is truncated: C lift(u) + b = lift(u + F0 + F1 u)."""
    F0, F1, _ = random_map(3, seed=4)
    op = carleman_operator([F0, F1], order=order, basis=basis)
    u = np.random.default_rng(3).standard_normal(3)
    lhs = op.matvec(lift(u, order=order, basis=basis)) + op.b
    assert rel(lhs, lift(u + F0 + F1 @ u, order=order, basis=basis)) < RTOL


@pytest.mark.parametrize("basis", ["kronecker", "symmetric"])
def test_a_cubic_coefficient_does_not_enter_orders_1_and_2(basis):
    """F3 reaches only the columns above level 2, which discrete_carleman drops as well."""
    rng = np.random.default_rng(5)
    F = random_map(3, seed=5) + [0.1 * rng.standard_normal((3, 27))]
    for order in OPERATOR_ORDERS:
        C, b = discrete_carleman(F, order=order, basis=basis)
        op = carleman_operator(F, order=order, basis=basis)
        y = rng.standard_normal(C.shape[0])
        assert rel(op.matvec(y), C @ y) < RTOL and rel(op.rmatvec(y), C.T @ y) < RTOL
        np.testing.assert_allclose(op.b, b, rtol=RTOL, atol=0)


def test_an_object_carrying_coefficients_is_accepted():
    """A PolynomialMap is read by its .coefficients (duck-typed here, without torch)."""
    F = random_map(3, seed=6)
    pm = types.SimpleNamespace(coefficients=tuple(F))
    y = np.random.default_rng(6).standard_normal(12)
    np.testing.assert_array_equal(carleman_operator(pm).matvec(y), carleman_operator(F).matvec(y))


@pytest.mark.parametrize("basis", ["kronecker", "symmetric"])
def test_dense_and_sparse_coefficients_agree(basis):
    """Dense or sparse input, dense or sparse storage: the same products."""
    F0, F1, F2 = random_map(5, sparse=True, seed=7)
    a = carleman_operator([F0, F1, F2], basis=basis)
    d = carleman_operator([F0, F1.toarray(), F2.toarray()], basis=basis)
    assert sp.issparse(a.F2)  # a third of the entries: kept sparse
    assert isinstance(carleman_operator(random_map(5, seed=7)).F2, np.ndarray)  # full: stored dense
    y = np.random.default_rng(7).standard_normal(a.shape[0])
    ref = discrete_carleman([F0, F1, F2], order=2, basis=basis)[0]
    for op in (a, d, dataclasses.replace(a, M1=sp.csr_array(a.M1), F2=a.F2.toarray()),
               dataclasses.replace(a, M1=as_dense(a.M1))):
        assert rel(op.matvec(y), ref @ y) < RTOL and rel(op.rmatvec(y), ref.T @ y) < RTOL


@pytest.mark.parametrize("order,basis", SETTINGS)
def test_linear_operator_and_adjoint_identity(order, basis):
    """aslinearoperator applies C and C^T, and <C x, y> = <x, C^T y>."""
    F = random_map(4, seed=8)
    op = carleman_operator(F, order=order, basis=basis)
    lin = op.aslinearoperator()
    assert isinstance(lin, LinearOperator) and lin.shape == op.shape and lin.dtype == np.float64
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal(op.shape[0]), rng.standard_normal(op.shape[0])
    np.testing.assert_allclose(lin @ x, op.matvec(x), rtol=RTOL)
    np.testing.assert_allclose(lin.T @ y, op.rmatvec(y), rtol=RTOL)
    np.testing.assert_allclose(lin @ np.stack([x, y], axis=1), op.matmat(np.stack([x, y], axis=1)), rtol=RTOL)
    lhs, rhs = op.matvec(x) @ y, x @ op.rmatvec(y)
    assert abs(lhs - rhs) <= RTOL * np.linalg.norm(op.matvec(x)) * np.linalg.norm(y)


def test_the_operator_is_a_frozen_dataclass():
    op = carleman_operator(random_map(2, seed=9))
    assert isinstance(op, CarlemanOperator)
    with pytest.raises(AttributeError):
        op.order = 1


# --------------------------------------------------------------------------------------------
# the Eq. 6 system L
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("padding", [0, 2])
@pytest.mark.parametrize("order,basis", SETTINGS)
@pytest.mark.parametrize("name", ["n2-dense-forced", "n3-sparse-F0=0", "n4-sparse-forced", "n6-dense-F0=0"])
def test_history_operator_equals_history_system(name, order, basis, padding):
    """L x, L^T x, rhs, L^{-1} rhs and L^{-T} x equal history_system, solve_history and spsolve."""
    n, F = case(name, seed=1)
    C, b = discrete_carleman(F, order=order, basis=basis)
    steps = 4
    rng = np.random.default_rng(10)
    y0 = lift(0.3 * rng.standard_normal(n), order=order, basis=basis)
    L, rhs = history_system(C, b, y0, steps, padding=padding)
    H = history_operator(carleman_operator(F, order=order, basis=basis), steps, padding=padding)
    assert isinstance(H, HistoryOperator) and H.shape == L.shape and H.blocks == steps + 1 + padding
    np.testing.assert_allclose(H.rhs(y0), rhs, rtol=RTOL, atol=0)
    x = rng.standard_normal(L.shape[0])
    assert rel(H.matvec(x), L @ x) < RTOL
    assert rel(H.rmatvec(x), L.T @ x) < RTOL
    assert rel(H.solve(rhs), solve_history(L, rhs)) < RTOL
    assert rel(H.solve(x), spsolve(sp.csc_array(L), x)) < RTOL
    assert rel(H.solve_transpose(x), spsolve(sp.csc_array(L.T), x)) < RTOL
    lin = H.aslinearoperator()
    np.testing.assert_allclose(lin @ x, L @ x, rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(lin.T @ x, L.T @ x, rtol=RTOL, atol=1e-14)


def test_history_solve_is_the_recurrence_of_the_map():
    """For a linear map (nothing truncated) the solution's first level is the GD-like iteration itself."""
    F0, F1, _ = random_map(3, seed=11)
    steps, padding = 5, 2
    H = history_operator(carleman_operator([F0, F1], order=2), steps, padding=padding)
    u = np.zeros((steps + 1, 3))
    u[0] = [0.1, -0.2, 0.3]
    for t in range(steps):
        u[t + 1] = u[t] + F0 + F1 @ u[t]
    Y = H.solve(H.rhs(lift(u[0], order=2))).reshape(H.blocks, -1)
    np.testing.assert_allclose(Y[: steps + 1, :3], u, rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(Y[steps + 1:, :3], np.tile(u[-1], (padding, 1)), rtol=RTOL)


@pytest.mark.parametrize("basis", ["kronecker", "symmetric"])
def test_medium_case_adjoint_identity_and_solve_residuals(basis):
    """n = 60 (C_22 would hold 13 million entries): adjoint identity, exact columns and rows of C, residuals."""
    n, steps, padding = 60, 10, 2
    F0, F1, F2 = random_map(n, seed=12)
    op = carleman_operator([F0, F1, F2], order=2, basis=basis)
    # stored memory is O(n^3): F2 dense, n^2-sized M1, b and the index pair; never the n^4 of C_22
    assert op.memory_bytes <= 8 * n**3 + 64 * n**2 + 64 * n
    H = history_operator(op, steps, padding=padding)
    rng = np.random.default_rng(12)
    x, y = rng.standard_normal(H.shape[0]), rng.standard_normal(H.shape[0])
    Lx = H.matvec(x)
    assert abs(Lx @ y - x @ H.rmatvec(y)) <= RTOL * np.linalg.norm(Lx) * np.linalg.norm(y)
    rhs = H.rhs(lift(0.5 * rng.standard_normal(n) / np.sqrt(n), order=2, basis=basis))
    Y = H.solve(rhs)
    assert np.linalg.norm(H.matvec(Y) - rhs) / np.linalg.norm(rhs) < RTOL
    Z = H.solve_transpose(x)
    assert np.linalg.norm(H.rmatvec(Z) - x) / np.linalg.norm(x) < RTOL
    if basis == "kronecker":
        # columns and rows of C from the block formulas, one entry of each level at a time
        B = np.eye(n) + F1
        e = np.zeros(op.shape[0])
        for j in (0, n - 1):  # level-1 columns: [B e_j; B e_j (x) F0 + F0 (x) B e_j]
            e[:] = 0.0
            e[j] = 1.0
            col = np.concatenate([B[:, j], np.kron(B[:, j], F0) + np.kron(F0, B[:, j])])
            assert rel(op.matvec(e), col) < RTOL
        for k, l in ((0, 0), (3, 41), (59, 7)):  # level-2 column (k, l)
            c = k * n + l
            e[:] = 0.0
            e[n + c] = 1.0
            col = np.concatenate([F2[:, c], np.kron(B[:, k], B[:, l]) + np.kron(F0, F2[:, c]) + np.kron(F2[:, c], F0)])
            assert rel(op.matvec(e), col) < RTOL
        for i, l in ((0, 0), (12, 50)):  # level-2 row (i, l)
            e[:] = 0.0
            e[n + i * n + l] = 1.0
            row = np.concatenate([B[i] * F0[l] + F0[i] * B[l],
                                  np.kron(B[i], B[l]) + F0[i] * F2[l] + F2[i] * F0[l]])
            assert rel(op.rmatvec(e), row) < RTOL


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------

_F = random_map(2, seed=13)
_OP = carleman_operator(_F)
_H = history_operator(_OP, 2, padding=1)


def _with(i, value):
    F = list(_F)
    F[i] = value
    return F


BAD_INPUT = {
    "F0 wrong length": (lambda: carleman_operator(_with(0, np.ones(3))), ["carleman_operator", "F[0]", "length 2"]),
    "F1 not square": (lambda: carleman_operator(_with(1, np.ones((2, 3)))), ["carleman_operator", "F[1]", "square"]),
    "F2 wrong shape": (lambda: carleman_operator(_with(2, np.ones((2, 3)))),
                       ["carleman_operator", "F[2]", "shape (2, 4)"]),
    "F1 nan": (lambda: carleman_operator(_with(1, np.array([[np.nan, 0], [0, 1]]))),
               ["carleman_operator", "F[1]", "non-finite"]),
    "F2 inf": (lambda: carleman_operator(_with(2, np.full((2, 4), np.inf))),
               ["carleman_operator", "F[2]", "non-finite"]),
    "F0 nan": (lambda: carleman_operator(_with(0, [np.nan, 0.0])), ["carleman_operator", "F[0]", "non-finite"]),
    "F a matrix": (lambda: carleman_operator(np.eye(2)), ["carleman_operator", "F must be a list"]),
    "order 3": (lambda: carleman_operator(_F, order=3), ["carleman_operator", "order", "1 or 2", "got 3"]),
    "order 0": (lambda: carleman_operator(_F, order=0), ["carleman_operator", "order", "got 0"]),
    "order string": (lambda: carleman_operator(_F, order="2"), ["carleman_operator", "order", "integer", "'2'"]),
    "basis unknown": (lambda: carleman_operator(_F, basis="monomial"), ["carleman_operator", "basis", "'monomial'"]),
    "max_bytes too small": (lambda: carleman_operator(_F, max_bytes=16), ["carleman_operator", "max_bytes"]),
    "matvec wrong length": (lambda: _OP.matvec(np.ones(5)), ["CarlemanOperator.matvec", "y", "length 6", "got 5"]),
    "matvec nan": (lambda: _OP.matvec([1, 2, 3, 4, 5, np.nan]), ["CarlemanOperator.matvec", "y", "non-finite"]),
    "rmatvec wrong length": (lambda: _OP.rmatvec(np.ones(7)), ["CarlemanOperator.rmatvec", "y", "length 6"]),
    "matmat wrong rows": (lambda: _OP.matmat(np.ones((5, 2))), ["CarlemanOperator.matmat", "Y", "shape (6, *)"]),
    "rmatmat inf": (lambda: _OP.rmatmat(np.full((6, 2), np.inf)), ["CarlemanOperator.rmatmat", "Y", "non-finite"]),
    "history not an operator": (lambda: history_operator(np.eye(6), 2),
                                ["history_operator", "carleman_op", "CarlemanOperator", "ndarray"]),
    "steps 0": (lambda: history_operator(_OP, 0), ["history_operator", "steps", ">= 1", "got 0"]),
    "steps float": (lambda: history_operator(_OP, 2.0), ["history_operator", "steps", "integer", "2.0"]),
    "padding negative": (lambda: history_operator(_OP, 2, padding=-1), ["history_operator", "padding", ">= 0", "-1"]),
    "L matvec wrong length": (lambda: _H.matvec(np.ones(6)), ["HistoryOperator.matvec", "x", "length 24", "got 6"]),
    "L rmatvec nan": (lambda: _H.rmatvec(np.full(24, np.nan)), ["HistoryOperator.rmatvec", "x", "non-finite"]),
    "solve wrong length": (lambda: _H.solve(np.ones(25)), ["HistoryOperator.solve", "rhs", "length 24"]),
    "solve_transpose 2-D": (lambda: _H.solve_transpose(np.ones((4, 6))),
                            ["HistoryOperator.solve_transpose", "rhs", "1-D"]),
    "rhs wrong y0": (lambda: _H.rhs(np.ones(2)), ["HistoryOperator.rhs", "y0", "length 6", "got 2"]),
    "solve overflows": (lambda: history_operator(carleman_operator([None, [[1e200]]], order=1), 3).solve(np.ones(4)),
                        ["HistoryOperator.solve", "not finite"]),
    "solve_transpose overflows": (lambda: history_operator(carleman_operator([None, [[1e200]]], order=1), 3)
                                  .solve_transpose(np.ones(4)), ["HistoryOperator.solve_transpose", "not finite"]),
}


@pytest.mark.parametrize("name", list(BAD_INPUT))
def test_bad_input_catalogue(name, refuses):
    call, words = BAD_INPUT[name]
    refuses(call, ValueError, words)
