r"""One quantum training segment, end to end, and the alternating training protocol.

A *segment* is the whole algorithm of [1]_ (its Fig. 1 and Eqs. 3-6) run once: :math:`T`
gradient-descent steps from the current weights :math:`\theta_0`, computed by a quantum
linear-system solver instead of :math:`T` gradient evaluations. Every stage calls the module of
the chapter that builds it:

1. **Polynomial map** (:func:`qsgd.gd.polynomial_map`). The GD step
   :math:`\theta\mapsto\theta-\eta\nabla\mathcal L(\theta)` is Taylor-expanded around
   :math:`\theta_0`. In the shifted coordinates :math:`u=\theta-\theta_0` it reads
   :math:`u_{t+1}=u_t+\sum_{\ell=0}^{q}F_\ell u_t^{\otimes\ell}` (Eq. 4 of [1]_) with
   :math:`F_0=-\eta\nabla\mathcal L(\theta_0)`, :math:`F_1=-\eta\nabla^2\mathcal L(\theta_0)`, ...
2. **Discrete Carleman lifting** (:func:`qsgd.carleman.discrete_carleman`):
   :math:`\hat y_{t+1}=C\hat y_t+b` for :math:`\hat y=[u;u^{\otimes2};\dots;u^{\otimes N}]`
   (Eq. 5), with :math:`b_j=F_0^{\otimes j}` (or its monomials).
3. **The** :math:`T` **-step system** (:func:`qsgd.history.history_system`, Eq. 6):
   :math:`L\,Y=\mathrm{rhs}` with :math:`Y=[\hat y_0;\dots;\hat y_T;\hat y_T;\dots]` (``padding``
   extra copies of the last step).
4. **Upload** of the right-hand side (:func:`qsgd.upload.sparse_state_preparation`).
5. **HHL** on qiskit-aer (:func:`qsgd.hhl.hhl_solve`): the normalized history state
   :math:`|Y\rangle`.
6. **Postselection** of the first Carleman level at the last step (and at the first step,
   see below).
7. **Tomography** (:func:`qsgd.tomography.vector_tomography`) of the postselected state.
8. **Norm recovery**: the new weights :math:`\theta=\theta_0+u_T`.

**Why the lifted initial state is zero, and what drives the system.** Expanding around the
current weights makes :math:`u_0=0`, so :math:`\hat y_0=\mathrm{lift}(0)=0` and the first block
of the right-hand side of Eq. 6 vanishes. The dynamics is driven entirely by the constant term
:math:`F_0=-\eta\nabla\mathcal L(\theta_0)\neq0`:
:math:`\mathrm{rhs}=[0;\,b;\,b;\dots;b;\,0;\dots;0]` (``padding`` zero blocks), i.e. the
uniform superposition of the time steps :math:`1..T` times :math:`|b\rangle`. This is the
vector that is uploaded; the weights :math:`\theta_0` themselves enter through the
coefficients :math:`F_\ell`, which are evaluated at :math:`\theta_0`. (Lifting
:math:`\theta_0` directly would need the expansion point at the origin, where the Taylor series
of a network's loss is useless.) A side benefit: every error below is an error on the
*displacement* :math:`u_T`, which is small, not on :math:`\theta_0`.

**Read-out with an anchor.** Tomography returns a direction. Since :math:`\hat y_0=0`, the
first step is known exactly: :math:`\hat y_1=b`, whose first level is :math:`F_0`. The read-out
postselects the first level of *both* step 1 (the anchor :math:`a\propto F_0`) and step
:math:`T` (and its padding copies, :math:`c\propto u_T`): a projective measurement onto the
span of those :math:`(2+p)\,n` basis states. Tomography of that state gives
:math:`(\hat a,\hat c)` and

.. math::

    \hat u_T = \operatorname{sign}\langle\hat a,F_0\rangle\,\frac{\lVert F_0\rVert}{\lVert\hat a\rVert}\,\hat c,

which fixes the global sign and the length without the HHL constant :math:`C` (whose
phase-estimation bias enters the route of :func:`qsgd.tomography.recover_norm`). If the
estimate is within :math:`\delta` of the exact unit vector (:math:`\delta<\lVert a\rVert`), then
(:func:`readout_error_bound`)

.. math::

    \lVert\hat u_T-u_T\rVert\le\frac{\lVert F_0\rVert}{\lVert a\rVert-\delta}\,\delta\,
    \sqrt{\tfrac{1}{p+1}+\frac{\lVert c\rVert^2}{\lVert a\rVert^2}} .

**Error budget.** With :math:`\theta_{\rm GD}` exact gradient descent,
:math:`\theta_{\rm poly}` the polynomial map iterated, :math:`\theta_{\rm Carl}` the exact
solution of Eq. 6, :math:`\theta_{\rm HHL}` the read-out of the exact HHL output state and
:math:`\theta` the downloaded weights, the error telescopes into four terms, each with a bound
derived from its own mechanism:

=============  =====================================  ==========================================
term           difference                             bound (knob)
=============  =====================================  ==========================================
Taylor         :math:`\theta_{\rm poly}-\theta_{\rm GD}`   one-step remainders propagated with the
                                                       Lipschitz constant of the map (``degree``)
truncation     :math:`\theta_{\rm Carl}-\theta_{\rm poly}` the Carleman tail: residuals of the levels
                                                       above :math:`N` propagated by :math:`C`
                                                       (``order``)
HHL            :math:`\theta_{\rm HHL}-\theta_{\rm Carl}`  phase-estimation response, :math:`\propto
                                                       \kappa\,2^{-c}` (``clock_qubits``)
tomography     :math:`\theta-\theta_{\rm HHL}`             :math:`\sqrt{\chi^2_{s-1}(0.999)/(4\,
                                                       \mathrm{shots})}` (``shots``)
=============  =====================================  ==========================================

Symbols: ``n`` free weights, ``T = steps``, ``eta``, ``N = order``, ``q = degree``, ``p =
padding``, ``c = clock_qubits``, :math:`\kappa` the condition number of :math:`L`, ``shots``.

References
----------
.. [1] J. Liu, M. Liu, J.-P. Liu, Z. Ye, Y. Wang, Y. Alexeev, J. Eisert, L. Jiang, "Towards
   provably efficient quantum algorithms for large-scale machine-learning models",
   Nat. Commun. 15, 434 (2024), Fig. 1, Eqs. 3-6 and the download/re-upload protocol of Fig. 2.
.. [2] A. W. Harrow, A. Hassidim, S. Lloyd, "Quantum algorithm for linear systems of
   equations", Phys. Rev. Lett. 103, 150502 (2009).
.. [3] I. Kerenidis, A. Prakash, "A quantum interior point method for LPs and SDPs",
   ACM Trans. Quantum Comput. 1, 5 (2020), Sec. 4.
.. [4] J.-P. Liu, H. Ø. Kolden, H. K. Krovi, N. F. Loureiro, K. Trivisa, A. M. Childs,
   "Efficient quantum algorithm for dissipative nonlinear differential equations",
   PNAS 118, e2026805118 (2021).

Used in chapter 8 ({doc}`08_pipeline`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from qsgd._validation import (
    as_rng,
    as_vector,
    check_choice,
    check_int,
    check_positive,
    describe,
)

__all__ = [
    "NonDissipativeWarning",
    "DEFAULT_MAX_QUBITS",
    "PHASE_HEADROOM",
    "INVERSION_MARGIN",
    "CONFIDENCE",
    "QubitCount",
    "segment_qubits",
    "hhl_parameters",
    "hhl_response",
    "hhl_error_bound",
    "tomography_error_bound",
    "readout_weights",
    "readout_error_bound",
    "SegmentReport",
    "SegmentStages",
    "SegmentResult",
    "quantum_gd",
    "TrainingRun",
    "quantum_training",
]

#: largest circuit quantum_gd simulates by default (a 2^16 statevector; the dense controlled
#: unitaries of phase estimation grow like 4^(system qubits))
DEFAULT_MAX_QUBITS = 16

#: phase at which the largest singular value sits on the clock (the wrap-around point is 1/2)
PHASE_HEADROOM = 3 / 8

#: the reciprocal rotation is full at clock bin floor(k_min / INVERSION_MARGIN)
INVERSION_MARGIN = 2

#: confidence level of the tomography bound
CONFIDENCE = 0.999

_TERMS = ("taylor", "truncation", "hhl", "tomography")


class NonDissipativeWarning(UserWarning):
    """The segment's linear part has a growing mode: the error bounds and kappa grow with T."""


# ----------------------------------------------------------------------------------------
# sizes
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QubitCount:
    """Registers of the simulated HHL circuit of one segment.

    Attributes
    ----------
    lifted_dimension : int
        ``D``, unknowns of one Carleman-lifted step.
    history_dimension : int
        ``m = (T + 1 + p) D``, the size of the Eq. 6 system.
    system_qubits : int
        ``ceil(log2 m)`` plus one qubit for the Hermitian dilation of the non-symmetric ``L``.
    clock_qubits, flag_qubits : int
        Phase-estimation register and the reciprocal-rotation flag.
    total : int
        All qubits of the circuit.
    """

    lifted_dimension: int
    history_dimension: int
    system_qubits: int
    clock_qubits: int
    flag_qubits: int
    total: int


def segment_qubits(n, *, order, steps, clock_qubits, padding=0, basis="symmetric") -> QubitCount:
    """Qubits the HHL circuit of one segment needs (same layout as :func:`qsgd.hhl.hhl_circuit`).

    Parameters
    ----------
    n : int
        Free weights.
    order, steps, clock_qubits, padding : int
        ``N``, ``T``, ``c`` and ``p``.
    basis : {"symmetric", "kronecker"}

    Returns
    -------
    QubitCount

    Examples
    --------
    >>> segment_qubits(3, order=2, steps=3, clock_qubits=6).total
    14

    Used in chapter 8.
    """
    from qsgd.carleman import lifted_dimension

    func = "segment_qubits"
    n = check_int(n, "n", func=func, minimum=1)
    order = check_int(order, "order", func=func, minimum=1)
    steps = check_int(steps, "steps", func=func, minimum=1)
    clock = check_int(clock_qubits, "clock_qubits", func=func, minimum=2)
    padding = check_int(padding, "padding", func=func, minimum=0)
    D = lifted_dimension(n, order, basis=basis)
    m = (steps + 1 + padding) * D
    system = max(1, math.ceil(math.log2(m))) + 1
    return QubitCount(D, m, system, clock, 1, system + clock + 1)


# ----------------------------------------------------------------------------------------
# the HHL error model
# ----------------------------------------------------------------------------------------


def hhl_parameters(lower, upper, *, clock_qubits, headroom=PHASE_HEADROOM, margin=INVERSION_MARGIN):
    r"""Evolution time and reciprocal scaling the pipeline passes to :func:`qsgd.hhl.hhl_solve`.

    The Eq. 6 matrix is not symmetric, so HHL inverts its dilation, with eigenvalues
    :math:`\pm\sigma_i`, and the clock is read in two's complement. We put
    :math:`\sigma_{\max}` at phase ``headroom`` (default 3/8, below the wrap-around point 1/2),
    :math:`t=2\pi\,\mathrm{headroom}/\sigma_{\max}`, and rotate the flag fully at clock bin
    :math:`\max(1,\lfloor k_{\min}/\mathrm{margin}\rfloor)`, :math:`k_{\min}=\sigma_{\min}t\,2^c/2\pi`.
    Both margins keep the phase-estimation leakage (the Fejér tails) inside the range where the
    rotation is :math:`C/\tilde\lambda`; the chapter-4 defaults (:math:`\sigma_{\max}` on the last
    bin, bins below :math:`k_{\min}` not rotated) leave an error floor of order
    :math:`1/\pi^2` that no clock qubit removes (chapter 8 shows it). The price is a smaller
    constant :math:`C`, i.e. a smaller success probability.

    Parameters
    ----------
    lower, upper : float
        :math:`\sigma_{\min}\le\sigma_{\max}`, singular-value bounds of ``L``.
    clock_qubits : int
        ``c >= 2``.
    headroom : float
        Phase of :math:`\sigma_{\max}`, in (0, 1/2).
    margin : float
        >= 1.

    Returns
    -------
    (evolution_time, scaling, constant) : tuple of float
        ``scaling`` is the ``ExactReciprocalGate`` argument, ``constant`` :math:`C` (flag
        amplitude :math:`C/\lambda`).

    Used in chapter 8.
    """
    func = "hhl_parameters"
    lower = check_positive(lower, "lower", func=func)
    upper = check_positive(upper, "upper", func=func)
    if lower > upper:
        raise ValueError(f"{func}: need lower <= upper, got lower={lower}, upper={upper}")
    c = check_int(clock_qubits, "clock_qubits", func=func, minimum=2)
    headroom = check_positive(headroom, "headroom", func=func)
    if headroom >= 0.5:
        raise ValueError(f"{func}: headroom must be in (0, 1/2), got {headroom}")
    margin = check_positive(margin, "margin", func=func)
    if margin < 1:
        raise ValueError(f"{func}: margin must be >= 1, got {margin}")
    t = 2.0 * math.pi * headroom / upper
    kmin = lower * t * 2**c / (2.0 * math.pi)
    full = max(1, math.floor(kmin / margin + 1e-9))
    scaling = full / 2 ** (c - 1)
    return float(t), float(scaling), float(math.pi * scaling / t)


def hhl_response(lam, *, clock_qubits, evolution_time, scaling, definite=False) -> np.ndarray:
    r"""The effective function :math:`f(\lambda)` that the HHL circuit applies to an eigenvector.

    Phase estimation with :math:`c` clock qubits maps an eigenvalue :math:`\lambda` (phase
    :math:`\varphi=\lambda t/2\pi`) to clock bin :math:`k` with the Fejér weight
    :math:`w_k=\sin^2(\pi 2^c\delta_k)/(2^{2c}\sin^2(\pi\delta_k))`,
    :math:`\delta_k=\varphi-k/2^c`. ``ExactReciprocalGate`` rotates the flag to amplitude
    :math:`g_k=s\,2^{c-1}/\tilde k` on the signed bin :math:`\tilde k` (0 where that exceeds 1,
    and on the bins 0 and :math:`-2^{c-1}`). Uncomputing and postselecting flag = 1, clock = 0
    multiplies the eigenvector by

    .. math:: f(\lambda)=\sum_k w_k(\lambda)\,g_k ,

    exactly (the clock-0 amplitude of the uncomputed bin :math:`k` is
    :math:`\overline{\alpha_k}`). The ideal is :math:`C/\lambda`. This is a classical model of
    the circuit of :func:`qsgd.hhl.hhl_circuit`; the tests check that it reproduces the Aer
    output to rounding.

    Parameters
    ----------
    lam : array_like
        Eigenvalues (signed).
    clock_qubits : int
    evolution_time, scaling : float
    definite : bool
        Unsigned clock (positive-definite matrix) instead of two's complement.

    Returns
    -------
    ndarray
        :math:`f(\lambda)`, same shape as ``lam``.

    References
    ----------
    .. [1] A. W. Harrow, A. Hassidim, S. Lloyd, PRL 103, 150502 (2009), Appendix A.

    Used in chapter 8.
    """
    func = "hhl_response"
    c = check_int(clock_qubits, "clock_qubits", func=func, minimum=1)
    t = check_positive(evolution_time, "evolution_time", func=func)
    s = check_positive(scaling, "scaling", func=func)
    lam = np.asarray(lam, dtype=float)
    M = 2**c
    k = np.arange(M)
    nl = M if definite else M // 2
    signed = k if definite else np.where(k < nl, k, k - M)
    valid = signed != 0
    if not definite:
        valid &= signed != -nl
    amp = np.zeros(M)
    ratio = np.zeros(M)
    ratio[valid] = s * nl / np.abs(signed[valid])
    ok = valid & ((ratio <= 1.0) | np.isclose(ratio, 1.0, rtol=0.0, atol=1e-5))
    amp[ok] = np.sign(signed[ok]) * np.minimum(ratio[ok], 1.0)
    phi = lam.reshape(-1) * t / (2.0 * math.pi)
    out = np.empty(phi.shape[0])
    for start in range(0, phi.shape[0], 4096):  # bounded memory
        delta = phi[start : start + 4096, None] - k[None, :] / M
        den = (M * np.sin(np.pi * delta)) ** 2
        num = np.sin(np.pi * M * delta) ** 2
        near = den < 1e-24
        weights = np.where(near, 1.0, num / np.where(near, 1.0, den))
        out[start : start + 4096] = weights @ amp
    return out.reshape(lam.shape)


def hhl_error_bound(lower, upper, *, clock_qubits, headroom=PHASE_HEADROOM, margin=INVERSION_MARGIN,
                    points_per_bin=64, eigenvalues=None, evolution_time=None, scaling=None) -> float:
    r"""Bound on the error of the normalized HHL output, from the phase-estimation response.

    With :math:`f(\lambda)=(C/\lambda)(1+r(\lambda))` (:func:`hhl_response`), the unnormalized
    output is :math:`X+E` with :math:`\lVert E\rVert\le\max_j|r(\lambda_j)|\,\lVert X\rVert`, and
    normalizing at most doubles the relative error:

    .. math::

        \Bigl\lVert\tfrac{\tilde x}{\lVert\tilde x\rVert}-\tfrac{x}{\lVert x\rVert}\Bigr\rVert
        \le 2\sup_{\sigma_{\min}\le|\lambda|\le\sigma_{\max}}|r(\lambda)| .

    The supremum depends only on :math:`\kappa=\sigma_{\max}/\sigma_{\min}`, the clock size and
    the two margins of :func:`hhl_parameters`; it is evaluated on a grid of ``points_per_bin``
    points per clock bin. It falls like :math:`\kappa\,2^{-c}` (the relative resolution of the
    smallest eigenvalue). Given the actual singular values (``eigenvalues``), the maximum over
    :math:`\pm\sigma_i` replaces the supremum: the same derivation, a tighter bound for that
    matrix.

    Parameters
    ----------
    lower, upper : float
        :math:`\sigma_{\min}\le\sigma_{\max}`.
    clock_qubits : int
    headroom, margin : float
        As in :func:`hhl_parameters`.
    points_per_bin : int
    eigenvalues : array_like, optional
        The singular values :math:`\sigma_i` of the matrix (all within ``[lower, upper]``).
    evolution_time, scaling : float, optional
        Evaluate the bound for these HHL parameters instead of those of :func:`hhl_parameters`
        (e.g. the defaults of :func:`qsgd.hhl.choose_parameters`); both or neither.

    Returns
    -------
    float

    Used in chapter 8.
    """
    func = "hhl_error_bound"
    points = check_int(points_per_bin, "points_per_bin", func=func, minimum=4)
    if (evolution_time is None) != (scaling is None):
        raise ValueError(f"{func}: give both evolution_time and scaling, or neither")
    if evolution_time is None:
        t, scaling, C = hhl_parameters(lower, upper, clock_qubits=clock_qubits, headroom=headroom, margin=margin)
    else:
        t = check_positive(evolution_time, "evolution_time", func=func)
        scaling = check_positive(scaling, "scaling", func=func)
        C = math.pi * scaling / t
    c = int(clock_qubits)
    if eigenvalues is None:
        bins = (upper - lower) * t * 2**c / (2.0 * math.pi)
        grid = np.linspace(lower, upper, max(2, int(math.ceil(bins * points)) + 1))
    else:
        grid = np.abs(as_vector(eigenvalues, "eigenvalues", func=func))
        if grid.min() < lower * (1 - 1e-12) or grid.max() > upper * (1 + 1e-12):
            raise ValueError(f"{func}: eigenvalues must lie in [lower, upper] = [{lower:.6g}, {upper:.6g}]")
    lam = np.concatenate([grid, -grid])
    f = hhl_response(lam, clock_qubits=c, evolution_time=t, scaling=scaling)
    r = f * lam / C - 1.0
    return float(2.0 * np.max(np.abs(r)))


# ----------------------------------------------------------------------------------------
# tomography and read-out
# ----------------------------------------------------------------------------------------


def tomography_error_bound(sparsity, shots, *, confidence=CONFIDENCE) -> float:
    r"""An l2 error that :func:`qsgd.tomography.vector_tomography` exceeds with probability ``1 - confidence``.

    The magnitude stage estimates :math:`|x_i|` by :math:`\sqrt{\hat p_i}`. By the delta method
    :math:`\sqrt{\hat p_i}-|x_i|\approx(\hat p_i-p_i)/(2|x_i|)`, so
    :math:`4\,\mathrm{shots}\,\lVert\hat x-x\rVert^2\approx\mathrm{shots}\sum_i(\hat p_i-p_i)^2/p_i`,
    Pearson's statistic, which is :math:`\chi^2` with :math:`s-1` degrees of freedom. Hence

    .. math:: \delta = \sqrt{\chi^2_{s-1}(\mathrm{confidence})\,/\,(4\,\mathrm{shots})},

    valid when every :math:`\mathrm{shots}\cdot x_i^2\gg1` (then a wrong sign in the
    interference stage has probability about :math:`e^{-\mathrm{shots}\,x_i^2}`). Its typical
    value is :func:`qsgd.tomography.predicted_error`.

    Parameters
    ----------
    sparsity : int
        :math:`s`, non-zero amplitudes of the state (>= 1).
    shots : int
        Copies per stage.
    confidence : float
        In (0, 1).

    Returns
    -------
    float

    References
    ----------
    .. [1] I. Kerenidis, A. Prakash, ACM Trans. Quantum Comput. 1, 5 (2020), Sec. 4.

    Used in chapter 8.
    """
    from scipy.stats import chi2

    func = "tomography_error_bound"
    s = check_int(sparsity, "sparsity", func=func, minimum=1)
    shots = check_int(shots, "shots", func=func, minimum=1)
    confidence = check_positive(confidence, "confidence", func=func)
    if confidence >= 1:
        raise ValueError(f"{func}: confidence must be in (0, 1), got {confidence}")
    if s == 1:
        return 0.0
    return float(math.sqrt(chi2.ppf(confidence, s - 1) / (4.0 * shots)))


def readout_weights(x, f0, *, n, copies=1) -> np.ndarray:
    r"""The displacement :math:`u_T` from the postselected anchor and final blocks.

    ``x = [a; c_0; ...; c_p]`` holds the first Carleman level of step 1 (``a``, proportional to
    :math:`F_0` because :math:`\hat y_1=b`) and of the steps :math:`T..T+p` (``c_k``, proportional
    to :math:`u_T`), in any common normalization. Returns
    :math:`\operatorname{sign}\langle a,F_0\rangle\,\lVert F_0\rVert\,\bar c/\lVert a\rVert`,
    :math:`\bar c` the mean of the copies (module docstring).

    Parameters
    ----------
    x : array_like, shape ((1 + copies) n,)
    f0 : array_like, shape (n,)
        :math:`F_0`, non-zero.
    n : int
    copies : int
        ``p + 1``.

    Returns
    -------
    ndarray, shape (n,)

    Used in chapter 8.
    """
    func = "readout_weights"
    n = check_int(n, "n", func=func, minimum=1)
    copies = check_int(copies, "copies", func=func, minimum=1)
    x = as_vector(x, "x", func=func, size=(1 + copies) * n)
    f0 = as_vector(f0, "f0", func=func, size=n, allow_zero=False)
    a = x[:n]
    na = float(np.linalg.norm(a))
    if na == 0.0:
        raise ValueError(f"{func}: the anchor block of x is zero; the length of u_T cannot be recovered")
    c = x[n:].reshape(copies, n).mean(axis=0)
    sign = 1.0 if float(a @ f0) >= 0 else -1.0
    return sign * float(np.linalg.norm(f0)) / na * c


def readout_error_bound(delta, *, anchor_norm, final_norm, f0_norm, copies=1) -> float:
    r"""Error of :func:`readout_weights` when its input is within ``delta`` of the exact one.

    For unit-scale inputs :math:`\hat x` and :math:`x` with :math:`\lVert\hat x-x\rVert\le\delta<\lVert a\rVert`
    (anchor :math:`a`, final block :math:`c`),

    .. math::

        \lVert\hat u-u\rVert\le\frac{\lVert F_0\rVert}{\lVert a\rVert-\delta}\,\delta
        \sqrt{\frac{1}{\mathrm{copies}}+\frac{\lVert c\rVert^2}{\lVert a\rVert^2}}

    (triangle and Cauchy-Schwarz inequalities; the sign is right because
    :math:`\langle\hat a,a\rangle>0`). Returns ``inf`` when :math:`\delta\ge\lVert a\rVert`.

    Parameters
    ----------
    delta : float
        >= 0.
    anchor_norm, final_norm : float
        :math:`\lVert a\rVert>0` and :math:`\lVert c\rVert` in the normalization of ``delta``.
    f0_norm : float
        :math:`\lVert F_0\rVert`.
    copies : int
        ``p + 1``.

    Returns
    -------
    float

    Used in chapter 8.
    """
    func = "readout_error_bound"
    delta = check_positive(delta, "delta", func=func, strict=False)
    a = check_positive(anchor_norm, "anchor_norm", func=func)
    c = check_positive(final_norm, "final_norm", func=func, strict=False)
    f0 = check_positive(f0_norm, "f0_norm", func=func)
    copies = check_int(copies, "copies", func=func, minimum=1)
    if delta >= a:
        return math.inf
    return float(f0 / (a - delta) * delta * math.sqrt(1.0 / copies + (c / a) ** 2))


# ----------------------------------------------------------------------------------------
# classical error terms
# ----------------------------------------------------------------------------------------


def _dense(M) -> np.ndarray:
    return M.toarray() if sp.issparse(M) else np.asarray(M, dtype=float)


def _lipschitz(F, a_norm: float, b_norm: float) -> float:
    r"""Lipschitz constant of :math:`P(u)=u+\sum_\ell F_\ell u^{\otimes\ell}` between two points."""
    n = F[1].shape[0]
    lip = float(np.linalg.norm(np.eye(n) + _dense(F[1]), 2))
    for ell in range(2, len(F)):
        norm = float(np.linalg.norm(_dense(F[ell]), 2))
        # a^(x)l - b^(x)l = sum_i b^(x)i (x) (a - b) (x) a^(x)(l-1-i)
        lip += norm * sum(a_norm ** (ell - 1 - i) * b_norm**i for i in range(ell))
    return lip


def _taylor_bound(F, u_gd: np.ndarray, u_poly: np.ndarray, step) -> float:
    r"""E_T of E_{t+1} = rho_t + Lambda_t E_t: one-step Taylor remainders propagated."""
    bound = 0.0
    for t in range(u_gd.shape[0] - 1):
        rho = float(np.linalg.norm(u_gd[t + 1] - step(u_gd[t])))
        lam = _lipschitz(F, float(np.linalg.norm(u_gd[t])), float(np.linalg.norm(u_poly[t])))
        bound = rho + lam * bound
    return bound


def _truncation_terms(C, b, u_poly: np.ndarray, *, order: int, basis: str):
    r"""Carleman tail: exact truncation error and its norm bound.

    With :math:`r_t=\mathrm{lift}(u_{t+1})-C\,\mathrm{lift}(u_t)-b` (only the levels above
    :math:`N` that truncation drops feed it) and :math:`\hat y_0=\mathrm{lift}(u_0)=0`,
    :math:`\mathrm{lift}(u_T)-\hat y_T=\sum_t C^{T-1-t}r_t`; its first level is minus the
    truncation error and :math:`\lVert P_1r_{T-1}\rVert+\sum_{t<T-1}\lVert P_1C^{T-1-t}\rVert
    \lVert r_t\rVert` bounds it (the last residual reaches the first level only through its own
    first level, which is zero once :math:`N\ge q`).
    """
    from qsgd.carleman import level_slices, lift

    n = u_poly.shape[1]
    T = u_poly.shape[0] - 1
    Cd = _dense(C)
    first = level_slices(n, order, basis=basis)[0]
    lifts = [lift(u, order=order, basis=basis) for u in u_poly]
    residuals = [lifts[t + 1] - Cd @ lifts[t] - b for t in range(T)]
    powers = [np.eye(Cd.shape[0])]
    for _ in range(T - 1):
        powers.append(Cd @ powers[-1])
    propagated = sum(powers[T - 1 - t] @ residuals[t] for t in range(T))
    bound = float(np.linalg.norm(residuals[T - 1][first]))
    bound += sum(float(np.linalg.norm(powers[T - 1 - t][first], 2)) * float(np.linalg.norm(residuals[t]))
                 for t in range(T - 1))
    tail = np.array([float(np.linalg.norm(r)) for r in residuals])
    return -propagated[first], float(bound), tail


# ----------------------------------------------------------------------------------------
# one segment
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentReport:
    """What one quantum segment did and how far it is from classical gradient descent.

    Attributes
    ----------
    n, eta, steps, order, degree, padding, basis, clock_qubits, shots : echo of the settings
    theta0 : ndarray
        Weights at the start of the segment (the expansion point).
    theta_gd, theta_poly, theta_carleman, theta_hhl, theta : ndarray
        :math:`\\theta(T)` from exact GD, from the polynomial map, from the exact solution of
        Eq. 6, from the exact HHL output state, and downloaded by tomography (the result).
    taylor_error, truncation_error, hhl_error, tomography_error : float
        :math:`\\lVert\\theta_{\\rm poly}-\\theta_{\\rm GD}\\rVert`,
        :math:`\\lVert\\theta_{\\rm Carl}-\\theta_{\\rm poly}\\rVert`,
        :math:`\\lVert\\theta_{\\rm HHL}-\\theta_{\\rm Carl}\\rVert`,
        :math:`\\lVert\\theta-\\theta_{\\rm HHL}\\rVert`.
    taylor_bound, truncation_bound, hhl_bound, tomography_bound : float
        The derived bound of each term (module docstring); the tomography bound holds with
        probability ``confidence``.
    total_error, total_bound : float
        :math:`\\lVert\\theta-\\theta_{\\rm GD}\\rVert` and the sum of the four bounds.
    displacement : float
        :math:`\\lVert\\theta_{\\rm GD}-\\theta_0\\rVert`, the scale the errors compare to.
    carleman_tail : ndarray
        :math:`\\lVert r_t\\rVert`, the dropped-level residual of each step.
    hhl_vector_error, hhl_vector_bound : float
        Error of the normalized HHL output against :math:`Y/\\lVert Y\\rVert` and its bound
        (:func:`hhl_error_bound`).
    tomography_vector_error, tomography_vector_bound : float
        Error of the tomography estimate of the postselected state and its bound
        (:func:`tomography_error_bound`).
    fidelity : float
        :math:`|\\langle\\tilde x,x\\rangle|^2` of the HHL output.
    kappa, sigma_min, sigma_max : float
        Condition number and singular-value range of the Eq. 6 matrix.
    success_probability : float
        HHL postselection (flag 1, clock 0).
    postselection_probability : float
        Probability of the read-out blocks (first level at steps 1 and T..T+p) in the HHL output.
    final_step_probability : float
        The same for the first level at step T alone (the read-out of [1]_).
    runs : float
        Expected HHL runs for the tomography copies,
        ``total_shots / (success_probability * postselection_probability)``.
    num_qubits, system_qubits : int
        Qubits of the simulated HHL circuit.
    cx_count, depth : int or None
        Of the HHL circuit transpiled to {cx, u} (None with ``count_gates=False``).
    upload_cx : int
        CNOTs of the sparse (Gleinig-Hoefler) preparation of the right-hand side.
    upload_sparsity : int
        Non-zeros of the right-hand side.
    history_dimension, lifted_dimension : int
        ``m`` and ``D``.
    total_shots : int
        Copies measured by tomography (both stages).
    regime, regime_message, rho : str, str, float
        Verdict of :func:`qsgd.theorem.check_assumptions` and the contraction factor.
    confidence : float
        Of the tomography bound.
    seed : int
        First integer drawn from ``rng`` (identifies the run).
    """

    n: int
    eta: float
    steps: int
    order: int
    degree: int
    padding: int
    basis: str
    clock_qubits: int
    shots: int | None
    theta0: np.ndarray
    theta_gd: np.ndarray
    theta_poly: np.ndarray
    theta_carleman: np.ndarray
    theta_hhl: np.ndarray
    theta: np.ndarray
    taylor_error: float
    truncation_error: float
    hhl_error: float
    tomography_error: float
    taylor_bound: float
    truncation_bound: float
    hhl_bound: float
    tomography_bound: float
    total_error: float
    total_bound: float
    displacement: float
    carleman_tail: np.ndarray
    hhl_vector_error: float
    hhl_vector_bound: float
    tomography_vector_error: float
    tomography_vector_bound: float
    fidelity: float
    kappa: float
    sigma_min: float
    sigma_max: float
    success_probability: float
    postselection_probability: float
    final_step_probability: float
    runs: float
    num_qubits: int
    system_qubits: int
    cx_count: int | None
    depth: int | None
    upload_cx: int
    upload_sparsity: int
    history_dimension: int
    lifted_dimension: int
    total_shots: int
    regime: str
    regime_message: str
    rho: float
    confidence: float
    seed: int

    def budget(self) -> dict:
        """``{term: (error, bound)}`` for the four terms and ``"total"``."""
        out = {term: (getattr(self, f"{term}_error"), getattr(self, f"{term}_bound")) for term in _TERMS}
        out["total"] = (self.total_error, self.total_bound)
        return out


@dataclass(frozen=True)
class SegmentStages:
    """Intermediate objects of a segment, for inspection (chapter 8 shows each one).

    Attributes
    ----------
    polynomial_map : qsgd.gd.PolynomialMap
    C, b : Carleman matrix and constant (:func:`qsgd.carleman.discrete_carleman`)
    L, rhs : the Eq. 6 system (:func:`qsgd.history.history_system`)
    Y : ndarray
        Its exact solution.
    upload : QuantumCircuit
        Sparse preparation of ``rhs / ||rhs||``.
    hhl : qsgd.hhl.HHLResult
    readout_indices : ndarray
        Positions of the anchor and final first-level entries in ``Y``.
    postselected : ndarray
        The normalized read-out block of the HHL output (the state given to tomography).
    tomography : qsgd.tomography.TomographyResult or None
    assumptions : qsgd.theorem.AssumptionReport
    u_gd, u_poly : ndarray, shape (T + 1, n)
        Displacements of exact GD and of the polynomial map.
    """

    polynomial_map: Any
    C: Any
    b: np.ndarray
    L: Any
    rhs: np.ndarray
    Y: np.ndarray
    upload: Any
    hhl: Any
    readout_indices: np.ndarray
    postselected: np.ndarray
    tomography: Any
    assumptions: Any
    u_gd: np.ndarray
    u_poly: np.ndarray


@dataclass(frozen=True)
class SegmentResult:
    """Result of :func:`quantum_gd`.

    Attributes
    ----------
    theta : ndarray
        The downloaded weights :math:`\\theta(T)`.
    report : SegmentReport
    stages : SegmentStages
    success : bool
        Every stage produced its output (HHL postselection and the read-out succeeded).
    message : str
    """

    theta: np.ndarray
    report: SegmentReport
    stages: SegmentStages = field(repr=False)
    success: bool = True
    message: str = ""


def _check_loss(loss, theta0, func):
    """Evaluate the loss once at theta0, turning shape errors into a ValueError."""
    import torch

    try:
        value = loss(torch.as_tensor(theta0, dtype=torch.float64))
    except Exception as exc:  # any failure of user code: report it with the shapes involved
        raise ValueError(
            f"{func}: the loss cannot be evaluated at theta0 of shape {theta0.shape} "
            f"({type(exc).__name__}: {exc}); is theta0 compatible with the loss?"
        ) from exc
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        raise ValueError(f"{func}: the loss must return a scalar torch tensor, got {describe(value)}")


def _loss_and_theta(model_or_loss, theta0, data, mask, loss_fn, func):
    """A loss callable on the free weights and the starting point."""
    if callable(model_or_loss) and not hasattr(model_or_loss, "parameters"):
        if data is not None or mask is not None or loss_fn is not None:
            raise ValueError(f"{func}: data, mask and loss_fn apply to a torch model, not to a loss callable")
        if theta0 is None:
            raise ValueError(f"{func}: theta0 is required when a loss callable is given")
        theta0 = as_vector(theta0, "theta0", func=func)
        _check_loss(model_or_loss, theta0, func)
        return model_or_loss, theta0
    import torch

    if not isinstance(model_or_loss, torch.nn.Module):
        raise ValueError(
            f"{func}: model_or_loss must be a loss callable on a 1-D torch tensor or a torch.nn.Module, "
            f"got {describe(model_or_loss)}"
        )
    if data is None or not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(f"{func}: a torch model needs data=(inputs, targets), got {describe(data)}")
    from qsgd.gd import model_loss

    loss, theta_model, _ = model_loss(model_or_loss, data[0], data[1], mask=mask, loss_fn=loss_fn)
    if theta0 is None:
        return loss, np.asarray(theta_model, dtype=float)
    return loss, as_vector(theta0, "theta0", func=func, size=len(theta_model))


def quantum_gd(
    model_or_loss,
    theta0=None,
    *,
    eta,
    steps,
    order,
    clock_qubits,
    shots,
    rng=None,
    degree=2,
    padding=0,
    basis="symmetric",
    data=None,
    mask=None,
    loss_fn=None,
    max_qubits=DEFAULT_MAX_QUBITS,
    count_gates=True,
    confidence=CONFIDENCE,
) -> SegmentResult:
    r"""One quantum training segment: :math:`T` GD steps by Carleman linearization, HHL and tomography.

    Runs the eight stages of the module docstring (the algorithm of Fig. 1 and Eqs. 3-6 of
    [1]_) and compares every intermediate result with its classical counterpart, which gives
    the error budget of :class:`SegmentReport`.

    Parameters
    ----------
    model_or_loss : callable or torch.nn.Module
        A loss on a 1-D float64 torch tensor of the ``n`` free weights (returning a scalar
        tensor), or a model together with ``data=(inputs, targets)`` (and optionally ``mask``
        and ``loss_fn``), turned into one by :func:`qsgd.gd.model_loss`.
    theta0 : array_like, shape (n,), optional
        Starting weights; for a model the default is its current (masked) weights.
    eta : float
        Learning rate, > 0.
    steps : int
        ``T`` >= 1 GD steps in the segment.
    order : int
        Carleman truncation order ``N`` >= 1.
    clock_qubits : int
        Phase-estimation qubits ``c`` >= 2 (one is the sign bit).
    shots : int or None
        Copies per tomography stage; ``None`` skips tomography (exact read-out of the HHL
        state, tomography error 0).
    rng : None, int or numpy.random.Generator
        Source of every seed (Aer, tomography sampling), ``np.random.default_rng(rng)``.
    degree : {2, 3}
        Degree ``q`` of the polynomial map (the loss is expanded to order ``q + 1``).
    padding : int
        ``p`` >= 0 extra copies of the last step in Eq. 6 (they raise the postselection
        probability; the read-out averages them).
    basis : {"symmetric", "kronecker"}
        Carleman basis; the symmetric one needs fewer qubits.
    data, mask, loss_fn
        For a torch model (see ``model_or_loss``).
    max_qubits : int
        Refuse circuits above this many qubits (default 16).
    count_gates : bool
        Transpile the HHL circuit for ``cx_count`` and ``depth`` (seconds to tens of seconds:
        every controlled :math:`e^{iHt2^j}` is synthesized).
    confidence : float
        Confidence level of the tomography bound.

    Returns
    -------
    SegmentResult
        ``theta`` (the new weights), ``report`` (:class:`SegmentReport`) and ``stages``
        (:class:`SegmentStages`).

    Raises
    ------
    ValueError
        For a bad loss/model or ``theta0``, bad knobs, a vanishing gradient at ``theta0``
        (:math:`F_0=0`: nothing drives Eq. 6), or a segment that needs more than
        ``max_qubits`` qubits (the message gives the register sizes).

    Warns
    -----
    NonDissipativeWarning
        When :func:`qsgd.theorem.check_assumptions` finds the segment not dissipative (some mode
        of :math:`I-\eta H` grows by more than :math:`e` over the segment).

    Notes
    -----
    The HHL circuit is simulated exactly (Aer statevector) and the tomography copies are drawn
    from the postselected output state (:func:`qsgd.tomography.vector_tomography` on the
    vector), which has the same statistics as running the circuit, postselecting and
    measuring, without simulating each copy. ``runs`` says how many circuit executions that
    would take. Amplitude amplification is not simulated.

    References
    ----------
    .. [1] J. Liu et al., Nat. Commun. 15, 434 (2024), Fig. 1 and Eqs. 3-6.

    Examples
    --------
    >>> import numpy as np, torch
    >>> H = torch.tensor([[1.0, 0.2], [0.2, 0.5]], dtype=torch.float64)
    >>> loss = lambda th: 0.5 * th @ H @ th - th.sum() + 0.1 * (th**3).sum()
    >>> res = quantum_gd(loss, np.zeros(2), eta=0.5, steps=2, order=2, clock_qubits=6,
    ...                  shots=None, rng=0, count_gates=False)
    >>> res.report.num_qubits
    12

    Used in chapter 8.
    """
    func = "quantum_gd"
    loss, theta0 = _loss_and_theta(model_or_loss, theta0, data, mask, loss_fn, func)
    n = theta0.shape[0]
    eta = check_positive(eta, "eta", func=func)
    steps = check_int(steps, "steps", func=func, minimum=1)
    order = check_int(order, "order", func=func, minimum=1, maximum=4)
    clock = check_int(clock_qubits, "clock_qubits", func=func, minimum=2)
    if shots is not None:
        shots = check_int(shots, "shots", func=func, minimum=1)
    degree = check_int(degree, "degree", func=func, minimum=2, maximum=3)
    padding = check_int(padding, "padding", func=func, minimum=0)
    basis = check_choice(basis, "basis", ("symmetric", "kronecker"), func=func)
    max_qubits = check_int(max_qubits, "max_qubits", func=func, minimum=4)
    if not isinstance(count_gates, bool):
        raise ValueError(f"{func}: count_gates must be True or False, got {describe(count_gates)}")
    confidence = check_positive(confidence, "confidence", func=func)
    if confidence >= 1:
        raise ValueError(f"{func}: confidence must be in (0, 1), got {confidence}")

    # -- size check before any expensive work --------------------------------------------------
    size = segment_qubits(n, order=order, steps=steps, clock_qubits=clock, padding=padding, basis=basis)
    if size.total > max_qubits:
        raise ValueError(
            f"{func}: this segment needs {size.total} qubits ({size.system_qubits} system incl. 1 dilation "
            f"qubit for the Eq. 6 system of dimension {size.history_dimension} = (T + 1 + p) * D = "
            f"({steps} + 1 + {padding}) * {size.lifted_dimension}, {clock} clock, 1 flag), above "
            f"max_qubits={max_qubits}; lower n, order, steps, padding or clock_qubits"
        )
    gen = as_rng(rng)
    seed = int(gen.integers(2**31 - 1))

    from qsgd.carleman import discrete_carleman, level_slices
    from qsgd.gd import gradient_descent, polynomial_map
    from qsgd.history import history_system, solve_history, theta_trajectory
    from qsgd.hhl import SpectralBounds, hhl_solve
    from qsgd.theorem import check_assumptions
    from qsgd.tomography import vector_tomography
    from qsgd.upload import cnot_count, upload_weights

    # -- 1. polynomial map and the classical references ----------------------------------------
    pmap = polynomial_map(loss, theta0, eta=eta, degree=degree)
    F = list(pmap.coefficients)
    f0 = np.asarray(_dense(F[0]), dtype=float).reshape(-1)
    f0_norm = float(np.linalg.norm(f0))
    if f0_norm == 0.0:
        raise ValueError(
            f"{func}: the gradient vanishes at theta0 (F0 = -eta grad L = 0), so the right-hand side of "
            "Eq. 6 is zero and the segment is stationary; nothing to train"
        )
    u_gd = np.asarray(gradient_descent(loss, theta0, eta=eta, steps=steps), dtype=float) - theta0
    u_poly = np.zeros((steps + 1, n))
    for t in range(steps):
        u_poly[t + 1] = pmap.step(u_poly[t])

    assumptions = check_assumptions(F, np.zeros(n), eta=eta, steps=steps, order=order, padding=padding,
                                    basis=basis, compute_kappa=False)
    if assumptions.regime == "not dissipative":
        warnings.warn(
            f"{func}: the segment is not dissipative ({assumptions.message}); the condition number of "
            f"Eq. 6 and the truncation error grow geometrically with steps={steps}",
            NonDissipativeWarning,
            stacklevel=2,
        )

    # -- 2-3. Carleman lifting and the Eq. 6 system ---------------------------------------------
    C, b = discrete_carleman(F, order=order, basis=basis)
    D = C.shape[0]
    L, rhs = history_system(C, b, np.zeros(D), steps, padding=padding)
    Y = np.asarray(solve_history(L, rhs), dtype=float)
    traj = np.asarray(theta_trajectory(Y, n=n, steps=steps, padding=padding, basis=basis), dtype=float)
    theta_carleman = theta0 + traj[-1]
    trunc_vec, truncation_bound, tail = _truncation_terms(C, b, u_poly, order=order, basis=basis)

    # -- 4. upload of the right-hand side --------------------------------------------------------
    rhs = np.asarray(rhs, dtype=float)
    m = rhs.shape[0]
    upload = upload_weights(rhs).circuit
    upload_cx = int(cnot_count(upload))

    # -- 5. HHL -------------------------------------------------------------------------------------
    Ld = _dense(L)
    sv = np.linalg.svd(Ld, compute_uv=False)
    sigma_min, sigma_max = float(sv[-1]), float(sv[0])
    t_evo, scaling, _ = hhl_parameters(sigma_min, sigma_max, clock_qubits=clock)
    bounds = SpectralBounds(sigma_min, sigma_max, False, True, "exact")
    hhl = hhl_solve(Ld, rhs, clock_qubits=clock, shots=None, rng=gen, evolution_time=t_evo, scaling=scaling,
                    eigenvalue_bounds=bounds, count_gates=count_gates, max_qubits=max_qubits)
    x_exact = Y / np.linalg.norm(Y)
    x_hhl = np.asarray(hhl.solution, dtype=float)
    hhl_vector_error = float(min(np.linalg.norm(x_hhl - x_exact), np.linalg.norm(x_hhl + x_exact)))
    hhl_vector_bound = hhl_error_bound(sigma_min, sigma_max, clock_qubits=clock, eigenvalues=sv)

    # -- 6. postselection of the anchor (step 1) and the final steps, first Carleman level -------
    first = level_slices(n, order, basis=basis)[0]
    copies = padding + 1
    blocks = [1] + list(range(steps, steps + copies))
    idx = np.concatenate([np.arange(first.start, first.stop) + t * D for t in blocks])
    final_idx = np.arange(first.start, first.stop) + steps * D
    post_prob = float(np.sum(x_hhl[idx] ** 2))
    final_prob = float(np.sum(x_hhl[final_idx] ** 2))
    anchor_exact = float(np.linalg.norm(x_exact[idx[:n]]))
    final_exact = float(np.linalg.norm(x_exact[idx[n:]].reshape(copies, n).mean(axis=0)))
    readable = bool(hhl.success and post_prob > 0 and np.any(x_hhl[idx[:n]]))
    theta_hhl = theta0 + (readout_weights(x_hhl[idx], f0, n=n, copies=copies) if readable else 0.0)
    hhl_bound = readout_error_bound(hhl_vector_bound, anchor_norm=anchor_exact, final_norm=final_exact,
                                    f0_norm=f0_norm, copies=copies)

    # -- 7-8. tomography and norm recovery --------------------------------------------------------
    selected = x_hhl[idx] / math.sqrt(post_prob) if post_prob > 0 else np.zeros(idx.size)
    tomo = None
    success, message = readable, "segment completed"
    if not success:
        message = "HHL postselection or the read-out (anchor) block failed; theta is theta0"
    if shots is None or not success:
        theta = theta_hhl.copy()
        tomo_vec_err = tomo_vec_bound = tomography_bound = 0.0
        total_shots = 0
    else:
        width = 1 << max(1, (idx.size - 1).bit_length())
        padded = np.zeros(width)
        padded[: idx.size] = selected
        tomo = vector_tomography(padded, shots=shots, rng=gen, support=np.arange(idx.size))
        estimate = np.asarray(tomo.estimate[: idx.size], dtype=float)
        theta = theta0 + readout_weights(estimate, f0, n=n, copies=copies)
        tomo_vec_err = float(np.linalg.norm(estimate - selected))
        nnz = int(np.count_nonzero(selected))
        tomo_vec_bound = tomography_error_bound(max(nnz, 1), shots, confidence=confidence)
        sel_anchor = float(np.linalg.norm(selected[:n]))
        sel_final = float(np.linalg.norm(selected[n:].reshape(copies, n).mean(axis=0)))
        tomography_bound = (readout_error_bound(tomo_vec_bound, anchor_norm=sel_anchor, final_norm=sel_final,
                                                f0_norm=f0_norm, copies=copies) if sel_anchor > 0 else math.inf)
        total_shots = int(tomo.total_shots)

    theta_gd = theta0 + u_gd[-1]
    theta_poly = theta0 + u_poly[-1]
    taylor_bound = _taylor_bound(F, u_gd, u_poly, pmap.step)
    errors = {
        "taylor": float(np.linalg.norm(theta_poly - theta_gd)),
        "truncation": float(np.linalg.norm(theta_carleman - theta_poly)),
        "hhl": float(np.linalg.norm(theta_hhl - theta_carleman)),
        "tomography": float(np.linalg.norm(theta - theta_hhl)),
    }
    bound_values = {"taylor": taylor_bound, "truncation": truncation_bound, "hhl": hhl_bound,
                    "tomography": tomography_bound}
    p_total = hhl.success_probability * post_prob
    report = SegmentReport(
        n=n, eta=eta, steps=steps, order=order, degree=degree, padding=padding, basis=basis,
        clock_qubits=clock, shots=shots,
        theta0=theta0.copy(), theta_gd=theta_gd, theta_poly=theta_poly, theta_carleman=theta_carleman,
        theta_hhl=theta_hhl, theta=theta,
        taylor_error=errors["taylor"], truncation_error=errors["truncation"], hhl_error=errors["hhl"],
        tomography_error=errors["tomography"],
        taylor_bound=float(taylor_bound), truncation_bound=float(truncation_bound), hhl_bound=float(hhl_bound),
        tomography_bound=float(tomography_bound),
        total_error=float(np.linalg.norm(theta - theta_gd)), total_bound=float(sum(bound_values.values())),
        displacement=float(np.linalg.norm(u_gd[-1])), carleman_tail=tail,
        hhl_vector_error=hhl_vector_error, hhl_vector_bound=float(hhl_vector_bound),
        tomography_vector_error=float(tomo_vec_err), tomography_vector_bound=float(tomo_vec_bound),
        fidelity=float(np.dot(x_hhl, x_exact) ** 2), kappa=sigma_max / sigma_min, sigma_min=sigma_min,
        sigma_max=sigma_max, success_probability=float(hhl.success_probability),
        postselection_probability=post_prob, final_step_probability=final_prob,
        runs=float(total_shots / p_total) if p_total > 0 else math.inf,
        num_qubits=int(hhl.num_qubits), system_qubits=int(hhl.system_qubits),
        cx_count=hhl.cx_count, depth=hhl.depth, upload_cx=upload_cx, upload_sparsity=int(np.count_nonzero(rhs)),
        history_dimension=int(m), lifted_dimension=int(D), total_shots=total_shots,
        regime=assumptions.regime, regime_message=assumptions.message, rho=float(assumptions.rho),
        confidence=confidence, seed=seed,
    )
    stages = SegmentStages(
        polynomial_map=pmap, C=C, b=np.asarray(b, dtype=float), L=L, rhs=rhs, Y=Y, upload=upload, hhl=hhl,
        readout_indices=idx, postselected=selected, tomography=tomo, assumptions=assumptions, u_gd=u_gd,
        u_poly=u_poly,
    )
    # identity check of the truncation term (exact error recursion); a mismatch means a bug upstream
    if not np.allclose(theta0 + u_poly[-1] + trunc_vec, theta_carleman, rtol=1e-8, atol=1e-10 * (1 + f0_norm)):
        success, message = False, "the Carleman error recursion does not reproduce the Eq. 6 solution"
    return SegmentResult(theta=theta, report=report, stages=stages, success=success, message=message)


# ----------------------------------------------------------------------------------------
# the alternating protocol
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingRun:
    """Result of :func:`quantum_training`.

    Attributes
    ----------
    step : ndarray of int
        GD step index of every recorded point (0 = start).
    kind : tuple of str
        ``"start"``, ``"quantum"`` (end of a segment, after the download) or ``"classical"``.
    theta : ndarray, shape (len(step), n)
        Weights at the recorded points.
    loss : ndarray
        Loss at the recorded points.
    classical_theta, classical_loss : ndarray
        Classical GD from the same start, at every step ``0..total_steps``.
    deviation : ndarray
        :math:`\\lVert\\theta-\\theta_{\\rm GD}\\rVert` at the recorded points.
    envelope : ndarray
        The deviation the error budget predicts (first order, see :func:`quantum_training`).
    loss_envelope : ndarray
        The loss gap that ``envelope`` allows:
        :math:`\\lVert\\nabla\\mathcal L\\rVert E+\\tfrac12\\lambda_{\\max}(\\nabla^2\\mathcal L)E^2` at
        the classical point.
    max_contraction : float
        Largest :math:`\\lVert I-\\eta\\nabla^2\\mathcal L\\rVert` along the classical path.
    reports : tuple of SegmentReport
    eta, cycles, steps, classical_steps, order, clock_qubits, shots : echo
    """

    step: np.ndarray
    kind: tuple
    theta: np.ndarray
    loss: np.ndarray
    classical_theta: np.ndarray
    classical_loss: np.ndarray
    deviation: np.ndarray
    envelope: np.ndarray
    loss_envelope: np.ndarray
    max_contraction: float
    reports: tuple
    eta: float
    cycles: int
    steps: int
    classical_steps: int
    order: int
    clock_qubits: int
    shots: int | None


def _loss_value(loss, theta) -> float:
    import torch

    return float(loss(torch.as_tensor(np.asarray(theta, dtype=float), dtype=torch.float64)).detach())


def _local_geometry(loss, theta, eta):
    """||I - eta H||_2, ||grad||, lambda_max(H) at theta."""
    import torch

    th = torch.as_tensor(np.asarray(theta, dtype=float), dtype=torch.float64)
    g = torch.func.grad(loss)(th).detach().numpy()
    H = torch.func.hessian(loss)(th).detach().numpy()
    H = 0.5 * (H + H.T)
    w = np.linalg.eigvalsh(H)
    return float(np.max(np.abs(1.0 - eta * w))), float(np.linalg.norm(g)), float(max(w.max(), 0.0))


def quantum_training(
    model_or_loss,
    theta0=None,
    *,
    eta,
    cycles,
    steps,
    classical_steps=0,
    order,
    clock_qubits,
    shots,
    rng=None,
    degree=2,
    padding=0,
    basis="symmetric",
    data=None,
    mask=None,
    loss_fn=None,
    max_qubits=DEFAULT_MAX_QUBITS,
    count_gates=False,
) -> TrainingRun:
    r"""The alternating protocol of [1]_: quantum segments, downloads, classical steps, re-uploads.

    Each of the ``cycles`` cycles (i) uploads the current weights, i.e. expands the loss around
    them, and runs one quantum segment of ``steps`` GD steps (:func:`quantum_gd`), (ii)
    downloads the result by tomography, (iii) takes ``classical_steps`` exact GD steps
    classically (the QRAM variant of [1]_ trains classically for 10 steps after each download),
    and re-uploads. Classical GD of the same total length from the same start is the reference.
    The classical steps are exact full-batch GD on the same free weights
    (:func:`qsgd.gd.gradient_descent`), so that quantum and classical stages train the same
    loss; :func:`qsgd.nn.train` (minibatch SGD of a whole model) is what pre-trains the network
    in chapter 8. Chapter 7's :mod:`qsgd.experiments` emulates the protocol classically at the
    paper's scale; here every quantum stage is simulated.

    **Predicted envelope.** Let :math:`B_k` be the segment's bound ``total_bound`` (distance
    to exact GD *from the segment's own start*) and :math:`\Lambda_t=\lVert I-\eta\nabla^2
    \mathcal L(\theta_{\rm GD}(t))\rVert`. To first order a deviation :math:`E` is carried by a
    GD step to :math:`\Lambda_tE`, so

    .. math:: E\leftarrow\Lambda_tE\ \text{(classical step)},\qquad
              E\leftarrow\Big(\prod_{t\in\text{segment}}\Lambda_t\Big)E+B_k\ \text{(segment)} .

    With :math:`\Lambda_t\le1` (a dissipative path) this is at most the sum of the segment
    bounds.

    Parameters
    ----------
    model_or_loss, theta0, eta, steps, order, clock_qubits, shots, rng, degree, padding, basis,
    data, mask, loss_fn, max_qubits, count_gates
        As in :func:`quantum_gd` (``count_gates`` defaults to False here).
    cycles : int
        Number of quantum segments (>= 1).
    classical_steps : int
        Classical GD steps after each download (>= 0).

    Returns
    -------
    TrainingRun

    References
    ----------
    .. [1] J. Liu et al., Nat. Commun. 15, 434 (2024), Fig. 2 and the protocol in its text.

    Used in chapter 8.
    """
    func = "quantum_training"
    loss, theta_start = _loss_and_theta(model_or_loss, theta0, data, mask, loss_fn, func)
    eta = check_positive(eta, "eta", func=func)
    cycles = check_int(cycles, "cycles", func=func, minimum=1)
    steps = check_int(steps, "steps", func=func, minimum=1)
    classical_steps = check_int(classical_steps, "classical_steps", func=func, minimum=0)
    gen = as_rng(rng)
    from qsgd.gd import gradient_descent

    total = cycles * (steps + classical_steps)
    ref = np.asarray(gradient_descent(loss, theta_start, eta=eta, steps=total), dtype=float)
    geometry = [_local_geometry(loss, th, eta) for th in ref]
    contraction = np.array([g[0] for g in geometry])

    theta = theta_start.copy()
    rec_step, rec_kind, rec_theta, rec_env = [0], ["start"], [theta.copy()], [0.0]
    reports = []
    envelope, t = 0.0, 0
    for _ in range(cycles):
        seg = quantum_gd(loss, theta, eta=eta, steps=steps, order=order, clock_qubits=clock_qubits,
                         shots=shots, rng=gen, degree=degree, padding=padding, basis=basis,
                         max_qubits=max_qubits, count_gates=count_gates)
        reports.append(seg.report)
        envelope = float(np.prod(contraction[t : t + steps])) * envelope + seg.report.total_bound
        theta = seg.theta
        t += steps
        rec_step.append(t), rec_kind.append("quantum"), rec_theta.append(theta.copy()), rec_env.append(envelope)
        if classical_steps:
            path = np.asarray(gradient_descent(loss, theta, eta=eta, steps=classical_steps), dtype=float)
            for k in range(1, classical_steps + 1):
                envelope = contraction[t] * envelope
                t += 1
                rec_step.append(t), rec_kind.append("classical"), rec_theta.append(path[k].copy())
                rec_env.append(envelope)
            theta = path[-1]
    steps_arr = np.array(rec_step)
    thetas = np.array(rec_theta)
    env = np.array(rec_env)
    losses = np.array([_loss_value(loss, th) for th in thetas])
    ref_losses = np.array([_loss_value(loss, th) for th in ref])
    grad_norm = np.array([geometry[s][1] for s in steps_arr])
    curvature = np.array([geometry[s][2] for s in steps_arr])
    return TrainingRun(
        step=steps_arr,
        kind=tuple(rec_kind),
        theta=thetas,
        loss=losses,
        classical_theta=ref,
        classical_loss=ref_losses,
        deviation=np.linalg.norm(thetas - ref[steps_arr], axis=1),
        envelope=env,
        loss_envelope=grad_norm * env + 0.5 * curvature * env**2,
        max_contraction=float(contraction.max()),
        reports=tuple(reports),
        eta=eta,
        cycles=cycles,
        steps=steps,
        classical_steps=classical_steps,
        order=int(order),
        clock_qubits=int(clock_qubits),
        shots=shots,
    )
