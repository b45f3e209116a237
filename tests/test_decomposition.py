"""Tests for qsgd.decomposition: the decompositions, spectral bounds and condition numbers the solvers use."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from qsgd._validation import DEFAULT_MAX_BYTES
from qsgd.decomposition import (
    DECOMPOSITION_METHODS,
    SPECTRUM_RTOL,
    Decomposition,
    SpectralBounds,
    condition_number,
    decompose,
    spectral_bounds,
)

TEXTBOOK_A = np.array([[1.0, -1 / 3], [-1 / 3, 1.0]])  # eigenvalues 2/3 and 4/3


def _symmetric(m, seed, values=None):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(m, m)))
    w = np.linspace(1.0, 3.0, m) if values is None else np.asarray(values, dtype=float)
    A = (q * w) @ q.T
    return (A + A.T) / 2


def _nonsymmetric(m, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, m)) / math.sqrt(m) + 2.5 * np.eye(m)


def _eq6(seed, steps=3):
    """A small Eq.-6-like block lower-bidiagonal matrix [[I, 0, ...], [-C, I, ...], ...], C a contraction."""
    rng = np.random.default_rng(seed)
    C = rng.normal(size=(2, 2))
    C *= 0.8 / np.linalg.norm(C, 2)
    return sp.csr_array(sp.eye_array(2 * (steps + 1)) - sp.kron(sp.eye_array(steps + 1, k=-1), C))


#: name -> matrix: the catalogue crossed with the properties below
CASES = {
    "textbook": TEXTBOOK_A,
    "spd 6": _symmetric(6, 1),
    "indefinite 5": _symmetric(5, 2, values=[-2.0, -0.5, 0.7, 1.0, 3.0]),
    "nonsymmetric 4": _nonsymmetric(4, 3),
    "nonsymmetric 7": _nonsymmetric(7, 4),
    "eq6 T=3": _eq6(5).toarray(),
    "1x1": np.array([[-2.5]]),
}
SYMMETRIC = {"textbook", "spd 6", "indefinite 5", "1x1"}


# --------------------------------------------------------------------------- agreement with NumPy


@pytest.mark.parametrize("name", list(CASES))
def test_auto_is_eigh_for_symmetric_and_svd_otherwise(name):
    A = CASES[name]
    dec = decompose(A)
    assert isinstance(dec, Decomposition) and dec.shape == A.shape and dec.dimension == A.shape[0]
    if name in SYMMETRIC:
        assert dec.symmetric and not dec.dilated and dec.method == "eigh" and dec.right is None
        np.testing.assert_allclose(dec.values, np.linalg.eigvalsh(A), rtol=1e-12, atol=1e-14)
        V = dec.left
        np.testing.assert_allclose(V.T @ V, np.eye(A.shape[0]), atol=1e-12)
        np.testing.assert_allclose(A @ V, V * dec.values, atol=1e-12)
        assert dec.definite == bool(np.all(np.linalg.eigvalsh(A) > 0))
    else:
        assert not dec.symmetric and dec.dilated and dec.method == "svd" and not dec.definite
        np.testing.assert_allclose(dec.values, np.linalg.svd(A, compute_uv=False), rtol=1e-12)
        U, W = dec.left, dec.right
        np.testing.assert_allclose(U.T @ U, np.eye(A.shape[0]), atol=1e-12)
        np.testing.assert_allclose(W.T @ W, np.eye(A.shape[0]), atol=1e-12)
        np.testing.assert_allclose((U * dec.values) @ W.T, A, atol=1e-12)
    np.testing.assert_allclose(dec.sigma, np.linalg.svd(A, compute_uv=False), rtol=1e-12)
    assert np.all(np.diff(dec.sigma) <= 0)
    np.testing.assert_allclose(np.sort(dec.moduli), np.sort(np.abs(dec.values)), rtol=0)


@pytest.mark.parametrize("name", list(CASES))
def test_normal_method_gives_the_singular_values_and_consistent_vectors(name):
    A = CASES[name]
    dec = decompose(A, method="normal")
    assert not dec.symmetric and dec.dilated and dec.method == "normal"
    np.testing.assert_allclose(dec.values, np.linalg.svd(A, compute_uv=False), rtol=1e-10)
    assert np.all(np.diff(dec.values) <= 0)  # descending
    U, V = dec.left, dec.right
    np.testing.assert_allclose(A @ V, U * dec.values, atol=1e-12)  # A V = U diag(sigma), U = A V / sigma
    np.testing.assert_allclose(V.T @ V, np.eye(A.shape[0]), atol=1e-10)
    np.testing.assert_allclose(U.T @ U, np.eye(A.shape[0]), atol=1e-10)
    # the same dense and sparse
    sparse = decompose(sp.csr_array(A), method="normal")
    np.testing.assert_allclose(sparse.values, dec.values, rtol=1e-12)


@pytest.mark.parametrize("name", ["textbook", "indefinite 5"])
def test_svd_method_decomposes_a_symmetric_matrix_by_singular_values(name):
    A = CASES[name]
    dec = decompose(A, method="svd")
    assert not dec.symmetric and dec.method == "svd"
    np.testing.assert_allclose(dec.values, np.linalg.svd(A, compute_uv=False), rtol=1e-12)
    np.testing.assert_allclose((dec.left * dec.values) @ dec.right.T, A, atol=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_dense_and_sparse_input_agree(name):
    A = CASES[name]
    dense, sparse = decompose(A), decompose(sp.csr_array(A))
    assert (dense.symmetric, dense.method, dense.shape) == (sparse.symmetric, sparse.method, sparse.shape)
    np.testing.assert_allclose(sparse.values, dense.values, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("method", DECOMPOSITION_METHODS)
def test_condition_number_is_numpys(name, method):
    A = CASES[name]
    expected = np.linalg.cond(A)
    assert decompose(A, method=method).condition_number == pytest.approx(expected, rel=1e-10)
    assert decompose(A, method=method, vectors=False).condition_number == pytest.approx(expected, rel=1e-10)
    assert condition_number(A) == pytest.approx(expected, rel=1e-10)
    assert decompose(A, method=method).bounds.condition_number == pytest.approx(expected, rel=1e-10)


def test_condition_number_of_the_textbook_system():
    dec = decompose(TEXTBOOK_A)
    np.testing.assert_allclose(dec.values, [2 / 3, 4 / 3], rtol=1e-14)
    assert dec.condition_number == pytest.approx(2.0, rel=1e-14)
    assert dec.definite and not dec.dilated
    assert dec.bounds == SpectralBounds(dec.values[0], dec.values[1], True, False, "exact")


def test_a_hand_made_singular_decomposition_has_infinite_condition_number():
    dec = Decomposition(values=np.array([0.0, 1.0]), left=np.eye(2), right=None, shape=(2, 2), symmetric=True,
                        method="eigh")
    assert dec.condition_number == math.inf


# --------------------------------------------------------------------------- values only


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("method", DECOMPOSITION_METHODS)
def test_values_only_decomposition(name, method):
    A = CASES[name]
    full = decompose(A, method=method)
    values = decompose(A, method=method, vectors=False)
    assert values.left is None and values.right is None
    assert (values.symmetric, values.method, values.shape) == (full.symmetric, full.method, full.shape)
    np.testing.assert_allclose(values.values, full.values, rtol=1e-12, atol=1e-14)
    assert values.bounds.lower == pytest.approx(full.bounds.lower, rel=1e-12)
    assert values.bounds.upper == pytest.approx(full.bounds.upper, rel=1e-12)
    if values.symmetric == (name in SYMMETRIC):  # of the kind the solvers use: only the vectors are missing
        with pytest.raises(ValueError, match="Decomposition.check: the decomposition holds values only"):
            values.check(A)


@pytest.mark.parametrize("name", list(CASES))
def test_spectral_bounds_exact_are_the_decompositions(name):
    A = CASES[name]
    bounds, exact = spectral_bounds(A), decompose(A).bounds
    assert (bounds.definite, bounds.dilated, bounds.method) == (exact.definite, exact.dilated, "exact")
    assert bounds.lower == pytest.approx(exact.lower, rel=1e-12)
    assert bounds.upper == pytest.approx(exact.upper, rel=1e-12)


# --------------------------------------------------------------------------- Decomposition.check


@pytest.mark.parametrize("name", list(CASES))
def test_check_accepts_its_own_matrix_and_returns_itself(name):
    A = CASES[name]
    methods = ("auto",) if name in SYMMETRIC else DECOMPOSITION_METHODS
    for method in methods:
        dec = decompose(A, method=method)
        assert dec.check(A) is dec
        assert dec.check(sp.csr_array(A)) is dec
    if name in SYMMETRIC:  # a solver inverts a symmetric A itself, so it needs its eigendecomposition
        for method in ("normal", "svd"):
            with pytest.raises(ValueError, match="is a singular-value decomposition, but A is symmetric"):
                decompose(A, method=method).check(A)


@pytest.mark.parametrize("name", ["spd 6", "indefinite 5", "nonsymmetric 4", "eq6 T=3"])
def test_check_rejects_the_decomposition_of_another_matrix(name):
    A = CASES[name]
    dec = decompose(A)
    with pytest.raises(ValueError, match="Decomposition.check: the decomposition does not describe A"):
        dec.check(1.01 * A)
    # a perturbation along the extreme vectors that the tolerance admits, and one it does not
    k = int(np.argmin(dec.moduli))
    v = (dec.right if dec.dilated else dec.left)[:, k]
    u = dec.left[:, k]
    for factor, ok in ((0.5, True), (3.0, False)):
        B = A + factor * SPECTRUM_RTOL * dec.moduli[k] * np.outer(u, v)
        if ok:
            assert dec.check(B, func="test") is dec
        else:
            with pytest.raises(ValueError, match="test: the decomposition does not describe A"):
                dec.check(B, func="test")
    # a looser rtol admits the 1 % change
    assert dec.check(1.01 * A, rtol=0.02) is dec


def test_check_messages():
    ns, sym = _nonsymmetric(3, 8), _symmetric(3, 9)
    with pytest.raises(ValueError, match=r"f: the decomposition is of a 3x3 matrix, but A has shape \(4, 4\)"):
        decompose(ns).check(np.eye(4), func="f")
    with pytest.raises(ValueError, match="the decomposition is of a 3x3 matrix, but A has shape None"):
        decompose(ns).check([[1.0]])
    with pytest.raises(ValueError, match="is an eigendecomposition, but A is not symmetric"):
        decompose(sym).check(ns)
    with pytest.raises(ValueError, match="is a singular-value decomposition, but A is symmetric"):
        decompose(ns).check(sym)


# --------------------------------------------------------------------------- Gershgorin


@pytest.mark.parametrize("seed", range(8))
def test_gershgorin_bounds_enclose_the_spectrum_of_diagonally_dominant_matrices(seed):
    rng = np.random.default_rng(100 + seed)
    m = int(rng.integers(2, 12))
    off = rng.normal(size=(m, m))
    off = (off + off.T) / 2
    np.fill_diagonal(off, 0.0)
    # strictly diagonally dominant with a positive diagonal: the discs stay right of 0
    diag = np.abs(off).sum(axis=1) + rng.uniform(0.05, 2.0, size=m)
    A = off + np.diag(diag)
    gersh = spectral_bounds(A, method="gershgorin")
    eig = np.linalg.eigvalsh(A)
    assert gersh.method == "gershgorin" and gersh.definite and not gersh.dilated
    assert 0 < gersh.lower <= eig.min() * (1 + 1e-12)
    assert gersh.upper >= eig.max() * (1 - 1e-12)
    exact = spectral_bounds(A)
    assert gersh.condition_number >= exact.condition_number * (1 - 1e-12)
    # the disc bounds are attained by the formulas: min(a_ii - r_i), max(a_ii + r_i)
    radius = np.abs(off).sum(axis=1)
    assert gersh.lower == pytest.approx(np.min(diag - radius), rel=1e-12)
    assert gersh.upper == pytest.approx(np.max(diag + radius), rel=1e-12)


def test_gershgorin_refuses_what_it_cannot_bound():
    with pytest.raises(ValueError, match="spectral_bounds: Gershgorin discs of the dilation .* no lower bound"):
        spectral_bounds(_nonsymmetric(3, 0), method="gershgorin")
    with pytest.raises(ValueError, match="spectral_bounds: the Gershgorin discs of A reach -1 <= 0"):
        spectral_bounds([[1.0, 2.0], [2.0, 1.0]], method="gershgorin")


def test_default_size_limit_is_the_shared_one():
    # the guard is the shared one: just above the default it refuses, raising max_bytes admits it
    m = int(math.sqrt(DEFAULT_MAX_BYTES / 8 / 3)) + 1
    with pytest.raises(ValueError, match="max_bytes"):
        spectral_bounds(sp.identity(m, format="csr"))
    assert spectral_bounds(sp.identity(4, format="csr"), max_bytes=3 * 8 * 16).lower == 1.0


# --------------------------------------------------------------------------- bad-input catalogue

_A = TEXTBOOK_A
_HUGE = sp.identity(10**6, format="csr")

#: name -> (call, words the message must contain); every call raises ValueError
BAD_INPUT = {
    "SpectralBounds lower > upper": (lambda: SpectralBounds(2.0, 1.0, True, False, "known"),
                                     ["SpectralBounds", "lower", "upper"]),
    "SpectralBounds nan": (lambda: SpectralBounds(float("nan"), 1.0, True, False, "known"),
                           ["SpectralBounds", "lower", "nan"]),
    "SpectralBounds zero": (lambda: SpectralBounds(0.0, 1.0, True, False, "known"), ["SpectralBounds", "lower", "> 0"]),
    "SpectralBounds definite string": (lambda: SpectralBounds(1.0, 2.0, "yes", False, "known"),
                                       ["SpectralBounds", "definite"]),
    "decompose method x": (lambda: decompose(_A, method="x"), ["decompose", "method", "'x'"]),
    "decompose singular": (lambda: decompose([[1.0, 2.0], [2.0, 4.0]]),
                           ["decompose", "singular", "the solvers need an invertible A"]),
    "decompose zero": (lambda: decompose(np.zeros((2, 2))), ["decompose", "singular", "inf"]),
    "decompose singular nonsymmetric": (lambda: decompose([[1.0, 2.0], [0.0, 0.0]]), ["decompose", "singular"]),
    "decompose normal singular": (lambda: decompose([[1.0, 2.0], [2.0, 4.0]], method="normal"),
                                  ["decompose", "singular"]),
    "decompose nan": (lambda: decompose([[1.0, np.nan], [0.0, 1.0]]), ["decompose", "A", "non-finite"]),
    "decompose normal nan": (lambda: decompose([[1.0, np.nan], [0.0, 1.0]], method="normal"),
                             ["decompose", "A", "non-finite"]),
    "decompose sparse nan": (lambda: decompose(sp.csr_array(np.array([[1.0, np.nan], [0.0, 1.0]])), method="normal"),
                             ["decompose", "A", "non-finite"]),
    "decompose non-square": (lambda: decompose(np.ones((2, 3))), ["decompose", "A", "square", "(2, 3)"]),
    "decompose normal non-square": (lambda: decompose(np.ones((2, 3)), method="normal"),
                                    ["decompose", "A", "square", "(2, 3)"]),
    "decompose sparse identity 10**6": (lambda: decompose(_HUGE), ["decompose", "(1000000, 1000000)", "max_bytes"]),
    "decompose normal identity 10**6": (lambda: decompose(_HUGE, method="normal"),
                                        ["decompose", "1000000x1000000", "max_bytes"]),
    "decompose string": (lambda: decompose("x"), ["decompose", "A", "string"]),
    "decompose None": (lambda: decompose(None), ["decompose", "A", "None"]),
    "decompose complex": (lambda: decompose([[1j, 0], [0, 1]]), ["decompose", "A", "real"]),
    "decompose vectors string": (lambda: decompose(_A, vectors="no"), ["decompose", "vectors"]),
    "decompose names its caller": (lambda: decompose(np.zeros((2, 2)), func="my_solver"), ["my_solver", "singular"]),
    "sb complex": (lambda: spectral_bounds([[1j, 0], [0, 1]]), ["spectral_bounds", "A", "real"]),
    "sb None": (lambda: spectral_bounds(None), ["spectral_bounds", "A", "None"]),
    "sb string": (lambda: spectral_bounds("abc"), ["spectral_bounds", "A", "string"]),
    "sb empty": (lambda: spectral_bounds(np.zeros((0, 0))), ["spectral_bounds", "A", "empty"]),
    "sb nan": (lambda: spectral_bounds([[np.nan, 0], [0, 1]]), ["spectral_bounds", "A", "non-finite"]),
    "sb vector": (lambda: spectral_bounds([1.0, 2.0]), ["spectral_bounds", "A", "2-D"]),
    "sb method": (lambda: spectral_bounds(_A, method=None), ["spectral_bounds", "method"]),
    "sb singular": (lambda: spectral_bounds(np.zeros((2, 2))), ["spectral_bounds", "singular"]),
    "sb huge sparse": (lambda: spectral_bounds(sp.identity(20000, format="csr")),
                       ["spectral_bounds", "(20000, 20000)", "GiB", "max_bytes"]),
    "sb small max_bytes": (lambda: spectral_bounds(_A, max_bytes=10), ["spectral_bounds", "max_bytes"]),
    "sb bad max_bytes": (lambda: spectral_bounds(_A, max_bytes=-1), ["spectral_bounds", "max_bytes"]),
    "cond non-square": (lambda: condition_number(np.ones((2, 3))), ["condition_number", "L", "square"]),
    "cond exact string": (lambda: condition_number(_A, exact="yes"), ["condition_number", "exact"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, refuses):
    call, words = BAD_INPUT[case]
    refuses(call, ValueError, words)
