r"""A priori bounds on the derivatives of a loss over a ball, for the Taylor error of Eq. 4 of [1]_.

The polynomial map of :func:`qsgd.gd.polynomial_map` truncates the gradient's Taylor series at
order :math:`q`. How far its iterates drift from exact gradient descent can be bounded *before*
the run (:func:`qsgd.gd.taylor_error_bound`) from three numbers valid on a ball
:math:`B(\theta_0,\rho)` that contains both trajectories:

.. math::

    G \ge \sup_B\lVert\nabla\mathcal L\rVert,\qquad
    H \ge \sup_B\lVert\nabla^2\mathcal L\rVert_2,\qquad
    M \ge \sup_B\lVert D^{q+2}\mathcal L\rVert,

the last one the operator norm of the :math:`(q+2)`-th derivative tensor (that of
:math:`D^{q+1}\nabla\mathcal L`) as a multilinear map, :math:`\lVert A\rVert=
\sup_{\lVert h_i\rVert=1}|A[h_1,\dots,h_m]|`. For a *symmetric* tensor on a Euclidean space
this supremum is attained on the diagonal, :math:`\lVert A\rVert=\sup_{\lVert h\rVert=1}
|A[h,\dots,h]|` (Banach [2]_), and it never exceeds the Frobenius norm (Cauchy-Schwarz).
:class:`DerivativeBounds` carries the three numbers and says where they come from. There is no
a priori bound for an arbitrary torch loss; two families have one:

* **Polynomial losses** (:func:`polynomial_loss_bounds`), :math:`\mathcal L(\theta)=
  \sum_k\langle A_k,\theta^{\otimes k}\rangle`. The derivatives at :math:`\theta_0` are exact
  (contractions of the symmetrized :math:`A_k`) and the Taylor series of :math:`D^m\mathcal L`
  around :math:`\theta_0` terminates, so
  :math:`\sup_B\lVert D^m\mathcal L\rVert\le\sum_{j\ge0}\lVert D^{m+j}\mathcal L(\theta_0)\rVert
  \rho^j/j!` with the exact norm for :math:`m+j\le2` and the Frobenius norm above. For a loss of
  degree :math:`\le q+1` the remainder bound is exactly 0.

* **The book's tanh networks** (:func:`tanh_mlp_bounds`): a one-hidden-layer tanh MLP
  (:func:`qsgd.nn.mlp`) with mean softmax cross-entropy, whose free parameters are
  first-layer weights (and biases). Per sample the pre-activations :math:`z=A\theta+c` are
  affine in :math:`\theta`, so :math:`\lVert D^m_\theta\ell\rVert\le\lVert A\rVert^m\,\Phi_m`,
  :math:`\Phi_m=\sup_z\lVert D^m\varphi(z)\rVert`,
  :math:`\varphi(z)=\mathrm{CE}(W_2\tanh z+b_2,y)`. Faà di Bruno's formula for
  :math:`\varphi=g\circ\tanh` with the elementwise tanh (whose :math:`j`-th derivative is the
  diagonal tensor :math:`\tanh^{(j)}(z)`, of norm :math:`\le T_j=\sup|\tanh^{(j)}|`) and
  :math:`g(s)=\mathrm{CE}(W_2s+b_2)` (:math:`\lVert D^pg\rVert\le C_p\lVert W_2\rVert_2^p`) gives

  .. math::

      \Phi_m\le\sum_{p=1}^{m}C_p\,\lVert W_2\rVert_2^p\,B_{m,p}(T_1,T_2,\dots,T_{m-p+1}),

  :math:`B_{m,p}` the partial Bell polynomials (Faà di Bruno [3]_, Comtet [4]_ §3.3). The
  :math:`C_p` bound the derivatives of log-sum-exp: :math:`D^p\,\mathrm{LSE}(o)[h,\dots,h]` is the
  :math:`p`-th cumulant of :math:`h_Y`, :math:`Y\sim\mathrm{softmax}(o)`, a variable whose range
  is at most :math:`w=\sqrt2` for a unit :math:`h`; Popoviciu's inequality
  :math:`\mu_2\le w^2/4`, :math:`|X-\mathbb EX|\le w` and the cumulant-moment relations
  :math:`\kappa_3=\mu_3`, :math:`\kappa_4=\mu_4-3\mu_2^2`, :math:`\kappa_5=\mu_5-10\mu_3\mu_2`
  give :data:`LSE_DERIVATIVE_SUP`. The :math:`T_j` are maxima of the polynomials
  :math:`P_j(t)` with :math:`\tanh^{(j)}=P_j(\tanh)`, :math:`P_{j+1}=(1-t^2)P_j'`, over
  :math:`[-1,1]`, computed from their critical points (:data:`TANH_DERIVATIVE_SUP`). These bounds
  hold for every :math:`\theta`: the radius is infinite.

Symbols: ``n`` free parameters, ``q = degree`` the degree of the map, ``rho = radius``.

References
----------
.. [1] J. Liu, M. Liu, J.-P. Liu, Z. Ye, Y. Wang, Y. Alexeev, J. Eisert, L. Jiang,
   "Towards provably efficient quantum algorithms for large-scale machine-learning models",
   Nat. Commun. 15, 434 (2024), Eqs. 3-4.
.. [2] S. Banach, "Über homogene Polynome in (L²)", Studia Math. 7, 36-44 (1938): the norm of a
   symmetric multilinear form on a Hilbert space equals that of its diagonal.
.. [3] W. P. Johnson, "The curious history of Faà di Bruno's formula", Amer. Math. Monthly 109,
   217-234 (2002).
.. [4] L. Comtet, *Advanced Combinatorics*, Reidel (1974), §3.3 (partial Bell polynomials).

Used in chapter 8 (the a priori Taylor error of a quantum segment).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from qsgd._validation import as_vector, check_int, check_memory, describe

__all__ = [
    "DerivativeBounds",
    "LSE_DERIVATIVE_SUP",
    "TANH_DERIVATIVE_SUP",
    "polynomial_loss",
    "polynomial_loss_bounds",
    "tanh_mlp_bounds",
]

#: degrees q of the polynomial map that the bounds serve (as :data:`qsgd.gd.DEGREES`)
_DEGREES = (1, 2, 3)
#: the highest derivative order any bound here needs: q + 2 for q = 3
_MAX_ORDER = max(_DEGREES) + 2
#: relative margin added to constants computed in floating point
_MARGIN = 1e-12


def _tanh_polynomials(kmax: int) -> list[np.polynomial.Polynomial]:
    r""":math:`P_0..P_{kmax}` with :math:`\tanh^{(j)}(x) = P_j(\tanh x)`, :math:`P_{j+1} = (1-t^2)P_j'`."""
    P = np.polynomial.Polynomial
    out = [P([0.0, 1.0])]
    for _ in range(kmax):
        out.append(P([1.0, 0.0, -1.0]) * out[-1].deriv())
    return out


def _sup_on_interval(poly: np.polynomial.Polynomial) -> float:
    """max |poly(t)| over [-1, 1] from its critical points and the end points."""
    roots = poly.deriv().roots()
    real = roots[np.abs(roots.imag) <= 1e-9].real
    candidates = np.concatenate([[-1.0, 1.0], real[(real >= -1.0) & (real <= 1.0)]])
    return float(np.max(np.abs(poly(candidates))))


#: :math:`T_j = \sup_x|\tanh^{(j)}(x)|`, j = 0..5: 1, 1, 4/(3√3) = 0.7698, 2, 4.0859, 16
#: (maxima of the polynomials :math:`P_j` over [-1, 1], with a relative margin of 1e-12)
TANH_DERIVATIVE_SUP: tuple = tuple(_sup_on_interval(p) * (1 + _MARGIN) for p in _tanh_polynomials(_MAX_ORDER))

#: :math:`C_p \ge \sup_o\lVert D^p\,\mathrm{CE}(o, y)\rVert` over logits o and labels y, p = 1..5 (index 0
#: unused): √2 (the gradient softmax − e_y), then the cumulant bounds w²/4, w³/4, w⁴/8, 7w⁵/8 at
#: w = √2 (range of h_Y for a unit h): 1/2, √2/2, 1/2, 7√2/2
LSE_DERIVATIVE_SUP: tuple = (0.0, math.sqrt(2.0), 0.5, math.sqrt(2.0) / 2, 0.5, 7 * math.sqrt(2.0) / 2)


def _partial_bell(m: int, p: int, x) -> float:
    r"""Partial Bell polynomial :math:`B_{m,p}(x_1, x_2, \dots)` (``x[j]`` is :math:`x_j`)."""
    table = {(0, 0): 1.0}

    def bell(a: int, b: int) -> float:
        if (a, b) in table:
            return table[(a, b)]
        if a == 0 or b == 0 or b > a:
            return 0.0
        value = sum(math.comb(a - 1, i - 1) * x[i] * bell(a - i, b - 1) for i in range(1, a - b + 2))
        table[(a, b)] = value
        return value

    return bell(m, p)


def _composition_bound(m: int, w2_norm: float) -> float:
    r""":math:`\Phi_m\ge\sup_z\lVert D^m_z\,\mathrm{CE}(W_2\tanh z+b_2)\rVert` by Faà di Bruno."""
    return sum(LSE_DERIVATIVE_SUP[p] * w2_norm**p * _partial_bell(m, p, TANH_DERIVATIVE_SUP) for p in range(1, m + 1))


@dataclass(frozen=True)
class DerivativeBounds:
    r"""Bounds on the derivatives of a loss over the ball :math:`B(\theta_0, \rho)`.

    Attributes
    ----------
    radius : float
        :math:`\rho > 0` (``inf`` for bounds that hold everywhere).
    gradient : float
        :math:`G \ge \sup_B \lVert\nabla\mathcal L\rVert`.
    hessian : float
        :math:`H \ge \sup_B \lVert\nabla^2\mathcal L\rVert_2`.
    remainder : float
        :math:`M \ge \sup_B \lVert D^{q+2}\mathcal L\rVert` (operator norm of the multilinear map,
        i.e. of :math:`D^{q+1}\nabla\mathcal L`): what the Taylor remainder of a degree-q map needs.
    order : int
        The degree q of the map that ``remainder`` serves (1, 2 or 3).
    source : str
        How the numbers were obtained.
    """

    radius: float
    gradient: float
    hessian: float
    remainder: float
    order: int
    source: str

    def __post_init__(self):
        func = "DerivativeBounds"
        radius = self.radius
        if isinstance(radius, bool) or not isinstance(radius, (int, float, np.floating, np.integer)) \
                or math.isnan(radius) or radius <= 0:
            raise ValueError(f"{func}: radius must be a number > 0 (inf allowed), got {describe(radius)}")
        for name in ("gradient", "hessian", "remainder"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
                    or math.isnan(value) or value < 0:
                raise ValueError(f"{func}: {name} must be a number >= 0, got {describe(value)}")
            object.__setattr__(self, name, float(value))
        object.__setattr__(self, "radius", float(radius))
        check_int(self.order, "order", func=func, minimum=min(_DEGREES), maximum=max(_DEGREES))
        if not isinstance(self.source, str):
            raise ValueError(f"{func}: source must be a str, got {describe(self.source)}")


# ----------------------------------------------------------------------------------------
# polynomial losses
# ----------------------------------------------------------------------------------------


def _symmetrize(a: np.ndarray) -> np.ndarray:
    if a.ndim < 2:
        return a
    perms = list(itertools.permutations(range(a.ndim)))
    return sum(np.transpose(a, p) for p in perms) / len(perms)


def _as_tensors(coefficient_tensors, func: str) -> tuple[int, list]:
    """The monomial tensors A_0..A_d as float arrays of shapes (), (n,), (n, n), ...; None is zero."""
    if isinstance(coefficient_tensors, (np.ndarray, str, bytes, dict)) or \
            not isinstance(coefficient_tensors, (list, tuple)) or len(coefficient_tensors) == 0:
        raise ValueError(f"{func}: coefficient_tensors must be a non-empty list [A_0, A_1, ..., A_d] with A_k of "
                         f"shape (n,) * k (None for zero), got {describe(coefficient_tensors)}")
    if len(coefficient_tensors) - 1 > 8:
        raise ValueError(f"{func}: coefficient_tensors has degree {len(coefficient_tensors) - 1}; at most 8 is "
                         "supported")
    n = None
    for k, a in enumerate(coefficient_tensors):
        if a is not None and k >= 1:
            n = int(np.shape(a)[0]) if np.ndim(a) >= 1 else None
            break
    if n is None or n == 0:
        raise ValueError(f"{func}: coefficient_tensors must hold at least one non-None tensor of degree >= 1 "
                         "(the number of parameters n is read from it)")
    out = []
    for k, a in enumerate(coefficient_tensors):
        if a is None:
            out.append(np.zeros((n,) * k))
            continue
        check_memory(8.0 * n**k, what=f"A_{k} (n = {n})", max_bytes=None, func=func)
        try:
            arr = np.asarray(a.detach().cpu().numpy() if hasattr(a, "detach") else a, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{func}: coefficient_tensors[{k}] must be a real array, got {describe(a)}") from exc
        if arr.shape != (n,) * k:
            raise ValueError(f"{func}: coefficient_tensors[{k}] must have shape {(n,) * k} (degree {k}, n = {n}), "
                             f"got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{func}: coefficient_tensors[{k}] has non-finite entries")
        out.append(_symmetrize(arr))
    return n, out


def polynomial_loss(coefficient_tensors):
    r"""The torch loss :math:`\mathcal L(\theta)=\sum_k\langle A_k,\theta^{\otimes k}\rangle` of monomial tensors.

    The loss that :func:`polynomial_loss_bounds` bounds, as a callable for
    :func:`qsgd.gd.polynomial_map` and :func:`qsgd.gd.gradient_descent`.

    Parameters
    ----------
    coefficient_tensors : sequence
        ``[A_0, A_1, ..., A_d]``, ``A_k`` of shape ``(n,) * k`` (``None`` for zero); only the
        symmetric part of each counts.

    Returns
    -------
    callable
        ``loss(theta)`` of a 1-D float64 torch tensor of length n, a 0-d tensor.

    Raises
    ------
    ValueError
        Tensors of inconsistent shapes, non-finite entries, no tensor of degree >= 1.

    Examples
    --------
    >>> import torch
    >>> loss = polynomial_loss([1.0, None, [[2.0]]])
    >>> float(loss(torch.tensor([3.0], dtype=torch.float64)))
    19.0

    Used in chapter 8 and the tests of :func:`qsgd.gd.taylor_error_bound`.
    """
    import torch

    n, tensors = _as_tensors(coefficient_tensors, "polynomial_loss")
    held = [torch.as_tensor(a, dtype=torch.float64) for a in tensors]

    def loss(theta):
        total = held[0].reshape(()).to(theta.dtype)
        for a in held[1:]:
            t = a.to(theta.dtype)
            while t.ndim:
                t = t @ theta if t.ndim == 1 else torch.tensordot(t, theta, dims=([t.ndim - 1], [0]))
            total = total + t
        return total

    return loss


def _operator_norm_bound(d: np.ndarray) -> float:
    """Exact norm for a vector or matrix, Frobenius (an upper bound on the operator norm) above."""
    if d.ndim == 0:
        return abs(float(d))
    if d.ndim == 1:
        return float(np.linalg.norm(d))
    if d.ndim == 2:
        return float(np.linalg.norm(d, 2))
    return float(np.linalg.norm(d.reshape(-1)))


def polynomial_loss_bounds(coefficient_tensors, theta0, *, radius, degree) -> DerivativeBounds:
    r"""Derivative bounds of a polynomial loss over :math:`B(\theta_0, \rho)`, exact up to tensor norms.

    For :math:`\mathcal L(\theta)=\sum_{k=0}^{d}\langle A_k,\theta^{\otimes k}\rangle` the
    derivatives at :math:`\theta_0` are :math:`D^p\mathcal L(\theta_0)=\sum_{k\ge p}
    \tfrac{k!}{(k-p)!}\,S_k[\theta_0^{\otimes(k-p)},\cdot]` (:math:`S_k` the symmetrization of
    :math:`A_k`), and the Taylor series of :math:`D^m\mathcal L` terminates, so for
    :math:`\lVert w\rVert\le\rho`

    .. math::

        \lVert D^m\mathcal L(\theta_0+w)\rVert\le\sum_{j=0}^{d-m}
        \frac{\rho^j}{j!}\,\lVert D^{m+j}\mathcal L(\theta_0)\rVert,

    with the exact 2-norm for orders 1 and 2 and the Frobenius norm (an upper bound on the
    operator norm) for orders 3 and up. The gradient, Hessian and order-``degree + 2`` bounds are
    this sum for m = 1, 2 and q + 2; the last is exactly 0 when :math:`d\le q+1`.

    Parameters
    ----------
    coefficient_tensors : sequence
        ``[A_0, A_1, ..., A_d]``, ``A_k`` of shape ``(n,) * k`` (``None`` for zero), as for
        :func:`polynomial_loss`.
    theta0 : array_like, shape (n,)
        Centre of the ball (the expansion point of the map).
    radius : float
        :math:`\rho > 0`; ``inf`` is accepted (then every bound with a non-zero higher tensor is
        ``inf``).
    degree : {1, 2, 3}
        Degree q of the map that the remainder bound serves.

    Returns
    -------
    DerivativeBounds

    Raises
    ------
    ValueError
        Bad tensors (see :func:`polynomial_loss`), ``theta0`` of the wrong length, ``radius <= 0``,
        ``degree`` outside 1..3.

    Examples
    --------
    >>> b = polynomial_loss_bounds([0.0, None, None, None, [[[[1.0]]]]], [1.0], radius=0.5, degree=2)
    >>> b.remainder, b.hessian  # L = th^4: L'''' = 24; L'' = 12 th^2 <= 12 * 1.5^2
    (24.0, 27.0)

    Used in chapter 8 and the tests of :func:`qsgd.gd.taylor_error_bound`.
    """
    func = "polynomial_loss_bounds"
    n, tensors = _as_tensors(coefficient_tensors, func)
    theta0 = as_vector(theta0, "theta0", func=func, size=n)
    if isinstance(radius, bool) or not isinstance(radius, (int, float, np.floating, np.integer)) \
            or math.isnan(radius) or radius <= 0:
        raise ValueError(f"{func}: radius must be a number > 0 (inf allowed), got {describe(radius)}")
    radius = float(radius)
    degree = check_int(degree, "degree", func=func, minimum=min(_DEGREES), maximum=max(_DEGREES))
    d = len(tensors) - 1
    # D^p L(theta0) for p = 0..d
    derivs = []
    for p in range(d + 1):
        total = np.zeros((n,) * p)
        for k in range(p, d + 1):
            t = tensors[k]
            for _ in range(k - p):
                t = np.tensordot(theta0, t, axes=([0], [0]))
            total = total + math.factorial(k) / math.factorial(k - p) * t
        derivs.append(total)
    norms = [_operator_norm_bound(t) for t in derivs]

    def sup(m: int) -> float:
        value = 0.0
        for j in range(0, d - m + 1):
            if norms[m + j] == 0.0:
                continue
            with np.errstate(over="ignore"):
                power = float(np.float64(radius) ** j) if j else 1.0
            value += norms[m + j] * power / math.factorial(j)
        return value

    return DerivativeBounds(
        radius=radius, gradient=sup(1), hessian=sup(2), remainder=sup(degree + 2), order=degree,
        source=(f"polynomial loss of degree {d}: exact derivatives at theta0, terminating Taylor series over the "
                f"ball (2-norm for orders 1-2, Frobenius norm above)"),
    )


# ----------------------------------------------------------------------------------------
# one-hidden-layer tanh networks with cross-entropy
# ----------------------------------------------------------------------------------------


def _free_entries(mask, name: str, param, func: str):
    """Bool array of the free entries of a parameter under model_loss's mask convention."""
    import torch

    if mask is None or name not in mask:
        return np.ones(tuple(param.shape), dtype=bool)
    m = mask[name]
    if not isinstance(m, torch.Tensor) or tuple(m.shape) != tuple(param.shape):
        raise ValueError(f"{func}: mask[{name!r}] must be a bool tensor of shape {tuple(param.shape)}, "
                         f"got {describe(m)}")
    return m.detach().cpu().numpy().astype(bool)


def tanh_mlp_bounds(model, inputs, targets, *, mask=None, degree=2) -> DerivativeBounds:
    r"""Global derivative bounds for a one-hidden-layer tanh MLP with mean cross-entropy.

    The loss is that of :func:`qsgd.gd.model_loss` with its default loss function:
    :math:`\mathcal L(\theta)=\tfrac1N\sum_i\mathrm{CE}(W_2\tanh(W_1x_i+b_1)+b_2,\,y_i)`, the free
    parameters :math:`\theta` being the entries of :math:`W_1` (and :math:`b_1`) that ``mask``
    leaves free. The analytic constants cover **free first-layer weights and biases only**: the
    second layer must be frozen entirely (as in chapter 8).

    Per sample the pre-activations are affine in :math:`\theta`, :math:`z=A_i\theta+c_i`, with
    :math:`\partial z_k/\partial\theta_{kj}=x_{ij}` (1 for a bias), so
    :math:`\lVert A_i\rVert_2=\max_k\lVert x_i\ \text{restricted to the free entries of row}\ k\rVert`
    and :math:`\lVert D^m_\theta\ell_i\rVert\le\lVert A_i\rVert^m\,\Phi_m`, with :math:`\Phi_m`
    the Faà di Bruno bound of the module docstring on the m-th derivative of
    :math:`z\mapsto\mathrm{CE}(W_2\tanh z+b_2,y)` (constants :data:`TANH_DERIVATIVE_SUP`,
    :data:`LSE_DERIVATIVE_SUP`). Averaging over the data:

    .. math::

        G=\Phi_1\,\overline{\lVert A\rVert},\qquad H=\Phi_2\,\overline{\lVert A\rVert^2},\qquad
        M=\Phi_{q+2}\,\overline{\lVert A\rVert^{q+2}}.

    The bounds hold for every :math:`\theta` (tanh and the cross-entropy have globally bounded
    derivatives): ``radius`` is ``inf``. They do not depend on ``targets`` (the bound on the
    cross-entropy's derivatives holds for every label); the targets are checked only for shape.

    Parameters
    ----------
    model : torch.nn.Sequential
        ``Linear(d, h), Tanh(), Linear(h, c)``, as :func:`qsgd.nn.mlp` with ``activation="tanh"``
        builds it.
    inputs : torch.Tensor, shape (N, d)
        The whole training batch.
    targets : torch.Tensor, shape (N,)
        Class labels.
    mask : dict of str -> bool tensor, optional
        As for :func:`qsgd.gd.model_loss`: ``True`` where an entry is free; parameters not named are
        entirely free (so the second layer must be named, all ``False``).
    degree : {1, 2, 3}
        Degree q of the map that the remainder bound serves.

    Returns
    -------
    DerivativeBounds
        With ``radius = inf``.

    Raises
    ------
    ValueError
        A model of another architecture or activation, free second-layer parameters, no free
        parameter, inputs and targets of different lengths or non-finite inputs, ``degree``
        outside 1..3.

    Used in chapter 8.
    """
    import torch

    func = "tanh_mlp_bounds"
    degree = check_int(degree, "degree", func=func, minimum=min(_DEGREES), maximum=max(_DEGREES))
    layers = list(model) if isinstance(model, torch.nn.Sequential) else None
    if layers is None or len(layers) != 3 or not isinstance(layers[0], torch.nn.Linear) \
            or not isinstance(layers[1], torch.nn.Tanh) or not isinstance(layers[2], torch.nn.Linear):
        raise ValueError(f"{func}: model must be Sequential(Linear, Tanh, Linear), a one-hidden-layer tanh MLP "
                         f"(qsgd.nn.mlp([d, h, c])), got {describe(model)}"
                         + (f" with layers {[type(m).__name__ for m in layers]}" if layers is not None else ""))
    if mask is not None and not isinstance(mask, dict):
        raise ValueError(f"{func}: mask must be a dict of parameter name -> bool tensor, got {describe(mask)}")
    if not isinstance(inputs, torch.Tensor) or not isinstance(targets, torch.Tensor):
        raise ValueError(f"{func}: inputs and targets must be torch tensors, got {describe(inputs)}, "
                         f"{describe(targets)}")
    first, second = layers[0], layers[2]
    if inputs.ndim != 2 or inputs.shape[1] != first.in_features or inputs.shape[0] == 0:
        raise ValueError(f"{func}: inputs must have shape (N, {first.in_features}) with N >= 1, got "
                         f"{tuple(inputs.shape)}")
    if targets.shape[:1] != inputs.shape[:1]:
        raise ValueError(f"{func}: inputs and targets must have the same length, got {inputs.shape[0]} and "
                         f"{targets.shape[0] if targets.ndim else 'a scalar'}")
    x = inputs.detach().to(torch.float64).cpu().numpy()
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{func}: inputs has non-finite entries")
    names = {id(p): name for name, p in model.named_parameters()}
    for p in second.parameters():
        free = _free_entries(mask, names[id(p)], p, func)
        if free.any():
            raise ValueError(
                f"{func}: mask leaves {int(free.sum())} entries of {names[id(p)]!r} free; the analytic constants "
                "cover free first-layer weights and biases only (name the second-layer parameters in mask, all "
                "False), or use qsgd.gd.taylor_error_estimate")
    w_free = _free_entries(mask, names[id(first.weight)], first.weight, func)
    b_free = (_free_entries(mask, names[id(first.bias)], first.bias, func) if first.bias is not None
              else np.zeros(first.out_features, dtype=bool))
    if not (w_free.any() or b_free.any()):
        raise ValueError(f"{func}: the mask leaves no free first-layer parameter")
    # ||A_i|| = max_k sqrt(sum_{j free in row k} x_ij^2 + [b_k free])
    row_sq = (x**2) @ w_free.T.astype(float) + b_free.astype(float)  # (N, h)
    a_norm = np.sqrt(np.max(row_sq, axis=1))
    w2 = float(np.linalg.norm(second.weight.detach().to(torch.float64).cpu().numpy(), 2))
    phi = {m: _composition_bound(m, w2) for m in (1, 2, degree + 2)}
    n_free = int(w_free.sum() + b_free.sum())
    return DerivativeBounds(
        radius=math.inf,
        gradient=phi[1] * float(np.mean(a_norm)),
        hessian=phi[2] * float(np.mean(a_norm**2)),
        remainder=phi[degree + 2] * float(np.mean(a_norm ** (degree + 2))),
        order=degree,
        source=(f"tanh MLP {first.in_features}-{first.out_features}-{second.out_features}, {n_free} free first-layer "
                f"parameters, cross-entropy: Faa di Bruno with sup|tanh^(j)| and log-sum-exp cumulant bounds, "
                f"||W2||_2 = {w2:.4g}, global (radius inf)"),
    )
