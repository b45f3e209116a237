r"""Logical and physical resources of one quantum training segment, from the field's libraries.

Chapter 6 prices a training run in elementary operations (:mod:`qsgd.cost`); this module answers in
the units of a fault-tolerant machine: logical qubits, Toffoli/T/rotation counts, code distance,
physical qubits and wall-clock time. Every library result is an *estimate* under its library's model.

* **Qualtran** [1]_ (``get_cost_value(bloq, QECGatesCost())``) counts the pieces it has as bloqs: the
  block encoding ``SparseMatrix`` [2]_ with ``SymmetricBandedRowColumnOracle`` row/column oracles (two
  adders on the index each; Qualtran has no oracle for the Carleman/history pattern of Eq. 6, and the
  banded one with as many non-zeros per row charges the index arithmetic chapter 6 charges) and the
  ``UniformEntryOracle`` (one rotation: computing the entries, the Taylor coefficients, is *not*
  counted, so the counts are lower bounds); the reflection ``ReflectionUsingPrepare`` (controlled for
  phase estimation: Qualtran cannot control ``SparseMatrix`` itself); ``QFTTextBook``,
  ``InvertRealNumber``; and the upload ``SparseStatePreparationViaRotations`` [3]_.
* **Own code**, where no library has the piece: the solver runs (HHL as qubitized phase estimation
  with :math:`2(2^c-1)` controlled walk steps [4]_; QSVT with the polynomial of
  :mod:`qsgd.solvers.polynomial` [5]_), HHL's flag rotations, amplitude-amplification rounds [6]_,
  tomography repetitions and the error-budget split.
* **The QDK resource estimator** [7]_ (``qdk.estimator.LogicalCounts(...).estimate``) turns the counts
  of one coherent run into physical qubits, code distance and runtime for its gate-based models
  ``qubit_gate_ns_e3`` and ``qubit_gate_ns_e4`` (physical error rates :math:`10^{-3}`, :math:`10^{-4}`).
  Beyond its range (:data:`MAX_ESTIMATOR_COUNT`, or a runtime past its 64-bit nanosecond count)
  :func:`physical_estimate` returns a lower bound scaled from an estimate within it, and says so.

Error budget: a segment's output must be :math:`\epsilon`-close to the ideal one; the fraction
``algorithm_fraction`` of :math:`\epsilon` is the solver's precision, the rest the probability that
the error-corrected run fails (the estimator's ``errorBudget``, which it splits between logical
errors, T-state distillation and rotation synthesis).

Symbols: :math:`D` dimension of Eq. 6, :math:`s` non-zeros per row, :math:`\alpha \ge s` the
subnormalization, :math:`\kappa` condition number, :math:`\kappa_s = \alpha\kappa`, :math:`c` clock
qubits, :math:`d` polynomial degree, :math:`P` success probability of one run.

Functions
---------
block_encoding_cost, solver_cost, upload_gates, segment_resources
    Logical counts: one block-encoding call, one solver run, the upload, one segment.
hardware_model, HARDWARE_MODELS, physical_estimate
    Physical qubits, code distance and runtime of one coherent run (QDK estimator).
classical_time, training_time
    GPU time of a FLOP count; wall-clock of a training run of chapter 6's cost model.
cross_check
    Chapter 6's hand counts against the library counts on one instance.

Used in chapter 9.

References
----------
.. [1] M. P. Harrigan et al., "Expressing and analyzing quantum algorithms with Qualtran",
   arXiv:2409.04643 (2024).
.. [2] L. Lin, "Lecture notes on quantum algorithms for scientific computation",
   arXiv:2201.08309 (2022), Sec. 6.5.
.. [3] E. Malvetti, R. Iten, R. Colbeck, "Quantum circuits for sparse isometries", Quantum 5, 412
   (2021).
.. [4] A. W. Harrow, A. Hassidim, S. Lloyd, "Quantum algorithm for linear systems of equations",
   Phys. Rev. Lett. 103, 150502 (2009); qubitized walks: G. H. Low, I. L. Chuang, "Hamiltonian
   simulation by qubitization", Quantum 3, 163 (2019).
.. [5] A. Gilyén, Y. Su, G. H. Low, N. Wiebe, "Quantum singular value transformation and
   beyond", Proc. STOC 2019, 193-204.
.. [6] G. Brassard, P. Høyer, M. Mosca, A. Tapp, "Quantum amplitude amplification and
   estimation", Contemp. Math. 305, 53 (2002).
.. [7] M. E. Beverland et al., "Assessing requirements to scale to practical quantum advantage",
   arXiv:2211.07629 (2022) (the model behind the QDK resource estimator).
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from dataclasses import dataclass

from qsgd._validation import check_choice, check_int, check_positive, describe

__all__ = [
    "GateTally", "BlockEncodingCost", "block_encoding_cost", "SolverCost", "solver_cost", "upload_gates",
    "LogicalSegment", "segment_resources", "HardwareModel", "HARDWARE_MODELS", "hardware_model",
    "PhysicalEstimate", "physical_estimate", "classical_time", "TrainingTime", "training_time", "CrossCheck",
    "cross_check", "PHYSICAL_SOLVERS", "MAX_ESTIMATOR_COUNT", "GPU_FLOP_RATE",
]

#: solvers of :func:`solver_cost`
PHYSICAL_SOLVERS = ("hhl", "qsvt")
#: largest number of non-Clifford operations (T + CCZ + CCiX + rotations) handed to the QDK estimator
#: in one call: 1e15 returns in milliseconds, 1e18 did not return within 20 s and 1e20 is refused
MAX_ESTIMATOR_COUNT = 10**15
#: FP32 dense peak of one NVIDIA H100 SXM (vendor data sheet: 67 TFLOP/s), the classical reference
GPU_FLOP_RATE = 6.7e13
#: phase bits of the rotation angles in the uploaded state
_PHASE_BITS = 20
#: a code distance no estimate reaches (bounds the logical cycle time when guarding the runtime's range)
_MAX_DISTANCE = 101
#: largest block-encoding dimension counted (2**1000: the index register of any sane instance)
_MAX_SYSTEM_BITS = 1000


def _unit(value, name, func):
    """*value* in the open interval (0, 1), or a ValueError naming *func* and *name*."""
    value = check_positive(value, name, func=func)
    if value >= 1.0:
        raise ValueError(f"{func}: {name} must be in (0, 1), got {value}")
    return value


def _size(value, name, func, minimum=1):
    """A positive integer >= *minimum* (floats that are whole numbers pass, as in :mod:`qsgd.cost`)."""
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        value = int(value)
    return check_int(value, name, func=func, minimum=minimum)


@dataclass(frozen=True)
class GateTally:
    """Logical gates of a circuit in the fault-tolerant gate set.

    Attributes
    ----------
    toffoli, t, rotations, cliffords, measurements : int
        Toffoli-class gates (Qualtran's ``toffoli + cswap + and_bloq``, one CCZ state each), T gates,
        arbitrary-angle rotations (synthesized by the estimator), Cliffords, measurements.
    """

    toffoli: int = 0
    t: int = 0
    rotations: int = 0
    cliffords: int = 0
    measurements: int = 0

    @property
    def non_clifford(self) -> int:
        """``toffoli + t + rotations``: the gates that set the fault-tolerant cost."""
        return self.toffoli + self.t + self.rotations

    def __add__(self, other):
        return GateTally(*(a + b for a, b in zip(self._values(), other._values())))

    def scaled(self, k):
        """Every count times the integer ``k`` (k runs of the circuit in sequence)."""
        k = check_int(k, "k", func="GateTally.scaled", minimum=0)
        return GateTally(*(k * a for a in self._values()))

    def _values(self):
        return (self.toffoli, self.t, self.rotations, self.cliffords, self.measurements)


def _tally(bloq):
    """:class:`GateTally` of a Qualtran bloq (``QECGatesCost``)."""
    from qualtran.resource_counting import QECGatesCost, get_cost_value

    c = get_cost_value(bloq, QECGatesCost())
    return GateTally(toffoli=int(c.toffoli + c.cswap + c.and_bloq), t=int(c.t), rotations=int(c.rotation),
                     cliffords=int(c.clifford), measurements=int(c.measurement))


@dataclass(frozen=True)
class BlockEncodingCost:
    """One call to the block encoding of an ``s``-sparse ``D``-dimensional matrix (Qualtran).

    Attributes
    ----------
    dimension, sparsity : echo of the inputs
    system_qubits, ancilla_qubits, qubits : int
        ``ceil(log2 D)``; ``system_qubits + 1``; Qualtran's count with the workspace.
    alpha : int
        Subnormalization, the banded oracle's ``2 b + 1 >= s`` non-zeros per row.
    call, walk : GateTally
        One call; one controlled walk step (a call and the controlled reflection on the ancillas).
    """

    dimension: int
    sparsity: int
    system_qubits: int
    alpha: int
    ancilla_qubits: int
    qubits: int
    call: GateTally
    walk: GateTally


@functools.lru_cache(maxsize=256)
def _block_encoding(dimension, sparsity):
    from qualtran.bloqs.block_encoding.sparse_matrix import (
        SparseMatrix,
        SymmetricBandedRowColumnOracle,
        UniformEntryOracle,
    )
    from qualtran.bloqs.reflections.prepare_identity import PrepareIdentity
    from qualtran.bloqs.reflections.reflection_using_prepare import ReflectionUsingPrepare
    from qualtran.resource_counting import QubitCount, get_cost_value

    bits = max(1, (dimension - 1).bit_length())
    band = max(1, sparsity // 2)  # 2 * band + 1 >= sparsity non-zeros per row (Qualtran needs band >= 1)
    rows = SymmetricBandedRowColumnOracle(bits, bandsize=band)
    cols = SymmetricBandedRowColumnOracle(bits, bandsize=band)
    be = SparseMatrix(rows, cols, UniformEntryOracle(bits, entry=0.5), eps=0)
    call = _tally(be)
    reflection = ReflectionUsingPrepare(PrepareIdentity.from_bitsizes([int(be.ancilla_bitsize)]), control_val=1)
    return BlockEncodingCost(dimension=dimension, sparsity=sparsity, system_qubits=bits, alpha=2 * band + 1,
                             ancilla_qubits=int(be.ancilla_bitsize), qubits=int(get_cost_value(be, QubitCount())), call=call,
                             walk=call + _tally(reflection))


def block_encoding_cost(dimension, sparsity):
    r"""Logical cost of one call to a block encoding of an ``s``-sparse ``D x D`` matrix.

    Qualtran's ``SparseMatrix`` [2]_ (:math:`(s, \lceil\log_2 D\rceil + 1, 0)`-block encoding) with
    banded row and column oracles of :math:`2\max(1, \lfloor s/2\rfloor) + 1 \ge s` non-zeros per row and the
    uniform entry oracle. See the module docstring for what the oracles leave out (the values of
    the entries): the counts are lower bounds for the Eq. 6 matrix.

    Parameters
    ----------
    dimension, sparsity : int
        ``D`` >= 2 (padded to a power of two) and ``s`` in ``[1, D]``.

    Returns
    -------
    BlockEncodingCost

    Examples
    --------
    >>> be = block_encoding_cost(3564, 325)
    >>> be.system_qubits, be.alpha
    (12, 325)

    Used in chapter 9.
    """
    func = "block_encoding_cost"
    D = _size(dimension, "dimension", func, minimum=2)
    if D.bit_length() > _MAX_SYSTEM_BITS:
        raise ValueError(f"{func}: dimension must be below 2**{_MAX_SYSTEM_BITS}, got an integer of "
                         f"{D.bit_length()} bits")
    s = _size(sparsity, "sparsity", func)
    if s > D:
        raise ValueError(f"{func}: sparsity must be <= dimension = {D}, got {s}")
    return _block_encoding(D, s)


@dataclass(frozen=True)
class SolverCost:
    r"""One run of a linear-system solver on the block encoding of the Eq. 6 matrix.

    Attributes
    ----------
    solver, kappa, eps : echo of the inputs
    kappa_eff : float
        :math:`\kappa_s = \alpha\kappa` (bounds :math:`\alpha/\sigma_{\min}` as :math:`\|A\| \ge 1`).
    queries : int
        Walk steps: :math:`2(2^c - 1)` (HHL) or the polynomial's degree ``d`` (QSVT).
    clock_qubits : int
        ``c`` (HHL), 0 for QSVT.
    success_probability : float
        Of one run: :math:`1/\kappa_s^2` (HHL), :math:`\min(1, \alpha/\mathcal N)^2` (QSVT; the
        solution has norm >= 1 because Eq. 6 copies the initial state into its first block).
    gates : GateTally
    qubits : int
        Logical qubits: block encoding with workspace, clock or signal qubit, flag.
    block_encoding : BlockEncodingCost
    """

    solver: str
    kappa: float
    eps: float
    kappa_eff: float
    queries: int
    clock_qubits: int
    success_probability: float
    gates: GateTally
    qubits: int
    block_encoding: BlockEncodingCost


def _normalization_constant():
    r""":math:`\max_c (1 - e^{-c^2})/c` (about 0.6382), the scale of :math:`\max|f|/\sqrt b`."""
    from scipy.optimize import brentq

    c = brentq(lambda c: 2 * c * c * math.exp(-c * c) - (1 - math.exp(-c * c)), 0.5, 2.0, xtol=1e-14)
    return (1 - math.exp(-c * c)) / c


def polynomial_normalization(kappa, eps):
    r"""Own estimate of :math:`\mathcal N = \max_{[-1,1]}|g|` of the inverse polynomial, at any size.

    :math:`f(x) = (1 - (1-x^2)^b)/x` peaks near :math:`x = 1.12/\sqrt b` at
    :math:`0.638\sqrt b`, :math:`b = \lceil\kappa^2\ln(\kappa/\epsilon)\rceil`;
    :class:`qsgd.solvers.polynomial.InversePolynomial` computes the bound exactly but only up to
    degree :data:`qsgd.solvers.polynomial.MAX_DEGREE` (the tests compare the two).
    """
    b = math.ceil(kappa * kappa * max(math.log(kappa / eps), 1e-300))
    return _normalization_constant() * math.sqrt(b)


def solver_cost(dimension, sparsity, kappa, eps, *, solver="qsvt", clock_qubits=None):
    r"""Logical cost of one run of the HHL or the polynomial (QSVT) solver on the Eq. 6 matrix.

    Own composition of Qualtran's pieces (no library has these solvers for a general block encoding):

    * ``"hhl"``: qubitized phase estimation [4]_ of the walk :math:`W = R\,U_A` of the Hermitian
      dilation (dimension ``2 D``): :math:`2^c - 1` controlled walk steps, an inverse QFT
      (``QFTTextBook``), the reciprocal :math:`1/\lambda` into a ``c``-bit register
      (``InvertRealNumber``), ``c`` controlled rotations of the flag on its bits, and the uncomputation
      of all but the rotations: :math:`2(2^c-1)` walk steps in all. Default clock
      :func:`qsgd.hhl.required_clock_qubits` ``(kappa_eff, eps, definite=False)``, the rule of chapter 4.
    * ``"qsvt"``: the odd polynomial of :mod:`qsgd.solvers.polynomial` (Childs-Kothari-Somma, degree
      :math:`d = O(\kappa_s\log(\kappa_s/\epsilon))`) applied by QSVT [5]_: ``d`` walk steps (a call
      and a reflection each) and one signal qubit. Its phase factors are not computed; the QSVT
      rotations are counted as ``d`` rotations.

    Parameters
    ----------
    dimension, sparsity : int
        ``D`` >= 2 and ``s`` in ``[1, D]`` of the Eq. 6 matrix.
    kappa, eps : float
        Condition number (>= 1) and solver precision (in (0, 1)).
    solver : {"hhl", "qsvt"}
    clock_qubits : int, optional
        HHL clock size (>= 2); default the rule above.

    Returns
    -------
    SolverCost

    Examples
    --------
    >>> r = solver_cost(3564, 325, 55.9, 5e-3, solver="hhl", clock_qubits=10)
    >>> r.queries
    2046

    Used in chapter 9.
    """
    func = "solver_cost"
    check_choice(solver, "solver", PHYSICAL_SOLVERS, func=func)
    kappa = check_positive(kappa, "kappa", func=func)
    if kappa < 1:
        raise ValueError(f"{func}: kappa must be >= 1 (a condition number), got {kappa}")
    eps = _unit(eps, "eps", func)
    if solver == "hhl":
        D = _size(dimension, "dimension", func, minimum=2)
        be = block_encoding_cost(2 * D, sparsity)  # the Hermitian dilation [[0, L], [L^T, 0]]
    else:
        be = block_encoding_cost(dimension, sparsity)
    kappa_eff = be.alpha * kappa
    if solver == "hhl":
        if clock_qubits is None:
            if math.log2(kappa_eff / eps) > 60:
                raise ValueError(f"{func}: kappa_eff / eps = {kappa_eff / eps:.3g} needs a clock of more than "
                                 "60 qubits (2**60 walk steps); pass clock_qubits or use solver='qsvt'")
            from qsgd.hhl import required_clock_qubits

            c = required_clock_qubits(kappa_eff, eps, definite=False)
        else:
            c = check_int(clock_qubits, "clock_qubits", func=func, minimum=2, maximum=60)
        from qualtran.bloqs.arithmetic import InvertRealNumber
        from qualtran.bloqs.qft import QFTTextBook

        queries = 2 * (2**c - 1)
        qft = _tally(QFTTextBook(c))
        invert = _tally(InvertRealNumber(bitsize=c, num_frac=c - 1))
        flag = GateTally(rotations=c, cliffords=2 * c)  # c controlled rotations = c rotations + 2c CNOTs
        gates = be.walk.scaled(queries) + qft.scaled(2) + invert.scaled(2) + flag
        return SolverCost(solver=solver, kappa=kappa, eps=eps, kappa_eff=float(kappa_eff), queries=queries,
                          clock_qubits=c, success_probability=1.0 / kappa_eff**2, gates=gates,
                          qubits=be.qubits + 2 * c + 1, block_encoding=be)
    if clock_qubits is not None:
        raise ValueError(f"{func}: clock_qubits is an HHL setting; got {describe(clock_qubits)} with solver='qsvt'")
    from qsgd.solvers.polynomial import _planned_degree

    degree = _planned_degree(kappa_eff, eps)
    if not math.isfinite(degree) or degree > 1e40:
        raise ValueError(f"{func}: kappa_eff = {kappa_eff:.3g} with eps = {eps:g} needs a polynomial of degree "
                         f"about {degree:.3g}, beyond 1e40")
    d = int(degree)
    amplitude = min(1.0, be.alpha / polynomial_normalization(kappa_eff, eps))
    gates = be.walk.scaled(d) + GateTally(rotations=d)
    return SolverCost(solver=solver, kappa=kappa, eps=eps, kappa_eff=float(kappa_eff), queries=d, clock_qubits=0,
                      success_probability=amplitude**2, gates=gates, qubits=be.qubits + 2, block_encoding=be)


def upload_gates(n, sparsity, *, order=2):
    r"""Logical cost of preparing the lifted initial state :math:`[u; u^{\otimes 2}; \dots; u^{\otimes N}]`.

    Qualtran's ``SparseStatePreparationViaRotations`` [3]_ prepares one ``s``-sparse weight state on
    :math:`\lceil\log_2 n\rceil` qubits; level ``j`` of the lift is ``j`` copies of it, so, as in chapter
    6's :func:`qsgd.cost.upload_cost`, the state costs :math:`N(N+1)/2` preparations (own composition;
    the controlled selection of the level is not counted).

    Parameters
    ----------
    n, sparsity : int
        Weights (>= 2) and non-zeros ``s`` of the weight vector (in ``[1, n]``).
    order : int, default 2
        Carleman order ``N``.

    Returns
    -------
    GateTally

    Used in chapter 9.
    """
    func = "upload_gates"
    n = _size(n, "n", func, minimum=2)
    s = _size(sparsity, "sparsity", func)
    if s > n:
        raise ValueError(f"{func}: sparsity must be <= n = {n}, got {s}")
    order = check_int(order, "order", func=func, minimum=1, maximum=8)
    return _upload(n, s).scaled(order * (order + 1) // 2)


@functools.lru_cache(maxsize=256)
def _upload(n, s):
    from qualtran.bloqs.state_preparation.sparse_state_preparation_via_rotations import (
        SparseStatePreparationViaRotations,
    )
    from qualtran.symbolics import HasLength

    bits = max(1, (n - 1).bit_length())
    return _tally(SparseStatePreparationViaRotations(sparse_indices=HasLength(s), nonzero_coeffs=HasLength(s),
                                                     N=2**bits, phase_bitsize=_PHASE_BITS))


def _amplification_rounds(P):
    r"""Calls of the amplified circuit: :math:`2k + 1`, :math:`k = \lfloor\pi/(4\theta)\rfloor`, :math:`\sin\theta = \sqrt P` [6]_."""
    theta = math.asin(math.sqrt(P))
    return 2 * math.floor(math.pi / (4 * theta)) + 1


@dataclass(frozen=True)
class LogicalSegment:
    """Logical resources of one quantum training segment.

    Attributes
    ----------
    solver : SolverCost
    upload : GateTally
        One preparation of the lifted initial state.
    postselection, success_probability : float
        Of the last step (echo); of one unamplified run (solver times postselection).
    rounds : int
        Calls of (upload + solve) or its inverse in one amplified run, :math:`2k+1`.
    run : GateTally
        One coherent run.
    runs : int
        Runs of the segment: the tomography copies.
    qubits : int
        Logical qubits of a run (the solver's and the postselection flag).
    algorithm_eps, code_error : float
        The split of the error budget: solver precision, failure probability of a run.
    """

    solver: SolverCost
    upload: GateTally
    postselection: float
    success_probability: float
    rounds: int
    run: GateTally
    runs: int
    qubits: int
    algorithm_eps: float
    code_error: float


def segment_resources(*, n, dimension, sparsity, kappa, eps, copies, postselection, weight_sparsity=None,
                      order=2, solver="qsvt", clock_qubits=None, algorithm_fraction=0.5):
    r"""Logical resources of one segment: ``copies`` amplified runs of upload and solve.

    A run prepares the lifted weights (:func:`upload_gates`), solves Eq. 6 (:func:`solver_cost` at
    precision ``algorithm_fraction * eps``) and is amplified as one circuit over the success
    probability :math:`P = P_{\rm solver}P_{\rm post}` (own count, :math:`2k+1` calls [6]_). The
    download repeats the run ``copies`` times (:func:`qsgd.cost.tomography_copies`).

    Parameters
    ----------
    n, dimension, sparsity : int
        Weights; ``D`` and ``s`` of the Eq. 6 matrix.
    kappa, eps : float
        Condition number; the segment's precision in (0, 1), split between algorithm and code.
    copies : int
        Tomography copies, >= 1.
    postselection : float
        Probability of postselecting the last step, in (0, 1].
    weight_sparsity : int, optional
        Non-zeros of the weight vector; default ``n``.
    order, solver, clock_qubits :
        As for :func:`upload_gates` and :func:`solver_cost`.
    algorithm_fraction : float, default 0.5
        Share of ``eps`` given to the solver's precision, in (0, 1); the rest is ``code_error``.

    Returns
    -------
    LogicalSegment

    Used in chapter 9.
    """
    func = "segment_resources"
    eps = _unit(eps, "eps", func)
    f = _unit(algorithm_fraction, "algorithm_fraction", func)
    copies = _size(copies, "copies", func)
    post = check_positive(postselection, "postselection", func=func)
    if post > 1:
        raise ValueError(f"{func}: postselection must be in (0, 1], got {post}")
    n = _size(n, "n", func, minimum=2)
    ws = n if weight_sparsity is None else _size(weight_sparsity, "weight_sparsity", func)
    sol = solver_cost(dimension, sparsity, kappa, f * eps, solver=solver, clock_qubits=clock_qubits)
    up = upload_gates(n, min(ws, n), order=order)
    P = sol.success_probability * post
    rounds = _amplification_rounds(P)
    run = (up + sol.gates).scaled(rounds)
    return LogicalSegment(solver=sol, upload=up, postselection=post, success_probability=P, rounds=rounds,
                            run=run, runs=copies, qubits=sol.qubits + 1, algorithm_eps=f * eps,
                            code_error=(1 - f) * eps)


@dataclass(frozen=True)
class HardwareModel:
    """A physical qubit model of the QDK estimator: a predefined ``name`` with optional overrides.

    ``physical_error`` replaces every gate, measurement and idle error rate; ``gate_time_ns`` and
    ``measurement_time_ns`` replace the model's times. Make one with :func:`hardware_model`.
    """

    name: str
    label: str
    physical_error: float | None = None
    gate_time_ns: float | None = None
    measurement_time_ns: float | None = None

    def qubit_params(self):
        """The estimator's ``qubitParams`` dictionary."""
        params = {"name": self.name}
        if self.physical_error is not None:
            p = self.physical_error
            params.update(oneQubitGateErrorRate=p, twoQubitGateErrorRate=p, tGateErrorRate=p, idleErrorRate=p,
                          oneQubitMeasurementErrorRate=p)
        if self.gate_time_ns is not None:
            t = f"{self.gate_time_ns:g} ns"
            params.update(oneQubitGateTime=t, twoQubitGateTime=t, tGateTime=t)
        if self.measurement_time_ns is not None:
            params.update(oneQubitMeasurementTime=f"{self.measurement_time_ns:g} ns")
        return params


#: the two gate-based superconducting-like models of the estimator (50 ns gates, 100 ns measurements)
HARDWARE_MODELS = {
    "e3": HardwareModel("qubit_gate_ns_e3", "gate-based, 50 ns gates, error 1e-3"),
    "e4": HardwareModel("qubit_gate_ns_e4", "gate-based, 50 ns gates, error 1e-4"),
}

#: the estimator's gate-based models with nanosecond gates (50 ns gates, 100 ns measurements)
_QDK_NAMES = ("qubit_gate_ns_e3", "qubit_gate_ns_e4")


def hardware_model(name, *, physical_error=None, gate_time_ns=None, measurement_time_ns=None):
    """A :class:`HardwareModel`, with checked overrides. Used in chapter 9.

    Parameters
    ----------
    name : {"qubit_gate_ns_e3", "qubit_gate_ns_e4"}
    physical_error, gate_time_ns, measurement_time_ns : float, optional
        In (0, 0.01); > 0; > 0.

    Returns
    -------
    HardwareModel
    """
    func = "hardware_model"
    check_choice(name, "name", _QDK_NAMES, func=func)
    p = None if physical_error is None else _unit(physical_error, "physical_error", func)
    if p is not None and p >= 0.01:  # the estimator's range, below the surface code's threshold
        raise ValueError(f"{func}: physical_error must be below 0.01 (the estimator's range), got {p}")
    g, m = (None if t is None else check_positive(t, k, func=func)
            for t, k in ((gate_time_ns, "gate_time_ns"), (measurement_time_ns, "measurement_time_ns")))
    return HardwareModel(name, name + ("" if p is None else f", error {p:g}"), p, g, m)


@dataclass(frozen=True)
class PhysicalEstimate:
    """Physical resources of one coherent run (QDK estimator).

    Attributes
    ----------
    hardware, logical_qubits, error_budget : echo of the inputs
    code_distance, physical_qubits, t_factories : int
        Physical qubits count data and T factories.
    runtime_s : float
        Wall-clock of one run, seconds.
    extrapolated : bool
        True beyond the estimator's range: a lower bound (see :func:`physical_estimate`).
    message : str
    """

    hardware: HardwareModel
    logical_qubits: int
    error_budget: float
    code_distance: int
    physical_qubits: int
    runtime_s: float
    t_factories: int
    extrapolated: bool
    message: str


def _estimator():
    # the QDK sends usage telemetry unless told not to; nothing here may use the network
    os.environ.setdefault("QDK_PYTHON_TELEMETRY", "none")
    os.environ.setdefault("QSHARP_PYTHON_TELEMETRY", "none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from qdk.estimator import EstimatorError, LogicalCounts
    return LogicalCounts, EstimatorError


def physical_estimate(gates, logical_qubits, *, hardware, error_budget):
    r"""Physical qubits, code distance and runtime of one coherent run, from the QDK estimator.

    Hands the logical counts to ``qdk.estimator.LogicalCounts(...).estimate`` [7]_: Toffoli-class
    gates as CCZ/CCiX, T gates, rotations (depth = count: a sequential circuit) and measurements,
    with the surface code of the qubit model and the error budget given. Counts above
    :data:`MAX_ESTIMATOR_COUNT`, or a logical depth whose runtime could overflow the estimator's
    64-bit nanosecond count (it wraps around without warning), are scaled down until they fit,
    estimated, and the runtime is scaled back up by the same factor: a lower bound, flagged
    ``extrapolated`` (the code distance only grows with the circuit, so the runtime per gate at
    the cap is the least it can be).

    Parameters
    ----------
    gates, logical_qubits, hardware :
        A :class:`GateTally`, an int >= 1 and a :class:`HardwareModel`.
    error_budget : float
        In (0, 1): the failure probability the error correction may spend.

    Returns
    -------
    PhysicalEstimate

    Used in chapter 9.
    """
    func = "physical_estimate"
    if not isinstance(gates, GateTally):
        raise ValueError(f"{func}: gates must be a GateTally, got {describe(gates)}")
    for name, value in zip(("toffoli", "t", "rotations", "cliffords", "measurements"), gates._values()):
        check_int(value, f"gates.{name}", func=func, minimum=0)
    if gates.non_clifford < 1:
        raise ValueError(f"{func}: gates has no non-Clifford gate; the estimator needs at least one")
    q = check_int(logical_qubits, "logical_qubits", func=func, minimum=1, maximum=10**6)
    if not isinstance(hardware, HardwareModel):
        raise ValueError(f"{func}: hardware must be a HardwareModel, got {describe(hardware)}")
    budget = _unit(error_budget, "error_budget", func)
    # the estimator reports the runtime as a 64-bit count of nanoseconds, which wraps around silently:
    # keep the logical depth (3 cycles per CCZ, one per T and measurement, <= 61 per rotation) below it
    cycle_bound_ns = (4 * (hardware.gate_time_ns or 50.0) + 2 * (hardware.measurement_time_ns or 100.0)) * _MAX_DISTANCE
    depth_bound = 3 * gates.toffoli + gates.t + gates.measurements + 61 * gates.rotations
    scale = max(1.0, gates.non_clifford / MAX_ESTIMATOR_COUNT, depth_bound * cycle_bound_ns / 2.0**62)
    counts = GateTally(*(int(v / scale) for v in gates._values())) if scale > 1.0 else gates
    data = {"numQubits": q, "tCount": counts.t, "cczCount": counts.toffoli, "ccixCount": 0,
            "rotationCount": counts.rotations, "rotationDepth": counts.rotations,
            "measurementCount": counts.measurements}
    counts_class, estimator_error = _estimator()
    try:
        result = counts_class(data).estimate({"qubitParams": hardware.qubit_params(), "errorBudget": budget})
    except (Exception, estimator_error) as exc:  # its refusal: an error budget it cannot meet (d > 50), ...
        raise ValueError(f"{func}: the QDK estimator refused the input ({exc})") from exc
    phys, extrapolated = result["physicalCounts"], scale > 1.0
    runtime = phys["runtime"] * 1e-9 * scale
    message = (f"lower bound: {gates.non_clifford:.3g} non-Clifford gates exceed the estimator's range "
               f"(scaled down {scale:.3g} times to fit); runtime scaled from the estimate there" if extrapolated
               else "estimate of the QDK resource estimator")
    return PhysicalEstimate(hardware=hardware, logical_qubits=q, error_budget=budget,
                            code_distance=int(result["logicalQubit"]["codeDistance"]),
                            physical_qubits=int(phys["physicalQubits"]), runtime_s=float(runtime),
                            t_factories=int(phys["breakdown"]["numTfactories"]), extrapolated=extrapolated,
                            message=message)


def classical_time(flops, *, flop_rate=GPU_FLOP_RATE):
    """Seconds to execute ``flops`` floating-point operations at ``flop_rate`` FLOP/s (peak). Used in chapter 9."""
    func = "classical_time"
    flops = check_positive(flops, "flops", func=func, strict=False)
    return flops / check_positive(flop_rate, "flop_rate", func=func)


@dataclass(frozen=True)
class TrainingTime:
    """Wall-clock of a quantum training run on one hardware model, beside the classical run.

    Attributes
    ----------
    segment, physical : LogicalSegment, PhysicalEstimate (of one coherent run)
    run_s, formation_s, segment_s, training_s, classical_s : float
        One run; the coefficients' formation per segment (GPU); ``runs * run_s + formation_s``;
        ``segments * segment_s``; the same training by classical gradient descent on the GPU.
    segments : int
    ratio : float
        ``training_s / classical_s``.
    """

    segment: LogicalSegment
    physical: PhysicalEstimate
    run_s: float
    formation_s: float
    segment_s: float
    segments: int
    training_s: float
    classical_s: float
    ratio: float


def training_time(cost, *, hardware, solver="qsvt", dimension=None, sparsity=None, copies=None,
                  clock_qubits=None, algorithm_fraction=0.5, flop_rate=GPU_FLOP_RATE):
    """Physical wall-clock of the training run that chapter 6's :func:`qsgd.cost.training_cost` prices.

    The instance is the :class:`qsgd.cost.TrainingCost`'s (``n``, ``kappa``, ``eps``, ``T``, ``p``, ``D``, ``s``,
    copies, PNAS Lemma 5's postselection, and the classical formation and run, operations counted
    as FLOPs); the runs of a segment are sequential on one machine.

    Parameters
    ----------
    cost, hardware : qsgd.cost.TrainingCost, HardwareModel
    dimension, sparsity, copies : int, optional
        Override the instance's ``D``, ``s`` and copies (e.g. a symmetric Carleman basis).
    solver, clock_qubits, algorithm_fraction :
        As for :func:`segment_resources`.
    flop_rate : float, default :data:`GPU_FLOP_RATE`

    Returns
    -------
    TrainingTime

    Used in chapter 9.
    """
    func = "training_time"
    if type(cost).__name__ != "TrainingCost":
        raise ValueError(f"{func}: cost must be a qsgd.cost.TrainingCost, got {describe(cost)}")
    P = (cost.padding + 1) / (9.0 * (cost.steps + cost.padding + 1) * cost.order)  # PNAS Lemma 5, q = 1
    seg = segment_resources(
        n=int(math.ceil(cost.n)), dimension=int(cost.system_dimension if dimension is None else dimension),
        sparsity=int(cost.matrix_sparsity if sparsity is None else sparsity), kappa=cost.kappa, eps=cost.eps,
        copies=int(math.ceil(cost.copies)) if copies is None else copies, postselection=P,
        weight_sparsity=int(math.ceil(cost.weight_sparsity)), order=cost.order, solver=solver,
        clock_qubits=clock_qubits, algorithm_fraction=algorithm_fraction)
    phys = physical_estimate(seg.run, seg.qubits, hardware=hardware, error_budget=seg.code_error)
    formation = classical_time(cost.formation, flop_rate=flop_rate)
    segment_s = seg.runs * phys.runtime_s + formation
    training = cost.segments * segment_s
    classical = classical_time(cost.classical, flop_rate=flop_rate)
    return TrainingTime(segment=seg, physical=phys, run_s=phys.runtime_s, formation_s=formation,
                        segment_s=segment_s, segments=cost.segments, training_s=training, classical_s=classical,
                        ratio=training / classical)


@dataclass(frozen=True)
class CrossCheck:
    """Chapter 6's hand counts against the library counts on one instance (``*_ratio``: library / chapter 6).

    Attributes
    ----------
    query_hand, query_library, query_ratio : float
        Gates of a query: ``ceil(log2 D)`` (:func:`qsgd.cost.oracle_query_cost`); non-Clifford gates of a walk step.
    upload_hand, upload_library, upload_ratio : float
        :func:`qsgd.cost.upload_cost`; non-Clifford gates of :func:`upload_gates`.
    queries_hand, queries_library, queries_ratio : dict
        Queries per solve, ``{"hhl": ..., "qsvt": ...}``: chapter 6's ``"hhl"`` and ``"cks"`` counts
        (:func:`qsgd.cost.qlsa_queries`) against the library's queries times :math:`2k+1` rounds of
        amplification of the solver's own success probability.
    """

    query_hand: float
    query_library: float
    query_ratio: float
    upload_hand: float
    upload_library: float
    upload_ratio: float
    queries_hand: dict
    queries_library: dict
    queries_ratio: dict


def cross_check(*, n, dimension, sparsity, kappa, eps, weight_sparsity, order=2):
    """Chapter 6's counts (:mod:`qsgd.cost`) and this module's on the same instance.

    ``n, dimension, sparsity, kappa, eps, weight_sparsity, order`` are as for :func:`segment_resources`
    (``eps`` is the solver precision of both). Returns a :class:`CrossCheck`. Used in chapter 9.
    """
    from qsgd import cost

    func = "cross_check"
    be = block_encoding_cost(dimension, sparsity)
    q_hand = cost.oracle_query_cost(_size(dimension, "dimension", func, minimum=2))
    up_hand = cost.upload_cost(n, weight_sparsity, order=order)
    up_lib = upload_gates(n, weight_sparsity, order=order).non_clifford
    hand, lib = {}, {}
    for name, hand_name in (("hhl", "hhl"), ("qsvt", "cks")):
        sol = solver_cost(dimension, sparsity, kappa, eps, solver=name)
        hand[name] = cost.qlsa_queries(kappa, eps, solver=hand_name, sparsity=sparsity)
        lib[name] = float(sol.queries * _amplification_rounds(sol.success_probability))
    return CrossCheck(query_hand=float(q_hand), query_library=float(be.walk.non_clifford),
                      query_ratio=be.walk.non_clifford / q_hand, upload_hand=float(up_hand),
                      upload_library=float(up_lib), upload_ratio=up_lib / up_hand, queries_hand=hand,
                      queries_library=lib, queries_ratio={k: lib[k] / hand[k] for k in hand})
