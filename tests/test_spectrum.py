"""qsgd.spectrum: Hessian-vector products, Lanczos densities vs exact spectra, the Eq. 7 proxy."""

import math
import warnings

import numpy as np
import pytest
import torch

from qsgd import data as qd
from qsgd import nn as qnn
from qsgd import spectrum as qs


@pytest.fixture(scope="module")
def pruned_mlp():
    """A float64 tanh MLP on 400 digits, pre-trained and pruned to 10 % (n = 1,130 parameters)."""
    data = qd.load_digits(n_train=400, n_test=50, dtype="float64")
    model = qnn.mlp([64, 16, 16, 10], rng=0, dtype="float64")
    qnn.train(model, data, steps=150, eta=0.2, batch_size=100, rng=0)
    masks = qnn.prune_global(model, 0.9)
    return model, data, masks


@pytest.fixture(scope="module")
def exact(pruned_mlp):
    model, data, _ = pruned_mlp
    return qs.exact_spectrum(qs.hessian_operator(model, data))


def random_symmetric(n, seed):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.concatenate([rng.normal(0, 0.3, n - 6), [-4.0, -2.5, 3.0, 6.0, 9.0, 15.0]])
    return (q * lam) @ q.T, np.sort(lam)


def hutchinson_std(lam, k, starts):
    """Standard deviation of the mean of v^T H^k v over ``starts`` uniform unit vectors v."""
    n = lam.size
    var = 2 * (np.mean(lam ** (2 * k)) - np.mean(lam**k) ** 2) / (n + 2)
    return math.sqrt(var / starts)


# --- Hessian-vector products and exact spectra --------------------------------------------


def test_hvp_matches_double_backward(pruned_mlp):
    model, data, _ = pruned_mlp
    op = qs.hessian_operator(model, data, batch_size=150)  # 3 chunks, summed
    params = list(model.parameters())
    loss = torch.nn.functional.cross_entropy(model(data.x_train), data.y_train)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    v = torch.randn(op.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    gv = sum((g.reshape(-1) * vv).sum() for g, vv in zip(grads, torch.split(v, [p.numel() for p in params])))
    expected = torch.cat([h.reshape(-1) for h in torch.autograd.grad(gv, params)])
    torch.testing.assert_close(op.matvec(v), expected, rtol=1e-10, atol=1e-12)
    assert op.dim == qnn.count_parameters(model) and op.counter[0] == 1


def test_exact_spectrum_matches_torch_func_hessian():
    """A quartic loss on R^5 whose Hessian torch.func.hessian gives directly."""
    a = torch.tensor([[1.0, 2, 0, 0, 1], [0, 1, -1, 3, 0], [2, 0, 1, 0, -1]], dtype=torch.float64)

    def loss(theta):
        return 0.25 * ((a @ theta) ** 4).sum() - 0.5 * theta[0] ** 2 + torch.sin(theta).sum()

    theta = torch.linspace(-0.5, 0.7, 5, dtype=torch.float64)
    op = qs.loss_hessian_operator(loss, theta)
    expected = torch.linalg.eigvalsh(torch.func.hessian(loss)(theta)).numpy()
    np.testing.assert_allclose(qs.exact_spectrum(op), expected, rtol=1e-12, atol=1e-12)


def test_masked_operator_is_the_principal_submatrix(pruned_mlp):
    model, data, masks = pruned_mlp
    full = qs.hessian_matrix(qs.hessian_operator(model, data))
    sub = qs.hessian_matrix(qs.hessian_operator(model, data, mask=masks))
    free = torch.cat([masks.get(k, torch.ones_like(p, dtype=torch.bool)).reshape(-1) for k, p in model.named_parameters()])
    assert sub.shape[0] == int(free.sum()) < full.shape[0]
    torch.testing.assert_close(sub, full[free][:, free], rtol=1e-10, atol=1e-12)


def test_hessian_operator_keeps_batchnorm_buffers_and_mode():
    model = qnn.cifar_resnet(8, 1, stem_width=4, num_classes=10, in_channels=1, rng=0)
    data = qd.load_digits(n_train=16, n_test=4, image=True)
    before = {k: b.clone() for k, b in model.named_buffers()}
    op = qs.hessian_operator(model, data)
    op.matvec(torch.ones(op.dim))
    assert model.training
    for k, b in model.named_buffers():
        assert torch.equal(b, before[k]), k


# --- Lanczos ------------------------------------------------------------------------------


def test_lanczos_with_full_reorthogonalization_recovers_every_eigenvalue():
    mat, lam = random_symmetric(40, seed=1)
    alpha, beta = qs.lanczos(mat, np.ones(40), num_steps=60)
    assert alpha.size == 40 and beta.size == 39  # stops at the dimension
    from scipy.linalg import eigh_tridiagonal

    np.testing.assert_allclose(eigh_tridiagonal(alpha, beta)[0], lam, atol=1e-9)


def test_lanczos_density_moments_and_extremes_on_a_constructed_matrix():
    mat, lam = random_symmetric(300, seed=2)
    dens = qs.lanczos_density(mat, num_steps=40, num_starts=8, rng=0)
    # extreme eigenvalues are isolated: Ritz values converge to them
    assert dens.lambda_max == pytest.approx(lam[-1], abs=1e-8)
    assert dens.lambda_min == pytest.approx(lam[0], abs=1e-8)
    # moments tr(H^k)/n, estimated by v^T H^k v with random unit v (Hutchinson), 4 standard deviations
    for k in (1, 2, 3, 4):
        assert abs(dens.moment(k) - np.mean(lam**k)) < 4 * hutchinson_std(lam, k, 8), k
    assert dens.moment(0) == pytest.approx(1.0)
    dx = dens.grid[1] - dens.grid[0]
    assert float(np.sum(dens.density) * dx) == pytest.approx(1.0, abs=2e-3)
    assert dens.hvp_count == 8 * 40 and dens.num_steps == 40


def test_lanczos_density_against_exact_spectrum_of_a_pruned_network(pruned_mlp, exact):
    model, data, _ = pruned_mlp
    dens = qs.lanczos_density(model, data, num_steps=60, num_starts=6, rng=3)
    assert dens.dim == exact.size
    np.testing.assert_allclose([dens.lambda_min, dens.lambda_max], [exact[0], exact[-1]], rtol=1e-6, atol=1e-8)
    for k in (1, 2, 3):
        assert abs(dens.moment(k) - np.mean(exact**k)) < 4 * hutchinson_std(exact, k, 6), k
    masses_exact = qs.mode_masses(exact, cut=0.4)
    masses_lanczos = qs.mode_masses(dens, cut=0.4)
    assert masses_lanczos.dissipative == pytest.approx(masses_exact.dissipative, abs=0.03)
    assert masses_lanczos.divergent == pytest.approx(masses_exact.divergent, abs=0.03)


def test_extreme_eigenvalues_by_arpack(pruned_mlp, exact):
    model, data, _ = pruned_mlp
    bottom, top = qs.extreme_eigenvalues(qs.hessian_operator(model, data), k=2, rng=0)
    np.testing.assert_allclose(bottom, exact[:2], rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(top, exact[-2:], rtol=1e-5, atol=1e-8)


def test_lanczos_density_is_deterministic_under_seeds():
    mat, _ = random_symmetric(60, seed=4)
    a = qs.lanczos_density(mat, num_steps=10, num_starts=2, rng=5)
    b = qs.lanczos_density(mat, num_steps=10, num_starts=2, rng=5)
    c = qs.lanczos_density(mat, num_steps=10, num_starts=2, rng=6)
    np.testing.assert_array_equal(a.nodes, b.nodes)
    np.testing.assert_array_equal(a.density, b.density)
    assert not np.array_equal(a.nodes, c.nodes)
    assert a.seed == 5
    # rng=None: a seed drawn from fresh entropy, reported so that rng=seed repeats the run
    fresh = qs.lanczos_density(mat, num_steps=10, num_starts=2, rng=None)
    assert isinstance(fresh.seed, int) and fresh.seed != qs.lanczos_density(mat, num_steps=10, num_starts=2).seed
    np.testing.assert_array_equal(qs.lanczos_density(mat, num_steps=10, num_starts=2, rng=fresh.seed).nodes, fresh.nodes)
    # a Generator is used as it is: no seed stands for its stream
    gen = qs.lanczos_density(mat, num_steps=10, num_starts=2, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(gen.nodes, a.nodes)
    assert gen.seed is None


def test_smooth_density_integrates_to_one():
    grid = np.linspace(-10, 10, 4001)
    dens = qs.smooth_density([[0.0, 1.0, -2.0]], [[0.5, 0.25, 0.25]], grid, 0.3)
    assert np.sum(dens) * (grid[1] - grid[0]) == pytest.approx(1.0, rel=1e-6)
    assert grid[np.argmax(dens)] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    "op, kwargs, match",
    [
        (np.array([[1.0, 2.0], [0.0, 1.0]]), {}, "symmetric"),
        (np.ones((2, 3)), {}, "square"),
        (np.eye(3), {"num_steps": 1}, "num_steps"),
        (np.eye(3), {"kappa": 1.0}, "kappa"),
        (np.eye(3), {"sigma": -1.0}, "sigma"),
        ("matrix", {}, "HessianOperator"),
        (np.eye(3), {"batch_size": 3}, "unexpected"),
    ],
)
def test_lanczos_density_bad_input(op, kwargs, match):
    with pytest.raises(ValueError, match=match):
        qs.lanczos_density(op, **kwargs)


def test_model_needs_data_and_dense_hessian_refuses_large_models():
    model = qnn.mlp([64, 10])
    with pytest.raises(ValueError, match="data is required"):
        qs.lanczos_density(model)
    with pytest.raises(ValueError, match="max_dim"):
        qs.hessian_matrix(qs.loss_hessian_operator(lambda t: (t**2).sum(), torch.zeros(50)), max_dim=10)


# --- the error proxy (Eqs. 7-8) -----------------------------------------------------------


def test_error_proxy_on_a_constructed_two_point_spectrum():
    """Mass 0.9 at eta*lambda = 0.5 (|1+a| = 0.5), 0.1 at eta*lambda = -0.5 (|1+a| = 1.5),
    plus a bulk inside the cut that must not count: E(t) = 0.9 * 0.5**t + 0.1 * 1.5**t."""
    lam = np.array([5.0, -5.0, 0.0, 1.0, -1.0])
    w = np.array([0.45, 0.05, 0.3, 0.1, 0.1])
    t = np.arange(31)
    proxy = qs.error_proxy(lam, weights=w, eta=0.1, steps=30, cut=0.4)
    np.testing.assert_allclose(proxy, 0.9 * 0.5**t + 0.1 * 1.5**t, rtol=1e-12)
    assert proxy[0] == 1.0
    # U shape: dips below one, then exceeds it
    assert proxy.min() < 1 and proxy[-1] > 1
    t_min = int(np.argmin(proxy))
    assert np.all(np.diff(proxy[: t_min + 1]) < 0) and np.all(np.diff(proxy[t_min + 1 :]) > 0)
    parts = qs.proxy_contributions(lam, weights=w, eta=0.1, steps=30, cut=0.4)
    np.testing.assert_allclose(parts.total, proxy, rtol=1e-12)
    np.testing.assert_allclose(parts.divergent, 0.1 * 1.5**t, rtol=1e-12)
    np.testing.assert_allclose(parts.overshoot, 0.0)


def test_error_proxy_makes_the_learning_rate_explicit():
    lam = np.array([-3.0, 2.0, 12.0, 30.0])
    np.testing.assert_allclose(
        qs.error_proxy(lam, eta=0.05, steps=20), qs.error_proxy(0.05 * lam, eta=1.0, steps=20), rtol=1e-12
    )
    # overshooting modes (eta*lambda > 2) grow as well
    parts = qs.proxy_contributions(lam, eta=0.1, steps=3)
    # eta*lambda = -0.3, 0.2 (inside the cut), 1.2 (|1+a| = 0.2), 3.0 (|1+a| = 2): weight 1/2 each
    assert parts.overshoot[3] == pytest.approx(0.5 * 2.0**3)
    assert parts.dissipative[3] == pytest.approx(0.5 * 0.2**3)
    # the cut is a parameter: with a huge cut nothing is left
    with pytest.warns(RuntimeWarning, match="undefined"):
        assert np.all(np.isnan(qs.error_proxy(lam, eta=0.1, steps=2, cut=10.0)))


def test_lanczos_quadrature_is_exact_for_low_moments(pruned_mlp):
    """Gauss quadrature: sum_i w_i theta_i^k = v^T H^k v / |v|^2 for k < 2m, for one start v."""
    model, data, _ = pruned_mlp
    op = qs.hessian_operator(model, data)
    h = qs.hessian_matrix(op).numpy()
    v = np.random.default_rng(7).standard_normal(op.dim)
    alpha, beta = qs.lanczos(op, v, num_steps=6)
    from scipy.linalg import eigh_tridiagonal

    nodes, vecs = eigh_tridiagonal(alpha, beta)
    w = vecs[0] ** 2
    u = v / np.linalg.norm(v)
    hk = u.copy()
    for k in range(12):
        np.testing.assert_allclose(np.sum(w * nodes**k), u @ hk, rtol=1e-7, atol=1e-12 * np.abs(nodes).max() ** k)
        hk = h @ hk


def test_error_proxy_of_densities_is_finite_and_normalized(pruned_mlp):
    model, data, _ = pruned_mlp
    dens = qs.lanczos_density(model, data, num_steps=30, num_starts=2, rng=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = qs.error_proxy(dens, eta=0.6, steps=10)
        c = qs.error_proxy(dens, eta=0.6, steps=10, smoothed=True)
    assert a[0] == pytest.approx(1.0) and c[0] == pytest.approx(1.0)
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(c))
    flat = qs.error_proxy(dens.nodes.ravel(), weights=dens.weights.ravel(), eta=0.6, steps=10)
    np.testing.assert_allclose(a, flat, rtol=1e-12)


def test_mode_masses_on_a_constructed_spectrum():
    m = qs.mode_masses(np.array([-1.0, -0.2, 0.0, 0.3, 0.5, 2.0, 4.0, 9.0]), eta=1.0, cut=0.4)
    assert (m.dissipative, m.divergent, m.bulk) == (0.5, 0.125, 0.375)
    assert m.ratio == 4.0
    assert qs.mode_masses(np.array([1.0, 2.0])).ratio == math.inf


@pytest.mark.parametrize(
    "kwargs, match",
    [({"eta": 0.0, "steps": 3}, "eta"), ({"eta": 0.1, "steps": -1}, "steps"), ({"eta": 0.1, "steps": 3, "cut": -0.1}, "cut"),
     ({"eta": 0.1, "steps": 3, "weights": [1.0, -1.0, 1.0]}, "non-negative"), ({"eta": 0.1, "steps": 3, "weights": [1.0]}, "length")],
)
def test_error_proxy_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        qs.error_proxy(np.array([1.0, 2.0, -1.0]), **kwargs)
    with pytest.raises(ValueError, match="non-finite"):
        qs.error_proxy(np.array([1.0, np.nan]), eta=0.1, steps=2)


def test_vectorized_and_sequential_lanczos_agree(pruned_mlp):
    model, data, _ = pruned_mlp
    op = qs.hessian_operator(model, data)
    a = qs.lanczos_density(op, num_steps=20, num_starts=3, rng=11, vectorize=True)
    b = qs.lanczos_density(op, num_steps=20, num_starts=3, rng=11, vectorize=False)
    np.testing.assert_allclose(a.nodes, b.nodes, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(a.weights, b.weights, rtol=1e-7, atol=1e-10)
    assert a.hvp_count == b.hvp_count == 60


def test_curvature_split_counts_each_kind_of_mode():
    lam = np.array([-2.0, -0.05, 0.0, 0.05, 1.0, 3.0, 5.0])
    w = np.array([1, 1, 1, 1, 2, 2, 2], dtype=float)
    c = qs.curvature_split(lam, weights=w, eta=0.5, tol=0.1)  # eta*lambda = 1.5 contracts, 2.5 overshoots
    np.testing.assert_allclose([c.negative, c.flat, c.contracting, c.overshooting], np.array([1, 3, 4, 2]) / 10)
    # every mode's factor |1 - eta*lambda| is < 1 exactly for the contracting ones
    factor = np.abs(1 - 0.5 * lam)
    np.testing.assert_allclose(c.contracting, w[(factor < 1) & (lam > 0.1)].sum() / w.sum())
    # with a small enough step nothing overshoots
    assert qs.curvature_split(lam, eta=0.3).overshooting == 0
    with pytest.raises(ValueError, match="curvature_split: eta must be > 0"):
        qs.curvature_split(lam, eta=0.0)
    with pytest.raises(ValueError, match="curvature_split: tol must be >= 0"):
        qs.curvature_split(lam, eta=1.0, tol=-1.0)


def test_non_vmappable_operator_gives_the_same_density():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((30, 30))
    h = torch.as_tensor(a + a.T)
    op = qs._as_operator(h, "test")
    plain = qs.HessianOperator(hvp=lambda v: h @ v, dim=30, dtype=h.dtype, device=h.device, theta=op.theta,
                               vmappable=False)
    d1 = qs.lanczos_density(op, num_steps=10, num_starts=3, rng=2)
    d2 = qs.lanczos_density(plain, num_steps=10, num_starts=3, rng=2)
    np.testing.assert_allclose(d1.nodes, d2.nodes, rtol=1e-10, atol=1e-10)
    assert d2.hvp_count == 30
    np.testing.assert_allclose(plain.matmat(torch.eye(30, dtype=h.dtype)[:4]), h[:4], rtol=1e-14)


_I3 = np.eye(3)
_LIN = torch.nn.Linear(2, 2)
_XY = (torch.zeros(3, 2), torch.zeros(3, dtype=torch.long))

BAD_INPUT = {
    "smooth nan weights": (lambda: qs.smooth_density([1.0, 2.0], [np.nan, 1.0], [0.0, 1.0], 0.1), ValueError,
                           ["smooth_density", "weights", "non-finite"]),
    "smooth negative weights": (lambda: qs.smooth_density([1.0, 2.0], [-1.0, 1.0], [0.0], 0.1), ValueError,
                                ["smooth_density", "weights", "non-negative"]),
    "smooth complex nodes": (lambda: qs.smooth_density([1j], [1.0], [0.0], 0.1), ValueError,
                             ["smooth_density", "nodes", "real"]),
    "smooth None nodes": (lambda: qs.smooth_density(None, [1.0], [0.0], 0.1), ValueError,
                          ["smooth_density", "nodes", "None"]),
    "smooth empty nodes": (lambda: qs.smooth_density([], [], [0.0], 0.1), ValueError,
                           ["smooth_density", "nodes", "empty"]),
    "smooth 3-D nodes": (lambda: qs.smooth_density(np.zeros((1, 1, 1)), np.zeros((1, 1, 1)), [0.0], 0.1), ValueError,
                         ["smooth_density", "nodes", "shape"]),
    "smooth huge grid": (lambda: qs.smooth_density(np.zeros((3, 64)), np.ones((3, 64)), np.zeros(10**7), 0.1),
                         ValueError, ["smooth_density", "GiB", "max_bytes"]),
    "smooth zero sigma": (lambda: qs.smooth_density([1.0], [1.0], [0.0], 0.0), ValueError,
                          ["smooth_density", "sigma"]),
    "proxy absurd steps": (lambda: qs.error_proxy([1.0, -1.0], eta=1.0, steps=10**9), ValueError,
                           ["error_proxy", "GiB", "max_bytes"]),
    "contributions absurd steps": (lambda: qs.proxy_contributions([1.0, -1.0], eta=1.0, steps=10**9), ValueError,
                                   ["proxy_contributions", "GiB", "max_bytes"]),
    "proxy nan spectrum": (lambda: qs.error_proxy([np.nan], eta=1.0, steps=3), ValueError,
                           ["error_proxy", "spectrum", "non-finite"]),
    "proxy complex spectrum": (lambda: qs.error_proxy([1j], eta=1.0, steps=3), ValueError,
                               ["error_proxy", "spectrum", "real"]),
    "proxy string spectrum": (lambda: qs.error_proxy("a", eta=1.0, steps=3), ValueError,
                              ["error_proxy", "spectrum", "string"]),
    "proxy negative steps": (lambda: qs.error_proxy([1.0], eta=1.0, steps=-1), ValueError, ["error_proxy", "steps"]),
    "proxy zero steps": (lambda: qs.error_proxy([1.0, -1.0], eta=1.0, steps=0), ValueError,
                         ["error_proxy", "steps", ">= 1", "got 0"]),
    "proxy missing steps": (lambda: qs.error_proxy([1.0, -1.0], eta=1.0), TypeError, ["steps"]),
    "contributions zero steps": (lambda: qs.proxy_contributions([1.0, -1.0], eta=1.0, steps=0), ValueError,
                                 ["proxy_contributions", "steps", ">= 1", "got 0"]),
    "proxy string smoothed": (lambda: qs.error_proxy([1.0], eta=1.0, steps=1, smoothed="no"), ValueError,
                              ["error_proxy", "smoothed"]),
    "proxy weights length": (lambda: qs.error_proxy([1.0, 2.0], eta=1.0, steps=1, weights=[1.0]), ValueError,
                             ["error_proxy", "weights", "length"]),
    "masses None spectrum": (lambda: qs.mode_masses(None), ValueError, ["mode_masses", "spectrum", "None"]),
    "split zero eta": (lambda: qs.curvature_split([1.0], eta=0), ValueError, ["curvature_split", "eta"]),
    "lanczos complex matrix": (lambda: qs.lanczos(_I3 * 1j, [1, 0, 0], num_steps=2), ValueError,
                               ["lanczos", "real"]),
    "lanczos string operator": (lambda: qs.lanczos("x", [1, 0, 0], num_steps=2), ValueError,
                                ["lanczos", "operator"]),
    "lanczos zero v0": (lambda: qs.lanczos(_I3, [0, 0, 0], num_steps=2), ValueError, ["lanczos", "v0", "zero"]),
    "lanczos v0 length": (lambda: qs.lanczos(_I3, [1, 0], num_steps=2), ValueError, ["lanczos", "v0", "length"]),
    "lanczos nonsymmetric": (lambda: qs.lanczos(np.triu(np.ones((3, 3))), [1, 0, 0], num_steps=2), ValueError,
                             ["lanczos", "symmetric"]),
    "density None operator": (lambda: qs.lanczos_density(None), ValueError, ["lanczos_density", "operator"]),
    "density bad rng": (lambda: qs.lanczos_density(_I3, rng="x"), ValueError, ["lanczos_density", "rng"]),
    "density string vectorize": (lambda: qs.lanczos_density(_I3, vectorize="yes"), ValueError,
                                 ["lanczos_density", "vectorize"]),
    "density absurd points": (lambda: qs.lanczos_density(_I3, num_points=10**10), ValueError,
                              ["lanczos_density", "GiB"]),
    "density model without data": (lambda: qs.lanczos_density(_LIN), ValueError, ["lanczos_density", "data"]),
    "extreme k above dim": (lambda: qs.extreme_eigenvalues(_I3, k=10), ValueError, ["extreme_eigenvalues", "k"]),
    "extreme string tol": (lambda: qs.extreme_eigenvalues(_I3, tol="x"), ValueError, ["extreme_eigenvalues", "tol"]),
    "hessian zero max_dim": (lambda: qs.hessian_matrix(_I3, max_dim=0), ValueError, ["hessian_matrix", "max_dim"]),
    "exact string operator": (lambda: qs.exact_spectrum("x"), ValueError, ["exact_spectrum", "operator"]),
    "loss operator nan theta": (lambda: qs.loss_hessian_operator(lambda t: (t**2).sum(), [np.nan]), ValueError,
                                ["loss_hessian_operator", "theta", "non-finite"]),
    "loss operator None loss": (lambda: qs.loss_hessian_operator(None, [1.0]), ValueError,
                                ["loss_hessian_operator", "loss", "callable"]),
    "operator None model": (lambda: qs.hessian_operator(None, _XY), ValueError, ["hessian_operator", "model"]),
    "operator None data": (lambda: qs.hessian_operator(_LIN, None), ValueError, ["hessian_operator", "data"]),
    "operator string mask": (lambda: qs.hessian_operator(_LIN, _XY, mask="x"), ValueError,
                             ["hessian_operator", "mask"]),
    "operator wrong width": (lambda: qs.hessian_operator(_LIN, (torch.zeros(3, 5), _XY[1])), ValueError,
                             ["hessian_operator", "cannot evaluate", "(3, 5)"]),
    "operator nan inputs": (lambda: qs.hessian_operator(_LIN, (torch.full((3, 2), float("nan")), _XY[1])),
                            ValueError, ["hessian_operator", "finite"]),
    "operator zero batch": (lambda: qs.hessian_operator(_LIN, _XY, batch_size=0), ValueError,
                            ["hessian_operator", "batch_size"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, refuses):
    call, exc, words = BAD_INPUT[case]
    refuses(call, exc, words)


def test_smooth_density_and_proxy_take_a_raised_memory_limit():
    dens = qs.smooth_density([0.0], [1.0], np.linspace(-1, 1, 5), 0.5, max_bytes=10**9)
    assert dens.shape == (5,) and np.all(np.isfinite(dens))
    with pytest.raises(ValueError, match="max_bytes"):
        qs.smooth_density([0.0], [1.0], np.linspace(-1, 1, 5), 0.5, max_bytes=8)
    assert qs.error_proxy([1.0], eta=1.5, steps=3, max_bytes=10**6).shape == (4,)
