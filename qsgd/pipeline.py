r"""One quantum training segment, end to end: its stages, its error budget and its guarantee.

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
4. **Upload** of the right-hand side (:func:`qsgd.upload.sparse_state_preparation`; the
   circuit is built only up to ``UPLOAD_CIRCUIT_MAX_NONZEROS`` non-zeros).
5. **The linear-system solver** of the registry :data:`qsgd.solvers.SOLVERS`
   (``SegmentSettings.solver``): the normalized history state :math:`|Y\rangle`. For HHL either
   from the exact algorithm-level model of the finite-clock circuit (:func:`qsgd.hhl.hhl_model`,
   applied to the decomposition :func:`qsgd.decomposition.decompose` computed once per segment)
   or from the circuit on qiskit-aer (:func:`qsgd.hhl.hhl_solve`); ``SegmentSettings.simulation``
   chooses. Above :data:`DECOMPOSITION_LIMIT` unknowns (or with ``linalg="matrix-free"``) the
   model needs no decomposition: the singular values of the Eq. 6 matrix are bracketed by
   Lanczos (:func:`qsgd.matfun.singular_value_bracket`) and the solver's filter or polynomial is
   applied as a Chebyshev series of sparse products (:mod:`qsgd.matfun`).
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
(:func:`qsgd.history.readout_error_bound`)

.. math::

    \lVert\hat u_T-u_T\rVert\le\frac{\lVert F_0\rVert}{\lVert a\rVert-\delta}\,\delta\,
    \sqrt{\tfrac{1}{p+1}+\frac{\lVert c\rVert^2}{\lVert a\rVert^2}} .

**Error budget.** With :math:`\theta_{\rm GD}` exact gradient descent,
:math:`\theta_{\rm poly}` the polynomial map iterated, :math:`\theta_{\rm Carl}` the exact
solution of Eq. 6, :math:`\theta_{\rm HHL}` the read-out of the solver's output state and
:math:`\theta` the downloaded weights, the error telescopes into four terms. Each has an **a
priori bound**, computed before the solver runs (:mod:`qsgd.guarantee`), and an **after-the-fact
estimate** computed from the run itself (which cannot fail and is no guarantee):

=============  =====================================  ==========================================
term           difference                             a priori bound (knob)
=============  =====================================  ==========================================
Taylor         :math:`\theta_{\rm poly}-\theta_{\rm GD}`   Taylor remainders propagated with
                                                       :math:`1+\eta H`, from derivative bounds
                                                       (``degree``; :mod:`qsgd.derivative_bounds`)
truncation     :math:`\theta_{\rm Carl}-\theta_{\rm poly}` discrete PNAS Lemma 1: coefficient norms,
                                                       trust radius, powers of :math:`C` (``order``)
solver         :math:`\theta_{\rm HHL}-\theta_{\rm Carl}`  phase-estimation analysis, :math:`\propto
                                                       \kappa\,2^{-c}` (``clock_qubits``), through
                                                       the read-out with a priori block norms
tomography     :math:`\theta-\theta_{\rm HHL}`             finite-sample bound at ``confidence``
                                                       (``shots``), through the read-out
=============  =====================================  ==========================================

:func:`quantum_gd` returns ``success=False`` (and warns) when the guarantee fails: an infinite
term, or a total above ``SegmentSettings.tolerance``.

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
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import torch

from qsgd._linalg import dense
from qsgd._validation import (
    as_rng,
    check_memory,
    estimate_bytes,
    as_vector,
    check_choice,
    check_int,
    check_positive,
    describe,
)
from qsgd.carleman import BASES, DEFAULT_BASIS, discrete_carleman, level_slices, lifted_dimension, truncation_error_estimate
from qsgd.derivative_bounds import DerivativeBounds, tanh_mlp_bounds
from qsgd.gd import gradient_descent, model_loss, polynomial_map, taylor_error_estimate
from qsgd.guarantee import GuaranteeWarning, segment_guarantee
from qsgd.decomposition import decompose
from qsgd.lifting_operators import OPERATOR_ORDERS, carleman_operator, history_operator
from qsgd.matfun import singular_value_bracket
# the read-out of Eq. 6 and its spectrum live in qsgd.history; imported here for the segment
from qsgd.history import (
    history_system,
    readout_error_bound,
    readout_weights,
    solve_history,
    theta_trajectory,
)
from qsgd.solvers import SOLVERS, LinearSystem
from qsgd.theorem import check_assumptions
from qsgd.tomography import vector_tomography
from qsgd.tomography_bounds import CONFIDENCE, tomography_error_bound
from qsgd.upload import cnot_count, upload_weights

__all__ = [
    "NonDissipativeWarning",
    "SEGMENT_MAX_QUBITS",
    "UPLOAD_CIRCUIT_MAX_NONZEROS",
    "QubitCount",
    "segment_qubits",
    "SIMULATIONS",
    "SegmentSettings",
    "ErrorTerm",
    "SegmentResources",
    "SegmentReport",
    "SegmentStages",
    "run_seed",
    "sampled_runs",
    "SegmentResult",
    "quantum_gd",
]

#: largest circuit quantum_gd simulates by default (a 2^16 statevector; the dense controlled
#: unitaries of phase estimation grow like 4^(system qubits))
SEGMENT_MAX_QUBITS = 16

#: largest right-hand side (non-zeros) whose Gleinig-Hoefler circuit quantum_gd builds and counts
#: (the construction's classical planning grows faster than linearly in the non-zeros)
UPLOAD_CIRCUIT_MAX_NONZEROS = 256


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


def segment_qubits(n, *, order, steps, clock_qubits, padding=0, basis=DEFAULT_BASIS) -> QubitCount:
    """Qubits the HHL circuit of one segment needs (same layout as :func:`qsgd.hhl.hhl_circuit`).

    Parameters
    ----------
    n : int
        Free weights.
    order, steps, clock_qubits, padding : int
        ``N``, ``T``, ``c`` and ``p``.
    basis : {"kronecker", "symmetric"}, default :data:`qsgd.carleman.DEFAULT_BASIS` ("kronecker")

    Returns
    -------
    QubitCount

    Examples
    --------
    >>> segment_qubits(3, order=2, steps=3, clock_qubits=6).total
    14

    Used in chapter 8.
    """

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
# settings and report
# ----------------------------------------------------------------------------------------

SIMULATIONS = ("model", "circuit")

#: how the algorithm-level model does its linear algebra: "auto" picks "decomposition" up to
#: DECOMPOSITION_LIMIT unknowns (and for circuits), "matrix-free" above
LINALG = ("auto", "decomposition", "matrix-free")

#: largest Eq. 6 dimension that ``linalg="auto"`` decomposes
DECOMPOSITION_LIMIT = 4096


@dataclass(frozen=True)
class SegmentSettings:
    r"""The knobs of one quantum segment, shared by :func:`quantum_gd` and :func:`qsgd.training.quantum_training`.

    Attributes
    ----------
    eta : float
        Learning rate, > 0.
    steps : int
        ``T`` >= 1 GD steps per segment.
    order : int
        Carleman truncation order ``N`` in 1..4.
    clock_qubits : int
        Phase-estimation qubits ``c`` >= 2 (one is the sign bit).
    shots : int or None
        Copies per tomography stage; ``None`` reads the postselected HHL state exactly.
    degree : {2, 3}
        Degree ``q`` of the polynomial map.
    padding : int
        ``p`` >= 0 extra copies of the last step in Eq. 6.
    basis : {"kronecker", "symmetric"}, default :data:`qsgd.carleman.DEFAULT_BASIS` ("kronecker")
        Carleman basis; ``"symmetric"`` gives the same dynamics with one coordinate per monomial
        (a smaller Eq. 6 system).
    simulation : {"model", "circuit"}
        How HHL is simulated: ``"model"`` applies the exact finite-clock filter of the
        circuit (:func:`qsgd.hhl.hhl_model`) to the singular-value decomposition of the Eq. 6
        matrix (any size the decomposition affords); ``"circuit"`` runs the HHL circuit of
        :func:`qsgd.hhl.hhl_solve` on Aer (at most ``max_qubits`` qubits).
    confidence : float
        Confidence level of the tomography bound, in (0, 1).
    max_qubits : int
        Largest circuit the circuit simulation accepts.
    count_gates : bool
        Transpile the circuit for its CX count and depth (circuit simulation only).
    construction : {"spectral", "dense"}
        The HHL circuit construction of :func:`qsgd.hhl.hhl_circuit` (circuit simulation only):
        ``"spectral"`` (eigenbasis change, clock-controlled diagonals; simulates 20+ qubits in
        seconds) or ``"dense"`` (phase estimation with dense controlled powers).
    solver : str, default "hhl"
        The linear-system solver, a key of :data:`qsgd.solvers.SOLVERS`: ``"hhl"`` or
        ``"polynomial"`` (the QSVT-style polynomial inverse, algorithm level only).
    accuracy : float, default 0.01
        Target accuracy of the polynomial solver's approximation of :math:`1/x` (its degree grows
        like :math:`\kappa\log(\kappa/\epsilon)`); HHL's accuracy is set by ``clock_qubits``.
    tolerance : float or None
        The caller's tolerance on the a priori bound of :math:`\lVert\theta-\theta_{\rm GD}(T)\rVert`
        (:func:`qsgd.guarantee.segment_guarantee`): a segment whose bound exceeds it, or that has no
        complete a priori bound, returns ``success=False``.
    linalg : {"auto", "decomposition", "matrix-free"}
        How the algorithm-level model gets the spectrum: ``"decomposition"`` (the singular-value
        decomposition of the Eq. 6 matrix, exact bounds), ``"matrix-free"`` (Lanczos bracket of the
        extreme singular values at confidence :math:`1-2\cdot10^{-9}`, the solver applied as a
        Chebyshev series of sparse products; :mod:`qsgd.matfun`), or ``"auto"``: the decomposition
        up to :data:`DECOMPOSITION_LIMIT` unknowns and for circuits, matrix-free above.
    """

    eta: float
    steps: int
    order: int = 2
    clock_qubits: int = 8
    shots: int | None = 10_000
    degree: int = 2
    padding: int = 0
    basis: str = DEFAULT_BASIS
    simulation: str = "model"
    confidence: float = CONFIDENCE
    max_qubits: int = SEGMENT_MAX_QUBITS
    count_gates: bool = False
    construction: str = "spectral"
    solver: str = "hhl"
    accuracy: float = 1e-2
    tolerance: float | None = None
    linalg: str = "auto"

    def __post_init__(self):
        func = "SegmentSettings"
        set_ = object.__setattr__
        set_(self, "eta", check_positive(self.eta, "eta", func=func))
        set_(self, "steps", check_int(self.steps, "steps", func=func, minimum=1))
        set_(self, "order", check_int(self.order, "order", func=func, minimum=1, maximum=4))
        set_(self, "clock_qubits", check_int(self.clock_qubits, "clock_qubits", func=func, minimum=2, maximum=62))
        if self.shots is not None:
            set_(self, "shots", check_int(self.shots, "shots", func=func, minimum=1))
        set_(self, "degree", check_int(self.degree, "degree", func=func, minimum=2, maximum=3))
        set_(self, "padding", check_int(self.padding, "padding", func=func, minimum=0))
        set_(self, "basis", check_choice(self.basis, "basis", BASES, func=func))
        set_(self, "simulation", check_choice(self.simulation, "simulation", SIMULATIONS, func=func))
        confidence = check_positive(self.confidence, "confidence", func=func)
        if confidence >= 1:
            raise ValueError(f"{func}: confidence must be in (0, 1), got {confidence}")
        set_(self, "confidence", confidence)
        set_(self, "max_qubits", check_int(self.max_qubits, "max_qubits", func=func, minimum=4))
        if not isinstance(self.count_gates, bool):
            raise ValueError(f"{func}: count_gates must be True or False, got {describe(self.count_gates)}")
        set_(self, "construction", check_choice(self.construction, "construction", ("spectral", "dense"),
                                                func=func))
        set_(self, "solver", check_choice(self.solver, "solver", tuple(SOLVERS), func=func))
        accuracy = check_positive(self.accuracy, "accuracy", func=func)
        if accuracy >= 1:
            raise ValueError(f"{func}: accuracy must be in (0, 1), got {accuracy}")
        set_(self, "accuracy", accuracy)
        if self.tolerance is not None:
            set_(self, "tolerance", check_positive(self.tolerance, "tolerance", func=func))
        set_(self, "linalg", check_choice(self.linalg, "linalg", LINALG, func=func))
        if self.linalg == "matrix-free" and self.simulation == "circuit":
            raise ValueError(f"{func}: linalg='matrix-free' is an algorithm-level model; simulation='circuit' "
                             "builds the circuit from a decomposition (use linalg='auto' or 'decomposition')")
        if self.solver != "hhl" and self.simulation == "circuit":
            raise ValueError(f"{func}: simulation='circuit' runs the HHL circuit; solver={self.solver!r} is "
                             "simulated at the algorithm level only (simulation='model')")


def segment_settings(settings, knobs, func) -> SegmentSettings:
    """``settings`` with ``knobs`` replaced, or a new SegmentSettings from ``knobs``."""
    unknown = set(knobs) - {f.name for f in fields(SegmentSettings)}
    if unknown:
        raise ValueError(f"{func}: unknown setting(s) {sorted(unknown)}; see qsgd.pipeline.SegmentSettings")
    if settings is None:
        try:
            return SegmentSettings(**knobs)
        except TypeError as exc:
            raise ValueError(f"{func}: {exc}; give settings=SegmentSettings(...) or eta= and steps=") from exc
    if not isinstance(settings, SegmentSettings):
        raise ValueError(f"{func}: settings must be a SegmentSettings, got {describe(settings)}")
    return replace(settings, **knobs) if knobs else settings


@dataclass(frozen=True)
class ErrorTerm:
    """One term of the error budget: the realized error, its a priori bound, and an after-the-fact estimate.

    ``bound`` is computed before the segment runs (:class:`qsgd.guarantee.Guarantee`; ``inf`` when
    nothing finite is proven, ``nan`` when no a priori bound exists for this loss); ``estimate``
    is computed afterwards from quantities of the run itself (the classical trajectories, the
    realized states), so it cannot fail and is not a guarantee.
    """

    error: float
    bound: float
    estimate: float = math.nan

    @property
    def ratio(self) -> float:
        """``bound / error`` (inf for a zero error): how loose the a priori bound is."""
        return math.inf if self.error == 0 else self.bound / self.error

    @property
    def holds(self) -> bool:
        """``error <= bound`` up to rounding, for a finite error and a finite bound (an infinite bound
        guarantees nothing, so it never holds)."""
        finite = math.isfinite(self.error) and math.isfinite(self.bound)
        return bool(finite and self.error <= self.bound * (1 + 1e-12) + 1e-15)


@dataclass(frozen=True)
class SegmentResources:
    r"""What one segment costs on a device, and what its simulation used.

    Attributes
    ----------
    qubits : QubitCount
        Registers of the HHL circuit (system incl. one dilation qubit, clock, flag).
    kappa, sigma_min, sigma_max : float
        Condition number and singular-value range of the Eq. 6 matrix: exact with a decomposition;
        matrix-free, the outer ends of the Lanczos bracket (:math:`\sigma_{\min}` from below,
        :math:`\sigma_{\max}` from above, so ``kappa`` is an upper bound at the bracket's confidence).
    success_probability : float
        HHL postselection (flag 1, clock 0) per run.
    postselection_probability : float
        Probability of the read-out blocks (first level at steps 1 and T..T+p) in the HHL output.
    final_step_probability : float
        The same for the first level at step T alone (the read-out of the paper).
    tomography_copies : int
        Postselected copies measured by tomography (both stages).
    hhl_runs : int
        HHL runs it took to collect them, sampled: each run succeeds (flag, clock and read-out
        block) with probability ``success_probability * postselection_probability``.
    expected_hhl_runs : float
        ``tomography_copies / (success_probability * postselection_probability)``.
    upload_sparsity : int
        Non-zeros of the right-hand side.
    upload_cx : int or None
        CNOTs of its Gleinig-Hoefler preparation (None above ``UPLOAD_CIRCUIT_MAX_NONZEROS``
        non-zeros, where the circuit is not built).
    cx_count, depth : int or None
        Of the simulated HHL circuit transpiled to {cx, u} (circuit simulation with
        ``count_gates`` only).
    solver : str
        The linear-system solver (a key of :data:`qsgd.solvers.SOLVERS`).
    solver_queries, solver_qubits : int
        Its oracle queries and qubits per run (:class:`qsgd.solvers.SolverResult`).
    """

    qubits: QubitCount
    kappa: float
    sigma_min: float
    sigma_max: float
    success_probability: float
    postselection_probability: float
    final_step_probability: float
    tomography_copies: int
    hhl_runs: int
    expected_hhl_runs: float
    upload_sparsity: int
    upload_cx: int | None
    cx_count: int | None = None
    depth: int | None = None
    solver: str = "hhl"
    solver_queries: int = 0
    solver_qubits: int = 0


@dataclass(frozen=True)
class SegmentReport:
    r"""What one quantum segment did: its settings, its error budget and its resources.

    Attributes
    ----------
    settings : SegmentSettings
    theta0 : ndarray
        Weights at the start of the segment (the expansion point).
    theta_gd, theta_poly, theta_carleman, theta_hhl, theta : ndarray
        :math:`\theta(T)` from exact GD, from the polynomial map, from the exact solution of
        Eq. 6, from the HHL output state, and downloaded by tomography (the result).
    errors : dict of str -> ErrorTerm
        ``"taylor"`` :math:`\lVert\theta_{\rm poly}-\theta_{\rm GD}\rVert`, ``"truncation"``
        :math:`\lVert\theta_{\rm Carl}-\theta_{\rm poly}\rVert`, ``"solver"``
        :math:`\lVert\theta_{\rm HHL}-\theta_{\rm Carl}\rVert` (the linear-system solver's
        output, HHL or another), ``"tomography"`` :math:`\lVert\theta-\theta_{\rm HHL}\rVert` and
        ``"total"`` :math:`\lVert\theta-\theta_{\rm GD}\rVert`, each with its a priori bound
        (from :attr:`guarantee`; the total's is the sum of the four; the tomography bound holds
        with probability ``settings.confidence``) and an after-the-fact estimate.
    state_errors : dict of str -> ErrorTerm
        The same on the quantum states: ``"solver"`` the normalized solver output against
        :math:`Y/\lVert Y\rVert` (a priori: :func:`qsgd.hhl.hhl_error_bound` for HHL),
        ``"tomography"`` the tomography estimate against the postselected state
        (:func:`qsgd.tomography_bounds.tomography_error_bound`).
    fidelity : float
        :math:`\langle\tilde x,x\rangle^2` of the HHL output.
    displacement : float
        :math:`\lVert\theta_{\rm GD}-\theta_0\rVert`, the scale the errors compare to.
    carleman_tail : ndarray
        :math:`\lVert r_t\rVert`, the dropped-level residual of each step.
    resources : SegmentResources
    regime, regime_message : str
        Verdict of :func:`qsgd.theorem.check_assumptions`.
    rho : float
        Its contraction factor.
    seed : int
        The seed the segment drew every random number from (:func:`run_seed`): ``rng=seed``
        repeats the segment exactly.
    guarantee : qsgd.guarantee.Guarantee
        The a priori bounds, computed before the solver ran (the ``bound`` of every term).
    """

    settings: SegmentSettings
    theta0: np.ndarray
    theta_gd: np.ndarray
    theta_poly: np.ndarray
    theta_carleman: np.ndarray
    theta_hhl: np.ndarray
    theta: np.ndarray
    errors: dict
    state_errors: dict
    fidelity: float
    displacement: float
    carleman_tail: np.ndarray
    resources: SegmentResources
    regime: str
    regime_message: str
    rho: float
    seed: int
    guarantee: Any = None

    def budget(self) -> dict:
        """``{term: (error, bound)}`` for the four terms and ``"total"``."""
        return {term: (e.error, e.bound) for term, e in self.errors.items()}


@dataclass(frozen=True)
class SegmentStages:
    r"""Intermediate objects of a segment, for inspection (chapter 8 shows each one).

    Attributes
    ----------
    polynomial_map : qsgd.gd.PolynomialMap
    C, b : Carleman matrix and constant (:func:`qsgd.carleman.discrete_carleman`)
    L, rhs : the Eq. 6 system (:func:`qsgd.history.history_system`)
    Y : ndarray
        Its exact solution (sparse direct solve).
    singular_values : ndarray or None
        :math:`\sigma_i` of ``L``, descending (computed once per segment); None when matrix-free.
    bracket : qsgd.matfun.SingularValueBracket or None
        Matrix-free: the Lanczos intervals of :math:`\sigma_{\min}` and :math:`\sigma_{\max}`.
    upload : QuantumCircuit or None
        Sparse preparation of ``rhs / ||rhs||`` (None above ``UPLOAD_CIRCUIT_MAX_NONZEROS``).
    hhl_state : ndarray
        The normalized HHL output on the solution block (model or circuit, per ``simulation``).
    model_state : ndarray
        The algorithm-level model's output (:func:`qsgd.hhl.hhl_model`), whatever ``simulation``.
    model_success_probability : float
        Its success probability.
    hhl : qsgd.hhl.HHLResult or None
        The circuit run (circuit simulation only).
    solver : qsgd.solvers.SolverResult
        What the linear-system solver returned (state, success probability, error bound, queries,
        qubits, verdict).
    evolution_time, scaling : float or None
        The HHL parameters (:func:`qsgd.hhl.hhl_parameters`); None for another solver.
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
    singular_values: np.ndarray | None
    bracket: Any
    upload: Any
    hhl_state: np.ndarray
    model_state: np.ndarray
    model_success_probability: float
    hhl: Any
    solver: Any
    evolution_time: float | None
    scaling: float | None
    readout_indices: np.ndarray
    postselected: np.ndarray
    tomography: Any
    assumptions: Any
    u_gd: np.ndarray
    u_poly: np.ndarray


@dataclass(frozen=True)
class SegmentResult:
    r"""Result of :func:`quantum_gd`.

    Attributes
    ----------
    theta : ndarray
        The downloaded weights :math:`\theta(T)`.
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


def run_seed(rng, *, func: str = "run_seed") -> int:
    """The integer seed a segment or a training run uses, and reports so that it can be repeated.

    ``None``: fresh entropy (``numpy.random.SeedSequence().entropy``); an integer: itself; a
    ``numpy.random.Generator``: one draw from it (so the segments of a training run, which share
    the run's generator, each get their own seed). The run then draws every random number from
    ``numpy.random.default_rng(seed)``, and passing ``rng=seed`` repeats it exactly.
    """
    if rng is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**63 - 1))
    as_rng(rng, func=func)  # refuses what default_rng refuses, naming func
    if isinstance(rng, bool) or not isinstance(rng, (int, np.integer)):
        raise ValueError(f"{func}: rng must be None, a non-negative integer seed or a numpy Generator, "
                         f"got {describe(rng)}")
    return int(rng)


def sampled_runs(copies, probability, *, rng=None) -> int:
    r"""Runs of a circuit needed to collect ``copies`` successes at ``probability`` each, sampled.

    ``copies`` plus a negative-binomial number of failures: the postselection of HHL (flag,
    clock and read-out block) as it happens on a device, one Bernoulli trial per run.

    Used in chapter 8.
    """
    func = "sampled_runs"
    copies = check_int(copies, "copies", func=func, minimum=0)
    p = check_positive(probability, "probability", func=func)
    if p > 1:
        raise ValueError(f"{func}: probability must be in (0, 1], got {p}")
    if copies == 0:
        return 0
    return int(copies + as_rng(rng, func=func).negative_binomial(copies, p))


def _check_loss(loss, theta0, func):
    """Evaluate the loss once at theta0, turning shape errors into a ValueError."""

    try:
        value = loss(torch.as_tensor(theta0, dtype=torch.float64))
    except Exception as exc:  # any failure of user code: report it with the shapes involved
        raise ValueError(
            f"{func}: the loss cannot be evaluated at theta0 of shape {theta0.shape} "
            f"({type(exc).__name__}: {exc}); is theta0 compatible with the loss?"
        ) from exc
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        raise ValueError(f"{func}: the loss must return a scalar torch tensor, got {describe(value)}")


def loss_and_theta(model_or_loss, theta0, data, mask, loss_fn, func):
    """A loss callable on the free weights and the starting point."""
    if callable(model_or_loss) and not hasattr(model_or_loss, "parameters"):
        if data is not None or mask is not None or loss_fn is not None:
            raise ValueError(f"{func}: data, mask and loss_fn apply to a torch model, not to a loss callable")
        if theta0 is None:
            raise ValueError(f"{func}: theta0 is required when a loss callable is given")
        _check_theta_shape(theta0, func)
        theta0 = as_vector(theta0, "theta0", func=func)
        _check_loss(model_or_loss, theta0, func)
        return model_or_loss, theta0

    if not isinstance(model_or_loss, torch.nn.Module):
        raise ValueError(
            f"{func}: model_or_loss must be a loss callable on a 1-D torch tensor or a torch.nn.Module, "
            f"got {describe(model_or_loss)}"
        )
    if data is None or not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(f"{func}: a torch model needs data=(inputs, targets), got {describe(data)}")

    loss, theta_model, _ = model_loss(model_or_loss, data[0], data[1], mask=mask, loss_fn=loss_fn)
    if theta0 is None:
        return loss, np.asarray(theta_model, dtype=float)
    _check_theta_shape(theta0, func)
    return loss, as_vector(theta0, "theta0", func=func, size=len(theta_model))


def _check_theta_shape(theta0, func):
    """A starting point is a 1-D vector; a matrix (even a single row) is refused, not flattened."""
    try:
        ndim = np.ndim(theta0)
    except Exception:  # ragged nesting: as_vector reports it
        return
    if ndim > 1:
        raise ValueError(f"{func}: theta0 must be a 1-D vector, got shape {np.shape(theta0)}")


# ----------------------------------------------------------------------------------------
# one segment, step by step
# ----------------------------------------------------------------------------------------


def _classical_paths(loss, theta0, s: SegmentSettings, func):
    """Stage 1: the polynomial map, F0, and the GD and polynomial-map displacements."""

    pmap = polynomial_map(loss, theta0, eta=s.eta, degree=s.degree)
    F = list(pmap.coefficients)
    f0 = np.asarray(dense(F[0]), dtype=float).reshape(-1)
    if float(np.linalg.norm(f0)) == 0.0:
        raise ValueError(
            f"{func}: the gradient vanishes at theta0 (F0 = -eta grad L = 0), so the right-hand side of "
            "Eq. 6 is zero and the segment is stationary; nothing to train"
        )
    n = theta0.shape[0]
    u_gd = np.asarray(gradient_descent(loss, theta0, eta=s.eta, steps=s.steps), dtype=float) - theta0
    u_poly = np.zeros((s.steps + 1, n))
    for t in range(s.steps):
        u_poly[t + 1] = pmap.step(u_poly[t])
    return pmap, F, f0, u_gd, u_poly


def _solver_stage(L, rhs, decomposition, spectral, s: SegmentSettings, gen):
    """Stage 5: the output state of the linear-system solver ``s.solver`` (registry :data:`qsgd.solvers.SOLVERS`)."""
    system = LinearSystem(matrix=L, rhs=rhs, decomposition=decomposition,
                          bounds=spectral if decomposition is None else None)
    return SOLVERS[s.solver](system, s, gen)


def uses_decomposition(dimension: int, s: SegmentSettings) -> bool:
    """Whether a segment of this Eq. 6 dimension decomposes its matrix (``s.linalg``, :data:`DECOMPOSITION_LIMIT`)."""
    if s.linalg == "auto":
        return s.simulation == "circuit" or dimension <= DECOMPOSITION_LIMIT
    return s.linalg == "decomposition"


def _spectrum_stage(L, size, s: SegmentSettings, seed: int, func: str):
    """Stage 5's spectrum: ``(decomposition, None)`` or, matrix-free, ``(None, SingularValueBracket)``.

    The bracket's random starts come from their own stream (``seed`` + 1), so the solver's and the
    tomography's draws are those of the decomposition path.
    """
    try:
        if uses_decomposition(size.history_dimension, s):
            return decompose(L, method="normal", func="decompose"), None
        return None, singular_value_bracket(L, rng=np.random.default_rng([seed, 1]))
    except ValueError as exc:  # name the function the user called first
        raise ValueError(f"{func}: the Eq. 6 system cannot be inverted: {exc}") from None


def _download(selected, f0, n, s: SegmentSettings, gen, guarantee):
    """Stages 7-8: tomography of the postselected state and the read-out of u_T."""

    copies = s.padding + 1
    width = 1 << max(1, (selected.size - 1).bit_length())
    padded = np.zeros(width)
    padded[: selected.size] = selected
    tomo = vector_tomography(padded, shots=s.shots, rng=gen, support=np.arange(selected.size))
    estimate = np.asarray(tomo.estimate[: selected.size], dtype=float)
    # with few copies no anchor outcome may be seen: the length of u_T is then unknown, nothing moves
    seen = bool(np.any(estimate[:n]))
    u = readout_weights(estimate, f0, n=n, copies=copies) if seen else np.zeros(n)
    err = float(np.linalg.norm(estimate - selected))
    # after the fact: the state bound mapped to the weights with the realized read-out norms
    bound = tomography_error_bound(max(int(np.count_nonzero(selected)), 1), s.shots, confidence=s.confidence)
    anchor = float(np.linalg.norm(selected[:n]))
    final = float(np.linalg.norm(selected[n:].reshape(copies, n).mean(axis=0)))
    weight_estimate = (readout_error_bound(bound, anchor_norm=anchor, final_norm=final,
                                           f0_norm=float(np.linalg.norm(f0)), copies=copies)
                       if anchor > 0 else math.inf)
    return (tomo, u, ErrorTerm(err, float(guarantee.tomography_state), float(bound)), float(weight_estimate),
            seen)


def quantum_gd(model_or_loss, theta0=None, settings=None, *, rng=None, data=None, mask=None, loss_fn=None,
               derivative_bounds=None, **knobs) -> SegmentResult:
    r"""One quantum training segment: :math:`T` GD steps by Carleman linearization, HHL and tomography.

    Runs the eight stages of the module docstring (the algorithm of Fig. 1 and Eqs. 3-6 of
    [1]_) and compares every intermediate result with its classical counterpart, which gives
    the error budget of :class:`SegmentReport`. The function is a sequence of named steps:
    :func:`_classical_paths` (stage 1), the Carleman system (2-3), the upload circuit (4),
    :func:`_hhl_stage` (5), the postselection (6) and :func:`_download` (7-8); the rest is the
    bookkeeping of the error budget.

    Parameters
    ----------
    model_or_loss : callable or torch.nn.Module
        A loss on a 1-D float64 torch tensor of the ``n`` free weights (returning a scalar
        tensor), or a model together with ``data=(inputs, targets)`` (and optionally ``mask``
        and ``loss_fn``), turned into one by :func:`qsgd.gd.model_loss`.
    theta0 : array_like, shape (n,), optional
        Starting weights; for a model the default is its current (masked) weights.
    settings : SegmentSettings, optional
        The segment's knobs. Keyword arguments named like its fields (``eta=``, ``steps=``,
        ``order=``, ``clock_qubits=``, ``shots=``, ...) build one or replace its fields.
    rng : None, int or numpy.random.Generator
        Source of every seed (Aer, tomography, postselection sampling),
        ``np.random.default_rng(rng)``; the same seed gives the same segment.
    data, mask, loss_fn
        For a torch model (see ``model_or_loss``).
    derivative_bounds : DerivativeBounds, optional
        Bounds on the loss's derivatives (:mod:`qsgd.derivative_bounds`) for the a priori Taylor
        term. For a one-hidden-layer tanh network given as a model they are computed here
        (:func:`qsgd.derivative_bounds.tanh_mlp_bounds`); for a loss callable there are none unless
        given, and the guarantee says it is incomplete.

    Returns
    -------
    SegmentResult
        ``theta`` (the new weights), ``report`` (:class:`SegmentReport`) and ``stages``
        (:class:`SegmentStages`).

    Raises
    ------
    ValueError
        For a bad loss/model or ``theta0``, bad settings, a vanishing gradient at ``theta0``
        (:math:`F_0=0`: nothing drives Eq. 6), or, with ``simulation="circuit"``, a segment
        that needs more than ``max_qubits`` qubits (the message gives the register sizes).

    Warns
    -----
    GuaranteeWarning
        When the segment's a priori guarantee fails (an infinite term, or a bound above
        ``settings.tolerance``); the result then has ``success=False`` and says why.
    NonDissipativeWarning
        When :func:`qsgd.theorem.check_assumptions` finds the segment not dissipative (some mode
        of :math:`I-\eta H` grows by more than :math:`e` over the segment).

    Notes
    -----
    How each stage is simulated: the HHL output state comes from the exact finite-clock model
    (:func:`qsgd.hhl.hhl_model`, ``simulation="model"``) or from the Aer statevector of the
    circuit (``"circuit"``); the flag/clock/read-out postselection is sampled
    (:func:`sampled_runs`); the tomography copies are drawn from the postselected state
    (:func:`qsgd.tomography.vector_tomography` on the vector: the statistics of measuring
    copies of it). Amplitude amplification is not simulated.

    References
    ----------
    .. [1] J. Liu et al., Nat. Commun. 15, 434 (2024), Fig. 1 and Eqs. 3-6.

    Examples
    --------
    >>> import numpy as np, torch
    >>> H = torch.tensor([[1.0, 0.2], [0.2, 0.5]], dtype=torch.float64)
    >>> loss = lambda th: 0.5 * th @ H @ th - th.sum() + 0.1 * (th**3).sum()
    >>> res = quantum_gd(loss, np.zeros(2), eta=0.5, steps=2, order=2, clock_qubits=6, shots=None, rng=0)
    >>> res.report.resources.qubits.total
    12

    Used in chapter 8.
    """
    func = "quantum_gd"
    s = segment_settings(settings, knobs, func)
    loss, theta0 = loss_and_theta(model_or_loss, theta0, data, mask, loss_fn, func)
    bounds = derivative_bounds_for(derivative_bounds, model_or_loss, data, mask, loss_fn, s, func)
    n = theta0.shape[0]
    size = _segment_size(n, s, func)
    seed = run_seed(rng, func=func)
    gen = np.random.default_rng(seed)

    # 1. the polynomial map, the classical references and the hypotheses of Theorems 1-2
    pmap, F, f0, u_gd, u_poly = _classical_paths(loss, theta0, s, func)
    assumptions = _assumptions(F, n, s, func)
    # 2-3. Carleman lifting and the Eq. 6 system, solved exactly
    matrix_free = not uses_decomposition(size.history_dimension, s)
    lifted = _lifted_system(F, u_poly, n, s, products=matrix_free)
    # 4. upload of the right-hand side (the circuit is built only while it is small)
    upload, upload_cx = _upload_stage(lifted.rhs)
    # 5. the spectrum once (a decomposition, or a Lanczos bracket when matrix-free), then the solver
    spec, bracket = _spectrum_stage(lifted.L, size, s, seed, func)
    spectral = spec.bounds if spec is not None else bracket.bounds
    # 5a. the a priori guarantee, from the map, the Eq. 6 matrix and its spectrum: before the solver runs
    guarantee = segment_guarantee(pmap, s, C=lifted.C, L=lifted.L, rhs=lifted.rhs, decomposition=spec,
                                  bounds=None if spec is not None else spectral,
                                  derivative_bounds=bounds, tolerance=s.tolerance)
    # 5b. the solver of the registry
    solved = _solver_stage(lifted.L, lifted.rhs, spec, spectral, s, gen)
    x_hhl, p_success = solved.state, solved.success_probability
    x_exact = lifted.Y / np.linalg.norm(lifted.Y)
    # 6. postselection of the anchor (step 1) and the final steps, first Carleman level
    out = _readout_stage(x_hhl, x_exact, f0, theta0, solved.error_bound, p_success, lifted.C.shape[0], s)
    # 7-8. tomography and norm recovery, then the postselection runs that collect the copies
    tomo, theta, tomo_state, tomography_estimate = None, out.theta_hhl.copy(), ErrorTerm(0.0, 0.0, 0.0), 0.0
    anchor_seen = True
    if s.shots is not None and out.readable:
        tomo, u_T, tomo_state, tomography_estimate, anchor_seen = _download(out.selected, f0, n, s, gen, guarantee)
        theta = theta0 + u_T
    total_shots = 0 if tomo is None else int(tomo.total_shots)
    p_total = p_success * out.post_prob
    hhl = solved.details if s.simulation == "circuit" else None
    hhl_params = solved.parameters if s.solver == "hhl" else None
    runs = sampled_runs(total_shots, p_total, rng=gen) if p_total > 0 and total_shots else 0

    theta_gd, theta_poly = theta0 + u_gd[-1], theta0 + u_poly[-1]
    errors = _error_terms(theta, theta_gd, theta_poly, theta0 + lifted.u_carleman, out, tomography_estimate,
                          pmap, F, u_gd, u_poly, lifted.truncation_bound, guarantee)
    resources = SegmentResources(
        qubits=size, kappa=spectral.condition_number if spec is None else spec.condition_number,
        sigma_min=float(spectral.lower), sigma_max=float(spectral.upper),
        success_probability=float(p_success), postselection_probability=out.post_prob,
        final_step_probability=out.final_prob, tomography_copies=total_shots, hhl_runs=runs,
        expected_hhl_runs=float(total_shots / p_total) if p_total > 0 else math.inf,
        upload_sparsity=int(np.count_nonzero(lifted.rhs)), upload_cx=upload_cx,
        cx_count=None if hhl is None else hhl.cx_count, depth=None if hhl is None else hhl.depth,
        solver=s.solver, solver_queries=int(solved.queries), solver_qubits=int(solved.qubits),
    )
    report = SegmentReport(
        settings=s, theta0=theta0.copy(), theta_gd=theta_gd, theta_poly=theta_poly,
        theta_carleman=theta0 + lifted.u_carleman, theta_hhl=out.theta_hhl, theta=theta, errors=errors,
        state_errors={"solver": ErrorTerm(out.state_error, guarantee.solver_state, float(solved.error_bound)),
                      "tomography": tomo_state},
        fidelity=float(np.dot(x_hhl, x_exact) ** 2), displacement=float(np.linalg.norm(u_gd[-1])),
        carleman_tail=lifted.tail, resources=resources, regime=assumptions.regime,
        regime_message=assumptions.message, rho=float(assumptions.rho), seed=seed, guarantee=guarantee,
    )
    stages = SegmentStages(
        polynomial_map=pmap, C=lifted.C, b=np.asarray(lifted.b, dtype=float), L=lifted.L, rhs=lifted.rhs,
        Y=lifted.Y, singular_values=None if spec is None else spec.sigma, bracket=bracket, upload=upload,
        hhl_state=x_hhl, model_state=solved.model_state,
        model_success_probability=solved.model_probability, hhl=hhl, solver=solved,
        evolution_time=None if hhl_params is None else hhl_params.evolution_time,
        scaling=None if hhl_params is None else hhl_params.scaling,
        readout_indices=out.indices, postselected=out.selected, tomography=tomo, assumptions=assumptions,
        u_gd=u_gd, u_poly=u_poly,
    )
    success, message = out.readable, f"segment completed; {guarantee.message}"
    if not guarantee.success:
        success, message = False, f"the segment's guarantee failed: {guarantee.message}"
        warnings.warn(f"{func}: {message}", GuaranteeWarning, stacklevel=2)
    elif not solved.success:
        success, message = False, f"the linear-system solver reports a failure: {solved.message}"
    elif not out.readable:
        message = "the solver's postselection or the read-out (anchor) block failed; theta is theta0"
    elif not anchor_seen:
        success, message = False, (f"tomography saw no outcome of the anchor block in {s.shots} copies, so the "
                                   "length of u_T is unknown; theta is theta0")
    # identity check of the truncation term (exact error recursion); a mismatch means a bug upstream
    if not np.allclose(theta_poly + lifted.truncation_vector, report.theta_carleman, rtol=1e-8,
                       atol=1e-10 * (1 + float(np.linalg.norm(f0)))):
        success, message = False, "the Carleman error recursion does not reproduce the Eq. 6 solution"
    return SegmentResult(theta=theta, report=report, stages=stages, success=success, message=message)


def derivative_bounds_for(given, model_or_loss, data, mask, loss_fn, s: SegmentSettings, func):
    """The derivative bounds of the loss: given, computed for a tanh network, or None (no a priori Taylor term)."""
    if given is not None:
        if not isinstance(given, DerivativeBounds):
            raise ValueError(f"{func}: derivative_bounds must be a DerivativeBounds (see qsgd.derivative_bounds), "
                             f"got {describe(given)}")
        if given.order != s.degree:
            raise ValueError(f"{func}: derivative_bounds serve a map of degree {given.order}, the segment's map has "
                             f"degree {s.degree}")
        return given
    if isinstance(model_or_loss, torch.nn.Module) and loss_fn is None:
        try:
            return tanh_mlp_bounds(model_or_loss, data[0], data[1], mask=mask, degree=s.degree)
        except ValueError:  # not a network the analytic constants cover
            return None
    return None


def _segment_size(n, s: SegmentSettings, func):
    """The registers of the segment; a circuit simulation above ``max_qubits`` is refused before any work."""
    size = segment_qubits(n, order=s.order, steps=s.steps, clock_qubits=s.clock_qubits, padding=s.padding,
                          basis=s.basis)
    # the model decomposes the dense normal matrix of Eq. 6: refuse, before any classical work, a size
    # beyond the memory guard (steps or padding of 10**5 would otherwise run the reference GD first)
    dim = size.history_dimension
    decomposed = uses_decomposition(dim, s)
    what = "the decomposition" if decomposed else "the Lanczos bases (matrix-free)"
    nbytes = estimate_bytes(3, dim, dim) if decomposed else estimate_bytes(400, dim)
    check_memory(nbytes, what=f"{what} of the Eq. 6 system of dimension {dim} = "
                 f"(T + 1 + p) * D = ({s.steps} + 1 + {s.padding}) * {size.lifted_dimension}", max_bytes=None,
                 func=func, advice="lower steps, padding, order or the number of free weights")
    if s.simulation == "circuit" and size.total > s.max_qubits:
        raise ValueError(
            f"{func}: this segment needs {size.total} qubits ({size.system_qubits} system incl. 1 dilation "
            f"qubit for the Eq. 6 system of dimension {size.history_dimension} = (T + 1 + p) * D = "
            f"({s.steps} + 1 + {s.padding}) * {size.lifted_dimension}, {s.clock_qubits} clock, 1 flag), above "
            f"max_qubits={s.max_qubits}; lower n, order, steps, padding or clock_qubits, or use "
            "simulation='model'"
        )
    return size


def _assumptions(F, n, s: SegmentSettings, func):
    """Stage 1b: the hypotheses of Theorems 1-2 (:func:`qsgd.theorem.check_assumptions`); warns when the
    segment is not dissipative. Its kappa is not measured here: the segment's spectrum gives it."""
    assumptions = check_assumptions(F, np.zeros(n), eta=s.eta, steps=s.steps, order=s.order, padding=s.padding,
                                    basis=s.basis, compute_kappa=False)
    if assumptions.regime == "not dissipative":
        warnings.warn(
            f"{func}: the segment is not dissipative ({assumptions.message}); the condition number of "
            f"Eq. 6 and the truncation error grow geometrically with steps={s.steps}",
            NonDissipativeWarning,
            stacklevel=3,
        )
    return assumptions


@dataclass(frozen=True)
class _Lifted:
    """Stages 2-3 of a segment: the Carleman system, Eq. 6 and its exact solution."""

    C: Any
    b: Any
    L: Any
    rhs: np.ndarray
    Y: np.ndarray
    u_carleman: np.ndarray  # the displacement u_T read from Y: theta_carleman = theta0 + u_carleman
    truncation_vector: np.ndarray
    truncation_bound: float
    tail: Any


def _lifted_system(F, u_poly, n, s: SegmentSettings, *, products: bool = False) -> _Lifted:
    """Stages 2-3. With ``products`` (matrix-free, order <= 2) C and L are the operators of
    :mod:`qsgd.lifting_operators`: nothing of size n^4 is formed, Y comes from forward substitution."""
    if products and s.order in OPERATOR_ORDERS and len(F) <= 3:
        C = carleman_operator(F, order=s.order, basis=s.basis)
        b = C.b
        L = history_operator(C, s.steps, padding=s.padding)
        rhs = np.asarray(L.rhs(np.zeros(C.shape[0])), dtype=float)
        Y = np.asarray(L.solve(rhs), dtype=float)
    else:
        C, b = discrete_carleman(F, order=s.order, basis=s.basis)
        L, rhs = history_system(C, b, np.zeros(C.shape[0]), s.steps, padding=s.padding)
        rhs = np.asarray(rhs, dtype=float)
        Y = np.asarray(solve_history(L, rhs), dtype=float)
    traj = np.asarray(theta_trajectory(Y, n=n, steps=s.steps, padding=s.padding, basis=s.basis), dtype=float)
    trunc_vec, truncation_bound, tail = truncation_error_estimate(C, b, u_poly, order=s.order, basis=s.basis)
    return _Lifted(C=C, b=b, L=L, rhs=rhs, Y=Y, u_carleman=traj[-1], truncation_vector=trunc_vec,
                   truncation_bound=float(truncation_bound), tail=tail)


def _upload_stage(rhs):
    """Stage 4: the sparse preparation of the right-hand side and its CNOTs (None when too large to build)."""
    if np.count_nonzero(rhs) > UPLOAD_CIRCUIT_MAX_NONZEROS:
        return None, None
    upload = upload_weights(rhs).circuit
    return upload, int(cnot_count(upload))


@dataclass(frozen=True)
class _Readout:
    """Stage 6 of a segment: what postselecting the read-out block of the HHL output gives."""

    indices: np.ndarray
    post_prob: float
    final_prob: float
    readable: bool
    theta_hhl: np.ndarray
    selected: np.ndarray
    state_error: float
    state_bound: float
    weight_bound: float


def _readout_stage(x_hhl, x_exact, f0, theta0, state_bound, p_success, D, s: SegmentSettings) -> _Readout:
    n = theta0.shape[0]
    first = level_slices(n, s.order, basis=s.basis)[0]
    copies = s.padding + 1
    blocks = [1] + list(range(s.steps, s.steps + copies))
    idx = np.concatenate([np.arange(first.start, first.stop) + t * D for t in blocks])
    final_idx = np.arange(first.start, first.stop) + s.steps * D
    post_prob = float(np.sum(x_hhl[idx] ** 2))
    readable = bool(p_success > 0 and post_prob > 0 and np.any(x_hhl[idx[:n]]))
    # after the fact: the solver's state bound mapped to the weights with the exact read-out norms
    weight_bound = readout_error_bound(
        state_bound, anchor_norm=float(np.linalg.norm(x_exact[idx[:n]])),
        final_norm=float(np.linalg.norm(x_exact[idx[n:]].reshape(copies, n).mean(axis=0))),
        f0_norm=float(np.linalg.norm(f0)), copies=copies,
    ) if math.isfinite(state_bound) else math.inf
    return _Readout(
        indices=idx, post_prob=post_prob, final_prob=float(np.sum(x_hhl[final_idx] ** 2)), readable=readable,
        theta_hhl=theta0 + (readout_weights(x_hhl[idx], f0, n=n, copies=copies) if readable else 0.0),
        selected=x_hhl[idx] / math.sqrt(post_prob) if post_prob > 0 else np.zeros(idx.size),
        state_error=float(min(np.linalg.norm(x_hhl - x_exact), np.linalg.norm(x_hhl + x_exact))),
        state_bound=float(state_bound), weight_bound=float(weight_bound),
    )


def _error_terms(theta, theta_gd, theta_poly, theta_carleman, out: _Readout, tomography_estimate, pmap, F, u_gd,
                 u_poly, truncation_estimate, guarantee) -> dict:
    """The four error terms of the segment (realized error, a priori bound, after-the-fact estimate) and their total."""
    bound = guarantee.terms
    errors = {
        "taylor": ErrorTerm(float(np.linalg.norm(theta_poly - theta_gd)), float(bound["taylor"]),
                            taylor_error_estimate(F, u_gd, u_poly, pmap.step)),
        "truncation": ErrorTerm(float(np.linalg.norm(theta_carleman - theta_poly)), float(bound["truncation"]),
                                float(truncation_estimate)),
        "solver": ErrorTerm(float(np.linalg.norm(out.theta_hhl - theta_carleman)), float(bound["solver"]),
                            out.weight_bound),
        "tomography": ErrorTerm(float(np.linalg.norm(theta - out.theta_hhl)), float(bound["tomography"]),
                                float(tomography_estimate)),
    }
    errors["total"] = ErrorTerm(float(np.linalg.norm(theta - theta_gd)), float(guarantee.total),
                                float(sum(e.estimate for e in errors.values())))
    return errors
