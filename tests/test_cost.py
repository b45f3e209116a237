"""Tests of qsgd.cost: every term against a hand-computed case, monotonicity of the totals in
the directions the theory says, the break-even search, the qubit count, and the error behaviour
shared by every public function."""

import importlib
import inspect
import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import qsgd.cost
from qsgd.cost import (
    ASSUMPTION_SETS,
    COSTA_WALK_CONSTANT,
    QLSA_SOLVERS,
    AssumptionSet,
    break_even,
    classical_gd_cost,
    coefficient_formation_cost,
    default_kappa,
    gradient_cost,
    hessian_cost,
    lifted_row_sparsity,
    oracle_query_cost,
    postselection_repeats,
    qlsa_queries,
    re_expansions,
    resource_estimate,
    third_derivative_cost,
    tomography_copies,
    training_cost,
    upload_cost,
)
from qsgd.hhl import required_clock_qubits
from qsgd.theorem import PAPER_MODELS


# --------------------------------------------------------------------------------------------
# each term against a hand-computed case
# --------------------------------------------------------------------------------------------


def test_formation_terms_by_hand():
    # W = 2n = 200 for n = 100; gradient 4 W; HVP 8 W; nested third derivative 16 W
    assert gradient_cost(100) == 800.0
    assert gradient_cost(100, loss_cost=10.0, factor=3.0) == 30.0
    assert hessian_cost(100) == 100 * 8 * 200  # n HVPs
    assert hessian_cost(100, row_sparsity=5) == 5 * 8 * 200  # 5 colours
    assert third_derivative_cost(10) == 55 * 16 * 20  # n(n+1)/2 directions
    assert third_derivative_cost(10, row_sparsity=2) == 3 * 16 * 20
    assert coefficient_formation_cost(10, degree=1) == gradient_cost(10) + hessian_cost(10)
    assert coefficient_formation_cost(10, degree=2) == (gradient_cost(10) + hessian_cost(10)
                                                        + third_derivative_cost(10))


def test_oracle_upload_and_download_by_hand():
    assert oracle_query_cost(1024) == 10 and oracle_query_cost(1025) == 11
    assert oracle_query_cost(2**200 + 1) == 201  # exact for huge integer dimensions
    assert oracle_query_cost(1024, constant=2.5) == 25.0
    assert upload_cost(1024, 8) == 8 * 10  # one s-sparse state on 10 qubits
    assert upload_cost(1024, 8, order=3) == 8 * 10 * 6  # 1 + 2 + 3 copies
    assert tomography_copies(1000, 0.5) == 4000.0
    assert tomography_copies(1000, 0.5, readout="support", sparsity=10) == 40.0
    assert tomography_copies(1000, 0.5, readout=3) == 12.0
    assert tomography_copies(1000, 0.5, constant=2.0) == 8000.0
    assert postselection_repeats(0.25) == 2.0
    assert postselection_repeats(0.25, amplitude_amplification=False) == 4.0
    assert re_expansions(1000, 100) == 10 and re_expansions(1000, 99) == 11 and re_expansions(5, 5) == 1


def test_qlsa_queries_by_hand():
    assert qlsa_queries(10, 0.01, solver="hhl", sparsity=2) == pytest.approx(2**2 * 10**2 / 0.01)
    # CKS: s kappa log2(s kappa / eps)^p; s kappa = 8, eps = 0.5: log2(16) = 4
    assert qlsa_queries(4, 0.5, solver="cks", sparsity=2) == pytest.approx(8 * 4**2)
    assert qlsa_queries(4, 0.5, solver="cks", sparsity=2, polylog_power=1) == pytest.approx(8 * 4)
    # Costa: alpha s kappa + s kappa ln(2/eps); eps = 2 e^-2 makes the log exactly 2
    eps = 2 * math.exp(-2)
    assert qlsa_queries(10, eps, solver="costa") == pytest.approx(COSTA_WALK_CONSTANT * 10 + 20)
    assert qlsa_queries(10, eps, solver="costa", walk_constant=1.84) == pytest.approx(18.4 + 20)


def test_classical_gd_by_hand():
    # oracle access: n (1 + s + s^2) reads per step of the quadratic map
    assert classical_gd_cost(100, total_steps=10, access="oracle", row_sparsity=3) == 10 * 100 * 13
    assert classical_gd_cost(100, total_steps=10, access="oracle", row_sparsity=3, degree=1) == 10 * 100 * 4
    assert classical_gd_cost(100, total_steps=10) == 10 * gradient_cost(100)  # "formed": one gradient per step


def test_lifted_row_sparsity_by_hand():
    # (1 + 3x + 9x^2)^j, coefficients of x^1..x^N: j = 1, N = 1: 3; N = 2: max(3 + 9, 6 + 27 + 54)
    assert lifted_row_sparsity((1, 3, 9), 1, history=False) == 3
    assert lifted_row_sparsity((1, 3, 9), 2, history=False) == 6 + (9 + 18)  # (1 + 3x + 9x^2)^2
    assert lifted_row_sparsity((1, 3, 9), 2) == 34  # plus the -I of Eq. 6
    assert lifted_row_sparsity((0, 1), 5, history=False) == 1  # diagonal linear map stays diagonal
    # continuous Carleman matrix: a level-j row holds j copies of one row of each F_l
    # N = 2: level 1 holds F1 and F2 (F0 goes to the right-hand side), level 2 twice F0 and F1
    assert lifted_row_sparsity((1, 3, 9), 2, kind="continuous", history=False) == max(3 + 9, 2 * (1 + 3))
    assert lifted_row_sparsity((0, 3, 9), 3, kind="continuous", history=False) == max(3 + 9, 2 * 12, 3 * 3)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_lifted_row_sparsity_bounds_the_discrete_carleman_matrix(order):
    """The bound against the matrix qsgd.carleman.discrete_carleman actually builds."""
    from qsgd.carleman import discrete_carleman

    rng = np.random.default_rng(order)
    n, s1, s2 = 12, 2, 3

    def rows(m, s):
        M = np.zeros((n, m))
        for i in range(n):
            M[i, rng.choice(m, s, replace=False)] = rng.normal(size=s)
        return M

    F = [rng.normal(size=n), rows(n, s1), rows(n * n, s2)]
    C, _ = discrete_carleman(F, order=order)
    measured = int(np.diff(sp.csr_array(C).indptr).max())
    s_id = int(np.count_nonzero(np.eye(n) + F[1], axis=1).max())
    bound = lifted_row_sparsity((1, s_id, s2), order, history=False)
    assert measured <= bound
    assert measured >= 0.9 * bound  # generic patterns: the bound is nearly reached
    if order >= 2:  # and it grows much faster than the continuous (linear in N) count
        assert bound > lifted_row_sparsity((1, s_id, s2), order, kind="continuous", history=False)


def test_training_cost_is_the_sum_of_its_terms():
    n, T, R = 2**20, 100, 10
    c = training_cost(n, total_steps=R * T, steps=T, eps=0.01, kappa=50.0, solver="cks",
                      access="formed", model_sparsity=4, weight_sparsity=1000, readout="support")
    assert c.segments == R and c.padding == T
    assert c.system_dimension == (2 * T + 1) * (n + n**2)
    assert c.matrix_sparsity == lifted_row_sparsity((1, 4, 16), 2)
    assert c.formation == coefficient_formation_cost(n, row_sparsity=4)
    assert c.query == math.ceil(math.log2((2 * T + 1) * (n + n**2)))
    assert c.upload == upload_cost(n, 1000, order=2)
    np.testing.assert_allclose(c.solve, qlsa_queries(50.0, 0.01, solver="cks", sparsity=c.matrix_sparsity) * c.query)
    np.testing.assert_allclose(c.repeats, math.sqrt(9 * (2 * T + 1) * 2 / (T + 1)))  # PNAS Lemma 5, q = 1
    assert c.copies == pytest.approx(1000 / 0.01**2)
    np.testing.assert_allclose(c.quantum, R * (c.formation + c.copies * c.repeats * (c.upload + c.solve)))
    assert c.classical == R * T * gradient_cost(n)
    assert c.advantage == c.classical / c.quantum
    assert c.dominant == "download x solve"



def test_default_kappa_is_pnas_lemma_3_everywhere():
    """One formula, 3 (T + p + 1), for training_cost and resource_estimate alike."""
    assert default_kappa(100, 100) == 603.0 and default_kappa(10, 0) == 33.0
    c = training_cost(2**20, total_steps=1000, steps=100, eps=0.01)  # p defaults to T
    assert c.padding == 100 and c.kappa == default_kappa(100, 100)
    assert training_cost(2**20, total_steps=1000, steps=100, eps=0.01, padding=7).kappa == default_kappa(100, 7)
    assert resource_estimate(2**20, steps=100).kappa == default_kappa(100, 0)
    assert resource_estimate(2**20, steps=100, padding=100).kappa == default_kappa(100, 100)


def test_training_cost_scalings_in_eps_kappa_and_steps():
    """The scalings the one-term formulas imply, read off the whole run."""
    kw = dict(total_steps=1000, steps=100, kappa=30.0, model_sparsity=3, weight_sparsity=1000,
              readout="support")
    coarse, fine = training_cost(2**20, eps=0.1, **kw), training_cost(2**20, eps=0.01, **kw)
    np.testing.assert_allclose(fine.copies / coarse.copies, 100)  # d / eps^2 copies
    assert fine.upload == coarse.upload  # the upload does not depend on the precision
    k1 = training_cost(2**20, eps=0.01, **{**kw, "kappa": 10.0, "solver": "costa"})
    k2 = training_cost(2**20, eps=0.01, **{**kw, "kappa": 20.0, "solver": "costa"})
    np.testing.assert_allclose(k2.solve / k1.solve, 2)  # the Costa solver is linear in kappa
    long = training_cost(2**20, eps=0.01, **{**kw, "total_steps": 4000})
    np.testing.assert_allclose(long.classical / fine.classical, 4)
    np.testing.assert_allclose(long.quantum / fine.quantum, 4)  # four times the segments
    no_aa = training_cost(2**20, eps=0.01, amplitude_amplification=False, **kw)
    np.testing.assert_allclose(no_aa.repeats, fine.repeats**2)  # 1/P instead of 1/sqrt(P)

# --------------------------------------------------------------------------------------------
# monotonicity in the directions the theory says
# --------------------------------------------------------------------------------------------

KW = dict(total_steps=1000, steps=100, eps=0.01, kappa=30.0, model_sparsity=3, weight_sparsity=3,
          readout=3)


def _q(**change):
    return training_cost(**{"n": 10**9, **KW, **change}).quantum


@pytest.mark.parametrize("solver", QLSA_SOLVERS)
def test_quantum_cost_grows_with_kappa_precision_sparsity_and_order(solver):
    assert _q(solver=solver, kappa=60.0) > _q(solver=solver)
    assert _q(solver=solver, eps=0.001) > _q(solver=solver)
    assert _q(solver=solver, model_sparsity=6) > _q(solver=solver)
    assert _q(solver=solver, order=3) > _q(solver=solver)
    assert _q(solver=solver, total_steps=2000) == pytest.approx(2 * _q(solver=solver))
    assert _q(solver=solver, amplitude_amplification=False) > _q(solver=solver)
    assert _q(solver=solver, readout="full") > _q(solver=solver, readout="support", weight_sparsity=10**6) > _q(solver=solver)


def test_costs_in_n():
    ns = np.logspace(3, 20, 18)
    q = [training_cost(n, **KW).quantum for n in ns]
    cl = [training_cost(n, **KW).classical for n in ns]
    assert np.all(np.diff(q) >= 0) and np.all(np.diff(cl) > 0)
    assert q[-1] / q[0] < 10  # polylog in n at fixed sparsity and read-out
    np.testing.assert_allclose(cl[-1] / cl[0], ns[-1] / ns[0])  # linear in n
    full = [training_cost(n, **{**KW, "readout": "full"}).quantum for n in ns]
    assert full[-1] / full[0] > 0.1 * ns[-1] / ns[0]  # full download: at least linear in n


def test_solver_scalings_in_kappa_and_eps():
    for solver, kappa_power in (("hhl", 2), ("cks", 1), ("costa", 1)):
        ratio = qlsa_queries(1e6, 0.01, solver=solver) / qlsa_queries(1e3, 0.01, solver=solver)
        assert 10 ** (3 * kappa_power) <= ratio < 10 ** (3 * kappa_power) * 3  # kappa^p up to logs
    # precision: HHL 1/eps, CKS polylog, Costa log
    assert qlsa_queries(10, 1e-6, solver="hhl") / qlsa_queries(10, 1e-3, solver="hhl") == pytest.approx(1e3)
    assert qlsa_queries(10, 1e-6, solver="cks") / qlsa_queries(10, 1e-3, solver="cks") < 4
    assert qlsa_queries(10, 1e-6, solver="costa") / qlsa_queries(10, 1e-3, solver="costa") < 1.01
    # at large kappa HHL is the most expensive of the three
    assert all(qlsa_queries(1e4, 0.01, solver="hhl") > qlsa_queries(1e4, 0.01, solver=s) for s in ("cks", "costa"))


# --------------------------------------------------------------------------------------------
# break-even
# --------------------------------------------------------------------------------------------

RUN = dict(total_steps=1000, steps=100, eps=0.01, kappa=30.0)


def test_break_even_oracle_readout_has_one_crossing():
    a = ASSUMPTION_SETS["A"]
    be = break_even(a, **RUN)
    assert len(be.crossings) == 1 and be.wins_at_max and not be.wins_at_min
    n_star = be.crossings[0]
    below = training_cost(n_star / 2, **a.kwargs(n_star / 2), **RUN)
    above = training_cost(n_star * 2, **a.kwargs(n_star * 2), **RUN)
    assert below.advantage < 1 < above.advantage
    # the observed Costa constant moves the crossing down, HHL moves it up
    assert break_even(a, **RUN, walk_constant=1.84).crossings[0] < n_star
    assert break_even(a, **{**RUN, "solver": "hhl"}).crossings[0] > n_star


@pytest.mark.parametrize("key", ["B", "D"])
def test_break_even_downloading_a_fraction_of_n_never_wins(key):
    be = break_even(ASSUMPTION_SETS[key], **RUN)
    assert be.crossings == () and not be.wins_at_min and not be.wins_at_max
    assert be.max_advantage < 1e-6
    assert be.message.startswith("quantum never cheaper")


def test_break_even_formed_coefficients_cap_the_advantage():
    """Forming F costs a fixed multiple of n per segment: the advantage tends to a constant."""
    be = break_even(ASSUMPTION_SETS["C"], **RUN)
    n = 1e20
    c = training_cost(n, **ASSUMPTION_SETS["C"].kwargs(n), **RUN)
    cap = c.classical / (c.segments * c.formation)
    assert c.advantage < cap
    assert be.max_advantage <= cap * (1 + 1e-9)
    np.testing.assert_allclose(cap, (100 * 4) / (4 + 3 * 8 + 6 * 16))  # T grad / (grad + 3 HVP + 6 third)


def test_break_even_quantum_cheaper_everywhere_and_below():
    cheap = AssumptionSet("toy", "oracle", 3, 3, 1)
    be = break_even(cheap, n_min=1e25, n_max=1e30, **RUN)
    assert be.crossings == () and be.wins_at_min and "everywhere" in be.message


# --------------------------------------------------------------------------------------------
# logical qubits (also re-exported by qsgd.theorem)
# --------------------------------------------------------------------------------------------


def test_resource_estimate_paper_models():
    r7 = resource_estimate(PAPER_MODELS["ResNet-32x4 (7.45M)"], steps=100)
    assert r7.weight_qubits == 23  # claim 16
    r103 = resource_estimate(PAPER_MODELS["103M model"], steps=100)
    assert r103.weight_qubits == 27
    r = resource_estimate(7_451_044, steps=100, order=2, padding=27, eps=0.01, kappa=10.0)
    assert r.lifted_dimension == 7_451_044 + 7_451_044**2
    assert r.carleman_qubits == math.ceil(math.log2(r.lifted_dimension))
    assert r.tensor_layout_qubits == 1 + 2 * 23
    assert r.time_qubits == 7  # 128 blocks
    assert r.clock_qubits == 11  # sign qubit + ceil(log2(10 / 0.01 + 1)) = 1 + 10
    assert r.total == r.carleman_qubits + r.time_qubits + r.clock_qubits + r.ancilla_qubits
    assert r.history_dimension == 128 * r.lifted_dimension


@pytest.mark.parametrize("k", [1, 2, 10, 40, 64])
def test_resource_estimate_exact_powers_of_two(k):
    r = resource_estimate(2**k if k > 1 else 2, steps=1, order=1, clock_qubits=3, ancilla_qubits=0)
    assert r.weight_qubits == k and r.carleman_qubits == k
    assert r.time_qubits == 1 and r.total == k + 1 + 3
    assert resource_estimate(2**k + 1, steps=1, order=1).weight_qubits == k + 1



@pytest.mark.parametrize("kappa,eps", [(1.0, 0.5), (10.0, 0.01), (55.9, 0.01), (303.0, 0.01), (603.0, 0.01),
                                       (64.0, 0.5), (1e6, 1e-6)])
def test_resource_estimate_clock_is_the_hhl_clock_of_the_dilated_system(kappa, eps):
    """The default clock is qsgd.hhl's rule with a sign qubit: the least c with (2^(c-1) - 1) / kappa >= 1/eps."""
    c = resource_estimate(100, steps=10, kappa=kappa, eps=eps).clock_qubits
    assert c == required_clock_qubits(kappa, eps, definite=False)
    assert (2 ** (c - 1) - 1) / kappa >= 1 / eps * (1 - 1e-12)  # enough
    assert c == 2 or (2 ** (c - 2) - 1) / kappa < 1 / eps  # and the fewest
    assert c == 1 + math.ceil(math.log2(kappa / eps + 1) - 1e-12)  # the closed form in the docstring
    unsigned = required_clock_qubits(kappa, eps, definite=True)
    assert unsigned <= c <= unsigned + 1  # the sign costs at most one qubit


def test_import_of_qsgd_cost_leaves_qiskit_unloaded():
    """The clock rule imports qsgd.hhl (and Qiskit) only when a default clock is counted."""
    code = ("import sys, qsgd.cost as c; c.resource_estimate(100, steps=10, clock_qubits=4); "
            "c.break_even(c.ASSUMPTION_SETS['A'], num=5, total_steps=100, steps=10, eps=0.01); "
            "print('qiskit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "n,kwargs,match",
    [
        (1, {}, "n must be >= 2"),
        (100, {"steps": -1}, "steps"),
        (100, {"order": 0}, "order"),
        (100, {"padding": -2}, "padding"),
        (100, {"eps": 2.0}, "eps must be in"),
        (100, {"kappa": 0.1}, "kappa must be >= 1"),
        (100, {"clock_qubits": 1}, "clock_qubits must be >= 2"),
        (100, {"ancilla_qubits": -1}, "ancilla_qubits"),
    ],
)
def test_resource_estimate_bad_inputs(n, kwargs, match):
    kwargs = {"steps": 10, **kwargs}
    with pytest.raises(ValueError, match=match) as err:
        resource_estimate(n, **kwargs)
    assert "resource_estimate" in str(err.value)



@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: gradient_cost(0), "gradient_cost: n must be"),
        (lambda: gradient_cost(10, loss_cost=-1.0), "gradient_cost: loss_cost"),
        (lambda: hessian_cost(10, row_sparsity=11), "hessian_cost: row_sparsity must be <= n"),
        (lambda: third_derivative_cost(10, factor=0.0), "third_derivative_cost: factor"),
        (lambda: coefficient_formation_cost(10, degree=3), "coefficient_formation_cost: degree"),
        (lambda: oracle_query_cost(1), "oracle_query_cost: dimension"),
        (lambda: oracle_query_cost(1.5), "oracle_query_cost: dimension"),
        (lambda: upload_cost(16, 17), "upload_cost: sparsity must be <= n"),
        (lambda: upload_cost(16, 2, order=0), "upload_cost: order"),
        (lambda: lifted_row_sparsity(3, 2), "lifted_row_sparsity: row_sparsity must be a sequence"),
        (lambda: lifted_row_sparsity((0, 0), 2), "lifted_row_sparsity: row_sparsity must have a positive"),
        (lambda: lifted_row_sparsity((1, -1), 2), r"lifted_row_sparsity: row_sparsity\[1\]"),
        (lambda: lifted_row_sparsity((1, 2), 2, kind="ode"), "lifted_row_sparsity: kind"),
        (lambda: qlsa_queries(0.5, 0.1), "qlsa_queries: kappa must be >= 1"),
        (lambda: qlsa_queries(5, 1.0), "qlsa_queries: eps must be in"),
        (lambda: qlsa_queries(5, 0.1, solver="vtaa"), "qlsa_queries: solver"),
        (lambda: qlsa_queries(5, 0.1, sparsity=0), "qlsa_queries: sparsity"),
        (lambda: postselection_repeats(1.5), "postselection_repeats: success_probability"),
        (lambda: postselection_repeats(0.5, amplitude_amplification="yes"), "amplitude_amplification"),
        (lambda: tomography_copies(10, 0.1, readout="some"), "tomography_copies: readout must be"),
        (lambda: tomography_copies(10, 0.1, readout=11), "tomography_copies: readout must be <= n"),
        (lambda: tomography_copies(10, 0.1, readout="support"), "tomography_copies: readout='support' needs"),
        (lambda: re_expansions(0, 10), "re_expansions: total_steps"),
        (lambda: classical_gd_cost(10, total_steps=5, access="qram"), "classical_gd_cost: access"),
        (lambda: training_cost(10, total_steps=5, steps=6, eps=0.1), "training_cost: steps must be <= 5"),
        (lambda: training_cost(10, total_steps=5, steps=5, eps=0.1, weight_sparsity=20),
         "training_cost: weight_sparsity must be <= n"),
        (lambda: training_cost(10, total_steps=5, steps=5, eps=0.1, solver="x"), "training_cost: solver"),
        (lambda: training_cost(10, total_steps=5, steps=5, eps=0.1, kappa=0.2), "training_cost: kappa"),
        (lambda: break_even("A", **RUN), "break_even: assumptions must be an AssumptionSet"),
        (lambda: break_even(ASSUMPTION_SETS["A"], n_min=1e6, n_max=1e3, **RUN), "break_even: n_max must be >"),
    ],
)
def test_bad_inputs_name_the_function_and_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------------------------
# bad-input catalogue
# --------------------------------------------------------------------------------------------

import qsgd.cost as _cost  # noqa: E402

_RUN = dict(total_steps=100, steps=10, eps=0.01)

#: name -> (call, expected exception, words the message must contain)
BAD_INPUT = {
    "gradient None n": (lambda: _cost.gradient_cost(None), ValueError, ["gradient_cost", "n", "None"]),
    "gradient string n": (lambda: _cost.gradient_cost("x"), ValueError, ["gradient_cost", "n"]),
    "gradient complex n": (lambda: _cost.gradient_cost(1j), ValueError, ["gradient_cost", "n"]),
    "gradient nan n": (lambda: _cost.gradient_cost(float("nan")), ValueError, ["gradient_cost", "n", "nan"]),
    "gradient n below 1": (lambda: _cost.gradient_cost(0.5), ValueError, ["gradient_cost", "n", ">= 1"]),
    "gradient huge int n": (lambda: _cost.gradient_cost(10**400), ValueError,
                            ["gradient_cost", "n", "bits", "floating-point range"]),
    "gradient overflow": (lambda: _cost.gradient_cost(100, loss_cost=1e308), ValueError,
                          ["gradient_cost", "result", "inf", "overflow"]),
    "hessian zero sparsity": (lambda: _cost.hessian_cost(100, row_sparsity=0), ValueError,
                              ["hessian_cost", "row_sparsity", "> 0"]),
    "formation names the called function": (lambda: _cost.coefficient_formation_cost(None), ValueError,
                                            ["coefficient_formation_cost", "n", "None", "gradient_cost"]),
    "formation overflow names the called function": (
        lambda: _cost.coefficient_formation_cost(100, loss_cost=1e308), ValueError,
        ["coefficient_formation_cost", "inf"]),
    "oracle negative constant": (lambda: _cost.oracle_query_cost(100, constant=-1), ValueError,
                                 ["oracle_query_cost", "constant"]),
    "upload huge order": (lambda: _cost.upload_cost(100, 5, order=10**400), ValueError,
                          ["upload_cost", "order", "bits"]),
    "lifted row sparsity scalar": (lambda: _cost.lifted_row_sparsity(3, 2), ValueError,
                                   ["lifted_row_sparsity", "row_sparsity", "sequence"]),
    "qlsa kappa below 1": (lambda: _cost.qlsa_queries(0.5, 0.01), ValueError, ["qlsa_queries", "kappa", ">= 1"]),
    "qlsa eps above 1": (lambda: _cost.qlsa_queries(10.0, 2.0), ValueError, ["qlsa_queries", "eps"]),
    "qlsa bad solver": (lambda: _cost.qlsa_queries(10.0, 0.01, solver="magic"), ValueError,
                        ["qlsa_queries", "solver", "magic"]),
    "qlsa overflow": (lambda: _cost.qlsa_queries(10.0, 0.01, sparsity=1e308), ValueError,
                      ["qlsa_queries", "inf", "overflow"]),
    "postselection zero": (lambda: _cost.postselection_repeats(0.0), ValueError,
                           ["postselection_repeats", "success_probability"]),
    "postselection above 1": (lambda: _cost.postselection_repeats(1.5), ValueError,
                              ["postselection_repeats", "success_probability", "1"]),
    "tomography huge eps": (lambda: _cost.tomography_copies(100, 10**400), ValueError,
                            ["tomography_copies", "eps", "bits"]),
    "re_expansions huge": (lambda: _cost.re_expansions(10**400, 10), ValueError,
                           ["re_expansions", "total_steps", "bits"]),
    "classical None steps": (lambda: _cost.classical_gd_cost(100, total_steps=None), ValueError,
                             ["classical_gd_cost", "total_steps"]),
    "training kappa below 1": (lambda: _cost.training_cost(100, kappa=0.5, **_RUN), ValueError,
                               ["training_cost", "kappa", ">= 1"]),
    "training readout names the called function": (
        lambda: _cost.training_cost(100, readout="x", **_RUN), ValueError,
        ["training_cost", "readout", "tomography_copies"]),
    "training overflow": (lambda: _cost.training_cost(100, kappa=1e308, **_RUN), ValueError,
                          ["training_cost", "inf", "overflow"]),
    "training huge order": (lambda: _cost.training_cost(100, order=10**400, **_RUN), ValueError,
                            ["training_cost", "order", "bits"]),
    "training missing keyword": (lambda: _cost.training_cost(100, steps=10, eps=0.01), ValueError,
                                 ["training_cost", "total_steps"]),
    "training overflowing field": (
        lambda: _cost.training_cost(1e150, total_steps=100, steps=10, eps=1e-50, kappa=1e100, order=1,
                                    model_sparsity=3, weight_sparsity=3, readout="full"), ValueError,
        ["training_cost", "per_segment", "inf", "overflow"]),
    "training string sparsity": (lambda: _cost.training_cost(100, weight_sparsity="x", **_RUN),
                                 ValueError, ["training_cost", "weight_sparsity", "x"]),
    "training inf eps": (lambda: _cost.training_cost(100, **{**_RUN, "eps": float("inf")}), ValueError,
                         ["training_cost", "eps", "inf"]),
    "default_kappa zero steps": (lambda: _cost.default_kappa(0, 0), ValueError, ["default_kappa", "steps", "0"]),
    "default_kappa negative padding": (lambda: _cost.default_kappa(10, -1), ValueError,
                                       ["default_kappa", "padding", "-1"]),
    "default_kappa float steps": (lambda: _cost.default_kappa(10.5, 0), ValueError,
                                  ["default_kappa", "steps", "10.5"]),
    "default_kappa missing padding": (lambda: _cost.default_kappa(10), ValueError, ["default_kappa", "padding"]),
    "resource overflowing kappa": (lambda: _cost.resource_estimate(100, steps=10, kappa=1e308), ValueError,
                                   ["resource_estimate", "kappa", "1e+308", "1000 clock qubits"]),
    "resource one clock qubit": (lambda: _cost.resource_estimate(100, steps=10, clock_qubits=1), ValueError,
                                 ["resource_estimate", "clock_qubits", ">= 2", "1"]),
    "resource huge clock": (lambda: _cost.resource_estimate(100, steps=10, clock_qubits=10**400), ValueError,
                            ["resource_estimate", "clock_qubits", "bits"]),
    "assumption set None n": (lambda: _cost.ASSUMPTION_SETS["A"].kwargs(None), ValueError,
                              ["AssumptionSet.kwargs", "n", "None"]),
    "assumption set n below 1": (lambda: _cost.ASSUMPTION_SETS["A"].kwargs(0.5), ValueError,
                                 ["AssumptionSet.kwargs", "n", ">= 1"]),
    "break_even huge n_max": (lambda: _cost.break_even(_cost.ASSUMPTION_SETS["A"], n_max=10**400, num=11, **_RUN),
                              ValueError, ["break_even", "n_max", "bits"]),
    "break_even string eps": (lambda: _cost.break_even(_cost.ASSUMPTION_SETS["A"], num=11,
                                                       **{**_RUN, "eps": "x"}), ValueError, ["break_even", "eps"]),
    "break_even huge num": (lambda: _cost.break_even(_cost.ASSUMPTION_SETS["A"], num=10**9, **_RUN), ValueError,
                            ["break_even", "num", "<= 1000000", "1000000000"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, refuses):
    call, exc, words = BAD_INPUT[case]
    refuses(call, exc, words)


# --------------------------------------------------------------------------------------------
# module layout and the error behaviour every public function shares
# --------------------------------------------------------------------------------------------

COST_MODULES = ("qsgd.cost", "qsgd.cost_terms", "qsgd.cost_resources")


@pytest.mark.parametrize("module", COST_MODULES)
def test_all_is_explicit_unique_and_resolves(module):
    mod = importlib.import_module(module)
    assert len(mod.__all__) == len(set(mod.__all__))
    assert all(hasattr(mod, name) for name in mod.__all__)


def test_qsgd_cost_re_exports_every_public_name():
    for module in COST_MODULES[1:]:
        mod = importlib.import_module(module)
        for name in mod.__all__:
            if name != "public_errors":  # the decorator is an implementation detail
                assert name in qsgd.cost.__all__ and getattr(qsgd.cost, name) is getattr(mod, name)


def test_every_public_function_carries_the_error_decorator():
    functions = [getattr(qsgd.cost, name) for name in qsgd.cost.__all__
                 if inspect.isfunction(getattr(qsgd.cost, name))]
    assert len(functions) == 16
    for fn in functions:
        assert fn.__wrapped__.__name__ == fn.__name__  # decorated with functools.wraps
        assert inspect.signature(fn) == inspect.signature(fn.__wrapped__)
        with pytest.raises(ValueError, match=f"^{fn.__name__}: "):
            fn(unknown_keyword=1)  # a wrong call is a ValueError naming the function


@pytest.mark.parametrize("module", COST_MODULES)
def test_source_compiles_without_escape_warnings(module):
    """Docstrings with backslashes are raw strings: no invalid-escape SyntaxWarning."""
    path = Path(importlib.import_module(module).__file__)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
