r"""The exact finite-clock response of the HHL circuit: what postselection does to each eigenvector.

:func:`reciprocal_amplitudes` gives the flag amplitude ``ExactReciprocalGate`` writes for each
clock value; :func:`hhl_filter` the factor :math:`g(\lambda)` by which phase estimation, the
inversion and the uncomputation multiply an eigenvector of eigenvalue :math:`\lambda` (Fejér
leakage and unrotated bins included). The algorithm-level model (:mod:`qsgd.hhl.model`) and the
error bound (:mod:`qsgd.hhl.bound`) are built on them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from qsgd._validation import as_array, check_bool, check_int, check_memory, check_positive, describe, estimate_bytes
from qsgd.hhl.parameters import MAX_CLOCK_QUBITS

__all__ = ["reciprocal_amplitudes", "hhl_filter"]


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

