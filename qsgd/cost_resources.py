r"""Logical qubits of the Eq. 6 solver for one model, register by register.

The quantum training segment of [1]_ solves the ``T``-step history system of Eq. 6 with an
HHL-type solver. Its registers are the lifted vector :math:`[u; u^{\otimes 2}; \dots;
u^{\otimes N}]`, the time register of the :math:`T + 1 + p` blocks, the phase-estimation clock
and a few ancillas. :func:`resource_estimate` counts them; no error-correction overhead and no
oracle workspace are included. The clock follows the policy of the HHL stage,
:func:`qsgd.hhl.required_clock_qubits` (chapter 4), applied to the dilated system, so that this
count and the simulated circuits of chapters 4 and 8 use one formula.

Import the names from :mod:`qsgd.cost` (``from qsgd.cost import resource_estimate``), which
re-exports them.

Used in chapter 6.

References
----------
.. [1] J. Liu et al., "Towards provably efficient quantum algorithms for large-scale
   machine-learning models", Nat. Commun. 15, 434 (2024), Eq. 6 and the text around it
   (``m = log2 n`` qubits for the weights).
.. [2] A. W. Harrow, A. Hassidim, S. Lloyd, "Quantum algorithm for linear systems of equations",
   Phys. Rev. Lett. 103, 150502 (2009).
.. [3] J.-P. Liu et al., "Efficient quantum algorithm for dissipative nonlinear differential
   equations", PNAS 118, e2026805118 (2021).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qsgd._validation import check_int, check_positive
from qsgd.cost_terms import _ceil_log2, _kappa, _lifted_dimension, default_kappa, public_errors

__all__ = [
    "ResourceEstimate",
    "resource_estimate",
]


@dataclass(frozen=True)
class ResourceEstimate:
    """Logical qubits of the Eq. 6 solver for one model (no error-correction overhead).

    Attributes
    ----------
    n, steps, order, padding, eps, kappa : echo of the inputs (``kappa`` after defaulting)
    weight_qubits : int
        ``ceil(log2 n)``, the register holding one copy of theta (the paper's ``m = log2 n``).
    carleman_qubits : int
        ``ceil(log2 sum_{j<=N} n**j)``: the whole lifted vector on one compact register.
    tensor_layout_qubits : int
        ``ceil(log2 N) + N * ceil(log2 n)``: level register plus ``N`` weight registers
        (the layout in which ``u^{(x) j}`` is ``j`` copies of the weight state).
    time_qubits : int
        ``ceil(log2(T + 1 + p))``.
    clock_qubits : int
        Phase-estimation register: given, or
        ``qsgd.hhl.required_clock_qubits(kappa, eps, definite=False)``.
    ancilla_qubits : int
        Reciprocal-rotation ancilla, Hermitian-dilation qubit, ... (given).
    total : int
        ``carleman_qubits + time_qubits + clock_qubits + ancilla_qubits``.
    lifted_dimension, history_dimension : int
        ``sum_j n**j`` and ``(T + 1 + p)`` times it.
    """

    n: int
    steps: int
    order: int
    padding: int
    eps: float
    kappa: float
    weight_qubits: int
    carleman_qubits: int
    tensor_layout_qubits: int
    time_qubits: int
    clock_qubits: int
    ancilla_qubits: int
    total: int
    lifted_dimension: int
    history_dimension: int


@public_errors
def resource_estimate(n, *, steps, order=2, padding=0, eps=1e-2, kappa=None, clock_qubits=None,
                      ancilla_qubits=2):
    r"""Logical-qubit count of the quantum ODE solver of [1]_ (Eq. 6) for a model of size ``n``.

    Registers: the lifted vector :math:`[u; u^{\otimes 2}; \dots; u^{\otimes N}]` (dimension
    :math:`\sum_{j\le N} n^j`, Kronecker basis), the time register (:math:`T+1+p` blocks of
    Eq. 6), the phase-estimation clock of an HHL-type solver [2]_, and ancillas (the reciprocal
    rotation and the Hermitian dilation of the non-symmetric Eq. 6 matrix). No error-correction
    overhead and no workspace for the oracles are counted.

    The default clock is the HHL stage's own rule, :func:`qsgd.hhl.required_clock_qubits` with
    ``definite=False``: the Eq. 6 matrix is not symmetric, so the solver inverts its Hermitian
    dilation :math:`[[0, L], [L^T, 0]]`, whose eigenvalues :math:`\pm\sigma_i(L)` take one
    clock qubit for the sign (as :func:`qsgd.hhl.hhl_solve` does for every non-symmetric
    matrix). It is the least ``c`` that places the smallest singular value at clock bin
    :math:`(2^{c-1} - 1)/\kappa \ge 1/\epsilon`, that is
    :math:`c = 1 + \lceil\log_2(\kappa/\epsilon + 1)\rceil`, the
    :math:`\mathcal O(\log(\kappa/\epsilon))` clock of HHL.

    Parameters
    ----------
    n : int
        Model size, >= 2.
    steps : int
        ``T`` >= 1.
    order : int, default 2
        Carleman order ``N`` >= 1.
    padding : int, default 0
        Padding ``p`` >= 0.
    eps : float, default 1e-2
        Relative accuracy of the inversion at the smallest singular value, in (0, 1); only used
        for the default clock size.
    kappa : float, optional
        Condition number (>= 1); default :func:`qsgd.cost.default_kappa` ``(T, p)``, PNAS
        Lemma 3's ``3 (T + p + 1)`` [3]_.
    clock_qubits : int, optional
        Override the clock size (>= 2: one of them is the sign of the dilated system).
    ancilla_qubits : int, default 2
        Ancillas (>= 0).

    Returns
    -------
    ResourceEstimate

    Raises
    ------
    ValueError
        On any out-of-range input, naming the argument and its value.

    Notes
    -----
    The default clock imports :mod:`qsgd.hhl` (and with it Qiskit) on first use; pass
    ``clock_qubits`` to count without it.

    Examples
    --------
    >>> r = resource_estimate(7_451_044, steps=100)
    >>> r.weight_qubits, r.clock_qubits
    (23, 16)

    Used in chapter 6.
    """
    func = "resource_estimate"
    n = check_int(n, "n", func=func, minimum=2)
    steps = check_int(steps, "steps", func=func, minimum=1)
    order = check_int(order, "order", func=func, minimum=1)
    padding = check_int(padding, "padding", func=func, minimum=0)
    eps = check_positive(eps, "eps", func=func)
    if eps >= 1:
        raise ValueError(f"{func}: eps must be in (0, 1), got {eps}")
    kappa = default_kappa(steps, padding) if kappa is None else _kappa(kappa, func)
    if clock_qubits is None:
        if math.log2(kappa) - math.log2(eps) > 1000:
            raise ValueError(f"{func}: kappa / eps = {kappa:g} / {eps:g} exceeds 2**1000 and would need "
                             "more than 1000 clock qubits; use smaller values")
        from qsgd.hhl import required_clock_qubits  # Qiskit is loaded only for the default clock

        clock = required_clock_qubits(kappa, eps, definite=False)
    else:
        clock = check_int(clock_qubits, "clock_qubits", func=func, minimum=2)
    ancilla = check_int(ancilla_qubits, "ancilla_qubits", func=func, minimum=0)
    lifted = _lifted_dimension(n, order)
    blocks = steps + 1 + padding
    weight = _ceil_log2(n)
    carleman = _ceil_log2(lifted)
    time = _ceil_log2(blocks)
    return ResourceEstimate(
        n=n, steps=steps, order=order, padding=padding, eps=eps, kappa=float(kappa),
        weight_qubits=weight, carleman_qubits=carleman,
        tensor_layout_qubits=_ceil_log2(order) + order * weight, time_qubits=time,
        clock_qubits=clock, ancilla_qubits=ancilla, total=carleman + time + clock + ancilla,
        lifted_dimension=lifted, history_dimension=lifted * blocks,
    )
