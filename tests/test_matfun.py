"""Tests of qsgd.matfun and of the matrix-free paths built on it (HHL filter series, polynomial solver, pipeline)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, aslinearoperator
from scipy.special import jv

from qsgd.decomposition import SpectralBounds, decompose
from qsgd.hhl.filter import MAX_EXPANSION_DEGREE, filter_expansion, hhl_filter, kapteyn_tail
from qsgd.hhl.model import hhl_model
from qsgd.hhl.parameters import PHASE_HEADROOM, HHLResolutionWarning, hhl_parameters
from qsgd.matfun import (
    MAX_CHEBYSHEV_DEGREE,
    chebyshev_apply,
    chebyshev_dilation,
    lanczos_width,
    singular_value_bracket,
)
from qsgd.solvers.polynomial import polynomial_model


def matrix_with(rng, sigma, *, symmetric=False):
    m = sigma.size
    Q1, _ = np.linalg.qr(rng.standard_normal((m, m)))
    if symmetric:
        return Q1 @ np.diag(sigma) @ Q1.T
    Q2, _ = np.linalg.qr(rng.standard_normal((m, m)))
    return Q1 @ np.diag(sigma) @ Q2.T


def eq6_like(m, rng):
    """A sparse unit lower-triangular matrix, like the Eq. 6 matrix."""
    return sp.csr_array(sp.eye(m) - sp.tril(sp.random(m, m, density=4.0 / m, random_state=rng), k=-1) * 0.6)


# --------------------------------------------------------------------------- Chebyshev series


@pytest.mark.parametrize("seed", range(4))
def test_chebyshev_dilation_is_the_series_of_the_dilation(seed):
    rng = np.random.default_rng(seed)
    m = 12
    A = rng.standard_normal((m, m))
    b = rng.standard_normal(m)
    c = rng.standard_normal(9)
    U, s, Wt = np.linalg.svd(A)
    R = 1.3 * s[0]
    p = lambda x: np.polynomial.chebyshev.chebval(x / R, c)  # noqa: E731
    beta = U.T @ b
    top_ref = U @ (0.5 * (p(s) + p(-s)) * beta)
    bottom_ref = Wt.T @ (0.5 * (p(s) - p(-s)) * beta)
    for op in (A, sp.csr_array(A), aslinearoperator(A)):
        top, bottom = chebyshev_dilation(op, b, c, radius=R)
        np.testing.assert_allclose(top, top_ref, atol=1e-12 * np.abs(c).sum() * np.linalg.norm(b))
        np.testing.assert_allclose(bottom, bottom_ref, atol=1e-12 * np.abs(c).sum() * np.linalg.norm(b))


def test_chebyshev_apply_is_the_series_of_a_symmetric_matrix():
    rng = np.random.default_rng(5)
    A = matrix_with(rng, np.linspace(-2.0, 3.0, 10), symmetric=True)
    b, c = rng.standard_normal(10), rng.standard_normal(7)
    lam, V = np.linalg.eigh(A)
    ref = V @ (np.polynomial.chebyshev.chebval(lam / 3.5, c) * (V.T @ b))
    np.testing.assert_allclose(chebyshev_apply(A, b, c, radius=3.5), ref, atol=1e-12)


def test_chebyshev_refuses_bad_input():
    A = np.eye(3)
    with pytest.raises(ValueError, match="degree 200001 is above the limit"):
        chebyshev_dilation(A, np.ones(3), np.zeros(MAX_CHEBYSHEV_DEGREE + 2), radius=1.0)
    with pytest.raises(ValueError, match="coefficients"):
        chebyshev_apply(A, np.ones(3), [1.0, np.nan], radius=1.0)
    with pytest.raises(ValueError, match="radius"):
        chebyshev_apply(A, np.ones(3), [1.0], radius=0.0)
    with pytest.raises(ValueError, match="b"):
        chebyshev_apply(A, np.ones(4), [1.0], radius=1.0)
    with pytest.raises(ValueError, match="square"):
        chebyshev_apply(np.ones((2, 3)), np.ones(3), [1.0], radius=1.0)
    with pytest.raises(ValueError, match="finite"):
        chebyshev_apply(np.array([[np.inf]]), np.ones(1), [1.0], radius=1.0)


# --------------------------------------------------------------------------- the bracket


def test_lanczos_width_is_the_kw_bound_solved_for_epsilon():
    n, k, delta = 10_000, 40, 1e-6
    eps = lanczos_width(n, k, delta)
    assert 1.648 * math.sqrt(n) * math.exp(-math.sqrt(eps) * (2 * k - 1)) == pytest.approx(delta, rel=1e-9)
    assert lanczos_width(10**6, 1, 1e-9) == 1.0  # one step: no bound
    with pytest.raises(ValueError, match="failure"):
        lanczos_width(10, 3, 1.5)


SPECTRA = {
    "spread": lambda rng, m: np.exp(rng.uniform(-3, 0, m)),
    "clustered top": lambda rng, m: np.concatenate([[1.0], 1.0 - 1e-3 * rng.uniform(0, 1, m - 2), [0.01]]),
    "clustered bottom": lambda rng, m: np.concatenate([[1.0], 0.01 + 1e-4 * rng.uniform(0, 1, m - 1)]),
    "two levels": lambda rng, m: np.where(np.arange(m) < m // 2, 1.0, 0.02),
    "geometric": lambda rng, m: 0.9 ** np.arange(m),
}


@pytest.mark.parametrize("kind", sorted(SPECTRA))
def test_the_bracket_covers_the_extreme_singular_values(kind):
    """Coverage at few Lanczos steps, where the probabilistic side of the bracket is what holds it.

    With 6 steps and failure 0.01 per side the KW width is large but the Ritz values are far from
    converged on hard spectra; a bracket that dropped the 1/(1 - eps) factor fails here.
    """
    misses, runs = 0, 60
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        m = int(rng.integers(30, 70))
        sigma = SPECTRA[kind](rng, m)
        A = matrix_with(rng, sigma)
        br = singular_value_bracket(A, steps=6, failure=0.01, rng=seed)
        s = np.linalg.svd(A, compute_uv=False)
        misses += not br.contains(float(s[-1]), float(s[0]))
        assert br.sigma_max[0] <= s[0] * (1 + 1e-10) and br.sigma_min[1] >= s[-1] * (1 - 1e-10)  # certain sides
    # at most 2 * 0.01 per run in expectation: allow the binomial 1e-4 quantile
    assert misses <= 5, f"{misses} of {runs} brackets missed"


def test_the_bracket_with_default_width_is_tight_and_covers():
    rng = np.random.default_rng(11)
    for trial in range(5):
        A = eq6_like(400, rng)
        br = singular_value_bracket(A, rng=trial)
        s = np.linalg.svd(A.toarray(), compute_uv=False)
        assert br.contains(float(s[-1]), float(s[0]))
        assert br.width <= 1e-2 and br.confidence == pytest.approx(1 - 2e-9)
        lo, hi = br.condition_number
        assert lo <= s[0] / s[-1] <= hi and hi / lo < 1.02
        assert br.bounds.method == "lanczos" and br.bounds.dilated


def test_the_bracket_takes_an_operator_with_its_solves():
    rng = np.random.default_rng(2)
    A = eq6_like(200, rng)
    lu = sp.linalg.splu(sp.csc_array(A))
    op = LinearOperator(A.shape, matvec=lambda v: A @ v, rmatvec=lambda v: A.T @ v, dtype=float)
    br = singular_value_bracket(op, solve=lu.solve, solve_transpose=lambda v: lu.solve(v, trans="T"), rng=0)
    ref = singular_value_bracket(A, rng=0)
    assert br.sigma_max == pytest.approx(ref.sigma_max, rel=1e-9) or br.sigma_max[1] >= ref.sigma_max[0]
    s = np.linalg.svd(A.toarray(), compute_uv=False)
    assert br.contains(float(s[-1]), float(s[0]))


def test_the_bracket_refuses_bad_input():
    with pytest.raises(ValueError, match="singular"):
        singular_value_bracket(sp.csr_array(np.diag([1.0, 0.0, 2.0])), rng=0)
    with pytest.raises(ValueError, match="square"):
        singular_value_bracket(np.ones((3, 2)))
    with pytest.raises(ValueError, match="width"):
        singular_value_bracket(np.eye(3), width=1.0)
    with pytest.raises(ValueError, match="failure"):
        singular_value_bracket(np.eye(3), failure=0.0)
    op = aslinearoperator(np.eye(3))
    with pytest.raises(ValueError, match="solve="):
        singular_value_bracket(op)
    with pytest.raises(ValueError, match="Lanczos basis"):
        singular_value_bracket(sp.eye(10**6, format="csr"), steps=10**4, max_bytes=1e6)
    with pytest.raises(ValueError, match="double precision"):
        singular_value_bracket(np.diag([1.0, 1e-17]), rng=0)


# --------------------------------------------------------------------------- the HHL filter as a series


@pytest.mark.parametrize("z,first", [(0.0, 1), (5.0, 6), (50.0, 60), (400.0, 420), (2000.0, 2100), (2000.0, 2500)])
def test_kapteyn_tail_bounds_the_bessel_tail(z, first):
    k = np.arange(first, first + 3000)
    assert kapteyn_tail(z, first) >= np.abs(jv(k, z)).sum()
    assert np.isinf(kapteyn_tail(10.0, 10))


@pytest.mark.parametrize("clock,lower,definite", [(4, 0.3, True), (6, 0.1, False), (8, 0.05, False), (9, 0.2, True)])
def test_the_filter_series_is_within_its_bound(clock, lower, definite):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HHLResolutionWarning)
        p = hhl_parameters(SpectralBounds(lower, 2.0, definite, not definite, "known"), clock_qubits=clock,
                           headroom=PHASE_HEADROOM)
    e = filter_expansion(p, tolerance=1e-11)
    x = np.linspace(-e.radius, e.radius, 40_001)
    g = hhl_filter(x, clock_qubits=clock, evolution_time=p.evolution_time, scaling=p.scaling, definite=definite)
    err = np.max(np.abs(np.polynomial.chebyshev.chebval(x / e.radius, e.coefficients) - g))
    assert err <= e.error_bound + 1e-13
    assert e.error_bound <= 1e-11
    # the degree is the bandwidth (2^c - 1) t R plus a little
    z = (2**clock - 1) * p.evolution_time * e.radius
    assert z <= e.degree <= z + 10 * z ** (1 / 3) + 30
    # one degree less would not be certified
    if e.degree > math.ceil(z):
        smaller = filter_expansion(p, tolerance=e.error_bound * 0.999)
        assert smaller.degree >= e.degree


def test_the_filter_series_refuses_a_clock_beyond_the_degree_limit():
    p = hhl_parameters((0.5, 2.0), clock_qubits=20, headroom=PHASE_HEADROOM)
    with pytest.raises(ValueError, match="above the limit"):
        filter_expansion(p)
    assert MAX_EXPANSION_DEGREE < 2**20
    with pytest.raises(ValueError, match="parameters"):
        filter_expansion((0.5, 2.0))


CASES = {
    "non-symmetric": dict(symmetric=False, sigma=lambda m: np.linspace(0.2, 1.5, m)),
    "symmetric definite": dict(symmetric=True, sigma=lambda m: np.linspace(0.2, 1.5, m)),
    "symmetric indefinite": dict(symmetric=True, sigma=lambda m: np.linspace(0.2, 1.5, m) * (-1) ** np.arange(m)),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("clock", [5, 8])
def test_the_chebyshev_model_is_the_decomposition_model(case, clock):
    rng = np.random.default_rng(clock)
    spec = CASES[case]
    m = 40
    A = matrix_with(rng, spec["sigma"](m), symmetric=spec["symmetric"])
    b = rng.standard_normal(m)
    dec = decompose(A)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HHLResolutionWarning)
        p = hhl_parameters(dec, clock_qubits=clock, headroom=PHASE_HEADROOM)
        ref = hhl_model(dec, b, parameters=p)
        out = hhl_model(sp.csr_array(A), b, parameters=p, method="chebyshev")
    np.testing.assert_allclose(out.statevector, ref.statevector, atol=1e-9)
    assert out.success_probability == pytest.approx(ref.success_probability, abs=1e-9)
    np.testing.assert_allclose(out.solution, ref.solution, atol=1e-8)
    np.testing.assert_allclose(np.abs(out.reference), np.abs(ref.reference), atol=1e-10)
    assert out.num_qubits == ref.num_qubits and out.eigenvalues is None
    assert out.expansion.error_bound <= 1e-10


def test_the_chebyshev_model_needs_parameters_and_a_matrix():
    with pytest.raises(ValueError, match="needs parameters"):
        hhl_model(np.eye(2), [1.0, 0.0], method="chebyshev")
    p = hhl_parameters((0.5, 1.0), clock_qubits=4, headroom=PHASE_HEADROOM)
    with pytest.raises(ValueError, match="not a Decomposition"):
        hhl_model(decompose(np.eye(2)), [1.0, 0.0], parameters=p, method="chebyshev")
    with pytest.raises(ValueError, match="method"):
        hhl_model(np.eye(2), [1.0, 0.0], parameters=p, method="lanczos")


@pytest.mark.parametrize("symmetric", [False, True])
def test_the_chebyshev_polynomial_solver_is_the_decomposition_one(symmetric):
    rng = np.random.default_rng(7)
    A = matrix_with(rng, np.linspace(0.1, 1.0, 30), symmetric=symmetric)
    b = rng.standard_normal(30)
    dec = decompose(A)
    bounds = SpectralBounds(0.09, 1.05, dec.definite, dec.dilated, "known")
    ref = polynomial_model(dec, b, eps=1e-3, bounds=bounds)
    out = polynomial_model(sp.csr_array(A), b, eps=1e-3, bounds=bounds)
    np.testing.assert_allclose(out.amplitudes, ref.amplitudes, atol=1e-11)
    assert out.error == pytest.approx(ref.error, abs=1e-9) and out.error <= out.error_bound
    assert out.queries == ref.queries and out.scaled_values is None


# --------------------------------------------------------------------------- the pipeline


def test_a_matrix_free_segment_matches_the_decomposition_segment():
    import torch

    from qsgd.pipeline import SegmentSettings, quantum_gd

    H = torch.tensor([[1.0, 0.2, 0.0], [0.2, 0.5, 0.1], [0.0, 0.1, 0.8]], dtype=torch.float64)

    def loss(th):
        return 0.5 * th @ H @ th - th.sum() + 0.1 * (th**3).sum()

    for solver in ("hhl", "polynomial"):
        base = SegmentSettings(eta=0.3, steps=3, order=2, clock_qubits=7, shots=None, solver=solver)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = quantum_gd(loss, np.zeros(3), base, rng=0, linalg="decomposition")
            b = quantum_gd(loss, np.zeros(3), base, rng=0, linalg="matrix-free")
        # the bracket is exact here (Lanczos runs to the dimension), so the parameters agree
        np.testing.assert_allclose(b.theta, a.theta, atol=1e-8)
        assert b.stages.singular_values is None and b.stages.bracket is not None
        assert b.report.resources.kappa == pytest.approx(a.report.resources.kappa, rel=1e-6)
        assert b.report.guarantee.total == pytest.approx(a.report.guarantee.total, rel=1e-5)


def test_matrix_free_settings_are_checked():
    from qsgd.pipeline import DECOMPOSITION_LIMIT, SegmentSettings, uses_decomposition

    with pytest.raises(ValueError, match="linalg"):
        SegmentSettings(eta=0.1, steps=2, linalg="svd")
    with pytest.raises(ValueError, match="matrix-free"):
        SegmentSettings(eta=0.1, steps=2, linalg="matrix-free", simulation="circuit")
    auto = SegmentSettings(eta=0.1, steps=2)
    assert uses_decomposition(DECOMPOSITION_LIMIT, auto) and not uses_decomposition(DECOMPOSITION_LIMIT + 1, auto)


@pytest.mark.parametrize("basis", ["kronecker", "symmetric"])
def test_truncation_estimate_and_bound_by_products_equal_the_explicit_ones(basis):
    from qsgd.carleman import discrete_carleman, truncation_error_estimate
    from qsgd.carleman_bounds import truncation_error_bound
    from qsgd.lifting_operators import carleman_operator

    rng = np.random.default_rng(3)
    n, T = 4, 5
    F = [0.05 * rng.standard_normal(n), sp.csr_array(-0.1 * np.eye(n) + 0.02 * rng.standard_normal((n, n))),
         sp.csr_array(0.05 * rng.standard_normal((n, n * n)))]
    u = np.zeros((T + 1, n))
    for t in range(T):
        u[t + 1] = u[t] + F[0] + F[1] @ u[t] + F[2] @ np.kron(u[t], u[t])
    C, b = discrete_carleman(F, order=2, basis=basis)
    op = carleman_operator(F, order=2, basis=basis)
    err, est, tail = truncation_error_estimate(C, b, u, order=2, basis=basis)
    err_p, est_p, tail_p = truncation_error_estimate(op, op.b, u, order=2, basis=basis)
    np.testing.assert_allclose(err_p, err, rtol=1e-10, atol=1e-15)
    assert est_p == pytest.approx(est, rel=1e-10) and np.allclose(tail_p, tail, rtol=1e-10)
    ref = truncation_error_bound(F, C, steps=T, order=2, radius=0.5, basis=basis)
    out = truncation_error_bound(F, op, steps=T, order=2, radius=0.5, basis=basis)
    assert out.bound == pytest.approx(ref.bound, rel=1e-10)
    np.testing.assert_allclose(out.propagation_norms, ref.propagation_norms, rtol=1e-10)


def test_unmeetable_matrix_function_accuracy_is_refused_before_any_work():
    A = sp.eye(50, format="csr")
    with pytest.raises(ValueError, match="lower"):  # an interval reaching zero
        SpectralBounds(0.0, 1.0, False, True, "known")
    with pytest.raises(ValueError, match="degree about .* above the limit"):  # kappa 1e9: degree beyond the limit
        polynomial_model(A, np.ones(50), eps=1e-3, bounds=SpectralBounds(1e-9, 1.0, False, True, "known"))
    p = hhl_parameters((0.5, 1.0), clock_qubits=4, headroom=PHASE_HEADROOM)
    with pytest.raises(ValueError, match="radius"):
        filter_expansion(p, radius=-1.0)
    with pytest.raises(ValueError, match="tolerance"):
        filter_expansion(p, tolerance=0.0)
