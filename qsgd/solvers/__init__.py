r"""Quantum linear-system solvers behind one contract, and the registry that names them.

Like the ``METHODS`` dict of :func:`scipy.integrate.solve_ivp`, :data:`SOLVERS` maps a name to an
entry ``entry(system, settings, rng) -> SolverResult`` (:mod:`qsgd.solvers.base`). A quantum
segment (:func:`qsgd.pipeline.quantum_gd`) calls ``SOLVERS[settings.solver]``; a new solver is
one module with an entry function and an a priori bound function, plus one line here.

========================  ======================================================================
``"hhl"``                 Harrow-Hassidim-Lloyd: the finite-clock model, or the circuit on Aer
                          (:func:`qsgd.solvers.hhl_solver.hhl_entry`)
``"polynomial"``          the polynomial (QSVT-style) inverse: an odd polynomial approximating
                          :math:`1/x` on :math:`[1/\kappa, 1]`, applied to the singular values
                          (:func:`qsgd.solvers.polynomial.polynomial_entry`)
========================  ======================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from qsgd.solvers.base import LinearSystem, SolverEntry, SolverResult
from qsgd.solvers.hhl_solver import hhl_bound, hhl_entry
from qsgd.solvers.polynomial import polynomial_bound, polynomial_entry

__all__ = ["SOLVERS", "Solver"]


@dataclass(frozen=True)
class Solver:
    """A registry entry: how to run a solver, and its a priori bound before running it.

    Calling the entry runs it: ``SOLVERS[name](system, settings, rng) -> SolverResult``.

    Attributes
    ----------
    run : callable
        ``run(system, settings, rng) -> SolverResult`` (:class:`qsgd.solvers.base.SolverEntry`).
    bound : callable
        ``bound(system, settings) -> float``: a bound on the normalized output state's error
        computed from the settings and the system's spectral bounds only, before the run (the
        guarantee of :func:`qsgd.guarantee.segment_guarantee` uses it).
    """

    run: SolverEntry
    bound: Callable[[LinearSystem, Any], float]

    def __call__(self, system: LinearSystem, settings: Any, rng: np.random.Generator) -> SolverResult:
        return self.run(system, settings, rng)


#: solver name -> registry entry
SOLVERS: dict[str, Solver] = {
    "hhl": Solver(run=hhl_entry, bound=hhl_bound),
    "polynomial": Solver(run=polynomial_entry, bound=polynomial_bound),
}
