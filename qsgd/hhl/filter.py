r"""The exact finite-clock response of the HHL circuit: what postselection does to each eigenvector.

:func:`reciprocal_amplitudes` gives the flag amplitude ``ExactReciprocalGate`` writes for each
clock value; :func:`hhl_filter` the factor :math:`g(\lambda)` by which phase estimation, the
inversion and the uncomputation multiply an eigenvector of eigenvalue :math:`\lambda` (Fejér
leakage and unrotated bins included). The algorithm-level model (:mod:`qsgd.hhl.model`) and the
error bound (:mod:`qsgd.hhl.bound`) are built on them. :func:`filter_expansion` writes :math:`g` as a
Chebyshev series with a rigorous truncation bound, so the model can apply it to a vector with
matrix products only (:mod:`qsgd.matfun`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qsgd._validation import as_array, check_bool, check_int, check_memory, check_positive, describe, estimate_bytes
from qsgd.hhl.parameters import MAX_CLOCK_QUBITS, HHLParameters

__all__ = ["reciprocal_amplitudes", "hhl_filter", "FilterExpansion", "filter_expansion", "kapteyn_tail",
           "MAX_EXPANSION_DEGREE"]

#: largest degree :func:`filter_expansion` builds
MAX_EXPANSION_DEGREE = 200_000


def reciprocal_amplitudes(clock_qubits: int, scaling: float, *, definite: bool, max_bytes: float | None = None) -> np.ndarray:
    r"""Flag amplitude that ``ExactReciprocalGate`` writes for each clock value.

    Entry :math:`k` (the clock read as an unsigned integer, least significant bit first as
    the gate reads it) is :math:`\sin(\theta_k/2)` for the gate's ``RY`` angle
    :math:`\theta_k`: :math:`s\,n_l/\tilde k` on the signed value :math:`\tilde k`
    (:math:`n_l = 2^c`, or :math:`2^{c-1}` and two's complement with ``definite=False``),
    exactly :math:`\pm1` where that ratio is within :math:`10^{-5}` of 1 (the gate's
    tolerance), and 0 where it exceeds 1 and on :math:`\tilde k = 0` and
    :math:`\tilde k = -2^{c-1}`.

    Parameters
    ----------
    clock_qubits : int
    scaling : float
        The ``ExactReciprocalGate`` scaling :math:`s`.
    definite : bool
        Unsigned clock (``neg_vals=False``).
    max_bytes : float, optional
        Size guard on the :math:`2^c` entries (default 4 GiB).

    Returns
    -------
    ndarray, shape (2**clock_qubits,)

    Examples
    --------
    >>> np.round(reciprocal_amplitudes(3, 2 / 8, definite=True), 4)
    array([0.    , 0.    , 1.    , 0.6667, 0.5   , 0.4   , 0.3333, 0.2857])
    """
    return _reciprocal_amplitudes(clock_qubits, scaling, definite=definite, max_bytes=max_bytes,
                                  func="reciprocal_amplitudes")


def _reciprocal_amplitudes(clock_qubits, scaling, *, definite, max_bytes, func) -> np.ndarray:
    definite = check_bool(definite, "definite", func=func)
    c = check_int(clock_qubits, "clock_qubits", func=func, minimum=1 if definite else 2, maximum=MAX_CLOCK_QUBITS)
    s = check_positive(scaling, "scaling", func=func)
    check_memory(estimate_bytes(6, 2.0**c), what=f"the {c}-qubit clock ({2.0**c:.3g} bins)",
                 max_bytes=max_bytes, func=func)
    M = 2**c
    nl = M if definite else M // 2
    k = np.arange(M)
    signed = k if definite else np.where(k < nl, k, k - M)
    amp = np.zeros(M)
    valid = signed != 0
    if not definite:
        valid &= signed != -nl
    ratio = np.zeros(M)
    ratio[valid] = s * nl / np.abs(signed[valid])
    full = valid & (np.abs(ratio - 1.0) <= 1e-5)
    part = valid & ~full & (ratio < 1.0)
    amp[full] = 1.0
    amp[part] = ratio[part]
    return amp * np.sign(signed)


def hhl_filter(eigenvalues: Any, *, clock_qubits: int, evolution_time: float, scaling: float, definite: bool,
               max_bytes: float | None = None) -> np.ndarray:
    r"""The exact factor :math:`g(\lambda)` by which the HHL circuit multiplies an eigenvector.

    Phase estimation with :math:`c` clock qubits sends :math:`|u\rangle|0\rangle`,
    :math:`H|u\rangle = \lambda|u\rangle`, to :math:`|u\rangle\sum_k\alpha_k|k\rangle` with
    :math:`\alpha_k = 2^{-c}\sum_{x<2^c} e^{2\pi i x(\varphi - k/2^c)}`,
    :math:`\varphi = \lambda t/2\pi`. The inversion multiplies bin :math:`k` by the real
    flag amplitude :math:`a_k` (:func:`reciprocal_amplitudes`), and the clock-0 amplitude of
    the inverse phase estimation is :math:`\sum_k\overline{\alpha_k}(\cdot)`, so
    postselecting flag = 1, clock = 0 leaves

    .. math:: g(\lambda) = \sum_k |\alpha_k|^2 a_k,\qquad
              |\alpha_k|^2 = \frac{\sin^2(\pi 2^c\delta_k)}{2^{2c}\sin^2(\pi\delta_k)},
              \quad \delta_k = \varphi - k/2^c,

    a real number, :math:`\approx C/\lambda` when :math:`\lambda` is resolved (the sign of
    :math:`\lambda` is kept: :math:`g(-\lambda)\approx -g(\lambda)`).

    Parameters
    ----------
    eigenvalues : array_like
        Signed eigenvalues :math:`\lambda` of the Hermitian matrix HHL inverts.
    clock_qubits, evolution_time, scaling, definite
        As :func:`hhl_circuit` uses them (``definite`` is ``not neg_vals``).
    max_bytes : float, optional
        Size guard on the :math:`2^c` clock bins (default 4 GiB).

    Returns
    -------
    ndarray
        :math:`g(\lambda)`, same shape as ``eigenvalues``.

    Examples
    --------
    >>> g = hhl_filter([2 / 3, 4 / 3], clock_qubits=3, evolution_time=2 * math.pi * 3 / 8, scaling=2 / 8, definite=True)
    >>> np.round(g, 6)
    array([1. , 0.5])
    """
    func = "hhl_filter"
    lam = as_array(eigenvalues, "eigenvalues", func=func)
    if lam.size == 0:
        raise ValueError(f"{func}: eigenvalues is empty")
    if not np.all(np.isfinite(lam)):
        raise ValueError(f"{func}: eigenvalues must be finite, got non-finite entries ({describe(eigenvalues)})")
    t = check_positive(evolution_time, "evolution_time", func=func)
    amp = _reciprocal_amplitudes(clock_qubits, scaling, definite=definite, max_bytes=max_bytes, func=func)
    M = amp.size
    phi = (lam.reshape(-1) * t / (2.0 * math.pi)) % 1.0
    n = phi.shape[0]
    # sin^2(pi 2^c delta_k) = sin^2(pi r) for every k, r = 2^c phi - round(2^c phi) (exact: 2^c is a power of two)
    scaled = phi * M
    num = np.sin(np.pi * (scaled - np.round(scaled))) ** 2 / float(M) ** 2
    # the two bins next to phi, where sin(pi delta) is small: their weights from delta itself
    low = np.floor(scaled).astype(np.int64) % M
    near = np.stack([low, (low + 1) % M], axis=1)
    delta = phi[:, None] - near / M
    sin_d = np.sin(np.pi * delta)
    tiny = np.abs(sin_d) < 1e-300
    w_near = np.where(tiny, 1.0, np.sin(np.pi * M * delta) ** 2 / np.where(tiny, 1.0, float(M) ** 2 * sin_d**2))
    out = np.sum(w_near * amp[near], axis=1)
    # every other bin is at least 1/2^c away: sin(pi (phi - k/2^c)) by the subtraction formula, no cancellation
    sp, cp = np.sin(np.pi * phi), np.cos(np.pi * phi)
    sk, ck = np.sin(np.pi * np.arange(M) / M), np.cos(np.pi * np.arange(M) / M)
    block = max(1, 2**22 // M)  # bounded memory: about 32 MiB per block
    for first in range(0, n, block):
        rows = slice(first, min(first + block, n))
        den = np.outer(sp[rows], ck)
        den -= np.outer(cp[rows], sk)
        den *= den
        idx = np.arange(den.shape[0])
        den[idx, near[rows, 0]] = np.inf  # excluded: counted above
        den[idx, near[rows, 1]] = np.inf
        np.reciprocal(den, out=den)
        out[rows] += num[rows] * (den @ amp)
    return out.reshape(lam.shape)



def kapteyn_tail(z: Any, first: int) -> np.ndarray:
    r"""A rigorous bound on :math:`\sum_{k\ge k_0}|J_k(z)|` for :math:`0 \le z < k_0`, by Kapteyn's inequality.

    Kapteyn's inequality (Watson, *Bessel Functions*, §8.7) gives :math:`|J_k(kx)| \le r(x)^k`,
    :math:`r(x) = x\,e^{\sqrt{1-x^2}}/(1+\sqrt{1-x^2})`, for :math:`0\le x\le 1`; :math:`r` is
    increasing, so for :math:`k \ge k_0` every term is at most :math:`r(z/k_0)^k` and the tail is at
    most :math:`r_0^{k_0}/(1-r_0)`, :math:`r_0 = r(z/k_0)`. ``inf`` where :math:`z \ge k_0`.

    Parameters
    ----------
    z : array_like
        Arguments :math:`\ge 0`.
    first : int
        :math:`k_0 \ge 1`.

    Returns
    -------
    ndarray, the shape of ``z``

    Examples
    --------
    >>> from scipy.special import jv
    >>> bool(kapteyn_tail(50.0, 80) >= np.abs(jv(np.arange(80, 400), 50.0)).sum())
    True
    """
    k0 = float(first)
    x = np.asarray(z, dtype=float) / k0
    out = np.full(x.shape, np.inf)
    ok = (x >= 0) & (x < 1)
    root = np.sqrt(1.0 - x[ok] ** 2)
    with np.errstate(divide="ignore"):
        log_r = np.log(x[ok]) + root - np.log1p(root)  # -inf at z = 0: J_k(0) = 0 for k >= 1
    r = np.exp(log_r)
    out[ok] = np.exp(k0 * log_r) / (1.0 - r)
    return out


@dataclass(frozen=True)
class FilterExpansion:
    r"""The HHL filter :math:`g` as a Chebyshev series on :math:`[-R, R]` (:func:`filter_expansion`).

    Attributes
    ----------
    coefficients : ndarray, shape (degree + 1,)
        :math:`c_k` of :math:`p(\lambda) = \sum_k c_k T_k(\lambda/R)`, the interpolant of :math:`g`
        at the Chebyshev points of the first kind.
    degree : int
        :math:`d`: one product by the matrix per degree.
    radius : float
        :math:`R`.
    error_bound : float
        A rigorous bound on :math:`\max_{[-R,R]}|g - p|` (rounding aside): twice the Kapteyn
        bound on the Chebyshev tail of :math:`g` beyond :math:`d`.
    tolerance : float
        The target the degree was chosen for.
    parameters : HHLParameters
    """

    coefficients: np.ndarray = field(repr=False)
    degree: int
    radius: float
    error_bound: float
    tolerance: float
    parameters: HHLParameters = field(repr=False)


def filter_expansion(parameters: HHLParameters, *, radius: float | None = None,
                     tolerance: float = 1e-10) -> FilterExpansion:
    r"""A Chebyshev series for the finite-clock filter :math:`g` of :func:`hhl_filter`, with a rigorous error bound.

    :math:`|\alpha_k|^2` is the Fejér kernel :math:`\sum_{|m|<M}\frac{M-|m|}{M^2}e^{2\pi i m\delta_k}`
    (:math:`M = 2^c`), so :math:`g` is a trigonometric polynomial in :math:`t\lambda`,

    .. math:: g(\lambda) = \sum_{|m|<M}\hat g_m e^{imt\lambda},\qquad
              \hat g_m = \frac{M-|m|}{M^2}\sum_k a_k e^{-2\pi i mk/M}

    (one FFT of the flag amplitudes :math:`a_k`). By the Jacobi-Anger expansion the Chebyshev
    coefficients of :math:`e^{i\omega R x}` on :math:`[-1, 1]` are :math:`2i^kJ_k(\omega R)`, so those of
    :math:`g` beyond degree :math:`d` sum to at most
    :math:`2\sum_m|\hat g_m|\sum_{k>d}|J_k(|m|tR)|`, bounded by :func:`kapteyn_tail`; the interpolant
    of degree :math:`d` is within twice that of :math:`g` (aliasing; Trefethen, *ATAP*, Thm 4.2). The
    degree is the smallest above :math:`(M-1)tR` whose bound is at most ``tolerance``: about
    :math:`(M-1)tR + 6\,((M-1)tR)^{1/3}`.

    Parameters
    ----------
    parameters : HHLParameters
        The clock, evolution time and scaling of the run.
    radius : float, optional
        :math:`R`; default ``parameters.bounds.upper`` (every :math:`|\lambda|` must be at most
        :math:`R`).
    tolerance : float, default 1e-10
        Target of ``error_bound`` (absolute; :math:`|g| \le 1`).

    Returns
    -------
    FilterExpansion

    Raises
    ------
    ValueError
        ``parameters`` not an HHLParameters, a non-positive radius or tolerance, or a degree above
        :data:`MAX_EXPANSION_DEGREE` (before any large allocation).

    Examples
    --------
    >>> from qsgd.hhl.parameters import hhl_parameters
    >>> p = hhl_parameters((0.5, 2.0), clock_qubits=5, headroom=3 / 8)
    >>> e = filter_expansion(p)
    >>> e.degree, bool(e.error_bound <= 1e-10)
    (106, True)
    """
    func = "filter_expansion"
    if not isinstance(parameters, HHLParameters):
        raise ValueError(f"{func}: parameters must be an HHLParameters (qsgd.hhl.hhl_parameters), "
                         f"got {describe(parameters)}")
    R = parameters.bounds.upper if radius is None else check_positive(radius, "radius", func=func)
    tol = check_positive(tolerance, "tolerance", func=func)
    c, t, s, definite = parameters.clock_qubits, parameters.evolution_time, parameters.scaling, parameters.definite
    M = 2**c
    z_max = (M - 1) * t * R
    if z_max + 10.0 * z_max ** (1 / 3) + 100 > MAX_EXPANSION_DEGREE:
        raise ValueError(f"{func}: the filter of a {c}-qubit clock at t*R={t * R:.4g} needs a Chebyshev degree of "
                         f"about {z_max:.3g}, above the limit {MAX_EXPANSION_DEGREE}; lower clock_qubits")
    amp = _reciprocal_amplitudes(c, s, definite=definite, max_bytes=None, func=func)
    spectrum = np.fft.fft(amp)
    m = np.arange(M)
    taper = (M - m) / float(M) ** 2
    # |g_m| + |g_-m| for m >= 1 (g_-m = taper * conj-free FFT at -m mod M), |g_0| for m = 0
    weight = taper * np.abs(spectrum)
    weight[1:] += taper[1:] * np.abs(spectrum[(-m[1:]) % M])
    z = m * t * R

    def bound(d: int) -> float:
        return float(2.0 * 2.0 * np.sum(weight * kapteyn_tail(z, d + 1)))

    lo = math.ceil(z_max)
    hi = lo + 16
    while bound(hi) > tol:
        hi = lo + 2 * (hi - lo)
        if hi > MAX_EXPANSION_DEGREE:
            raise ValueError(f"{func}: no degree up to {MAX_EXPANSION_DEGREE} reaches tolerance={tol:g}")
    while hi - lo > 1:  # the bound decreases with d
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if bound(mid) <= tol else (mid, hi)
    d = hi if bound(lo) > tol else lo
    coefficients = np.polynomial.chebyshev.chebinterpolate(
        lambda x: hhl_filter(R * x, clock_qubits=c, evolution_time=t, scaling=s, definite=definite), d)
    return FilterExpansion(coefficients=coefficients, degree=int(d), radius=float(R), error_bound=bound(d),
                           tolerance=tol, parameters=parameters)
