r"""The registry entry of HHL: the algorithm-level model, and the circuit on Aer when asked.

:func:`hhl_entry` chooses one :class:`qsgd.hhl.HHLParameters` from the system's decomposition
(chapter 8's policy: :math:`\sigma_{\max}` at phase :data:`qsgd.hhl.PHASE_HEADROOM`), runs the
exact finite-clock model (:func:`qsgd.hhl.hhl_model`) and, with ``settings.simulation ==
"circuit"``, the circuit (:func:`qsgd.hhl.hhl_solve`), and bounds the output error a priori with
:func:`qsgd.hhl.hhl_error_bound` (phase-estimation analysis from the same parameters, independent
of the simulated filter).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from qsgd._linalg import dense
from qsgd.decomposition import decompose
from qsgd.hhl.bound import hhl_error_bound
from qsgd.hhl.model import hhl_model
from qsgd.hhl.parameters import PHASE_HEADROOM, HHLResolutionWarning, hhl_parameters
from qsgd.hhl.solve import hhl_solve
from qsgd.solvers.base import LinearSystem, SolverResult

__all__ = ["hhl_entry", "hhl_bound"]


def hhl_entry(system: LinearSystem, settings: Any, rng: np.random.Generator) -> SolverResult:
    r"""Solve ``system`` with HHL: the registry entry ``"hhl"``.

    Reads ``settings.clock_qubits`` and ``settings.simulation`` (``"model"`` or ``"circuit"``), and
    for the circuit ``settings.construction``, ``settings.count_gates`` and ``settings.max_qubits``.
    The decomposition is made with :func:`qsgd.decomposition.decompose` when the system has none;
    a system with ``bounds`` and no decomposition is solved matrix-free (:func:`qsgd.hhl.hhl_model`
    with ``method="chebyshev"``, parameters from those bounds).
    ``queries`` counts the controlled :math:`e^{iHt}` of phase estimation and its inverse,
    :math:`2(2^c-1)`; ``qubits`` the system (dilation included), clock and flag qubits.

    Used in chapter 8 (through :func:`qsgd.pipeline.quantum_gd`).
    """
    dec, params = _decomposition_and_parameters(system, settings, "hhl_entry")
    if dec is None:  # matrix-free: the filter as a Chebyshev series of products by the matrix
        out = hhl_model(system.operator if system.operator is not None else system.matrix, system.rhs,
                        parameters=params, method="chebyshev")
    else:
        out = hhl_model(dec, system.rhs, parameters=params)
    model, model_p = np.asarray(out.solution, dtype=float), float(out.success_probability)
    bound = hhl_error_bound(params)  # a priori: from the parameters and the spectral bounds only
    state, probability, details = model, model_p, out
    if settings.simulation == "circuit":
        dec = dec if dec is not None else decompose(system.matrix)
        details = hhl_solve(dense(system.matrix), system.rhs, parameters=params, shots=None, rng=rng,
                            decomposition=dec, count_gates=settings.count_gates, max_qubits=settings.max_qubits,
                            construction=settings.construction)
        state = np.asarray(details.solution, dtype=float) if details.success else np.zeros_like(model)
        probability = float(details.success_probability)
    success = bool(probability > 0 and np.all(np.isfinite(state)) and np.any(state))
    message = "HHL postselection succeeded" if success else "HHL postselection never succeeds: no output state"
    return SolverResult(solver="hhl", state=state, success_probability=probability, error_bound=float(bound),
                        queries=params.queries, qubits=int(out.num_qubits), success=success, message=message,
                        model_state=model, model_probability=model_p, parameters=params, details=details)


def hhl_bound(system: LinearSystem, settings: Any) -> float:
    r"""A priori bound of the ``"hhl"`` entry on its normalized output state, before it runs.

    :func:`qsgd.hhl.hhl_error_bound` for the parameters :func:`hhl_entry` will use (the system's
    spectral bounds, ``settings.clock_qubits``, chapter 8's policy): the phase-estimation analysis,
    independent of the simulated filter. Used by :func:`qsgd.guarantee.segment_guarantee`.
    """
    with warnings.catch_warnings():  # a clock too short for the spectrum shows as an infinite bound
        warnings.simplefilter("ignore", HHLResolutionWarning)
        _, params = _decomposition_and_parameters(system, settings, "hhl_bound")
    return float(hhl_error_bound(params))


def _decomposition_and_parameters(system: LinearSystem, settings: Any, func: str):
    """The system's decomposition (made when it has neither one nor bounds; None with bounds only) and the
    parameters :func:`hhl_entry` runs with."""
    if system.decomposition is None and system.bounds is not None:
        return None, hhl_parameters(system.bounds, clock_qubits=settings.clock_qubits, headroom=PHASE_HEADROOM,
                                    func=func)
    dec = system.decomposition if system.decomposition is not None else decompose(system.matrix)
    return dec, hhl_parameters(dec, clock_qubits=settings.clock_qubits, headroom=PHASE_HEADROOM, func=func)
