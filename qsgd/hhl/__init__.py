r"""The quantum linear-system solver of step III of Liu et al.: HHL built from Qiskit's circuit library.

Step III of the algorithm of [1]_ prepares the normalized history state
:math:`|Y\rangle \propto L^{-1}|\mathrm{rhs}\rangle` of the :math:`T`-step system (Eq. 6 of [1]_)
with a quantum linear-system algorithm. Qiskit no longer ships one, so this package builds the
Harrow-Hassidim-Lloyd (HHL) algorithm [2]_ and simulates it, one job per module:

=====================  ===================================================================
``parameters``         :class:`HHLParameters` from one policy, :func:`hhl_parameters`; the one
                       clock-qubit formula :func:`required_clock_qubits`
``filter``             the exact finite-clock response: :func:`reciprocal_amplitudes`,
                       :func:`hhl_filter`; its Chebyshev series :func:`filter_expansion`
``circuit``            :func:`hhl_circuit` (spectral or dense construction)
``solve``              :func:`hhl_solve`: the circuit on qiskit-aer, exact or with shots
``model``              :func:`hhl_model`: the circuit's output from a decomposition or from
                       matrix products (``method="chebyshev"``), no circuit
``bound``              :func:`hhl_error_bound`
``resources``          closed-form CX counts: :func:`hhl_cx_count`, :func:`unitary_cx`,
                       :func:`state_preparation_cx`
=====================  ===================================================================

Decompositions and spectral bounds come from :mod:`qsgd.decomposition`
(:func:`qsgd.decomposition.decompose`, :class:`qsgd.decomposition.SpectralBounds`). One frozen
:class:`HHLParameters` is handed to the circuit, its simulation, the model and the bound; the
keyword arguments ``clock_qubits``, ``evolution_time``, ``scaling``, ``eigenvalue_bounds`` and
``accuracy`` of :func:`hhl_circuit`, :func:`hhl_solve` and :func:`hhl_model` are turned into one
by :func:`hhl_parameters`.

The names below are imported on first use (``import qsgd.hhl`` loads neither qiskit nor Aer);
:data:`NAMES` is the table.

Symbols: :math:`s` system qubits, :math:`c` clock qubits (``clock_qubits``), :math:`t` evolution
time, :math:`C` reciprocal constant, :math:`\kappa` condition number, ``shots`` measured copies.

References
----------
.. [1] J. Liu et al., "Towards provably efficient quantum algorithms for large-scale
   machine-learning models", Nat. Commun. 15, 434 (2024), Eq. 6 and step III.
.. [2] A. W. Harrow, A. Hassidim, S. Lloyd, "Quantum algorithm for linear systems of
   equations", Phys. Rev. Lett. 103, 150502 (2009).

Used in chapter 4 (and by the end-to-end pipeline of chapter 8).
"""

from __future__ import annotations

import importlib

#: every public name of the package and the module that defines it
NAMES = {
    "HHLParameters": "parameters",
    "HHLResolutionWarning": "parameters",
    "hhl_parameters": "parameters",
    "required_clock_qubits": "parameters",
    "PHASE_HEADROOM": "parameters",
    "INVERSION_MARGIN": "parameters",
    "BOUNDS_RTOL": "parameters",
    "MAX_CLOCK_QUBITS": "parameters",
    "reciprocal_amplitudes": "filter",
    "hhl_filter": "filter",
    "FilterExpansion": "filter",
    "filter_expansion": "filter",
    "kapteyn_tail": "filter",
    "MAX_EXPANSION_DEGREE": "filter",
    "hhl_circuit": "circuit",
    "CONSTRUCTIONS": "circuit",
    "DEFAULT_MAX_QUBITS": "circuit",
    "HHLResult": "solve",
    "hhl_solve": "solve",
    "MAX_SHOTS": "solve",
    "AER_DIAGONAL_QUBITS": "solve",
    "HHLModelResult": "model",
    "hhl_model": "model",
    "SIGN_CIRCUIT": "model",
    "SIGN_LARGEST_POSITIVE": "model",
    "MODEL_METHODS": "model",
    "hhl_error_bound": "bound",
    "hhl_error_estimate": "bound",
    "unitary_cx": "resources",
    "HHLGateCount": "resources",
    "state_preparation_cx": "resources",
    "hhl_cx_count": "resources",
    "MAX_FORMULA_QUBITS": "resources",
}

#: the modules of the package, lowest first (each imports only modules before it)
MODULES = ("parameters", "filter", "model", "circuit", "resources", "solve", "bound")

__all__ = sorted(NAMES)


def __getattr__(name: str):
    """Lazy access: ``qsgd.hhl.hhl_solve`` imports :mod:`qsgd.hhl.solve` on first use."""
    module = NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'qsgd.hhl' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(NAMES))
