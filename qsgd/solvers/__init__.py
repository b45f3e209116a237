r"""Quantum linear-system solvers behind one contract, and the registry that names them.

Like the ``METHODS`` dict of :func:`scipy.integrate.solve_ivp`, :data:`SOLVERS` maps a name to an
entry ``entry(system, settings, rng) -> SolverResult`` (:mod:`qsgd.solvers.base`). A quantum
segment (:func:`qsgd.pipeline.quantum_gd`) calls ``SOLVERS[settings.solver]``; a new solver is
one module with one entry function plus one line here.

========================  ======================================================================
``"hhl"``                 Harrow-Hassidim-Lloyd: the finite-clock model, or the circuit on Aer
                          (:func:`qsgd.solvers.hhl_solver.hhl_entry`)
``"polynomial"``          the polynomial (QSVT-style) inverse: an odd polynomial approximating
                          :math:`1/x` on :math:`[1/\kappa, 1]`, applied to the singular values
                          (:func:`qsgd.solvers.polynomial.polynomial_entry`)
========================  ======================================================================
"""

from __future__ import annotations

from qsgd.solvers.base import LinearSystem, SolverEntry, SolverResult
from qsgd.solvers.hhl_solver import hhl_entry
from qsgd.solvers.polynomial import polynomial_entry

__all__ = ["SOLVERS", "LinearSystem", "SolverResult", "SolverEntry"]

#: solver name -> registry entry
SOLVERS: dict[str, SolverEntry] = {
    "hhl": hhl_entry,
    "polynomial": polynomial_entry,
}
