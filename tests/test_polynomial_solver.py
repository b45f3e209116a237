"""Tests of qsgd.solvers.polynomial: the inverse polynomial, the QSVT output model and the registry entry."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.polynomial.chebyshev import chebval
from scipy.optimize import minimize_scalar

from qsgd.decomposition import Decomposition, SpectralBounds, decompose
from qsgd.solvers.base import LinearSystem, SolverResult
from qsgd.solvers.polynomial import (
    BLOCK_ENCODING_ANCILLAS,
    DEFAULT_ACCURACY,
    GRID_FACTOR,
    MAX_DEGREE,
    SIGNAL_QUBITS,
    InversePolynomial,
    PolynomialModelResult,
    inverse_polynomial,
    polynomial_entry,
    polynomial_model,
)

KAPPAS = (1.5, 2.0, 10.0, 50.0, 200.0)
EPSILONS = (1e-1, 1e-3, 1e-8)


def _grid(kappa, points=20_001):
    """[1/kappa, 1]: uniform points plus geometric ones crowding 1/kappa, where 1/x varies fastest."""
    uniform = np.linspace(1.0 / kappa, 1.0, points)
    geometric = np.geomspace(1.0 / kappa, 1.0, points)
    return np.unique(np.concatenate([uniform, geometric]))


def _max_error(coefficients, kappa):
    x = _grid(kappa)
    return float(np.max(np.abs(chebval(x, coefficients) - 1.0 / x)))


def _matrix(rng, m, kappa, *, symmetric):
    """A random (m, m) matrix with singular values (eigenvalue moduli) spread over [1/kappa, 1], both ends included."""
    s = np.concatenate([[1.0, 1.0 / kappa], np.exp(rng.uniform(-math.log(kappa), 0.0, m - 2))])
    Q1, _ = np.linalg.qr(rng.standard_normal((m, m)))
    if symmetric:
        signs = rng.choice([-1.0, 1.0], m)
        A = Q1 @ np.diag(signs * s) @ Q1.T
        return (A + A.T) / 2.0
    Q2, _ = np.linalg.qr(rng.standard_normal((m, m)))
    return Q1 @ np.diag(s) @ Q2.T


def _eq6_like(rng, n=3, blocks=3, scale=0.3):
    """[[I, 0, 0], [-C, I, 0], [0, -C, I]]: the block lower-bidiagonal shape of the paper's Eq. 6."""
    C = rng.standard_normal((n, n))
    C *= scale / np.linalg.norm(C, 2)
    m = n * blocks
    L = np.eye(m)
    for k in range(1, blocks):
        L[k * n:(k + 1) * n, (k - 1) * n:k * n] = -C
    return L


# ------------------------------------------------------------------ the polynomial


@pytest.mark.parametrize("kappa", KAPPAS)
@pytest.mark.parametrize("eps", EPSILONS)
def test_polynomial_is_close_to_reciprocal(kappa, eps):
    # Lemma 19 of Childs-Kothari-Somma: |g(x) - 1/x| <= 2 eps on [1/kappa, 1]; the computed delta is below
    # that and above the measured error (up to rounding of the Chebyshev sum)
    p = inverse_polynomial(kappa, eps)
    measured = _max_error(p.coefficients, kappa)
    rounding = 1e-12 * p.normalization
    assert p.uniform_error <= p.guarantee == 2.0 * eps
    assert measured <= p.uniform_error + rounding
    assert measured <= 2.0 * eps
    # and it is on the negative side too (odd)
    x = -_grid(kappa, 2001)
    np.testing.assert_array_less(np.abs(p.evaluate(x) - 1.0 / x), p.uniform_error + rounding)


@pytest.mark.parametrize("kappa, eps", [(2.0, 1e-3), (10.0, 1e-2), (50.0, 1e-4), (200.0, 1e-8)])
def test_truncation_below_the_lemma_fails(kappa, eps):
    # the same measurement fails for the series cut at D/2 (degree D + 1 instead of 2D + 1)
    p = inverse_polynomial(kappa, eps)
    half = p.truncation // 2
    cut = p.coefficients[: 2 * half + 2]
    assert _max_error(cut, kappa) > p.guarantee
    assert _max_error(p.coefficients, kappa) <= p.guarantee


def test_polynomial_parameters_follow_the_lemma():
    p = inverse_polynomial(10, 1e-2)
    assert isinstance(p, InversePolynomial)
    assert p.b == math.ceil(100 * math.log(1e3)) == 691
    assert p.truncation == math.ceil(math.sqrt(691 * math.log(4 * 691 / 1e-2))) == 94
    assert p.degree == 2 * 94 + 1 == p.coefficients.size - 1
    # the coefficient of T_1 is 4 Pr[X > b], X ~ Bin(2b, 1/2): 2 (1 - Pr[X = b])
    from scipy.stats import binom
    assert p.coefficients[1] == pytest.approx(2.0 * (1.0 - binom.pmf(691, 1382, 0.5)), rel=1e-12)
    # small kappa: D is capped at b - 1, where the series is f itself, of degree 2b - 1
    q = inverse_polynomial(1.5, 0.5)
    assert q.b == 3 and q.truncation == 2 and q.degree == 5
    x = np.linspace(-1, 1, 101)[np.linspace(-1, 1, 101) != 0]
    np.testing.assert_allclose(q.evaluate(x), (1 - (1 - x**2) ** 3) / x, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("kappa, eps", [(1.0, 0.3), (2.0, 1e-2), (10.0, 1e-6), (100.0, 1e-3), (200.0, 1e-8)])
def test_polynomial_is_odd(kappa, eps):
    p = inverse_polynomial(kappa, eps)
    assert np.all(p.coefficients[0::2] == 0.0)
    assert p.degree % 2 == 1
    x = np.linspace(0.0, 1.0, 1001)
    np.testing.assert_allclose(p.evaluate(-x), -p.evaluate(x), rtol=0, atol=1e-12 * p.normalization)


@pytest.mark.parametrize("kappa, eps", [(1.0, 0.3), (2.0, 1e-2), (10.0, 1e-6), (100.0, 1e-3), (200.0, 1e-8)])
def test_scaled_polynomial_is_bounded_by_one(kappa, eps):
    p = inverse_polynomial(kappa, eps)
    x = np.cos(np.linspace(0.0, np.pi, 200_001))
    values = p.evaluate(x, scaled=True)
    assert np.max(np.abs(values)) <= 1.0
    # refine around the largest grid value: the continuous maximum stays below 1 too
    k = int(np.argmax(np.abs(values)))
    lo, hi = x[min(k + 1, x.size - 1)], x[max(k - 1, 0)]
    best = minimize_scalar(lambda t: -abs(float(p.evaluate(t, scaled=True))), bounds=(lo, hi), method="bounded",
                           options={"xatol": 1e-14})
    assert -best.fun <= 1.0
    # and the normalization wastes little: at most the Ehlich-Zeller factor sec(pi / (2 GRID_FACTOR))
    assert -best.fun >= math.cos(math.pi / (2 * GRID_FACTOR)) - 1e-12


def test_rescaling_by_two_kappa_would_not_be_bounded():
    # why the normalization is the computed maximum: max |g| ~ 0.64 sqrt(b) exceeds 2 kappa for small eps
    p = inverse_polynomial(100, 1e-8)
    x = np.cos(np.linspace(0.0, np.pi, 200_001))
    assert np.max(np.abs(p.evaluate(x))) / (2 * 100) > 1.0
    assert p.normalization == pytest.approx(0.638 * math.sqrt(p.b), rel=0.01)


def test_degree_scales_as_kappa_log_kappa_over_eps():
    kappas = np.array([10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0])
    for eps in (1e-2, 1e-6):
        degrees = np.array([inverse_polynomial(k, eps).degree for k in kappas])
        scale = kappas * np.log(kappas / eps)
        slope = np.polyfit(np.log(scale), np.log(degrees), 1)[0]
        assert 0.97 <= slope <= 1.05, slope
        assert np.all((2.0 <= degrees / scale) & (degrees / scale <= 3.2)), degrees / scale
        # far from the kappa^2 of the untruncated f (degree 2b - 1)
        assert np.polyfit(np.log(kappas), np.log(degrees), 1)[0] < 1.2
    # monotone in both arguments
    assert inverse_polynomial(20, 1e-3).degree < inverse_polynomial(40, 1e-3).degree
    assert inverse_polynomial(20, 1e-3).degree < inverse_polynomial(20, 1e-5).degree


# ------------------------------------------------------------------ the QSVT output model


def _coverage_cases():
    rng = np.random.default_rng(20240434)
    cases = []
    for k in range(60):
        kappa = float(np.exp(rng.uniform(math.log(2.0), math.log(200.0))))
        eps = float(rng.choice([1e-1, 1e-2, 1e-4, 1e-6]))
        m = int(rng.integers(3, 25))
        symmetric = bool(k % 2)
        A = _matrix(rng, m, kappa, symmetric=symmetric)
        b = rng.standard_normal(m)
        cases.append((A, b, eps, symmetric))
    return cases


def test_error_bound_covers_random_instances():
    cases = _coverage_cases()
    assert len(cases) >= 50
    ratios = []
    for A, b, eps, symmetric in cases:
        d = decompose(A)
        assert d.symmetric == symmetric
        res = polynomial_model(d, b, eps=eps)
        assert isinstance(res, PolynomialModelResult)
        exact = np.linalg.solve(A, b)
        exact /= np.linalg.norm(exact)
        np.testing.assert_allclose(res.reference, exact, atol=1e-9)
        error = float(np.linalg.norm(res.solution - exact))
        assert error == pytest.approx(res.error, abs=1e-9)
        assert error <= res.error_bound, (error, res.error_bound, eps, res.kappa)
        assert res.error_bound <= 4.0 * eps
        if eps <= 1e-2:
            assert res.error_bound < 1.0 and res.success, res.message
        # the postselected amplitudes are those of the bounded polynomial: probability in (0, 1]
        assert 0.0 < res.success_probability <= 1.0
        assert res.success_probability == pytest.approx(float(np.dot(res.amplitudes, res.amplitudes)), rel=1e-12)
        ratios.append(error / res.error_bound)
    # the bound is a bound, not an estimate: on random right-hand sides it is loose
    assert max(ratios) <= 1.0


@pytest.mark.parametrize("symmetric", [False, True])
@pytest.mark.parametrize("kappa, eps", [(3.0, 1e-2), (40.0, 1e-4), (150.0, 1e-6)])
def test_unnormalized_step_of_the_bound_is_sharp(symmetric, kappa, eps):
    # the derivation's first step, ||N u - alpha A^{-1} b|| <= delta, holds for every b and is attained
    # (to rounding) by b along the singular vector of the smallest singular value, where x = 1/kappa
    rng = np.random.default_rng(int(kappa))
    A = _matrix(rng, 10, kappa, symmetric=symmetric)
    d = decompose(A)
    alpha = float(d.moduli.max())
    k = int(np.argmin(d.moduli))
    worst = d.left[:, k]
    for b in (worst, rng.standard_normal(10)):
        b = b / np.linalg.norm(b)
        res = polynomial_model(d, b, eps=eps)
        gap = np.linalg.norm(res.polynomial.normalization * res.amplitudes - alpha * np.linalg.solve(A, b))
        assert gap <= res.polynomial.uniform_error * (1 + 1e-6)
    res = polynomial_model(d, worst, eps=eps)
    gap = np.linalg.norm(res.polynomial.normalization * res.amplitudes - alpha * np.linalg.solve(A, worst))
    assert gap >= 0.99 * res.polynomial.uniform_error


def test_model_matches_numpy_solve_for_small_eps():
    rng = np.random.default_rng(7)
    for symmetric in (False, True):
        A = _matrix(rng, 12, 10.0, symmetric=symmetric)
        b = rng.standard_normal(12)
        res = polynomial_model(decompose(A), b, eps=1e-8)
        exact = np.linalg.solve(A, b)
        assert np.linalg.norm(res.solution - exact / np.linalg.norm(exact)) < 1e-6
        assert res.error_bound < 1e-7
        assert res.kappa == pytest.approx(10.0, rel=1e-9)


def test_success_probability_is_the_bounded_polynomial_on_the_spectrum():
    # diagonal A: u_i = g(a_i / alpha) / N * b_i, by hand
    a = np.array([1.0, 0.5, 0.25, -0.1])
    b = np.array([1.0, 2.0, -1.0, 0.5])
    res = polynomial_model(decompose(np.diag(a)), b, eps=1e-3)
    p = inverse_polynomial(10.0, 1e-3)
    u = chebval(a, p.coefficients) / p.normalization * b / np.linalg.norm(b)
    np.testing.assert_allclose(res.amplitudes, u, rtol=1e-12)
    assert res.success_probability == pytest.approx(float(u @ u), rel=1e-12)
    assert res.queries == p.degree
    assert res.polynomial.degree == p.degree


def test_bounds_change_kappa_and_coverage():
    rng = np.random.default_rng(11)
    A = _matrix(rng, 8, 20.0, symmetric=False)
    b = rng.standard_normal(8)
    d = decompose(A)
    exact = decompose(A).bounds
    loose = polynomial_model(d, b, eps=1e-3, bounds=(exact.lower / 2, exact.upper * 2))
    tight = polynomial_model(d, b, eps=1e-3)
    assert loose.kappa == pytest.approx(4 * tight.kappa)
    assert loose.queries > tight.queries
    assert loose.error <= loose.error_bound and loose.success
    assert loose.upper == pytest.approx(2 * exact.upper)
    # the same from a SpectralBounds object
    sb = SpectralBounds(exact.lower / 2, exact.upper * 2, False, True, "known")
    np.testing.assert_array_equal(polynomial_model(d, b, eps=1e-3, bounds=sb).solution, loose.solution)
    # a lower bound above the smallest singular value: no guarantee, no bound
    blind = polynomial_model(d, b, eps=1e-3, bounds=(exact.lower * 4, exact.upper))
    assert blind.error_bound == math.inf and not blind.success
    assert "below bounds.lower" in blind.message


def test_qubit_count_is_system_plus_two():
    rng = np.random.default_rng(3)
    for m, system in ((2, 1), (5, 3), (8, 3), (9, 4)):
        res = polynomial_model(decompose(_matrix(rng, m, 3.0, symmetric=False)), np.ones(m), eps=1e-2)
        assert res.system_qubits == system
        assert res.qubits == system + BLOCK_ENCODING_ANCILLAS + SIGNAL_QUBITS == system + 2


def test_vacuous_bound_is_reported():
    rng = np.random.default_rng(5)
    A = _matrix(rng, 6, 5.0, symmetric=True)
    res = polynomial_model(decompose(A), rng.standard_normal(6), eps=0.6)
    assert res.error_bound >= 1.0
    assert not res.success and "vacuous" in res.message


# ------------------------------------------------------------------ the registry entry


def test_entry_on_eq6_like_system():
    rng = np.random.default_rng(434)
    L = _eq6_like(rng)
    b = np.zeros(L.shape[0])
    b[:3] = rng.standard_normal(3)
    b /= np.linalg.norm(b)
    settings = SimpleNamespace(accuracy=1e-4)
    result = polynomial_entry(LinearSystem(matrix=L, rhs=b), settings, np.random.default_rng(0))
    assert isinstance(result, SolverResult)
    assert result.solver == "polynomial"
    assert result.success, result.message
    exact = np.linalg.solve(L, b)
    exact /= np.linalg.norm(exact)
    assert np.linalg.norm(result.state - exact) <= result.error_bound <= 4e-4
    assert result.queries == result.parameters.degree
    assert isinstance(result.parameters, InversePolynomial) and result.parameters.eps == 1e-4
    assert isinstance(result.details, PolynomialModelResult) and not result.details.symmetric
    assert result.qubits == math.ceil(math.log2(9)) + 2
    np.testing.assert_array_equal(result.model_state, result.state)
    assert result.model_probability == result.success_probability
    # a given decomposition gives the same answer; rng is ignored
    again = polynomial_entry(LinearSystem(matrix=L, rhs=b, decomposition=decompose(L)), settings,
                             np.random.default_rng(99))
    np.testing.assert_allclose(again.state, result.state, atol=1e-12)


def test_entry_reads_only_accuracy():
    rng = np.random.default_rng(1)
    L = _eq6_like(rng, n=2, blocks=2)
    system = LinearSystem(matrix=L, rhs=np.array([1.0, 0.0, 0.0, 0.0]))
    assert polynomial_entry(system, object(), None).parameters.eps == DEFAULT_ACCURACY
    assert polynomial_entry(system, SimpleNamespace(accuracy=None), None).parameters.eps == DEFAULT_ACCURACY
    vague = polynomial_entry(system, SimpleNamespace(accuracy=0.9), None)
    assert not vague.success and "vacuous" in vague.message


# ------------------------------------------------------------------ bad input


def _bad_cases():
    d = decompose([[2.0, 1.0], [0.0, 1.0]])
    values_only = decompose([[2.0, 1.0], [0.0, 1.0]], vectors=False)
    system = LinearSystem(matrix=np.eye(2), rhs=np.array([1.0, 0.0]))
    return {
        "kappa below one": (inverse_polynomial, ["inverse_polynomial", "kappa", "0.5", ">= 1"], (0.5, 1e-2)),
        "kappa nan": (inverse_polynomial, ["inverse_polynomial", "kappa", "nan"], (float("nan"), 1e-2)),
        "kappa inf": (inverse_polynomial, ["inverse_polynomial", "kappa", "inf"], (float("inf"), 1e-2)),
        "kappa string": (inverse_polynomial, ["inverse_polynomial", "kappa", "'10'"], ("10", 1e-2)),
        "eps zero": (inverse_polynomial, ["inverse_polynomial", "eps", "0"], (10.0, 0.0)),
        "eps above one": (inverse_polynomial, ["inverse_polynomial", "eps", "1.5", "(0, 1)"], (10.0, 1.5)),
        "huge kappa": (inverse_polynomial, ["inverse_polynomial", "kappa=1e+06", "degree", str(MAX_DEGREE)],
                       (1e6, 1e-2)),
        "astronomical kappa": (inverse_polynomial, ["inverse_polynomial", "kappa=1e+300", "degree"], (1e300, 1e-2)),
        "not a decomposition": (lambda: polynomial_model(np.eye(2), [1.0, 0.0], eps=1e-2),
                                ["polynomial_model", "decomposition", "Decomposition", "ndarray"], ()),
        "values only": (lambda: polynomial_model(values_only, [1.0, 0.0], eps=1e-2),
                        ["polynomial_model", "decomposition", "values only"], ()),
        "rhs wrong length": (lambda: polynomial_model(d, [1.0, 0.0, 0.0], eps=1e-2),
                             ["polynomial_model", "rhs", "length 2", "got 3"], ()),
        "rhs zero": (lambda: polynomial_model(d, [0.0, 0.0], eps=1e-2), ["polynomial_model", "rhs", "zero"], ()),
        "rhs nan": (lambda: polynomial_model(d, [np.nan, 1.0], eps=1e-2),
                    ["polynomial_model", "rhs", "non-finite", "nan"], ()),
        "rhs inf": (lambda: polynomial_model(d, [1.0, np.inf], eps=1e-2),
                    ["polynomial_model", "rhs", "non-finite", "inf"], ()),
        "model eps": (lambda: polynomial_model(d, [1.0, 0.0], eps=1.0), ["polynomial_model", "eps", "1.0"], ()),
        "bounds type": (lambda: polynomial_model(d, [1.0, 0.0], eps=1e-2, bounds="exact"),
                        ["polynomial_model", "bounds", "'exact'"], ()),
        "bounds reversed": (lambda: polynomial_model(d, [1.0, 0.0], eps=1e-2, bounds=(3.0, 1.0)),
                            ["polynomial_model", "bounds", "lower=3.0", "upper=1.0"], ()),
        "bounds upper below norm": (lambda: polynomial_model(d, [1.0, 0.0], eps=1e-2, bounds=(0.1, 1.0)),
                                    ["polynomial_model", "bounds.upper=1", "largest singular value"], ()),
        "entry system": (lambda: polynomial_entry(np.eye(2), None, None),
                         ["polynomial_entry", "system", "LinearSystem"], ()),
        "entry accuracy": (lambda: polynomial_entry(system, SimpleNamespace(accuracy=2.0), None),
                           ["polynomial_entry", "settings.accuracy", "2.0"], ()),
        "evaluate nan": (lambda: inverse_polynomial(2, 0.1).evaluate([0.5, np.nan]),
                         ["InversePolynomial.evaluate", "x"], ()),
    }


@pytest.mark.parametrize("name", sorted(_bad_cases()))
def test_bad_input(refuses, name):
    call, words, args = _bad_cases()[name]
    refuses(call, ValueError, words, *args)


def test_decomposition_type_is_the_package_one():
    d = decompose(np.diag([1.0, 2.0]))
    assert isinstance(d, Decomposition) and d.symmetric
