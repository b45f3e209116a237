r"""HHL's parameters: the one policy that turns spectral bounds and a clock size into :class:`HHLParameters`.

The circuit (:mod:`qsgd.hhl.circuit`), its Aer simulation (:mod:`qsgd.hhl.solve`), the
algorithm-level model (:mod:`qsgd.hhl.model`) and the error bound (:mod:`qsgd.hhl.bound`) all run
from one frozen :class:`HHLParameters`, made by :func:`hhl_parameters`. The clock-qubit count
that a target accuracy needs has one formula, :func:`required_clock_qubits`, which the cost model
(:mod:`qsgd.cost`) uses as well.

**Evolution time** (from bounds :math:`\lambda_{\min}\le|\lambda|\le\lambda_{\max}` of the
Hermitian matrix :math:`H` that HHL inverts):

* ``headroom=None`` (chapter 4's textbook rule): positive-definite :math:`H`:
  :math:`t = \pi/\lambda_{\max}` (:math:`\lambda_{\max}` at phase :math:`1/2`); indefinite
  :math:`H` (a dilation): :math:`t = 2\pi(2^{c-1}-1)/(2^c\lambda_{\max})`, the last bin of the
  signed clock;
* ``headroom=h`` (chapter 8's rule, :data:`PHASE_HEADROOM` = 3/8): :math:`\lambda_{\max}` at phase
  :math:`h < 1/2`, :math:`t = 2\pi h/\lambda_{\max}`, below the wrap-around point.

**Reciprocal rotation.** ``ExactReciprocalGate`` (scaling :math:`s_{\rm ERG}`) rotates the flag
to :math:`C/\tilde\lambda`; it is made full at clock bin
:math:`\max(1, \lfloor k_{\min}/\mathrm{margin}\rfloor)`, :math:`k_{\min} = \lambda_{\min}t\,2^c/2\pi`
the bin of the smallest modulus (``margin`` = :data:`INVERSION_MARGIN` = 2: one octave of
head-room, so that what phase estimation leaks below :math:`k_{\min}` is still inverted). The
constant is :math:`C = 2\pi s_{\rm ERG}/t` (definite) or :math:`\pi s_{\rm ERG}/t` (indefinite).
With :math:`k_{\min} < 1` the clock cannot resolve :math:`\lambda_{\min}` and
:class:`HHLResolutionWarning` is issued.

References
----------
.. [1] A. W. Harrow, A. Hassidim, S. Lloyd, Phys. Rev. Lett. 103, 150502 (2009).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from qsgd._validation import check_choice, check_int, check_positive, describe
from qsgd.decomposition import Decomposition, SpectralBounds, spectral_bounds

__all__ = [
    "HHLResolutionWarning",
    "HHLParameters",
    "hhl_parameters",
    "required_clock_qubits",
    "PHASE_HEADROOM",
    "INVERSION_MARGIN",
    "BOUNDS_RTOL",
    "MAX_CLOCK_QUBITS",
]

#: chapter 8's rule: the largest modulus at this phase (below the wrap-around point 1/2)
PHASE_HEADROOM = 3 / 8

#: the reciprocal rotation is full at clock bin floor(k_min / INVERSION_MARGIN)
INVERSION_MARGIN = 2

#: relative tolerance of the check that given eigenvalue bounds enclose the spectrum
BOUNDS_RTOL = 1e-6

#: most clock qubits any HHL function accepts (2^62 bins; the model's size guard refuses far fewer)
MAX_CLOCK_QUBITS = 62


class HHLResolutionWarning(UserWarning):
    """The clock register is too short to resolve the smallest eigenvalue."""


@dataclass(frozen=True)
class HHLParameters:
    r"""Everything the HHL circuit, its simulation, its model and its error bound need, fixed before a run.

    Attributes
    ----------
    clock_qubits : int
        :math:`c`.
    evolution_time : float
        :math:`t` in :math:`e^{iHt}`.
    scaling : float
        The ``ExactReciprocalGate`` scaling :math:`s_{\rm ERG}`.
    constant : float
        :math:`C`: the flag amplitude is :math:`C/\lambda`.
    bounds : SpectralBounds
        The bounds the parameters were chosen from.
    headroom : float or None
        The policy: None for chapter 4's textbook rule, else the phase of :math:`\lambda_{\max}`.
    margin : float
        The rotation margin.
    """

    clock_qubits: int
    evolution_time: float
    scaling: float
    constant: float
    bounds: SpectralBounds
    headroom: float | None
    margin: float

    @property
    def definite(self) -> bool:
        """Unsigned clock (positive-definite :math:`H`)."""
        return self.bounds.definite

    @property
    def bin_of_min(self) -> float:
        r"""Clock bin :math:`k_{\min} = \lambda_{\min}t\,2^c/2\pi` of the smallest modulus."""
        return self.bounds.lower * self.evolution_time * 2**self.clock_qubits / (2 * math.pi)

    @property
    def queries(self) -> int:
        r"""Controlled :math:`e^{iHt}` applications per run: :math:`2(2^c - 1)` (phase estimation and its inverse)."""
        return 2 * (2**self.clock_qubits - 1)


def required_clock_qubits(condition_number: float, accuracy: float, *, definite: bool = True) -> int:
    r"""Fewest clock qubits that place :math:`\lambda_{\min}` at clock bin :math:`\ge 1/\epsilon`.

    With the textbook evolution time the smallest eigenvalue falls at bin
    :math:`k_{\min} = 2^{c-1}/\kappa` (definite) or :math:`(2^{c-1}-1)/\kappa` (indefinite); the
    relative error of :math:`1/\tilde\lambda` there is about :math:`1/(2k_{\min})`. This returns
    the least :math:`c` with :math:`k_{\min} \ge 1/\epsilon`, i.e.
    :math:`c \approx 1 + \log_2(\kappa/\epsilon)` -- the :math:`O(\log(\kappa/\epsilon))` clock of
    HHL [1]_. The package's one clock-qubit formula (the cost model uses it too).

    Parameters
    ----------
    condition_number : float
        :math:`\kappa \ge 1`.
    accuracy : float
        :math:`\epsilon \in (0, 1]`.
    definite : bool, default True
        False when a sign bit is needed (dilation or indefinite :math:`A`).

    Returns
    -------
    int

    Examples
    --------
    >>> required_clock_qubits(2.0, 0.5)
    3
    """
    func = "required_clock_qubits"
    kappa = check_positive(condition_number, "condition_number", func=func)
    eps = check_positive(accuracy, "accuracy", func=func)
    if kappa < 1.0:
        raise ValueError(f"{func}: condition_number must be >= 1, got {kappa}")
    if eps > 1.0:
        raise ValueError(f"{func}: accuracy must be in (0, 1], got {eps}")
    if not isinstance(definite, (bool, np.bool_)):
        raise ValueError(f"{func}: definite must be True or False, got {describe(definite)}")
    if math.log2(kappa) - math.log2(eps) > 1000:
        raise ValueError(
            f"{func}: condition_number/accuracy = {kappa / eps:.3g} would need about "
            f"{1 + math.log2(kappa) - math.log2(eps):.0f} clock qubits, beyond any simulation"
        )
    c = 1 if definite else 2
    while _textbook_bin_of_min(kappa, c, bool(definite)) < 1.0 / eps * (1 - 1e-12):
        c += 1
    return c


def _textbook_bin_of_min(kappa: float, c: int, definite: bool) -> float:
    return (2 ** (c - 1) if definite else 2 ** (c - 1) - 1) / kappa


def _rotation_scaling(lower: float, t: float, c: int, definite: bool, *, margin: float) -> float:
    r"""The ``ExactReciprocalGate`` scaling: full rotation at clock bin :math:`\max(1, \lfloor k_{\min}/
    \mathrm{margin}\rfloor)`, :math:`k_{\min} = \lambda_{\min} t\, 2^c/2\pi`."""
    kmin = lower * t * 2**c / (2 * math.pi)
    full = max(1, math.floor(kmin / margin + 1e-9))
    return full / (2**c if definite else 2 ** (c - 1))


def _constant(scaling: float, t: float, definite: bool) -> float:
    r"""The reciprocal constant :math:`C` (flag amplitude :math:`C/\lambda`)."""
    return float((2 * math.pi if definite else math.pi) * scaling / t)


def _default_time(bounds: SpectralBounds, c: int, headroom: float | None) -> float:
    """The evolution time of the policy (module docstring)."""
    if headroom is not None:
        return 2.0 * math.pi * headroom / bounds.upper
    if bounds.definite:
        return math.pi / bounds.upper
    return 2 * math.pi * (2 ** (c - 1) - 1) / (2**c * bounds.upper)


def check_enclosure(bounds: SpectralBounds, exact: SpectralBounds | None, func: str) -> SpectralBounds:
    """Refuse given bounds that clearly miss the exact eigenvalue moduli.

    ``lower`` may exceed the smallest modulus, and ``upper`` fall below the largest, by
    :data:`BOUNDS_RTOL` (relative) at most: beyond that the clock would not resolve the
    smallest eigenvalue or would wrap the largest one, and the output would be wrong.
    """
    if exact is None:
        return bounds
    if bounds.lower > exact.lower * (1 + BOUNDS_RTOL) or bounds.upper < exact.upper * (1 - BOUNDS_RTOL):
        raise ValueError(
            f"{func}: eigenvalue_bounds ({bounds.lower:.6g}, {bounds.upper:.6g}) do not enclose the eigenvalue "
            f"moduli of the inverted matrix, which lie in [{exact.lower:.6g}, {exact.upper:.6g}] "
            f"(relative tolerance {BOUNDS_RTOL:g}); the HHL output would be wrong"
        )
    if bounds.definite and not exact.definite:
        raise ValueError(
            f"{func}: eigenvalue_bounds say the inverted matrix is positive definite, but it is not "
            "(indefinite, or dilated because A is not symmetric); the unsigned clock would misread "
            "its negative eigenvalues"
        )
    return bounds


def resolve_bounds(eigenvalue_bounds: Any, *, exact: SpectralBounds, mat: np.ndarray | None, func: str,
                   max_bytes: float | None = None) -> SpectralBounds:
    """The ``eigenvalue_bounds`` argument of the HHL functions as :class:`SpectralBounds`.

    ``None`` or ``"exact"``: the exact bounds; ``"gershgorin"``: Gershgorin discs of ``mat``;
    a :class:`SpectralBounds` or a pair ``(lower, upper)``: checked against the exact bounds
    (:func:`check_enclosure`), the definiteness taken from them.
    """
    if isinstance(eigenvalue_bounds, SpectralBounds):
        return check_enclosure(eigenvalue_bounds, exact, func)
    if eigenvalue_bounds is None or isinstance(eigenvalue_bounds, str):
        method = "exact" if eigenvalue_bounds is None else eigenvalue_bounds
        check_choice(method, "eigenvalue_bounds", {"exact"} if mat is None else {"exact", "gershgorin"}, func=func)
        if method == "exact":
            return exact
        return spectral_bounds(mat, method=method, max_bytes=max_bytes, func=func)
    if isinstance(eigenvalue_bounds, (bytes, dict, set)) or np.ndim(eigenvalue_bounds) != 1:
        raise ValueError(
            f"{func}: eigenvalue_bounds must be (lower, upper), a method name or SpectralBounds, "
            f"got {describe(eigenvalue_bounds)}"
        )
    try:
        lo, hi = eigenvalue_bounds
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{func}: eigenvalue_bounds must be (lower, upper), a method name or SpectralBounds, "
            f"got {describe(eigenvalue_bounds)}"
        ) from exc
    lo = check_positive(lo, "eigenvalue_bounds[0]", func=func)
    hi = check_positive(hi, "eigenvalue_bounds[1]", func=func)
    if lo > hi:
        raise ValueError(f"{func}: eigenvalue_bounds must satisfy lower <= upper, got ({lo}, {hi})")
    return check_enclosure(SpectralBounds(lo, hi, exact.definite, exact.dilated, "known"), exact, func)


def _as_bounds(bounds: Any, func: str) -> SpectralBounds:
    """SpectralBounds from a SpectralBounds, a Decomposition or a pair (lower, upper) of a dilated system."""
    if isinstance(bounds, SpectralBounds):
        return bounds
    if isinstance(bounds, Decomposition):
        return bounds.bounds
    if isinstance(bounds, (str, bytes, dict, set)) or np.ndim(bounds) != 1 or np.size(bounds) != 2:
        raise ValueError(f"{func}: bounds must be a SpectralBounds, a Decomposition or a pair (lower, upper), "
                         f"got {describe(bounds)}")
    lower = check_positive(bounds[0], "lower", func=func)
    upper = check_positive(bounds[1], "upper", func=func)
    if lower > upper:
        raise ValueError(f"{func}: need lower <= upper, got lower={lower}, upper={upper}")
    return SpectralBounds(lower, upper, False, True, "known")


def given_parameters(parameters: Any, clock_qubits: Any, keywords: dict, func: str) -> Any:
    """The clock size of a call that gives either ``parameters=`` or the HHL keywords, checked.

    ``parameters`` must be an :class:`HHLParameters` or None; with it, none of ``keywords`` (name ->
    value of ``evolution_time``, ``scaling``, ``eigenvalue_bounds``, ``accuracy``) may be given, and
    ``clock_qubits`` only if it agrees. Returns the clock size to use (ValueError when there is none).
    """
    if parameters is not None:
        if not isinstance(parameters, HHLParameters):
            raise ValueError(f"{func}: parameters must be an HHLParameters (see hhl_parameters), "
                             f"got {describe(parameters)}")
        given = [k for k, v in keywords.items() if v is not None]
        if given or (clock_qubits is not None and clock_qubits != parameters.clock_qubits):
            raise ValueError(f"{func}: give parameters= or the keywords {given or ['clock_qubits']}, not both")
        clock_qubits = parameters.clock_qubits
    if clock_qubits is None:
        raise ValueError(f"{func}: clock_qubits is required (or parameters=HHLParameters)")
    return clock_qubits


def hhl_parameters(bounds: Any, *, clock_qubits: int, headroom: float | None = None,
                   margin: float = INVERSION_MARGIN, evolution_time: float | None = None,
                   scaling: float | None = None, accuracy: float | None = None, func: str | None = None,
                   stacklevel: int = 2) -> HHLParameters:
    r"""The HHL parameters for a spectrum and a clock: the package's one parameter policy.

    Parameters
    ----------
    bounds : SpectralBounds, Decomposition or (lower, upper)
        Bounds on the eigenvalue moduli of the inverted Hermitian matrix; a pair stands for the
        singular values of a non-symmetric matrix (a dilation: signed clock).
    clock_qubits : int
        :math:`c` (at least 2 for an indefinite or dilated system, which spends one on the sign).
    headroom : float or None
        None: chapter 4's textbook evolution time; else the phase of :math:`\lambda_{\max}`, in
        (0, 1/2) (chapter 8 uses :data:`PHASE_HEADROOM`).
    margin : float, default 2
        >= 1; the rotation is full at clock bin :math:`\max(1,\lfloor k_{\min}/\mathrm{margin}\rfloor)`.
    evolution_time : float, optional
        Keep this :math:`t` (it must not wrap :math:`\lambda_{\max}` around the clock).
    scaling : float, optional
        Keep this ``ExactReciprocalGate`` scaling, in (0, 1].
    accuracy : float, optional
        Refuse a clock too short for relative accuracy :math:`\epsilon` at :math:`\lambda_{\min}`
        (:math:`k_{\min}\ge 1/\epsilon`); the message says how many clock qubits are needed.

    Returns
    -------
    HHLParameters

    Raises
    ------
    ValueError
        Bad bounds, too few or too many clock qubits, a headroom outside (0, 1/2), a margin
        below 1, a wrapping evolution time, a scaling outside (0, 1], an unmet accuracy.

    Warns
    -----
    HHLResolutionWarning
        When :math:`k_{\min} < 1`: the clock cannot resolve the smallest eigenvalue.

    Examples
    --------
    >>> p = hhl_parameters(SpectralBounds(2 / 3, 4 / 3, True, False, "exact"), clock_qubits=3)
    >>> round(p.evolution_time / (2 * math.pi), 4), p.scaling
    (0.375, 0.125)
    """
    func = func or "hhl_parameters"
    sb = _as_bounds(bounds, func)
    c = check_int(clock_qubits, "clock_qubits", func=func, minimum=1, maximum=MAX_CLOCK_QUBITS)
    if not sb.definite and c < 2:
        raise ValueError(
            f"{func}: clock_qubits={c} is too few for an indefinite or dilated system: one clock qubit "
            "holds the sign, so at least 2 are needed"
        )
    if headroom is not None:
        headroom = check_positive(headroom, "headroom", func=func)
        if headroom >= 0.5:
            raise ValueError(f"{func}: headroom must be in (0, 1/2), got {headroom}")
    margin = check_positive(margin, "margin", func=func)
    if margin < 1:
        raise ValueError(f"{func}: margin must be >= 1, got {margin}")
    if evolution_time is not None:
        evolution_time = check_positive(evolution_time, "evolution_time", func=func)
        limit = (1.0 if sb.definite else 0.5) * 2 * math.pi / sb.upper
        if evolution_time >= limit:
            raise ValueError(
                f"{func}: evolution_time={evolution_time:.6g} wraps the largest eigenvalue modulus "
                f"{sb.upper:.6g} around the clock; it must be below {limit:.6g}"
            )
    t = float(evolution_time) if evolution_time is not None else _default_time(sb, c, headroom)
    if scaling is None:
        scaling = _rotation_scaling(sb.lower, t, c, sb.definite, margin=margin)
    else:
        scaling = check_positive(scaling, "scaling", func=func)
        if scaling > 1.0:
            raise ValueError(
                f"{func}: scaling must be in (0, 1], got {scaling}: above 1 the reciprocal rotation "
                "C/lambda exceeds 1 on every clock bin, so no amplitude is ever flagged"
            )

    def bin_of_min(clock: int) -> float:
        time = t if evolution_time is not None else _default_time(sb, clock, headroom)
        return sb.lower * time * 2**clock / (2 * math.pi)

    kmin = bin_of_min(c)
    if accuracy is not None:
        eps = check_positive(accuracy, "accuracy", func=func)
        target = 1.0 / eps * (1 - 1e-12)
        if kmin < target:
            need = c
            while bin_of_min(need) < target:
                need += 1
            raise ValueError(
                f"{func}: clock_qubits={c} is too few for accuracy={eps:g}: the smallest eigenvalue "
                f"{sb.lower:.4g} falls at clock bin {kmin:.3g} < 1/accuracy; need at least {need} clock qubits"
            )
    if kmin < 1.0:
        warnings.warn(
            f"{func}: {c} clock qubits cannot resolve the smallest eigenvalue {sb.lower:.4g} "
            f"(it falls at {kmin:.3g} of the first clock bin); the solution will be inaccurate. "
            f"About {c + math.ceil(math.log2(1.0 / kmin)) if kmin > 0 else '?'} clock qubits are needed.",
            HHLResolutionWarning,
            stacklevel=stacklevel + 1,
        )
    return HHLParameters(clock_qubits=c, evolution_time=float(t), scaling=float(scaling),
                         constant=_constant(scaling, t, sb.definite), bounds=sb, headroom=headroom,
                         margin=float(margin))
