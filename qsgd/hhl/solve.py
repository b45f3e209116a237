r"""Solving :math:`Ax=b` with the HHL circuit on qiskit-aer: exact statevector or shots.

:func:`hhl_solve` builds :func:`qsgd.hhl.hhl_circuit`, simulates it with
``AerSimulator(method="statevector")`` and postselects flag = 1, clock = 0.

**Norm recovery.** When every eigenvalue is resolved exactly, the postselection probability is
:math:`P = C^2\|A^{-1}b\|^2/\|b\|^2`, so :math:`\|A^{-1}b\| \approx \|b\|\sqrt{P}/C`, which
:func:`hhl_solve` reports as ``solution_norm`` (chapters 5 and 8 use it to restore the length of
:math:`\theta(T)`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from qiskit import transpile
from qiskit.circuit.library import DiagonalGate, Initialize
from qiskit.quantum_info import Statevector
from qiskit.synthesis import synth_permutation_basic, synth_qft_full
from qiskit_aer import AerSimulator

from qsgd._validation import as_rng, check_bool, check_int
from qsgd.decomposition import Decomposition, SpectralBounds
from qsgd.hhl.circuit import DEFAULT_MAX_QUBITS, Problem, build, setup
from qsgd.hhl.model import SIGN_CIRCUIT, SIGN_LARGEST_POSITIVE, fix_phase, largest_positive
from qsgd.hhl.parameters import HHLParameters
from qsgd.tomography import amplitudes_from_pair_counts

__all__ = ["HHLResult", "hhl_solve", "MAX_SHOTS", "AER_DIAGONAL_QUBITS"]

#: largest ``DiagonalGate`` the Aer form of the spectral circuit builds (clock qubits grouped)
AER_DIAGONAL_QUBITS = 14

#: most shots per circuit hhl_solve hands to Aer (beyond it Aer runs out of memory or takes hours)
MAX_SHOTS = 10**8

#: fixed transpiler seed for the reported CX count and depth (so they do not depend on rng)
RESOURCE_SEED = 0


@dataclass(frozen=True)
class HHLResult:
    r"""Result of :func:`hhl_solve`.

    Attributes
    ----------
    solution : ndarray, shape (m,)
        Postselected, normalized, real estimate of :math:`A^{-1}b/\|A^{-1}b\|`. Exact
        mode keeps the circuit's global phase (ideal output :math:`+C A^{-1}b`, so the
        overall sign is right) and removes only a residual phase, the one of the
        largest entry modulo :math:`\pi`. With shots the overall sign is not
        observable and is fixed so that the largest entry is positive.
    success_probability : float
        :math:`P` (flag = 1, clock = 0), exact or estimated from shots.
    fidelity : float
        :math:`|\langle \hat x, x\rangle|^2` with the NumPy solution ``reference``.
    solution_norm : float
        :math:`\|b\|\sqrt{P}/C`, the estimate of :math:`\|A^{-1}b\|` (module docstring).
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
        the circuit produced, so ``solution`` approximates :math:`+A^{-1}b/\|A^{-1}b\|`)
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
    parameters: HHLParameters | None = field(default=None, repr=False)
    success: bool = True
    message: str = ""
    sign_convention: str = field(default="circuit", repr=False)

    @property
    def condition_number(self) -> float:
        """``bounds.condition_number``."""
        return self.bounds.condition_number


def _for_aer(qc, *, final_basis: bool = True):
    r"""The spectral circuit as instructions Aer applies natively, same output from |0...0>.

    * The state preparation and the basis change :math:`V^\dagger` act on the system
      register before any other gate touches it, and the circuit is only ever applied to
      :math:`|0\ldots0\rangle`, so together they are applied as the state
      :math:`V^\dagger|\psi\rangle` they produce (Aer's ``initialize`` on qubits in
      :math:`|0\rangle`), :math:`|\psi\rangle` the exact output of the preparation circuit.
    * The ``UCRYGate`` (flag target, clock controls) becomes
      :math:`(SH)\,D\,(SH)^\dagger` on the flag with :math:`D` the diagonal
      :math:`\mathrm{diag}(e^{\mp i\theta_k/2})` on flag and clock: the same unitary, since
      :math:`SH\,R_Z(\theta)\,(SH)^\dagger = R_Y(\theta)`; one diagonal pass instead of
      :math:`2^{c+1}` gates.
    * Runs of clock-controlled diagonals are multiplied into one ``DiagonalGate`` on up to
      :data:`AER_DIAGONAL_QUBITS` qubits (several clock qubits and the system): Aer's cost
      per diagonal grows slowly with its size, so fewer, larger diagonals are faster.
    * The inverse QFT followed by the bit reversal, and the reversal followed by the QFT,
      become Qiskit's QFT synthesis without swaps on the reversed clock (``h`` and ``cp``;
      :math:`R\,Q^\dagger R` is :math:`Q^\dagger` with the qubits relabelled), so no
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
    clock_qubits: int | None = None,
    shots: int | None = None,
    rng: Any = None,
    evolution_time: float | None = None,
    scaling: float | None = None,
    eigenvalue_bounds: Any = None,
    accuracy: float | None = None,
    count_gates: bool = True,
    max_qubits: int = DEFAULT_MAX_QUBITS,
    construction: str = "spectral",
    max_bytes: float | None = None,
    decomposition: Decomposition | None = None,
    parameters: HHLParameters | None = None,
) -> HHLResult:
    r"""Solve :math:`Ax = b` with the HHL circuit on Aer (step III of [1]_).

    Builds :func:`hhl_circuit`, simulates it with ``AerSimulator(method="statevector")``
    and postselects flag = 1, clock = 0. Exact mode (``shots=None``) reads the final
    statevector (``save_statevector``). With ``shots`` the success probability and the
    magnitudes come from ``shots`` measured copies, and the relative signs from
    :math:`s` further runs of ``shots`` copies each with a Hadamard on one system qubit:
    that run gives :math:`(x_i \pm x_{i'})^2/2` for the pair :math:`i, i' = i \oplus 2^j`,
    and the signs are propagated along the strongest pairs (a maximum spanning tree
    over the hypercube of the support): the estimator of
    :func:`qsgd.tomography.amplitudes_from_pair_counts`, the counts laid out as
    :func:`qsgd.tomography.hadamard_pair_counts` samples them for :func:`hhl_model`.

    Parameters
    ----------
    A, b, clock_qubits, evolution_time, scaling, eigenvalue_bounds, accuracy, max_qubits, construction, decomposition, parameters
        As in :func:`hhl_circuit` (``construction="spectral"``, the default, simulates much
        faster than ``"dense"``; the output state is the same to rounding; with
        ``decomposition`` no second decomposition of :math:`A` is computed).
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
    instructions, the same state from :math:`|0\ldots0\rangle` (``_for_aer``), and in exact
    mode its last gate, the basis change :math:`V` on the system register, is applied to the
    postselected amplitudes in NumPy (it commutes with the postselection on flag and clock).

    ``success_probability`` is the probability of the flag and clock outcome before any
    amplitude amplification; the :math:`O(\kappa)` rounds of amplification of [2]_ are
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
    problem = setup(
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
        decomposition=decomposition,
        parameters=parameters,
    )
    qc = build(problem, construction)
    seed = int(generator.integers(2**31 - 1))
    m = problem.A.shape[0]
    window = slice(problem.offset, problem.offset + m)
    if shots is None:
        statevector = _simulate_exact(qc, problem, construction, seed)
        probability = float(np.vdot(statevector, statevector).real)
        block = fix_phase(statevector[window]) if probability > 0 else np.zeros(m)
    else:
        counts = _simulate_shots(qc, problem, construction, seed, shots)
        probability = float(counts[0].sum() / shots)
        block = largest_positive(amplitudes_from_pair_counts(counts)[window])
        statevector = None
    return _solve_result(problem, qc, block, probability, statevector=statevector, shots=shots, seed=seed,
                         count_gates=count_gates)


def _postselected_index(problem: Problem) -> int:
    """Index of flag = 1, clock = 0, system = 0 in the circuit's outcomes (system is the low register)."""
    return 2 ** (problem.system_qubits + problem.clock_qubits)


def _simulate_exact(qc, problem: Problem, construction: str, seed: int) -> np.ndarray:
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


def _simulate_shots(qc, problem: Problem, construction: str, seed: int, shots: int) -> np.ndarray:
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


def _solve_result(problem: Problem, qc, block: np.ndarray, probability: float, *, statevector, shots, seed,
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
        parameters=problem.parameters,
    )


# --------------------------------------------------------------------------- algorithm-level model
