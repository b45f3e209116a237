"""Tests for qsgd.solvers: the registry of linear-system solvers and the contract every entry keeps.

A registry entry is ``entry(system, settings, rng) -> SolverResult``; a new solver is one module with
one entry function plus one line in :data:`qsgd.solvers.SOLVERS`. The contract is checked here on a
small system of the form of Eq. 6 of Liu et al. (2024).
"""

import importlib
import math
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from qsgd.decomposition import decompose
from qsgd.hhl import PHASE_HEADROOM, HHLModelResult, HHLParameters, HHLResult, hhl_model, hhl_parameters
from qsgd.solvers import SOLVERS, LinearSystem, SolverResult
from qsgd.solvers.hhl_solver import hhl_entry


def _eq6_system(seed: int, contraction: float = 0.8):
    """L = [[I, 0, 0], [-C, I, 0], [0, -C, I]] with C a random 2x2 matrix of norm ``contraction``; unit rhs."""
    rng = np.random.default_rng(seed)
    C = rng.normal(size=(2, 2))
    C *= contraction / np.linalg.norm(C, 2)
    I2, Z = np.eye(2), np.zeros((2, 2))
    L = np.block([[I2, Z, Z], [-C, I2, Z], [Z, -C, I2]])
    rhs = rng.normal(size=6)
    return sp.csr_array(L), rhs / np.linalg.norm(rhs)


def _exact(system: LinearSystem) -> np.ndarray:
    x = np.linalg.solve(system.matrix.toarray(), system.rhs)
    return x / np.linalg.norm(x)


def _settings(clock_qubits=5, simulation="model"):
    return SimpleNamespace(clock_qubits=clock_qubits, simulation=simulation, construction="spectral",
                           count_gates=False, max_qubits=16)


def _check_contract(result, name, system):
    """What every entry promises: its name, a unit state, a probability, a bound that holds, a verdict."""
    assert isinstance(result, SolverResult)
    assert result.solver == name
    state = np.asarray(result.state)
    assert state.shape == (system.dimension,) and np.all(np.isfinite(state))
    assert np.linalg.norm(state) == pytest.approx(1.0, abs=1e-12)
    assert 0.0 < result.success_probability <= 1.0
    assert result.success is True and isinstance(result.message, str) and result.message
    error = float(np.linalg.norm(state - _exact(system)))
    assert error <= result.error_bound * (1 + 1e-9) + 1e-12, (name, error, result.error_bound)
    assert isinstance(result.queries, int) and result.queries >= 0
    assert isinstance(result.qubits, int) and result.qubits >= 1
    return error


# --------------------------------------------------------------------------- the registry


def test_registry_names_the_hhl_entry():
    from qsgd.solvers.hhl_solver import hhl_bound

    assert SOLVERS["hhl"].run is hhl_entry and SOLVERS["hhl"].bound is hhl_bound
    assert all(callable(entry) and callable(entry.bound) for entry in SOLVERS.values())


def test_registry_names_the_polynomial_entry_once_it_exists():
    try:
        polynomial = importlib.import_module("qsgd.solvers.polynomial")
    except Exception as exc:  # the polynomial solver is optional here: its part of the contract is skipped
        pytest.skip(f"qsgd.solvers.polynomial does not import: {exc!r}")
    assert SOLVERS["polynomial"].run is polynomial.polynomial_entry
    assert SOLVERS["polynomial"].bound is polynomial.polynomial_bound
    system = LinearSystem(*_eq6_system(3))
    result = SOLVERS["polynomial"](system, SimpleNamespace(), np.random.default_rng(0))
    _check_contract(result, "polynomial", system)


# --------------------------------------------------------------------------- the hhl entry


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("clock_qubits", [9, 11])
def test_hhl_entry_keeps_the_contract_on_an_eq6_system(seed, clock_qubits):
    L, rhs = _eq6_system(seed)
    system = LinearSystem(matrix=L, rhs=rhs)
    result = SOLVERS["hhl"](system, _settings(clock_qubits), np.random.default_rng(seed))
    error = _check_contract(result, "hhl", system)
    assert result.queries == 2 * (2**clock_qubits - 1)
    # 6 -> padded to 8 (3 qubits), one dilation qubit, the clock, the flag
    assert result.qubits == 3 + 1 + clock_qubits + 1
    assert error > 0  # a finite clock is not exact: the bound is not trivially met
    assert result.error_bound < 1.0  # and it says something (two unit vectors are at most 2 apart)
    # the a priori bound is the registry's bound, known before the run
    assert result.error_bound == SOLVERS["hhl"].bound(system, _settings(clock_qubits))
    # the model state is the state (nothing was simulated at circuit level)
    np.testing.assert_array_equal(result.model_state, result.state)
    assert result.model_probability == result.success_probability
    assert isinstance(result.details, HHLModelResult)


@pytest.mark.parametrize("seed", [0, 1])
def test_hhl_entry_is_hhl_model_with_the_same_parameters(seed):
    L, rhs = _eq6_system(seed)
    dec = decompose(L, method="normal")
    params = hhl_parameters(dec, clock_qubits=5, headroom=PHASE_HEADROOM)
    model = hhl_model(dec, rhs, parameters=params)
    for given in (None, dec):  # the entry decomposes the matrix itself when the system carries no decomposition
        result = hhl_entry(LinearSystem(matrix=L, rhs=rhs, decomposition=given), _settings(5),
                           np.random.default_rng(0))
        assert isinstance(result.parameters, HHLParameters)
        assert result.parameters.evolution_time == pytest.approx(params.evolution_time, rel=1e-12)
        assert result.parameters.scaling == params.scaling and result.parameters.clock_qubits == 5
        np.testing.assert_allclose(result.state, model.solution, atol=1e-12, rtol=0)
        assert result.success_probability == pytest.approx(model.success_probability, rel=1e-12)


def test_hhl_entry_circuit_agrees_with_the_model():
    L, rhs = _eq6_system(4)
    system = LinearSystem(matrix=L, rhs=rhs, decomposition=decompose(L, method="normal"))
    model = hhl_entry(system, _settings(5, "model"), np.random.default_rng(1))
    circuit = hhl_entry(system, _settings(5, "circuit"), np.random.default_rng(1))
    _check_contract(circuit, "hhl", system)
    assert isinstance(circuit.details, HHLResult) and circuit.details.success
    np.testing.assert_allclose(circuit.state, model.state, atol=1e-9, rtol=0)
    assert circuit.success_probability == pytest.approx(model.success_probability, abs=1e-9)
    # the circuit's result carries the model of the same run beside it
    np.testing.assert_array_equal(circuit.model_state, model.state)
    assert circuit.error_bound == model.error_bound and circuit.queries == model.queries


def test_the_circuit_respects_max_qubits():
    L, rhs = _eq6_system(5)
    settings = _settings(5, "circuit")
    settings.max_qubits = 9  # the system needs 10
    with pytest.raises(ValueError, match="hhl_solve: this system needs 10 qubits"):
        hhl_entry(LinearSystem(matrix=L, rhs=rhs), settings, np.random.default_rng(0))


# --------------------------------------------------------------------------- a new solver is one entry


def _exact_entry(system: LinearSystem, settings, rng: np.random.Generator) -> SolverResult:
    """A toy solver: the classical solution, as a quantum solver would report it."""
    A = system.matrix.toarray() if sp.issparse(system.matrix) else np.asarray(system.matrix)
    x = np.linalg.solve(A, system.rhs)
    state = x / np.linalg.norm(x)
    qubits = math.ceil(math.log2(system.dimension))
    return SolverResult(solver="exact", state=state, success_probability=1.0, error_bound=1e-12, queries=0,
                        qubits=qubits, success=True, message="solved classically", model_state=state,
                        model_probability=1.0)


def test_a_new_solver_is_one_entry_in_the_dict():
    from qsgd.solvers import Solver

    registry = dict(SOLVERS)
    registry["exact"] = Solver(run=_exact_entry, bound=lambda system, settings: 1e-12)
    assert "exact" not in SOLVERS  # the copy, not the package's registry, was extended
    L, rhs = _eq6_system(6)
    system = LinearSystem(matrix=L, rhs=rhs)
    results = {name: registry[name](system, _settings(10), np.random.default_rng(0)) for name in ("hhl", "exact")}
    assert registry["exact"].bound(system, _settings(10)) == 1e-12
    for name, result in results.items():
        _check_contract(result, name, system)
    np.testing.assert_allclose(results["hhl"].state, results["exact"].state, atol=results["hhl"].error_bound)


@pytest.mark.parametrize("accuracy", [1e-1, 1e-3])
def test_the_polynomial_bound_is_known_before_the_run(accuracy):
    """The registry's a priori bound of the polynomial solver is the error bound its run reports."""
    system = LinearSystem(*_eq6_system(4))
    settings = SimpleNamespace(accuracy=accuracy)
    bound = SOLVERS["polynomial"].bound(system, settings)
    result = SOLVERS["polynomial"](system, settings, np.random.default_rng(0))
    assert bound == result.error_bound and math.isfinite(bound)
    with pytest.raises(ValueError, match="polynomial_bound: settings.accuracy"):
        SOLVERS["polynomial"].bound(system, SimpleNamespace(accuracy=2.0))
