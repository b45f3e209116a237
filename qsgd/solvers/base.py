r"""The contract between a linear-system solver and the pipeline: one input type, one result type.

A quantum segment (:func:`qsgd.pipeline.quantum_gd`) hands the normalized right-hand side of the
Eq. 6 system, the matrix and its :class:`qsgd.decomposition.Decomposition` (or a linear operator)
to the solver named by ``SegmentSettings.solver``, and reads back a :class:`SolverResult`: the
postselected output state, the probability of postselecting it, a bound on its distance from
the exact normalized solution, the queries and qubits it costs, and a verdict. The registry
(:data:`qsgd.solvers.SOLVERS`) maps names to entries ``entry(system, settings, rng)``;
adding a solver is one module with one entry function plus one line in that dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from qsgd.decomposition import Decomposition, SpectralBounds

__all__ = ["LinearSystem", "SolverResult", "SolverEntry"]


@dataclass(frozen=True)
class LinearSystem:
    r"""The system :math:`A x = b` a solver is asked to solve, as a quantum solver receives it.

    Attributes
    ----------
    matrix : (m, m) sparse matrix or ndarray
        :math:`A`.
    rhs : ndarray, shape (m,)
        :math:`b`, normalized (the state the upload prepares).
    decomposition : Decomposition or None
        :math:`A`'s decomposition from :func:`qsgd.decomposition.decompose`, when the caller has it
        (the algorithm-level models act on it; a circuit may use it to build its basis change).
    operator : scipy.sparse.linalg.LinearOperator or None
        Products by :math:`A` and :math:`A^{\mathsf T}` only, for solvers that need no decomposition.
    bounds : SpectralBounds or None
        Bounds on the singular values (eigenvalue moduli) when there is no decomposition, e.g.
        from :func:`qsgd.matfun.singular_value_bracket`; the entries then apply their filter or
        polynomial as a Chebyshev series of products (:mod:`qsgd.matfun`).
    """

    matrix: Any = field(repr=False)
    rhs: np.ndarray = field(repr=False)
    decomposition: Decomposition | None = field(default=None, repr=False)
    operator: Any = field(default=None, repr=False)
    bounds: SpectralBounds | None = None

    @property
    def spectral_bounds(self) -> SpectralBounds:
        """The decomposition's exact bounds, else ``bounds`` (ValueError when there is neither)."""
        if self.decomposition is not None:
            return self.decomposition.bounds
        if self.bounds is None:
            raise ValueError("LinearSystem: neither a decomposition nor spectral bounds were given")
        return self.bounds

    @property
    def dimension(self) -> int:
        return int(np.asarray(self.rhs).shape[0])


@dataclass(frozen=True)
class SolverResult:
    r"""What every solver entry returns.

    Attributes
    ----------
    solver : str
        The registry name of the solver.
    state : ndarray, shape (m,)
        The postselected output state on the solution block, normalized, with the sign the
        algorithm produces (it approximates :math:`+A^{-1}b/\|A^{-1}b\|`).
    success_probability : float
        Probability that one run postselects the solution (before amplitude amplification).
    error_bound : float
        A bound on :math:`\|\text{state} - A^{-1}b/\|A^{-1}b\|\|_2`, from the solver's parameters
        and the spectrum it was told.
    queries : int
        Calls to the matrix oracle per run: controlled :math:`e^{iHt}` applications for HHL
        (:math:`2(2^c-1)`, phase estimation and its uncomputation), block-encoding calls for a
        polynomial (QSVT) solver (the polynomial's degree).
    qubits : int
        Qubits of one run (system, ancillas and flags).
    success : bool
        The solver's own verdict: False when its output cannot be trusted (nothing postselected,
        non-finite output, parameters that cannot resolve the spectrum).
    message : str
        Why, in words.
    model_state, model_probability : ndarray, float
        The algorithm-level model of the same run (equal to ``state`` and ``success_probability``
        unless the state came from a circuit simulation).
    parameters : object
        The solver's parameter object (e.g. :class:`qsgd.hhl.HHLParameters`), for the report.
    details : object
        The solver's own result object (e.g. :class:`qsgd.hhl.HHLModelResult`), or None.
    """

    solver: str
    state: np.ndarray = field(repr=False)
    success_probability: float
    error_bound: float
    queries: int
    qubits: int
    success: bool
    message: str
    model_state: np.ndarray = field(repr=False, default=None)
    model_probability: float | None = None
    parameters: Any = field(repr=False, default=None)
    details: Any = field(repr=False, default=None)


class SolverEntry(Protocol):
    """The signature of a registry entry: ``entry(system, settings, rng) -> SolverResult``.

    ``settings`` is a :class:`qsgd.pipeline.SegmentSettings` (or any object with the attributes
    the entry documents); ``rng`` is a ``numpy.random.Generator``.
    """

    def __call__(self, system: LinearSystem, settings: Any, rng: np.random.Generator) -> SolverResult: ...
