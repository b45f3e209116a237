"""Tests for qsgd.carleman: lifting, continuous and discrete Carleman matrices, bases, bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from qsgd.carleman import (
    BASES,
    carleman_matrix,
    discrete_carleman,
    homogeneous_bound,
    lemma1_bound,
    level_slices,
    lift,
    lifted_dimension,
    monomials,
    solve_carleman,
)
from qsgd.ode import burgers, solve_reference


# ---------------------------------------------------------------------------- helpers


def kron_power(u, ell):
    out = np.ones(1)
    for _ in range(ell):
        out = np.kron(out, u)
    return out


def poly_step(F, u):
    """u + sum_l F_l u^(x)l, the map that discrete_carleman lifts."""
    return u + F[0] + sum(F[ell] @ kron_power(u, ell) for ell in range(1, len(F)))


def random_map(rng, n, q, scale=0.3, with_f0=True):
    F = [scale * rng.standard_normal(n) if with_f0 else np.zeros(n)]
    F += [scale * rng.standard_normal((n, n**ell)) / n ** (ell / 2) for ell in range(1, q + 1)]
    return F


def sym_selection(n, order):
    """(S, P): S picks the sorted-tuple entry of each Kronecker level, P expands monomials back."""
    rows_s, cols_s, rows_p, cols_p = [], [], [], []
    off_k = off_s = 0
    for j in range(1, order + 1):
        mono = monomials(n, j)
        lookup = {tuple(m): r for r, m in enumerate(mono)}
        kron_idx = np.ravel_multi_index(mono.T, (n,) * j) if j > 0 else np.zeros(1, int)
        rows_s += list(off_s + np.arange(mono.shape[0]))
        cols_s += list(off_k + kron_idx)
        for flat in range(n**j):
            tup = tuple(sorted(np.unravel_index(flat, (n,) * j)))
            rows_p.append(off_k + flat)
            cols_p.append(off_s + lookup[tup])
        off_k += n**j
        off_s += mono.shape[0]
    S = sp.csr_array((np.ones(len(rows_s)), (rows_s, cols_s)), shape=(off_s, off_k))
    P = sp.csr_array((np.ones(len(rows_p)), (rows_p, cols_p)), shape=(off_k, off_s))
    return S, P


def logistic_exact(a, b, u0, t):
    """du/dt = -a u + b u^2 in closed form."""
    e = np.exp(-a * t)
    return a * u0 * e / (a - b * u0 * (1 - e))


# ---------------------------------------------------------------------------- dimensions, lift


@pytest.mark.parametrize(
    "n, order, kron, sym",
    [(16, 4, 69904, 4844), (2, 3, 14, 9), (1, 5, 5, 5), (5, 2, 30, 20)],
)
def test_lifted_dimension_known_values(n, order, kron, sym):
    # the PNAS Burgers case (16, 4) -> 69,904 unknowns (PNAS Fig. 1)
    assert lifted_dimension(n, order) == kron
    assert lifted_dimension(n, order, basis="symmetric") == sym
    assert lifted_dimension(n, order, basis="symmetric") == math.comb(n + order, order) - 1


@pytest.mark.parametrize("basis", BASES)
def test_level_slices_tile_the_lifted_vector(basis):
    sl = level_slices(4, 3, basis=basis)
    assert sl[0] == slice(0, 4)
    assert sl[-1].stop == lifted_dimension(4, 3, basis=basis)
    for a, b in zip(sl, sl[1:]):
        assert a.stop == b.start


@pytest.mark.parametrize("n, j", [(1, 3), (3, 3), (5, 4), (7, 2), (4, 0)])
def test_monomials_sorted_lexicographic_complete(n, j):
    mono = monomials(n, j)
    assert mono.shape == (math.comb(n + j - 1, j), j)
    assert np.all(np.diff(mono, axis=1) >= 0)
    as_tuples = [tuple(r) for r in mono]
    assert as_tuples == sorted(set(as_tuples))


def test_lift_examples():
    np.testing.assert_array_equal(lift([1.0, 2.0], order=2), [1, 2, 1, 2, 2, 4])
    np.testing.assert_array_equal(lift([1.0, 2.0], order=2, basis="symmetric"), [1, 2, 1, 2, 4])
    np.testing.assert_array_equal(lift([3.0], order=3), [3, 9, 27])


def test_lift_symmetric_is_a_selection_of_kronecker():
    rng = np.random.default_rng(11)
    n, order = 3, 4
    S, P = sym_selection(n, order)
    u = rng.standard_normal(n)
    yk = lift(u, order=order)
    ys = lift(u, order=order, basis="symmetric")
    np.testing.assert_allclose(S @ yk, ys, rtol=1e-14, atol=0)
    np.testing.assert_allclose(P @ ys, yk, rtol=1e-14, atol=0)


# ---------------------------------------------------------------------------- discrete lifting


@pytest.mark.parametrize("basis", BASES)
@pytest.mark.parametrize("q", [1, 2, 3])
def test_discrete_lift_exact_on_untruncated_levels(basis, q):
    # row block j reaches column blocks up to q*j, so levels j <= N // q are exact for any u
    rng = np.random.default_rng(100 + q)
    n, order = 3, 4
    F = random_map(rng, n, q)
    C, b = discrete_carleman(F, order=order, basis=basis)
    u = rng.standard_normal(n)
    lhs = lift(poly_step(F, u), order=order, basis=basis)
    rhs = C @ lift(u, order=order, basis=basis) + b
    for j, sl in enumerate(level_slices(n, order, basis=basis), start=1):
        if j <= order // q:
            np.testing.assert_allclose(rhs[sl], lhs[sl], rtol=1e-12, atol=1e-12)
    if q == 2:  # level 3 needs u^(x)6: a real truncation error of order |u|^5
        sl = level_slices(n, order, basis=basis)[2]
        assert np.max(np.abs(rhs[sl] - lhs[sl])) > 1e-6


@pytest.mark.parametrize("basis", BASES)
@pytest.mark.parametrize("q", [2, 3])
def test_discrete_lift_small_u_truncation_is_high_order(basis, q):
    rng = np.random.default_rng(200 + q)
    n, order = 3, 3
    F = random_map(rng, n, q, with_f0=False)
    u = 1e-3 * rng.standard_normal(n)
    C, b = discrete_carleman(F, order=order, basis=basis)
    err = C @ lift(u, order=order, basis=basis) + b - lift(poly_step(F, u), order=order, basis=basis)
    # dropped terms carry at least u^(x)(N+1) ~ 1e-12
    assert np.max(np.abs(err)) < 1e-10


def test_discrete_blocks_q2_match_closed_form():
    # sum over words w in {0,1,2}^2 with |w| = k: C11 = B, C12 = F2, C21 = B(x)F0 + F0(x)B,
    # C22 = B(x)B + F0(x)F2 + F2(x)F0 (just B(x)B when F0 = 0), C23 = B(x)F2 + F2(x)B,
    # C24 = F2(x)F2, b2 = F0(x)F0
    rng = np.random.default_rng(3)
    n, order = 2, 4
    F0, F1, F2 = rng.standard_normal(n), rng.standard_normal((n, n)), rng.standard_normal((n, n * n))
    C, b = discrete_carleman([F0, F1, F2], order=order)
    C = C.toarray()
    sl = level_slices(n, order)
    B = np.eye(n) + F1
    f0 = F0.reshape(n, 1)
    np.testing.assert_allclose(C[sl[0], sl[0]], B, atol=1e-14)
    np.testing.assert_allclose(C[sl[0], sl[1]], F2, atol=1e-14)
    np.testing.assert_allclose(C[sl[1], sl[0]], np.kron(B, f0) + np.kron(f0, B), atol=1e-13)
    np.testing.assert_allclose(C[sl[1], sl[1]], np.kron(B, B) + np.kron(f0, F2) + np.kron(F2, f0), atol=1e-13)
    np.testing.assert_allclose(C[sl[1], sl[2]], np.kron(B, F2) + np.kron(F2, B), atol=1e-13)
    np.testing.assert_allclose(C[sl[1], sl[3]], np.kron(F2, F2), atol=1e-13)
    np.testing.assert_allclose(b[sl[1]], np.kron(F0, F0), atol=1e-14)
    np.testing.assert_allclose(b[sl[2]], kron_power(F0, 3), atol=1e-14)


@pytest.mark.parametrize("eta", [1e-1, 1e-2, 1e-3])
def test_claim5_discrete_block22_minus_euler_is_F1_kron_F1(eta):
    # claim 5: discrete B(x)B vs continuous Euler I + (F1(x)I + I(x)F1) at h = 1
    rng = np.random.default_rng(5)
    n = 3
    H = rng.standard_normal((n, n))
    H = H @ H.T
    F1 = -eta * H
    F2 = -eta * rng.standard_normal((n, n * n))
    C, _ = discrete_carleman([np.zeros(n), F1, F2], order=2)
    A, _ = carleman_matrix([None, F1, F2], order=2)
    sl = level_slices(n, 2)
    diff = (C - (sp.eye_array(C.shape[0]) + A)).toarray()[sl[1], sl[1]]
    np.testing.assert_allclose(diff, np.kron(F1, F1), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(diff, eta**2 * np.kron(H, H), rtol=1e-10, atol=1e-15)


def test_claim5_loglog_slope_two():
    rng = np.random.default_rng(6)
    n = 3
    H = rng.standard_normal((n, n))
    etas = np.array([1e-1, 1e-2, 1e-3])
    norms = []
    for eta in etas:
        C, _ = discrete_carleman([np.zeros(n), -eta * H], order=2)
        A, _ = carleman_matrix([None, -eta * H], order=2)
        sl = level_slices(n, 2)
        norms.append(np.linalg.norm((C - sp.eye_array(C.shape[0]) - A).toarray()[sl[1], sl[1]]))
    slope = np.polyfit(np.log(etas), np.log(norms), 1)[0]
    np.testing.assert_allclose(slope, 2.0, atol=1e-6)


@pytest.mark.parametrize("q", [1, 2, 3])
def test_discrete_symmetric_equals_projected_kronecker(q):
    rng = np.random.default_rng(300 + q)
    n, order = 3, 3
    F = random_map(rng, n, q)
    Ck, bk = discrete_carleman(F, order=order)
    Cs, bs = discrete_carleman(F, order=order, basis="symmetric")
    S, P = sym_selection(n, order)
    np.testing.assert_allclose((S @ Ck @ P).toarray(), Cs.toarray(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(S @ bk, bs, rtol=1e-12, atol=1e-14)


def test_discrete_iterates_agree_between_bases():
    rng = np.random.default_rng(7)
    n, order, steps = 4, 3, 30
    F = [0.01 * rng.standard_normal(n), -0.1 * np.eye(n), 0.05 * rng.standard_normal((n, n * n))]
    u0 = 0.3 * rng.standard_normal(n)
    first = {}
    for basis in BASES:
        C, b = discrete_carleman(F, order=order, basis=basis)
        y = lift(u0, order=order, basis=basis)
        for _ in range(steps):
            y = C @ y + b
        first[basis] = y[:n]
    np.testing.assert_allclose(first["symmetric"], first["kronecker"], rtol=0, atol=1e-10)


def test_discrete_dense_and_sparse_inputs_agree():
    rng = np.random.default_rng(8)
    F = random_map(rng, 3, 2)
    Cd, bd = discrete_carleman(F, order=3)
    Cs, bs = discrete_carleman([F[0], sp.csr_array(F[1]), sp.coo_array(F[2])], order=3)
    np.testing.assert_allclose(Cd.toarray(), Cs.toarray(), rtol=0, atol=0)
    np.testing.assert_array_equal(bd, bs)
    assert isinstance(Cd, sp.csr_array)


def test_discrete_quadratic_loss_is_linear_gd():
    # claim 4 in miniature: F2 = 0 and N = 1 reproduce gradient descent exactly
    rng = np.random.default_rng(9)
    n, eta = 4, 0.1
    H = rng.standard_normal((n, n))
    H = H @ H.T / n + np.eye(n)
    g = rng.standard_normal(n)
    C, b = discrete_carleman([eta * g, -eta * H], order=1)
    theta = rng.standard_normal(n)
    y = theta.copy()
    for _ in range(20):
        theta = theta - eta * (H @ theta - g)
        y = C @ y + b
    np.testing.assert_allclose(y, theta, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------- continuous Carleman


@pytest.mark.parametrize("basis", BASES)
def test_continuous_matrix_is_the_derivative_of_the_lift(basis):
    # d/dt u^(x)j = A_{j,j-1..j+1} lift(u) + b exactly for levels j < N
    rng = np.random.default_rng(12)
    n, order = 3, 4
    F0, F1, F2 = rng.standard_normal(n), rng.standard_normal((n, n)), rng.standard_normal((n, n * n))
    u = rng.standard_normal(n)
    du = F2 @ np.kron(u, u) + F1 @ u + F0
    A, b = carleman_matrix([F0, F1, F2], order=order, basis=basis)
    # exact derivative of each level: product rule on monomials / tensor powers
    levels = []
    for j in range(1, order + 1):
        if basis == "kronecker":
            d = sum(np.kron(np.kron(kron_power(u, i), du), kron_power(u, j - 1 - i)) for i in range(j))
        else:
            mono = monomials(n, j)
            d = sum(np.prod(np.delete(u[mono], p, axis=1), axis=1) * du[mono[:, p]] for p in range(j))
        levels.append(d)
    rhs = A @ lift(u, order=order, basis=basis) + b
    for j, sl in enumerate(level_slices(n, order, basis=basis), start=1):
        if j < order:
            np.testing.assert_allclose(rhs[sl], levels[j - 1], rtol=1e-12, atol=1e-12)


def test_continuous_symmetric_equals_projected_kronecker():
    rng = np.random.default_rng(13)
    n, order = 3, 3
    F0, F1, F2 = rng.standard_normal(n), rng.standard_normal((n, n)), rng.standard_normal((n, n * n))
    Ak, bk = carleman_matrix([F0, F1, F2], order=order)
    As, bs = carleman_matrix([F0, F1, F2], order=order, basis="symmetric")
    S, P = sym_selection(n, order)
    np.testing.assert_allclose((S @ Ak @ P).toarray(), As.toarray(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(S @ bk, bs, atol=0)


def test_continuous_dense_and_sparse_inputs_agree():
    rng = np.random.default_rng(14)
    n = 3
    F0, F1, F2 = rng.standard_normal(n), rng.standard_normal((n, n)), rng.standard_normal((n, n * n))
    for basis in BASES:
        Ad, bd = carleman_matrix([F0, F1, F2], order=3, basis=basis)
        As, bs = carleman_matrix([F0, sp.csr_array(F1), sp.csc_array(F2)], order=3, basis=basis)
        np.testing.assert_allclose(Ad.toarray(), As.toarray(), rtol=0, atol=0)
        np.testing.assert_array_equal(bd, bs)


def test_continuous_blocks_pnas_eq7():
    rng = np.random.default_rng(15)
    n = 2
    F0, F1, F2 = rng.standard_normal(n), rng.standard_normal((n, n)), rng.standard_normal((n, n * n))
    A, b = carleman_matrix([F0, F1, F2], order=3)
    A = A.toarray()
    sl = level_slices(n, 3)
    I = np.eye(n)
    f0 = F0.reshape(n, 1)
    np.testing.assert_allclose(A[sl[0], sl[0]], F1)
    np.testing.assert_allclose(A[sl[0], sl[1]], F2)
    np.testing.assert_allclose(A[sl[1], sl[0]], np.kron(f0, I) + np.kron(I, f0))
    np.testing.assert_allclose(A[sl[1], sl[1]], np.kron(F1, I) + np.kron(I, F1))
    np.testing.assert_allclose(A[sl[1], sl[2]], np.kron(F2, I) + np.kron(I, F2))
    np.testing.assert_allclose(A[sl[0], sl[2]], 0)
    np.testing.assert_allclose(b, np.concatenate([F0, np.zeros(n**2 + n**3)]))


# ---------------------------------------------------------------------------- closed-form example


@pytest.mark.parametrize("basis", BASES)
def test_logistic_closed_form_and_bound(basis):
    # du/dt = -a u + b u^2, R = b u0 / a = 0.5: error <= u0 R^N (1 - e^{-a t})^N and falls with N
    a, bq, u0 = 1.0, 0.5, 1.0
    t = np.linspace(0, 4, 41)
    exact = logistic_exact(a, bq, u0, t)
    errors = []
    for order in range(1, 7):
        sol = solve_carleman([None, [[-a]], [[bq]]], [u0], t, order=order, basis=basis, method="expm")
        err = np.abs(sol.u[:, 0] - exact)
        bound = homogeneous_bound([None, [[-a]], [[bq]]], [u0], t, order=order)
        assert np.all(err <= bound * (1 + 1e-9) + 1e-13)
        errors.append(err.max())
    assert np.all(np.diff(errors) < 0)
    slope = np.polyfit(np.arange(1, 7), np.log(errors), 1)[0]
    assert slope <= np.log(0.5) + 1e-9


def test_logistic_euler_converges_to_expm():
    a, bq, u0 = 1.0, 0.4, 1.0
    errs = []
    for m in (101, 201, 401):
        t = np.linspace(0, 2, m)
        e = solve_carleman([None, [[-a]], [[bq]]], [u0], t, order=3, method="euler")
        x = solve_carleman([None, [[-a]], [[bq]]], [u0], t, order=3, method="expm")
        errs.append(np.abs(e.u - x.u).max())
    np.testing.assert_allclose(np.array(errs[:-1]) / np.array(errs[1:]), 2.0, rtol=0.05)


# ---------------------------------------------------------------------------- random stable systems


def random_stable_system(rng, n, R, forcing=0.0):
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = -rng.uniform(1.0, 3.0, n)
    lam[0] = -1.0
    F1 = Q @ np.diag(lam) @ Q.T
    F2 = rng.standard_normal((n, n * n))
    u0 = rng.standard_normal(n)
    u0 /= np.linalg.norm(u0) * 2
    F0 = forcing * rng.standard_normal(n)
    # scale F2 so that (||u0|| ||F2|| + ||F0||/||u0||) / |lambda_1| = R
    need = R - np.linalg.norm(F0) / np.linalg.norm(u0)
    F2 *= need / (np.linalg.norm(u0) * np.linalg.norm(F2, 2))
    return F0, F1, F2, u0


@pytest.mark.parametrize("R", [0.3, 0.6, 0.9])
def test_homogeneous_bound_random_systems(R):
    rng = np.random.default_rng(int(R * 10))
    n = 4
    F0, F1, F2, u0 = random_stable_system(rng, n, R)
    t = np.linspace(0, 3, 31)
    ref = solve_reference([None, F1, F2], u0, t)
    for order in range(1, 7):
        sol = solve_carleman([None, F1, F2], u0, t, order=order, basis="symmetric", method="expm")
        err = np.linalg.norm(sol.u - ref, axis=1)
        bound = homogeneous_bound([None, F1, F2], u0, t, order=order)
        assert np.all(err <= bound + 1e-9), (order, err.max(), bound.max())


def test_lemma1_bound_inhomogeneous():
    rng = np.random.default_rng(17)
    n = 3
    F0, F1, F2, u0 = random_stable_system(rng, n, 0.6, forcing=0.05)
    t = np.linspace(0, 2, 21)
    ref = solve_reference([F0, F1, F2], u0, t)
    for order in range(1, 5):
        sol = solve_carleman([F0, F1, F2], u0, t, order=order, method="expm")
        bound = lemma1_bound([F0, F1, F2], u0, t, order=order)
        err = np.linalg.norm(sol.u - ref, axis=1)
        assert np.all(err <= bound + 1e-9)


def test_bounds_refuse_when_hypotheses_fail():
    with pytest.raises(ValueError, match=r"homogeneous_bound: .*R < 1, got R = 2"):
        homogeneous_bound([None, [[-1.0]], [[2.0]]], [1.0], 1.0, order=2)
    with pytest.raises(ValueError, match="Re\\(lambda_1\\)"):
        homogeneous_bound([None, [[0.5]], [[0.1]]], [1.0], 1.0, order=2)
    with pytest.raises(ValueError, match="Re\\(lambda_1\\)"):
        lemma1_bound([[0.0], [[0.0]], [[0.1]]], [1.0], 1.0, order=2)
    with pytest.raises(ValueError, match="lemma1_bound: .*R < 1"):
        lemma1_bound([[2.0], [[-1.0]], [[0.1]]], [1.0], 1.0, order=2)  # forcing pushes R to 2.1
    with pytest.raises(ValueError, match="u0 is the zero vector"):
        homogeneous_bound([None, [[-1.0]], [[0.1]]], [0.0], 1.0, order=2)
    with pytest.raises(ValueError, match="t must be"):
        homogeneous_bound([None, [[-1.0]], [[0.1]]], [1.0], -1.0, order=2)


def test_bounds_zero_at_t0_and_monotone():
    b = homogeneous_bound([None, [[-1.0]], [[0.5]]], [1.0], [0.0, 1.0, 2.0], order=3)
    assert b[0] == 0 and np.all(np.diff(b) > 0)
    np.testing.assert_allclose(b[-1], 0.5**3 * (1 - np.exp(-2.0)) ** 3)
    lb = lemma1_bound([None, [[-1.0]], [[0.5]]], [0.5], 2.0, order=3)
    np.testing.assert_allclose(lb, 2.0 * 3 * 0.5 * 0.5**4)


# ---------------------------------------------------------------------------- Burgers (PNAS Fig. 1)


def test_pnas_burgers_errors_within_20_percent():
    # PNAS Fig. 1: max_t ||eps||_2 about 0.12, 0.058, 0.029, 0.015 for N = 1..4
    prob = burgers()
    ref = solve_reference(prob)
    paper = [0.12, 0.058, 0.029, 0.015]
    for order, expected in zip(range(1, 5), paper):
        sol = solve_carleman(prob, order=order, basis="symmetric")
        err = np.linalg.norm(sol.u - ref, axis=1).max()
        np.testing.assert_allclose(err, expected, rtol=0.2)


def test_burgers_bases_agree_at_order3():
    prob = burgers(nt=800)
    sols = [solve_carleman(prob, order=3, basis=basis) for basis in BASES]
    np.testing.assert_allclose(sols[0].u, sols[1].u, rtol=0, atol=1e-10)
    assert sols[0].dimension == 4368 and sols[1].dimension == 968
    assert sols[1].nnz < sols[0].nnz


# ---------------------------------------------------------------------------- size guard, bad input


def test_size_guard_refuses_with_estimate():
    rng = np.random.default_rng(18)
    F1 = rng.standard_normal((16, 16))
    F2 = rng.standard_normal((16, 256))
    with pytest.raises(ValueError, match=r"carleman_matrix: the order-4 kronecker Carleman system \(69,904 unknowns"):
        carleman_matrix([None, F1, F2], order=4, max_bytes=2**20)
    with pytest.raises(ValueError, match=r"discrete_carleman: .*unknowns, at most about .* non-zeros"):
        discrete_carleman([np.zeros(16), F1, F2], order=4, max_bytes=2**20)
    with pytest.raises(ValueError, match="solve_carleman"):
        solve_carleman([None, F1, F2], np.ones(16), [0.0, 1.0], order=4, max_bytes=2**20)
    # the symmetric basis of the same system fits where the Kronecker one does not
    carleman_matrix([None, F1, F2], order=3, basis="symmetric", max_bytes=2**23)
    with pytest.raises(ValueError, match="GiB"):
        carleman_matrix([None, F1, F2], order=3, max_bytes=2**23)


def test_size_guard_default_limit_without_allocating():
    n = 200
    F1 = sp.eye_array(n, format="csr")
    F2 = sp.csr_array((np.ones(n), (np.arange(n), np.arange(n) * (n + 1))), shape=(n, n * n))
    with pytest.raises(ValueError, match="unknowns"):
        carleman_matrix([None, F1, F2], order=5)  # 3.2e11 unknowns
    with pytest.raises(ValueError, match="unknowns"):
        discrete_carleman([None, F1, F2], order=5)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: carleman_matrix([None, np.ones((2, 3))], order=2), r"F\[1\] must be square"),
        (lambda: carleman_matrix([None, np.eye(2), np.ones((2, 3))], order=2), r"F\[2\] must have shape"),
        (lambda: carleman_matrix([[1.0, 2.0, 3.0], np.eye(2)], order=2), r"F\[0\] must have length 2"),
        (lambda: carleman_matrix([None, [[np.nan]]], order=2), r"F\[1\] has non-finite"),
        (lambda: carleman_matrix([None, np.eye(2)], order=0), "order must be >= 1"),
        (lambda: carleman_matrix([None, np.eye(2)], order=2.0), "order must be an integer"),
        (lambda: carleman_matrix([None, np.eye(2)], order=2, basis="monomial"), "basis must be one of"),
        (lambda: discrete_carleman([np.zeros(2)], order=2), "F must hold F0, F1"),
        (lambda: discrete_carleman([np.zeros(2)] + [np.eye(2)] * 4, order=2), "F must hold F0, F1"),
        (lambda: discrete_carleman(np.eye(2), order=2), "F must be a list"),
        (lambda: discrete_carleman([np.zeros(2), np.eye(2), np.ones((2, 2))], order=2), r"F\[2\] must have shape"),
        (lambda: discrete_carleman([np.zeros(3), np.eye(2)], order=2), r"F\[0\] must have length 2"),
        (lambda: lift(np.ones((2, 2)), order=2), "u must be a 1-D vector"),
        (lambda: lift([1.0, np.inf], order=2), "u has non-finite"),
        (lambda: lift([1.0], order=0), "order must be >= 1"),
        (lambda: lifted_dimension(0, 2), "n must be >= 1"),
        (lambda: level_slices(2, 2, basis="x"), "basis must be one of"),
        (lambda: monomials(2, -1), "degree must be >= 0"),
        (lambda: solve_carleman([None, [[-1.0]]], [1.0], [1.0, 0.0], order=2), "strictly increasing"),
        (lambda: solve_carleman([[1.0], [[-1.0]]], [1.0], [0.0, 1.0], order=2, method="expm", forcing=np.cos),
         "method='euler'"),
        (lambda: solve_carleman([None, [[-1.0]]], [1.0], [0.0, 1.0], order=2, method="rk4"), "method must be"),
        (lambda: solve_carleman([None, [[-1.0]]], [1.0], [0.0, 1.0], order=2, forcing=3.0), "forcing must be"),
        (lambda: solve_carleman([None, [[-1.0]]], [1.0, 2.0], [0.0, 1.0], order=2), "u0 must have length 1"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_solve_carleman_reports_blow_up():
    # forward Euler with h = 3 on a decay rate 2 at level 2: the iterate overflows
    t = np.linspace(0, 1500, 501)
    sol = solve_carleman([None, [[-1.0]], [[4.0]]], [1.0], t, order=1 + 1, method="euler")
    assert sol.order == 2 and sol.method == "euler" and sol.basis == "kronecker"
    assert not sol.success and "non-finite" in sol.message


def test_symmetric_assembly_in_chunks_matches_single_pass(monkeypatch):
    import qsgd._symmetric as _symmetric

    rng = np.random.default_rng(19)
    F = random_map(rng, 4, 3)
    F1, F2 = rng.standard_normal((4, 4)), rng.standard_normal((4, 16))
    whole = (discrete_carleman(F, order=3, basis="symmetric"),
             carleman_matrix([F[0], F1, F2], order=3, basis="symmetric"))
    monkeypatch.setattr(_symmetric, "CHUNK_PAIRS", 7)
    chunked = (discrete_carleman(F, order=3, basis="symmetric"),
               carleman_matrix([F[0], F1, F2], order=3, basis="symmetric"))
    for (Cw, bw), (Cc, bc) in zip(whole, chunked):
        np.testing.assert_allclose(Cc.toarray(), Cw.toarray(), rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(bc, bw, rtol=0, atol=0)


# ---------------------------------------------------------------------------- symmetric assembly at scale


def sparse_map(rng, n, q, density, with_f0=True):
    F = [rng.standard_normal(n) if with_f0 else np.zeros(n)]
    F += [sp.random_array((n, n**ell), density=density, rng=rng, format="csr") for ell in range(1, q + 1)]
    return F


def banded_map(rng, n, q):
    """F0 dense, F1 tridiagonal, F_l with three entries per row near the diagonal."""
    F = [rng.standard_normal(n), sp.diags_array([rng.standard_normal(n - 1), rng.standard_normal(n),
                                                 rng.standard_normal(n - 1)], offsets=[-1, 0, 1], format="csr")]
    rows = np.repeat(np.arange(n), 3)
    for ell in range(2, q + 1):
        idx = np.clip(rows[None, :] + rng.integers(-1, 2, (ell, 3 * n)), 0, n - 1)
        cols = np.ravel_multi_index(tuple(idx), (n,) * ell)
        F.append(sp.csr_array((rng.standard_normal(3 * n), (rows, cols)), shape=(n, n**ell)))
    return F


@pytest.mark.parametrize(
    "n, order, q, density, with_f0",
    [(5, 4, 2, 0.3, True), (4, 3, 3, 0.2, False), (6, 2, 3, 0.1, True), (1, 5, 2, 1.0, True),
     (4, 4, 2, 1.0, True), (5, 3, 1, 0.5, True)],
)
def test_discrete_symmetric_equals_projected_kronecker_sparse(n, order, q, density, with_f0):
    # the symmetric matrix is S C_kron P: one row per monomial, columns of a monomial merged
    rng = np.random.default_rng(400 + 10 * n + order)
    F = sparse_map(rng, n, q, density, with_f0)
    Ck, bk = discrete_carleman(F, order=order)
    Cs, bs = discrete_carleman(F, order=order, basis="symmetric")
    S, P = sym_selection(n, order)
    ref = (S @ Ck @ P).toarray()
    np.testing.assert_allclose(Cs.toarray(), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    np.testing.assert_allclose(bs, S @ bk, rtol=1e-13, atol=0)
    # canonical CSR: sorted, no duplicates, no stored zeros
    assert isinstance(Cs, sp.csr_array) and Cs.has_canonical_format
    assert np.all(Cs.data != 0)
    copy = sp.csr_array((Cs.data.copy(), Cs.indices.copy(), Cs.indptr.copy()), shape=Cs.shape)
    copy.has_canonical_format = False
    copy.sum_duplicates()
    np.testing.assert_array_equal(copy.indices, Cs.indices)


@pytest.mark.parametrize("n, order", [(5, 4), (6, 3), (2, 5)])
def test_continuous_symmetric_equals_projected_kronecker_sparse(n, order):
    rng = np.random.default_rng(500 + n)
    F0 = rng.standard_normal(n)
    F1 = sp.random_array((n, n), density=0.4, rng=rng, format="csr")
    F2 = sp.random_array((n, n * n), density=0.2, rng=rng, format="csr")
    Ak, bk = carleman_matrix([F0, F1, F2], order=order)
    As, bs = carleman_matrix([F0, F1, F2], order=order, basis="symmetric")
    S, P = sym_selection(n, order)
    np.testing.assert_allclose(As.toarray(), (S @ Ak @ P).toarray(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bs, S @ bk, atol=0)


def guard_estimate(call):
    """(non-zeros, GiB) that the size guard states, read from its refusal at max_bytes=1."""
    with pytest.raises(ValueError, match="at most about") as info:
        call(1)
    msg = str(info.value)
    nnz = int(msg.split("at most about ")[1].split(" non-zeros")[0].replace(",", ""))
    gib = float(msg.split("would need about ")[1].split(" GiB")[0])
    return nnz, gib


@pytest.mark.parametrize("n, order, q", [(10, 3, 2), (6, 4, 2), (5, 3, 3)])
def test_symmetric_estimate_is_exact_on_dense_inputs(n, order, q):
    rng = np.random.default_rng(600 + n)
    F = random_map(rng, n, q)
    C, _ = discrete_carleman(F, order=order, basis="symmetric")
    est, _ = guard_estimate(lambda mb: discrete_carleman(F, order=order, basis="symmetric", max_bytes=mb))
    assert C.nnz <= est <= 1.01 * C.nnz
    # the Kronecker estimate counts the products formed: an upper bound as well
    Ck, _ = discrete_carleman(F, order=order)
    assert Ck.nnz <= guard_estimate(lambda mb: discrete_carleman(F, order=order, max_bytes=mb))[0]


@pytest.mark.parametrize("n, order, q, factor", [(40, 3, 2, 1.5), (20, 4, 2, 2.5), (15, 3, 3, 2.0)])
def test_symmetric_estimate_is_an_upper_bound_within_factor_on_banded_inputs(n, order, q, factor):
    rng = np.random.default_rng(700 + n)
    F = banded_map(rng, n, q)
    for f0 in (F[0], np.zeros(n)):
        G = [f0, *F[1:]]
        C, _ = discrete_carleman(G, order=order, basis="symmetric")
        est, _ = guard_estimate(lambda mb: discrete_carleman(G, order=order, basis="symmetric", max_bytes=mb))
        assert C.nnz <= est <= factor * C.nnz
    F1, F2 = F[1], F[2]
    A, _ = carleman_matrix([F[0], F1, F2], order=order, basis="symmetric")
    est, _ = guard_estimate(lambda mb: carleman_matrix([F[0], F1, F2], order=order, basis="symmetric", max_bytes=mb))
    assert A.nnz <= est <= factor * A.nnz


def test_symmetric_estimate_dense_24_parameters_fits_default_limit():
    # dense F0, F1, F2 with n = 24 at N = 3: every block C_jk with k <= 2j is full, 8,487,376
    # non-zeros; the guard states exactly that and accepts it at the default limit
    rng = np.random.default_rng(24)
    n, order = 24, 3
    F = random_map(rng, n, 2)
    d = [math.comb(n + j - 1, j) for j in range(order + 1)]
    full = sum(d[j] * sum(d[k] for k in range(1, min(order, 2 * j) + 1)) for j in range(1, order + 1))
    assert full == 8_487_376
    est, gib = guard_estimate(lambda mb: discrete_carleman(F, order=order, basis="symmetric", max_bytes=mb))
    assert est == full
    assert gib < 1.0


def test_size_guard_refuses_huge_symmetric_systems():
    rng = np.random.default_rng(25)
    n = 60  # dense, N = 3: 39,710 unknowns but about 1.5e9 non-zeros
    F = random_map(rng, n, 2)
    with pytest.raises(ValueError, match=r"discrete_carleman: the order-3 symmetric .*39,710 unknowns"):
        discrete_carleman(F, order=3, basis="symmetric")
    est, gib = guard_estimate(lambda mb: discrete_carleman(F, order=3, basis="symmetric", max_bytes=mb))
    assert est > 1e9 and gib > 4
    with pytest.raises(ValueError, match=r"carleman_matrix: the order-4 symmetric"):
        carleman_matrix([F[0], F[1], F[2]], order=4, basis="symmetric")
    # sparse but with too many unknowns: 1.1e9 monomials of degree 4 in 400 variables
    n = 400
    F1 = sp.eye_array(n, format="csr")
    F2 = sp.csr_array((np.ones(n), (np.arange(n), np.arange(n) * (n + 1))), shape=(n, n * n))
    with pytest.raises(ValueError, match="symmetric Carleman system"):
        discrete_carleman([None, F1, F2], order=4, basis="symmetric")
    with pytest.raises(ValueError, match="symmetric Carleman system"):
        carleman_matrix([None, F1, F2], order=4, basis="symmetric")


# ---------------------------------------------------------------- one coefficient object


class _Map:
    """Carries coefficients as qsgd.gd.PolynomialMap does (without importing gd)."""

    def __init__(self, coefficients):
        self.coefficients = tuple(coefficients)


def test_builders_accept_the_coefficients_as_one_object():
    rng = np.random.default_rng(3)
    F = random_map(rng, 3, 2)
    for obj in (F, tuple(F), _Map(F)):
        C, b = discrete_carleman(obj, order=2)
        C_ref, b_ref = discrete_carleman(list(F), order=2)
        assert (C != C_ref).nnz == 0 and np.array_equal(b, b_ref)
        A, a = carleman_matrix(obj, order=2, basis="symmetric")
        A_ref, a_ref = carleman_matrix([F[0], F[1], F[2]], order=2, basis="symmetric")
        assert (A != A_ref).nnz == 0 and np.array_equal(a, a_ref)


def test_solve_carleman_and_bounds_accept_one_object():
    F1, F2, u0 = np.diag([-1.0, -1.5]), 0.05 * np.ones((2, 4)), np.array([0.2, -0.1])
    t = np.linspace(0.0, 1.0, 21)
    ref = solve_carleman([None, F1, F2], u0, t, order=3)
    for sol in (solve_carleman((None, F1, F2), u0, t, order=3),
                solve_carleman(_Map([None, F1, F2]), u0=u0, t=t, order=3),
                solve_carleman([np.zeros(2), sp.csr_array(F1), F2], u0, t, order=3)):
        np.testing.assert_array_equal(sol.u, ref.u)
    np.testing.assert_array_equal(homogeneous_bound(_Map([None, F1, F2]), u0, t=t, order=3),
                                  homogeneous_bound([None, F1, F2], u0, t, order=3))
    F0 = np.array([0.01, 0.0])
    np.testing.assert_array_equal(lemma1_bound(_Map([F0, F1, F2]), u0=u0, t=t, order=2),
                                  lemma1_bound([F0, F1, F2], u0, t, order=2))


# the coefficients are one object: the former separate-coefficient calls are refused
_OLD_ORDER = {
    # a TypeError (too many positional arguments) or a ValueError naming F (a bare matrix is not
    # a coefficient object)
    "carleman_matrix(F1, F2, F0)": (lambda F0, F1, F2, u0, t: carleman_matrix(F1, F2, F0, order=3), TypeError,
                                    ["positional"]),
    "carleman_matrix(F1)": (lambda F0, F1, F2, u0, t: carleman_matrix(F1, order=3), ValueError,
                            ["carleman_matrix", "F must be", "ndarray of shape (2, 2)"]),
    "solve_carleman(F1, F2, F0, u0, t)": (lambda F0, F1, F2, u0, t: solve_carleman(F1, F2, F0, u0, t, order=3),
                                          TypeError, ["positional"]),
    "solve_carleman(F1, F2, F0)": (lambda F0, F1, F2, u0, t: solve_carleman(F1, F2, F0, order=3), ValueError,
                                   ["solve_carleman", "F must be", "ndarray of shape (2, 2)"]),
    "homogeneous_bound(F1, F2, u0, t)": (lambda F0, F1, F2, u0, t: homogeneous_bound(F1, F2, u0, t, order=3),
                                         TypeError, ["positional"]),
    "lemma1_bound(F1, F2, F0, u0, t)": (lambda F0, F1, F2, u0, t: lemma1_bound(F1, F2, F0, u0, t, order=3),
                                        TypeError, ["positional"]),
}


@pytest.mark.parametrize("case", list(_OLD_ORDER))
def test_the_former_separate_coefficient_calls_are_refused(case, refuses):
    F0, F1, F2, u0 = np.array([0.01, 0.0]), np.diag([-1.0, -1.5]), 0.05 * np.ones((2, 4)), np.array([0.2, -0.1])
    call, exc, words = _OLD_ORDER[case]
    refuses(call, exc, words, F0, F1, F2, u0, np.linspace(0.0, 1.0, 11))


def test_solve_carleman_of_a_problem_uses_its_grid_state_and_forcing():
    p = burgers(nt=41, T=0.2)
    sol = solve_carleman(p, order=2, basis="symmetric")
    ref = solve_carleman([p.F0, p.F1, p.F2], p.u0, p.t, order=2, basis="symmetric", forcing=p.forcing)
    np.testing.assert_array_equal(sol.u, ref.u)
    assert sol.success


# --------------------------------------------------------------- results checked before returned


def test_unstable_euler_grid_is_reported_not_returned_as_success():
    """dt * |N lambda| = 5 > 2: the iterates grow although the ODE decays."""
    t = np.linspace(0.0, 10.0, 5)  # h = 2.5
    sol = solve_carleman([None, [[-1.0]], [[0.1]]], [0.5], t, order=2)
    assert not sol.success
    assert "unstable" in sol.message and "h*|N*lambda| = 5" in sol.message
    fine = solve_carleman([None, [[-1.0]], [[0.1]]], [0.5], np.linspace(0.0, 10.0, 101), order=2)
    assert fine.success  # h * N * |lambda| = 0.2
    assert solve_carleman([None, [[-1.0]], [[0.1]]], [0.5], t, order=2, method="expm").success


# ---------------------------------------------------------------- the bad-input catalogue

_F1, _F2 = np.diag([-1.0, -2.0]), 0.1 * np.ones((2, 4))


class _NoF0:
    """A problem-like object that lacks F0."""

    F1, F2, u0, t = _F1, _F2, np.array([0.1, 0.1]), np.linspace(0.0, 1.0, 5)


BAD_INPUT = {
    "lifted_dimension absurd order": (lambda: lifted_dimension(2, 10**7), ["lifted_dimension", "2**1e+07", "2**1023"]),
    "lifted_dimension string n": (lambda: lifted_dimension("2", 3), ["lifted_dimension", "n", "integer"]),
    "level_slices absurd": (lambda: level_slices(10**6, 10**6), ["level_slices", "max_bytes"]),
    "level_slices symmetric absurd": (lambda: level_slices(10**6, 10**6, basis="symmetric"),
                                      ["level_slices", "max_bytes"]),
    "monomials absurd": (lambda: monomials(1000, 6), ["monomials", "GiB", "max_bytes"]),
    "monomials None": (lambda: monomials(None, 2), ["monomials", "n"]),
    "lift absurd order": (lambda: lift([1.0, 2.0], order=10**6), ["lift", "max_bytes"]),
    "lift complex": (lambda: lift([1j, 0.0], order=2), ["lift", "u", "real"]),
    "lift None": (lambda: lift(None, order=2), ["lift", "u", "None"]),
    "lift empty": (lambda: lift([], order=2), ["lift", "u", "empty"]),
    "matrix symmetric order 1e9": (lambda: carleman_matrix([None, _F1, _F2], order=10**9, basis="symmetric"),
                                   ["carleman_matrix", "order-1000000000", "max_bytes"]),
    "matrix scalar order 1e8": (lambda: carleman_matrix([None, [[-1.0]], [[1.0]]], order=10**8),
                                ["carleman_matrix", "max_bytes"]),
    "matrix complex F2": (lambda: carleman_matrix([None, _F1, _F2 * 1j], order=2), ["carleman_matrix", "F[2]", "real"]),
    "matrix string F1": (lambda: carleman_matrix([None, "F1"], order=2), ["carleman_matrix", "F[1]", "string"]),
    "matrix None F1": (lambda: carleman_matrix([None, None], order=2), ["carleman_matrix", "F1", "None"]),
    "matrix one-entry list": (lambda: carleman_matrix([_F1], order=2),
                              ["carleman_matrix", "F must hold F0, F1", "1 entry (only F0)"]),
    "matrix dict": (lambda: carleman_matrix({"F0": None, "F1": _F1}, order=2),
                    ["carleman_matrix", "F must be a list", "dict", "'F1'"]),
    "matrix stacked 3-D array": (lambda: carleman_matrix(np.stack([_F1, _F1, _F1]), order=2),
                                 ["carleman_matrix", "F must be a list", "stacked", "shape (3, 2, 2)"]),
    "matrix object without F0": (lambda: carleman_matrix(_NoF0(), order=2),
                                 ["carleman_matrix", "F is a _NoF0", "without F0"]),
    "discrete degree-4 list": (lambda: discrete_carleman([None, _F1, _F2, np.zeros((2, 8)), np.zeros((2, 16))],
                                                         order=2),
                               ["discrete_carleman", "F must hold F0, F1 and up to F3", "5 entries (degree 4)"]),
    "solve object without F0": (lambda: solve_carleman(_NoF0(), order=2),
                                ["solve_carleman", "F is a _NoF0", "F1, F2 but without F0"]),
    "bound object without F0": (lambda: homogeneous_bound(_NoF0(), t=1.0, order=2),
                                ["homogeneous_bound", "F is a _NoF0", "without F0"]),
    "matrix cubic object": (lambda: carleman_matrix([None, _F1, _F2, np.zeros((2, 8))], order=2),
                            ["carleman_matrix", "up to F2"]),
    "discrete order 1e7": (lambda: discrete_carleman([None, [[-1.0]], [[1.0]]], order=10**7),
                           ["discrete_carleman", "max_bytes"]),
    "discrete None": (lambda: discrete_carleman(None, order=2), ["discrete_carleman", "F must be a list"]),
    "discrete complex F0": (lambda: discrete_carleman([[1j, 0], _F1], order=2), ["discrete_carleman", "F[0]", "real"]),
    "discrete empty map": (lambda: discrete_carleman(_Map([]), order=2), ["discrete_carleman", "F.coefficients"]),
    "discrete bad max_bytes": (lambda: discrete_carleman([None, _F1], order=2, max_bytes="big"),
                               ["discrete_carleman", "max_bytes"]),
    "solve missing t": (lambda: solve_carleman([None, _F1, _F2], [0.1, 0.1], order=2),
                        ["solve_carleman", "missing", "t"]),
    "solve missing u0": (lambda: solve_carleman([None, _F1, _F2], t=[0.0, 1.0], order=2),
                         ["solve_carleman", "missing argument u0"]),
    "bound missing t": (lambda: lemma1_bound([None, _F1, _F2], [0.1, 0.1], order=2),
                        ["lemma1_bound", "missing argument t"]),
    "solve complex u0": (lambda: solve_carleman([None, _F1, _F2], [0.1j, 0], [0, 1], order=2),
                         ["solve_carleman", "u0", "real"]),
    "solve nan t": (lambda: solve_carleman([None, _F1, _F2], [0.1, 0], [0, np.nan], order=2),
                    ["solve_carleman", "t", "non-finite"]),
    "solve string order": (lambda: solve_carleman([None, _F1, _F2], [0.1, 0], [0, 1], order="2"),
                           ["solve_carleman", "order", "integer"]),
    "bound string t": (lambda: homogeneous_bound([None, _F1, _F2], [0.1, 0.1], "1", order=2),
                       ["homogeneous_bound", "t", "string"]),
    "bound complex t": (lambda: homogeneous_bound([None, _F1, _F2], [0.1, 0.1], 1j, order=2),
                        ["homogeneous_bound", "t", "real"]),
    "bound negative t": (lambda: homogeneous_bound([None, _F1, _F2], [0.1, 0.1], -1.0, order=2),
                         ["homogeneous_bound", "t", ">= 0"]),
    "bound zero F2": (lambda: homogeneous_bound([None, _F1, np.zeros((2, 4))], [0.1, 0.1], 1.0, order=2),
                      ["homogeneous_bound", "F2 is zero or absent"]),
    "bound forced object": (lambda: homogeneous_bound([[0.1, 0], _F1, _F2], [0.1, 0.1], 1.0, order=2),
                            ["homogeneous_bound", "F0 = 0"]),
    "lemma1 zero u0": (lambda: lemma1_bound([None, _F1, _F2], [0.0, 0.0], 1.0, order=2), ["lemma1_bound", "u0", "zero"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, refuses):
    call, words = BAD_INPUT[case]
    refuses(call, ValueError, words)


def test_truncation_error_estimate_bounds_the_first_level_error():
    """The first-level truncation error is exact (0) where the lift is exact and bounded where it is not."""
    from qsgd.carleman import truncation_error_estimate

    rng = np.random.default_rng(5)
    n = 2
    F1 = -0.2 * np.eye(n)
    F2 = 0.05 * rng.normal(size=(n, n * n))
    F0 = 0.1 * rng.normal(size=n)

    def step(u):
        return u + F0 + F1 @ u + F2 @ np.kron(u, u)

    u = [np.zeros(n)]
    for _ in range(8):
        u.append(step(u[-1]))
    u = np.array(u)
    errors = []
    for order in (1, 2, 3):
        C, b = discrete_carleman([F0, F1, F2], order=order)
        y = lift(np.zeros(n), order=order)
        for _ in range(8):
            y = C @ y + b
        err, bound, residuals = truncation_error_estimate(C, b, u, order=order)
        np.testing.assert_allclose(err, y[:n] - u[-1], atol=1e-13)
        assert np.linalg.norm(err) <= bound * (1 + 1e-12) and residuals.shape == (8,)
        errors.append(np.linalg.norm(err))
    assert errors[2] < errors[1] < errors[0]
    with pytest.raises(ValueError, match="truncation_error_estimate: C has shape"):
        truncation_error_estimate(np.eye(3), np.zeros(3), u, order=1)
