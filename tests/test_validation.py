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
