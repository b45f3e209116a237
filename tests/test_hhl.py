"""Tests for qsgd.hhl: HHL circuits against NumPy solutions (chapter 4).

Decompositions and spectral bounds are tested in ``test_decomposition.py``.
"""

import dataclasses
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from qsgd.decomposition import SPECTRUM_RTOL, Decomposition, SpectralBounds, decompose, spectral_bounds
from qsgd.hhl import (
    INVERSION_MARGIN,
    PHASE_HEADROOM,
    HHLParameters,
    HHLResolutionWarning,
    hhl_circuit,
    hhl_error_bound,
    hhl_error_estimate,
    hhl_parameters,
    hhl_solve,
    required_clock_qubits,
)
from qsgd.hhl.circuit import _phase_estimation, setup

# Qiskit textbook system (ecosystem.md section 3): eigenvalues 2/3 and 4/3
TEXTBOOK_A = np.array([[1.0, -1 / 3], [-1 / 3, 1.0]])
TEXTBOOK_B = np.array([1.0, 0.0])
TEXTBOOK_X = np.array([3 / math.sqrt(10), 1 / math.sqrt(10)])  # (0.9487, 0.3162)


def _spd(m, seed, shift=None):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(m, m)))
    w = np.linspace(1.0, 3.0, m) if shift is None else shift
    return (q * w) @ q.T


def _nonsymmetric(m, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, m)) / math.sqrt(m) + 2.5 * np.eye(m)


def _rhs_with_negative_solution(A, seed):
    """b whose solution A^{-1} b has entries of both signs."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=A.shape[0])
    x[0] = -abs(x[0]) - 0.5
    x[1] = abs(x[1]) + 0.5
    return A @ x


# --------------------------------------------------------------------------- known cases


def test_textbook_exact():
    # the textbook's own choice: t = 2 pi 3/8, scaling 2/8 (C = lambda_min = 2/3)
    res = hhl_solve(TEXTBOOK_A, TEXTBOOK_B, clock_qubits=3, evolution_time=2 * math.pi * 3 / 8, scaling=2 / 8)
    np.testing.assert_allclose(res.solution, TEXTBOOK_X, atol=1e-10)
    np.testing.assert_allclose(res.success_probability, 0.625, atol=1e-10)
    np.testing.assert_allclose(res.fidelity, 1.0, atol=1e-12)
    np.testing.assert_allclose(res.evolution_time, 2 * math.pi * 3 / 8, rtol=1e-12)
    np.testing.assert_allclose(res.scaling, 2 / 8, rtol=1e-12)
    np.testing.assert_allclose(res.reciprocal_constant, 2 / 3, rtol=1e-12)
    # norm recovery: ||A^{-1} b|| = sqrt(90/64) from sqrt(P) / C
    np.testing.assert_allclose(res.solution_norm, math.sqrt(90 / 64), rtol=1e-10)
    assert res.num_qubits == 5 and res.system_qubits == 1 and res.clock_qubits == 3
    assert res.cx_count > 0 and res.depth > 0
    assert res.success and res.shots is None
    # exact mode returns the postselected amplitudes: C A^{-1} b / ||b||
    np.testing.assert_allclose(res.statevector, (2 / 3) * np.linalg.solve(TEXTBOOK_A, TEXTBOOK_B), atol=1e-10)


def test_textbook_parameters():
    bounds = spectral_bounds(TEXTBOOK_A)
    np.testing.assert_allclose([bounds.lower, bounds.upper], [2 / 3, 4 / 3], rtol=1e-12)
    assert bounds.definite and not bounds.dilated
    params = hhl_parameters(bounds, clock_qubits=3)
    assert isinstance(params, HHLParameters) and params.headroom is None and params.margin == INVERSION_MARGIN
    # default: t = pi / lambda_max, full rotation one octave below lambda_min's bin (bin 2 -> bin 1)
    np.testing.assert_allclose([params.evolution_time, params.scaling, params.constant],
                               [2 * math.pi * 3 / 8, 1 / 8, 1 / 3], rtol=1e-12)
    assert params.bin_of_min == pytest.approx(2.0, rel=1e-12) and params.queries == 2 * (2**3 - 1)
    res = hhl_solve(TEXTBOOK_A, TEXTBOOK_B, clock_qubits=3, count_gates=False)
    np.testing.assert_allclose(res.solution, TEXTBOOK_X, atol=1e-10)
    np.testing.assert_allclose(res.success_probability, 0.625 / 4, atol=1e-10)
    np.testing.assert_allclose(res.solution_norm, math.sqrt(90 / 64), rtol=1e-10)


def test_textbook_shots_reproducible():
    kw = dict(clock_qubits=3, scaling=2 / 8, shots=20_000, rng=7, count_gates=False)
    res = hhl_solve(TEXTBOOK_A, TEXTBOOK_B, **kw)
    again = hhl_solve(TEXTBOOK_A, TEXTBOOK_B, **kw)
    np.testing.assert_array_equal(res.solution, again.solution)
    assert res.seed == again.seed and res.shots == 20_000 and res.statevector is None
    # binomial standard error of P is about 0.0034 at 20k shots
    np.testing.assert_allclose(res.success_probability, 0.625, atol=0.02)
    np.testing.assert_allclose(res.solution, TEXTBOOK_X, atol=0.02)
    assert res.cx_count is None and res.depth is None


def test_phase_estimation_matches_qiskit_library():
    from qiskit.circuit.library import UnitaryGate, phase_estimation
    from qiskit.quantum_info import Operator
    from scipy.linalg import expm

    H = _spd(4, seed=3)
    t = 0.7
    ours = _phase_estimation(H, t, 3)
    lib = phase_estimation(3, UnitaryGate(expm(1j * H * t)))
    assert Operator(ours).equiv(Operator(lib), atol=1e-9)


def test_clock_register_bit_order_matters():
    """ExactReciprocalGate must read the clock reversed; the unreversed layout is wrong."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import ExactReciprocalGate
    from qiskit.quantum_info import Statevector

    qc = hhl_circuit(TEXTBOOK_A, TEXTBOOK_B, clock_qubits=3, construction="dense")
    clock = qc.qregs[1]
    wrong = QuantumCircuit(*qc.qregs)
    for inst in qc.data:
        if inst.operation.name == "ExactReciprocal":
            wrong.append(ExactReciprocalGate(3, 0.25), clock[:] + [qc.qregs[2][0]])
        else:
            wrong.append(inst)
    for circuit, ok in ((qc, True), (wrong, False)):
        amp = Statevector(circuit).data[2**4 : 2**4 + 2]
        x = np.real(amp) / np.linalg.norm(amp)
        assert np.allclose(np.abs(x), TEXTBOOK_X, atol=1e-6) == ok


# --------------------------------------------------------------------------- random systems


@pytest.mark.parametrize("m, seed", [(4, 0), (8, 1)])
def test_random_symmetric_systems(m, seed):
    A = _spd(m, seed)
    b = _rhs_with_negative_solution(A, seed)
    res = hhl_solve(A, b, clock_qubits=6, count_gates=False)
    assert np.any(res.reference < 0) and np.any(res.reference > 0)
    assert res.fidelity >= 0.99
    # signs (including the overall sign) are right, not just the overlap
    np.testing.assert_allclose(res.solution, res.reference, atol=0.05)
    np.testing.assert_allclose(np.linalg.norm(res.solution), 1.0, atol=1e-12)
    np.testing.assert_allclose(res.solution_norm, np.linalg.norm(np.linalg.solve(A, b)), rtol=0.05)


@pytest.mark.parametrize("m, seed", [(4, 2), (8, 3)])
def test_random_nonsymmetric_systems_via_dilation(m, seed):
    A = _nonsymmetric(m, seed)
    b = _rhs_with_negative_solution(A, seed)
    res = hhl_solve(A, b, clock_qubits=7, count_gates=False)
    assert res.bounds.dilated and not res.bounds.definite
    assert res.system_qubits == int(math.log2(m)) + 1
    assert res.fidelity >= 0.99
    np.testing.assert_allclose(res.solution, res.reference, atol=0.05)
    # the y block of the dilation solution [y; x] = [0; A^{-1} b] stays (nearly) empty
    y = res.statevector[:m]
    assert np.linalg.norm(y) <= 0.1 * np.linalg.norm(res.statevector)
    np.testing.assert_allclose(res.solution_norm, np.linalg.norm(np.linalg.solve(A, b)), rtol=0.1)


def test_fidelity_improves_with_clock_qubits_at_fixed_scaling():
    A = _nonsymmetric(4, 5)
    b = _rhs_with_negative_solution(A, 5)
    infid = []
    for c in (3, 5, 7):
        res = hhl_solve(A, b, clock_qubits=c, scaling=1 / 2 ** (c - 1), count_gates=False)
        assert res.evolution_time == pytest.approx(hhl_parameters(spectral_bounds(A), clock_qubits=c).evolution_time)
        infid.append(1 - res.fidelity)
    assert infid[0] > infid[1] > infid[2]


def test_shots_recover_signs_of_dilated_system():
    A = _nonsymmetric(4, 2)
    b = _rhs_with_negative_solution(A, 2)
    res = hhl_solve(A, b, clock_qubits=6, shots=40_000, rng=11, count_gates=False)
    assert res.fidelity >= 0.97
    exact = hhl_solve(A, b, clock_qubits=6, count_gates=False)
    np.testing.assert_allclose(res.success_probability, exact.success_probability, atol=0.02)
    # overall sign is not observable with shots: compare up to it
    sign = np.sign(np.dot(res.solution, res.reference))
    np.testing.assert_allclose(sign * res.solution, res.reference, atol=0.1)


def test_dense_and_sparse_input_agree():
    A = _spd(4, 9)
    b = _rhs_with_negative_solution(A, 9)
    dense = hhl_solve(A, b, clock_qubits=5, count_gates=False)
    sparse = hhl_solve(sp.csr_array(A), b, clock_qubits=5, count_gates=False)
    np.testing.assert_allclose(dense.solution, sparse.solution, atol=1e-10)


# --------------------------------------------------------------------------- dilation, padding


def test_dilation_structure():
    A = _nonsymmetric(4, 4)
    b = np.arange(1.0, 5.0)
    prob = setup(A, b, clock_qubits=4, evolution_time=None, scaling=None, eigenvalue_bounds=None,
                  accuracy=None, max_qubits=24, func="t")
    np.testing.assert_array_equal(prob.H[:4, 4:], A)
    np.testing.assert_array_equal(prob.H[4:, :4], A.T)
    np.testing.assert_array_equal(prob.H[:4, :4], 0)
    eig = np.sort(np.linalg.eigvalsh(prob.H))
    sv = np.linalg.svd(A, compute_uv=False)
    np.testing.assert_allclose(eig, np.sort(np.concatenate([sv, -sv])), atol=1e-12)
    np.testing.assert_allclose(prob.rhs[:4], b / np.linalg.norm(b))
    assert prob.offset == 4 and not np.any(prob.rhs[4:])
    # dilation time keeps sigma_max t / 2 pi below 1/2
    assert sv[0] * prob.evolution_time / (2 * math.pi) < 0.5
    qc = hhl_circuit(A, b, clock_qubits=4)
    assert qc.metadata["dilated"] and qc.metadata["neg_vals"] and qc.metadata["solution_offset"] == 4
    assert [r.name for r in qc.qregs] == ["system", "clock", "flag"] and qc.qregs[0].size == 3


@pytest.mark.parametrize("m, symmetric", [(3, True), (5, True), (3, False), (6, False)])
def test_padding_keeps_the_system_well_posed(m, symmetric):
    A = _spd(m, m) if symmetric else _nonsymmetric(m, m)
    b = _rhs_with_negative_solution(A, m)
    prob = setup(A, b, clock_qubits=6, evolution_time=None, scaling=None, eigenvalue_bounds=None,
                  accuracy=None, max_qubits=24, func="t")
    d = prob.H.shape[0]
    assert d & (d - 1) == 0 and d >= (m if symmetric else 2 * m)
    w = np.abs(np.linalg.eigvalsh(prob.H))
    # padding adds eigenvalue modulus `upper`: the spread (condition number) is unchanged
    np.testing.assert_allclose([w.min(), w.max()], [prob.bounds.lower, prob.bounds.upper], rtol=1e-10)
    res = hhl_solve(A, b, clock_qubits=7, count_gates=False)
    assert res.solution.shape == (m,)
    assert res.fidelity >= 0.99
    np.testing.assert_allclose(res.solution, res.reference, atol=0.06)
    # nothing leaks into the padding block
    pad = res.statevector[prob.offset + m : prob.offset + d // (1 if symmetric else 2)]
    assert np.linalg.norm(pad) <= 1e-8


# --------------------------------------------------------------------------- bounds and clocks


def test_spectral_bounds_gershgorin_contains_exact():
    A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, -0.5], [0.5, -0.5, 5.0]])
    exact = spectral_bounds(A)
    gersh = spectral_bounds(A, method="gershgorin")
    assert gersh.lower <= exact.lower and gersh.upper >= exact.upper
    assert gersh.method == "gershgorin" and gersh.definite
    assert isinstance(gersh, SpectralBounds) and gersh.condition_number >= exact.condition_number
    res = hhl_solve(A, [1.0, -1.0, 2.0], clock_qubits=6, eigenvalue_bounds="gershgorin", count_gates=False)
    assert res.fidelity >= 0.99


def test_known_bounds_are_used():
    res = hhl_solve(TEXTBOOK_A, TEXTBOOK_B, clock_qubits=3, eigenvalue_bounds=(2 / 3, 4 / 3), count_gates=False)
    assert res.bounds.method == "known"
    np.testing.assert_allclose(res.success_probability, 0.625 / 4, atol=1e-10)
    # a looser upper bound lowers t, so lambda_min no longer sits on a bin
    loose = hhl_solve(TEXTBOOK_A, TEXTBOOK_B, clock_qubits=6, eigenvalue_bounds=(0.5, 2.0), count_gates=False)
    np.testing.assert_allclose(loose.evolution_time, math.pi / 2.0, rtol=1e-12)
    assert loose.fidelity >= 0.99


@pytest.mark.parametrize("kappa, eps, definite", [(2.0, 0.5, True), (10.0, 0.01, True), (4.6, 0.1, False)])
def test_required_clock_qubits_is_minimal(kappa, eps, definite):
    c = required_clock_qubits(kappa, eps, definite=definite)
    kmin = lambda c: (2 ** (c - 1) - (0 if definite else 1)) / kappa  # noqa: E731
    assert kmin(c) >= 1 / eps - 1e-9
    assert c == (1 if definite else 2) or kmin(c - 1) < 1 / eps


def test_resolution_warning():
    A = np.diag([1.0, 100.0])
    with pytest.warns(HHLResolutionWarning, match="cannot resolve the smallest eigenvalue"):
        hhl_circuit(A, [1.0, 1.0], clock_qubits=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hhl_circuit(A, [1.0, 1.0], clock_qubits=9)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "A, b, kwargs, match",
    [
        (np.ones((2, 3)), [1, 0], {}, "must be square"),
        ([[1, 2], [2, 4]], [1, 0], {}, "singular"),
        (np.zeros((2, 2)), [1, 0], {}, "singular"),
        (TEXTBOOK_A, [1, 0, 0], {}, "length 2"),
        (TEXTBOOK_A, [0, 0], {}, "zero vector"),
        ([[1, np.nan], [0, 1]], [1, 0], {}, "non-finite"),
        (TEXTBOOK_A, [np.inf, 0], {}, "non-finite"),
        ([[1j, 0], [0, 1]], [1, 0], {}, "real"),
        (TEXTBOOK_A, [1, 0], {"clock_qubits": 0}, "clock_qubits must be >= 1"),
        (TEXTBOOK_A, [1, 0], {"clock_qubits": 2.5}, "clock_qubits must be an integer"),
        (_nonsymmetric(2, 0), [1, 0], {"clock_qubits": 1}, "sign"),
        (TEXTBOOK_A, [1, 0], {"clock_qubits": 3, "accuracy": 0.01}, "need at least 9 clock qubits"),
        (TEXTBOOK_A, [1, 0], {"clock_qubits": 3, "evolution_time": 10.0}, "wraps"),
        (TEXTBOOK_A, [1, 0], {"clock_qubits": 3, "scaling": -1.0}, "scaling must be > 0"),
        (TEXTBOOK_A, [1, 0], {"clock_qubits": 3, "eigenvalue_bounds": (2.0, 1.0)}, "lower <= upper"),
        (TEXTBOOK_A, [1, 0], {"clock_qubits": 3, "eigenvalue_bounds": 5}, "eigenvalue_bounds must be"),
        (TEXTBOOK_A, [1, 0], {"clock_qubits": 3, "eigenvalue_bounds": "magic"}, "eigenvalue_bounds must be one of"),
        (np.eye(64) + 0.1, np.ones(64), {"clock_qubits": 20}, "needs 27 qubits"),
        (TEXTBOOK_A, [1, 0], {"clock_qubits": 3, "max_qubits": 4}, "needs 5 qubits"),
    ],
)
@pytest.mark.parametrize("func", [hhl_circuit, hhl_solve])
def test_bad_input(func, A, b, kwargs, match):
    kwargs = {"clock_qubits": 3, **kwargs}
    with pytest.raises(ValueError, match=match) as info:
        func(A, b, **kwargs)
    assert func.__name__ in str(info.value) or "spectral_bounds" in str(info.value)


@pytest.mark.parametrize("kwargs, match", [({"shots": 0}, "shots must be >= 1"), ({"count_gates": 1}, "count_gates must be True or False")])
def test_bad_solve_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        hhl_solve(TEXTBOOK_A, TEXTBOOK_B, clock_qubits=3, **kwargs)


def test_bad_clock_helpers():
    with pytest.raises(ValueError, match="condition_number must be >= 1"):
        required_clock_qubits(0.5, 0.1)
    with pytest.raises(ValueError, match="accuracy must be in"):
        required_clock_qubits(2.0, 2.0)


def test_symmetric_indefinite_system_uses_the_sign_bit():
    rng = np.random.default_rng(21)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    A = (q * np.array([-2.0, -1.0, 1.5, 3.0])) @ q.T
    b = _rhs_with_negative_solution(A, 21)
    res = hhl_solve(A, b, clock_qubits=7, count_gates=False)
    assert not res.bounds.dilated and not res.bounds.definite and res.system_qubits == 2
    assert res.fidelity >= 0.99
    np.testing.assert_allclose(res.solution, res.reference, atol=0.05)


def test_sparse_right_hand_side_uses_sparse_state_preparation():
    from qiskit.circuit.library import StatePreparation

    A = _spd(8, 13)
    b = np.zeros(8)
    b[5] = -2.0
    qc = hhl_circuit(A, b, clock_qubits=5)
    prep = qc.data[0].operation
    assert prep.label == "prep b" and not isinstance(prep, StatePreparation)
    dense = hhl_circuit(A, np.arange(1.0, 9.0), clock_qubits=5)
    assert isinstance(dense.data[0].operation, StatePreparation)
    res = hhl_solve(A, b, clock_qubits=6, count_gates=False)
    assert res.fidelity >= 0.99
    np.testing.assert_allclose(res.solution, res.reference, atol=0.05)


def test_accuracy_is_met_with_the_required_clock():
    c = required_clock_qubits(spectral_bounds(TEXTBOOK_A).condition_number, 0.01)
    assert c == 9
    qc = hhl_circuit(TEXTBOOK_A, TEXTBOOK_B, clock_qubits=c, accuracy=0.01)
    assert qc.qregs[1].size == 9


# --------------------------------------------------------------------------- one HHLParameters for every stage


def test_parameter_policies():
    bounds = SpectralBounds(0.5, 2.0, True, False, "known")
    textbook = hhl_parameters(bounds, clock_qubits=5)
    assert textbook.evolution_time == pytest.approx(math.pi / 2.0, rel=1e-14)  # lambda_max at phase 1/2
    chapter8 = hhl_parameters(bounds, clock_qubits=5, headroom=PHASE_HEADROOM)
    assert chapter8.evolution_time == pytest.approx(2 * math.pi * PHASE_HEADROOM / 2.0, rel=1e-14)
    assert chapter8.headroom == PHASE_HEADROOM and chapter8.bounds is bounds
    # k_min = lambda_min t 2^c / 2 pi = 0.5 * (3 pi / 8) * 32 / (2 pi) = 3; full rotation at bin floor(3 / 2) = 1
    assert chapter8.bin_of_min == pytest.approx(3.0, rel=1e-12)
    assert chapter8.scaling == pytest.approx(1 / 32, rel=1e-14)
    assert chapter8.constant == pytest.approx(2 * math.pi * chapter8.scaling / chapter8.evolution_time, rel=1e-14)
    # a pair is the singular values of a non-symmetric matrix: dilated, signed clock
    pair = hhl_parameters((0.5, 2.0), clock_qubits=5)
    assert pair.bounds.dilated and not pair.definite and pair.bounds.method == "known"
    assert pair.evolution_time == pytest.approx(2 * math.pi * (2**4 - 1) / (2**5 * 2.0), rel=1e-14)
    assert pair.constant == pytest.approx(math.pi * pair.scaling / pair.evolution_time, rel=1e-14)
    # a Decomposition stands for its exact bounds
    dec = decompose(TEXTBOOK_A)
    assert hhl_parameters(dec, clock_qubits=3) == hhl_parameters(dec.bounds, clock_qubits=3)
    # fixed t and scaling are kept, the constant follows them
    fixed = hhl_parameters(SpectralBounds(2 / 3, 4 / 3, True, False, "exact"), clock_qubits=3, evolution_time=2 * math.pi * 3 / 8, scaling=2 / 8)
    assert (fixed.evolution_time, fixed.scaling) == (2 * math.pi * 3 / 8, 2 / 8)
    assert fixed.constant == pytest.approx(2 / 3, rel=1e-12)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fixed.scaling = 0.5


def test_parameters_warn_when_the_clock_cannot_resolve_the_smallest_modulus():
    with pytest.warns(HHLResolutionWarning, match="cannot resolve the smallest eigenvalue"):
        p = hhl_parameters((0.01, 1.0), clock_qubits=4)
    assert p.bin_of_min < 1


@pytest.mark.parametrize("kind", ["symmetric", "nonsymmetric"])
def test_parameters_replace_the_keywords_in_circuit_solve_and_model(kind):
    from qsgd.hhl import hhl_model

    A = _spd(4, 81) if kind == "symmetric" else _nonsymmetric(3, 82)
    b = _rhs_with_negative_solution(A, 83)
    dec = decompose(A)
    params = hhl_parameters(dec, clock_qubits=5, headroom=PHASE_HEADROOM)
    keywords = dict(clock_qubits=5, evolution_time=params.evolution_time, scaling=params.scaling)
    by_params = hhl_solve(A, b, parameters=params, count_gates=False)
    by_keywords = hhl_solve(A, b, count_gates=False, **keywords)
    np.testing.assert_allclose(by_params.statevector, by_keywords.statevector, atol=1e-12, rtol=0)
    assert by_params.parameters is params and by_params.bounds == params.bounds
    # the same clock given twice is not a conflict
    again = hhl_solve(A, b, parameters=params, clock_qubits=5, count_gates=False)
    np.testing.assert_array_equal(again.statevector, by_params.statevector)
    qc = hhl_circuit(A, b, parameters=params)
    assert qc.metadata["evolution_time"] == params.evolution_time and qc.metadata["scaling"] == params.scaling
    model = hhl_model(dec, b, parameters=params)
    assert model.parameters is params
    np.testing.assert_allclose(model.statevector, by_params.statevector, atol=1e-9, rtol=0)


# --------------------------------------------------------------------------- the error bound


@pytest.mark.parametrize("kind, seed", [("symmetric", 91), ("indefinite", 92), ("nonsymmetric", 93)])
def test_error_bound_holds_for_the_circuit_output(kind, seed):
    if kind == "symmetric":
        A = _spd(4, seed)
    elif kind == "indefinite":
        A = np.diag([-2.0, -0.7, 1.1, 2.5])
    else:
        A = _nonsymmetric(4, seed)
    b = _rhs_with_negative_solution(A, seed)
    dec = decompose(A)
    exact = np.linalg.solve(A, b)
    exact /= np.linalg.norm(exact)
    for c in (6, 8):
        params = hhl_parameters(dec, clock_qubits=c, headroom=PHASE_HEADROOM)
        res = hhl_solve(A, b, parameters=params, count_gates=False)
        error = float(np.linalg.norm(res.solution - exact))
        bound = hhl_error_bound(params)
        assert error <= bound * (1 + 1e-9)
        assert bound < 1.0  # informative: two unit vectors are at most 2 apart


def test_error_bound_falls_with_the_clock():
    bounds = [hhl_error_bound(hhl_parameters((0.4, 2.0), clock_qubits=c, headroom=PHASE_HEADROOM))
              for c in range(5, 10)]
    assert all(b2 < b1 for b1, b2 in zip(bounds, bounds[1:])), bounds
    # kappa 2^-c: each extra clock qubit halves it, roughly
    assert bounds[-1] < bounds[0] / 8


# --------------------------------------------------------------------------- algorithm-level model


def _model_cases():
    rng = np.random.default_rng(77)
    A_sym = _spd(4, 11)
    A_ind = np.diag([1.0, -2.0, 3.0])
    A_non = _nonsymmetric(3, 12)  # padded 3 -> 4, dilated
    A_non8 = _nonsymmetric(8, 13)
    return [
        (A_sym, rng.normal(size=4), dict(clock_qubits=5)),
        (A_ind, rng.normal(size=3), dict(clock_qubits=5)),
        (A_non, rng.normal(size=3), dict(clock_qubits=5)),
        (A_non8, np.eye(8)[0], dict(clock_qubits=4)),  # sparse right-hand side, coarse clock
        (A_non, rng.normal(size=3), dict(clock_qubits=4, evolution_time=0.7, scaling=0.05)),
        (TEXTBOOK_A, TEXTBOOK_B, dict(clock_qubits=3, evolution_time=2 * math.pi * 3 / 8, scaling=2 / 8)),
    ]


@pytest.mark.parametrize("case", range(6))
def test_model_matches_circuit_statevector(case):
    from qsgd.hhl import hhl_model

    A, b, kw = _model_cases()[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HHLResolutionWarning)
        circ = hhl_solve(A, b, rng=3, count_gates=False, **kw)
        model = hhl_model(A, b, **kw)
        model_spec = hhl_model(decompose(A), b, **kw)
    # same sign and global phase: the circuit's amplitudes are real and equal the model's
    np.testing.assert_allclose(circ.statevector, model.statevector, atol=1e-9, rtol=0)
    np.testing.assert_allclose(circ.solution, model.solution, atol=1e-9)
    np.testing.assert_allclose(circ.success_probability, model.success_probability, atol=1e-9)
    np.testing.assert_allclose(circ.solution_norm, model.solution_norm, rtol=1e-9)
    np.testing.assert_allclose(circ.fidelity, model.fidelity, atol=1e-9)
    np.testing.assert_allclose(model_spec.statevector, model.statevector, atol=1e-12)
    assert model.num_qubits == circ.num_qubits and model.system_qubits == circ.system_qubits
    assert (model.evolution_time, model.scaling) == pytest.approx((circ.evolution_time, circ.scaling), rel=1e-12)


def test_model_with_pipeline_style_known_bounds():
    from qsgd.hhl import hhl_model

    A = _nonsymmetric(6, 21)
    b = np.random.default_rng(5).normal(size=6)
    sv = np.linalg.svd(A, compute_uv=False)
    bounds = SpectralBounds(float(sv[-1]), float(sv[0]), False, True, "exact")
    kw = dict(clock_qubits=5, evolution_time=2 * math.pi * 0.375 / sv[0], scaling=0.125, eigenvalue_bounds=bounds)
    circ = hhl_solve(A, b, rng=1, count_gates=False, **kw)
    model = hhl_model(decompose(A), b, **kw)
    np.testing.assert_allclose(circ.statevector, model.statevector, atol=1e-9, rtol=0)
    # the dilation leaks into the top block because the two's complement filter is not exactly odd
    assert np.linalg.norm(model.statevector[:8]) > 0


def test_filter_is_the_ideal_reciprocal_on_clock_bins():
    from qsgd.hhl import hhl_filter

    t = 2 * math.pi * 3 / 8
    g = hhl_filter([2 / 3, 4 / 3], clock_qubits=3, evolution_time=t, scaling=2 / 8, definite=True)
    np.testing.assert_allclose(g, (2 / 3) / np.array([2 / 3, 4 / 3]), atol=1e-14)
    # off bins: |g| < C / lambda-ish and the Fejer weights sum to one (all bins rotated fully -> g = 1)
    lam = np.linspace(0.1, 2.0, 17)
    ones = hhl_filter(lam, clock_qubits=4, evolution_time=1.0, scaling=16.0, definite=True)
    assert np.all(np.abs(ones) <= 1 + 1e-12)


def test_filter_agrees_with_an_independent_sum_over_the_clock():
    """|alpha_k|^2 from the defining sum (no closed form) against the Fejer closed form."""
    from qsgd.hhl import hhl_filter, reciprocal_amplitudes

    c, t, scaling = 4, 0.9, 0.1
    lam = np.array([-2.3, -0.4, 0.37, 1.0, 2.9])
    M = 2**c
    x = np.arange(M)
    amp = reciprocal_amplitudes(c, scaling, definite=False)
    expected = []
    for value in lam:
        phi = value * t / (2 * math.pi)
        alpha = np.array([np.exp(2j * np.pi * x * (phi - k / M)).sum() / M for k in range(M)])
        expected.append(float(np.sum(np.abs(alpha) ** 2 * amp)))
    got = hhl_filter(lam, clock_qubits=c, evolution_time=t, scaling=scaling, definite=False)
    np.testing.assert_allclose(got, expected, atol=1e-12)


@pytest.mark.parametrize("definite", [True, False])
def test_reciprocal_amplitudes_match_the_gate(definite):
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import ExactReciprocalGate
    from qiskit.quantum_info import Statevector

    from qsgd.hhl import reciprocal_amplitudes

    c, scaling = 4, 3 / 16 if definite else 3 / 8
    amp = reciprocal_amplitudes(c, scaling, definite=definite)
    for k in range(2**c):
        qc = QuantumCircuit(c + 1)
        for j in range(c):
            if (k >> j) & 1:
                qc.x(j)
        qc.append(ExactReciprocalGate(c, scaling, neg_vals=not definite), range(c + 1))
        out = Statevector(qc).data
        np.testing.assert_allclose(out[k + 2**c], amp[k], atol=1e-12)


def test_model_shots_are_reproducible_and_converge():
    from qsgd.hhl import hhl_model

    A = _nonsymmetric(4, 31)
    b = _rhs_with_negative_solution(A, 32)
    exact = hhl_model(A, b, clock_qubits=6)
    r1 = hhl_model(A, b, clock_qubits=6, shots=200_000, rng=5)
    r2 = hhl_model(A, b, clock_qubits=6, shots=200_000, rng=5)
    np.testing.assert_array_equal(r1.counts, r2.counts)
    assert r1.counts.sum() == round(r1.sampled_probability * 200_000)
    np.testing.assert_allclose(r1.sampled_probability, exact.success_probability, atol=5e-3)
    # the sign-fixed sampled estimate matches the exact output up to the overall sign
    ref = exact.solution * np.sign(exact.solution[np.argmax(np.abs(exact.solution))])
    np.testing.assert_allclose(r1.sampled_solution, ref, atol=0.02)
    assert np.any(r1.sampled_solution < 0)
    assert exact.counts is None and exact.sampled_solution is None


def test_model_large_dimension_is_accurate():
    from qsgd.hhl import hhl_model

    A = _nonsymmetric(300, 41)  # padded to 512, dilated: 10 system qubits
    b = np.random.default_rng(42).normal(size=300)
    spec = decompose(A)
    res = hhl_model(spec, b, clock_qubits=12)
    assert res.system_qubits == 10 and res.num_qubits == 23
    assert res.fidelity > 0.999
    np.testing.assert_allclose(res.reference, np.linalg.solve(A, b) / np.linalg.norm(np.linalg.solve(A, b)), atol=1e-10)


def test_model_bad_input():
    from qsgd.hhl import hhl_filter, hhl_model, reciprocal_amplitudes

    with pytest.raises(ValueError, match="hhl_model: shots"):
        hhl_model(TEXTBOOK_A, TEXTBOOK_B, clock_qubits=3, shots=0)
    with pytest.raises(ValueError, match="hhl_model: b"):
        hhl_model(TEXTBOOK_A, [1.0, 2.0, 3.0], clock_qubits=3)
    with pytest.raises(ValueError, match="hhl_model: clock_qubits=1 is too few"):
        hhl_model(_nonsymmetric(2, 1), [1.0, 0.0], clock_qubits=1)
    with pytest.raises(ValueError, match="hhl_model: A"):
        hhl_model("matrix", [1.0, 0.0], clock_qubits=3)
    with pytest.raises(ValueError, match="hhl_model: eigenvalue_bounds"):
        hhl_model(decompose(TEXTBOOK_A), TEXTBOOK_B, clock_qubits=3, eigenvalue_bounds="gershgorin")
    with pytest.raises(ValueError, match="hhl_model: A is a Decomposition of values only"):
        hhl_model(decompose(TEXTBOOK_A, vectors=False), TEXTBOOK_B, clock_qubits=3)
    with pytest.raises(ValueError, match="hhl_model: A is singular"):
        hhl_model([[1.0, 1.0], [1.0, 1.0]], TEXTBOOK_B, clock_qubits=3)
    with pytest.raises(ValueError, match="hhl_filter: eigenvalues"):
        hhl_filter([np.nan], clock_qubits=3, evolution_time=1.0, scaling=0.1, definite=True)
    with pytest.raises(ValueError, match="reciprocal_amplitudes: scaling"):
        reciprocal_amplitudes(3, -1.0, definite=True)


# --------------------------------------------------------------------------- spectral construction


@pytest.mark.parametrize("case", range(6))
def test_spectral_construction_matches_dense(case):
    A, b, kw = _model_cases()[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HHLResolutionWarning)
        dense = hhl_solve(A, b, rng=3, count_gates=False, construction="dense", **kw)
        fast = hhl_solve(A, b, rng=3, count_gates=False, construction="spectral", **kw)
    np.testing.assert_allclose(fast.statevector, dense.statevector, atol=1e-9, rtol=0)
    np.testing.assert_allclose(fast.success_probability, dense.success_probability, atol=1e-9)
    assert fast.num_qubits == dense.num_qubits


@pytest.mark.parametrize("symmetric", [True, False])
def test_spectral_construction_is_the_same_unitary(symmetric):
    from qiskit.quantum_info import Operator

    A = _spd(2, 51) if symmetric else _nonsymmetric(2, 52)
    b = np.array([0.6, -0.8])
    dense = Operator(hhl_circuit(A, b, clock_qubits=3, construction="dense")).data
    fast_qc = hhl_circuit(A, b, clock_qubits=3)
    assert fast_qc.metadata["construction"] == "spectral"  # the default
    np.testing.assert_allclose(Operator(fast_qc).data, dense, atol=1e-9)


def test_aer_form_of_the_spectral_circuit_gives_the_same_state(monkeypatch):
    """The Aer-native rewrite (initialize, diagonal for the UCRY, h/cp/swap) against the circuit itself."""
    from qiskit.quantum_info import Statevector

    from qsgd.hhl.solve import _for_aer

    A = _nonsymmetric(3, 61)
    b = np.array([0.3, -1.0, 0.5])
    qc = hhl_circuit(A, b, clock_qubits=4, construction="spectral")
    aer_qc = _for_aer(qc)
    assert {inst.operation.name for inst in aer_qc.data} <= {"initialize", "h", "cp", "diagonal", "s", "sdg", "unitary"}
    np.testing.assert_allclose(Statevector(aer_qc).data, Statevector(qc).data, atol=1e-12)
    # the clock-controlled diagonals multiplied in groups of every size give the same state
    for size in (3, 4, 5, 20):
        monkeypatch.setattr("qsgd.hhl.solve.AER_DIAGONAL_QUBITS", size)
        np.testing.assert_allclose(Statevector(_for_aer(qc)).data, Statevector(qc).data, atol=1e-12)
    dense = hhl_circuit(A, b, clock_qubits=4, construction="dense")
    assert _for_aer(dense) is dense


def test_spectral_shots_recover_signs():
    A = _nonsymmetric(4, 71)
    b = _rhs_with_negative_solution(A, 72)
    exact = hhl_solve(A, b, clock_qubits=6, rng=1, count_gates=False, construction="spectral")
    res = hhl_solve(A, b, clock_qubits=6, shots=50_000, rng=2, count_gates=False, construction="spectral")
    ref = exact.solution * np.sign(exact.solution[np.argmax(np.abs(exact.solution))])
    np.testing.assert_allclose(res.solution, ref, atol=0.03)
    np.testing.assert_allclose(res.success_probability, exact.success_probability, atol=0.01)


def test_bad_construction():
    with pytest.raises(ValueError, match="hhl_circuit: construction"):
        hhl_circuit(TEXTBOOK_A, TEXTBOOK_B, clock_qubits=3, construction="sparse")
    with pytest.raises(ValueError, match="hhl_solve: construction"):
        hhl_solve(TEXTBOOK_A, TEXTBOOK_B, clock_qubits=3, construction=None)


# --------------------------------------------------------------------------- gate-count formulas


def _cx(qc):
    from qiskit import transpile

    return int(transpile(qc, basis_gates=["cx", "u"], optimization_level=0).count_ops().get("cx", 0))


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_unitary_and_diagonal_formulas_match_transpile_of_generic_gates(n):
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import DiagonalGate, StatePreparation, UnitaryGate
    from qiskit.quantum_info import random_unitary

    from qsgd.hhl import hhl_cx_count, unitary_cx

    qc = QuantumCircuit(n)
    qc.append(UnitaryGate(random_unitary(2**n, seed=n)), range(n))
    assert _cx(qc) == unitary_cx(n)
    rng = np.random.default_rng(n)
    diag = QuantumCircuit(n + 1)
    diag.append(DiagonalGate(np.exp(1j * rng.uniform(0, 2 * np.pi, 2 ** (n + 1))).tolist()), range(n + 1))
    count = hhl_cx_count(n, 3)
    assert _cx(diag) * 2 * 3 == count.controlled_phases
    prep = QuantumCircuit(n)
    vec = rng.normal(size=2**n)
    prep.append(StatePreparation(vec / np.linalg.norm(vec)), range(n))
    assert _cx(prep) == count.state_preparation


@pytest.mark.parametrize("c", [2, 3, 4, 5, 6])
def test_clock_formulas_match_transpile(c):
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import PermutationGate, QFTGate, UCRYGate

    from qsgd.hhl import hhl_cx_count

    count = hhl_cx_count(2, c)
    qc = QuantumCircuit(c)
    qc.append(QFTGate(c).inverse(), range(c))
    qc.append(PermutationGate(list(reversed(range(c)))), range(c))
    qc.append(PermutationGate(list(reversed(range(c)))), range(c))
    qc.append(QFTGate(c), range(c))
    assert _cx(qc) == count.fourier
    ucry = QuantumCircuit(c + 1)
    ucry.append(UCRYGate(np.random.default_rng(c).uniform(-3, 3, 2**c).tolist()), range(c + 1))
    assert _cx(ucry) == count.reciprocal


@pytest.mark.parametrize(
    "A, b, c",
    [
        (_spd(4, 2), np.arange(1.0, 5.0), 4),
        (_nonsymmetric(3, 3), np.array([1.0, -2.0, 0.5]), 4),
        (_nonsymmetric(8, 6), np.eye(8)[0], 4),
        (np.diag([1.0, -2.0, 3.0, 4.0]), np.ones(4), 4),
    ],
)
def test_total_formula_bounds_the_transpiled_circuit(A, b, c):
    from qsgd.hhl import hhl_cx_count, state_preparation_cx

    problem = setup(A, b, clock_qubits=c, evolution_time=None, scaling=None, eigenvalue_bounds=None,
                     accuracy=None, max_qubits=24, func="test")
    qc = hhl_circuit(A, b, clock_qubits=c, construction="spectral")
    count = hhl_cx_count(problem.system_qubits, c, state_preparation=state_preparation_cx(problem.rhs))
    actual = _cx(qc)
    # everything but the real-orthogonal basis change is exact; that one saves at most 4 CX here
    assert count.total - 8 <= actual <= count.total


def test_gate_count_bad_input():
    from qsgd.hhl import hhl_cx_count, state_preparation_cx, unitary_cx

    with pytest.raises(ValueError, match="hhl_cx_count: system_qubits"):
        hhl_cx_count(0, 3)
    with pytest.raises(ValueError, match="hhl_cx_count: state_preparation"):
        hhl_cx_count(2, 3, state_preparation=-1)
    with pytest.raises(ValueError, match="unitary_cx: num_qubits"):
        unitary_cx(0)
    with pytest.raises(ValueError, match="state_preparation_cx: rhs must have a power-of-two length"):
        state_preparation_cx([1.0, 0.0, 0.0])


# --------------------------------------------------------------------------- bad-input catalogue

from qsgd.hhl import (  # noqa: E402
    BOUNDS_RTOL,
    hhl_cx_count,
    hhl_filter,
    hhl_model,
    reciprocal_amplitudes,
    state_preparation_cx,
    unitary_cx,
)

_TB = SpectralBounds(2 / 3, 4 / 3, True, False, "exact")
_A, _b = TEXTBOOK_A, TEXTBOOK_B
_FILTER = dict(clock_qubits=3, evolution_time=1.0, scaling=0.25, definite=True)
_PARAMS = hhl_parameters(_TB, clock_qubits=3)

#: name -> (call, expected exception, words the message must contain)
BAD_INPUT = {
    "hp zero clock": (lambda: hhl_parameters(_TB, clock_qubits=0), ValueError,
                      ["hhl_parameters", "clock_qubits", ">= 1", "0"]),
    "hp one clock indefinite": (lambda: hhl_parameters(SpectralBounds(1, 2, False, True, "known"), clock_qubits=1),
                                ValueError, ["hhl_parameters", "clock_qubits=1", "at least 2"]),
    "hp one clock pair": (lambda: hhl_parameters((1, 2), clock_qubits=1), ValueError,
                          ["hhl_parameters", "clock_qubits=1", "dilated"]),
    "hp negative time": (lambda: hhl_parameters(_TB, clock_qubits=3, evolution_time=-1), ValueError,
                         ["hhl_parameters", "evolution_time", "-1"]),
    "hp None bounds": (lambda: hhl_parameters(None, clock_qubits=3), ValueError,
                       ["hhl_parameters", "bounds", "SpectralBounds", "None"]),
    "hp string bounds": (lambda: hhl_parameters("exact", clock_qubits=3), ValueError,
                         ["hhl_parameters", "bounds", "SpectralBounds", "Decomposition", "(lower, upper)", "'exact'"]),
    "hp three bounds": (lambda: hhl_parameters((1, 2, 3), clock_qubits=3), ValueError,
                        ["hhl_parameters", "bounds", "(lower, upper)", "(1, 2, 3)"]),
    "hp array bounds": (lambda: hhl_parameters(np.eye(2), clock_qubits=3), ValueError,
                        ["hhl_parameters", "bounds", "ndarray of shape (2, 2)"]),
    "hp reversed pair": (lambda: hhl_parameters((2.0, 1.0), clock_qubits=3), ValueError,
                         ["hhl_parameters", "lower <= upper", "lower=2.0"]),
    "hp headroom 0.5": (lambda: hhl_parameters(_TB, clock_qubits=3, headroom=0.5), ValueError,
                        ["hhl_parameters", "headroom", "(0, 1/2)", "0.5"]),
    "hp headroom 0": (lambda: hhl_parameters(_TB, clock_qubits=3, headroom=0.0), ValueError,
                      ["hhl_parameters", "headroom", "> 0"]),
    "hp margin 0.5": (lambda: hhl_parameters(_TB, clock_qubits=3, margin=0.5), ValueError,
                      ["hhl_parameters", "margin", ">= 1", "0.5"]),
    "hp wrapping time": (lambda: hhl_parameters(_TB, clock_qubits=3, evolution_time=10.0), ValueError,
                         ["hhl_parameters", "evolution_time=10", "wraps"]),
    "hp scaling above 1": (lambda: hhl_parameters(_TB, clock_qubits=3, scaling=2.0), ValueError,
                           ["hhl_parameters", "scaling", "(0, 1]", "2.0"]),
    "hp unmet accuracy": (lambda: hhl_parameters(_TB, clock_qubits=3, accuracy=0.01), ValueError,
                          ["hhl_parameters", "accuracy=0.01", "need at least 9 clock qubits"]),
    "bound not parameters": (lambda: hhl_error_bound((0.5, 1.0)), ValueError,
                             ["hhl_error_bound", "parameters", "HHLParameters", "(0.5, 1.0)"]),
    "bound None": (lambda: hhl_error_bound(None), ValueError, ["hhl_error_bound", "parameters", "None"]),
    "estimate 40-qubit clock": (lambda: hhl_error_estimate(hhl_parameters((0.5, 1.0), clock_qubits=40)), ValueError,
                                ["hhl_error_estimate", "grid", "points_per_bin=64"]),
    "estimate few points": (lambda: hhl_error_estimate(_PARAMS, points_per_bin=2), ValueError,
                            ["hhl_error_estimate", "points_per_bin", ">= 4"]),
    "estimate eigenvalues outside": (lambda: hhl_error_estimate(_PARAMS, eigenvalues=[0.5, 1.0]), ValueError,
                                     ["hhl_error_estimate", "eigenvalues", "[0.666667, 1.33333]"]),
    "solve parameters and time": (
        lambda: hhl_solve(_A, _b, parameters=_PARAMS, evolution_time=1.0, count_gates=False), ValueError,
        ["hhl_solve", "parameters=", "evolution_time", "not both"]),
    "solve parameters and other clock": (
        lambda: hhl_solve(_A, _b, parameters=_PARAMS, clock_qubits=4, count_gates=False), ValueError,
        ["hhl_solve", "parameters=", "clock_qubits", "not both"]),
    "solve parameters of a tuple": (lambda: hhl_solve(_A, _b, parameters=(1.0, 2.0), count_gates=False), ValueError,
                                    ["hhl_solve", "parameters", "HHLParameters", "(1.0, 2.0)"]),
    "solve parameters miss the spectrum": (
        lambda: hhl_solve(_A, _b, parameters=hhl_parameters((1.0, 2.0), clock_qubits=3), count_gates=False),
        ValueError, ["hhl_solve", "do not enclose", "0.666667"]),
    "circuit parameters and scaling": (lambda: hhl_circuit(_A, _b, parameters=_PARAMS, scaling=0.25), ValueError,
                                       ["hhl_circuit", "parameters=", "scaling", "not both"]),
    "model parameters and accuracy": (lambda: hhl_model(_A, _b, parameters=_PARAMS, accuracy=0.1), ValueError,
                                      ["hhl_model", "parameters=", "accuracy", "not both"]),
    "rcq definite None": (lambda: required_clock_qubits(2.0, 0.5, definite=None), ValueError,
                          ["required_clock_qubits", "definite"]),
    "rcq absurd": (lambda: required_clock_qubits(1e300, 1e-300), ValueError,
                   ["required_clock_qubits", "clock qubits"]),
    "circuit 2^20 identity": (lambda: hhl_circuit(sp.identity(2**20, format="csr"), np.ones(2**20), clock_qubits=5),
                              ValueError, ["hhl_circuit", "26 qubits", "max_qubits=24"]),
    "circuit huge sparse within qubits": (
        lambda: hhl_circuit(sp.identity(2**20, format="csr"), np.ones(2**20), clock_qubits=3), ValueError,
        ["hhl_circuit", "(1048576, 1048576)", "GiB", "max_bytes"]),
    "solve bounds miss the spectrum": (
        lambda: hhl_solve(_A, _b, clock_qubits=3, eigenvalue_bounds=(10, 20), count_gates=False), ValueError,
        ["hhl_solve", "eigenvalue_bounds", "enclose", "0.666667", "1.33333"]),
    "solve SpectralBounds miss the spectrum": (
        lambda: hhl_solve(_A, _b, clock_qubits=3, eigenvalue_bounds=SpectralBounds(1, 2, True, False, "known"),
                          count_gates=False), ValueError, ["hhl_solve", "eigenvalue_bounds", "enclose"]),
    "solve singular": (lambda: hhl_solve([[1, 1], [1, 1]], _b, clock_qubits=3, count_gates=False), ValueError,
                       ["hhl_solve", "singular"]),
    "solve bad method": (lambda: hhl_solve(_A, _b, clock_qubits=3, eigenvalue_bounds="foo", count_gates=False),
                         ValueError, ["hhl_solve", "eigenvalue_bounds", "foo"]),
    "solve 3 bounds": (lambda: hhl_solve(_A, _b, clock_qubits=3, eigenvalue_bounds=(1, 2, 3), count_gates=False),
                       ValueError, ["hhl_solve", "eigenvalue_bounds", "(lower, upper)"]),
    "solve nan bound": (lambda: hhl_solve(_A, _b, clock_qubits=3, eigenvalue_bounds=(np.nan, 2), count_gates=False),
                        ValueError, ["hhl_solve", "eigenvalue_bounds[0]", "nan"]),
    "solve huge int bound": (
        lambda: hhl_solve(_A, _b, clock_qubits=3, eigenvalue_bounds=(0.5, 10**400), count_gates=False), ValueError,
        ["hhl_solve", "eigenvalue_bounds[1]", "bits"]),
    "solve huge int scaling": (lambda: hhl_solve(_A, _b, clock_qubits=3, scaling=10**400, count_gates=False),
                               ValueError, ["hhl_solve", "scaling", "bits"]),
    "solve string rng": (lambda: hhl_solve(_A, _b, clock_qubits=3, rng="x", count_gates=False), ValueError,
                         ["hhl_solve", "rng"]),
    "solve float shots": (lambda: hhl_solve(_A, _b, clock_qubits=3, shots=10.5, count_gates=False), ValueError,
                          ["hhl_solve", "shots", "integer"]),
    "solve absurd shots": (lambda: hhl_solve(_A, _b, clock_qubits=3, shots=10**15, count_gates=False), ValueError,
                           ["hhl_solve", "shots", "<="]),
    "solve absurd clock": (lambda: hhl_solve(_A, _b, clock_qubits=10**9, count_gates=False), ValueError,
                           ["hhl_solve", "qubits", "max_qubits"]),
    "solve None clock": (lambda: hhl_solve(_A, _b, clock_qubits=None, count_gates=False), ValueError,
                         ["hhl_solve", "clock_qubits", "required", "parameters=HHLParameters"]),
    "solve complex b": (lambda: hhl_solve(_A, [1j, 0], clock_qubits=3, count_gates=False), ValueError,
                        ["hhl_solve", "b", "real"]),
    "solve scaling above 1": (lambda: hhl_solve(_A, _b, clock_qubits=3, scaling=5.0, count_gates=False), ValueError,
                              ["hhl_solve", "scaling", "(0, 1]"]),
    "solve count_gates": (lambda: hhl_solve(_A, _b, clock_qubits=3, count_gates="yes"), ValueError,
                          ["hhl_solve", "count_gates"]),
    "solve small max_bytes": (lambda: hhl_solve(_A, _b, clock_qubits=3, count_gates=False, max_bytes=100), ValueError,
                              ["hhl_solve", "max_bytes"]),
    "model bounds miss the spectrum": (
        lambda: hhl_model(_A, _b, clock_qubits=3, eigenvalue_bounds=(10, 20)), ValueError,
        ["hhl_model", "eigenvalue_bounds", "enclose"]),
    "model spectrum bounds miss": (
        lambda: hhl_model(decompose(_A), _b, clock_qubits=3, eigenvalue_bounds=(0.7, 1.4)), ValueError,
        ["hhl_model", "eigenvalue_bounds", "enclose"]),
    "model huge clock": (lambda: hhl_model(_A, _b, clock_qubits=40), ValueError,
                         ["hhl_model", "40-qubit clock", "GiB", "max_bytes"]),
    "model absurd clock": (lambda: hhl_model(_A, _b, clock_qubits=10**9), ValueError,
                           ["hhl_model", "clock_qubits", "<= 62"]),
    "model huge A": (lambda: hhl_model(sp.identity(30000, format="csr"), np.ones(30000), clock_qubits=3), ValueError,
                     ["hhl_model", "(30000, 30000)", "GiB", "max_bytes"]),
    "model singular": (lambda: hhl_model([[1, 1], [1, 1]], _b, clock_qubits=3), ValueError,
                       ["hhl_model", "singular"]),
    "model None b": (lambda: hhl_model(_A, None, clock_qubits=3), ValueError, ["hhl_model", "b", "None"]),
    "model float rng": (lambda: hhl_model(_A, _b, clock_qubits=3, rng=1.5), ValueError, ["hhl_model", "rng"]),
    "model negative time": (lambda: hhl_model(_A, _b, clock_qubits=3, evolution_time=-1), ValueError,
                            ["hhl_model", "evolution_time"]),
    "model values-only decomposition": (lambda: hhl_model(decompose(_A, vectors=False), _b, clock_qubits=3),
                                        ValueError, ["hhl_model", "values only", "vectors"]),
    "ra zero clock": (lambda: reciprocal_amplitudes(0, 0.25, definite=True), ValueError,
                      ["reciprocal_amplitudes", "clock_qubits", ">= 1"]),
    "ra huge clock": (lambda: reciprocal_amplitudes(40, 0.25, definite=True), ValueError,
                      ["reciprocal_amplitudes", "GiB", "max_bytes"]),
    "ra definite None": (lambda: reciprocal_amplitudes(3, 0.25, definite=None), ValueError,
                         ["reciprocal_amplitudes", "definite"]),
    "ra string scaling": (lambda: reciprocal_amplitudes(3, "a", definite=True), ValueError,
                          ["reciprocal_amplitudes", "scaling"]),
    "filter nan": (lambda: hhl_filter([np.nan], **_FILTER), ValueError, ["hhl_filter", "eigenvalues", "finite"]),
    "filter None": (lambda: hhl_filter(None, **_FILTER), ValueError, ["hhl_filter", "eigenvalues", "None"]),
    "filter complex": (lambda: hhl_filter([1j], **_FILTER), ValueError, ["hhl_filter", "eigenvalues", "real"]),
    "filter string": (lambda: hhl_filter("1", **_FILTER), ValueError, ["hhl_filter", "eigenvalues", "string"]),
    "filter empty": (lambda: hhl_filter([], **_FILTER), ValueError, ["hhl_filter", "eigenvalues", "empty"]),
    "filter huge clock": (lambda: hhl_filter([1.0], **{**_FILTER, "clock_qubits": 40}), ValueError,
                          ["hhl_filter", "GiB", "max_bytes"]),
    "filter inf time": (lambda: hhl_filter([1.0], **{**_FILTER, "evolution_time": np.inf}), ValueError,
                        ["hhl_filter", "evolution_time", "inf"]),
    "unitary_cx absurd": (lambda: unitary_cx(10**9), ValueError, ["unitary_cx", "num_qubits", "<= 1024"]),
    "unitary_cx string": (lambda: unitary_cx("3"), ValueError, ["unitary_cx", "num_qubits", "integer"]),
    "cx zero system": (lambda: hhl_cx_count(0, 3), ValueError, ["hhl_cx_count", "system_qubits", ">= 1"]),
    "cx absurd clock": (lambda: hhl_cx_count(2, 10**9), ValueError, ["hhl_cx_count", "clock_qubits", "<= 1024"]),
    "cx negative prep": (lambda: hhl_cx_count(2, 3, state_preparation=-1), ValueError,
                         ["hhl_cx_count", "state_preparation"]),
    "spcx length 3": (lambda: state_preparation_cx([1, 1, 1]), ValueError,
                      ["state_preparation_cx", "rhs", "power-of-two"]),
    "spcx zero": (lambda: state_preparation_cx([0, 0]), ValueError, ["state_preparation_cx", "rhs", "zero"]),
    "spcx huge": (lambda: state_preparation_cx(np.ones(2**25)), ValueError, ["state_preparation_cx", "rhs", "2**24"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, refuses):
    call, exc, words = BAD_INPUT[case]
    refuses(call, exc, words)


def test_given_bounds_within_the_tolerance_are_accepted():
    # bounds that enclose the spectrum, or miss it by less than BOUNDS_RTOL, change nothing
    loose = hhl_model(_A, _b, clock_qubits=4, eigenvalue_bounds=(0.5, 2.0))
    assert loose.bounds.lower == 0.5 and loose.bounds.upper == 2.0
    tight = (2 / 3 * (1 + BOUNDS_RTOL / 2), 4 / 3 * (1 - BOUNDS_RTOL / 2))
    res = hhl_solve(_A, _b, clock_qubits=3, eigenvalue_bounds=tight, count_gates=False)
    exact = hhl_solve(_A, _b, clock_qubits=3, count_gates=False)
    assert res.fidelity == pytest.approx(exact.fidelity, abs=1e-5)
    with pytest.raises(ValueError, match="enclose"):
        hhl_solve(_A, _b, clock_qubits=3, eigenvalue_bounds=(2 / 3 * (1 + 2 * BOUNDS_RTOL), 4 / 3), count_gates=False)


def test_sign_convention_is_reported():
    # x = A^{-1} b has a negative largest entry: exact mode keeps it, shots make it positive
    A = np.diag([1.0, 2.0])
    b = np.array([-1.0, 0.2])  # x = (-1, 0.1)
    exact = hhl_solve(A, b, clock_qubits=4, count_gates=False)
    assert exact.sign_convention == "circuit"
    assert exact.solution[0] < 0 and np.dot(exact.solution, exact.reference) > 0.99
    sampled = hhl_solve(A, b, clock_qubits=4, shots=4000, rng=3, count_gates=False)
    assert sampled.sign_convention == "largest entry positive"
    assert sampled.solution[0] > 0 and np.dot(sampled.solution, sampled.reference) < -0.99
    model = hhl_model(A, b, clock_qubits=4, shots=4000, rng=3)
    assert model.sign_convention == "circuit" and model.solution[0] < 0 and model.sampled_solution[0] > 0


def test_definite_bounds_for_an_indefinite_matrix_are_refused():
    A = np.diag([1.0, -2.0])
    wrong = SpectralBounds(1.0, 2.0, True, False, "known")
    for call in (lambda: hhl_solve(A, [1.0, 1.0], clock_qubits=4, eigenvalue_bounds=wrong, count_gates=False),
                 lambda: hhl_model(A, [1.0, 1.0], clock_qubits=4, eigenvalue_bounds=wrong)):
        with pytest.raises(ValueError, match="positive definite"):
            call()
    # the honest bounds (indefinite) work
    res = hhl_model(A, [1.0, 1.0], clock_qubits=6, eigenvalue_bounds=SpectralBounds(1.0, 2.0, False, False, "known"))
    assert res.fidelity > 0.99


# --------------------------------------------------------------------------- a given decomposition instead of a new one

from unittest import mock  # noqa: E402

import scipy.linalg  # noqa: E402


def _same_result(a, b):
    np.testing.assert_allclose(a.solution, b.solution, rtol=0, atol=1e-12)
    assert a.success_probability == pytest.approx(b.success_probability, rel=0, abs=1e-12)
    assert (a.evolution_time, a.scaling, a.bounds) == (b.evolution_time, b.scaling, b.bounds)


@pytest.mark.parametrize("shots", [None, 3000])
@pytest.mark.parametrize("construction", ["dense", "spectral"])
@pytest.mark.parametrize("kind", ["symmetric", "nonsymmetric"])
def test_decomposition_gives_the_result_of_its_bounds_without_a_new_one(kind, construction, shots):
    A = _spd(4, 1) if kind == "symmetric" else _nonsymmetric(3, 2)
    b = np.arange(1.0, A.shape[0] + 1)
    dec = decompose(A)
    kw = dict(clock_qubits=5, shots=shots, rng=4, construction=construction, count_gates=False)
    # every routine decompose may call for singular values or eigenvalues of A
    with mock.patch("numpy.linalg.svd", wraps=np.linalg.svd) as svd, \
            mock.patch("numpy.linalg.eigvalsh", wraps=np.linalg.eigvalsh) as eigvalsh, \
            mock.patch("scipy.linalg.svd", wraps=scipy.linalg.svd) as full_svd:

        def calls():
            return svd.call_count + eigvalsh.call_count + full_svd.call_count

        given = hhl_solve(A, b, decomposition=dec, **kw)
        assert calls() == 0
        with_bounds = hhl_solve(A, b, decomposition=dec, eigenvalue_bounds=dec.bounds, **kw)
        assert calls() == 0
        classic = hhl_solve(A, b, eigenvalue_bounds=dec.bounds, **kw)
        assert calls() == 1  # one values-only decomposition: the singularity check and the check of the bounds
    _same_result(given, classic)
    _same_result(with_bounds, classic)
    if shots is None:
        np.testing.assert_allclose(given.statevector, classic.statevector, rtol=0, atol=1e-12)


def test_decomposition_checks_given_bounds_and_circuit_takes_it():
    A = _nonsymmetric(3, 5)
    dec = decompose(A)
    sv = np.linalg.svd(A, compute_uv=False)
    with pytest.raises(ValueError, match="do not enclose"):
        hhl_solve(A, [1.0, 0.0, 0.0], clock_qubits=4, decomposition=dec, count_gates=False,
                  eigenvalue_bounds=(sv[-1] * 1.01, sv[0]))
    loose = hhl_circuit(A, [1.0, 0.0, 0.0], clock_qubits=4, decomposition=dec,
                        eigenvalue_bounds=(sv[-1] / 2, 2 * sv[0]))
    assert loose.metadata["evolution_time"] == hhl_circuit(A, [1.0, 0.0, 0.0], clock_qubits=4,
                                                           eigenvalue_bounds=(sv[-1] / 2, 2 * sv[0])).metadata[
                                                               "evolution_time"]
    gersh = hhl_circuit(TEXTBOOK_A, TEXTBOOK_B, clock_qubits=3, decomposition=decompose(TEXTBOOK_A),
                        eigenvalue_bounds="gershgorin")
    assert gersh.metadata["scaling"] == hhl_circuit(TEXTBOOK_A, TEXTBOOK_B, clock_qubits=3,
                                                    eigenvalue_bounds="gershgorin").metadata["scaling"]


def test_decomposition_tolerance_is_relative_to_each_modulus():
    A = _nonsymmetric(3, 6)
    dec = decompose(A)

    def nudged(rtol):
        values = dec.values * (1 + np.array([0.0, 0.0, rtol]))
        return Decomposition(values=values, left=dec.left, right=dec.right, shape=(3, 3), symmetric=False,
                             method="svd")

    hhl_circuit(A, [1.0, 1.0, 1.0], clock_qubits=4, decomposition=nudged(0.5 * SPECTRUM_RTOL))
    with pytest.raises(ValueError, match="does not describe A"):
        hhl_circuit(A, [1.0, 1.0, 1.0], clock_qubits=4, decomposition=nudged(3 * SPECTRUM_RTOL))


_NS = _nonsymmetric(3, 2)
_SINGULAR = np.diag([1.0, 0.0])
# a hand-made decomposition of the singular matrix above (decompose refuses to make one)
_SINGULAR_DEC = Decomposition(values=np.array([0.0, 1.0]), left=np.eye(2)[:, ::-1], right=None, shape=(2, 2),
                              symmetric=True, method="eigh")
BAD_DECOMPOSITION = {
    "not a decomposition": (lambda: hhl_solve(_NS, [1, 0, 0], clock_qubits=4, decomposition=(1.0, 2.0)),
                            ["hhl_solve", "decomposition", "Decomposition", "(1.0, 2.0)"]),
    "wrong size": (lambda: hhl_solve(_NS, [1, 0, 0], clock_qubits=4, decomposition=decompose(_nonsymmetric(4, 2))),
                   ["hhl_solve", "4x4 matrix", "A has shape (3, 3)"]),
    "eigen for non-symmetric": (
        lambda: hhl_circuit(_NS, [1, 0, 0], clock_qubits=4, decomposition=decompose(np.eye(3))),
        ["hhl_circuit", "is an eigendecomposition", "A is not symmetric"]),
    "svd for symmetric": (lambda: hhl_circuit(TEXTBOOK_A, TEXTBOOK_B, clock_qubits=3,
                                              decomposition=decompose(np.array([[1.0, 0.5], [0.0, 1.0]]))),
                          ["hhl_circuit", "is a singular-value decomposition", "A is symmetric"]),
    "of another matrix": (lambda: hhl_solve(_NS, [1, 0, 0], clock_qubits=4, decomposition=decompose(2 * _NS)),
                          ["hhl_solve", "the decomposition does not describe A", "relative tolerance"]),
    "values only": (lambda: hhl_solve(_NS, [1, 0, 0], clock_qubits=4, decomposition=decompose(_NS, vectors=False)),
                    ["hhl_solve", "values only", "vectors"]),
    "of a singular matrix": (lambda: hhl_solve(_SINGULAR, [1, 1], clock_qubits=3, decomposition=_SINGULAR_DEC),
                             ["hhl_solve", "singular"]),
    "model of a singular matrix": (lambda: hhl_model(_SINGULAR_DEC, [1, 1], clock_qubits=3),
                                   ["hhl_model", "singular"]),
}
@pytest.mark.parametrize("case", list(BAD_DECOMPOSITION))
def test_bad_decomposition_catalogue(case, refuses):
    call, words = BAD_DECOMPOSITION[case]
    refuses(call, ValueError, words)


def test_model_sampling_is_the_tomography_estimator():
    from qsgd.tomography import amplitudes_from_pair_counts, hadamard_pair_counts

    A, b = _nonsymmetric(3, 7), np.array([1.0, -2.0, 0.5])
    res = hhl_model(A, b, clock_qubits=5, shots=5000, rng=9)
    table = hadamard_pair_counts(res.statevector, 5000, rng=9)
    np.testing.assert_array_equal(res.counts, table[0])
    est = amplitudes_from_pair_counts(table)[4:7]
    est = est * np.sign(est[np.argmax(np.abs(est))])
    np.testing.assert_array_equal(res.sampled_solution, est / np.linalg.norm(est))


# ------------------------------------------- the right-hand side's preparation: the cheaper circuit


def _rhs(n, s, seed):
    rng = np.random.default_rng(seed)
    vec = np.zeros(2**n)
    vec[rng.choice(2**n, size=s, replace=False)] = rng.normal(size=s)
    return vec / np.linalg.norm(vec)


@pytest.mark.parametrize(("n", "s"), [(3, 3), (4, 8), (5, 8), (6, 6), (6, 16), (6, 32), (7, 16)])
def test_state_preparation_takes_the_cheaper_circuit(n, s):
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import StatePreparation
    from qiskit.quantum_info import Statevector

    from qsgd.hhl.circuit import state_preparation
    from qsgd.upload import cnot_count, dense_cnot_count, sparse_state_preparation

    vec = _rhs(n, s, seed=10 * n + s)
    gate = state_preparation(vec)
    qc = QuantumCircuit(n)
    qc.append(gate, range(n))
    np.testing.assert_allclose(Statevector(qc).data, vec, atol=1e-10)
    assert gate.label == "prep b"
    sparse = cnot_count(sparse_state_preparation(vec), optimization_level=0)
    chosen = cnot_count(qc, optimization_level=0)
    assert chosen == min(sparse, dense_cnot_count(n))
    assert isinstance(gate, StatePreparation) == (sparse > dense_cnot_count(n))
    assert state_preparation_cx(vec) == chosen


def test_state_preparation_sparse_at_six_qubits_and_sixteen_non_zeros():
    # s n_q = 96 > 2**6: a fixed rule took the dense circuit (57 CX) where the sparse one is cheaper
    from qiskit.circuit.library import StatePreparation

    from qsgd.hhl.circuit import state_preparation

    vec = _rhs(6, 16, seed=60 + 16)
    assert not isinstance(state_preparation(vec), StatePreparation)
    assert state_preparation_cx(vec) < 57
