"""Tests of the a priori Taylor error bound (qsgd.gd.taylor_error_bound) and its derivative bounds
(qsgd.derivative_bounds): the bound must hold on random polynomial losses and tanh networks, and a
deliberately wrong constant must make it fail."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from qsgd.derivative_bounds import (
    LSE_DERIVATIVE_SUP,
    TANH_DERIVATIVE_SUP,
    DerivativeBounds,
    _composition_bound,
    polynomial_loss,
    polynomial_loss_bounds,
    tanh_mlp_bounds,
)
from qsgd.gd import (
    TaylorErrorBound,
    gradient_descent,
    model_loss,
    polynomial_map,
    polynomial_radius_bound,
    taylor_error_bound,
    taylor_error_estimate,
)
from qsgd.nn import mlp

# forward-mode AD (third derivatives) announces a torch.jit deprecation once
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:DeprecationWarning")

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def random_polynomial(n, rng, *, quintic=False):
    """Monomial tensors of a random loss with quadratic, cubic and quartic (optionally quintic) terms."""
    a = rng.normal(size=(n, n))
    tensors = [0.0, rng.normal(size=n) * 0.5, 0.5 * (a @ a.T / n + 0.5 * np.eye(n)),
               rng.normal(size=(n,) * 3) * 0.2, rng.normal(size=(n,) * 4) * 0.1]
    if quintic:
        tensors.append(rng.normal(size=(n,) * 5) * 0.05)
    return tensors


def a_priori(tensors, theta0, pmap, steps, *, scale_remainder=1.0):
    """The a priori bound, with the ball grown until it contains what the bound needs (before any GD run)."""
    degree = pmap.degree
    radius = max(float(polynomial_radius_bound(pmap, steps)[-1]), 0.1)
    for _ in range(30):
        bounds = polynomial_loss_bounds(tensors, theta0, radius=radius, degree=degree)
        if scale_remainder != 1.0:
            bounds = dataclasses.replace(bounds, remainder=scale_remainder * bounds.remainder)
        res = taylor_error_bound(pmap, steps, bounds)
        if res.success or not math.isfinite(res.needed_radius):
            return res
        radius = 1.05 * res.needed_radius
    # last resort: bounds on the whole space (finite only for terms the loss does not have)
    bounds = polynomial_loss_bounds(tensors, theta0, radius=math.inf, degree=degree)
    if scale_remainder != 1.0:
        bounds = dataclasses.replace(bounds, remainder=scale_remainder * bounds.remainder)
    return taylor_error_bound(pmap, steps, bounds)


def polynomial_instances():
    """(name, n, eta, steps, degree, quintic, seed): random polynomial losses, q = 2 and 3."""
    rng = np.random.default_rng(20240434)
    cases = []
    for k in range(36):
        degree = 2 if k % 2 == 0 else 3
        cases.append((f"poly{k}", int(rng.integers(2, 6)), float(rng.choice([0.01, 0.02, 0.05])),
                      int(rng.integers(1, 16)), degree, degree == 3 and k % 4 == 1, 1000 + k))
    return cases


POLYNOMIAL_CASES = polynomial_instances()


def run_polynomial_case(n, eta, steps, degree, quintic, seed):
    rng = np.random.default_rng(seed)
    tensors = random_polynomial(n, rng, quintic=quintic)
    theta0 = rng.normal(size=n) * 0.3
    loss = polynomial_loss(tensors)
    pmap = polynomial_map(loss, theta0, eta=eta, degree=degree)
    actual = float(np.linalg.norm((gradient_descent(loss, theta0, eta=eta, steps=steps)[-1] - theta0)
                                  - pmap.trajectory(steps)[-1]))
    return tensors, theta0, pmap, actual


@pytest.fixture(scope="module")
def polynomial_results():
    """For every case: the actual error, the a priori bound and the bound with 0.1 x the true M."""
    out = {}
    for name, n, eta, steps, degree, quintic, seed in POLYNOMIAL_CASES:
        tensors, theta0, pmap, actual = run_polynomial_case(n, eta, steps, degree, quintic, seed)
        out[name] = (actual, a_priori(tensors, theta0, pmap, steps),
                     a_priori(tensors, theta0, pmap, steps, scale_remainder=0.1), degree, quintic)
    return out


# --------------------------------------------------------------------------------------------
# (i) polynomial losses: the bound holds, and a wrong M breaks it
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", POLYNOMIAL_CASES, ids=[c[0] for c in POLYNOMIAL_CASES])
def test_a_priori_bound_holds_on_random_polynomial_losses(case, polynomial_results):
    actual, res, _, degree, quintic = polynomial_results[case[0]]
    assert isinstance(res, TaylorErrorBound)
    if not res.success:
        # no ball on which the bound closes (R_t of the map grows too fast): nothing is claimed
        assert res.bound == math.inf and "radius" in res.message or "overflows" in res.message
        return
    assert res.bounds.radius >= res.needed_radius
    assert actual <= res.bound * (1 + 1e-9) + 1e-12, (actual, res.bound)
    if degree == 3 and not quintic:
        # a quartic loss: the degree-3 map is exact, the remainder bound and the error bound are 0
        assert res.bounds.remainder == 0.0 and res.bound == 0.0 and actual < 1e-10


def test_most_random_polynomial_instances_get_a_proof(polynomial_results):
    proven = [name for name, (_, res, _, _, _) in polynomial_results.items() if res.success]
    assert len(proven) >= 30, len(proven)


def test_a_wrong_remainder_constant_makes_the_bound_fail(polynomial_results):
    """0.1 x the true M: the 'bound' falls below the actual error on at least one instance."""
    failures = [name for name, (actual, _, wrong, _, _) in polynomial_results.items()
                if wrong.success and actual > wrong.bound * (1 + 1e-9) + 1e-12]
    assert len(failures) >= 1


def test_the_bound_is_tight_on_a_one_dimensional_quartic_at_two_steps():
    """n = 1, L = th^4 / 4 around 0 at T = 2: e_2 = eta M R_1^3 / 3! with M = 6, R_1 = eta |L'(0)|."""
    tensors = [0.0, [0.5], [[0.0]], [[[0.0]]], [[[[0.25]]]]]
    pmap = polynomial_map(polynomial_loss(tensors), [0.0], eta=0.1, degree=2)
    res = taylor_error_bound(pmap, 2, polynomial_loss_bounds(tensors, [0.0], radius=1.0, degree=2))
    assert res.bound == pytest.approx(0.1 * 6 * 0.05**3 / 6, rel=1e-12)
    actual = abs(gradient_descent(polynomial_loss(tensors), [0.0], eta=0.1, steps=2)[-1, 0]
                 - pmap.trajectory(2)[-1, 0])
    assert actual == pytest.approx(res.bound, rel=1e-12)  # L'''' is constant: the bound is the error


def test_polynomial_loss_bounds_dominate_sampled_derivatives():
    rng = np.random.default_rng(5)
    tensors = random_polynomial(3, rng, quintic=True)
    theta0 = rng.normal(size=3) * 0.3
    b = polynomial_loss_bounds(tensors, theta0, radius=0.7, degree=3)
    loss = polynomial_loss(tensors)
    for _ in range(8):
        w = rng.normal(size=3)
        w *= 0.7 * rng.uniform() / np.linalg.norm(w)
        th = torch.tensor(theta0 + w)
        assert float(torch.linalg.norm(torch.func.grad(loss)(th))) <= b.gradient * (1 + 1e-12)
        assert float(torch.linalg.matrix_norm(torch.func.hessian(loss)(th), 2)) <= b.hessian * (1 + 1e-12)
        h = torch.tensor(rng.normal(size=3))
        h /= torch.linalg.norm(h)
        assert abs(directional_derivative(loss, th, h, 5)) <= b.remainder * (1 + 1e-12)


# --------------------------------------------------------------------------------------------
# (ii) tanh networks: constants against autograd, and the bound holds
# --------------------------------------------------------------------------------------------


def directional_derivative(f, x, h, order):
    """d^order/ds^order f(x + s h) at s = 0, by nested forward-mode AD."""
    g = f
    for _ in range(order):
        g = (lambda inner: (lambda y: torch.func.jvp(inner, (y,), (h,))[1]))(g)
    return float(g(x))


def directional_derivatives(f, x, h, order, *extra):
    """Row-wise d^order/ds^order f(x_i + s h_i, *extra_i) at s = 0, vectorised with vmap."""
    g = lambda z, d, *e: f(z, *e)  # noqa: E731
    for _ in range(order):
        g = (lambda inner: (lambda y, d, *e: torch.func.jvp(lambda z: inner(z, d, *e), (y,), (d,))[1]))(g)
    return torch.func.vmap(g)(x, h, *extra)


def tanh_derivatives_on_grid(order):
    x = torch.linspace(-8.0, 8.0, 40001, dtype=torch.float64, requires_grad=True)
    y = torch.tanh(x)
    out = [y]
    for _ in range(order):
        y = torch.autograd.grad(y.sum(), x, create_graph=True)[0]
        out.append(y)
    return [v.detach().abs().max().item() for v in out]


def test_tanh_derivative_constants_against_a_fine_grid():
    sampled = tanh_derivatives_on_grid(5)
    for j, (s, c) in enumerate(zip(sampled, TANH_DERIVATIVE_SUP)):
        assert s <= c, (j, s, c)
        assert s >= c * (1 - 1e-6), (j, s, c)  # the constants are the exact suprema
    assert TANH_DERIVATIVE_SUP[2] == pytest.approx(4 / (3 * math.sqrt(3)), rel=1e-11)
    assert TANH_DERIVATIVE_SUP[3] == pytest.approx(2.0, rel=1e-11)
    assert TANH_DERIVATIVE_SUP[4] == pytest.approx(4.0859, abs=1e-4)
    assert TANH_DERIVATIVE_SUP[5] == pytest.approx(16.0, rel=1e-11)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_cross_entropy_derivative_constants_against_autograd(order):
    """sup over random logits, labels and unit directions of |D^p CE(o, y)[h^p]| <= C_p."""
    rng = np.random.default_rng(order)
    worst = 0.0
    for c in (2, 3, 5):
        size = 100
        o = torch.tensor(rng.normal(size=(size, c)) * rng.choice([0.1, 1.0, 3.0, 10.0], size=(size, 1)))
        onehot = torch.nn.functional.one_hot(torch.tensor(rng.integers(c, size=size)), c).to(torch.float64)
        h = torch.tensor(rng.normal(size=(size, c)))
        h[::4] = 0.0  # the extreme directions: two classes, opposite signs
        h[::4, 0], h[::4, 1] = 1.0, -1.0
        h /= torch.linalg.norm(h, dim=1, keepdim=True)

        def ce(z, y):
            return torch.logsumexp(z, 0) - z @ y

        worst = max(worst, float(directional_derivatives(ce, o, h, order, onehot).abs().max()))
    assert worst <= LSE_DERIVATIVE_SUP[order]
    if order == 2:
        assert worst >= 0.49  # 1/2 is attained (p = (1/2, 1/2), h = (1, -1)/sqrt 2)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_composition_bound_against_autograd(order):
    """|D^m_z CE(W2 tanh z + b2, y)[h^m]| <= Phi_m(||W2||) at random z, h (Faa di Bruno with the constants)."""
    rng = np.random.default_rng(100 + order)
    for _ in range(25):
        hdim, c = int(rng.integers(2, 5)), int(rng.integers(2, 4))
        W2 = torch.tensor(rng.normal(size=(c, hdim)) * rng.choice([0.3, 1.0, 3.0]))
        b2 = torch.tensor(rng.normal(size=c))
        y = int(rng.integers(c))

        def phi(z, W2=W2, b2=b2, y=y):
            o = W2 @ torch.tanh(z) + b2
            return torch.logsumexp(o, 0) - o[y]

        z = torch.tensor(rng.normal(size=hdim) * 1.5)
        h = torch.tensor(rng.normal(size=hdim))
        h /= torch.linalg.norm(h)
        bound = _composition_bound(order, float(torch.linalg.matrix_norm(W2, 2)))
        assert abs(directional_derivative(phi, z, h, order)) <= bound


def tiny_network(seed, *, free_bias=False):
    rng = np.random.default_rng(seed)
    d, hdim, c = int(rng.integers(2, 7)), int(rng.integers(2, 5)), int(rng.integers(2, 4))
    model = mlp([d, hdim, c], rng=seed, dtype="float64")
    x = torch.tensor(rng.normal(size=(12, d)))
    y = torch.tensor(rng.integers(c, size=12))
    free = int(rng.integers(3, min(10, d * hdim) + 1))
    w_mask = torch.zeros(d * hdim, dtype=torch.bool)
    w_mask[torch.tensor(rng.choice(d * hdim, size=free, replace=False))] = True
    mask = {name: torch.zeros_like(p, dtype=torch.bool) for name, p in model.named_parameters()}
    mask["0.weight"] = w_mask.reshape(hdim, d)
    if free_bias:
        mask["0.bias"] = torch.ones(hdim, dtype=torch.bool)
    return model, x, y, mask


MLP_CASES = [(seed, eta, steps, degree, seed % 3 == 0)
             for seed, (eta, steps, degree) in enumerate(
                 [(0.05, 1, 1), (0.05, 3, 2), (0.1, 2, 3), (0.2, 4, 2), (0.5, 2, 1), (0.1, 6, 2),
                  (0.02, 10, 3), (0.3, 3, 3)])]


@pytest.mark.parametrize("seed, eta, steps, degree, free_bias", MLP_CASES)
def test_a_priori_bound_holds_on_tiny_tanh_networks(seed, eta, steps, degree, free_bias):
    model, x, y, mask = tiny_network(seed, free_bias=free_bias)
    bounds = tanh_mlp_bounds(model, x, y, mask=mask, degree=degree)
    assert bounds.radius == math.inf and bounds.order == degree
    loss, theta0, _ = model_loss(model, x, y, mask=mask)
    pmap = polynomial_map(loss, theta0, eta=eta, degree=degree)
    res = taylor_error_bound(pmap, steps, bounds)
    assert res.success, res.message
    u_gd = gradient_descent(loss, theta0, eta=eta, steps=steps) - theta0
    v = pmap.trajectory(steps)
    actual = np.linalg.norm(u_gd - v, axis=1)
    assert np.all(actual <= res.per_step * (1 + 1e-9) + 1e-12)
    assert np.all(np.linalg.norm(u_gd, axis=1) <= res.displacement_bound * (1 + 1e-9) + 1e-12)
    assert np.all(np.linalg.norm(v, axis=1) <= res.radius_bound * (1 + 1e-9) + 1e-12)


@pytest.mark.parametrize("seed", [0, 3, 5])
def test_tanh_mlp_bounds_dominate_autograd_at_random_points(seed):
    """||grad L|| <= G, ||Hess L||_2 <= H and |D^{q+2} L[h^{q+2}]| <= M at random theta (the bounds are global)."""
    model, x, y, mask = tiny_network(seed, free_bias=seed == 3)
    loss, theta0, _ = model_loss(model, x, y, mask=mask)
    rng = np.random.default_rng(seed)
    for degree in (1, 2, 3):
        b = tanh_mlp_bounds(model, x, y, mask=mask, degree=degree)
        for scale in (0.0, 0.5, 2.0, 5.0):
            th = torch.tensor(theta0 + scale * rng.normal(size=theta0.size))
            assert float(torch.linalg.norm(torch.func.grad(loss)(th))) <= b.gradient
            assert float(torch.linalg.matrix_norm(torch.func.hessian(loss)(th), 2)) <= b.hessian
            h = torch.tensor(rng.normal(size=theta0.size))
            h /= torch.linalg.norm(h)
            assert abs(directional_derivative(loss, th, h, degree + 2)) <= b.remainder


# --------------------------------------------------------------------------------------------
# (iii) the radius bound of the polynomial map
# --------------------------------------------------------------------------------------------


def test_polynomial_radius_bound_known_value():
    # v -> 0.5 v - 0.1: |v_t| = 0.1 (1 + 0.5 + ... ) exactly
    np.testing.assert_allclose(polynomial_radius_bound([[-0.1], [[-0.5]]], 3), [0.0, 0.1, 0.15, 0.175], rtol=1e-14)


@pytest.mark.parametrize("seed", range(8))
def test_polynomial_radius_bound_dominates_the_iterates(seed):
    rng = np.random.default_rng(seed)
    n, degree = int(rng.integers(1, 5)), int(rng.integers(1, 4))
    tensors = random_polynomial(n, rng, quintic=True)
    theta0 = rng.normal(size=n) * 0.3
    pmap = polynomial_map(polynomial_loss(tensors), theta0, eta=0.05, degree=degree)
    R = polynomial_radius_bound(pmap, 12)
    v = np.linalg.norm(pmap.trajectory(12), axis=1)
    assert R.shape == (13,) and R[0] == 0.0
    assert np.all(v <= R * (1 + 1e-12) + 1e-15)
    np.testing.assert_array_equal(R, polynomial_radius_bound(list(pmap.coefficients), 12))


def test_polynomial_radius_bound_overflows_to_inf():
    R = polynomial_radius_bound([[1.0], [[0.0]], [[10.0]]], 40)
    finite = R[np.isfinite(R)]
    assert R[-1] == math.inf and finite.size >= 2 and np.all(np.diff(finite) >= 0)


# --------------------------------------------------------------------------------------------
# validity of the ball, and the estimate it replaces
# --------------------------------------------------------------------------------------------


def test_a_ball_too_small_proves_nothing():
    rng = np.random.default_rng(1)
    tensors = random_polynomial(3, rng)
    theta0 = rng.normal(size=3) * 0.3
    pmap = polynomial_map(polynomial_loss(tensors), theta0, eta=0.1, degree=2)
    small = polynomial_loss_bounds(tensors, theta0, radius=1e-3, degree=2)
    res = taylor_error_bound(pmap, 5, small)
    assert not res.success and res.bound == math.inf
    assert "rebuild the bounds with radius >=" in res.message and res.needed_radius > 1e-3
    assert np.all(np.isfinite(res.per_step))


def test_an_overflowing_recursion_proves_nothing():
    b = DerivativeBounds(radius=math.inf, gradient=1.0, hessian=1.0, remainder=1.0, order=2, source="test")
    res = taylor_error_bound([[1.0], [[0.0]], [[10.0]]], 40, b, eta=0.1)
    assert not res.success and res.bound == math.inf and "overflows" in res.message


def test_the_estimate_is_not_the_bound():
    """The after-the-fact estimate equals the error at T = 2; the a priori bound is computed without GD."""
    rng = np.random.default_rng(2)
    tensors = random_polynomial(2, rng)
    theta0 = rng.normal(size=2) * 0.3
    loss = polynomial_loss(tensors)
    pmap = polynomial_map(loss, theta0, eta=0.1, degree=2)
    u_gd = gradient_descent(loss, theta0, eta=0.1, steps=2) - theta0
    v = pmap.trajectory(2)
    actual = float(np.linalg.norm(u_gd[-1] - v[-1]))
    assert taylor_error_estimate(pmap.coefficients, u_gd, v, pmap.step) == pytest.approx(actual, rel=1e-9)
    res = a_priori(tensors, theta0, pmap, 2)
    assert res.success and actual <= res.bound


# --------------------------------------------------------------------------------------------
# (iv) bad input
# --------------------------------------------------------------------------------------------

_B2 = DerivativeBounds(radius=1.0, gradient=1.0, hessian=1.0, remainder=1.0, order=2, source="test")
_F2 = [[-0.1], [[-0.1]], [[0.0]]]


def _network(**changes):
    model, x, y, mask = tiny_network(1)
    args = {"model": model, "inputs": x, "targets": y, "mask": mask, "degree": 2} | changes
    return args


def _free_second_layer():
    args = _network()
    mask = dict(args["mask"])
    del mask["2.bias"]
    return args | {"mask": mask}


BAD = [
    ("bounds None", lambda: taylor_error_bound(_F2, 3, None, eta=0.1),
     ["taylor_error_bound", "bounds is None", "DerivativeBounds", "taylor_error_estimate"]),
    ("bounds wrong type", lambda: taylor_error_bound(_F2, 3, {"hessian": 1.0}, eta=0.1),
     ["taylor_error_bound", "bounds must be a DerivativeBounds", "'hessian'"]),
    ("order mismatch", lambda: taylor_error_bound(_F2[:2], 3, _B2, eta=0.1),
     ["taylor_error_bound", "bounds.order = 2", "degree q = 1"]),
    ("eta missing", lambda: taylor_error_bound(_F2, 3, _B2), ["taylor_error_bound", "eta is required"]),
    ("eta negative", lambda: taylor_error_bound(_F2, 3, _B2, eta=-0.1), ["taylor_error_bound", "eta", "-0.1"]),
    ("eta contradicts map", lambda: taylor_error_bound(
        polynomial_map(lambda th: (th**4).sum(), [0.1], eta=0.1, degree=2), 3, _B2, eta=0.2),
     ["taylor_error_bound", "eta = 0.2", "0.1"]),
    ("steps 0", lambda: taylor_error_bound(_F2, 0, _B2, eta=0.1), ["taylor_error_bound", "steps", "0"]),
    ("F not coefficients", lambda: taylor_error_bound("F", 3, _B2, eta=0.1), ["taylor_error_bound", "F must be"]),
    ("radius F vector", lambda: polynomial_radius_bound(np.ones(3), 3), ["polynomial_radius_bound", "F must be"]),
    ("radius steps", lambda: polynomial_radius_bound(_F2, 1.5), ["polynomial_radius_bound", "steps", "1.5"]),
    ("degree 4 map", lambda: polynomial_radius_bound(_F2 + [[[0.0] * 8], [[0.0] * 16]], 3),
     ["polynomial_radius_bound", "F"]),
    ("tensor shape", lambda: polynomial_loss_bounds([0.0, [1.0, 2.0], np.eye(3)], [0, 0], radius=1.0, degree=2),
     ["polynomial_loss_bounds", "coefficient_tensors[2]", "(2, 2)", "(3, 3)"]),
    ("tensors empty", lambda: polynomial_loss_bounds([], [0.0], radius=1.0, degree=2),
     ["polynomial_loss_bounds", "coefficient_tensors", "non-empty"]),
    ("tensors all None", lambda: polynomial_loss_bounds([1.0, None], [0.0], radius=1.0, degree=2),
     ["polynomial_loss_bounds", "at least one"]),
    ("tensor nan", lambda: polynomial_loss_bounds([0.0, [np.nan]], [0.0], radius=1.0, degree=2),
     ["polynomial_loss_bounds", "coefficient_tensors[1]", "non-finite"]),
    ("theta0 length", lambda: polynomial_loss_bounds([0.0, [1.0]], [0.0, 1.0], radius=1.0, degree=2),
     ["polynomial_loss_bounds", "theta0", "length 1"]),
    ("radius zero", lambda: polynomial_loss_bounds([0.0, [1.0]], [0.0], radius=0.0, degree=2),
     ["polynomial_loss_bounds", "radius", "0.0"]),
    ("radius nan", lambda: polynomial_loss_bounds([0.0, [1.0]], [0.0], radius=float("nan"), degree=2),
     ["polynomial_loss_bounds", "radius", "nan"]),
    ("degree 4", lambda: polynomial_loss_bounds([0.0, [1.0]], [0.0], radius=1.0, degree=4),
     ["polynomial_loss_bounds", "degree", "4"]),
    ("relu network", lambda: tanh_mlp_bounds(**_network(model=mlp([3, 2, 2], activation="relu", rng=0))),
     ["tanh_mlp_bounds", "model", "ReLU"]),
    ("deep network", lambda: tanh_mlp_bounds(**_network(model=mlp([3, 2, 2, 2], rng=0))),
     ["tanh_mlp_bounds", "model", "one-hidden-layer"]),
    ("free second layer", lambda: tanh_mlp_bounds(**_free_second_layer()),
     ["tanh_mlp_bounds", "'2.bias'", "first-layer weights and biases only"]),
    ("no free parameter", lambda: tanh_mlp_bounds(**_network(
        mask={name: torch.zeros_like(p, dtype=torch.bool) for name, p in _network()["model"].named_parameters()})),
     ["tanh_mlp_bounds", "no free first-layer parameter"]),
    ("lengths differ", lambda: tanh_mlp_bounds(**_network(targets=torch.zeros(3, dtype=torch.long))),
     ["tanh_mlp_bounds", "same length", "12", "3"]),
    ("inputs width", lambda: tanh_mlp_bounds(**_network(inputs=torch.zeros(12, 99, dtype=torch.float64))),
     ["tanh_mlp_bounds", "inputs must have shape", "99"]),
    ("mlp degree", lambda: tanh_mlp_bounds(**_network(degree=0)), ["tanh_mlp_bounds", "degree", "0"]),
    ("bounds radius", lambda: DerivativeBounds(radius=0.0, gradient=1, hessian=1, remainder=1, order=2, source=""),
     ["DerivativeBounds", "radius", "0.0"]),
    ("bounds negative", lambda: DerivativeBounds(radius=1.0, gradient=1, hessian=-1, remainder=1, order=2,
                                                 source=""),
     ["DerivativeBounds", "hessian", "-1"]),
    ("bounds order", lambda: DerivativeBounds(radius=1.0, gradient=1, hessian=1, remainder=1, order=5, source=""),
     ["DerivativeBounds", "order", "5"]),
]


@pytest.mark.parametrize("call, words", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_catalogue(call, words, refuses):
    refuses(call, ValueError, words)
