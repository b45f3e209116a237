"""Tests for qsgd.history: the T-step linear system of Eq. 6 of Liu et al. (2024)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from qsgd.carleman import discrete_carleman, lift, lifted_dimension
from qsgd.gd import gradient_descent, polynomial_map
from qsgd.decomposition import EXACT_LIMIT, condition_number, decompose
from qsgd.history import (
    history_blocks,
    history_system,
    postselection_probability,
    solve_history,
    theta_trajectory,
)

# --------------------------------------------------------------------------------------------
# independent dense references
# --------------------------------------------------------------------------------------------


def dense_history(C, b, y0, steps, padding=0):
    """Eq. 6 written out block by block with numpy."""
    D = C.shape[0]
    m = steps + 1 + padding
    L = np.eye(m * D)
    for t in range(1, m):
        L[t * D:(t + 1) * D, (t - 1) * D:t * D] = -(C if t <= steps else np.eye(D))
    rhs = np.concatenate([y0] + [b] * steps + [np.zeros(D)] * padding)
    return L, rhs


def dense_lift_q2_n2_N2(F0, F1, F2):
    """The exact discrete lift for q = 2, N = 2 (Kronecker basis), from its block formulas.

    C11 = B, C12 = F2, C21 = B(x)F0 + F0(x)B, C22 = B(x)B + F0(x)F2 + F2(x)F0, b = [F0; F0(x)F0],
    with B = I + F1 (levels above 2 dropped).
    """
    n = F1.shape[0]
    B = np.eye(n) + F1
    f0 = F0.reshape(n, 1)
    C = np.block([
        [B, F2],
        [np.kron(B, f0) + np.kron(f0, B), np.kron(B, B) + np.kron(f0, F2) + np.kron(F2, f0)],
    ])
    return C, np.concatenate([F0, np.kron(F0, F0)])


def quadratic_loss(H, g):
    Ht, gt = torch.tensor(H), torch.tensor(g)
    return lambda th: 0.5 * th @ Ht @ th - gt @ th


# --------------------------------------------------------------------------------------------
# structure
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("padding", [0, 3])
def test_history_system_matches_dense_reference(padding):
    rng = np.random.default_rng(0)
    C = rng.normal(size=(3, 3))
    b, y0 = rng.normal(size=(2, 3))
    L, rhs = history_system(C, b, y0, 4, padding=padding)
    Lr, rr = dense_history(C, b, y0, 4, padding)
    assert isinstance(L, sp.csr_array)
    np.testing.assert_array_equal(L.toarray(), Lr)
    np.testing.assert_array_equal(rhs, rr)
    # dense and sparse C give the same system
    L2, _ = history_system(sp.csr_array(C), b, y0, 4, padding=padding)
    np.testing.assert_array_equal(L2.toarray(), Lr)


def test_solution_is_the_iterated_recurrence_and_padding_copies_the_last_block():
    rng = np.random.default_rng(1)
    C = 0.3 * rng.normal(size=(4, 4))
    b, y0 = rng.normal(size=(2, 4))
    L, rhs = history_system(C, b, y0, 6, padding=2)
    Y = solve_history(L, rhs)
    blocks = history_blocks(Y, steps=6, padding=2)
    y = y0.copy()
    for t in range(7):
        np.testing.assert_allclose(blocks[t], y, rtol=1e-12, atol=1e-14)
        y = C @ y + b
    np.testing.assert_allclose(blocks[7], blocks[6], rtol=1e-14)
    np.testing.assert_allclose(blocks[8], blocks[6], rtol=1e-14)
    np.testing.assert_allclose(L @ Y, rhs, atol=1e-12)


# --------------------------------------------------------------------------------------------
# claim 4: quadratic loss, N = 1, Eq. 6 reproduces gradient descent
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("basis", ["kronecker", "symmetric"])
def test_claim4_quadratic_loss_history_equals_gradient_descent(basis):
    rng = np.random.default_rng(4)
    n, steps, eta = 5, 40, 0.1
    a = rng.normal(size=(n, n))
    H = a @ a.T / n + 0.1 * np.eye(n)
    g = rng.normal(size=n)
    loss = quadratic_loss(H, g)
    theta0 = rng.normal(size=n)
    pm = polynomial_map(loss, theta0, eta=eta, degree=1)
    C, b = discrete_carleman(list(pm.coefficients), order=1, basis=basis)
    L, rhs = history_system(C, b, lift(np.zeros(n), order=1, basis=basis), steps)
    Y = solve_history(L, rhs)
    theta = theta_trajectory(Y, n=n, steps=steps, basis=basis, theta0=theta0)
    gd = gradient_descent(loss, theta0, eta=eta, steps=steps)
    assert np.abs(theta - gd).max() <= 1e-12


# --------------------------------------------------------------------------------------------
# the lift against a dense reference, and the two bases
# --------------------------------------------------------------------------------------------


def test_discrete_lift_against_dense_block_formulas():
    rng = np.random.default_rng(5)
    F0 = 0.1 * rng.normal(size=2)
    F1 = -0.2 * np.eye(2) + 0.05 * rng.normal(size=(2, 2))
    F2 = 0.1 * rng.normal(size=(2, 4))
    C, b = discrete_carleman([F0, F1, F2], order=2)
    Cr, br = dense_lift_q2_n2_N2(F0, F1, F2)
    np.testing.assert_allclose(C.toarray(), Cr, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(b, br, rtol=1e-14)


def cubic_loss_case(n, seed, shift):
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(n, n, generator=gen, dtype=torch.float64)
    H = a @ a.T / n + shift * torch.eye(n, dtype=torch.float64)
    T = 0.3 * torch.randn(n, n, n, generator=gen, dtype=torch.float64)
    return lambda th: 0.5 * th @ H @ th + torch.einsum("ijk,i,j,k->", T, th, th, th) / 6


@pytest.mark.parametrize("order", [1, 2, 3])
def test_kronecker_and_symmetric_bases_give_the_same_trajectory(order):
    n, steps = 3, 15
    loss = cubic_loss_case(n, seed=6, shift=0.5)
    theta0 = np.array([0.2, -0.1, 0.15])
    pm = polynomial_map(loss, theta0, eta=0.1, degree=2)
    out = {}
    for basis in ("kronecker", "symmetric"):
        C, b = discrete_carleman(list(pm.coefficients), order=order, basis=basis)
        assert C.shape == (lifted_dimension(n, order, basis=basis),) * 2
        L, rhs = history_system(C, b, lift(np.zeros(n), order=order, basis=basis), steps, padding=2)
        out[basis] = theta_trajectory(solve_history(L, rhs), n=n, steps=steps, padding=2, basis=basis)
    np.testing.assert_allclose(out["kronecker"], out["symmetric"], rtol=1e-11, atol=1e-14)


def test_truncation_error_falls_with_order_for_a_dissipative_cubic_loss():
    """Claim 6 in small: H > 0, expansion at the minimum; the error falls geometrically in N."""
    n, steps, eta = 3, 30, 0.2
    loss = cubic_loss_case(n, seed=7, shift=1.0)
    pm = polynomial_map(loss, np.zeros(n), eta=eta, degree=2)
    u0 = np.array([0.2, -0.15, 0.1])
    exact = pm.trajectory(steps, u0=u0)
    np.testing.assert_allclose(exact, gradient_descent(loss, u0, eta=eta, steps=steps), atol=1e-14)
    errs = []
    for order in (1, 2, 3, 4):
        C, b = discrete_carleman(list(pm.coefficients), order=order, basis="symmetric")
        L, rhs = history_system(C, b, lift(u0, order=order, basis="symmetric"), steps)
        u = theta_trajectory(solve_history(L, rhs), n=n, steps=steps, basis="symmetric")
        errs.append(np.linalg.norm(u - exact, axis=1).max())
    assert all(e2 < 0.5 * e1 for e1, e2 in zip(errs, errs[1:])), errs


# --------------------------------------------------------------------------------------------
# postselection probability
# --------------------------------------------------------------------------------------------


def test_postselection_probability_formula_and_padding():
    rng = np.random.default_rng(8)
    D, n, steps = 6, 2, 10
    C = 0.9 * np.linalg.qr(rng.normal(size=(D, D)))[0]  # norm 0.9: decaying history
    y0 = rng.normal(size=D)
    probs = {}
    for p in (0, steps):
        L, rhs = history_system(C, np.zeros(D), y0, steps, padding=p)
        Y = solve_history(L, rhs)
        blocks = history_blocks(Y, steps=steps, padding=p)
        expected = np.sum(blocks[steps:, :n] ** 2) / np.sum(Y**2)
        probs[p] = postselection_probability(Y, n=n, steps=steps, padding=p)
        assert probs[p] == pytest.approx(expected, rel=1e-14)
        assert 0.0 < probs[p] < 1.0
    assert probs[steps] > 5 * probs[0]
    # padding: P -> (p+1)|y1(T)|^2 / (sum_{t<T}|y(t)|^2 + (p+1)|y(T)|^2)
    L, rhs = history_system(C, np.zeros(D), y0, steps)
    blocks = history_blocks(solve_history(L, rhs), steps=steps)
    head, last = np.sum(blocks[:-1] ** 2), np.sum(blocks[-1] ** 2)
    formula = (steps + 1) * np.sum(blocks[-1, :n] ** 2) / (head + (steps + 1) * last)
    assert probs[steps] == pytest.approx(formula, rel=1e-12)


# --------------------------------------------------------------------------------------------
# condition number (claim 7)
# --------------------------------------------------------------------------------------------


def test_condition_number_exact_matches_numpy_and_estimate_matches_exact():
    rng = np.random.default_rng(9)
    C = 0.5 * rng.normal(size=(5, 5)) / np.sqrt(5)
    L, _ = history_system(C, np.zeros(5), np.ones(5), 30, padding=4)
    exact = condition_number(L)
    assert exact == pytest.approx(np.linalg.cond(L.toarray()), rel=1e-10)
    assert condition_number(L, exact=False, rng=0) == pytest.approx(exact, rel=1e-6)


@pytest.mark.parametrize("rho", [0.3, 0.6, 0.9])
def test_kappa_below_contraction_bound_and_flat_in_T(rho):
    rng = np.random.default_rng(10)
    Q = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    C = Q @ np.diag([rho, -rho, 0.5 * rho, 0.1]) @ Q.T  # symmetric, ||C|| = rho
    kappas = [condition_number(history_system(C, np.zeros(4), np.ones(4), T)[0]) for T in (8, 128, 256)]
    assert max(kappas) <= (1 + rho) / (1 - rho) * (1 + 1e-12)
    assert kappas[2] / kappas[1] < 1.02  # saturated once T >> 1/(1 - rho)


def test_kappa_linear_at_rho_one_and_exponential_with_a_divergent_mode():
    C1 = np.diag([1.0, 0.5])
    k = [condition_number(history_system(C1, np.zeros(2), np.ones(2), T)[0]) for T in (32, 64, 128)]
    assert k[1] / k[0] == pytest.approx(2.0, rel=0.05) and k[2] / k[1] == pytest.approx(2.0, rel=0.03)
    a = 0.1
    C2 = np.diag([1.0 + a, 0.5])
    k = [condition_number(history_system(C2, np.zeros(2), np.ones(2), T)[0]) for T in (40, 80)]
    slope = (np.log(k[1]) - np.log(k[0])) / 40
    assert slope == pytest.approx(np.log(1 + a), rel=0.02)


def test_condition_number_switches_to_the_estimate_above_the_exact_limit():
    """C = 0.5 I_4 decouples into 4 copies of the scalar recurrence: same kappa as D = 1."""
    steps = 800
    L4, _ = history_system(0.5 * np.eye(4), np.zeros(4), np.ones(4), steps)
    assert L4.shape[0] > EXACT_LIMIT
    L1, _ = history_system([[0.5]], [0.0], [1.0], steps)
    assert condition_number(L4, rng=1) == pytest.approx(condition_number(L1, exact=True), rel=1e-6)


def test_normal_decomposition_of_the_history_matrix():
    """decompose(L, method="normal"), as the segments decompose Eq. 6: sigma, V and U = L V / sigma."""
    rng = np.random.default_rng(11)
    C = 0.7 * np.linalg.qr(rng.normal(size=(3, 3)))[0]
    L, _ = history_system(C, np.zeros(3), np.ones(3), 12, padding=2)
    dec = decompose(L, method="normal")
    dense = L.toarray()
    assert dec.method == "normal" and dec.dilated and dec.shape == L.shape
    np.testing.assert_allclose(dec.sigma, np.linalg.svd(dense, compute_uv=False), rtol=1e-10)
    np.testing.assert_array_equal(dec.values, dec.sigma)  # already descending
    np.testing.assert_allclose(dense @ dec.right, dec.left * dec.values, atol=1e-12)
    np.testing.assert_allclose(dec.left.T @ dec.left, np.eye(L.shape[0]), atol=1e-10)
    assert dec.condition_number == pytest.approx(condition_number(L), rel=1e-10)
    assert dec.check(L) is dec


def test_condition_number_of_a_singular_matrix_is_infinite():
    assert condition_number(sp.csr_array(np.array([[1.0, 0.0], [0.0, 0.0]]))) == np.inf


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(C=np.ones((2, 3))), "C must be square"),
        (dict(C=np.array([[np.inf, 0], [0, 1.0]])), "C has non-finite"),
        (dict(b=np.ones(3)), "b must have length 2"),
        (dict(y0=np.ones(5)), "y0 must have length 2"),
        (dict(y0=np.array([np.nan, 1.0])), "y0 has non-finite"),
        (dict(steps=0), "steps must be >= 1"),
        (dict(steps=2.0), "steps must be an integer"),
        (dict(padding=-1), "padding must be >= 0"),
    ],
)
def test_history_system_bad_input(kwargs, match):
    args = dict(C=np.eye(2), b=np.zeros(2), y0=np.ones(2), steps=3, padding=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match) as info:
        history_system(args["C"], args["b"], args["y0"], args["steps"], padding=args["padding"])
    assert "history_system" in str(info.value)


def test_readout_bad_input():
    L, rhs = history_system(np.eye(2), np.zeros(2), np.ones(2), 3)
    Y = solve_history(L, rhs)
    with pytest.raises(ValueError, match="not a multiple of steps"):
        history_blocks(Y, steps=4)
    with pytest.raises(ValueError, match="n = 3 exceeds the block size 2"):
        theta_trajectory(Y, n=3, steps=3)
    with pytest.raises(ValueError, match="basis must be one of"):
        theta_trajectory(Y, n=2, steps=3, basis="monomial")
    with pytest.raises(ValueError, match="theta0 must have length 2"):
        theta_trajectory(Y, n=2, steps=3, theta0=np.zeros(3))
    with pytest.raises(ValueError, match="Y is the zero vector"):
        postselection_probability(np.zeros_like(Y), n=2, steps=3)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        postselection_probability(Y, n=2, steps=3, padding=-2)
    with pytest.raises(ValueError, match="rhs must have length 8"):
        solve_history(L, np.ones(3))
    with pytest.raises(ValueError, match="L must be square"):
        condition_number(np.ones((2, 3)))


# --------------------------------------------------------------------------------------------
# the bad-input catalogue: (call, exception, words the message must contain)
# --------------------------------------------------------------------------------------------

_L, _RHS = history_system(np.eye(2), np.zeros(2), np.ones(2), 3)
_Y = solve_history(_L, _RHS)

BAD_INPUT = {
    "system complex C": (lambda: history_system([[0.5j]], [0.0], [1.0], 2), ["history_system", "C", "real"]),
    "system None C": (lambda: history_system(None, [0.0], [1.0], 2), ["history_system", "C", "None"]),
    "system string b": (lambda: history_system([[0.5]], "0", [1.0], 2), ["history_system", "b", "string"]),
    "system empty C": (lambda: history_system(np.zeros((0, 0)), [], [], 2), ["history_system", "C", "empty"]),
    "system None steps": (lambda: history_system([[0.5]], [0.0], [1.0], None), ["history_system", "steps"]),
    "system absurd steps": (lambda: history_system([[0.5]], [0.0], [1.0], 10**12),
                            ["history_system", "GiB", "max_bytes"]),
    "solve singular L": (lambda: solve_history([[1.0, 0.0], [1.0, 0.0]], [1.0, 1.0]), ["solve_history", "singular"]),
    "solve overflow": (lambda: solve_history(*history_system([[1e200]], [0.0], [1e200], 3)),
                       ["solve_history", "L is singular", "overflow"]),
    "solve complex rhs": (lambda: solve_history(_L, _RHS + 1j), ["solve_history", "rhs", "real"]),
    "solve nan L": (lambda: solve_history([[np.nan]], [1.0]), ["solve_history", "L", "non-finite"]),
    "blocks None Y": (lambda: history_blocks(None, steps=3), ["history_blocks", "Y", "None"]),
    "blocks zero steps": (lambda: history_blocks(_Y, steps=0), ["history_blocks", "steps", ">= 1"]),
    "trajectory complex theta0": (lambda: theta_trajectory(_Y, n=2, steps=3, theta0=[1j, 0]),
                                  ["theta_trajectory", "theta0", "real"]),
    "trajectory string n": (lambda: theta_trajectory(_Y, n="2", steps=3), ["theta_trajectory", "n", "integer"]),
    "postselection nan Y": (lambda: postselection_probability(np.full(8, np.nan), n=1, steps=3),
                            ["postselection_probability", "Y", "non-finite"]),
    "postselection n zero": (lambda: postselection_probability(_Y, n=0, steps=3),
                             ["postselection_probability", "n", ">= 1"]),
    "condition exact string": (lambda: condition_number(_L, exact="yes"), ["condition_number", "exact"]),
    "condition complex L": (lambda: condition_number([[1j]]), ["condition_number", "L", "real"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, refuses):
    call, words = BAD_INPUT[case]
    refuses(call, ValueError, words)


def test_postselection_of_a_huge_solution_does_not_overflow():
    Y = np.full(8, 1e200)
    assert postselection_probability(Y, n=2, steps=3) == pytest.approx(0.25)
