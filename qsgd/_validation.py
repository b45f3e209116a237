r"""Shared input checks.

Every public function of :mod:`qsgd` validates its arguments with these helpers so
that bad input fails early with a ``ValueError`` that names the function, the
argument and the offending value, instead of deep inside NumPy, SciPy or Qiskit.

The helpers, by purpose:

- arrays: :func:`as_vector`, :func:`as_matrix` (finite, real unless ``allow_complex=True``,
  shape-checked);
- scalars and options: :func:`check_positive`, :func:`check_int`, :func:`check_choice`,
  :func:`check_bool`;
- sizes: :func:`estimate_bytes` (in floating point, never exact big integers) and
  :func:`check_memory`, the one size guard. A function that allocates by a size argument
  estimates the bytes *before* any exact big-integer arithmetic or allocation and calls
  ``check_memory(nbytes, what=..., max_bytes=max_bytes, func=...)``; the caller raises the
  limit on purpose with the function's ``max_bytes`` keyword (default
  :data:`DEFAULT_MAX_BYTES`, 4 GiB);
- polynomial coefficients: :func:`as_coefficients`, the one conversion of a polynomial
  vector field or map :math:`\sum_\ell F_\ell u^{\otimes\ell}` given as a sequence in
  ascending degree ``[F0, F1, F2, ...]``, as an object carrying ``.coefficients`` (a
  :class:`qsgd.gd.PolynomialMap`) or as a problem with ``F0``/``F1``/``F2`` attributes
  (a :class:`qsgd.ode.BurgersProblem`); :func:`problem_defaults` fills in what such a problem
  supplies (its initial state, time grid and forcing);
- randomness: :func:`as_rng` (a NumPy Generator), :func:`as_seed` (an int seed for torch's
  generators). In both, and so in every function of :mod:`qsgd` that takes ``rng=``,
  ``rng=None`` means fresh entropy from the operating system: never a fixed seed, never the
  global state of NumPy or torch;
- progress bars: :func:`progress_disabled`.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "as_array",
    "as_vector",
    "as_matrix",
    "as_rng",
    "as_seed",
    "progress_disabled",
    "check_positive",
    "check_float_range",
    "check_int",
    "check_choice",
    "check_bool",
    "check_memory",
    "estimate_bytes",
    "log2_int",
    "is_coefficients",
    "as_coefficients",
    "problem_defaults",
    "describe",
    "DivergenceError",
    "DEFAULT_MAX_BYTES",
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


def _to_array(x: Any, name: str, func: str | None, dtype: Any, allow_complex: bool, kind: str) -> np.ndarray:
    """``np.asarray(x, dtype)`` with the type errors turned into messages naming *name*."""
    where = _where(func)
    if x is None:
        raise ValueError(f"{where}{name} must be a numeric {kind}, got None")
    if isinstance(x, (str, bytes)):
        raise ValueError(f"{where}{name} must be a numeric {kind}, got the string {describe(x)}")
    if hasattr(x, "detach"):  # torch tensor, without importing torch
        x = x.detach().cpu().numpy()
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{where}{name} must be a numeric {kind}, got {describe(x)}") from exc
    if raw.dtype.kind not in "biufcO":
        raise ValueError(f"{where}{name} must be a numeric {kind}, got {describe(x)}")
    complex_wanted = np.issubdtype(np.dtype(dtype), np.complexfloating)
    if raw.dtype.kind == "O":
        if any(isinstance(v, complex) and v.imag != 0 for v in raw.ravel()[:100_000]) \
                and not (allow_complex or complex_wanted):
            raise ValueError(f"{where}{name} must be real, got complex entries ({describe(x)})")
    elif raw.dtype.kind == "c" and not (allow_complex or complex_wanted):
        _refuse_complex(raw, name, where)
        raw = raw.real
    if allow_complex and raw.dtype.kind == "c" and not complex_wanted:
        dtype = complex
    try:
        return np.asarray(raw, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{where}{name} must be a numeric {kind}, got {describe(x)}") from exc


def _refuse_complex(values: np.ndarray, name: str, where: str) -> None:
    """Complex *values* with a non-zero imaginary part where real ones are meant: refuse."""
    imag = np.abs(values.imag)
    if imag.size and np.any(imag != 0):
        raise ValueError(
            f"{where}{name} must be real, got complex entries (largest |imag| = {float(np.nanmax(imag)):.3g}); "
            "a real-valued quantity is expected here"
        )


def as_array(x: Any, name: str, *, func: str | None = None, dtype: Any = float) -> np.ndarray:
    """``np.asarray(x, dtype)`` of any shape, refusing ``None``, strings, non-numeric and complex input by
    name (no finiteness or shape check: :func:`as_vector` and :func:`as_matrix` add those)."""
    return _to_array(x, name, func, dtype, False, "array")


def as_vector(
    x: Any,
    name: str,
    *,
    func: str | None = None,
    size: int | None = None,
    dtype: Any = float,
    allow_zero: bool = True,
    allow_complex: bool = False,
) -> np.ndarray:
    """Return *x* as a finite 1-D array, or raise ``ValueError`` naming *name*.

    Accepts lists, NumPy arrays, torch tensors (via ``numpy()``), and sparse
    vectors of shape ``(d,)``, ``(d, 1)`` or ``(1, d)``.

    Complex input with a non-zero imaginary part is refused unless ``allow_complex=True``
    (then the result is complex) or ``dtype`` is complex; it is never cast to real
    silently. Complex input whose imaginary parts are all exactly zero is taken as real.
    ``None``, strings and non-numeric objects are refused with the argument's name.
    """
    if sp.issparse(x):
        x = x.toarray()
    arr = _to_array(x, name, func, dtype, allow_complex, "vector")
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
    allow_complex: bool = False,
):
    """Return *a* as a finite 2-D matrix, or raise ``ValueError`` naming *name*.

    ``sparse=True`` returns a ``scipy.sparse.csr_array``, ``sparse=False`` a dense
    ``ndarray``, ``sparse=None`` keeps the input's kind. ``shape`` entries that are
    ``None`` are not checked. Complex entries are refused as in :func:`as_vector`
    unless ``allow_complex=True``.
    """
    where = _where(func)
    if sp.issparse(a):
        if a.dtype.kind not in "biufc":
            raise ValueError(f"{where}{name} must be a numeric matrix, got {describe(a)}")
        complex_wanted = np.issubdtype(np.dtype(dtype), np.complexfloating)
        if a.dtype.kind == "c" and not (allow_complex or complex_wanted):
            _refuse_complex(sp.csr_array(a).data, name, where)
            a = sp.csr_array(a).real
        elif a.dtype.kind == "c":
            dtype = complex
        mat = sp.csr_array(a, dtype=dtype)
        values = mat.data
    else:
        mat = _to_array(a, name, func, dtype, allow_complex, "matrix")
        values = mat
    if mat.ndim != 2:
        raise ValueError(f"{where}{name} must be 2-D, got shape {mat.shape}")
    if mat.shape[0] == 0 or mat.shape[1] == 0:
        raise ValueError(f"{where}{name} is empty (shape {mat.shape})")
    if square and mat.shape[0] != mat.shape[1]:
        raise ValueError(f"{where}{name} must be square, got shape {mat.shape}")
    if shape is not None:
        for axis, (want, got) in enumerate(zip(shape, mat.shape)):
            if want is not None and want != got:
                wanted = ", ".join("*" if s is None else str(s) for s in shape)
                raise ValueError(
                    f"{where}{name} must have shape ({wanted}), got {mat.shape} (axis {axis})"
                )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{where}{name} has non-finite entries")
    if sparse is True and not sp.issparse(mat):
        mat = sp.csr_array(mat)
    elif sparse is False and sp.issparse(mat):
        mat = mat.toarray()
    return mat


def as_rng(rng: Any, *, name: str = "rng", func: str | None = None) -> np.random.Generator:
    """``np.random.default_rng(rng)``: ``None``, a non-negative int seed, or a Generator.

    ``None`` means fresh entropy from the operating system (``np.random.default_rng(None)``),
    an int a fixed seed, a Generator is used as it is (and advanced).
    """
    if isinstance(rng, (str, bytes, float, complex, bool)):
        raise ValueError(f"{_where(func)}{name} must be None, an integer seed or a numpy Generator, "
                         f"got {describe(rng)}")
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{_where(func)}{name} must be None, an integer seed or a numpy Generator, "
                         f"got {describe(rng)}") from exc


def as_seed(rng: Any, name: str = "rng", *, func: str | None = None) -> int:
    """The int seed that *rng* stands for: ``None``, a non-negative int seed, or a Generator.

    The one conversion of ``rng=`` for torch's generators, which take an int seed:

    - ``None``: a seed drawn from fresh entropy, ``int(np.random.default_rng(None).integers(2**63 - 1))``
      (never a fixed seed, never torch's global state);
    - an integer (Python or NumPy, not a bool): returned unchanged as ``int``;
    - a ``numpy.random.Generator``: ``int(gen.integers(2**63 - 1))``, one draw that advances it.

    The result is always an int, so a function that reports the seed it used reports one that
    repeats the run when passed back as ``rng=``.

    Raises
    ------
    ValueError
        Negative integers, floats, bools, strings and other types, naming *func*, *name* and the value.
    """
    if rng is None:
        return int(np.random.default_rng(None).integers(2**63 - 1))
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**63 - 1))
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        raise ValueError(f"{_where(func)}{name} must be None, a non-negative integer seed or a numpy Generator, "
                         f"got {describe(rng)}")
    if int(rng) < 0:
        raise ValueError(f"{_where(func)}{name} must be a non-negative integer seed, got {int(rng)}")
    return int(rng)


def progress_disabled(progress: bool) -> bool:
    """tqdm's ``disable``: off unless asked for, and always off under ``TQDM_DISABLE=1``."""
    return (not progress) or os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false")


#: integers with more bits than this overflow double precision (its largest finite value is below 2**1024)
MAX_FLOAT_BITS = 1000


def check_float_range(value: Any, name: str, *, func: str | None = None) -> None:
    """Refuse an integer beyond the floating-point range (more than 1000 bits) by name.

    Python integers are exact and unbounded: arithmetic that mixes such an integer with floats
    raises ``OverflowError`` deep inside a formula, and exact arithmetic on it can run for
    minutes. Call this before either; other values pass unchanged.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        bits = int(value).bit_length()
        if bits > MAX_FLOAT_BITS:
            raise ValueError(f"{_where(func)}{name} must be a finite real number, got an integer of {bits} bits, "
                             "beyond the floating-point range")


def check_positive(value: Any, name: str, *, func: str | None = None, strict: bool = True) -> float:
    """Return *value* as a float, requiring it finite and > 0 (or >= 0 if not *strict*)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{_where(func)}{name} must be a finite real number, got {describe(value)}")
    check_float_range(value, name, func=func)
    if not math.isfinite(value):
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


def check_bool(value: Any, name: str, *, func: str | None = None) -> bool:
    """Require *value* to be ``True`` or ``False`` (a NumPy bool too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{_where(func)}{name} must be True or False, got {describe(value)}")
    return bool(value)


def estimate_bytes(*dims: Any, itemsize: float = 8.0) -> float:
    """Bytes of a dense array of shape *dims*, computed in floating point.

    Multiplies floats, so absurd sizes give ``inf`` at once instead of an exact big integer; use it with :func:`check_memory`
    *before* any exact arithmetic on the sizes. A dimension that is zero or negative gives 0.

    Raises
    ------
    ValueError
        For a dimension or ``itemsize`` that is NaN (or not a number): a NaN estimate would
        pass every comparison with a limit, so it is refused here rather than returned.

    Examples
    --------
    >>> estimate_bytes(1000, 1000)
    8000000.0
    >>> estimate_bytes(10**7, 2**10**7)
    inf
    """
    func = "estimate_bytes"
    try:
        total = float(itemsize)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{func}: itemsize must be a number, got {describe(itemsize)}") from exc
    if math.isnan(total):
        raise ValueError(f"{func}: itemsize is NaN; a memory estimate needs numeric sizes")
    for axis, d in enumerate(dims):
        if isinstance(d, numbers.Integral) and int(d) > 0 and int(d).bit_length() > 1000:
            d = math.inf  # beyond the float range: no exact product is formed
        try:
            d = float(d)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{func}: dimension {axis} must be a number, got {describe(d)}") from exc
        if math.isnan(d):
            raise ValueError(f"{func}: dimension {axis} is NaN (dims={dims!r}); a memory estimate "
                             "needs numeric sizes")
        if d <= 0:
            return 0.0
        total *= d  # float multiplication: inf on overflow, never an exception
    return total


def log2_int(value: int) -> float:
    """``log2`` of a non-negative integer of any size, without converting it to float."""
    if value <= 0:
        return -math.inf
    bits = value.bit_length()
    if bits <= 1000:
        return math.log2(value)
    return bits - 1000 + math.log2(value >> (bits - 1000))


def check_memory(nbytes: float, *, what: str, max_bytes: float | None, func: str | None = None,
                 advice: str = "lower the size or raise max_bytes on purpose") -> None:
    """The size guard: refuse to build an object estimated at *nbytes* above the limit.

    Parameters
    ----------
    nbytes : float
        Estimated memory (a float, possibly ``inf``; see :func:`estimate_bytes`).
    what : str
        What would be built, with its size, for the message.
    max_bytes : float or None
        The caller's limit (``None``: :data:`DEFAULT_MAX_BYTES`). Every function that
        allocates by a size argument exposes it as its ``max_bytes`` keyword so that the
        limit can be raised on purpose.
    func : str, optional
        The public function the user called.
    advice : str
        What the user can do, ending the message (the default names ``max_bytes``; a function
        without that keyword says something else).

    Raises
    ------
    ValueError
        Above the limit (the message gives the estimate and the limit), for a NaN or
        non-numeric estimate (NaN compares false with every limit, so it would pass), or a
        ``max_bytes`` that is not a positive number.
    """
    where = "check_memory" if func is None else func
    try:
        estimate = float(nbytes)
    except OverflowError:  # an exact integer beyond the float range
        estimate = math.inf
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: nbytes, the memory estimate of {what}, must be a number, got "
                         f"{describe(nbytes)}") from exc
    if math.isnan(estimate):
        raise ValueError(f"{where}: nbytes, the memory estimate of {what}, is nan (a size computed "
                         "from NaN inputs); refusing to build it")
    nbytes = estimate
    if max_bytes is None:
        limit = DEFAULT_MAX_BYTES
    else:
        limit = check_positive(max_bytes, "max_bytes", func=func) if not (
            isinstance(max_bytes, float) and math.isinf(max_bytes) and max_bytes > 0) else math.inf
    if nbytes > limit:
        size = "an astronomical amount of memory" if not math.isfinite(nbytes) \
            else f"about {nbytes / 2**30:.3g} GiB"
        raise ValueError(
            f"{_where(func)}{what} would need {size}, above the limit "
            f"max_bytes={limit / 2**30:.3g} GiB; {advice}"
        )


# ------------------------------------------------------------------ polynomial coefficients


def _is_matrix_like(x: Any) -> bool:
    if sp.issparse(x) or hasattr(x, "detach"):
        return True
    try:
        return np.ndim(x) == 2
    except (TypeError, ValueError):
        return False


def is_coefficients(obj: Any) -> bool:
    """True if *obj* is a polynomial field or map given as one object (see :func:`as_coefficients`).

    That is: an object with a ``coefficients`` attribute (:class:`qsgd.gd.PolynomialMap`),
    an object with ``F1`` and ``F0`` attributes (:class:`qsgd.ode.BurgersProblem`), or a
    list/tuple of 2 to 4 entries whose second entry is a matrix (``[F0, F1, ...]``). A plain
    vector ``F0`` or matrix ``F1`` is not. A list holding ``None`` (a zero or absent
    coefficient, as in ``[None, F1]``) is one too: no row of a matrix and no entry of a vector
    is ``None``.
    """
    if obj is None or isinstance(obj, (str, bytes, np.ndarray)) or sp.issparse(obj):
        return False
    if hasattr(obj, "coefficients") or (hasattr(obj, "F1") and hasattr(obj, "F0")):
        return True
    if isinstance(obj, (list, tuple)) and 2 <= len(obj) <= 4:
        return any(entry is None for entry in obj) or _is_matrix_like(obj[1])
    return False


def as_coefficients(
    F: Any,
    *,
    func: str | None = None,
    name: str = "F",
    max_degree: int = 3,
) -> tuple[int, np.ndarray, list]:
    r"""The one conversion of polynomial coefficients, in ascending degree order.

    A polynomial vector field :math:`du/dt = \sum_{\ell=0}^{q} F_\ell u^{\otimes\ell}` or map
    :math:`u \mapsto u + \sum_\ell F_\ell u^{\otimes\ell}` is accepted as

    - a sequence ``[F0, F1, ..., Fq]`` (ascending degree; ``F0`` a length-n vector or
      ``None``, ``F_l`` an (n, n**l) matrix, dense or sparse, or ``None`` for zero);
    - an object carrying ``.coefficients`` in that order (:class:`qsgd.gd.PolynomialMap`),
      read by what it carries so that lower modules need not import higher ones;
    - a problem object with attributes ``F0``, ``F1`` and ``F2`` (:class:`qsgd.ode.BurgersProblem`).

    Parameters
    ----------
    F : sequence or object, as above.
    func : str, optional
        The public function the user called, for messages.
    name : str
        The argument's name, for messages.
    max_degree : int
        Largest degree q accepted.

    Returns
    -------
    n : int
        The state dimension.
    F0 : ndarray, shape (n,)
        Zeros when absent.
    mats : list of scipy.sparse.csr_array
        ``[F1, ..., Fq]``, ``F_l`` of shape (n, n**l).

    Raises
    ------
    ValueError
        Anything else, wrong shapes, complex or non-finite entries, q outside 1..max_degree.
    """
    where = _where(func)
    label = name
    if hasattr(F, "coefficients") and not isinstance(F, (list, tuple)):
        label = f"{name}.coefficients"
        F = F.coefficients
    elif any(hasattr(F, attr) for attr in ("F0", "F1", "F2")) and not isinstance(F, (list, tuple)):
        missing = [attr for attr in ("F0", "F1") if not hasattr(F, attr)]
        if missing:
            present = [attr for attr in ("F0", "F1", "F2") if hasattr(F, attr)]
            raise ValueError(
                f"{where}{name} is a {type(F).__name__} with the attribute{'s' if len(present) > 1 else ''} "
                f"{', '.join(present)} but without {' and '.join(missing)}: a problem object must carry F0 "
                "(None for no forcing), F1 and optionally F2"
            )
        F = [F.F0, F.F1, getattr(F, "F2", None)]
    expected = ("a list [F0, F1, ..., Fq] in ascending degree (None for a zero coefficient, [None, F1] for a "
                "linear field), an object with .coefficients (a PolynomialMap) or a problem with F0/F1/F2 "
                "attributes")
    if isinstance(F, dict):
        raise ValueError(f"{where}{name} must be {expected}, got a dict with keys {describe(list(F))}: "
                         "the coefficients are told apart by their position, not by names")
    if isinstance(F, np.ndarray) and F.ndim == 3:
        raise ValueError(f"{where}{name} must be {expected}, got a stacked {describe(F)}: coefficients of "
                         "degree l have n**l columns, so they cannot be stacked into one array")
    if isinstance(F, np.ndarray) or sp.issparse(F) or not isinstance(F, (list, tuple)):
        raise ValueError(f"{where}{name} must be {expected}, got {describe(F)}")
    if not 2 <= len(F) <= max_degree + 1:
        what = "only F0" if len(F) == 1 else ("nothing" if not F else f"degree {len(F) - 1}")
        raise ValueError(
            f"{where}{label} must hold F0, F1 and up to F{max_degree} (degree q = 1..{max_degree}), "
            f"got {len(F)} entr{'y' if len(F) == 1 else 'ies'} ({what}); pass {expected}"
        )
    if F[1] is not None and not isinstance(F[1], (str, bytes)) and not sp.issparse(F[1]) \
            and not hasattr(F[1], "detach"):
        try:
            ndim = np.ndim(F[1])
        except (TypeError, ValueError):
            ndim = None
        if ndim in (0, 1):
            raise ValueError(
                f"{where}{label}[1] (F1) must be an (n, n) matrix, got {describe(F[1])} with {ndim} "
                f"dimension{'s' if ndim != 1 else ''}; is {name} a matrix or a vector rather than {expected}?"
            )
    if F[1] is None:
        raise ValueError(f"{where}{label}[1] (F1) must be an (n, n) matrix, got None")
    F1 = as_matrix(F[1], f"{label}[1]", func=func, square=True, sparse=True)
    n = F1.shape[0]
    F0 = np.zeros(n) if F[0] is None else as_vector(F[0], f"{label}[0]", func=func, size=n)
    mats = [F1]
    for ell in range(2, len(F)):
        if n**ell >= 2**62:
            raise ValueError(f"{where}{label}[{ell}] would have {n}**{ell} columns, beyond 64-bit indices")
        if F[ell] is None:
            mats.append(sp.csr_array((n, n**ell)))
        else:
            mats.append(as_matrix(F[ell], f"{label}[{ell}]", func=func, shape=(n, n**ell), sparse=True))
    return n, F0, mats


def problem_defaults(F: Any, u0: Any, t: Any) -> tuple[Any, Any, Any]:
    """What a problem object supplies that the call did not: ``u0`` and the time grid ``t`` where
    they are ``None``, and the problem's callable ``forcing`` (None without one).

    A plain coefficient sequence supplies nothing. Used by the solvers that accept a problem
    (:func:`qsgd.ode.solve_reference`, :func:`qsgd.carleman.solve_carleman`) and by the bounds
    and the R number (``u0`` only).
    """
    if isinstance(F, (list, tuple)):
        return u0, t, None
    if u0 is None:
        u0 = getattr(F, "u0", None)
    if t is None:
        t = getattr(F, "t", None)
    forcing = getattr(F, "forcing", None)
    return u0, t, forcing if callable(forcing) else None


class DivergenceError(ValueError):
    """An iteration became non-finite (a divergent map, an unstable step size)."""
