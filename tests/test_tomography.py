"""Tests for qsgd.tomography: Kerenidis-Prakash l2 tomography and norm recovery."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom, chi2
from qiskit import QuantumCircuit
from qiskit.quantum_info import Statevector

from qsgd.tomography import (
    TomographyResult,
    amplitudes_from_pair_counts,
    hadamard_pair_counts,
    pair_signs,
    norm_relative_error,
    predicted_error,
    recover_norm,
    shots_bound,
    sign_circuit,
    vector_tomography,
)
from qsgd.tomography_bounds import (
    TOMOGRAPHY_MAX_SHOTS,
    tomography_error_bound,
    tomography_error_estimate,
    tomography_shots_for,
)
from qsgd.upload import sparse_state_preparation


def _unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def _random_state(d, seed, *, floor=0.0, sparsity=None):
    """Random real unit vector; |entries| >= floor (before normalization) on its support."""
    rng = np.random.default_rng(seed)
    x = np.zeros(d)
    idx = np.arange(d) if sparsity is None else np.sort(rng.choice(d, sparsity, replace=False))
    mags = floor + rng.random(idx.size)
    x[idx] = mags * rng.choice([-1.0, 1.0], idx.size)
    return _unit(x)


# Kerenidis-Prakash (2020), Sec. 4 example-sized cases: small real vectors with mixed signs
CASES = {
    "two_qubit_mixed_signs": _unit([0.6, -0.48, 0.0, 0.64]),
    "basis_state": np.eye(8)[5],
    "minus_basis_state": -np.eye(8)[3],
    "uniform_alternating": _unit((-1.0) ** np.arange(16)),
    "random_dense_32": _random_state(32, 7, floor=0.3),
}


# ---------------------------------------------------------------------------
# the interference circuit against its NumPy reference
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("loader", ["sparse", "dense"])
@pytest.mark.parametrize("name", ["two_qubit_mixed_signs", "uniform_alternating", "random_dense_32"])
def test_sign_circuit_probabilities_match_formula(name, loader):
    x = CASES[name]
    n = int(np.log2(x.size))
    prep = sparse_state_preparation(x, num_qubits=n)
    ref = _unit(np.abs(x) + 0.1 * np.random.default_rng(3).random(x.size))
    probs = Statevector(sign_circuit(prep, ref, loader=loader, measure=False)).probabilities()
    expected = np.concatenate([(x + ref) ** 2, (x - ref) ** 2]) / 4.0
    np.testing.assert_allclose(probs, expected, atol=1e-10)


def test_sign_circuit_layout_and_bad_input():
    x = CASES["two_qubit_mixed_signs"]
    prep = sparse_state_preparation(x)
    qc = sign_circuit(prep, np.abs(x))
    assert qc.num_qubits == 3 and qc.num_clbits == 3
    with pytest.raises(ValueError, match="sign_circuit: reference must have length 2\\*\\*2"):
        sign_circuit(prep, np.ones(8) / np.sqrt(8))
    with pytest.raises(ValueError, match="sign_circuit: preparation must be a qiskit QuantumCircuit"):
        sign_circuit(x, np.abs(x))
    with pytest.raises(ValueError, match="loader"):
        sign_circuit(prep, np.abs(x), loader="qram")


# ---------------------------------------------------------------------------
# statistical properties (statevector path)
# ---------------------------------------------------------------------------


def test_magnitudes_unbiased_over_seeds():
    """E[magnitudes**2] = x**2 exactly (multinomial frequencies); 400 seeds."""
    x = CASES["random_dense_32"]
    shots, reps = 2000, 400
    p_hat = np.mean([vector_tomography(x, shots=shots, rng=seed).magnitudes ** 2 for seed in range(reps)], axis=0)
    # standard error of the mean of a binomial frequency: sqrt(p (1 - p) / (shots reps))
    se = np.sqrt(x**2 * (1 - x**2) / (shots * reps))
    assert np.all(np.abs(p_hat - x**2) < 5 * se + 1e-12)
    # the square-root magnitudes are biased low by O(1/shots), but only slightly
    mags = np.mean([vector_tomography(x, shots=shots, rng=seed).magnitudes for seed in range(100)], axis=0)
    np.testing.assert_allclose(mags, np.abs(x), atol=3e-3)


@pytest.mark.parametrize("name", sorted(CASES))
def test_signs_correct_with_high_probability(name):
    """At shots >= 4 / min_i x_i^2 every sign is right in (almost) every run."""
    x = CASES[name]
    nz = x != 0
    shots = int(np.ceil(50 / np.min(x[nz] ** 2)))
    wrong = 0
    for seed in range(50):
        res = vector_tomography(x, shots=shots, rng=seed)
        wrong += int(np.any(res.signs[nz] != np.sign(x[nz])))
        assert np.all(res.estimate[~nz] == 0)
    assert wrong <= 1


def test_error_slope_is_minus_half():
    x = _random_state(64, 11, floor=0.5)
    shots = np.unique(np.logspace(3, 6, 7).astype(int))
    err = [np.mean([vector_tomography(x, shots=int(m), rng=seed).error(x) for seed in range(60)]) for m in shots]
    slope = np.polyfit(np.log(shots), np.log(err), 1)[0]
    assert abs(slope + 0.5) < 0.05, slope
    # and the level matches the delta-method prediction sqrt((s - 1) / (4 shots))
    np.testing.assert_allclose(err, predicted_error(shots, sparsity=64), rtol=0.1)


@pytest.mark.parametrize("d", [2**8, 2**14])
def test_sparse_error_scales_with_sparsity_not_dimension(d):
    s, shots = 16, 4000
    x = _random_state(d, 5, floor=0.5, sparsity=s)
    support = np.flatnonzero(x)
    errs = []
    for seed in range(60):
        res = vector_tomography(x, shots=shots, rng=seed)
        assert set(res.support) <= set(support)
        errs.append(res.error(x))
    mean_err = np.mean(errs)
    np.testing.assert_allclose(mean_err, predicted_error(shots, sparsity=s), rtol=0.15)
    assert mean_err < 0.5 * predicted_error(shots, sparsity=d)


def test_support_removes_leakage():
    """A known support discards outcomes of a small dense leakage and renormalizes."""
    d, s = 1024, 8
    target = _random_state(d, 2, floor=0.5, sparsity=s)
    leak = _unit(np.random.default_rng(9).normal(size=d))
    x = _unit(np.sqrt(1 - 0.01) * target + 0.1 * leak)
    mask = target != 0
    free = vector_tomography(x, shots=200_000, rng=0)
    fixed = vector_tomography(x, shots=200_000, rng=0, support=mask)
    np.testing.assert_array_equal(fixed.support, np.flatnonzero(mask))
    assert np.all(fixed.estimate[~mask] == 0)
    np.testing.assert_allclose(np.linalg.norm(fixed.estimate), 1.0, atol=1e-12)
    assert fixed.error(target) < 0.5 * free.error(target)
    # the in-support fraction estimates ||P_S x||^2
    np.testing.assert_allclose(fixed.support_weight, np.sum(x[mask] ** 2), atol=5e-3)


# ---------------------------------------------------------------------------
# result structure, determinism, both input paths
# ---------------------------------------------------------------------------


def test_result_fields_and_determinism():
    x = CASES["two_qubit_mixed_signs"]
    a = vector_tomography(x, shots=500, rng=123)
    b = vector_tomography(x, shots=500, rng=np.random.default_rng(123))
    assert isinstance(a, TomographyResult)
    np.testing.assert_array_equal(a.estimate, b.estimate)
    np.testing.assert_array_equal(a.sign_counts, b.sign_counts)
    assert a.shots_per_circuit == 500 and a.total_shots == 1000
    assert a.counts.sum() == 500 and a.sign_counts.sum() == 500
    assert a.method == "statevector" and a.num_qubits == 2 and a.dimension == 4
    assert a.settings["shots"] == 500 and a.settings["support_given"] is False
    np.testing.assert_allclose(np.linalg.norm(a.estimate), 1.0, atol=1e-12)
    c = vector_tomography(x, shots=500, rng=124)
    assert not np.array_equal(a.counts, c.counts)


def test_statevector_and_torch_inputs_agree():
    torch = pytest.importorskip("torch")
    x = CASES["random_dense_32"]
    ref = vector_tomography(x, shots=300, rng=4).estimate
    np.testing.assert_array_equal(vector_tomography(Statevector(x), shots=300, rng=4).estimate, ref)
    np.testing.assert_array_equal(vector_tomography(torch.tensor(x), shots=300, rng=4).estimate, ref)
    np.testing.assert_array_equal(vector_tomography(list(x), shots=300, rng=4).estimate, ref)


def test_aer_circuit_path_small():
    """The Aer path: seeded, same distribution as the statevector path, correct signs."""
    x = _unit(np.kron([0.8, -0.6], CASES["two_qubit_mixed_signs"]))  # 3 qubits, mixed signs
    prep = sparse_state_preparation(x)
    a = vector_tomography(prep, shots=20_000, rng=5)
    b = vector_tomography(prep, shots=20_000, rng=5)
    assert a.method == "circuit" and a.sign_circuit is not None and a.sign_circuit.num_qubits == 4
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.sign_counts, b.sign_counts)
    nz = x != 0
    np.testing.assert_array_equal(a.signs[nz], np.sign(x[nz]))
    assert a.error(x) < 4 * predicted_error(20_000, sparsity=int(nz.sum()))
    # stage-1 frequencies agree with |x|^2 (chi-square-like bound: 5 standard errors)
    se = np.sqrt(x**2 * (1 - x**2) / 20_000) + 1e-12
    assert np.all(np.abs(a.counts / 20_000 - x**2) < 5 * se)
    # stage-2 frequencies agree with (x +- x~)^2 / 4 for the magnitudes actually used
    q = np.concatenate([(x + a.magnitudes) ** 2, (x - a.magnitudes) ** 2]) / 4
    se2 = np.sqrt(q * (1 - q) / 20_000) + 1e-12
    assert np.all(np.abs(a.sign_counts.reshape(-1) / 20_000 - q) < 5 * se2)


def test_circuit_global_phase_counts_as_sign():
    x = CASES["two_qubit_mixed_signs"]
    prep = sparse_state_preparation(x)
    flipped = prep.copy()
    flipped.global_phase += np.pi
    res = vector_tomography(flipped, shots=20_000, rng=1)
    nz = x != 0
    np.testing.assert_array_equal(res.signs[nz], -np.sign(x[nz]))


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"shots": 0}, "vector_tomography: shots must be >= 1, got 0"),
        ({"shots": 1.5}, "vector_tomography: shots must be an integer"),
        ({"shots": 10, "support": [0, 4]}, "support has indices outside \\[0, 4\\): \\[4\\]"),
        ({"shots": 10, "support": [-1]}, "support has indices outside"),
        ({"shots": 10, "support": [0.5]}, "support must be a 1-D array of integer indices"),
        ({"shots": 10, "support": np.ones(3, bool)}, "boolean support must be a mask of length 4"),
        ({"shots": 10, "support": []}, "support must be a 1-D array|support is empty"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        vector_tomography(CASES["two_qubit_mixed_signs"], **kwargs)


@pytest.mark.parametrize(
    "state, match",
    [
        (np.array([1.0, 1.0, 0.0, 0.0]), "must be normalized \\(unit 2-norm\\), got norm 1.41421"),
        (np.array([0.6, 0.8j, 0.0, 0.0]), "complex amplitudes .* only real"),
        (np.zeros(4), "zero vector"),
        (np.array([0.6, 0.8, 0.0]), "power-of-two length"),
        (np.array([np.nan, 1.0]), "non-finite"),
        (np.eye(2), "1-D vector"),
        ("abc", "numeric"),
    ],
)
def test_bad_states(state, match):
    with pytest.raises(ValueError, match=match):
        vector_tomography(state, shots=10)


def test_bad_circuits():
    measured = QuantumCircuit(2, 2)
    measured.h(0)
    measured.measure([0, 1], [0, 1])
    with pytest.raises(ValueError, match="must be unitary"):
        vector_tomography(measured, shots=10)
    complex_circuit = QuantumCircuit(1)
    complex_circuit.h(0)
    complex_circuit.s(0)
    with pytest.raises(ValueError, match="complex amplitudes"):
        vector_tomography(complex_circuit, shots=10)


def test_support_with_no_shots_inside():
    with pytest.raises(ValueError, match="none of the 50 stage-1 shots fell in the given support"):
        vector_tomography(np.eye(4)[0], shots=50, support=[3], rng=0)


# ---------------------------------------------------------------------------
# costs and norm recovery
# ---------------------------------------------------------------------------


def test_shots_bound_and_predicted_error():
    # Kerenidis-Prakash Theorem 4.3: 36 d ln d / delta^2 with eps = sqrt(7) delta
    assert shots_bound(64, 0.1) == int(np.ceil(36 * 7 * 64 * np.log(64) / 0.01))
    np.testing.assert_allclose(shots_bound(256, 0.05) / shots_bound(256, 0.1), 4.0, rtol=1e-6)
    np.testing.assert_allclose(predicted_error(2500, sparsity=101), 0.1)
    np.testing.assert_allclose(predicted_error([100, 400], sparsity=5), [0.1, 0.05])
    with pytest.raises(ValueError, match="shots_bound: dimension must be >= 2"):
        shots_bound(1, 0.1)
    with pytest.raises(ValueError, match="shots_bound: eps must be > 0"):
        shots_bound(4, 0.0)
    with pytest.raises(ValueError, match="predicted_error: shots must be >= 1"):
        predicted_error(0, sparsity=3)


def test_recover_norm_hhl_formula():
    """||A^-1 b|| = ||b|| sqrt(p) / C with p = C^2 ||A^-1 b||^2 / ||b||^2 (Harrow et al. 2009)."""
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    lam = np.linspace(0.5, 2.0, 8)
    a = q @ np.diag(lam) @ q.T
    b = rng.normal(size=8)
    c = 0.4
    b_unit = b / np.linalg.norm(b)
    # amplitudes after eigenvalue inversion, computed in the eigenbasis
    beta = q.T @ b_unit
    p = float(np.sum((c * beta / lam) ** 2))
    np.testing.assert_allclose(
        recover_norm(p, reference_norm=np.linalg.norm(b), scaling=c), np.linalg.norm(np.linalg.solve(a, b)), rtol=1e-12
    )


def test_recover_norm_postselected_block():
    rng = np.random.default_rng(1)
    y = rng.normal(size=40)
    block = slice(32, 36)
    p = np.sum(y[block] ** 2) / np.sum(y**2)
    np.testing.assert_allclose(recover_norm(p, reference_norm=np.linalg.norm(y)), np.linalg.norm(y[block]), rtol=1e-12)


def test_norm_relative_error_matches_binomial_spread():
    p, m = 0.2, 5000
    rng = np.random.default_rng(2)
    k = rng.binomial(m, p, size=4000)
    norms = np.array([recover_norm(kk / m, reference_norm=1.0) for kk in k])
    np.testing.assert_allclose(np.std(norms) / np.sqrt(p), norm_relative_error(p, m), rtol=0.05)
    assert norm_relative_error(1.0, 10) == 0.0


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((0.0,), {"reference_norm": 1.0}, "success_probability must be > 0"),
        ((1.5,), {"reference_norm": 1.0}, "success_probability must be in \\(0, 1\\]"),
        ((0.5,), {"reference_norm": -1.0}, "reference_norm must be > 0"),
        ((0.5,), {"reference_norm": 1.0, "scaling": 0.0}, "scaling must be > 0"),
        ((float("nan"),), {"reference_norm": 1.0}, "success_probability must be a finite real number"),
    ],
)
def test_recover_norm_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=f"recover_norm: {match}"):
        recover_norm(*args, **kwargs)



# ---------------------------------------------------------------------------
# Hadamard-pair sign tomography (the read-out of qsgd.hhl's shot mode)
# ---------------------------------------------------------------------------


def _pair_probabilities(x):
    """Exact outcome probabilities of the s + 1 settings (no failure outcome)."""
    s = int(np.log2(x.size))
    rows = [x**2]
    idx = np.arange(x.size)
    for j in range(s):
        partner = idx ^ (1 << j)
        low = ((idx >> j) & 1) == 0
        rows.append(np.where(low, x + x[partner], x[partner] - x) ** 2 / 2)
    return np.array(rows)


def test_hadamard_pair_counts_draws_one_multinomial_per_setting_in_order():
    x = 0.5 * _random_state(8, 11)  # postselection succeeds with probability 1/4
    counts = hadamard_pair_counts(x, 500, rng=3)
    assert counts.shape == (4, 8) and counts.dtype == float
    gen = np.random.default_rng(3)
    for row, p in zip(counts, _pair_probabilities(x)):
        p = np.append(p, 1.0 - x @ x)
        np.testing.assert_array_equal(row, gen.multinomial(500, p / p.sum())[:-1])
    # a Generator is drawn from in place: the same stream continues
    gen, again = np.random.default_rng(3), np.random.default_rng(3)
    hadamard_pair_counts(x, 500, rng=gen)
    hadamard_pair_counts(x, 500, rng=again)
    assert gen.integers(2**31) == again.integers(2**31)


def test_hadamard_pair_counts_of_a_unit_state_never_fail_and_of_zero_never_succeed():
    x = _random_state(4, 2)
    assert hadamard_pair_counts(x, 1000, rng=0).sum(axis=1).tolist() == [1000.0] * 3
    assert not np.any(hadamard_pair_counts(np.zeros(4), 1000, rng=0))


@pytest.mark.parametrize("name", ["two_qubit_mixed_signs", "uniform_alternating", "random_dense_32"])
def test_amplitudes_from_pair_counts_recovers_the_state_up_to_sign(name):
    x = CASES[name]
    est = amplitudes_from_pair_counts(hadamard_pair_counts(x, 200_000, rng=5))
    assert np.linalg.norm(est) == pytest.approx(1.0)
    assert est[np.argmax(np.abs(est))] > 0
    assert min(np.linalg.norm(est - x), np.linalg.norm(est + x)) < 0.02


def test_pair_signs_are_exact_on_exact_probabilities():
    x = _random_state(16, 4, floor=0.2)
    probs = _pair_probabilities(x)
    signs = pair_signs(np.abs(x), probs[1:])
    np.testing.assert_array_equal(signs, np.sign(x) * np.sign(x[np.argmax(np.abs(x))]))
    # a sparse support: zero magnitudes are never reached and get +1
    y = CASES["two_qubit_mixed_signs"]
    assert pair_signs(np.abs(y), _pair_probabilities(y)[1:]).tolist() == [1.0, -1.0, 1.0, 1.0]


def test_amplitudes_from_pair_counts_without_successes_is_zero():
    assert not np.any(amplitudes_from_pair_counts(np.zeros((3, 4))))


def test_pair_tomography_is_reachable_from_the_top_level():
    import qsgd

    assert qsgd.hadamard_pair_counts is hadamard_pair_counts
    assert qsgd.amplitudes_from_pair_counts is amplitudes_from_pair_counts
    assert qsgd.pair_signs is pair_signs


# ---------------------------------------------------------------------------
# the finite-sample error bound: coverage on adversarial states, properties
# ---------------------------------------------------------------------------

#: confidence of the coverage tests (0.999 would need ~10x the replicates to test)
COVERAGE_CONFIDENCE = 0.99
COVERAGE_REPLICATES = 1000


def _log_uniform_amplitudes(s, shots, rng):
    """Magnitudes log-uniform in [1e-12, 1] (before normalization), random signs."""
    return 10.0 ** rng.uniform(-12.0, 0.0, s) * rng.choice([-1.0, 1.0], s)


def _flat_amplitudes(s, shots, rng):
    return rng.choice([-1.0, 1.0], s)


def _dominant_amplitudes(s, shots, rng):
    """One entry of size ~1, the others 1e-16: a postselected state with numerical-noise entries."""
    v = 1e-16 * rng.choice([-1.0, 1.0], s)
    v[rng.integers(s)] = 1.0
    return v


def _near_threshold_amplitudes(s, shots, rng):
    """Half the entries at |x_i| = 1/sqrt(shots) (sign decisions near coin flips), a quarter at 1e-16."""
    k, tiny = s // 2, s // 4
    v = np.empty(s)
    v[:k] = min(1.0 / math.sqrt(shots), math.sqrt(0.5 / k))  # at most half the weight
    v[k:k + tiny] = 1e-16
    v[k + tiny:] = math.sqrt((1.0 - k * v[0] ** 2) / (s - k - tiny))
    return rng.permutation(v) * rng.choice([-1.0, 1.0], s)


STATE_FAMILIES = {
    "log_uniform_1_to_1e-12": _log_uniform_amplitudes,
    "flat": _flat_amplitudes,
    "dominant_plus_1e-16": _dominant_amplitudes,
    "near_threshold": _near_threshold_amplitudes,
}


def _tomography_errors(family, s, shots, replicates, seed):
    """l2 errors of vector_tomography on `replicates` fresh states of `family`.

    Each state has s non-zeros at random positions of a 2s-long register; even replicates
    pass the support (as the pipeline does), odd ones let the observed outcomes define it.
    """
    rng = np.random.default_rng(seed)
    errors = np.empty(replicates)
    for r in range(replicates):
        v = STATE_FAMILIES[family](s, shots, rng)
        idx = np.sort(rng.choice(2 * s, s, replace=False))
        x = np.zeros(2 * s)
        x[idx] = v / np.linalg.norm(v)
        support = idx if r % 2 == 0 else None
        errors[r] = vector_tomography(x, shots=shots, rng=rng, support=support).error(x)
    return errors


def _allowed_violations(replicates, confidence, level=0.999):
    """Largest violation count a correct (1 - alpha)-bound passes: a one-sided binomial test at `level`."""
    return int(binom.ppf(level, replicates, 1.0 - confidence))


def test_allowed_violations_is_the_binomial_quantile():
    assert _allowed_violations(1000, 0.99) == 21  # mean 10, so a 2x excess is still tolerated
    assert binom.sf(21, 1000, 0.01) <= 1e-3 < binom.sf(20, 1000, 0.01)


@pytest.mark.parametrize("shots", [100, 1000, 10_000])
@pytest.mark.parametrize("s", [8, 64])
@pytest.mark.parametrize("family", list(STATE_FAMILIES))
def test_error_bound_covers_every_state_family(family, s, shots):
    """P(error > tomography_error_bound) <= 1 - confidence, also for amplitudes far below 1/sqrt(shots)."""
    seed = 1000 * s + shots + 7 * list(STATE_FAMILIES).index(family)
    errors = _tomography_errors(family, s, shots, COVERAGE_REPLICATES, seed)
    bound = tomography_error_bound(s, shots, confidence=COVERAGE_CONFIDENCE)
    violations = int(np.count_nonzero(errors > bound))
    assert violations <= _allowed_violations(COVERAGE_REPLICATES, COVERAGE_CONFIDENCE), (
        f"{family}, s={s}, shots={shots}: {violations}/{COVERAGE_REPLICATES} errors above the bound {bound:.4g}"
    )


@pytest.mark.parametrize("shots", [1000, 10_000])
@pytest.mark.parametrize("s", [8, 64])
def test_error_estimate_fails_coverage_near_the_sign_threshold(s, shots):
    """The delta-method number is an estimate, not a bound: states with amplitudes ~1/sqrt(shots)
    (and 1e-16 ones) exceed it far more often than 1 - confidence, while the bound holds."""
    errors = _tomography_errors("near_threshold", s, shots, COVERAGE_REPLICATES, seed=11 + s + shots)
    estimate = tomography_error_estimate(s, shots, confidence=COVERAGE_CONFIDENCE)
    violations = int(np.count_nonzero(errors > estimate))
    assert violations > 10 * _allowed_violations(COVERAGE_REPLICATES, COVERAGE_CONFIDENCE)  # measured 30-97 %
    # the same errors are within the bound, which is not vacuous: the worst error reaches 20 % of it
    bound = tomography_error_bound(s, shots, confidence=COVERAGE_CONFIDENCE)
    assert errors.max() <= bound
    assert errors.max() >= 0.2 * bound


def test_error_decomposition_of_the_proof():
    """Step 0 of the proof: ||x_hat - x||^2 = D + 4 sum_W m_i a_i <= (sqrt(D) + 2 sqrt(U))^2."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        x = _unit(_near_threshold_amplitudes(16, 100, rng))
        res = vector_tomography(x, shots=100, rng=rng)
        a, m = np.abs(x), res.magnitudes
        wrong = (m > 0) & (res.signs != np.sign(x))
        d = float(np.sum((m - a) ** 2))
        u = float(np.sum(np.minimum(a, m)[wrong] ** 2))
        np.testing.assert_allclose(res.error(x) ** 2, d + 4.0 * np.sum((m * a)[wrong]), rtol=1e-10, atol=1e-14)
        assert res.error(x) <= math.sqrt(d) + 2.0 * math.sqrt(u) + 1e-12


@pytest.mark.parametrize("s", [2, 8, 64, 256, 4096])
def test_error_bound_is_finite_decreasing_and_at_most_two(s):
    shots = np.unique(np.logspace(0, 9, 91).astype(np.int64))
    bounds = np.array([tomography_error_bound(s, int(n)) for n in shots])
    assert np.all(np.isfinite(bounds)) and np.all(bounds >= 0.0) and np.all(bounds <= 2.0)
    assert np.all(np.diff(bounds) <= 0.0)
    below = bounds < 2.0
    assert np.all(np.diff(bounds[below]) < 0.0)  # strictly once it is informative
    assert bounds[-1] < 0.05


@pytest.mark.parametrize("s", [2, 16, 256])
def test_error_bound_scales_like_shots_to_the_minus_half(s):
    big = 10**7
    np.testing.assert_allclose(tomography_error_bound(s, 4 * big) / tomography_error_bound(s, big), 0.5,
                               rtol=1e-12)
    np.testing.assert_allclose(tomography_error_bound(s, 100 * big) * math.sqrt(100),
                               tomography_error_bound(s, big), rtol=1e-12)


def test_error_bound_orderings_and_one_amplitude():
    assert tomography_error_bound(1, 1) == 0.0 and tomography_error_bound(1, 10**6, confidence=0.5) == 0.0
    for shots in (100, 10_000, 10**6):
        by_sparsity = [tomography_error_bound(s, shots) for s in (2, 4, 16, 64, 256)]
        assert np.all(np.diff(by_sparsity) >= 0.0)
        by_confidence = [tomography_error_bound(16, shots, confidence=c) for c in (0.5, 0.9, 0.99, 0.999, 1 - 1e-9)]
        assert np.all(np.diff(by_confidence) >= 0.0)
        for s in (2, 16, 256):
            assert tomography_error_bound(s, shots) >= tomography_error_estimate(s, shots)


def test_error_estimate_is_the_chi_square_quantile():
    np.testing.assert_allclose(tomography_error_estimate(6, 10_000), math.sqrt(chi2.ppf(0.999, 5) / 40_000),
                               rtol=1e-12)
    np.testing.assert_allclose(tomography_error_estimate(6, 400) / tomography_error_estimate(6, 100), 0.5,
                               rtol=1e-12)
    assert tomography_error_estimate(1, 10) == 0.0


@pytest.mark.parametrize("s, eps", [(2, 0.1), (16, 0.1), (16, 0.01), (64, 0.5), (256, 0.05), (3, 1.9)])
def test_shots_for_is_the_smallest_sufficient_count(s, eps):
    n = tomography_shots_for(s, eps)
    assert tomography_error_bound(s, n) <= eps
    assert n == 1 or tomography_error_bound(s, n - 1) > eps
    assert tomography_shots_for(s, eps, confidence=0.9) <= n


def test_shots_for_trivial_and_absurd_targets():
    assert tomography_shots_for(1, 1e-6) == 1
    assert tomography_shots_for(64, 2.0) == 1
    n = tomography_shots_for(64, 1e-6)  # about 2e14 copies: large, still allowed
    assert n <= TOMOGRAPHY_MAX_SHOTS
    with pytest.raises(ValueError, match=r"tomography_shots_for: eps = 1e-09 with sparsity = 64"):
        tomography_shots_for(64, 1e-9)


# ------------------------------------------------ the bad-input catalogue (call, words)

_X = np.array([0.6, -0.48, 0.0, 0.64])

BAD_INPUT = {
    "tomography None state": (lambda: vector_tomography(None, shots=10), ["vector_tomography", "state"]),
    "tomography string state": (lambda: vector_tomography("0101", shots=10), ["vector_tomography", "state"]),
    "tomography complex state": (lambda: vector_tomography(np.array([0.6, 0.8j]), shots=10),
                                 ["vector_tomography", "complex"]),
    "tomography empty state": (lambda: vector_tomography([], shots=10), ["vector_tomography", "state"]),
    "tomography zero state": (lambda: vector_tomography(np.zeros(4), shots=10), ["vector_tomography", "zero"]),
    "tomography None shots": (lambda: vector_tomography(_X, shots=None), ["vector_tomography", "shots"]),
    "tomography string rng": (lambda: vector_tomography(_X, shots=10, rng="seed"), ["vector_tomography", "rng"]),
    "tomography float support": (lambda: vector_tomography(_X, shots=10, support=[0.5]),
                                 ["vector_tomography", "support"]),
    "sign None preparation": (lambda: sign_circuit(None, _X), ["sign_circuit", "preparation"]),
    "sign string measure": (lambda: sign_circuit(QuantumCircuit(2), _X, measure="no"), ["sign_circuit", "measure"]),
    "sign complex reference": (lambda: sign_circuit(QuantumCircuit(2), np.array([0.6, 0.8j, 0, 0])),
                               ["sign_circuit", "complex"]),
    "shots_bound tiny eps": (lambda: shots_bound(4, 1e-200), ["shots_bound", "eps", "overflows"]),
    "shots_bound string dimension": (lambda: shots_bound("4", 0.1), ["shots_bound", "dimension"]),
    "predicted_error string shots": (lambda: predicted_error("100", sparsity=3), ["predicted_error", "shots"]),
    "predicted_error complex shots": (lambda: predicted_error(100j, sparsity=3), ["predicted_error", "shots"]),
    "predicted_error None shots": (lambda: predicted_error(None, sparsity=3), ["predicted_error", "shots"]),
    "predicted_error empty shots": (lambda: predicted_error([], sparsity=3), ["predicted_error", "shots"]),
    "recover_norm p > 1": (lambda: recover_norm(1.5, reference_norm=1.0), ["recover_norm", "success_probability"]),
    "recover_norm None norm": (lambda: recover_norm(0.5, reference_norm=None), ["recover_norm", "reference_norm"]),
    "norm_error zero shots": (lambda: norm_relative_error(0.5, 0), ["norm_relative_error", "shots"]),
    "pairs norm above one": (lambda: hadamard_pair_counts([1.0, 1.0], 10), ["hadamard_pair_counts", "state", "2"]),
    "pairs length 3": (lambda: hadamard_pair_counts([0.5, 0.5, 0.5], 10), ["hadamard_pair_counts", "state", "3"]),
    "pairs complex state": (lambda: hadamard_pair_counts([0.6, 0.8j], 10), ["hadamard_pair_counts", "state", "complex"]),
    "pairs zero shots": (lambda: hadamard_pair_counts([0.6, 0.8], 0), ["hadamard_pair_counts", "shots", "0"]),
    "pairs string rng": (lambda: hadamard_pair_counts([0.6, 0.8], 10, rng="a"), ["hadamard_pair_counts", "rng"]),
    "amplitudes 1-D counts": (lambda: amplitudes_from_pair_counts([1.0, 2.0]),
                              ["amplitudes_from_pair_counts", "counts", "2-D"]),
    "amplitudes wrong rows": (lambda: amplitudes_from_pair_counts(np.ones((2, 4))),
                              ["amplitudes_from_pair_counts", "counts", "(2, 4)"]),
    "amplitudes odd columns": (lambda: amplitudes_from_pair_counts(np.ones((2, 3))),
                               ["amplitudes_from_pair_counts", "counts", "3"]),
    "amplitudes negative": (lambda: amplitudes_from_pair_counts([[1.0, -1.0], [1.0, 1.0]]),
                            ["amplitudes_from_pair_counts", "counts", "-1"]),
    "amplitudes nan": (lambda: amplitudes_from_pair_counts([[1.0, np.nan], [1.0, 1.0]]),
                       ["amplitudes_from_pair_counts", "counts", "non-finite"]),
    "signs negative magnitude": (lambda: pair_signs([-0.6, 0.8], [[1.0, 1.0]]), ["pair_signs", "magnitudes", "-0.6"]),
    "signs wrong rows": (lambda: pair_signs([0.6, 0.8], [[1.0, 1.0], [1.0, 1.0]]), ["pair_signs", "pair_counts", "(2, 2)"]),
    "signs wrong columns": (lambda: pair_signs([0.6, 0.8], [[1.0, 1.0, 1.0]]), ["pair_signs", "pair_counts", "(1, 3)"]),
    "bound zero sparsity": (lambda: tomography_error_bound(0, 100), ["tomography_error_bound", "sparsity", "0"]),
    "bound float shots": (lambda: tomography_error_bound(4, 100.5), ["tomography_error_bound", "shots", "100.5"]),
    "bound zero shots": (lambda: tomography_error_bound(4, 0), ["tomography_error_bound", "shots", "0"]),
    "bound confidence 1": (lambda: tomography_error_bound(4, 100, confidence=1.0),
                           ["tomography_error_bound", "confidence", "1.0"]),
    "bound confidence nan": (lambda: tomography_error_bound(4, 100, confidence=float("nan")),
                             ["tomography_error_bound", "confidence"]),
    "bound string confidence": (lambda: tomography_error_bound(4, 100, confidence="high"),
                                ["tomography_error_bound", "confidence"]),
    "estimate negative confidence": (lambda: tomography_error_estimate(4, 100, confidence=-0.5),
                                     ["tomography_error_estimate", "confidence", "-0.5"]),
    "estimate None shots": (lambda: tomography_error_estimate(4, None), ["tomography_error_estimate", "shots"]),
    "shots_for zero eps": (lambda: tomography_shots_for(4, 0.0), ["tomography_shots_for", "eps", "0"]),
    "shots_for string sparsity": (lambda: tomography_shots_for("4", 0.1), ["tomography_shots_for", "sparsity"]),
    "shots_for confidence 2": (lambda: tomography_shots_for(4, 0.1, confidence=2.0),
                               ["tomography_shots_for", "confidence", "2.0"]),
    "error wrong length": (lambda: vector_tomography(_X, shots=10, rng=1).error([1.0, 0.0]),
                           ["TomographyResult.error", "truth", "length 4"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, refuses):
    call, words = BAD_INPUT[case]
    refuses(call, ValueError, words)


def test_a_bad_reference_is_blamed_on_the_reference():
    qc = QuantumCircuit(1)
    qc.h(0)
    with pytest.raises(ValueError, match="sign_circuit: reference must have a power-of-two length"):
        sign_circuit(qc, [1.0, 2.0, 3.0])
