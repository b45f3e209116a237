"""Tests of qsgd.theorem: assumption checks and the discrete R number (the cost model: test_cost.py)."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from qsgd.theorem import (
    REGIMES,
    check_assumptions,
    r_discrete,
)

# --------------------------------------------------------------------------------------------
# constructed cases
# --------------------------------------------------------------------------------------------


def quadratic_case(eigenvalues, *, eta, seed=0):
    """F for the loss 1/2 theta^T H theta - g^T theta with spec(H) = eigenvalues (F2 = 0)."""
    rng = np.random.default_rng(seed)
    lam = np.asarray(eigenvalues, dtype=float)
    n = lam.size
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    H = (Q * lam) @ Q.T
    H = 0.5 * (H + H.T)
    g = rng.normal(size=n)
    return [eta * g, -eta * H], H


def dense_history_matrix(B, steps, padding=0):
    """Independent dense Eq. 6 matrix for y(t+1) = B y(t) + b: I on the diagonal, -B below,
    -I below the diagonal in the padding rows (copies of the final step)."""
    D = B.shape[0]
    blocks = steps + 1 + padding
    L = np.eye(D * blocks)
    for t in range(1, blocks):
        sub = B if t <= steps else np.eye(D)
        L[t * D:(t + 1) * D, (t - 1) * D:t * D] = -sub
    return L


def gd_map(F, u):
    """One step u + sum_l F_l u^(x)l for dense F (q <= 3)."""
    out = u + F[0] + F[1] @ u
    power = u
    for ell in range(2, len(F)):
        power = np.kron(u, power)
        out = out + F[ell] @ power
    return out


# quadratic loss with chosen spectrum: rho = max |1 - eta lambda| known in closed form
CHOSEN = {
    "all positive": ([0.5, 1.0, 2.0, 4.0, 8.0], 0.1, 0.95, "fully dissipative"),
    "overshoot": ([0.5, 1.0, 25.0], 0.1, 1.5, "not dissipative"),
    "flat direction": ([0.0, 1.0, 3.0], 0.1, 1.0, "almost dissipative"),
}


@pytest.mark.parametrize("name", sorted(CHOSEN))
def test_quadratic_loss_with_chosen_spectrum(name):
    lam, eta, rho, regime = CHOSEN[name]
    F, H = quadratic_case(lam, eta=eta, seed=3)
    rep = check_assumptions(F, np.ones(len(lam)), eta=eta, compute_kappa=False)
    assert rep.symmetric
    np.testing.assert_allclose(rep.rho, rho, rtol=1e-12)
    np.testing.assert_allclose(rep.linear_norm, rho, rtol=1e-12)
    np.testing.assert_allclose(np.sort(rep.hessian_eigenvalues), np.sort(lam), atol=1e-10)
    np.testing.assert_allclose(rep.eta_lambda_max, eta * max(lam), rtol=1e-12)
    assert rep.small_learning_rate == (eta * max(lam) < 2)
    assert rep.regime == regime
    assert rep.num_dissipative + rep.num_marginal + rep.num_divergent == len(lam)


def test_chosen_spectrum_mode_counts():
    lam = [-0.3, 0.0, 0.7, 1.0, 5.0, 30.0]  # eta = 0.1: mu = 1.03, 1, 0.93, 0.9, 0.5, -2
    F, _ = quadratic_case(lam, eta=0.1, seed=1)
    rep = check_assumptions(F, np.zeros(6), eta=0.1)
    assert (rep.num_dissipative, rep.num_marginal, rep.num_divergent) == (3, 1, 2)
    np.testing.assert_allclose(rep.divergent_fraction, 2 / 6)
    np.testing.assert_allclose(rep.dissipative_fraction, 3 / 6)
    np.testing.assert_allclose(rep.rho, 2.0, rtol=1e-12)
    np.testing.assert_allclose(rep.eta_lambda_min, -0.03, atol=1e-12)
    assert not rep.small_learning_rate
    assert rep.regime == "not dissipative"
    assert rep.kappa is None  # no steps given


@pytest.mark.parametrize("steps,padding", [(1, 0), (8, 0), (20, 5)])
def test_kappa_matches_dense_eq6_and_bound(steps, padding):
    lam, eta = [0.5, 1.0, 2.0, 4.0], 0.2
    F, H = quadratic_case(lam, eta=eta, seed=7)
    theta = np.array([1.0, 0.0, -2.0, 0.5])
    rep = check_assumptions(F, theta, eta=eta, steps=steps, padding=padding)
    B = np.eye(4) + F[1]
    expected = np.linalg.cond(dense_history_matrix(B, steps, padding))
    np.testing.assert_allclose(rep.kappa, expected, rtol=1e-8)
    rho = 1 - eta * 0.5
    np.testing.assert_allclose(rep.kappa_bound, (1 + rho) / (1 - rho), rtol=1e-12)
    assert rep.kappa <= rep.kappa_bound * (1 + 1e-12)
    assert rep.regime == "fully dissipative"


def test_kappa_is_flat_under_contraction_and_grows_with_a_divergent_mode():
    eta = 0.1
    F_good, _ = quadratic_case([3.0, 5.0], eta=eta, seed=0)  # multipliers 0.7, 0.5
    F_bad, _ = quadratic_case([-1.0, 2.0], eta=eta, seed=0)  # multiplier 1.1
    k_good = [check_assumptions(F_good, np.ones(2), eta=eta, steps=T).kappa for T in (10, 40, 160)]
    k_bad = [check_assumptions(F_bad, np.ones(2), eta=eta, steps=T).kappa for T in (40, 80)]
    # bounded by (1 + rho)/(1 - rho) for every T, and saturating (claim 7)
    assert max(k_good) <= (1 + 0.7) / (1 - 0.7)
    assert k_good[2] / k_good[1] < 1.02
    # log kappa grows like T log(1.1) (claim 7)
    slope = (math.log(k_bad[1]) - math.log(k_bad[0])) / 40
    np.testing.assert_allclose(slope, math.log(1.1), rtol=0.05)


# --------------------------------------------------------------------------------------------
# a divergent mode: the almost-dissipative threshold rho <= 1 + c/T
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "steps,c,max_frac,regime",
    [
        (10, 1.0, 0.5, "almost dissipative"),  # 1.02 <= 1.1
        (50, 1.0, 0.5, "almost dissipative"),  # 1.02 <= 1.02 (boundary, within tol)
        (51, 1.0, 0.5, "not dissipative"),  # 1.02 > 1 + 1/51
        (100, 3.0, 0.5, "almost dissipative"),  # 1.02 <= 1.03
        (10, 1.0, 0.2, "not dissipative"),  # 1 divergent mode of 3 > 20 %
        (None, 1.0, 0.5, "not dissipative"),  # without T a divergent mode is never tolerated
    ],
)
def test_divergent_mode_thresholds(steps, c, max_frac, regime):
    eta = 0.1
    F, _ = quadratic_case([-0.2, 1.0, 3.0], eta=eta, seed=2)  # mu = 1.02, 0.9, 0.7
    rep = check_assumptions(F, np.ones(3), eta=eta, steps=steps, growth_constant=c,
                            max_divergent_fraction=max_frac, compute_kappa=False)
    np.testing.assert_allclose(rep.rho, 1.02, rtol=1e-12)
    assert rep.num_divergent == 1
    assert rep.regime == regime
    assert rep.regime in REGIMES
    assert rep.message
    if steps is not None:
        np.testing.assert_allclose(rep.growth, 1.02**steps, rtol=1e-10)
    assert math.isinf(rep.r_d) and math.isinf(rep.r_d_min)  # the linear part does not contract


def test_tol_decides_marginal_modes():
    eta = 0.1
    F, _ = quadratic_case([1e-8, 1.0], eta=eta, seed=0)  # mu = 1 - 1e-9
    strict = check_assumptions(F, np.ones(2), eta=eta, tol=1e-12)
    loose = check_assumptions(F, np.ones(2), eta=eta, tol=1e-6)
    assert strict.regime == "fully dissipative" and strict.num_marginal == 0
    assert loose.regime == "almost dissipative" and loose.num_marginal == 1


def test_non_symmetric_linear_part():
    # a damped rotation: complex multipliers 0.9 (cos a +- i sin a), non-normal shear on top
    a = 0.3
    R = 0.9 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    B = R + np.array([[0.0, 0.5], [0.0, 0.0]])
    F = [np.zeros(2), B - np.eye(2)]
    rep = check_assumptions(F, np.ones(2), eta=1.0)
    assert not rep.symmetric
    np.testing.assert_allclose(rep.rho, np.abs(np.linalg.eigvals(B)).max(), rtol=1e-12)
    np.testing.assert_allclose(rep.linear_norm, np.linalg.norm(B, 2), rtol=1e-12)
    assert rep.linear_norm > rep.rho  # non-normal: norm above spectral radius


# --------------------------------------------------------------------------------------------
# a dense F (and the same F sparse)
# --------------------------------------------------------------------------------------------


def dense_cubic_case(n=4, seed=5):
    rng = np.random.default_rng(seed)
    F1 = -0.1 * np.diag(rng.uniform(1.0, 3.0, n))
    F2 = 0.01 * rng.normal(size=(n, n**2))
    F3 = 0.001 * rng.normal(size=(n, n**3))
    F0 = 0.001 * rng.normal(size=n)
    return [F0, F1, F2, F3]


def test_dense_F_sparsity():
    n = 4
    F = dense_cubic_case(n)
    rep = check_assumptions(F, np.array([0.1, 0.0, 0.0, -0.2]), eta=0.1)
    assert rep.row_sparsity == (1, n**2, n**3)
    assert rep.column_sparsity == (1, n, n)
    assert rep.nnz == (n, n**3, n**4)
    assert rep.sparsity == n**3
    assert rep.theta_nnz == 2 and rep.f0_nnz == n
    assert rep.degree == 3
    np.testing.assert_allclose(rep.nonlinear_norms, [np.linalg.norm(F[2], 2), np.linalg.norm(F[3], 2)],
                               rtol=1e-10)
    np.testing.assert_allclose(rep.f0_norm, np.linalg.norm(F[0]), rtol=1e-14)


def test_dense_and_sparse_F_agree():
    F = dense_cubic_case(3)
    F[2][:, ::2] = 0.0
    theta = np.array([0.2, -0.1, 0.3])
    dense = check_assumptions(F, theta, eta=0.1, steps=4)
    sparse = check_assumptions([F[0]] + [sp.csr_array(m) for m in F[1:]], theta, eta=0.1, steps=4)
    for field in ("regime", "row_sparsity", "column_sparsity", "nnz", "sparsity", "num_divergent"):
        assert getattr(dense, field) == getattr(sparse, field)
    for field in ("rho", "linear_norm", "r_d", "r_d_min", "kappa"):
        np.testing.assert_allclose(getattr(dense, field), getattr(sparse, field), rtol=1e-10)
    np.testing.assert_allclose(dense.nonlinear_norms, sparse.nonlinear_norms, rtol=1e-10)


def test_polynomial_map_like_object_is_accepted():
    F, _ = quadratic_case([1.0, 2.0], eta=0.1)
    a = check_assumptions(F, np.ones(2), eta=0.1)
    b = check_assumptions(SimpleNamespace(coefficients=F), np.ones(2), eta=0.1)
    assert a.rho == b.rho and a.regime == b.regime


def test_kappa_of_a_quadratic_map_at_order_two():
    """kappa of the N = 2 lift agrees with a dense reference built from the Kronecker blocks."""
    n, eta, steps = 2, 0.1, 5
    rng = np.random.default_rng(11)
    F1 = -eta * np.diag([1.0, 2.0])
    F2 = 0.02 * rng.normal(size=(n, n**2))
    F0 = np.zeros(n)
    B = np.eye(n) + F1
    C = np.block([[B, F2], [np.zeros((n**2, n)), np.kron(B, B)]])  # exact lift, F0 = 0
    rep = check_assumptions([F0, F1, F2], np.array([0.3, -0.2]), eta=eta, steps=steps, order=2)
    np.testing.assert_allclose(rep.kappa, np.linalg.cond(dense_history_matrix(C, steps)), rtol=1e-8)


# --------------------------------------------------------------------------------------------
# the discrete R number
# --------------------------------------------------------------------------------------------


def test_r_discrete_ball_is_invariant():
    """R_d(r) <= 1 at r >= ||u0|| keeps the whole trajectory in the ball of radius r."""
    rng = np.random.default_rng(4)
    n = 3
    for trial in range(20):
        F1 = -np.diag(rng.uniform(0.05, 0.5, n))
        F2 = rng.normal(size=(n, n**2))
        F2 *= rng.uniform(0.05, 0.3) / np.linalg.norm(F2, 2)
        F0 = rng.normal(size=n)
        F0 *= rng.uniform(0.0, 0.02) / np.linalg.norm(F0)
        u0 = rng.normal(size=n)
        u0 *= 0.5 / np.linalg.norm(u0)
        rep = check_assumptions([F0, F1, F2], u0, eta=1.0)
        if not rep.r_d <= 1:
            continue
        u = u0
        for _ in range(200):
            u = gd_map([F0, F1, F2], u)
            assert np.linalg.norm(u) <= rep.radius * (1 + 1e-12)


def test_r_discrete_closed_forms():
    linear_norm, f0, f2 = 0.8, 0.004, 0.1
    gap = 1 - linear_norm
    # PNAS form with |Re lambda_1| -> gap
    r = 0.5
    np.testing.assert_allclose(r_discrete(r, linear_norm=linear_norm, f0_norm=f0, nonlinear_norms=[f2]),
                               (r * f2 + f0 / r) / gap, rtol=1e-14)
    F = [np.array([f0, 0.0]), np.diag([-0.2, -0.5]), sp.csr_array(([f2], ([0], [3])), shape=(2, 4))]
    rep = check_assumptions(F, np.array([r, 0.0]), eta=1.0)
    np.testing.assert_allclose(rep.linear_norm, linear_norm, rtol=1e-14)
    np.testing.assert_allclose(rep.r_d, (r * f2 + f0 / r) / gap, rtol=1e-12)
    np.testing.assert_allclose(rep.r_d_min, 2 * math.sqrt(f0 * f2) / gap, rtol=1e-12)
    lo, hi = rep.radius_interval
    for edge in (lo, hi):
        np.testing.assert_allclose(r_discrete(edge, linear_norm=linear_norm, f0_norm=f0,
                                              nonlinear_norms=[f2]), 1.0, rtol=1e-10)
    np.testing.assert_allclose(lo * hi, f0 / f2, rtol=1e-12)  # Vieta


def test_r_discrete_cubic_interval_by_root_finding():
    F = dense_cubic_case(3)
    F[0] = F[0] * 0.1
    rep = check_assumptions(F, np.full(3, 0.1), eta=0.1)
    lo, hi = rep.radius_interval
    assert 0 < lo < hi
    kw = dict(linear_norm=rep.linear_norm, f0_norm=rep.f0_norm, nonlinear_norms=rep.nonlinear_norms)
    np.testing.assert_allclose([r_discrete(lo, **kw), r_discrete(hi, **kw)], [1.0, 1.0], rtol=1e-8)
    assert r_discrete(math.sqrt(lo * hi), **kw) < 1
    assert rep.r_d_min <= r_discrete(math.sqrt(lo * hi), **kw) + 1e-12


def test_r_discrete_zero_theta_and_homogeneous():
    F, _ = quadratic_case([1.0, 2.0], eta=0.1)
    forced = check_assumptions(F, np.zeros(2), eta=0.1)
    assert math.isinf(forced.r_d) and forced.r_d_min == 0.0  # F2 = 0: forcing alone, r large enough
    homog = check_assumptions([np.zeros(2), F[1], 0.1 * np.ones((2, 4))], np.zeros(2), eta=0.1)
    assert homog.r_d == 0.0
    np.testing.assert_allclose(homog.radius_interval[1], (1 - 0.9) / np.linalg.norm(0.1 * np.ones((2, 4)), 2))


# --------------------------------------------------------------------------------------------
# bad inputs
# --------------------------------------------------------------------------------------------

GOOD_F = [np.zeros(2), -0.1 * np.eye(2)]


@pytest.mark.parametrize(
    "F,theta,kwargs,match",
    [
        (np.eye(2), np.ones(2), {}, "F must be a list"),
        ([np.zeros(2)], np.ones(2), {}, r"up to F3 \(degree q = 1\.\.3\), got 1 entry"),
        ([np.zeros(2), None], np.ones(2), {}, "F1"),
        ([np.zeros(2), np.ones((2, 3))], np.ones(2), {}, "square"),
        ([np.zeros(3), -0.1 * np.eye(2)], np.ones(2), {}, "length 2"),
        ([np.zeros(2), -0.1 * np.eye(2), np.ones((2, 3))], np.ones(2), {}, r"F\[2\]"),
        ([np.zeros(2), np.array([[np.nan, 0], [0, 1]])], np.ones(2), {}, "non-finite"),
        (GOOD_F, np.ones(3), {}, "theta must have length 2"),
        (GOOD_F, [1.0, np.inf], {}, "non-finite"),
        (GOOD_F, np.ones(2), {"eta": 0.0}, "eta must be > 0"),
        (GOOD_F, np.ones(2), {"eta": -1.0}, "eta"),
        (GOOD_F, np.ones(2), {"steps": 0}, "steps must be >= 1"),
        (GOOD_F, np.ones(2), {"steps": 2.5}, "steps must be an integer"),
        (GOOD_F, np.ones(2), {"order": 0}, "order"),
        (GOOD_F, np.ones(2), {"padding": -1}, "padding"),
        (GOOD_F, np.ones(2), {"radius": 0.0}, "radius"),
        (GOOD_F, np.ones(2), {"growth_constant": -1.0}, "growth_constant"),
        (GOOD_F, np.ones(2), {"max_divergent_fraction": 1.5}, "max_divergent_fraction"),
        (GOOD_F, np.ones(2), {"basis": "dense"}, "basis"),
        (GOOD_F, np.ones(2), {"compute_kappa": "yes"}, "compute_kappa"),
        (GOOD_F, np.ones(2), {"max_bytes": 10}, "max_bytes"),
    ],
)
def test_check_assumptions_bad_inputs(F, theta, kwargs, match):
    kwargs = {"eta": 0.1, **kwargs}
    with pytest.raises(ValueError, match=match) as err:
        check_assumptions(F, theta, **kwargs)
    assert "check_assumptions" in str(err.value)


def test_kappa_system_too_large_is_refused():
    F = [np.zeros(20), -0.1 * np.eye(20), np.zeros((20, 400))]
    with pytest.raises(ValueError, match="Eq. 6 system"):
        check_assumptions(F, np.ones(20), eta=0.1, steps=1000, order=3, max_bytes=2**20)


def test_r_discrete_bad_inputs():
    with pytest.raises(ValueError, match="radius"):
        r_discrete(-1.0, linear_norm=0.5, f0_norm=0.0, nonlinear_norms=[0.1])
    with pytest.raises(ValueError, match="nonlinear_norms"):
        r_discrete(1.0, linear_norm=0.5, f0_norm=0.0, nonlinear_norms=[-0.1])
    assert math.isinf(r_discrete(1.0, linear_norm=1.0, f0_norm=0.1, nonlinear_norms=[0.1]))


def test_report_on_a_polynomial_map_from_a_torch_loss():
    """End to end with qsgd.gd: a quadratic torch loss with chosen Hessian spectrum."""
    torch = pytest.importorskip("torch")
    from qsgd.gd import polynomial_map

    lam, eta = np.array([-0.5, 0.2, 1.0, 3.0]), 0.1
    rng = np.random.default_rng(8)
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    H = torch.as_tensor((Q * lam) @ Q.T)

    def loss(th):
        return 0.5 * th @ (H @ th) + (th**3).sum() / 3  # cubic term: F2 = -eta diag-like tensor

    theta0 = np.zeros(4)
    pmap = polynomial_map(loss, theta0, eta=eta, degree=2)
    rep = check_assumptions(pmap, theta0, eta=eta, steps=10)
    np.testing.assert_allclose(np.sort(rep.hessian_eigenvalues), lam, atol=1e-10)
    np.testing.assert_allclose(rep.rho, 1 + eta * 0.5, rtol=1e-12)
    assert rep.num_divergent == 1 and rep.regime == "almost dissipative"  # 1.05 <= 1 + 1/10
    assert rep.degree == 2 and rep.nnz[1] == 4  # d^3/dth^3 of sum th^3/3: 2 on the diagonal
    np.testing.assert_allclose(rep.nonlinear_norms[0], eta, rtol=1e-12)  # F2 = -eta/2 * 2 e_iii


def test_cost_names_are_reexported_from_qsgd_cost():
    """Older code imports the qubit count from qsgd.theorem: the names are the qsgd.cost objects."""
    import qsgd.cost
    import qsgd.theorem

    for name in ("ResourceEstimate", "resource_estimate"):
        assert getattr(qsgd.theorem, name) is getattr(qsgd.cost, name)
        assert name in qsgd.theorem.__all__


# --------------------------------------------------------------------------------------------
# bad-input catalogue
# --------------------------------------------------------------------------------------------

_ETA = 0.1
_F = [np.zeros(3), -_ETA * np.diag([1.0, 2.0, 3.0]), np.zeros((3, 9))]
_RD = dict(linear_norm=0.5, f0_norm=0.1, nonlinear_norms=[0.1])


def _ca(**kw):
    args = {"F": _F, "theta": np.ones(3), "eta": _ETA, **kw}
    return check_assumptions(args.pop("F"), args.pop("theta"), **args)


#: name -> (call, expected exception, words the message must contain)
BAD_INPUT = {
    "rd zero radius": (lambda: r_discrete(0.0, **_RD), ValueError, ["r_discrete", "radius", "> 0"]),
    "rd nan radius": (lambda: r_discrete(float("nan"), **_RD), ValueError, ["r_discrete", "radius", "nan"]),
    "rd string radius": (lambda: r_discrete("1", **_RD), ValueError, ["r_discrete", "radius"]),
    "rd huge int radius": (lambda: r_discrete(10**400, **_RD), ValueError, ["r_discrete", "radius", "bits"]),
    "rd negative linear_norm": (lambda: r_discrete(1.0, **{**_RD, "linear_norm": -1}), ValueError,
                                ["r_discrete", "linear_norm", ">= 0"]),
    "rd complex f0_norm": (lambda: r_discrete(1.0, **{**_RD, "f0_norm": 1j}), ValueError, ["r_discrete", "f0_norm"]),
    "rd None norms": (lambda: r_discrete(1.0, **{**_RD, "nonlinear_norms": None}), ValueError,
                      ["r_discrete", "nonlinear_norms", "sequence"]),
    "rd scalar norms": (lambda: r_discrete(1.0, **{**_RD, "nonlinear_norms": 0.1}), ValueError,
                        ["r_discrete", "nonlinear_norms", "sequence"]),
    "rd negative norm": (lambda: r_discrete(1.0, **{**_RD, "nonlinear_norms": [0.1, -1]}), ValueError,
                         ["r_discrete", "nonlinear_norms[1]", ">= 0"]),
    "rd overflow": (lambda: r_discrete(1e200, **{**_RD, "nonlinear_norms": [1.0, 1.0]}), ValueError,
                    ["r_discrete", "overflows"]),
    "ca complex F": (lambda: _ca(F=[np.zeros(3), -0.1j * np.eye(3)]), ValueError, ["check_assumptions", "F[1]", "real"]),
    "ca None F": (lambda: _ca(F=None), ValueError, ["check_assumptions", "F", "None"]),
    "ca None F1": (lambda: _ca(F=[np.zeros(3), None]), ValueError, ["check_assumptions", "F[1]"]),
    "ca non-square F1": (lambda: _ca(F=[np.zeros(3), np.zeros((3, 2))]), ValueError,
                         ["check_assumptions", "F[1]", "square"]),
    "ca wrong F2 shape": (lambda: _ca(F=[np.zeros(3), -_ETA * np.eye(3), np.zeros((3, 3))]), ValueError,
                          ["check_assumptions", "F[2]", "shape"]),
    "ca nan F0": (lambda: _ca(F=[np.full(3, np.nan), -_ETA * np.eye(3)]), ValueError,
                  ["check_assumptions", "F[0]", "non-finite"]),
    "ca huge F1": (lambda: _ca(F=[np.zeros(3), -1e200 * np.eye(3)]), ValueError,
                   ["check_assumptions", "F[1]", "magnitude", "overflow"]),
    "ca huge theta": (lambda: _ca(theta=np.full(3, 1e200)), ValueError,
                      ["check_assumptions", "theta", "magnitude", "overflow"]),
    "ca complex theta": (lambda: _ca(theta=[1j, 0, 0]), ValueError, ["check_assumptions", "theta", "real"]),
    "ca short theta": (lambda: _ca(theta=np.ones(2)), ValueError, ["check_assumptions", "theta", "length 3"]),
    "ca empty theta": (lambda: _ca(theta=[]), ValueError, ["check_assumptions", "theta"]),
    "ca zero eta": (lambda: _ca(eta=0), ValueError, ["check_assumptions", "eta", "> 0"]),
    "ca string eta": (lambda: _ca(eta="0.1"), ValueError, ["check_assumptions", "eta"]),
    "ca zero steps": (lambda: _ca(steps=0), ValueError, ["check_assumptions", "steps", ">= 1"]),
    "ca huge steps": (lambda: _ca(steps=10**400), ValueError, ["check_assumptions", "steps", "bits"]),
    "ca huge padding": (lambda: _ca(steps=5, padding=10**400), ValueError, ["check_assumptions", "padding", "bits"]),
    "ca order 5": (lambda: _ca(order=5), ValueError, ["check_assumptions", "order", "<= 4"]),
    "ca negative padding": (lambda: _ca(padding=-1), ValueError, ["check_assumptions", "padding", ">= 0"]),
    "ca tol 1": (lambda: _ca(tol=1.0), ValueError, ["check_assumptions", "tol", "[0, 1)"]),
    "ca inf radius": (lambda: _ca(radius=float("inf")), ValueError, ["check_assumptions", "radius", "inf"]),
    "ca fraction above 1": (lambda: _ca(max_divergent_fraction=2), ValueError,
                            ["check_assumptions", "max_divergent_fraction", "[0, 1]"]),
    "ca compute_kappa string": (lambda: _ca(compute_kappa="yes"), ValueError, ["check_assumptions", "compute_kappa"]),
    "ca bad basis": (lambda: _ca(basis="monomial"), ValueError, ["check_assumptions", "basis", "monomial"]),
    "ca bad max_bytes": (lambda: _ca(max_bytes=-1), ValueError, ["check_assumptions", "max_bytes"]),
    "ca size guard": (lambda: _ca(max_bytes=10), ValueError, ["check_assumptions", "GiB", "max_bytes"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, refuses):
    call, exc, words = BAD_INPUT[case]
    refuses(call, exc, words)


def test_r_discrete_is_infinite_only_without_contraction():
    # inf is the documented answer when ||I + F1|| >= 1, never an overflow
    assert r_discrete(1.0, linear_norm=1.0, f0_norm=0.1, nonlinear_norms=[0.1]) == math.inf
    assert r_discrete(2.0, linear_norm=0.5, f0_norm=0.2, nonlinear_norms=[]) == pytest.approx(0.2)
