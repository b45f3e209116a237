r"""Gradient descent of a torch loss as a polynomial map (Eqs. 3-4 of [1]_).

Full-batch gradient descent on a loss :math:`\mathcal L(\theta)` of the :math:`n` free
parameters (Eq. 3 of [1]_),

.. math::

    \theta(t+1) = \theta(t) - \eta\,\nabla\mathcal L(\theta(t)),

is written around a reference point :math:`\theta_0` (typically the pruned weights) in the
shifted variable :math:`u = \theta - \theta_0` as the polynomial map of Eq. 4 of [1]_,

.. math::

    u(t+1) = u(t) + \sum_{\ell=0}^{q} F_\ell\,u(t)^{\otimes\ell},\qquad
    F_0 = -\eta\,g,\quad F_1 = -\eta\,H,\quad
    F_2 = -\tfrac{\eta}{2}\,\mathrm{mat}(\nabla^3\mathcal L),\quad
    F_3 = -\tfrac{\eta}{6}\,\mathrm{mat}(\nabla^4\mathcal L),

where :math:`g`, :math:`H`, :math:`\nabla^3\mathcal L` and :math:`\nabla^4\mathcal L` are the
derivatives of the loss at :math:`\theta_0` and :math:`\mathrm{mat}` flattens all but the
first index in row-major (Kronecker) order, so that
:math:`(F_2\,u\otimes u)_i = -\tfrac{\eta}{2}\sum_{jk}\partial_{ijk}\mathcal L\,u_ju_k`.
This is the Taylor expansion of the gradient to order :math:`q` -- exact when the loss is a
polynomial of degree :math:`q+1` -- and the form that Carleman linearization needs
(:func:`qsgd.carleman.discrete_carleman`).

All derivatives come from ``torch.func`` (``grad``, ``hessian`` and forward-mode ``jvp`` of
the Hessian, vectorised with ``vmap``) in float64; nothing is differentiated by hand. The
coefficients are SciPy sparse arrays holding only the non-zero couplings, so a pruned
network, whose pruned weights are not parameters at all (:func:`model_loss`), keeps its
sparsity.

How far the map's iterates drift from exact gradient descent is bounded *before* the run by
:func:`taylor_error_bound`, from the coefficients (:func:`polynomial_radius_bound`), ``eta``, T
and bounds on the loss's derivatives over a ball (:mod:`qsgd.derivative_bounds`): the one-step
Taylor remainder :math:`\eta M\lVert v\rVert^{q+1}/(q+1)!` propagated with :math:`1+\eta H`.
:func:`taylor_error_estimate` is the after-the-fact estimate from the GD trajectory itself.

Symbols: ``n`` free parameters, ``eta`` learning rate, ``q = degree`` the degree of the map.

References
----------
.. [1] J. Liu, M. Liu, J.-P. Liu, Z. Ye, Y. Wang, Y. Alexeev, J. Eisert, L. Jiang,
   "Towards provably efficient quantum algorithms for large-scale machine-learning models",
   Nat. Commun. 15, 434 (2024), Eqs. 3-4.

Used in chapters 2, 6 and 8.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from torch import func as tf

from qsgd._linalg import dense
from qsgd._validation import (
    DivergenceError,
    as_coefficients,
    as_vector,
    check_choice,
    check_int,
    check_memory,
    check_positive,
    describe,
    estimate_bytes,
)
from qsgd.carleman_bounds import a_priori_radius
from qsgd.derivative_bounds import DerivativeBounds

__all__ = [
    "DEGREES",
    "PolynomialMap",
    "polynomial_map",
    "model_loss",
    "gradient_descent",
    "taylor_error_estimate",
    "polynomial_radius_bound",
    "TaylorErrorBound",
    "taylor_error_bound",
    "DivergenceError",
]

#: what the iterations do when an iterate becomes non-finite
ON_DIVERGENCE = ("raise", "nan")

#: degrees q of the polynomial map that :func:`polynomial_map` supports
DEGREES = (1, 2, 3)


def _scalar_loss(loss, theta: torch.Tensor, func: str) -> tuple[Callable, float]:
    """Check that ``loss(theta)`` is a finite scalar tensor; return it as a 0-d function and its value."""
    if not callable(loss):
        raise ValueError(f"{func}: loss must be a callable of a 1-D float64 torch tensor, got {describe(loss)}")
    try:
        value = loss(theta)
    except (RuntimeError, IndexError, TypeError, ValueError) as exc:  # the user's loss: name the shapes
        raise ValueError(f"{func}: the loss cannot be evaluated at theta0 of shape {tuple(theta.shape)} "
                         f"({type(exc).__name__}: {exc}); is theta0 the loss's parameter vector?") from exc
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{func}: loss must return a torch tensor, got {describe(value)}")
    if value.numel() != 1:
        raise ValueError(f"{func}: loss must return a scalar, got a tensor of shape {tuple(value.shape)}")
    if not value.is_floating_point():
        raise ValueError(f"{func}: loss must return a floating-point tensor, got dtype {value.dtype}")
    if not torch.isfinite(value).all():
        raise ValueError(f"{func}: loss is not finite at theta0 (got {float(value)})")
    return (lambda th: loss(th).reshape(())), float(value)


def _theta(theta0, func: str) -> torch.Tensor:
    arr = as_vector(theta0, "theta0", func=func)
    return torch.as_tensor(arr, dtype=torch.float64)


def _chunked_vmap(fn, tangents: torch.Tensor, chunk_size: int) -> torch.Tensor:
    """``torch.func.vmap(fn)(tangents)``, in chunks of ``chunk_size`` rows."""
    if chunk_size >= tangents.shape[0]:
        return tf.vmap(fn)(tangents)
    return torch.cat([tf.vmap(fn)(tangents[i : i + chunk_size])
                      for i in range(0, tangents.shape[0], chunk_size)])


def _symmetrize(t: torch.Tensor) -> torch.Tensor:
    """Average over all permutations of the indices (a derivative tensor is symmetric)."""
    perms = list(itertools.permutations(range(t.ndim)))
    return sum(t.permute(p) for p in perms) / len(perms)


def _derivatives(f, x: torch.Tensor, degree: int, chunk_size: int) -> list[torch.Tensor]:
    """[grad, Hessian, third, fourth derivative] of f at x, up to order degree + 1."""
    n = x.shape[0]
    out = [tf.grad(f)(x)]
    hess = tf.hessian(f)  # forward-over-reverse, vectorised over n directions
    out.append(hess(x))
    eye = torch.eye(n, dtype=x.dtype)
    if degree >= 2:
        def d_hess(v):  # directional derivative of the Hessian along v
            return tf.jvp(hess, (x,), (v,))[1]

        # third[k] = d/dx_k H, index order (k, i, j); symmetric, so any order will do
        out.append(_symmetrize(_chunked_vmap(d_hess, eye, chunk_size)))
    if degree >= 3:
        def dd_hess(vw):  # d/dw d/dv H
            v, w = vw[0], vw[1]
            return tf.jvp(lambda y: tf.jvp(hess, (y,), (v,))[1], (x,), (w,))[1]

        k, l = (torch.as_tensor(i) for i in np.triu_indices(n))  # mixed derivatives commute: k <= l suffice
        pairs = torch.stack([eye[k], eye[l]], dim=1)
        vals = _chunked_vmap(dd_hess, pairs, chunk_size)
        fourth = torch.empty((n, n, n, n), dtype=x.dtype)
        fourth[k, l] = vals
        fourth[l, k] = vals
        out.append(_symmetrize(fourth))
    return out


@dataclass(frozen=True)
class PolynomialMap:
    r"""The gradient-descent step as a polynomial map around ``theta0``.

    Attributes
    ----------
    coefficients : tuple
        ``(F0, F1, ..., Fq)``: ``F0`` an ndarray of shape (n,), ``F_l`` a
        ``scipy.sparse.csr_array`` of shape (n, n**l) acting on :math:`u^{\otimes\ell}`.
        Every function of the package that takes coefficients also takes the map itself
        (:func:`qsgd.carleman.discrete_carleman`, :func:`qsgd.theorem.check_assumptions`, ...).
    theta0 : ndarray, shape (n,)
        The expansion point; the map acts on :math:`u = \theta - \theta_0`.
    eta : float
        Learning rate.
    degree : int
        The degree q (1, 2 or 3).
    loss_value : float
        :math:`\mathcal L(\theta_0)`.
    """

    coefficients: tuple
    theta0: np.ndarray
    eta: float
    degree: int
    loss_value: float

    @property
    def n(self) -> int:
        """Number of free parameters."""
        return int(self.theta0.shape[0])

    def step(self, u) -> np.ndarray:
        r""":math:`u + \sum_{\ell=0}^{q} F_\ell u^{\otimes\ell}`: one step of the map, shifted coordinates."""
        u = as_vector(u, "u", func="PolynomialMap.step", size=self.n)
        out = u + self.coefficients[0]
        power = np.ones(1)
        for F in self.coefficients[1:]:
            power = np.kron(power, u)
            out = out + F @ power
        return out

    def trajectory(self, steps, *, u0=None, on_divergence="raise", max_bytes=None) -> np.ndarray:
        r"""Iterate :meth:`step` ``steps`` times from ``u0`` (default 0, i.e. from ``theta0``).

        Parameters
        ----------
        steps : int
            T >= 1.
        u0 : array_like, shape (n,), optional
            Start in shifted coordinates (default 0).
        on_divergence : {"raise", "nan"}
            When an iterate becomes non-finite (the map diverges): raise
            :class:`DivergenceError` (default), or fill the remaining rows with NaN.
        max_bytes : float, optional
            Size guard on the (steps + 1, n) result (default 4 GiB).

        Returns
        -------
        ndarray, shape (steps + 1, n)
            Shifted coordinates :math:`u(t)`, :math:`t = 0..T`; add ``theta0`` for
            :math:`\theta(t)`.
        """
        func = "PolynomialMap.trajectory"
        steps = check_int(steps, "steps", func=func, minimum=1)
        on_divergence = check_choice(on_divergence, "on_divergence", ON_DIVERGENCE, func=func)
        check_memory(estimate_bytes(steps + 1, self.n), what=f"the trajectory ({steps + 1} x {self.n})",
                     max_bytes=max_bytes, func=func)
        u = np.zeros(self.n) if u0 is None else as_vector(u0, "u0", func=func, size=self.n)
        out = np.full((steps + 1, self.n), np.nan)
        out[0] = u
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(steps):
                nxt = self.step(out[t]) if np.all(np.abs(out[t]) < 1e150) else np.full(self.n, np.inf)
                if not np.all(np.isfinite(nxt)):
                    if on_divergence == "raise":
                        raise DivergenceError(
                            f"{func}: the map diverges: step {t + 1} of {steps} is non-finite (|u| = "
                            f"{np.linalg.norm(out[t]):.4g} before it; eta = {self.eta:.4g}); pass "
                            "on_divergence='nan' to get the trajectory with NaN rows"
                        )
                    break
                out[t + 1] = nxt
        return out


def polynomial_map(loss, theta0, *, eta, degree=2, chunk_size=None, max_bytes=None) -> PolynomialMap:
    r"""The gradient-descent update of ``loss`` as the polynomial map of Eq. 4 of [1]_.

    Computes, with ``torch.func`` in float64, the derivatives of the loss at
    :math:`\theta_0` and returns

    .. math::

        F_0 = -\eta\,\nabla\mathcal L,\quad F_1 = -\eta\,\nabla^2\mathcal L,\quad
        F_2 = -\tfrac{\eta}{2}\,\mathrm{mat}(\nabla^3\mathcal L),\quad
        F_3 = -\tfrac{\eta}{6}\,\mathrm{mat}(\nabla^4\mathcal L),

    up to ``F_degree``, so that :math:`u \mapsto u + \sum_\ell F_\ell u^{\otimes\ell}` is the
    GD step :math:`\theta\mapsto\theta-\eta\nabla\mathcal L(\theta)` with the gradient
    Taylor-expanded to order ``degree`` in :math:`u = \theta - \theta_0`. The third and fourth
    derivative tensors are symmetrized over their indices (they are symmetric in exact
    arithmetic; this only removes round-off differences between the AD paths).

    Parameters
    ----------
    loss : callable
        ``loss(theta)`` for a 1-D float64 torch tensor of the n free parameters, returning a
        scalar tensor, differentiable by ``torch.func`` (e.g. from :func:`model_loss`).
    theta0 : array_like, shape (n,)
        The expansion point.
    eta : float
        Learning rate, > 0.
    degree : {1, 2, 3}
        Degree q of the map (derivatives of the loss up to order q + 1).
    chunk_size : int, optional
        Vectorise the Hessian's directional derivatives over at most this many directions
        (or pairs of directions, for the fourth derivative) at a time: less memory, more
        Python calls. Default ``max(1, 4096 // n)``, i.e. about 4096 Hessian rows per call.
    max_bytes : float, optional
        Refuse (``ValueError``) when the dense derivative tensors would exceed this
        (default 4 GiB).

    Returns
    -------
    PolynomialMap
        ``coefficients = (F0, F1, ..., F_degree)`` with zero entries dropped.

    Raises
    ------
    ValueError
        A ``loss`` that is not callable, not a scalar tensor or not finite at ``theta0``;
        non-finite derivatives; ``eta <= 0``; ``degree`` not in 1..3; a bad ``theta0``.

    References
    ----------
    .. [1] J. Liu et al., Nat. Commun. 15, 434 (2024), Eqs. 3-4.

    Examples
    --------
    >>> import torch
    >>> pm = polynomial_map(lambda th: (th**4).sum() / 4, [1.0], eta=0.1, degree=3)
    >>> [float(F.toarray()[0, 0]) if hasattr(F, "toarray") else float(F[0]) for F in pm.coefficients]
    [-0.1, -0.30000000000000004, -0.30000000000000004, -0.1]

    Used in chapters 2, 6 and 8.
    """
    func = "polynomial_map"
    x = _theta(theta0, func)
    eta = check_positive(eta, "eta", func=func)
    degree = check_int(degree, "degree", func=func, minimum=1, maximum=max(DEGREES))
    n = x.shape[0]
    if chunk_size is None:
        chunk_size = max(1, 4096 // n)
    chunk_size = check_int(chunk_size, "chunk_size", func=func, minimum=1)
    # the largest dense tensor plus its symmetrization and vmap intermediates
    check_memory(8.0 * 4 * n ** (degree + 1), what=f"the order-{degree + 1} derivative tensor (n = {n})",
                 max_bytes=max_bytes, func=func)
    f, loss_value = _scalar_loss(loss, x, func)
    derivs = _derivatives(f, x, degree, chunk_size)
    coefficients: list = []
    for ell, d in enumerate(derivs):
        if not torch.isfinite(d).all():
            raise ValueError(f"{func}: the order-{ell + 1} derivative of loss at theta0 has non-finite entries")
        scale = -eta / math.factorial(ell)
        mat = scale * d.detach().cpu().numpy().reshape(n, n**ell)
        if not np.all(np.isfinite(mat)):
            raise ValueError(
                f"{func}: F{ell} = -eta/{ell}! * (order-{ell + 1} derivative) overflows for eta = {eta:.4g}; "
                "the step size is far too large"
            )
        if ell == 0:
            coefficients.append(mat.reshape(n))
        else:
            F = sp.csr_array(mat)
            F.eliminate_zeros()
            coefficients.append(F)
    return PolynomialMap(coefficients=tuple(coefficients), theta0=x.numpy().copy(), eta=eta,
                         degree=degree, loss_value=loss_value)


def model_loss(model, inputs, targets, *, mask=None, loss_fn=None):
    r"""The loss of a torch model as a function of its free parameters only.

    The free parameters are, in the order of ``model.named_parameters()``, every entry of every
    parameter, except the entries where ``mask[name]`` is ``False``: those (the pruned weights)
    are not parameters but constants frozen at their current values (zero after
    :func:`qsgd.nn.prune_global`). The returned ``loss(theta)`` rebuilds the full parameter set
    from the flat vector ``theta`` and evaluates ``loss_fn(model(inputs), targets)`` with
    ``torch.func.functional_call`` in float64, so it can be differentiated by ``torch.func``
    (:func:`polynomial_map`) or iterated by :func:`gradient_descent`.

    Parameters
    ----------
    model : torch.nn.Module
        Not modified; its parameters, buffers and current mode are read once.
    inputs : torch.Tensor
        The whole training batch (full-batch gradient descent, Eq. 3 of [1]_).
    targets : torch.Tensor
        Targets of ``inputs``, same first dimension.
    mask : dict of str -> bool tensor, optional
        ``True`` where a parameter entry is free (as returned by :func:`qsgd.nn.prune_global`);
        parameters not named are entirely free.
    loss_fn : callable, optional
        ``loss_fn(outputs, targets)`` returning a scalar; default ``torch.nn.CrossEntropyLoss()``
        (mean over the batch).

    Returns
    -------
    loss : callable
        ``loss(theta)`` of a 1-D float64 tensor of length n, a 0-d float64 tensor.
    theta0 : ndarray, shape (n,)
        The model's current free parameters.
    unflatten : callable
        ``unflatten(theta)`` -> dict of parameter name -> full tensor (in the model's dtype),
        e.g. for ``model.load_state_dict(..., strict=False)``.

    Raises
    ------
    ValueError
        A model that is not a module, inputs and targets of different lengths, a mask naming an
        unknown parameter or of the wrong shape, or a mask that leaves no free parameter.

    Notes
    -----
    The model runs in whatever mode it is in when ``loss`` is called. For a network with batch
    normalization call ``model.eval()`` first: in training mode batch norm uses batch statistics
    and updates its running averages at every evaluation, so the loss would not be a fixed
    function of ``theta``.

    References
    ----------
    .. [1] J. Liu et al., Nat. Commun. 15, 434 (2024), Eq. 3.

    Used in chapters 2, 6 and 8.
    """
    func = "model_loss"
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"{func}: model must be a torch.nn.Module, got {describe(model)}")
    if not isinstance(inputs, torch.Tensor) or not isinstance(targets, torch.Tensor):
        raise ValueError(f"{func}: inputs and targets must be torch tensors, got {describe(inputs)}, "
                         f"{describe(targets)}")
    if inputs.shape[0] != targets.shape[0] or inputs.shape[0] == 0:
        raise ValueError(f"{func}: inputs and targets must have the same non-zero length, got "
                         f"{inputs.shape[0]} and {targets.shape[0]}")
    mask = {} if mask is None else mask
    if not isinstance(mask, dict):
        raise ValueError(f"{func}: mask must be a dict of parameter name -> bool tensor, got {describe(mask)}")
    params = {name: p.detach() for name, p in model.named_parameters()}
    if inputs.is_complex() or targets.is_complex():
        raise ValueError(f"{func}: inputs and targets must be real, got dtypes {inputs.dtype} and {targets.dtype}")
    if inputs.is_floating_point() and not torch.isfinite(inputs).all():
        raise ValueError(f"{func}: inputs has non-finite entries")
    if targets.is_floating_point() and not torch.isfinite(targets).all():
        raise ValueError(f"{func}: targets has non-finite entries")
    for name, m in mask.items():
        if not isinstance(m, torch.Tensor):
            raise ValueError(f"{func}: mask[{name!r}] must be a bool tensor, got {describe(m)}")
        if name not in params:
            raise ValueError(f"{func}: mask names parameter {name!r}, which the model does not have")
        if tuple(m.shape) != tuple(params[name].shape):
            raise ValueError(f"{func}: mask[{name!r}] has shape {tuple(m.shape)}, parameter has "
                             f"{tuple(params[name].shape)}")
    loss_fn = torch.nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    if not callable(loss_fn):
        raise ValueError(f"{func}: loss_fn must be callable, got {describe(loss_fn)}")
    first = inputs[:1]
    if first.is_floating_point() and params:  # in the model's own precision
        first = first.to(next(iter(params.values())).dtype)
    training = model.training
    model.eval()  # no running statistics are updated, and a batch of one is allowed
    try:  # one sample through the model: inputs of the wrong width are refused here, by name
        with torch.no_grad():
            model(first)
    except (RuntimeError, IndexError, TypeError, ValueError) as exc:
        raise ValueError(f"{func}: the model cannot be applied to inputs of shape {tuple(inputs.shape)} "
                         f"({type(exc).__name__}: {exc})") from exc
    finally:
        model.train(training)

    names, shapes, dtypes, gathers, fixed, free = [], [], [], [], [], []
    offset = 0
    for name, p in params.items():
        flat = p.reshape(-1).to(torch.float64)
        keep = mask[name].reshape(-1).bool() if name in mask else torch.ones_like(flat, dtype=torch.bool)
        k = int(keep.sum())
        # position of every entry inside cat([theta[offset:offset+k], fixed values])
        pos = torch.empty(flat.shape[0], dtype=torch.long)
        pos[keep] = torch.arange(k)
        pos[~keep] = k + torch.arange(flat.shape[0] - k)
        names.append(name)
        shapes.append(tuple(p.shape))
        dtypes.append(p.dtype)
        gathers.append((offset, k, pos))
        fixed.append(flat[~keep].clone())
        free.append(flat[keep])
        offset += k
    n = offset
    if n == 0:
        raise ValueError(f"{func}: the mask leaves no free parameter")
    theta0 = torch.cat(free).numpy().copy()
    buffers = {name: (b.detach().to(torch.float64) if b.is_floating_point() else b.detach())
               for name, b in model.named_buffers()}
    x = inputs.detach().to(torch.float64) if inputs.is_floating_point() else inputs.detach()
    y = targets.detach()

    def full_params(theta: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {}
        for name, shape, (start, k, pos), const in zip(names, shapes, gathers, fixed):
            values = torch.cat([theta[start : start + k], const.to(theta.dtype)])
            out[name] = values[pos].reshape(shape)
        return out

    def loss(theta: torch.Tensor) -> torch.Tensor:
        if theta.shape != (n,):
            raise ValueError(f"model_loss: theta must have shape ({n},), got {tuple(theta.shape)}")
        out = tf.functional_call(model, (full_params(theta), buffers), (x,))
        return loss_fn(out, y)

    def unflatten(theta) -> dict[str, torch.Tensor]:
        th = torch.as_tensor(as_vector(theta, "theta", func="model_loss.unflatten", size=n),
                             dtype=torch.float64)
        return {name: t.to(dt) for (name, t), dt in zip(full_params(th).items(), dtypes)}

    return loss, theta0, unflatten


def gradient_descent(loss, theta0, *, eta, steps, on_divergence="raise", max_bytes=None) -> np.ndarray:
    r"""Exact gradient descent, :math:`\theta(t+1) = \theta(t) - \eta\nabla\mathcal L(\theta(t))`.

    Eq. 3 of [1]_ iterated on the true loss in float64 (gradients by ``torch.func.grad``): the
    reference that the polynomial map and its Carleman linearization approximate.

    Parameters
    ----------
    loss : callable
        As for :func:`polynomial_map`.
    theta0 : array_like, shape (n,)
        Starting point :math:`\theta(0)`.
    eta : float
        Learning rate, > 0.
    steps : int
        Number of steps T >= 1.
    on_divergence : {"raise", "nan"}
        When an iterate becomes non-finite (divergence, e.g. ``eta`` beyond 2 / the largest
        Hessian eigenvalue): raise :class:`DivergenceError` (default), or return the
        trajectory with the remaining rows NaN.
    max_bytes : float, optional
        Size guard on the (steps + 1, n) result (default 4 GiB).

    Returns
    -------
    ndarray, shape (steps + 1, n)
        :math:`\theta(0), \dots, \theta(T)` (not shifted).

    Raises
    ------
    ValueError
        Bad ``loss`` (see :func:`polynomial_map`), ``eta <= 0``, ``steps < 1``, a result above
        ``max_bytes``.
    DivergenceError
        (a ``ValueError``) An iterate became non-finite, with ``on_divergence="raise"``.

    References
    ----------
    .. [1] J. Liu et al., Nat. Commun. 15, 434 (2024), Eq. 3.

    Used in chapters 2, 6 and 8.
    """
    func = "gradient_descent"
    x = _theta(theta0, func)
    eta = check_positive(eta, "eta", func=func)
    steps = check_int(steps, "steps", func=func, minimum=1)
    on_divergence = check_choice(on_divergence, "on_divergence", ON_DIVERGENCE, func=func)
    check_memory(estimate_bytes(steps + 1, x.shape[0]), what=f"the trajectory ({steps + 1} x {x.shape[0]})",
                 max_bytes=max_bytes, func=func)
    f, _ = _scalar_loss(loss, x, func)
    grad = tf.grad(f)
    out = np.full((steps + 1, x.shape[0]), np.nan)
    out[0] = x.numpy()
    for t in range(steps):
        previous = x
        x = (x - eta * grad(x)).detach()
        if not torch.isfinite(x).all():
            if on_divergence == "raise":
                raise DivergenceError(
                    f"{func}: gradient descent diverges: step {t + 1} of {steps} is non-finite "
                    f"(|theta| = {float(torch.linalg.norm(previous)):.4g} before it) with eta = {eta:.4g}; "
                    "lower eta, or pass on_divergence='nan' to get the trajectory with NaN rows"
                )
            break
        out[t + 1] = x.numpy()
    return out


def _lipschitz(F, a_norm: float, b_norm: float) -> float:
    r"""Lipschitz constant of :math:`P(u)=u+\sum_\ell F_\ell u^{\otimes\ell}` between two points."""
    n = F[1].shape[0]
    lip = float(np.linalg.norm(np.eye(n) + dense(F[1]), 2))
    for ell in range(2, len(F)):
        norm = float(np.linalg.norm(dense(F[ell]), 2))
        # a^(x)l - b^(x)l = sum_i b^(x)i (x) (a - b) (x) a^(x)(l-1-i)
        lip += norm * sum(a_norm ** (ell - 1 - i) * b_norm**i for i in range(ell))
    return lip


def taylor_error_estimate(F, u_gd, u_poly, step) -> float:
    r"""After-the-fact estimate of :math:`\lVert u^{\rm GD}_T - u^{\rm poly}_T\rVert` from the GD trajectory it judges.

    Exact gradient descent :math:`u^{\rm GD}` and the truncated polynomial map
    :math:`P(u)=u+\sum_\ell F_\ell u^{\otimes\ell}` start together; with the one-step remainder
    :math:`\rho_t=\lVert u^{\rm GD}_{t+1}-P(u^{\rm GD}_t)\rVert` *measured on the exact GD
    trajectory* and the Lipschitz constant :math:`\Lambda_t` of :math:`P` between the two
    iterates, the gap obeys :math:`E_{t+1}\le\rho_t+\Lambda_tE_t`, :math:`E_0=0`; this returns
    :math:`E_T`.

    This is an estimate, not a bound: it is computed after the fact from the very GD trajectory
    whose distance to the map it judges (for T = 1 and 2 it equals the error), so it cannot be
    known before the run and it cannot fail. The a priori bound, from what is known before the
    run, is :func:`taylor_error_bound`.

    Parameters
    ----------
    F : sequence of matrices
        :math:`F_0, F_1, \dots` in ascending degree (the ``coefficients`` of a :class:`PolynomialMap`).
    u_gd, u_poly : array_like, shape (T + 1, n)
        The two trajectories (displacements from the expansion point).
    step : callable
        One step of the polynomial map, :math:`u\mapsto P(u)` (:meth:`PolynomialMap.step`).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the trajectories are not finite arrays of the same shape (T + 1, n) with T >= 1,
        ``F`` has fewer than two coefficients, or ``step`` is not callable.

    Used in chapter 8 (the error budget of a quantum segment).
    """
    func = "taylor_error_estimate"
    u_gd = np.asarray(u_gd, dtype=float)
    u_poly = np.asarray(u_poly, dtype=float)
    if u_gd.ndim != 2 or u_gd.shape[0] < 2 or u_gd.shape != u_poly.shape:
        raise ValueError(f"{func}: u_gd and u_poly must both have shape (T + 1, n) with T >= 1, got "
                         f"{u_gd.shape} and {u_poly.shape}")
    if not (np.all(np.isfinite(u_gd)) and np.all(np.isfinite(u_poly))):
        raise ValueError(f"{func}: u_gd and u_poly must be finite")
    if not isinstance(F, (list, tuple)) or len(F) < 2:
        raise ValueError(f"{func}: F must be the coefficients [F0, F1, ...] of the map, got {describe(F)}")
    if not callable(step):
        raise ValueError(f"{func}: step must be callable, got {describe(step)}")
    estimate = 0.0
    for t in range(u_gd.shape[0] - 1):
        rho = float(np.linalg.norm(u_gd[t + 1] - step(u_gd[t])))
        lam = _lipschitz(F, float(np.linalg.norm(u_gd[t])), float(np.linalg.norm(u_poly[t])))
        estimate = rho + lam * estimate
    return estimate


def polynomial_radius_bound(F, steps) -> np.ndarray:
    r"""A priori bound :math:`R_t \ge \lVert v_t\rVert` on the iterates of the polynomial map from :math:`v_0 = 0`.

    For :math:`v_{t+1}=v_t+\sum_{\ell=0}^{q}F_\ell v_t^{\otimes\ell}` the triangle inequality and
    :math:`\lVert v^{\otimes\ell}\rVert=\lVert v\rVert^\ell` give, from the coefficients alone,

    .. math::

        R_0 = 0,\qquad R_{t+1}=\lVert F_0\rVert+\lVert I+F_1\rVert_2\,R_t
        +\sum_{\ell\ge2}\lVert F_\ell\rVert_2\,R_t^{\ell},

    :math:`\lVert F_\ell\rVert_2` the spectral norm of the :math:`n\times n^\ell` matrix (an upper
    bound on :math:`\sup\lVert F_\ell u^{\otimes\ell}\rVert/\lVert u\rVert^\ell`).

    Parameters
    ----------
    F : sequence or PolynomialMap
        ``[F0, F1, ..., Fq]`` (q <= 3) or a :class:`PolynomialMap`.
    steps : int
        T >= 1.

    Returns
    -------
    ndarray, shape (T + 1,)
        :math:`R_0, \dots, R_T`; ``inf`` from the step where the recursion overflows.

    Raises
    ------
    ValueError
        Bad coefficients (see :func:`qsgd._validation.as_coefficients`), ``steps < 1``.

    Examples
    --------
    >>> polynomial_radius_bound([[-0.1], [[-0.5]]], 3)  # |v_t| <= 0.1 (1 + 0.5 + ...)
    array([0.   , 0.1  , 0.15 , 0.175])

    Used in chapter 8 (the a priori Taylor error of a quantum segment).
    """
    # the recursion of the truncation bound's radius (qsgd.carleman_bounds), started at v_0 = 0
    return a_priori_radius(F, steps=steps, func="polynomial_radius_bound")


@dataclass(frozen=True)
class TaylorErrorBound:
    r"""Result of :func:`taylor_error_bound`.

    Attributes
    ----------
    bound : float
        The a priori bound :math:`e_T \ge \lVert u^{\rm GD}_T - v_T\rVert`; ``inf`` when
        ``success`` is False (no finite bound is proven).
    per_step : ndarray, shape (T + 1,)
        :math:`e_0 = 0, e_1, \dots, e_T` of the recursion (valid bounds only if ``success``).
    radius_bound : ndarray, shape (T + 1,)
        :math:`R_t \ge \lVert v_t\rVert` (:func:`polynomial_radius_bound`).
    displacement_bound : ndarray, shape (T + 1,)
        :math:`a_t \ge \lVert u^{\rm GD}_t\rVert`.
    needed_radius : float
        :math:`\max_{t<T}\max(a_t, R_t)`: the ball on which ``bounds`` must hold.
    lipschitz : float
        :math:`\Lambda = 1 + \eta H`.
    bounds : DerivativeBounds
        The derivative bounds used (their ``radius`` is the ball they hold on).
    eta : float
    steps : int
    degree : int
    success : bool
        ``needed_radius <= bounds.radius`` and every quantity finite: the bound is proven.
    message : str
        Why not, when ``success`` is False.
    """

    bound: float
    per_step: np.ndarray
    radius_bound: np.ndarray
    displacement_bound: np.ndarray
    needed_radius: float
    lipschitz: float
    bounds: DerivativeBounds
    eta: float
    steps: int
    degree: int
    success: bool
    message: str


def taylor_error_bound(F, steps, bounds, *, eta=None) -> TaylorErrorBound:
    r"""A priori bound on :math:`\lVert u^{\rm GD}_T - v_T\rVert`, the gap between exact GD and the polynomial map.

    Computed before the run, from what is known then: the coefficients :math:`F_\ell` of the
    degree-q map (Eq. 4 of [1]_), :math:`\eta`, T and bounds on the loss's derivatives over a
    ball around :math:`\theta_0` (:class:`qsgd.derivative_bounds.DerivativeBounds`). Nothing of
    the GD trajectory is used; :func:`taylor_error_estimate` is the after-the-fact estimate.

    **Derivation.** Write :math:`u_t` for exact GD and :math:`v_t` for the map, both from 0,
    :math:`T_q(v)` for the degree-q Taylor polynomial of :math:`\nabla\mathcal L(\theta_0+v)`, so
    that :math:`v_{t+1}=v_t-\eta T_q(v_t)`. Then

    .. math::

        u_{t+1}-v_{t+1}=(u_t-v_t)-\eta\,[\nabla\mathcal L(\theta_0+u_t)-\nabla\mathcal L(\theta_0+v_t)]
        -\eta\,[\nabla\mathcal L(\theta_0+v_t)-T_q(v_t)].

    The first bracket is :math:`\int_0^1\nabla^2\mathcal L\,ds\,(u_t-v_t)`, of norm
    :math:`\le H\lVert u_t-v_t\rVert`; the second is the Taylor remainder of the gradient, in
    Lagrange/integral form of norm :math:`\le M\lVert v_t\rVert^{q+1}/(q+1)!`, :math:`M\ge
    \sup\lVert D^{q+1}\nabla\mathcal L\rVert` (Nesterov [2]_, Lemma 1.2.4 and its higher-order
    analogue; Taylor's theorem with integral remainder). With :math:`R_t\ge\lVert v_t\rVert`
    from :func:`polynomial_radius_bound`,

    .. math::

        e_0=0,\qquad e_{t+1}=\min\Bigl(\Lambda\,e_t+\frac{\eta M R_t^{q+1}}{(q+1)!},\;
        a_t+\eta G+R_{t+1}\Bigr),\qquad \Lambda=1+\eta H,

    where :math:`a_t\ge\lVert u_t\rVert` follows :math:`a_0=0`,
    :math:`a_{t+1}=\min(a_t+\eta G,\,R_{t+1}+e_{t+1})` (a GD step moves by at most
    :math:`\eta G`), and the cap in :math:`e_{t+1}` is the triangle inequality
    :math:`\lVert u-v\rVert\le\lVert u\rVert+\lVert v\rVert`. (The sharper contraction factor
    :math:`\sup\lVert I-\eta\nabla^2\mathcal L\rVert` would need a lower bound on the Hessian
    too; :math:`1+\eta H` needs only :math:`H`.)

    **Validity.** G, H and M must hold on a ball containing :math:`\theta_0`, every :math:`u_t`
    and :math:`v_t` used (t < T) and the segments between them; the ball is convex, so it is
    enough that ``bounds.radius`` :math:`\ge\max_{t<T}\max(a_t,R_t)` (``needed_radius``). When it
    is not, or when a quantity overflows, nothing is proven: the result has ``success=False``,
    ``bound = inf`` and a message saying the radius needed (rebuild the bounds on a larger ball,
    e.g. :func:`qsgd.derivative_bounds.polynomial_loss_bounds` with ``radius=needed_radius``, and
    call again). The tanh-network bounds of :func:`qsgd.derivative_bounds.tanh_mlp_bounds` hold
    everywhere (radius ``inf``).

    Parameters
    ----------
    F : sequence or PolynomialMap
        ``[F0, F1, ..., Fq]`` (q <= 3) or a :class:`PolynomialMap` (which also supplies ``eta``).
    steps : int
        T >= 1.
    bounds : DerivativeBounds
        Derivative bounds of the loss for degree ``q = len(F) - 1`` (``bounds.order == q``).
        There is no a priori bound without them: ``None`` is refused.
    eta : float, optional
        Learning rate > 0; required when ``F`` is a plain sequence, taken from a
        :class:`PolynomialMap` otherwise (and must match it if given).

    Returns
    -------
    TaylorErrorBound

    Raises
    ------
    ValueError
        ``bounds`` None or not a :class:`DerivativeBounds`, ``bounds.order`` different from the
        degree of ``F``, a missing or bad ``eta`` (or one that contradicts the map's), bad
        coefficients, ``steps < 1``.

    References
    ----------
    .. [1] J. Liu et al., Nat. Commun. 15, 434 (2024), Eqs. 3-4.
    .. [2] Y. Nesterov, *Introductory Lectures on Convex Optimization*, Kluwer (2004), Lemma 1.2.4
       (Taylor remainder bounds from Lipschitz derivatives).

    Examples
    --------
    >>> from qsgd.derivative_bounds import polynomial_loss, polynomial_loss_bounds
    >>> A = [0.0, [1.0], [[0.5]], [[[0.0]]], [[[[0.25]]]]]  # L = th + th^2/2 + th^4/4
    >>> pm = polynomial_map(polynomial_loss(A), [0.0], eta=0.1, degree=2)
    >>> res = taylor_error_bound(pm, 3, polynomial_loss_bounds(A, [0.0], radius=1.0, degree=2))
    >>> res.success, round(res.bound, 7)
    (True, 0.0008259)
    >>> actual = gradient_descent(polynomial_loss(A), [0.0], eta=0.1, steps=3)[-1] - pm.trajectory(3)[-1]
    >>> round(float(abs(actual[0])), 7)  # the error it bounds
    0.0007748

    Used in chapter 8 (the a priori Taylor error of a quantum segment).
    """
    func = "taylor_error_bound"
    if bounds is None:
        raise ValueError(
            f"{func}: bounds is None, but an a priori bound needs DerivativeBounds of the loss over a ball around "
            "theta0 (qsgd.derivative_bounds.polynomial_loss_bounds for a polynomial loss, tanh_mlp_bounds for the "
            "book's tanh networks); no such bound exists for an arbitrary torch loss. For an after-the-fact "
            "estimate from the GD trajectory use taylor_error_estimate(F, u_gd, u_poly, step)")
    if not isinstance(bounds, DerivativeBounds):
        raise ValueError(f"{func}: bounds must be a DerivativeBounds, got {describe(bounds)}")
    map_eta = getattr(F, "eta", None) if not isinstance(F, (list, tuple)) else None
    if eta is None:
        if map_eta is None:
            raise ValueError(f"{func}: eta is required when F is a sequence of coefficients (F0 = -eta * gradient "
                             "does not tell eta apart from the gradient)")
        eta = map_eta
    eta = check_positive(eta, "eta", func=func)
    if map_eta is not None and not math.isclose(eta, float(map_eta), rel_tol=1e-12):
        raise ValueError(f"{func}: eta = {eta!r} contradicts the map's eta = {map_eta!r}")
    steps = check_int(steps, "steps", func=func, minimum=1)
    _, _, mats = as_coefficients(F, func=func, name="F", max_degree=max(DEGREES))
    q = len(mats)
    if bounds.order != q:
        raise ValueError(f"{func}: bounds.order = {bounds.order} but F has degree q = {q}; the remainder bound must "
                         f"be of the order-{q + 2} derivative (build the bounds with degree={q})")
    R = polynomial_radius_bound(F, steps)
    lam = 1.0 + eta * bounds.hessian
    scale = eta * bounds.remainder / math.factorial(q + 1)
    e = np.zeros(steps + 1)
    a = np.zeros(steps + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            # (0 * inf terms are 0: an exact map, or a ball with unbounded G, H but e_t = 0)
            recursion = (lam * e[t] if e[t] else 0.0) + (scale * R[t] ** (q + 1) if scale else 0.0)
            e[t + 1] = min(recursion, a[t] + eta * bounds.gradient + R[t + 1])
            a[t + 1] = min(a[t] + eta * bounds.gradient, R[t + 1] + e[t + 1])
    needed = float(np.max(np.maximum(a[:-1], R[:-1])))
    # on a ball of infinite radius every point is covered: only e must stay finite
    finite = bool(np.all(np.isfinite(e)) and (np.isfinite(needed) or bounds.radius == math.inf))
    if not finite:
        success, message = False, (f"{func}: a bound overflows (R_T = {R[-1]:.4g}, e_T = {e[-1]:.4g}): no finite "
                                   "bound is proven; fewer steps or a smaller eta")
    elif needed > bounds.radius:
        success, message = False, (f"{func}: the derivative bounds hold on a ball of radius {bounds.radius:.4g}, but "
                                   f"the trajectories may reach {needed:.4g} from theta0: rebuild the bounds with "
                                   f"radius >= {needed:.4g}")
    else:
        success, message = True, (f"a priori bound after {steps} steps, derivative bounds on a ball of radius "
                                  f"{bounds.radius:.4g} >= the {needed:.4g} needed")
    return TaylorErrorBound(
        bound=float(e[-1]) if success else math.inf, per_step=e, radius_bound=R, displacement_bound=a,
        needed_radius=needed, lipschitz=lam, bounds=bounds, eta=eta, steps=steps, degree=q, success=success,
        message=message)
