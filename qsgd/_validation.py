"""Shared input checks.

Every public function of :mod:`qsgd` validates its arguments with these helpers so
that bad input fails early with a ``ValueError`` that names the function, the
argument and the offending value, instead of deep inside NumPy, SciPy or Qiskit.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "as_vector",
    "as_matrix",
    "as_rng",
    "check_positive",
    "check_int",
    "check_choice",
    "check_memory",
    "describe",
]

#: default ceiling for the memory a lifted system may take before we refuse to build it
DEFAULT_MAX_BYTES = 4 * 2**30


def describe(value: Any) -> str:
    """A short description of *value* for error messages (never a huge repr)."""
    if isinstance(value, np.ndarray) or sp.issparse(value):
        return f"{type(value).__name__} of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _where(func: str | None) -> str:
    return f"{func}: " if func else ""


def as_vector(
    x: Any,
    name: str,
    *,
    func: str | None = None,
    size: int | None = None,
    dtype: Any = float,
    allow_zero: bool = True,
) -> np.ndarray:
    """Return *x* as a finite 1-D array, or raise ``ValueError`` naming *name*.

    Accepts lists, NumPy arrays, torch tensors (via ``numpy()``), and sparse
    vectors of shape ``(d,)``, ``(d, 1)`` or ``(1, d)``.
    """
    if sp.issparse(x):
        x = x.toarray()
    elif hasattr(x, "detach"):  # torch tensor, without importing torch
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{_where(func)}{name} must be numeric, got {describe(x)}") from exc
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{_where(func)}{name} must be a 1-D vector, got shape {arr.shape}")
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{_where(func)}{name} must have length {size}, got {arr.shape[0]}")
    if arr.size == 0:
        raise ValueError(f"{_where(func)}{name} is empty")
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr))
        raise ValueError(
            f"{_where(func)}{name} has non-finite entries at indices {bad[:5].tolist()}"
            f"{' ...' if bad.size > 5 else ''} (e.g. {arr[bad[0]]})"
        )
    if not allow_zero and not np.any(arr):
        raise ValueError(f"{_where(func)}{name} is the zero vector")
    return arr


def as_matrix(
    a: Any,
    name: str,
    *,
    func: str | None = None,
    shape: tuple[int | None, int | None] | None = None,
    square: bool = False,
    sparse: bool | None = None,
    dtype: Any = float,
):
    """Return *a* as a finite 2-D matrix, or raise ``ValueError`` naming *name*.

    ``sparse=True`` returns a ``scipy.sparse.csr_array``, ``sparse=False`` a dense
    ``ndarray``, ``sparse=None`` keeps the input's kind. ``shape`` entries that are
    ``None`` are not checked.
    """
    if sp.issparse(a):
        mat = sp.csr_array(a, dtype=dtype)
        values = mat.data
    else:
        if hasattr(a, "detach"):
            a = a.detach().cpu().numpy()
        try:
            mat = np.asarray(a, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{_where(func)}{name} must be a numeric matrix, got {describe(a)}") from exc
        values = mat
    if mat.ndim != 2:
        raise ValueError(f"{_where(func)}{name} must be 2-D, got shape {mat.shape}")
    if square and mat.shape[0] != mat.shape[1]:
        raise ValueError(f"{_where(func)}{name} must be square, got shape {mat.shape}")
    if shape is not None:
        for axis, (want, got) in enumerate(zip(shape, mat.shape)):
            if want is not None and want != got:
                wanted = ", ".join("*" if s is None else str(s) for s in shape)
                raise ValueError(
                    f"{_where(func)}{name} must have shape ({wanted}), got {mat.shape} (axis {axis})"
                )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{_where(func)}{name} has non-finite entries")
    if sparse is True and not sp.issparse(mat):
        mat = sp.csr_array(mat)
    elif sparse is False and sp.issparse(mat):
        mat = mat.toarray()
    return mat


def as_rng(rng: Any) -> np.random.Generator:
    """``np.random.default_rng(rng)``: ``None``, an int seed, or a Generator."""
    return np.random.default_rng(rng)


def check_positive(value: Any, name: str, *, func: str | None = None, strict: bool = True) -> float:
    """Return *value* as a float, requiring it finite and > 0 (or >= 0 if not *strict*)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{_where(func)}{name} must be a finite real number, got {describe(value)}")
    if (value <= 0) if strict else (value < 0):
        raise ValueError(f"{_where(func)}{name} must be {'>' if strict else '>='} 0, got {value}")
    return float(value)


def check_int(
    value: Any,
    name: str,
    *,
    func: str | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """Return *value* as an int within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{_where(func)}{name} must be an integer, got {describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{_where(func)}{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{_where(func)}{name} must be <= {maximum}, got {value}")
    return value


def check_choice(value: Any, name: str, choices, *, func: str | None = None):
    """Require *value* to be one of *choices*."""
    if value not in choices:
        raise ValueError(f"{_where(func)}{name} must be one of {sorted(choices)!r}, got {describe(value)}")
    return value


def check_memory(nbytes: float, *, what: str, max_bytes: float | None, func: str | None = None) -> None:
    """Refuse to build an object estimated at *nbytes* above *max_bytes*."""
    limit = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    if nbytes > limit:
        raise ValueError(
            f"{_where(func)}{what} would need about {nbytes / 2**30:.3g} GiB, above the limit "
            f"max_bytes={limit / 2**30:.3g} GiB; lower the order/size or raise max_bytes"
        )
