r"""The HHL circuit (step III of Liu et al.), built from Qiskit's circuit library.

The circuit, on three named registers ``system`` (:math:`s` qubits, the solution is read here),
``clock`` (:math:`c` qubits) and ``flag`` (1 qubit):

1. **State preparation** :math:`|0\rangle \mapsto |b\rangle = b/\|b\|`
   (:func:`qsgd.upload.sparse_state_preparation` or Qiskit's ``StatePreparation``, whichever
   costs fewer CX by the formulas of :mod:`qsgd.upload`).
2. **Phase estimation** of :math:`U = e^{iHt}`: Hadamards on the clock, the controlled powers
   :math:`U^{2^j}` on clock qubit :math:`j`, the inverse ``QFTGate`` and the bit reversal -- the
   layout of :func:`qiskit.circuit.library.phase_estimation`, so the clock holds the phase
   :math:`\varphi = \lambda t/2\pi \bmod 1` most significant bit first.
3. **Eigenvalue inversion** with ``ExactReciprocalGate`` on the clock qubits *in reversed order*
   (the gate reads its register least significant bit first): the flag is rotated to amplitude
   :math:`C/\tilde\lambda` on :math:`|1\rangle`.
4. **Uncomputation** (inverse phase estimation). Postselecting flag :math:`=1` and clock
   :math:`=0` leaves :math:`C\,H^{-1}|b\rangle` on the system register.

**Non-Hermitian systems.** A non-symmetric :math:`A` (Eq. 6 is block lower-bidiagonal) is
replaced by the Hermitian dilation :math:`H = [[0, A], [A^{\mathsf T}, 0]]`, whose eigenvalues are
:math:`\pm\sigma_i(A)`; the clock is read in two's complement and one extra system qubit selects
the block (the solution is read where it is 1). **Padding**: a dimension :math:`m` that is not a
power of two is padded to :math:`2^{\lceil\log_2 m\rceil}` with :math:`\mu I`, :math:`\mu` the upper
eigenvalue bound, and zeros in :math:`b`; the padding block is never populated.

**Two constructions of the same unitary.** ``construction="spectral"`` (the default) writes the
controlled powers in the eigenbasis :math:`H = V\Lambda V^\dagger`: :math:`V^\dagger`, :math:`c`
clock-controlled ``DiagonalGate`` s, the inverse QFT, one ``UCRYGate`` with the angles of
``ExactReciprocalGate``, the uncomputation and :math:`V`; Aer applies a diagonal in one pass, so
it simulates 20 qubits in seconds. ``construction="dense"`` appends each controlled
:math:`e^{iHt2^j}` as a dense ``UnitaryGate``: no eigendecomposition enters the phase estimation
(:math:`e^{iHt}` by ``scipy.linalg.expm``, its powers by repeated squaring; no eigendecomposition
of :math:`H` is used), which makes it an independent check of the spectral form and of the
algorithm-level model.

The parameters (evolution time, scaling, constant) are those of one
:class:`qsgd.hhl.parameters.HHLParameters`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from qiskit import QuantumCircuit, QuantumRegister
from qiskit.circuit.library import (
    DiagonalGate,
    ExactReciprocalGate,
    PermutationGate,
    QFTGate,
    StatePreparation,
    UCRYGate,
    UnitaryGate,
)

from qsgd._validation import as_vector, check_choice, check_int, check_memory, describe
from qsgd.decomposition import Decomposition, SpectralBounds, decompose, dense_square, is_symmetric
from qsgd.hhl.filter import reciprocal_amplitudes
from qsgd.hhl.parameters import HHLParameters, check_enclosure, given_parameters, hhl_parameters, resolve_bounds
from qsgd.upload import cheapest_state_preparation

__all__ = ["hhl_circuit", "CONSTRUCTIONS", "DEFAULT_MAX_QUBITS"]

#: default ceiling on the total number of simulated qubits (a 2^24 statevector is 256 MiB)
DEFAULT_MAX_QUBITS = 24

#: the two circuit constructions of :func:`hhl_circuit` (same unitary)
CONSTRUCTIONS = ("spectral", "dense")

@dataclass(frozen=True)
class Problem:
    """A system laid out on the HHL registers: what the circuit, its simulation and its read-out share."""

    A: np.ndarray  # original matrix
    b: np.ndarray  # original right-hand side
    H: np.ndarray  # Hermitian matrix on the system register (padded / dilated)
    rhs: np.ndarray  # unit right-hand side on the system register
    parameters: HHLParameters
    system_qubits: int
    offset: int  # the solution occupies rhs indices [offset, offset + m)

    @property
    def bounds(self) -> SpectralBounds:
        return self.parameters.bounds

    @property
    def clock_qubits(self) -> int:
        return self.parameters.clock_qubits

    @property
    def evolution_time(self) -> float:
        return self.parameters.evolution_time

    @property
    def scaling(self) -> float:
        return self.parameters.scaling

    @property
    def constant(self) -> float:
        return self.parameters.constant


def _check_qubits(A, c: int, max_qubits: int, func: str) -> None:
    """Refuse, from the shape of A alone (before densifying it), a circuit above max_qubits."""
    shape = getattr(A, "shape", None) if sp.issparse(A) or isinstance(A, np.ndarray) else None
    if shape is not None and len(shape) == 2 and shape[0] > 1:
        least = math.ceil(math.log2(shape[0])) + c + 1
        if least > max_qubits:
            raise ValueError(
                f"{func}: A of shape {tuple(shape)} needs {least} qubits or more ({least - c - 1} system, "
                f"{c} clock, 1 flag), above max_qubits={max_qubits}"
            )


def setup(A, b, *, clock_qubits, evolution_time, scaling, eigenvalue_bounds, accuracy, max_qubits, func,
          construction="spectral", max_bytes=None, decomposition=None, parameters=None) -> Problem:
    """Check the arguments shared by :func:`hhl_circuit` and :func:`qsgd.hhl.hhl_solve` and lay the system out."""
    keywords = {"evolution_time": evolution_time, "scaling": scaling, "eigenvalue_bounds": eigenvalue_bounds,
                "accuracy": accuracy}
    c = check_int(given_parameters(parameters, clock_qubits, keywords, func), "clock_qubits", func=func, minimum=1)
    max_qubits = check_int(max_qubits, "max_qubits", func=func, minimum=3)
    _check_qubits(A, c, max_qubits, func)
    mat = dense_square(A, func, max_bytes=max_bytes)
    m = mat.shape[0]
    vec = as_vector(b, "b", func=func, size=m, allow_zero=False)
    symmetric = is_symmetric(mat)
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
        check_memory((c + 2) * 16.0 * 4.0 ** (s + 1), what=f"{c + 2} dense unitaries on {s + 1} qubits",
                     max_bytes=max_bytes, func=func)
    else:  # the eigenbasis and its inverse on s qubits
        check_memory(4 * 16.0 * 4.0**s, what=f"2 dense unitaries on {s} qubits", max_bytes=max_bytes, func=func)
    if decomposition is not None:
        if not isinstance(decomposition, Decomposition):
            raise ValueError(f"{func}: decomposition must be a Decomposition (see qsgd.decomposition.decompose), "
                             f"got {describe(decomposition)}")
        exact = decomposition.check(mat, func=func).bounds
    else:  # singular A is refused even when bounds were given
        exact = decompose(mat, vectors=False, func=func).bounds
    if parameters is None:
        bounds = resolve_bounds(eigenvalue_bounds, exact=exact, mat=mat, func=func, max_bytes=max_bytes)
        parameters = hhl_parameters(bounds, clock_qubits=c, evolution_time=evolution_time, scaling=scaling,
                                    accuracy=accuracy, func=func, stacklevel=3)
    else:
        check_enclosure(parameters.bounds, exact, func)
    upper = parameters.bounds.upper
    dim = 2**size_bits
    if symmetric:
        H = np.eye(dim) * upper
        H[:m, :m] = mat
        rhs = np.zeros(dim)
        rhs[:m] = vec
        offset = 0
    else:
        P = np.eye(dim) * upper
        P[:m, :m] = mat
        H = np.zeros((2 * dim, 2 * dim))
        H[:dim, dim:] = P
        H[dim:, :dim] = P.T
        rhs = np.zeros(2 * dim)
        rhs[:m] = vec
        offset = dim
    rhs = rhs / np.linalg.norm(rhs)
    return Problem(A=mat, b=vec, H=H, rhs=rhs, parameters=parameters, system_qubits=s, offset=offset)


def state_preparation(vec: np.ndarray):
    r"""The preparation of :math:`|b\rangle` with fewer CNOTs, as a gate labelled ``prep b``.

    :func:`qsgd.upload.cheapest_state_preparation` compares the Gleinig-Hoefler circuit (its
    merge costs) with Qiskit's dense ``StatePreparation`` (:math:`2^{n_q} - n_q - 1` CNOTs) by
    formula; the sparse one is returned as a gate of its circuit, the dense one as a
    ``StatePreparation`` gate (so :func:`qsgd.hhl.state_preparation_cx` can tell them apart
    by name).
    """
    nq = int(round(math.log2(vec.size)))
    choice = cheapest_state_preparation(vec, num_qubits=nq)
    if choice.construction == "sparse":
        return choice.circuit.to_gate(label="prep b")
    return StatePreparation(vec, label="prep b")


def _phase_estimation(H: np.ndarray, t: float, c: int):
    """phase_estimation(c, e^{iHt}): U = expm(iHt) by scaling and squaring, U^(2^j) by repeated squaring.

    No eigendecomposition of H enters this construction (the spectral one is built from it), so the
    dense circuit is an independent check of the spectral circuit and of the algorithm-level model.
    """
    U = scipy.linalg.expm(1j * t * np.asarray(H, dtype=complex))
    d = H.shape[0]
    s = int(round(math.log2(d)))
    clock = QuantumRegister(c, "clock")
    system = QuantumRegister(s, "system")
    qc = QuantumCircuit(clock, system, name="QPE")
    qc.h(clock)
    p0 = np.diag([1.0, 0.0])
    p1 = np.diag([0.0, 1.0])
    for j in range(c):
        if j:
            U = U @ U  # U^(2^j)
        # little-endian: the control (first qarg) is the least significant index
        cU = np.kron(np.eye(d), p0) + np.kron(U, p1)
        qc.append(UnitaryGate(cU, label=f"c-U^{2**j}", check_input=False), [clock[j], *system])
    qc.append(QFTGate(c).inverse(), clock[:])
    qc.append(PermutationGate(list(reversed(range(c)))), clock[:])
    return qc


def build(problem: Problem, construction: str = "spectral"):
    s, c = problem.system_qubits, problem.clock_qubits
    system = QuantumRegister(s, "system")
    clock = QuantumRegister(c, "clock")
    flag = QuantumRegister(1, "flag")
    qc = QuantumCircuit(system, clock, flag, name="HHL")
    qc.append(state_preparation(problem.rhs), system[:])
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


def _spectral_body(qc, problem: Problem, system, clock, flag) -> None:
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
    clock_qubits: int | None = None,
    evolution_time: float | None = None,
    scaling: float | None = None,
    eigenvalue_bounds: Any = None,
    accuracy: float | None = None,
    max_qubits: int = DEFAULT_MAX_QUBITS,
    construction: str = "spectral",
    max_bytes: float | None = None,
    decomposition: Decomposition | None = None,
    parameters: HHLParameters | None = None,
):
    r"""The HHL circuit for :math:`Ax = b` (step III of [1]_, after [2]_).

    Postselecting ``flag`` = 1 and ``clock`` = 0 leaves
    :math:`C\,H^{-1}|b\rangle` on ``system``; for a symmetric :math:`A`,
    :math:`H^{-1}|b\rangle = A^{-1}b/\|b\|` on the first :math:`m` basis states, for a
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
        ``ExactReciprocalGate`` scaling; default from :func:`qsgd.hhl.hhl_parameters` (full
        rotation one octave below the smallest eigenvalue's clock bin).
    eigenvalue_bounds : (lower, upper), {"exact", "gershgorin"} or SpectralBounds, optional
        Known bounds on :math:`|\lambda(H)|`, or the method of :func:`spectral_bounds`
        (default ``"exact"``). Given bounds are checked against the singular values of
        :math:`A` (computed anyway to refuse a singular :math:`A`, or taken from ``decomposition``):
        ``lower`` may exceed the smallest modulus, and ``upper`` fall short of the largest, by
        the relative tolerance :data:`BOUNDS_RTOL` (:math:`10^{-6}`) at most, else
        ``ValueError``.
    accuracy : float, optional
        Requested relative accuracy :math:`\epsilon` of the inversion at the smallest
        eigenvalue; too few clock qubits for it is an error (see
        :func:`required_clock_qubits`).
    max_qubits : int, default 24
        Refuse larger circuits (checked from the shape of ``A`` before it is densified).
    max_bytes : float, optional
        Size guard (default 4 GiB) on the dense copy of ``A`` and its decomposition and on the
        dense unitaries of the construction; raise it on purpose.
    construction : {"spectral", "dense"}, default "spectral"
        ``"dense"``: phase estimation with :math:`c` controlled ``UnitaryGate`` s
        :math:`e^{iHt2^j}` on :math:`s+1` qubits and ``ExactReciprocalGate`` (module
        docstring). ``"spectral"``: the same unitary written in the eigenbasis
        :math:`H = V\Lambda V^\dagger` -- ``UnitaryGate(V^dagger)``, :math:`c` clock-controlled
        ``DiagonalGate`` s :math:`e^{i\Lambda t2^j}`, the inverse QFT, one ``UCRYGate`` with
        the angles of ``ExactReciprocalGate``, the uncomputation, ``UnitaryGate(V)`` (the
        :math:`V V^\dagger` between phase estimation and its inverse cancels). Aer applies
        each diagonal in one pass over the statevector, so it simulates in seconds where
        the dense form takes minutes; its CX count has a closed form
        (:func:`hhl_cx_count`).
    decomposition : Decomposition, optional
        :math:`A`'s decomposition from :func:`qsgd.decomposition.decompose`, when the caller has
        it, so that no second decomposition of :math:`A` is computed for the bounds. It is checked
        cheaply (:meth:`qsgd.decomposition.Decomposition.check`); its exact bounds serve for the
        singularity check and as the moduli that given ``eigenvalue_bounds`` are checked against.
    parameters : HHLParameters, optional
        The parameters from :func:`qsgd.hhl.hhl_parameters`, instead of ``clock_qubits``,
        ``evolution_time``, ``scaling``, ``eigenvalue_bounds`` and ``accuracy`` (give one or the
        other); their bounds must enclose :math:`A`'s eigenvalue moduli.

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
    problem = setup(
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
        decomposition=decomposition,
        parameters=parameters,
    )
    return build(problem, construction)
