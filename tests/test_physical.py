"""Tests of qsgd.physical: Qualtran counts of known bloqs against closed forms, the solver compositions,
the QDK estimates (monotone in the error rate, extrapolated beyond range), the cross-check with
chapter 6's hand counts, and bad input."""

import math
import warnings

import pytest

warnings.filterwarnings("ignore", category=DeprecationWarning)
pytest.importorskip("qualtran")
pytest.importorskip("qdk")

from qsgd import cost  # noqa: E402
from qsgd import physical as ph  # noqa: E402
from qsgd.solvers.polynomial import inverse_polynomial  # noqa: E402

E3, E4 = ph.HARDWARE_MODELS["e3"], ph.HARDWARE_MODELS["e4"]

# ------------------------------------------------------------------ Qualtran counts of known bloqs


@pytest.mark.parametrize("bits", [3, 8, 20])
def test_gidney_adder_closed_form(bits):
    # Gidney's adder (arXiv:1709.06648): n - 1 AND gates for two n-bit registers
    from qualtran import QUInt
    from qualtran.bloqs.arithmetic import Add

    assert ph._tally(Add(QUInt(bits), QUInt(bits))).toffoli == bits - 1


def test_block_encoding_grows_linearly_in_index_bits():
    # the banded oracles are adders on the index: the Toffoli count is affine in ceil(log2 D)
    counts = [ph.block_encoding_cost(2**b, 9).call.toffoli for b in (8, 9, 10, 11)]
    steps = {b - a for a, b in zip(counts, counts[1:])}
    assert len(steps) == 1 and 2 <= steps.pop() <= 8


def test_block_encoding_fields():
    be = ph.block_encoding_cost(3564, 325)
    assert be.system_qubits == 12 and be.alpha == 325 and be.ancilla_qubits == 13
    assert be.walk.toffoli > be.call.toffoli  # the controlled reflection costs Toffolis
    assert ph.block_encoding_cost(100, 4).alpha == 5  # 2 * floor(s / 2) + 1 >= s
    assert ph.block_encoding_cost(100, 1).alpha == 3  # the banded oracle needs a band >= 1


# ------------------------------------------------------------------ solvers and segment


def test_hhl_queries_and_clock():
    r = ph.solver_cost(3564, 325, 55.9, 5e-3, solver="hhl", clock_qubits=10)
    assert r.queries == 2 * (2**10 - 1) and r.clock_qubits == 10
    from qsgd.hhl import required_clock_qubits

    r = ph.solver_cost(64, 3, 4.0, 1e-2, solver="hhl")
    assert r.clock_qubits == required_clock_qubits(r.kappa_eff, 1e-2, definite=False)
    assert r.success_probability == pytest.approx(1 / r.kappa_eff**2, rel=1e-12)


@pytest.mark.parametrize("kappa,eps", [(3.0, 1e-2), (10.0, 1e-3), (40.0, 1e-2)])
def test_qsvt_degree_and_normalization_match_inverse_polynomial(kappa, eps):
    # sparsity 3: alpha = 3 and kappa_eff = 3 kappa, the polynomial of the solver of chapter 8 at kappa_eff
    r = ph.solver_cost(64, 3, kappa, eps, solver="qsvt")
    p = inverse_polynomial(3 * kappa, eps)
    assert r.queries == p.degree
    assert ph.polynomial_normalization(3 * kappa, eps) == pytest.approx(p.normalization, rel=0.03)


def test_amplification_rounds():
    assert ph._amplification_rounds(1.0) == 1
    assert ph._amplification_rounds(0.25) == 3  # theta = pi/6: one Grover iteration
    assert ph._amplification_rounds(1e-6) == 2 * math.floor(math.pi / (4 * math.asin(1e-3))) + 1


def test_segment_run_composition():
    seg = ph.segment_resources(n=24, dimension=3564, sparsity=325, kappa=55.9, eps=1e-2, copies=100,
                               postselection=0.01, solver="qsvt")
    assert seg.run == (seg.upload + seg.solver.gates).scaled(seg.rounds)
    assert seg.algorithm_eps + seg.code_error == pytest.approx(1e-2)
    assert seg.solver.eps == pytest.approx(5e-3)
    assert seg.runs == 100 and seg.qubits == seg.solver.qubits + 1


# ------------------------------------------------------------------ physical estimates


@pytest.fixture(scope="module")
def small_run():
    return ph.GateTally(toffoli=10**6, t=1000, rotations=100, cliffords=10**7, measurements=10**6)


def test_physical_estimate_monotone_in_error_rate(small_run):
    a = ph.physical_estimate(small_run, 50, hardware=E3, error_budget=1e-3)
    b = ph.physical_estimate(small_run, 50, hardware=E4, error_budget=1e-3)
    assert b.code_distance < a.code_distance and b.physical_qubits < a.physical_qubits
    assert b.runtime_s < a.runtime_s
    rates = [ph.hardware_model("qubit_gate_ns_e3", physical_error=p) for p in (1e-3, 5e-4, 2e-4)]
    d = [ph.physical_estimate(small_run, 50, hardware=h, error_budget=1e-3).code_distance for h in rates]
    assert d[0] >= d[1] >= d[2] and d[0] > d[2]


def test_physical_estimate_budget_and_extrapolation(small_run):
    loose = ph.physical_estimate(small_run, 50, hardware=E3, error_budget=1e-1)
    tight = ph.physical_estimate(small_run, 50, hardware=E3, error_budget=1e-6)
    assert tight.code_distance >= loose.code_distance and not tight.extrapolated
    huge = ph.GateTally(toffoli=10**20, measurements=10**20)
    far = ph.physical_estimate(huge, 50, hardware=E3, error_budget=1e-3)
    at_cap = ph.physical_estimate(ph.GateTally(toffoli=10**12, measurements=10**12), 50, hardware=E3,
                                  error_budget=1e-3)
    assert far.extrapolated and "lower bound" in far.message
    assert far.runtime_s > 1e7 * at_cap.runtime_s


# ------------------------------------------------------------------ cross-check with chapter 6


def test_cross_check_ratios_within_band():
    # chapter 6's set A at the 7.45M model: s_L = 34, kappa = 28.87, eps = 1e-2, 3 uploaded weights
    n = 7_451_044
    tc = cost.training_cost(n, **cost.ASSUMPTION_SETS["A"].kwargs(n), total_steps=1000, steps=20, eps=1e-2,
                            kappa=28.87)
    cc = ph.cross_check(n=n, dimension=int(tc.system_dimension), sparsity=int(tc.matrix_sparsity),
                        kappa=tc.kappa, eps=tc.eps, weight_sparsity=3)
    assert cc.query_hand == tc.query
    assert 2 < cc.query_ratio < 10  # about 4 Toffolis per index bit against chapter 6's one gate
    assert 1 < cc.upload_ratio < 10
    assert 1 < cc.queries_ratio["hhl"] < 30 and 1 < cc.queries_ratio["qsvt"] < 30


def test_classical_time():
    assert ph.classical_time(6.7e13) == pytest.approx(1.0)
    assert ph.classical_time(10.0, flop_rate=5.0) == 2.0


def test_training_time_adds_up():
    tc = cost.training_cost(1000, **cost.ASSUMPTION_SETS["C"].kwargs(1000), total_steps=100, steps=20, eps=1e-2,
                            kappa=10.0)
    r = ph.training_time(tc, hardware=E4)
    assert r.segments == 5
    assert r.segment_s == pytest.approx(r.segment.runs * r.run_s + r.formation_s, rel=1e-12)
    assert r.training_s == pytest.approx(5 * r.segment_s, rel=1e-12) and r.ratio > 1


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("kwargs,match", [
    (dict(physical_error=1.0), "hardware_model: physical_error must be in \\(0, 1\\), got 1.0"),
    (dict(physical_error=0.0), "hardware_model: physical_error must be > 0, got 0.0"),
    (dict(physical_error=float("nan")), "hardware_model: physical_error must be a finite"),
    (dict(gate_time_ns=-5.0), "hardware_model: gate_time_ns must be > 0, got -5.0"),
    (dict(physical_error=0.05), "hardware_model: physical_error must be below 0.01"),
])
def test_hardware_model_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ph.hardware_model("qubit_gate_ns_e3", **kwargs)


def test_bad_input_named(small_run):
    with pytest.raises(ValueError, match="hardware_model: name must be one of"):
        ph.hardware_model("qubit_maj_ns_e6")
    with pytest.raises(ValueError, match="physical_estimate: error_budget must be in \\(0, 1\\), got 1.5"):
        ph.physical_estimate(small_run, 10, hardware=E3, error_budget=1.5)
    with pytest.raises(ValueError, match="(?s)physical_estimate: the QDK estimator refused the input .*code distance"):
        ph.physical_estimate(small_run, 10, hardware=E3, error_budget=1e-30)  # a budget it cannot meet
    with pytest.raises(ValueError, match="physical_estimate: gates.toffoli must be >= 0, got -1"):
        ph.physical_estimate(ph.GateTally(toffoli=-1, t=5), 10, hardware=E3, error_budget=1e-3)
    with pytest.raises(ValueError, match="physical_estimate: gates has no non-Clifford gate"):
        ph.physical_estimate(ph.GateTally(cliffords=5), 10, hardware=E3, error_budget=1e-3)
    with pytest.raises(ValueError, match="block_encoding_cost: sparsity must be <= dimension = 8, got 9"):
        ph.block_encoding_cost(8, 9)
    with pytest.raises(ValueError, match="solver_cost: kappa must be >= 1"):
        ph.solver_cost(64, 3, 0.5, 1e-2)
    with pytest.raises(ValueError, match="solver_cost: eps must be in \\(0, 1\\), got 2.0"):
        ph.solver_cost(64, 3, 5.0, 2.0)
    with pytest.raises(ValueError, match="solver_cost: clock_qubits is an HHL setting"):
        ph.solver_cost(64, 3, 5.0, 1e-2, solver="qsvt", clock_qubits=5)
    with pytest.raises(ValueError, match="solver_cost: kappa_eff / eps"):
        ph.solver_cost(64, 3, 1e18, 1e-2, solver="hhl")
    with pytest.raises(ValueError, match="segment_resources: postselection must be in \\(0, 1\\], got 1.5"):
        ph.segment_resources(n=4, dimension=64, sparsity=3, kappa=5.0, eps=1e-2, copies=1, postselection=1.5)
    with pytest.raises(ValueError, match="segment_resources: algorithm_fraction must be in \\(0, 1\\), got 1.0"):
        ph.segment_resources(n=4, dimension=64, sparsity=3, kappa=5.0, eps=1e-2, copies=1, postselection=0.5,
                             algorithm_fraction=1.0)
    with pytest.raises(ValueError, match="classical_time: flops must be >= 0, got -1.0"):
        ph.classical_time(-1.0)
    with pytest.raises(ValueError, match="training_time: cost must be a qsgd.cost.TrainingCost"):
        ph.training_time({"n": 3}, hardware=E3)
