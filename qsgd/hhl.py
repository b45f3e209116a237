r"""The quantum linear-system solver: HHL built from Qiskit's circuit library.

Step III of the algorithm of [1]_ prepares the normalized history state
:math:`|Y\rangle \propto L^{-1}|\mathrm{rhs}\rangle` of the :math:`T`-step system
(Eq. 6 of [1]_) with a quantum linear-system algorithm. Qiskit no longer ships one,
so this module builds the Harrow-Hassidim-Lloyd (HHL) algorithm [2]_ by hand and
simulates it exactly (Aer statevector) or with shots.

The circuit, on three named registers ``system`` (:math:`s` qubits, the solution is
read here), ``clock`` (:math:`c` qubits) and ``flag`` (1 qubit):

1. **State preparation** :math:`|0\rangle \mapsto |b\rangle = b/\|b\|`
   (:func:`qsgd.upload.sparse_state_preparation` for sparse :math:`b`, Qiskit's
   ``StatePreparation`` for dense :math:`b`).
2. **Phase estimation** of :math:`U = e^{iHt}`: Hadamards on the clock, the controlled
   powers :math:`U^{2^j}` on clock qubit :math:`j`, the inverse ``QFTGate`` and the bit
   reversal -- the layout of :func:`qiskit.circuit.library.phase_estimation`, so the
   clock holds the phase :math:`\varphi = \lambda t/2\pi \bmod 1` most significant bit
   first. The powers are formed from the eigendecomposition of :math:`H` (exact, no
   repeated squaring) and appended as plain ``UnitaryGate`` s, which Aer applies
   directly.
3. **Eigenvalue inversion** with ``ExactReciprocalGate`` on the clock qubits *in
   reversed order* (the gate reads its register least significant bit first): the flag
   is rotated to amplitude :math:`C/\tilde\lambda` on :math:`|1\rangle`.
4. **Uncomputation** (inverse phase estimation). Postselecting flag :math:`=1` and
   clock :math:`=0` leaves :math:`C\,H^{-1}|b\rangle` on the system register.

**Non-Hermitian systems.** Eq. 6 of [1]_ is block lower-bidiagonal, not Hermitian. A
non-symmetric :math:`A` is replaced by the Hermitian dilation

.. math:: H = \begin{bmatrix} 0 & A \\ A^{\mathsf T} & 0\end{bmatrix},\qquad
          H \begin{bmatrix} 0 \\ x\end{bmatrix} = \begin{bmatrix} b \\ 0\end{bmatrix}
          \iff Ax = b,

whose eigenvalues are :math:`\pm\sigma_i(A)`. Half of them are negative, so the clock is
read in two's complement (``neg_vals=True``: the top clock bit is the sign) and the
evolution time keeps :math:`\sigma_{\max} t/2\pi < 1/2`. One extra qubit (the top qubit
of ``system``) selects the block; the solution is read where it is 1.

**Padding.** A dimension :math:`m` that is not a power of two is padded to
:math:`2^{\lceil\log_2 m\rceil}` with :math:`\mu I` on the new block, :math:`\mu` the
upper eigenvalue (singular-value) bound, and zeros in :math:`b`. The padded matrix is
block diagonal, its spectrum bounds and condition number are those of :math:`A`, and
the padding block is never populated.

**Evolution time and scaling** (defaults, from bounds :math:`\lambda_{\min}\le|\lambda|
\le\lambda_{\max}` of :math:`H`):

* positive-definite :math:`H`: :math:`t = \pi/\lambda_{\max}` (:math:`\lambda_{\max}`
  at phase :math:`1/2`; the upper half of the clock range is head-room against
  wrap-around), reciprocal constant :math:`C = 2\pi s_{\rm ERG}/t`;
* indefinite :math:`H` (dilation): :math:`t = 2\pi(2^{c-1}-1)/(2^c\lambda_{\max})`,
  :math:`C = \pi s_{\rm ERG}/t`;

where :math:`s_{\rm ERG}` (``scaling``) is the ``ExactReciprocalGate`` argument. The
smallest eigenvalue falls at clock bin :math:`k_{\min} = \lambda_{\min}t\,2^c/2\pi`.
``ExactReciprocalGate`` leaves bins whose amplitude :math:`C/\tilde\lambda` would exceed 1
unrotated, so whatever phase estimation leaks below the fully rotated bin is lost. The
default scaling therefore rotates the bin :math:`\max(1, \lfloor k_{\min}/2\rfloor)`
fully: one octave of head-room below :math:`\lambda_{\min}`, for a success probability 4
times smaller than rotating :math:`\lfloor k_{\min}\rfloor` fully (which is right only
when the eigenvalues sit exactly on bins, as in the textbook example
:math:`t = 2\pi\cdot 3/8`, scaling :math:`2/8`; pass ``scaling`` for that). With
:math:`k_{\min}<1` the clock cannot resolve :math:`\lambda_{\min}` and
:class:`HHLResolutionWarning` is issued. For the textbook system the defaults give
:math:`t = 2\pi\cdot 3/8` and scaling :math:`1/8`.

**Two constructions of the same unitary.** ``construction="dense"`` (the default, the
layout above) appends each controlled :math:`e^{iHt2^j}` as a dense ``UnitaryGate``.
``construction="spectral"`` writes them in the eigenbasis :math:`H = V\Lambda V^\dagger`:
:math:`V^\dagger`, :math:`c` clock-controlled ``DiagonalGate`` s, the inverse QFT, one
``UCRYGate`` with the angles of ``ExactReciprocalGate``, the uncomputation and :math:`V`.
Aer applies a diagonal in one pass over the statevector, so this form simulates 20 qubits
in seconds; its CX count has a closed form (:func:`hhl_cx_count`).

**Algorithm-level model.** Postselection multiplies each eigenvector of :math:`H` by the
exact finite-clock filter :math:`g(\lambda)` of :func:`hhl_filter`, so :func:`hhl_model`
computes the circuit's output, success probability and shot statistics from the
decomposition of :math:`A` alone (:func:`hhl_spectrum`), at dimensions no statevector holds.

**Norm recovery.** When every eigenvalue is resolved exactly, the postselection
probability is

.. math:: P = \frac{C^2\,\|A^{-1}b\|^2}{\|b\|^2}
          \quad\Longrightarrow\quad
          \|A^{-1}b\| \approx \frac{\|b\|\sqrt{P}}{C},

which :func:`hhl_solve` reports as ``solution_norm`` (chapters 5 and 8 use it to
restore the length of :math:`\theta(T)`).

Symbols: :math:`s` system qubits, :math:`c` clock qubits (``clock_qubits``), :math:`t`
evolution time, :math:`C` reciprocal constant, :math:`\kappa` condition number,
``shots`` measured copies.

References
----------
.. [1] J. Liu et al., "Towards provably efficient quantum algorithms for large-scale
   machine-learning models", Nat. Commun. 15, 434 (2024), Eq. 6 and step III.
.. [2] A. W. Harrow, A. Hassidim, S. Lloyd, "Quantum algorithm for linear systems of
   equations", Phys. Rev. Lett. 103, 150502 (2009).

Used in chapter 4 (and by the end-to-end pipeline of chapter 8).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from qiskit import QuantumCircuit, QuantumRegister, transpile
from qiskit.circuit.library import (
    DiagonalGate,
    ExactReciprocalGate,
    Initialize,
    PermutationGate,
    QFTGate,
    StatePreparation,
    UCRYGate,
    UnitaryGate,
)
from qiskit.quantum_info import Statevector
from qiskit.synthesis import synth_permutation_basic, synth_qft_full
from qiskit_aer import AerSimulator

from qsgd._validation import (
    as_array,
    as_matrix,
    as_rng,
    as_vector,
    check_bool,
    check_choice,
    check_int,
    check_memory,
    check_positive,
    describe,
    estimate_bytes,
)
from qsgd.tomography import amplitudes_from_pair_counts, hadamard_pair_counts
from qsgd.upload import sparse_state_preparation


__all__ = [
    "PHASE_HEADROOM",
    "INVERSION_MARGIN",
    "hhl_parameters",
    "hhl_error_bound",
    "HHLResolutionWarning",
    "SpectralBounds",
    "spectral_bounds",
    "choose_parameters",
    "required_clock_qubits",
    "hhl_circuit",
    "HHLResult",
    "hhl_solve",
    "DEFAULT_MAX_QUBITS",
    "reciprocal_amplitudes",
    "hhl_filter",
    "HHLSpectrum",
    "hhl_spectrum",
    "HHLModelResult",
    "hhl_model",
    "unitary_cx",
    "HHLGateCount",
    "state_preparation_cx",
    "hhl_cx_count",
]

#: default ceiling on the total number of simulated qubits (a 2^24 statevector is 256 MiB)
DEFAULT_MAX_QUBITS = 24

#: the two circuit constructions of :func:`hhl_circuit` (same unitary)
CONSTRUCTIONS = ("dense", "spectral")

#: largest ``DiagonalGate`` the Aer form of the spectral circuit builds (clock qubits grouped)
AER_DIAGONAL_QUBITS = 14

#: most shots per circuit hhl_solve hands to Aer (beyond it Aer runs out of memory or takes hours)
MAX_SHOTS = 10**8

#: largest register size the closed-form gate counts accept (exact integers beyond it only take time)
MAX_FORMULA_QUBITS = 1024

#: fixed transpiler seed for the reported CX count and depth (so they do not depend on rng)
RESOURCE_SEED = 0


class HHLResolutionWarning(UserWarning):
    """The clock register is too short to resolve the smallest eigenvalue."""


# --------------------------------------------------------------------------- spectrum


@dataclass(frozen=True)
class SpectralBounds:
    """Bounds on the eigenvalue moduli of the Hermitian matrix that HHL inverts.

    Attributes
    ----------
    lower, upper : float
        :math:`0 < \\text{lower} \\le |\\lambda| \\le \\text{upper}` for every eigenvalue
        :math:`\\lambda` of :math:`H` (:math:`A` itself when symmetric, else the dilation,
        whose eigenvalues are :math:`\\pm\\sigma_i(A)`).
    definite : bool
        :math:`H` is positive definite (no sign bit needed on the clock).
    dilated : bool
        :math:`A` is not symmetric, so the dilation is used.
    method : str
        ``"exact"``, ``"gershgorin"`` or ``"known"``.
    """

    lower: float
    upper: float
    definite: bool
    dilated: bool
    method: str

    def __post_init__(self) -> None:
        func = "SpectralBounds"
        lower = check_positive(self.lower, "lower", func=func)
        upper = check_positive(self.upper, "upper", func=func)
        if lower > upper:
            raise ValueError(f"{func}: lower must be <= upper, got lower={lower} > upper={upper}")
        check_bool(self.definite, "definite", func=func)
        check_bool(self.dilated, "dilated", func=func)

    @property
    def condition_number(self) -> float:
        """``upper / lower``, an upper bound on :math:`\\kappa(A)`."""
        return self.upper / self.lower


def _is_symmetric(A: np.ndarray) -> bool:
    scale = max(float(np.max(np.abs(A))), 1e-300)
    return bool(np.allclose(A, A.T, rtol=0.0, atol=1e-12 * scale))


#: dense working copies an O(m^3) decomposition of an (m, m) matrix may hold at once
_WORK_COPIES = 3


def _dense_square(A: Any, func: str, *, max_bytes: float | None = None, copies: int = _WORK_COPIES) -> np.ndarray:
    """A as a dense real square matrix, refusing before densifying when it would exceed the guard."""
    shape = getattr(A, "shape", None) if sp.issparse(A) or isinstance(A, np.ndarray) else None
    if shape is not None and len(shape) == 2:
        check_memory(estimate_bytes(copies, shape[0], shape[1]),
                     what=f"the dense ({shape[0]}, {shape[1]}) matrix A and its decomposition",
                     max_bytes=max_bytes, func=func)
    mat = as_matrix(A, "A", func=func, square=True, sparse=False)
    check_memory(estimate_bytes(copies, *mat.shape), what=f"the dense {mat.shape} matrix A and its decomposition",
                 max_bytes=max_bytes, func=func)
    if mat.shape[0] < 1:
        raise ValueError(f"{func}: A is empty, got shape {mat.shape}")
    return mat


def spectral_bounds(A: Any, *, method: str = "exact", max_bytes: float | None = None) -> SpectralBounds:
    """Bounds on :math:`|\\lambda|` of the Hermitian matrix HHL inverts for :math:`A`.

    For symmetric :math:`A` the eigenvalues of :math:`A`; otherwise the singular values
    of :math:`A` (the eigenvalue moduli of the dilation :math:`[[0, A], [A^T, 0]]`).
    They set the evolution time and the reciprocal scaling (:func:`choose_parameters`).

    Parameters
    ----------
    A : (m, m) array_like or sparse matrix
        Real, square, finite, non-singular.
    max_bytes : float, optional
        Size guard: refuse (before densifying) when the dense matrix and the working copies of
        its decomposition would exceed this many bytes (default 4 GiB).
    method : {"exact", "gershgorin"}
        ``"exact"``: dense ``eigvalsh`` / ``svd`` (:math:`O(m^3)`, fine for the sizes that
        can be simulated). ``"gershgorin"``: Gershgorin discs; rigorous but loose. The
        upper bound is :math:`\\max_i \\sum_j |a_{ij}|` (and the column sums for the
        dilation); a lower bound exists only for symmetric, strictly diagonally
        dominant :math:`A` with a positive diagonal.

    Returns
    -------
    SpectralBounds

    Raises
    ------
    ValueError
        For a non-square, non-finite or complex :math:`A`, for a singular :math:`A`
        (``"exact"``), or when the Gershgorin discs contain zero.

    Examples
    --------
    >>> b = spectral_bounds([[1.0, -1 / 3], [-1 / 3, 1.0]])
    >>> round(b.lower, 4), round(b.upper, 4), b.definite
    (0.6667, 1.3333, True)
    """
    return _spectral_bounds(A, method=method, max_bytes=max_bytes, func="spectral_bounds")


def _spectral_bounds(A: Any, *, method: str, max_bytes: float | None, func: str) -> SpectralBounds:
    """:func:`spectral_bounds` with its messages naming *func*, the function the user called."""
    check_choice(method, "method", {"exact", "gershgorin"}, func=func)
    mat = _dense_square(A, func, max_bytes=max_bytes)
    symmetric = _is_symmetric(mat)
    if method == "exact":
        if symmetric:
            w = np.linalg.eigvalsh(mat)
            lower, upper = float(np.min(np.abs(w))), float(np.max(np.abs(w)))
            definite = bool(w[0] > 0)
        else:
            sv = np.linalg.svd(mat, compute_uv=False)
            lower, upper, definite = float(sv[-1]), float(sv[0]), False
        if upper == 0.0 or lower <= 1e-13 * upper:
            cond = math.inf if lower == 0.0 else upper / lower
            raise ValueError(f"{func}: A is singular (condition number {cond:.3g}); HHL needs an invertible A")
        return SpectralBounds(lower, upper, definite, not symmetric, "exact")
    absmat = np.abs(mat)
    diag = np.diag(mat)
    radius = absmat.sum(axis=1) - np.abs(diag)
    if symmetric:
        upper = float(np.max(np.abs(diag) + radius))
        lower = float(np.min(diag - radius))
        if lower <= 0.0:
            raise ValueError(
                f"{func}: the Gershgorin discs of A reach {lower:.3g} <= 0, so they give no lower "
                "eigenvalue bound; use method='exact' or pass known bounds"
            )
        return SpectralBounds(lower, upper, True, False, "gershgorin")
    raise ValueError(
        f"{func}: Gershgorin discs of the dilation [[0, A], [A^T, 0]] are centred at 0 and give no "
        "lower bound on the singular values of a non-symmetric A; use method='exact' or pass known bounds"
    )


def required_clock_qubits(condition_number: float, accuracy: float, *, definite: bool = True) -> int:
    """Fewest clock qubits that place :math:`\\lambda_{\\min}` at clock bin :math:`\\ge 1/\\epsilon`.

    With the default evolution time the smallest eigenvalue falls at bin
    :math:`k_{\\min} = 2^{c-1}/\\kappa` (definite) or :math:`(2^{c-1}-1)/\\kappa`
    (indefinite); the relative error of :math:`1/\\tilde\\lambda` there is about
    :math:`1/(2k_{\\min})`. This returns the least :math:`c` with
    :math:`k_{\\min} \\ge 1/\\epsilon`, i.e. :math:`c \\approx 1 + \\log_2(\\kappa/\\epsilon)` --
    the :math:`O(\\log(\\kappa/\\epsilon))` clock of HHL [2]_.

    Parameters
    ----------
    condition_number : float
        :math:`\\kappa \\ge 1`.
    accuracy : float
        :math:`\\epsilon \\in (0, 1]`.
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
    definite = check_bool(definite, "definite", func=func)
    if math.log2(kappa) - math.log2(eps) > 1000:
        raise ValueError(
            f"{func}: condition_number/accuracy = {kappa / eps:.3g} would need about "
            f"{1 + math.log2(kappa) - math.log2(eps):.0f} clock qubits, beyond any simulation"
        )
    c = 1 if definite else 2
    while _bin_of_min(kappa, c, definite) < 1.0 / eps * (1 - 1e-12):
        c += 1
    return c


def _bin_of_min(kappa: float, c: int, definite: bool) -> float:
    return (2 ** (c - 1) if definite else 2 ** (c - 1) - 1) / kappa


def choose_parameters(
    bounds: SpectralBounds, *, clock_qubits: int, evolution_time: float | None = None
) -> tuple[float, float, float]:
    """Default evolution time, ``ExactReciprocalGate`` scaling and reciprocal constant.

    Implements the rules of the module docstring: :math:`t = \\pi/\\lambda_{\\max}`
    (definite) or :math:`2\\pi(2^{c-1}-1)/(2^c\\lambda_{\\max})` (indefinite), then the
    scaling that rotates the clock bin :math:`\\max(1, \\lfloor k_{\\min}/2\\rfloor)` fully,
    one octave below the bin :math:`k_{\\min}` of the smallest eigenvalue.

    Parameters
    ----------
    bounds : SpectralBounds
    clock_qubits : int
    evolution_time : float, optional
        Keep this :math:`t` and choose only the scaling.

    Returns
    -------
    (evolution_time, scaling, constant) : tuple of float
        ``constant`` is :math:`C`: the flag amplitude is :math:`C/\\lambda`.

    Raises
    ------
    ValueError
        ``bounds`` not a :class:`SpectralBounds`, ``clock_qubits`` below 1 (below 2 for an
        indefinite or dilated system, which spends one on the sign) or above 62, or an
        ``evolution_time`` that is not a positive finite number.
    """
    func = "choose_parameters"
    if not isinstance(bounds, SpectralBounds):
        raise ValueError(f"{func}: bounds must be a SpectralBounds (see spectral_bounds), got {describe(bounds)}")
    c = check_int(clock_qubits, "clock_qubits", func=func, minimum=1 if bounds.definite else 2, maximum=62)
    if evolution_time is not None:
        evolution_time = check_positive(evolution_time, "evolution_time", func=func)
    if evolution_time is None:
        if bounds.definite:
            evolution_time = math.pi / bounds.upper
        else:
            evolution_time = 2 * math.pi * (2 ** (c - 1) - 1) / (2**c * bounds.upper)
    scaling = _rotation_scaling(bounds.lower, evolution_time, c, bounds.definite, margin=2)
    return float(evolution_time), float(scaling), _constant(scaling, evolution_time, bounds.definite)


def _rotation_scaling(lower: float, t: float, c: int, definite: bool, *, margin: float) -> float:
    """The ``ExactReciprocalGate`` scaling shared by both policies (:func:`choose_parameters`,
    :func:`hhl_parameters`): rotate the flag fully at clock bin :math:`\max(1, \lfloor k_{\min}/
    \mathrm{margin}\rfloor)`, :math:`k_{\min} = \lambda_{\min} t\, 2^c/2\pi` the bin of the smallest
    eigenvalue modulus."""
    kmin = lower * t * 2**c / (2 * math.pi)
    full = max(1, math.floor(kmin / margin + 1e-9))
    return full / (2**c if definite else 2 ** (c - 1))


def _constant(scaling: float, t: float, definite: bool) -> float:
    """The reciprocal constant :math:`C` (flag amplitude :math:`C/\lambda`) of both policies."""
    return float((2 * math.pi if definite else math.pi) * scaling / t)


# --------------------------------------------------------------------------- circuit


#: relative tolerance of the check that given eigenvalue bounds enclose the spectrum
BOUNDS_RTOL = 1e-6


def _check_enclosure(bounds: SpectralBounds, exact: SpectralBounds | None, func: str) -> SpectralBounds:
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


def _resolve_bounds(eigenvalue_bounds, *, mat, symmetric, func, exact_bounds=None, max_bytes=None) -> SpectralBounds:
    """SpectralBounds from the ``eigenvalue_bounds`` argument (None, method name, pair or SpectralBounds).

    Given bounds (a pair or a SpectralBounds) are checked against *exact_bounds* when known.
    """
    if isinstance(eigenvalue_bounds, SpectralBounds):
        return _check_enclosure(eigenvalue_bounds, exact_bounds, func)
    if eigenvalue_bounds is None or isinstance(eigenvalue_bounds, str):
        method = "exact" if eigenvalue_bounds is None else eigenvalue_bounds
        if mat is None:
            check_choice(method, "eigenvalue_bounds", {"exact"}, func=func)
            return exact_bounds
        check_choice(method, "eigenvalue_bounds", {"exact", "gershgorin"}, func=func)
        return _spectral_bounds(mat, method=method, max_bytes=max_bytes, func=func)
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
    definite = exact_bounds.definite if mat is None else symmetric and bool(np.all(np.linalg.eigvalsh(mat) > 0))
    return _check_enclosure(SpectralBounds(lo, hi, definite, not symmetric, "known"), exact_bounds, func)


def _parameters(bounds: SpectralBounds, c: int, *, evolution_time, scaling, accuracy, func, stacklevel=4):
    """Checked evolution time and ERG scaling (defaults from :func:`choose_parameters`)."""
    if not bounds.definite and c < 2:
        raise ValueError(
            f"{func}: clock_qubits={c} is too few for an indefinite or dilated system: one clock qubit "
            "holds the sign, so at least 2 are needed"
        )
    if evolution_time is not None:
        evolution_time = check_positive(evolution_time, "evolution_time", func=func)
        limit = (1.0 if bounds.definite else 0.5) * 2 * math.pi / bounds.upper
        if evolution_time >= limit:
            raise ValueError(
                f"{func}: evolution_time={evolution_time:.6g} wraps the largest eigenvalue modulus "
                f"{bounds.upper:.6g} around the clock; it must be below {limit:.6g}"
            )
    t, default_scaling, _ = choose_parameters(bounds, clock_qubits=c, evolution_time=evolution_time)
    if scaling is None:
        scaling = default_scaling
    else:
        scaling = check_positive(scaling, "scaling", func=func)
        if scaling > 1.0:
            raise ValueError(
                f"{func}: scaling must be in (0, 1], got {scaling}: above 1 the reciprocal rotation "
                "C/lambda exceeds 1 on every clock bin, so no amplitude is ever flagged"
            )
    def bin_of_min(clock: int) -> float:
        """Clock bin k_min of the smallest eigenvalue for this many clock qubits."""
        time = t if evolution_time is not None else choose_parameters(bounds, clock_qubits=clock)[0]
        return bounds.lower * time * 2**clock / (2 * math.pi)

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
                f"{bounds.lower:.4g} falls at clock bin {kmin:.3g} < 1/accuracy; need at least {need} clock qubits"
            )
    if kmin < 1.0:
        warnings.warn(
            f"{func}: {c} clock qubits cannot resolve the smallest eigenvalue {bounds.lower:.4g} "
            f"(it falls at {kmin:.3g} of the first clock bin); the solution will be inaccurate. "
            f"About {c + math.ceil(math.log2(1.0 / kmin)) if kmin > 0 else '?'} clock qubits are needed.",
            HHLResolutionWarning,
            stacklevel=stacklevel,
        )
    return float(t), float(scaling)


@dataclass(frozen=True)
class _Problem:
    A: np.ndarray  # original matrix
    b: np.ndarray  # original right-hand side
    H: np.ndarray  # Hermitian matrix on the system register (padded / dilated)
    rhs: np.ndarray  # unit right-hand side on the system register
    bounds: SpectralBounds
    system_qubits: int
    offset: int  # the solution occupies rhs indices [offset, offset + m)
    evolution_time: float
    scaling: float
    constant: float
    clock_qubits: int


#: relative tolerance of the check that a given HHLSpectrum describes A (:func:`hhl_solve`, ``spectrum=``)
SPECTRUM_RTOL = 1e-6


def _refuse_singular(lower: float, upper: float, func: str) -> None:
    """ValueError when the eigenvalue moduli (singular values) ``lower <= upper`` make A numerically singular."""
    if upper == 0.0 or lower <= 1e-13 * upper:
        cond = math.inf if lower == 0.0 else upper / lower
        raise ValueError(f"{func}: A is singular (condition number {cond:.3g}); HHL needs an invertible A")


def _spectrum_moduli(spectrum, mat: np.ndarray, symmetric: bool, func: str) -> SpectralBounds:
    """Exact eigenvalue-modulus bounds of the inverted matrix from a given :class:`HHLSpectrum` of ``mat``.

    The spectrum must be of the kind HHL uses for ``mat`` (eigendecomposition if symmetric, SVD
    otherwise) and of its size, and it is checked cheaply against ``mat``: for the vectors
    :math:`v` of the largest and the smallest modulus :math:`\\sigma` (``right`` for an SVD,
    ``left`` for an eigendecomposition), :math:`|\\,\\|A v\\| - \\sigma| \\le` :data:`SPECTRUM_RTOL`
    :math:`\\cdot\\sigma`. No decomposition of ``mat`` is computed.
    """
    if not isinstance(spectrum, HHLSpectrum):
        raise ValueError(f"{func}: spectrum must be an HHLSpectrum (see hhl_spectrum), got {describe(spectrum)}")
    m = mat.shape[0]
    if spectrum.dimension != m:
        raise ValueError(f"{func}: spectrum is of a {spectrum.dimension}x{spectrum.dimension} matrix, "
                         f"but A is {m}x{m}")
    if spectrum.dilated == symmetric:
        kind = "a singular-value decomposition (dilated=True)" if spectrum.dilated else "an eigendecomposition"
        raise ValueError(f"{func}: spectrum is {kind}, but A is {'' if symmetric else 'not '}symmetric; pass "
                         "hhl_spectrum(A), which decomposes A the way HHL inverts it")
    values = np.asarray(spectrum.values, dtype=float)
    vectors = np.asarray(spectrum.right if spectrum.dilated else spectrum.left, dtype=float)
    if values.shape != (m,) or vectors.shape != (m, m):
        raise ValueError(f"{func}: spectrum must hold {m} values and ({m}, {m}) vectors, got shapes "
                         f"{values.shape} and {vectors.shape}")
    moduli = np.abs(values)
    lower, upper = float(moduli.min()), float(moduli.max())
    _refuse_singular(lower, upper, func)
    for k in (int(np.argmax(moduli)), int(np.argmin(moduli))):
        image = float(np.linalg.norm(mat @ vectors[:, k]))
        if not abs(image - moduli[k]) <= SPECTRUM_RTOL * moduli[k]:
            raise ValueError(
                f"{func}: spectrum does not describe A: ||A v|| = {image:.6g} for its vector of modulus "
                f"{moduli[k]:.6g} (relative tolerance SPECTRUM_RTOL = {SPECTRUM_RTOL:g})"
            )
    return SpectralBounds(lower, upper, bool(symmetric and np.all(values > 0)), not symmetric, "exact")


def _bounds_from_spectrum(eigenvalue_bounds, spectrum, mat: np.ndarray, symmetric: bool, func: str) -> SpectralBounds:
    """The ``eigenvalue_bounds`` argument resolved with a given :class:`HHLSpectrum` instead of an SVD of ``mat``."""
    exact = _spectrum_moduli(spectrum, mat, symmetric, func)
    if eigenvalue_bounds is None or (isinstance(eigenvalue_bounds, str) and eigenvalue_bounds == "exact"):
        return _check_enclosure(spectrum.bounds, exact, func)
    if isinstance(eigenvalue_bounds, str):
        check_choice(eigenvalue_bounds, "eigenvalue_bounds", {"exact", "gershgorin"}, func=func)
        return _spectral_bounds(mat, method=eigenvalue_bounds, max_bytes=None, func=func)
    return _resolve_bounds(eigenvalue_bounds, mat=None, symmetric=symmetric, func=func, exact_bounds=exact)


def _setup(
    A, b, *, clock_qubits, evolution_time, scaling, eigenvalue_bounds, accuracy, max_qubits, func, construction="dense",
    max_bytes=None, spectrum=None,
) -> _Problem:
    c = check_int(clock_qubits, "clock_qubits", func=func, minimum=1)
    max_qubits = check_int(max_qubits, "max_qubits", func=func, minimum=3)
    shape = getattr(A, "shape", None) if sp.issparse(A) or isinstance(A, np.ndarray) else None
    if shape is not None and len(shape) == 2 and shape[0] > 1:
        # at least ceil(log2 m) system qubits: refuse before densifying A
        least = math.ceil(math.log2(shape[0])) + c + 1
        if least > max_qubits:
            raise ValueError(
                f"{func}: A of shape {tuple(shape)} needs {least} qubits or more ({least - c - 1} system, "
                f"{c} clock, 1 flag), above max_qubits={max_qubits}"
            )
    mat = _dense_square(A, func, max_bytes=max_bytes)
    m = mat.shape[0]
    vec = as_vector(b, "b", func=func, size=m, allow_zero=False)
    symmetric = _is_symmetric(mat)
    size_bits = max(1, math.ceil(math.log2(m))) if m > 1 else 1
    s = size_bits + (0 if symmetric else 1)
    total = s + c + 1
    if total > max_qubits:
        raise ValueError(
            f"{func}: this system needs {total} qubits ({s} system"
            f"{' incl. 1 dilation qubit' if not symmetric else ''}, {c} clock, 1 flag), above "
            f"max_qubits={max_qubits}; its statevector alone would take "
            f"{(16 * 2.0**total / 2**30) if total < 1000 else math.inf:.3g} GiB"
        )
    check_choice(construction, "construction", set(CONSTRUCTIONS), func=func)
    if construction == "dense":  # c + 2 dense controlled unitaries of dimension 2^(s+1)
        check_memory((c + 2) * 16.0 * 4.0 ** (s + 1), what=f"{c + 2} dense unitaries on {s + 1} qubits", max_bytes=max_bytes, func=func)
    else:  # the eigenbasis and its inverse on s qubits
        check_memory(4 * 16.0 * 4.0**s, what=f"2 dense unitaries on {s} qubits", max_bytes=max_bytes, func=func)
    if spectrum is not None:
        bounds = _bounds_from_spectrum(eigenvalue_bounds, spectrum, mat, symmetric, func)
    else:
        bounds = _bounds_by_svd(eigenvalue_bounds, mat, symmetric, func)
    t, scaling = _parameters(bounds, c, evolution_time=evolution_time, scaling=scaling, accuracy=accuracy, func=func)
    dim = 2**size_bits
    if symmetric:
        H = np.eye(dim) * bounds.upper
        H[:m, :m] = mat
        rhs = np.zeros(dim)
        rhs[:m] = vec
        offset = 0
    else:
        P = np.eye(dim) * bounds.upper
        P[:m, :m] = mat
        H = np.zeros((2 * dim, 2 * dim))
        H[:dim, dim:] = P
        H[dim:, :dim] = P.T
        rhs = np.zeros(2 * dim)
        rhs[:m] = vec
        offset = dim
    rhs = rhs / np.linalg.norm(rhs)
    return _Problem(
        A=mat,
        b=vec,
        H=H,
        rhs=rhs,
        bounds=bounds,
        system_qubits=s,
        offset=offset,
        evolution_time=float(t),
        scaling=float(scaling),
        constant=_constant(scaling, t, bounds.definite),
        clock_qubits=c,
    )


def _bounds_by_svd(eigenvalue_bounds, mat: np.ndarray, symmetric: bool, func: str) -> SpectralBounds:
    """The ``eigenvalue_bounds`` argument resolved with the singular values of ``mat``."""
    # singular A is refused even when bounds were given
    sv = np.linalg.svd(mat, compute_uv=False)
    _refuse_singular(float(sv[-1]), float(sv[0]), func)
    exact = None
    if eigenvalue_bounds is not None and not isinstance(eigenvalue_bounds, str):
        # the exact moduli, to check the given bounds (|eigenvalues| of a symmetric A are its singular values)
        definite = symmetric and bool(np.all(np.linalg.eigvalsh(mat) > 0))
        exact = SpectralBounds(float(sv[-1]), float(sv[0]), definite, not symmetric, "exact")
    return _resolve_bounds(eigenvalue_bounds, mat=mat, symmetric=symmetric, func=func, exact_bounds=exact)


def _state_preparation(vec: np.ndarray):
    """Sparse (Gleinig-Hoefler) preparation when s*nnz <= 2^s, else Qiskit's dense one."""
    nq = int(round(math.log2(vec.size)))
    nnz = int(np.count_nonzero(vec))
    if nnz * nq <= 2**nq:
        gate = sparse_state_preparation(vec, num_qubits=nq).to_gate(label="prep b")
        return gate
    return StatePreparation(vec, label="prep b")


def _phase_estimation(H: np.ndarray, t: float, c: int):
    """phase_estimation(c, e^{iHt}) with the powers U^(2^j) taken from eigh(H)."""
    w, V = np.linalg.eigh(H)
    d = H.shape[0]
    s = int(round(math.log2(d)))
    clock = QuantumRegister(c, "clock")
    system = QuantumRegister(s, "system")
    qc = QuantumCircuit(clock, system, name="QPE")
    qc.h(clock)
    p0 = np.diag([1.0, 0.0])
    p1 = np.diag([0.0, 1.0])
    for j in range(c):
        U = (V * np.exp(1j * w * t * 2**j)) @ V.conj().T
        # little-endian: the control (first qarg) is the least significant index
        cU = np.kron(np.eye(d), p0) + np.kron(U, p1)
        qc.append(UnitaryGate(cU, label=f"c-U^{2**j}", check_input=False), [clock[j], *system])
    qc.append(QFTGate(c).inverse(), clock[:])
    qc.append(PermutationGate(list(reversed(range(c)))), clock[:])
    return qc


def _build(problem: _Problem, construction: str = "dense"):
    s, c = problem.system_qubits, problem.clock_qubits
    system = QuantumRegister(s, "system")
    clock = QuantumRegister(c, "clock")
    flag = QuantumRegister(1, "flag")
    qc = QuantumCircuit(system, clock, flag, name="HHL")
    qc.append(_state_preparation(problem.rhs), system[:])
    if construction == "dense":
        qpe = _phase_estimation(problem.H, problem.evolution_time, c)
        qc.compose(qpe, clock[:] + system[:], inplace=True)
        # phase_estimation leaves the clock MSB-first; ExactReciprocalGate reads LSB-first
        qc.append(
            ExactReciprocalGate(c, problem.scaling, neg_vals=not problem.bounds.definite),
            clock[::-1] + [flag[0]],
        )
        qc.compose(qpe.inverse(), clock[:] + system[:], inplace=True)
    else:
        _spectral_body(qc, problem, system, clock, flag)
    qc.metadata = {
        "dimension": int(problem.A.shape[0]),
        "solution_offset": int(problem.offset),
        "dilated": bool(problem.bounds.dilated),
        "evolution_time": problem.evolution_time,
        "scaling": problem.scaling,
        "reciprocal_constant": problem.constant,
        "neg_vals": not problem.bounds.definite,
        "construction": construction,
    }
    return qc


def _spectral_body(qc, problem: _Problem, system, clock, flag) -> None:
    """Phase estimation, inversion and uncomputation in the eigenbasis of H (same unitary).

    ``c-e^{iHt2^j} = (I (x) V) c-e^{i Lambda t 2^j} (I (x) V^dagger)``: the controlled powers become
    controlled diagonals between one basis change and its inverse. The ``V`` that ends
    phase estimation and the ``V^dagger`` that starts its inverse act on the system only,
    while everything between them acts on the clock and the flag, so they cancel and are
    left out. ``ExactReciprocalGate`` is replaced by the one ``UCRYGate`` it amounts to (its
    sign-bit branch only changes the angles), with the angles of
    :func:`reciprocal_amplitudes`.
    """
    c = problem.clock_qubits
    w, V = np.linalg.eigh(problem.H)
    t = problem.evolution_time
    qc.h(clock)
    qc.append(UnitaryGate(V.conj().T, label="V^dag", check_input=False), system[:])
    for j in range(c):
        diag = np.ones(2 * w.size, dtype=complex)
        diag[1::2] = np.exp(1j * w * t * 2**j)  # control (clock j) is the least significant index
        qc.append(DiagonalGate(diag.tolist()), [clock[j], *system])
    qc.append(QFTGate(c).inverse(), clock[:])
    qc.append(PermutationGate(list(reversed(range(c)))), clock[:])
    amp = reciprocal_amplitudes(c, problem.scaling, definite=problem.bounds.definite)
    qc.append(UCRYGate((2.0 * np.arcsin(amp)).tolist()), [flag[0], *clock[::-1]])
    qc.append(PermutationGate(list(reversed(range(c)))), clock[:])
    qc.append(QFTGate(c), clock[:])
    for j in reversed(range(c)):
        diag = np.ones(2 * w.size, dtype=complex)
        diag[1::2] = np.exp(-1j * w * t * 2**j)
        qc.append(DiagonalGate(diag.tolist()), [clock[j], *system])
    qc.append(UnitaryGate(V, label="V", check_input=False), system[:])
    qc.h(clock)


def hhl_circuit(
    A: Any,
    b: Any,
    *,
    clock_qubits: int,
    evolution_time: float | None = None,
    scaling: float | None = None,
    eigenvalue_bounds: Any = None,
    accuracy: float | None = None,
    max_qubits: int = DEFAULT_MAX_QUBITS,
    construction: str = "dense",
    max_bytes: float | None = None,
    spectrum: HHLSpectrum | None = None,
):
    """The HHL circuit for :math:`Ax = b` (step III of [1]_, after [2]_).

    Postselecting ``flag`` = 1 and ``clock`` = 0 leaves
    :math:`C\\,H^{-1}|b\\rangle` on ``system``; for a symmetric :math:`A`,
    :math:`H^{-1}|b\\rangle = A^{-1}b/\\|b\\|` on the first :math:`m` basis states, for a
    non-symmetric one the solution sits where the top ``system`` qubit is 1 (module
    docstring: dilation, padding, parameter rules).

    Parameters
    ----------
    A : (m, m) array_like or sparse matrix
        Real, finite, invertible. Symmetric :math:`A` is used directly, any other is
        dilated to :math:`[[0, A], [A^T, 0]]`.
    b : (m,) array_like
        Right-hand side, finite and non-zero (normalized internally).
    clock_qubits : int
        Phase-estimation register size :math:`c` (at least 2 for indefinite/dilated
        systems, which spend one qubit on the sign).
    evolution_time : float, optional
        :math:`t` in :math:`e^{iHt}`; default from the eigenvalue bounds.
    scaling : float, optional
        ``ExactReciprocalGate`` scaling; default from :func:`choose_parameters` (full
        rotation one octave below the smallest eigenvalue's clock bin).
    eigenvalue_bounds : (lower, upper), {"exact", "gershgorin"} or SpectralBounds, optional
        Known bounds on :math:`|\\lambda(H)|`, or the method of :func:`spectral_bounds`
        (default ``"exact"``). Given bounds are checked against the singular values of
        :math:`A` (computed anyway to refuse a singular :math:`A`, or taken from ``spectrum``):
        ``lower`` may exceed the smallest modulus, and ``upper`` fall short of the largest, by
        the relative tolerance :data:`BOUNDS_RTOL` (:math:`10^{-6}`) at most, else
        ``ValueError``.
    accuracy : float, optional
        Requested relative accuracy :math:`\\epsilon` of the inversion at the smallest
        eigenvalue; too few clock qubits for it is an error (see
        :func:`required_clock_qubits`).
    max_qubits : int, default 24
        Refuse larger circuits (checked from the shape of ``A`` before it is densified).
    max_bytes : float, optional
        Size guard (default 4 GiB) on the dense copy of ``A`` and its decomposition and on the
        dense unitaries of the construction; raise it on purpose.
    construction : {"dense", "spectral"}, default "dense"
        ``"dense"``: phase estimation with :math:`c` controlled ``UnitaryGate`` s
        :math:`e^{iHt2^j}` on :math:`s+1` qubits and ``ExactReciprocalGate`` (module
        docstring). ``"spectral"``: the same unitary written in the eigenbasis
        :math:`H = V\\Lambda V^\\dagger` -- ``UnitaryGate(V^dagger)``, :math:`c` clock-controlled
        ``DiagonalGate`` s :math:`e^{i\\Lambda t2^j}`, the inverse QFT, one ``UCRYGate`` with
        the angles of ``ExactReciprocalGate``, the uncomputation, ``UnitaryGate(V)`` (the
        :math:`V V^\\dagger` between phase estimation and its inverse cancels). Aer applies
        each diagonal in one pass over the statevector, so it simulates in seconds where
        the dense form takes minutes; its CX count has a closed form
        (:func:`hhl_cx_count`).
    spectrum : HHLSpectrum, optional
        A decomposition of :math:`A` that the caller already has (:func:`hhl_spectrum`, or
        :func:`qsgd.pipeline.hhl_spectrum_of`), so that no SVD of :math:`A` is computed. It
        must be of the kind HHL inverts (eigendecomposition for a symmetric :math:`A`, SVD
        otherwise) and of the size of :math:`A`, and is checked cheaply: for its vectors
        :math:`v` of the largest and the smallest modulus :math:`\\sigma`,
        :math:`|\\,\\|Av\\| - \\sigma| \\le` :data:`SPECTRUM_RTOL` :math:`\\cdot\\sigma`
        (:math:`10^{-6}`), else ``ValueError``. Its moduli then serve for the singularity
        check and as the exact moduli that given ``eigenvalue_bounds`` are checked against;
        with ``eigenvalue_bounds`` None (or ``"exact"``) its ``bounds`` are used. The circuit
        is the one built from ``eigenvalue_bounds=spectrum.bounds``.

    Returns
    -------
    QuantumCircuit
        Registers ``system``, ``clock``, ``flag`` (in this qubit order); ``metadata``
        records ``dimension``, ``solution_offset``, ``dilated``, ``evolution_time``,
        ``scaling``, ``reciprocal_constant``, ``neg_vals`` and ``construction``.

    Raises
    ------
    ValueError
        Non-square, complex, non-finite or singular :math:`A`; :math:`b` of the wrong
        length, zero or non-finite; too few clock qubits (sign bit, ``accuracy``); an
        evolution time that wraps phases; more than ``max_qubits`` qubits (the message
        says how many would be needed).

    Warns
    -----
    HHLResolutionWarning
        When the smallest eigenvalue lies below the first clock bin.

    Examples
    --------
    >>> qc = hhl_circuit([[1, -1 / 3], [-1 / 3, 1]], [1, 0], clock_qubits=3)
    >>> qc.num_qubits, [r.name for r in qc.qregs]
    (5, ['system', 'clock', 'flag'])
    """
    problem = _setup(
        A,
        b,
        clock_qubits=clock_qubits,
        evolution_time=evolution_time,
        scaling=scaling,
        eigenvalue_bounds=eigenvalue_bounds,
        accuracy=accuracy,
        max_qubits=max_qubits,
        func="hhl_circuit",
        construction=construction,
        max_bytes=max_bytes,
        spectrum=spectrum,
    )
    return _build(problem, construction)


# --------------------------------------------------------------------------- solve


@dataclass(frozen=True)
class HHLResult:
    """Result of :func:`hhl_solve`.

    Attributes
    ----------
    solution : ndarray, shape (m,)
        Postselected, normalized, real estimate of :math:`A^{-1}b/\\|A^{-1}b\\|`. Exact
        mode keeps the circuit's global phase (ideal output :math:`+C A^{-1}b`, so the
        overall sign is right) and removes only a residual phase, the one of the
        largest entry modulo :math:`\\pi`. With shots the overall sign is not
        observable and is fixed so that the largest entry is positive.
    success_probability : float
        :math:`P` (flag = 1, clock = 0), exact or estimated from shots.
    fidelity : float
        :math:`|\\langle \\hat x, x\\rangle|^2` with the NumPy solution ``reference``.
    solution_norm : float
        :math:`\\|b\\|\\sqrt{P}/C`, the estimate of :math:`\\|A^{-1}b\\|` (module docstring).
    reference : ndarray
        ``numpy.linalg.solve(A, b)`` normalized.
    num_qubits, system_qubits : int
    cx_count, depth : int or None
        After ``transpile(basis_gates=["cx", "u"], optimization_level=1,
        seed_transpiler=0)``; None with ``count_gates=False``.
    clock_qubits, evolution_time, scaling, reciprocal_constant, shots, seed
        The settings used (``seed`` drove Aer and the shot sampling).
    bounds : SpectralBounds
    statevector : ndarray or None
        Exact mode: the unnormalized complex amplitudes of ``system`` given flag = 1,
        clock = 0 (length :math:`2^s`, padding and dilation included).
    success, message
    sign_convention : str
        How the overall sign of ``solution`` was fixed: ``"circuit"`` (exact mode, the sign
        the circuit produced, so ``solution`` approximates :math:`+A^{-1}b/\\|A^{-1}b\\|`)
        or ``"largest entry positive"`` (shots: the sign is not observable, so a run may
        return :math:`-x`; compare up to sign, e.g. with ``fidelity``).
    """

    solution: np.ndarray
    success_probability: float
    fidelity: float
    solution_norm: float
    reference: np.ndarray
    num_qubits: int
    system_qubits: int
    cx_count: int | None
    depth: int | None
    clock_qubits: int
    evolution_time: float
    scaling: float
    reciprocal_constant: float
    shots: int | None
    seed: int
    bounds: SpectralBounds
    statevector: np.ndarray | None = field(repr=False)
    success: bool = True
    message: str = ""
    sign_convention: str = field(default="circuit", repr=False)

    @property
    def condition_number(self) -> float:
        """``bounds.condition_number``."""
        return self.bounds.condition_number


#: the two sign conventions of HHLResult.sign_convention / HHLModelResult
SIGN_CIRCUIT = "circuit"
SIGN_LARGEST_POSITIVE = "largest entry positive"


def _fix_phase(v: np.ndarray) -> np.ndarray:
    k = int(np.argmax(np.abs(v)))
    phi = float(np.angle(v[k]))
    # rotate to the nearest real axis, keeping the sign the circuit produced
    phi = (phi + math.pi / 2) % math.pi - math.pi / 2
    return np.real(v * np.exp(-1j * phi))


def _largest_positive(v: np.ndarray) -> np.ndarray:
    """``v`` with the global sign that makes its largest entry positive (the shot mode's convention)."""
    return v * np.sign(v[int(np.argmax(np.abs(v)))]) if np.any(v) else v


def _for_aer(qc, *, final_basis: bool = True):
    """The spectral circuit as instructions Aer applies natively, same output from |0...0>.

    * The state preparation and the basis change :math:`V^\\dagger` act on the system
      register before any other gate touches it, and the circuit is only ever applied to
      :math:`|0\\ldots0\\rangle`, so together they are applied as the state
      :math:`V^\\dagger|\\psi\\rangle` they produce (Aer's ``initialize`` on qubits in
      :math:`|0\\rangle`), :math:`|\\psi\\rangle` the exact output of the preparation circuit.
    * The ``UCRYGate`` (flag target, clock controls) becomes
      :math:`(SH)\\,D\\,(SH)^\\dagger` on the flag with :math:`D` the diagonal
      :math:`\\mathrm{diag}(e^{\\mp i\\theta_k/2})` on flag and clock: the same unitary, since
      :math:`SH\\,R_Z(\\theta)\\,(SH)^\\dagger = R_Y(\\theta)`; one diagonal pass instead of
      :math:`2^{c+1}` gates.
    * Runs of clock-controlled diagonals are multiplied into one ``DiagonalGate`` on up to
      :data:`AER_DIAGONAL_QUBITS` qubits (several clock qubits and the system): Aer's cost
      per diagonal grows slowly with its size, so fewer, larger diagonals are faster.
    * The inverse QFT followed by the bit reversal, and the reversal followed by the QFT,
      become Qiskit's QFT synthesis without swaps on the reversed clock (``h`` and ``cp``;
      :math:`R\\,Q^\\dagger R` is :math:`Q^\\dagger` with the qubits relabelled), so no
      transpilation is needed.
    * With ``final_basis=False`` the closing :math:`V` is left out: it acts on the system
      register after every other gate, so it commutes with the postselection of flag and
      clock and the caller applies it to the postselected amplitudes (Aer applies a dense
      :math:`s`-qubit matrix slowly: minutes for :math:`s=10` on 24 qubits).

    The dense construction is returned unchanged.
    """
    if qc.metadata.get("construction") != "spectral":
        return qc
    out = qc.copy_empty_like()
    system = qc.qregs[0]
    prep_op = qc.data[0].operation
    basis = next(inst.operation for inst in qc.data if inst.operation.label == "V^dag")
    closing = next(inst.operation for inst in qc.data if inst.operation.label == "V")
    if prep_op.name == "state_preparation":  # Qiskit's StatePreparation prepares exactly its parameters
        prepared = np.asarray(prep_op.params, dtype=complex)
    else:
        prepared = Statevector(prep_op.definition).data
    # first, while every qubit is |0> (Aer's initialize is slow on entangled registers)
    out.append(Initialize(basis.to_matrix() @ prepared), system[:])

    def native(op, qubits):
        if op.name in ("qft", "qft_dg"):
            out.compose(synth_qft_full(len(qubits), inverse=op.name == "qft_dg"), qubits, inplace=True)
        elif op.name == "permutation":
            out.compose(synth_permutation_basic(op.params[0]), qubits, inplace=True)
        else:
            out.append(op, qubits)

    data = list(qc.data[1:])
    num_system = system.size
    pending: list = []  # clock-controlled diagonals waiting to be multiplied together

    def flush():
        if not pending:
            return
        controls = [inst.qubits[0] for inst in pending]
        # entry index: system bits (low) then the control bits, in the order of ``controls``
        phases = np.zeros((2,) * len(controls) + (2**num_system,))
        for pos, inst in enumerate(pending):
            diag = np.asarray(inst.operation.params, dtype=complex)
            shape = [1] * len(controls) + [2**num_system]
            shape[len(controls) - 1 - pos] = 2
            phases = phases + np.angle(diag.reshape(2**num_system, 2).T).reshape(shape)
        out.append(DiagonalGate(np.exp(1j * phases.reshape(-1)).tolist()), [*system, *controls])
        pending.clear()

    group = max(1, AER_DIAGONAL_QUBITS - num_system)
    k = 0
    while k < len(data):
        inst = data[k]
        op = inst.operation
        if op.name == "diagonal":
            pending.append(inst)
            if len(pending) == group:
                flush()
            k += 1
            continue
        flush()
        nxt = data[k + 1].operation.name if k + 1 < len(data) else None
        if op.name == "qft_dg" and nxt == "permutation":
            out.compose(synth_qft_full(op.num_qubits, inverse=True, do_swaps=False), list(inst.qubits)[::-1], inplace=True)
            k += 2
            continue
        if op.name == "permutation" and nxt == "qft":
            out.compose(synth_qft_full(op.num_qubits, do_swaps=False), list(inst.qubits)[::-1], inplace=True)
            k += 2
            continue
        k += 1
        if op.name == "ucry":
            theta = np.asarray(op.params, dtype=float)
            diag = np.empty(2 * theta.size, dtype=complex)
            diag[0::2] = np.exp(-0.5j * theta)  # the flag (target) is the least significant index
            diag[1::2] = np.exp(0.5j * theta)
            flag = inst.qubits[0]
            out.sdg(flag)
            out.h(flag)
            out.append(DiagonalGate(diag.tolist()), inst.qubits)
            out.h(flag)
            out.s(flag)
        elif op is basis or (op is closing and not final_basis):
            continue
        else:
            native(op, list(inst.qubits))
    return out


def hhl_solve(
    A: Any,
    b: Any,
    *,
    clock_qubits: int,
    shots: int | None = None,
    rng: Any = None,
    evolution_time: float | None = None,
    scaling: float | None = None,
    eigenvalue_bounds: Any = None,
    accuracy: float | None = None,
    count_gates: bool = True,
    max_qubits: int = DEFAULT_MAX_QUBITS,
    construction: str = "dense",
    max_bytes: float | None = None,
    spectrum: HHLSpectrum | None = None,
) -> HHLResult:
    """Solve :math:`Ax = b` with the HHL circuit on Aer (step III of [1]_).

    Builds :func:`hhl_circuit`, simulates it with ``AerSimulator(method="statevector")``
    and postselects flag = 1, clock = 0. Exact mode (``shots=None``) reads the final
    statevector (``save_statevector``). With ``shots`` the success probability and the
    magnitudes come from ``shots`` measured copies, and the relative signs from
    :math:`s` further runs of ``shots`` copies each with a Hadamard on one system qubit:
    that run gives :math:`(x_i \\pm x_{i'})^2/2` for the pair :math:`i, i' = i \\oplus 2^j`,
    and the signs are propagated along the strongest pairs (a maximum spanning tree
    over the hypercube of the support): the estimator of
    :func:`qsgd.tomography.amplitudes_from_pair_counts`, the counts laid out as
    :func:`qsgd.tomography.hadamard_pair_counts` samples them for :func:`hhl_model`.

    Parameters
    ----------
    A, b, clock_qubits, evolution_time, scaling, eigenvalue_bounds, accuracy, max_qubits, construction, spectrum
        As in :func:`hhl_circuit` (``construction="spectral"`` simulates much faster; the
        output state is the same to rounding; with ``spectrum`` the result is that of
        ``eigenvalue_bounds=spectrum.bounds``, without the SVD of :math:`A`).
    shots : int, optional
        Copies per measured circuit (:math:`s + 1` circuits); None for the exact state.
    rng : None, int or numpy.random.Generator
        Seeds Aer (``seed_simulator``) and the transpiler of the simulation through
        ``rng.integers``; see ``numpy.random.default_rng``.
    count_gates : bool, default True
        Also transpile to ``{cx, u}`` (``optimization_level=1``, ``seed_transpiler=0``)
        for ``cx_count`` and ``depth``; this synthesizes every controlled
        :math:`U^{2^j}` and costs :math:`O(4^s)` time per clock qubit, so switch it off
        for large systems.

    Returns
    -------
    HHLResult
        Its ``sign_convention`` says how the overall sign was fixed: exact mode keeps the
        circuit's sign (``"circuit"``); with ``shots`` the sign is not observable and the
        largest entry is made positive (``"largest entry positive"``), so the estimate may
        be :math:`-x` when the largest entry of :math:`x` is negative.

    Raises
    ------
    ValueError
        As :func:`hhl_circuit`, for a non-positive ``shots``, and for given
        ``eigenvalue_bounds`` that do not enclose the eigenvalue moduli (relative tolerance
        :data:`BOUNDS_RTOL`; they are compared with the singular values computed anyway).

    Notes
    -----
    With ``construction="spectral"`` the circuit is handed to Aer in natively supported
    instructions, the same state from :math:`|0\\ldots0\\rangle` (``_for_aer``), and in exact
    mode its last gate, the basis change :math:`V` on the system register, is applied to the
    postselected amplitudes in NumPy (it commutes with the postselection on flag and clock).

    ``success_probability`` is the probability of the flag and clock outcome before any
    amplitude amplification; the :math:`O(\\kappa)` rounds of amplification of [2]_ are
    not simulated. ``solution_norm`` is exact only when every eigenvalue sits on a
    clock bin; otherwise it is biased by the phase-estimation error.

    Examples
    --------
    >>> res = hhl_solve([[1, -1 / 3], [-1 / 3, 1]], [1, 0], clock_qubits=3, scaling=2 / 8, count_gates=False)
    >>> np.round(res.solution, 4), round(res.success_probability, 4)
    (array([0.9487, 0.3162]), 0.625)
    """
    func = "hhl_solve"
    if shots is not None:
        shots = check_int(shots, "shots", func=func, minimum=1, maximum=MAX_SHOTS)
    count_gates = check_bool(count_gates, "count_gates", func=func)
    generator = as_rng(rng, func=func)
    problem = _setup(
        A,
        b,
        clock_qubits=clock_qubits,
        evolution_time=evolution_time,
        scaling=scaling,
        eigenvalue_bounds=eigenvalue_bounds,
        accuracy=accuracy,
        max_qubits=max_qubits,
        func=func,
        construction=construction,
        max_bytes=max_bytes,
        spectrum=spectrum,
    )
    qc = _build(problem, construction)
    seed = int(generator.integers(2**31 - 1))
    m = problem.A.shape[0]
    window = slice(problem.offset, problem.offset + m)
    if shots is None:
        statevector = _simulate_exact(qc, problem, construction, seed)
        probability = float(np.vdot(statevector, statevector).real)
        block = _fix_phase(statevector[window]) if probability > 0 else np.zeros(m)
    else:
        counts = _simulate_shots(qc, problem, construction, seed, shots)
        probability = float(counts[0].sum() / shots)
        block = _largest_positive(amplitudes_from_pair_counts(counts)[window])
        statevector = None
    return _solve_result(problem, qc, block, probability, statevector=statevector, shots=shots, seed=seed,
                         count_gates=count_gates)


def _postselected_index(problem: _Problem) -> int:
    """Index of flag = 1, clock = 0, system = 0 in the circuit's outcomes (system is the low register)."""
    return 2 ** (problem.system_qubits + problem.clock_qubits)


def _simulate_exact(qc, problem: _Problem, construction: str, seed: int) -> np.ndarray:
    """Postselected amplitudes of ``system`` (flag = 1, clock = 0) from Aer's final statevector.

    The spectral construction runs as :func:`_for_aer` without its closing basis change,
    which is applied here to the postselected block (it commutes with the postselection).
    """
    closing = construction == "spectral"
    sim_qc = _for_aer(qc, final_basis=not closing)
    sim = AerSimulator(method="statevector", seed_simulator=seed)
    s, base = problem.system_qubits, _postselected_index(problem)
    circ = sim_qc.copy()
    circ.save_statevector()
    tqc = circ if construction == "spectral" else transpile(circ, sim, optimization_level=0, seed_transpiler=seed)
    psi = np.asarray(sim.run(tqc).result().get_statevector(0))
    post = psi[base : base + 2**s].copy()
    if closing:
        V = next(inst.operation for inst in qc.data if inst.operation.label == "V").to_matrix()
        post = V @ post
    return post


def _simulate_shots(qc, problem: _Problem, construction: str, seed: int, shots: int) -> np.ndarray:
    """Postselected counts of the :math:`s+1` settings of Hadamard-pair tomography, run on Aer.

    Row 0 measures the circuit as it is, row :math:`1 + j` after a Hadamard on system qubit
    :math:`j`; only outcomes with flag = 1, clock = 0 are kept. The layout of
    :func:`qsgd.tomography.hadamard_pair_counts`, which samples the same settings from exact
    amplitudes (:func:`hhl_model`).
    """
    sim_qc = _for_aer(qc, final_basis=True)
    sim = AerSimulator(method="statevector", seed_simulator=seed)
    s, base = problem.system_qubits, _postselected_index(problem)
    circuits = []
    for j in range(-1, s):
        circ = sim_qc.copy()
        if j >= 0:
            circ.h(qc.qregs[0][j])
        circ.measure_all()
        circuits.append(circ)
    tqcs = circuits if construction == "spectral" else transpile(circuits, sim, optimization_level=0, seed_transpiler=seed)
    result = sim.run(tqcs, shots=shots).result()
    counts = np.zeros((len(circuits), 2**s))
    for k in range(len(circuits)):
        for key, count in result.get_counts(k).items():
            idx = int(key, 2)
            if base <= idx < base + 2**s:
                counts[k, idx - base] += count
    return counts


def _resources(qc) -> tuple[int, int]:
    """CX count and depth after ``transpile`` to ``{cx, u}`` (optimization level 1, fixed seed)."""
    tq = transpile(qc, basis_gates=["cx", "u"], optimization_level=1, seed_transpiler=RESOURCE_SEED)
    return int(tq.count_ops().get("cx", 0)), int(tq.depth())


def _solve_result(problem: _Problem, qc, block: np.ndarray, probability: float, *, statevector, shots, seed,
                  count_gates: bool) -> HHLResult:
    """The :class:`HHLResult` of :func:`hhl_solve` from the postselected solution block."""
    m = problem.A.shape[0]
    norm = float(np.linalg.norm(block))
    success = probability > 0 and norm > 0
    solution = block / norm if success else np.full(m, np.nan)
    reference = np.linalg.solve(problem.A, problem.b)
    reference = reference / np.linalg.norm(reference)
    fidelity = float(np.dot(solution, reference) ** 2) if success else 0.0
    solution_norm = float(np.linalg.norm(problem.b) * math.sqrt(probability) / problem.constant)
    cx_count, depth = _resources(qc) if count_gates else (None, None)
    message = (
        "postselection succeeded"
        if success
        else "postselection never succeeded (no flag = 1, clock = 0 outcome); solution is undefined"
    )
    return HHLResult(
        solution=solution,
        success_probability=probability,
        fidelity=fidelity,
        solution_norm=solution_norm,
        reference=reference,
        num_qubits=qc.num_qubits,
        system_qubits=problem.system_qubits,
        cx_count=cx_count,
        depth=depth,
        clock_qubits=problem.clock_qubits,
        evolution_time=problem.evolution_time,
        scaling=problem.scaling,
        reciprocal_constant=problem.constant,
        shots=shots,
        seed=seed,
        bounds=problem.bounds,
        statevector=statevector,
        success=success,
        message=message,
        sign_convention=SIGN_CIRCUIT if shots is None else SIGN_LARGEST_POSITIVE,
    )


# --------------------------------------------------------------------------- algorithm-level model


def reciprocal_amplitudes(clock_qubits: int, scaling: float, *, definite: bool, max_bytes: float | None = None) -> np.ndarray:
    """Flag amplitude that ``ExactReciprocalGate`` writes for each clock value.

    Entry :math:`k` (the clock read as an unsigned integer, least significant bit first as
    the gate reads it) is :math:`\\sin(\\theta_k/2)` for the gate's ``RY`` angle
    :math:`\\theta_k`: :math:`s\\,n_l/\\tilde k` on the signed value :math:`\\tilde k`
    (:math:`n_l = 2^c`, or :math:`2^{c-1}` and two's complement with ``definite=False``),
    exactly :math:`\\pm1` where that ratio is within :math:`10^{-5}` of 1 (the gate's
    tolerance), and 0 where it exceeds 1 and on :math:`\\tilde k = 0` and
    :math:`\\tilde k = -2^{c-1}`.

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
    c = check_int(clock_qubits, "clock_qubits", func=func, minimum=1 if definite else 2, maximum=62)
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
    """The exact factor :math:`g(\\lambda)` by which the HHL circuit multiplies an eigenvector.

    Phase estimation with :math:`c` clock qubits sends :math:`|u\\rangle|0\\rangle`,
    :math:`H|u\\rangle = \\lambda|u\\rangle`, to :math:`|u\\rangle\\sum_k\\alpha_k|k\\rangle` with
    :math:`\\alpha_k = 2^{-c}\\sum_{x<2^c} e^{2\\pi i x(\\varphi - k/2^c)}`,
    :math:`\\varphi = \\lambda t/2\\pi`. The inversion multiplies bin :math:`k` by the real
    flag amplitude :math:`a_k` (:func:`reciprocal_amplitudes`), and the clock-0 amplitude of
    the inverse phase estimation is :math:`\\sum_k\\overline{\\alpha_k}(\\cdot)`, so
    postselecting flag = 1, clock = 0 leaves

    .. math:: g(\\lambda) = \\sum_k |\\alpha_k|^2 a_k,\\qquad
              |\\alpha_k|^2 = \\frac{\\sin^2(\\pi 2^c\\delta_k)}{2^{2c}\\sin^2(\\pi\\delta_k)},
              \\quad \\delta_k = \\varphi - k/2^c,

    a real number, :math:`\\approx C/\\lambda` when :math:`\\lambda` is resolved (the sign of
    :math:`\\lambda` is kept: :math:`g(-\\lambda)\\approx -g(\\lambda)`).

    Parameters
    ----------
    eigenvalues : array_like
        Signed eigenvalues :math:`\\lambda` of the Hermitian matrix HHL inverts.
    clock_qubits, evolution_time, scaling, definite
        As :func:`hhl_circuit` uses them (``definite`` is ``not neg_vals``).
    max_bytes : float, optional
        Size guard on the :math:`2^c` clock bins (default 4 GiB).

    Returns
    -------
    ndarray
        :math:`g(\\lambda)`, same shape as ``eigenvalues``.

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


@dataclass(frozen=True)
class HHLSpectrum:
    """The eigen- or singular-value decomposition HHL effectively acts on.

    Symmetric :math:`A = V\\,\\mathrm{diag}(\\lambda)\\,V^{\\mathsf T}`: ``values`` are the
    eigenvalues :math:`\\lambda` (ascending), ``left`` is :math:`V`, ``right`` is None.
    Non-symmetric :math:`A = U\\,\\mathrm{diag}(\\sigma)\\,W^{\\mathsf T}` (HHL inverts the
    dilation, eigenvalues :math:`\\pm\\sigma_i`, eigenvectors
    :math:`(u_i, \\pm w_i)/\\sqrt2`): ``values`` are :math:`\\sigma` (descending), ``left``
    is :math:`U`, ``right`` is :math:`W`. Build it with :func:`hhl_spectrum` once and pass
    it to :func:`hhl_model` as often as needed.
    """

    values: np.ndarray = field(repr=False)
    left: np.ndarray = field(repr=False)
    right: np.ndarray | None = field(repr=False)
    dimension: int
    dilated: bool
    bounds: SpectralBounds


def hhl_spectrum(A: Any, *, max_bytes: float | None = None) -> HHLSpectrum:
    """Decompose :math:`A` once for :func:`hhl_model`: ``eigh`` if symmetric, else ``svd``.

    Parameters
    ----------
    A : (m, m) array_like or sparse matrix
        Real, square, finite, invertible.
    max_bytes : float, optional
        Size guard: refuse (before densifying) when the dense matrix and its decomposition
        would exceed this many bytes (default 4 GiB).

    Returns
    -------
    HHLSpectrum
        With exact :class:`SpectralBounds`.

    Raises
    ------
    ValueError
        Non-square, complex, non-finite or singular :math:`A`.

    Examples
    --------
    >>> spec = hhl_spectrum([[1.0, -1 / 3], [-1 / 3, 1.0]])
    >>> np.round(spec.values, 4), spec.dilated
    (array([0.6667, 1.3333]), False)
    """

    return _hhl_spectrum(A, max_bytes=max_bytes, func="hhl_spectrum")


def _hhl_spectrum(A: Any, *, max_bytes: float | None, func: str) -> HHLSpectrum:
    mat = _dense_square(A, func, max_bytes=max_bytes)
    m = mat.shape[0]
    if _is_symmetric(mat):
        w, V = scipy.linalg.eigh(mat, driver="evd", check_finite=False)
        lower, upper = float(np.min(np.abs(w))), float(np.max(np.abs(w)))
        definite, left, right, dilated = bool(w[0] > 0), V, None, False
    else:
        U, w, Wt = scipy.linalg.svd(mat, lapack_driver="gesdd", check_finite=False)
        lower, upper = float(w[-1]), float(w[0])
        definite, left, right, dilated = False, U, Wt.T, True
    if upper == 0.0 or lower <= 1e-13 * upper:
        cond = math.inf if lower == 0.0 else upper / lower
        raise ValueError(f"{func}: A is singular (condition number {cond:.3g}); HHL needs an invertible A")
    bounds = SpectralBounds(lower, upper, definite, dilated, "exact")
    return HHLSpectrum(values=w, left=left, right=right, dimension=m, dilated=dilated, bounds=bounds)


@dataclass(frozen=True)
class HHLModelResult:
    """Result of :func:`hhl_model`: the finite-clock HHL output computed without a circuit.

    Sign convention: the circuit's amplitudes are real and its ideal output is
    :math:`+C H^{-1}|b\\rangle` (:math:`C>0`), so ``statevector`` equals the circuit's
    postselected amplitudes *with their sign* (global phase 1), and ``solution`` is that
    block normalized, not sign-fixed: it approximates :math:`+A^{-1}b/\\|A^{-1}b\\|`. With
    ``shots`` the sign is not observable and ``sampled_solution`` is fixed so that its
    largest entry is positive (as :func:`hhl_solve` does).

    Attributes
    ----------
    solution : ndarray, shape (m,)
        Exact postselected output, normalized.
    amplitudes : ndarray, shape (m,)
        Unnormalized amplitudes of the solution block, :math:`\\approx C A^{-1}b/\\|b\\|`.
    statevector : ndarray, shape (2**system_qubits,)
        Unnormalized real amplitudes of ``system`` given flag = 1, clock = 0 (padding and
        dilation included), as ``HHLResult.statevector``.
    success_probability : float
        :math:`P = \\|\\text{statevector}\\|^2`.
    solution_norm : float
        :math:`\\|b\\|\\sqrt P/C`.
    reference : ndarray
        :math:`A^{-1}b` normalized (from the decomposition).
    fidelity : float
        :math:`\\langle\\text{solution}, \\text{reference}\\rangle^2`.
    eigenvalues, filter : ndarray
        The signed eigenvalues of the inverted Hermitian matrix (:math:`\\lambda`, or
        :math:`+\\sigma` then :math:`-\\sigma` for a dilation) and :math:`g` there
        (:func:`hhl_filter`).
    num_qubits, system_qubits, clock_qubits : int
    evolution_time, scaling, reciprocal_constant : float
    bounds : SpectralBounds
    shots : int or None
    counts : ndarray or None
        With shots: postselected outcome counts of ``system`` (length :math:`2^s`); their
        sum is the number of successes.
    sampled_solution : ndarray or None
        With shots: the estimate :func:`hhl_solve` forms from the same measurements
        (magnitudes from ``counts``, relative signs from :math:`s` Hadamard runs).
    sampled_probability : float or None
        With shots: successes / shots.
    """

    solution: np.ndarray
    amplitudes: np.ndarray = field(repr=False)
    statevector: np.ndarray = field(repr=False)
    success_probability: float
    solution_norm: float
    reference: np.ndarray = field(repr=False)
    fidelity: float
    eigenvalues: np.ndarray = field(repr=False)
    filter: np.ndarray = field(repr=False)
    num_qubits: int
    system_qubits: int
    clock_qubits: int
    evolution_time: float
    scaling: float
    reciprocal_constant: float
    bounds: SpectralBounds
    shots: int | None = None
    counts: np.ndarray | None = field(default=None, repr=False)
    sampled_solution: np.ndarray | None = field(default=None, repr=False)
    sampled_probability: float | None = None
    sign_convention: str = field(default="circuit", repr=False)


def hhl_model(
    A: Any,
    b: Any,
    *,
    clock_qubits: int,
    evolution_time: float | None = None,
    scaling: float | None = None,
    eigenvalue_bounds: Any = None,
    accuracy: float | None = None,
    shots: int | None = None,
    rng: Any = None,
    max_bytes: float | None = None,
) -> HHLModelResult:
    """The output of the HHL circuit of :func:`hhl_circuit`, computed without a circuit.

    The circuit multiplies each eigenvector of the Hermitian matrix it inverts by the
    filter :math:`g(\\lambda)` of :func:`hhl_filter` (finite clock, Fejér leakage,
    unrotated bins included), so with :math:`|b\\rangle = b/\\|b\\|`:

    * symmetric :math:`A = V\\Lambda V^{\\mathsf T}`: output
      :math:`V g(\\Lambda) V^{\\mathsf T}|b\\rangle` on the first :math:`m` entries;
    * otherwise (dilation), with :math:`A = U\\Sigma W^{\\mathsf T}`,
      :math:`\\beta = U^{\\mathsf T}|b\\rangle` and :math:`g_\\pm = g(\\pm\\sigma)`: the block
      of the top system qubit 0 holds :math:`U\\,\\tfrac{g_++g_-}{2}\\beta` (the leakage; zero
      for an odd filter) and the solution block holds :math:`W\\,\\tfrac{g_+-g_-}{2}\\beta
      \\approx C A^{-1}|b\\rangle`.

    Padding adds eigenvectors orthogonal to :math:`|b\\rangle`, so it changes nothing but
    the register size. The parameters (evolution time, scaling) are those of
    :func:`hhl_circuit` for the same arguments; the tests check the statevector against
    the Aer simulation of the circuit to :math:`10^{-9}`. Cost: one pass over the
    decomposition and :math:`O(m\\,2^c)` for the filter, after the :math:`O(m^3)`
    decomposition, which a precomputed :class:`HHLSpectrum` skips.

    Parameters
    ----------
    A : (m, m) array_like, sparse matrix, or HHLSpectrum
        The matrix, or its decomposition from :func:`hhl_spectrum`.
    b : (m,) array_like
        Right-hand side, finite and non-zero.
    clock_qubits, evolution_time, scaling, eigenvalue_bounds, accuracy
        As in :func:`hhl_circuit` (with an HHLSpectrum, ``eigenvalue_bounds`` may be None,
        ``"exact"``, a pair or a SpectralBounds).
    shots : int, optional
        Also sample the measurements of :func:`hhl_solve`'s shot mode: one run of
        ``shots`` copies measured in the computational basis, and :math:`s` runs with a
        Hadamard on one system qubit each (multinomial draws over the postselected
        outcomes and the failure outcome).
    rng : None, int or numpy.random.Generator
        Drives the sampling; see ``numpy.random.default_rng``.
    max_bytes : float, optional
        Size guard (default 4 GiB): the dense decomposition of ``A``, the :math:`2^s`
        statevector and the :math:`2^c` clock bins.

    Returns
    -------
    HHLModelResult
        ``sign_convention`` as in :class:`HHLResult`: ``solution`` keeps the circuit's sign,
        ``sampled_solution`` has its largest entry positive.

    Raises
    ------
    ValueError
        As :func:`hhl_circuit` (no qubit limit), for a non-positive ``shots`` and for an
        ``A`` of the wrong type.

    Warns
    -----
    HHLResolutionWarning
        When the smallest eigenvalue lies below the first clock bin.

    Examples
    --------
    >>> res = hhl_model([[1, -1 / 3], [-1 / 3, 1]], [1, 0], clock_qubits=3, scaling=2 / 8)
    >>> np.round(res.solution, 4), round(res.success_probability, 4)
    (array([0.9487, 0.3162]), 0.625)
    """
    func = "hhl_model"
    if shots is not None:
        shots = check_int(shots, "shots", func=func, minimum=1, maximum=2**62)
    generator = as_rng(rng, func=func)
    c = check_int(clock_qubits, "clock_qubits", func=func, minimum=1, maximum=62)
    check_memory(estimate_bytes(6, 2.0**c), what=f"the {c}-qubit clock ({2.0**c:.3g} bins)",
                 max_bytes=max_bytes, func=func)
    spec, mat = (A, None) if isinstance(A, HHLSpectrum) else _model_decomposition(A, func, max_bytes)
    m = spec.dimension
    vec = as_vector(b, "b", func=func, size=m, allow_zero=False)
    if isinstance(eigenvalue_bounds, str) and eigenvalue_bounds != "exact" and mat is not None:
        bounds = _spectral_bounds(mat, method=eigenvalue_bounds, max_bytes=max_bytes, func=func)
    else:
        bounds = _resolve_bounds(
            eigenvalue_bounds, mat=None, symmetric=not spec.dilated, func=func, exact_bounds=spec.bounds
        )
    t, scaling = _parameters(bounds, c, evolution_time=evolution_time, scaling=scaling, accuracy=accuracy, func=func, stacklevel=3)
    out = _model_output(spec, vec / np.linalg.norm(vec), clock_qubits=c, evolution_time=t, scaling=scaling,
                        definite=bounds.definite)
    state, block = out["statevector"], out["amplitudes"]
    probability = float(np.dot(state, state))
    norm = float(np.linalg.norm(block))
    if not (math.isfinite(probability) and math.isfinite(norm)):
        raise ValueError(f"{func}: the modelled output is not finite (norm {norm}); check A, b and the parameters")
    solution = block / norm if norm > 0 else np.full(m, np.nan)
    constant = _constant(scaling, t, bounds.definite)
    counts = sampled = sampled_p = None
    if shots is not None:
        counts, sampled, sampled_p = _model_shots(state, out["window"], shots, generator)
    return HHLModelResult(
        solution=solution,
        success_probability=probability,
        solution_norm=float(np.linalg.norm(vec) * math.sqrt(probability) / constant),
        fidelity=float(np.dot(solution, out["reference"]) ** 2) if norm > 0 else 0.0,
        num_qubits=out["system_qubits"] + c + 1,
        clock_qubits=c,
        evolution_time=float(t),
        scaling=float(scaling),
        reciprocal_constant=constant,
        bounds=bounds,
        shots=shots,
        counts=counts,
        sampled_solution=sampled,
        sampled_probability=sampled_p,
        sign_convention=SIGN_CIRCUIT,
        amplitudes=block,
        statevector=state,
        reference=out["reference"],
        eigenvalues=out["eigenvalues"],
        filter=out["filter"],
        system_qubits=out["system_qubits"],
    )


def _model_decomposition(A: Any, func: str, max_bytes: float | None) -> tuple[HHLSpectrum, np.ndarray]:
    """The dense ``A`` and its :class:`HHLSpectrum`, for :func:`hhl_model` given a matrix."""
    mat = _dense_square(A, func, max_bytes=max_bytes)
    return _hhl_spectrum(mat, max_bytes=max_bytes, func=func), mat


def _model_output(spec: HHLSpectrum, unit: np.ndarray, *, clock_qubits: int, evolution_time: float,
                  scaling: float, definite: bool) -> dict:
    """The postselected register of the HHL circuit from the decomposition (module docstring of :func:`hhl_model`).

    Returns the fields of :class:`HHLModelResult` it determines (``statevector``,
    ``amplitudes``, ``reference``, ``eigenvalues``, ``filter``, ``system_qubits``) and
    ``window``, the slice of ``statevector`` that holds the solution block.
    """
    m = spec.dimension
    size_bits = max(1, math.ceil(math.log2(m))) if m > 1 else 1
    s = size_bits + (1 if spec.dilated else 0)
    dim = 2**size_bits
    state = np.zeros(2**s)
    beta = spec.left.T @ unit
    if not spec.dilated:
        lam = spec.values
        filt = hhl_filter(lam, clock_qubits=clock_qubits, evolution_time=evolution_time, scaling=scaling,
                          definite=definite)
        block = spec.left @ (filt * beta)
        window = slice(0, m)
        reference = spec.left @ (beta / lam)
        eigenvalues = lam
    else:
        sigma = spec.values
        eigenvalues = np.concatenate([sigma, -sigma])
        filt = hhl_filter(eigenvalues, clock_qubits=clock_qubits, evolution_time=evolution_time, scaling=scaling,
                          definite=definite)
        gp, gm = filt[: sigma.size], filt[sigma.size :]
        state[:m] = spec.left @ (0.5 * (gp + gm) * beta)
        block = spec.right @ (0.5 * (gp - gm) * beta)
        window = slice(dim, dim + m)
        reference = spec.right @ (beta / sigma)
    state[window] = block
    return {"statevector": state, "amplitudes": block, "reference": reference / np.linalg.norm(reference),
            "eigenvalues": eigenvalues, "filter": filt, "system_qubits": s, "window": window}


def _model_shots(state: np.ndarray, window: slice, shots: int, generator: np.random.Generator):
    """Counts, sampled solution and sampled success probability of :func:`hhl_solve`'s shot mode.

    The :math:`s+1` settings are sampled from the exact postselected amplitudes by
    :func:`qsgd.tomography.hadamard_pair_counts` and read as :func:`hhl_solve` reads Aer's
    counts (:func:`qsgd.tomography.amplitudes_from_pair_counts`, largest entry positive).
    """
    table = hadamard_pair_counts(state, shots, rng=generator)
    counts = table[0].copy()
    est = _largest_positive(amplitudes_from_pair_counts(table)[window])
    sampled = est / np.linalg.norm(est) if np.any(est) else np.full(est.size, np.nan)
    return counts, sampled, float(counts.sum() / shots)


# --------------------------------------------------------------------------- gate counts


def unitary_cx(num_qubits: int) -> int:
    """CX count of Qiskit's synthesis of a generic ``UnitaryGate`` on ``num_qubits`` qubits.

    The quantum Shannon decomposition as Qiskit implements it (optimization level 0, basis
    ``{cx, u}``): 0 for one qubit, 3 for two, and
    :math:`(11\\cdot4^n - 36\\cdot2^n + 40)/24` from two qubits on (19, 95, 423, ... for
    :math:`n = 3, 4, 5`), i.e. :math:`\\tfrac{11}{24}4^n` to leading order. Matrices with
    structure may compile to fewer.

    Examples
    --------
    >>> [unitary_cx(n) for n in range(1, 6)]
    [0, 3, 19, 95, 423]
    """
    n = check_int(num_qubits, "num_qubits", func="unitary_cx", minimum=1, maximum=MAX_FORMULA_QUBITS)
    return 0 if n == 1 else (11 * 4**n - 36 * 2**n + 40) // 24


@dataclass(frozen=True)
class HHLGateCount:
    """CX count of the spectral HHL circuit, part by part (:func:`hhl_cx_count`).

    Attributes
    ----------
    state_preparation : int
        The preparation of :math:`|b\\rangle`.
    basis_change : int
        ``UnitaryGate`` :math:`V^\\dagger` and :math:`V` on :math:`s` qubits:
        :math:`2\\,` :func:`unitary_cx` :math:`(s)`.
    controlled_phases : int
        :math:`2c` clock-controlled diagonals on :math:`s+1` qubits,
        :math:`2^{s+1}-2` CX each.
    fourier : int
        Inverse QFT and QFT, :math:`c(c-1) + 3\\lfloor c/2\\rfloor` each, and the two bit
        reversals, :math:`3\\lfloor c/2\\rfloor` each.
    reciprocal : int
        The ``UCRYGate`` with :math:`c` controls: :math:`2^c`.
    system_qubits, clock_qubits : int
    """

    state_preparation: int
    basis_change: int
    controlled_phases: int
    fourier: int
    reciprocal: int
    system_qubits: int
    clock_qubits: int

    @property
    def total(self) -> int:
        """Sum of the parts: the CX count of the whole circuit."""
        return self.state_preparation + self.basis_change + self.controlled_phases + self.fourier + self.reciprocal


def state_preparation_cx(rhs: Any) -> int:
    """CX count of the preparation :func:`hhl_circuit` uses for the padded unit vector ``rhs``.

    Qiskit's dense ``StatePreparation`` of a real vector on :math:`s` qubits costs
    :math:`2^s - s - 1` CX (generic amplitudes); the sparse preparation of
    :func:`qsgd.upload.sparse_state_preparation` is counted by compiling it (optimization
    level 0, :math:`s` qubits only, so cheap at any size that can be simulated).

    Parameters
    ----------
    rhs : (2**s,) array_like
        Real, finite, non-zero.

    Returns
    -------
    int
    """
    func = "state_preparation_cx"
    if hasattr(rhs, "shape") and len(rhs.shape) >= 1 and math.prod(rhs.shape) > 2**DEFAULT_MAX_QUBITS:
        raise ValueError(f"{func}: rhs has {math.prod(rhs.shape)} entries, above 2**{DEFAULT_MAX_QUBITS} "
                         f"(DEFAULT_MAX_QUBITS): its preparation would not be simulated")
    vec = as_vector(rhs, "rhs", func=func, allow_zero=False)
    if vec.size > 2**DEFAULT_MAX_QUBITS:
        raise ValueError(f"{func}: rhs has {vec.size} entries, above 2**{DEFAULT_MAX_QUBITS} (DEFAULT_MAX_QUBITS)")
    s = int(round(math.log2(vec.size)))
    if 2**s != vec.size:
        raise ValueError(f"{func}: rhs must have a power-of-two length, got {vec.size}")
    vec = vec / np.linalg.norm(vec)
    gate = _state_preparation(vec)
    if gate.name == "state_preparation":
        return 2**s - s - 1
    compiled = transpile(gate.definition, basis_gates=["cx", "u"], optimization_level=0)
    return int(compiled.count_ops().get("cx", 0))


def hhl_cx_count(system_qubits: int, clock_qubits: int, *, state_preparation: int | None = None) -> HHLGateCount:
    """CX count of ``hhl_circuit(..., construction="spectral")`` by formula, at any size.

    The count after ``transpile(basis_gates=["cx", "u"], optimization_level=0)`` for generic
    parameters (the tests compare each part with ``transpile`` of a generic gate of that
    shape). It is an upper bound for actual systems: the eigenbasis :math:`V` of a real
    matrix is real orthogonal and Qiskit compiles it with a few CX fewer (1--4 per basis
    change in the tests), a preparation with vanishing angles costs less, and an
    optimizing transpile removes more. The formula
    depends only on the register sizes, never on floating-point rounding:

    .. math:: N_{\\rm CX} = N_{\\rm prep} + 2\\,U(s) + 2c\\,(2^{s+1}-2)
              + 2c(c-1) + 12\\lfloor c/2\\rfloor + 2^c,

    with :math:`U(s)` = :func:`unitary_cx`. The first term grows like :math:`4^s` (the
    dense basis change), the rest like :math:`c\\,2^s` -- the statevector-simulation form
    of HHL, not the sparse-oracle circuit of the asymptotic analysis.

    Parameters
    ----------
    system_qubits, clock_qubits : int
        :math:`s \\ge 1` (the dilation qubit included) and :math:`c \\ge 1`.
    state_preparation : int, optional
        CX of the preparation of :math:`|b\\rangle` (:func:`state_preparation_cx`); default
        the dense preparation of a generic real vector, :math:`2^s-s-1`.

    Returns
    -------
    HHLGateCount

    Examples
    --------
    >>> hhl_cx_count(1, 3).total  # the 2x2 textbook system with 3 clock qubits
    44
    """
    func = "hhl_cx_count"
    s = check_int(system_qubits, "system_qubits", func=func, minimum=1, maximum=MAX_FORMULA_QUBITS)
    c = check_int(clock_qubits, "clock_qubits", func=func, minimum=1, maximum=MAX_FORMULA_QUBITS)
    prep = 2**s - s - 1 if state_preparation is None else check_int(state_preparation, "state_preparation", func=func, minimum=0)
    half = c // 2
    return HHLGateCount(
        state_preparation=prep,
        basis_change=2 * unitary_cx(s),
        controlled_phases=2 * c * (2 ** (s + 1) - 2),
        fourier=2 * (c * (c - 1) + 3 * half) + 2 * 3 * half,
        reciprocal=2**c,
        system_qubits=s,
        clock_qubits=c,
    )


# --------------------------------------------------------------------------- the segments' policy and bound

#: phase at which the largest singular value sits on the clock (the wrap-around point is 1/2)
PHASE_HEADROOM = 3 / 8

#: the reciprocal rotation is full at clock bin floor(k_min / INVERSION_MARGIN)
INVERSION_MARGIN = 2


def hhl_parameters(lower, upper, *, clock_qubits, headroom=PHASE_HEADROOM, margin=INVERSION_MARGIN):
    r"""Evolution time and reciprocal scaling with head-room: the policy of the segments of chapter 8.

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

    :func:`choose_parameters` is the other policy of this module (chapter 4's textbook defaults:
    :math:`\lambda_{\max}` on the last clock bin, one octave of head-room for the rotation); both
    compute the constant :math:`C` with the same formula.

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
    scaling = _rotation_scaling(lower, t, c, False, margin=margin)
    return float(t), float(scaling), _constant(scaling, t, definite=False)


def hhl_error_bound(lower, upper, *, clock_qubits, headroom=PHASE_HEADROOM, margin=INVERSION_MARGIN,
                    points_per_bin=64, eigenvalues=None, evolution_time=None, scaling=None) -> float:
    r"""Bound on the error of the normalized HHL output, from the phase-estimation response.

    With :math:`f(\lambda)=(C/\lambda)(1+r(\lambda))` (:func:`hhl_filter`), the unnormalized
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
        C = _constant(scaling, t, definite=False)
    c = int(clock_qubits)
    if eigenvalues is None:
        bins = (upper - lower) * t * 2**c / (2.0 * math.pi)
        grid = np.linspace(lower, upper, max(2, int(math.ceil(bins * points)) + 1))
    else:
        grid = np.abs(as_vector(eigenvalues, "eigenvalues", func=func))
        if grid.min() < lower * (1 - 1e-12) or grid.max() > upper * (1 + 1e-12):
            raise ValueError(f"{func}: eigenvalues must lie in [lower, upper] = [{lower:.6g}, {upper:.6g}]")
    lam = np.concatenate([grid, -grid])
    f = hhl_filter(lam, clock_qubits=c, evolution_time=t, scaling=scaling, definite=False)
    r = f * lam / C - 1.0
    return float(2.0 * np.max(np.abs(r)))
