"""Tests for qsgd.carleman_bounds: the a priori truncation bound of the discrete Carleman lift.

A catalogue of random small polynomial maps (n = 2..4, q = 2..3, N = 1..3, both bases,
contracting and mildly expanding F1, v_0 = 0 and v_0 != 0) crossed with the properties: the
actual first-level truncation error at every step t = 1..12 is below the bound for the exact
radius ||v_t|| and for the a priori radius; a wrong coupling norm breaks it; the bound grows
with T and shrinks with N for a small radius; the symmetric basis is never looser than the
Kronecker one; known values worked by hand; the bad-input catalogue.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

import qsgd.carleman_bounds as cb
from qsgd.carleman import BASES, discrete_carleman, lift, truncation_error_estimate
from qsgd.carleman_bounds import a_priori_radius, truncation_error_bound

STEPS = 12


# ---------------------------------------------------------------------------- helpers


def kron_power(u, ell):
    out = np.ones(1)
    for _ in range(ell):
        out = np.kron(out, u)
    return out


def random_map(seed, n, q, kind):
    """[F0, F1, ..., Fq]: F1 contracting, or with one mode growing by 3 % a step ("expanding")."""
    rng = np.random.default_rng(seed)
    F1 = -0.3 * np.eye(n) + 0.05 * rng.normal(size=(n, n))
    if kind == "expanding":
        F1[0, :] = 0.0
        F1[0, 0] = 0.03
    return [0.05 * rng.normal(size=n), F1] + [0.3 * rng.normal(size=(n, n**ell)) / n ** (ell / 2)
                                                for ell in range(2, q + 1)]


def trajectory(F, u0, steps):
    us = [np.asarray(u0, dtype=float)]
    for _ in range(steps):
        u = us[-1]
        us.append(u + F[0] + sum(F[ell] @ kron_power(u, ell) for ell in range(1, len(F))))
    return np.array(us)


def carleman_errors(F, u0, order, basis, steps):
    """||yhat_1(t) - v_t|| for t = 0..steps, yhat(0) = lift(v_0), yhat(t+1) = C yhat(t) + b."""
    n = F[1].shape[0]
    C, b = discrete_carleman(F, order=order, basis=basis)
    us = trajectory(F, u0, steps)
    y = lift(u0, order=order, basis=basis)
    errors = [np.linalg.norm(y[:n] - us[0])]
    for t in range(steps):
        y = C @ y + b
        errors.append(np.linalg.norm(y[:n] - us[t + 1]))
    return C, us, np.array(errors)


CATALOGUE = [
    dict(seed=100 + i, n=n, q=q, order=N, basis=basis, kind=kind)
    for i, (n, q, N, basis, kind) in enumerate(itertools.product((2, 3, 4), (2, 3), (1, 2, 3), BASES,
                                                                  ("contracting", "expanding")))
]


def _case_id(case):
    return f"n{case['n']}-q{case['q']}-N{case['order']}-{case['basis'][:3]}-{case['kind'][:4]}"


def holds(errors, bounds):
    return bool(np.all(errors <= bounds * (1 + 1e-9) + 1e-14))


# ---------------------------------------------------------------------------- validity


@pytest.mark.parametrize("case", CATALOGUE, ids=_case_id)
@pytest.mark.parametrize("start", ["zero", "nonzero"])
def test_the_bound_holds_at_every_step_for_both_radii(case, start):
    F = random_map(case["seed"], case["n"], case["q"], case["kind"])
    u0 = np.zeros(case["n"]) if start == "zero" else 0.2 * np.random.default_rng(case["seed"]).normal(size=case["n"])
    C, us, errors = carleman_errors(F, u0, case["order"], case["basis"], STEPS)
    exact = truncation_error_bound(F, C, steps=STEPS, order=case["order"], radius=np.linalg.norm(us, axis=1),
                                   basis=case["basis"])
    prior_radius = a_priori_radius(F, steps=STEPS, initial=float(np.linalg.norm(u0)))
    assert np.all(np.linalg.norm(us, axis=1) <= prior_radius * (1 + 1e-12))
    prior = truncation_error_bound(F, C, steps=STEPS, order=case["order"], radius=prior_radius,
                                   basis=case["basis"])
    assert exact.success and exact.bounds.shape == (STEPS + 1,) and exact.bounds[0] == 0.0
    assert holds(errors, exact.bounds), (errors, exact.bounds)
    assert holds(errors, prior.bounds), (errors, prior.bounds)
    # the a priori radius dominates the exact one, and the bound is monotone in the radius
    assert np.all(prior.bounds >= exact.bounds * (1 - 1e-12))


@pytest.mark.parametrize("T", [1, 2, 5, 12])
def test_steps_t_gives_the_bound_at_step_t(T):
    F = random_map(7, 3, 3, "contracting")
    C, us, _ = carleman_errors(F, np.zeros(3), 2, "symmetric", STEPS)
    radius = np.linalg.norm(us, axis=1)
    full = truncation_error_bound(F, C, steps=STEPS, order=2, radius=radius, basis="symmetric")
    short = truncation_error_bound(F, C, steps=T, order=2, radius=radius[: T + 1], basis="symmetric")
    np.testing.assert_allclose(short.bounds, full.bounds[: T + 1], rtol=1e-12, atol=0)
    np.testing.assert_allclose(short.propagation_norms, full.propagation_norms[:T], rtol=1e-12, atol=0)


def test_a_wrong_coupling_norm_makes_the_check_fail(monkeypatch):
    """Dropping the highest-degree coefficient norm a_q from the coupling polynomial under-counts the
    dropped levels: on some instance of the catalogue the actual error then exceeds the 'bound'."""
    original = cb._coefficient_norms

    def without_top(F, func):
        n, a = original(F, func)
        a = a.copy()
        a[-1] = 0.0
        return n, a

    monkeypatch.setattr(cb, "_coefficient_norms", without_top)
    failures = 0
    for case in CATALOGUE:
        F = random_map(case["seed"], case["n"], case["q"], case["kind"])
        C, us, errors = carleman_errors(F, np.zeros(case["n"]), case["order"], case["basis"], STEPS)
        wrong = truncation_error_bound(F, C, steps=STEPS, order=case["order"], radius=np.linalg.norm(us, axis=1),
                                       basis=case["basis"])
        failures += not holds(errors, wrong.bounds)
    assert failures >= 1


def test_unweighted_symmetric_norms_are_not_the_kronecker_ones():
    """Without the multinomial weights the symmetric propagation norms differ from the Kronecker ones
    (the columns of C_sym merge the ordered products): the weights are what makes them agree."""
    rng = np.random.default_rng(3)
    n = 3
    F2 = rng.normal(size=(n, n, n))
    F2 = 0.1 * (F2 + F2.transpose(0, 2, 1)).reshape(n, n * n)  # symmetric in its two inputs
    F = [0.05 * rng.normal(size=n), -0.2 * np.eye(n), F2]
    res = {}
    for basis in BASES:
        C, _ = discrete_carleman(F, order=2, basis=basis)
        res[basis] = truncation_error_bound(F, C, steps=6, order=2, radius=0.3, basis=basis)
    np.testing.assert_allclose(res["symmetric"].propagation_norms, res["kronecker"].propagation_norms,
                               rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(res["symmetric"].bound, res["kronecker"].bound, rtol=1e-10)
    C_sym, _ = discrete_carleman(F, order=2, basis="symmetric")
    slices = [slice(0, n), slice(n, C_sym.shape[0])]
    ones = [np.ones(n), np.ones(C_sym.shape[0] - n)]
    unweighted, _ = cb._propagation_norms(sp.csr_array(C_sym), n, slices, ones, 6)
    assert not np.allclose(unweighted, res["kronecker"].propagation_norms, rtol=1e-3)


# ---------------------------------------------------------------------------- properties


@pytest.mark.parametrize("case", CATALOGUE[::5], ids=_case_id)
def test_the_bound_grows_with_T_for_a_fixed_radius(case):
    F = random_map(case["seed"], case["n"], case["q"], case["kind"])
    C, _ = discrete_carleman(F, order=case["order"], basis=case["basis"])
    res = truncation_error_bound(F, C, steps=STEPS, order=case["order"], radius=0.2, basis=case["basis"])
    steps_with_residual = np.flatnonzero(res.bounds > 0)
    assert steps_with_residual.size and np.all(np.diff(res.bounds) >= 0)
    # strictly increasing once some residual reaches the first level
    assert np.all(np.diff(res.bounds[steps_with_residual[0]:]) > 0)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("basis", BASES)
def test_the_bound_shrinks_with_N_for_a_small_radius(seed, basis):
    """For R = 0.05 (the nonlinear terms a_l R^(l-1) well below 1) each extra level shrinks the bound."""
    F = random_map(seed, 3, 2 + seed % 2, "contracting")
    bounds = []
    for order in (1, 2, 3):
        C, _ = discrete_carleman(F, order=order, basis=basis)
        bounds.append(truncation_error_bound(F, C, steps=8, order=order, radius=0.05, basis=basis).bound)
    assert bounds[0] > bounds[1] > bounds[2] > 0


@pytest.mark.parametrize("case", CATALOGUE[::7], ids=_case_id)
def test_the_symmetric_basis_is_never_looser(case):
    """Weighted, the symmetric norms are those of the Kronecker C on symmetric tensors: no larger."""
    F = random_map(case["seed"], case["n"], case["q"], case["kind"])
    out = {}
    for basis in BASES:
        C, _ = discrete_carleman(F, order=case["order"], basis=basis)
        out[basis] = truncation_error_bound(F, C, steps=6, order=case["order"], radius=0.3, basis=basis)
    assert out["symmetric"].bound <= out["kronecker"].bound * (1 + 1e-10)
    np.testing.assert_array_equal(out["symmetric"].residual_bounds, out["kronecker"].residual_bounds)


def test_dense_and_sparse_C_agree():
    F = random_map(11, 3, 2, "expanding")
    C, _ = discrete_carleman(F, order=2)
    a = truncation_error_bound(F, C, steps=5, order=2, radius=0.4)
    b = truncation_error_bound(F, C.toarray(), steps=5, order=2, radius=0.4)
    np.testing.assert_allclose(a.bounds, b.bounds, rtol=1e-12)


def test_a_polynomialmap_like_object_is_read_by_its_coefficients():
    class Carrier:
        def __init__(self, coefficients):
            self.coefficients = coefficients

    F = random_map(12, 2, 2, "contracting")
    C, _ = discrete_carleman(F, order=2)
    a = truncation_error_bound(F, C, steps=4, order=2, radius=0.3)
    b = truncation_error_bound(Carrier(F), C, steps=4, order=2, radius=0.3)
    np.testing.assert_array_equal(a.bounds, b.bounds)


# ---------------------------------------------------------------------------- known values


def test_scalar_map_worked_by_hand():
    """v -> v + 0.01 - 0.1 v + 0.05 v^2, N = 2, R = 0.1: a = (0.01, 0.9, 0.05); level 1 keeps all of
    P(v) (q = N), level 2 drops 2 a1 a2 R^3 + a2^2 R^4; the level-2 residual reaches level 1 through
    C_12 = F2 = 0.05 after one step."""
    F = [[0.01], [[-0.1]], [[0.05]]]
    C, _ = discrete_carleman(F, order=2)
    res = truncation_error_bound(F, C, steps=3, order=2, radius=0.1)
    np.testing.assert_allclose(res.coefficient_norms, [0.01, 0.9, 0.05], rtol=1e-14)
    rho2 = 2 * 0.9 * 0.05 * 0.1**3 + 0.05**2 * 0.1**4
    np.testing.assert_allclose(res.residual_bounds, [[0.0, rho2]] * 3, rtol=1e-12)
    # level 2: (0.01 + 0.9 v + 0.05 v^2)^2 = 1e-4 + 0.018 v + (0.81 + 0.001) v^2 + ...
    np.testing.assert_allclose(C.toarray(), [[0.9, 0.05], [0.018, 0.811]], rtol=1e-12)
    g1 = 0.05                                   # P_1 C E_2
    g2 = 0.9 * 0.05 + 0.05 * 0.811              # P_1 C^2 E_2
    np.testing.assert_allclose(res.propagation_norms[:, 1], [0.0, g1, g2], rtol=1e-12)
    np.testing.assert_allclose(res.bounds, [0.0, 0.0, g1 * rho2, (g1 + g2) * rho2], rtol=1e-12)


def test_a_linear_map_has_no_truncation_error():
    """q = 1: the lift is exact at every order, and so is the bound (zero)."""
    F = [np.array([0.1, -0.2]), np.array([[-0.3, 0.1], [0.0, -0.2]])]
    for order in (1, 2):
        C, _ = discrete_carleman(F, order=order)
        res = truncation_error_bound(F, C, steps=5, order=order, radius=10.0)
        assert res.bound == 0.0 and not np.any(res.residual_bounds)


def test_level_one_residual_appears_only_for_q_above_N():
    F = random_map(4, 2, 3, "contracting")
    C, _ = discrete_carleman(F, order=2)
    res = truncation_error_bound(F, C, steps=3, order=2, radius=0.5)
    a = res.coefficient_norms
    np.testing.assert_allclose(res.residual_bounds[:, 0], a[3] * 0.5**3, rtol=1e-12)
    C3, _ = discrete_carleman(F, order=3)
    assert not np.any(truncation_error_bound(F, C3, steps=3, order=3, radius=0.5).residual_bounds[:, 0])


def test_the_estimate_and_the_bound_bracket_the_same_error():
    """The after-the-fact estimate and the a priori bound (exact radius) both lie above the error."""
    F = random_map(21, 3, 2, "contracting")
    C, b = discrete_carleman(F, order=2)
    us = trajectory(F, np.zeros(3), 8)
    err, estimate, _ = truncation_error_estimate(C, b, us, order=2)
    bound = truncation_error_bound(F, C, steps=8, order=2, radius=np.linalg.norm(us, axis=1)).bound
    assert np.linalg.norm(err) <= min(estimate, bound) * (1 + 1e-12)


def test_a_priori_radius_known_values_and_overflow():
    np.testing.assert_allclose(a_priori_radius([[0.01], [[-0.1]], [[0.05]]], steps=2),
                               [0.0, 0.01, 0.01 + 0.9 * 0.01 + 0.05 * 0.01**2], rtol=1e-14)
    np.testing.assert_allclose(a_priori_radius([None, [[0.5]]], steps=2, initial=1.0), [1.0, 1.5, 2.25])
    blow = a_priori_radius([[1.0], [[1.0]], [[1.0]]], steps=20)
    assert np.isinf(blow[-1]) and np.all(blow[1:] >= blow[:-1])
    C, _ = discrete_carleman([[1.0], [[1.0]], [[1.0]]], order=1)
    res = truncation_error_bound([[1.0], [[1.0]], [[1.0]]], C, steps=20, order=1, radius=blow)
    assert not res.success and np.isinf(res.bound) and "overflowed" in res.message


# ---------------------------------------------------------------------------- bad input

_F = [[0.01, 0.0], [[-0.1, 0.0], [0.0, -0.2]], 0.05 * np.ones((2, 4))]
_C = discrete_carleman(_F, order=2)[0]
_TEB = "truncation_error_bound"

BAD_INPUT = {
    "negative radius": (lambda: truncation_error_bound(_F, _C, steps=3, order=2, radius=-0.5),
                        [_TEB, "radius", "-0.5"]),
    "nan radius": (lambda: truncation_error_bound(_F, _C, steps=3, order=2, radius=float("nan")),
                   [_TEB, "radius", "nan"]),
    "negative infinite radius": (lambda: truncation_error_bound(_F, _C, steps=3, order=2, radius=-np.inf),
                                 [_TEB, "radius", "-inf"]),
    "negative radius entry": (lambda: truncation_error_bound(_F, _C, steps=2, order=2, radius=[0.1, -0.2, 0.3]),
                              [_TEB, "radius[1]", "-0.2"]),
    "nan radius entry": (lambda: truncation_error_bound(_F, _C, steps=2, order=2, radius=[0.1, np.nan, 0.3]),
                         [_TEB, "radius[1]", "nan"]),
    "radius wrong length": (lambda: truncation_error_bound(_F, _C, steps=3, order=2, radius=[0.1, 0.2]),
                            [_TEB, "radius", "steps + 1 = 4", "(2,)"]),
    "radius 2-D": (lambda: truncation_error_bound(_F, _C, steps=1, order=2, radius=[[0.1, 0.2]]),
                   [_TEB, "radius", "(1, 2)"]),
    "radius string": (lambda: truncation_error_bound(_F, _C, steps=3, order=2, radius="big"),
                      [_TEB, "radius", "'big'"]),
    "radius None": (lambda: truncation_error_bound(_F, _C, steps=3, order=2, radius=None), [_TEB, "radius", "None"]),
    "radius bool": (lambda: truncation_error_bound(_F, _C, steps=3, order=2, radius=True), [_TEB, "radius", "True"]),
    "steps 0": (lambda: truncation_error_bound(_F, _C, steps=0, order=2, radius=0.1), [_TEB, "steps", "0"]),
    "steps float": (lambda: truncation_error_bound(_F, _C, steps=2.5, order=2, radius=0.1), [_TEB, "steps", "2.5"]),
    "order 0": (lambda: truncation_error_bound(_F, _C, steps=3, order=0, radius=0.1), [_TEB, "order", "0"]),
    "C wrong shape": (lambda: truncation_error_bound(_F, np.eye(3), steps=3, order=2, radius=0.1),
                      [_TEB, "C", "(3, 3)", "order-2 kronecker lift of n = 2"]),
    "C of the other basis": (lambda: truncation_error_bound(_F, _C, steps=3, order=2, radius=0.1, basis="symmetric"),
                             [_TEB, "C", "(6, 6)", "symmetric"]),
    "C None": (lambda: truncation_error_bound(_F, None, steps=3, order=2, radius=0.1), [_TEB, "C", "None"]),
    "C non-finite": (lambda: truncation_error_bound(_F, np.full((6, 6), np.nan), steps=3, order=2, radius=0.1),
                     [_TEB, "C", "non-finite"]),
    "absurd order": (lambda: truncation_error_bound(_F, _C, steps=3, order=10**6, radius=0.1),
                     [_TEB, "C", "order-1000000", "2**1e+06"]),
    "absurd steps": (lambda: truncation_error_bound(_F, _C, steps=10**12, order=2, radius=0.1),
                     [_TEB, "steps = 1000000000000", "||C||_2**s"]),
    "bad basis": (lambda: truncation_error_bound(_F, _C, steps=3, order=2, radius=0.1, basis="monomial"),
                  [_TEB, "basis", "'monomial'"]),
    "F a dict": (lambda: truncation_error_bound({"F1": 1}, _C, steps=3, order=2, radius=0.1), [_TEB, "F", "dict"]),
    "F degree 4": (lambda: truncation_error_bound([None, np.eye(2), None, None, np.zeros((2, 16))], _C, steps=3,
                                                  order=2, radius=0.1), [_TEB, "F", "degree 4"]),
    "radius steps 0": (lambda: a_priori_radius(_F, steps=0), ["a_priori_radius", "steps", "0"]),
    "radius negative initial": (lambda: a_priori_radius(_F, steps=3, initial=-1.0),
                                ["a_priori_radius", "initial", "-1.0"]),
    "radius absurd steps": (lambda: a_priori_radius(_F, steps=10**12), ["a_priori_radius", "1000000000001 radii"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, refuses):
    call, words = BAD_INPUT[case]
    refuses(call, ValueError, words)
