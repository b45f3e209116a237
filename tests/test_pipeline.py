"""Tests for qsgd.pipeline: one quantum segment against classical GD, term by term (chapter 8).

Every error term is compared with a tolerance derived from its own mechanism (the bounds of the
module docstring), never with a number fitted to the output:

* Taylor: one-step remainders of the polynomial map propagated with its Lipschitz constant;
* truncation: the Carleman tail (dropped-level residuals) propagated by the lifted map;
* HHL: the phase-estimation response 2 sup |r(lambda)|, which halves per clock qubit;
* tomography: sqrt(chi2_{s-1}(0.999) / (4 shots)), a 99.9 % level for the delta-method error.
"""

import dataclasses
import math
import warnings

import numpy as np
import pytest
import torch

from qsgd.decomposition import SpectralBounds, decompose
from qsgd.hhl import PHASE_HEADROOM, hhl_error_bound, hhl_error_estimate, hhl_filter, hhl_parameters
from qsgd.history import readout_error_bound, readout_weights
from qsgd.derivative_bounds import polynomial_loss, polynomial_loss_bounds
from qsgd.guarantee import GuaranteeWarning
from qsgd.pipeline import (
    NonDissipativeWarning,
    SegmentReport,
    SegmentSettings,
    sampled_runs,
    quantum_gd,
    segment_qubits,
)
from qsgd.training import GuaranteeError, TrainingRun, quantum_training
from qsgd.tomography_bounds import CONFIDENCE, tomography_error_bound


def headroom_parameters(lower, upper, clock_qubits, **kw):
    """Chapter 8's HHL parameters for singular values in [lower, upper]."""
    return hhl_parameters((lower, upper), clock_qubits=clock_qubits, headroom=PHASE_HEADROOM, **kw)


def hhl_response(lam, *, clock_qubits, evolution_time, scaling):
    """The finite-clock filter of a dilation (signed clock)."""
    return hhl_filter(lam, clock_qubits=clock_qubits, evolution_time=evolution_time, scaling=scaling, definite=False)

# --------------------------------------------------------------------------- the tiny problem

H_TINY = torch.tensor([[1.0, 0.2], [0.2, 0.6]], dtype=torch.float64)
G_TINY = torch.tensor([1.0, -0.5], dtype=torch.float64)
THETA0 = np.array([0.1, -0.2])
# the symmetric basis keeps the order-2 circuit at 13 qubits (Kronecker, the default, needs 14)
SETTINGS = dict(eta=0.5, steps=3, clock_qubits=6, shots=20_000, rng=1234, basis="symmetric")


def quartic_loss(th):
    """A loss with cubic and quartic terms: the degree-2 map has a Taylor remainder."""
    return 0.5 * th @ H_TINY @ th - G_TINY @ th + 0.1 * (th**3).sum() + 0.05 * (th**4).sum()


def cubic_loss(th):
    """Gradient exactly quadratic: the degree-2 map is exact (no Taylor remainder)."""
    return 0.5 * th @ H_TINY @ th - G_TINY @ th + 0.1 * (th**3).sum()


def quadratic_loss(th):
    """F2 = 0: Carleman order 1 is exact (claim 4)."""
    return 0.5 * th @ H_TINY @ th - G_TINY @ th


# the same losses as monomial tensors, for their a priori derivative bounds
_A3 = np.zeros((2, 2, 2))
_A4 = np.zeros((2, 2, 2, 2))
for _i in range(2):
    _A3[_i, _i, _i], _A4[_i, _i, _i, _i] = 0.1, 0.05
TENSORS = {
    "quadratic": [0.0, -G_TINY.numpy(), 0.5 * H_TINY.numpy()],
    "cubic": [0.0, -G_TINY.numpy(), 0.5 * H_TINY.numpy(), _A3],
    "quartic": [0.0, -G_TINY.numpy(), 0.5 * H_TINY.numpy(), _A3, _A4],
}


def tiny_bounds(name, degree=2, radius=1.0):
    return polynomial_loss_bounds(TENSORS[name], THETA0, radius=radius, degree=degree)


def test_the_tensors_are_the_losses():
    th = torch.tensor([0.3, -0.7], dtype=torch.float64)
    for name, loss in (("quadratic", quadratic_loss), ("cubic", cubic_loss), ("quartic", quartic_loss)):
        np.testing.assert_allclose(float(polynomial_loss(TENSORS[name])(th)), float(loss(th)), rtol=1e-14)


#: enough clock qubits and copies for a finite a priori guarantee of the tiny segment
CERTIFIED = dict(eta=0.5, steps=3, order=2, clock_qubits=12, shots=10**6, basis="symmetric")


@pytest.fixture(scope="module")
def certified():
    return quantum_gd(quartic_loss, THETA0, rng=1234, derivative_bounds=tiny_bounds("quartic"), **CERTIFIED)


@pytest.fixture(scope="module")
def segment():
    return quantum_gd(quartic_loss, THETA0, order=2, simulation="circuit", count_gates=True, **SETTINGS)


@pytest.fixture(scope="module")
def segments_by_order():
    return {N: quantum_gd(quartic_loss, THETA0, order=N, count_gates=False, **SETTINGS) for N in (1, 2, 3)}


# --------------------------------------------------------------------------- the error budget


def test_each_term_within_its_a_priori_bound(certified):
    rep, g = certified.report, certified.report.guarantee
    assert certified.success and g.success and g.complete, certified.message
    assert "a priori bound" in certified.message
    for term, e in rep.errors.items():
        assert e.holds, f"{term}: error {e.error:.3g} above its a priori bound {e.bound:.3g}"
        assert e.bound == (g.total if term == "total" else g.terms[term])
    errors = [rep.errors[t].error for t in ("taylor", "truncation", "solver", "tomography")]
    assert rep.errors["total"].error <= sum(errors) + 1e-12
    np.testing.assert_allclose(g.total, sum(g.terms.values()), rtol=1e-12)
    for term, e in rep.state_errors.items():
        assert e.holds, term


def test_a_priori_bounds_do_not_depend_on_the_run():
    """The guarantee is computed before the solver runs: the seed, the simulation and the
    tomography's draws do not change it."""
    a = quantum_gd(quartic_loss, THETA0, rng=1, derivative_bounds=tiny_bounds("quartic"), **CERTIFIED)
    b = quantum_gd(quartic_loss, THETA0, rng=2, derivative_bounds=tiny_bounds("quartic"), **CERTIFIED)
    assert not np.array_equal(a.theta, b.theta)
    assert a.report.guarantee.terms == b.report.guarantee.terms


def test_a_failed_guarantee_is_a_failed_segment():
    """Too few clock qubits or copies: success=False with a message and a warning, never 'completed'."""
    few_clock = dict(CERTIFIED, clock_qubits=3)
    with pytest.warns(GuaranteeWarning, match="solver"):
        res = quantum_gd(quartic_loss, THETA0, rng=0, derivative_bounds=tiny_bounds("quartic"), **few_clock)
    assert not res.success and "guarantee failed" in res.message and "infinite" in res.message
    few_copies = dict(CERTIFIED, shots=10)
    with pytest.warns(GuaranteeWarning, match="tomography"):
        res = quantum_gd(quartic_loss, THETA0, rng=0, derivative_bounds=tiny_bounds("quartic"), **few_copies)
    assert not res.success and "tomography" in res.message
    with pytest.warns(GuaranteeWarning, match="exceeds the tolerance"):
        res = quantum_gd(quartic_loss, THETA0, rng=0, derivative_bounds=tiny_bounds("quartic"),
                         **dict(CERTIFIED, tolerance=0.01))
    assert not res.success


def test_a_loss_without_derivative_bounds_has_an_incomplete_guarantee():
    res = quantum_gd(quartic_loss, THETA0, rng=0, **CERTIFIED)
    g = res.report.guarantee
    assert res.success and not g.complete and math.isnan(g.terms["taylor"]) and g.total == math.inf
    assert "no a priori bound for the Taylor term" in res.message
    assert not res.report.errors["taylor"].holds  # a nan bound guarantees nothing
    with pytest.warns(GuaranteeWarning, match="cannot be certified"):
        res = quantum_gd(quartic_loss, THETA0, rng=0, **dict(CERTIFIED, tolerance=10.0))
    assert not res.success


def test_the_a_priori_bounds_hold_on_random_tiny_segments():
    """Coverage of the deterministic terms: random small polynomial losses near the edge of dissipativity."""
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(12):
        n = 2
        Hm = rng.normal(size=(n, n))
        Hm = Hm @ Hm.T + 0.2 * np.eye(n)
        a3 = 0.05 * rng.normal(size=(n, n, n))
        tensors = [0.0, rng.normal(size=n), 0.5 * Hm, a3]
        eta = float(rng.uniform(0.3, 1.9) / np.linalg.eigvalsh(Hm)[-1])
        theta0 = 0.1 * rng.normal(size=n)
        bounds = polynomial_loss_bounds(tensors, theta0, radius=5.0, degree=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = quantum_gd(polynomial_loss(tensors), theta0, eta=eta, steps=int(rng.integers(1, 5)), order=2,
                             clock_qubits=12, shots=None, rng=0, derivative_bounds=bounds, basis="symmetric")
        for term in ("taylor", "truncation", "solver", "total"):
            e = res.report.errors[term]
            if math.isfinite(e.bound):
                assert e.error <= e.bound * (1 + 1e-9) + 1e-14, (term, e)
                checked += 1
    assert checked >= 24


def test_terms_telescope(segment):
    rep = segment.report
    pairs = [("taylor", rep.theta_poly, rep.theta_gd), ("truncation", rep.theta_carleman, rep.theta_poly),
             ("solver", rep.theta_hhl, rep.theta_carleman), ("tomography", rep.theta, rep.theta_hhl)]
    for term, a, b in pairs:
        np.testing.assert_allclose(rep.errors[term].error, np.linalg.norm(a - b), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(rep.errors["total"].error, np.linalg.norm(rep.theta - rep.theta_gd), rtol=1e-12)
    np.testing.assert_array_equal(segment.theta, rep.theta)


def test_tomography_error_at_its_shot_noise_scale(segment):
    rep = segment.report
    support = segment.stages.postselected.size  # anchor and final blocks: (1 + copies) n entries
    delta = tomography_error_bound(support, SETTINGS["shots"])
    # the finite-sample bound at 99.9 % for any state on that support, known before the run
    assert rep.state_errors["tomography"].error <= delta
    np.testing.assert_allclose(rep.state_errors["tomography"].bound, delta, rtol=1e-12)
    s = np.count_nonzero(segment.stages.postselected)
    np.testing.assert_allclose(rep.state_errors["tomography"].estimate, tomography_error_bound(s, SETTINGS["shots"]),
                               rtol=1e-12)
    assert rep.resources.tomography_copies == 2 * SETTINGS["shots"]


def test_tomography_bound_is_finite_sample_and_above_the_estimate():
    """The segment's tomography term is the finite-sample bound, never below the delta-method estimate."""
    from qsgd.tomography_bounds import tomography_error_estimate

    assert tomography_error_bound(1, 10) == 0.0  # one amplitude: nothing to estimate
    for s_, shots in ((6, 100), (6, 10_000), (40, 10_000)):
        assert tomography_error_bound(s_, shots) >= tomography_error_estimate(s_, shots)
    np.testing.assert_allclose(tomography_error_bound(6, 4 * 10**8) / tomography_error_bound(6, 10**8), 0.5,
                               rtol=1e-6)


def test_hhl_circuit_matches_phase_estimation_model(segment):
    """The Fejér model of hhl_response reproduces the Aer output of the HHL circuit."""
    st = segment.stages
    L = st.L.toarray()
    U, S, Vt = np.linalg.svd(L)
    hhl = st.hhl
    beta = U.T @ st.rhs / np.linalg.norm(st.rhs)
    kwargs = dict(clock_qubits=hhl.clock_qubits, evolution_time=hhl.evolution_time, scaling=hhl.scaling)
    # dilation eigenvectors (u_i, +-v_i)/sqrt 2 with eigenvalues +-sigma_i; b = (rhs, 0)
    odd = 0.5 * (hhl_response(S, **kwargs) - hhl_response(-S, **kwargs))
    model = Vt.T @ (odd * beta)
    model /= np.linalg.norm(model)
    np.testing.assert_allclose(hhl.solution, model, atol=1e-9)


def test_hhl_response_is_exact_on_clock_bins():
    """An eigenvalue on a clock bin >= the fully rotated one is inverted exactly: f = C / lambda."""
    c = 5
    p = headroom_parameters(1.0, 4.0, c)
    t, scaling, C = p.evolution_time, p.scaling, p.constant
    bins = np.array([3, 5, 9, -4, -11])
    lam = 2 * math.pi * bins / (t * 2**c)
    np.testing.assert_allclose(hhl_response(lam, clock_qubits=c, evolution_time=t, scaling=scaling),
                               C / lam, rtol=1e-12)


def test_hhl_error_within_clock_dependent_bound(segment):
    rep = segment.report
    assert rep.state_errors["solver"].error <= rep.state_errors["solver"].bound
    # the a priori bound is the phase-estimation analysis at the segment's parameters
    np.testing.assert_allclose(rep.state_errors["solver"].bound, hhl_error_bound(
        headroom_parameters(rep.resources.sigma_min, rep.resources.sigma_max, 6)), rtol=1e-12)
    # for unit vectors ||x~ - x||^2 = 2 - 2 <x~, x>, and the fidelity is <x~, x>^2
    np.testing.assert_allclose(rep.fidelity, (1 - rep.state_errors["solver"].error**2 / 2) ** 2, rtol=1e-10)


def test_hhl_bound_halves_per_clock_qubit():
    """Relative resolution of the smallest eigenvalue ~ kappa 2^-c."""
    bounds = [hhl_error_bound(headroom_parameters(0.4, 2.0, c)) for c in range(5, 10)]
    assert all(b1 < b0 for b0, b1 in zip(bounds, bounds[1:]))
    ratios = np.array(bounds[1:]) / np.array(bounds[:-1])
    assert np.all(ratios < 0.75), ratios
    assert bounds[-1] / bounds[0] < 2.0**-3


def test_default_hhl_parameters_have_a_worst_case_floor():
    """With sigma_max on the last clock bin and no rotation below k_min (chapter 4's defaults) the
    worst case over eigenvalue positions does not improve with the clock; with head-room it does."""
    spectrum = SpectralBounds(0.4, 2.0, False, True, "exact")
    defaults = [hhl_error_estimate(hhl_parameters(spectrum, clock_qubits=c), points_per_bin=16) for c in (5, 7, 9)]
    ours = [hhl_error_estimate(headroom_parameters(0.4, 2.0, c), points_per_bin=16) for c in (5, 7, 9)]
    assert defaults[-1] > 0.9 * defaults[0]
    assert ours[-1] < 0.25 * ours[0] and ours[-1] < 0.25 * defaults[-1]
    with pytest.raises(ValueError, match="parameters must be an HHLParameters"):
        hhl_error_bound((0.4, 2.0))


@pytest.mark.parametrize("clock", [5, 7])
def test_hhl_term_follows_clock_qubits(clock):
    res = quantum_gd(cubic_loss, THETA0, order=2, eta=0.5, steps=3, clock_qubits=clock, shots=None, rng=3,
                     count_gates=False)
    rep = res.report
    assert rep.state_errors["solver"].error <= rep.state_errors["solver"].bound
    assert rep.errors["solver"].error <= rep.errors["solver"].bound


def test_truncation_term_is_the_carleman_tail(segments_by_order):
    errs = []
    for N, res in segments_by_order.items():
        rep = res.report
        assert "recursion" not in res.message  # the exact error recursion reproduced the Eq. 6 solution
        assert rep.errors["truncation"].error <= rep.errors["truncation"].bound + 1e-12
        assert rep.carleman_tail.shape == (SETTINGS["steps"],)
        assert rep.carleman_tail[0] < 1e-12  # u0 = 0: the first step lifts exactly, lift(u1) = b
        errs.append(rep.errors["truncation"].error)
        # the other terms do not depend on N (Taylor) or only through the lifted system
        np.testing.assert_allclose(rep.errors["taylor"].error, segments_by_order[1].report.errors["taylor"].error, rtol=1e-12)
    # dissipative problem: the error falls with the order
    assert errs[0] > errs[1] > errs[2]


def test_quadratic_loss_needs_order_one():
    """Claim 4: F2 = 0, so N = 1 is exact and the whole classical part reproduces GD."""
    rep = quantum_gd(quadratic_loss, THETA0, order=1, eta=0.5, steps=3, clock_qubits=6, shots=None, rng=0,
                     count_gates=False, derivative_bounds=tiny_bounds("quadratic")).report
    assert rep.errors["taylor"].error < 1e-12 and rep.errors["truncation"].error < 1e-12
    assert rep.errors["taylor"].bound < 1e-12 and rep.errors["truncation"].bound < 1e-12


def test_taylor_term_follows_the_degree():
    res2 = quantum_gd(cubic_loss, THETA0, order=2, degree=2, shots=None, count_gates=False,
                      **{k: v for k, v in SETTINGS.items() if k != "shots"})
    assert res2.report.errors["taylor"].error < 1e-12  # cubic loss: the quadratic map is exact
    res3 = quantum_gd(quartic_loss, THETA0, order=2, degree=3, shots=None, count_gates=False,
                      derivative_bounds=tiny_bounds("quartic", degree=3),
                      **{k: v for k, v in SETTINGS.items() if k != "shots"})
    assert res3.report.errors["taylor"].error < 1e-12  # quartic loss: the cubic map is exact
    assert res3.report.errors["taylor"].bound < 1e-12


def test_exact_readout_without_shots():
    res = quantum_gd(quartic_loss, THETA0, order=2, eta=0.5, steps=3, clock_qubits=6, shots=None, rng=1,
                     count_gates=False)
    rep = res.report
    np.testing.assert_array_equal(rep.theta, rep.theta_hhl)
    assert rep.errors["tomography"].error == 0 and rep.errors["tomography"].bound == 0 and rep.resources.tomography_copies == 0
    assert res.stages.tomography is None


def test_padding_copies_are_read_out():
    res = quantum_gd(cubic_loss, THETA0, order=1, eta=0.5, steps=2, clock_qubits=6, shots=None, padding=2,
                     rng=0, count_gates=False)
    rep = res.report
    assert rep.resources.qubits.history_dimension == (2 + 1 + 2) * 2
    assert res.stages.readout_indices.size == 2 * (1 + 3)  # anchor + three copies of the final step
    assert rep.resources.postselection_probability > rep.resources.final_step_probability  # the copies raise it
    assert rep.errors["solver"].error <= rep.errors["solver"].bound


def test_reproducible_with_seed():
    a = quantum_gd(quartic_loss, THETA0, order=1, count_gates=False, **SETTINGS)
    b = quantum_gd(quartic_loss, THETA0, order=1, count_gates=False, **SETTINGS)
    np.testing.assert_array_equal(a.theta, b.theta)
    c = quantum_gd(quartic_loss, THETA0, order=1, count_gates=False, **{**SETTINGS, "rng": 99})
    assert not np.array_equal(a.theta, c.theta)  # tomography noise differs
    np.testing.assert_array_equal(a.report.theta_hhl, c.report.theta_hhl)  # the exact HHL state does not


# --------------------------------------------------------------------------- read-out


def test_readout_recovers_length_and_sign():
    rng = np.random.default_rng(0)
    f0 = rng.normal(size=3)
    u = rng.normal(size=3)
    scale = 0.37
    x = scale * np.concatenate([f0, u])
    np.testing.assert_allclose(readout_weights(x, f0, n=3), u, rtol=1e-12)
    np.testing.assert_allclose(readout_weights(-x, f0, n=3), u, rtol=1e-12)  # global sign fixed by the anchor
    xp = scale * np.concatenate([f0, u, u, u])
    np.testing.assert_allclose(readout_weights(xp, f0, n=3, copies=3), u, rtol=1e-12)


def test_readout_error_bound_holds_for_perturbations():
    rng = np.random.default_rng(1)
    f0 = rng.normal(size=3)
    u = 2.0 * rng.normal(size=3)
    x = np.concatenate([f0, u, u])
    x /= np.linalg.norm(x)
    a, c = np.linalg.norm(x[:3]), np.linalg.norm(x[3:6])
    for delta in (1e-3, 1e-2, 5e-2):
        bound = readout_error_bound(delta, anchor_norm=a, final_norm=c, f0_norm=np.linalg.norm(f0), copies=2)
        for _ in range(200):
            e = rng.normal(size=9)
            e *= delta / np.linalg.norm(e)
            err = np.linalg.norm(readout_weights(x + e, f0, n=3, copies=2) - u)
            assert err <= bound * (1 + 1e-12)
    assert readout_error_bound(a, anchor_norm=a, final_norm=c, f0_norm=1.0) == math.inf


# --------------------------------------------------------------------------- sizes and parameters


def test_segment_qubits_layout():
    q = segment_qubits(3, order=2, steps=3, clock_qubits=6, basis="symmetric")
    assert (q.lifted_dimension, q.history_dimension, q.system_qubits, q.total) == (9, 36, 7, 14)
    q = segment_qubits(3, order=2, steps=3, clock_qubits=6)  # the package's default basis, Kronecker
    assert (q.lifted_dimension, q.history_dimension, q.system_qubits, q.total) == (12, 48, 7, 14)
    q = segment_qubits(2, order=1, steps=3, clock_qubits=5, padding=4)
    assert (q.history_dimension, q.system_qubits, q.total) == (16, 5, 11)


def test_segment_qubits_match_the_circuit(segment):
    rep = segment.report
    q = segment_qubits(2, order=2, steps=3, clock_qubits=6)
    assert q.total == rep.resources.qubits.total and q.system_qubits == rep.resources.qubits.system_qubits


def test_hhl_parameters_place_the_spectrum():
    c = 6
    p = headroom_parameters(0.5, 2.0, c)
    t, scaling, C = p.evolution_time, p.scaling, p.constant
    np.testing.assert_allclose(2.0 * t / (2 * math.pi), 3 / 8, rtol=1e-12)  # sigma_max at phase 3/8
    kmin = 0.5 * t * 2**c / (2 * math.pi)
    np.testing.assert_allclose(scaling * 2 ** (c - 1), math.floor(kmin / 2), rtol=1e-12)
    np.testing.assert_allclose(C, math.pi * scaling / t, rtol=1e-12)
    # the fully rotated bin has flag amplitude C / lambda = 1
    lam_full = 2 * math.pi * math.floor(kmin / 2) / (t * 2**c)
    np.testing.assert_allclose(C / lam_full, 1.0, rtol=1e-12)


# --------------------------------------------------------------------------- the report (regression)

REPORT_FIELDS = (
    "settings", "theta0", "theta_gd", "theta_poly", "theta_carleman", "theta_hhl", "theta", "errors",
    "state_errors", "fidelity", "displacement", "carleman_tail", "resources", "regime", "regime_message", "rho",
    "seed", "guarantee",
)


def test_report_fields_are_pinned(segment):
    assert tuple(f.name for f in dataclasses.fields(SegmentReport)) == REPORT_FIELDS
    rep = segment.report
    with pytest.raises(dataclasses.FrozenInstanceError):
        rep.theta = None
    assert set(rep.budget()) == {"taylor", "truncation", "solver", "tomography", "total"}


def test_report_values_regression(segment):
    """Pinned output of the tiny problem (qiskit 2.6.2 / qiskit-aer 0.18.2, seed 1234)."""
    rep = segment.report
    # settings echo and structure
    s = rep.settings
    assert (rep.theta0.size, s.steps, s.order, s.degree, s.padding, s.basis) == (2, 3, 2, 2, 0, "symmetric")
    assert (s.clock_qubits, s.shots, s.confidence, s.simulation) == (6, 20_000, CONFIDENCE, "circuit")
    assert (rep.resources.qubits.lifted_dimension, rep.resources.qubits.history_dimension, rep.resources.qubits.system_qubits, rep.resources.qubits.total) == (5, 20, 6, 13)
    assert (rep.resources.upload_sparsity, rep.resources.tomography_copies, rep.regime) == (15, 40_000, "fully dissipative")
    assert isinstance(rep.resources.cx_count, int) and rep.resources.cx_count > 0 and rep.resources.depth > 0 and rep.resources.upload_cx > 0
    # classical references: exact arithmetic, tight tolerance
    np.testing.assert_allclose(rep.theta_gd, [0.810098383007511, -0.7847146500991549], rtol=1e-10)
    np.testing.assert_allclose(rep.theta_poly, [0.8410063464229589, -0.7932666938023403], rtol=1e-10)
    np.testing.assert_allclose(rep.theta_carleman, [0.837885468376368, -0.7931287496423041], rtol=1e-10)
    np.testing.assert_allclose(rep.resources.kappa, 5.588020677167952, rtol=1e-10)
    # simulated quantum stages: statevector simulation, seeded sampling
    np.testing.assert_allclose(rep.theta_hhl, [0.8341046319131775, -0.7923635146749017], rtol=1e-7)
    np.testing.assert_allclose(rep.resources.success_probability, 0.07560715688735403, rtol=1e-7)
    np.testing.assert_allclose(rep.resources.postselection_probability, 0.4048828541415977, rtol=1e-7)
    np.testing.assert_allclose(rep.theta, [0.8392557275262076, -0.7956167092889275], rtol=1e-7)


# --------------------------------------------------------------------------- bad input


def test_too_many_qubits_is_refused_before_any_work():
    with pytest.raises(ValueError, match=r"needs 17 qubits .*max_qubits=16"):
        quantum_gd(quartic_loss, THETA0, eta=0.5, steps=3, order=4, clock_qubits=9, shots=None,
                   simulation="circuit", basis="symmetric")
    with pytest.raises(ValueError, match=r"quantum_gd: this segment needs \d+ qubits"):
        quantum_gd(lambda th: (th**2).sum(), np.ones(4), eta=0.1, steps=4, order=3, clock_qubits=7, shots=None,
                   simulation="circuit")


def test_non_dissipative_segment_warns():
    def saddle(th):
        return 0.5 * th[0] ** 2 - 0.5 * th[1] ** 2 + th.sum() + 0.1 * (th**3).sum()

    with pytest.warns(NonDissipativeWarning, match="not dissipative"):
        res = quantum_gd(saddle, np.zeros(2), eta=0.5, steps=3, order=1, clock_qubits=6, shots=None, rng=0,
                         count_gates=False)
    assert res.report.regime == "not dissipative" and res.report.rho > 1


def test_dissipative_segment_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonDissipativeWarning)
        quantum_gd(cubic_loss, THETA0, eta=0.5, steps=2, order=1, clock_qubits=5, shots=None, rng=0,
                   count_gates=False)


def test_stationary_point_is_refused():
    with pytest.raises(ValueError, match="gradient vanishes"):
        quantum_gd(lambda th: (th**2).sum(), np.zeros(2), eta=0.1, steps=2, order=1, clock_qubits=5, shots=None)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(eta=0.0), "eta must be > 0"),
        (dict(eta=float("nan")), "eta must be a finite"),
        (dict(steps=0), "steps must be >= 1"),
        (dict(order=0), "order must be >= 1"),
        (dict(clock_qubits=1), "clock_qubits must be >= 2"),
        (dict(shots=0), "shots must be >= 1"),
        (dict(degree=4), "degree must be <= 3"),
        (dict(padding=-1), "padding must be >= 0"),
        (dict(basis="monomial"), "basis must be one of"),
        (dict(count_gates=1), "count_gates must be True or False"),
        (dict(confidence=1.0), "confidence must be in"),
    ],
)
def test_bad_knobs(kwargs, match):
    base = dict(eta=0.5, steps=2, order=1, clock_qubits=5, shots=None, count_gates=False)
    with pytest.raises(ValueError, match=match):
        quantum_gd(cubic_loss, THETA0, **{**base, **kwargs})


def test_incompatible_shapes():
    base = dict(eta=0.5, steps=2, order=1, clock_qubits=5, shots=None, count_gates=False)
    with pytest.raises(ValueError, match="theta0 must be a 1-D vector"):
        quantum_gd(cubic_loss, np.zeros((2, 2)), **base)
    with pytest.raises(ValueError, match="theta0 has non-finite"):
        quantum_gd(cubic_loss, np.array([np.nan, 0.0]), **base)
    with pytest.raises(ValueError, match="theta0 is required"):
        quantum_gd(cubic_loss, None, **base)
    with pytest.raises(ValueError, match=r"cannot be evaluated at theta0 of shape \(3,\)"):
        quantum_gd(cubic_loss, np.zeros(3), **base)  # H is 2x2
    with pytest.raises(ValueError, match="must return a scalar"):
        quantum_gd(lambda th: th * 2, THETA0, **base)
    with pytest.raises(ValueError, match="model_or_loss must be"):
        quantum_gd("loss", THETA0, **base)
    with pytest.raises(ValueError, match="apply to a torch model"):
        quantum_gd(cubic_loss, THETA0, data=(None, None), **base)


def test_torch_model_path_and_its_shape_checks():
    from qsgd.nn import mlp

    torch.manual_seed(0)
    model = mlp([3, 2], dtype="float64", rng=0)
    x = torch.randn(16, 3, dtype=torch.float64)
    y = torch.randint(0, 2, (16,))
    mask = {"0.weight": torch.tensor([[True, False, False], [False, True, False]]),
            "0.bias": torch.zeros(2, dtype=torch.bool)}
    res = quantum_gd(model, data=(x, y), mask=mask, eta=0.5, steps=2, order=1, clock_qubits=5, shots=None,
                     rng=0, count_gates=False)
    assert res.report.theta0.size == 2
    np.testing.assert_allclose(res.report.theta0, model[0].weight.detach().numpy()[[0, 1], [0, 1]])
    with pytest.raises(ValueError, match="needs data"):
        quantum_gd(model, eta=0.5, steps=2, order=1, clock_qubits=5, shots=None)
    with pytest.raises(ValueError, match="theta0 must have length 2"):
        quantum_gd(model, np.zeros(3), data=(x, y), mask=mask, eta=0.5, steps=2, order=1, clock_qubits=5,
                   shots=None)
    with pytest.raises(ValueError, match="same non-zero length"):
        quantum_gd(model, data=(x, y[:5]), mask=mask, eta=0.5, steps=2, order=1, clock_qubits=5, shots=None)


def test_helper_bad_input():
    with pytest.raises(ValueError, match="lower <= upper"):
        headroom_parameters(2.0, 1.0, 5)
    with pytest.raises(ValueError, match="headroom must be in"):
        hhl_parameters((1.0, 2.0), clock_qubits=5, headroom=0.5)
    with pytest.raises(ValueError, match=r"eigenvalues must lie in \[lower, upper\]"):
        hhl_error_estimate(headroom_parameters(1.0, 2.0, 5), eigenvalues=[3.0])
    with pytest.raises(ValueError, match="anchor block of x is zero"):
        readout_weights(np.r_[0.0, 0.0, 1.0, 1.0], np.ones(2), n=2)
    with pytest.raises(ValueError, match="x must have length 6"):
        readout_weights(np.ones(4), np.ones(2), n=2, copies=2)
    with pytest.raises(ValueError, match="f0 is the zero vector"):
        readout_weights(np.ones(4), np.zeros(2), n=2)
    with pytest.raises(ValueError, match="confidence must be in"):
        tomography_error_bound(4, 100, confidence=1.5)


# --------------------------------------------------------------------------- the alternating protocol


def test_alternating_training_tracks_gd_within_envelope():
    run = quantum_training(quartic_loss, THETA0, eta=0.5, cycles=2, steps=2, classical_steps=1, order=2,
                           clock_qubits=6, shots=20_000, rng=5, on_failure="continue")
    assert isinstance(run, TrainingRun)
    np.testing.assert_array_equal(run.step, [0, 2, 3, 5, 6])
    assert run.kind == ("start", "quantum", "classical", "quantum", "classical")
    assert run.classical_theta.shape == (7, 2) and len(run.reports) == 2
    np.testing.assert_array_equal(run.theta[0], THETA0)
    assert run.max_contraction < 1  # dissipative path: the estimate is at most the sum of the segments'
    assert np.all(run.deviation <= run.envelope_estimate + 1e-12)
    assert run.envelope_estimate[-1] <= sum(r.errors["total"].estimate for r in run.reports) + 1e-12
    # 6 clock qubits cannot certify the read-out of this system: no a priori bound across the run
    assert np.all(np.isinf(run.envelope[1:]))
    assert run.success == (False, False) and all("solver" in m for m in run.messages)
    assert run.segment_steps == (2, 2)
    assert np.all(np.abs(run.loss - run.classical_loss[run.step]) <= run.loss_envelope + 1e-12)
    assert run.loss[-1] < run.loss[0]
    # every segment starts where the previous cycle ended (download, classical steps, re-upload)
    np.testing.assert_allclose(run.reports[1].theta0, run.theta[2], rtol=1e-15)


def test_alternating_training_bad_input():
    with pytest.raises(ValueError, match="cycles must be >= 1"):
        quantum_training(cubic_loss, THETA0, eta=0.5, cycles=0, steps=2, order=1, clock_qubits=5, shots=None)
    with pytest.raises(ValueError, match="classical_steps must be >= 0"):
        quantum_training(cubic_loss, THETA0, eta=0.5, cycles=1, steps=2, classical_steps=-1, order=1,
                         clock_qubits=5, shots=None)


# --------------------------------------------------------------------------- settings, model vs circuit


def test_model_reproduces_the_circuit(segment):
    """The algorithm-level model (one decomposition of L) gives the Aer state to 1e-9."""
    st = segment.stages
    np.testing.assert_allclose(st.model_state, st.hhl_state, atol=1e-9)
    np.testing.assert_allclose(st.model_success_probability, segment.report.resources.success_probability,
                               rtol=1e-9)
    model = quantum_gd(quartic_loss, THETA0, segment.report.settings, rng=SETTINGS["rng"], simulation="model")
    np.testing.assert_allclose(model.report.theta_hhl, segment.report.theta_hhl, atol=1e-9)


def test_spectrum_matches_svd():
    rng = np.random.default_rng(3)
    A = np.eye(6) + 0.3 * rng.normal(size=(6, 6))
    spec = decompose(A, method="normal")
    np.testing.assert_allclose(spec.sigma, np.linalg.svd(A, compute_uv=False), rtol=1e-12)
    np.testing.assert_allclose(spec.right.T @ spec.right, np.eye(6), atol=1e-12)
    np.testing.assert_allclose(A @ spec.right, spec.left * spec.sigma, atol=1e-12)
    with pytest.raises(ValueError, match="decompose: A must be a square matrix"):
        decompose(np.ones((2, 3)), method="normal")


def test_sampled_runs_follow_the_geometric_law():
    rng = np.random.default_rng(11)
    draws = np.array([sampled_runs(50, 0.2, rng=rng) for _ in range(400)])
    assert np.all(draws >= 50)
    # mean copies/p = 250, sd sqrt(copies (1-p))/p = 31.6 per draw; 400 draws: sd of the mean 1.58
    assert abs(draws.mean() - 250) < 5 * 31.6 / 20
    with pytest.raises(ValueError, match="sampled_runs: probability must be in"):
        sampled_runs(5, 1.5)


def test_settings_object_is_shared_and_validated():
    s = SegmentSettings(eta=0.5, steps=2, order=1, clock_qubits=5, shots=None)
    a = quantum_gd(cubic_loss, THETA0, s, rng=0)
    b = quantum_gd(cubic_loss, THETA0, eta=0.5, steps=2, order=1, clock_qubits=5, shots=None, rng=0)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert a.report.settings == s
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.eta = 1.0
    with pytest.raises(ValueError, match="unknown setting"):
        quantum_gd(cubic_loss, THETA0, s, clocks=3)
    with pytest.raises(ValueError, match="simulation must be one of"):
        SegmentSettings(eta=0.5, steps=2, simulation="aer")
    with pytest.raises(ValueError, match="settings must be a SegmentSettings"):
        quantum_gd(cubic_loss, THETA0, {"eta": 0.5})


def test_short_learning_run_is_reproducible_and_learns():
    """A tiny classification task: the protocol learns like GD and the same seed gives the same run."""
    from qsgd.gd import model_loss
    from qsgd.nn import mlp

    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=g, dtype=torch.float64)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    model = mlp([3, 2], dtype="float64", rng=0)
    with torch.no_grad():
        model[0].weight.zero_()
    mask = {"0.weight": torch.tensor([[True, True, False], [True, True, False]]),
            "0.bias": torch.zeros(2, dtype=torch.bool)}
    loss, theta0, _ = model_loss(model, x, y, mask=mask)
    s = SegmentSettings(eta=0.5, steps=3, order=2, clock_qubits=8, shots=20_000)
    runs = [quantum_training(loss, theta0, s, cycles=2, classical_steps=1, rng=7, on_failure="continue")
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0].theta, runs[1].theta)
    run = runs[0]
    assert run.loss[-1] < 0.9 * run.loss[0]
    assert np.all(run.deviation <= run.envelope_estimate + 1e-12)
    # the quantum protocol ends near classical GD: within the first-order loss envelope
    assert abs(run.loss[-1] - run.classical_loss[-1]) <= run.loss_envelope[-1]
    assert all(r.resources.hhl_runs >= r.resources.tomography_copies for r in run.reports)



# --------------------------------------------------------------------------- bad input

_FAST = dict(eta=0.5, steps=3, clock_qubits=6, shots=None)

BAD_INPUT = {
    "settings nan eta": (lambda: SegmentSettings(eta=float("nan"), steps=3), ValueError,
                         ["SegmentSettings", "eta", "nan"]),
    "settings string eta": (lambda: SegmentSettings(eta="x", steps=3), ValueError, ["SegmentSettings", "eta"]),
    "settings zero steps": (lambda: SegmentSettings(eta=0.1, steps=0), ValueError, ["SegmentSettings", "steps", ">= 1"]),
    "settings order 5": (lambda: SegmentSettings(eta=0.1, steps=3, order=5), ValueError,
                         ["SegmentSettings", "order", "<= 4"]),
    "settings zero shots": (lambda: SegmentSettings(eta=0.1, steps=3, shots=0), ValueError,
                            ["SegmentSettings", "shots"]),
    "settings absurd clock": (lambda: SegmentSettings(eta=0.1, steps=3, clock_qubits=10**6), ValueError,
                              ["SegmentSettings", "clock_qubits", "<= 62"]),
    "settings confidence 1": (lambda: SegmentSettings(eta=0.1, steps=3, confidence=1), ValueError,
                              ["SegmentSettings", "confidence", "(0, 1)"]),
    "settings string count_gates": (lambda: SegmentSettings(eta=0.1, steps=3, count_gates="no"), ValueError,
                                    ["SegmentSettings", "count_gates"]),
    "settings bad simulation": (lambda: SegmentSettings(eta=0.1, steps=3, simulation="exact"), ValueError,
                                ["SegmentSettings", "simulation"]),
    "qgd None loss": (lambda: quantum_gd(None, THETA0, **_FAST), ValueError, ["quantum_gd", "model_or_loss", "None"]),
    "qgd theta0 wrong length": (lambda: quantum_gd(cubic_loss, [0.1, 0.2, 0.3], **_FAST), ValueError,
                                ["quantum_gd", "theta0", "(3,)"]),
    "qgd theta0 matrix": (lambda: quantum_gd(cubic_loss, [[0.1, 0.2]], **_FAST), ValueError,
                          ["quantum_gd", "theta0", "1-D", "(1, 2)"]),
    "qgd nan theta0": (lambda: quantum_gd(cubic_loss, [np.nan, 0.1], **_FAST), ValueError,
                       ["quantum_gd", "theta0", "non-finite"]),
    "qgd complex theta0": (lambda: quantum_gd(cubic_loss, [1j, 0.1], **_FAST), ValueError,
                           ["quantum_gd", "theta0", "real"]),
    "qgd missing theta0": (lambda: quantum_gd(cubic_loss, None, **_FAST), ValueError, ["quantum_gd", "theta0"]),
    "qgd string theta0": (lambda: quantum_gd(cubic_loss, "ab", **_FAST), ValueError,
                          ["quantum_gd", "theta0", "string"]),
    "qgd unknown setting": (lambda: quantum_gd(cubic_loss, THETA0, foo=1, **_FAST), ValueError,
                            ["quantum_gd", "foo"]),
    "qgd no eta": (lambda: quantum_gd(cubic_loss, THETA0), ValueError, ["quantum_gd", "eta"]),
    "qgd string settings": (lambda: quantum_gd(cubic_loss, THETA0, settings="x"), ValueError,
                            ["quantum_gd", "settings"]),
    "qgd string rng": (lambda: quantum_gd(cubic_loss, THETA0, rng="x", **_FAST), ValueError, ["quantum_gd", "rng"]),
    "qgd vector loss": (lambda: quantum_gd(lambda th: 2 * th, THETA0, **_FAST), ValueError,
                        ["quantum_gd", "scalar"]),
    "qgd absurd padding": (lambda: quantum_gd(cubic_loss, THETA0, padding=10**9, **_FAST), ValueError,
                           ["GiB", "max_bytes"]),
    "qt zero cycles": (lambda: quantum_training(cubic_loss, THETA0, cycles=0, **_FAST), ValueError,
                       ["quantum_training", "cycles", ">= 1"]),
    "qt string cycles": (lambda: quantum_training(cubic_loss, THETA0, cycles="1", **_FAST), ValueError,
                         ["quantum_training", "cycles", "integer"]),
    "qt negative classical_steps": (lambda: quantum_training(cubic_loss, THETA0, cycles=1, classical_steps=-1,
                                                             **_FAST), ValueError,
                                    ["quantum_training", "classical_steps", ">= 0"]),
    "qt None loss": (lambda: quantum_training(None, THETA0, cycles=1, **_FAST), ValueError,
                     ["quantum_training", "model_or_loss"]),
    "qt nan theta0": (lambda: quantum_training(cubic_loss, [np.nan, 0.0], cycles=1, **_FAST), ValueError,
                      ["quantum_training", "theta0", "non-finite"]),
    "qt string rng": (lambda: quantum_training(cubic_loss, THETA0, cycles=1, rng="x", **_FAST), ValueError,
                      ["quantum_training", "rng"]),
    "runs probability 0": (lambda: sampled_runs(10, 0), ValueError, ["sampled_runs", "probability"]),
    "runs probability 2": (lambda: sampled_runs(10, 2), ValueError, ["sampled_runs", "probability", "(0, 1]"]),
    "runs nan probability": (lambda: sampled_runs(10, float("nan")), ValueError, ["sampled_runs", "probability"]),
    "runs negative copies": (lambda: sampled_runs(-1, 0.5), ValueError, ["sampled_runs", "copies"]),
    "runs string rng": (lambda: sampled_runs(3, 0.5, rng="x"), ValueError, ["sampled_runs", "rng"]),
    "readout nan x": (lambda: readout_weights([np.nan, 1, 1, 1], [1, 1], n=2), ValueError,
                      ["readout_weights", "x", "non-finite"]),
    "readout complex x": (lambda: readout_weights([1j, 1, 1, 1], [1, 1], n=2), ValueError,
                          ["readout_weights", "x", "real"]),
    "readout wrong length": (lambda: readout_weights([1, 1, 1], [1, 1], n=2), ValueError,
                             ["readout_weights", "x", "length 4"]),
    "readout zero f0": (lambda: readout_weights([1, 1, 1, 1], [0, 0], n=2), ValueError,
                        ["readout_weights", "f0", "zero"]),
    "readout zero anchor": (lambda: readout_weights([0, 0, 1, 1], [1, 1], n=2), ValueError,
                            ["readout_weights", "anchor"]),
    "readout bound negative delta": (lambda: readout_error_bound(-1, anchor_norm=1, final_norm=1, f0_norm=1),
                                     ValueError, ["readout_error_bound", "delta"]),
    "filter nan": (lambda: hhl_response([np.nan], clock_qubits=4, evolution_time=1.0, scaling=1.0), ValueError,
                   ["hhl_filter", "finite"]),
    "filter complex": (lambda: hhl_response([1j], clock_qubits=4, evolution_time=1.0, scaling=1.0), ValueError,
                       ["hhl_filter", "real"]),
    "filter zero clock": (lambda: hhl_response([1.0], clock_qubits=0, evolution_time=1.0, scaling=1.0),
                          ValueError, ["hhl_filter", "clock_qubits"]),
    "qubits bad basis": (lambda: segment_qubits(3, order=2, steps=3, clock_qubits=6, basis="x"), ValueError,
                         ["basis"]),
    "qubits zero n": (lambda: segment_qubits(0, order=2, steps=3, clock_qubits=6), ValueError,
                      ["segment_qubits", "n", ">= 1"]),
    "spectrum nan": (lambda: decompose([[np.nan, 0], [0, 1]], method="normal"), ValueError,
                     ["decompose", "A", "non-finite"]),
    "spectrum string": (lambda: decompose("x", method="normal"), ValueError, ["decompose", "A", "string"]),
    "spectrum None": (lambda: decompose(None, method="normal"), ValueError, ["decompose", "A", "None"]),
    "spectrum complex": (lambda: decompose([[1j, 0], [0, 1]], method="normal"), ValueError,
                         ["decompose", "A", "real"]),
    "spectrum rectangular": (lambda: decompose(np.ones((2, 3)), method="normal"), ValueError,
                             ["decompose", "square", "(2, 3)"]),
    "spectrum singular": (lambda: decompose(np.zeros((2, 2)), method="normal"), ValueError,
                          ["decompose", "singular"]),
    "spectrum absurd size": (lambda: decompose(__import__("scipy.sparse").sparse.identity(10**6, format="csr"),
                                               method="normal"), ValueError, ["decompose", "GiB", "max_bytes"]),
    "segment absurd steps": (lambda: quantum_gd(cubic_loss, THETA0, eta=0.5, steps=10**6, clock_qubits=6, shots=None),
                             ValueError, ["quantum_gd", "Eq. 6", "GiB"]),
    "segment absurd padding": (lambda: quantum_gd(cubic_loss, THETA0, eta=0.5, steps=3, padding=10**6,
                                                  clock_qubits=6, shots=None), ValueError,
                               ["quantum_gd", "Eq. 6", "padding"]),
    "settings bad solver": (lambda: SegmentSettings(eta=0.1, steps=2, solver="gauss"), ValueError,
                            ["SegmentSettings", "solver", "gauss"]),
    "settings accuracy 1": (lambda: SegmentSettings(eta=0.1, steps=2, accuracy=1.0), ValueError,
                            ["SegmentSettings", "accuracy"]),
    "settings polynomial circuit": (lambda: SegmentSettings(eta=0.1, steps=2, solver="polynomial",
                                                            simulation="circuit"), ValueError,
                                    ["SegmentSettings", "circuit", "polynomial"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, refuses):
    call, exc, words = BAD_INPUT[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonDissipativeWarning)
        refuses(call, exc, words)


def test_a_singular_segment_is_refused_by_the_function_called():
    """eta far beyond 2/lambda_max: the Eq. 6 matrix is singular; the message names quantum_gd, not a helper."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonDissipativeWarning)
        with pytest.raises(ValueError, match=r"^quantum_gd: the Eq. 6 system cannot be inverted: decompose: A is singular"):
            quantum_gd(cubic_loss, THETA0, eta=50.0, steps=3, clock_qubits=6, shots=None)


def test_a_reported_seed_repeats_the_segment_and_the_run():
    """rng=None draws fresh entropy; the seed a report carries repeats the run exactly."""
    a = quantum_gd(quartic_loss, THETA0, order=1, count_gates=False, **{**SETTINGS, "rng": None})
    b = quantum_gd(quartic_loss, THETA0, order=1, count_gates=False, **{**SETTINGS, "rng": a.report.seed})
    np.testing.assert_array_equal(a.theta, b.theta)
    c = quantum_gd(quartic_loss, THETA0, order=1, count_gates=False, **{**SETTINGS, "rng": None})
    assert c.report.seed != a.report.seed
    gen = np.random.default_rng(5)
    d = quantum_gd(quartic_loss, THETA0, order=1, count_gates=False, **{**SETTINGS, "rng": gen})
    e = quantum_gd(quartic_loss, THETA0, order=1, count_gates=False, **{**SETTINGS, "rng": d.report.seed})
    np.testing.assert_array_equal(d.theta, e.theta)
    with pytest.raises(ValueError, match="run_seed: rng must be"):
        from qsgd.pipeline import run_seed
        run_seed(1.5)


def test_an_infinite_bound_never_holds():
    from qsgd.pipeline import ErrorTerm
    assert not ErrorTerm(math.inf, math.inf).holds
    assert not ErrorTerm(0.1, math.inf).holds
    assert not ErrorTerm(math.nan, 1.0).holds
    assert ErrorTerm(0.1, 0.2).holds and not ErrorTerm(0.3, 0.2).holds


def test_the_guarantee_composes_across_a_run_and_holds():
    run = quantum_training(quartic_loss, THETA0, cycles=2, classical_steps=2, rng=3,
                           derivative_bounds=tiny_bounds("quartic", radius=2.0), **CERTIFIED)
    assert all(run.success) and np.all(np.isfinite(run.envelope))
    assert np.all(run.deviation <= run.envelope + 1e-12)
    growth = 1 + CERTIFIED["eta"] * tiny_bounds("quartic", radius=2.0).hessian
    first = run.reports[0].errors["total"].bound
    np.testing.assert_allclose(run.envelope[1:4], [first, growth * first, growth**2 * first], rtol=1e-12)


def test_a_failing_segment_raises_shortens_or_continues():
    kw = dict(eta=0.5, steps=4, order=2, clock_qubits=12, shots=None, basis="symmetric", rng=0,
              derivative_bounds=tiny_bounds("quartic", radius=2.0), tolerance=0.05)
    with pytest.raises(GuaranteeError, match=r"segment 0 \(T = 4\) failed.*exceeds the tolerance"):
        quantum_training(quartic_loss, THETA0, cycles=1, **kw)
    run = quantum_training(quartic_loss, THETA0, cycles=2, on_failure="shorten", **kw)
    assert all(run.success) and all(T < 4 for T in run.segment_steps)
    assert all(r.guarantee.total <= 0.05 for r in run.reports)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GuaranteeWarning)
        run = quantum_training(quartic_loss, THETA0, cycles=1, on_failure="continue", **kw)
    assert run.success == (False,) and "exceeds the tolerance" in run.messages[0]
    with pytest.raises(GuaranteeError, match="even T = 1 fails"):
        quantum_training(quartic_loss, THETA0, cycles=1, on_failure="shorten", **{**kw, "tolerance": 1e-9})
    with pytest.raises(ValueError, match="on_failure"):
        quantum_training(quartic_loss, THETA0, cycles=1, on_failure="ignore", **kw)


def test_an_anchor_tomography_never_saw_moves_nothing():
    """With few copies the anchor block may never be observed: no length for u_T, theta stays theta0."""
    from types import SimpleNamespace

    from qsgd.pipeline import _download

    selected = np.array([1e-9, 1e-9, 1.0, 0.0])  # anchor (n = 2) almost zero, final block (1, 0)
    s = SegmentSettings(eta=0.5, steps=2, shots=5)
    _, u, _, _, seen = _download(selected, np.ones(2), 2, s, np.random.default_rng(0), SimpleNamespace(
        tomography_state=1.0))
    assert not seen and np.array_equal(u, np.zeros(2))
