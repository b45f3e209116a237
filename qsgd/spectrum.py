r"""Hessian spectra of network losses and the paper's error proxy (Eqs. 7-8).

The argument of [1]_ that real training is "dissipative enough" rests on the
eigenvalues :math:`\lambda` of the loss Hessian :math:`H = \nabla^2\mathcal
L(\theta)`. One gradient-descent step is :math:`\theta \mapsto \theta - \eta
\nabla\mathcal L`, whose linear part :math:`I - \eta H` has eigenvalues
:math:`1 + a` with

.. math:: a = -\eta\,\lambda .

Positive Hessian eigenvalues (:math:`a < 0`, :math:`|1+a| < 1` for
:math:`0 < \eta\lambda < 2`) are *dissipative* modes; negative ones
(:math:`a > 0`) are *divergent*. The paper's Eq. (7) weighs both by the
spectral density :math:`\rho` outside a cut :math:`|a| < 0.4` that removes the
near-zero bulk, normalized by Eq. (8):

.. math::

   E(t) = \frac{\int_{|a|\ge c} \rho(a)\,|1+a|^t\,da}
               {\int_{|a|\ge c} \rho(a)\,da},\qquad c = 0.4 .

The paper writes :math:`a` as "the negative of Hessian eigenvalues" without
:math:`\eta`; taken literally, the eigenvalue range of its Fig. 2a would make
:math:`|1+a|^t` explode, so this module makes the learning rate explicit
(:func:`error_proxy` takes ``eta``).

Densities follow Papyan [2]_: Lanczos on exact Hessian-vector products with
full reorthogonalization, started from several random unit vectors; the Ritz
values :math:`\theta_i` weighted by the squared first components
:math:`w_i = (e_1^\top s_i)^2` of the tridiagonal eigenvectors form a
quadrature of the spectral measure, and the density is their Gaussian
smoothing averaged over starts,

.. math:: \hat\rho(x) = \frac{1}{S}\sum_{s=1}^{S}\sum_i w^{(s)}_i\,
          \frac{e^{-(x-\theta^{(s)}_i)^2/2\sigma^2}}{\sqrt{2\pi}\sigma}.

Hessian-vector products are exact (forward-over-reverse, ``torch.func.jvp`` of
``torch.func.grad``); for small models :func:`exact_spectrum` builds the full
Hessian from them and calls ``torch.linalg.eigvalsh``.

References
----------
.. [1] J. Liu et al., "Towards provably efficient quantum algorithms for
   large-scale machine-learning models", Nat. Commun. 15, 434 (2024), Eqs. (7)-(8), Figs. 2-3.
.. [2] V. Papyan, "The full spectrum of deepnet Hessians at scale: dynamics with
   SGD training and sample size", arXiv:1811.07062 (2019).
.. [3] G. H. Golub, G. Meurant, "Matrices, Moments and Quadrature with
   Applications", Princeton University Press (2010).

Used in chapter 7.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from scipy.linalg import eigh_tridiagonal
from torch import nn

from qsgd._validation import as_rng, as_seed, as_vector, check_bool, check_int, check_memory, check_positive, describe
from qsgd.data import split_data

__all__ = [
    "HessianOperator",
    "ModeMasses",
    "SpectralDensity",
    "error_proxy",
    "exact_spectrum",
    "extreme_eigenvalues",
    "hessian_matrix",
    "hessian_operator",
    "lanczos",
    "lanczos_density",
    "loss_hessian_operator",
    "mode_masses",
    "proxy_contributions",
    "ProxyContributions",
    "CurvatureSplit",
    "curvature_split",
    "smooth_density",
]


# ---------------------------------------------------------------------------
# Hessian-vector products
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HessianOperator:
    """A symmetric linear operator ``v -> H v`` on the free parameters.

    Attributes
    ----------
    hvp : callable
        One Hessian-vector product, a 1-D tensor of length ``dim`` (of ``dtype``
        on ``device``) to a tensor of the same kind; composable with
        ``torch.func.vmap``.
    dim : int
        Number of free parameters :math:`n`.
    dtype, device :
        Of the vectors ``hvp`` takes.
    theta : torch.Tensor
        The point where the Hessian is taken (free parameters, flattened).
    counter : list of int
        ``counter[0]`` counts the products computed so far (for benchmarks).
    vmappable : bool
        Whether ``hvp`` may run under ``torch.func.vmap`` (``False`` for
        products that communicate, as in :mod:`qsgd.distributed`).
    """

    hvp: Callable[[torch.Tensor], torch.Tensor]
    dim: int
    dtype: torch.dtype
    device: torch.device
    theta: torch.Tensor
    counter: list = field(default_factory=lambda: [0], compare=False)
    vmappable: bool = True

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        """``H v`` (counted)."""
        self.counter[0] += 1
        return self.hvp(v)

    def matmat(self, vs: torch.Tensor, *, chunk_size: int = 32) -> torch.Tensor:
        """``H V^T`` row by row: ``vs`` of shape (k, dim) -> (k, dim), vectorized with vmap."""
        if not self.vmappable:
            return torch.stack([self.matvec(v) for v in vs])
        self.counter[0] += vs.shape[0]
        return torch.func.vmap(self.hvp, chunk_size=chunk_size)(vs)


def _check_forward(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, dev, func: str) -> None:
    """Evaluate the loss on two samples, so that data the model cannot take is refused here."""
    if x.is_complex() or not torch.isfinite(x).all():
        raise ValueError(f"{func}: the inputs must be real and finite")
    mode = model.training
    model.eval()
    try:
        with torch.no_grad():
            value = loss_fn(model(x[:2].to(dev)), y[:2].to(dev))
    except (RuntimeError, ValueError, IndexError, TypeError) as exc:
        raise ValueError(f"{func}: the model cannot evaluate the loss on data (inputs {tuple(x.shape)}, "
                         f"targets {tuple(y.shape)}, {y.dtype}): {exc}") from exc
    finally:
        model.train(mode)
    if not torch.isfinite(torch.as_tensor(value)).all():
        raise ValueError(f"{func}: the loss is not finite on data")


def loss_hessian_operator(loss: Callable[[torch.Tensor], torch.Tensor], theta) -> HessianOperator:
    """Hessian operator of a scalar ``loss`` of a flat parameter tensor at ``theta``.

    ``H v = d/dε ∇L(θ + ε v)|_{ε=0}``, computed exactly as
    ``torch.func.jvp(torch.func.grad(loss), (theta,), (v,))``.

    Used in chapter 7.
    """
    func = "loss_hessian_operator"
    if not callable(loss):
        raise ValueError(f"{func}: loss must be callable, got {describe(loss)}")
    if not isinstance(theta, torch.Tensor):
        theta = torch.as_tensor(as_vector(theta, "theta", func=func), dtype=torch.float64)
    if theta.ndim != 1 or theta.numel() == 0 or not torch.isfinite(theta).all():
        raise ValueError(f"{func}: theta must be a finite non-empty 1-D tensor, got {describe(theta)}")
    theta = theta.detach()
    grad_fn = torch.func.grad(loss)

    def hvp(v):
        return torch.func.jvp(grad_fn, (theta,), (v,))[1]

    return HessianOperator(hvp=hvp, dim=theta.numel(), dtype=theta.dtype, device=theta.device, theta=theta)


def hessian_operator(
    model: nn.Module,
    data,
    *,
    loss_fn: Callable | None = None,
    mask: dict[str, torch.Tensor] | None = None,
    batch_size: int | None = None,
    device=None,
) -> HessianOperator:
    r"""Hessian of the mean loss of ``model`` on ``data`` w.r.t. its free parameters.

    :math:`\mathcal L(\theta) = \frac1N\sum_{k=1}^N \ell(f_\theta(x_k), y_k)`
    (cross entropy by default; as in the authors' code,
    ``CrossEntropyLoss(reduction='sum') / count``), evaluated in chunks of
    ``batch_size`` samples; each product is the exact sum of the chunk
    products. The model is evaluated functionally in ``eval()`` mode (batch
    norm uses its running statistics), so buffers are never changed.

    Parameters
    ----------
    model : torch.nn.Module
    data : DataSplit or (inputs, targets)
        For a :class:`qsgd.data.DataSplit` the training part is used.
    loss_fn : callable or None, keyword-only
        ``loss_fn(logits, targets)`` returning a *mean*; cross entropy by default.
    mask : dict or None, keyword-only
        Boolean masks (from :func:`qsgd.nn.prune_global`): only the parameters
        where the mask is ``True`` are free, so the operator acts on the
        :math:`n` unpruned weights (sparse training). ``None``: all parameters.
    batch_size : int or None, keyword-only
        Samples per chunk (``None``: all at once).
    device : torch device or None, keyword-only
        Where the data and the products live (default: the model's).

    Returns
    -------
    HessianOperator

    Used in chapter 7.
    """
    func = "hessian_operator"
    if not isinstance(model, nn.Module):
        raise ValueError(f"{func}: model must be a torch.nn.Module, got {describe(model)}")
    x, y = split_data(data, func=func)
    total = x.shape[0]
    if total == 0:
        raise ValueError(f"{func}: data is empty")
    batch_size = total if batch_size is None else check_int(batch_size, "batch_size", func=func, minimum=1)
    loss_fn = nn.functional.cross_entropy if loss_fn is None else loss_fn
    names, shapes, sizes, flat, idx, dev, dtype = _free_parameters(model, mask, device, func)
    _check_forward(model, x, y, loss_fn, dev, func)
    base = flat.clone()
    base[idx] = 0
    theta = flat[idx].clone()
    chunks = [
        (x[s : s + batch_size].to(dev), y[s : s + batch_size].to(dev), min(batch_size, total - s) / total)
        for s in range(0, total, batch_size)
    ]
    hvp = _chunked_hvp(model, loss_fn, chunks, (names, shapes, sizes), base, idx, theta, dev)
    return HessianOperator(hvp=hvp, dim=theta.numel(), dtype=dtype, device=dev, theta=theta)


def _chunked_hvp(model: nn.Module, loss_fn, chunks, layout, base, idx, theta, dev) -> Callable:
    """The product ``v -> H v`` at *theta*, summed over the weighted *chunks* ``(xb, yb, weight)``.

    The free parameters *theta* sit at *idx* of the flat vector *base* (zero there);
    *layout* is ``(names, shapes, sizes)`` of the model's trainable parameters. Each product
    evaluates *model* functionally in ``eval()`` mode and restores its mode afterwards.
    """
    names, shapes, sizes = layout
    buffers = {k: b.to(dev) for k, b in model.named_buffers()}

    def loss_of(z, xb, yb):
        full = base.index_add(0, idx, z)
        params = {k: t.view(shape) for k, t, shape in zip(names, torch.split(full, sizes), shapes)}
        out = torch.func.functional_call(model, (params, buffers), (xb,))
        return loss_fn(out, yb)

    grad_fn = torch.func.grad(loss_of)

    def hvp(v):
        out = None
        for xb, yb, weight in chunks:
            hv = torch.func.jvp(lambda z: grad_fn(z, xb, yb), (theta,), (v,))[1] * weight
            out = hv if out is None else out + hv
        return out

    def hvp_eval(v):  # batch norm must use running statistics inside every product
        mode = model.training
        model.eval()
        try:
            return hvp(v)
        finally:
            model.train(mode)

    return hvp_eval


def _free_parameters(model: nn.Module, mask, device, func: str):
    """The trainable parameters of *model*, flattened, and the indices that *mask* leaves free.

    Returns ``(names, shapes, sizes, flat, idx, device, dtype)``: the parameters' names, shapes
    and sizes in order, their concatenation ``flat`` on ``device`` (default: the model's), the
    indices of ``flat`` where the mask is ``True`` (all without a mask) and the parameters' dtype.
    """
    named = [(k, p) for k, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError(f"{func}: model has no trainable parameters")
    dev = named[0][1].device if device is None else torch.device(device)
    dtype = named[0][1].dtype
    names = [k for k, _ in named]
    shapes = [p.shape for _, p in named]
    sizes = [p.numel() for _, p in named]
    flat = torch.cat([p.detach().reshape(-1) for _, p in named]).to(dev)
    free = torch.ones_like(flat, dtype=torch.bool)
    if mask is not None and not isinstance(mask, dict):
        raise ValueError(f"{func}: mask must be None or a dict of boolean tensors, got {describe(mask)}")
    if mask is not None:
        offsets = dict(zip(names, np.cumsum([0, *sizes[:-1]]).tolist()))
        params = dict(named)
        for key, m in mask.items():
            if key not in offsets:
                raise ValueError(f"{func}: mask names parameter {key!r}, which the model does not have")
            if not isinstance(m, torch.Tensor):
                raise ValueError(f"{func}: mask[{key!r}] must be a boolean tensor, got {describe(m)}")
            if m.shape != params[key].shape:
                raise ValueError(f"{func}: mask[{key!r}] has shape {tuple(m.shape)}, parameter {tuple(params[key].shape)}")
            free[offsets[key] : offsets[key] + m.numel()] = m.reshape(-1).to(dev).bool()
    idx = torch.nonzero(free).reshape(-1)
    if idx.numel() == 0:
        raise ValueError(f"{func}: the mask leaves no free parameter")
    return names, shapes, sizes, flat, idx, dev, dtype


def _as_operator(op, func: str) -> HessianOperator:
    """Accept a HessianOperator or a symmetric matrix (ndarray / tensor)."""
    if isinstance(op, HessianOperator):
        return op
    if isinstance(op, (np.ndarray, torch.Tensor)):
        if (op.is_complex() if isinstance(op, torch.Tensor) else np.iscomplexobj(op)):
            raise ValueError(f"{func}: the matrix must be real, got complex entries")
        try:
            mat = torch.as_tensor(np.asarray(op, dtype=float) if isinstance(op, np.ndarray) else op.detach())
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{func}: the matrix must be numeric, got {describe(op)}") from exc
        if mat.ndim != 2 or mat.shape[0] != mat.shape[1] or mat.shape[0] == 0:
            raise ValueError(f"{func}: a matrix operator must be square, got shape {tuple(mat.shape)}")
        if not torch.isfinite(mat).all():
            raise ValueError(f"{func}: the matrix has non-finite entries")
        mat = mat.to(torch.float64)
        if not torch.allclose(mat, mat.T, rtol=1e-8, atol=1e-10 * float(mat.abs().max() + 1)):
            raise ValueError(f"{func}: the matrix must be symmetric")
        return HessianOperator(
            hvp=lambda v: mat @ v, dim=mat.shape[0], dtype=mat.dtype, device=mat.device,
            theta=torch.zeros(mat.shape[0], dtype=mat.dtype),
        )
    raise ValueError(f"{func}: operator must be a HessianOperator or a square matrix, got {describe(op)}")


def hessian_matrix(op, *, max_dim: int = 8000, chunk_size: int = 32) -> torch.Tensor:
    """The full symmetric Hessian :math:`H` (float64), column blocks from vmapped products.

    Equivalent to ``torch.func.hessian`` of the loss, but chunked so that
    memory stays :math:`O(n^2)`. Refuses ``dim > max_dim``.

    Used in chapter 7.
    """
    func = "hessian_matrix"
    op = _as_operator(op, func)
    max_dim = check_int(max_dim, "max_dim", func=func, minimum=1)
    chunk_size = check_int(chunk_size, "chunk_size", func=func, minimum=1)
    if op.dim > max_dim:
        raise ValueError(
            f"{func}: the Hessian has dimension {op.dim} > max_dim={max_dim}; use lanczos_density for "
            f"large models"
        )
    check_memory(8.0 * op.dim**2, what="the dense Hessian", max_bytes=None, func=func)
    eye = torch.eye(op.dim, dtype=op.dtype, device=op.device)
    cols = [op.matmat(eye[s : s + 4 * chunk_size], chunk_size=chunk_size) for s in range(0, op.dim, 4 * chunk_size)]
    h = torch.cat(cols).to(torch.float64).cpu()
    return 0.5 * (h + h.T)


def exact_spectrum(op, *, max_dim: int = 8000, chunk_size: int = 32) -> np.ndarray:
    r"""All Hessian eigenvalues, ascending, by ``torch.linalg.eigvalsh`` of :func:`hessian_matrix`.

    For checking :func:`lanczos_density` on models with :math:`n \lesssim 10^4`.

    Used in chapter 7.
    """
    op = _as_operator(op, "exact_spectrum")
    h = hessian_matrix(op, max_dim=max_dim, chunk_size=chunk_size)
    vals = torch.linalg.eigvalsh(h).numpy()
    if not np.all(np.isfinite(vals)):
        raise ValueError("exact_spectrum: the Hessian has non-finite entries (is the loss finite at theta?)")
    return vals


# ---------------------------------------------------------------------------
# Lanczos
# ---------------------------------------------------------------------------


def lanczos(op, v0, *, num_steps: int, reorthogonalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    r"""Lanczos tridiagonalization :math:`V^\top H V = T` from the start vector ``v0``.

    Three-term recurrence :math:`\beta_{j+1} v_{j+1} = H v_j - \alpha_j v_j -
    \beta_j v_{j-1}` with full reorthogonalization (two passes of classical
    Gram-Schmidt against all previous vectors, in float64). Stops early when
    :math:`\beta_{j+1}` vanishes (an invariant subspace was found, e.g. when
    ``num_steps`` exceeds the dimension).

    Returns
    -------
    alpha, beta : ndarray
        Diagonal (length m) and off-diagonal (length m - 1) of :math:`T`.

    Used in chapter 7.
    """
    func = "lanczos"
    op = _as_operator(op, func)
    num_steps = check_int(num_steps, "num_steps", func=func, minimum=1)
    v = torch.as_tensor(as_vector(v0, "v0", func=func, size=op.dim, allow_zero=False), dtype=torch.float64)
    v = (v / torch.linalg.vector_norm(v)).to(op.device)
    m = min(num_steps, op.dim)
    check_memory(8.0 * m * op.dim, what="the Lanczos basis", max_bytes=None, func=func)
    basis = torch.zeros(m, op.dim, dtype=torch.float64, device=op.device)
    alpha, beta = [], []
    prev, b_prev = None, 0.0
    scale = 0.0
    for j in range(m):
        basis[j] = v
        w = op.matvec(v.to(op.dtype)).to(torch.float64)
        a = float(w @ v)
        alpha.append(a)
        w = w - a * v
        if prev is not None:
            w = w - b_prev * prev
        if reorthogonalize:
            for _ in range(2):
                w = w - basis[: j + 1].T @ (basis[: j + 1] @ w)
        b = float(torch.linalg.vector_norm(w))
        scale = max(scale, abs(a), b)
        if j == m - 1 or b <= 1e-10 * max(scale, 1e-300):
            break
        beta.append(b)
        prev, v, b_prev = v, w / b, b
    return np.asarray(alpha), np.asarray(beta)


def _lanczos_batched(op: HessianOperator, v0: np.ndarray, m: int):
    """Lanczos from several starts at once (rows of ``v0``), products vectorized with vmap.

    Same recurrence and full reorthogonalization as :func:`lanczos`, per start.
    Returns ``None`` when some start breaks down before ``m`` steps (the caller
    then runs the starts one by one).
    """
    starts = v0.shape[0]
    check_memory(8.0 * starts * m * op.dim, what="the Lanczos bases", max_bytes=None, func="lanczos_density")
    v = torch.as_tensor(v0, dtype=torch.float64, device=op.device)
    v = v / torch.linalg.vector_norm(v, dim=1, keepdim=True)
    basis = torch.zeros(starts, m, op.dim, dtype=torch.float64, device=op.device)
    alpha = np.zeros((starts, m))
    beta = np.zeros((starts, max(m - 1, 0)))
    prev, b_prev = torch.zeros_like(v), torch.zeros(starts, 1, dtype=torch.float64, device=op.device)
    scale = np.zeros(starts)
    for j in range(m):
        basis[:, j] = v
        w = op.matmat(v.to(op.dtype), chunk_size=starts).to(torch.float64)
        a = (w * v).sum(dim=1, keepdim=True)
        alpha[:, j] = a[:, 0].cpu().numpy()
        w = w - a * v - b_prev * prev
        for _ in range(2):
            q = basis[:, : j + 1]
            w = w - torch.einsum("sjn,sj->sn", q, torch.einsum("sjn,sn->sj", q, w))
        b = torch.linalg.vector_norm(w, dim=1, keepdim=True)
        bn = b[:, 0].cpu().numpy()
        scale = np.maximum(scale, np.maximum(np.abs(alpha[:, j]), bn))
        if j == m - 1:
            break
        if np.any(bn <= 1e-10 * np.maximum(scale, 1e-300)):
            return None
        beta[:, j] = bn
        prev, v, b_prev = v, w / b, b
    return alpha, beta


@dataclass(frozen=True)
class SpectralDensity:
    r"""Lanczos estimate of a Hessian's spectral density (Papyan 2019).

    Attributes
    ----------
    grid : ndarray (num_points,)
        Eigenvalue axis :math:`x`.
    density : ndarray (num_points,)
        Smoothed density :math:`\hat\rho(x)` (integrates to about 1).
    nodes, weights : ndarray (num_starts, m)
        Ritz values and squared first components of each start (each row of
        ``weights`` sums to 1): the spectral quadrature before smoothing.
    sigma : float
        Gaussian kernel width.
    lambda_min, lambda_max : float
        Extreme Ritz values over all starts (converge to the extreme
        eigenvalues from the inside).
    dim, num_steps, num_starts, hvp_count :
        The settings and the number of Hessian-vector products used.
    seed : int or None
        The int seed of the start vectors (the one given, or the one drawn from fresh entropy
        for ``rng=None``): ``rng=seed`` repeats the run. ``None`` when a Generator was passed
        (its stream is the caller's, and no seed stands for it).
    """

    grid: np.ndarray
    density: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    sigma: float
    lambda_min: float
    lambda_max: float
    dim: int
    num_steps: int
    num_starts: int
    hvp_count: int
    seed: int | None

    def moment(self, k: int) -> float:
        r""":math:`\int x^k \rho(x)\,dx \approx \frac1S\sum_s\sum_i w_i\theta_i^k`,
        the stochastic estimate of :math:`\operatorname{tr}(H^k)/n` (exact in
        expectation for :math:`k \le 2m-1`)."""
        return float(np.mean(np.sum(self.weights * self.nodes**k, axis=1)))


def smooth_density(nodes, weights, grid, sigma: float, *, max_bytes: float | None = None) -> np.ndarray:
    """Gaussian smoothing of the quadrature ``(nodes, weights)`` on ``grid``, averaged over rows.

    ``nodes`` and ``weights`` are finite real arrays of the same shape (one row per
    start, or one 1-D quadrature); ``weights`` non-negative. The work array has
    ``nodes.size * grid.size`` entries; above ``max_bytes`` (default: the shared
    limit of :func:`qsgd._validation.check_memory`) it is refused before allocating.

    Used in chapter 7.
    """
    func = "smooth_density"
    nodes = _as_real_2d(nodes, "nodes", func)
    weights = _as_real_2d(weights, "weights", func)
    if nodes.shape != weights.shape:
        raise ValueError(f"{func}: nodes and weights must have the same shape, got {nodes.shape} and {weights.shape}")
    if np.any(weights < 0):
        raise ValueError(f"{func}: weights must be non-negative")
    grid = as_vector(grid, "grid", func=func)
    sigma = check_positive(sigma, "sigma", func=func)
    check_memory(8.0 * 3 * float(nodes.size) * float(grid.size), what="the smoothing work array",
                 max_bytes=max_bytes, func=func)
    z = (grid[None, None, :] - nodes[:, :, None]) / sigma
    dens = np.sum(weights[:, :, None] * np.exp(-0.5 * z * z), axis=1) / (sigma * math.sqrt(2 * math.pi))
    return dens.mean(axis=0)


def _as_real_2d(x, name: str, func: str) -> np.ndarray:
    """A finite, real, non-empty array of at most 2 dimensions, as 2-D (rows = starts)."""
    if x is None or isinstance(x, (str, bytes)):
        raise ValueError(f"{func}: {name} must be a numeric array, got {describe(x)}")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{func}: {name} must be a numeric array, got {describe(x)}") from exc
    if np.iscomplexobj(arr):
        raise ValueError(f"{func}: {name} must be real, got complex entries")
    try:
        arr = arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{func}: {name} must be a numeric array, got {describe(x)}") from exc
    if arr.ndim > 2:
        raise ValueError(f"{func}: {name} must be 1-D or 2-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{func}: {name} is empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{func}: {name} has non-finite entries")
    return np.atleast_2d(arr)


def lanczos_density(
    op,
    data=None,
    *,
    num_steps: int = 64,
    num_starts: int = 3,
    num_points: int = 512,
    sigma: float | None = None,
    kappa: float = 1.25,
    margin: float = 0.05,
    rng=None,
    vectorize: bool = True,
    **operator_kwargs,
) -> SpectralDensity:
    r"""Spectral density of a Hessian by stochastic Lanczos quadrature (Papyan 2019).

    For each of ``num_starts`` random unit vectors :math:`v` (Gaussian, from
    ``rng``), ``num_steps`` Lanczos steps give :math:`T = S\,\mathrm{diag}(\theta)S^\top`;
    the measure :math:`\sum_i (S_{1i})^2\delta_{\theta_i}` matches
    :math:`v^\top H^k v` for :math:`k \le 2m-1` [3]_, and
    :math:`\mathbb E\,v^\top H^k v = \operatorname{tr}(H^k)/n`. The density
    is its Gaussian smoothing averaged over starts, on ``num_points`` points
    spanning :math:`[\lambda_{\min}, \lambda_{\max}]` widened by ``margin``
    of the range on each side. Default kernel width, as in Papyan's code: the
    range divided by :math:`(m-1)\sqrt{8\ln\kappa}`.

    Parameters
    ----------
    op : HessianOperator, nn.Module, or symmetric matrix
        With an ``nn.Module``, ``data`` and ``operator_kwargs`` go to
        :func:`hessian_operator`.
    data : DataSplit or (inputs, targets), optional
    num_steps : int, keyword-only
        Lanczos steps :math:`m` per start (capped at the dimension).
    num_starts : int, keyword-only
    num_points : int, keyword-only
    sigma : float or None, keyword-only
        Kernel width; ``None`` for the rule above.
    kappa, margin : float, keyword-only
    rng : None, int or numpy Generator, keyword-only
        Source of the start vectors: ``np.random.default_rng(seed)`` with ``seed`` the int
        given or, for ``None``, one drawn from fresh entropy (:func:`qsgd._validation.as_seed`);
        a Generator is used as it is.
    vectorize : bool, keyword-only
        Run the starts together, with ``torch.func.vmap`` over the
        Hessian-vector products (faster for convolutional nets on CPU; the
        result is the same up to rounding). ``False`` runs them one by one.

    Returns
    -------
    SpectralDensity

    References
    ----------
    .. [1] Liu et al., Nat. Commun. 15, 434 (2024), Figs. 2a and 3.
    .. [2] Papyan, arXiv:1811.07062 (2019).
    .. [3] Golub and Meurant (2010), ch. 6.

    Used in chapter 7.
    """
    func = "lanczos_density"
    if isinstance(op, nn.Module):
        if data is None:
            raise ValueError(f"{func}: data is required when op is a model")
        op = hessian_operator(op, data, **operator_kwargs)
    elif operator_kwargs:
        raise ValueError(f"{func}: unexpected arguments {sorted(operator_kwargs)} for an operator")
    op = _as_operator(op, func)
    num_steps, num_starts, num_points, kappa, margin, vectorize = _check_density_args(
        op, num_steps, num_starts, num_points, kappa, margin, vectorize, func)
    if isinstance(rng, np.random.Generator):
        seed, gen = None, rng  # the caller's stream, used as it is
    else:
        seed = as_seed(rng, func=func)  # None: drawn from fresh entropy, and reported
        gen = np.random.default_rng(seed)
    start_count = op.counter[0]
    m_used = min(num_steps, op.dim)
    nodes, weights = _ritz_quadrature(op, gen.standard_normal((num_starts, op.dim)), num_steps, m_used, vectorize)
    lo, hi = float(nodes.min()), float(nodes.max())
    sigma, grid = _density_grid(lo, hi, m_used, sigma=sigma, kappa=kappa, margin=margin, num_points=num_points,
                                func=func)
    return SpectralDensity(
        grid=grid, density=smooth_density(nodes, weights, grid, sigma), nodes=nodes, weights=weights,
        sigma=float(sigma), lambda_min=lo, lambda_max=hi, dim=op.dim, num_steps=m_used, num_starts=num_starts,
        hvp_count=op.counter[0] - start_count, seed=None if seed is None else int(seed),
    )


def _check_density_args(op, num_steps, num_starts, num_points, kappa, margin, vectorize, func: str):
    """The validated settings of :func:`lanczos_density`, with the size guard of the smoothed density."""
    num_steps = check_int(num_steps, "num_steps", func=func, minimum=2)
    num_starts = check_int(num_starts, "num_starts", func=func, minimum=1)
    num_points = check_int(num_points, "num_points", func=func, minimum=2)
    kappa = check_positive(kappa, "kappa", func=func)
    if kappa <= 1:
        raise ValueError(f"{func}: kappa must be > 1, got {kappa}")
    margin = check_positive(margin, "margin", func=func, strict=False)
    vectorize = check_bool(vectorize, "vectorize", func=func)
    check_memory(8.0 * 3 * num_starts * float(min(num_steps, op.dim)) * num_points, what="the smoothed density",
                 max_bytes=None, func=func)
    return num_steps, num_starts, num_points, kappa, margin, vectorize


def _density_grid(lo: float, hi: float, m_used: int, *, sigma, kappa: float, margin: float, num_points: int,
                  func: str) -> tuple[float, np.ndarray]:
    """Kernel width (the rule of :func:`lanczos_density` when *sigma* is ``None``) and the grid over ``[lo, hi]``."""
    width = max(hi - lo, 1e-12 * max(abs(lo), abs(hi), 1.0))
    if sigma is None:
        sigma = width / ((m_used - 1 if m_used > 1 else 1) * math.sqrt(8 * math.log(kappa)))
    else:
        sigma = check_positive(sigma, "sigma", func=func)
    grid = np.linspace(lo - margin * width - 3 * sigma * (margin == 0), hi + margin * width + 3 * sigma * (margin == 0), num_points)
    return sigma, grid


def _ritz_quadrature(op: HessianOperator, v0s: np.ndarray, num_steps: int, m_used: int, vectorize: bool):
    """Ritz values and weights of ``m_used`` Lanczos steps from each start vector (rows of *v0s*).

    Returns ``(nodes, weights)`` of shape ``(starts, m_used)``; runs that terminate early
    are padded with zero-weight nodes so that all rows align.
    """
    num_starts = v0s.shape[0]
    all_nodes, all_weights = [], []
    vec = vectorize and op.vmappable and m_used < op.dim and num_starts > 1
    batched = _lanczos_batched(op, v0s, m_used) if vec else None
    for s_idx in range(num_starts):
        if batched is not None:
            alpha, beta = batched[0][s_idx], batched[1][s_idx]
        else:
            alpha, beta = lanczos(op, v0s[s_idx], num_steps=num_steps)
        if alpha.size == 1:
            vals, vecs = alpha.copy(), np.ones((1, 1))
        else:
            vals, vecs = eigh_tridiagonal(alpha, beta)
        w = vecs[0] ** 2
        pad = m_used - vals.size
        all_nodes.append(np.concatenate([vals, np.full(pad, vals[-1])]))
        all_weights.append(np.concatenate([w / w.sum(), np.zeros(pad)]))
    return np.asarray(all_nodes), np.asarray(all_weights)


def extreme_eigenvalues(op, *, k: int = 1, tol: float = 1e-6, maxiter: int | None = None, rng=None):
    """The ``k`` smallest and ``k`` largest Hessian eigenvalues (ARPACK ``eigsh`` on products).

    Returns
    -------
    bottom, top : ndarray
        Ascending arrays of length ``k``.

    Used in chapter 7.
    """
    from scipy.sparse.linalg import LinearOperator, eigsh

    func = "extreme_eigenvalues"
    op = _as_operator(op, func)
    k = check_int(k, "k", func=func, minimum=1)
    tol = check_positive(tol, "tol", func=func)
    if maxiter is not None:
        maxiter = check_int(maxiter, "maxiter", func=func, minimum=1)
    if k > op.dim:
        raise ValueError(f"{func}: k must be <= the dimension {op.dim}, got {k}")
    gen = as_rng(rng, func=func)
    if op.dim <= 2 * k + 1:
        vals = exact_spectrum(op)
        return vals[:k], vals[-k:]

    def mv(x):
        v = torch.as_tensor(np.asarray(x).reshape(-1), dtype=op.dtype, device=op.device)
        return op.matvec(v).detach().to(torch.float64).cpu().numpy()

    lin = LinearOperator((op.dim, op.dim), matvec=mv, dtype=np.float64)
    v0 = gen.standard_normal(op.dim)
    top = eigsh(lin, k=k, which="LA", tol=tol, maxiter=maxiter, v0=v0, return_eigenvectors=False)
    bottom = eigsh(lin, k=k, which="SA", tol=tol, maxiter=maxiter, v0=v0, return_eigenvectors=False)
    return np.sort(bottom), np.sort(top)


# ---------------------------------------------------------------------------
# error proxy (Eqs. 7-8) and mode masses
# ---------------------------------------------------------------------------


def _measure(spectrum, weights, smoothed: bool, func: str):
    """Return (eigenvalues, weights) of a discrete spectral measure with total weight 1."""
    if isinstance(spectrum, SpectralDensity):
        if weights is not None:
            raise ValueError(f"{func}: weights must be None for a SpectralDensity")
        if smoothed:
            dx = np.gradient(spectrum.grid)
            lam, w = spectrum.grid, spectrum.density * dx
        else:
            lam = spectrum.nodes.reshape(-1)
            w = spectrum.weights.reshape(-1) / spectrum.nodes.shape[0]
    else:
        lam = as_vector(spectrum, "spectrum", func=func)
        if weights is None:
            w = np.full(lam.size, 1.0 / lam.size)
        else:
            w = as_vector(weights, "weights", func=func, size=lam.size)
            if np.any(w < 0) or w.sum() <= 0:
                raise ValueError(f"{func}: weights must be non-negative with a positive sum")
    return np.asarray(lam, dtype=float), np.asarray(w, dtype=float) / np.sum(w)


def _check_proxy_size(steps: int, modes: int, max_bytes, func: str) -> None:
    """Refuse a (steps + 1) x modes work array above the memory limit, before allocating it."""
    check_memory(8.0 * 3 * (float(steps) + 1.0) * max(float(modes), 1.0), what="the proxy work array",
                 max_bytes=max_bytes, func=func)


def _check_steps(steps, func: str) -> int:
    """``steps >= 1``: the proxy of t = 0 alone is 1 by its normalization, Eq. (8), and says nothing."""
    steps = check_int(steps, "steps", func=func)
    if steps < 1:
        raise ValueError(f"{func}: steps must be >= 1 (the proxy is evaluated at t = 0..steps, and "
                         f"E(0) = 1 by the normalization of Eq. (8)), got {steps}")
    return steps


def _weighted_powers(logw: np.ndarray, logg: np.ndarray, steps: int) -> np.ndarray:
    r""":math:`\sum_k e^{\mathrm{logw}_k}\,(e^{\mathrm{logg}_k})^t` for ``t = 0..steps``,
    as a log-sum-exp over the modes (``0**0 = 1``)."""
    t = np.arange(steps + 1, dtype=float)[:, None]
    with np.errstate(invalid="ignore"):
        expo = logw[None, :] + np.where(t == 0, 0.0, t * logg[None, :])  # 0**0 = 1
    top = np.max(expo, axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.exp(top[:, 0]) * np.sum(np.exp(expo - top), axis=1)


def error_proxy(
    spectrum,
    *,
    eta: float,
    steps: int,
    cut: float = 0.4,
    weights=None,
    smoothed: bool = False,
    max_bytes: float | None = None,
) -> np.ndarray:
    r"""The error proxy of Eq. (7) of [1]_, normalized by Eq. (8), for ``t = 0..steps``.

    .. math::

       E(t) = \frac{\int_{|a|\ge c}\rho(a)\,|1+a|^t\,da}{\int_{|a|\ge c}\rho(a)\,da},
       \qquad a = -\eta\lambda,

    so :math:`E(0) = 1`; modes with :math:`0 < \eta\lambda < 2` pull it down,
    modes with :math:`\eta\lambda < 0` (or :math:`> 2`) push it up
    exponentially. Evaluated as a log-sum-exp over the discrete measure.

    Parameters
    ----------
    spectrum : SpectralDensity or array of eigenvalues
        A :class:`SpectralDensity` contributes its Ritz quadrature (or, with
        ``smoothed=True``, the smoothed density on its grid); an array is a
        set of eigenvalues :math:`\lambda` with ``weights`` (uniform by default).
    eta : float, keyword-only
        Learning rate :math:`\eta` in :math:`a = -\eta\lambda` (the paper leaves
        it implicit; see the module docstring).
    steps : int, keyword-only
        Last step :math:`t`, at least 1 (``steps=0`` is refused: :math:`E(0) = 1` by Eq. (8)).
    cut : float, keyword-only
        The cut :math:`c` (0.4 in the paper) in units of :math:`a`.
    weights : array or None, keyword-only
    smoothed : bool, keyword-only
    max_bytes : float or None, keyword-only
        Limit on the ``(steps + 1) x modes`` work array (default: the shared limit).

    Returns
    -------
    ndarray of shape (steps + 1,)
        ``nan`` everywhere (with a ``RuntimeWarning``) when no mass lies beyond the cut.

    References
    ----------
    .. [1] Liu et al., Nat. Commun. 15, 434 (2024), Eqs. (7)-(8), Fig. 2b.

    Used in chapter 7.
    """
    import warnings

    func = "error_proxy"
    eta = check_positive(eta, "eta", func=func)
    steps = _check_steps(steps, func)
    cut = check_positive(cut, "cut", func=func, strict=False)
    smoothed = check_bool(smoothed, "smoothed", func=func)
    lam, w = _measure(spectrum, weights, smoothed, func)
    _check_proxy_size(steps, lam.size, max_bytes, func)
    a = -eta * lam
    sel = (np.abs(a) >= cut) & (w > 0)
    if not np.any(sel):
        warnings.warn(
            f"{func}: no spectral mass with |eta*lambda| >= {cut} (eta={eta}); the proxy is undefined",
            RuntimeWarning,
            stacklevel=2,
        )
        return np.full(steps + 1, np.nan)
    logw = np.log(w[sel]) - np.log(np.sum(w[sel]))
    with np.errstate(divide="ignore"):
        logg = np.log(np.abs(1.0 + a[sel]))
    return _weighted_powers(logw, logg, steps)


@dataclass(frozen=True)
class ModeMasses:
    r"""Spectral mass of dissipative, divergent and cut modes.

    ``dissipative``: :math:`\int_{\eta\lambda\ge c}\rho`; ``divergent``:
    :math:`\int_{\eta\lambda\le -c}\rho`; ``bulk``: the rest (all sum to 1);
    ``ratio`` = dissipative / divergent (``inf`` without divergent mass).
    """

    dissipative: float
    divergent: float
    bulk: float
    ratio: float
    eta: float
    cut: float


def mode_masses(spectrum, *, eta: float = 1.0, cut: float = 0.4, weights=None, smoothed: bool = False) -> ModeMasses:
    """Split the spectral measure into dissipative / divergent / bulk mass (Fig. 2a, claim 13).

    With ``eta=1`` the cut is in Hessian-eigenvalue units.

    Used in chapter 7.
    """
    func = "mode_masses"
    eta = check_positive(eta, "eta", func=func)
    cut = check_positive(cut, "cut", func=func, strict=False)
    lam, w = _measure(spectrum, weights, smoothed, func)
    x = eta * lam
    pos = float(np.sum(w[x >= cut]))
    neg = float(np.sum(w[x <= -cut]))
    return ModeMasses(
        dissipative=pos,
        divergent=neg,
        bulk=float(max(0.0, 1.0 - pos - neg)),
        ratio=pos / neg if neg > 0 else math.inf,
        eta=eta,
        cut=cut,
    )


@dataclass(frozen=True)
class ProxyContributions:
    r"""The terms of :func:`error_proxy` split by the kind of mode (each of shape (steps + 1,)).

    ``dissipative``: modes with :math:`0 < \eta\lambda < 2` (:math:`|1+a| < 1`);
    ``divergent``: :math:`\eta\lambda < 0` (negative Hessian eigenvalues);
    ``overshoot``: :math:`\eta\lambda \ge 2` (positive curvature too sharp for
    the step size, :math:`|1+a| \ge 1`). ``total`` is their sum, the proxy.
    """

    dissipative: np.ndarray
    divergent: np.ndarray
    overshoot: np.ndarray
    total: np.ndarray
    eta: float
    cut: float


def proxy_contributions(
    spectrum, *, eta: float, steps: int, cut: float = 0.4, weights=None, smoothed: bool = False,
    max_bytes: float | None = None,
) -> ProxyContributions:
    """:func:`error_proxy` split into dissipative, divergent and overshooting modes.

    The three arrays add up to the proxy of Eq. (7) (same normalization,
    Eq. (8)); compare the "dissipative"/"divergent" mode contributions the
    authors plotted in their early figures.

    Used in chapter 7.
    """
    func = "proxy_contributions"
    eta = check_positive(eta, "eta", func=func)
    steps = _check_steps(steps, func)
    cut = check_positive(cut, "cut", func=func, strict=False)
    smoothed = check_bool(smoothed, "smoothed", func=func)
    lam, w = _measure(spectrum, weights, smoothed, func)
    _check_proxy_size(steps, lam.size, max_bytes, func)
    x = eta * lam
    sel = (np.abs(x) >= cut) & (w > 0)
    total_w = float(np.sum(w[sel]))
    parts = []
    for keep in ((x > 0) & (x < 2), x < 0, x >= 2):
        k = sel & keep
        if not np.any(k) or total_w == 0:
            parts.append(np.zeros(steps + 1) if total_w > 0 else np.full(steps + 1, np.nan))
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            logg = np.log(np.abs(1.0 - x[k]))
            logw = np.log(w[k] / total_w)
        parts.append(_weighted_powers(logw, logg, steps))
    return ProxyContributions(
        dissipative=parts[0], divergent=parts[1], overshoot=parts[2], total=parts[0] + parts[1] + parts[2],
        eta=eta, cut=cut,
    )


@dataclass(frozen=True)
class CurvatureSplit:
    r"""Spectral mass split by what one gradient step does to each mode (fractions summing to 1).

    ``negative``: :math:`\lambda < -\text{tol}` (negative curvature, :math:`|1-\eta\lambda| > 1`);
    ``flat``: :math:`|\lambda| \le \text{tol}`;
    ``contracting``: :math:`\lambda > \text{tol}` and :math:`\eta\lambda < 2` (:math:`|1-\eta\lambda| < 1`);
    ``overshooting``: :math:`\eta\lambda \ge 2` (positive curvature too sharp for the step,
    :math:`|1-\eta\lambda| \ge 1`).
    """

    negative: float
    flat: float
    contracting: float
    overshooting: float
    eta: float
    tol: float


def curvature_split(spectrum, *, eta: float, tol: float = 0.0, weights=None, smoothed: bool = False) -> CurvatureSplit:
    r"""Split the spectral measure into negative / flat / contracting / overshooting mass.

    Unlike :func:`mode_masses` (the cut :math:`|\eta\lambda| \ge c` of Eq. (7)),
    this separates the two ways a mode can fail to contract under
    :math:`I - \eta H`: negative curvature (for every :math:`\eta`) and
    overshooting (:math:`\eta\lambda \ge 2`, only for too large a step).
    ``tol`` (in eigenvalue units) is the width of the "flat" band around 0,
    so that the sign of a tiny eigenvalue is never counted.

    Parameters
    ----------
    spectrum : SpectralDensity or array of eigenvalues
    eta : float, keyword-only
    tol : float, keyword-only
    weights : array or None, keyword-only
    smoothed : bool, keyword-only

    Returns
    -------
    CurvatureSplit

    Used in chapter 7.
    """
    func = "curvature_split"
    eta = check_positive(eta, "eta", func=func)
    tol = check_positive(tol, "tol", func=func, strict=False)
    lam, w = _measure(spectrum, weights, smoothed, func)
    neg = float(np.sum(w[lam < -tol]))
    flat = float(np.sum(w[np.abs(lam) <= tol]))
    over = float(np.sum(w[(lam > tol) & (eta * lam >= 2)]))
    con = float(np.sum(w[(lam > tol) & (eta * lam < 2)]))
    return CurvatureSplit(negative=neg, flat=flat, contracting=con, overshooting=over, eta=eta, tol=tol)
