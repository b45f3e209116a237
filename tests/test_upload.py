"""Tests for qsgd.upload: Gleinig-Hoefler sparse state preparation (chapter 3)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.nn.utils.prune
from qiskit import QuantumCircuit
from qiskit.circuit.library import RYGate, RZGate, StatePreparation
from qiskit.quantum_info import Operator, Statevector, state_fidelity

from qsgd.upload import (
    PreparationChoice,
    cheapest_state_preparation,
    dense_cnot_count,
    UPLOAD_MAX_QUBITS,
    UploadResult,
    _controlled_rotation,
    cnot_count,
    sparse_state_preparation,
    upload_weights,
)

ATOL = 1e-10


def dense(support: dict[int, complex], n: int) -> np.ndarray:
    vec = np.zeros(2**n, dtype=complex)
    for index, amp in support.items():
        vec[index] = amp
    return vec


def random_sparse(n: int, s: int, rng: np.random.Generator, *, complex_: bool = False) -> np.ndarray:
    vec = np.zeros(2**n, dtype=complex if complex_ else float)
    index = rng.choice(2**n, size=s, replace=False)
    values = rng.normal(size=s) + (1j * rng.normal(size=s) if complex_ else 0)
    vec[index] = values / np.linalg.norm(values)
    return vec


def assert_prepares(circuit: QuantumCircuit, target: np.ndarray) -> None:
    """Exact state, global phase included (so fidelity >= 1 - 1e-10 a fortiori)."""
    out = Statevector(circuit).data
    assert state_fidelity(Statevector(out), Statevector(target)) >= 1 - ATOL
    np.testing.assert_allclose(out, target, atol=ATOL)


# ----------------------------------------------------------------- the catalogue

def _catalogue():
    rng = np.random.default_rng(20210705)
    n = 5
    cases = {}
    cases["basis |0>"] = dense({0: 1.0}, n)
    cases["basis |19>"] = dense({19: 1.0}, n)
    cases["basis max index"] = dense({2**n - 1: 1.0}, n)
    cases["basis with phase"] = dense({6: np.exp(0.3j)}, n)
    cases["s=2 adjacent"] = dense({4: 0.6, 5: -0.8}, n)
    cases["s=2 far"] = dense({0: 0.8, 2**n - 1: 0.6}, n)
    cases["GHZ"] = dense({0: 2**-0.5, 2**n - 1: 2**-0.5}, n)
    cases["W state"] = dense({1 << q: n**-0.5 for q in range(n)}, n)
    cases["uniform dense"] = np.full(2**n, 2 ** (-n / 2))
    cases["equal magnitudes, random signs"] = dense(
        {int(i): rng.choice([-1, 1]) / 3 for i in rng.choice(2**n, 9, replace=False)}, n
    )
    cases["phases only (|0> + i|1>)"] = dense({0: 2**-0.5, 1: 1j * 2**-0.5}, n)
    cases["complex phases, equal magnitudes"] = dense(
        {int(i): np.exp(2j * np.pi * rng.random()) / 2 for i in rng.choice(2**n, 4, replace=False)}, n
    )
    cases["random real s=7"] = random_sparse(n, 7, rng)
    cases["random complex s=7"] = random_sparse(n, 7, rng, complex_=True)
    cases["max index in a random support"] = dense({2**n - 1: 0.5, 3: 0.5j, 12: -0.5, 17: 0.5}, n)
    cases["dense random complex"] = random_sparse(n, 2**n, rng, complex_=True)
    return cases


CATALOGUE = _catalogue()


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_catalogue_prepares_the_state(name):
    target = CATALOGUE[name]
    circuit = sparse_state_preparation(target)
    assert circuit.num_qubits == 5
    assert_prepares(circuit, target)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_catalogue_inverse_round_trip(name):
    target = CATALOGUE[name]
    circuit = sparse_state_preparation(target)
    back = Statevector(target).evolve(circuit.inverse()).data
    zero = np.zeros_like(back)
    zero[0] = 1
    np.testing.assert_allclose(back, zero, atol=ATOL)
    ident = Operator(circuit.compose(circuit.inverse()))
    np.testing.assert_allclose(ident.data, np.eye(2**5), atol=1e-9)


def test_no_measurements_or_resets_and_controllable():
    target = CATALOGUE["random complex s=7"]
    circuit = sparse_state_preparation(target)
    names = set(circuit.count_ops())
    assert not names & {"measure", "reset", "initialize", "barrier"}
    controlled = QuantumCircuit(6)
    controlled.h(5)
    controlled.append(circuit.to_gate().control(1), [5, *range(5)])
    out = Statevector(controlled).data.reshape(2, 32)  # qubit 5 is the slow index
    np.testing.assert_allclose(out[0], np.eye(32)[0] / np.sqrt(2), atol=ATOL)
    np.testing.assert_allclose(out[1], target / np.sqrt(2), atol=ATOL)


@pytest.mark.parametrize("index", [0, 1, 37, 2**8 - 1])
def test_basis_state_needs_no_cnot(index):
    circuit = sparse_state_preparation({index: 1.0}, num_qubits=8)
    assert cnot_count(circuit) == 0
    assert_prepares(circuit, dense({index: 1.0}, 8))


@pytest.mark.parametrize("distance", [1, 2, 3, 5, 8])
def test_two_strings_need_distance_minus_one_cnots(distance):
    # Gleinig-Hoefler: one merge, d - 1 CNOTs to align and an uncontrolled R_y.
    n = 8
    x2 = (1 << distance) - 1
    target = dense({0: 0.6, x2: -0.8}, n)
    circuit = sparse_state_preparation(target)
    assert cnot_count(circuit) == distance - 1
    assert_prepares(circuit, target)


def test_ghz_uses_n_minus_one_cnots():
    n = 6
    circuit = sparse_state_preparation({0: 2**-0.5, 2**n - 1: 2**-0.5}, num_qubits=n)
    assert cnot_count(circuit) == n - 1


@pytest.mark.parametrize("complex_", [False, True])
@pytest.mark.parametrize(("n", "s"), [(8, 16), (12, 8), (16, 64)])
def test_random_sparse_states(n, s, complex_):
    rng = np.random.default_rng(1000 * n + s + complex_)
    target = random_sparse(n, s, rng, complex_=complex_)
    assert_prepares(sparse_state_preparation(target), target)


# ------------------------------------------------------------------- input kinds

def test_input_kinds_agree():
    rng = np.random.default_rng(7)
    target = random_sparse(6, 5, rng, complex_=True)
    support = {int(i): complex(target[i]) for i in np.flatnonzero(target)}
    kinds = {
        "dense": target,
        "list": list(target),
        "csr row": sp.csr_array(target.reshape(1, -1)),
        "csc column": sp.csc_matrix(target.reshape(-1, 1)),
        "coo 1-D": sp.coo_array(target),
        "dict": support,
        "torch": torch.from_numpy(target),
    }
    for name, value in kinds.items():
        circuit = sparse_state_preparation(value, num_qubits=6 if name == "dict" else None)
        assert circuit.num_qubits == 6, name
        assert_prepares(circuit, target)


def test_dict_infers_qubits_from_the_largest_index():
    circuit = sparse_state_preparation({5: 0.6, 2: 0.8})
    assert circuit.num_qubits == 3
    assert_prepares(circuit, dense({5: 0.6, 2: 0.8}, 3))


def test_padding_with_num_qubits():
    values = np.array([0.0, 3.0, 0.0, 0.0, 4.0]) / 5.0
    circuit = sparse_state_preparation(values, num_qubits=4)
    assert circuit.num_qubits == 4
    assert_prepares(circuit, np.concatenate([values, np.zeros(11)]))


def test_normalize():
    target = CATALOGUE["random real s=7"]
    assert_prepares(sparse_state_preparation(3.5 * target, normalize=True), target)
    # a norm within 1e-8 of one is accepted and corrected
    assert_prepares(sparse_state_preparation((1 + 1e-9) * target), target)


# ------------------------------------------------------------------- CNOT scaling

def _median_cx(n, s, seed, repeats=5):
    rng = np.random.default_rng(seed)
    return float(np.median([cnot_count(sparse_state_preparation(random_sparse(n, s, rng))) for _ in range(repeats)]))


def test_cnot_count_scales_like_s_times_n():
    counts = {(n, s): _median_cx(n, s, seed=n * 100 + s) for n in (8, 12, 16) for s in (4, 8, 16)}
    for (n, s), cx in counts.items():
        assert cx <= 0.75 * s * n, (n, s, cx)  # the O(s n) bound, with the constant measured here
    # linear (not exponential) growth in n at fixed s, and roughly linear in s at fixed n
    assert counts[(16, 8)] <= 2.5 * counts[(8, 8)]
    assert counts[(16, 16)] <= 3.0 * counts[(16, 8)]


def test_far_fewer_cnots_than_dense_state_preparation():
    rng = np.random.default_rng(8)
    target = random_sparse(8, 8, rng)
    dense_circuit = QuantumCircuit(8)
    dense_circuit.append(StatePreparation(target), range(8))
    ours, theirs = cnot_count(sparse_state_preparation(target)), cnot_count(dense_circuit)
    assert theirs >= 200  # about 2^n for isometry synthesis
    assert 5 * ours <= theirs


def test_cnot_count_of_a_known_circuit():
    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.ccx(0, 1, 2)  # 6 CNOTs in the {cx, u} basis
    assert cnot_count(qc) == 8
    assert cnot_count(qc, optimization_level=0, seed_transpiler=3) == 8


@pytest.mark.parametrize("complex_", [False, True])
@pytest.mark.parametrize("k", [0, 1, 2, 3, 5, 6, 7])
def test_controlled_rotation_matches_qiskit(k, complex_):
    rng = np.random.default_rng(k + 10 * complex_)
    values = [int(v) for v in rng.integers(0, 2, size=k)]
    theta, lam = 0.7, (-1.1 if complex_ else None)
    ours = QuantumCircuit(k + 1)
    _controlled_rotation(ours, theta, lam, list(range(1, k + 1)), values, 0)
    ref = QuantumCircuit(k + 1)
    state = "".join(str(v) for v in reversed(values))
    gates = ([RZGate(lam)] if complex_ else []) + [RYGate(theta)]
    for gate in gates:
        ref.append(gate.control(k, ctrl_state=state, annotated=False) if k else gate, [*range(1, k + 1), 0])
    np.testing.assert_allclose(Operator(ours).data, Operator(ref).data, atol=1e-9)
    if k <= 5:
        expected = (2 ** (k + 1) - 2 if complex_ else 2**k) if k else 0
        assert cnot_count(ours) == expected


# ------------------------------------------------------------------ upload_weights

def test_upload_weights_of_a_pruned_linear_layer():
    torch.manual_seed(0)
    layer = torch.nn.Linear(10, 6)
    torch.nn.utils.prune.l1_unstructured(layer, name="weight", amount=0.9)
    weights = layer.weight.detach()
    result = upload_weights(weights)
    assert isinstance(result, UploadResult)
    flat = weights.numpy().astype(float).reshape(-1)
    assert result.size == 60 and result.num_qubits == 6
    assert result.sparsity == 6
    np.testing.assert_array_equal(result.support, np.flatnonzero(flat))
    np.testing.assert_allclose(result.norm, np.linalg.norm(flat), rtol=1e-12)
    state = Statevector(result.circuit)
    np.testing.assert_allclose(result.weights(state), flat, atol=1e-9)
    np.testing.assert_allclose(state.data[60:], 0, atol=ATOL)


def test_upload_weights_numpy_and_num_qubits():
    w = np.array([0.0, -2.0, 0.0, 1.0, 0.0])
    result = upload_weights(w, num_qubits=5)
    assert result.num_qubits == 5 and result.size == 5
    np.testing.assert_allclose(result.weights(Statevector(result.circuit)), w, atol=1e-12)


# ----------------------------------------------------------------------- bad input

@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"amplitudes": np.zeros(8)}, "zero vector"),
        ({"amplitudes": {3: 0.0}}, "zero vector"),
        ({"amplitudes": {}}, "empty dict"),
        ({"amplitudes": sp.csr_array((1, 8))}, "zero vector"),
        ({"amplitudes": np.array([1.0, np.nan, 0, 0])}, "non-finite"),
        ({"amplitudes": np.array([np.inf, 0, 0, 0])}, "non-finite"),
        ({"amplitudes": {1: np.nan}}, "not finite"),
        ({"amplitudes": sp.csr_array(np.array([[np.inf, 1.0]]))}, "non-finite"),
        ({"amplitudes": np.array([3.0, 4.0])}, "2-norm 5"),
        ({"amplitudes": {0: 1.0, 3: 1.0}}, "2-norm 1.414"),
        ({"amplitudes": np.ones(6) / 6**0.5}, "pass num_qubits=3"),
        ({"amplitudes": np.array([1.0])}, "power of two"),
        ({"amplitudes": np.ones(8) / 8**0.5, "num_qubits": 2}, "more than 2\\*\\*num_qubits"),
        ({"amplitudes": {0: 1.0}, "num_qubits": UPLOAD_MAX_QUBITS + 1}, f"<= {UPLOAD_MAX_QUBITS}"),
        ({"amplitudes": {2**70: 1.0}}, "supports"),
        ({"amplitudes": {8: 1.0}, "num_qubits": 3}, "out of range"),
        ({"amplitudes": {-1: 1.0}}, "out of range"),
        ({"amplitudes": {"01": 1.0}}, "integer basis indices"),
        ({"amplitudes": {1: "a"}}, "not a number"),
        ({"amplitudes": np.eye(4)}, "1-D"),
        ({"amplitudes": np.array([1.0, 0.0]), "num_qubits": 0}, ">= 1"),
        ({"amplitudes": np.array([1.0, 0.0]), "normalize": "yes"}, "normalize"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        sparse_state_preparation(**kwargs)
    assert "sparse_state_preparation" in str(info.value)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.zeros(4),), {}, "zero vector"),
        ((np.array([1.0, np.nan]),), {}, "non-finite"),
        ((np.array([1j, 0]),), {}, "real"),
        ((np.ones(9),), {"num_qubits": 3}, "do not fit"),
    ],
)
def test_upload_weights_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        upload_weights(*args, **kwargs)


def test_cnot_count_bad_input():
    with pytest.raises(ValueError, match="QuantumCircuit"):
        cnot_count(np.eye(2))
    with pytest.raises(ValueError, match="optimization_level"):
        cnot_count(QuantumCircuit(1), optimization_level=4)


# ------------------------------------------------ the bad-input catalogue (call, words)

BAD_INPUT = {
    "prep None": (lambda: sparse_state_preparation(None), ["sparse_state_preparation", "amplitudes", "None"]),
    "prep string": (lambda: sparse_state_preparation("0110"), ["sparse_state_preparation", "amplitudes", "string"]),
    "prep empty": (lambda: sparse_state_preparation([]), ["sparse_state_preparation", "amplitudes", "empty"]),
    "prep dense 2**22": (lambda: sparse_state_preparation(np.ones(2**22) / 2**11),
                         ["sparse_state_preparation", "GiB", "max_bytes"]),
    "prep small max_bytes": (lambda: sparse_state_preparation({0: 0.6, 3: 0.8}, max_bytes=10),
                             ["sparse_state_preparation", "max_bytes"]),
    "prep string num_qubits": (lambda: sparse_state_preparation({0: 1.0}, num_qubits="3"),
                               ["sparse_state_preparation", "num_qubits", "integer"]),
    "weights None": (lambda: upload_weights(None), ["upload_weights", "weights", "None"]),
    "weights string": (lambda: upload_weights("1,2"), ["upload_weights", "weights"]),
    "weights dict": (lambda: upload_weights({0: 1.0}), ["upload_weights", "weights"]),
    "weights empty": (lambda: upload_weights([]), ["upload_weights", "weights", "empty"]),
    "weights inf": (lambda: upload_weights([np.inf, 1.0]), ["upload_weights", "weights", "non-finite"]),
    "weights overflowing norm": (lambda: upload_weights([1.7e308, 1.7e308]), ["upload_weights", "overflows", "1.7e+308"]),
    "prep unnormalized huge": (lambda: sparse_state_preparation([1e300, 1e300]),
                               ["sparse_state_preparation", "2-norm", "1.414213562e+300", "normalize=True"]),
    "cheapest None": (lambda: cheapest_state_preparation(None), ["cheapest_state_preparation", "amplitudes", "None"]),
    "cheapest zero vector": (lambda: cheapest_state_preparation(np.zeros(4)), ["cheapest_state_preparation", "zero"]),
    "cheapest unnormalized": (lambda: cheapest_state_preparation([1.0, 1.0]),
                              ["cheapest_state_preparation", "2-norm", "normalize=True"]),
    "cheapest string normalize": (lambda: cheapest_state_preparation([1.0, 0.0], normalize="yes"),
                                  ["cheapest_state_preparation", "normalize", "'yes'"]),
    "cheapest small max_bytes": (lambda: cheapest_state_preparation({0: 0.6, 3: 0.8}, max_bytes=10),
                                 ["cheapest_state_preparation", "max_bytes"]),
    "dense_cnot_count zero qubits": (lambda: dense_cnot_count(0), ["dense_cnot_count", "num_qubits", ">= 1", "0"]),
    "dense_cnot_count float": (lambda: dense_cnot_count(2.5), ["dense_cnot_count", "num_qubits", "2.5"]),
    "weights dense 2**22": (lambda: upload_weights(np.ones(2**22)), ["upload_weights", "GiB", "max_bytes"]),
    "weights zero num_qubits": (lambda: upload_weights([1.0, 0.0], num_qubits=0), ["upload_weights", "num_qubits"]),
    "cnot_count None": (lambda: cnot_count(None), ["cnot_count", "circuit"]),
    "cnot_count string seed": (lambda: cnot_count(QuantumCircuit(1), seed_transpiler="0"),
                               ["cnot_count", "seed_transpiler"]),
    "result short state": (lambda: upload_weights([0.6, 0.8, 0.0]).weights(np.ones(2)),
                           ["UploadResult.weights", "state", "fewer"]),
    "result nan state": (lambda: upload_weights([0.6, 0.8]).weights([np.nan, 1.0]),
                         ["UploadResult.weights", "state", "non-finite"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, refuses):
    call, words = BAD_INPUT[case]
    refuses(call, ValueError, words)


def test_upload_weights_keeps_the_shape():
    w = np.array([[0.0, 3.0], [4.0, 0.0]])
    result = upload_weights(w)
    assert result.shape == (2, 2) and result.size == 4
    np.testing.assert_allclose(result.weights(Statevector(result.circuit)).reshape(result.shape), w, atol=1e-12)


# ------------------------------------------------- overflow-free normalization (regression)


@pytest.mark.parametrize("scale", [1e300, 1e-300, 1.7e308])
def test_normalize_does_not_overflow_or_underflow(scale):
    psi = np.array([scale, -scale, 0.0, scale])
    state = Statevector(sparse_state_preparation(psi, normalize=True)).data
    np.testing.assert_allclose(state, [3**-0.5, -(3**-0.5), 0.0, 3**-0.5], atol=ATOL)


def test_upload_weights_of_huge_weights():
    result = upload_weights([1e300, 0.0, -1e300])
    np.testing.assert_allclose(result.norm, 2**0.5 * 1e300, rtol=1e-12)
    np.testing.assert_allclose(result.weights(Statevector(result.circuit)), [1e300, 0.0, -1e300], rtol=1e-9)


# ------------------------------------------------- the cheaper of sparse and dense preparation


def _dense_circuit(psi):
    qc = QuantumCircuit(int(np.log2(psi.size)))
    qc.append(StatePreparation(psi), range(qc.num_qubits))
    return qc


@pytest.mark.parametrize("n", range(1, 9))
@pytest.mark.parametrize("complex_", [False, True])
def test_dense_cnot_count_matches_qiskit(n, complex_):
    rng = np.random.default_rng(100 + n)
    psi = rng.normal(size=2**n) + (1j * rng.normal(size=2**n) if complex_ else 0)
    psi /= np.linalg.norm(psi)
    for level in (0, 1):
        assert cnot_count(_dense_circuit(psi), optimization_level=level) == dense_cnot_count(n)


# (num_qubits, non-zeros, complex): includes the cases where a fixed rule chose wrongly
CHOICE_CASES = [(n, s, c) for n, s in [(3, 3), (3, 8), (4, 4), (4, 16), (5, 8), (5, 16), (6, 6), (6, 16), (6, 32),
                                        (7, 7), (7, 32), (8, 12)] for c in (False, True)]


@pytest.mark.parametrize(("n", "s", "complex_"), CHOICE_CASES)
def test_cheapest_preparation_is_exact_and_never_costlier(n, s, complex_):
    rng = np.random.default_rng(7 * n + s + complex_)
    psi = np.zeros(2**n, dtype=complex if complex_ else float)
    idx = rng.choice(2**n, size=s, replace=False)
    psi[idx] = rng.normal(size=s) + (1j * rng.normal(size=s) if complex_ else 0)
    psi /= np.linalg.norm(psi)
    choice = cheapest_state_preparation(psi)
    assert isinstance(choice, PreparationChoice)
    assert (choice.num_qubits, choice.sparsity, choice.dense_cx) == (n, s, dense_cnot_count(n))
    np.testing.assert_allclose(Statevector(choice.circuit).data, psi, atol=ATOL)  # global phase included
    actual = cnot_count(choice.circuit, optimization_level=0)
    sparse_actual = cnot_count(sparse_state_preparation(psi), optimization_level=0)
    assert actual == choice.cx_count <= min(sparse_actual, dense_cnot_count(n))
    if choice.construction == "sparse":
        assert choice.sparse_cx == sparse_actual <= choice.dense_cx
    else:
        assert choice.construction == "dense" and sparse_actual > choice.dense_cx
        assert choice.sparse_cx is None


def test_cheapest_preparation_known_choices():
    # a dense vector on 6 qubits: 57 CX dense against 500+ sparse, decided without planning
    full = cheapest_state_preparation(np.full(64, 0.125))
    assert (full.construction, full.cx_count, full.sparse_cx) == ("dense", 57, None)
    # a basis state and a two-string state stay sparse (0 and d - 1 CNOTs)
    assert cheapest_state_preparation({37: 1.0}, num_qubits=6).cx_count == 0
    two = cheapest_state_preparation({0: 0.6, 0b111: 0.8}, num_qubits=6)
    assert (two.construction, two.cx_count) == ("sparse", 2)
    # a tie goes to the sparse circuit: one qubit, both 0
    one = cheapest_state_preparation([0.6, 0.8])
    assert (one.construction, one.cx_count, one.dense_cx) == ("sparse", 0, 0)


def test_upload_weights_records_the_choice():
    rng = np.random.default_rng(5)
    sparse = upload_weights(np.where(rng.random(64) < 0.1, rng.normal(size=64), 0.0))
    assert sparse.construction == "sparse" and sparse.cx_count == cnot_count(sparse.circuit, optimization_level=0)
    dense_w = rng.normal(size=(8, 8))
    dense = upload_weights(dense_w)
    assert (dense.construction, dense.cx_count) == ("dense", 57)
    assert cnot_count(dense.circuit) == 57
    np.testing.assert_allclose(dense.weights(Statevector(dense.circuit)).reshape(dense.shape), dense_w, atol=1e-9)
