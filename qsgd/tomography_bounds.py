r"""How far tomography can miss: a finite-sample bound valid for every state, its estimate, and the copies it needs.

:func:`tomography_error_bound` bounds the l2 error of :func:`qsgd.tomography.vector_tomography`
(magnitudes from one stage of copies, each sign from its own interference stage) for every real
unit state with at most ``sparsity`` non-zero amplitudes, with probability at least
``confidence``; :func:`tomography_error_estimate` is the older delta-method number, an
asymptotic *estimate* valid only when every ``shots * x_i**2 >> 1``;
:func:`tomography_shots_for` inverts the bound. The derivation is in the docstring of
:func:`tomography_error_bound`.

Used in chapters 5 and 8.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from scipy.stats import chi2

from qsgd._validation import check_int, check_positive

__all__ = ["CONFIDENCE", "TOMOGRAPHY_MAX_SHOTS", "tomography_error_bound", "tomography_error_estimate",
           "tomography_shots_for"]


# ---------------------------------------------------------------------------
# finite-sample guarantee
# ---------------------------------------------------------------------------

#: default confidence level of :func:`tomography_error_bound`
CONFIDENCE = 0.999

#: :func:`tomography_shots_for` refuses targets that need more copies per stage than this
TOMOGRAPHY_MAX_SHOTS = 10**15

#: fractions of the failure probability given to the magnitude stage (the rest goes to the
#: sign stage); the bound takes the best of them (a fixed grid: the choice never looks at data)
_SPLITS = tuple(k / 20.0 for k in range(1, 20))


def _check_confidence(confidence: Any, func: str) -> float:
    confidence = check_positive(confidence, "confidence", func=func)
    if confidence >= 1:
        raise ValueError(f"{func}: confidence must be in (0, 1), got {confidence}")
    return confidence


def _gamma_radius(dof: int, beta: float) -> float:
    r"""The root :math:`t > m` of :math:`t - m - m\ln(t/m) = \ln(1/\beta)`, :math:`m` = ``dof``.

    Then :math:`e^{-t}(e t/m)^m = \beta`: the Chernoff tail of a gamma variable of shape
    :math:`m` and rate 1, Agrawal's bound on :math:`N\,\mathrm{KL}(\hat p\,\|\,p)`.
    """
    from scipy.optimize import brentq

    m = float(dof)
    target = math.log(1.0 / beta)

    def excess(t: float) -> float:
        return t - m - m * math.log(t / m) - target

    hi = m + target + 1.0
    while excess(hi) < 0.0:
        hi *= 2.0
    return float(brentq(excess, m, hi, xtol=1e-12 * hi, rtol=1e-14))


def _sign_radius(sparsity: int, beta: float) -> float:
    r""":math:`\min_{0<c<1} (s \ln g(c) + \ln(1/\beta))/c`, :math:`g(c) = 1 + c(1-c)^{(1-c)/c}`."""
    from scipy.optimize import minimize_scalar

    target = math.log(1.0 / beta)

    def radius(c: float) -> float:
        return (sparsity * math.log1p(c * (1.0 - c) ** ((1.0 - c) / c)) + target) / c

    res = minimize_scalar(radius, bounds=(1e-6, 1.0 - 1e-9), method="bounded", options={"xatol": 1e-10})
    return float(min(res.fun, radius(0.5)))


@functools.lru_cache(maxsize=256)
def _bound_constants(sparsity: int, confidence: float) -> tuple[tuple[float, float, float], ...]:
    """Shot-independent constants ``(t_kl, c_l1, f_sign)`` of the bound, one triple per split."""
    alpha = 1.0 - confidence
    # ln(2^s - 2) without forming 2^s
    log_subsets = sparsity * math.log(2.0) + math.log1p(-(2.0 ** (1 - sparsity)))
    out = []
    for frac in _SPLITS:
        a1, a2 = frac * alpha, (1.0 - frac) * alpha
        out.append((
            _gamma_radius(sparsity - 1, a1),                      # N KL(p_hat || p) <= t_kl
            2.0 * (log_subsets + math.log(1.0 / a1)),           # N ||p_hat - p||_1^2 <= c_l1
            _sign_radius(sparsity, a2),                           # N U <= f_sign
        ))
    return tuple(out)


def _bound(sparsity: int, shots: int, confidence: float) -> float:
    if sparsity == 1:
        return 0.0
    best = 2.0
    for t_kl, c_l1, f_sign in _bound_constants(sparsity, confidence):
        magnitude = min(2.0, t_kl / shots, math.sqrt(c_l1 / shots))
        best = min(best, math.sqrt(magnitude) + 2.0 * math.sqrt(min(1.0, f_sign / shots)))
    return float(best)


def tomography_error_bound(sparsity, shots, *, confidence=CONFIDENCE) -> float:
    r"""An l2 error that :func:`vector_tomography` exceeds with probability at most ``1 - confidence``, for every state.

    For *every* real unit vector :math:`x` with at most :math:`s` non-zero amplitudes and
    :math:`N` = ``shots`` copies per stage, the estimate :math:`\hat x` of
    :func:`vector_tomography` (statevector or circuit path; ``support`` either ``None`` or
    containing the non-zeros of :math:`x`) satisfies

    .. math::
        \Pr\big[\lVert \hat x - x\rVert_2 > \delta(s, N, \alpha)\big] \le \alpha = 1 - \text{confidence},
        \qquad
        \delta = \min\Big\{2,\ \sqrt{D} + 2\sqrt{U}\Big\},

    .. math::
        D = \min\Big\{2,\ \frac{t_{s-1}(\alpha_1)}{N},\
            \sqrt{\tfrac{2}{N}\big(\ln(2^s - 2) + \ln\tfrac{1}{\alpha_1}\big)}\Big\},
        \qquad
        U = \min\Big\{1,\ \min_{0<c<1} \frac{s \ln g(c) + \ln(1/\alpha_2)}{c\,N}\Big\},

    with :math:`g(c) = 1 + c\,(1-c)^{(1-c)/c}`, :math:`t_m(\beta)` the root :math:`t > m` of
    :math:`t - m - m\ln(t/m) = \ln(1/\beta)`, and :math:`\alpha_1 + \alpha_2 = \alpha` split
    by the best of the fixed fractions :math:`\alpha_1/\alpha \in \{0.05, 0.10, \ldots, 0.95\}`
    (a choice that depends on :math:`(s, N, \alpha)` only, so the bound stays a bound). Nothing
    about :math:`x` enters: no condition such as :math:`N x_i^2 \gg 1` is needed. For
    :math:`N \gg s` both :math:`t_{s-1}` and the minimum over :math:`c` are
    :math:`O(s + \ln(1/\alpha))`, so :math:`\delta = O\big(\sqrt{(s + \ln(1/\alpha))/N}\big)`,
    the :math:`N^{-1/2}` law of claim 12 with a worst-case constant. The asymptotic
    delta-method number is :func:`tomography_error_estimate` (smaller, and not a bound).

    Parameters
    ----------
    sparsity : int
        :math:`s \ge 1`, an upper bound on the number of non-zero amplitudes of the state
        (the bound increases with :math:`s`).
    shots : int
        :math:`N \ge 1`, copies per stage (``2 * shots`` in all).
    confidence : float, keyword-only
        :math:`1 - \alpha \in (0, 1)`.

    Returns
    -------
    float
        :math:`\delta \in [0, 2]`; ``0.0`` for :math:`s = 1` (one amplitude is always
        recovered exactly, sign included).

    Raises
    ------
    ValueError
        For a non-integer or non-positive ``sparsity`` or ``shots``, or a ``confidence``
        outside :math:`(0, 1)`.

    Notes
    -----
    Proof. Write :math:`a_i = |x_i|`, :math:`p_i = a_i^2`, :math:`m_i = \sqrt{\hat p_i}` (the
    stage-1 magnitudes), and :math:`W` for the entries with :math:`m_i > 0` whose sign is
    wrong.

    *Step 0 (decomposition).* :math:`\lVert \hat x - x\rVert^2 = \sum_i (m_i - a_i)^2 +
    4\sum_{i\in W} m_i a_i`. With :math:`u_i = \min(a_i, m_i)` and
    :math:`d_i = |a_i - m_i|`, :math:`m_i a_i = u_i^2 + u_i d_i`, and Cauchy-Schwarz gives
    :math:`\lVert \hat x - x\rVert \le \sqrt{D} + 2\sqrt{U}` with
    :math:`D = \sum_i (m_i - a_i)^2` and :math:`U = \sum_{i\in W} u_i^2 \le 1`.

    *Step 1 (magnitudes).* :math:`D = 2(1 - \sum_i\sqrt{\hat p_i p_i}) \le -2\ln\sum_i
    \sqrt{\hat p_i p_i} \le \mathrm{KL}(\hat p\,\|\,p)` (Jensen). The moment generating
    function of :math:`N\,\mathrm{KL}(\hat p\,\|\,p)` for :math:`N` multinomial draws over
    :math:`k = s` outcomes is at most that of a gamma variable of shape :math:`k-1` and rate 1
    [2]_, so :math:`\Pr[N\,\mathrm{KL} \ge t] \le e^{-t}(e t/(s-1))^{s-1}` for :math:`t > s-1`,
    which equals :math:`\alpha_1` at :math:`t = t_{s-1}(\alpha_1)`. Alternatively
    :math:`(\sqrt{a}-\sqrt{b})^2 \le |a-b|` gives :math:`D \le \lVert\hat p - p\rVert_1`, and
    :math:`\lVert\hat p - p\rVert_1 = 2\max_A(\hat p(A) - p(A))` with Hoeffding over the
    :math:`2^s-2` proper non-empty subsets :math:`A` of the support gives
    :math:`\Pr[\lVert\hat p - p\rVert_1 \ge \lambda] \le (2^s-2)e^{-N\lambda^2/2}`
    (Bretagnolle-Huber-Carol; [3]_, [4]_). Both thresholds are numbers, so the smaller one is
    valid; it is the first for :math:`N \gtrsim s`.

    *Step 2 (signs).* Given stage 1, the :math:`N` interference outcomes are independent; for
    entry :math:`i` the outcome of the right sign has probability :math:`q_r = (a_i+m_i)^2/4`,
    that of the wrong sign :math:`q_w = (a_i-m_i)^2/4`, and the rule errs only if
    :math:`n_w \ge n_r` (ties go to :math:`+1`). A Chernoff bound with one exponent
    :math:`e^{t_i} = \sqrt{q_r/q_w}` per entry, on disjoint outcomes, gives for any set
    :math:`R` of entries :math:`\Pr[R \subseteq W \mid m] \le (1 - \sum_{i\in R}(\sqrt{q_r} -
    \sqrt{q_w})^2)^N \le e^{-N\sum_{i\in R} u_i^2}`, since :math:`\sqrt{q_r} - \sqrt{q_w} =
    u_i`. Expanding :math:`e^{cNU} = \prod_i (1 + (e^{cNu_i^2} - 1)\mathbf 1_{i\in W})` and
    taking expectations term by term, :math:`\mathbb E[e^{cNU}\mid m] \le \prod_i (1 +
    y_i^{1-c} - y_i) \le g(c)^s` with :math:`y_i = e^{-Nu_i^2} \in (0, 1]` (the maximum over
    :math:`y` is at :math:`y = (1-c)^{1/c}`); Markov's inequality gives
    :math:`\Pr[U \ge \theta] \le g(c)^s e^{-cN\theta} = \alpha_2` at the :math:`U` above. No
    sign is chained to another, so a wrong sign costs only its own entry.

    *Step 3.* A union bound over the two failure events: probability at most
    :math:`\alpha_1 + \alpha_2 = \alpha`. Finally :math:`\lVert\hat x - x\rVert \le 2`
    for two unit vectors.

    The coverage is checked by simulation in ``tests/test_tomography.py`` (states with
    amplitudes down to :math:`10^{-16}`), the tightness in ``benchmarks/bench_tomography.py``.
    The sign rule of :func:`pair_signs` (Hadamard pairs, signs chained along a spanning tree)
    is a different estimator and is not covered by this bound.

    References
    ----------
    .. [1] I. Kerenidis, A. Prakash, ACM Trans. Quantum Comput. 1, 5 (2020), Sec. 4 (the
       estimator).
    .. [2] R. Agrawal, "Finite-sample concentration of the multinomial in relative entropy",
       IEEE Trans. Inf. Theory 66, 6297 (2020), arXiv:1904.02291, Theorem 1.2.
    .. [3] A. W. van der Vaart, J. A. Wellner, *Weak Convergence and Empirical Processes*,
       Springer (1996), Proposition A.6.6.
    .. [4] T. Weissman, E. Ordentlich, G. Seroussi, S. Verdú, M. J. Weinberger, "Inequalities
       for the L1 deviation of the empirical distribution", HP Labs HPL-2003-97 (2003).

    Examples
    --------
    >>> round(tomography_error_bound(16, 10_000), 4)  # the estimate is 0.0307
    0.1439
    >>> round(tomography_error_bound(16, 40_000) / tomography_error_bound(16, 10_000), 12)
    0.5

    Used in chapter 8 (the error budget of a quantum segment).
    """
    func = "tomography_error_bound"
    s = check_int(sparsity, "sparsity", func=func, minimum=1)
    shots = check_int(shots, "shots", func=func, minimum=1)
    confidence = _check_confidence(confidence, func)
    return _bound(s, shots, confidence)


def tomography_error_estimate(sparsity, shots, *, confidence=CONFIDENCE) -> float:
    r"""The asymptotic (delta-method) ``confidence`` quantile of the error of :func:`vector_tomography`.

    An *estimate*, not a bound: the magnitude stage estimates :math:`|x_i|` by
    :math:`\sqrt{\hat p_i}`, and by the delta method
    :math:`\sqrt{\hat p_i}-|x_i|\approx(\hat p_i-p_i)/(2|x_i|)`, so
    :math:`4\,\mathrm{shots}\,\lVert\hat x-x\rVert^2\approx\mathrm{shots}\sum_i(\hat p_i-p_i)^2/p_i`,
    Pearson's statistic, asymptotically :math:`\chi^2` with :math:`s-1` degrees of freedom. Hence

    .. math:: \delta_{\rm est} = \sqrt{\chi^2_{s-1}(\mathrm{confidence})\,/\,(4\,\mathrm{shots})}.

    This is accurate only when *every* non-zero amplitude has :math:`\mathrm{shots}\cdot
    x_i^2\gg1` (then a wrong sign has probability about :math:`e^{-\mathrm{shots}\,x_i^2}`).
    States with tiny amplitudes (a postselected state with entries near :math:`10^{-16}`, a
    decaying spectrum) exceed it far more often than ``1 - confidence``: the unseen entries and
    their random signs are not in the Pearson approximation. For a guarantee that holds for
    every state use :func:`tomography_error_bound`. Its typical value is :func:`predicted_error`.

    Parameters
    ----------
    sparsity : int
        :math:`s`, non-zero amplitudes of the state (>= 1).
    shots : int
        Copies per stage (>= 1).
    confidence : float, keyword-only
        In (0, 1).

    Returns
    -------
    float
        ``0.0`` for :math:`s = 1`.

    Raises
    ------
    ValueError
        For a non-integer or non-positive ``sparsity`` or ``shots``, or a ``confidence``
        outside :math:`(0, 1)`.

    References
    ----------
    .. [1] I. Kerenidis, A. Prakash, ACM Trans. Quantum Comput. 1, 5 (2020), Sec. 4.

    Examples
    --------
    >>> round(tomography_error_estimate(16, 10_000), 4)
    0.0307

    Used in chapter 5 (the typical error, next to the bound).
    """
    func = "tomography_error_estimate"
    s = check_int(sparsity, "sparsity", func=func, minimum=1)
    shots = check_int(shots, "shots", func=func, minimum=1)
    confidence = _check_confidence(confidence, func)
    if s == 1:
        return 0.0
    return float(math.sqrt(chi2.ppf(confidence, s - 1) / (4.0 * shots)))


def tomography_shots_for(sparsity, eps, *, confidence=CONFIDENCE) -> int:
    r"""The fewest copies per stage for which :func:`tomography_error_bound` is at most ``eps``.

    :math:`\min\{N \ge 1 : \delta(s, N, \alpha) \le \epsilon\}`, found by doubling and then
    bisection over the integers (the bound is non-increasing in :math:`N`: each of its terms
    is, for every fixed split of :math:`\alpha`). For :math:`N \gg s` this is about
    :math:`(\sqrt{t_{s-1}} + 2\sqrt{F})^2/\epsilon^2 = O((s + \ln(1/\alpha))/\epsilon^2)`,
    a guaranteed counterpart of the :math:`(s-1)/(4\epsilon^2)` of :func:`predicted_error`.

    Parameters
    ----------
    sparsity : int
        :math:`s \ge 1`, an upper bound on the non-zero amplitudes.
    eps : float
        Target l2 error, > 0 (any ``eps >= 2`` needs one copy).
    confidence : float, keyword-only
        In (0, 1).

    Returns
    -------
    int
        Copies per stage (``2 *`` that in all); 1 for :math:`s = 1`.

    Raises
    ------
    ValueError
        For bad ``sparsity``, ``eps`` or ``confidence``, or a target that needs more than
        ``TOMOGRAPHY_MAX_SHOTS`` copies per stage.

    Examples
    --------
    >>> n = tomography_shots_for(16, 0.1)
    >>> tomography_error_bound(16, n) <= 0.1 < tomography_error_bound(16, n - 1)
    True

    Used in chapter 8 (planning the shots of a segment).
    """
    func = "tomography_shots_for"
    s = check_int(sparsity, "sparsity", func=func, minimum=1)
    eps = check_positive(eps, "eps", func=func)
    confidence = _check_confidence(confidence, func)
    if _bound(s, 1, confidence) <= eps:
        return 1
    lo, hi = 1, 2  # bound(lo) > eps throughout
    while _bound(s, hi, confidence) > eps:
        if hi >= TOMOGRAPHY_MAX_SHOTS:
            raise ValueError(
                f"{func}: eps = {eps:.6g} with sparsity = {s} and confidence = {confidence} needs more than "
                f"TOMOGRAPHY_MAX_SHOTS = {TOMOGRAPHY_MAX_SHOTS:.0e} copies per stage"
            )
        lo, hi = hi, min(2 * hi, TOMOGRAPHY_MAX_SHOTS)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _bound(s, mid, confidence) <= eps:
            hi = mid
        else:
            lo = mid
    return hi
