r"""A priori guarantees of a quantum training segment, stated before it runs, and a planner that uses them.

A segment of :func:`qsgd.pipeline.quantum_gd` approximates :math:`T` steps of exact gradient
descent in four stages, and its error telescopes into four terms (the module docstring of
:mod:`qsgd.pipeline`). :func:`segment_guarantee` bounds each term from what is known *before* the
segment runs -- the expansion point, :math:`\eta`, :math:`T`, :math:`N`, the coefficients
:math:`F_\ell` of the polynomial map, bounds on the loss's derivatives, the Eq. 6 matrix and the
spectral bounds handed to the solver, the copies and the confidence -- never from the gradient-
descent trajectory or from any solution:

===============  =====================================================================================
term             a priori bound
===============  =====================================================================================
Taylor           :func:`qsgd.gd.taylor_error_bound`: the Taylor remainders of the steps, propagated with
                 :math:`1+\eta H`, from :class:`qsgd.derivative_bounds.DerivativeBounds` (none for an
                 arbitrary loss: then the guarantee is incomplete, and says so)
truncation       :func:`qsgd.carleman_bounds.truncation_error_bound`: the discrete analogue of PNAS
                 Lemma 1, from the coefficient norms, the trajectory radius and the powers of the
                 truncated Carleman matrix
solver           the registry's a priori state bound (:attr:`qsgd.solvers.Solver.bound`; HHL: the
                 phase-estimation analysis of :func:`qsgd.hhl.hhl_error_bound`), mapped to the weights
                 by the read-out (:func:`qsgd.history.readout_error_bound`) with a priori norms
tomography       :func:`qsgd.tomography_bounds.tomography_error_bound`, a finite-sample bound valid for every
                 state at the stated confidence, mapped to the weights the same way
===============  =====================================================================================

**The read-out norms, a priori.** The read-out divides by the anchor block :math:`a = F_0/\|Y\|`
of the normalized history state and multiplies by the final block :math:`c = \hat y_1(T)/\|Y\|`.
With :math:`\|Y\| = \|L^{-1}\mathrm{rhs}\| \le \|\mathrm{rhs}\|/\sigma_{\min}(L)`,
:math:`\|a\| \ge a_- = \|F_0\|\sigma_{\min}/\|\mathrm{rhs}\|`, and
:math:`\|c\|/\|a\| = \|\hat y_1(T)\|/\|F_0\| \le \varrho = (R_T + \tau_T)/\|F_0\|` with
:math:`R_T \ge \|v_T\|` (the map's trajectory radius) and :math:`\tau_T` the truncation bound.
:func:`qsgd.history.readout_error_bound` is decreasing in the anchor norm and increasing in the
final one, so these bounds make it an upper bound. The tomography acts on the postselected block,
normalized: there the exact anchor is :math:`\ge 1/\sqrt{1+(p+1)\varrho^2}`, the solver's output
anchor at least that minus :math:`2\delta_{\rm solver}/a_-` (a normalized sub-block of a state
within :math:`\delta` moves by at most :math:`2\delta/\|\text{block}\|`), and the final block of a
unit vector is at most 1.

The guarantee holds with probability at least ``confidence`` (the tomography term is the only
random one). An infinite term, or a total above the caller's tolerance, is a failed guarantee:
:func:`qsgd.pipeline.quantum_gd` then returns ``success=False`` with the message of
:attr:`Guarantee.message`, and warns (:class:`GuaranteeWarning`).

:func:`plan_segment` is the planner: for a tolerance :math:`\epsilon` it finds the longest
:math:`T` (with the fewest clock qubits and copies) whose a priori bound meets :math:`\epsilon`.

Used in chapters 6 and 8.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from qsgd._validation import check_int, check_positive, describe
from qsgd.carleman import discrete_carleman
from qsgd.carleman_bounds import a_priori_radius, truncation_error_bound
from qsgd.decomposition import Decomposition, SpectralBounds, decompose
from qsgd.derivative_bounds import DerivativeBounds
from qsgd.gd import taylor_error_bound
from qsgd.history import history_system, readout_error_bound
from qsgd.solvers import SOLVERS, LinearSystem
from qsgd.tomography_bounds import tomography_error_bound

__all__ = ["GuaranteeWarning", "Guarantee", "segment_guarantee", "SegmentPlan", "plan_segment"]

#: the four terms of the guarantee, in the order of the pipeline's stages
TERMS = ("taylor", "truncation", "solver", "tomography")


class GuaranteeWarning(UserWarning):
    """A segment's a priori guarantee failed: a term is infinite or the total exceeds the tolerance."""


@dataclass(frozen=True)
class Guarantee:
    r"""The a priori error guarantee of one segment on :math:`\lVert\theta-\theta_{\rm GD}(T)\rVert`.

    Attributes
    ----------
    terms : dict of str -> float
        ``"taylor"``, ``"truncation"``, ``"solver"`` and ``"tomography"``: each term's a priori bound on
        the weights (``inf`` when nothing finite is proven; ``nan`` for the Taylor term of a loss
        without derivative bounds).
    total : float
        Their sum (``inf`` unless every term is finite).
    solver_state, tomography_state : float
        The solver's and the tomography's bounds on their normalized output states.
    radius : ndarray
        :math:`R_t \ge \lVert v_t\rVert`, the trajectory radius the Taylor and truncation terms use.
    anchor, ratio : float
        :math:`a_-` and :math:`\varrho` of the module docstring.
    f0_norm : float
        :math:`\lVert F_0\rVert`.
    confidence : float
        The guarantee holds with at least this probability.
    tolerance : float or None
        The caller's tolerance on ``total``.
    complete : bool
        Every term has an a priori bound (False for an arbitrary loss: no derivative bounds).
    success : bool
        No term is infinite, and, with a ``tolerance``, the guarantee is complete and ``total`` is
        within it.
    message : str
    """

    terms: dict
    total: float
    solver_state: float
    tomography_state: float
    radius: np.ndarray
    anchor: float
    ratio: float
    f0_norm: float
    confidence: float
    tolerance: float | None
    complete: bool
    success: bool
    message: str

    @property
    def dominant(self) -> str:
        """The term with the largest bound."""
        finite = {k: (v if not math.isnan(v) else math.inf) for k, v in self.terms.items()}
        return max(finite, key=finite.get)


def _radius(pmap, steps: int, derivative_bounds) -> tuple[np.ndarray, float, Any]:
    """Trajectory radii of the map and the Taylor term (``nan`` without derivative bounds)."""
    if derivative_bounds is None:
        return np.asarray(a_priori_radius(pmap, steps=steps), dtype=float), math.nan, None
    taylor = taylor_error_bound(pmap, steps, derivative_bounds)
    radius = np.asarray(taylor.radius_bound, dtype=float)  # the same coefficient-norm radius
    if taylor.success:
        # ||v_t|| <= ||u_t|| + ||u_t - v_t||: the GD displacement bound plus the Taylor bound
        radius = np.minimum(radius, np.asarray(taylor.displacement_bound) + np.asarray(taylor.per_step))
    return radius, float(taylor.bound), taylor


def _tomography_term(s, n: int, solver_state: float, anchor: float, ratio: float, f0_norm: float):
    """The tomography bound on the postselected block and on the weights (module docstring)."""
    if s.shots is None:
        return 0.0, 0.0
    copies = s.padding + 1
    state = float(tomography_error_bound((1 + copies) * n, s.shots, confidence=s.confidence))
    selected_anchor = 1.0 / math.sqrt(1.0 + copies * ratio**2) if math.isfinite(ratio) else 0.0
    shift = 2.0 * solver_state / anchor if anchor > 0 else math.inf
    return state, _readout_term(state, anchor=selected_anchor - shift, final=1.0, f0_norm=f0_norm, copies=copies)


def _readout_term(delta: float, *, anchor: float, final: float, f0_norm: float, copies: int) -> float:
    """:func:`qsgd.history.readout_error_bound` with a priori norms (``inf`` when it proves nothing)."""
    if not (math.isfinite(delta) and anchor > 0 and math.isfinite(final)):
        return math.inf
    return float(readout_error_bound(delta, anchor_norm=anchor, final_norm=final, f0_norm=f0_norm, copies=copies))


def segment_guarantee(pmap, settings, *, C=None, L=None, rhs=None, decomposition=None, derivative_bounds=None,
                      tolerance=None, bounds=None) -> Guarantee:
    r"""The a priori guarantee of a segment of ``settings`` started at the expansion point of ``pmap``.

    Parameters
    ----------
    pmap : qsgd.gd.PolynomialMap
        The GD step's polynomial map at the segment's start (its coefficients, :math:`\eta`, degree).
    settings : qsgd.pipeline.SegmentSettings
        ``steps``, ``order``, ``basis``, ``padding``, ``solver`` (with ``clock_qubits`` or
        ``accuracy``), ``shots`` and ``confidence``.
    C, L, rhs, decomposition : optional
        The truncated Carleman matrix, the Eq. 6 matrix and right-hand side, and the matrix's
        :class:`qsgd.decomposition.Decomposition`; built here when not given (the pipeline passes
        its own, so nothing is computed twice).
    derivative_bounds : DerivativeBounds, optional
        Bounds on the loss's derivatives (:mod:`qsgd.derivative_bounds`); without them the Taylor
        term has no a priori bound and the guarantee is incomplete.
    tolerance : float, optional
        Fail the guarantee when the total exceeds it.
    bounds : SpectralBounds, optional
        Instead of ``decomposition``: bounds on the singular values of ``L`` (for instance a
        :class:`qsgd.matfun.SingularValueBracket`'s ``bounds``, which hold with its confidence); the
        solver then runs matrix-free.

    Returns
    -------
    Guarantee

    Used in chapters 6 and 8.
    """
    func = "segment_guarantee"
    s = settings
    if derivative_bounds is not None and not isinstance(derivative_bounds, DerivativeBounds):
        raise ValueError(f"{func}: derivative_bounds must be a DerivativeBounds (see qsgd.derivative_bounds), "
                         f"got {describe(derivative_bounds)}")
    if tolerance is not None:
        tolerance = check_positive(tolerance, "tolerance", func=func)
    F = list(pmap.coefficients)
    n = int(pmap.n)
    f0 = np.asarray(F[0], dtype=float).reshape(-1)
    f0_norm = float(np.linalg.norm(f0))
    if C is None or L is None or rhs is None:
        C, b = discrete_carleman(F, order=s.order, basis=s.basis)
        L, rhs = history_system(C, b, np.zeros(C.shape[0]), s.steps, padding=s.padding)
    if bounds is not None:
        if decomposition is not None or not isinstance(bounds, SpectralBounds):
            raise ValueError(f"{func}: give either decomposition= or bounds= (a SpectralBounds), got "
                             f"bounds={describe(bounds)}")
        spectral = bounds
    elif decomposition is None:
        decomposition = decompose(L, method="normal", func=func)
        spectral = decomposition.bounds
    elif not isinstance(decomposition, Decomposition):
        raise ValueError(f"{func}: decomposition must be a Decomposition, got {describe(decomposition)}")
    else:
        spectral = decomposition.bounds

    radius, taylor, _ = _radius(pmap, s.steps, derivative_bounds)
    truncation = truncation_error_bound(F, C, steps=s.steps, order=s.order, radius=radius, basis=s.basis)
    tau = float(truncation.bound) if truncation.success else math.inf

    copies = s.padding + 1
    rhs_norm = float(np.linalg.norm(rhs))
    anchor = f0_norm * float(spectral.lower) / rhs_norm if rhs_norm > 0 else 0.0
    ratio = (float(radius[-1]) + tau) / f0_norm if f0_norm > 0 else math.inf

    system = LinearSystem(matrix=L, rhs=np.asarray(rhs, dtype=float) / rhs_norm, decomposition=decomposition,
                          bounds=None if decomposition is not None else spectral)
    solver_state = float(SOLVERS[s.solver].bound(system, s))
    solver = _readout_term(solver_state, anchor=anchor, final=ratio * anchor, f0_norm=f0_norm, copies=copies)

    tomography_state, tomography = _tomography_term(s, n, solver_state, anchor, ratio, f0_norm)

    terms = {"taylor": taylor, "truncation": tau, "solver": solver, "tomography": tomography}
    complete = not math.isnan(taylor)
    total = float(sum(terms.values())) if complete else math.inf
    success, message = _verdict(terms, total, tolerance, complete)
    message = message.replace("{confidence}", f"{s.confidence:g}")
    return Guarantee(terms=terms, total=total, solver_state=solver_state, tomography_state=tomography_state,
                     radius=radius, anchor=float(anchor), ratio=float(ratio), f0_norm=f0_norm,
                     confidence=float(s.confidence),
                     tolerance=tolerance, complete=complete, success=success, message=message)


def _verdict(terms: dict, total: float, tolerance, complete: bool) -> tuple[bool, str]:
    """Success and message: an infinite term fails; a tolerance fails an incomplete or too large bound."""
    infinite = [k for k, v in terms.items() if not math.isnan(v) and not math.isfinite(v)]
    if infinite:
        return False, f"no finite a priori guarantee: the {', '.join(infinite)} bound is infinite"
    missing = ("no a priori bound for the Taylor term: the loss comes without derivative bounds "
               "(qsgd.derivative_bounds); the report's Taylor estimate is computed after the fact")
    if not complete:
        if tolerance is not None:
            return False, f"the tolerance {tolerance:.3g} cannot be certified: {missing}"
        return True, missing
    if tolerance is not None and total > tolerance:
        dominant = max(terms, key=terms.get)
        return False, (f"the a priori bound {total:.3g} exceeds the tolerance {tolerance:.3g} "
                       f"(largest term: {dominant}, {terms[dominant]:.3g})")
    within = "" if tolerance is None else f" <= tolerance {tolerance:.3g}"
    return True, f"a priori bound {total:.3g}{within} (confidence {{confidence}})"


@dataclass(frozen=True)
class SegmentPlan:
    r"""What :func:`plan_segment` chose: the settings whose a priori bound meets the tolerance.

    Attributes
    ----------
    settings : SegmentSettings
        The input settings with the chosen ``steps``, ``clock_qubits`` and ``shots``, and
        ``tolerance`` set, so that every segment run with them checks its own guarantee.
    guarantee : Guarantee
        The a priori guarantee of the planned segment.
    tried : tuple of (int, float)
        ``(T, bound of the Taylor and truncation terms)`` for every T examined.
    """

    settings: Any
    guarantee: Guarantee
    tried: tuple


def plan_segment(pmap, settings, *, tolerance, derivative_bounds, max_steps=50, max_clock_qubits=20):
    r"""The longest segment, with the fewest clock qubits and copies, whose a priori bound meets ``tolerance``.

    The budget is split in half: the Taylor and truncation terms, which grow with :math:`T`, get
    :math:`\epsilon/2`; the solver and the tomography a quarter each. ``T`` is the largest value up
    to ``max_steps`` whose first half fits (both terms are non-decreasing in :math:`T`, so the search
    stops at the first failure); then the fewest clock qubits whose solver term fits (HHL), and the
    fewest copies whose tomography term fits (:func:`qsgd.tomography_bounds.tomography_shots_for` would
    bound the state only; here the read-out is included, by doubling and bisection).

    Parameters
    ----------
    pmap : qsgd.gd.PolynomialMap
        The GD step's polynomial map at the segment's start (with the settings' ``eta`` and ``degree``).
    settings : SegmentSettings
    tolerance : float
        :math:`\epsilon > 0` on :math:`\lVert\theta-\theta_{\rm GD}(T)\rVert`.
    derivative_bounds : DerivativeBounds
        Required: without them no segment has an a priori bound.
    max_steps, max_clock_qubits : int

    Returns
    -------
    SegmentPlan

    Raises
    ------
    ValueError
        When not even ``T = 1`` meets the tolerance (the message says which term fails).

    Used in chapter 8.
    """
    func = "plan_segment"
    tolerance = check_positive(tolerance, "tolerance", func=func)
    max_steps = check_int(max_steps, "max_steps", func=func, minimum=1, maximum=10_000)
    max_clock = check_int(max_clock_qubits, "max_clock_qubits", func=func, minimum=2, maximum=62)
    if not isinstance(derivative_bounds, DerivativeBounds):
        raise ValueError(f"{func}: derivative_bounds must be a DerivativeBounds: without them no segment has an "
                         f"a priori bound, got {describe(derivative_bounds)}")
    F = list(pmap.coefficients)
    C, _ = discrete_carleman(F, order=settings.order, basis=settings.basis)
    tried, best = [], None
    for T in range(1, max_steps + 1):
        radius, taylor, _ = _radius(pmap, T, derivative_bounds)
        trunc = truncation_error_bound(F, C, steps=T, order=settings.order, radius=radius, basis=settings.basis)
        first = taylor + (trunc.bound if trunc.success else math.inf)
        tried.append((T, float(first)))
        if not first <= tolerance / 2:
            break
        best = T
    if best is None:
        raise ValueError(f"{func}: no segment meets tolerance={tolerance:g}: at T = 1 the Taylor and truncation "
                         f"bounds alone are {tried[0][1]:.3g} > tolerance/2")
    failures = []
    for T in range(best, 0, -1):  # the longest T first; a shorter one may leave room for the solver and copies
        planned = _solver_and_copies(pmap, replace(settings, steps=T), derivative_bounds, tolerance, max_clock)
        if isinstance(planned, str):
            failures.append(f"T = {T}: {planned}")
            continue
        s, L, rhs, dec = planned
        guarantee = segment_guarantee(pmap, s, L=L, rhs=rhs, decomposition=dec, derivative_bounds=derivative_bounds,
                                      tolerance=tolerance)
        return SegmentPlan(settings=replace(s, tolerance=tolerance), guarantee=guarantee, tried=tuple(tried))
    raise ValueError(f"{func}: no segment meets tolerance={tolerance:g}: " + "; ".join(failures))


def _solver_and_copies(pmap, s, derivative_bounds, tolerance: float, max_clock: int):
    """The clock size and copies of the cheapest device run for segment settings ``s``, or why there is none.

    Among the clock sizes whose solver term fits its quarter of the budget and leaves the tomography
    term reachable, the one whose copies times controlled-:math:`e^{iHt}` queries (:math:`2^c`) is
    smallest; each with the fewest copies that fit the last quarter.
    """
    L, rhs, dec = _system(pmap, s)
    clocks = range(2, max_clock + 1) if s.solver == "hhl" else (s.clock_qubits,)
    best = None
    for c in clocks:
        base = segment_guarantee(pmap, replace(s, clock_qubits=c, shots=None), L=L, rhs=rhs, decomposition=dec,
                                 derivative_bounds=derivative_bounds)
        if not base.terms["solver"] <= tolerance / 4:
            continue
        if s.shots is None:
            return replace(s, clock_qubits=c), L, rhs, dec
        shots = _fewest_shots(pmap.n, replace(s, clock_qubits=c), base, tolerance / 4)
        if shots is not None and (best is None or shots * 2**c < best[1] * 2 ** best[0]):
            best = (c, shots)
    if best is None:
        return (f"up to {max_clock} clock qubits, no solver term <= tolerance/4 = {tolerance / 4:g} that leaves "
                "the tomography term finite")
    return replace(s, clock_qubits=best[0], shots=best[1]), L, rhs, dec


def _system(pmap, s):
    C, b = discrete_carleman(list(pmap.coefficients), order=s.order, basis=s.basis)
    L, rhs = history_system(C, b, np.zeros(C.shape[0]), s.steps, padding=s.padding)
    return L, rhs, decompose(L, method="normal", func="plan_segment")


def _fewest_shots(n: int, s, base: Guarantee, budget: float) -> int | None:
    """Fewest copies per tomography stage whose weight-space term is within ``budget`` (doubling, then
    bisection: the term falls with the copies), rounded up to three significant digits; None when even
    10**15 copies do not reach it."""
    def term(shots: int) -> float:
        return _tomography_term(replace(s, shots=shots), n, base.solver_state, base.anchor, base.ratio,
                                base.f0_norm)[1]

    if not term(10**15) <= budget:
        return None
    hi = 100
    while term(hi) > budget:
        hi *= 2
    lo = hi // 2 if hi > 100 else 1
    while lo < hi:
        mid = (lo + hi) // 2
        if term(mid) <= budget:
            hi = mid
        else:
            lo = mid + 1
    return _round_up(int(hi))


def _round_up(count: int, digits: int = 3) -> int:
    """``count`` rounded up to ``digits`` significant digits: more copies only lower the bound, and a plan
    that does not hang on the last bits of the spectrum reads the same on every machine."""
    scale = 10 ** max(len(str(count)) - digits, 0)
    return -(-count // scale) * scale
