r"""Closed-form gate counts of the HHL circuit: CX of its parts at any size, no transpilation."""

from __future__ import annotations

import math

import numpy as np
from dataclasses import dataclass
from typing import Any

from qiskit import transpile

from qsgd._validation import as_vector, check_int
from qsgd.hhl.circuit import DEFAULT_MAX_QUBITS, state_preparation

__all__ = ["unitary_cx", "HHLGateCount", "state_preparation_cx", "hhl_cx_count", "MAX_FORMULA_QUBITS"]

#: largest register size the closed-form gate counts accept (exact integers beyond it only take time)
MAX_FORMULA_QUBITS = 1024


def unitary_cx(num_qubits: int) -> int:
    r"""CX count of Qiskit's synthesis of a generic ``UnitaryGate`` on ``num_qubits`` qubits.

    The quantum Shannon decomposition as Qiskit implements it (optimization level 0, basis
    ``{cx, u}``): 0 for one qubit, 3 for two, and
    :math:`(11\cdot4^n - 36\cdot2^n + 40)/24` from two qubits on (19, 95, 423, ... for
    :math:`n = 3, 4, 5`), i.e. :math:`\tfrac{11}{24}4^n` to leading order. Matrices with
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
    r"""CX count of the spectral HHL circuit, part by part (:func:`hhl_cx_count`).

    Attributes
    ----------
    state_preparation : int
        The preparation of :math:`|b\rangle`.
    basis_change : int
        ``UnitaryGate`` :math:`V^\dagger` and :math:`V` on :math:`s` qubits:
        :math:`2\,` :func:`unitary_cx` :math:`(s)`.
    controlled_phases : int
        :math:`2c` clock-controlled diagonals on :math:`s+1` qubits,
        :math:`2^{s+1}-2` CX each.
    fourier : int
        Inverse QFT and QFT, :math:`c(c-1) + 3\lfloor c/2\rfloor` each, and the two bit
        reversals, :math:`3\lfloor c/2\rfloor` each.
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
    gate = state_preparation(vec)
    if gate.name == "state_preparation":
        return 2**s - s - 1
    compiled = transpile(gate.definition, basis_gates=["cx", "u"], optimization_level=0)
    return int(compiled.count_ops().get("cx", 0))


def hhl_cx_count(system_qubits: int, clock_qubits: int, *, state_preparation: int | None = None) -> HHLGateCount:
    r"""CX count of ``hhl_circuit(..., construction="spectral")`` by formula, at any size.

    The count after ``transpile(basis_gates=["cx", "u"], optimization_level=0)`` for generic
    parameters (the tests compare each part with ``transpile`` of a generic gate of that
    shape). It is an upper bound for actual systems: the eigenbasis :math:`V` of a real
    matrix is real orthogonal and Qiskit compiles it with a few CX fewer (1--4 per basis
    change in the tests), a preparation with vanishing angles costs less, and an
    optimizing transpile removes more. The formula
    depends only on the register sizes, never on floating-point rounding:

    .. math:: N_{\rm CX} = N_{\rm prep} + 2\,U(s) + 2c\,(2^{s+1}-2)
              + 2c(c-1) + 12\lfloor c/2\rfloor + 2^c,

    with :math:`U(s)` = :func:`unitary_cx`. The first term grows like :math:`4^s` (the
    dense basis change), the rest like :math:`c\,2^s` -- the statevector-simulation form
    of HHL, not the sparse-oracle circuit of the asymptotic analysis.

    Parameters
    ----------
    system_qubits, clock_qubits : int
        :math:`s \ge 1` (the dilation qubit included) and :math:`c \ge 1`.
    state_preparation : int, optional
        CX of the preparation of :math:`|b\rangle` (:func:`state_preparation_cx`); default
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
