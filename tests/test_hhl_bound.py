"""Tests for qsgd.hhl.bound: the a priori HHL error bound against the exact finite-clock error.

The bound (:func:`hhl_error_bound`) is computed from the parameters alone; every check here
compares it with something it was not computed from: the exact response of the circuit
(:func:`qsgd.hhl.hhl_filter`) on a fine grid, and the output of the algorithm-level model
(:func:`qsgd.hhl.hhl_model`).
"""

import dataclasses
import math
import warnings

import numpy as np
import pytest

import qsgd.hhl.bound as bound_module
import qsgd.hhl.filter as filter_module
from qsgd.decomposition import SpectralBounds, decompose
from qsgd.hhl import PHASE_HEADROOM, HHLResolutionWarning, hhl_filter, hhl_model, hhl_parameters
from qsgd.hhl.bound import hhl_error_bound, hhl_error_estimate

#: points per clock bin of the dense grid on which the exact supremum is taken
POINTS_PER_BIN = 256
#: whole-range dense grids up to this many points; beyond, both ends dense and random points between
DENSE_POINTS = 2**15
END_BINS = 8
MIDDLE_POINTS = 1024


def _parameters(lower, upper, c, *, definite, headroom, margin=2.0):
    sb = SpectralBounds(lower, upper, definite, not definite, "known")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HHLResolutionWarning)
        return hhl_parameters(sb, clock_qubits=c, headroom=headroom, margin=margin)


def _exact_sup(p, rng):
    r"""2 max |g(lambda) lambda / C - 1| from the exact filter, on a grid fine enough to find the supremum.

    Both signs on a signed clock. Up to :data:`DENSE_POINTS` points the whole range is gridded
    at :data:`POINTS_PER_BIN` points per bin; beyond, the :data:`END_BINS` bins at each end (where
    the error peaks: the resolution of lambda_min, the wrap-around point at lambda_max) are, and
    :data:`MIDDLE_POINTS` uniform random points cover the rest.
    """
    lo, hi = p.bounds.lower, p.bounds.upper
    width = 2 * math.pi / (p.evolution_time * 2**p.clock_qubits)  # one clock bin in lambda
    bins = (hi - lo) / width
    if bins * POINTS_PER_BIN <= DENSE_POINTS:
        lam = np.linspace(lo, hi, int(bins * POINTS_PER_BIN) + 2)
    else:
        ends = END_BINS * POINTS_PER_BIN
        lam = np.concatenate([np.linspace(lo, lo + END_BINS * width, ends), np.linspace(hi - END_BINS * width, hi, ends),
                              rng.uniform(lo, hi, MIDDLE_POINTS)])
    if not p.definite:
        lam = np.concatenate([lam, -lam])
    g = hhl_filter(lam, clock_qubits=p.clock_qubits, evolution_time=p.evolution_time, scaling=p.scaling,
                   definite=p.definite)
    return float(2 * np.max(np.abs(g * lam / p.constant - 1.0)))


def _random_case(seed):
    """One random parameter set: kappa in [1.5, 200] (log-uniform), c in 3..14, definite or dilated,
    textbook time or head-room 3/8, rotation margin 1, 2 or 4.

    Three cases in four draw c from the clocks that resolve lambda_min (where the bound is finite
    and the comparison has teeth), the fourth from all of 3..14.
    """
    rng = np.random.default_rng(seed)
    kappa = math.exp(rng.uniform(math.log(1.5), math.log(200.0)))
    upper = rng.uniform(0.5, 3.0)
    resolving = min(14, max(3, math.ceil(math.log2(kappa / PHASE_HEADROOM)) + 2))
    c = int(rng.integers(resolving if rng.uniform() < 0.75 else 3, 15))
    definite = bool(rng.integers(2))
    headroom = None if rng.integers(2) else PHASE_HEADROOM
    margin = float(rng.choice([1.0, 2.0, 2.0, 4.0]))
    return _parameters(upper / kappa, upper, c, definite=definite, headroom=headroom, margin=margin), rng


# --------------------------------------------------------------------------- the bound holds


def _seeds(count):
    """The seeds of the random cases; those with a 13- or 14-qubit clock are marked slow (a second each)."""
    return [pytest.param(seed, marks=pytest.mark.slow) if _random_case(seed)[0].clock_qubits >= 13 else seed
            for seed in range(count)]


@pytest.mark.parametrize("seed", _seeds(208))
def test_bound_is_at_least_the_exact_supremum(seed):
    p, rng = _random_case(seed)
    bound = hhl_error_bound(p)
    exact = _exact_sup(p, rng)
    assert exact <= bound * (1 + 1e-9), (p, exact, bound)
    if math.isfinite(bound):
        assert bound < 2.0
        # a bound, not an arbitrary large number: within a modest factor of the truth (benchmarks/bench_hhl_bound.py)
        assert bound <= 40 * exact, (p, exact, bound)


# known cases: parameters where the bound is close to the exact value (few bins) or where the
# exact error is large (the clock barely resolves lambda_min, the wrap-around point)
CATALOGUE = {
    # Qiskit textbook system (eigenvalues 2/3 and 4/3), chapter 4's clock: lambda_min on bin 2, no bound
    "qiskit_textbook_c3": (2 / 3, 4 / 3, 3, True, None),
    "qiskit_textbook_c8": (2 / 3, 4 / 3, 8, True, None),
    "kappa2_headroom_c6": (0.5, 1.0, 6, True, PHASE_HEADROOM),
    "kappa10_dilated_headroom_c9": (0.1, 1.0, 9, False, PHASE_HEADROOM),
    "kappa10_dilated_textbook_c9": (0.1, 1.0, 9, False, None),
    "kappa100_headroom_c14": (0.01, 1.0, 14, True, PHASE_HEADROOM),
    "kappa1_c5": (1.0, 1.0, 5, False, PHASE_HEADROOM),
}


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_catalogue_bound_dominates(name):
    lower, upper, c, definite, headroom = CATALOGUE[name]
    p = _parameters(lower, upper, c, definite=definite, headroom=headroom)
    assert _exact_sup(p, np.random.default_rng(0)) <= hhl_error_bound(p) * (1 + 1e-9)


def test_textbook_signed_clock_has_no_bound():
    """lambda_max on the last positive bin of a signed clock: the wrap-around point is one bin away and
    the exact error does not fall with the clock (about 0.29); the a priori bound is inf at every clock."""
    for c in range(4, 15):
        p = _parameters(0.1, 1.0, c, definite=False, headroom=None)
        assert hhl_error_bound(p) == math.inf
    assert 0.25 < hhl_error_estimate(_parameters(0.1, 1.0, 10, definite=False, headroom=None), points_per_bin=16) < 0.35


def test_bound_holds_for_the_model_output():
    """Random small non-symmetric (dilated), symmetric definite and indefinite systems: the model's
    normalized output is within the a priori bound of A^{-1} b / ||A^{-1} b||."""
    rng = np.random.default_rng(2024)
    checked = 0
    for trial in range(12):
        m = int(rng.choice([2, 4, 8]))
        kind = ("nonsymmetric", "definite", "indefinite")[trial % 3]
        if kind == "nonsymmetric":
            A = rng.normal(size=(m, m)) / math.sqrt(m) + rng.uniform(0.8, 3.0) * np.eye(m)
        else:
            q, _ = np.linalg.qr(rng.normal(size=(m, m)))
            w = np.exp(rng.uniform(0.0, math.log(30.0), m))
            if kind == "indefinite":
                w[: m // 2] *= -1
            A = (q * w) @ q.T
        b = rng.normal(size=m)
        dec = decompose(A)
        for c in (5, 7, 9, 11):
            for headroom in (None, PHASE_HEADROOM):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", HHLResolutionWarning)
                    p = hhl_parameters(dec, clock_qubits=c, headroom=headroom)
                out = hhl_model(dec, b, parameters=p)
                error = float(np.linalg.norm(out.solution - out.reference))
                bound = hhl_error_bound(p)
                assert error <= bound * (1 + 1e-9), (kind, m, c, headroom, error, bound)
                # the diagnostic at the actual values is the model's own error bound, never above the a priori one
                assert error <= hhl_error_estimate(p, eigenvalues=dec.moduli) * (1 + 1e-9) + 1e-12
                assert hhl_error_estimate(p, eigenvalues=dec.moduli) <= bound * (1 + 1e-9)
                checked += math.isfinite(bound)
    assert checked >= 30  # most cases give a finite, hence non-trivial, bound


def test_bound_does_not_evaluate_the_filter(monkeypatch):
    """A priori: computed from the parameters, without the finite-clock response."""

    def refuse(*args, **kwargs):
        raise AssertionError("the a priori bound evaluated the filter")

    for module in (bound_module, filter_module):
        for name in ("hhl_filter", "reciprocal_amplitudes", "_reciprocal_amplitudes"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, refuse)
    p = _parameters(0.1, 1.0, 10, definite=True, headroom=PHASE_HEADROOM)
    assert 0 < hhl_error_bound(p) < 1
    with pytest.raises(AssertionError, match="evaluated the filter"):
        hhl_error_estimate(p, points_per_bin=4)


# --------------------------------------------------------------------------- dependence on the clock


@pytest.mark.parametrize("definite", [True, False])
@pytest.mark.parametrize("kappa", [1.5, 2.0, 7.0, 10.0, 56.0, 200.0])
def test_bound_falls_like_kappa_two_to_minus_c(kappa, definite):
    clocks = range(3, 41)
    bounds = np.array([hhl_error_bound(_parameters(1.0 / kappa, 1.0, c, definite=definite, headroom=PHASE_HEADROOM))
                       for c in clocks])
    # non-increasing in c (inf while the clock cannot resolve lambda_min)
    assert np.all(bounds[1:] <= bounds[:-1] * (1 + 1e-12)), bounds
    finite = np.isfinite(bounds)
    c_min = clocks[int(np.argmax(finite))]
    assert finite.any() and np.all(finite[c_min - 3:])
    # c_min(kappa): the smallest eigenvalue some bins above the rotation threshold
    assert c_min <= math.log2(kappa / PHASE_HEADROOM) + 6
    # slope of log2(bound) against c: -1 up to the logarithm, over 20 clock qubits past c_min
    cs = np.arange(c_min + 2, c_min + 22)
    slope = np.polyfit(cs, np.log2(bounds[cs - 3]), 1)[0]
    assert -1.02 < slope < -0.9, slope
    # bound ~ kappa 2^-c up to a logarithm: bound 2^c / (kappa log2(kappa 2^c)) stays within a narrow band
    scaled = bounds[cs - 3] * 2.0**cs / (kappa * np.log2(kappa * 2.0**cs))
    assert scaled.max() / scaled.min() < 2.0, scaled


def test_infinite_when_the_clock_cannot_resolve_lambda_min():
    for c in (3, 4, 5):
        p = _parameters(0.01, 1.0, c, definite=True, headroom=PHASE_HEADROOM)
        assert p.bin_of_min < 1
        assert hhl_error_bound(p) == math.inf


def test_bound_grows_with_kappa():
    """At a fixed clock, a wider spectrum puts lambda_min on a lower bin: a larger bound."""
    bounds = [hhl_error_bound(_parameters(1.0 / kappa, 1.0, 12, definite=False, headroom=PHASE_HEADROOM))
              for kappa in (1.5, 3.0, 10.0, 30.0, 100.0)]
    assert all(b1 < b2 for b1, b2 in zip(bounds, bounds[1:])), bounds


@pytest.mark.parametrize("c, expected", [(8, 0.4409), (10, 0.1113), (12, 0.0311)])
def test_known_values(c, expected):
    """The docstring's example (kappa = 10, definite, head-room 3/8): a regression check of the formula."""
    p = _parameters(0.1, 1.0, c, definite=True, headroom=PHASE_HEADROOM)
    assert hhl_error_bound(p) == pytest.approx(expected, abs=5e-5)


def test_large_clocks_are_cheap_and_keep_falling():
    """Closed form: any clock (up to 62 qubits), including where the gate rounds rotations near 1."""
    bounds = [hhl_error_bound(_parameters(0.1, 1.0, c, definite=d, headroom=PHASE_HEADROOM))
              for d in (True, False) for c in (20, 30, 45, 62)]
    assert all(0 < b < 1e-3 for b in bounds)
    assert bounds[3] < 1e-14 and bounds[7] < 1e-14


# --------------------------------------------------------------------------- the diagnostic


def test_estimate_matches_the_filter_at_eigenvalues():
    p = _parameters(0.5, 2.0, 6, definite=False, headroom=PHASE_HEADROOM)
    moduli = np.array([0.5, 0.9, 1.7, 2.0])
    lam = np.concatenate([moduli, -moduli])
    g = hhl_filter(lam, clock_qubits=6, evolution_time=p.evolution_time, scaling=p.scaling, definite=False)
    expected = 2 * np.max(np.abs(g * lam / p.constant - 1))
    assert hhl_error_estimate(p, eigenvalues=moduli) == pytest.approx(expected, rel=1e-12)
    assert hhl_error_estimate(p, eigenvalues=moduli) <= hhl_error_estimate(p, points_per_bin=256) * (1 + 1e-6)


# --------------------------------------------------------------------------- bad input

_P = _parameters(2 / 3, 4 / 3, 3, definite=True, headroom=None)

BAD_INPUT = {
    "bound not parameters": (lambda: hhl_error_bound((0.5, 1.0)), ValueError,
                             ["hhl_error_bound", "parameters", "HHLParameters", "(0.5, 1.0)"]),
    "bound None": (lambda: hhl_error_bound(None), ValueError, ["hhl_error_bound", "parameters", "None"]),
    "bound inconsistent constant": (lambda: hhl_error_bound(dataclasses.replace(_P, constant=2 * _P.constant)),
                                    ValueError, ["hhl_error_bound", "constant", repr(2 * _P.constant)]),
    "bound wrapping time": (lambda: hhl_error_bound(dataclasses.replace(
        _P, evolution_time=_P.evolution_time * 2, constant=_P.constant / 2)), ValueError,
        ["hhl_error_bound", "evolution_time", repr(_P.evolution_time * 2), "wraps"]),
    "bound grid knob": (lambda: hhl_error_bound(_P, points_per_bin=16), TypeError, ["points_per_bin"]),
    "estimate not parameters": (lambda: hhl_error_estimate([1.0]), ValueError,
                                ["hhl_error_estimate", "parameters", "HHLParameters"]),
    "estimate few points": (lambda: hhl_error_estimate(_P, points_per_bin=2), ValueError,
                            ["hhl_error_estimate", "points_per_bin", ">= 4"]),
    "estimate 40-qubit clock": (lambda: hhl_error_estimate(_parameters(0.5, 1.0, 40, definite=False, headroom=None)),
                                ValueError, ["hhl_error_estimate", "grid", "points_per_bin=64"]),
    "estimate eigenvalues outside": (lambda: hhl_error_estimate(_P, eigenvalues=[0.5, 1.0]), ValueError,
                                     ["hhl_error_estimate", "eigenvalues", "[0.666667, 1.33333]", "0.5"]),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input(case, refuses):
    call, exc, words = BAD_INPUT[case]
    refuses(call, exc, words)
