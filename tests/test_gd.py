"""Tests for qsgd.gd: the gradient-descent step as a polynomial map (Eqs. 3-4 of Liu et al. 2024)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from qsgd.carleman import carleman_matrix, discrete_carleman, level_slices
from qsgd.gd import DivergenceError, PolynomialMap, gradient_descent, model_loss, polynomial_map
from qsgd.nn import mlp

# --------------------------------------------------------------------------------------------
# catalogue of losses
# --------------------------------------------------------------------------------------------


def smooth_loss(th):
    """A non-polynomial analytic loss of 4 parameters (all derivative orders non-zero)."""
    w = torch.tensor([[1.0, -0.5, 0.3, 0.2], [0.4, 0.9, -0.7, 0.1], [-0.3, 0.2, 0.8, -0.6]],
                     dtype=th.dtype)
    z = w @ th
    return torch.logsumexp(z, 0) + 0.5 * (th**2).sum() + torch.tanh(th[0] * th[1] + th[2]) + torch.cos(th[3])


def quartic_case(n, seed):
    """L = 1/2 th'H th + 1/6 T[th,th,th] + 1/24 sum th^4: a degree-4 polynomial, so degree 3 is exact."""
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(n, n, generator=gen, dtype=torch.float64)
    H = a @ a.T / n + torch.eye(n, dtype=torch.float64)
    T = torch.randn(n, n, n, generator=gen, dtype=torch.float64)

    def loss(th):
        return 0.5 * th @ H @ th + torch.einsum("ijk,i,j,k->", T, th, th, th) / 6 + (th**4).sum() / 24

    return loss


THETA = np.array([0.3, -0.2, 0.1, 0.4])


def torch_grad(loss, theta):
    x = torch.tensor(theta, dtype=torch.float64)
    return torch.func.grad(loss)(x).numpy()


# --------------------------------------------------------------------------------------------
# known values
# --------------------------------------------------------------------------------------------


def test_one_dimensional_quartic_known_coefficients():
    """L = th^4/4 at th0 = 1: g = 1, H = 3, L''' = 6, L'''' = 6 (by hand)."""
    pm = polynomial_map(lambda th: (th**4).sum() / 4, [1.0], eta=0.1, degree=3)
    F0, F1, F2, F3 = pm.coefficients
    np.testing.assert_allclose(F0, [-0.1], rtol=1e-14)
    np.testing.assert_allclose(F1.toarray(), [[-0.3]], rtol=1e-14)
    np.testing.assert_allclose(F2.toarray(), [[-0.3]], rtol=1e-14)
    np.testing.assert_allclose(F3.toarray(), [[-0.1]], rtol=1e-14)
    assert pm.loss_value == pytest.approx(0.25)
    assert pm.degree == 3 and pm.eta == 0.1 and pm.n == 1


def test_quadratic_loss_gives_linear_map():
    """L = 1/2 th'H th - g'th: F0 = -eta(H th0 - g), F1 = -eta H, F2 = 0 (stored without entries)."""
    H = np.array([[2.0, 0.5], [0.5, 1.0]])
    g = np.array([1.0, -1.0])
    Ht, gt = torch.tensor(H), torch.tensor(g)
    th0 = np.array([0.2, 0.7])
    pm = polynomial_map(lambda th: 0.5 * th @ Ht @ th - gt @ th, th0, eta=0.05, degree=2)
    np.testing.assert_allclose(pm.coefficients[0], -0.05 * (H @ th0 - g), rtol=1e-14)
    np.testing.assert_allclose(pm.coefficients[1].toarray(), -0.05 * H, rtol=1e-14)
    assert pm.coefficients[2].shape == (2, 4) and pm.coefficients[2].nnz == 0


def test_coefficient_shapes_and_types():
    pm = polynomial_map(smooth_loss, THETA, eta=0.1, degree=3)
    assert isinstance(pm, PolynomialMap)
    assert isinstance(pm.coefficients[0], np.ndarray) and pm.coefficients[0].shape == (4,)
    for ell, F in enumerate(pm.coefficients[1:], start=1):
        assert isinstance(F, sp.csr_array) and F.shape == (4, 4**ell)
    np.testing.assert_array_equal(pm.theta0, THETA)


# --------------------------------------------------------------------------------------------
# torch.func coefficients against finite differences
# --------------------------------------------------------------------------------------------


def loss_np(loss, theta):
    with torch.no_grad():
        return float(loss(torch.tensor(theta, dtype=torch.float64)))


def test_gradient_and_hessian_against_finite_differences_of_the_loss():
    eta, h = 0.1, 1e-4
    pm = polynomial_map(smooth_loss, THETA, eta=eta, degree=1)
    n = THETA.size
    E = np.eye(n)
    g = np.array([(loss_np(smooth_loss, THETA + h * e) - loss_np(smooth_loss, THETA - h * e)) / (2 * h) for e in E])
    np.testing.assert_allclose(pm.coefficients[0], -eta * g, rtol=1e-7, atol=1e-9)
    hh = 1e-3
    H = np.array([[(loss_np(smooth_loss, THETA + hh * (a + b)) - loss_np(smooth_loss, THETA + hh * (a - b))
                    - loss_np(smooth_loss, THETA - hh * (a - b)) + loss_np(smooth_loss, THETA - hh * (a + b)))
                   / (4 * hh**2) for b in E] for a in E])
    np.testing.assert_allclose(pm.coefficients[1].toarray(), -eta * H, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_second_and_third_order_against_finite_differences_of_the_gradient(seed):
    """F2 (u(x)v) = -eta/2 d_u d_v grad and F3 (u(x)u(x)u) = -eta/6 d_u^3 grad, by central differences."""
    eta = 0.2
    pm = polynomial_map(smooth_loss, THETA, eta=eta, degree=3)
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=(2, 4))
    h = 1e-3
    grad = lambda th: torch_grad(smooth_loss, th)  # noqa: E731
    mixed = (grad(THETA + h * (u + v)) - grad(THETA + h * (u - v)) - grad(THETA - h * (u - v))
             + grad(THETA - h * (u + v))) / (4 * h**2)
    np.testing.assert_allclose(pm.coefficients[2] @ np.kron(u, v), -eta / 2 * mixed, rtol=1e-4, atol=1e-6)
    h3 = 1e-2
    third = (grad(THETA + 2 * h3 * u) - 2 * grad(THETA + h3 * u) + 2 * grad(THETA - h3 * u)
             - grad(THETA - 2 * h3 * u)) / (2 * h3**3)
    np.testing.assert_allclose(pm.coefficients[3] @ np.kron(u, np.kron(u, u)), -eta / 6 * third,
                               rtol=2e-3, atol=1e-5)


def test_taylor_remainder_shrinks_with_the_right_order():
    """||GD step - map step|| = O(|u|^(q+1)): halving u divides it by about 2^(q+1)."""
    eta = 0.1
    rng = np.random.default_rng(3)
    d = rng.normal(size=4)
    for degree in (1, 2, 3):
        pm = polynomial_map(smooth_loss, THETA, eta=eta, degree=degree)
        errs = []
        for s in (2e-2, 1e-2):
            exact = s * d - eta * torch_grad(smooth_loss, THETA + s * d)
            errs.append(np.linalg.norm(pm.step(s * d) - exact))
        assert errs[0] / errs[1] == pytest.approx(2 ** (degree + 1), rel=0.15)


def test_polynomial_loss_map_equals_gradient_descent():
    """A degree-4 polynomial loss: the degree-3 map is GD itself (any theta0)."""
    loss = quartic_case(4, seed=5)
    th0 = np.array([0.1, -0.3, 0.2, 0.05])
    pm = polynomial_map(loss, th0, eta=0.02, degree=3)
    gd = gradient_descent(loss, th0, eta=0.02, steps=8)
    np.testing.assert_allclose(pm.trajectory(8) + th0, gd, rtol=0, atol=1e-13)
    # start elsewhere: trajectory(u0=...) shifts the start
    u0 = np.array([0.05, 0.0, -0.02, 0.01])
    gd2 = gradient_descent(loss, th0 + u0, eta=0.02, steps=3)
    np.testing.assert_allclose(pm.trajectory(3, u0=u0) + th0, gd2, rtol=0, atol=1e-13)


def test_chunked_vmap_matches_unchunked():
    a = polynomial_map(smooth_loss, THETA, eta=0.1, degree=3)
    b = polynomial_map(smooth_loss, THETA, eta=0.1, degree=3, chunk_size=3)
    for Fa, Fb in zip(a.coefficients[1:], b.coefficients[1:]):
        np.testing.assert_allclose(Fa.toarray(), Fb.toarray(), rtol=1e-13, atol=1e-15)


def test_separable_loss_keeps_sparsity():
    """sum_i cosh(th_i): every coupling between different parameters is exactly zero."""
    pm = polynomial_map(lambda th: torch.cosh(th).sum(), THETA, eta=0.1, degree=3)
    assert [F.nnz for F in pm.coefficients[1:]] == [4, 4, 4]
    F2 = pm.coefficients[2].tocoo()
    np.testing.assert_array_equal(F2.col, F2.row * 4 + F2.row)  # only d^3/dth_i^3


# --------------------------------------------------------------------------------------------
# claim 5: the discrete lift carries eta^2 H (x) H in block (2,2)
# --------------------------------------------------------------------------------------------


def test_claim5_discrete_minus_continuous_block_22_is_eta2_HxH():
    loss = quartic_case(3, seed=2)
    x = torch.zeros(3, dtype=torch.float64)
    H = torch.func.hessian(loss)(x).numpy()
    diffs = []
    etas = [1e-1, 1e-2, 1e-3]
    for eta in etas:
        pm = polynomial_map(loss, np.zeros(3), eta=eta, degree=2)
        F0, F1, F2 = pm.coefficients
        np.testing.assert_allclose(F0, 0.0, atol=1e-15)
        C, _ = discrete_carleman([F0, F1, F2], order=2)
        A, _ = carleman_matrix([F0, F1, F2], order=2)
        s = level_slices(3, 2)[1]
        diff = (C - sp.eye_array(C.shape[0]) - A).toarray()[s, s]
        # exact up to the round-off of the O(1) entries that cancel in the subtraction
        np.testing.assert_allclose(diff, eta**2 * np.kron(H, H), rtol=1e-12, atol=4e-16)
        diffs.append(np.linalg.norm(diff))
    slope = np.polyfit(np.log(etas), np.log(diffs), 1)[0]
    assert slope == pytest.approx(2.0, abs=1e-6)


# --------------------------------------------------------------------------------------------
# model_loss and gradient_descent
# --------------------------------------------------------------------------------------------


def tiny_model_case():
    model = mlp([3, 4, 2], rng=0, dtype="float32")
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(20, 3, generator=gen)
    y = torch.randint(0, 2, (20,), generator=gen)
    mask = {"0.weight": torch.rand(4, 3, generator=gen) > 0.5}
    with torch.no_grad():
        model[0].weight.mul_(mask["0.weight"])
    return model, x, y, mask


def test_model_loss_matches_the_model_and_its_gradient():
    model, x, y, mask = tiny_model_case()
    loss, theta0, unflatten = model_loss(model, x, y, mask=mask)
    n_free = sum(p.numel() for p in model.parameters()) - int((~mask["0.weight"]).sum())
    assert theta0.shape == (n_free,)
    th = torch.tensor(theta0)
    value = loss(th)
    assert value.dtype == torch.float64 and value.ndim == 0
    ref = torch.nn.functional.cross_entropy(model(x), y)
    assert float(value) == pytest.approx(float(ref.detach()), rel=1e-6)
    # gradient w.r.t. the free entries = the model's own autograd gradient there
    ref.backward()
    free = []
    for name, p in model.named_parameters():
        g = p.grad.reshape(-1)
        free.append(g[mask[name].reshape(-1)] if name in mask else g)
    np.testing.assert_allclose(torch_grad(loss, theta0), torch.cat(free).numpy(), rtol=1e-4, atol=1e-6)
    # unflatten round trip, pruned entries stay zero
    params = unflatten(theta0 + 1.0)
    assert params["0.weight"].dtype == torch.float32
    assert torch.all(params["0.weight"][~mask["0.weight"]] == 0)
    assert torch.all(params["0.weight"][mask["0.weight"]] != 0)


def test_model_loss_pruned_map_has_no_pruned_couplings():
    """Pruned weights are not parameters: the map's dimension is the number of free weights."""
    model, x, y, mask = tiny_model_case()
    yy = torch.nn.functional.one_hot(y, 2).double()
    loss, theta0, _ = model_loss(model, x, yy, mask=mask, loss_fn=torch.nn.MSELoss())
    pm = polynomial_map(loss, theta0, eta=0.1, degree=2)
    assert pm.coefficients[1].shape == (theta0.size, theta0.size)
    # second-layer weights enter the MSE loss linearly: no third derivative purely in them
    n = theta0.size
    last = np.arange(n - 10, n - 2)  # "2.weight" (2 x 4), before "2.bias"
    F2 = pm.coefficients[2].toarray().reshape(n, n, n)
    np.testing.assert_array_equal(F2[np.ix_(last, last, last)], 0.0)


def test_gradient_descent_matches_a_plain_torch_loop():
    th0 = THETA.copy()
    out = gradient_descent(smooth_loss, th0, eta=0.1, steps=5)
    x = torch.tensor(th0, requires_grad=True)
    for t in range(5):
        value = smooth_loss(x)
        (g,) = torch.autograd.grad(value, x)
        x = (x - 0.1 * g).detach().requires_grad_(True)
        np.testing.assert_allclose(out[t + 1], x.detach().numpy(), rtol=1e-14, atol=1e-15)
    assert out.shape == (6, 4)


def test_gradient_descent_divergence_raises_or_fills_nan():
    loss = lambda th: -torch.exp(th**2).sum()  # noqa: E731
    with pytest.raises(DivergenceError, match=r"gradient_descent: gradient descent diverges: step \d+ of 10"):
        gradient_descent(loss, [1.0], eta=1.0, steps=10)
    out = gradient_descent(loss, [1.0], eta=1.0, steps=10, on_divergence="nan")
    assert np.isfinite(out[0]).all() and np.isnan(out[-1]).all()


def test_gradient_descent_huge_eta_on_a_quadratic_is_refused():
    with pytest.raises(DivergenceError, match="eta = 1e\\+300"):
        gradient_descent(lambda th: (th**2).sum(), [1.0, 2.0], eta=1e300, steps=5)


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(loss=lambda th: th**2), "loss must return a scalar"),
        (dict(loss=lambda th: 1.0), "loss must return a torch tensor"),
        (dict(loss="sum"), "loss must be a callable"),
        (dict(loss=lambda th: torch.log(th - 10).sum()), "loss is not finite"),
        (dict(loss=lambda th: torch.sqrt(th[0] ** 2 * 0)), "derivative of loss at theta0 has non-finite"),
        (dict(eta=0.0), "eta must be > 0"),
        (dict(eta=-1.0), "eta must be > 0"),
        (dict(degree=0), "degree must be >= 1"),
        (dict(degree=4), "degree must be <= 3"),
        (dict(theta0=[[0.1, 0.2]] * 2), "theta0 must be a 1-D vector"),
        (dict(theta0=[np.nan, 0.0]), "theta0 has non-finite"),
        (dict(chunk_size=0), "chunk_size must be >= 1"),
    ],
)
def test_polynomial_map_bad_input(kwargs, match):
    args = dict(loss=lambda th: (th**2).sum(), theta0=[0.1, 0.2], eta=0.1, degree=2)
    args.update(kwargs)
    loss, theta0 = args.pop("loss"), args.pop("theta0")
    with pytest.raises(ValueError, match=match) as info:
        polynomial_map(loss, theta0, **args)
    assert "polynomial_map" in str(info.value)


def test_polynomial_map_memory_guard():
    with pytest.raises(ValueError, match="derivative tensor"):
        polynomial_map(lambda th: (th**2).sum(), np.zeros(200), eta=0.1, degree=3, max_bytes=1e6)


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(eta=0), "eta must be > 0"), (dict(steps=0), "steps must be >= 1"),
     (dict(steps=1.5), "steps must be an integer"), (dict(loss=lambda th: th), "loss must return a scalar")],
)
def test_gradient_descent_bad_input(kwargs, match):
    args = dict(loss=lambda th: (th**2).sum(), eta=0.1, steps=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        gradient_descent(args.pop("loss"), [0.1, 0.2], **args)


def test_model_loss_bad_input():
    model, x, y, mask = tiny_model_case()
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        model_loss(lambda z: z, x, y)
    with pytest.raises(ValueError, match="same non-zero length"):
        model_loss(model, x, y[:5])
    with pytest.raises(ValueError, match="mask names parameter 'nope'"):
        model_loss(model, x, y, mask={"nope": mask["0.weight"]})
    with pytest.raises(ValueError, match=r"mask\['0.weight'\] has shape"):
        model_loss(model, x, y, mask={"0.weight": mask["0.weight"].T})
    none = {name: torch.zeros_like(p, dtype=torch.bool) for name, p in model.named_parameters()}
    with pytest.raises(ValueError, match="no free parameter"):
        model_loss(model, x, y, mask=none)
    loss, theta0, unflatten = model_loss(model, x, y, mask=mask)
    with pytest.raises(ValueError, match="theta must have shape"):
        loss(torch.zeros(theta0.size + 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="theta must have length"):
        unflatten(np.zeros(3))


def test_step_bad_input():
    pm = polynomial_map(lambda th: (th**2).sum(), [0.1, 0.2], eta=0.1, degree=2)
    with pytest.raises(ValueError, match="u must have length 2"):
        pm.step([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="steps must be >= 1"):
        pm.trajectory(0)


def test_trajectory_of_a_diverging_map_fills_nan():
    """u -> u + 0.1 + u^2 blows up; the rows after the first non-finite iterate are NaN."""
    pm = polynomial_map(lambda th: -(th**3).sum() / 3 - th.sum(), [0.0], eta=1.0, degree=2)
    np.testing.assert_allclose([pm.coefficients[0][0], pm.coefficients[2].toarray()[0, 0]], [1.0, 1.0])
    with pytest.raises(DivergenceError, match="PolynomialMap.trajectory: the map diverges"):
        pm.trajectory(40, u0=[1.0])
    out = pm.trajectory(40, u0=[1.0], on_divergence="nan")
    assert np.isfinite(out[:5]).all() and np.isnan(out[-1]).all()


# --------------------------------------------------------------------------------------------
# the bad-input catalogue: (call, exception, words the message must contain)
# --------------------------------------------------------------------------------------------


def _quad(th):
    return (th**2).sum()


def _pm():
    return polynomial_map(_quad, [0.1, 0.2], eta=0.1, degree=2)


def _model_case():
    model = torch.nn.Linear(2, 2)
    return model, torch.zeros(4, 2), torch.zeros(4, dtype=torch.long)


BAD_INPUT = {
    "pm complex theta0": (lambda: polynomial_map(_quad, [0.1j, 0.2], eta=0.1), ValueError,
                          ["polynomial_map", "theta0", "real"]),
    "pm None theta0": (lambda: polynomial_map(_quad, None, eta=0.1), ValueError, ["polynomial_map", "theta0", "None"]),
    "pm string theta0": (lambda: polynomial_map(_quad, "0.1", eta=0.1), ValueError,
                         ["polynomial_map", "theta0", "string"]),
    "pm empty theta0": (lambda: polynomial_map(_quad, [], eta=0.1), ValueError, ["polynomial_map", "theta0", "empty"]),
    "pm inf theta0": (lambda: polynomial_map(_quad, [np.inf], eta=0.1), ValueError,
                      ["polynomial_map", "theta0", "non-finite"]),
    "pm nan eta": (lambda: polynomial_map(_quad, [0.1], eta=float("nan")), ValueError, ["polynomial_map", "eta"]),
    "pm string eta": (lambda: polynomial_map(_quad, [0.1], eta="0.1"), ValueError, ["polynomial_map", "eta"]),
    "pm complex eta": (lambda: polynomial_map(_quad, [0.1], eta=0.1j), ValueError, ["polynomial_map", "eta"]),
    "pm huge eta": (lambda: polynomial_map(_quad, [0.1], eta=1e308), ValueError,
                    ["polynomial_map", "overflows", "eta"]),
    "pm None degree": (lambda: polynomial_map(_quad, [0.1], eta=0.1, degree=None), ValueError,
                       ["polynomial_map", "degree"]),
    "pm absurd size": (lambda: polynomial_map(_quad, np.zeros(10**4), eta=0.1, degree=3), ValueError,
                       ["polynomial_map", "GiB", "max_bytes"]),
    "pm bad max_bytes": (lambda: polynomial_map(_quad, [0.1], eta=0.1, max_bytes=-1), ValueError,
                         ["polynomial_map", "max_bytes"]),
    "gd None loss": (lambda: gradient_descent(None, [0.1], eta=0.1, steps=2), ValueError,
                     ["gradient_descent", "loss", "callable"]),
    "gd complex theta0": (lambda: gradient_descent(_quad, [1j], eta=0.1, steps=2), ValueError,
                          ["gradient_descent", "theta0", "real"]),
    "gd zero steps": (lambda: gradient_descent(_quad, [0.1], eta=0.1, steps=0), ValueError,
                      ["gradient_descent", "steps", ">= 1"]),
    "gd absurd steps": (lambda: gradient_descent(_quad, [0.1], eta=0.1, steps=10**12), ValueError,
                        ["gradient_descent", "trajectory", "max_bytes"]),
    "gd bad on_divergence": (lambda: gradient_descent(_quad, [0.1], eta=0.1, steps=2, on_divergence="ignore"),
                             ValueError, ["gradient_descent", "on_divergence"]),
    "gd divergent eta": (lambda: gradient_descent(_quad, [1.0], eta=1e3, steps=200), DivergenceError,
                         ["gradient_descent", "diverges", "eta"]),
    "step wrong length": (lambda: _pm().step([1.0]), ValueError, ["PolynomialMap.step", "u", "length 2"]),
    "step complex": (lambda: _pm().step([1j, 0.0]), ValueError, ["PolynomialMap.step", "u", "real"]),
    "trajectory None steps": (lambda: _pm().trajectory(None), ValueError, ["PolynomialMap.trajectory", "steps"]),
    "trajectory absurd steps": (lambda: _pm().trajectory(10**12), ValueError,
                                ["PolynomialMap.trajectory", "max_bytes"]),
    "trajectory nan u0": (lambda: _pm().trajectory(3, u0=[np.nan, 0.0]), ValueError,
                          ["PolynomialMap.trajectory", "u0", "non-finite"]),
    "model_loss None model": (lambda: model_loss(None, torch.zeros(2, 2), torch.zeros(2)), ValueError,
                              ["model_loss", "model"]),
    "model_loss list inputs": (lambda: model_loss(_model_case()[0], [[0.0, 0.0]], torch.zeros(1)), ValueError,
                               ["model_loss", "inputs"]),
    "model_loss empty data": (lambda: model_loss(_model_case()[0], torch.zeros(0, 2), torch.zeros(0)), ValueError,
                              ["model_loss", "non-zero length"]),
    "model_loss nan inputs": (lambda: model_loss(_model_case()[0], torch.full((4, 2), float("nan")),
                                                 _model_case()[2]), ValueError, ["model_loss", "inputs", "non-finite"]),
    "model_loss list mask": (lambda: model_loss(*_model_case(), mask={"weight": [[True, True]] * 2}), ValueError,
                             ["model_loss", "mask['weight']", "tensor"]),
    "model_loss mask not a dict": (lambda: model_loss(*_model_case(), mask=[1]), ValueError, ["model_loss", "mask"]),
    "model_loss bad loss_fn": (lambda: model_loss(*_model_case(), loss_fn="mse"), ValueError,
                               ["model_loss", "loss_fn"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, refuses):
    call, exc, words = BAD_INPUT[case]
    refuses(call, exc, words)


def test_a_polynomial_map_goes_to_the_carleman_builders_as_it_is():
    pm = polynomial_map(lambda th: (th**4).sum() / 4 + (th[0] * th[1]) ** 2, [0.3, -0.2], eta=0.1, degree=2)
    C, b = discrete_carleman(pm, order=3)
    C_ref, b_ref = discrete_carleman(list(pm.coefficients), order=3)
    assert (C != C_ref).nnz == 0 and np.array_equal(b, b_ref)
    A, a = carleman_matrix(pm, order=2)
    A_ref, a_ref = carleman_matrix(list(pm.coefficients), order=2)
    assert (A != A_ref).nnz == 0 and np.array_equal(a, a_ref)
    cubic = polynomial_map(lambda th: (th**4).sum(), [0.3, -0.2], eta=0.1, degree=3)
    with pytest.raises(ValueError, match=r"carleman_matrix: F.coefficients must hold F0, F1 and up to F2"):
        carleman_matrix(cubic, order=2)


def test_taylor_error_estimate_is_zero_for_an_exact_map_and_covers_a_truncated_one():
    """A cubic loss has an exact degree-2 map (estimate 0); truncated at degree 1 the estimate covers the gap.

    The a priori bound, which can fail, is tested in tests/test_taylor_bound.py."""
    from qsgd.gd import taylor_error_estimate

    rng = np.random.default_rng(11)
    H = torch.tensor(np.diag(rng.uniform(0.5, 1.5, 3)))
    c = torch.tensor(rng.normal(size=3) * 0.3)

    def loss(th):
        return 0.5 * th @ H @ th + (c * th**3).sum() / 3

    theta0 = rng.normal(size=3) * 0.5
    steps = 6
    u_gd = gradient_descent(loss, theta0, eta=0.1, steps=steps) - theta0
    exact = polynomial_map(loss, theta0, eta=0.1, degree=2)
    u_exact = exact.trajectory(steps)
    assert taylor_error_estimate(exact.coefficients, u_gd, u_exact, exact.step) < 1e-12
    linear = polynomial_map(loss, theta0, eta=0.1, degree=1)
    u_lin = linear.trajectory(steps)
    gap = np.linalg.norm(u_gd[-1] - u_lin[-1])
    estimate = taylor_error_estimate(linear.coefficients, u_gd, u_lin, linear.step)
    assert 0 < gap <= estimate < 100 * gap
    with pytest.raises(ValueError, match="taylor_error_estimate: u_gd and u_poly must both have shape"):
        taylor_error_estimate(linear.coefficients, u_gd, u_lin[:-1], linear.step)
    with pytest.raises(ValueError, match="taylor_error_estimate: step must be callable"):
        taylor_error_estimate(linear.coefficients, u_gd, u_lin, None)


def test_a_theta0_or_inputs_the_loss_cannot_take_are_refused_by_name():
    import torch

    from qsgd.gd import model_loss, polynomial_map
    from qsgd.nn import mlp

    H = torch.eye(2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"polynomial_map: the loss cannot be evaluated at theta0 of shape \(3,\)"):
        polynomial_map(lambda th: 0.5 * th @ H @ th, np.zeros(3), eta=0.1)
    model = mlp([3, 2], rng=0, dtype="float64")
    x, y = torch.randn(5, 4, dtype=torch.float64), torch.zeros(5, dtype=torch.long)
    with pytest.raises(ValueError, match=r"model_loss: the model cannot be applied to inputs of shape \(5, 4\)"):
        model_loss(model, x, y)
