r"""The error of HHL's normalized output: an a priori bound, and the model's exact error as a diagnostic.

Both functions measure the same quantity. With :math:`g(\lambda)` the exact finite-clock
response of the circuit (:func:`qsgd.hhl.hhl_filter`) and :math:`C` the reciprocal constant,
the relative error of the inversion at :math:`\lambda` is

.. math:: r(\lambda) = \frac{g(\lambda)\,\lambda}{C} - 1 .

The unnormalized output is :math:`X + E` with :math:`X = C H^{-1}|b\rangle` and
:math:`\lVert E\rVert \le \max_j |r(\lambda_j)|\,\lVert X\rVert`, and normalizing at most
doubles a relative error (:math:`\lVert a/\lVert a\rVert - b/\lVert b\rVert\rVert \le
2\lVert a-b\rVert/\lVert b\rVert`), so

.. math::

    \Bigl\lVert\tfrac{\tilde x}{\lVert\tilde x\rVert}-\tfrac{x}{\lVert x\rVert}\Bigr\rVert
    \le 2\sup_{\lambda_{\min}\le|\lambda|\le\lambda_{\max}}|r(\lambda)| .

=========================  ================================================================
:func:`hhl_error_bound`     an a priori upper bound on the right-hand side, from the
                            phase-estimation error analysis and the parameters alone (no
                            filter is evaluated): what the algorithm guarantees
:func:`hhl_error_estimate`  the right-hand side itself, evaluated on a grid (or at given
                            eigenvalues) with the very filter the model simulates: a
                            diagnostic of the model, not an independent bound
=========================  ================================================================

Symbols: :math:`c` clock qubits, :math:`M = 2^c` clock values, :math:`t` evolution time,
:math:`C` reciprocal constant, :math:`k_{\min}, k_{\max}` the (real) clock positions of
:math:`\lambda_{\min}, \lambda_{\max}`, :math:`F` the clock bin where the reciprocal rotation
becomes full, :math:`\kappa = \lambda_{\max}/\lambda_{\min}`.

References
----------
.. [1] A. W. Harrow, A. Hassidim, S. Lloyd, "Quantum algorithm for linear systems of
   equations", Phys. Rev. Lett. 103, 150502 (2009), and its supplementary material (the error
   analysis of phase estimation with the :math:`1/\lambda` rotation, Appendix A).
.. [2] M. A. Nielsen, I. L. Chuang, *Quantum Computation and Quantum Information*
   (Cambridge University Press, 2010), Sec. 5.2.1 (performance of phase estimation,
   Eqs. (5.26)-(5.34)).
.. [3] A. M. Childs, R. Kothari, R. D. Somma, "Quantum algorithm for systems of linear
   equations with exponentially improved dependence on precision", SIAM J. Comput. 46,
   1920 (2017), Sec. 1-2 (why the sharp :math:`1/\lambda` filter of phase estimation costs
   :math:`O(\kappa/\epsilon)` and how smooth filters avoid it).

Used in chapter 8 (the error budget of the pipeline) and chapter 4.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from qsgd._validation import as_vector, check_int, describe
from qsgd.hhl.filter import hhl_filter
from qsgd.hhl.parameters import HHLParameters

__all__ = ["hhl_error_bound", "hhl_error_estimate"]

#: ``ExactReciprocalGate`` writes a full rotation where the ratio C/lambda~ is within this of 1
#: (the tolerance :func:`qsgd.hhl.reciprocal_amplitudes` reproduces); a little slack for rounding
_GATE_TOLERANCE = 1e-5 * (1 + 1e-6)

#: the shells of the window sum: every integer half-width up to this, then geometric steps
_DENSE_WINDOWS = 4096
_WINDOW_RATIO = 1.02
#: the range of lambda is cut into sub-ranges of this ratio (at most _MAX_RANGES of them)
_RANGE_RATIO = 1.25
_MAX_RANGES = 64


def _check_parameters(parameters: Any, func: str) -> HHLParameters:
    """Refuse anything but a consistent :class:`HHLParameters`, naming ``func``."""
    if not isinstance(parameters, HHLParameters):
        raise ValueError(f"{func}: parameters must be an HHLParameters (see hhl_parameters), got {describe(parameters)}")
    return parameters


def hhl_error_bound(parameters: HHLParameters) -> float:
    r"""A priori bound on the error of the normalized HHL output, from phase-estimation error analysis.

    Returns an upper bound on :math:`2\sup_{\lambda_{\min}\le|\lambda|\le\lambda_{\max}}
    |g(\lambda)\lambda/C - 1|` (module docstring: a bound on
    :math:`\lVert\tilde x/\lVert\tilde x\rVert - x/\lVert x\rVert\rVert`), computed in closed form
    from the parameters (clock size, evolution time, rotation scaling, constant, spectral
    bounds, definiteness) -- the response :math:`g` is never evaluated. It is the error
    analysis of HHL [1]_ made explicit for the package's circuit; the finite-clock model
    (:func:`qsgd.hhl.hhl_model`) is checked against it, not the other way round.

    **Derivation.** Work in clock units: :math:`\lambda > 0` sits at the real position
    :math:`x = \lambda t M/2\pi \in [k_{\min}, k_{\max}]`, bin :math:`k` (signed value
    :math:`\tilde k`) at wrapped distance :math:`d_k = M|\delta_k| \le M/2` from it, and
    :math:`\lambda/C = x/F` with :math:`F = s_{\rm ERG}\,n_l` the bin where the rotation is
    full (:math:`n_l = M`, or :math:`M/2` on a signed clock). The flag amplitude is
    :math:`a_k = F/\tilde k` on rotated bins (:math:`|\tilde k| \ge F`) and 0 on the others
    (:math:`|\tilde k| < F`, :math:`\tilde k = 0`, :math:`\tilde k = -M/2`). With the Fejér
    weights :math:`w_k = |\alpha_k|^2`, :math:`\sum_k w_k = 1`,

    .. math::

        r(\lambda) = \sum_k w_k e_k,\qquad e_k = \frac{\lambda a_k}{C} - 1 =
        \begin{cases} x/\tilde k - 1 & \text{rotated}\\ -1 & \text{not rotated.}\end{cases}

    *Tail of phase estimation* ([2]_ Sec. 5.2.1). :math:`w_k \le 1/(M^2\sin^2(\pi d_k/M))`,
    and as :math:`1/\sin^2` is convex, the weight of the bins farther than :math:`m` (an
    integer) from :math:`x` on either side is at most

    .. math::

        T(m) = G(m) + G(m+1),\qquad G(d) = \frac{1}{\pi M}\Bigl[\cot\frac{\pi(d-\frac12)}{M}
        + \tan\frac{\pi}{2M}\Bigr] \approx \frac{1}{\pi^2(d-\frac12)}

    (:math:`G = 0` for :math:`d > M/2`): the two-sided form of Nielsen and Chuang's
    :math:`1/(2(m-1))` (their Eq. (5.34)), sharper by the factor :math:`\pi^2/4` of
    :math:`|\sin\pi u| \ge 2|u|`. The nearest bin alone carries at least :math:`4/\pi^2`, so
    :math:`T(\frac12) = 1 - 4/\pi^2`.

    *Near bins* ([1]_). Within a window of half-width :math:`m` a rotated bin below :math:`x`
    has :math:`|e_k| = (x-\tilde k)/\tilde k \le m/\max(F, x-m)`, one above has
    :math:`|e_k| \le m/(x+m)`: the relative error :math:`|\lambda-\lambda_k|/\lambda_k` of
    :math:`1/\tilde\lambda`, largest at :math:`\lambda_{\min}`. Where the window reaches below
    :math:`F` (unrotated bins, :math:`|e_k| = 1`) or across the wrap-around point (bins of the
    wrong sign on a signed clock, :math:`|e_k| = 1 + x/|\tilde k|`), those bins count as
    well. :math:`N(m)`, the supremum over :math:`x \in [k_{\min}, k_{\max}]` of the largest
    :math:`|e_k|` within the window, is the maximum of

    * :math:`x_*/\max(F, x_* - m) - 1` with :math:`x_* = \min(\max(F+m, k_{\min}), k_{\max})`
      and :math:`m/(k_{\min}+m)` (rotated bins below and above :math:`x`);
    * 1 when :math:`k_{\min} - m < F` (unrotated bins reached);
    * on a signed clock, :math:`1 + \min(k_{\max}, m-F)/F` when :math:`m - F \ge k_{\min}`
      (negative bins reached through 0; 1 once :math:`m > k_{\min}`) and :math:`1 + k_{\max}/\max(F, M-k_{\max}-m)` when
      :math:`m \ge M/2 - k_{\max}` (negative bins reached through :math:`\pm M/2`); on an
      unsigned clock, :math:`\max(1, k_{\max}/F - 1)` when :math:`m \ge M - k_{\max}`;

    a non-decreasing function of :math:`m`, equal to the global maximum at :math:`m = M/2`.

    *Window sum.* Splitting the bins into shells :math:`m_{j-1} < d_k \le m_j` (:math:`m_0 =
    \frac12`, then every integer up to 4096, then steps of 2 %, last :math:`M/2`) and summing
    by parts,

    .. math::

        \sup_\lambda |r(\lambda)| \le B = N(m_0) + \sum_{j\ge1}\bigl(N(m_j)-N(m_{j-1})\bigr)\,T(m_{j-1}),

    which is at most the single-window bound :math:`N(m) + N(M/2)\,T(m)` for every :math:`m`
    (the short form of [1]_ and [2]_: near bins to first order, far bins by the tail).
    :math:`N` takes the supremum over :math:`x` before the sum; to lose little by that, the
    range :math:`[k_{\min}, k_{\max}]` is cut into sub-ranges of ratio at most 1.25 (at most
    64 of them), :math:`B` is formed on each with its own ends in place of
    :math:`k_{\min}, k_{\max}`, and the largest is kept. The leading terms are
    :math:`1/k_{\min}` (the nearest bins), :math:`\frac{2}{\pi^2}\ln k_{\min}/k_{\min}` (the
    Fejér tail against the :math:`1/\lambda` slope) and :math:`O(1/F)` (far, unrotated or
    wrong-signed bins); with the head-room policy
    :math:`k_{\min} = h\,2^c/\kappa` and :math:`F \approx k_{\min}/2`, so :math:`B = O(\kappa
    \log(\kappa 2^c)\, 2^{-c})`: the :math:`O(\kappa/\epsilon)` clock of [1]_, and the
    :math:`1/\epsilon` that [3]_ removes with smooth filters. With chapter 4's textbook time on
    a signed clock :math:`\lambda_{\max}` sits next to the wrap-around point, :math:`N(1)
    \approx 2` and no clock gives a bound.

    The gate's rounding of the rotation (a full rotation wherever :math:`C/\tilde\lambda` is
    within :math:`10^{-5}` of 1) adds :math:`\le 10^{-5}\,x/\tilde k` to :math:`|e_k|`; it can
    only matter when :math:`F \gtrsim 10^5` and is then included.

    Parameters
    ----------
    parameters : HHLParameters
        From :func:`qsgd.hhl.hhl_parameters`: the same object the circuit and the model run with.

    Returns
    -------
    float
        :math:`2B`, an upper bound on the distance between the normalized output and
        :math:`x/\lVert x\rVert`; ``inf`` when :math:`B \ge 1`, i.e. when no window gives a
        bound below the trivial one (the distance of two unit vectors is at most 2). That
        happens when the clock cannot resolve :math:`\lambda_{\min}` (:math:`k_{\min} \lesssim
        2`), below the least clock :math:`c_{\min}(\kappa)` that gives a finite bound, and
        for every clock under the textbook time on a signed clock.

    Raises
    ------
    ValueError
        ``parameters`` is not an :class:`HHLParameters`, or its constant disagrees with its
        scaling and evolution time, or its evolution time wraps :math:`\lambda_{\max}` around
        the clock.

    Notes
    -----
    The bound is checked against the exact supremum (:func:`hhl_error_estimate` on a fine
    grid) and against the model's output error in ``tests/test_hhl_bound.py``;
    ``benchmarks/bench_hhl_bound.py`` reports how loose it is (about 5 to 25 times the exact value)
    and its slope in :math:`c`.

    Examples
    --------
    >>> from qsgd.decomposition import SpectralBounds
    >>> from qsgd.hhl import hhl_parameters
    >>> bounds = SpectralBounds(0.1, 1.0, True, False, "known")
    >>> [round(hhl_error_bound(hhl_parameters(bounds, clock_qubits=c, headroom=3 / 8)), 4) for c in (8, 10, 12)]
    [0.4409, 0.1113, 0.0311]

    Used in chapter 8 (through :func:`qsgd.solvers.hhl_solver.hhl_entry`).
    """
    func = "hhl_error_bound"
    p = _check_parameters(parameters, func)
    c, t, s, C = p.clock_qubits, p.evolution_time, p.scaling, p.constant
    definite = p.definite
    M = float(2**c)
    nl = M if definite else M / 2
    expected = (2 * math.pi if definite else math.pi) * s / t
    if not math.isclose(C, expected, rel_tol=1e-9):
        raise ValueError(f"{func}: parameters.constant={C!r} disagrees with scaling and evolution_time "
                         f"(expected {expected!r}); make the parameters with hhl_parameters")
    k0 = p.bounds.lower * t * M / (2 * math.pi)
    K = p.bounds.upper * t * M / (2 * math.pi)
    if not K < nl:
        raise ValueError(f"{func}: evolution_time={t!r} puts the largest modulus {p.bounds.upper!r} at clock "
                         f"position {K:.6g} >= {nl:.6g}: it wraps around the clock")
    B = _window_sum(k0, K, s * nl, M, definite)
    return 2.0 * B if B < 1.0 else math.inf


def _window_sum(k0: float, K: float, F: float, M: float, definite: bool) -> float:
    """The bound B of :func:`hhl_error_bound`'s docstring (clock units throughout)."""
    rho = _GATE_TOLERANCE
    lo, hi = math.ceil(F / (1 + rho)), math.floor(F / (1 - rho))
    snapping = lo <= hi and not (lo == hi == F)  # a bin other than F itself may be rounded to a full rotation
    F_lo = F / (1 + rho) if snapping else F
    extra = rho / (1 - rho) if snapping else 0.0
    Fp = max(F_lo, 1.0)  # the smallest |k~| of a rotated bin
    half = M / 2
    slack = 1e-9 * (1.0 + K)  # reach the wrap-around point a little early: K carries rounding
    dense = np.arange(1.0, min(_DENSE_WINDOWS, half - 1) + 1)
    top = dense[-1] if dense.size else 1.0
    steps = []
    while top * _WINDOW_RATIO < half:
        top = math.ceil(top * _WINDOW_RATIO)
        steps.append(top)
    m = np.unique(np.concatenate([[0.5], dense, steps, [half]]))
    m = m[m <= half][None, :]
    # positions [a, b] of lambda: sub-ranges in ratio _RANGE_RATIO at most (one row each)
    pieces = max(1, min(_MAX_RANGES, math.ceil(math.log(K / k0) / math.log(_RANGE_RATIO) - 1e-9)))
    edges = k0 * (K / k0) ** (np.arange(pieces + 1) / pieces)
    edges[0], edges[-1] = k0, K
    a, b = edges[:-1, None], edges[1:, None]

    # the rounded bins lie in [F/(1+rho), F/(1-rho)]: their extra error counts once a window reaches them
    near_extra = np.where(a - m <= F / (1 - rho), extra, 0.0)
    xs = np.clip(Fp + m, a, b)
    below = (1 + near_extra) * xs / np.maximum(Fp, xs - m) - 1.0
    above = (m + near_extra * a) / (a + m)
    N = np.maximum(np.maximum(below, above), 0.0)
    N = np.where(a - m < Fp, np.maximum(N, 1.0), N)
    if definite:
        reached = m >= M - b - slack
        wrap = reached & (b + m - M + slack >= Fp)
        N = np.where(reached, np.maximum(N, 1.0), N)
        N = np.where(wrap, np.maximum(N, (1 + extra) * b / Fp - 1.0), N)
    else:
        through_zero = 1.0 + (1 + extra) * np.minimum(b, m - Fp) / Fp
        N = np.where(m - Fp >= a, np.maximum(N, through_zero), N)
        N = np.where(m > a, np.maximum(N, 1.0), N)
        through_top = 1.0 + (1 + extra) * b / np.maximum(Fp, M - b - m)
        N = np.where(m >= half - b - slack, np.maximum(N, through_top), N)
    N = np.maximum.accumulate(N, axis=1)

    T = np.empty(m.shape[1])
    T[0] = 1.0 - 4.0 / math.pi**2
    T[1:] = _tail(m[0, 1:], M)
    return float(np.max(N[:, 0] + np.sum(np.diff(N, axis=1) * T[:-1], axis=1)))


def _tail(m: np.ndarray, M: float) -> np.ndarray:
    r"""Upper bound on the Fejér weight of the bins farther than the integer ``m`` from the phase."""

    def G(d):
        inside = d <= M / 2
        arg = np.pi * (np.where(inside, d, 1.0) - 0.5) / M
        return np.where(inside, (1.0 / np.tan(arg) + math.tan(math.pi / (2 * M))) / (math.pi * M), 0.0)

    return np.minimum(1.0, G(m) + G(m + 1.0))


def hhl_error_estimate(parameters: HHLParameters, *, points_per_bin: int = 64, eigenvalues: Any = None) -> float:
    r"""The exact finite-clock error of the HHL model at these parameters, on a grid or at given eigenvalues.

    Evaluates :math:`2\max|g(\lambda)\lambda/C - 1|` (module docstring) with the response
    :math:`g` of :func:`qsgd.hhl.hhl_filter` -- the very filter the algorithm-level model
    (:func:`qsgd.hhl.hhl_model`) simulates -- over a grid of ``points_per_bin`` points per clock
    bin of :math:`[\lambda_{\min}, \lambda_{\max}]` (both signs on a signed clock), or at the
    given eigenvalue moduli. It is a diagnostic computed from the same filter the model uses,
    not an independent bound: the model's error never exceeds it (up to the grid), by
    construction. The a priori guarantee is :func:`hhl_error_bound`, which is never below it.

    Parameters
    ----------
    parameters : HHLParameters
        From :func:`qsgd.hhl.hhl_parameters`.
    points_per_bin : int, default 64
        Grid density (at least 4); the grid may hold at most :math:`2^{26}` points.
    eigenvalues : array_like, optional
        The eigenvalue moduli (singular values) of the matrix, all within the parameters'
        bounds; the maximum over them replaces the supremum over the grid.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        ``parameters`` not an :class:`HHLParameters`, ``points_per_bin`` below 4, a grid too
        large, eigenvalues outside the bounds.

    Examples
    --------
    >>> from qsgd.decomposition import SpectralBounds
    >>> from qsgd.hhl import hhl_parameters
    >>> p = hhl_parameters(SpectralBounds(0.1, 1.0, True, False, "known"), clock_qubits=10, headroom=3 / 8)
    >>> hhl_error_estimate(p, points_per_bin=16) <= hhl_error_bound(p)
    True

    Used in chapter 8 and by ``benchmarks/bench_hhl_bound.py``.
    """
    func = "hhl_error_estimate"
    p = _check_parameters(parameters, func)
    points = check_int(points_per_bin, "points_per_bin", func=func, minimum=4)
    lower, upper = p.bounds.lower, p.bounds.upper
    t, c = p.evolution_time, p.clock_qubits
    if eigenvalues is None:
        bins = (upper - lower) * t * 2**c / (2.0 * math.pi)
        count = bins * points
        if not count <= 2**26:
            raise ValueError(f"{func}: the grid over [lower, upper] would hold {count:.3g} points "
                             f"({bins:.3g} clock bins x points_per_bin={points}); lower points_per_bin or the clock")
        grid = np.linspace(lower, upper, max(2, int(math.ceil(count)) + 1))
    else:
        grid = np.abs(as_vector(eigenvalues, "eigenvalues", func=func))
        if grid.min() < lower * (1 - 1e-12) or grid.max() > upper * (1 + 1e-12):
            raise ValueError(f"{func}: eigenvalues must lie in [lower, upper] = [{lower:.6g}, {upper:.6g}], "
                             f"got moduli in [{grid.min():.6g}, {grid.max():.6g}]")
    lam = grid if p.definite else np.concatenate([grid, -grid])
    f = hhl_filter(lam, clock_qubits=c, evolution_time=t, scaling=p.scaling, definite=p.definite)
    r = f * lam / p.constant - 1.0
    return float(2.0 * np.max(np.abs(r)))
