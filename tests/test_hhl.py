"""Tests for qsgd.hhl: HHL circuits against NumPy solutions (chapter 4)."""

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from qsgd.hhl import (
    HHLResolutionWarning,
    SpectralBounds,
    _phase_estimation,
    _setup,
    choose_parameters,
    hhl_circuit,
    hhl_solve,
    required_clock_qubits,
    spectral_bounds,
)

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
    t, scaling, constant = choose_parameters(bounds, clock_qubits=3)
    # default: full rotation one octave below lambda_min's bin (bin 2 -> bin 1)
    np.testing.assert_allclose([t, scaling, constant], [2 * math.pi * 3 / 8, 1 / 8, 1 / 3], rtol=1e-12)
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

    qc = hhl_circuit(TEXTBOOK_A, TEXTBOOK_B, clock_qubits=3)
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
        t, _, _ = choose_parameters(spectral_bounds(A), clock_qubits=c)
        res = hhl_solve(A, b, clock_qubits=c, scaling=1 / 2 ** (c - 1), count_gates=False)
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
    prob = _setup(A, b, clock_qubits=4, evolution_time=None, scaling=None, eigenvalue_bounds=None,
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
    prob = _setup(A, b, clock_qubits=6, evolution_time=None, scaling=None, eigenvalue_bounds=None,
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
        (TEXTBOOK_A, [1, 0], {"clock_qubits": 3, "eigenvalue_bounds": "magic"}, "method must be one of"),
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


def test_bad_bounds_and_clock_helpers():
    with pytest.raises(ValueError, match="no lower bound"):
        spectral_bounds(_nonsymmetric(3, 0), method="gershgorin")
    with pytest.raises(ValueError, match="reach"):
        spectral_bounds([[1.0, 2.0], [2.0, 1.0]], method="gershgorin")
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
    from qsgd.hhl import hhl_model, hhl_spectrum

    A, b, kw = _model_cases()[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HHLResolutionWarning)
        circ = hhl_solve(A, b, rng=3, count_gates=False, **kw)
        model = hhl_model(A, b, **kw)
        model_spec = hhl_model(hhl_spectrum(A), b, **kw)
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
    from qsgd.hhl import hhl_model, hhl_spectrum

    A = _nonsymmetric(6, 21)
    b = np.random.default_rng(5).normal(size=6)
    sv = np.linalg.svd(A, compute_uv=False)
    bounds = SpectralBounds(float(sv[-1]), float(sv[0]), False, True, "exact")
    kw = dict(clock_qubits=5, evolution_time=2 * math.pi * 0.375 / sv[0], scaling=0.125, eigenvalue_bounds=bounds)
    circ = hhl_solve(A, b, rng=1, count_gates=False, **kw)
    model = hhl_model(hhl_spectrum(A), b, **kw)
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
    from qsgd.hhl import hhl_model, hhl_spectrum

    A = _nonsymmetric(300, 41)  # padded to 512, dilated: 10 system qubits
    b = np.random.default_rng(42).normal(size=300)
    spec = hhl_spectrum(A)
    res = hhl_model(spec, b, clock_qubits=12)
    assert res.system_qubits == 10 and res.num_qubits == 23
    assert res.fidelity > 0.999
    np.testing.assert_allclose(res.reference, np.linalg.solve(A, b) / np.linalg.norm(np.linalg.solve(A, b)), atol=1e-10)


def test_model_bad_input():
    from qsgd.hhl import hhl_filter, hhl_model, hhl_spectrum, reciprocal_amplitudes

    with pytest.raises(ValueError, match="hhl_model: shots"):
        hhl_model(TEXTBOOK_A, TEXTBOOK_B, clock_qubits=3, shots=0)
    with pytest.raises(ValueError, match="hhl_model: b"):
        hhl_model(TEXTBOOK_A, [1.0, 2.0, 3.0], clock_qubits=3)
    with pytest.raises(ValueError, match="hhl_model: clock_qubits=1 is too few"):
        hhl_model(_nonsymmetric(2, 1), [1.0, 0.0], clock_qubits=1)
    with pytest.raises(ValueError, match="hhl_model: A"):
        hhl_model("matrix", [1.0, 0.0], clock_qubits=3)
    with pytest.raises(ValueError, match="hhl_model: eigenvalue_bounds"):
        hhl_model(hhl_spectrum(TEXTBOOK_A), TEXTBOOK_B, clock_qubits=3, eigenvalue_bounds="gershgorin")
    with pytest.raises(ValueError, match="hhl_spectrum: A is singular"):
        hhl_spectrum([[1.0, 1.0], [1.0, 1.0]])
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
        dense = hhl_solve(A, b, rng=3, count_gates=False, **kw)
        fast = hhl_solve(A, b, rng=3, count_gates=False, construction="spectral", **kw)
    np.testing.assert_allclose(fast.statevector, dense.statevector, atol=1e-9, rtol=0)
    np.testing.assert_allclose(fast.success_probability, dense.success_probability, atol=1e-9)
    assert fast.num_qubits == dense.num_qubits


@pytest.mark.parametrize("symmetric", [True, False])
def test_spectral_construction_is_the_same_unitary(symmetric):
    from qiskit.quantum_info import Operator

    A = _spd(2, 51) if symmetric else _nonsymmetric(2, 52)
    b = np.array([0.6, -0.8])
    dense = Operator(hhl_circuit(A, b, clock_qubits=3)).data
    fast_qc = hhl_circuit(A, b, clock_qubits=3, construction="spectral")
    assert fast_qc.metadata["construction"] == "spectral"
    np.testing.assert_allclose(Operator(fast_qc).data, dense, atol=1e-9)


def test_aer_form_of_the_spectral_circuit_gives_the_same_state(monkeypatch):
    """The Aer-native rewrite (initialize, diagonal for the UCRY, h/cp/swap) against the circuit itself."""
    from qiskit.quantum_info import Statevector

    from qsgd.hhl import _for_aer

    A = _nonsymmetric(3, 61)
    b = np.array([0.3, -1.0, 0.5])
    qc = hhl_circuit(A, b, clock_qubits=4, construction="spectral")
    aer_qc = _for_aer(qc)
    assert {inst.operation.name for inst in aer_qc.data} <= {"initialize", "h", "cp", "diagonal", "s", "sdg", "unitary"}
    np.testing.assert_allclose(Statevector(aer_qc).data, Statevector(qc).data, atol=1e-12)
    # the clock-controlled diagonals multiplied in groups of every size give the same state
    for size in (3, 4, 5, 20):
        monkeypatch.setattr("qsgd.hhl.AER_DIAGONAL_QUBITS", size)
        np.testing.assert_allclose(Statevector(_for_aer(qc)).data, Statevector(qc).data, atol=1e-12)
    dense = hhl_circuit(A, b, clock_qubits=4)
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

    problem = _setup(A, b, clock_qubits=c, evolution_time=None, scaling=None, eigenvalue_bounds=None,
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
