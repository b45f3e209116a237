"""Tests for qsgd.ode: R number and interval, reference solver, the PNAS Burgers problem."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import expm

from qsgd.ode import (
    BurgersProblem,
    burgers,
    check_quadratic,
    lambda_1,
    r_interval,
    r_number,
    solve_reference,
)


def test_r_number_hand_computed():
    # ||u0|| = 5, ||F2|| = 2, ||F0|| = 3, Re(lambda_1) = -10: R = (5*2 + 3/5)/10
    F1 = np.diag([-10.0, -20.0])
    F2 = np.zeros((2, 4))
    F2[0, 0] = 2.0
    R = r_number([[3.0, 0.0], F1, F2], [3.0, 4.0])
    np.testing.assert_allclose(R, (5 * 2 + 3 / 5) / 10, rtol=1e-14)


def test_r_number_homogeneous_is_reynolds_like():
    rng = np.random.default_rng(1)
    F2 = rng.standard_normal((3, 9))
    u0 = rng.standard_normal(3)
    R = r_number([None, -2.0 * np.eye(3), F2], u0)
    np.testing.assert_allclose(R, np.linalg.norm(u0) * np.linalg.norm(F2, 2) / 2.0, rtol=1e-12)


def test_r_number_uses_largest_real_part_of_nonnormal_F1():
    F1 = np.array([[-1.0, 5.0], [0.0, -3.0]])  # non-normal, eigenvalues -1 and -3
    assert lambda_1(F1) == pytest.approx(-1.0)
    # ||ones(2, 4)||_2 = sqrt(8)
    np.testing.assert_allclose(r_number([None, F1, np.ones((2, 4))], [1.0, 0.0]), np.sqrt(8), rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_claim17_r_below_one_iff_inside_interval(seed):
    # claim 17: R < 1 <=> r_- < ||u0|| < r_+
    rng = np.random.default_rng(seed)
    n = 4
    F1 = -np.diag(rng.uniform(1, 2, n))
    F2 = 0.1 * rng.standard_normal((n, n * n))
    F0 = 0.05 * rng.standard_normal(n)
    r_minus, r_plus = r_interval([F0, F1, F2])
    assert 0 < r_minus < r_plus
    direction = rng.standard_normal(n)
    direction /= np.linalg.norm(direction)
    for radius in np.geomspace(r_minus / 10, r_plus * 10, 301):
        R = r_number([F0, F1, F2], radius * direction)
        inside = r_minus < radius < r_plus
        if abs(R - 1) > 1e-9:
            assert (R < 1) == inside
    np.testing.assert_allclose(r_number([F0, F1, F2], r_minus * direction), 1.0, rtol=1e-10)
    np.testing.assert_allclose(r_number([F0, F1, F2], r_plus * direction), 1.0, rtol=1e-10)


def test_r_interval_limits():
    F1 = -np.eye(2)
    assert r_interval([None, F1, np.ones((2, 4))])[0] == 0.0
    lo, hi = r_interval([[0.5, 0.0], F1])
    assert lo == pytest.approx(0.5) and math.isinf(hi)
    with pytest.raises(ValueError, match="r_interval: no initial norm gives R < 1"):
        r_interval([[10.0, 0.0], F1, np.ones((2, 4))])
    with pytest.raises(ValueError, match="Re\\(lambda_1\\) < 0"):
        r_interval([None, np.eye(2), np.ones((2, 4))])


def test_lambda_1_refuses_jordan_block_and_discards_zeros():
    with pytest.raises(ValueError, match="lambda_1: F1 is not diagonalizable"):
        lambda_1([[-1.0, 1.0], [0.0, -1.0]])
    F1 = np.diag([0.0, -2.0, -3.0])
    assert lambda_1(F1) == 0.0
    assert lambda_1(F1, discard_zero=True) == pytest.approx(-2.0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: r_number([None, np.eye(2)], [1.0, 0.0]), "r_number: F1 must be dissipative"),
        (lambda: r_number([None, -np.eye(2)], [0.0, 0.0]), "u0 is the zero vector"),
        (lambda: r_number([None, -np.eye(2), np.ones((2, 2))], [1.0, 0.0]), r"F\[2\] must have shape"),
        (lambda: r_number([[1.0], -np.eye(2)], [1.0, 0.0]), r"F\[0\] must have length 2"),
        (lambda: r_number([None, -np.ones((2, 3))], [1.0, 0.0]), r"F\[1\] must be square"),
        (lambda: check_quadratic([None, [[np.inf]]]), r"F\[1\] has non-finite"),
        (lambda: solve_reference([None, -np.eye(2)], [1.0, 0.0], [0.0, 0.0]), "strictly increasing"),
        (lambda: solve_reference([None, -np.eye(2)], [1.0, 0.0], [0.0, 1.0], rtol=0), "rtol must be > 0"),
        (lambda: solve_reference([None, -np.eye(2)], [1.0], [0.0, 1.0]), "u0 must have length 2"),
        (lambda: solve_reference([None, -np.eye(2)], [1.0, 0.0], [0.0, 1.0], method="Euler"), "method must be"),
        (lambda: solve_reference([[1.0, 1.0], -np.eye(2)], [1.0, 0.0], [0.0, 1.0], forcing=1.0), "forcing must be"),
        (lambda: burgers(nx=2), "nx must be >= 3"),
        (lambda: burgers(re0=-1.0), "re0 must be > 0"),
        (lambda: burgers(nt=1), "nt must be >= 2"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_solve_reference_linear_matches_expm():
    rng = np.random.default_rng(4)
    n = 3
    F1 = rng.standard_normal((n, n)) - 2 * np.eye(n)
    F0 = rng.standard_normal(n)
    u0 = rng.standard_normal(n)
    t = np.linspace(0, 2, 9)
    out = solve_reference([F0, F1], u0, t)
    # u(t) = e^{F1 t} u0 + F1^{-1}(e^{F1 t} - I) F0
    exact = np.array([expm(F1 * s) @ u0 + np.linalg.solve(F1, (expm(F1 * s) - np.eye(n)) @ F0) for s in t])
    np.testing.assert_allclose(out, exact, rtol=0, atol=1e-9)
    assert out.shape == (9, n)


def test_solve_reference_logistic_closed_form():
    a, b, u0 = 1.0, 0.5, 1.0
    t = np.linspace(0, 5, 51)
    out = solve_reference([None, [[-a]], [[b]]], [u0], t)
    e = np.exp(-a * t)
    np.testing.assert_allclose(out[:, 0], a * u0 * e / (a - b * u0 * (1 - e)), rtol=0, atol=1e-9)


def test_solve_reference_forcing_forms_agree():
    F1 = -np.eye(2)
    F0 = np.array([1.0, -0.5])
    t = np.linspace(0, 1, 5)
    a = solve_reference([F0, F1, sp.csr_array((2, 4))], [0.1, 0.2], t, forcing=np.cos)
    b = solve_reference([lambda s: np.cos(s) * F0, F1], [0.1, 0.2], t)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------- PNAS Burgers


def test_pnas_burgers_r_number():
    # PNAS Fig. 1 / carleman_burgers.m: R = 43.59 after discarding the two zero eigenvalues
    prob = burgers()
    np.testing.assert_allclose(prob.R, 43.59, atol=0.005)
    eig = np.linalg.eigvals(prob.F1.toarray())
    assert np.sum(np.abs(eig) < 1e-12) == 2
    with pytest.raises(ValueError, match="dissipative"):
        r_number([prob.F0, prob.F1, prob.F2], prob.u0)  # lambda_1 = 0 without discarding


def test_burgers_matches_reference_script_setup():
    prob = burgers()
    assert isinstance(prob, BurgersProblem)
    assert (prob.nx, prob.nt, prob.T, prob.re0) == (16, 4000, 3.0, 20.0)
    np.testing.assert_allclose(prob.U0, 1 / np.sqrt(15))
    np.testing.assert_allclose(prob.nu, prob.U0 / 20)
    np.testing.assert_allclose(prob.dt, 3 / 3999)
    np.testing.assert_allclose(prob.x[[0, -1]], [-0.5, 0.5])
    np.testing.assert_allclose(prob.u0, -prob.U0 * np.sin(2 * np.pi * prob.x))  # the script's sign
    assert prob.F1.shape == (16, 16) and prob.F2.shape == (16, 256)
    for mat in (prob.F1, prob.F2):
        assert mat[[0], :].nnz == 0 and mat[[15], :].nnz == 0
    np.testing.assert_allclose(prob.F0_at(0.5), -prob.F0)
    np.testing.assert_allclose(prob.F0, prob.U0 * np.exp(-((prob.x - 0.25) ** 2) / (2 / 32**2)), rtol=1e-14)


def test_burgers_operators_are_central_differences():
    prob = burgers()
    x = prob.x
    u = np.cos(np.pi * x) ** 2
    inner = slice(1, -1)
    # F1 u = nu * second difference, F2 (u(x)u) = -(u^2/2)' by central differences
    d2 = (u[2:] - 2 * u[1:-1] + u[:-2]) / prob.dx**2
    adv = -(u[2:] ** 2 - u[:-2] ** 2) / (4 * prob.dx)
    np.testing.assert_allclose((prob.F1 @ u)[inner], prob.nu * d2, rtol=1e-12)
    np.testing.assert_allclose((prob.F2 @ np.kron(u, u))[inner], adv, rtol=1e-12, atol=1e-15)


def test_burgers_reference_solution_is_converged():
    prob = burgers()
    t = prob.t[::40]
    a = solve_reference(prob, prob.u0, t)
    b = solve_reference(prob, t_eval=t, method="RK45")
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-8)
    assert np.abs(a[:, [0, -1]]).max() < 1e-12  # Dirichlet boundaries stay (numerically) zero


def test_check_quadratic_dissipative_hypotheses():
    F1, F2, F0 = check_quadratic([None, -np.eye(2), None], dissipative=True)
    assert F2.shape == (2, 4) and not F0.any() and sp.issparse(F1)
    with pytest.raises(ValueError, match="myfunc: F1 must be dissipative"):
        check_quadratic([None, np.diag([-1.0, 0.5])], dissipative=True, func="myfunc")
    with pytest.raises(ValueError, match="not diagonalizable"):
        check_quadratic([None, [[-1.0, 1.0], [0.0, -1.0]]], dissipative=True)
    check_quadratic([None, np.diag([0.0, -1.0])], dissipative=True, discard_zero=True)


# --------------------------------------------------------------------------------------------
# one coefficient object in ascending degree order
# --------------------------------------------------------------------------------------------


class _Map:
    """Carries coefficients as a PolynomialMap does."""

    def __init__(self, coefficients):
        self.coefficients = tuple(coefficients)


def test_every_function_accepts_the_coefficients_as_one_object():
    F0, F1, F2, u0 = np.array([0.01, 0.0]), np.diag([-1.0, -2.0]), 0.1 * np.ones((2, 4)), np.array([0.3, -0.2])
    t = np.linspace(0.0, 0.5, 4)
    ref = [F0, F1, F2]
    for F in ((F0, F1, F2), _Map([F0, F1, F2])):
        assert r_number(F, u0) == r_number(ref, u0)
        assert r_number(F, u0=u0) == r_number(ref, u0)
        assert r_interval(F) == r_interval(ref)
        assert lambda_1(F) == lambda_1(F1)
        np.testing.assert_array_equal(solve_reference(F, u0, t), solve_reference(ref, u0, t))
        np.testing.assert_array_equal(solve_reference(F, u0=u0, t_eval=t), solve_reference(ref, u0, t))
        for a, b in zip(check_quadratic(F), check_quadratic(ref)):
            np.testing.assert_array_equal(a.toarray() if sp.issparse(a) else a, b.toarray() if sp.issparse(b) else b)
    assert r_number([None, F1], u0) == r_number([None, F1, None], u0) == r_number([np.zeros(2), F1, 0 * F2], u0)


def test_a_problem_object_brings_its_own_state_grid_and_forcing():
    p = burgers(nt=50)
    assert r_number(p) == p.R
    t = p.t[:5]
    np.testing.assert_array_equal(solve_reference(p, t_eval=t),
                                  solve_reference([p.F0, p.F1, p.F2], p.u0, t, forcing=p.forcing))


# --------------------------------------------------------------------------------------------
# the coefficients are one object: separate matrices in the former argument orders are refused
# --------------------------------------------------------------------------------------------

_OLD_ORDER = {
    # the former separate-coefficient calls, now a TypeError (too many positional arguments) or a
    # ValueError naming F (a bare matrix or vector is not a coefficient object)
    "r_number(F0, F1, F2, u0)": (lambda F0, F1, F2, u0, t: r_number(F0, F1, F2, u0), TypeError, ["positional"]),
    "r_number(F0, F1)": (lambda F0, F1, F2, u0, t: r_number(F0, F1), ValueError, ["r_number", "F must be"]),
    "r_interval(F0, F1, F2)": (lambda F0, F1, F2, u0, t: r_interval(F0, F1, F2), TypeError, ["positional"]),
    "check_quadratic(F1, F2, F0)": (lambda F0, F1, F2, u0, t: check_quadratic(F1, F2, F0), TypeError,
                                    ["positional"]),
    "check_quadratic(F1)": (lambda F0, F1, F2, u0, t: check_quadratic(F1), ValueError,
                            ["check_quadratic", "F must be", "ndarray of shape (2, 2)"]),
    "check_quadratic(list F1)": (lambda F0, F1, F2, u0, t: check_quadratic(F1.tolist()), ValueError,
                                 ["check_quadratic", "F[1] (F1) must be an (n, n) matrix", "1 dimension"]),
    "solve_reference(F1, F2, F0, u0, t)": (lambda F0, F1, F2, u0, t: solve_reference(F1, F2, F0, u0, t),
                                           TypeError, ["positional"]),
}


@pytest.mark.parametrize("case", list(_OLD_ORDER))
def test_the_former_separate_coefficient_calls_are_refused(case, refuses):
    F0, F1, F2, u0 = np.array([0.01, 0.0]), np.diag([-1.0, -2.0]), 0.1 * np.ones((2, 4)), np.array([0.3, -0.2])
    call, exc, words = _OLD_ORDER[case]
    refuses(call, exc, words, F0, F1, F2, u0, np.linspace(0.0, 0.5, 4))


# --------------------------------------------------------------------------------------------
# the bad-input catalogue: (call, words the message must contain); every one a ValueError
# --------------------------------------------------------------------------------------------

_F1, _F2, _U0 = np.diag([-1.0, -2.0]), 0.1 * np.ones((2, 4)), np.array([0.3, -0.2])


class _NoF0:
    """A problem-like object that lacks F0."""

    F1, F2, u0 = _F1, _F2, _U0


BAD_INPUT = {
    "r complex F1": (lambda: r_number([None, [[-1.0, 0.1j], [0.0, -1.0]]], [1.0, 0.0]), ["r_number", "F[1]", "real"]),
    "r None F1": (lambda: r_number([None, None, None], [1.0]), ["r_number", "F1", "None"]),
    "r string u0": (lambda: r_number([None, _F1, _F2], "u0"), ["r_number", "u0", "string"]),
    "r zero u0": (lambda: r_number([None, _F1, _F2], [0.0, 0.0]), ["r_number", "u0", "zero vector"]),
    "r nan F2": (lambda: r_number([None, _F1, np.full((2, 4), np.nan)], _U0), ["r_number", "F[2]", "non-finite"]),
    "r missing u0": (lambda: r_number([None, _F1, _F2]), ["r_number", "missing", "u0"]),
    "r one-entry list": (lambda: r_number([_F1], _U0), ["r_number", "F must hold F0, F1", "1 entry (only F0)"]),
    "r degree-4 list": (lambda: r_number([None, _F1, _F2, np.zeros((2, 8)), np.zeros((2, 16))], _U0),
                        ["r_number", "F must hold F0, F1 and up to F2", "5 entries (degree 4)"]),
    "r dict": (lambda: r_number({"F1": _F1, "F2": _F2}, _U0), ["r_number", "F must be a list", "dict", "'F1'"]),
    "r stacked 3-D array": (lambda: r_number(np.stack([_F1, _F1]), _U0),
                            ["r_number", "F must be a list", "stacked", "shape (2, 2, 2)"]),
    "r object without F0": (lambda: r_number(_NoF0(), _U0),
                            ["r_number", "F is a _NoF0 with the attributes F1, F2 but without F0"]),
    "r object without F1": (lambda: solve_reference(SimpleNamespace(F0=None, u0=_U0), t_eval=[0, 1]),
                            ["solve_reference", "attribute F0 but without F1"]),
    "r bare matrix": (lambda: r_number(_F1, _U0), ["r_number", "F must be a list", "ndarray of shape (2, 2)"]),
    "r not dissipative": (lambda: r_number([None, np.eye(2), _F2], _U0), ["r_number", "dissipative"]),
    "r string discard_zero": (lambda: r_number([None, _F1, _F2], _U0, discard_zero="yes"), ["r_number", "discard_zero"]),
    "interval complex F0": (lambda: r_interval([[0.1j, 0], _F1, _F2]), ["r_interval", "F[0]", "real"]),
    "interval empty F1": (lambda: r_interval([None, np.zeros((0, 0))]), ["r_interval", "F[1]", "empty"]),
    "lambda_1 string": (lambda: lambda_1("F1"), ["lambda_1", "F1", "string"]),
    "lambda_1 wrong shape": (lambda: lambda_1(np.ones((2, 3))), ["lambda_1", "F1", "square"]),
    "reference inf u0": (lambda: solve_reference([None, _F1, _F2], [np.inf, 0], [0, 1]),
                         ["solve_reference", "u0", "non-finite"]),
    "reference complex t": (lambda: solve_reference([None, _F1, _F2], _U0, [0, 1j]),
                            ["solve_reference", "t_eval", "real"]),
    "reference decreasing t": (lambda: solve_reference([None, _F1, _F2], _U0, [1.0, 0.0]),
                               ["solve_reference", "t_eval", "increasing"]),
    "reference bad F0(t)": (lambda: solve_reference([lambda t: np.ones(3), _F1, _F2], _U0, [0, 1]),
                            ["solve_reference", "F0(t)", "length 2"]),
    "reference blow-up": (lambda: solve_reference([None, [[1.0]], [[1.0]]], [1.0], [0.0, 2.0]),
                          ["solve_reference"]),
    "reference missing t": (lambda: solve_reference([None, _F1, _F2], _U0), ["solve_reference", "missing", "t_eval"]),
    "burgers absurd nx": (lambda: burgers(nx=10**7), ["burgers", "nx = 10000000", "max_bytes"]),
    "burgers small limit": (lambda: burgers(nx=16, max_bytes=100), ["burgers", "max_bytes"]),
    "burgers string nx": (lambda: burgers(nx="16"), ["burgers", "nx", "integer"]),
    "burgers nan re0": (lambda: burgers(re0=float("nan")), ["burgers", "re0"]),
    "burgers complex T": (lambda: burgers(T=1j), ["burgers", "T"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, refuses):
    call, words = BAD_INPUT[case]
    refuses(call, ValueError, words)


def test_dense_eigen_decomposition_is_guarded():
    with pytest.raises(ValueError, match="lambda_1: the dense eigen-decomposition of the 20000 x 20000"):
        lambda_1(sp.eye_array(20000, format="csr"))
    with pytest.raises(ValueError, match="r_number: the dense eigen-decomposition"):
        r_number([None, -sp.eye_array(20000, format="csr")], np.ones(20000))


@pytest.mark.parametrize("bad", ["0.5", None, 1j, float("nan"), [0.5]])
def test_burgers_forcing_at_a_bad_time(bad):
    with pytest.raises(ValueError, match="BurgersProblem.F0_at: t must be a finite real number"):
        burgers(nt=10).F0_at(bad)
