"""Tests for the shared input checks in qsgd._validation."""

import numpy as np
import pytest
import scipy.sparse as sp

from qsgd import _validation as v


class TestAsVector:
    def test_list_and_column_vectors(self):
        np.testing.assert_array_equal(v.as_vector([1, 2, 3], "x"), [1.0, 2.0, 3.0])
        np.testing.assert_array_equal(v.as_vector(np.ones((3, 1)), "x"), np.ones(3))
        np.testing.assert_array_equal(v.as_vector(sp.csr_array(np.ones((1, 4))), "x"), np.ones(4))

    def test_torch_tensor(self):
        torch = pytest.importorskip("torch")
        np.testing.assert_array_equal(v.as_vector(torch.arange(3.0), "x"), [0.0, 1.0, 2.0])

    @pytest.mark.parametrize(
        "bad, match",
        [
            (np.ones((2, 2)), "1-D"),
            ([], "empty"),
            ([1.0, np.nan], "non-finite entries at indices \\[1\\]"),
            ([np.inf], "non-finite"),
            (["a"], "numeric"),
        ],
    )
    def test_bad_input_names_argument(self, bad, match):
        with pytest.raises(ValueError, match=match) as info:
            v.as_vector(bad, "weights", func="f")
        assert str(info.value).startswith("f: weights")

    def test_size_and_zero(self):
        with pytest.raises(ValueError, match="length 3, got 2"):
            v.as_vector([1, 2], "b", size=3)
        with pytest.raises(ValueError, match="zero vector"):
            v.as_vector([0, 0], "b", allow_zero=False)


class TestAsMatrix:
    def test_dense_sparse_round_trip(self):
        a = np.arange(6.0).reshape(2, 3)
        s = v.as_matrix(a, "A", sparse=True)
        assert sp.issparse(s)
        np.testing.assert_array_equal(v.as_matrix(s, "A", sparse=False), a)

    def test_shape_checks(self):
        with pytest.raises(ValueError, match="square"):
            v.as_matrix(np.ones((2, 3)), "A", square=True)
        with pytest.raises(ValueError, match=r"shape \(3, \*\)"):
            v.as_matrix(np.ones((2, 3)), "A", shape=(3, None))
        with pytest.raises(ValueError, match="2-D"):
            v.as_matrix(np.ones(3), "A")

    def test_non_finite_sparse(self):
        with pytest.raises(ValueError, match="non-finite"):
            v.as_matrix(sp.csr_array(np.array([[np.nan, 0.0]])), "A")


class TestScalars:
    def test_check_positive(self):
        assert v.check_positive(0.1, "eta") == 0.1
        assert v.check_positive(0, "eta", strict=False) == 0.0
        for bad in (0, -1.0, float("nan"), True, "1"):
            with pytest.raises(ValueError, match="eta"):
                v.check_positive(bad, "eta")

    def test_check_int(self):
        assert v.check_int(np.int64(3), "steps", minimum=1) == 3
        for bad in (0, 2.5, True):
            with pytest.raises(ValueError, match="steps"):
                v.check_int(bad, "steps", minimum=1)
        with pytest.raises(ValueError, match="<= 20"):
            v.check_int(21, "qubits", maximum=20)

    def test_check_choice(self):
        assert v.check_choice("symmetric", "basis", {"kronecker", "symmetric"}) == "symmetric"
        with pytest.raises(ValueError, match="basis must be one of"):
            v.check_choice("dense", "basis", {"kronecker", "symmetric"})

    def test_memory(self):
        v.check_memory(10.0, what="x", max_bytes=100)
        with pytest.raises(ValueError, match="GiB"):
            v.check_memory(2.0**40, what="the lifted system", max_bytes=None)

    def test_rng_is_reproducible(self):
        assert v.as_rng(5).integers(1 << 30) == v.as_rng(5).integers(1 << 30)


class TestComplexAndTypes:
    @pytest.mark.parametrize("bad", [[1j, 0.0], np.array([1.0 + 1e-3j]), [[1.0], [2j]]])
    def test_vector_refuses_complex(self, bad):
        with pytest.raises(ValueError, match="f: x must be real, got complex"):
            v.as_vector(bad, "x", func="f")

    def test_vector_allows_complex_on_request(self):
        out = v.as_vector([1j, 2.0], "x", allow_complex=True)
        assert out.dtype == complex and out[0] == 1j

    def test_complex_with_zero_imaginary_part_is_real(self):
        out = v.as_vector(np.array([1.0 + 0j, 2.0]), "x")
        assert out.dtype == float

    def test_matrix_refuses_complex_dense_and_sparse(self):
        with pytest.raises(ValueError, match="A must be real"):
            v.as_matrix([[0, -0.1j], [0.1j, 0]], "A")
        with pytest.raises(ValueError, match="A must be real"):
            v.as_matrix(sp.csr_array(np.array([[1j]])), "A")
        assert v.as_matrix([[1j]], "A", allow_complex=True).dtype == complex

    @pytest.mark.parametrize("bad, words", [(None, "None"), ("1.0", "string"), ({"a": 1}, "numeric"),
                                            ([object()], "numeric"), ([10**400], "numeric")])
    def test_vector_and_matrix_name_the_argument(self, bad, words):
        for helper in (v.as_vector, v.as_matrix):
            with pytest.raises(ValueError, match=f"g: y must be a numeric .*{words}|g: y must be a numeric"):
                helper(bad, "y", func="g")

    def test_empty_matrix(self):
        with pytest.raises(ValueError, match="empty"):
            v.as_matrix(np.zeros((0, 3)), "A")

    def test_check_bool_and_rng(self):
        assert v.check_bool(np.bool_(True), "flag") is True
        with pytest.raises(ValueError, match="flag must be True or False"):
            v.check_bool("yes", "flag")
        with pytest.raises(ValueError, match="f: rng must be None, an integer seed"):
            v.as_rng("seed", func="f")


class TestSizeGuard:
    def test_estimate_bytes_in_floating_point(self):
        assert v.estimate_bytes(1000, 1000) == 8e6
        assert v.estimate_bytes(10**7, 10**400) == float("inf")  # no big-integer product formed
        assert v.estimate_bytes(0, 10) == 0.0

    def test_log2_int(self):
        assert v.log2_int(2**5000) == pytest.approx(5000)
        assert v.log2_int(12) == pytest.approx(np.log2(12))

    def test_limit_can_be_raised_and_is_checked(self):
        v.check_memory(2.0**33, what="x", max_bytes=2.0**34)
        with pytest.raises(ValueError, match=r"f: x would need about 8 GiB, above the limit max_bytes=4 GiB"):
            v.check_memory(2.0**33, what="x", max_bytes=None, func="f")
        with pytest.raises(ValueError, match="astronomical"):
            v.check_memory(float("inf"), what="x", max_bytes=None)
        with pytest.raises(ValueError, match="max_bytes must be"):
            v.check_memory(1.0, what="x", max_bytes="lots")


class _Map:
    def __init__(self, coefficients):
        self.coefficients = coefficients


class _Problem:
    def __init__(self, F0, F1, F2):
        self.F0, self.F1, self.F2 = F0, F1, F2


class _NoF0:
    F1, F2 = -np.eye(2), np.ones((2, 4))


class _OnlyF0:
    F0 = np.zeros(2)


class TestCoefficients:
    F = [np.array([0.1, 0.0]), -np.eye(2), np.ones((2, 4))]

    @pytest.mark.parametrize("form", ["list", "tuple", "map", "problem"])
    def test_every_form_gives_the_same_arrays(self, form):
        obj = {"list": list(self.F), "tuple": tuple(self.F), "map": _Map(tuple(self.F)),
               "problem": _Problem(*self.F)}[form]
        assert v.is_coefficients(obj)
        n, F0, mats = v.as_coefficients(obj)
        assert n == 2 and len(mats) == 2 and all(sp.issparse(m) for m in mats)
        np.testing.assert_array_equal(F0, self.F[0])
        np.testing.assert_array_equal(mats[1].toarray(), self.F[2])

    def test_plain_vectors_and_matrices_are_not_coefficient_objects(self):
        for obj in (np.eye(2), [0.1, 0.2], [[1.0, 0.0], [0.0, 1.0]], None, "F", sp.eye_array(2)):
            assert not v.is_coefficients(obj)

    @pytest.mark.parametrize("bad, words", [
        ([np.zeros(2)], "must hold F0, F1"),
        ([np.zeros(2), None], "F[1] (F1) must be"),
        ([np.zeros(3), np.eye(2)], "F[0] must have length 2"),
        ([np.zeros(2), np.eye(2), np.ones((2, 3))], "F[2] must have shape"),
        ([np.zeros(2), np.eye(2) * 1j], "F[1] must be real"),
        (np.eye(2), "must be a list"),
        (_Map([np.zeros(2)]), "F.coefficients must hold"),
        ([-np.eye(2)], "F must hold F0, F1 and up to F3 (degree q = 1..3), got 1 entry (only F0)"),
        ([None, -np.eye(2), None, None, None], "got 5 entries (degree 4)"),
        ({"F0": None, "F1": -np.eye(2)}, "got a dict with keys ['F0', 'F1']"),
        (np.zeros((3, 2, 2)), "got a stacked ndarray of shape (3, 2, 2)"),
        ([[1.0, 0.0], [0.0, 1.0]], "F[1] (F1) must be an (n, n) matrix, got [0.0, 1.0] with 1 dimension"),
        (_NoF0(), "F is a _NoF0 with the attributes F1, F2 but without F0"),
        (_OnlyF0(), "F is a _OnlyF0 with the attribute F0 but without F1"),
    ])
    def test_bad_coefficients(self, bad, words):
        with pytest.raises(ValueError) as info:
            v.as_coefficients(bad, func="f")
        assert str(info.value).startswith("f: ") and words in str(info.value)

    def test_a_list_holding_none_is_a_coefficient_object(self):
        for obj in ([None, "F1"], [np.zeros(2), None], (None, [[1.0]], None)):
            assert v.is_coefficients(obj)


def test_check_positive_refuses_integers_beyond_the_float_range():
    with pytest.raises(ValueError, match="f: x must be a finite real number"):
        v.check_positive(10**400, "x", func="f")
    assert v.check_positive(10**300, "x", func="f") == 1e300


def test_check_float_range_names_integers_beyond_double_precision():
    v.check_float_range(2**999, "n", func="f")  # 1000 bits: still a finite double
    v.check_float_range(1e308, "n", func="f")  # floats pass: finiteness is check_positive's job
    with pytest.raises(ValueError, match="f: n must be a finite real number, got an integer of 1001 bits"):
        v.check_float_range(2**1000, "n", func="f")


def test_as_array_keeps_any_shape_and_refuses_non_numbers_by_name():
    from qsgd._validation import as_array

    assert as_array([[1, 2], [3, 4]], "a").shape == (2, 2)
    assert as_array(3, "a").shape == ()
    for bad, what in ((None, "None"), ("x", "string"), ([1j], "complex"), ([object()], "numeric")):
        with pytest.raises(ValueError, match=rf"f: a must .*{what}|f: a .*{what}"):
            as_array(bad, "a", func="f")


def test_problem_defaults_fill_only_what_the_call_left_out():
    from types import SimpleNamespace

    def g(t):
        return t

    problem = SimpleNamespace(u0=[1.0], t=[0.0, 1.0], forcing=g)
    assert v.problem_defaults(problem, None, None) == ([1.0], [0.0, 1.0], g)
    assert v.problem_defaults(problem, [2.0], [0.0, 0.5])[:2] == ([2.0], [0.0, 0.5])
    assert v.problem_defaults([None, [[-1.0]]], None, None) == (None, None, None)
    assert v.problem_defaults(SimpleNamespace(forcing=3.0), None, None) == (None, None, None)


# --------------------------------------------------------------------------------------------
# bad-input catalogue: call -> (exception, message fragments naming function, argument, value)
# --------------------------------------------------------------------------------------------

BAD_INPUT = {
    "estimate_bytes nan dimension": (lambda: v.estimate_bytes(float("nan"), 3), ValueError,
                                     ["estimate_bytes", "dimension 0", "NaN"]),
    "estimate_bytes nan second dimension": (lambda: v.estimate_bytes(3, np.nan), ValueError,
                                            ["estimate_bytes", "dimension 1", "NaN"]),
    "estimate_bytes nan itemsize": (lambda: v.estimate_bytes(3, itemsize=float("nan")), ValueError,
                                    ["estimate_bytes", "itemsize", "NaN"]),
    "estimate_bytes string dimension": (lambda: v.estimate_bytes("x", 3), ValueError,
                                        ["estimate_bytes", "dimension 0", "'x'"]),
    "check_memory nan": (lambda: v.check_memory(float("nan"), what="the table", max_bytes=None), ValueError,
                         ["check_memory", "nbytes", "the table", "nan"]),
    "check_memory nan with func": (lambda: v.check_memory(float("nan"), what="x", max_bytes=1e9, func="g"),
                                   ValueError, ["g:", "nbytes", "nan"]),
    "check_memory string": (lambda: v.check_memory("big", what="x", max_bytes=None), ValueError,
                            ["check_memory", "nbytes", "'big'"]),
    "check_memory huge int": (lambda: v.check_memory(10**400, what="x", max_bytes=None), ValueError,
                              ["astronomical"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, refuses):
    call, exc, words = BAD_INPUT[case]
    refuses(call, exc, words)
